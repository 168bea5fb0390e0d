"""Tables of the document flow per purchase order (Alembic revision ``0095``).

A flow is keyed by partner + PO number (a PO number is unique per buyer, not across
suppliers). Each document or event that moves the PO along is one ``po_flow_steps`` row;
the quantities the three-way match compares are ``po_line_quantities`` rows, one per
line of the 850, 856 or 810 that states them; an alert raised about a step is one
``po_flow_alerts`` row, whose unique key is what makes it "once per PO and step".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.store.models import Base, Document, utcnow

PO_NUMBER_CHARS = 64  # BEG03 is 22; cXML and UBL state no limit: longer ones are not tracked


class PurchaseOrderFlow(Base):
    __tablename__ = "po_flows"
    __table_args__ = (UniqueConstraint("partner_id", "po_number", name="uq_po_flow"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    po_number: Mapped[str] = mapped_column(String(PO_NUMBER_CHARS), index=True)
    requested_date: Mapped[str | None] = mapped_column(String(10))  # the PO's earliest requested date (ISO)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The earliest due time of a step not done and not yet alerted: what the deadline check reads.
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    # Running state, folded in as each step is recorded under the flow's row lock
    # (gateway.flow.state.add_step, gateway.flow.match.add_shipped; migration 0094): its
    # steps' facts ({"first": {step: at}, "count": {step: n}, "latest_ack": {at, id,
    # reference}, "ordered_event": the latest 850 event with lines, "agreed": the invoice
    # steps the match found agreeing, compared again when an ASN comes after them}) and
    # the quantity shipped per PO line identity. Reading them back costs the same whatever
    # the flow holds; aggregating its steps and ASN lines per step recorded was quadratic.
    facts: Mapped[dict] = mapped_column(default=dict)
    shipped: Mapped[dict] = mapped_column(default=dict)

    # Read-only collections: a step or alert is written by its flow_id and added to the
    # loaded collection without history (gateway.flow.record.attach). Tracked collections
    # made every flush walk all of a PO's steps: quadratic in a 10,000-set interchange
    # against one PO.
    steps: Mapped[list[FlowStep]] = relationship(viewonly=True, order_by="FlowStep.at")
    alerts: Mapped[list[FlowAlert]] = relationship(viewonly=True, order_by="FlowAlert.id")


class FlowStep(Base):
    """One document or event in a PO's flow: our 850, the partner's 997/999, an 855, an
    856, an 810 (or their cXML/UBL equivalents)."""

    __tablename__ = "po_flow_steps"
    __table_args__ = (UniqueConstraint("flow_id", "step", "event_id", name="uq_po_flow_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("po_flows.id"), index=True)
    step: Mapped[str] = mapped_column(String(24))  # order, functional_ack, order_ack, ship_notice, invoice
    event_id: Mapped[str] = mapped_column(String(80))
    event_type: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    document_type: Mapped[str | None] = mapped_column(String(40))  # 850, 997, ConfirmationRequest, ...
    reference: Mapped[str | None] = mapped_column(String(80))  # shipment id, invoice number, ack status
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict] = mapped_column(default=dict)

    flow: Mapped[PurchaseOrderFlow] = relationship(viewonly=True)
    document: Mapped[Document] = relationship()


class FlowAlert(Base):
    """A step flagged once: ``overdue`` (missing past its due time) or ``out_of_order``."""

    __tablename__ = "po_flow_alerts"
    __table_args__ = (UniqueConstraint("flow_id", "step", "kind", name="uq_po_flow_alert"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("po_flows.id"), index=True)
    step: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    event_id: Mapped[str] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(String(400))

    flow: Mapped[PurchaseOrderFlow] = relationship(viewonly=True)


class LineQuantity(Base):
    """A quantity one document states for one PO line: ordered (850), shipped (856) or
    invoiced (810). Quantities and prices are decimal strings, as in the events."""

    __tablename__ = "po_line_quantities"
    __table_args__ = (UniqueConstraint("event_id", "flow_id", "kind", "ordinal", name="uq_po_line_quantity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("po_flows.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # ordered, shipped, invoiced
    event_id: Mapped[str] = mapped_column(String(80))
    ordinal: Mapped[int] = mapped_column(Integer)  # the line's position in its event
    reference: Mapped[str | None] = mapped_column(String(80))  # shipment id or invoice number
    line_number: Mapped[str | None] = mapped_column(String(40))
    buyer_part: Mapped[str | None] = mapped_column(String(80))
    vendor_part: Mapped[str | None] = mapped_column(String(80))
    quantity: Mapped[str | None] = mapped_column(String(40))
    unit_price: Mapped[str | None] = mapped_column(String(40))
    uom: Mapped[str | None] = mapped_column(String(16))
