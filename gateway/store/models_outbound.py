"""Outbound documents: what we sent a partner, and whether its 997/999 came back.

Kept apart from ``gateway.store.models`` (the received side); Alembic revision ``0090``
creates the table. The bytes are a ``documents`` row (channel ``outbound``) and a blob,
so a sent 850 is found, shown and downloaded like anything received.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.store.models import Base, Document, utcnow


class OutboundDocument(Base):
    """One interchange we sent (one set in it), keyed by the ERP's Idempotency-Key.

    ``format`` is ``x12`` or ``cxml``. A cXML row is an OrderRequest POSTed to the
    partner's URL: ``transaction_set`` names the document (``OrderRequest``), the control
    numbers are empty, ``payload_id`` is its cXML payloadID, and the partner's synchronous
    Response is the acknowledgment (``response_code``/``response_text``; accepted or
    rejected at once). Alembic revision ``0094`` adds these columns.

    ``status`` is the sending: pending, sending (claimed by one request), sent, send_failed,
    failed (cXML: given up after the partner's max_attempts, or a redirect we do not follow).
    ``ack_status`` is the partner's answer: awaiting, accepted, accepted_with_errors,
    rejected, overdue (an AS2 MDN alone leaves it awaiting: an MDN is not a 997).
    """

    __tablename__ = "outbound_documents"
    __table_args__ = (
        UniqueConstraint("partner_id", "idempotency_key", name="uq_outbound_idempotency"),
        Index("ix_outbound_ack_match", "partner_id", "group_control_number"),
        Index("ix_outbound_ack_due", "ack_status", "ack_due_at"),
        Index("ix_outbound_payload_id", "partner_id", "payload_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # = its documents row id
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(120))
    request_sha256: Mapped[str] = mapped_column(String(64))  # the ERP's body: a reused key with a new body is refused
    transaction_set: Mapped[str] = mapped_column(String(40))  # 850; cXML: OrderRequest
    version: Mapped[str] = mapped_column(String(12))
    po_number: Mapped[str | None] = mapped_column(String(64), index=True)
    interchange_control_number: Mapped[str] = mapped_column(String(9))
    group_control_number: Mapped[str] = mapped_column(String(9))
    transaction_control_number: Mapped[str] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(16), index=True)
    lease_until: Mapped[datetime | None]
    destination: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    ack_status: Mapped[str] = mapped_column(String(24))
    ack_due_at: Mapped[datetime | None]
    ack_document_id: Mapped[str | None] = mapped_column(String(40))
    ack_kind: Mapped[str | None] = mapped_column(String(3))  # 997, 999
    ack_errors: Mapped[list] = mapped_column(default=list)
    acked_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]  # when ack.overdue was raised (once)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    format: Mapped[str] = mapped_column(String(8), default="x12", server_default="x12")
    payload_id: Mapped[str | None] = mapped_column(String(250))  # cXML payloadID
    response_code: Mapped[int | None]  # cXML: the partner's Response Status code (or the HTTP status)
    response_text: Mapped[str | None] = mapped_column(Text)  # its Status text and message
    response_sha256: Mapped[str | None] = mapped_column(String(64))  # the Response bytes, kept as a blob
    next_attempt_at: Mapped[datetime | None]  # cXML: not retried before this (backoff)

    document: Mapped[Document] = relationship()
