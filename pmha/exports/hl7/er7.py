"""ER7 text: escaping values, and HL7 date/time formats, written and read without hl7apy."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

FIELD, COMPONENT, REPETITION, ESCAPE, SUBCOMPONENT = "|", "^", "~", "\\", "&"
ENCODING_CHARACTERS = "^~\\&"
SEGMENT_SEPARATOR = "\r"

_ESCAPES = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}
_NEEDS_ESCAPING = re.compile(r"[\\|^&~\r\n]")
_ESCAPE_SEQUENCE = re.compile(r"\\([EFSTR]|\.br|X[0-9A-Fa-f]*)\\")


def escape(value: str) -> str:
    """Escape the delimiters in one value; line breaks become `\\.br\\` (HL7 formatted text)."""
    if not _NEEDS_ESCAPING.search(value):
        return value
    out = []
    for ch in value.replace("\r\n", "\n"):
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch in "\r\n":
            out.append("\\.br\\")
        else:
            out.append(ch)
    return "".join(out)


def unescape(value: str, chars: Mapping[str, str] | None = None) -> str:
    """Undo `escape` for a message whose encoding characters are `chars` (the default set)."""
    if "\\" not in value and (chars is None or chars["ESCAPE"] not in value):
        return value
    esc = chars["ESCAPE"] if chars else ESCAPE
    table = {
        "E": esc,
        "F": chars["FIELD"] if chars else FIELD,
        "S": chars["COMPONENT"] if chars else COMPONENT,
        "T": chars["SUBCOMPONENT"] if chars else SUBCOMPONENT,
        "R": chars["REPETITION"] if chars else REPETITION,
        ".br": "\n",
    }
    pattern = (
        _ESCAPE_SEQUENCE
        if esc == "\\"
        else re.compile(re.escape(esc) + r"([EFSTR]|\.br|X[0-9A-Fa-f]*)" + re.escape(esc))
    )

    def sub(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("X"):
            try:
                return bytes.fromhex(code[1:]).decode("latin-1")
            except ValueError:
                return match.group(0)
        return table[code]

    return pattern.sub(sub, value)


def format_date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def format_ts(value: dt.date | dt.datetime, *, seconds: bool = False) -> str:
    """A DTM: YYYYMMDD for a date, YYYYMMDDHHMM[SS][+ZZZZ] for a date-time (`seconds`: always
    to the second)."""
    if not isinstance(value, dt.datetime):
        return format_date(value)
    text = value.strftime("%Y%m%d%H%M%S" if value.second or seconds else "%Y%m%d%H%M")
    offset = value.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        text += f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return text


_DTM = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(?:(\d{2})(\d{2})?(?:(\d{2})(?:\.\d{1,4})?)?)?([+-]\d{4})?$"
)


def parse_ts(text: str) -> dt.date | dt.datetime:
    """Read a DTM; a value without a time of day is a date. ValueError when it is not one."""
    match = _DTM.match(text)
    if not match or match.group(3) is None:
        raise ValueError(text)
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    if match.group(4) is None:
        return dt.date(year, month, day)
    tz = None
    if match.group(7):
        sign = -1 if match.group(7)[0] == "-" else 1
        hours, minutes = int(match.group(7)[1:3]), int(match.group(7)[3:5])
        tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    return dt.datetime(
        year,
        month,
        day,
        int(match.group(4)),
        int(match.group(5) or 0),
        int(match.group(6) or 0),
        tzinfo=tz,
    )


def parse_date(text: str) -> dt.date:
    value = parse_ts(text)
    return value.date() if isinstance(value, dt.datetime) else value
