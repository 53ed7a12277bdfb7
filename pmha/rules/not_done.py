"""Why a test was not taken, in the destination's own words (`not_done` in the rule files).

The UK TB certificate records a "reason X-ray not taken" ("Child (under 11 years)", "Pregnant",
"Other") [S25]; other destinations say in their instructions when an X-ray is not taken (New
Zealand: children under 11 and pregnant women, unless requested [S30c]). These are words only:
a test not taken is settled by nothing but its own result or a declared alternative route.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from pmha.rules import vocabulary as vocab
from pmha.rules.conditions import Context
from pmha.rules.dates import Age
from pmha.rules.facts import Facts
from pmha.rules.model import RuleSet

# Plan statuses under which the test was not taken and will not be: nothing asks for it, or a
# route other than its own result settled it.
_NOT_ASKED = frozenset({vocab.NOT_REQUIRED})


@dataclass(frozen=True, slots=True)
class NotTaken:
    """A test not taken: our code, our words, the destination's words and the source."""

    code: str  # a NOT_DONE_REASONS code
    words: str  # our words (NOT_DONE_REASONS)
    destination_words: str | None  # the destination's words, when its file gives them
    source: tuple[str, ...]
    implied: bool  # True: the rules did not ask for the test; False: a step marked not done


def destination_words(ruleset: RuleSet | None, code: str, day: date) -> dict[str, str]:
    """NOT_DONE_REASONS code -> the destination's words for `code` (the rules in force on `day`)."""
    found: dict[str, str] = {}
    for rule in ruleset.rules_for(code, day) if ruleset else ():
        if rule.not_done is not None:
            for reason, words in rule.not_done.words.items():
                found.setdefault(reason, words)
    return found


def not_taken(
    ruleset: RuleSet | None,
    facts: Facts,
    code: str,
    planned: str | None,
    step_reason: str | None,
) -> NotTaken | None:
    """Why `code` was not taken, or None when it was taken or no reason is known.

    `planned` is the test's plan status; `step_reason` the not-done reason of its step, if the
    step is `not_done`. A recorded result means it was taken."""
    if code in facts.results:
        return None
    rules = ruleset.rules_for(code, facts.exam_date) if ruleset else ()
    declared = [r.not_done for r in rules if r.not_done is not None]
    reason: str | None = None
    implied = False
    if step_reason is not None:
        reason = step_reason
    elif planned in _NOT_ASKED or planned is None:
        ctx = Context(facts, Age.between(facts.dob, facts.exam_date), None)
        for nd in declared:
            reason = next((r for r, when in nd.not_required if when(ctx) is True), None)
            if reason is not None:
                break
        implied = True
    if reason is None:
        return None
    words = next((nd.words[reason] for nd in declared if reason in nd.words), None)
    source = next((nd.source for nd in declared if reason in nd.words), ())
    return NotTaken(reason, vocab.NOT_DONE_REASONS.get(reason, reason), words, source, implied)


def step_words(ruleset: RuleSet | None, codes: list[str], day: date) -> dict[str, dict[str, str]]:
    """For each requirement code that has them: NOT_DONE_REASONS code -> destination's words."""
    found = {code: destination_words(ruleset, code, day) for code in codes}
    return {code: words for code, words in found.items() if words}


def routes(
    ruleset: RuleSet | None,
    codes: list[str],
    day: date,
    planned_by: Mapping[str, str | None] | None = None,
) -> dict[str, list[str]]:
    """For each requirement code: the alternative routes its rules in force declare, in words
    (only those of the rule that planned the step, `planned_by[code]`, when known)."""
    out: dict[str, list[str]] = {}
    for code in codes:
        rules = ruleset.rules_for(code, day) if ruleset else ()
        rule_id = (planned_by or {}).get(code)
        rules = tuple(r for r in rules if r.cite.id == rule_id) or rules
        notes = list(dict.fromkeys(r.alternative.note for r in rules if r.alternative))
        if notes:
            out[code] = notes
    return out
