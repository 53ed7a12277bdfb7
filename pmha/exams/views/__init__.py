"""Pages of the clinical record: exam sections, labs and chest X-rays of an applicant."""

from pmha.exams.views import labs, radiology, sections, worklists  # noqa: F401  (they add the routes)
from pmha.exams.views.common import bp

__all__ = ["bp"]
