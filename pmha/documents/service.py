"""Which language a document is printed in, and the two preferences that decide it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pmha.accounts.models import User
from pmha.cases.models import Applicant
from pmha.core import audit, i18n
from pmha.core.auth import Actor
from pmha.core.errors import ValidationFailed


class LanguageUnknown(ValidationFailed):
    code = "documents.language_unknown"
    title = "PMHA has no documents in that language"


def _checked(raw: str | None, field: str) -> str:
    found = i18n.known(raw)
    if found is None:
        names = ", ".join(f"{name} ({code})" for code, name in i18n.LANGUAGES.items())
        raise LanguageUnknown(
            f"Documents can be printed in {names}.",
            errors={field: [f"Choose one of: {names}."]},
        )
    return found


def user_language(session: Session, actor: Actor) -> str | None:
    user = session.get(User, actor.user_id) if actor.user_id else None
    return user.language if user else None


def document_language(
    session: Session, actor: Actor, applicant: Applicant | None, asked: str | None
) -> str:
    """The language asked for on the link (`?lang=`), else the applicant's, else the user's,
    else English. A language PMHA does not speak is a 422 naming the ones it does."""
    if asked is not None and asked.strip():
        return _checked(asked, "lang")
    preferred = applicant.preferred_language if applicant is not None else None
    return i18n.choose(preferred, user_language(session, actor))


def set_applicant_language(
    session: Session, actor: Actor, applicant: Applicant, raw: str | None
) -> str:
    """Record the language the applicant reads (their documents default to it); audited."""
    actor.check("cases:write")
    lang = _checked(raw, "language")
    before = applicant.preferred_language
    applicant.preferred_language = lang
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "applicant",
        applicant.id,
        site_id=applicant.case.site_id,
        before={"preferred_language": before},
        after={"preferred_language": lang},
    )
    return lang


def set_user_language(session: Session, actor: Actor, raw: str | None) -> str:
    """The user's own choice: the language their documents default to; audited."""
    lang = _checked(raw, "language")
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise ValidationFailed("Only a signed-in user has a language to choose.")
    before = user.language
    user.language = lang
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "user",
        user.id,
        before={"language": before},
        after={"language": lang},
    )
    return lang
