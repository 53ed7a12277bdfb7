"""VXU^V04 adapter: the CDC guide's patterns (BRIEF §8.3), escaping, round trips, batches,
bad input.

Synthetic patients only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from pmha.exports.hl7 import (
    Hl7Error,
    build_batch,
    build_vxu,
    parse_vxu,
    split_batch,
    validate_strict,
)
from pmha.exports.immunization import (
    Action,
    Facility,
    ImmunizationRecord,
    Patient,
    Provider,
    RecordKind,
    VisDates,
)

NOW = dt.datetime(2025, 3, 10, 12, 0)
SENDER = Facility("IOMTR", application="PMHA")
RECEIVER = Facility("USIIS", application="IIS")
PATIENT = Patient("TST-0001", "PMHA", "Testperson", "Ada", dt.date(2010, 1, 2), "F")

ADMINISTERED = ImmunizationRecord(
    RecordKind.ADMINISTERED,
    "IMM-1",
    dt.date(2025, 3, 10),
    "03",
    vaccine_name="MMR",
    amount=Decimal("0.5"),
    unit="mL",
    provider=Provider("N1", "Nurse", "Zed"),
    location=Facility("IST"),
    lot="LOT123",
    lot_expiry=dt.date(2026, 12, 31),
    mvx="MSD",
    route="SC",
    site="LA",
    vis=(VisDates(dt.date(2021, 8, 6), dt.date(2025, 3, 10)),),
    dose_number=1,
    eligibility="V01",
    funding_source="VXC50",
)
HISTORICAL = ImmunizationRecord(
    RecordKind.HISTORICAL, "IMM-2", dt.date(2015, 6, 1), "20", information_source="01"
)
REFUSED = ImmunizationRecord(
    RecordKind.REFUSED, "IMM-3", dt.date(2025, 3, 10), "88", refusal_reason="00"
)
IMMUNITY = ImmunizationRecord(
    RecordKind.EVIDENCE_OF_IMMUNITY,
    "IMM-4",
    dt.date(2025, 3, 10),
    "998",
    immunity_disease="38907003",
)
SUBPOTENT = dataclasses.replace(
    ADMINISTERED,
    kind=RecordKind.SUBPOTENT,
    immunization_id="IMM-5",
    cvx="10",
    vaccine_name="IPV",
    mvx="PMC",
    route="IM",
    site="RD",
    vis=(),
    dose_number=None,
)
ALL_KINDS = [ADMINISTERED, HISTORICAL, REFUSED, IMMUNITY, SUBPOTENT]


def build(*records: ImmunizationRecord, patient: Patient = PATIENT) -> str:
    return build_vxu(patient, list(records), SENDER, RECEIVER, "CTRL-1", NOW)


def segments(text: str) -> list[str]:
    return [s for s in text.split("\r") if s]


def segment(text: str, name: str, n: int = 0) -> str:
    return [s for s in segments(text) if s.startswith(name + "|")][n]


def problems_of(exc: pytest.ExceptionInfo[Hl7Error]) -> list[str]:
    return [str(p) for p in exc.value.problems]


# --- header and patient ----------------------------------------------------------------------


def test_header_names_the_profile_and_version():
    text = build(ADMINISTERED)
    assert text.endswith("\r") and "\n" not in text
    assert segment(text, "MSH") == (
        "MSH|^~\\&|PMHA|IOMTR|IIS|USIIS|20250310120000||VXU^V04^VXU_V04|CTRL-1|P|2.5.1"
        "|||ER|AL||UNICODE UTF-8|||Z22^CDCPHINVS"
    )
    assert segment(text, "PID") == "PID|1||TST-0001^^^PMHA^MR||Testperson^Ada^^^^^L||20100102|F"


def test_one_orc_per_rxa_in_order():
    text = build(*ALL_KINDS)
    names = [s[:3] for s in segments(text)]
    assert names.count("ORC") == names.count("RXA") == 5
    assert all(names[i + 1] == "RXA" for i, n in enumerate(names) if n == "ORC")
    assert segment(text, "ORC", 2) == "ORC|RE||IMM-3^IOMTR"


# --- the guide's patterns (BRIEF §8.3) ------------------------------------------------------------


def test_administered_pattern():
    text = build(ADMINISTERED)
    assert segment(text, "RXA") == (
        "RXA|0|1|20250310|20250310|03^MMR^CVX|0.5|mL^mL^UCUM||00^New immunization record^NIP001"
        "|N1^Nurse^Zed|^^^IST||||LOT123|20261231|MSD^Merck and Co., Inc.^MVX|||CP|A"
    )
    assert segment(text, "RXR") == "RXR|SC^Subcutaneous^HL70162|LA^Left Arm^HL70163"
    obx = [s for s in segments(text) if s.startswith("OBX")]
    assert obx == [
        "OBX|1|CE|30963-3^Vaccine funding source^LN|1|VXC50^Public^CDCPHINVS||||||F|||20250310",
        "OBX|2|CE|64994-7^Vaccine funding program eligibility category^LN|2"
        "|V01^Not VFC eligible^HL70064||||||F|||20250310"
        "|||VXC40^Eligibility captured at the immunization level^CDCPHINVS",
        "OBX|3|CE|30956-7^Vaccine type^LN|3|03^MMR^CVX||||||F|||20250310",
        "OBX|4|TS|29768-9^Date vaccine information statement published^LN|3|20210806||||||F"
        "|||20250310",
        "OBX|5|TS|29769-7^Date vaccine information statement presented^LN|3|20250310||||||F"
        "|||20250310",
        "OBX|6|NM|30973-2^Dose number in series^LN|4|1||||||F",
    ]


def test_historical_pattern():
    rxa = segment(build(HISTORICAL), "RXA").split("|")
    assert rxa[5] == "20^DTaP^CVX"
    assert rxa[6] == "999"
    assert rxa[9] == "01^Historical information - source unspecified^NIP001"
    assert rxa[15] == "" and rxa[17] == ""
    assert rxa[20:] == ["CP", "A"]
    assert "RXR" not in build(HISTORICAL)


@pytest.mark.parametrize("source", ["02", "03", "04", "05", "06", "07", "08"])
def test_historical_sources(source):
    record = dataclasses.replace(HISTORICAL, information_source=source)
    rxa = segment(build(record), "RXA").split("|")
    assert rxa[9].startswith(f"{source}^Historical information - ")


def test_refusal_pattern():
    rxa = segment(build(REFUSED), "RXA").split("|")
    assert rxa[5].startswith("88^") and rxa[6] == "999"
    assert rxa[18] == "00^Parental decision^NIP002"
    assert rxa[20] == "RE"


def test_evidence_of_immunity_pattern():
    text = build(IMMUNITY)
    rxa = segment(text, "RXA").split("|")
    assert rxa[5] == "998^no vaccine administered^CVX" and rxa[6] == "999" and rxa[20] == "NA"
    assert segment(text, "OBX") == (
        "OBX|1|CE|59784-9^Disease with presumed immunity^LN|1|38907003^Varicella^SCT||||||F"
    )  # the SNOMED CT term as its text (issue 15: every code leaves with its display)


def test_subpotent_pattern():
    rxa = segment(build(SUBPOTENT), "RXA").split("|")
    assert rxa[20] == "PA" and rxa[15] == "LOT123" and rxa[17].startswith("PMC^")


@pytest.mark.parametrize("action", [Action.UPDATE, Action.DELETE])
def test_update_and_delete_keep_the_immunization_id(action):
    text = build(dataclasses.replace(ADMINISTERED, action=action))
    assert segment(text, "RXA").endswith(f"|CP|{action.value}")
    assert segment(text, "ORC") == "ORC|RE||IMM-1^IOMTR"


@pytest.mark.parametrize("record", ALL_KINDS, ids=lambda r: r.kind.value)
def test_each_pattern_passes_hl7apy_strict_validation(record):
    validate_strict(build(record))


def test_a_full_history_passes_hl7apy_strict_validation():
    validate_strict(build_vxu(PATIENT, ALL_KINDS, SENDER, RECEIVER, "C", NOW, strict=True))


# --- escaping ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["O^Hara", "Pipe|Name", "Smith & Sons", "Back\\slash", "Tilde~"])
def test_delimiters_in_values_are_escaped_and_read_back(name):
    patient = dataclasses.replace(PATIENT, family_name=name, given_name=name)
    text = build(dataclasses.replace(ADMINISTERED, lot=name), patient=patient)
    pid = segment(text, "PID").split("|")
    assert len(pid) == 9 and pid[5].count("^") == 6
    validate_strict(text)
    parsed_patient, records = parse_vxu(text)
    assert parsed_patient.family_name == name and parsed_patient.given_name == name
    assert records[0].lot == name


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("record", ALL_KINDS, ids=lambda r: r.kind.value)
def test_round_trip_each_kind(record):
    assert parse_vxu(build(record)) == (PATIENT, [record])


def test_round_trip_a_history_with_times_zones_updates_and_deletes():
    tz = dt.timezone(dt.timedelta(hours=3))
    records = [
        dataclasses.replace(ADMINISTERED, occurred_at=dt.datetime(2025, 3, 10, 9, 30, tzinfo=tz)),
        dataclasses.replace(HISTORICAL, action=Action.UPDATE),
        dataclasses.replace(REFUSED, action=Action.DELETE, refusal_reason="03"),
        IMMUNITY,
        SUBPOTENT,
    ]
    patient = dataclasses.replace(PATIENT, middle_name="Q", sex="U")
    assert parse_vxu(build(*records, patient=patient)) == (patient, records)


# --- batches ----------------------------------------------------------------------------------


def test_batch_counts_messages():
    messages = [build(ADMINISTERED), build(HISTORICAL), build(REFUSED)]
    text = build_batch(messages, SENDER, RECEIVER, "B-1", NOW)
    names = [s[:3] for s in segments(text)]
    assert names[:2] == ["FHS", "BHS"] and names[-2:] == ["BTS", "FTS"]
    assert names.count("MSH") == 3
    assert segment(text, "BTS") == "BTS|3|" and segment(text, "FTS") == "FTS|1|"
    assert segment(text, "BHS").split("|")[10] == "B-1"
    assert split_batch(text) == messages


def test_an_empty_batch_counts_zero():
    assert segment(build_batch([], SENDER, RECEIVER, "B-0", NOW), "BTS") == "BTS|0|"


def test_a_batch_whose_count_is_wrong_is_refused():
    text = build_batch([build(ADMINISTERED)], SENDER, RECEIVER, "B-1", NOW).replace(
        "BTS|1", "BTS|2"
    )
    with pytest.raises(Hl7Error, match="BTS-1"):
        split_batch(text)


def test_a_batch_of_something_else_is_refused():
    with pytest.raises(Hl7Error, match="does not start with MSH"):
        build_batch(["PID|1"], SENDER, RECEIVER, "B-1", NOW)


# --- bad input to build -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"cvx": "9999"}, "RXA-5", "not a known CVX code"),
        ({"mvx": "ZZZ"}, "RXA-17", "not a known MVX code"),
        ({"occurred_at": dt.date(2025, 3, 11)}, "RXA-3", "in the future"),
        ({"occurred_at": dt.datetime(2025, 3, 10, 12, 30)}, "RXA-3", "in the future"),
        ({"occurred_at": dt.date(2009, 1, 1)}, "RXA-3", "before the date of birth"),
        ({"lot": ""}, "RXA-15", "(lot) is required for an administered dose"),
        ({"mvx": ""}, "RXA-17", "required for an administered dose"),
        ({"amount": None}, "RXA-6", "required"),
        ({"route": ""}, "RXR-1", "required"),
        ({"route": "XX"}, "RXR-1", "HL70162"),
        ({"site": "XX"}, "RXR-2", "HL70163"),
        ({"lot_expiry": dt.date(2025, 3, 9)}, "RXA-16", "expired"),
        ({"information_source": "01"}, "RXA-9", "must be 00"),
        ({"immunization_id": ""}, "ORC-3", "required"),
        ({"dose_number": 0}, "OBX-5", "dose number"),
        ({"refusal_reason": "00"}, "RXA-18", "only for a refusal"),
    ],
)
def test_bad_administered_dose(change, field, words):
    with pytest.raises(Hl7Error) as exc:
        build(dataclasses.replace(ADMINISTERED, **change))
    assert any(p.startswith(f"record 1: {field} ") and words in p for p in problems_of(exc))


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (dataclasses.replace(HISTORICAL, information_source="00"), "RXA-9"),
        (dataclasses.replace(HISTORICAL, information_source="09"), "RXA-9"),
        (dataclasses.replace(HISTORICAL, amount=Decimal("0.5"), unit="mL"), "RXA-6"),
        (dataclasses.replace(REFUSED, refusal_reason=""), "RXA-18"),
        (dataclasses.replace(REFUSED, refusal_reason="77"), "RXA-18"),
        (dataclasses.replace(IMMUNITY, cvx="03"), "RXA-5"),
        (dataclasses.replace(IMMUNITY, immunity_disease=""), "OBX-5"),
        (dataclasses.replace(HISTORICAL, cvx="998"), "RXA-5"),
        (dataclasses.replace(HISTORICAL, route="IM"), "RXR"),
    ],
)
def test_bad_other_kinds(record, field):
    with pytest.raises(Hl7Error) as exc:
        build(record)
    assert any(p.startswith(f"record 1: {field} ") for p in problems_of(exc))


def test_every_problem_is_listed_with_its_record():
    bad_patient = dataclasses.replace(PATIENT, sex="X", birth_date=dt.date(2030, 1, 1))
    with pytest.raises(Hl7Error) as exc:
        build_vxu(
            bad_patient,
            [HISTORICAL, dataclasses.replace(ADMINISTERED, lot="", mvx="ZZZ"), HISTORICAL],
            SENDER,
            RECEIVER,
            "",
            NOW,
        )
    found = problems_of(exc)
    assert "MSH-10 (message control id) is required" in found
    assert any(p.startswith("PID-8 ") for p in found)
    assert any(p.startswith("PID-7 ") for p in found)
    assert "record 2: RXA-15 (lot) is required for an administered dose" in found
    assert any(p.startswith("record 2: RXA-17 ") for p in found)
    assert "record 3: ORC-3 (unique immunization id) is repeated" in found


def test_a_message_without_records_is_refused():
    with pytest.raises(Hl7Error, match="at least one immunization"):
        build()


# --- bad input to parse -----------------------------------------------------------------------

GOOD = build(ADMINISTERED, HISTORICAL)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "MSH"),
        ("hello, world", "MSH"),
        ("%PDF-1.7 not a message", "MSH"),
        (GOOD[:40], "MSH-9"),
        (GOOD.replace("VXU^V04^VXU_V04", "ADT^A01^ADT_A01"), "MSH-9"),
        ("\r".join(s for s in GOOD.split("\r") if not s.startswith("PID")), "PID"),
        (GOOD.replace("||20100102|", "||2010-01-02|"), "PID-7"),
        (GOOD.replace("|20150601|20150601|", "|20151301|20151301|"), "RXA-3"),
        (GOOD.replace("|20261231|", "|31/12/2026|"), "RXA-16"),
        (GOOD.replace("|0.5|", "|half|"), "RXA-6"),
        (GOOD.replace("|CP|A", "|CP|X", 1), "RXA-21"),
        (GOOD.replace("|CP|A", "|XX|A", 1), "RXA-20"),
        (GOOD.replace("03^MMR^CVX", ""), "RXA-5"),
    ],
)
def test_malformed_vxu_is_refused_naming_the_field(text, field):
    with pytest.raises(Hl7Error) as exc:
        parse_vxu(text)
    assert exc.value.problems[0].field == field, str(exc.value)


def test_truncated_message_keeps_what_is_there():
    truncated = GOOD[: GOOD.index("ORC|RE||IMM-2")]
    patient, records = parse_vxu(truncated)
    assert patient == PATIENT and records == [ADMINISTERED]


def test_registry_extract_from_another_system_is_read_tolerantly():
    # LF separators, MLLP framing, no RXA-4, extra segments we do not use, NDC-style units.
    extract = "\n".join(
        [
            "\x0bMSH|^~\\&|OTHERIIS|STATE|||20240102||VXU^V04|X99|P|2.5.1",
            "PID|1||987^^^STATEIIS^SR~555^^^SSA^SS||Sample^Bo||20120304|M",
            "PD1|||||||||||02^Reminder/recall - any method^HL70215",
            "NK1|1|Sample^Mum|MTH^Mother^HL70063",
            "ORC|RE||R-1^STATEIIS",
            "RXA|0|1|20130304||08^Hep B ped^CVX|999|||01^Historical^NIP001",
            "ORC|RE||R-2^STATEIIS",
            "RXA|0|1|20230304||21^varicella^CVX|0.5|mL^^UCUM||00^New^NIP001||||||V1|20240101|MSD",
            "RXR|SC",
            "OBX|1|CE|64994-7^Eligibility^LN|1|V02^VFC^HL70064||||||F",
            "\x1c",
        ]
    )
    patient, records = parse_vxu(extract)
    assert patient.identifier == "987" and patient.assigning_authority == "STATEIIS"
    assert [r.kind for r in records] == [RecordKind.HISTORICAL, RecordKind.ADMINISTERED]
    assert records[0].occurred_at == dt.date(2013, 3, 4) and records[0].amount is None
    assert records[1].lot == "V1" and records[1].mvx == "MSD" and records[1].route == "SC"
    assert records[1].immunization_id == "R-2"


# --- the compiled hl7apy structure check ----------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("|CP|A", "|CP~PA|A", "RXA-20"),  # does not repeat
        ("RXA|0|1|20250310|20250310|", "RXA|0|1|20250310||", "RXA-4"),  # required in v2.5.1
        ("|0.5|mL", "|0,5|mL", "RXA-6"),  # NM
        ("||F", "||", "OBX-11"),  # required
        ("ORC|RE||IMM-1^IOMTR", "ORC|RE||IMM-1^IOMTR\rRXR|IM", "VXU_V04"),  # order
    ],
)
def test_structure_check_agrees_with_hl7apy(old, new, field):
    from pmha.exports.hl7.structure import check_structure

    text = build(ADMINISTERED).replace(old, new, 1)
    assert any(p.field == field for p in check_structure(text)), check_structure(text)
    with pytest.raises(Hl7Error):
        validate_strict(text)
