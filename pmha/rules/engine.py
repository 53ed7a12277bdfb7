"""plan(facts, rules, as_of): every requirement, vaccine and outcome for one applicant.

Rules in force are chosen by the exam date (a technical instruction applies to exams done on or
after its effective date); `as_of` decides whether results and validity periods have expired.
"""

from __future__ import annotations

from datetime import date

import pycountry

from pmha.rules import vocabulary as vocab
from pmha.rules.conditions import Context
from pmha.rules.dates import Age, Period
from pmha.rules.facts import Facts, FactsError, Result
from pmha.rules.model import (
    ItemRule,
    Node,
    OutcomeRule,
    Reads,
    RuleBook,
    RuleSet,
    dated_by,
    remember,
)
from pmha.rules.plan import Burden, Outcome, Plan, PlanItem, Reason

_RANK = {vocab.REQUIRED: 2, vocab.CONDITIONAL: 1}
_OPEN = frozenset({vocab.REQUIRED, vocab.CONDITIONAL, vocab.BLOCKED})
_NO_BURDEN = Burden(None, None, None, ())
_UNSETTLED = frozenset({vocab.REQUIRED, vocab.BLOCKED})


def plan(facts: Facts, rules: RuleBook | RuleSet, as_of: date, *, check: bool = True) -> Plan:
    """The plan for `facts` under the destination's rules; FactsError for impossible facts."""
    if check:
        errors = facts.errors()
        if errors:
            raise FactsError(errors)
    ruleset = rules.for_destination(facts.destination) if isinstance(rules, RuleBook) else rules
    if facts.destination != ruleset.destination:
        raise FactsError({"destination": [f"These are the {ruleset.destination} rules."]})
    if facts.programme not in ruleset.programmes:
        covered = ", ".join(sorted(ruleset.programmes))
        raise FactsError({"programme": [f"The {ruleset.destination} rules cover {covered}."]})
    category, burden = ruleset.burden_record(facts.exam_country)
    problems: tuple[str, ...] = ()
    if burden is None:
        burden = _NO_BURDEN
        if ruleset.burden_threshold is not None:  # the rules read the burden: say it is unknown
            problems = (no_incidence(facts.exam_country),)
    age = Age.between(facts.dob, facts.exam_date)
    ctx = Context(facts, age, category)
    requirements: list[PlanItem] = []
    vaccines: list[PlanItem] = []
    outcomes: list[Outcome] = []
    routes: list[tuple[int, ItemRule]] = []
    for node in ruleset.program(facts.exam_date):
        section = node.section
        if section == "requirement":
            item = _requirement(node, ctx, as_of)
            if item.status in _UNSETTLED:
                routes += [(len(requirements), r) for r in node.items if r.alternative]
            requirements.append(item)
        elif section == "outcome":
            outcomes.append(_outcome(node, ctx, as_of))
        else:
            vaccines.append(_vaccine(node, ctx))
    for index, rule in routes:  # judged on the whole plan: a route reads what follows the step
        item = requirements[index]
        if rule.cite.id == item.reason.rule and item.status in _UNSETTLED:
            requirements[index] = _by_alternative(item, rule, ctx)
    return Plan(
        destination=ruleset.destination,
        programme=facts.programme,
        rules_version=ruleset.version,
        rules_sha256=ruleset.sha256,
        exam_date=facts.exam_date,
        as_of=as_of,
        age_years=age.years,
        age_months=age.months,
        burden=burden,
        requirements=tuple(requirements),
        vaccines=tuple(vaccines),
        outcomes=tuple(outcomes),
        problems=problems,
    )


def _country(code: str) -> str:
    found = pycountry.countries.get(alpha_2=code)
    name = getattr(found, "common_name", None) or getattr(found, "name", None)
    return f"{name} ({code})" if name else code


def no_incidence(code: str) -> str:
    """The plan's error when the exam country has no TB incidence estimate (BRIEF 1.2)."""
    return (
        f"The exam country {_country(code)} has no WHO estimate of TB incidence in the rule "
        "tables, so its TB burden (high or low) cannot be decided: every step that depends on it "
        "is held. The physician must check the exam country; if it is right, the rule tables "
        "need a sourced incidence for it before these steps can be planned."
    )


