"""Alerts: something a person must hear of (a rejected document, a dead letter, an
expiring certificate, an overdue 997/999), and one row per person or system told.

An alert and its recipients are written in the same transaction as what caused it (the
rejection, the dead letter, the overdue mark), so nothing that happened goes unannounced
and nothing is announced that did not happen. A sender sends each recipient row once:
it is claimed (a lease) before the send and marked ``sent`` after it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.store.models import Base, utcnow


class Alert(Base):
    """One thing that happened, once: ``key`` (say ``document_rejected:doc_…``) is unique,
    so the same rejection found again (a sweep, a retry) is not announced twice."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # see gateway.alerts.kinds.AlertKind
    partner_id: Mapped[str | None] = mapped_column(String(64), index=True)
    document_id: Mapped[str | None] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # plain language, no link (the link is added per recipient)
    path: Mapped[str] = mapped_column(String(255))  # the console page it points at, e.g. /documents/doc_…
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    recipients: Mapped[list[AlertRecipient]] = relationship(back_populates="alert", order_by="AlertRecipient.id")


class AlertRecipient(Base):
    """The alert for one recipient over one channel (``email`` to an address, or ``webhook``)."""

    __tablename__ = "alert_recipients"
    __table_args__ = (UniqueConstraint("alert_id", "channel", "address", name="uq_alert_recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook
    address: Mapped[str] = mapped_column(String(255))  # the e-mail address; "webhook" for the webhook
    why: Mapped[str] = mapped_column(String(120))  # "partner contact of demo", "role support (user sam)"
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    lease_until: Mapped[datetime | None]  # a sender holds it until then
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]

    alert: Mapped[Alert] = relationship(back_populates="recipients")
