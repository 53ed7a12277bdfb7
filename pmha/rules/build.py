"""From one parsed rule file to a compiled RuleSet, collecting every problem on the way."""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pycountry

from pmha.rules import vocabulary as vocab
from pmha.rules.compiler import compile_condition
from pmha.rules.conditions import Compiled
from pmha.rules.dates import Period
from pmha.rules.model import (
    Alternative,
    Cite,
    Clearance,
    DateRule,
    FluSeason,
    Incidence,
    IncidenceTable,
    ItemRule,
    Node,
    NotDone,
    OpenQuestion,
    OutcomeRule,
    Reads,
    RuleSet,
    Tier,
    VaccinationPolicy,
)

Problems = list[tuple[str, str]]


def _label(section: str, index: int, entry: dict[str, Any]) -> str:
    return f"{section}[{index}] ({entry['id']})"


def _sources(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _cite(entry: dict[str, Any]) -> Cite:
    return Cite(
        entry["id"],
        _sources(entry["source"]),
        entry["confidence"],
        entry["note"],
        entry["effective_from"],
        entry["effective_until"],
    )


def _date_rule(raw: dict[str, Any] | None, where: str, problems: Problems) -> DateRule | None:
    if raw is None:
        return None
    if raw["after"] and raw["before"]:
        problems.append((where, "give after or before, not both"))
    text = raw["after"] or raw["before"]
    return DateRule(raw["anchor"], Period.parse(text) if text else None, -1 if raw["before"] else 1)


def _condition(raw: Any, where: str, problems: Problems, reads: dict[str, set[str]]) -> Compiled:
    compiled = compile_condition(raw, where, problems)
    reads["codes"] |= compiled.codes
    reads["kinds"] |= compiled.kinds
    reads["names"] |= compiled.names
    return compiled


def incidence_rows(
    rows: list[dict[str, Any]], sources: dict[str, Any], problems: Problems
) -> dict[str, Incidence]:
    """[[tb_incidence]] rows by country: each cites a known source, names an ISO 3166-1 country
    and comes once (the schema has already refused negative values)."""
    found: dict[str, Incidence] = {}
    for i, row in enumerate(rows):
        code = row["country"]
        where = f"tb_incidence[{i}] ({code})"
        _check_sources(row["source"], sources, where, problems)
        if pycountry.countries.get(alpha_2=code) is None:
            problems.append((f"{where}.country", f"{code} is not an ISO 3166-1 country code"))
        if code in found:
            problems.append((where, f"country {code} is listed twice"))
        found[code] = Incidence(code, row["per_100k"], row["year"], _sources(row["source"]))
    return found


def build_incidence_table(
    data: dict[str, Any], file: str, sha256: str = ""
) -> tuple[IncidenceTable, Problems]:
    """The shared TB incidence table (country_rules/tb_incidence.toml) from its parsed file."""
    problems: Problems = []
    sources = data["sources"]
    rows = incidence_rows(data["tb_incidence"], sources, problems)
    count = data["meta"]["countries"]
    if count is not None and count != len(rows):
        problems.append(("meta.countries", f"says {count}; the table has {len(rows)} countries"))
    table = IncidenceTable(
        file=file,
        rows=MappingProxyType(rows),
        sources=MappingProxyType({k: MappingProxyType(v) for k, v in sources.items()}),
        open_questions=tuple(
            OpenQuestion(q["id"], q["about"], q["question"], q["asked"])
            for q in data["open_question"]
        ),
        sha256=sha256,
    )
    return table, problems


def build_ruleset(
    data: dict[str, Any], file: str, sha256: str, shared: IncidenceTable | None = None
) -> tuple[RuleSet | None, Problems]:
    """Compile a file that passed the schema; semantic faults come back as (path, message).
    `shared`: the TB incidence table every destination reads (its own rows override it)."""
    problems: Problems = []
    sources = data["sources"]
    for section in ("tb_burden", "clearance", "vaccination"):
        if data[section] is not None:
            _check_sources(data[section]["source"], sources, section, problems)
    # The shared table first; the file's own cited rows override their countries.
    own = incidence_rows(data["tb_incidence"], sources, problems)
    incidence = {**(shared.rows if shared else {}), **own}
    flu_seasons = _flu_seasons(data["flu_season"], sources, problems)
    deps: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    items: dict[tuple[str, str], list[Any]] = defaultdict(list)
    order: list[tuple[str, str]] = []
    # What alternative routes read: checked to be decided by some rule, but not a dependency (a
    # route is judged once the whole plan is made, so it may read what follows from the step).
    alternative_reads: dict[tuple[str, str], set[str]] = defaultdict(set)
    # The results an outcome's date is anchored to (result:<code>): checked to be decided here.
    anchors: dict[str, set[str]] = defaultdict(set)
    uses_burden = False
    for section in ("requirement", "vaccine", "outcome"):
        for i, entry in enumerate(data[section]):
            where = _label(section, i, entry)
            _check_sources(entry["source"], sources, where, problems)
            if entry["effective_until"] and entry["effective_until"] < entry["effective_from"]:
                problems.append((f"{where}.effective_until", "is before effective_from"))
            reads: dict[str, set[str]] = {"codes": set(), "kinds": set(), "names": set()}
            when = _condition(entry["when"], f"{where}.when", problems, reads)
            rule: ItemRule | OutcomeRule
            if section == "outcome":
                rule, key = _outcome(entry, where, when, problems), ("outcome", entry["kind"])
                rule = _dating(rule, entry, where, sources, problems, reads, anchors)
            else:
                blocked = None
                if entry.get("blocked_when") is not None:
                    blocked = _condition(
                        entry["blocked_when"], f"{where}.blocked_when", problems, reads
                    )
                rule = _item(section, entry, where, when, blocked, problems)
                rule = _settling(rule, entry, where, sources, problems, alternative_reads)
                key = (section, rule.code)
            node_key = key
            if node_key not in items:
                order.append(node_key)
            items[node_key].append((rule, entry["when"]))
            deps[node_key] |= {("requirement", c) for c in reads["codes"]}
            deps[node_key] |= {("outcome", k) for k in reads["kinds"]}
            uses_burden = uses_burden or "tb_burden" in reads["names"]
    if uses_burden and data["tb_burden"] is None:
        problems.append(("tb_burden", "rules use tb_burden but the file sets no threshold"))
    _check_versions(items, problems)
    for node_key, needs in deps.items():
        for need in sorted(needs - set(items)):
            problems.append(
                (
                    f"{node_key[0]} {node_key[1]}",
                    f"reads {need[0]} {need[1]!r}, which no rule in this file decides",
                )
            )
    decided = {c for s, c in items if s == "requirement"}
    for where, codes in anchors.items():
        for code in sorted(codes - decided):
            problems.append(
                (f"{where}.date", f"anchored to result:{code}, which no rule in this file decides")
            )
    for node_key, codes in alternative_reads.items():
        for code in sorted(codes - {c for s, c in items if s == "requirement"}):
            problems.append(
                (
                    f"{node_key[0]} {node_key[1]}.alternative",
                    f"reads requirement {code!r}, which no rule in this file decides",
                )
            )
    ordered = _topological(order, deps, problems)
    if problems:
        return None, problems
    nodes = tuple(
        Node(
            key[0],
            key[1],
            tuple(r for r, _ in items[key] if isinstance(r, ItemRule)),
            tuple(r for r, _ in items[key] if isinstance(r, OutcomeRule)),
        )
        for key in ordered
    )
    burden = data["tb_burden"]
    meta = data["meta"]
    ruleset = RuleSet.build(
        nodes,
        destination=meta["destination"],
        version=meta["version"],
        title=meta["title"],
        file=file,
        sha256=sha256,
        programmes=frozenset(meta["programmes"]),
        sources=MappingProxyType(
            {
                **(shared.sources if shared else {}),
                **{k: MappingProxyType(v) for k, v in sources.items()},
            }
        ),
        burden_threshold=burden["threshold_per_100k"] if burden else None,
        burden_source=_sources(burden["source"]) if burden else (),
        incidence=MappingProxyType(incidence),
        flu_seasons=flu_seasons,
        vaccination=_vaccination(data["vaccination"]),
        open_questions=tuple(
            OpenQuestion(q["id"], q["about"], q["question"], q["asked"])
            for q in data["open_question"]
        ),
        clearance=Clearance(
            family=data["clearance"]["family"],
            hold=frozenset(data["clearance"]["hold"]),
            conditions=frozenset(data["clearance"]["conditions"]),
            source=_sources(data["clearance"]["source"]),
        ),
    )
    return ruleset, problems


def _vaccination(row: dict[str, Any] | None) -> VaccinationPolicy | None:
    if row is None:
        return None
    return VaccinationPolicy(
        row["refusal_outcome"],
        row["individual_waiver"],
        row["doses"],
        _sources(row["source"]),
        row["confidence"],
        row["note"],
        frozenset(row["past_forecast_age"]),
    )


def _flu_seasons(
    rows: list[dict[str, Any]], sources: dict[str, Any], problems: Problems
) -> tuple[FluSeason, ...]:
    """The exam countries' influenza seasons: one season without countries at most (the default),
    and no country in two seasons."""
    out: list[FluSeason] = []
    seen: dict[str, str] = {}
    for i, row in enumerate(rows):
        where = f"flu_season[{i}] ({row['name']})"
        _check_sources(row["source"], sources, where, problems)
        if not row["countries"] and any(not s.countries for s in out):
            problems.append((where, "a second season without countries: only one is the default"))
        for country in row["countries"]:
            if country in seen:
                problems.append((where, f"country {country} is already in {seen[country]!r}"))
            seen[country] = row["name"]
        month_day = [tuple(int(x) for x in row[k].split("-")) for k in ("start", "end")]
        out.append(
            FluSeason(
                row["name"],
                (month_day[0][0], month_day[0][1]),
                (month_day[1][0], month_day[1][1]),
                frozenset(row["countries"]),
                _sources(row["source"]),
            )
        )
    return tuple(out)


def _item(
    section: str,
    entry: dict[str, Any],
    where: str,
    when: Compiled,
    blocked: Compiled | None,
    problems: Problems,
) -> ItemRule:
    code = entry["code"] if section == "requirement" else entry["vaccine"]
    return ItemRule(
        _cite(entry),
        section,
        code,
        entry["status"],
        when.test,
        blocked.test if blocked else None,
        entry.get("count"),
        _date_rule(entry.get("due_by"), f"{where}.due_by", problems),
        _date_rule(entry.get("not_before"), f"{where}.not_before", problems),
        Period.parse(entry["valid_for"]) if entry.get("valid_for") else None,
        Reads.of(when.codes | when.names),
    )


def _not_done(
    raw: dict[str, Any] | None, where: str, sources: dict[str, Any], problems: Problems
) -> NotDone | None:
    """The destination's words for a test not taken (`not_done`); its conditions may read the
    applicant's facts only (not results: the words describe the applicant, not a route)."""
    if raw is None:
        return None
    _check_sources(raw["source"], sources, f"{where}.not_done", problems)
    implied = []
    for i, row in enumerate(raw["not_required"]):
        reads: dict[str, set[str]] = {"codes": set(), "kinds": set(), "names": set()}
        at = f"{where}.not_done.not_required[{i}].when"
        cond = _condition(row["when"], at, problems, reads)
        if reads["codes"] or reads["kinds"]:
            problems.append((at, "may read the applicant's facts only"))
        implied.append((row["reason"], cond.test))
    words = MappingProxyType(dict(raw["reasons"]))
    return NotDone(words, tuple(implied), _sources(raw["source"]), raw["note"])


def _settling(
    rule: ItemRule,
    entry: dict[str, Any],
    where: str,
    sources: dict[str, Any],
    problems: Problems,
    alternative_reads: dict[tuple[str, str], set[str]],
) -> ItemRule:
    """The rule with the waivers and the alternative route its file allows for it."""
    waivers = entry.get("waivers")
    alt = entry.get("alternative")
    alternative = None
    if waivers is not None:
        _check_sources(waivers["source"], sources, f"{where}.waivers", problems)
    if alt is not None:
        _check_sources(alt["source"], sources, f"{where}.alternative", problems)
        reads: dict[str, set[str]] = {"codes": set(), "kinds": set(), "names": set()}
        alt_when = _condition(alt["when"], f"{where}.alternative.when", problems, reads)
        alt_by = _condition(alt["by"], f"{where}.alternative.by", problems, reads)
        if rule.code in reads["codes"]:
            problems.append((f"{where}.alternative", "a route cannot read its own requirement"))
        alternative_reads[("requirement", rule.code)] |= reads["codes"]
        alternative = Alternative(alt_when.test, alt_by.test, _sources(alt["source"]), alt["note"])
    return replace(
        rule,
        not_done=_not_done(entry.get("not_done"), where, sources, problems),
        waivers=frozenset(waivers["reasons"]) if waivers else frozenset(),
        waiver_source=_sources(waivers["source"]) if waivers else (),
        alternative=alternative,
    )


def _outcome(entry: dict[str, Any], where: str, when: Compiled, problems: Problems) -> OutcomeRule:
    kind = vocab.OUTCOME_KINDS[entry["kind"]]
    if entry["value"] not in kind.values:
        problems.append(
            (
                f"{where}.value",
                f"{entry['value']!r} is not a {entry['kind']} value "
                f"(use one of {', '.join(sorted(kind.values))})",
            )
        )
    for value in entry["unless"]:
        if value not in kind.values:
            problems.append((f"{where}.unless", f"{value!r} is not a {entry['kind']} value"))
    if entry["kind"] in when.kinds:
        problems.append((f"{where}.when", "an outcome cannot read its own kind; use unless"))
    return OutcomeRule(
        _cite(entry),
        entry["kind"],
        entry["value"],
        when.test,
        frozenset(entry["unless"]),
        entry["reason"],
        tuple(entry["date"]) if entry["date"] else None,
        Period.parse(entry["valid_for"]) if entry["valid_for"] else None,
        entry["report_within_days"],
        Reads.of(when.codes | when.names),
    )


def _dating(
    rule: OutcomeRule,
    entry: dict[str, Any],
    where: str,
    sources: dict[str, Any],
    problems: Problems,
    reads: dict[str, set[str]],
    anchors: dict[str, set[str]],
) -> OutcomeRule:
    """The outcome with how its date is chosen and its reporting tiers (issue 15). A tier's
    condition is a dependency of the outcome, like its `when`; an anchor is a result's date."""
    for anchor in entry["date"] or ():
        if anchor.startswith("result:"):
            anchors[where].add(anchor.removeprefix("result:"))
        elif anchor != "exam_date":
            problems.append(
                (f"{where}.date", f"an outcome is dated by exam_date or result:<code>: {anchor}")
            )
    if entry["date_choice"] != "first" and len(entry["date"] or ()) < 2:
        problems.append((f"{where}.date_choice", "a choice of one anchor: list two or more"))
    tiers: list[Tier] = []
    for i, raw in enumerate(entry["tiers"]):
        at = f"{where}.tiers[{i}] ({raw['name']})"
        _check_sources(raw["source"], sources, at, problems)
        mine: dict[str, set[str]] = {"codes": set(), "kinds": set(), "names": set()}
        test = _condition(raw["when"], f"{at}.when", problems, mine)
        for key in reads:
            reads[key] |= mine[key]
        if entry["kind"] in mine["kinds"]:
            problems.append((f"{at}.when", "an outcome cannot read its own kind"))
        if raw["name"] in {t.name for t in tiers}:
            problems.append((at, f"tier {raw['name']!r} is listed twice"))
        tiers.append(
            Tier(
                raw["name"],
                test.test,
                raw["report_within_days"],
                _sources(raw["source"]),
                raw["note"],
                Reads.of(mine["codes"] | mine["names"]),
            )
        )
    return replace(rule, date_choice=entry["date_choice"], tiers=tuple(tiers))


def raw_problems(raw: dict[str, Any], reported: Problems) -> Problems:
    """Source and condition faults in a file that failed the schema, so one run shows them all."""
    problems: Problems = []
    sources: dict[str, Any] = raw["sources"] if isinstance(raw.get("sources"), dict) else {}
    for section in ("requirement", "vaccine", "outcome", "tb_incidence"):
        entries = raw.get(section)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict):
                continue
            where = f"{section}[{i}]" + (
                f" ({entry['id']})" if isinstance(entry.get("id"), str) else ""
            )
            if isinstance(entry.get("source"), str | list):
                _check_sources(entry["source"], sources, where, problems)
            for key in ("when", "blocked_when"):
                if key in entry:
                    compile_condition(entry[key], f"{where}.{key}", problems)
    seen = {path for path, _ in reported}
    return [p for p in problems if p[0] not in seen]


