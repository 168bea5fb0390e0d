"""The canonical data model: event payload schemas, the envelope, derived events.

Public API: :class:`SourceContext`, :func:`event_id`, :func:`make_event`,
:func:`validate_event`, :func:`check_event`, :data:`PAYLOAD_SCHEMAS`;
derived events: :func:`delivery_date_changes`, :func:`invoice_discrepancies`,
:func:`derive_events`.
"""

from gateway.events.derived import delivery_date_changes, derive_events, invoice_discrepancies
from gateway.events.envelope import (
    SourceContext,
    check_event,
    event_id,
    make_event,
    validate_event,
)
from gateway.events.payloads import ACK_TYPES, LINE_STATUSES, PAYLOAD_SCHEMAS

__all__ = [
    "ACK_TYPES",
    "LINE_STATUSES",
    "PAYLOAD_SCHEMAS",
    "SourceContext",
    "check_event",
    "delivery_date_changes",
    "derive_events",
    "invoice_discrepancies",
    "event_id",
    "make_event",
    "validate_event",
]
