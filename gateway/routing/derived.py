"""Open purchase orders and the events derived against them (the I/O half).

The pure comparison lives in :mod:`gateway.events.derived`; this module finds the PO
an acknowledgment or a shipment refers to and hands both over. POs come from the ERP
(:func:`register_purchase_order`, or ``gateway po register FILE.edi`` for the 850 we
sent) or from a recorded ``purchase_order.received`` / ``purchase_order.issued`` event.

Derived event ids come from the triggering event's id, so reprocessing the 855 finds
the same ``delivery_date.changed`` events instead of adding new ones.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from gateway.bootstrap import Runtime
from gateway.events.derived import delivery_date_changes, derive_events
from gateway.store.db import transaction_cache
from gateway.store.models import utcnow
from gateway.store.models_delivery import PurchaseOrder

log = logging.getLogger("gateway.routing")

PO_EVENTS = ("purchase_order.received", "purchase_order.issued")
DATE_EVENTS = ("purchase_order.acknowledged", "shipment.noticed")
_ORDERS_READ = "purchase_orders_read"  # Session.info key: see KnownOrders


def upsert_purchase_order(s, payload: dict, *, partner_id: str | None, source: str) -> PurchaseOrder:
    """Record (or replace) the PO ``payload`` describes, in session ``s``."""
    po = s.get(PurchaseOrder, payload["po_number"])
    if po is None:
        po = PurchaseOrder(po_number=payload["po_number"], partner_id=partner_id, payload=payload, source=source,
                           revision=1, registered_at=utcnow(), updated_at=utcnow())
        s.add(po)
    elif po.payload != payload or po.partner_id != partner_id:
        po.payload, po.partner_id, po.source = payload, partner_id or po.partner_id, source
        po.revision, po.updated_at = po.revision + 1, utcnow()
    transaction_cache(s, _ORDERS_READ)[po.po_number] = po  # what KnownOrders answers from now on
    return po


def register_purchase_order(rt: Runtime, payload: dict, partner_id: str | None = None,
                            source: str = "erp") -> str:
    """The ERP tells us about an open PO (payload as ``purchase_order.received``)."""
    with rt.session() as s:
        upsert_purchase_order(s, payload, partner_id=partner_id, source=source)
    log.info("purchase order %s registered for %s", payload["po_number"], partner_id)
    return payload["po_number"]


def register_850(rt: Runtime, data: bytes, partner_id: str | None = None) -> list[str]:
    """Register the POs of an 850 interchange we sent (translated with the base maps)."""
    from gateway.mapping import SourceContext, translate_x12
    from gateway.x12.reader import read_x12

    result = read_x12(data)
    context = SourceContext(partner_id=partner_id or "erp", document_id="erp-850",
                            received_at=datetime.now(UTC), correlation_id="erp")
    numbers = []
    for ic in result.interchanges:
        for event in translate_x12(ic, context):
            if event["type"] in PO_EVENTS:
                numbers.append(register_purchase_order(rt, event["payload"], partner_id, source="erp-850"))
    if not numbers:
        raise ValueError("no purchase order (850) found in the file")
    return numbers


def remember_purchase_order(s, event: dict) -> None:
    if event["type"] in PO_EVENTS:
        upsert_purchase_order(s, event["payload"], partner_id=event.get("partner_id"), source=event["event_id"])


def _po_numbers(event: dict) -> list[str]:
    payload = event.get("payload") or {}
    if event["type"] == "purchase_order.acknowledged":
        return [payload["po_number"]] if payload.get("po_number") else []
    numbers: list[str] = []
    for order in payload.get("orders", []):
        if order.get("po_number") and order["po_number"] not in numbers:
            numbers.append(order["po_number"])
    return numbers


class KnownOrders:
    """The POs the events of one transaction refer to, each read at most once.

    The delivery date comparison and the event's flow steps both ask for the PO, for every
    event; a PO we do not know is asked for again by each (``Session.get`` remembers only
    rows it found), and each read is a statement and an autoflush on the hot path (a
    10,000-set interchange against one PO asked 10,000 times). What was read is kept in
    the session for its transaction, and :func:`upsert_purchase_order` keeps it up to
    date, so what it answers is what a fresh read in this transaction would, but for a PO
    another transaction registers meanwhile: that one counts from the next document on."""

    def __init__(self, s) -> None:
        self._s = s
        self._read: dict[str, PurchaseOrder | None] = transaction_cache(s, _ORDERS_READ)

    def get(self, po_number: str) -> PurchaseOrder | None:
        if po_number not in self._read:
            self._read[po_number] = self._s.get(PurchaseOrder, po_number)
        return self._read[po_number]


def derived_events(s, event: dict, orders: KnownOrders | None = None) -> list[dict]:
    """``delivery_date.changed`` events for ``event`` against the POs we know (may be none)."""
    if event["type"] not in DATE_EVENTS:
        return []
    orders = orders or KnownOrders(s)
    changes = []
    for number in _po_numbers(event):
        po = orders.get(number)
        if po is None:
            log.info("no open PO %s known; no delivery date comparison for %s", number, event["event_id"])
            continue
        if po.partner_id and event.get("partner_id") and po.partner_id != event["partner_id"]:
            continue  # another supplier's PO with the same number: never compare across partners
        changes += delivery_date_changes(po.payload, event["payload"])
    # One call, so ordinals (part of the ids) are unique across the event's POs.
    return derive_events(event, "delivery_date.changed", changes) if changes else []
