"""JSON API for API tokens under /api/v1/: an administrator lists and revokes a user's tokens;
an integration revokes its own token (issue 19)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from marshmallow import fields
from sqlalchemy.orm import Session

from pmha.accounts import service
from pmha.accounts.models import ApiToken
from pmha.core.auth import Actor
from pmha.core.endpoint import Api
from pmha.core.errors import BadRequest
from pmha.core.http import load_json
from pmha.core.schemas import StrictSchema

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")
api = Api(bp, tag="cases")


class TokenOut(StrictSchema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(allow_none=True)
    last_used_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    state = fields.String(required=True, metadata={"enum": ["live", "expired", "revoked"]})


class TokensOut(StrictSchema):
    tokens = fields.List(fields.Nested(TokenOut), required=True)


class RevokeIn(StrictSchema):
    token_id = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "The token to revoke; without it, every live token of the user."},
    )


class RevokedOut(StrictSchema):
    revoked = fields.Integer(required=True)


def token_row(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
        "state": service.token_state(token),
    }


@api.get("/users/<username>/tokens", "users:manage", response=TokensOut)
def list_tokens(db: Session, username: str) -> Any:
    """A user's API tokens, with when each was last used"""
    db = db
    user = service.get_user(db, username)
    return TokensOut().dump({"tokens": [token_row(t) for t in service.tokens_of(db, user)]})


@api.post("/users/<username>/tokens/revoke", "users:manage", body=RevokeIn, response=RevokedOut)
def revoke_tokens(db: Session, me: Actor, username: str) -> Any:
    """Revoke one of a user's tokens, or all of them"""
    body = load_json(RevokeIn()) if request.get_data() else {"token_id": None}
    db = db
    user = service.get_user(db, username)
    return {"revoked": service.revoke_tokens(db, me, user, body["token_id"])}


@api.post("/token/revoke", "tokens:own", response=RevokedOut, also=(400,))
def revoke_own_token(db: Session, me: Actor) -> Any:
    """Revoke the token this request is made with (an integration retiring its own token)"""
    who = me
    if who.via != "token":
        raise BadRequest("Only a request made with a token can revoke it.")
    db = db
    return {"revoked": service.revoke_presented_token(db, who, request.headers["Authorization"])}
