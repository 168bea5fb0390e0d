"""Events about a document we sent, with the outbound document as their source."""

from __future__ import annotations

from datetime import datetime

from gateway.events.envelope import SourceContext, check_event, make_event
from gateway.store.models_outbound import OutboundDocument


def outbound_event(row: OutboundDocument, event_type: str, now: datetime, payload: dict) -> dict:
    """A validated event whose id depends only on the outbound document and the type."""
    doc = row.document
    if row.format == "cxml":  # named like inbound cXML: the document, and its payloadID
        source = {"format": "cxml", "transaction_set": row.transaction_set, "version": row.version,
                  "interchange_control_number": row.payload_id, "group_control_number": None,
                  "transaction_control_number": None}
    else:
        source = {"format": "x12", "transaction_set": row.transaction_set, "version": row.version,
                  "interchange_control_number": row.interchange_control_number,
                  "group_control_number": row.group_control_number,
                  "transaction_control_number": row.transaction_control_number}
    return check_event(make_event(
        event_type=event_type, context=SourceContext(row.partner_id, row.id, doc.received_at, doc.correlation_id),
        source=source,
        payload=payload, occurred_at=now.isoformat(), id_keys=("outbound", row.idempotency_key)))
