"""Bearer-token authentication and roles for ``/api/v1``.

Roles: ``admin`` (everything), ``support`` (read, upload for a partner, reprocess,
replay), ``buyer`` and ``viewer`` (read), ``partner`` (upload and read its own
documents only). Tokens are random, shown once, and stored as SHA-256 hashes.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app, g, jsonify, request
from sqlalchemy import select

from gateway.store.models import utcnow
from gateway.store.models_api import ApiToken, AuditEntry

ROLES = ("admin", "support", "buyer", "viewer", "partner")
READERS = ROLES
OPERATORS = ("admin", "support")


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    partner_id: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}"

    def may_see(self, partner_id: str | None) -> bool:
        return self.role != "partner" or (partner_id is not None and partner_id == self.partner_id)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


token_digest = _hash  # what is stored for a token (gateway.web.accounts finds a new token's row by it)


def create_token(rt, name: str, role: str, partner_id: str | None = None, *, actor: str = "cli") -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "partner" and partner_id not in rt.partners:
        raise ValueError("a partner token needs --partner with a known partner id")
    token = "gw_" + secrets.token_urlsafe(32)
    with rt.session() as s:
        s.add(ApiToken(name=name, role=role, partner_id=partner_id if role == "partner" else None,
                       token_sha256=_hash(token)))
        s.add(AuditEntry(actor=actor, action="token.create", target=f"token:{name}"[:AUDIT_TARGET_CHARS],
                         details={"role": role, "partner_id": partner_id if role == "partner" else None}))
    return token


def authenticate(rt, header: str | None) -> Principal | None:
    if not header or not header.startswith("Bearer "):
        return None
    with rt.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_sha256 == _hash(header[7:].strip()),
                                              ApiToken.revoked_at.is_(None)))
        return Principal(row.name, row.role, row.partner_id) if row else None


def require(*roles: str):
    """Decorator: the request must carry a token whose role is in ``roles``."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            principal = authenticate(current_app.extensions["gateway"], request.headers.get("Authorization"))
            if principal is None:
                return jsonify({"error": "a valid bearer token is required"}), 401, {"WWW-Authenticate": "Bearer"}
            if principal.role not in roles:
                audit(principal, "denied", request.path, details={"method": request.method})
                return jsonify({"error": f"the {principal.role} role may not do this"}), 403
            g.principal = principal
            return view(*args, **kwargs)

        return inner

    return wrap


def document_for(s, principal: Principal, document_id: str):
    """The document if ``principal`` may see it (a partner only its own), else None: the
    one visibility rule the API and the console pages both answer 404 by."""
    from gateway.store.models import Document

    doc = s.get(Document, document_id)
    return doc if doc is not None and principal.may_see(doc.partner_id) else None


AUDIT_TARGET_CHARS = 160  # audit_log.target is String(160)


def audit_entry(principal: Principal, action: str, target: str | None, reason: str | None = None,
                details: dict | None = None) -> AuditEntry:
    """The audit row for an action, for the caller to add in the action's own transaction.
    A target longer than its column (a caller-chosen URL path) is cut, never a failed insert."""
    return AuditEntry(at=utcnow(), actor=principal.actor, action=action,
                      target=target[:AUDIT_TARGET_CHARS] if target else target, reason=reason, details=details or {})


def audit(principal: Principal, action: str, target: str | None, reason: str | None = None,
          details: dict | None = None) -> None:
    """Write an audit row in a transaction of its own (for actions that change nothing here)."""
    with current_app.extensions["gateway"].session() as s:
        s.add(audit_entry(principal, action, target, reason, details))
