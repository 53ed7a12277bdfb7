"""The CDC guide's conformance rules for a VXU^V04, one test each, with where the rule comes from.

Sources: "HL7 Version 2.5.1 Implementation Guide for Immunization Messaging, Release 1.5"
(CDC, 2014) and its 2018 update ("IG" below, [S37a]); the NIST/AIRA ONC 2015 test messages that
implement it ([S37b]); HL7 v2.5.1 itself for the base tables (0203, 0211). The guide's
statements are cited by segment, field and code table; we could not retrieve its numbered
conformance statement ids, so none are invented here. Synthetic patients only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace

import pytest

from pmha.codes import FUNDING_SOURCE, HL70064
from pmha.exports.hl7 import Hl7Error, build_vxu, parse_vxu, validate_strict
from pmha.exports.hl7 import selfcheck as demo
from pmha.exports.hl7.registry import (
    REGISTRY_FILE,
    RegistryFileError,
    complete,
    load,
    parse,
    registry,
)
from pmha.exports.immunization import (
    Action,
    Identifier,
    ImmunizationRecord,
    Patient,
    VisDates,
)
from pmha.vaccines.export import patient_of

MMR = demo._MMR  # MMR given here, VIS edition 2012-04-20 (a bar-coded edition)
TD = demo._TD  # Td given here, a VIS edition the registry file does not list
HISTORICAL, HISTORICAL_03, REFUSED, IMMUNITY, SUBPOTENT = demo._HISTORY
PATIENT = demo.PATIENTS["latin"]


def build(*records: ImmunizationRecord, patient: Patient = PATIENT, **kw: object) -> str:
    return build_vxu(patient, list(records), demo.SENDER, demo.RECEIVER, "C-1", demo.NOW, **kw)  # type: ignore[arg-type]


def fields(text: str, name: str, n: int = 0) -> list[str]:
    return [s for s in text.split("\r") if s.startswith(name + "|")][n].split("|")


def obx(text: str) -> list[list[str]]:
    return [s.split("|") for s in text.split("\r") if s.startswith("OBX|")]


def refused(*records: ImmunizationRecord, patient: Patient = PATIENT) -> list[str]:
    with pytest.raises(Hl7Error) as exc:
        build(*records, patient=patient)
    return [str(p) for p in exc.value.problems]


# --- MSH: message header ------------------------------------------------------------------------


def test_msh_names_the_vxu_message_structure():
    """IG, MSH-9: VXU^V04^VXU_V04 (message code, trigger event, structure)."""
    assert fields(build(MMR), "MSH")[8] == "VXU^V04^VXU_V04"


def test_msh_version_is_2_5_1():
    """IG, MSH-12: version id 2.5.1."""
    assert fields(build(MMR), "MSH")[11] == "2.5.1"


def test_msh_profile_is_z22():
    """IG, MSH-21: message profile identifier Z22^CDCPHINVS for a VXU (Z23 is the ACK's)."""
    assert fields(build(MMR), "MSH")[20] == "Z22^CDCPHINVS"


def test_msh_character_set_is_unicode_utf8():
    """HL7 v2.5.1 table 0211, MSH-18: names can be in any script, so the message declares
    UNICODE UTF-8 (and is sent as UTF-8 bytes)."""
    assert fields(build(MMR), "MSH")[17] == "UNICODE UTF-8"


def test_msh_processing_and_acknowledgement():
    """IG, MSH-11 P (production), MSH-15 ER and MSH-16 AL as in the NIST messages [S37b]."""
    msh = fields(build(MMR), "MSH")
    assert (msh[10], msh[14], msh[15]) == ("P", "ER", "AL")


def test_msh_time_is_to_the_second_with_its_offset():
    """IG, MSH-7: the message's date/time, to the second, with the sender's UTC offset."""
    assert fields(build(MMR), "MSH")[6] == "20250310120000+0300"


def test_msh_control_id_is_required_and_short():
    """IG, MSH-10: message control id, required, at most 20 characters."""
    with pytest.raises(Hl7Error, match="MSH-10"):
        build_vxu(PATIENT, [MMR], demo.SENDER, demo.RECEIVER, "x" * 21, demo.NOW)


# --- PID: patient identification ----------------------------------------------------------------


def test_pid3_carries_our_record_number_then_the_passport():
    """IG, PID-3 (CX, repeating): each identifier with its assigning authority (CX-4) and type
    (CX-5, HL70203): our record number as MR, the passport as PPN with its issuing country."""
    assert fields(build(MMR), "PID")[3] == "demo-1^^^IST^MR~U12345678^^^TR^PPN"


def test_the_export_sends_every_passport_of_the_applicant():
    """The VXU the export builds names the applicant by passport, not by our UUID alone."""
    applicant = SimpleNamespace(
        id="0b0e4f3c-0000-4000-8000-000000000001",
        family_name="Demir",
        given_names="Ayşe",
        dob=dt.date(2012, 1, 2),
        sex=SimpleNamespace(value="female"),
        documents=[
            SimpleNamespace(doc_type=SimpleNamespace(value="passport"), number="U1",
                            issuing_country="TR"),
            SimpleNamespace(doc_type=SimpleNamespace(value="unhcr_registration"), number="X",
                            issuing_country="TR"),
        ],
    )  # fmt: skip
    patient = patient_of(applicant, "IST")  # type: ignore[arg-type]
    assert patient.identifiers == (Identifier("U1", "PPN", "TR"),)
    assert fields(build(MMR, patient=patient), "PID")[3].endswith("~U1^^^TR^PPN")


@pytest.mark.parametrize(
    ("identifier", "field"),
    [
        (Identifier("U1", "PPN", ""), "PID-3.4"),
        (Identifier("U1", "PPN", "Turkey"), "PID-3.4"),
        (Identifier("U1", "XX", "TR"), "PID-3.5"),
        (Identifier("", "PPN", "TR"), "PID-3.1"),
    ],
)
def test_pid3_repetitions_need_a_value_a_type_and_an_authority(identifier, field):
    """IG, PID-3: CX-1, CX-4 and CX-5 are required in each repetition; HL70203 types only."""
    patient = dataclasses.replace(PATIENT, identifiers=(identifier,))
    assert any(p.startswith(f"{field} ") for p in refused(MMR, patient=patient))


def test_pid3_does_not_repeat_an_identifier():
    patient = dataclasses.replace(PATIENT, identifiers=PATIENT.identifiers * 2)
    assert "PID-3 (patient identifier) is repeated" in refused(MMR, patient=patient)


@pytest.mark.parametrize("name", list(demo.PATIENTS))
def test_names_in_any_script_pass_strict_and_read_back(name):
    """IG, PID-5 (XPN, name type L); HL7 v2.5.1 2.7 escape sequences for the delimiters;
    UTF-8 for everything else (MSH-18)."""
    patient = demo.PATIENTS[name]
    text = build(MMR, patient=patient)
    validate_strict(text)
    assert text.encode("utf-8").decode("utf-8") == text
    assert parse_vxu(text)[0] == patient


def test_delimiters_in_a_name_are_escaped():
    """HL7 v2.5.1 2.7: \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ for | ^ & ~ and the escape itself."""
    name = fields(build(MMR, patient=demo.PATIENTS["delimiters"]), "PID")[5]
    assert name == "O'Hara\\F\\Smith \\T\\ Co^A\\S\\B\\R\\C\\E\\D^^^^^L"


# --- ORC / RXA: one order group per immunization --------------------------------------------------


def test_each_rxa_has_its_own_orc_with_a_filler_order_number():
    """IG, VXU structure: ORC (ORC-1 RE, ORC-3 unique immunization id) before each RXA."""
    text = build(MMR, TD, *demo._HISTORY)
    names = [s[:3] for s in text.split("\r") if s]
    assert names.count("ORC") == names.count("RXA") == 7
    assert all(names[i - 1] == "ORC" for i, n in enumerate(names) if n == "RXA")
    assert fields(text, "ORC")[1] == "RE" and fields(text, "ORC")[3] == "demo-mmr-1^IST"


def test_rxa_constants():
    """IG, RXA-1 sub-id counter 0 and RXA-2 administration sub-id counter 1."""
    rxa = fields(build(MMR), "RXA")
    assert rxa[1:3] == ["0", "1"]


# --- OBX: funding program eligibility and funding source -----------------------------------------


def test_an_administered_dose_carries_its_funding_program_eligibility():
    """IG (2018 update), OBX for 64994-7 'Vaccine funding program eligibility category': CE,
    value from HL70064, OBX-14 the date of the observation, OBX-17 VXC40 (eligibility captured
    at the immunization level), one sub-id of its own. Pattern: NIST ONC 2015 messages [S37b]."""
    [found] = [o for o in obx(build(MMR)) if o[3].startswith("64994-7^")]
    assert found[2] == "CE" and found[5] == "V01^Not VFC eligible^HL70064"
    assert found[11] == "F" and found[14] == "20250310"
    assert found[17] == "VXC40^Eligibility captured at the immunization level^CDCPHINVS"


def test_an_administered_dose_carries_its_funding_source():
    """IG (2018 update), OBX for 30963-3 'Vaccine funding source': CE, CDCPHINVS value set."""
    [found] = [o for o in obx(build(MMR)) if o[3].startswith("30963-3^")]
    assert found[2] == "CE" and found[5] == "VXC50^Public^CDCPHINVS" and found[14] == "20250310"


def test_a_subpotent_dose_given_here_carries_them_too():
    codes = [o[3].split("^")[0] for o in obx(build(SUBPOTENT))]
    assert {"64994-7", "30963-3"} <= set(codes)


@pytest.mark.parametrize("record", [HISTORICAL, HISTORICAL_03, REFUSED, IMMUNITY],
                         ids=lambda r: r.kind.value)  # fmt: skip
def test_historical_and_other_records_carry_no_funding(record):
    """IG: eligibility and funding are reported for doses administered by the sender (RXA-9
    00), not for historical (01-08) or refused doses."""
    codes = [o[3].split("^")[0] for o in obx(build(record))]
    assert "64994-7" not in codes and "30963-3" not in codes


def test_funding_on_a_historical_record_is_refused():
    record = dataclasses.replace(HISTORICAL, eligibility="V01", funding_source="VXC50")
    found = refused(record)
    assert any("64994-7" in p and "not for a historical dose" in p for p in found)
    assert any("30963-3" in p and "not for a historical dose" in p for p in found)


def test_funding_values_come_from_the_registry_file_per_destination_and_centre():
    """The values for a centre abroad are configuration [U], never code: the destination's entry,
    overridden by the centre's own."""
    data = {
        "sources": {"S": {}},
        "funding": [
            {"destination": "US", "eligibility": "V01", "funding_source": "VXC50", "source": ["S"]},
            {"destination": "US", "centre": "IST", "eligibility": "V01",
             "funding_source": "PHC70", "source": ["S"]},
        ],
    }  # fmt: skip
    found = parse(data)
    [record] = complete([TD], found, "US", "IST")
    assert (record.eligibility, record.funding_source) == ("V01", "PHC70")
    [record] = complete([TD], found, "US", "AMM")
    assert (record.eligibility, record.funding_source) == ("V01", "VXC50")
    text = build(TD, registry_file=found)
    assert any(o[5] == "PHC70^Private^CDCPHINVS" for o in obx(text))


def test_a_destination_without_funding_values_is_refused_naming_the_file():
    """The export job refuses rather than send an administered dose without them."""
    empty = parse({"sources": {}})
    with pytest.raises(Hl7Error) as exc:
        build(TD, registry_file=empty)
    assert "country_rules/hl7/vxu.toml" in str(exc.value) and "'US'" in str(exc.value)


@pytest.mark.parametrize(
    ("change", "words"),
    [({"eligibility": "V99"}, "not an HL70064 code"), ({"funding_source": "VXC9"}, "CDCPHINVS")],
)
def test_unknown_funding_codes_are_refused(change, words):
    assert any(words in p for p in refused(dataclasses.replace(MMR, **change)))


# --- OBX: Vaccine Information Statements ----------------------------------------------------


def test_a_known_vis_edition_is_sent_by_its_document_bar_code():
    """IG, VIS reporting: the VIS document type (69764-9, CE, cdcgs1vis: the VIS bar code's
    GDTI) with the date presented (29769-7), grouped by OBX-4; the edition is in the code, so
    no publication date is sent. Pattern: NIST ONC 2015 messages [S37b]."""
    found = obx(build(MMR))
    document = [o for o in found if o[3].startswith("69764-9^")]
    presented = [o for o in found if o[3].startswith("29769-7^")]
    assert [o[5] for o in document] == [
        "253088698300012711120420^Measles/Mumps/Rubella VIS^cdcgs1vis"
    ]
    assert [o[5] for o in presented] == ["20250310"] and presented[0][4] == document[0][4]
    assert not [o for o in found if o[3].startswith(("29768-9^", "30956-7^"))]


def test_an_unknown_vis_edition_is_sent_by_vaccine_type_and_edition_date():
    """IG, VIS reporting, the alternative: vaccine type (30956-7, CVX), VIS publication date
    (29768-9) and presented date (29769-7), one OBX-4 sub-id for the three."""
    found = [o for o in obx(build(TD)) if o[3].split("^")[0] in ("30956-7", "29768-9", "29769-7")]
    assert [o[3].split("^")[0] for o in found] == ["30956-7", "29768-9", "29769-7"]
    assert found[0][5].startswith("09^") and found[0][5].endswith("^CVX")
    assert found[1][5] == "20240806" and found[2][5] == "20250310"
    assert len({o[4] for o in found}) == 1


def test_two_vis_are_two_sub_id_groups():
    """IG: each VIS is its own OBX-4 group (a combination vaccine may have several)."""
    record = dataclasses.replace(TD, vis=(TD.vis[0], MMR.vis[0]))
    found = obx(build(record))
    groups = {o[4] for o in found if o[3].startswith(("30956-7", "29768-9", "29769-7"))}
    assert len(groups) == 2


def test_obx_set_ids_count_and_sub_ids_are_unique_per_observation_group():
    """HL7 v2.5.1 OBX-1 (set id, 1..n in the order group) and OBX-4 (sub-id grouping)."""
    found = obx(build(MMR))
    assert [o[1] for o in found] == [str(n) for n in range(1, len(found) + 1)]
    by_code = {o[3].split("^")[0]: o[4] for o in found}
    assert by_code["30963-3"] != by_code["64994-7"] != by_code["69764-9"]
    assert by_code["69764-9"] == by_code["29769-7"]


def test_a_vis_document_of_another_edition_is_refused():
    vis = VisDates(dt.date(2013, 1, 1), dt.date(2025, 3, 10), "253088698300012711120420")
    assert any("is the edition of 2012-04-20" in p
               for p in refused(dataclasses.replace(MMR, vis=(vis,))))  # fmt: skip


def test_a_vis_document_of_another_vaccine_is_refused():
    vis = VisDates(dt.date(2012, 4, 20), dt.date(2025, 3, 10), "253088698300012711120420")
    assert any("is not the VIS of CVX 09" in p
               for p in refused(dataclasses.replace(TD, vis=(vis,))))  # fmt: skip


def test_a_vis_code_that_is_not_a_gdti_is_refused():
    vis = VisDates(dt.date(2012, 4, 20), dt.date(2025, 3, 10), "MMR-2012")
    assert any("not a cdcgs1vis code" in p for p in refused(dataclasses.replace(MMR, vis=(vis,))))


def test_a_vis_document_read_back_gives_its_edition():
    """A registry extract naming a VIS by bar code only: the edition comes from the code."""
    text = build(MMR).replace("253088698300012711120420", "253088698300012711210806")
    [record] = parse_vxu(text)[1]
    assert record.vis == (VisDates(dt.date(2021, 8, 6), dt.date(2025, 3, 10),
                                   "253088698300012711210806"),)  # fmt: skip


# --- updates and deletes ----------------------------------------------------------------------


@pytest.mark.parametrize("action", [Action.UPDATE, Action.DELETE])
def test_update_and_delete_messages_keep_the_observations(action):
    """IG, RXA-21 (HL70323): U and D send the record as it is, observations included."""
    text = build(dataclasses.replace(MMR, action=action))
    assert fields(text, "RXA")[21] == action.value
    assert {"64994-7", "30963-3", "69764-9"} <= {o[3].split("^")[0] for o in obx(text)}
    validate_strict(text)


# --- hl7apy STRICT and the registry file ----------------------------------------------------------


@pytest.mark.parametrize("name", list(demo.MESSAGES))
def test_every_demo_message_passes_hl7apy_strict_and_the_guide(name):
    """hl7apy VALIDATION_LEVEL.STRICT parse + validate() of every demo VXU (what
    scripts/check-vxu.sh runs in CI), the guide's checks, and an exact read-back."""
    demo.check(name)


def test_the_selfcheck_reports_each_message(capsys):
    assert demo.main() == 0
    assert capsys.readouterr().out.count("ok   ") == len(demo.MESSAGES)


def test_the_project_registry_file_loads_with_known_codes_only():
    found = load(REGISTRY_FILE)
    assert found is not None and registry().funding
    for funding in found.funding.values():
        assert funding.eligibility in HL70064 and funding.funding_source in FUNDING_SOURCE
    assert {d for d, _ in found.funding} >= {"US", "CA", "GB", "AU", "NZ"}


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"funding": [{"destination": "US", "eligibility": "V9", "funding_source": "VXC50",
                       "source": ["S"]}]}, "not an HL70064 code"),
        ({"funding": [{"destination": "US", "eligibility": "V01", "funding_source": "VXC50",
                       "source": ["T"]}]}, "source 'T' is not in [sources]"),
        ({"funding": [{"destination": "US", "eligibility": "V01", "funding_source": "VXC50"}]},
         "cites no source"),
        ({"vis_document": [{"gdti": "253088698300012711120420", "name": "MMR",
                            "edition": dt.date(2012, 4, 21), "cvx": ["03"], "source": ["S"]}]},
         "edition must be the date the code ends with"),
        ({"vis_document": [{"gdti": "12345", "name": "MMR", "edition": dt.date(2012, 4, 20),
                            "source": ["S"]}]}, "24 digits"),
    ],
)  # fmt: skip
def test_a_bad_registry_file_is_refused_naming_the_entry(entry, words):
    with pytest.raises(RegistryFileError, match=words.replace("[", r"\[").replace("]", r"\]")):
        parse({"sources": {"S": {}}, **entry})
