"""Which step of a PO's flow an event is, and what it states per PO line (pure).

One event may move several POs along (an ASN ships several orders), so
:func:`steps_of` answers a list. Events that are no step (derived ones, a rejection, an
ack for something that is not a PO) answer ``[]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

STEP_EVENTS = {
    "purchase_order.issued": "order",  # our 850 (cXML OrderRequest) to the partner
    "ack.received": "functional_ack",  # its 997/999 (or TA1) for our 850
    "purchase_order.acknowledged": "order_ack",
    "shipment.noticed": "ship_notice",
    "invoice.received": "invoice",
}
QUANTITY_KINDS = {"order": "ordered", "ship_notice": "shipped", "invoice": "invoiced"}


@dataclass(frozen=True)
class StepFact:
    po_number: str
    step: str
    document_type: str | None
    reference: str | None
    lines: list[dict] = field(default_factory=list)  # {line_number, buyer_part, vendor_part, quantity, unit_price, uom}
    requested_date: date | None = None


def _line(line: dict, quantity_key: str) -> dict:
    return {"line_number": line.get("line_number"), "buyer_part": line.get("buyer_part"),
            "vendor_part": line.get("vendor_part"), "quantity": line.get(quantity_key),
            "unit_price": line.get("unit_price"), "uom": line.get("uom")}


def _earliest(payload: dict) -> date | None:
    dates = [payload.get("requested_date")] + [line.get("requested_date") for line in payload.get("lines") or []]
    parsed = []
    for value in dates:
        try:
            parsed.append(date.fromisoformat(str(value)[:10]))
        except ValueError:
            continue
    return min(parsed, default=None)


def steps_of(event: dict) -> list[StepFact]:
    """The flow steps ``event`` makes (an empty list for any other event)."""
    step = STEP_EVENTS.get(event.get("type", ""))
    payload, source = event.get("payload") or {}, event.get("source") or {}
    kind = source.get("transaction_set") or source.get("format")
    if step is None:
        return []
    if step == "order":
        return [StepFact(payload["po_number"], step, kind, None,
                         [_line(line, "quantity") for line in payload.get("lines") or []], _earliest(payload))]
    if step == "functional_ack":
        # Only answers to a PO we sent are flow steps (the 997 for our 855 would not be).
        if payload.get("transaction_set") not in (None, "850") or not payload.get("po_number"):
            return []
        return [StepFact(payload["po_number"], step, kind, payload.get("status"))]
    if step == "order_ack":
        return [StepFact(payload["po_number"], step, kind, payload.get("ack_type"))]
    if step == "invoice":
        if not payload.get("po_number"):
            return []
        return [StepFact(payload["po_number"], step, kind, payload.get("invoice_number"),
                         [_line(line, "quantity") for line in payload.get("lines") or []])]
    facts: dict[str, StepFact] = {}  # an ASN: one fact per PO it ships, its lines gathered
    for order in payload.get("orders") or []:
        number = order.get("po_number")
        if not number:
            continue
        fact = facts.setdefault(number, StepFact(number, step, kind, payload.get("shipment_id")))
        fact.lines.extend(_line(line, "quantity_shipped") for line in order.get("lines") or [])
    return list(facts.values())
