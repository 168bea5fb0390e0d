"""Schema versions on routes: each adapter is sent the versions its route asks for.

A route without ``versions:`` for an event type is sent the event as recorded. A
route asking for other versions (``versions: {purchase_order.acknowledged: [1, 2]}``)
is sent a *rendering* per version: the event converted by the version's registered
converter (:mod:`gateway.events.versions`), stored as its own event row
(``<event_id>-v<N>``, its own Idempotency-Key) with its own delivery, in the same
transaction as the event. Renderings are not business events: no PO is remembered and
nothing is derived or compensated from them.
"""

from __future__ import annotations

from gateway.domain.status import DeliveryStatus
from gateway.events.envelope import check_event
from gateway.events.versions import render, version_of
from gateway.routing.routes import Route
from gateway.store.models import DeliveryRecord, Document, EventRecord, utcnow


def takes_as_recorded(route: Route, body: dict) -> bool:
    """Whether ``route`` is sent ``body`` itself (at the version it was recorded at)."""
    return route.versions is None or version_of(body) in route.versions


def record_renderings(s, doc: Document, body: dict, routes: list[Route]) -> list[DeliveryRecord]:
    """Rows for the other versions ``routes`` ask for; returns the deliveries that are new."""
    recorded = version_of(body)
    wanted: dict[int, list[Route]] = {}
    for route in routes:
        for version in route.versions or ():
            if version != recorded:
                wanted.setdefault(version, []).append(route)
    deliveries = []
    now = utcnow()
    for version, takers in sorted(wanted.items()):
        rendered = check_event(render(body, version))
        record = s.get(EventRecord, rendered["event_id"])
        if record is None:
            record = EventRecord(event_id=rendered["event_id"], type=rendered["type"],
                                 partner_id=rendered.get("partner_id"), document_id=doc.id, body=rendered)
            s.add(record)
            have: set[str] = set()
        else:
            have = {d.adapter for d in record.deliveries}
            if record.body != rendered and all(d.status != DeliveryStatus.DELIVERED for d in record.deliveries):
                record.body = rendered
        for route in takers:
            if route.adapter in have:
                continue
            d = DeliveryRecord(id=f"{rendered['event_id']}-{route.adapter}", event_id=rendered["event_id"],
                               adapter=route.adapter, queue=route.queue, status=DeliveryStatus.PENDING, attempts=0,
                               next_attempt_at=now, queued_at=now, replays=0)
            s.add(d)
            deliveries.append(d)
    return deliveries
