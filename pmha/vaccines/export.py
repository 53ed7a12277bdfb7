"""Our stored vaccination records as `pmha.exports.immunization` records, for the HL7 adapter."""

from __future__ import annotations

from collections.abc import Sequence

from pmha.cases.models import Applicant
from pmha.exports.immunization import (
    Action,
    Facility,
    Identifier,
    ImmunizationRecord,
    Patient,
    Provider,
    VisDates,
)
from pmha.exports.immunization import RecordKind as HL7Kind
from pmha.vaccines.models import GIVEN_HERE, VaccinationRecord

_SEX = {"female": "F", "male": "M"}


def patient_of(applicant: Applicant, assigning_authority: str = "PMHA") -> Patient:
    """The applicant as the VXU's PID (identifiers: our applicant id, then each passport with
    its issuing country, HL70203 PPN)."""
    return Patient(
        identifier=str(applicant.id),
        assigning_authority=assigning_authority,
        family_name=applicant.family_name,
        given_name=applicant.given_names,
        birth_date=applicant.dob,
        sex=_SEX.get(applicant.sex.value, "U"),
        identifiers=tuple(
            Identifier(d.number, "PPN", d.issuing_country)
            for d in applicant.documents
            if d.doc_type.value == "passport"
        ),
    )


def to_immunization_records(
    applicant: Applicant, records: Sequence[VaccinationRecord]
) -> list[ImmunizationRecord]:
    """One ImmunizationRecord per stored record; a record marked deleted is sent as `D`."""
    location = Facility(applicant.case.site.code, applicant.case.site.name)
    out = []
    for r in records:
        here = r.kind in GIVEN_HERE
        vis: tuple[VisDates, ...] = ()
        if r.vis_published is not None and r.vis_given_on is not None:
            vis = (VisDates(r.vis_published, r.vis_given_on),)
        out.append(
            ImmunizationRecord(
                kind=HL7Kind(r.kind.value),
                immunization_id=str(r.id),
                occurred_at=r.given_at if r.given_at is not None else r.occurred_on,
                cvx=r.cvx,
                action=Action.DELETE if r.deleted_at is not None else Action.ADD,
                amount=r.amount if here else None,
                unit=r.unit or "",
                information_source=r.information_source or "",
                provider=Provider(str(r.administered_by))
                if here and r.administered_by is not None
                else None,
                location=location if here else None,
                lot=r.lot or "",
                lot_expiry=r.lot_expiry,
                mvx=r.mvx or "",
                refusal_reason=r.refusal_reason or "",
                route=r.route or "",
                site=r.body_site or "",
                vis=vis,
                immunity_disease=r.immunity_disease or "",
            )
        )
    return out
