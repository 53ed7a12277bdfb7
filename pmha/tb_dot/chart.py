"""The adherence chart: one square per day of treatment, four weeks a row, coloured by what
happened to the dose, with the phases marked (drawn as SVG by the template)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from pmha.tb_dot.adherence import Progress
from pmha.tb_dot.models import TbEpisode

PER_ROW = 28
CELL = 16
ROW = CELL + 18  # room between rows for the phase labels and the sputum marks
LEFT = 70
TOP = 20
# Fill colours as SVG attributes (the pages' Content-Security-Policy allows no inline styles).
COLOURS = {
    "observed": "#1e8e3e",
    "self_administered": "#8ab4f8",
    "missed": "#d93025",
    "refused": "#f29900",
    "adverse_event": "#9334e6",
    "none": "#ffffff",
    "later": "#dadce0",
}
WORDS = {
    "observed": "Observed",
    "self_administered": "Self-administered",
    "missed": "Missed",
    "refused": "Refused",
    "adverse_event": "Adverse event",
    "none": "Not recorded",
    "later": "Still to come",
}


@dataclass
class Cell:
    x: int
    y: int
    status: str
    title: str


@dataclass
class Chart:
    cells: list[Cell] = field(default_factory=list)
    rows: list[tuple[int, str]] = field(default_factory=list)  # (y, label)
    marks: list[tuple[int, int, str]] = field(default_factory=list)  # (x, y, label): phase starts
    sputum: list[tuple[int, int, str, bool]] = field(default_factory=list)  # x, y, text, positive
    width: int = LEFT + PER_ROW * CELL + 10
    height: int = TOP + CELL
    counts: dict[str, int] = field(default_factory=dict)


def _place(index: int) -> tuple[int, int]:
    row, col = divmod(index, PER_ROW)
    return LEFT + col * CELL, TOP + row * ROW


def build(episode: TbEpisode, progress: Progress, today: date) -> Chart:
    """From the start to the later of today and the planned end (doses still to take at one a
    day), each day a square."""
    chart = Chart()
    by_day = {o.dose_date: o.status.value for o in episode.observations}
    end = progress.end or max(today, progress.through) + timedelta(days=progress.outstanding)
    days = (end - episode.start_date).days + 1
    for i in range(days):
        day = episode.start_date + timedelta(days=i)
        status = by_day.get(day) or ("later" if day > today else "none")
        chart.counts[status] = chart.counts.get(status, 0) + 1
        x, y = _place(i)
        chart.cells.append(Cell(x, y, status, f"{day.isoformat()}: {WORDS[status]}"))
        if i % PER_ROW == 0:
            chart.rows.append((y, f"Week {i // 7 + 1}"))
    for phase in progress.phases:
        if phase.start is None:
            continue
        i = (phase.start - episode.start_date).days
        x, y = _place(i)
        chart.marks.append((x, y, f"{phase.name.capitalize()} ({phase.drugs})"))
    for check in episode.sputum:
        i = (check.collected_on - episode.start_date).days
        x, y = _place(i)
        positive = "positive" in (check.smear, check.culture)
        chart.sputum.append((x, y, f"Month {check.month} sputum", positive))
    rows = (days + PER_ROW - 1) // PER_ROW
    chart.height = TOP + rows * ROW
    return chart
