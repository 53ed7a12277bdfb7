"""Who may call what: every route of the app, with every role, anonymous, and a foreign site.

The table below has one row per (endpoint, method) the app serves; a route without a row fails
`test_every_route_has_a_row_in_the_table`. Each (route, caller) pair is its own test.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmha.accounts import service as accounts
from pmha.accounts.models import ApiToken
from pmha.accounts.signatures import trusted_signature
from pmha.cases import photos
from pmha.cases.models import Applicant, FamilyCase
from pmha.core.auth import PERMISSIONS, Actor, Role, permissions_of
from pmha.core.db import utcnow
from pmha.core.http import PROBLEM
from pmha.exams import attachments, lab_service, radiology
from pmha.exams import service as exams
from pmha.exams.attachments import Attachment
from pmha.exams.commands import SectionDraft
from pmha.exams.labs import LabOrder
from pmha.exams.models import ExamSection, SectionKind
from pmha.exams.radiology import XrayStudy
from pmha.vaccines import observations as vaccine_observations
from pmha.vaccines import records as vaccinations
from pmha.vaccines import stock
from pmha.vaccines.commands import NewLot, NewObservation, NewVaccination
from pmha.vaccines.models import RecordKind, VaccinationRecord, VaccineLot, VaccineObservation
from pmha.workflow import service as workflow
from pmha.workflow.models import PlanChange, Step
from tests.conftest import csrf_token
from tests.exams import dicom_factory
from tests.factories import PASSWORD, SYSTEM, World, applicant_data, case_data, make_case
from tests.tb_dot.helpers import authorization_classified as tb_classified
from tests.tb_dot.helpers import authorization_episode as tb_episode
from tests.tb_dot.helpers import tb_episode_body
from tests.travel import routes as travel_routes

# --- the issue's examples, against the permission table itself -----------------------------------

HEALTH_DATA_READS = sorted(p for p in PERMISSIONS if p.endswith(":read") and p != "audit:read")


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        (Role.NURSE, "exams:sign", False),
        (Role.PANEL_PHYSICIAN, "exams:sign", True),
        (Role.OPERATIONS, "labs:read", False),
        (Role.LAB_TECHNICIAN, "labs:read", True),
        (Role.RADIOLOGIST, "radiology:write", True),
        (Role.NURSE, "radiology:write", False),
        (Role.AUDITOR, "audit:read", True),
        (Role.ADMIN, "audit:read", False),
        (Role.ADMIN, "users:manage", True),
        (Role.ADMIN, "exports:keys", True),
        (Role.OPERATIONS, "exports:keys", False),
        (Role.RECEIVING_AUTHORITY, "exports:import", True),
        (Role.RECEIVING_AUTHORITY, "cases:read", False),
        *[(Role.ADMIN, p, False) for p in HEALTH_DATA_READS],
        *[(Role.AUDITOR, p, False) for p in HEALTH_DATA_READS],
    ],
    ids=lambda v: str(v) if not isinstance(v, bool) else ("may" if v else "may_not"),
)
def test_permission_table_matches_the_issue(role: Role, permission: str, allowed: bool) -> None:
    who = Actor(None, "t", frozenset({role}), frozenset())
    assert who.can(permission) is allowed


@pytest.mark.parametrize(
    ("role", "exactly"),
    [
        (Role.AUDITOR, ["audit:read"]),
        (Role.ADMIN, ["exports:keys", "users:manage"]),  # accounts; authorities' certificates
        (Role.RECEIVING_AUTHORITY, ["exports:import"]),
    ],
    ids=str,
)
def test_roles_outside_the_clinic_hold_only_their_one_permission(
    role: Role, exactly: list[str]
) -> None:
    # Besides revoking the token they call with ("tokens:own", issue 19), which reads nothing.
    held = [p for p in permissions_of(frozenset({role})) if p != "tokens:own"]
    assert held == exactly


def test_an_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        Actor(None, "t", frozenset(Role), frozenset()).can("cases:delete")


# --- the route table -----------------------------------------------------------------------------

ROLES = [r.value for r in Role]
CALLERS = [*ROLES, "anonymous", "foreign"]  # foreign: a panel physician at the other site
EVERY_ROLE = frozenset(ROLES)
CASE_READERS = frozenset(
    {"panel_physician", "nurse", "radiologist", "lab_technician", "operations", "dot_worker"}
)
CASE_WRITERS = frozenset({"panel_physician", "nurse", "operations"})
ADMIN = frozenset({"admin"})
PHYSICIAN = frozenset({"panel_physician"})
EXAM_READERS = frozenset({"panel_physician", "nurse", "radiologist"})
EXAM_WRITERS = frozenset({"panel_physician", "nurse"})
CLEARANCE_READERS = frozenset({"panel_physician", "nurse", "operations"})
REPORT_PDF = b"%PDF-1.4\n% synthetic specialist report\n%%EOF\n"
LAB_READERS = frozenset({"panel_physician", "nurse", "lab_technician"})
RADIOLOGY_READERS = frozenset({"panel_physician", "radiologist"})
# The case workflow page: whoever works on a step or reads clearance (what shows varies).
WORKFLOW_READERS = frozenset(
    {"panel_physician", "nurse", "radiologist", "lab_technician", "operations"}
)
RADIOLOGIST = frozenset({"radiologist"})
LAB_WRITERS = frozenset({"panel_physician", "lab_technician"})
AUDITOR = frozenset({"auditor"})
VACCINATORS = frozenset({"panel_physician", "nurse"})
TRAVEL_WRITERS = frozenset({"panel_physician", "operations"})
TB_DOT = frozenset({"panel_physician", "nurse", "dot_worker"})

PUBLIC, PAGE, API = "public", "page", "api"
RECORD, RESULTS = "record", "results"  # how a foreign-site caller sees a row's home-site data


@dataclass
class Ctx:
    world: World
    case: FamilyCase  # at the home site
    applicant: Applicant  # its principal
    foreign_case: FamilyCase  # at the other site, same family name
    step: Step  # the principal's physical exam step
    draft: ExamSection  # a draft of the principal's recommendations; a signed mental health
    order: LabOrder  # the principal's first sputum smear specimen
    change: PlanChange  # a rule update's change to the principal's plan, awaiting review
    study: XrayStudy  # the principal's chest X-ray
    report: Attachment  # a specialist's report on the principal's record
    lot: VaccineLot  # a Tdap lot in the home site's stock
    vaccination: VaccinationRecord  # a historical MMR dose of the principal
    held: XrayStudy  # a chest X-ray held on the principal: its header names someone else
    condition: VaccineObservation  # the principal's diabetes, a condition for the vaccine schedule


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    kind: str
    allowed: frozenset[str]  # roles that may call it (ignored for PUBLIC)
    ok: int
    url: Callable[[Ctx], str]
    body: Callable[[Ctx], dict[str, Any]] | None = None
    foreign: str | None = None  # RECORD: a 404 for home records; RESULTS: home records hidden
    not_found: str | None = None  # the problem code of that 404
    upload: Callable[[Ctx], bytes] | None = None  # a file body instead of JSON
    upload_type: str = "image/jpeg"
    ok_signed_in: int | None = None  # when a signed-in caller gets another success status
    # Roles (of `allowed`) for which this body succeeds, when the record decides the rest:
    # e.g. only a physician records a physical exam; others who may record results get 403.
    succeeds: frozenset[str] | None = None


def _token_id(c: Ctx, role: str) -> uuid.UUID:
    return uuid.UUID(hex=c.world.tokens[role].split("_")[1])


def _new_family(**overrides: Any) -> dict[str, Any]:
    return case_data(
        principal=applicant_data(
            family_name="Nasser",
            given_names="Layla",
            family_name_original=None,
            given_names_original=None,
            dob="1990-06-01",
            sex="female",
            nationality="AF",
        ),
        **overrides,
    )


def _register_form(_: Ctx) -> dict[str, Any]:
    return {
        "destination": "CA",
        "programme": "refugee",
        "family_name": "Nasser",
        "given_names": "Layla",
        "dob": "1990-06-01",
        "sex": "female",
        "nationality": "AF",
    }


def _member_form(_: Ctx) -> dict[str, Any]:
    return {
        "family_name": "Haddad",
        "given_names": "Sara",
        "dob": "2016-02-02",
        "sex": "female",
        "nationality": "SY",
        "relationship": "child",
    }


def _child(_: Ctx) -> dict[str, Any]:
    return applicant_data(
        given_names="Yusuf", given_names_original=None, dob="2014-07-07", relationship="child"
    )


def _case(c: Ctx) -> str:
    return f"/api/v1/cases/{c.case.id}"


def _applicant(c: Ctx) -> str:
    return f"/api/v1/applicants/{c.applicant.id}"


def _new_user(_: Ctx) -> dict[str, Any]:
    return {
        "username": "t_new_user",
        "full_name": "New User",
        "password": "a-long-password",
        "roles": "nurse",
        "site_codes": "IST",
    }


def jpeg(size: tuple[int, int] = (120, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(out, format="JPEG")
    return out.getvalue()


def _photo(c: Ctx) -> str:
    return f"/api/v1/applicants/{c.applicant.id}/photo"


def _case_change(c: Ctx) -> dict[str, Any]:
    return {"version": c.case.version, "external_ref": "UNHCR-1"}


def _applicant_change(c: Ctx) -> dict[str, Any]:
    return {"version": c.applicant.version, "given_names": "Omar Khalil"}


def _record(c: Ctx, tail: str) -> str:
    """A page of the principal's clinical record."""
    return f"/cases/{c.case.id}/applicants/{c.applicant.id}/{tail}"


