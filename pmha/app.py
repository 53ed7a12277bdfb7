"""The application factory: configuration, database, auth, jobs, blueprints from one list."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, jsonify
from flask_wtf.csrf import CSRFProtect

from pmha.config import Config, ConfigError
from pmha.core import file_crypto
from pmha.core.auth import init_auth
from pmha.core.db import database, init_db
from pmha.core.http import init_http
from pmha.core.i18n import init_i18n
from pmha.core.tasks import init_celery
from pmha.core.throttle import Throttle


def _blueprints() -> list[Blueprint]:
    from pmha.accounts.api import bp as accounts_api
    from pmha.accounts.views import bp as accounts_pages
    from pmha.audit.views import bp as audit_pages
    from pmha.cases.api import bp as cases_api
    from pmha.cases.views import bp as cases_pages
    from pmha.documents.views import bp as documents_pages
    from pmha.exams.api import bp as exams_api
    from pmha.exams.lab_api import bp as labs_api
    from pmha.exams.radiology_api import bp as radiology_api
    from pmha.exams.views import bp as exams_pages
    from pmha.exports.api import bp as exports_api
    from pmha.exports.views import bp as exports_pages
    from pmha.tb_dot.api import bp as tb_dot_api
    from pmha.tb_dot.views import bp as tb_dot_pages
    from pmha.travel.api import bp as travel_api
    from pmha.travel.views import bp as travel_pages
    from pmha.vaccines.api import bp as vaccines_api
    from pmha.vaccines.views import bp as vaccines_pages
    from pmha.web.views import bp as web_pages
    from pmha.workflow.api import bp as workflow_api
    from pmha.workflow.residence_api import bp as residence_api
    from pmha.workflow.views import bp as workflow_pages

    return [
        web_pages,
        accounts_pages,
        accounts_api,
        cases_pages,
        workflow_pages,
        exams_pages,
        exports_pages,
        exports_api,
        vaccines_pages,
        documents_pages,
        audit_pages,
        cases_api,
        workflow_api,
        residence_api,
        exams_api,
        labs_api,
        radiology_api,
        vaccines_api,
        tb_dot_pages,
        tb_dot_api,
        travel_pages,
        travel_api,
    ]


def _load_rules(app: Flask, config: Config) -> None:
    """The destination rule files, all valid or none: the service refuses to start otherwise."""
    from pathlib import Path

    from pmha.rules import RuleFileError, load_rules

    try:
        app.extensions["pmha.rules"] = load_rules(Path(config.RULES_DIR))
    except RuleFileError as exc:
        raise ConfigError(f"rule files in {config.RULES_DIR} are not valid:\n{exc}") from None


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.update(config.flask_settings())
    app.extensions["pmha.config"] = config
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Werkzeug's own access log prints full URLs with query strings; ours prints route patterns.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    _load_rules(app, config)
    file_crypto.register(config.STORAGE_DIR, file_crypto.FileCipher.from_text(config.FILE_KEYS))
    init_db(app, config.DATABASE_URL, config.AUDIT_KEY)
    init_http(app)
    app.extensions["pmha.throttle"] = Throttle(
        config.throttle_storage,
        per_client=config.THROTTLE_PER_CLIENT,
        per_account=config.THROTTLE_PER_ACCOUNT,
    )
    init_i18n(app)
    from pmha.accounts.web_auth import actor_from_session, actor_from_token

    init_auth(app, token_loader=actor_from_token, session_loader=actor_from_session)
    init_celery(app, config)
    from pmha.workflow.service import replan_changed

    # A commit that changed applicants re-plans each once (pmha.core.changes), with the rule
    # book the app holds at that moment.
    database(app).on_applicants_changed.append(replan_changed(lambda: app.extensions["pmha.rules"]))
    csrf = CSRFProtect(app)

    from pmha import tasks  # noqa: F401  (registers the job functions)

    for bp in _blueprints():
        app.register_blueprint(bp)
        if (bp.url_prefix or "").startswith("/api/"):
            csrf.exempt(bp)  # bearer tokens only, never cookies: nothing to forge

    if config.BENCH_ENDPOINTS:
        from pmha.web.bench import bp as bench

        app.register_blueprint(bench)

    @app.get("/api/openapi.json")
    def openapi() -> Response:
        from pmha.core.openapi import build_spec

        return jsonify(build_spec(app))

    return app
