"""One received interchange: identify the partner, dedupe, acknowledge, translate, record.

The caller owns the database transaction; this module only adds rows to it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy import and_, or_, select

from gateway.bootstrap import Runtime
from gateway.domain.partner import PartnerProfile, find_by_sender
from gateway.domain.status import AckStatus, DeliveryStatus, DocumentStatus, TransactionStatus
from gateway.intake.resubmit import CORRECTION_CHANNEL, originals_of
from gateway.processing.control_numbers import DatabaseControlNumbers
from gateway.routing.routes import Route, load_route_table
from gateway.store.db import transaction_cache
from gateway.store.models import (
    AckRecord,
    DeliveryRecord,
    Document,
    EventRecord,
    InterchangeRecord,
    TransactionSetRecord,
    utcnow,
)
from gateway.x12.excerpt import interchange_sha256, set_segments
from gateway.x12.findings import Finding, FindingCode, Level
from gateway.x12.model import FunctionalGroup, Interchange, TransactionSet

log = logging.getLogger("gateway.processing")

#: Sets between flushes: a big interchange's rows are sent to the database as it goes
#: (still one transaction), so memory does not grow with the number of sets.
FLUSH_EVERY = 200
#: Session.info keys. RECORDED_BEFORE: what the claim found of the document's own earlier
#: processing (``gateway.processing.service.Recorded``: ``events``, ``acks``).
#: EVENT_IDS_NEW: while an interchange is processed, no event with one of its ids can be
#: stored yet, so ``record_event`` inserts without looking each up first (a statement and
#: a flush per event). Event ids come from the partner, the ISA date, time and control
#: number and the set's: only a reprocess of this document, another use of the ISA13
#: (``_earlier_uses``) or the original of support's corrected copy can have made one, and
#: then it is not set. Anything else that had (the same ISA header sent again after the
#: duplicate window) fails the events' primary key at the flush, and the document is
#: processed again with every lookup (``gateway.processing.service.process``).
RECORDED_BEFORE = "recorded_before"
EVENT_IDS_NEW = "event_ids_new"
_ROUTE_TABLES = "route_tables"  # Session.info (transaction_cache): partner id -> its RouteTable
ACK_GROUPS = {"FA"}  # inbound 997/999 are never acknowledged (X12: "shall not be acknowledged")
# An ack recorded before acks named the interchange they answer (migration 0007): it
# answered the whole document, as every ack did then.
_LEGACY_ACK = and_(AckRecord.interchange_index.is_(None), AckRecord.acknowledged_control_number.is_(None))


@dataclass
class InterchangeOutcome:
    status: DocumentStatus
    reason: str | None = None
    acks: list[AckRecord] = field(default_factory=list)
    deliveries: list[DeliveryRecord] = field(default_factory=list)
    duplicate_of: str | None = None


def process_interchange(rt: Runtime, s, doc: Document, result, index: int, data: bytes | BinaryIO) -> InterchangeOutcome:
    ic = result.interchanges[index]
    _interchange_map_sets.clear()  # map files are checked afresh for each interchange
    if isinstance(data, bytes | bytearray):
        sha = hashlib.sha256(data[ic.start:ic.end or len(data)]).hexdigest()
    else:  # a large blob, streamed: hash the interchange's byte range
        sha = interchange_sha256(data, ic)
    partner, problem = identify_partner(rt, doc, ic)
    if partner is None:
        s.add(_interchange_row(doc, ic, sha, DocumentStatus.REJECTED))
        return InterchangeOutcome(DocumentStatus.REJECTED, problem)
    if doc.partner_id is None:
        doc.partner_id = partner.id

    with s.no_autoflush:  # other documents' rows only: the document's own changes go in the next flush
        earlier = _earlier_uses(rt, s, doc, ic, partner)
    same = next((r for r in earlier if r.sha256 == sha), None)
    if same is not None:
        return _duplicate(s, doc, ic, index, same)
    recorded = s.info.get(RECORDED_BEFORE)
    s.info[EVENT_IDS_NEW] = (recorded is not None and not recorded.events and not earlier
                             and doc.channel != CORRECTION_CHANNEL)
    try:
        return _accept(rt, s, doc, result, index, data, sha, partner, earlier)
    finally:
        s.info.pop(EVENT_IDS_NEW, None)


def _accept(rt: Runtime, s, doc: Document, result, index: int, data: bytes | BinaryIO, sha: str,
            partner: PartnerProfile, earlier: list[InterchangeRecord]) -> InterchangeOutcome:
    """Translate and record the sets of an interchange that is no duplicate, and
    acknowledge it."""
    ic = result.interchanges[index]
    extra: list[Finding] = []
    blocking = _blocking_use(earlier, partner)
    if blocking is not None:
        extra.append(Finding(
            FindingCode.DUPLICATE_INTERCHANGE_CONTROL_NUMBER,
            f"ISA13 {ic.control_number} was already used by document {blocking.document_id} "
            f"({blocking.status}) with different content",
            interchange_index=index,
        ))

    test = ic.usage == "T"  # ISA15: validated and acknowledged as usual, never delivered to production
    doc.test = doc.test or test
    envelope_errors = [f for f in list(result.findings) + extra
                       if f.is_error and f.interchange_index == index and f.level is Level.INTERCHANGE]
    outcome = InterchangeOutcome(DocumentStatus.ACCEPTED)
    from gateway.outbound.acks import apply_interchange_acks  # TA1s answering interchanges we sent

    accepted = apply_interchange_acks(rt, s, doc, partner, ic, data, outcome)
    done = 0
    for group in ic.groups:
        for ts in group.transactions:
            ok, reason = _process_set(rt, s, doc, result, index, ic, group, ts, partner, envelope_errors, outcome)
            done += 1
            if done % FLUSH_EVERY == 0:  # written rows (and their event bodies) leave memory as we go
                s.flush()
            accepted += ok
            if reason:
                outcome.reason = reason if outcome.reason is None else f"{outcome.reason}; {reason}"
    if envelope_errors or accepted == 0:
        outcome.status = DocumentStatus.REJECTED
        if envelope_errors:
            outcome.reason = "; ".join(f.message for f in envelope_errors)
        outcome.reason = outcome.reason or "no transaction set could be accepted"
    elif test:
        outcome.reason = "; ".join(filter(None, [outcome.reason, f"ISA13 {ic.control_number}: {partner.test_data_handling}"]))
    # Acknowledged last: the ack takes our control numbers, one locked counter row shared by
    # every worker, and holds it until the commit; taken before the sets, it made every
    # other worker's document wait for this one's translation (a 10,000-set one: minutes).
    # The ack's content comes from validation alone, so its place here changes nothing in it.
    outcome.acks = _acknowledge(rt, s, doc, result, index, partner, extra)
    s.add(_interchange_row(doc, ic, sha, outcome.status, partner.id))
    return outcome


def _earlier_uses(rt: Runtime, s, doc: Document, ic: Interchange, partner: PartnerProfile) -> list[InterchangeRecord]:
    """Interchanges from this sender with the same ISA13, oldest first. Control numbers
    wrap around: only one seen within the duplicate window counts."""
    since = utcnow() - timedelta(days=rt.settings.duplicate_window_days)
    # Only support's corrected copies have originals (one SELECT per link saved for the rest).
    originals = originals_of(s, doc.id) if doc.channel == CORRECTION_CHANNEL else []
    return list(s.scalars(
        select(InterchangeRecord).join(Document, Document.id == InterchangeRecord.document_id).where(
            InterchangeRecord.partner_id == partner.id,
            InterchangeRecord.sender_id == ic.sender_id,
            InterchangeRecord.control_number == ic.control_number,
            InterchangeRecord.document_id != doc.id,
            # Support's corrected copy keeps the ISA13 of the document it corrects: not a duplicate of it.
            InterchangeRecord.document_id.notin_(originals),
            InterchangeRecord.status != DocumentStatus.DUPLICATE,
            Document.received_at >= since,
        ).order_by(InterchangeRecord.id)
    ))


def _blocking_use(earlier: list[InterchangeRecord], partner: PartnerProfile) -> InterchangeRecord | None:
    """The earlier use that makes reusing the ISA13 with other bytes a TA1 025, if any.

    By default (``control_number_reuse: after_rejection``) a supplier may correct a
    rejected interchange and resend it under the same number; once one was accepted
    (even in part), its number is spent: the ERP has its data under that number."""
    if partner.control_number_reuse == "never":
        return earlier[0] if earlier else None
    return next((r for r in earlier if r.status != DocumentStatus.REJECTED), None)


def identify_partner(rt: Runtime, doc: Document, ic: Interchange) -> tuple[PartnerProfile | None, str | None]:
    """The partner that sent ``ic``: it must match the channel's login, and address us."""
    partner = find_by_sender(rt.partners, ic.sender_qualifier, ic.sender_id)
    sender = f"{ic.sender_qualifier}/{ic.sender_id}"
    if doc.partner_id and (partner is None or partner.id != doc.partner_id):
        logged_in = rt.partners.get(doc.partner_id)
        expected = f"{logged_in.x12.qualifier}/{logged_in.x12.id}" if logged_in else "?"
        return None, (f"the interchange says it is from {sender} (ISA05/ISA06), but it arrived from partner "
                      f"{doc.partner_id!r}, whose id is {expected}")
    if partner is None:
        return None, f"unknown sender {sender} (ISA05/ISA06): no partner profile has this id"
    us = (partner.our_x12.qualifier, partner.our_x12.id)
    if (ic.receiver_qualifier, ic.receiver_id) != us:
        return None, (f"the interchange is addressed to {ic.receiver_qualifier}/{ic.receiver_id} (ISA07/ISA08); "
                      f"{partner.id} should address us as {us[0]}/{us[1]}")
    return partner, None