CASE_404 = {"foreign": RECORD, "not_found": "cases.not_found"}
APPLICANT_404 = {"foreign": RECORD, "not_found": "applicants.not_found"}
BUNDLE_404 = {"foreign": RECORD, "not_found": "exports.bundle_not_found"}
EXPORTERS = frozenset({"panel_physician", "operations"})

# fmt: off
ROUTES: list[Route] = [
    # endpoint, method, kind, roles allowed, success status, URL, then body and site scoping
    Route("static", "GET", PUBLIC, EVERY_ROLE, 200, lambda c: "/static/pmha.css"),
    Route("web.healthz", "GET", PUBLIC, EVERY_ROLE, 200, lambda c: "/healthz"),
    Route("web.api_docs", "GET", PUBLIC, EVERY_ROLE, 200, lambda c: "/api/docs"),
    Route("openapi", "GET", PUBLIC, EVERY_ROLE, 200, lambda c: "/api/openapi.json"),
    Route("accounts.login", "GET", PUBLIC, EVERY_ROLE, 200, lambda c: "/login", ok_signed_in=302),
    Route("accounts.login", "POST", PUBLIC, EVERY_ROLE, 302, lambda c: "/login",
          body=lambda c: {"username": "t_nurse", "password": PASSWORD}),
    Route("accounts.logout", "POST", PUBLIC, EVERY_ROLE, 302, lambda c: "/logout",
          body=lambda c: {}),

    Route("web.today", "GET", PAGE, EVERY_ROLE, 200, lambda c: "/"),
    Route("cases.case_list", "GET", PAGE, CASE_READERS, 200, lambda c: "/cases",
          foreign=RESULTS),
    Route("cases.case_list", "POST", PAGE, CASE_READERS, 200, lambda c: "/cases",
          body=lambda c: {"q": "Haddad"}, foreign=RESULTS),
    Route("cases.case_page", "GET", PAGE, CASE_READERS, 200, lambda c: f"/cases/{c.case.id}",
          foreign=RECORD),
    Route("cases.register", "GET", PAGE, CASE_WRITERS, 200, lambda c: "/cases/new"),
    Route("cases.register", "POST", PAGE, CASE_WRITERS, 302, lambda c: "/cases/new",
          body=_register_form),
    Route("cases.add_member", "GET", PAGE, CASE_WRITERS, 200,
          lambda c: f"/cases/{c.case.id}/members/new", foreign=RECORD),
    Route("cases.add_member", "POST", PAGE, CASE_WRITERS, 302,
          lambda c: f"/cases/{c.case.id}/members/new", body=_member_form, foreign=RECORD),
    Route("accounts.users", "GET", PAGE, ADMIN, 200, lambda c: "/admin/users"),
    Route("accounts.create_user", "POST", PAGE, ADMIN, 302, lambda c: "/admin/users",
          body=_new_user),
    Route("accounts.user_action", "POST", PAGE, ADMIN, 302,
          lambda c: "/admin/users/t_nurse/unlock", body=lambda c: {}),
    Route("accounts.edit_user", "GET", PAGE, ADMIN, 200, lambda c: "/admin/users/t_nurse"),
    Route("accounts.update_user", "POST", PAGE, ADMIN, 302, lambda c: "/admin/users/t_nurse",
          body=lambda c: {"full_name": "Test nurse", "roles": "nurse", "site_codes": "IST"}),
    Route("accounts.reset_password", "POST", PAGE, ADMIN, 302,
          lambda c: "/admin/users/t_nurse/password",
          body=lambda c: {"password": "another-long-password"}),
    Route("accounts.revoke_token", "POST", PAGE, ADMIN, 302,
          lambda c: f"/admin/users/t_nurse/tokens/{_token_id(c, 'nurse')}/revoke",
          body=lambda c: {}),
    Route("accounts.revoke_all_tokens", "POST", PAGE, ADMIN, 302,
          lambda c: "/admin/users/t_nurse/tokens/revoke", body=lambda c: {}),
    Route("accounts_api.list_tokens", "GET", API, ADMIN, 200,
          lambda c: "/api/v1/users/t_nurse/tokens"),
    Route("accounts_api.revoke_tokens", "POST", API, ADMIN, 200,
          lambda c: "/api/v1/users/t_nurse/tokens/revoke", body=lambda c: {}),
    Route("accounts_api.revoke_own_token", "POST", API, EVERY_ROLE, 200,
          lambda c: "/api/v1/token/revoke"),
    Route("audit.events", "GET", PAGE, AUDITOR, 200, lambda c: "/audit"),

    Route("cases_api.list_cases", "GET", API, CASE_READERS, 200, lambda c: "/api/v1/cases",
          foreign=RESULTS),
    Route("cases_api.search_cases", "POST", API, CASE_READERS, 200,
          lambda c: "/api/v1/cases/search", body=lambda c: {"q": "Haddad"}, foreign=RESULTS),
    Route("cases_api.create_case", "POST", API, CASE_WRITERS, 201, lambda c: "/api/v1/cases",
          body=lambda c: _new_family()),
    Route("cases_api.read_case", "GET", API, CASE_READERS, 200, _case, **CASE_404),
    Route("cases_api.update_case", "PATCH", API, CASE_WRITERS, 200, _case,
          body=_case_change, **CASE_404),
    Route("cases_api.add_applicant", "POST", API, CASE_WRITERS, 201,
          lambda c: f"{_case(c)}/applicants", body=_child, **CASE_404),
    Route("cases_api.read_applicant", "GET", API, CASE_READERS, 200, _applicant,
          **APPLICANT_404),
    Route("cases_api.update_applicant", "PATCH", API, CASE_WRITERS, 200, _applicant,
          body=_applicant_change, **APPLICANT_404),
    Route("cases_api.put_photo", "PUT", API, CASE_WRITERS, 200, _photo,
          upload=lambda c: jpeg(), **APPLICANT_404),
    Route("cases_api.get_photo", "GET", API, CASE_READERS, 200, _photo, **APPLICANT_404),
    Route("cases_api.delete_photo", "DELETE", API, CASE_WRITERS, 204, _photo, **APPLICANT_404),
    Route("workflow_api.read_workflow", "GET", API, EXAM_READERS, 200,
          lambda c: f"{_applicant(c)}/workflow", **APPLICANT_404),
    Route("workflow_api.put_facts", "PUT", API, EXAM_WRITERS, 200,
          lambda c: f"{_applicant(c)}/facts", body=lambda c: {"tb_symptoms": False},
          **APPLICANT_404),
    # The physical exam has its own record (the signed section): the physician reaches the
    # route and is refused with 422 (workflow.result_recorded_elsewhere, issue 14); the plan
    # of this refugee case has no requirement without a record of its own.
    Route("workflow_api.post_result", "POST", API, CASE_READERS, 422,
          lambda c: f"{_applicant(c)}/results",
          body=lambda c: {"code": "physical_exam", "value": "normal",
                          "date": date.today().isoformat()},
          succeeds=PHYSICIAN, **APPLICANT_404),
    Route("workflow_api.transition", "POST", API, CASE_READERS, 200,
          lambda c: f"/api/v1/steps/{c.step.id}/transition",
          body=lambda c: {"to": "in_progress", "version": c.step.version},
          succeeds=PHYSICIAN, foreign=RECORD, not_found="workflow.step_not_found"),
    # The UK TB certificate carries health details (reason X-ray not taken, sputum): exam
    # readers only. The principal goes to the US: the JSON says so, the PDF is refused (409).
    Route("travel_api.tb_certificate", "GET", API, EXAM_READERS, 200,
          lambda c: f"{_applicant(c)}/tb-certificate", **APPLICANT_404),
    Route("travel_api.tb_certificate_pdf", "GET", API, EXAM_READERS, 409,
          lambda c: f"{_applicant(c)}/tb-certificate.pdf", **APPLICANT_404),
    Route("workflow_api.case_clearance", "GET", API, CLEARANCE_READERS, 200,
          lambda c: f"{_case(c)}/clearance", **CASE_404),
    Route("exams_api.read_record", "GET", API, EXAM_READERS, 200,
          lambda c: f"{_applicant(c)}/exam", **APPLICANT_404),
    Route("exams_api.save_draft", "PUT", API, EXAM_WRITERS, 200,
          lambda c: f"{_applicant(c)}/exam/recommendations",
          body=lambda c: {"data": {"work_arrangements": "no heavy lifting"},
                          "version": c.draft.version},
          **APPLICANT_404),
    Route("exams_api.sign", "POST", API, EXAM_WRITERS, 200,
          lambda c: f"{_applicant(c)}/exam/recommendations/sign",
          body=lambda c: {"version": c.draft.version, "password": PASSWORD}, succeeds=PHYSICIAN,
          **APPLICANT_404),
    Route("labs_api.read_labs", "GET", API, LAB_READERS, 200,
          lambda c: f"{_applicant(c)}/labs", **APPLICANT_404),
    Route("labs_api.order_tests", "POST", API, EXAM_WRITERS, 201,
          lambda c: f"{_applicant(c)}/lab-orders", body=lambda c: {"codes": ["syphilis_serology"]},
          **APPLICANT_404),
    Route("labs_api.override_interpretation", "POST", API, PHYSICIAN, 409,
          lambda c: f"/api/v1/lab-orders/{c.order.id}/interpretation",
          body=lambda c: {"value": "negative",
                          "reason": "clinical picture and repeat test disagree"},
          foreign=RECORD, not_found="labs.order_not_found"),
    Route("labs_api.record_lab_result", "POST", API, CASE_READERS, 201,
          lambda c: f"/api/v1/lab-orders/{c.order.id}/result",
          body=lambda c: {"value": "negative", "date": date.today().isoformat(),
                          "specimen_number": c.order.accession},
          succeeds=frozenset({"panel_physician", "lab_technician"}), foreign=RECORD,
          not_found="labs.order_not_found"),
    Route("labs_api.record_consent", "POST", API, EXAM_WRITERS | LAB_WRITERS, 201,
          lambda c: f"{_applicant(c)}/consents",
          body=lambda c: {"kind": "hiv_test", "given": True, "date": date.today().isoformat()},
          **APPLICANT_404),
    Route("radiology_api.upload_xray", "POST", API, RADIOLOGIST, 201,
          lambda c: f"{_applicant(c)}/xrays", upload=lambda c: dicom_factory.make(),
          upload_type="application/dicom", **APPLICANT_404),
    Route("radiology_api.list_xrays", "GET", API, RADIOLOGY_READERS, 200,
          lambda c: f"{_applicant(c)}/xrays", **APPLICANT_404),
    Route("radiology_api.xray_preview", "GET", API, RADIOLOGY_READERS, 200,
          lambda c: f"/api/v1/xrays/{c.study.id}/preview.png", foreign=RECORD,
          not_found="exams.xray_not_found"),
    Route("radiology_api.confirm_xray_identity", "POST", API, RADIOLOGIST, 200,
          lambda c: f"/api/v1/xrays/{c.held.id}/identity-confirmation",
          body=lambda c: {"reason": "Film label and face checked: the unit's worklist was wrong"},
          foreign=RECORD, not_found="exams.xray_not_found"),
    Route("radiology_api.read_xray", "POST", API, RADIOLOGIST, 201,
          lambda c: f"/api/v1/xrays/{c.study.id}/reading",
          body=lambda c: {"findings": [], "password": PASSWORD},
          foreign=RECORD, not_found="exams.xray_not_found"),
    Route("exams_api.attach", "POST", API, EXAM_WRITERS, 201,
          lambda c: f"{_applicant(c)}/attachments/specialist_report",
          upload=lambda c: REPORT_PDF, upload_type="application/pdf", **APPLICANT_404),
    Route("exams_api.attachment", "GET", API, EXAM_READERS, 200,
          lambda c: f"/api/v1/attachments/{c.report.id}", foreign=RECORD,
          not_found="exams.attachment_not_found"),
    Route("exams.attach_report", "POST", PAGE, EXAM_WRITERS, 302,
          lambda c: f"/cases/{c.case.id}/applicants/{c.applicant.id}/exam/"
                    "specialist_referral/report",
          body=lambda c: {"file": (io.BytesIO(REPORT_PDF), "report.pdf")}, foreign=RECORD),
    Route("exams_api.amend", "POST", API, EXAM_WRITERS, 201,
          lambda c: f"{_applicant(c)}/exam/mental_health/amend",
          body=lambda c: {"reason": "score entered in the wrong field"}, succeeds=PHYSICIAN,
          **APPLICANT_404),

    Route("exams.record", "GET", PAGE, EXAM_READERS, 200, lambda c: _record(c, "exam"),
          foreign=RECORD),
    Route("exams.save_section", "POST", PAGE, EXAM_WRITERS, 302,
          lambda c: _record(c, "exam/recommendations"),
          body=lambda c: {"work_arrangements": "no heavy lifting", "action": "sign",
                          "version": str(c.draft.version)},
          succeeds=PHYSICIAN, foreign=RECORD),
    Route("exams.sign_review", "GET", PAGE, EXAM_WRITERS, 200,
          lambda c: _record(c, "exam/recommendations/sign"), succeeds=PHYSICIAN,
          foreign=RECORD),
    Route("exams.sign_section", "POST", PAGE, EXAM_WRITERS, 302,
          lambda c: _record(c, "exam/recommendations/sign"),
          body=lambda c: {"version": str(c.draft.version), "password": PASSWORD},
          succeeds=PHYSICIAN, foreign=RECORD),
    Route("exams.amend_section", "POST", PAGE, EXAM_WRITERS, 302,
          lambda c: _record(c, "exam/mental_health/amend"),
          body=lambda c: {"reason": "score entered in the wrong field"}, succeeds=PHYSICIAN,
          foreign=RECORD),
    Route("exams.labs", "GET", PAGE, LAB_READERS, 200, lambda c: _record(c, "labs"),
          foreign=RECORD),
    Route("exams.order_tests", "POST", PAGE, EXAM_WRITERS, 302,
          lambda c: _record(c, "labs/orders"), body=lambda c: {"codes": "syphilis_serology"},
          foreign=RECORD),
    # The order has no result yet: the physician gets past the gate to a 409 (labs.no_result).
    Route("exams.override_interpretation", "POST", PAGE, PHYSICIAN, 409,
          lambda c: _record(c, "labs/interpretation"),
          body=lambda c: {"order": str(c.order.id), "value": "negative",
                          "reason": "clinical picture and repeat test disagree"},
          foreign=RECORD),
    Route("exams.record_lab_result", "POST", PAGE, LAB_READERS, 302,
          lambda c: _record(c, "labs/results"),
          body=lambda c: {"order": str(c.order.id), "value": "negative",
                          "date": date.today().isoformat(),
                          "specimen_number": c.order.accession},
          succeeds=frozenset({"panel_physician", "lab_technician"}), foreign=RECORD),
    # Consent is recorded by whoever collects: nurse, physician or lab technician (issue 18).
    Route("exams.record_consent", "POST", PAGE, EXAM_WRITERS | LAB_WRITERS, 302,
          lambda c: _record(c, "labs/consents"),
          body=lambda c: {"kind": "hiv_test", "given": "yes", "date": date.today().isoformat()},
          foreign=RECORD),
    # Only cases with open orders are listed (the foreign case has none): sites are checked
    # in tests/exams/test_lab_desk.py.
    Route("exams.lab_worklist", "GET", PAGE, LAB_WRITERS, 200,
          lambda c: "/worklists/lab/orders"),
    Route("exams.mark_collected", "POST", PAGE, LAB_WRITERS, 302,
          lambda c: f"/worklists/lab/orders/{c.order.id}/collected", body=lambda c: {},
          foreign=RECORD),
    Route("exams.xrays", "GET", PAGE, RADIOLOGY_READERS, 200, lambda c: _record(c, "xrays"),
          foreign=RECORD),
    Route("exams.upload_xray", "POST", PAGE, RADIOLOGIST, 302, lambda c: _record(c, "xrays"),
          body=lambda c: {"file": (io.BytesIO(dicom_factory.make()), "chest.dcm")},
          foreign=RECORD),
    Route("exams.viewer", "GET", PAGE, RADIOLOGY_READERS, 200,
          lambda c: f"/xrays/{c.study.id}", foreign=RECORD),
    Route("exams.xray_image", "GET", PAGE, RADIOLOGY_READERS, 200,
          lambda c: f"/xrays/{c.study.id}/image.png", foreign=RECORD),
    Route("exams.xray_pixels", "GET", PAGE, RADIOLOGY_READERS, 200,
          lambda c: f"/xrays/{c.study.id}/pixels", foreign=RECORD),
    # Only unread studies are listed; sites are checked in tests/exams/test_worklists.py.
    Route("exams.xray_worklist", "GET", PAGE, RADIOLOGIST, 200,
          lambda c: "/worklists/radiology/studies"),
    Route("exams.xray_thumbnail", "GET", PAGE, RADIOLOGY_READERS, 200,
          lambda c: f"/xrays/{c.study.id}/thumbnail.png", foreign=RECORD),
    Route("exams.confirm_xray_identity", "POST", PAGE, RADIOLOGIST, 302,
          lambda c: f"/xrays/{c.held.id}/identity-confirmation",
          body=lambda c: {"reason": "Film label and face checked: the unit's worklist was wrong"},
          foreign=RECORD),
    Route("exams.read_xray", "POST", PAGE, RADIOLOGIST, 302,
          lambda c: f"/xrays/{c.study.id}/reading",
          body=lambda c: {"normal": "y", "password": PASSWORD},
          foreign=RECORD),

    Route("workflow.case_workflow", "GET", PAGE, WORKFLOW_READERS, 200,
          lambda c: f"/cases/{c.case.id}/workflow", foreign=RECORD),
    Route("workflow.record_result", "POST", PAGE, CASE_READERS, 422,  # as the API's, above
          lambda c: f"/cases/{c.case.id}/workflow/applicants/{c.applicant.id}/results",
          body=lambda c: {"code": "physical_exam", "value": "normal",
                          "date": date.today().isoformat()},
          succeeds=PHYSICIAN, foreign=RECORD),
    Route("workflow.move_step", "POST", PAGE, CASE_READERS, 302,
          lambda c: f"/cases/{c.case.id}/workflow/steps/{c.step.id}",
          body=lambda c: {"to": "in_progress", "version": str(c.step.version)},
          succeeds=PHYSICIAN, foreign=RECORD),
    Route("workflow.record_facts", "POST", PAGE, EXAM_WRITERS, 302,
          lambda c: f"/cases/{c.case.id}/workflow/applicants/{c.applicant.id}/facts",
          body=lambda c: {"tb_symptoms": "no"}, foreign=RECORD),
    Route("workflow.review_change", "POST", PAGE, PHYSICIAN, 302,
          lambda c: f"/cases/{c.case.id}/workflow/changes/{c.change.id}",
          body=lambda c: {"decision": "keep"}, foreign=RECORD),
    Route("workflow_api.plan_changes", "GET", API, PHYSICIAN, 200,
          lambda c: f"{_applicant(c)}/plan-changes", **APPLICANT_404),
    Route("workflow_api.review_change", "POST", API, PHYSICIAN, 200,
          lambda c: f"/api/v1/plan-changes/{c.change.id}/review",
          body=lambda c: {"decision": "keep"}, foreign=RECORD,
          not_found="workflow.change_not_found"),
    Route("workflow.worklist_physician", "GET", PAGE, PHYSICIAN, 200,
          lambda c: "/worklists/physician", foreign=RESULTS),
    Route("workflow.worklist_nurse", "GET", PAGE, EXAM_WRITERS, 200,
          lambda c: "/worklists/nurse"),
    Route("workflow.worklist_radiology", "GET", PAGE, RADIOLOGIST, 200,
          lambda c: "/worklists/radiology"),
    Route("workflow.worklist_lab", "GET", PAGE, LAB_WRITERS, 200,
          lambda c: "/worklists/lab", foreign=RESULTS),
    Route("workflow.clearance_board", "GET", PAGE, CLEARANCE_READERS, 200,
          lambda c: "/worklists/operations", foreign=RESULTS),
    Route("workflow_api.worklist_physician", "GET", API, PHYSICIAN, 200,
          lambda c: "/api/v1/worklists/physician", foreign=RESULTS),
    Route("workflow_api.worklist_nurse", "GET", API, EXAM_WRITERS, 200,
          lambda c: "/api/v1/worklists/nurse"),
    Route("workflow_api.worklist_radiology", "GET", API, RADIOLOGIST, 200,
          lambda c: "/api/v1/worklists/radiology"),
    Route("workflow_api.worklist_lab", "GET", API, LAB_WRITERS, 200,
          lambda c: "/api/v1/worklists/lab", foreign=RESULTS),
    Route("workflow_api.clearance_board", "GET", API, CLEARANCE_READERS, 200,
          lambda c: "/api/v1/clearance-board", foreign=RESULTS),

    Route("vaccines_api.list_vaccinations", "GET", API, VACCINATORS, 200,
          lambda c: f"{_applicant(c)}/vaccinations", **APPLICANT_404),
    Route("vaccines_api.record_vaccination", "POST", API, VACCINATORS, 201,
          lambda c: f"{_applicant(c)}/vaccinations",
          body=lambda c: {"kind": "administered", "cvx": "115", "lot_id": str(c.lot.id),
                          "given_at": utcnow().isoformat(), "amount": "0.5", "unit": "mL",
                          "route": "IM", "body_site": "LD"},
          **APPLICANT_404),
    Route("vaccines_api.correct_vaccination", "POST", API, VACCINATORS, 200,
          lambda c: f"/api/v1/vaccinations/{c.vaccination.id}/correction",
          body=lambda c: {"reason": "entered on the wrong applicant",
                          "version": c.vaccination.version},
          foreign=RECORD, not_found="vaccines.record_not_found"),
    Route("vaccines_api.complete_review", "POST", API, VACCINATORS, 409,
          lambda c: f"{_applicant(c)}/vaccination-review", **APPLICANT_404),
    Route("vaccines_api.list_observations", "GET", API, VACCINATORS, 200,
          lambda c: f"{_applicant(c)}/vaccine-observations", **APPLICANT_404),
    Route("vaccines_api.add_observation", "POST", API, VACCINATORS, 201,
          lambda c: f"{_applicant(c)}/vaccine-observations",
          body=lambda c: {"code": "160", "begin": "2020-01-01"}, **APPLICANT_404),
    Route("vaccines_api.remove_observation", "POST", API, VACCINATORS, 200,
          lambda c: f"/api/v1/vaccine-observations/{c.condition.id}/remove",
          body=lambda c: {"reason": "entered on the wrong applicant"},
          foreign=RECORD, not_found="vaccines.observation_not_found"),
    Route("vaccines_api.list_lots", "GET", API, VACCINATORS, 200,
          lambda c: "/api/v1/vaccine-lots"),
    Route("vaccines_api.receive_lot", "POST", API, VACCINATORS, 201,
          lambda c: "/api/v1/vaccine-lots",
          body=lambda c: {"cvx": "03", "mvx": "MSD", "lot": "AUTH2", "expiry": "2099-01-01",
                          "quantity": 10, "received_on": date.today().isoformat()}),
    Route("vaccines_api.lot_recall", "GET", API, VACCINATORS, 200,
          lambda c: f"/api/v1/vaccine-lots/{c.lot.id}/recall", foreign=RECORD,
          not_found="vaccines.lot_not_found"),
    Route("vaccines.applicant", "GET", PAGE, VACCINATORS, 200,
          lambda c: _record(c, "vaccinations"), foreign=RECORD),
    Route("vaccines.record", "POST", PAGE, VACCINATORS, 302,
          lambda c: _record(c, "vaccinations"),
          body=lambda c: {"kind": "administered", "cvx": "115", "lot_id": str(c.lot.id),
                          "given_at": "now", "amount": "0.50", "unit": "mL", "route": "IM",
                          "body_site": "LD", "form": "confirm"},
          foreign=RECORD),
    Route("vaccines.confirm", "GET", PAGE, VACCINATORS, 200,
          lambda c: _record(c, f"vaccinations/confirm?lot_id={c.lot.id}"), foreign=RECORD),
    Route("vaccines.correct", "POST", PAGE, VACCINATORS, 302,
          lambda c: _record(c, f"vaccinations/{c.vaccination.id}/correct"),
          body=lambda c: {"reason": "entered on the wrong applicant",
                          "version": str(c.vaccination.version)},
          foreign=RECORD),
    # The principal is a US refugee, whose plan has no vaccination review: 409 after the checks.
    Route("vaccines.complete_review", "POST", PAGE, VACCINATORS, 409,
          lambda c: _record(c, "vaccinations/review"), body=lambda c: {}, foreign=RECORD),
    Route("vaccines.add_condition", "POST", PAGE, VACCINATORS, 302,
          lambda c: _record(c, "vaccinations/conditions"),
          body=lambda c: {"code": "160", "begin": "2020-01-01"}, foreign=RECORD),
    Route("vaccines.remove_condition", "POST", PAGE, VACCINATORS, 302,
          lambda c: _record(c, f"vaccinations/conditions/{c.condition.id}/remove"),
          body=lambda c: {"reason": "entered on the wrong applicant"}, foreign=RECORD),
    # Documents in the applicant's language (issue 18): the page, the applicant's language,
    # the consent forms, and the user's own language.
    Route("documents.applicant_documents", "GET", PAGE, CASE_READERS, 200,
          lambda c: _record(c, "documents?lang=ar"), foreign=RECORD),
    Route("documents.applicant_language", "POST", PAGE, CASE_WRITERS, 302,
          lambda c: _record(c, "language"), body=lambda c: {"language": "tr"}, foreign=RECORD),
    Route("documents.consent_form", "GET", PAGE, LAB_READERS, 200,
          lambda c: _record(c, "consent-forms/hiv_test.pdf?lang=tr"), foreign=RECORD),
    # The principal has no specialist appointment booked: 409 after the checks.
    Route("documents.appointment_letter", "GET", PAGE, EXAM_READERS, 409,
          lambda c: _record(c, "appointment-letter.pdf?lang=ar"), foreign=RECORD),
    Route("documents.my_language", "GET", PAGE, EVERY_ROLE, 200, lambda c: "/account/language"),
    Route("documents.my_language", "POST", PAGE, EVERY_ROLE, 302, lambda c: "/account/language",
          body=lambda c: {"language": "ar"}),
    Route("vaccines.record_pdf", "GET", PAGE, VACCINATORS, 200,
          lambda c: _record(c, "vaccinations/record.pdf"), foreign=RECORD),
    Route("vaccines.queue", "GET", PAGE, VACCINATORS, 200, lambda c: "/vaccinations"),
    Route("vaccines.stock", "GET", PAGE, VACCINATORS, 200, lambda c: "/vaccinations/stock"),
    Route("vaccines.receive", "POST", PAGE, VACCINATORS, 302, lambda c: "/vaccinations/stock",
          body=lambda c: {"cvx": "03", "mvx": "MSD", "lot": "PAGE2", "expiry": "2099-01-01",
                          "quantity": "10", "received_on": date.today().isoformat()}),
    Route("vaccines.recall", "GET", PAGE, VACCINATORS, 200,
          lambda c: f"/vaccinations/stock/{c.lot.id}/recall", foreign=RECORD),
    Route("tb_dot_api.read_tb", "GET", API, TB_DOT, 200, lambda c: f"{_applicant(c)}/tb",
          **APPLICANT_404),
    Route("tb_dot_api.confirm_classification", "POST", API, PHYSICIAN, 201,
          lambda c: f"{_applicant(c)}/tb/classification",
          body=lambda c: tb_classified(c) and {"password": PASSWORD}, **APPLICANT_404),
    Route("tb_dot_api.start_episode", "POST", API, PHYSICIAN, 201,
          lambda c: f"{_applicant(c)}/tb-episodes", body=lambda c: tb_episode_body(),
          **APPLICANT_404),
    Route("tb_dot_api.record_dose", "POST", API, TB_DOT, 201,
          lambda c: f"/api/v1/tb-episodes/{tb_episode(c).id}/doses",
          body=lambda c: {"date": date.today().isoformat(), "status": "observed"},
          foreign=RECORD, not_found="tb_dot.episode_not_found"),
    Route("tb_dot_api.record_sputum", "POST", API, TB_DOT, 201,
          lambda c: f"/api/v1/tb-episodes/{tb_episode(c).id}/sputum",
          body=lambda c: {"collected_on": date.today().isoformat(), "smear": "negative"},
          foreign=RECORD, not_found="tb_dot.episode_not_found"),
    Route("tb_dot_api.close_episode", "POST", API, PHYSICIAN, 200,
          lambda c: f"/api/v1/tb-episodes/{tb_episode(c).id}/close",
          body=lambda c: {"outcome": "not_evaluated", "note": "transferred out",
                          "version": tb_episode(c).version},
          foreign=RECORD, not_found="tb_dot.episode_not_found"),
    Route("tb_dot_api.dot_list", "GET", API, TB_DOT, 200, lambda c: "/api/v1/dot-list"),
    Route("tb_dot_api.programme", "GET", API, TB_DOT, 200, lambda c: "/api/v1/tb-programme"),
    Route("tb_dot.applicant", "GET", PAGE, TB_DOT, 200, lambda c: _record(c, "tb"),
          foreign=RECORD),
    Route("tb_dot.confirm", "POST", PAGE, PHYSICIAN, 302, lambda c: _record(c, "tb/confirm"),
          body=lambda c: tb_classified(c) and {"password": PASSWORD}, foreign=RECORD),
    Route("tb_dot.start", "POST", PAGE, PHYSICIAN, 302, lambda c: _record(c, "tb/episodes"),
          body=lambda c: tb_episode_body(), foreign=RECORD),
    Route("tb_dot.record_dose", "POST", PAGE, TB_DOT, 302,
          lambda c: f"/dot/episodes/{tb_episode(c).id}/doses",
          body=lambda c: {"status": "observed"}, foreign=RECORD),
    Route("tb_dot.record_sputum", "POST", PAGE, TB_DOT, 302,
          lambda c: f"/dot/episodes/{tb_episode(c).id}/sputum",
          body=lambda c: {"collected_on": date.today().isoformat(), "culture": "negative"},
          foreign=RECORD),
    Route("tb_dot.close", "POST", PAGE, PHYSICIAN, 302,
          lambda c: f"/dot/episodes/{tb_episode(c).id}/close",
          body=lambda c: {"outcome": "not_evaluated", "note": "transferred out",
                          "version": str(tb_episode(c).version)},
          foreign=RECORD),
    Route("tb_dot.referral_letter", "GET", PAGE, TB_DOT, 200,
          lambda c: f"/dot/episodes/{tb_episode(c).id}/referral-letter.pdf", foreign=RECORD),
    Route("tb_dot.dot_list", "GET", PAGE, TB_DOT, 200, lambda c: "/dot"),
    Route("tb_dot.programme", "GET", PAGE, TB_DOT, 200, lambda c: "/dot/programme"),
    Route("exports.case_exports", "GET", PAGE, frozenset({"panel_physician", "operations"}), 200,
          lambda c: f"/cases/{c.case.id}/exports", foreign=RECORD),
    Route("exports.request_export", "POST", PAGE, frozenset({"panel_physician", "operations"}),
          302, lambda c: f"/cases/{c.case.id}/exports", body=lambda c: {}, foreign=RECORD),
    # The bundle row has no file here: its download answers 404 (exports.file_missing).
    Route("exports.download", "GET", PAGE, frozenset({"panel_physician", "operations"}), 404,
          lambda c: f"/exports/{_export_bundle(c)}/download", foreign=RECORD),
    Route("exports.log_event", "POST", PAGE, frozenset({"panel_physician", "operations"}), 302,
          lambda c: f"/exports/{_export_bundle(c)}/log", body=lambda c: {"event": "delivered"},
          foreign=RECORD),
    Route("exports.authorities", "GET", PAGE, frozenset({"admin"}), 200,
          lambda c: "/exports/authorities"),
    # Not a certificate: refused (422) after the permission check.
    Route("exports.add_authority_certificate", "POST", PAGE, frozenset({"admin"}), 422,
          lambda c: "/exports/authorities",
          body=lambda c: {"destination": "US", "certificate": (io.BytesIO(b"junk"), "a.pem")}),
    Route("exports.arrivals", "GET", PAGE, frozenset({"receiving_authority"}), 200,
          lambda c: "/arrivals"),
    # Not a bundle: refused (422) after the permission check.
    Route("exports.import_bundle", "POST", PAGE, frozenset({"receiving_authority"}), 422,
          lambda c: "/arrivals", body=lambda c: {"file": (io.BytesIO(b"not a bundle"), "b.p7m")}),
    Route("exports.arrival", "GET", PAGE, frozenset({"receiving_authority"}), 200,
          lambda c: f"/arrivals/{_imported_bundle(c)}"),
    # The stand-in arrival lists no file: its first file answers 404 after the checks.
    Route("exports.arrival_file", "GET", PAGE, frozenset({"receiving_authority"}), 404,
          lambda c: f"/arrivals/{_imported_bundle(c)}/files/0"),
    Route("exports.search_arrivals", "POST", PAGE, frozenset({"receiving_authority"}), 200,
          lambda c: "/arrivals/search", body=lambda c: {"name": "Nasser"}),
    # bundles over the API (issue 17): the centre's case bundles and jobs; the bundle row is
    # addressed to US, the test authority's destination; the foreign physician sees none of it.
    Route("exports_api.list_case_bundles", "GET", API, EXPORTERS, 200,
          lambda c: f"{_case(c)}/bundles", **CASE_404),
    # No authority certificate is registered here: the build is refused (409) after the checks.
    Route("exports_api.create_bundle", "POST", API, EXPORTERS, 409,
          lambda c: f"{_case(c)}/bundles", **CASE_404),
    Route("exports_api.read_export_job", "GET", API, EXPORTERS, 200,
          lambda c: f"/api/v1/export-jobs/{_export_job(c)}", foreign=RECORD,
          not_found="exports.job_not_found"),
    Route("exports_api.list_bundles", "GET", API, frozenset({"receiving_authority"}), 200,
          lambda c: "/api/v1/bundles"),
    Route("exports_api.read_bundle", "GET", API, EXPORTERS | {"receiving_authority"}, 200,
          lambda c: f"/api/v1/bundles/{_export_bundle(c)}", **BUNDLE_404),
    # The bundle row has no file here: its download answers 404 (exports.file_missing).
    Route("exports_api.download_bundle", "GET", API, EXPORTERS | {"receiving_authority"}, 404,
          lambda c: f"/api/v1/bundles/{_export_bundle(c)}/content", **BUNDLE_404),
    Route("exports_api.record_bundle_event", "POST", API, EXPORTERS | {"receiving_authority"},
          201, lambda c: f"/api/v1/bundles/{_export_bundle(c)}/events",
          body=lambda c: {"event": "acknowledged"}, **BUNDLE_404),
    # Not a bundle: refused (422) after the permission check.
    Route("exports_api.import_arrival", "POST", API, frozenset({"receiving_authority"}), 422,
          lambda c: "/api/v1/arrivals", upload=lambda c: b"not a bundle",
          upload_type="application/pkcs7-mime"),
    Route("exports_api.list_arrivals", "GET", API, frozenset({"receiving_authority"}), 200,
          lambda c: "/api/v1/arrivals"),
    Route("exports_api.search_arrivals", "POST", API, frozenset({"receiving_authority"}), 200,
          lambda c: "/api/v1/arrivals/search", body=lambda c: {"name": "Nasser"}),
    Route("exports_api.read_arrival", "GET", API, frozenset({"receiving_authority"}), 200,
          lambda c: f"/api/v1/arrivals/{_imported_bundle(c)}"),
    Route("exports_api.read_arrival_traveller", "GET", API, frozenset({"receiving_authority"}),
          200, lambda c: f"/api/v1/arrival-travellers/{_imported_traveller(c)}"),
    Route("exports_api.read_arrival_traveller_fhir", "GET", API,
          frozenset({"receiving_authority"}), 200,
          lambda c: f"/api/v1/arrival-travellers/{_imported_traveller(c)}/fhir"),
    # departures (pmha/travel): the home case booked on a home-site departure
    # (tests/travel/routes.py); its principal is not cleared, so a certificate is refused (409)
    # and no treatment applies (422)
    Route("travel.departure_list", "GET", PAGE, CLEARANCE_READERS, 200, lambda c: "/departures"),
    Route("travel.create_departure", "POST", PAGE, TRAVEL_WRITERS, 302, lambda c: "/departures",
          body=lambda c: travel_routes.new_departure(api=False)),
    Route("travel.departure_board", "GET", PAGE, CLEARANCE_READERS, 200,
          lambda c: travel_routes.dep_url(c), foreign=RECORD),
    Route("travel.board_csv", "GET", PAGE, CLEARANCE_READERS, 200,
          lambda c: travel_routes.dep_url(c, "/board.csv"), foreign=RECORD),
    Route("travel.book_case", "POST", PAGE, TRAVEL_WRITERS, 302,
          lambda c: travel_routes.dep_url(c, "/cases"),
          body=lambda c: {"case_number": c.case.case_number}, foreign=RECORD),
    Route("travel.traveller", "GET", PAGE, CLEARANCE_READERS, 200,
          lambda c: travel_routes.traveller_url(c), foreign=RECORD),
    Route("travel.record_check", "POST", PAGE, PHYSICIAN, 302,
          lambda c: travel_routes.traveller_url(c, "/check"),
          body=lambda c: travel_routes.pec(api=False), foreign=RECORD),
    Route("travel.set_escort", "POST", PAGE, TRAVEL_WRITERS, 302,
          lambda c: travel_routes.traveller_url(c, "/escort"),
          body=lambda c: {"escort_type": "non_medical"}, foreign=RECORD),
    Route("travel.issue_certificate", "POST", PAGE, TRAVEL_WRITERS, 409,
          lambda c: travel_routes.traveller_url(c, "/certificate"),
          body=lambda c: {"password": PASSWORD},
          foreign=RECORD),
    Route("travel.certificate_pdf", "GET", PAGE, TRAVEL_WRITERS, 409,
          lambda c: travel_routes.traveller_url(c, "/certificate.pdf"), foreign=RECORD),
    Route("travel.tb_certificate_pdf", "GET", PAGE, EXAM_READERS, 409,
          lambda c: _record(c, "tb-certificate.pdf"), foreign=RECORD),
    Route("travel.case_certificates", "POST", PAGE, TRAVEL_WRITERS, 409,
          lambda c: travel_routes.dep_url(c, f"/cases/{c.case.id}/certificates.pdf"),
          body=lambda c: {"password": PASSWORD}, foreign=RECORD),
    Route("travel.verify", "GET", PUBLIC, EVERY_ROLE, 200, lambda c: "/verify"),
    Route("travel.verify", "POST", PUBLIC, EVERY_ROLE, 200, lambda c: "/verify",
          body=lambda c: {"code": "TRV-AAAA-BBBB-CCCC"}),
    # The published certificate keys (public keys only), for verifiers offline [issue 17].
    Route("travel.certificate_keys", "GET", PUBLIC, EVERY_ROLE, 200,
          lambda c: "/.well-known/pmha-certificate-keys"),
    Route("travel_api.list_departures", "GET", API, CLEARANCE_READERS, 200,
          lambda c: "/api/v1/departures"),
    Route("travel_api.create_departure", "POST", API, TRAVEL_WRITERS, 201,
          lambda c: "/api/v1/departures", body=lambda c: travel_routes.new_departure(api=True)),
    Route("travel_api.board", "GET", API, CLEARANCE_READERS, 200,
          lambda c: "/api" + "/v1" + travel_routes.dep_url(c, "/board"), foreign=RECORD,
          not_found="travel.departure_not_found"),
    Route("travel_api.book_case", "POST", API, TRAVEL_WRITERS, 201,
          lambda c: "/api/v1" + travel_routes.dep_url(c, "/cases"),
          body=lambda c: {"case_id": str(c.case.id)}, foreign=RECORD,
          not_found="travel.departure_not_found"),
    Route("travel_api.record_check", "POST", API, PHYSICIAN, 201,
          lambda c: (travel_routes.departure(c), f"{_applicant(c)}/fitness-checks")[1],
          body=lambda c: travel_routes.pec(api=True), **APPLICANT_404),
    Route("travel_api.set_escort", "PUT", API, TRAVEL_WRITERS, 200,
          lambda c: (travel_routes.departure(c), f"{_applicant(c)}/escort")[1],
          body=lambda c: {"escort_type": "non_medical"}, **APPLICANT_404),
    Route("travel_api.issue_certificate", "POST", API, TRAVEL_WRITERS, 409,
          lambda c: (travel_routes.departure(c), f"{_applicant(c)}/certificate")[1],
          body=lambda c: {"password": PASSWORD}, **APPLICANT_404),
    Route("travel_api.certificate_pdf", "GET", API, TRAVEL_WRITERS, 409,
          lambda c: (travel_routes.departure(c), f"{_applicant(c)}/certificate.pdf")[1],
          **APPLICANT_404),
    Route("travel_api.follow_up", "GET", API, CLEARANCE_READERS, 200,
          lambda c: f"{_applicant(c)}/follow-up", **APPLICANT_404),
    Route("travel_api.complete_follow_up", "POST", API, frozenset({"receiving_authority"}), 200,
          lambda c: travel_routes.follow_up_url(c),
          body=lambda c: {"completed_on": date.today().isoformat()}),
    Route("travel_api.record_treatment", "POST", API, EXAM_WRITERS, 422,
          lambda c: f"{_applicant(c)}/treatments",
          body=lambda c: {"drug": "albendazole", "dose": "400 mg",
                          "given_on": date.today().isoformat()}, **APPLICANT_404),
    Route("travel_api.verify", "POST", API, CLEARANCE_READERS, 200,
          lambda c: "/api/v1/certificates/verify", body=lambda c: {"code": "TRV-AAAA-BBBB-CCCC"}),
    # residence periods (issue 15): the countries lived in, with dates (clinical facts)
    Route("residence_api.list_residence", "GET", API, EXAM_READERS, 200,
          lambda c: f"{_applicant(c)}/residence", **APPLICANT_404),
    Route("residence_api.add_residence", "POST", API, EXAM_WRITERS, 201,
          lambda c: f"{_applicant(c)}/residence",
          body=lambda c: {"country": "CD", "from": "2012-01-01", "to": "2019-06-01"},
          **APPLICANT_404),
    Route("residence_api.remove_residence", "DELETE", API, EXAM_WRITERS, 204,
          lambda c: f"{_applicant(c)}/residence/{_residence_period(c)}", **APPLICANT_404),
    Route("residence_api.presumptive_plan", "GET", API, EXAM_READERS, 200,
          lambda c: f"{_applicant(c)}/presumptive-treatment", **APPLICANT_404),
    Route("workflow.add_residence", "POST", PAGE, EXAM_WRITERS, 302,
          lambda c: f"/cases/{c.case.id}/workflow/applicants/{c.applicant.id}/residence",
          body=lambda c: {"country": "CD", "from": "2012-01-01", "to": "2019-06-01"},
          foreign=RECORD),
    Route("workflow.remove_residence", "POST", PAGE, EXAM_WRITERS, 302,
          lambda c: f"/cases/{c.case.id}/workflow/applicants/{c.applicant.id}/residence/"
                    f"{_residence_period(c)}", body=lambda c: {}, foreign=RECORD),
]
# fmt: on


