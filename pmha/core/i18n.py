"""Languages: English, Turkish and Arabic, from the message catalogues in pmha/translations.

Flask-Babel translates the pages (`_()` in templates); documents, which are also rendered outside
a request (the export bundle), take their words from `words(lang)`, the same catalogues loaded
directly. Only the `.po` sources are kept in git: the `.mo` files are compiled from them when the
app starts (and whenever a source is newer), so a fresh clone's `make run` and `make test` have
them without a build step of their own.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, g

log = logging.getLogger(__name__)

CATALOGUES = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"
# In the order the language menus show them; names in their own language.
LANGUAGES: dict[str, str] = {"en": "English", "tr": "Türkçe", "ar": "العربية"}
RTL = frozenset({"ar"})
DEFAULT = "en"

Words = Callable[[str], str]


def known(lang: str | None) -> str | None:
    """The language code if PMHA speaks it, else None ('TR' and 'tr-TR' read as 'tr')."""
    code = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


def choose(*candidates: str | None) -> str:
    """The first candidate PMHA speaks (e.g. ?lang=, the applicant's, the user's), else English."""
    for candidate in candidates:
        found = known(candidate)
        if found:
            return found
    return DEFAULT


def _compile(po: Path, mo: Path) -> None:
    with po.open("rb") as source:
        catalogue = read_po(source, locale=po.parent.parent.name, domain=DOMAIN)
    mo.parent.mkdir(parents=True, exist_ok=True)
    partial = mo.with_suffix(f".{os.getpid()}.part")  # one per process: xdist workers race
    with partial.open("wb") as out:
        write_mo(out, catalogue, use_fuzzy=False)
    partial.replace(mo)  # atomic: a parallel test worker never reads half a file


def compile_catalogues(target: Path | None = None) -> Path:
    """Compile every stale `.mo` beside its `.po`, or under `target`; returns the directory that
    holds the compiled catalogues (a temporary one when the package is read-only)."""
    root = target or CATALOGUES
    try:
        for po in sorted(CATALOGUES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            mo = root / po.relative_to(CATALOGUES).with_suffix(".mo")
            if not mo.is_file() or mo.stat().st_mtime < po.stat().st_mtime:
                _compile(po, mo)
    except OSError:
        if target is not None:
            raise
        return compile_catalogues(Path(tempfile.mkdtemp(prefix="pmha-translations-")))
    return root


@functools.cache
def _compiled() -> Path:
    return compile_catalogues()


@functools.cache
def translations(lang: str) -> NullTranslations:
    if lang == DEFAULT:
        return NullTranslations()
    found = Translations.load(str(_compiled()), [lang], DOMAIN)
    if not isinstance(found, Translations):
        log.warning("no message catalogue for %s: its documents will be in English", lang)
    return found


def words(lang: str) -> Words:
    """gettext for one language, outside any request: `t = words("tr"); t("Name")`."""
    return translations(choose(lang)).gettext


def _page_language() -> str:
    """Staff pages stay English; a page shown to the applicant sets `g.page_lang` first."""
    return str(g.get("page_lang") or DEFAULT)


def init_i18n(app: Flask) -> None:
    from flask_babel import Babel  # type: ignore[import-untyped]

    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(_compiled())
    Babel(app, locale_selector=_page_language)

    @app.context_processor
    def languages() -> dict[str, object]:
        lang = _page_language()
        return {"languages": LANGUAGES, "page_lang": lang, "page_dir": direction(lang)}


def N_(message: str) -> str:
    """Marks words for the catalogue that are translated later, where the language is known."""
    return message
