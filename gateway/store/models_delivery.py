"""Tables added by issue #5 (routing and delivery), revision 0003.

``PurchaseOrder``: the open POs derived events are computed against. The ERP registers
them (:func:`gateway.routing.derived.register_purchase_order`, ``gateway po register``),
or a ``purchase_order.received`` / ``purchase_order.issued`` event records one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, utcnow


class PurchaseOrder(Base):
    """One PO as the ERP (or its 850) states it; the latest registration wins."""

    __tablename__ = "purchase_orders"

    po_number: Mapped[str] = mapped_column(String(40), primary_key=True)  # BEG03: unique per buyer
    partner_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the supplier
    payload: Mapped[dict] = mapped_column(JSON)  # as `purchase_order.received` (DESIGN §3)
    source: Mapped[str] = mapped_column(String(120))  # "erp", or the event id it came from
    revision: Mapped[int] = mapped_column(Integer, default=1)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