def _served(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_a_row_in_the_table(app: Flask) -> None:
    table = {(r.endpoint, r.method) for r in ROUTES}
    missing = sorted(_served(app) - table)
    assert not missing, f"routes without a row in ROUTES (say who may call them): {missing}"
    assert not sorted(table - _served(app)), "rows for routes the app no longer serves"
    assert len(table) == len(ROUTES), "a route is listed twice"


def test_every_protected_view_declares_its_permissions(app: Flask) -> None:
    """The decorator the view carries grants exactly the roles the table expects."""
    for route in ROUTES:
        view = app.view_functions[route.endpoint]
        declared = getattr(view, "pmha_permissions", None)
        if route.kind == PUBLIC:
            assert declared is None, route.endpoint
            continue
        assert declared is not None, f"{route.endpoint} has neither @require nor @require_login"
        granted = set(EVERY_ROLE)
        for permission in declared:
            granted &= {r.value for r in PERMISSIONS[permission]}
        any_of = getattr(view, "pmha_any_permission", None)  # views open to several permissions
        if any_of:
            granted &= {r.value for p in any_of for r in PERMISSIONS[p]}
        assert granted == route.allowed, route.endpoint


# --- one test per (route, caller) ----------------------------------------------------------------


@pytest.fixture()
def ctx(app: Flask, session: Session, world: World) -> Ctx:
    case = make_case(session, world.actor("nurse"))
    assert case.principal is not None
    photos.set_photo(session, world.actor("nurse"), case.principal.id, jpeg(), "image/jpeg")
    foreign_case = make_case(session, world.actor("foreign"))
    rules = app.extensions["pmha.rules"]
    plan = workflow.current(session, world.actor("panel_physician"), rules, case.principal.id)
    step = next(s for s in plan.steps if s.code == "physical_exam")
    physician = world.actor("panel_physician")
    draft = exams.save_draft(
        session,
        physician,
        case.principal.id,
        SectionDraft(
            kind=SectionKind.RECOMMENDATIONS, content={"special_schooling": False}, version=None
        ),
    )
    mental = exams.save_draft(
        session,
        physician,
        case.principal.id,
        SectionDraft(
            kind=SectionKind.MENTAL_HEALTH, content={"classification": "none"}, version=None
        ),
    )
    exams.sign(
        session,
        physician,
        rules,
        case.principal.id,
        SectionKind.MENTAL_HEALTH,
        mental.version,
        trusted_signature(world.users["panel_physician"], "exams:sign"),
    )
    order = lab_service.order_tests(session, physician, rules, case.principal.id, ["sputum_smear"])[
        0
    ]
    change = PlanChange(
        applicant_id=case.principal.id,
        code="hcv_test",
        state="new",
        planned_before="none",
        planned_after="required",
        rules_version="t",
    )
    session.add(change)
    study = radiology.upload(
        session,
        world.actor("radiologist"),
        case.principal.id,
        dicom_factory.make(),
        Path(app.extensions["pmha.config"].STORAGE_DIR),
    )
    held = radiology.upload(
        session,
        world.actor("radiologist"),
        case.principal.id,
        dicom_factory.wrong_patient(),
        Path(app.extensions["pmha.config"].STORAGE_DIR),
    )
    session.commit()
    report = attachments.attach(
        session,
        physician,
        case.principal.id,
        "specialist_report",
        REPORT_PDF,
        Path(app.extensions["pmha.config"].STORAGE_DIR),
    )
    session.commit()
    nurse = world.actor("nurse")
    lot = stock.receive_lot(
        session,
        nurse,
        NewLot(
            cvx="115",
            mvx="SKB",
            lot="AUTH1",
            expiry=date(2099, 1, 1),
            quantity=5,
            received_on=date.today(),
        ),
    )
    vaccination = vaccinations.record_vaccination(
        session,
        nurse,
        case.principal.id,
        NewVaccination(
            kind=RecordKind.HISTORICAL, cvx="03", date=date(2000, 1, 1), information_source="03"
        ),
    )
    condition = vaccine_observations.add(
        session, nurse, case.principal.id, NewObservation(code="014")
    )
    session.commit()
    return Ctx(
        world, case, case.principal, foreign_case, step, draft, order, change, study, report,
        lot, vaccination, held, condition,
    )  # fmt: skip


def _expected(route: Route, caller: str) -> str:
    if route.kind == PUBLIC:
        return "ok"
    if caller == "anonymous":
        return "unauthenticated"
    role = "panel_physician" if caller == "foreign" else caller
    if role not in route.allowed or (route.succeeds is not None and role not in route.succeeds):
        return "forbidden"
    if caller == "foreign" and route.foreign == RECORD:
        return "not_found"
    return "ok"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[-1500:]
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert {"type", "title", "status", "detail", "code", "request_id"} <= set(body)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def _call(route: Route, caller: str, ctx: Ctx, client: FlaskClient, signed_in: Any) -> Any:
    url = route.url(ctx)
    is_api = url.startswith("/api/")
    headers: dict[str, str] = {}
    if caller != "anonymous":
        if is_api:
            headers = ctx.world.auth(caller)
        else:
            signed_in(caller)
    kwargs: dict[str, Any] = {"headers": headers}
    if route.upload is not None:
        kwargs.update(data=route.upload(ctx), content_type=route.upload_type)
    if route.body is not None:
        body = route.body(ctx)
        if is_api:
            kwargs["json"] = body
        else:
            token_page = client.get("/" if caller != "anonymous" else "/login")
            body["csrf_token"] = csrf_token(token_page.get_data(as_text=True))
            token_page.close()
            kwargs["data"] = body
    return client.open(url, method=route.method, **kwargs)


def _lister(route: Route, response: Any) -> Callable[[FamilyCase], bool]:
    """Whether a case is among the results: by id on the API, by case number on a page."""
    text = response.get_data(as_text=True)
    if route.kind == API:
        return lambda case: str(case.id) in text
    return lambda case: case.case_number in text


@pytest.mark.parametrize(
    ("route", "caller"),
    [
        pytest.param(route, caller, id=f"{route.method} {route.endpoint} as {caller}")
        for route in ROUTES
        for caller in CALLERS
    ],
)
def test_route_access(
    route: Route, caller: str, app: Flask, ctx: Ctx, client: FlaskClient, signed_in: Any
) -> None:
    path = urlsplit(route.url(ctx)).path
    assert app.url_map.bind("localhost").match(path, method=route.method)[0] == route.endpoint

    response = _call(route, caller, ctx, client, signed_in)
    expected = _expected(route, caller)
    is_api = path.startswith("/api/")
    try:
        if expected == "ok":
            status = route.ok
            if caller != "anonymous" and route.ok_signed_in is not None:
                status = route.ok_signed_in
            assert response.status_code == status, response.get_data(as_text=True)[-1500:]
            if route.foreign == RESULTS:
                listed = _lister(route, response)
                mine, theirs = (
                    (ctx.foreign_case, ctx.case)
                    if caller == "foreign"
                    else (ctx.case, ctx.foreign_case)
                )
                assert listed(mine), "a case of the caller's own site is missing"
                assert not listed(theirs), "a case of another site was listed"
        elif expected == "unauthenticated":
            if is_api:
                assert_problem(response, 401, "auth.unauthenticated")
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
            else:
                assert response.status_code == 302
                assert response.headers["Location"].startswith("/login?next=")
        elif expected == "forbidden":
            if is_api:
                assert_problem(response, 403, "auth.forbidden")
            else:
                assert response.status_code == 403
                assert response.mimetype == "text/html"
        else:
            assert expected == "not_found"
            if is_api:
                assert route.not_found is not None
                assert_problem(response, 404, route.not_found)
            else:
                assert response.status_code == 404
                assert ctx.case.case_number not in response.get_data(as_text=True)
    finally:
        response.close()


# --- credentials: bearer tokens on the API only, and only live ones ------------------------------


def test_a_page_session_cookie_is_not_accepted_on_the_api(
    client: FlaskClient, signed_in: Any, ctx: Ctx, session: Session
) -> None:
    signed_in("panel_physician")
    assert client.get("/cases").status_code == 200  # the cookie works on pages
    before = session.scalar(select(func.count()).select_from(FamilyCase))
    for method, url, body in [
        ("GET", "/api/v1/cases", None),
        ("GET", f"/api/v1/cases/{ctx.case.id}", None),
        ("POST", "/api/v1/cases", _new_family()),
    ]:
        response = client.open(url, method=method, json=body)
        assert_problem(response, 401, "auth.unauthenticated")
    assert session.scalar(select(func.count()).select_from(FamilyCase)) == before


def test_a_bearer_token_is_not_accepted_on_pages(client: FlaskClient, ctx: Ctx) -> None:
    response = client.get("/cases", headers=ctx.world.auth("panel_physician"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def _token_row(session: Session, token: str) -> ApiToken:
    row = session.get(ApiToken, uuid.UUID(hex=token.split("_")[1]))
    assert row is not None
    return row


def test_a_live_token_is_accepted(client: FlaskClient, world: World) -> None:
    assert client.get("/api/v1/cases", headers=world.auth("nurse")).status_code == 200


def test_an_expired_token_is_401(client: FlaskClient, world: World, session: Session) -> None:
    _token_row(session, world.tokens["nurse"]).expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    response = client.get("/api/v1/cases", headers=world.auth("nurse"))
    assert_problem(response, 401, "auth.unauthenticated")


def test_a_revoked_token_is_401(client: FlaskClient, world: World, session: Session) -> None:
    _token_row(session, world.tokens["nurse"]).revoked_at = utcnow()
    session.commit()
    response = client.get("/api/v1/cases", headers=world.auth("nurse"))
    assert_problem(response, 401, "auth.unauthenticated")


def test_a_deactivated_users_token_is_401(
    client: FlaskClient, world: World, session: Session
) -> None:
    accounts.set_active(session, SYSTEM, world.users["nurse"], False)
    session.commit()
    response = client.get("/api/v1/cases", headers=world.auth("nurse"))
    assert_problem(response, 401, "auth.unauthenticated")


def test_a_deactivated_users_page_session_ends(
    client: FlaskClient, signed_in: Any, world: World, session: Session
) -> None:
    signed_in("nurse")
    session.expire_all()  # signing in changed the user row
    accounts.set_active(session, SYSTEM, world.users["nurse"], False)
    session.commit()
    response = client.get("/cases")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


MALFORMED: dict[str, Callable[[str], str]] = {
    "empty": lambda t: "",
    "scheme only": lambda t: "Bearer",
    "blank token": lambda t: "Bearer   ",
    "garbage": lambda t: "Bearer not-a-token",
    "no scheme": lambda t: t,
    "basic scheme": lambda t: "Basic dF9udXJzZTpjb3JyZWN0LWhvcnNlLWJhdHRlcnk=",
    "token scheme": lambda t: f"Token {t}",
    "bad id": lambda t: "Bearer pmha_zzzz_" + t.split("_", 2)[2],
    "unknown id": lambda t: "Bearer pmha_" + "0" * 32 + "_" + t.split("_", 2)[2],
    "wrong secret": lambda t: "Bearer " + t[:-4] + "AAAA",
    "secret with suffix": lambda t: f"Bearer {t}x",
    "two tokens": lambda t: f"Bearer {t} {t}",
    "wrong prefix": lambda t: "Bearer pmhb_" + t.split("_", 1)[1],
}


@pytest.mark.parametrize("shape", list(MALFORMED))
def test_a_malformed_token_is_401(client: FlaskClient, world: World, shape: str) -> None:
    header = MALFORMED[shape](world.tokens["nurse"])
    response = client.get("/api/v1/cases", headers={"Authorization": header})
    assert_problem(response, 401, "auth.unauthenticated")


def _residence_period(c: Ctx) -> uuid.UUID:
    """A residence period of the home principal (made once per test)."""
    from sqlalchemy.orm import object_session

    from pmha.workflow.models import ResidencePeriod

    found = getattr(c, "residence_period", None)
    if found is None:
        session = object_session(c.case)
        assert session is not None
        found = ResidencePeriod(
            id=uuid.uuid4(), applicant_id=c.applicant.id, country="UG",
            started_on=date(2019, 6, 1),
        )  # fmt: skip
        session.add(found)
        session.commit()
        c.residence_period = found  # type: ignore[attr-defined]
    return found.id


def _export_bundle(c: Ctx) -> uuid.UUID:
    """An export bundle row of the home case (made once per test)."""
    from sqlalchemy.orm import object_session

    from pmha.exports.models import ExportBundle

    found = getattr(c, "export_bundle", None)
    if found is None:
        session = object_session(c.case)
        assert session is not None
        found = ExportBundle(
            id=uuid.uuid4(), case_id=c.case.id, site_id=c.case.site_id, destination="US",
            content_sha256="0" * 64, envelope_sha256="0" * 64, size_bytes=1, files=1,
            recipient_fingerprint="0" * 64,
        )  # fmt: skip
        session.add(found)
        session.commit()
        c.export_bundle = found  # type: ignore[attr-defined]
    return found.id


def _imported_bundle(c: Ctx) -> uuid.UUID:
    """A bundle imported by the US authority (made once per test)."""
    from sqlalchemy.orm import object_session

    from pmha.exports.models import ImportedBundle

    found = getattr(c, "imported_bundle", None)
    if found is None:
        session = object_session(c.case)
        assert session is not None
        found = ImportedBundle(
            id=uuid.uuid4(), destination="US", sending_site="IST test", signer_fingerprint="0" * 64,
            signed_at=utcnow(), case_number="IST-T-1", manifest={"files": []},
            envelope_sha256="0" * 64,
        )  # fmt: skip
        session.add(found)
        session.commit()
        c.imported_bundle = found  # type: ignore[attr-defined]
    return found.id


def _export_job(c: Ctx) -> uuid.UUID:
    """A finished export job of the home case (made once per test)."""
    from sqlalchemy.orm import object_session

    from pmha.exports.models import ExportJob, JobState

    found = getattr(c, "export_job", None)
    if found is None:
        session = object_session(c.case)
        assert session is not None
        found = ExportJob(case_id=c.case.id, site_id=c.case.site_id, state=JobState.FAILED,
                          step="failed", error_code="exports.invalid_content")  # fmt: skip
        session.add(found)
        session.commit()
        c.export_job = found  # type: ignore[attr-defined]
    return found.id


def _imported_traveller(c: Ctx) -> uuid.UUID:
    """A traveller of the US authority's stand-in arrival, with a minimal FHIR document."""
    from sqlalchemy.orm import object_session

    from pmha.exports.models import ImportedTraveller

    found = getattr(c, "imported_traveller", None)
    if found is None:
        session = object_session(c.case)
        assert session is not None
        found = ImportedTraveller(
            import_id=_imported_bundle(c), family_name="Nasser", given_names="Layla",
            birth_date=date(1990, 6, 1), clearance="cleared", classifications=[], follow_up=[],
            fhir={"resourceType": "Bundle", "type": "document", "entry": []},
        )  # fmt: skip
        session.add(found)
        session.commit()
        c.imported_traveller = found  # type: ignore[attr-defined]
    return found.id
