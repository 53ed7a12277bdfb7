"""The departure board flattened: one dict per traveller, for the JSON API, the CSV and the page."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from typing import Any

from pmha.travel.departures import Board
from pmha.travel.status import Traveller
from pmha.workflow import clearance as cl
from pmha.workflow.labels import blocker_groups

SORTS = {"case": "Case", "status": "Clearance", "name": "Name", "due": "Checks due"}
FILTERS = {"all": "Everyone", "ready": "Ready", "blocked": "Blocked", "due": "Checks due"}


def traveller_rows(board: Board) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for row in board.rows:
        for a, t in row.travellers:
            cert = row.certificates.get(a.id)
            out.append(
                {
                    "applicant_id": a.id,
                    "case_id": row.case.id,
                    "case_number": row.case.case_number,
                    "name": f"{a.family_name}, {a.given_names}",
                    "status": t.decision.status,
                    "medical_status": t.medical.status,
                    "blockers": [b.to_dict() for b in t.decision.blockers],
                    "due": list(t.due),
                    "fitness": t.fitness,
                    "escort": None
                    if t.escort is None and t.escort_needed is None
                    else {
                        "needed": t.escort_needed,
                        "type": t.escort.escort_type if t.escort else None,
                        "medif": t.escort.medif_status if t.escort else None,
                    },
                    "valid_until": t.valid_until,
                    "ready": a.id in row.readiness.ready,
                    "certifiable": a.id in row.readiness.certifiable,
                    "certificate": None
                    if cert is None
                    else ("revoked" if cert.revoked_at else cert.code),
                    "family_status": row.readiness.decision.status,
                    "_applicant": a,
                    "_case": row.case,
                    "_traveller": t,
                }
            )
    return out


def select_rows(rows: list[dict[str, Any]], sort: str, show: str) -> list[dict[str, Any]]:
    if show == "ready":
        rows = [r for r in rows if r["ready"]]
    elif show == "blocked":
        rows = [r for r in rows if r["blockers"]]
    elif show == "due":
        rows = [r for r in rows if r["due"]]
    keys = {
        "case": lambda r: (r["case_number"], r["name"]),
        "status": lambda r: (cl.ORDER.index(r["status"]), r["case_number"]),
        "name": lambda r: r["name"].casefold(),
        "due": lambda r: (-len(r["due"]), r["case_number"]),
    }
    return sorted(rows, key=keys.get(sort, keys["case"]))


HOLDS = "Holds travel"
FLIGHT_KINDS = ("fitness", "escort")


def blocker_lines(
    t: Traveller, fitness: Mapping[str, tuple[str, str]], truncate: Callable[[str], str]
) -> tuple[list[tuple[bool, str, str]], int, list[str]]:
    """What blocks a traveller, as the board's cell shows it: every group that holds travel and
    the first other group, each with at most three items, as (holds, title, items); how many
    items that leaves out; and the flight's own holds (fitness, escort, MEDIF) in words."""
    lines: list[tuple[bool, str, str]] = []
    hidden = 0
    shown = False
    medical = tuple(b for b in t.decision.blockers if b.kind not in FLIGHT_KINDS)
    for title, items in blocker_groups(medical) if medical else ():
        if title == HOLDS or not shown:
            shown = shown or title != HOLDS
            lines.append((title == HOLDS, title, "; ".join(map(truncate, items[:3]))))
            hidden += len(items[3:])
        else:
            hidden += len(items)
    holds: list[str] = []
    for b in t.decision.blockers:
        if b.kind == "fitness":
            holds.append(f"{b.code.upper()}: {fitness.get(b.detail, (b.detail,))[0]}")
        elif b.kind == "escort" and b.code == "medif":
            holds.append(f"MEDIF {b.detail.replace('_', ' ')}: airline approval awaited")
        elif b.kind == "escort":
            who = "Medical escort" if b.code == "medical" else "Escort"
            holds.append(f"{who} not arranged yet")
    return lines, hidden, holds


def _cell(value: Any) -> str:
    text = str(value)
    # A cell a spreadsheet would run as a formula is kept as text.
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "case",
            "traveller",
            "clearance",
            "family",
            "ready",
            "valid_until",
            "checks_due",
            "fitness",
            "escort",
            "certificate",
            "blockers",
        ]
    )
    for r in rows:
        escort = r["escort"] or {}
        writer.writerow(
            _cell(v)
            for v in [
                r["case_number"],
                r["name"],
                r["status"],
                r["family_status"],
                "yes" if r["ready"] else "no",
                r["valid_until"] or "",
                "; ".join(r["due"]),
                r["fitness"] or "",
                escort.get("type") or escort.get("needed") or "",
                r["certificate"] or "",
                "; ".join(f"{b['code']}: {b['detail']}" for b in r["blockers"]),
            ]
        )
    return out.getvalue()
