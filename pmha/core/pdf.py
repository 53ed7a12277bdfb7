"""Printable documents: one small layer over fpdf2 so every PDF looks alike and prints on A4.

fpdf2 (pure Python, well kept, tables and Unicode TrueType fonts built in) draws; the DejaVu
fonts from the system (Debian's fonts-dejavu-core, installed by scripts/install-system-deps.sh)
carry Turkish, Arabic-script names transliterated or not, and French accents. Documents carry no
identifying data in their metadata: the title is generic, names appear only on the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FONT = "DejaVu"


class FontMissing(RuntimeError):
    pass


def _font_file(name: str) -> Path:
    for folder in FONT_DIRS:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise FontMissing(
        f"font {name} not found in {', '.join(map(str, FONT_DIRS))}: "
        "run scripts/install-system-deps.sh (Debian package fonts-dejavu-core)"
    )


class Document(FPDF):
    """An A4 page with a running header (centre and document title) and page numbers."""

    def __init__(self, title: str, centre: str, *, generated_at: dt.datetime | None = None):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.doc_title = title
        self.centre = centre
        self.generated_at = generated_at or dt.datetime.now(dt.UTC)
        self.add_font(FONT, "", str(_font_file("DejaVuSans.ttf")))
        self.add_font(FONT, "B", str(_font_file("DejaVuSans-Bold.ttf")))
        self.set_title(title)
        self.set_creator("PMHA")
        self.set_creation_date(self.generated_at)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 15, 15)
        self.add_page()

    def header(self) -> None:
        self.set_font(FONT, "B", 13)
        self.cell(0, 7, self.doc_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 8.5)
        self.set_text_color(80)
        self.cell(0, 5, self.centre, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(100)
        stamp = self.generated_at.strftime("%Y-%m-%d %H:%M UTC")
        self.cell(0, 5, f"Generated {stamp}", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font(FONT, "B", 11)
        self.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 9.5)

    def paragraph(self, text: str, size: float = 9.5) -> None:
        self.set_font(FONT, "", size)
        self.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def fields(self, rows: Sequence[tuple[str, str]], label_width: float = 45) -> None:
        """Label: value lines, e.g. the person a document is about."""
        for label, value in rows:
            self.set_font(FONT, "B", 9.5)
            self.cell(label_width, 6, label)
            self.set_font(FONT, "", 9.5)
            self.multi_cell(0, 6, value or "-", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float] | None = None,
        size: float = 8.5,
    ) -> None:
        """A ruled table with a bold heading row repeated on each page."""
        self.set_font(FONT, "", size)
        with FPDF.table(
            self,
            col_widths=tuple(widths) if widths else None,
            headings_style=_heading_style(),
            line_height=self.font_size * 1.9,
            text_align="LEFT",
            repeat_headings=1,
        ) as table:
            head = table.row()
            for text in headings:
                head.cell(text)
            for values in rows:
                row = table.row()
                for text in values:
                    row.cell(text or "")

    def render(self) -> bytes:
        return bytes(self.output())


def _heading_style() -> FontFace:
    return FontFace(family=FONT, emphasis="BOLD", fill_color=(230, 234, 240))
