"""Transport records: AS2 messages both ways (with their MDNs, the evidence) and the
SFTP daily byte counts behind the per-partner quota.

Kept apart from ``gateway.store.models`` so the channel code owns its own tables; the
Alembic revision ``0002`` creates them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow


class As2Message(Base):
    """One AS2 message, inbound or outbound, and the MDN that answered it.

    Inbound: a row exists only once the message was verified; ``status`` becomes
    ``processed`` only after ``receive()`` stored the payload, and from then on the
    Message-ID counts as seen (a resend is answered with ``mdn`` again). Outbound: the
    payload is in the blob store (``sha256``); the row is retried until an MDN says
    ``processed`` (or attempts run out) and keeps that MDN as evidence.
    """

    __tablename__ = "as2_messages"
    __table_args__ = (UniqueConstraint("direction", "partner_id", "message_id", name="uq_as2_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str | None] = mapped_column(String(64))
    document_id: Mapped[str | None] = mapped_column(String(40))
    mic: Mapped[str | None] = mapped_column(String(200))  # "<base64>, <alg>"
    mdn_mode: Mapped[str] = mapped_column(String(8), default="none")  # sync, async, none
    mdn_url: Mapped[str | None] = mapped_column(Text)
    mdn_headers: Mapped[dict | None]
    mdn_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    mdn_status: Mapped[str | None] = mapped_column(Text)  # disposition, e.g. "processed"
    detail: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SftpUsage(Base):
    """Bytes and files a partner uploaded on one UTC day (the daily quota)."""

    __tablename__ = "sftp_usage"
    __table_args__ = (UniqueConstraint("partner_id", "day", name="uq_sftp_usage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, UTC
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    files: Mapped[int] = mapped_column(Integer, default=0)
