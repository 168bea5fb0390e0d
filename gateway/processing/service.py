"""Process one received document: detect, identify the partner, check the envelopes,
acknowledge, translate, and record events with their deliveries (the outbox).

Runs in an RQ worker, from the original bytes in the blob store, so it can run again
after a crash: a document is claimed with a lease; events have deterministic ids, so a
second run finds them instead of adding new ones. Everything it decides is committed
in ONE transaction; only after that are acks sent and deliveries attempted or put on
their queues (``dispatch``: the RQ job sends and delivers in the same job, see
:mod:`gateway.routing.dispatch`; callers outside a worker queue them with ``relay``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from rq.timeouts import JobTimeoutException
from sqlalchemy import exists, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from gateway.alerts import messages as alert_messages
from gateway.alerts.record import record_alert
from gateway.bootstrap import Runtime
from gateway.domain.status import MAX_PROCESS_ATTEMPTS, DocumentStatus
from gateway.intake.receive import processing_timeout
from gateway.onboarding.directory import GENERATION
from gateway.processing.detect import Format, describe_start, detect
from gateway.processing.failure import give_up
from gateway.processing.rejection import rejection_event
from gateway.processing.validate import check_x12
from gateway.processing.x12_interchange import (
    RECORDED_BEFORE,
    InterchangeOutcome,
    process_interchange,
    record_event,
)
from gateway.routing.outbox import relay
from gateway.store.db import autocommit
from gateway.store.models import AckRecord, DeliveryRecord, Document, EventRecord, utcnow

log = logging.getLogger("gateway.processing")
#: X12 blobs above this size (or above the ``bulk`` queue's threshold, if lower) are
#: validated as a stream from the blob file, never read whole; each accepted set is read
#: back by its byte range to be translated. Holding a 10,000-set interchange's parsed
#: segments took ~110 MB; streamed, memory stays flat and validation is faster too.
STREAM_ABOVE = 8 * 1024 * 1024


_documents = Document.__table__
#: mapped attribute name -> column, to build the claimed Document from the claim's RETURNING
_DOCUMENT_COLUMNS = {attr.key: attr.columns[0] for attr in Document.__mapper__.column_attrs}


def _recorded_before(document_id: str) -> tuple:
    """RETURNING columns: whether the document has events, and acks, of its own. Compared
    with the id as a parameter, not correlated: SQLite writes RETURNING columns without
    their table, and ``id`` in a subquery on ``acks`` is the ack's own id."""
    return (exists().where(EventRecord.__table__.c.document_id == document_id).label("events_before"),
            exists().where(AckRecord.__table__.c.document_id == document_id).label("acks_before"))


@dataclass(frozen=True)
class Recorded:
    """What earlier processing of the claimed document left: read by the claim itself.
    A document processed for the first time (no events, no acks of its own) need not look
    for its own earlier rows set by set: most never were processed before."""

    events: bool
    acks: bool


#: after a unique key failed: look everything up, as if every row might exist
RECORDED_UNKNOWN = Recorded(events=True, acks=True)


@dataclass(frozen=True)
class ClaimedDocument:
    document: Document  # detached, as the claim returned it
    recorded: Recorded
    onboarding_generation: int | None  # read by the claim too: see gateway.onboarding.directory.refresh


def claim(rt: Runtime, document_id: str) -> ClaimedDocument | None:
    """Take the document for this worker, for as long as its job may run (a big file
    must not look abandoned to the sweeper while it is still being read). Committed on
    its own, so a crash counts as an attempt; returns the row as claimed (detached), which
    the processing transaction takes on without reading it again, and whether events or
    acks of it were recorded before (a reprocess).

    One Core ``UPDATE ... RETURNING`` in autocommit: only a received, unleased row
    matches, so two workers can never both win it."""
    now = utcnow()
    with autocommit(rt.settings.database_url) as connection:
        row = connection.execute(
            update(_documents)
            .where(_documents.c.id == document_id, _documents.c.status == DocumentStatus.RECEIVED,
                   _documents.c.process_attempts < MAX_PROCESS_ATTEMPTS,
                   or_(_documents.c.lease_until.is_(None), _documents.c.lease_until < now))
            .values(lease_until=now + timedelta(seconds=rt.settings.lease_seconds),
                    process_attempts=_documents.c.process_attempts + 1)
            .returning(*_DOCUMENT_COLUMNS.values(), *_recorded_before(document_id),
                       GENERATION.label("onboarding_generation"))
        ).first()
        if row is None:
            return None
        doc = Document(**dict(zip(_DOCUMENT_COLUMNS, row[:len(_DOCUMENT_COLUMNS)], strict=True)))
        recorded = Recorded(events=bool(row.events_before), acks=bool(row.acks_before))
        # small files: seconds of work, fast recovery after a crash; the `bulk` queue's: minutes
        if (doc.size or 0) > rt.settings.bulk_threshold_bytes:
            doc.lease_until = now + timedelta(seconds=max(rt.settings.lease_seconds, processing_timeout(doc.size) + 60))
            connection.execute(update(_documents).where(_documents.c.id == document_id)
                               .values(lease_until=doc.lease_until))
    make_transient_to_detached(doc)  # as if loaded: the processing session takes it on as it is
    return ClaimedDocument(doc, recorded, row.onboarding_generation)