def _duplicate(s, doc: Document, ic: Interchange, index: int, original: InterchangeRecord) -> InterchangeOutcome:
    """Same bytes again: nothing is delivered, and the original acks go out again.

    No interchange row is added: the unique (partner, sender, ISA13, bytes) index is what
    makes two workers racing on the same file end as one accepted and one duplicate."""
    acks = []
    # Only the acks of the interchange this one repeats: the original file may have held others.
    answered = and_(AckRecord.acknowledged_control_number == ic.control_number, AckRecord.interchange_index.isnot(None))
    for old in s.scalars(select(AckRecord).where(AckRecord.document_id == original.document_id,
                                                 or_(answered, _LEGACY_ACK)).order_by(AckRecord.id)):
        ack = AckRecord(document_id=doc.id, kind=old.kind, interchange_control_number=old.interchange_control_number,
                        text=old.text, status=AckStatus.PENDING, acknowledged_control_number=ic.control_number,
                        interchange_index=index)
        s.add(ack)
        acks.append(ack)
    s.flush()
    return InterchangeOutcome(DocumentStatus.DUPLICATE, acks=acks, duplicate_of=original.document_id)


def _acknowledge(rt, s, doc, result, index, partner: PartnerProfile, extra) -> list[AckRecord]:
    from gateway.acks import build_acknowledgments

    if partner.x12.ack == "none":
        return []
    ic = result.interchanges[index]
    # A "not processed" TA1 (no index; gateway.processing.failure) does not count: a
    # reprocess after it answers with the real outcome.
    answered = select(AckRecord.id).where(AckRecord.document_id == doc.id,
                                          or_(AckRecord.interchange_index == index, _LEGACY_ACK))
    recorded = s.info.get(RECORDED_BEFORE)
    if (recorded is None or recorded.acks) and s.scalar(answered.limit(1)) is not None:
        return []  # a reprocess: this interchange was acknowledged the first time
    prefer = None if partner.x12.ack == "auto" else partner.x12.ack
    built = build_acknowledgments(
        result, index, our_qualifier=ic.receiver_qualifier, our_id=ic.receiver_id,
        control_numbers=DatabaseControlNumbers(s), prefer=prefer, extra_findings=extra,
    )
    records = [AckRecord(document_id=doc.id, kind=a.kind, interchange_control_number=str(a.interchange_control_number),
                         text=a.text, status=AckStatus.PENDING, acknowledged_control_number=ic.control_number[:9],
                         interchange_index=index) for a in built]
    s.add_all(records)
    s.flush()
    return records


