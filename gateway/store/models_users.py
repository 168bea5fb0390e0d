"""Console tables (issue #12): people who sign in to the web console, and what support
decided about a rejected document (ignored, or resolved by a corrected resubmission).

A console user is not an API token: it signs in with a password (argon2 hash only) and
holds a cookie session. Resolutions and resubmissions only point at documents: the
original row and its bytes are never changed by them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow


class ConsoleUser(Base):
    """A person with a role (``admin``, ``buyer``, ``support``, ``viewer``, ``partner``)."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[str | None] = mapped_column(String(64))  # required for the partner role
    email: Mapped[str | None] = mapped_column(String(254))  # alerts for the role go here (migration 0098)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, never the password
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class DocumentResolution(Base):
    """Support closed a rejected document: ``ignored`` (with a reason) or ``resubmitted``
    (``resolved_by`` is the corrected document). One per document; the newest decision wins."""

    __tablename__ = "document_resolutions"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # ignored, resubmitted
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    actor: Mapped[str] = mapped_column(String(160))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Resubmission(Base):
    """A corrected copy of a document, submitted by support as a new document.

    ``diff`` is a unified diff from the original bytes to the corrected ones; ``send_ack``
    says whether the partner is sent an acknowledgment for our copy (by default not: the
    partner never sent it)."""

    __tablename__ = "resubmissions"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)  # the new one
    original_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    reason_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    diff: Mapped[str] = mapped_column(Text)
    send_ack: Mapped[bool] = mapped_column(default=False)
    actor: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedSearch(Base):
    """A search a user named, kept as the query string of its shareable URL."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_search_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text)  # e.g. "status=open&partner=demo"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CorrectionApproval(Base):
    """A corrected copy waiting for a second operator (the partner's ``corrections:
    second_approver``), revision 0099. The bytes are in the blob store; no document exists
    for them until ``state`` is ``approved`` (then ``new_document_id`` names it)."""

    __tablename__ = "correction_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    original_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    reason_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    diff: Mapped[str] = mapped_column(Text)
    send_ack: Mapped[bool] = mapped_column(default=False)
    requested_by: Mapped[str] = mapped_column(String(160))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending, approved, declined
    decided_by: Mapped[str | None] = mapped_column(String(160))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    new_document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