def _held_for_burden(code: str) -> str:
    return (
        f"held: the exam country {_country(code)} has no WHO TB incidence estimate in the rule "
        "tables, so the TB burden cannot be decided"
    )


def _needs_burden(node: Node, ctx: Context) -> bool:
    """Whether a rule of `node` is undecided because the TB burden is not known."""
    return ctx.burden is None and any(r.reads.burden and r.when(ctx) is None for r in node.items)


def _either_burden(node: Node, ctx: Context) -> str | None:
    """When the burden is not known: the rules that require `node` whether it is high or low
    (e.g. a child with symptoms needs the IGRA either way [S1, S8]), else None."""
    found = []
    try:
        for category in ("high", "low"):
            ctx.burden = category
            status, rule = _strongest(node, ctx)
            if status != vocab.REQUIRED or rule is None:
                return None
            found.append(f"{rule.cite.id} if {category}")
    finally:
        ctx.burden = None
    return f"required whatever the TB burden ({'; '.join(found)})"


def _strongest(node: Node, ctx: Context) -> tuple[str | None, ItemRule | None]:
    best_status: str | None = None
    best: ItemRule | None = None
    for rule in node.items:
        value = rule.when(ctx)
        if value is False:
            continue
        status = rule.status if value else vocab.CONDITIONAL
        if best_status is None or _RANK[status] > _RANK[best_status]:
            best_status, best = status, rule
            if status == vocab.REQUIRED:
                break
    return best_status, best


def _requirement(node: Node, ctx: Context, as_of: date) -> PlanItem:
    facts = ctx.facts
    items = node.items
    status: str | None = None
    rule: ItemRule | None = None
    if len(items) == 1:  # most requirements: one rule in force, no ranking needed
        only = items[0]
        value = only.when(ctx)
        if value is not False:
            status, rule = (only.status if value else vocab.CONDITIONAL), only
    else:
        status, rule = _strongest(node, ctx)
    code = node.name
    result = ctx.results.get(code) if ctx.results else None
    if result is None:
        if rule is None:
            ctx.status[code] = vocab.NOT_REQUIRED
            return node.idle  # type: ignore[return-value]
        if (
            rule.met is not None
            and status == vocab.REQUIRED
            and rule.blocked_when is None
            and code not in facts.waivers
            and code not in facts.deferred
        ):
            ctx.status[code] = vocab.REQUIRED
            return rule.met
        assert status is not None
        return _open(node, ctx, status, rule, None)
    # The done item depends on the rule, the result's value and its date only: memoised.
    # (Numbers are not: 10 and 10.0 are one key but read differently.)
    key = (id(rule), result.value, result.date) if result.value.__class__ is str else None
    found = node.done.get(key) if key is not None else None
    if found is None:
        found = _done(node, rule, result)
        if key is not None:
            remember(node.done, key, found)
    valid_until, item = found
    if valid_until is None or as_of <= valid_until or rule is None:
        ctx.status[code] = vocab.DONE
        return item
    assert status is not None
    return _open(node, ctx, status, rule, f"previous result expired on {valid_until.isoformat()}")


def _done(node: Node, rule: ItemRule | None, result: Result) -> tuple[date | None, PlanItem]:
    """A result's expiry date and the plan item that shows it done."""
    valid_until = None
    keeper = rule or node.keeper
    if keeper is not None and keeper.valid_for is not None:
        valid_until = keeper.valid_for.after(result.date)
    detail = f"result {result.value} on {result.date.isoformat()}"
    cite = rule or keeper or (node.items[0] if node.items else None)
    reason = Reason(cite.cite.id, cite.cite.source, detail) if cite else Reason(None, (), detail)
    return valid_until, PlanItem(node.name, vocab.DONE, reason, valid_until=valid_until)


