"""The canonical data model: event payload schemas, the envelope, derived events.

Public API: :class:`SourceContext`, :func:`event_id`, :func:`make_event`,
:func:`validate_event`, :func:`check_event`, :data:`PAYLOAD_SCHEMAS`.
"""

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
    "event_id",
    "make_event",
    "validate_event",
]
