"""Is this X-ray of this applicant? The DICOM header's identity compared with the applicant's.

Pure: facts in, a field-by-field comparison out (no Flask, no database). Names are compared
with the project's name matching (pmha.cases.names), tolerant of transliteration (Latin or
Arabic script, Mohammed / Muhammad), word order (family and given names swapped) and missing
parts (a middle name on one side only). Two different words in the same place (Omar Yusuf /
Omar Khaled) are two people: in Arabic naming the middle name is the father's.

A field the header leaves out is shown as missing, and is not a mismatch by itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher

from pmha.cases import names
from pmha.exams.dicom import HeaderIdentity, HeaderName

SAME, DIFFERS, MISSING, OTHER = "same", "differs", "missing", "other"

# Our case numbers (pmha.cases: "<site code>-<six digits>"). A header ID of this form that is
# not the applicant's own names another case: that is a wrong patient. Any other ID is often
# the X-ray unit's own register number, shown but not held on its own.
_CASE_NUMBER = re.compile(r"^[A-Z0-9]{2,12}-\d{6}$")
_SEX_WORDS = {"M": "male", "F": "female", "O": "other"}


@dataclass(frozen=True)
class ApplicantIdentity:
    family_name: str
    given_names: str
    family_name_original: str | None
    given_names_original: str | None
    sex: str  # "male", "female" or "unknown"
    dob: date
    dob_estimated: bool
    case_number: str
    document_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldCheck:
    field: str  # "name", "sex", "birth_date", "patient_id"
    label: str  # what a radiologist calls it
    header: str  # the header's value, as shown
    applicant: str
    outcome: str  # SAME, DIFFERS, MISSING or OTHER
    words: str  # what differs, in words

    @property
    def holds(self) -> bool:
        return self.outcome == DIFFERS


@dataclass(frozen=True)
class IdentityCheck:
    fields: list[FieldCheck] = field(default_factory=list)

    @property
    def differs(self) -> list[str]:
        return [f.field for f in self.fields if f.holds]

    @property
    def missing(self) -> list[str]:
        return [f.field for f in self.fields if f.outcome == MISSING]

    @property
    def matched(self) -> bool:
        return not self.differs


def _latin(word: str) -> bool:
    return all(ord(ch) < 0x250 for ch in word if ch.isalpha())


def _outline(word: str) -> str:
    found = names.skeleton(word)
    return found[1:] if found.startswith("a") else found


def words_agree(a: str, b: str) -> bool:
    """One name word against another: spelling variants of the same name agree."""
    if _latin(a) and _latin(b):
        x, y = names.vowel_key(a), names.vowel_key(b)
        return bool(x) and (x == y or SequenceMatcher(None, x, y).ratio() >= names.MATCH_RATIO)
    x, y = _outline(a), _outline(b)
    return bool(x) and x == y


def _split(*parts: str | None) -> list[str]:
    return [w for p in parts if p for w in p.replace("-", " ").split()]


@dataclass(frozen=True)
class _NameVerdict:
    agrees: bool
    header_only: list[str]
    applicant_only: list[str]


def _compare_words(header: list[str], family: list[str], given: list[str]) -> _NameVerdict:
    left = list(header)
    header_only: list[str] = []
    matched_family = matched_given = False
    applicant = [(w, "family") for w in family] + [(w, "given") for w in given]
    unmatched = list(applicant)
    for word in left:
        hit = next((pair for pair in unmatched if words_agree(word, pair[0])), None)
        if hit is None:
            header_only.append(word)
            continue
        unmatched.remove(hit)
        if hit[1] == "family":
            matched_family = True
        elif given and hit[0] == given[0]:
            matched_given = True
    applicant_only = [w for w, _ in unmatched]
    # Missing parts on one side are tolerated; a different word on both sides is another person.
    agrees = (
        matched_family and (matched_given or not given) and not (header_only and applicant_only)
    )
    return _NameVerdict(agrees, header_only, applicant_only)


def _joined(words: list[str]) -> str:
    return names.vowel_key("".join(words)) if words and _latin("".join(words)) else ""


def compare_names(header: HeaderName, person: ApplicantIdentity) -> _NameVerdict:
    """The header's name against the applicant's, in Latin and in the original script."""
    words = _split(header.family, header.given, header.middle)
    best: _NameVerdict | None = None
    for family, given in (
        (person.family_name, person.given_names),
        (person.family_name_original, person.given_names_original),
    ):
        if not family and not given:
            continue
        f_words, g_words = _split(family), _split(given)
        verdict = _compare_words(words, f_words, g_words)
        # Spacing: Abdul Rahman / Abdulrahman, in either order.
        whole = _joined(words)
        if (
            not verdict.agrees
            and whole
            and whole
            in (
                _joined(f_words + g_words),
                _joined(g_words + f_words),
            )
        ):
            verdict = _NameVerdict(True, [], [])
        if verdict.agrees:
            return verdict
        if best is None:
            best = verdict
    return best or _NameVerdict(False, words, [])


def _name_check(header: HeaderIdentity, person: ApplicantIdentity) -> FieldCheck:
    shown = f"{person.family_name}, {person.given_names}"
    if person.family_name_original or person.given_names_original:
        original = " ".join(
            p for p in (person.family_name_original, person.given_names_original) if p
        )
        shown += f" ({original})"
    header_names = header.names()
    if not header_names:
        return FieldCheck(
            "name", "Name", "—", shown, MISSING, "The image's header gives no patient name."
        )
    verdicts = [compare_names(n, person) for n in header_names]
    header_shown = " = ".join(n.shown() for n in header_names)
    agreeing = next((v for v in verdicts if v.agrees), None)
    if agreeing is not None:
        words = "Same person's name"
        if agreeing.header_only or agreeing.applicant_only:
            extra = agreeing.header_only or agreeing.applicant_only
            where = "the image" if agreeing.header_only else "the applicant's record"
            words += f"; only {where} has “{' '.join(extra)}”"
        return FieldCheck("name", "Name", header_shown, shown, SAME, words + ".")
    verdict = verdicts[0]
    theirs, mine = " ".join(verdict.header_only), " ".join(verdict.applicant_only)
    if theirs and mine:
        words = f"Another name: the image says “{theirs}” where the applicant has “{mine}”."
    elif mine:
        # Only part of the name (e.g. the family name alone): a relative's image would match.
        words = (
            f"Only part of the name: the image has “{' '.join(header_names[0].words())}”, "
            f"without the applicant's “{mine}”."
        )
    else:
        words = "Another name."
    return FieldCheck("name", "Name", header_shown, shown, DIFFERS, words)


def _sex_check(header: HeaderIdentity, person: ApplicantIdentity) -> FieldCheck:
    mine = person.sex
    if header.sex is None:
        return FieldCheck("sex", "Sex", "—", mine, MISSING, "The image's header gives no sex.")
    theirs = _SEX_WORDS.get(header.sex, header.sex.lower())
    if mine == "unknown" or header.sex == "O":
        return FieldCheck("sex", "Sex", theirs, mine, OTHER, "Not compared (not recorded).")
    if theirs == mine:
        return FieldCheck("sex", "Sex", theirs, mine, SAME, "Same.")
    return FieldCheck(
        "sex", "Sex", theirs, mine, DIFFERS, f"The image is of a {theirs}; the applicant is {mine}."
    )


def _birth_check(header: HeaderIdentity, person: ApplicantIdentity) -> FieldCheck:
    mine = person.dob.isoformat() + (" (estimated)" if person.dob_estimated else "")
    label = "Date of birth"
    if header.birth_date is None:
        return FieldCheck(
            "birth_date", label, "—", mine, MISSING, "The image's header gives no date of birth."
        )
    theirs = header.birth_date.isoformat()
    if header.birth_date == person.dob:
        return FieldCheck("birth_date", label, theirs, mine, SAME, "Same.")
    if person.dob_estimated and header.birth_date.year == person.dob.year:
        # An estimated date of birth is often registered as 1 January of the year.
        return FieldCheck(
            "birth_date", label, theirs, mine, SAME, "Same year; the applicant's date is estimated."
        )
    return FieldCheck(
        "birth_date",
        label,
        theirs,
        mine,
        DIFFERS,
        f"Another date of birth: the image says {theirs}, the applicant was born {mine}.",
    )


def _normal(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def _id_check(header: HeaderIdentity, person: ApplicantIdentity) -> FieldCheck:
    ours = [person.case_number, *person.document_numbers]
    mine = " / ".join(ours)
    label = "Patient ID"
    if header.patient_id is None:
        return FieldCheck(
            "patient_id", label, "—", mine, MISSING, "The image's header gives no patient ID."
        )
    theirs = header.patient_id
    if _normal(theirs) in {_normal(n) for n in ours if n}:
        return FieldCheck("patient_id", label, theirs, mine, SAME, "Same.")
    if _CASE_NUMBER.match(theirs.strip().upper()):
        return FieldCheck(
            "patient_id",
            label,
            theirs,
            mine,
            DIFFERS,
            f"The image names another case ({theirs}); the applicant's case is "
            f"{person.case_number}.",
        )
    return FieldCheck(
        "patient_id",
        label,
        theirs,
        mine,
        OTHER,
        "Not one of the applicant's numbers (often the X-ray unit's own register number).",
    )


def compare(header: HeaderIdentity, person: ApplicantIdentity) -> IdentityCheck:
    """Name, sex, date of birth and patient ID, field by field, with what differs in words."""
    return IdentityCheck(
        [
            _name_check(header, person),
            _sex_check(header, person),
            _birth_check(header, person),
            _id_check(header, person),
        ]
    )
