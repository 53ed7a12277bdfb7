"""TB pages: today's DOT list, an applicant's TB page (classification, treatment and its
adherence chart), the referral letter, and the programme summary."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from pmha.accounts import signatures
from pmha.accounts.web_auth import confirm_signature
from pmha.cases.models import Applicant
from pmha.core.auth import actor
from pmha.core.context import rulebook
from pmha.core.db import get_session, utcnow
from pmha.core.forms import Failed, form_action, form_data
from pmha.documents.service import document_language
from pmha.tb_dot import api, chart, classify, letter, service, summary
from pmha.tb_dot.context import catalogue
from pmha.web.files import sent_file
from pmha.web.pages import RECORD, Pages
from pmha.web.record import page_context, version_of
from pmha.web.words import FLAG_WORDS
from pmha.workflow.labels import CLEARANCE

bp = Blueprint("tb_dot", __name__)
pages = Pages(bp)
record_pages = Pages(bp, prefix=RECORD)

DOSE_WORDS = chart.WORDS
OUTCOME_WORDS = {
    "cured": "Cured",
    "treatment_completed": "Treatment completed",
    "treatment_failed": "Treatment failed",
    "lost_to_follow_up": "Lost to follow-up",
    "died": "Died",
    "not_evaluated": "Not evaluated (e.g. transferred out)",
}


def _episode_page(episode_id: uuid.UUID) -> Any:
    episode = service.load_episode(get_session(), actor(), episode_id)
    applicant = service.episode_applicant(episode)
    return redirect(
        url_for(".applicant", case_id=applicant.case_id, applicant_id=applicant.id, _anchor="dot")
    )


@record_pages.page("/tb", "tb_dot:read", endpoint="applicant")
def _page(applicant: Applicant, failed: Failed | None = None, status: int = 200) -> Any:
    db, me = get_session(), actor()
    found = classify.classify(db, me, rulebook(), applicant.id)
    episode = service.latest_episode(db, applicant.id)
    treatment = drawn = None
    alerts: list[Any] = []
    if episode is not None:
        treatment = service.get_treatment(db, me, catalogue(), episode.id)
        drawn = chart.build(treatment.episode, treatment.progress, utcnow().date())
        alerts = summary.alerts(db, episode)
    rules = catalogue().get(applicant.case.destination.value)
    return render_template(
        "tb_dot/applicant.html",
        found=found,
        t=treatment,
        chart=drawn,
        alerts=alerts,
        flags=summary.flags(treatment)
        if treatment and treatment.episode.status.value == "active"
        else [],
        flag_words=FLAG_WORDS,
        regimens=rules.regimens if rules else {},
        dose_words=DOSE_WORDS,
        chart_colours=chart.COLOURS,
        outcome_words=OUTCOME_WORDS,
        clearance_words=CLEARANCE,
        failed=failed,
        can_sign=me.can("exams:sign"),
        signer=signatures.preview(get_session(), me, "exams:sign")[0]
        if me.can("exams:sign")
        else None,
        can_write=me.can("tb_dot:write"),
        **page_context(applicant, "tb_dot.applicant"),
    ), status


@record_pages.post("/tb/confirm", "exams:sign")
def confirm(applicant: Applicant) -> Any:
    raw = form_data(request.form, ["note"])

    def act(_: None) -> None:
        signature = confirm_signature(request.form.get("password", "")[:200], "exams:sign")
        classify.confirm(
            get_session(), actor(), rulebook(), applicant.id, raw.get("note"), signature
        )

    form_action("confirm", raw, act, lambda failed: _page(applicant, failed))
    flash("TB classification confirmed.")
    return redirect(url_for(".applicant", case_id=applicant.case_id, applicant_id=applicant.id))


EPISODE_FIELDS = ["diagnosed_on", "site", "susceptibility", "resistance", "cavitation",
                  "weight_kg", "regimen", "start_date", "dot_site", "referral_centre"]  # fmt: skip


@record_pages.post("/tb/episodes", "exams:sign")
def start(applicant: Applicant) -> Any:
    raw = form_data(request.form, EPISODE_FIELDS)
    body = dict(raw)
    if body.get("cavitation"):
        body["cavitation"] = body["cavitation"] == "yes"
    drugs = [request.form.get(f"phase{i}_drugs", "").strip() for i in (1, 2)]
    doses = [request.form.get(f"phase{i}_doses", "").strip() for i in (1, 2)]
    if body.get("regimen") == "custom":
        names = ("intensive", "continuation")
        body["phases"] = [
            {
                "name": names[i],
                "drugs": drugs[i],
                "doses": int(doses[i]) if doses[i].isdigit() else 0,
            }
            for i in (0, 1)
            if drugs[i] or doses[i]
        ]
    form_action(
        "start",
        raw,
        lambda cmd: service.start_episode(get_session(), actor(), catalogue(), applicant.id, cmd),
        lambda failed: _page(applicant, failed),
        schema=api.EpisodeIn(),
        typed=body,
    )
    flash("Treatment started.")
    return redirect(
        url_for(".applicant", case_id=applicant.case_id, applicant_id=applicant.id, _anchor="dot")
    )


@pages.post("/dot/episodes/<uuid:episode_id>/doses", "tb_dot:write")
def record_dose(episode_id: uuid.UUID) -> Any:
    raw = form_data(request.form, ["date", "status", "description", "back"])
    back = raw.pop("back", "")
    raw.setdefault("date", utcnow().date().isoformat())
    episode = service.load_episode(get_session(), actor(), episode_id)
    applicant = service.episode_applicant(episode)

    def page(failed: Failed) -> Any:
        if back == "list":
            return _list(failed, episode_id)
        return _page(applicant, failed)

    form_action(
        "dose",
        raw,
        lambda cmd: service.record_dose(get_session(), actor(), catalogue(), episode.id, cmd),
        page,
        schema=api.DoseIn(),
        status=422,
    )
    flash(f"Dose of {raw['date']} recorded: {DOSE_WORDS[raw['status']].lower()}.")
    if back == "list":
        return redirect(url_for(".dot_list", _anchor=f"e-{episode_id}"))
    return redirect(
        url_for(".applicant", case_id=applicant.case_id, applicant_id=applicant.id, _anchor="dot")
    )


@pages.post("/dot/episodes/<uuid:episode_id>/sputum", "tb_dot:write")
def record_sputum(episode_id: uuid.UUID) -> Any:
    raw = form_data(request.form, ["collected_on", "smear", "culture"])
    episode = service.load_episode(get_session(), actor(), episode_id)
    applicant = service.episode_applicant(episode)
    found = form_action(
        "sputum",
        raw,
        lambda cmd: service.record_sputum(get_session(), actor(), catalogue(), episode.id, cmd),
        lambda failed: _page(applicant, failed),
        schema=api.SputumIn(),
    )
    text = "Sputum check recorded."
    if found.episode.extended:
        text += " The continuation phase is extended (cavitation and a positive culture)."
    flash(text)
    return _episode_page(episode_id)


@pages.post("/dot/episodes/<uuid:episode_id>/close", "exams:sign")
def close(episode_id: uuid.UUID) -> Any:
    raw = form_data(request.form, ["outcome", "note", "version"])
    episode = service.load_episode(get_session(), actor(), episode_id)
    applicant = service.episode_applicant(episode)
    _, planned = form_action(
        "close",
        raw,
        lambda cmd: service.close_episode(
            get_session(), actor(), rulebook(), catalogue(), episode.id, cmd
        ),
        lambda failed: _page(applicant, failed),
        schema=api.CloseIn(),
        typed={**raw, "version": version_of(raw.get("version"))},
    )
    words = CLEARANCE.get(planned.decision.status, (planned.decision.status, ""))[0]
    flash(f"Treatment closed: {OUTCOME_WORDS[raw['outcome']].lower()}. Clearance now: {words}.")
    return redirect(url_for(".applicant", case_id=applicant.case_id, applicant_id=applicant.id))


@pages.get("/dot/episodes/<uuid:episode_id>/referral-letter.pdf", "tb_dot:read")
def referral_letter(episode_id: uuid.UUID) -> Any:
    found = service.get_treatment(get_session(), actor(), catalogue(), episode_id)
    # ?lang=tr|ar|en, else the applicant's recorded language, else the user's (issue 18)
    lang = document_language(get_session(), actor(), found.applicant, request.args.get("lang"))
    body = letter.referral_letter(found, lang)
    return sent_file(body, "application/pdf", "dot-referral.pdf")


@pages.page("/dot", "tb_dot:read", endpoint="dot_list")
def _list(failed: Failed | None = None, target: uuid.UUID | None = None, status: int = 200) -> Any:
    rows = summary.dot_list(get_session(), actor(), catalogue())
    return render_template(
        "tb_dot/list.html",
        rows=rows,
        failed=failed,
        target=target,
        flag_words=FLAG_WORDS,
        dose_words=DOSE_WORDS,
        can_write=actor().can("tb_dot:write"),
        nav="dot",
    ), status


@pages.get("/dot/programme", "tb_dot:read")
def programme() -> Any:
    found = summary.programme_summary(get_session(), actor(), catalogue())
    return render_template("tb_dot/programme.html", s=found, outcome_words=OUTCOME_WORDS, nav="dot")