def _check_sources(value: Any, sources: dict[str, Any], where: str, problems: Problems) -> None:
    for source in _sources(value):
        if source not in sources:
            problems.append((f"{where}.source", f"source {source!r} is not in the [sources] table"))


def _check_versions(items: dict[tuple[str, str], list[Any]], problems: Problems) -> None:
    """Dated entries of one rule id, or of one target with the same condition, must not overlap."""
    for key, rules in items.items():
        entries = [
            (r.cite, r.value if isinstance(r, OutcomeRule) else "", repr(w)) for r, w in rules
        ]
        for i, (a, value_a, when_a) in enumerate(entries):
            for b, value_b, when_b in entries[i + 1 :]:
                same_id = a.id == b.id
                same_rule = value_a == value_b and when_a == when_b
                if (same_id or same_rule) and _overlap(a, b):
                    what = (
                        f"rule id {a.id!r}"
                        if same_id
                        else f"{key[0]} {key[1]!r} with the same condition ({a.id}, {b.id})"
                    )
                    problems.append(
                        (
                            f"{key[0]}s",
                            f"{what}: effective dates overlap ({_span(a)} and {_span(b)})",
                        )
                    )
    ids: dict[str, tuple[str, str]] = {}
    for key, rules in items.items():
        for rule, _ in rules:
            if ids.setdefault(rule.cite.id, key) != key:
                problems.append(
                    (
                        f"{key[0]}s",
                        f"rule id {rule.cite.id!r} is used for {ids[rule.cite.id][1]!r} "
                        f"and {key[1]!r}",
                    )
                )