Dispatch = Callable[[Runtime, list[tuple[str, str]], list[int]], None]


def process(rt: Runtime, document_id: str, dispatch: Dispatch = relay,
            onboarded: Callable[[Runtime, int | None], None] | None = None) -> str:
    """Returns the document's status afterwards, or ``skipped`` if it was not ours to do.

    ``onboarded(rt, generation)``, when given, is called with the onboarding generation the
    claim read, before the document is processed (the RQ job brings its partners up to
    date so, without a statement of its own).

    Once the outcome is committed, ``dispatch(rt, deliveries, ack_ids)`` hands on the new
    outbox rows ((id, queue) pairs) and acks; whatever it fails to do, the sweeper finds
    still pending in the database. A failure there never undoes or fails the processing.

    A crash (a bug, the database going away) leaves the document ``received`` with the
    error kept; the sweeper tries again after the lease, up to MAX_PROCESS_ATTEMPTS, and
    then it ends ``failed`` (gateway.processing.failure). Running out of time ends it
    ``failed`` at once: the same bytes would only run out of time again."""
    taken = claim(rt, document_id)
    if taken is None:
        return "skipped"
    claimed, recorded = taken.document, taken.recorded
    if onboarded is not None:
        onboarded(rt, taken.onboarding_generation)
    try:
        try:
            status, deliveries, ack_ids = _process(rt, claimed, recorded)
        except IntegrityError:
            # Another worker committed the same interchange a moment ago (the same file
            # sent twice at once), or an event id we took for new was taken (see
            # EVENT_IDS_NEW). Nothing of ours was committed: run again, looking every row
            # up, and this time find it a duplicate or the events recorded.
            log.info("document %s met a unique key (a race or a known event); processing again", document_id)
            status, deliveries, ack_ids = _process(rt, document_id, RECORDED_UNKNOWN)
    except JobTimeoutException as exc:
        # The same bytes would run out of time again: no retry holding a worker for as
        # long again; the document ends here, with an answer to the partner.
        _record_crash(rt, document_id, exc)
        give_up(rt, document_id, f"it ran past its time limit ({exc})")
        return DocumentStatus.FAILED
    except Exception as exc:
        if _record_crash(rt, document_id, exc) >= MAX_PROCESS_ATTEMPTS:
            give_up(rt, document_id, f"it crashed {MAX_PROCESS_ATTEMPTS} times; the last error: "
                                     f"{type(exc).__name__}: {exc}")
        raise
    try:
        dispatch(rt, deliveries, ack_ids)
    except Exception:  # committed already: the rows are pending and the sweeper queues them
        log.exception("document %s: handing on %d deliveries and %d acks failed", document_id,
                      len(deliveries), len(ack_ids))
    return status


def _record_crash(rt: Runtime, document_id: str, exc: Exception) -> int:
    """Keep the error and free the document for the next attempt; returns the attempts so far."""
    try:
        with rt.session() as s:
            doc = s.get(Document, document_id)
            doc.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            doc.lease_until = None  # this attempt is over; the sweeper may start the next
            return doc.process_attempts
    except Exception:  # the database itself is away: the lease expiring is our record
        log.exception("could not record the failure of %s", document_id)
        return 0


