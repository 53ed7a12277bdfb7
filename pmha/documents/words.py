"""Words every applicant-facing document shares, translated where the language is known.

The English text is the catalogue's key (pmha/translations); `pmha.core.i18n.words(lang)` turns it
into Turkish or Arabic. Country names come from the CLDR data Babel ships (no hand translation).
"""

from __future__ import annotations

from datetime import date

from babel import Locale
from babel.core import UnknownLocaleError

from pmha.cases.models import Applicant
from pmha.core.i18n import N_, Words

SEX = {"female": N_("Female"), "male": N_("Male"), "unknown": N_("Unknown")}
PROGRAMMES = {
    "immigrant": N_("immigrant"),
    "refugee": N_("refugee"),
    "humanitarian": N_("humanitarian"),
    "temporary": N_("temporary"),
    "student": N_("student"),
    "family_reunification": N_("family reunification"),
}


def country(code: str, lang: str) -> str:
    """The country's name in the document's language (CLDR), or the code if Babel has none."""
    try:
        return str(Locale.parse(lang).territories.get(code.upper(), code))
    except (UnknownLocaleError, ValueError):
        return code


def iso(day: date | None) -> str:
    """Dates as ISO 8601 in every language: unambiguous to the applicant and the authority."""
    return day.isoformat() if day else "-"


def person_rows(t: Words, a: Applicant) -> list[tuple[str, str]]:
    """Name, date of birth, sex and case number: the lines that say whom a document is about."""
    return [
        (t("Name"), f"{a.family_name.upper()}, {a.given_names}"),
        (t("Date of birth"), iso(a.dob)),
        (t("Sex"), t(SEX.get(a.sex.value, a.sex.value))),
        (t("Case"), a.case.case_number),
    ]
