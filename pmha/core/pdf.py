"""Printable documents: one small layer over fpdf2 so every PDF looks alike and prints on A4.

fpdf2 (pure Python, well kept, tables and Unicode TrueType fonts built in) draws; the DejaVu
fonts from the system (Debian's fonts-dejavu-core, installed by scripts/install-system-deps.sh)
carry Latin with Turkish letters and French accents. An Arabic document is set in Amiri (Debian's
fonts-hosny-amiri, a Naskh face made for running text), shaped by HarfBuzz (uharfbuzz: joined
letter forms, ligatures) and laid out right to left: labels on the right, tables mirrored, text
aligned right, DejaVu standing in for any glyph Amiri lacks. Documents carry no identifying data
in their metadata: the title is generic, names appear only on the page.

Each font file is read and parsed once per process (issue 20: an export re-read four TrueType
files for every PDF, two thirds of its CPU): a document gets its own light copy of the parsed
font, sharing what does not change (character map, widths, glyph ids, the HarfBuzz face) and
keeping what is its own (the glyphs it used, its index, its font descriptor). When it is written,
fpdf2 subsets a font of the document's own, made from the file's bytes kept in memory and the
tables parsed once (fpdf2's subsetting changes the font it is given), or writes again the subset
made before for the same glyphs: each PDF embeds only its own glyphs, byte for byte what fpdf2's
own add_font gives (tests/core/test_pdf_fonts.py).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import logging
import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fontTools import ttLib  # type: ignore[import-untyped]
from fontTools.ttLib.tables._g_l_y_f import Glyph as _Glyph  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace, SubsetMap, TTFFont

from pmha.core import i18n

# fontTools logs every glyph table it subsets at INFO: hundreds of lines per PDF that bury what
# `make run` prints (issue 18). Its warnings still show.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
    Path("/usr/share/fonts/opentype/fonts-hosny-amiri"),
    Path("/usr/share/fonts/truetype/fonts-hosny-amiri"),
    Path("/usr/local/share/fonts/amiri"),
)
FONT = "DejaVu"
ARABIC_FONT = "Amiri"
# fpdf2's bidi pass reorders a number's parts around a hyphen in right-to-left text (a date
# 1990-05-01 came out as 01-05-1990): each run of digits and separators is isolated as
# left-to-right (U+2066 ... U+2069), which the PDF does not draw.
_NUMBER_RUN = re.compile(r"[0-9][0-9A-Za-z]*(?:[-/:.,][0-9A-Za-z]+)+")
_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")


class FontMissing(RuntimeError):
    pass


def _package(font_file: str) -> str:
    return "fonts-hosny-amiri" if font_file.startswith("Amiri") else "fonts-dejavu-core"


def _font_file(name: str) -> Path:
    for folder in FONT_DIRS:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise FontMissing(
        f"font {name} not found in {', '.join(map(str, FONT_DIRS))}: run "
        f"scripts/install-system-deps.sh (Debian package {_package(name)})"
    )


class _Parsed:
    """A font file parsed once: fpdf2's TTFFont (never put in a document itself), the file's
    bytes, from which each document's subset is made, and each glyph's outline bytes."""

    def __init__(self, key: tuple[str, str, str], font: TTFFont, data: bytes) -> None:
        self.key, self.font, self.data = key, font, data
        self.outlines = _outlines(font.ttfont)


def _outlines(ttfont: ttLib.TTFont) -> dict[str, bytes] | None:
    """Each glyph's bytes in the glyf table by name, as fontTools slices them (None: no glyf
    table, or glyphs without a name, which fontTools names itself)."""
    if "glyf" not in ttfont or "loca" not in ttfont:
        return None
    data, loca, names = ttfont.reader["glyf"], ttfont["loca"], ttfont.getGlyphOrder()
    if len(loca) - 1 > len(names):
        return None
    return {names[i]: data[int(loca[i]) : int(loca[i + 1])] for i in range(len(loca) - 1)}


class _Outlines(MutableMapping[str, Any]):
    """A glyf table's glyphs, each made from its bytes when first asked for: what fontTools'
    own parsing makes for every glyph of the font (thousands), made for the few a subset reads.
    Every document has its own (the subsetter changes glyphs in place)."""

    def __init__(self, outlines: dict[str, bytes]) -> None:
        self._outlines = outlines
        self._made: dict[str, Any] = {}
        self._gone: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        if name in self._made:
            return self._made[name]
        if name in self._gone or name not in self._outlines:
            raise KeyError(name)
        glyph = self._made[name] = _Glyph(self._outlines[name])
        return glyph

    def __setitem__(self, name: str, glyph: Any) -> None:
        self._made[name] = glyph
        self._gone.discard(name)

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._made.pop(name, None)
        self._gone.add(name)

    def __contains__(self, name: object) -> bool:
        return name in self._made or (name in self._outlines and name not in self._gone)

    def __iter__(self) -> Iterator[str]:
        yield from (n for n in self._outlines if n not in self._gone)
        yield from (n for n in self._made if n not in self._outlines)

    def __len__(self) -> int:
        return sum(1 for _ in self)


_LAYOUT_TABLES = ("GDEF", "GSUB", "GPOS")  # in the tables fpdf2's subsetting drops
_SHARED_TABLES = ("hmtx", "post")
_PARSED: dict[tuple[str, str, str], _Parsed | None] = {}  # (path, fontkey, style); None: no cache
_PARSING = threading.Lock()


def _parsed(pdf: FPDF, path: Path, fontkey: str, style: str) -> _Parsed | None:
    """The font parsed once per process; None for a font that cannot be shared (a colour font,
    or one fpdf2 had to patch a missing .notdef glyph into), which each document then parses."""
    key = (str(path), fontkey, style)
    with _PARSING:
        if key not in _PARSED:
            font = TTFFont(pdf, path, fontkey, style)
            shareable = font.color_font is None and (
                "glyf" not in font.ttfont or font.ttfont["glyf"].has_key(".notdef")
            )
            parsed = None
            if shareable:
                data = path.read_bytes()
                font.hbfont  # noqa: B018 (the HarfBuzz face, made now so documents share it)
                # the tables shaping reads, from the bytes in memory: no file kept open
                font.ttfont.close()
                font.ttfont = _font_of(data, font.collection_font_number)
                font.ttfont.getGlyphOrder()
                font.ttfont["hmtx"]
                parsed = _Parsed(key, font, data)
            _PARSED[key] = parsed
        return _PARSED[key]


def _font_of(data: bytes, number: int) -> ttLib.TTFont:
    """A font read from bytes as fpdf2 reads a file (lazily, its timestamp kept)."""
    return _OwnFont(io.BytesIO(data), recalcTimestamp=False, fontNumber=number, lazy=True)


# A subset made before, by font and set of glyph names: its bytes and glyph order. Documents of
# one kind in one language use the same glyphs of the bold face (labels, headings) again and
# again; fontTools gives the same bytes for the same font, options and glyphs.
_SUBSETS: OrderedDict[tuple[tuple[str, str, str], frozenset[str]], tuple[bytes, list[str]]] = (
    OrderedDict()
)
_SUBSETS_KEPT = 128
_SUBSETS_LOCK = threading.Lock()


class _OwnFont(ttLib.TTFont):  # type: ignore[misc]
    """A document's font to subset: it writes a subset made before when there is one, else
    what fontTools compiles, kept for the next document with the same glyphs."""

    made: bytes | None = None
    remember: tuple[tuple[str, str, str], frozenset[str]] | None = None

    def save(self, file: Any, reorderTables: bool = True) -> None:
        if self.made is not None:
            file.write(self.made)
            return
        out = io.BytesIO()
        super().save(out, reorderTables)
        data = out.getvalue()
        if self.remember is not None:
            with _SUBSETS_LOCK:
                _SUBSETS[self.remember] = (data, list(self.getGlyphOrder()))
                while len(_SUBSETS) > _SUBSETS_KEPT:
                    _SUBSETS.popitem(last=False)
        file.write(data)


class _Subset(SubsetMap):
    """fpdf2's map of the glyphs a document uses; asked for their names just before fpdf2
    subsets the font, it gives the font the tables to subset (see `_SharedFont.tables_for`)."""

    def get_all_glyph_names(self) -> Sequence[str]:
        names = super().get_all_glyph_names()
        if isinstance(self.font, _SharedFont):
            self.font.tables_for(frozenset(names))
        return names


class _SharedFont(TTFFont):
    """One document's use of a font parsed once: its own subset, missing glyphs, index and
    descriptor; the parsed font's tables read while laying out, and a font of its own to
    subset when the document is written (`tables_for`, `own_tables`)."""

    def __init__(self, parsed: _Parsed, index: int) -> None:
        base = parsed.font
        self._parsed = parsed
        self._own: ttLib.TTFont | None = None
        self.i = index
        self.type = base.type
        self.ttffile = base.ttffile
        self.is_compressed = base.is_compressed
        # the HarfBuzz face is shared; the font on it is the document's (shaping sets its size)
        shaper = base._hbfont
        self._hbfont = type(shaper)(shaper.face) if shaper is not None else None
        self.fontkey = base.fontkey
        self.biggest_size_pt = 0
        self.collection_font_number = base.collection_font_number
        self.is_cff, self.is_cid_keyed = base.is_cff, base.is_cid_keyed
        self.is_symbol, self.cff_ros = base.is_symbol, base.cff_ros
        self.scale = base.scale
        self.desc = copy.copy(base.desc)  # the writer names and numbers it: one per document
        # reads add the characters a font lacks (at its default width): a copy per document
        self.cw = defaultdict(getattr(base.cw, "default_factory", None), base.cw)
        self.cmap = base.cmap
        self.glyph_ids = base.glyph_ids
        self.missing_glyphs = []
        self.name = base.name
        self.up, self.ut, self.sp, self.ss = base.up, base.ut, base.sp, base.ss
        self.emphasis = base.emphasis
        self.subset = _Subset(self)
        self.palette_index = base.palette_index
        self.color_font = None

    @property
    def ttfont(self) -> ttLib.TTFont:
        return self._own if self._own is not None else self._parsed.font.ttfont

    @ttfont.setter
    def ttfont(self, value: ttLib.TTFont) -> None:
        self._own = value

    def tables_for(self, glyphs: frozenset[str]) -> None:
        """The font fpdf2 subsets to these glyphs: the subset made before for the same glyphs
        (fontTools then keeps every glyph, in the same order: the same glyph ids), else the
        document's own font, whose subset is kept."""
        key = (self._parsed.key, glyphs)
        with _SUBSETS_LOCK:
            found = _SUBSETS.get(key)
            if found is not None:
                _SUBSETS.move_to_end(key)
        if found is None:
            self.own_tables()
            assert isinstance(self._own, _OwnFont)
            self._own.remember = key
            return
        self.close()
        data, order = found
        own = _font_of(data, 0)
        own.setGlyphOrder(list(order))
        own.made = data
        self._own = own

    def own_tables(self) -> None:
        """A font of this document's own, from the bytes in memory, for fpdf2 to subset."""
        if self._own is None:
            own = _font_of(self._parsed.data, self.collection_font_number)
            # fpdf2's subsetting drops the layout tables before it reads anything else (and
            # with GPOS, the legacy kern table), yet parses them first (most of an Arabic font's
            # cost): taken out here, unread; tests/core/test_pdf_fonts.py checks the bytes.
            if "GPOS" in own and "kern" in own:
                del own["kern"]
            for tag in _LAYOUT_TABLES:
                if tag in own:
                    del own[tag]
            # The glyph names and the metrics as parsed once: the subsetter only ever assigns
            # new values to these two tables' attributes, so a shallow copy is the document's
            # own (not so the glyph outlines, which it expands in place: those are read afresh).
            base = self._parsed.font.ttfont
            own.setGlyphOrder(list(base.getGlyphOrder()))
            for tag in _SHARED_TABLES:
                if tag in own:
                    own[tag] = copy.copy(base[tag])
            if self._parsed.outlines is not None:
                glyf = ttLib.newTable("glyf")
                glyf.glyphs = _Outlines(self._parsed.outlines)
                glyf.glyphOrder = own.getGlyphOrder()
                glyf._reverseGlyphOrder = {}
                own["glyf"] = glyf
            self._own = own

    def close(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None

    def __deepcopy__(self, memo: dict[int, Any]) -> _SharedFont:
        # fpdf2's recorder (unbreakable, offset_rendering) copies a document's fonts: the copy
        # shares the parsed font and copies what is the document's own.
        twin = _SharedFont(self._parsed, self.i)
        memo[id(self)] = twin  # the copied subset map points at the twin
        twin.cw = copy.deepcopy(self.cw, memo)
        twin.missing_glyphs = list(self.missing_glyphs)
        twin.subset = copy.deepcopy(self.subset, memo)
        twin.biggest_size_pt = self.biggest_size_pt
        twin.desc = self.desc
        return twin


class Document(FPDF):
    """An A4 page with a running header (centre and document title) and page numbers, in one
    language (`lang`: en, tr or ar; Arabic right to left); `t` translates its fixed words."""

    def __init__(
        self,
        title: str,
        centre: str,
        *,
        generated_at: dt.datetime | None = None,
        lang: str = "en",
    ):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.add_font(FONT, "", str(_font_file("DejaVuSans.ttf")))
        self.add_font(FONT, "B", str(_font_file("DejaVuSans-Bold.ttf")))
        self._speak(i18n.choose(lang))
        self.set_lang(self.lang)
        self.doc_title = self.t(title)  # the English title is the catalogue's key
        self.centre = centre
        self.generated_at = generated_at or dt.datetime.now(dt.UTC)
        self.set_title(title)
        self.set_creator("PMHA")
        self.set_creation_date(self.generated_at)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 15, 15)
        self.add_page()

    def add_font(  # type: ignore[override]
        self, family: str | None = None, style: str = "", fname: str | Path | None = None
    ) -> None:
        """fpdf2's add_font for a TrueType file, the file parsed once per process."""
        if family is None or fname is None:
            raise ValueError("add_font needs a family and a font file")
        style = "".join(sorted(style.upper()))
        fontkey = f"{family.lower()}{style}"
        if fontkey in self.fonts:
            return
        parsed = _parsed(self, Path(fname), fontkey, style)
        if parsed is None:
            super().add_font(family, style, fname)
            return
        self.fonts[fontkey] = _SharedFont(parsed, len(self.fonts) + 1)

    def _speak(self, lang: str) -> None:
        """Words, font, alignment and direction of `lang` for what is drawn next."""
        self.lang = lang
        self.rtl = lang in i18n.RTL
        self.t = i18n.words(lang)
        self.family, self.align = (ARABIC_FONT, "R") if self.rtl else (FONT, "L")
        if self.rtl:
            if ARABIC_FONT.lower() not in self.fonts:
                self.add_font(ARABIC_FONT, "", str(_font_file("Amiri-Regular.ttf")))
                self.add_font(ARABIC_FONT, "B", str(_font_file("Amiri-Bold.ttf")))
            self.set_fallback_fonts([FONT])
            self.set_text_shaping(True, direction="rtl", script="arab", language="ara")
        elif self.text_shaping:
            self.set_fallback_fonts([])
            self.set_text_shaping(False)

    @contextmanager
    def language(self, lang: str) -> Iterator[None]:
        """A part of the document in another language (a certificate printed in English and
        in Arabic): `with doc.language("ar"): doc.fields(...)`."""
        before = self.lang
        self._speak(i18n.choose(lang))
        try:
            yield
        finally:
            self._speak(before)

    def runs(self, value: str) -> str:
        """Text as it must be drawn: in Arabic, numbers and codes kept left to right, and text
        with no Arabic in it (a regimen's English name, a Latin name) left to right as a whole."""
        if not self.rtl or not value:
            return value
        if not _ARABIC_LETTER.search(value):
            return f"\u2066{value}\u2069"
        return _NUMBER_RUN.sub(lambda m: f"\u2066{m.group(0)}\u2069", value)

    def header(self) -> None:
        self.set_font(self.family, "B", 13)
        self.cell(0, 7, self.runs(self.doc_title), align=self.align,
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
        self.set_font(self.family, "", 8.5)
        self.set_text_color(80)
        self.cell(0, 5, self.centre, align=self.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 7.5)
        self.set_text_color(100)
        stamp = self.generated_at.strftime("%Y-%m-%d %H:%M UTC")
        start, end = ("R", "L") if self.rtl else ("L", "R")
        if self.rtl:  # the whole stamp one left-to-right run, not three in right-to-left order
            stamp = f"\u2066{stamp}\u2069"
        self.cell(0, 5, self.t("Generated %(stamp)s") % {"stamp": stamp}, align=start)
        self.set_x(self.l_margin)
        page = self.t("Page %(page)s of %(pages)s") % {"page": self.page_no(), "pages": "{nb}"}
        self.cell(0, 5, self.runs(page), align=end)
        self.set_text_color(0)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font(self.family, "B", 11)
        self.cell(0, 7, self.runs(text), align=self.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.family, "", 9.5)

    def paragraph(self, text: str, size: float = 9.5) -> None:
        self.set_font(self.family, "", size)
        self.multi_cell(0, 5, self.runs(text), align=self.align,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip

    def fields(self, rows: Sequence[tuple[str, str]], label_width: float = 45) -> None:
        """Label: value lines, e.g. the person a document is about (labels on the right in
        Arabic)."""
        for label, value in rows:
            y = self.get_y()
            self.set_font(self.family, "B", 9.5)
            if self.rtl:
                self.set_xy(self.w - self.r_margin - label_width, y)
                self.cell(label_width, 6, self.runs(label), align="R")
                self.set_xy(self.l_margin, y)
                self.set_font(self.family, "", 9.5)
                self.multi_cell(self.epw - label_width - 2, 6, self.runs(value or "-"),
                                align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
                self.set_y(max(self.get_y(), y + 6))
                continue
            self.cell(label_width, 6, label)
            self.set_font(self.family, "", 9.5)
            self.multi_cell(0, 6, value or "-", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float] | None = None,
        size: float = 8.5,
    ) -> None:
        """A ruled table with a bold heading row repeated on each page (mirrored in Arabic: the
        first column on the right)."""
        self.set_font(self.family, "", size)

        def order(values: Sequence[str]) -> list[str]:
            return [self.runs(v or "") for v in (reversed(values) if self.rtl else values)]

        cols = (tuple(reversed(widths)) if self.rtl else tuple(widths)) if widths else None
        with FPDF.table(
            self,
            col_widths=cols,
            headings_style=_heading_style(self.family),
            line_height=self.font_size * (2.1 if self.rtl else 1.9),
            text_align="RIGHT" if self.rtl else "LEFT",
            repeat_headings=1,
        ) as table:
            head = table.row()
            for text in order(headings):
                head.cell(text)
            for values in rows:
                row = table.row()
                for text in order(values):
                    row.cell(text)

    def checkbox_line(self, text: str, size: float = 9.5) -> None:
        """An empty box to tick, then its words (on the right in Arabic)."""
        self.set_font(self.family, "", size)
        y = self.get_y() + 1
        box = 4.0
        x = self.w - self.r_margin - box if self.rtl else self.l_margin
        self.rect(x, y, box, box)
        self.set_xy(self.l_margin if self.rtl else self.l_margin + box + 3, y - 1)
        self.multi_cell(self.epw - box - 3, 6, self.runs(text), align=self.align,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
        self.ln(1)

    def signature_lines(self, labels: Sequence[str]) -> None:
        """Lines to sign on, each with what goes there under it."""
        for label in labels:
            self.ln(9)
            y = self.get_y()
            self.line(self.l_margin, y, self.w - self.r_margin, y)
            self.set_font(self.family, "", 8)
            self.cell(0, 5, self.runs(label), align=self.align,
                      new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip

    def output(self, *args: Any, **kwargs: Any) -> Any:
        # fpdf2 subsets the fonts in place as it writes them: each shared one gets its own first
        for font in self.fonts.values():
            if isinstance(font, _SharedFont):
                font.own_tables()
        return super().output(*args, **kwargs)

    def render(self) -> bytes:
        try:
            return bytes(self.output())
        finally:
            # fpdf2 closes the font files it embedded; one a document never used (the DejaVu
            # stand-in of an Arabic page) would stay open until the garbage collector's turn.
            for font in self.fonts.values():
                close = getattr(font, "close", None)
                if close is not None:
                    close()


def _heading_style(family: str = FONT) -> FontFace:
    return FontFace(family=family, emphasis="BOLD", fill_color=(230, 234, 240))
