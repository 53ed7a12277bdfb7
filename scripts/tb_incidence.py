"""Build country_rules/tb_incidence.toml from WHO's TB burden estimates (one row per country).

The burden category of an exam country is decided by WHO's estimated TB incidence per 100,000
(BRIEF 1.2 [S1, S8]; CDC reads WHO's TB country profiles [S1b]). WHO publishes the estimates as
one CSV, one line per country and year (indicator e_inc_100k):

    https://extranet.who.int/tme/generateCSV.asp?ds=estimates

This script keeps, for every country in that file, the newest year with an estimate. Its input is
either WHO's full CSV or the small extract kept in the repository (the same columns, fewer of
them). To refresh the table:

    curl -sS -o /tmp/who.csv 'https://extranet.who.int/tme/generateCSV.asp?ds=estimates'
    .venv/bin/python scripts/tb_incidence.py /tmp/who.csv \
        --extract scripts/data/who_tb_burden_countries_YYYY-MM-DD_e_inc_100k.csv
    .venv/bin/pmha rules check

and first set DATASET, SOURCE_NOTE and DEFAULT_INPUT below to the new file (its date, and where
it was read from).

Country codes: WHO's file carries ISO 3166-1 alpha-2 and alpha-3 codes itself (columns iso2,
iso3); each pair is checked against pycountry (ISO 3166-1, already a dependency of PMHA), and a
row whose codes do not agree stops the script. Countries of ISO 3166-1 that WHO does not estimate
are written into the table as an open question, never given a value.

Read the file with the csv module, not pandas: Namibia's code "NA" must stay a string.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import pycountry

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = ROOT / "scripts" / "data" / "who_tb_burden_countries_2025-07-22_e_inc_100k.csv"
DEFAULT_OUTPUT = ROOT / "country_rules" / "tb_incidence.toml"
COLUMNS = ("country", "iso2", "iso3", "year", "e_inc_100k")

# Where the numbers came from: WHO's dataset, and the copy this machine could read (WHO's own
# server was not reachable from here; the copy is byte-for-byte WHO's file, as published).
SOURCE_ID = "WHOTB"
DATASET = "TB_burden_countries_2025-07-22"
SOURCE_TITLE = (
    "WHO Global Tuberculosis Programme, TB burden estimates by country and year "
    "(file TB_burden_countries_2025-07-22.csv, indicator e_inc_100k: estimated incidence of all "
    "forms of TB per 100,000 population)"
)
SOURCE_URL = "https://extranet.who.int/tme/generateCSV.asp?ds=estimates"
SOURCE_NOTE = (
    "read from the copy in GitHub repository dicook/SISBID, path "
    "data/TB_burden_countries_2025-07-22.csv, commit 598c4769b99b31b7989e49f9ae0fc6bf3181e03b "
    "(WHO's server was not reachable from the build machine); the columns used are kept in "
    "scripts/data/who_tb_burden_countries_2025-07-22_e_inc_100k.csv and the table is rebuilt by "
    "scripts/tb_incidence.py"
)


@dataclass(frozen=True)
class Row:
    name: str
    iso2: str
    iso3: str
    year: int
    per_100k: float


def read_rows(path: Path) -> list[Row]:
    """Every (country, year) with an incidence estimate; SystemExit on codes ISO does not know."""
    rows: list[Row] = []
    problems: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise SystemExit(f"{path}: no column {', '.join(missing)}")
        for line in reader:
            value = (line["e_inc_100k"] or "").strip()
            if not value:
                continue
            iso2, iso3 = line["iso2"].strip(), line["iso3"].strip()
            found = pycountry.countries.get(alpha_2=iso2)
            if found is None or found.alpha_3 != iso3:
                problems.append(f"{line['country']}: {iso2}/{iso3} is not an ISO 3166-1 pair")
                continue
            per_100k = float(value)
            if per_100k < 0:
                problems.append(f"{line['country']} {line['year']}: negative incidence {value}")
                continue
            rows.append(Row(line["country"], iso2, iso3, int(line["year"]), per_100k))
    if problems:
        raise SystemExit("\n".join(problems))
    return rows


def newest(rows: list[Row]) -> dict[str, Row]:
    """Each country's newest year with an estimate."""
    out: dict[str, Row] = {}
    for row in rows:
        if row.iso2 not in out or row.year > out[row.iso2].year:
            out[row.iso2] = row
    return dict(sorted(out.items()))


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def _plain(value: float) -> int | float:
    return int(value) if value == int(value) else value


def _text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(table: dict[str, Row]) -> str:
    """The TOML file: sources, one row per country, and the open question for the rest."""
    unlisted = sorted(c.alpha_2 for c in pycountry.countries if c.alpha_2 not in table)
    years = sorted({r.year for r in table.values()})
    lines = [
        "# TB incidence of every country WHO estimates: the exam country's TB burden (BRIEF 1.2:",
        "# >= the destination's threshold per 100,000 = high [S1, S8]; CDC uses WHO's country",
        "# profiles [S1b]). Shared by every destination; a destination file may override a country",
        "# with its own cited [[tb_incidence]] row. GENERATED by scripts/tb_incidence.py from",
        f"# WHO's {DATASET}.csv: do not edit by hand; rebuild it (see the script).",
        f"# {len(table)} countries and areas; estimate years {', '.join(map(str, years))}.",
        "",
        "[meta]",
        'title = "WHO-estimated TB incidence per 100,000, newest year per country"',
        f"dataset = {_text(DATASET)}",
        f"countries = {len(table)}",
        "",
        "[sources]",
        f"{SOURCE_ID} = {{ title = {_text(SOURCE_TITLE)}, url = {_text(SOURCE_URL)}, "
        f"note = {_text(SOURCE_NOTE)} }}",
        "",
    ]
    for code, row in table.items():
        lines += [
            "[[tb_incidence]]",
            f"country = {_text(code)}",
            f"per_100k = {_number(row.per_100k)}",
            f"year = {row.year}",
            f'source = ["{SOURCE_ID}"]',
            f"note = {_text(row.name)}",
            "",
        ]
    lines += [
        "[[open_question]]",
        'id = "tb_incidence.unlisted_countries"',
        'about = "tb_incidence"',
        "question = "
        + _text(
            f"WHO's {DATASET} file gives no TB incidence estimate for these ISO 3166-1 codes: "
            f"{', '.join(unlisted)}. An exam done there cannot be given a TB burden, so the plan "
            "holds what depends on it and names the country. Which figure do the destinations "
            "use for them (e.g. Taiwan's own estimate; French overseas departments under France)?"
        ),
        "asked = 2026-12-06",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--extract", type=Path, help="also write the columns used to this CSV")
    args = parser.parse_args(argv)
    table = newest(read_rows(args.input))
    if args.extract:
        with args.extract.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
            writer.writerow(COLUMNS)
            for row in table.values():
                writer.writerow([row.name, row.iso2, row.iso3, row.year, _plain(row.per_100k)])
    args.output.write_text(render(table), encoding="utf-8")
    print(f"{args.output}: {len(table)} countries", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
