"""Derived events: pure functions over payloads already translated (no database).

The caller (the service layer) finds the PO a document refers to, from an inbound
850 or from the ERP, and passes the payloads in; these functions only compare.

- :func:`delivery_date_changes`: an 855 line's ``scheduled_date`` or an 856's
  ``expected_delivery`` later than the date the PO asked for.
- :func:`invoice_discrepancies`: an 810 line's quantity against what was shipped
  (or, without an ASN, ordered) and its unit price against the PO's.
- :func:`derive_events`: wraps such payloads in envelopes that inherit the
  triggering event's partner, times, correlation id and source, with ids derived
  from its id, so reprocessing the trigger yields the same derived ids.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.events.envelope import check_event, event_id
from gateway.events.versions import recorded_schema


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _dec(value: str | None) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


def _match(lines: list[dict], line: dict) -> dict | None:
    """The PO line ``line`` refers to: same line number, else same buyer or vendor part."""
    for key in ("line_number", "buyer_part", "vendor_part"):
        if line.get(key):
            for candidate in lines:
                if candidate.get(key) == line[key]:
                    return candidate
    return None


def _requested(po: dict, po_line: dict | None) -> date | None:
    return _day((po_line or {}).get("requested_date") or po.get("requested_date"))


def delivery_date_changes(po: dict, update: dict) -> list[dict]:
    """``delivery_date.changed`` payloads for ``update`` (an ack or a shipment payload)."""
    out = []
    if "ack_type" in update:  # purchase_order.acknowledged
        if update.get("po_number") != po.get("po_number"):
            return []
        pairs = [(line, _day(line.get("scheduled_date"))) for line in update.get("lines", [])]
        source = "purchase_order.acknowledged"
    else:  # shipment.noticed: one expected delivery for every shipped line of this PO
        expected = _day(update.get("expected_delivery"))
        pairs = [(line, expected) for order in update.get("orders", [])
                 if order.get("po_number") == po.get("po_number") for line in order.get("lines", [])]
        source = "shipment.noticed"
    for line, new in pairs:
        po_line = _match(po.get("lines", []), line)
        previous = _requested(po, po_line)
        if new is None or previous is None or new <= previous:
            continue
        out.append({
            "po_number": po["po_number"],
            "line_number": (po_line or line).get("line_number"),
            "previous_date": previous.isoformat(),
            "new_date": new.isoformat(),
            "days_late": (new - previous).days,
            "source_type": source,
        })
    return out


def invoice_discrepancies(po: dict, shipments: list[dict], invoice: dict) -> list[dict]:
    """``invoice.discrepancy`` payloads: quantity vs shipped (else ordered), price vs PO."""
    shipped: dict[str, Decimal] = {}
    for asn in shipments:
        for order in asn.get("orders", []):
            if order.get("po_number") != po.get("po_number"):
                continue
            for line in order.get("lines", []):
                quantity = _dec(line.get("quantity_shipped"))
                if quantity is None:  # a despatch line may state no quantity (UBL 0..1)
                    continue
                po_line = _match(po.get("lines", []), line) or line
                key = po_line.get("line_number") or ""
                shipped[key] = shipped.get(key, Decimal(0)) + quantity
    out = []
    for line in invoice.get("lines", []):
        po_line = _match(po.get("lines", []), line)
        number = (po_line or line).get("line_number") or ""
        ordered_qty = _dec((po_line or {}).get("quantity"))
        shipped_qty = shipped.get(number) if shipments else None
        invoiced_qty = _dec(line.get("quantity"))
        reference = shipped_qty if shipped_qty is not None else ordered_qty
        base = {"po_number": po["po_number"], "invoice_number": invoice["invoice_number"],
                "line_number": number}
        if invoiced_qty is not None and reference is not None and invoiced_qty != reference:
            out.append({**base, "field": "quantity", "ordered": _text(ordered_qty),
                        "shipped": _text(shipped_qty), "invoiced": _text(invoiced_qty)})
        ordered_price, invoiced_price = _dec((po_line or {}).get("unit_price")), _dec(line.get("unit_price"))
        if ordered_price is not None and invoiced_price is not None and ordered_price != invoiced_price:
            out.append({**base, "field": "unit_price", "ordered": _text(ordered_price),
                        "shipped": None, "invoiced": _text(invoiced_price)})
    return out


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def derive_events(trigger: dict, event_type: str, payloads: list[dict]) -> list[dict]:
    """Envelopes for derived ``payloads``, validated; ids derive from the trigger's id."""
    events = []
    for ordinal, payload in enumerate(payloads):
        key = f"{payload.get('line_number')}|{payload.get('field', '')}"
        events.append(check_event({
            "event_id": event_id(trigger["partner_id"], trigger["event_id"], key,
                                 event_type=event_type, ordinal=ordinal),
            "type": event_type,
            "schema": recorded_schema(event_type),
            "partner_id": trigger["partner_id"],
            "occurred_at": trigger["occurred_at"],
            "received_at": trigger["received_at"],
            "correlation_id": trigger["correlation_id"],
            "source": dict(trigger["source"]),
            "payload": payload,
        }))
    return events
