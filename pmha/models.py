"""Imports every model module, so the metadata is complete (Alembic, tests)."""


def load_all() -> None:
    from pmha.accounts import models as _accounts  # noqa: F401
    from pmha.cases import models as _cases  # noqa: F401
    from pmha.core import audit as _audit  # noqa: F401
    from pmha.core import outbox as _outbox  # noqa: F401
    from pmha.exams import attachments as _attachments  # noqa: F401
    from pmha.exams import labs as _labs  # noqa: F401
    from pmha.exams import models as _exams  # noqa: F401
    from pmha.exams import radiology as _radiology  # noqa: F401
    from pmha.exports import models as _exports  # noqa: F401
    from pmha.tb_dot import models as _tb_dot  # noqa: F401
    from pmha.travel import models as _travel  # noqa: F401
    from pmha.vaccines import models as _vaccines  # noqa: F401
    from pmha.workflow import models as _workflow  # noqa: F401
