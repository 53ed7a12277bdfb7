"""Every module that defines jobs, imported once so that workers and the app know them."""

from pmha.audit import tasks as audit_tasks
from pmha.exams import tasks as exams_tasks
from pmha.exports import tasks as exports_tasks
from pmha.tb_dot import tasks as tb_dot_tasks
from pmha.workflow import tasks as workflow_tasks

__all__ = ["audit_tasks", "exams_tasks", "exports_tasks", "tb_dot_tasks", "workflow_tasks"]
