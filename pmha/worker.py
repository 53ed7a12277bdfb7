"""Celery entry point: `celery -A pmha.worker worker`."""

from pmha.app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