def _process(rt: Runtime, claimed: Document | str,
             recorded: Recorded = RECORDED_UNKNOWN) -> tuple[str, list[tuple[str, str]], list[int]]:
    """``claimed``: the row as the claim returned it (no second read), or the document's id
    after a first attempt rolled back (its object may hold that attempt's changes: read
    afresh)."""
    started = utcnow()
    with rt.session() as s:
        s.info[RECORDED_BEFORE] = recorded
        doc = s.get(Document, claimed) if isinstance(claimed, str) else claimed
        document_id = doc.id
        # The claimed row joins the session only once it is decided: outside it, what is set
        # on it on the way (format, partner, map version) is no autoflush of its own, and
        # the row is written once, with its status.
        outcomes = _outcomes(rt, s, doc)
        s.add(doc)
        doc.processed_at, doc.lease_until = utcnow(), None
        status = doc.status
        rejected = record_event(rt, s, doc, rejection_event(doc)) if status == DocumentStatus.REJECTED else []
        if status == DocumentStatus.REJECTED:
            record_alert(rt, s, alert_messages.rejected(doc))  # in this transaction: announced iff rejected
        s.flush()
        deliveries = [(d.id, d.queue) for o in outcomes for d in o.deliveries] + [(d.id, d.queue) for d in rejected]
        ack_ids = [a.id for o in outcomes for a in o.acks]
        if (doc.processed_at - started).total_seconds() > rt.settings.lease_seconds / 4:
            # A long transaction (a big interchange): its first rows' queued_at would look
            # stale to the sweeper the moment they commit, and each be queued twice.
            for i in range(0, len(deliveries), 1000):
                s.execute(update(DeliveryRecord).where(DeliveryRecord.id.in_([d[0] for d in deliveries[i:i + 1000]]))
                          .values(queued_at=doc.processed_at).execution_options(synchronize_session=False))
    log.info("document %s processed: %s, %d acks, %d deliveries", document_id, status, len(ack_ids), len(deliveries))
    return status, deliveries, ack_ids


def _outcomes(rt: Runtime, s, doc: Document) -> list[InterchangeOutcome]:
    path = rt.blobs.path_for(doc.sha256)
    with open(path, "rb") as blob:
        stream_above = min(STREAM_ABOVE, rt.settings.bulk_threshold_bytes)
        if detect(blob.read(4096)) is Format.X12 and path.stat().st_size > stream_above:
            doc.format = Format.X12.value
            blob.seek(0)
            return _process_x12(rt, s, doc, blob)
    data = rt.blobs.get(doc.sha256)
    fmt = detect(data)
    doc.format = fmt.value
    if fmt is Format.X12:
        return _process_x12(rt, s, doc, data)
    if fmt is Format.XML:
        from gateway.processing.xml_document import process_xml

        return [process_xml(rt, s, doc, data)]
    _reject(doc, f"not an X12 interchange or an XML document: it starts with '{describe_start(data)}'")
    return []


def _reject(doc: Document, reason: str, errors: list[dict] | None = None) -> None:
    doc.status, doc.reason = DocumentStatus.REJECTED, reason
    doc.errors = errors or [{"code": "NOT_PROCESSABLE", "message": reason, "segment_id": None,
                             "segment_index": None, "element": None}]


def _process_x12(rt: Runtime, s, doc: Document, data: bytes | BinaryIO) -> list[InterchangeOutcome]:
    result = check_x12(data, partners=rt.partners)  # a blob file is streamed: segments are read back per set
    file_errors = [f for f in result.findings if f.is_error and f.interchange_index is None]
    if not result.is_x12 or not result.interchanges:
        messages = [f.message for f in file_errors] or ["no ISA interchange header could be read"]
        _reject(doc, "not a readable X12 interchange: " + "; ".join(messages[:3]),
                [f.to_dict() for f in result.findings if f.is_error])
        return []
    outcomes = [process_interchange(rt, s, doc, result, i, data) for i in range(len(result.interchanges))]
    doc.errors = [f.to_dict() for f in result.findings if f.is_error][:500]
    statuses = {o.status for o in outcomes}
    if statuses == {DocumentStatus.DUPLICATE}:
        doc.status = DocumentStatus.DUPLICATE
        doc.duplicate_of = outcomes[0].duplicate_of
        doc.reason = f"the same interchange was already received as {doc.duplicate_of}; its ack was sent again"
    elif DocumentStatus.ACCEPTED in statuses:
        doc.status = DocumentStatus.ACCEPTED
        rejected = [o.reason for o in outcomes if o.reason]
        doc.reason = "; ".join(rejected) or None
    else:
        _reject(doc, "; ".join(o.reason for o in outcomes if o.reason) or "rejected", doc.errors)
    return outcomes
