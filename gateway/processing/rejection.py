"""``document.rejected``: the event every rejection emits (DESIGN §3), so the people who
must act (support, the buyer) hear of it through their routes (a webhook by default)."""

from __future__ import annotations

from gateway.events.envelope import SourceContext, check_event, make_event
from gateway.store.models import Document

_FORMATS = {"x12": "x12", "cxml": "cxml", "ubl": "ubl"}  # anything else: "unknown"


def rejection_event(doc: Document) -> dict:
    """The event for a rejected document; its id comes from the document id, so a
    reprocess that rejects it again finds the same event."""
    context = SourceContext(partner_id=doc.partner_id or "unknown", document_id=doc.id,
                            received_at=doc.received_at, correlation_id=doc.correlation_id)
    source = {"format": _FORMATS.get(doc.format, "unknown"), "transaction_set": None, "version": None,
              "interchange_control_number": None, "group_control_number": None,
              "transaction_control_number": None}
    payload = {"document_id": doc.id, "reason": doc.reason or "rejected", "errors": list(doc.errors or [])[:50]}
    body = make_event(event_type="document.rejected", context=context, source=source, payload=payload,
                      occurred_at=(doc.processed_at or doc.received_at).isoformat(), id_keys=(doc.id,))
    if doc.test:  # a rejected test document is test data too: never on a production route
        body["test"] = True
    return check_event(body)