def _set_errors(result, index: int, group: FunctionalGroup, ts: TransactionSet) -> list[Finding]:
    """Errors in the set itself, or in its group's envelope (which reject every set in it)."""
    group_errors = [f for f in result.findings_for(index, group.control_number)
                    if f.is_error and f.level is Level.GROUP]
    return group_errors + [f for f in result.findings_for(index, group.control_number, ts.control_number)
                           if f.is_error and f.level is not Level.GROUP]


def _process_set(rt, s, doc, result, index, ic, group, ts, partner, envelope_errors, outcome) -> tuple[bool, str | None]:
    errors = envelope_errors + _set_errors(result, index, group, ts)
    row = TransactionSetRecord(
        document_id=doc.id, interchange_control_number=ic.control_number, group_control_number=group.control_number,
        functional_id=group.functional_id, version=group.version, set_id=ts.set_id, control_number=ts.control_number,
        status=TransactionStatus.ACCEPTED, errors=[f.to_dict() for f in errors][:200],
    )
    s.add(row)
    if errors:
        row.status = TransactionStatus.REJECTED
        return False, f"{ts.set_id} {ts.control_number}: {errors[0].message}"
    if not ts.segments and result.source is not None:  # streamed: read this set back
        ts = replace(ts, segments=set_segments(result.source, ic, ts))
    if group.functional_id in ACK_GROUPS:  # a 997/999 for what we sent: matched, never acknowledged
        from gateway.outbound.acks import apply_functional_ack

        outcome.deliveries.extend(apply_functional_ack(rt, s, doc, partner, ic, group, ts, row))
        return True, None
    try:
        events = translate_set(rt, doc, ic, group, ts, partner)
    except Exception as exc:
        from gateway.mapping import TranslationError

        if not isinstance(exc, TranslationError):
            raise
        row.status = TransactionStatus.REJECTED
        row.errors = [{"code": "TRANSLATION_FAILED", "message": str(exc), "segment_id": None,
                       "segment_index": None, "element": None}]
        return False, f"{ts.set_id} {ts.control_number}: {exc}"
    for body in events:
        if ic.usage == "T":
            body["test"] = True
        outcome.deliveries.extend(record_event(rt, s, doc, body))
    return True, None


