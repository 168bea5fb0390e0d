"""Where each canonical event carries its lines, and how many it carries.

A translation must account for every line-bearing part of its source (DESIGN §6):
the mapping layer compares the source's count with :func:`line_count` of the event
it built. Events without lines (rejections, derived events, acks) are not listed.
"""

from __future__ import annotations

# event type -> the keys from the payload down to its line lists; a list on the way
# (the orders of a shipment) is walked item by item.
LINE_LISTS: dict[str, tuple[str, ...]] = {
    "purchase_order.received": ("lines",),
    "purchase_order.issued": ("lines",),
    "purchase_order.acknowledged": ("lines",),
    "shipment.noticed": ("orders", "lines"),
    "invoice.received": ("lines",),
}


def carries_lines(event_type: str) -> bool:
    return event_type in LINE_LISTS


def line_count(event_type: str, payload: dict) -> int | None:
    """How many lines ``payload`` carries (a shipment: over all its orders); None when
    the event type has no lines."""
    keys = LINE_LISTS.get(event_type)
    if keys is None:
        return None
    level = [payload]
    for key in keys:
        level = [item for holder in level for item in (holder.get(key) or [])]
    return len(level)