def _overlap(a: Cite, b: Cite) -> bool:
    a_end, b_end = a.effective_until, b.effective_until
    return (a_end is None or b.effective_from <= a_end) and (
        b_end is None or a.effective_from <= b_end
    )


def _span(cite: Cite) -> str:
    return f"{cite.effective_from} to {cite.effective_until or 'open'}"


def _topological(
    order: list[tuple[str, str]],
    deps: dict[tuple[str, str], set[tuple[str, str]]],
    problems: Problems,
) -> list[tuple[str, str]]:
    """Dependencies first, otherwise file order; a cycle is a problem."""
    position = {key: i for i, key in enumerate(order)}
    waiting = {key: {d for d in deps[key] if d in position and d != key} for key in order}
    for key in order:
        if key in deps[key] and key[0] != "outcome":
            problems.append((f"{key[0]} {key[1]}", "a requirement cannot depend on its own result"))
    ready = [position[k] for k, w in waiting.items() if not w]
    heapq.heapify(ready)
    out: list[tuple[str, str]] = []
    while ready:
        key = order[heapq.heappop(ready)]
        out.append(key)
        for other, needs in waiting.items():
            if key in needs:
                needs.discard(key)
                if not needs:
                    heapq.heappush(ready, position[other])
    stuck = [k for k in order if k not in out]
    if stuck:
        names = ", ".join(f"{k[0]} {k[1]}" for k in stuck)
        problems.append(("", f"circular dependency between {names}"))
    return out
