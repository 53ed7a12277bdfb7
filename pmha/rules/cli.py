"""`pmha rules check` and `pmha rules evaluate FACTS.json`: the rule files from a shell."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from pmha.rules.engine import plan
from pmha.rules.errors import RuleFileError
from pmha.rules.facts import Facts, FactsError
from pmha.rules.loader import check_all, load_rules
from pmha.rules.model import RuleBook

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "country_rules"

rules_dir_option = click.option(
    "--rules-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIR,
    envvar="PMHA_RULES_DIR",
    show_default=True,
    help="Folder of rule files (one TOML file per destination).",
)


@click.group()
def rules() -> None:
    """Country rule files: validate them, and plan an applicant's requirements."""


@rules.command("check")
@rules_dir_option
def check(rules_dir: Path) -> None:
    """Validate every rule file; exit 1 and list each problem if any file is broken."""
    table, rulesets, problems = check_all(rules_dir)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        count = len(problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found", err=True)
        sys.exit(1)
    if table is not None:
        click.echo(f"{table.file}: TB incidence of {len(table.rows)} countries: ok")
    for destination, ruleset in sorted(rulesets.items()):
        rule_count = sum(len(n.items) + len(n.outcomes) for n in ruleset.nodes)
        click.echo(
            f"{ruleset.file}: {destination} version {ruleset.version}, {rule_count} rules: ok"
        )


@rules.command("questions")
@rules_dir_option
def questions(rules_dir: Path) -> None:
    """List the open questions the rule files keep (what the sources did not answer)."""
    book = _book(rules_dir)
    for q in book.incidence.open_questions if book.incidence else ():
        click.echo(f"all {q.id} ({q.about}, asked {q.asked.isoformat()}): {q.question}")
    for destination, ruleset in sorted(book.rulesets.items()):
        for q in ruleset.open_questions:
            click.echo(
                f"{destination} {q.id} ({q.about}, asked {q.asked.isoformat()}): {q.question}"
            )


def _book(rules_dir: Path) -> RuleBook:
    try:
        return load_rules(rules_dir)
    except RuleFileError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)


@rules.command("evaluate")
@click.argument("facts_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Judge validity and expiry as of this date (default: today).",
)
@rules_dir_option
def evaluate(facts_file: Path, as_of: object, rules_dir: Path) -> None:
    """Print the plan for the applicant in FACTS_FILE (JSON) as JSON, with the vaccination
    outcome (the CDSi forecast, the requirements, blanket waivers) under `vaccination`."""
    try:
        data = json.loads(facts_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise click.ClickException(f"cannot read {facts_file}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{facts_file} is not valid JSON: {exc}") from None
    book = _book(rules_dir)
    day = as_of.date() if hasattr(as_of, "date") else date.today()
    # The optional vaccination history is not a fact of the plan (pmha.vaccines.evaluate).
    history = data.pop("vaccinations", None) if isinstance(data, dict) else None
    try:
        facts = Facts.from_dict(data)
        if facts.destination not in book.rulesets:
            raise FactsError({"destination": [f"No rule file for {facts.destination}."]})
        result = plan(facts, book, day)
        out = result.to_dict()
        # Imported here: pmha.vaccines builds on pmha.rules, never the other way round.
        from pmha.vaccines.evaluate import vaccination_report

        report = vaccination_report(result, facts, book.for_destination(facts.destination), history)
        if report is not None:
            out["vaccination"] = report
    except FactsError as exc:
        click.echo(f"{facts_file}: invalid facts", err=True)
        for name, messages in sorted(exc.errors.items()):
            click.echo(f"  {name}: {' '.join(messages)}", err=True)
        sys.exit(1)
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))