def translate_set(rt, doc, ic, group, ts, partner: PartnerProfile) -> list[dict]:
    from gateway.mapping import SourceContext, translate_x12
    from gateway.mapping.fingerprint import map_version

    maps = _interchange_maps(partner)
    spec = maps.select(ts.set_id, group.version)
    # Recorded before translating: a set the map refuses names the version that refused it.
    doc.map_version = (map_version(spec) if spec is not None else None) or doc.map_version
    single = replace(ic, groups=[replace(group, transactions=[ts])])
    context = SourceContext(partner_id=partner.id, document_id=doc.id, received_at=doc.received_at,
                            correlation_id=doc.correlation_id)
    return translate_x12(single, context, partner_maps_dir=partner.maps_dir, maps=maps)


#: partner maps dir -> its map set, for the interchange being processed (emptied as each starts)
_interchange_map_sets: dict[str, object] = {}


def _interchange_maps(partner: PartnerProfile):
    """The partner's map set as it was when the interchange's first set was translated:
    the map files are checked for changes once per interchange, not twice per set (a
    10,000-set interchange looked them up 20,000 times), and every set of one interchange
    is translated by the same maps. A reprocess after a map fix starts afresh."""
    from gateway.mapping.translator import cached_maps

    key = str(partner.maps_dir)
    maps = _interchange_map_sets.get(key)
    if maps is None:
        maps = _interchange_map_sets[key] = cached_maps(partner.maps_dir)
    return maps


