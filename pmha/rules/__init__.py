"""The rule engine: country rule files in, requirement plans out. Pure: no Flask, no database."""

from pmha.rules.dates import add_months
from pmha.rules.engine import plan
from pmha.rules.errors import Problem, RuleFileError
from pmha.rules.facts import Facts, FactsError, Result, facts_to_dict
from pmha.rules.loader import check_rules, load_file, load_rules
from pmha.rules.model import FluSeason, RuleBook, RuleSet
from pmha.rules.plan import Outcome, Plan, PlanItem, Reason

__all__ = [
    "Facts",
    "FactsError",
    "FluSeason",
    "Outcome",
    "Plan",
    "PlanItem",
    "Problem",
    "Reason",
    "Result",
    "RuleBook",
    "RuleFileError",
    "RuleSet",
    "add_months",
    "check_rules",
    "facts_to_dict",
    "load_file",
    "load_rules",
    "plan",
]
