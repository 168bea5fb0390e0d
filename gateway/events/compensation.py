"""Compensating events: the pure half (no database).

A target that applied an event must be able to take it back or replace it. Four
events say so, each naming the events concerned in ``original_event_ids``:

- ``document.voided``: support voided a delivered document (wrong partner, wrong map
  version); every event of the document is to be reversed.
- ``acknowledgment.superseded``: a later acknowledgment of the same PO from the same
  partner replaces the earlier ones.
- ``purchase_order.cancelled``: an 850 with BEG01 ``01`` (cXML ``type="delete"``)
  cancels the PO the earlier ``purchase_order.received`` events carried.
- ``invoice.credited``: a credit memo (810 BIG07 ``CR`` naming the invoice in REF*OI,
  cXML ``purpose="creditMemo"`` naming it in InvoiceIDInfo) credits the invoice the
  earlier ``invoice.received`` events carried.

This module says which earlier events a new one compensates (:func:`lookup`) and
builds the envelopes; ``gateway.routing.compensation`` finds the earlier events in the
store. Ids are deterministic (from the triggering event's id, or the voided
document's), so reprocessing or voiding twice finds the same event.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.events.envelope import check_event, event_id
from gateway.events.versions import recorded_schema

PO_TYPES = ("purchase_order.received", "purchase_order.issued", "purchase_order.acknowledged",
            "purchase_order.cancelled", "acknowledgment.superseded")
INVOICE_TYPES = ("invoice.received", "invoice.credited")


def reference_of(body: dict) -> str | None:
    """The business number an event is about (its PO, or its invoice), kept indexed on its
    row so earlier events of the same PO or invoice are found without reading every body."""
    payload = body.get("payload") or {}
    if body.get("type") in PO_TYPES:
        value = payload.get("po_number")
    elif body.get("type") in INVOICE_TYPES:
        value = payload.get("invoice_number")
    else:
        return None
    return str(value)[:120] if value else None


@dataclass(frozen=True)
class Lookup:
    """Which earlier events a new event compensates: ``type`` rows of the same partner
    whose reference is ``reference``, kept when ``keep(body)`` says so."""

    compensating_type: str
    type: str
    reference: str
    reason: str
    # ids already named by an earlier compensating event of this type are left out (an
    # acknowledgment superseded once is not superseded again); a credit memo may credit
    # an invoice more than once, so it leaves none out
    once: bool = True

    def keep(self, body: dict) -> bool:
        payload = body.get("payload") or {}
        if self.compensating_type == "purchase_order.cancelled":
            return payload.get("purpose") != "cancellation"
        if self.compensating_type == "invoice.credited":
            return payload.get("invoice_type") != "credit_memo"
        return True


def lookup(body: dict) -> Lookup | None:
    """The earlier events ``body`` compensates, if it compensates any."""
    payload = body.get("payload") or {}
    kind = body.get("type")
    if kind == "purchase_order.acknowledged" and payload.get("po_number"):
        return Lookup("acknowledgment.superseded", kind, payload["po_number"],
                      f"a later acknowledgment of PO {payload['po_number']} replaces it")
    if kind == "purchase_order.received" and payload.get("purpose") == "cancellation" and payload.get("po_number"):
        return Lookup("purchase_order.cancelled", kind, payload["po_number"],
                      f"PO {payload['po_number']} was cancelled by the buyer")
    if kind == "invoice.received" and payload.get("invoice_type") == "credit_memo" \
            and payload.get("original_invoice_number"):
        return Lookup("invoice.credited", kind, payload["original_invoice_number"],
                      f"credit memo {payload['invoice_number']} credits invoice {payload['original_invoice_number']}",
                      once=False)
    return None


def compensating_event(trigger: dict, found: Lookup, original_ids: list[str]) -> dict:
    """The envelope for ``found``: inherits the trigger's partner, times, correlation id,
    source and test flag; its id derives from the trigger's id."""
    payload = trigger["payload"]
    body = {"original_event_ids": list(original_ids), "reason": found.reason,
            "replaced_by_event_id": trigger["event_id"]}
    if found.compensating_type == "invoice.credited":
        body.update(invoice_number=found.reference, credit_memo_number=payload["invoice_number"],
                    credit_amount=payload.get("total_amount"), currency=payload.get("currency"),
                    po_number=payload.get("po_number"))
    else:
        body["po_number"] = found.reference
    event = {
        "event_id": event_id(trigger["partner_id"], trigger["event_id"], event_type=found.compensating_type),
        "type": found.compensating_type,
        "schema": recorded_schema(found.compensating_type),
        "partner_id": trigger["partner_id"],
        "occurred_at": trigger["occurred_at"],
        "received_at": trigger["received_at"],
        "correlation_id": trigger["correlation_id"],
        "source": dict(trigger["source"]),
        "payload": body,
    }
    if trigger.get("test"):
        event["test"] = True
    return check_event(event)


def voided_event(*, document_id: str, events: list[dict], reason: str, voided_at: str) -> dict:
    """``document.voided`` for a document whose events are ``events`` (bodies, oldest first)."""
    first = events[0]
    partner = first.get("partner_id") or ""
    event = {
        "event_id": event_id(partner, document_id, event_type="document.voided"),
        "type": "document.voided",
        "schema": recorded_schema("document.voided"),
        "partner_id": partner,
        "occurred_at": voided_at,
        "received_at": voided_at,
        "correlation_id": first["correlation_id"],
        "source": dict(first["source"]),
        "payload": {"original_event_ids": [e["event_id"] for e in events], "reason": reason,
                    "replaced_by_event_id": None, "document_id": document_id, "voided_at": voided_at},
    }
    if any(e.get("test") for e in events):
        event["test"] = True
    return check_event(event)
