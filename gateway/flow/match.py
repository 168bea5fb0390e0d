"""The three-way match wired: ordered (850) vs shipped (856) vs invoiced (810) per PO line.

The comparison is :func:`gateway.events.derived.invoice_discrepancies` (pure); this
module feeds it from the quantities stored per PO line (``po_line_quantities``) and
wraps what disagrees as ``invoice.discrepancy`` events whose ids derive from the
invoice's event id, so a replayed 810 finds the same events instead of adding new ones.

It runs when an 810 arrives, and again for an invoice of the PO that had matched when an
ASN arrives after it (a late 856); an invoice that was already found to disagree is not
reported again (once per invoice).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from gateway.events.derived import derive_events, invoice_discrepancies
from gateway.flow.models import LineQuantity, PurchaseOrderFlow
from gateway.store.models_delivery import PurchaseOrder

EVENT = "invoice.discrepancy"


def _rows(s, flow: PurchaseOrderFlow, kind: str, event_id: str | None = None) -> list[LineQuantity]:
    q = select(LineQuantity).where(LineQuantity.flow_id == flow.id, LineQuantity.kind == kind)
    if event_id is not None:
        q = q.where(LineQuantity.event_id == event_id)
    return list(s.scalars(q.order_by(LineQuantity.id)))


def _line(row: LineQuantity, quantity_key: str = "quantity") -> dict:
    return {"line_number": row.line_number, "buyer_part": row.buyer_part, "vendor_part": row.vendor_part,
            quantity_key: row.quantity, "unit_price": row.unit_price}


def ordered_lines(s, flow: PurchaseOrderFlow, orders=None, sent: bool = True) -> list[dict]:
    """The PO's lines: from our latest 850 for it, else from a PO the ERP registered
    (``orders``: the POs read for the event being recorded, when there is one; ``sent``
    False: the flow has no 850 step, so no lines of ours to read)."""
    rows = _rows(s, flow, "ordered") if sent else []
    if rows:
        latest = rows[-1].event_id  # a changed PO sent again: its latest lines count
        return [_line(r) for r in rows if r.event_id == latest]
    po = orders.get(flow.po_number) if orders is not None else s.get(PurchaseOrder, flow.po_number)
    if po is not None and po.partner_id in (None, flow.partner_id):
        return list(po.payload.get("lines") or [])
    return []


def shipments(s, flow: PurchaseOrderFlow) -> list[dict]:
    """Everything shipped against the PO so far, as one ASN: its lines grouped in SQL by
    line and quantity, each group's quantity multiplied out in Decimal (exact, no casting
    of stored text in the database). The match sums shipped quantity per PO line anyway,
    so this is the same comparison, at the cost of a few rows per invoice instead of
    every line of every ASN (a 10,000-set interchange against one PO made that quadratic)."""
    count = func.count(LineQuantity.id)
    rows = s.execute(select(LineQuantity.line_number, LineQuantity.buyer_part, LineQuantity.vendor_part,
                            LineQuantity.quantity, LineQuantity.unit_price, count)
                     .where(LineQuantity.flow_id == flow.id, LineQuantity.kind == "shipped")
                     .group_by(LineQuantity.line_number, LineQuantity.buyer_part, LineQuantity.vendor_part,
                               LineQuantity.quantity, LineQuantity.unit_price)).all()
    if not rows:
        return []
    lines = [{"line_number": r.line_number, "buyer_part": r.buyer_part, "vendor_part": r.vendor_part,
              "quantity_shipped": _times(r.quantity, r[-1]), "unit_price": r.unit_price} for r in rows]
    return [{"orders": [{"po_number": flow.po_number, "lines": lines}]}]


def _times(quantity: str | None, n: int) -> str | None:
    """``quantity`` (stored text) times ``n``; text that is not a number stays as it is."""
    if quantity is None or n == 1:
        return quantity
    try:
        return format(Decimal(quantity) * n, "f")
    except InvalidOperation:
        return quantity


def match_invoice(s, flow: PurchaseOrderFlow, invoice_event: dict, orders=None, facts=None,
                  invoiced: list[dict] | None = None) -> list[dict]:
    """``invoice.discrepancy`` events for one invoice of ``flow`` (none when all agree).

    Called as the invoice is recorded, ``facts`` (the flow's, read for that step) say
    whether there is an 850 or an ASN whose lines to read at all, and ``invoiced`` are the
    invoice's lines as just stored: neither is read back."""
    sent = facts is None or "order" in facts.first
    po = {"po_number": flow.po_number, "lines": ordered_lines(s, flow, orders, sent)}
    asns = shipments(s, flow) if facts is None or "ship_notice" in facts.first else []
    if not po["lines"] and not asns:
        return []  # nothing to compare with
    if invoiced is None:
        invoiced = [_line(r) for r in _rows(s, flow, "invoiced", invoice_event["event_id"])]
    invoice = {"invoice_number": invoice_event["payload"]["invoice_number"], "lines": invoiced}
    found = invoice_discrepancies(po, asns, invoice)
    return derive_events(invoice_event, EVENT, found) if found else []