def allowed_waiver(rule: ItemRule, code: str, reason: str | None) -> bool:
    """Whether `reason` waives `code` under `rule`: only a reason the rule's file allows for it.
    A refusal never does; nor does a blanket vaccine reason waive the vaccination review as a
    whole (each vaccine is waived on its own record [S13a], then the review is completed)."""
    return reason is not None and reason in rule.waivers


def _open(node: Node, ctx: Context, status: str, rule: ItemRule, expired: str | None) -> PlanItem:
    """A requirement that applies (or may apply) and has no valid result yet."""
    facts, code = ctx.facts, node.name
    awaiting: tuple[str, ...] = ()
    detail = "condition met"
    if status != rule.status:
        awaiting = tuple(sorted(_awaited(rule.reads, ctx)))
        detail = "depends on what is not known yet"
    detail = expired or detail
    held = None  # the exam country has no incidence estimate and the step depends on it
    if status == vocab.CONDITIONAL and _needs_burden(node, ctx):
        either = _either_burden(node, ctx)
        if either is None:
            held = _held_for_burden(facts.exam_country) + (f"; {expired}" if expired else "")
        else:
            status, detail, awaiting = vocab.REQUIRED, expired or either, ()
    if allowed_waiver(rule, code, facts.waivers.get(code)):
        status, detail = vocab.WAIVED, f"waived: {facts.waivers[code]}"
    elif held is not None:
        status, detail = vocab.BLOCKED, held
    elif status == vocab.REQUIRED:
        if code in facts.deferred:
            status, detail = vocab.BLOCKED, "deferred by the applicant"
        elif rule.blocked_when is not None and rule.blocked_when(ctx) is True:
            status, detail = vocab.BLOCKED, "blocked: see the rule's note"
    ctx.status[code] = status
    return PlanItem(
        code,
        status,
        Reason(rule.cite.id, rule.cite.source, detail),
        due_by=rule.due_by.resolve(facts) if rule.due_by else None,
        not_before=rule.not_before.resolve(facts) if rule.not_before else None,
        count=rule.count,
        note=rule.cite.note,
        awaiting=awaiting,
    )


def _by_alternative(item: PlanItem, rule: ItemRule, ctx: Context) -> PlanItem:
    """The item settled by the rule's alternative route when both its parts hold for certain."""
    route = rule.alternative
    if route is None or route.when(ctx) is not True or route.by(ctx) is not True:
        return item
    source = tuple(dict.fromkeys((*item.reason.source, *route.source)))
    reason = Reason(item.reason.rule, source, f"settled by the alternative route: {route.note}")
    return PlanItem(item.code, vocab.ALTERNATIVE, reason, count=item.count, note=item.note)


def _vaccine(node: Node, ctx: Context) -> PlanItem:
    status: str | None = None
    rule: ItemRule | None = None
    if len(node.items) == 1:
        only = node.items[0]
        value = only.when(ctx)
        if value is not False:
            status, rule = (only.status if value else vocab.CONDITIONAL), only
    else:
        status, rule = _strongest(node, ctx)
    if rule is None:
        return node.idle  # type: ignore[return-value]
    if status == vocab.REQUIRED and rule.met is not None:
        return rule.met
    reason = Reason(rule.cite.id, rule.cite.source, "depends on a fact not known yet")
    return PlanItem(node.name, vocab.CONDITIONAL, reason, note=rule.cite.note)


def _outcome(node: Node, ctx: Context, as_of: date) -> Outcome:
    # Most kinds end with no rule firing, or one, and none waiting: their outcome is pre-built.
    fired: list[OutcomeRule] | None = None
    undecided: list[OutcomeRule] | None = None
    for rule in node.outcomes:
        if fired is not None:
            if not node.multiple:
                break
            if rule.unless and not rule.unless.isdisjoint([r.value for r in fired]):
                continue
        value = rule.when(ctx)
        if value is None:
            if undecided is None:
                undecided = [rule]
            else:
                undecided.append(rule)
        elif value:
            if fired is None:
                fired = [rule]
            else:
                fired.append(rule)
    found: Outcome | None = None
    if undecided is None:
        if fired is None:
            found = node.settled
        elif len(fired) == 1:
            found = fired[0].alone or _dated(fired[0], ctx, as_of)
    else:
        ctx.pending_kinds.add(node.name)
    if found is None:
        found = _derived(node.name, fired or [], undecided or [], ctx, as_of)
    ctx.outcomes[node.name] = found.values
    return found


