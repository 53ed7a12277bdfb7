"""Fonts parsed once per process (issue 20: an export re-read and re-parsed four TrueType files
for every PDF): documents share the parsed font, yet each embeds its own subset, the same bytes
as fpdf2 gives when every document parses its fonts itself, Arabic shaping included."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import zlib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fontTools import ttLib  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.fonts import TTFFont

from pmha.core import pdf
from pmha.core.pdf import Document

STAMP = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
_STREAM = re.compile(rb"<<([^>]*?/Length1 \d+[^>]*)>>\s*stream\r?\n", re.S)


class ParsedEachTime(Document):
    """fpdf2's own add_font: each document reads and parses its font files."""

    def add_font(  # type: ignore[override]
        self, family: str | None = None, style: str = "", fname: str | Path | None = None
    ) -> None:
        FPDF.add_font(self, family, style, fname)


def _draw(doc: Document, words: str) -> bytes:
    doc.heading("Vaccinations")
    doc.fields([("Name", words), ("Born", "1990-05-01")])
    doc.grid(["Vaccine", "Date"], [["MMR", "2001-02-03"], ["Td", "2010-11-12"]])
    doc.paragraph(f"{words} — çğış ÇĞİŞ é")
    with doc.language("ar"):
        doc.fields([("الاسم", "ليلى حداد 1990-05-01")])
        doc.paragraph("لقاح الحصبة والنكاف والحصبة الألمانية MMR")
    return doc.render()


def _render(cls: type[Document], words: str, lang: str = "en") -> bytes:
    return _draw(cls("Vaccination record", "Test centre", generated_at=STAMP, lang=lang), words)


def _embedded(data: bytes) -> list[ttLib.TTFont]:
    """The font files a PDF embeds (FontFile2 streams, which carry /Length1)."""
    fonts = []
    for found in _STREAM.finditer(data):
        length = int(re.search(rb"/Length (\d+)", found.group(1)).group(1))  # type: ignore[union-attr]
        raw = data[found.end() : found.end() + length]
        if b"/FlateDecode" in found.group(1):
            raw = zlib.decompress(raw)
        fonts.append(ttLib.TTFont(io.BytesIO(raw)))
    return fonts


def _characters(data: bytes) -> set[str]:
    return {chr(c) for font in _embedded(data) for c in font.getBestCmap()}


def _text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("lang", ["en", "tr", "ar"])
def test_the_same_bytes_as_fonts_parsed_for_each_document(lang: str) -> None:
    shared = [_render(Document, words, lang) for words in ("Layla Haddad", "Omar Quinn")]
    parsed = [_render(ParsedEachTime, words, lang) for words in ("Layla Haddad", "Omar Quinn")]
    assert shared == parsed
    assert shared[0] != shared[1]


def test_a_subset_made_before_gives_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "_SUBSETS", OrderedDict())
    first = _render(Document, "Layla Haddad", "ar")
    kept = dict(pdf._SUBSETS)
    assert len(kept) == 4  # DejaVu, DejaVu Bold, Amiri, Amiri Bold
    second = _render(Document, "Layla Haddad", "ar")
    assert dict(pdf._SUBSETS) == kept  # the same glyphs: every subset found, none made
    assert first == second == _render(ParsedEachTime, "Layla Haddad", "ar")
    third = _render(Document, "Omar Quinn", "ar")  # new glyphs in the regular face only
    assert len(pdf._SUBSETS) > len(kept)
    assert third == _render(ParsedEachTime, "Omar Quinn", "ar")


def test_two_documents_in_a_row_each_embed_their_own_glyphs(tmp_path: Path) -> None:
    first = _render(Document, "Qqq Www")
    second = _render(Document, "Zzz Kkk")
    assert "Qqq Www" in _text(first, tmp_path)
    assert "Zzz Kkk" in _text(second, tmp_path)
    assert {"Q", "q", "W", "w"} <= _characters(first)
    assert not {"Q", "q", "W", "w"} & _characters(second)
    assert {"Z", "z", "K", "k"} <= _characters(second)
    assert not {"Z", "z", "K", "k"} & _characters(first)
    # each of DejaVu, DejaVu Bold, Amiri and Amiri Bold embedded once, as a small subset
    fonts = _embedded(second)
    assert len(fonts) == 4
    assert all(len(f.getGlyphOrder()) < 120 for f in fonts)


def test_arabic_is_shaped_with_fonts_parsed_once(tmp_path: Path) -> None:
    _render(Document, "warm the cache", "ar")
    text = _text(_render(Document, "ليلى", "ar"), tmp_path)
    assert "ليلى" in text or "ﻟﻴﻠﻰ" in text  # pdftotext may give the shaped forms
    assert "MMR" in text


def test_each_font_file_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    made = []

    def counting(*args: object, **kwargs: object) -> object:
        made.append(args[1])
        return TTFFont(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf, "_PARSED", {})
    monkeypatch.setattr("pmha.core.pdf.TTFFont", counting)
    for _ in range(3):
        _render(Document, "Layla", "ar")
    assert len(made) == 4  # DejaVu, DejaVu Bold, Amiri, Amiri Bold: once each


def test_documents_rendered_at_once_in_threads_are_those_rendered_one_by_one() -> None:
    # gunicorn's threads and a worker's job share the parsed fonts and the subsets made before
    words = [("Layla Haddad", "ar"), ("Omar Quinn", "en"), ("Zeynep Arslan", "tr")] * 3
    alone = [_render(ParsedEachTime, w, lang) for w, lang in words]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda wl: _render(Document, *wl), words))
    assert together == alone


def test_a_block_kept_on_one_page_copies_the_fonts_it_shares() -> None:
    # fpdf2's unbreakable() copies the document's fonts, and rewinds to the copy on a page break
    def kept(cls: type[Document]) -> bytes:
        doc = cls("Vaccination record", "Test centre", generated_at=STAMP)
        doc.paragraph("Layla Haddad " * 200)
        with doc.unbreakable() as block:
            block.paragraph("Omar Quinn " * 100)
        return doc.render()

    assert kept(Document) == kept(ParsedEachTime)
