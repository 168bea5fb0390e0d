"""Compensating events, the store half: find the earlier events a new event takes back.

Called while an event is recorded, in the same transaction (no extra queue hop): the
earlier events are the stored ones of the same partner, type and PO or invoice number
(the indexed ``events.reference``), recorded before this one, of the same kind of
data (test or production). What to look for and the envelope are decided in
:mod:`gateway.events.compensation`.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import select, text, union_all

from gateway.events.compensation import Lookup, compensating_event, lookup
from gateway.store.models import EventRecord

log = logging.getLogger("gateway.routing")
#: How many of the newest earlier events (and earlier compensations) are read. Each new
#: acknowledgment supersedes all before it, so the ones still in force are the newest;
#: the bound keeps a partner sending thousands of acks for one PO from making each
#: new one read them all.
LOOKBACK = 100


def compensating_events(s, body: dict, recorded_before: bool = False) -> list[dict]:
    """The compensating events ``body`` (an event being recorded in session ``s``) causes:
    none, or one naming the earlier events it supersedes, cancels or credits.

    ``recorded_before``: the event was stored by an earlier transaction (a reprocess):
    only events stored before it count as earlier, and the same compensation results."""
    found = lookup(body)
    if found is None or not body.get("partner_id"):
        return []
    _one_at_a_time(s, body["partner_id"], found.type, found.reference)
    own = s.get(EventRecord, body["event_id"]) if recorded_before else None
    earlier = _earlier(s, body, found, own.created_at if own is not None else None)
    taken = set()
    for record in earlier.get(found.compensating_type, []) if found.once else []:
        taken.update(record.body["payload"]["original_event_ids"])
    originals = [r.event_id for r in earlier.get(found.type, [])
                 if r.event_id not in taken and found.keep(r.body)]
    if not originals:
        return []
    event = compensating_event(body, found, originals)
    log.info("%s %s names %s", event["type"], event["event_id"], ", ".join(originals))
    return [event]


def _earlier(s, body: dict, found: Lookup, cutoff) -> dict[str, list]:
    """The earlier events of the same partner and reference per type, oldest first: the
    ``LOOKBACK`` newest of ``found.type`` and (``found.once``) of its compensating type,
    of the same kind of data (test or production) as ``body``.

    One statement, a UNION ALL of one bounded query per type, each read backwards along
    ``ix_events_partner_type_reference``. ``cutoff``: a reprocess; only what came before
    this event the first time counts."""

    def newest(event_type: str):
        query = select(EventRecord.type, EventRecord.event_id, EventRecord.created_at, EventRecord.body) \
            .where(EventRecord.partner_id == body["partner_id"], EventRecord.type == event_type,
                   EventRecord.reference == found.reference, EventRecord.event_id != body["event_id"])
        if cutoff is not None:
            query = query.where(EventRecord.created_at < cutoff)
        return select(query.order_by(EventRecord.created_at.desc(), EventRecord.event_id.desc())
                      .limit(LOOKBACK).subquery())

    types = [found.compensating_type, found.type] if found.once else [found.type]
    query = union_all(*[newest(t) for t in types]) if len(types) > 1 else newest(types[0])
    columns = query.selected_columns
    rows = s.execute(query.order_by(columns.type, columns.created_at, columns.event_id)).all()
    test = bool(body.get("test"))
    out: dict[str, list] = {}
    for row in rows:
        if bool(row.body.get("test")) == test:
            out.setdefault(row.type, []).append(row)
    return out


def _one_at_a_time(s, partner_id: str, event_type: str, reference: str) -> None:
    """Two workers recording events of one PO (or invoice) at once would each miss the
    other's, and both supersede the same earlier one. On PostgreSQL a transaction lock on
    (partner, type, number) makes the second wait for the first to commit; its queries
    then see the first's event. SQLite runs one writing transaction at a time already."""
    if s.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{partner_id}|{event_type}|{reference}".encode()).digest()
    s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest[:8], "big", signed=True)})
