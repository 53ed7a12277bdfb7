"""Celery entry point: `celery -A pmha.worker worker`."""

from pmha.app import create_app

app = create_app()
celery = app.extensions["celery"]
