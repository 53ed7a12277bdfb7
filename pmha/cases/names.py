"""Name normalisation for search and duplicate detection, across scripts and transliterations.

`fold` makes a name comparable whatever its script or spacing: Unicode-normalised, diacritics and
Arabic vowel marks dropped, transliterated to Latin, lower-cased, letters only.
`skeleton` goes further, to catch one name spelled differently when transliterated from Arabic,
Persian, Dari or Kurdish (Mohammed / Muhammad / Mohamad, Abdul Rahman / Abdulrahman): it keeps
the consonant outline of the folded name, with sounds that transliterations swap made equal.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
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


def _is_latin(word: str) -> bool:
    return all(unicodedata.name(ch, "").startswith("LATIN") for ch in word if ch.isalpha())


def vowel_key(word: str | None) -> str:
    """Spelling key of a Latin name: vowels made one, doubles collapsed, a final 'h' after a
    vowel dropped: Mohammed, Muhammad and Mohamad give 'mahamad'; Fatemeh and Fatima 'fatama'.
    It keeps the vowel positions, so short names stay apart (Haddad 'hadad', Huda 'hada')."""
    folded = fold(word).translate(_EQUIV)
    out: list[str] = []
    for ch in folded:
        c = "a" if ch in "aeiouy" else ch
        if not out or out[-1] != c:
            out.append(c)
    key = "".join(out)
    return key[:-1] if len(key) > 2 and key.endswith("ah") else key


# Cross-script matches go by consonant outline alone; with fewer consonants an outline names
# too many different people (Haddad, Huda and Hadi all give 'ad': one consonant).
CROSS_SCRIPT_MIN = 2


def _specific(outline: str) -> bool:
    consonants = len(outline) - (1 if outline.startswith("a") else 0)
    return consonants >= CROSS_SCRIPT_MIN


def search_keys(*names: str | None) -> str:
    """Spelling-tolerant keys of every word (and whole name, for spacing) a search can match.

    Latin words give `v:` spelling keys and `l:` outlines; other scripts give `o:` outlines, so
    that a Latin query can find an Arabic-script name and the other way round.
    """
    keys: set[str] = set()
    for name in names:
        if not name:
            continue
        for word in [*name.replace("-", " ").split(), name.replace(" ", "").replace("-", "")]:
            if _is_latin(word):
                keys.add("v:" + vowel_key(word))
                keys.add("l:" + skeleton(word))
            else:
                keys.add("o:" + skeleton(word))
    return (" " + " ".join(sorted(k for k in keys if len(k) > 2)) + " ")[:600]


# The search-key table (issue 20): every suffix of every word of `search_text` ("t:...") and every
# key of `search_keys` ("k:..."). A name search's "contains" on the text and whole-or-prefix match
# on the keys then become prefix matches on one b-tree: the same results, indexed on any engine.
TEXT_KEY = "t:"
SPELLING_KEY = "k:"
# Past every character: `key >= prefix AND key < prefix + PAST` is `key LIKE 'prefix%'` in code
# point order (SQLite's BINARY collation, PostgreSQL's "C").
PAST = "\U0010ffff"
SHORT_KEY = 6  # keys shorter than this match whole; longer ones also as prefixes


def index_keys(search_text: str, search_skeletons: str) -> set[str]:
    """The rows of the search-key table for one applicant, from its two derived columns."""
    keys = {TEXT_KEY + word[i:] for word in search_text.split() for i in range(len(word))}
    keys.update(SPELLING_KEY + key for key in search_skeletons.split())
    return keys


@dataclass(frozen=True)
class QueryTerm:
    folded: str
    original: str
    keys: tuple[str, ...]


def query_terms(q: str) -> list[QueryTerm]:
    """Each word of a search, with the keys it may match in `search_keys`."""
    terms = []
    for word in q.split():
        if _is_latin(word):
            keys = ["v:" + vowel_key(word)]
            outline = skeleton(word)
            if _specific(outline):
                keys.append("o:" + outline)
        else:
            outline = skeleton(word)
            keys = ["l:" + outline] if _specific(outline) else []
        terms.append(
            QueryTerm(
                fold(word),
                unicodedata.normalize("NFKC", word).casefold(),
                tuple(k for k in keys if len(k) > 2),
            )
        )
    return terms
