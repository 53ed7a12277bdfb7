"""FHS/BHS ... BTS/FTS batch files: one file, one batch, for a departure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pmha.exports.hl7.er7 import SEGMENT_SEPARATOR, escape, format_ts
from pmha.exports.hl7.errors import Hl7Error, Problem
from pmha.exports.immunization import Facility


def build_batch(
    messages: Sequence[str],
    sender: Facility,
    receiver: Facility,
    control_id: str,
    now: dt.datetime,
    comment: str = "",
) -> str:
    """Wrap built VXU messages in FHS/BHS ... BTS/FTS; BTS-1 counts messages, FTS-1 batches."""
    problems = [
        Problem("BHS", f"message {n} does not start with MSH", n)
        for n, message in enumerate(messages, start=1)
        if not message.startswith("MSH|")
    ]
    if not control_id:
        problems.append(Problem("BHS-11", "(batch control id) is required"))
    if problems:
        raise Hl7Error(problems)
    header = (
        f"{escape(sender.application)}|{escape(sender.id)}|{escape(receiver.application)}|"
        f"{escape(receiver.id)}|{format_ts(now)}"
    )
    ident = escape(control_id)
    note = escape(comment)
    body = "".join(m if m.endswith(SEGMENT_SEPARATOR) else m + SEGMENT_SEPARATOR for m in messages)
    return (
        f"FHS|^~\\&|{header}||||{ident}{SEGMENT_SEPARATOR}"
        f"BHS|^~\\&|{header}||||{ident}{SEGMENT_SEPARATOR}"
        f"{body}"
        f"BTS|{len(messages)}|{note}{SEGMENT_SEPARATOR}"
        f"FTS|1|{note}{SEGMENT_SEPARATOR}"
    )


def split_batch(text: str) -> list[str]:
    """The messages of a batch file, checking BTS-1 and FTS-1 against what is there."""
    segments = [s for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if s]
    messages: list[list[str]] = []
    declared: dict[str, str] = {}
    for segment in segments:
        name = segment[:3]
        if name in ("FHS", "BHS"):
            continue
        if name in ("BTS", "FTS"):
            declared[name] = segment.split("|")[1] if "|" in segment else ""
        elif name == "MSH":
            messages.append([segment])
        elif messages:
            messages[-1].append(segment)
        else:
            raise Hl7Error.one(name, "appears before the first MSH of the batch")
    if declared.get("BTS", str(len(messages))) != str(len(messages)):
        raise Hl7Error.one(
            "BTS-1", f"(batch message count) says {declared['BTS']}, the batch has {len(messages)}"
        )
    if declared.get("FTS", "1") != "1":
        raise Hl7Error.one("FTS-1", f"(file batch count) says {declared['FTS']}, the file has 1")
    return [SEGMENT_SEPARATOR.join(m) + SEGMENT_SEPARATOR for m in messages]
