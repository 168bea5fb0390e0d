"""Database models: the system of record.

Redis only carries ids; every state a user or a sweeper relies on is a row here.
Schema changes go through Alembic (``gateway/store/migrations``), never ``create_all``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use gateway.store.models.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON, list: JSON}


class Document(Base):
    """One received file, exactly as it arrived (the bytes are in the blob store)."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # sftp, as2, http, folder, cli
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(16), default="unknown")  # x12, xml, unknown
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    errors: Mapped[list] = mapped_column(default=list)
    correlation_id: Mapped[str] = mapped_column(String(40), index=True)
    duplicate_of: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    processed_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]  # a worker holds it until then
    queued_at: Mapped[datetime | None]  # last put on a queue; the sweeper re-queues stale ones
    process_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # migration 0005
    last_error: Mapped[str | None] = mapped_column(Text)  # why the last processing attempt crashed
    # Test data (ISA15 = T, cXML deploymentMode="test"): never delivered to production adapters (0007).
    test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The translation map version that translated it, or refused it (revision 0099):
    # "<map id>@<first 12 hex of the SHA-256 of its files>", see gateway.mapping.fingerprint.
    map_version: Mapped[str | None] = mapped_column(String(160), index=True)

    transactions: Mapped[list[TransactionSetRecord]] = relationship(
        back_populates="document", order_by="TransactionSetRecord.id"
    )
    acks: Mapped[list[AckRecord]] = relationship(back_populates="document", order_by="AckRecord.id")
    events: Mapped[list[EventRecord]] = relationship(back_populates="document", order_by="EventRecord.created_at")


class InterchangeRecord(Base):
    """An ISA..IEA seen from a partner: the key for duplicate detection."""

    __tablename__ = "interchanges"
    __table_args__ = (
        Index("ix_interchange_sender_icn", "partner_id", "sender_id", "control_number"),
        # One row per distinct interchange: a second worker processing the same bytes at
        # the same moment fails here and retries, finding it a duplicate (migration 0006).
        Index("uq_interchange_content", "partner_id", "sender_id", "control_number", "sha256", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    partner_id: Mapped[str | None] = mapped_column(String(64))
    sender_qualifier: Mapped[str] = mapped_column(String(2))
    sender_id: Mapped[str] = mapped_column(String(15))
    control_number: Mapped[str] = mapped_column(String(9))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # accepted, rejected, duplicate


class TransactionSetRecord(Base):
    """One ST..SE of a received interchange, with its validation outcome."""

    __tablename__ = "transaction_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    interchange_control_number: Mapped[str] = mapped_column(String(9))
    group_control_number: Mapped[str] = mapped_column(String(9))
    functional_id: Mapped[str] = mapped_column(String(2))
    version: Mapped[str] = mapped_column(String(12))
    set_id: Mapped[str] = mapped_column(String(3))
    control_number: Mapped[str] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(16))
    errors: Mapped[list] = mapped_column(default=list)

    document: Mapped[Document] = relationship(back_populates="transactions")


class AckRecord(Base):
    """A TA1/997/999 we produced for a received document, and where it went."""

    __tablename__ = "acks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(3))  # TA1, 997, 999
    interchange_control_number: Mapped[str] = mapped_column(String(9))  # OUR ISA13 on the ack
    # The inbound interchange it answers (migration 0007): its ISA13, and its position in
    # the file. "Already acknowledged" is decided per interchange, never per document.
    acknowledged_control_number: Mapped[str | None] = mapped_column(String(9))
    interchange_index: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    document: Mapped[Document] = relationship(back_populates="acks")


class EventRecord(Base):
    """A canonical event (DESIGN §3). ``event_id`` is deterministic, so reprocessing
    the same document finds the row that is already here instead of adding one."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_partner_type_reference", "partner_id", "type", "reference", "created_at"),)

    event_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    partner_id: Mapped[str | None] = mapped_column(String(64), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the PO or invoice number it is about (migration 0096): compensating events find
    # the earlier events of the same PO or invoice by it
    reference: Mapped[str | None] = mapped_column(String(120))

    document: Mapped[Document] = relationship(back_populates="events")
    deliveries: Mapped[list[DeliveryRecord]] = relationship(back_populates="event", order_by="DeliveryRecord.id")


class DeliveryRecord(Base):
    """The outbox: one row per (event, adapter), written in the same transaction as
    the event. A relay puts its id on the adapter's queue; the database says what
    happened, whatever Redis remembers."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("event_id", "adapter", name="uq_delivery_event_adapter"),)

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.event_id"), index=True)
    adapter: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    lease_until: Mapped[datetime | None]  # a worker holds it until then
    queued_at: Mapped[datetime | None]  # last put on a queue; the sweeper re-queues stale ones
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    # Added by revision 0003 (issue #5, routing/replay): how often support replayed it,
    # and when it was last dead-lettered. `attempts` restarts at 0 on a replay.
    replays: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dead_lettered_at: Mapped[datetime | None]
    # Revision 0093: the correlation id of the received file this delivery comes from.
    correlation_id: Mapped[str | None] = mapped_column(String(40), index=True)

    event: Mapped[EventRecord] = relationship(back_populates="deliveries")


@event.listens_for(DeliveryRecord, "before_insert")
def _stamp_correlation_id(_mapper, connection, target: DeliveryRecord) -> None:
    """Every outbox row names the received file it comes from: the id bound by the job that
    records it, else that of its event's document (written earlier in the same flush)."""
    if target.correlation_id is None:
        from gateway.observe.context import correlation_id

        target.correlation_id = correlation_id() or connection.execute(
            select(Document.correlation_id).join(EventRecord, EventRecord.document_id == Document.id)
            .where(EventRecord.event_id == target.event_id)).scalar()


class SftpKey(Base):
    """A public key allowed to log in over SFTP as its partner."""

    __tablename__ = "sftp_keys"
    __table_args__ = (UniqueConstraint("partner_id", "fingerprint", name="uq_sftp_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    key_type: Mapped[str] = mapped_column(String(64))
    key_data: Mapped[str] = mapped_column(Text)  # base64 of the public key blob
    fingerprint: Mapped[str] = mapped_column(String(80))  # SHA256:... as OpenSSH prints it
    comment: Mapped[str] = mapped_column(String(255), default="")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ControlNumber(Base):
    """Our own outbound control number counters (ISA13, GS06, ST02), one row each."""

    __tablename__ = "control_numbers"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class DemoPosting(Base):
    """What the built-in demo ERP receiver was sent (only used when no GATEWAY_ERP_URL).

    It behaves like a real idempotent consumer: a repeated Idempotency-Key is answered
    200 and not stored twice."""

    __tablename__ = "demo_erp_postings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    repeats: Mapped[int] = mapped_column(Integer, default=0)
