"""Every module that defines jobs, imported once so that workers and the app know them."""

from pmha.audit import tasks as audit_tasks

__all__ = ["audit_tasks"]
