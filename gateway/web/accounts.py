"""Managing who may get in: console users and API tokens (admin only, page and API).

List, create (a token's secret is returned once and never stored), revoke a token,
disable or enable a user. A revoked token and a disabled user are refused on their very
next request (both are looked up on every request). Each change writes its audit row in
its own transaction. An admin cannot disable themselves or the last enabled admin: the
installation would have nobody left to manage it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from gateway.store.models import utcnow
from gateway.store.models_api import ApiToken, AuditEntry
from gateway.store.models_users import ConsoleUser
from gateway.web.auth import ROLES, create_token, token_digest
from gateway.web.users import UserError, create_user

MAX_NAME = 120
MAX_REASON = 2000


class AccountError(ValueError):
    """The change cannot be made as asked (the message says why); nothing changed."""


class ReasonRequired(AccountError):
    pass


class NoSuchAccount(LookupError):
    pass


def _reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired("say why: a reason is required (it goes to the audit log)")
    return reason.strip()[:MAX_REASON]


def list_users(rt) -> list[dict]:
    with rt.session() as s:
        return [{"id": u.id, "username": u.username, "role": u.role, "partner_id": u.partner_id,
                 "created_at": u.created_at.isoformat(), "disabled_at": u.disabled_at.isoformat() if u.disabled_at
                 else None} for u in s.scalars(select(ConsoleUser).order_by(ConsoleUser.username))]


def list_tokens(rt) -> list[dict]:
    with rt.session() as s:
        return [{"id": t.id, "name": t.name, "role": t.role, "partner_id": t.partner_id,
                 "created_at": t.created_at.isoformat(), "revoked_at": t.revoked_at.isoformat() if t.revoked_at
                 else None} for t in s.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None),
                                                                           ApiToken.name, ApiToken.id))]


def add_user(rt, actor: str, username, password, role, partner_id) -> dict:
    if not all(isinstance(v, str) for v in (username, password, role)) or not isinstance(partner_id, (str, type(None))):
        raise AccountError("username, password and role must be text")
    try:
        user = create_user(rt, username, password, role, partner_id or None, actor=actor)
    except UserError as exc:
        raise AccountError(str(exc)) from None
    return {"id": user.id, "username": user.username, "role": user.role, "partner_id": user.partner_id}


def add_token(rt, actor: str, name, role, partner_id) -> dict:
    """The new token's id, name and role, and its secret (``token``): shown this once."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise AccountError(f"a token name of 1 to {MAX_NAME} characters is required")
    if not isinstance(role, str) or role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if not isinstance(partner_id, (str, type(None))):
        raise AccountError("partner_id must be text")
    try:
        secret = create_token(rt, name.strip(), role, partner_id or None, actor=actor)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    with rt.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(secret)))
        return {"id": row.id, "name": row.name, "role": row.role, "partner_id": row.partner_id, "token": secret}


def revoke_token(rt, actor: str, token_id: int, reason) -> dict:
    why = _reason(reason)
    with rt.session() as s:
        row = s.get(ApiToken, token_id, with_for_update=True)
        if row is None:
            raise NoSuchAccount(f"no token {token_id}")
        if row.revoked_at is not None:
            raise AccountError(f"token {row.name!r} was already revoked at {row.revoked_at.isoformat()}")
        row.revoked_at = utcnow()
        s.add(AuditEntry(at=row.revoked_at, actor=actor, action="token.revoke", target=f"token:{row.name}"[:160],
                         reason=why, details={"token_id": row.id, "role": row.role}))
        return {"id": row.id, "name": row.name, "revoked_at": row.revoked_at.isoformat()}


def set_user_disabled(rt, actor: str, user_id: int, disabled: bool, reason, *, acting_user_id: int | None = None) -> dict:
    why = _reason(reason)
    with rt.session() as s:
        row = s.get(ConsoleUser, user_id, with_for_update=True)
        if row is None:
            raise NoSuchAccount(f"no user {user_id}")
        if disabled:
            if row.disabled_at is not None:
                raise AccountError(f"{row.username!r} is already disabled")
            if acting_user_id is not None and row.id == acting_user_id:
                raise AccountError("you cannot disable yourself; ask another admin")
            if row.role == "admin" and s.scalar(select(func.count()).select_from(ConsoleUser).where(
                    ConsoleUser.role == "admin", ConsoleUser.disabled_at.is_(None))) <= 1:
                raise AccountError("this is the last enabled admin: enable or create another admin first")
            row.disabled_at = utcnow()
        else:
            if row.disabled_at is None:
                raise AccountError(f"{row.username!r} is not disabled")
            row.disabled_at = None
        s.add(AuditEntry(at=utcnow(), actor=actor, action="user.disable" if disabled else "user.enable",
                         target=f"user:{row.username}"[:160], reason=why, details={"user_id": row.id}))
        return {"id": row.id, "username": row.username,
                "disabled_at": row.disabled_at.isoformat() if row.disabled_at else None}