def _dated(rule: OutcomeRule, ctx: Context, as_of: date) -> Outcome | None:
    """The outcome of a rule with a date when it alone fires: it depends on the date and as_of
    (and, with reporting tiers, on the applicant's flags: not memoised then)."""
    dated = dated_by(rule.date, ctx.facts, rule.date_choice) if rule.date else None
    if dated is None or rule.tiers:
        return None
    found = rule.dated.get((*dated, as_of))
    if found is None:
        found = _derived(rule.kind, [rule], [], ctx, as_of)
        remember(rule.dated, (*dated, as_of), found)
    return found


def _tier(rule: OutcomeRule, ctx: Context) -> tuple[int | None, str | None, tuple[str, ...]]:
    """The reporting deadline: the first tier that holds, else the rule's own; a tier not known
    yet (the physician has not said) makes the shorter deadline apply, saying what it awaits."""
    days, name = rule.report_within_days, None
    awaiting: tuple[str, ...] = ()
    for tier in rule.tiers:
        value = tier.when(ctx)
        if value is False:
            continue
        if days is None or tier.report_within_days < days or (value and not awaiting):
            days, name = tier.report_within_days, tier.name
            awaiting = () if value else tuple(sorted(_awaited(tier.reads, ctx)))
        if value:
            break  # the first tier that holds decides (a shorter one not known yet still counts)
    return days, name, awaiting


def _derived(
    kind: str, fired: list[OutcomeRule], undecided: list[OutcomeRule], ctx: Context, as_of: date
) -> Outcome:
    """The outcome built from the rules that fired and those still waiting for something."""
    sources: list[str] = []
    for rule in fired:
        sources += [s for s in rule.cite.source if s not in sources]
    awaiting: set[str] = set()
    for rule in undecided:
        awaiting.update(_awaited(rule.reads, ctx))
    chosen = fired[0] if fired else None
    when = valid_until = None
    expired = None
    anchor = None
    if chosen is not None and chosen.date:
        dated = dated_by(chosen.date, ctx.facts, chosen.date_choice)
        if dated is not None:
            anchor, when = dated
        if when is not None and chosen.valid_for is not None:
            valid_until = chosen.valid_for.after(when)
            expired = as_of > valid_until
    days = chosen.report_within_days if chosen else None
    tier: str | None = None
    report_awaiting: tuple[str, ...] = ()
    if chosen is not None and chosen.tiers:
        days, tier, report_awaiting = _tier(chosen, ctx)
    return Outcome(
        kind=kind,
        values=tuple(r.value for r in fired),
        status="pending" if undecided else "final",
        trace=tuple(r.cite.id for r in fired),
        source=tuple(sources),
        awaiting=tuple(sorted(awaiting)),
        reason=chosen.reason if chosen else None,
        date=when,
        valid_until=valid_until,
        expired=expired,
        report_within_days=days,
        anchor=anchor,
        valid_for=_period_text(chosen.valid_for) if chosen and valid_until else None,
        report_tier=tier,
        report_awaiting=report_awaiting,
    )


def _period_text(period: Period | None) -> str | None:
    if period is None:
        return None
    if period.days:
        return f"{period.days}d" if not period.months else f"{period.months}m{period.days}d"
    return f"{period.months}m"


def _awaited(reads: Reads, ctx: Context) -> list[str]:
    """The facts not known yet and the requirements still open that a rule reads."""
    flags, status = ctx.flags, ctx.status
    out = [name for name in reads.flags if flags[name] is None]
    out += [code for code in reads.codes if status.get(code) in _OPEN]
    if reads.burden and ctx.burden is None:
        out.append("exam_country")
    return out
