"""Console accounts: create one, check a password, load the signed-in user.

Passwords are hashed with argon2id (argon2-cffi's defaults) and never stored or logged.
A wrong username costs as much as a wrong password (a dummy hash is verified), so the
sign-in form does not tell which usernames exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from gateway.store.models_api import AuditEntry
from gateway.store.models_users import ConsoleUser
from gateway.web.auth import ROLES, Principal

MIN_PASSWORD = 12
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$")
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password anyone has")


class UserError(ValueError):
    """The account cannot be created as asked (the message says why)."""


@dataclass(frozen=True)
class SignedInUser:
    """What flask-login keeps for a request: the account, never its hash."""

    id: int
    username: str
    role: str
    partner_id: str | None

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def principal(self) -> Principal:
        """The same principal the API uses, so audit entries and visibility rules are shared."""
        return Principal(self.username, self.role, self.partner_id)


def _signed_in(row: ConsoleUser) -> SignedInUser:
    return SignedInUser(row.id, row.username, row.role, row.partner_id)


def check_email(email: str | None) -> str | None:
    """A plain ``local@domain`` address (where this user's alerts go), or None."""
    if email is None or not email.strip():
        return None
    email = email.strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise UserError(f"{email[:80]!r} is not an e-mail address (local@domain)")
    return email


def create_user(rt, username: str, password: str, role: str, partner_id: str | None = None,
                email: str | None = None, *, actor: str = "cli") -> SignedInUser:
    """A new account; ``email`` is where the alerts its role subscribes to go (docs/alerts.md)."""
    email = check_email(email)
    username = username.strip()
    if not username or len(username) > 120:
        raise UserError("a username of 1 to 120 characters is required")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if role == "partner" and partner_id not in rt.partners:
        raise UserError("a partner user needs --partner with a known partner id")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must be at least {MIN_PASSWORD} characters")
    with rt.session() as s:
        if s.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)) is not None:
            raise UserError(f"a user {username!r} already exists")
        row = ConsoleUser(username=username, role=role, partner_id=partner_id if role == "partner" else None,
                          password_hash=_hasher.hash(password), email=email)
        s.add(row)
        s.add(AuditEntry(actor=actor, action="user.create", target=f"user:{username}"[:160],
                         details={"role": role, "partner_id": row.partner_id}))
        s.flush()
        return _signed_in(row)


def check_password(rt, username: str, password: str) -> SignedInUser | None:
    """The user when the password is right and the account enabled; else None."""
    with rt.session() as s:
        row = s.scalar(select(ConsoleUser).where(ConsoleUser.username == username.strip()))
        stored = row.password_hash if row is not None else _DUMMY
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled_at is not None:
            return None
        if _hasher.check_needs_rehash(stored):  # parameters were raised since it was set
            row.password_hash = _hasher.hash(password)
        return _signed_in(row)


def load_user(rt, user_id: str) -> SignedInUser | None:
    """For flask-login: the account behind a session, if it still exists and is enabled."""
    if not user_id.isdigit():
        return None
    with rt.session() as s:
        row = s.get(ConsoleUser, int(user_id))
        return _signed_in(row) if row is not None and row.disabled_at is None else None
