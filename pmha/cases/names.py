"""Name normalisation for search and duplicate detection, across scripts and transliterations.

`fold` makes a name comparable whatever its script or spacing: Unicode-normalised, diacritics and
Arabic vowel marks dropped, transliterated to Latin, lower-cased, letters only.
`skeleton` goes further, to catch one name spelled differently when transliterated from Arabic,
Persian, Dari or Kurdish (Mohammed / Muhammad / Mohamad, Abdul Rahman / Abdulrahman): it keeps
the consonant outline of the folded name, with sounds that transliterations swap made equal.
"""

from __future__ import annotations

import unicodedata
from difflib import SequenceMatcher

from unidecode import unidecode

_SOFT = set("aeiouyhw'")
_EQUIV = str.maketrans({"q": "k", "c": "k", "z": "s", "v": "f", "p": "b", "j": "g", "x": "ks"})
# Straight and typographic apostrophes (U+2019, U+02BC) occur in transliterated names.
ALLOWED_PUNCTUATION = set(" '-.\u2019\u02bc")
MATCH_RATIO = 0.85


def is_valid_name(value: str) -> bool:
    """Letters of any script, combining marks, spaces, and the punctuation names really use."""
    if not value.strip():
        return False
    for ch in value:
        cat = unicodedata.category(ch)
        if not (cat.startswith("L") or cat.startswith("M") or ch in ALLOWED_PUNCTUATION):
            return False
    return True


def fold(value: str | None) -> str:
    """Letters only, Latin, lower case: 'Abdül-Rahman' -> 'abdulrahman', 'محمد' -> 'mhmd'."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("M"))
    text = unidecode(text).lower()
    return "".join(ch for ch in text if ch.isalpha())


def skeleton(value: str | None) -> str:
    """Consonant outline: 'Mohammed', 'Muhammad' and 'محمد' all give 'mmd'."""
    folded = fold(value).translate(_EQUIV)
    if not folded:
        return ""
    out = ["a" if folded[0] in _SOFT else folded[0]]
    for ch in folded[1:]:
        if ch not in _SOFT and out[-1] != ch:
            out.append(ch)
    return "".join(out)


def full_name_skeletons(*parts: str | None) -> set[str]:
    """Skeletons of a full name in both orders (family-given and given-family), spaces ignored."""
    words = [p for p in parts if p]
    if not words:
        return set()
    return {skeleton("".join(words)), skeleton("".join(reversed(words)))} - {""}


def names_match(a: set[str], b: set[str]) -> bool:
    for x in a:
        for y in b:
            if x == y or SequenceMatcher(None, x, y).ratio() >= MATCH_RATIO:
                return True
    return False


def search_text(*names: str | None) -> str:
    """What a name search matches against: folded words, folded whole names, original script."""
    pieces: list[str] = []
    for name in names:
        if not name:
            continue
        pieces.extend(fold(word) for word in name.split())
        pieces.append(fold(name))
        pieces.append(unicodedata.normalize("NFKC", name).casefold())
    return (" " + " ".join(pieces) + " ")[:600]


def search_skeletons(*names: str | None) -> str:
    words = {skeleton(word) for name in names if name for word in name.split()}
    words |= {skeleton(name) for name in names if name}
    return (" " + " ".join(sorted(w for w in words if w)) + " ")[:600]


def query_terms(q: str) -> list[tuple[str, str, str]]:
    """For each word of a search: (folded, original-script casefold, skeleton)."""
    terms = []
    for word in q.split():
        terms.append((fold(word), unicodedata.normalize("NFKC", word).casefold(), skeleton(word)))
    return terms