def record_event(rt: Runtime, s, doc: Document, body: dict) -> list[DeliveryRecord]:
    """Store an event, its deliveries (the outbox) and the events derived from it.

    Everything goes into the caller's transaction, with the document's new status.
    Idempotent: the event id is deterministic, so a reprocess finds the row and only
    adds deliveries for routes configured since; an event not yet delivered anywhere
    takes the new body (a map fix). Returns the deliveries that are new.
    """
    from gateway.events.compensation import reference_of
    from gateway.flow.record import record_flow
    from gateway.observe.context import correlation_id
    from gateway.routing.compensation import compensating_events
    from gateway.routing.derived import KnownOrders, derived_events, remember_purchase_order
    from gateway.routing.versions import record_renderings, takes_as_recorded

    event = None if s.info.get(EVENT_IDS_NEW) else s.get(EventRecord, body["event_id"])
    recorded_before = event is not None  # a reprocess
    if event is None:
        event = EventRecord(event_id=body["event_id"], type=body["type"], partner_id=body.get("partner_id"),
                            document_id=doc.id, body=body, reference=reference_of(body))
        s.add(event)
        have: set[str] = set()
    else:
        have = {d.adapter for d in event.deliveries}
        if event.body != body and all(d.status != DeliveryStatus.DELIVERED for d in event.deliveries):
            event.body = body
    now = utcnow()
    deliveries = []
    test = bool(body.get("test"))
    routes = _routes(s, rt, body)
    for route in routes:
        if route.adapter in have or not takes_as_recorded(route, body):
            continue
        d = DeliveryRecord(id=f"{body['event_id']}-{route.adapter}", event_id=body["event_id"], adapter=route.adapter,
                           queue=route.queue, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now,
                           queued_at=now, replays=0, correlation_id=correlation_id() or doc.correlation_id)
        s.add(d)
        deliveries.append(d)
    deliveries.extend(record_renderings(s, doc, body, routes))  # other schema versions routes ask for
    if not test:  # a test PO must never be compared with production acknowledgments
        remember_purchase_order(s, body)
    orders = KnownOrders(s)  # the POs the event names, each read once in this transaction
    # compensating events (gateway.routing.compensation) and the PO's flow steps (gateway.flow) go the
    # same way as the derived events, in the same transaction
    for derived in derived_events(s, body, orders) + compensating_events(s, body, recorded_before) \
            + record_flow(rt, s, doc, body, orders):
        if test:
            derived["test"] = True
        deliveries.extend(record_event(rt, s, doc, derived))
    return deliveries


def _routes(s, rt: Runtime, body: dict) -> list[Route]:
    """Where an event goes. Test data goes to test routes only, and only when its partner
    says ``test_data: route``; by default it is held (recorded, delivered nowhere).

    The route table (routes.yaml and the partner's, with the environment they name) is
    looked up once per partner and transaction: every event of one interchange is routed
    by the same table, and each look-up stats the files and reads the environment."""
    test = bool(body.get("test"))
    partner_id = body.get("partner_id")
    partner = rt.partner(partner_id)
    if test and (partner is None or partner.test_data != "route"):
        return []
    tables = transaction_cache(s, _ROUTE_TABLES)
    table = tables.get(partner_id)
    if table is None:
        table = tables[partner_id] = load_route_table(rt.settings, partner_id)
    return table.routes_for(body["type"], partner_id, test)


def _interchange_row(doc: Document, ic: Interchange, sha: str, status, partner_id: str | None = None):
    return InterchangeRecord(document_id=doc.id, partner_id=partner_id or doc.partner_id,
                             sender_qualifier=ic.sender_qualifier, sender_id=ic.sender_id,
                             control_number=ic.control_number, sha256=sha, status=status)
