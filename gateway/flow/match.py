"""The three-way match wired: ordered (850) vs shipped (856) vs invoiced (810) per PO line.

The comparison is :func:`gateway.events.derived.invoice_discrepancies` (pure); this
module feeds it from the quantities stored per PO line (``po_line_quantities``; what was
shipped, from the running totals on the flow's row) and wraps what disagrees as
``invoice.discrepancy`` events whose ids derive from the invoice's event id, so a
replayed 810 finds the same events instead of adding new ones.

It runs when an 810 arrives, and again for an invoice of the PO that had matched when an
ASN arrives after it (a late 856); an invoice that was already found to disagree is not
reported again (once per invoice).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

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
    False: the flow has no 850 step, so no lines of ours to read). The latest 850 with
    lines is named in the flow's running facts: only its lines are read (a changed PO
    sent again: its latest lines count), not every line of every 850."""
    latest = (flow.facts or {}).get("ordered_event") if sent else None
    rows = _rows(s, flow, "ordered", latest) if latest else []
    if rows:
        return [_line(r) for r in rows]
    po = orders.get(flow.po_number) if orders is not None else s.get(PurchaseOrder, flow.po_number)
    if po is not None and po.partner_id in (None, flow.partner_id):
        return list(po.payload.get("lines") or [])
    return []


def line_key(line: dict) -> str:
    """A PO line's identity as an ASN states it: what the match finds the PO line by."""
    return json.dumps([line["line_number"], line["buyer_part"], line["vendor_part"]])


def add_shipped(running: dict | None, lines: list[dict]) -> dict:
    """A flow's running quantity shipped per line identity with one ASN's lines for the PO
    (as stored in ``po_line_quantities``) folded in, summed exactly in Decimal. Text that
    is no number is kept as it is, once per distinct text, so the match meets it as it met
    it among the stored lines; a line without a quantity still counts as shipped. A new
    dict: assigned to the flow, its row is written with the rest of its changes at the
    next flush."""
    shipped = dict(running or {})
    for line in lines:
        key = line_key(line)
        entry = dict(shipped.get(key) or {"line_number": line["line_number"], "buyer_part": line["buyer_part"],
                                          "vendor_part": line["vendor_part"], "quantity": None, "other": []})
        quantity = line["quantity"]
        if quantity not in (None, ""):  # the match skips both
            try:
                total = Decimal(entry["quantity"] or 0) + Decimal(quantity)
                entry["quantity"] = format(total, "f")
            except InvalidOperation:
                if quantity not in entry["other"]:
                    entry["other"] = [*entry["other"], quantity]
        shipped[key] = entry
    return shipped


def shipments(flow: PurchaseOrderFlow) -> list[dict]:
    """Everything shipped against the PO so far, as one ASN: one line per line identity
    with its running total (``add_shipped``), read from the flow's row. The match sums
    shipped quantity per PO line anyway, so this is the same comparison, with no query:
    a GROUP BY over every line of every ASN per invoice made a 10,000-set interchange
    against one PO quadratic."""
    lines = []
    for entry in (flow.shipped or {}).values():
        line = {"line_number": entry["line_number"], "buyer_part": entry["buyer_part"],
                "vendor_part": entry["vendor_part"]}
        if entry["quantity"] is not None or not entry["other"]:
            lines.append({**line, "quantity_shipped": entry["quantity"]})
        lines += [{**line, "quantity_shipped": text} for text in entry["other"]]
    if not lines:
        return []
    return [{"orders": [{"po_number": flow.po_number, "lines": lines}]}]


def match_invoice(s, flow: PurchaseOrderFlow, invoice_event: dict, orders=None, facts=None,
                  invoiced: list[dict] | None = None) -> list[dict]:
    """``invoice.discrepancy`` events for one invoice of ``flow`` (none when all agree).

    Called as the invoice is recorded, ``facts`` (the flow's, read for that step) say
    whether there is an 850 or an ASN whose lines to read at all, and ``invoiced`` are the
    invoice's lines as just stored: neither is read back."""
    sent = facts is None or "order" in facts.first
    po = {"po_number": flow.po_number, "lines": ordered_lines(s, flow, orders, sent)}
    asns = shipments(flow) if facts is None or "ship_notice" in facts.first else []
    if not po["lines"] and not asns:
        return []  # nothing to compare with
    if invoiced is None:
        invoiced = [_line(r) for r in _rows(s, flow, "invoiced", invoice_event["event_id"])]
    invoice = {"invoice_number": invoice_event["payload"]["invoice_number"], "lines": invoiced}
    found = invoice_discrepancies(po, asns, invoice)
    return derive_events(invoice_event, EVENT, found) if found else []
