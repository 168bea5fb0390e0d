"""Bulk actions on a search result, previewed before they happen.

Two actions, each chosen by a filter:

- ``replay_dead_letters``: after an ERP outage, every dead-lettered delivery of one
  adapter (optionally of one partner, dead-lettered in a time window) is sent again
  under its same Idempotency-Key.
- ``reprocess_rejected``: after a map fix, every open rejection (rejected, not resolved)
  that one map version produced (optionally of one partner, received in a window) is
  processed again from its original bytes.

:func:`preview` finds what the filter matches now, keeps those exact ids under a random
token, and returns counts and a sample; nothing changes. :func:`confirm` applies the
action to the previewed ids only (never to what the filter matches by then), once, by
the person who previewed it, before the preview expires. Ids that no longer qualify
(replayed or resolved meanwhile) are skipped with the reason. The action, its one audit
row (filter, applied and skipped ids, reason) and the preview's "confirmed" mark commit
in one transaction; jobs are queued only after that commit (if Redis is away, the
sweeper queues them).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.orm import Session

from gateway.bootstrap import Runtime
from gateway.domain.status import DeliveryStatus, DocumentStatus
from gateway.store.models import DeliveryRecord, Document, EventRecord, utcnow
from gateway.store.models_api import AuditEntry
from gateway.store.models_bulk import BulkPreview
from gateway.store.models_users import DocumentResolution

REPLAY_DEAD_LETTERS = "replay_dead_letters"
REPROCESS_REJECTED = "reprocess_rejected"
KINDS = (REPLAY_DEAD_LETTERS, REPROCESS_REJECTED)
# The filter fields of each action, and the one each requires.
FILTERS = {
    REPLAY_DEAD_LETTERS: ("adapter", "partner", "dead_lettered_from", "dead_lettered_to"),
    REPROCESS_REJECTED: ("map_version", "partner", "received_from", "received_to"),
}
REQUIRED = {REPLAY_DEAD_LETTERS: "adapter", REPROCESS_REJECTED: "map_version"}
MAX_TARGETS = 5000  # one action, one audit row listing every id: narrow the window beyond this
SAMPLE_SIZE = 20
PREVIEW_TTL = timedelta(minutes=30)
MAX_FILTER_CHARS = 160
MAX_REASON_CHARS = 2000


class BulkError(ValueError):
    """The request cannot be done as asked (a bad filter, a missing reason); nothing changed."""


class PreviewUnusable(BulkError):
    """The preview cannot be confirmed any more: confirmed already, or expired."""


class NoSuchPreview(PreviewUnusable):
    """The token names no preview of this person's."""


@dataclass
class Preview:
    token: str
    kind: str
    filters: dict
    count: int
    by_partner: dict[str, int]
    sample: list[dict]
    expires_at: datetime

    def to_dict(self) -> dict:
        return {"token": self.token, "kind": self.kind, "filters": self.filters, "count": self.count,
                "by_partner": self.by_partner, "sample": self.sample, "expires_at": self.expires_at.isoformat()}


@dataclass
class BulkResult:
    token: str
    kind: str
    filters: dict
    applied: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    audit_id: int | None = None

    def to_dict(self) -> dict:
        return {"token": self.token, "kind": self.kind, "filters": self.filters, "applied": self.applied,
                "skipped": self.skipped, "audit_id": self.audit_id}


# -- filters ---------------------------------------------------------------------------

def clean_filters(kind: str, raw) -> dict:
    """The filter of ``kind`` from ``raw`` (a dict or form), checked: only its own fields,
    text values, the required one present, dates that are dates."""
    if kind not in KINDS:
        raise BulkError(f"the bulk action must be one of {', '.join(KINDS)}")
    filters = {}
    for name in FILTERS[kind]:
        value = raw.get(name) if hasattr(raw, "get") else None
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise BulkError(f"{name} must be text")
        value = value.strip()
        if len(value) > MAX_FILTER_CHARS:
            raise BulkError(f"{name} is over {MAX_FILTER_CHARS} characters")
        if value:
            filters[name] = value
    if REQUIRED[kind] not in filters:
        raise BulkError(f"{REQUIRED[kind]} is required: a bulk action names exactly what it acts on")
    for name in filters:
        if name.endswith(("_from", "_to")):
            _bound(filters[name], name)  # refuse a bad date now, not at confirm
    return filters


def _bound(value: str, name: str) -> datetime:
    """A window bound: a date (``2026-12-01``: the whole day, inclusive) or an ISO 8601
    date-time (without an offset it is UTC). ``*_to`` of a date is the end of that day."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            at = datetime.combine(day + timedelta(days=1) if name.endswith("_to") else day, time.min)
        else:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BulkError(f"{name} must be a date (2026-12-01) or a date-time (2026-12-01T08:00), "
                        f"not {value[:40]!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _window(column, filters: dict, prefix: str) -> list:
    where = []
    if f"{prefix}_from" in filters:
        where.append(column >= _bound(filters[f"{prefix}_from"], f"{prefix}_from"))
    if f"{prefix}_to" in filters:
        bound = filters[f"{prefix}_to"]
        where.append(column < _bound(bound, f"{prefix}_to") if len(bound) == 10
                     else column <= _bound(bound, f"{prefix}_to"))
    return where


def _dead_letters(filters: dict):
    where = [DeliveryRecord.adapter == filters["adapter"], DeliveryRecord.status == DeliveryStatus.DEAD_LETTERED,
             *_window(DeliveryRecord.dead_lettered_at, filters, "dead_lettered")]
    if "partner" in filters:
        where.append(EventRecord.partner_id == filters["partner"])
    return (select(DeliveryRecord.id, EventRecord.partner_id).join(EventRecord).where(and_(*where))
            .order_by(DeliveryRecord.dead_lettered_at, DeliveryRecord.id))


def _open_rejection():
    return and_(Document.status == DocumentStatus.REJECTED,
                ~exists().where(DocumentResolution.document_id == Document.id))


def _rejected(filters: dict):
    where = [Document.map_version == filters["map_version"], _open_rejection(),
             *_window(Document.received_at, filters, "received")]
    if "partner" in filters:
        where.append(Document.partner_id == filters["partner"])
    return select(Document.id, Document.partner_id).where(and_(*where)).order_by(Document.received_at, Document.id)


def _matches(s: Session, kind: str, filters: dict) -> list[tuple[str, str | None]]:
    query = _dead_letters(filters) if kind == REPLAY_DEAD_LETTERS else _rejected(filters)
    rows = [tuple(r) for r in s.execute(query.limit(MAX_TARGETS + 1))]
    if len(rows) > MAX_TARGETS:
        raise BulkError(f"the filter matches more than {MAX_TARGETS}; narrow it (a shorter window, one partner) "
                        "and run the action in parts")
    return rows


def _sample(s: Session, kind: str, ids: list[str]) -> list[dict]:
    if not ids:
        return []
    if kind == REPLAY_DEAD_LETTERS:
        rows = s.execute(select(DeliveryRecord, EventRecord).join(EventRecord)
                         .where(DeliveryRecord.id.in_(ids)))
        found = {d.id: {"delivery_id": d.id, "document_id": e.document_id, "partner_id": e.partner_id,
                        "event_type": e.type, "attempts": d.attempts,
                        "dead_lettered_at": d.dead_lettered_at.isoformat() if d.dead_lettered_at else None,
                        "last_error": (d.last_error or "")[:200]} for d, e in rows}
    else:
        found = {d.id: {"document_id": d.id, "partner_id": d.partner_id, "filename": d.filename,
                        "received_at": d.received_at.isoformat(), "reason": (d.reason or "")[:200]}
                 for d in s.scalars(select(Document).where(Document.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


# -- choices for the page --------------------------------------------------------------

def choices(s: Session) -> dict:
    """What the filters can name now: adapters with dead letters, map versions with open
    rejections (each with its count)."""
    adapters = s.execute(select(DeliveryRecord.adapter, func.count())
                         .where(DeliveryRecord.status == DeliveryStatus.DEAD_LETTERED)
                         .group_by(DeliveryRecord.adapter).order_by(DeliveryRecord.adapter)).all()
    versions = s.execute(select(Document.map_version, func.count())
                         .where(Document.map_version.is_not(None), _open_rejection())
                         .group_by(Document.map_version).order_by(Document.map_version)).all()
    return {"adapters": [tuple(r) for r in adapters], "map_versions": [tuple(r) for r in versions]}


# -- preview and confirm ---------------------------------------------------------------

def preview(rt: Runtime, actor: str, kind: str, raw_filters) -> Preview:
    """Find what ``raw_filters`` matches now and keep those ids under a new token."""
    filters = clean_filters(kind, raw_filters)
    now = utcnow()
    with rt.session() as s:
        rows = _matches(s, kind, filters)
        ids = [r[0] for r in rows]
        by_partner: dict[str, int] = {}
        for _, partner in rows:
            by_partner[partner or "(unknown)"] = by_partner.get(partner or "(unknown)", 0) + 1
        sample = _sample(s, kind, ids[:SAMPLE_SIZE])
        # Previews never confirmed are of no use once expired: kept a day (for a support
        # question about one), then dropped here, so abandoned previews do not pile up.
        s.execute(delete(BulkPreview).where(BulkPreview.confirmed_at.is_(None),
                                            BulkPreview.expires_at < now - timedelta(days=1)))
        token = secrets.token_urlsafe(24)
        s.add(BulkPreview(token=token, kind=kind, filters=filters, target_ids=ids, actor=actor[:160],
                          created_at=now, expires_at=now + PREVIEW_TTL))
    return Preview(token, kind, filters, len(ids), by_partner, sample, now + PREVIEW_TTL)


def load_preview(rt: Runtime, actor: str, token: str) -> Preview:
    """A preview again (the confirm page), if ``actor`` may still confirm it."""
    with rt.session() as s:
        row = _usable(s, actor, token)
        return Preview(row.token, row.kind, row.filters, len(row.target_ids), _by_partner(s, row.kind, row.target_ids),
                       _sample(s, row.kind, row.target_ids[:SAMPLE_SIZE]), row.expires_at)


def _by_partner(s: Session, kind: str, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    if kind == REPLAY_DEAD_LETTERS:
        q = (select(EventRecord.partner_id, func.count()).join(DeliveryRecord)
             .where(DeliveryRecord.id.in_(ids)).group_by(EventRecord.partner_id))
    else:
        q = select(Document.partner_id, func.count()).where(Document.id.in_(ids)).group_by(Document.partner_id)
    return {partner or "(unknown)": n for partner, n in s.execute(q)}


def _usable(s: Session, actor: str, token: str) -> BulkPreview:
    row = s.get(BulkPreview, token) if isinstance(token, str) and len(token) <= 64 else None
    if row is None or row.actor != actor:  # another person's preview is not theirs to confirm
        raise NoSuchPreview("no such preview: preview the action again")
    if row.confirmed_at is not None:
        raise PreviewUnusable(f"this preview was already confirmed at {row.confirmed_at.isoformat()} "
                              f"(audit entry {row.audit_id})")
    if row.expires_at <= utcnow():
        raise PreviewUnusable("this preview has expired: preview the action again to see what it would do now")
    return row


def _claim(s: Session, actor: str, token: str) -> BulkPreview:
    """Mark the preview confirmed in the caller's transaction, or refuse: two confirms of
    one preview (two tabs, a double click) cannot both act."""
    row = _usable(s, actor, token)
    now = utcnow()
    claimed = s.execute(update(BulkPreview).where(BulkPreview.token == token, BulkPreview.confirmed_at.is_(None))
                        .values(confirmed_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise PreviewUnusable("this preview was just confirmed by another request")
    return row


def _audit(s: Session, actor: str, row: BulkPreview, reason: str, result: BulkResult) -> None:
    entry = AuditEntry(at=utcnow(), actor=actor[:160], action=f"bulk.{row.kind}", target=f"bulk:{row.token}",
                       reason=reason, details={"filters": row.filters, "previewed": len(row.target_ids),
                                               "applied": result.applied, "skipped": result.skipped})
    s.add(entry)
    s.flush()
    s.execute(update(BulkPreview).where(BulkPreview.token == row.token).values(audit_id=entry.id)
              .execution_options(synchronize_session=False))
    result.audit_id = entry.id


def _reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise BulkError("say why: a reason is required (it goes to the audit log)")
    if len(reason) > MAX_REASON_CHARS:
        raise BulkError(f"the reason is over {MAX_REASON_CHARS} characters")
    return reason.strip()


def confirm(rt: Runtime, actor: str, token: str, reason) -> BulkResult:
    """Apply the previewed action to the previewed ids (see the module docstring)."""
    reason = _reason(reason)
    with rt.session() as s:
        kind = _usable(s, actor, token).kind
    if kind == REPLAY_DEAD_LETTERS:
        return _confirm_replay(rt, actor, token, reason)
    return _confirm_reprocess(rt, actor, token, reason)


def _confirm_replay(rt: Runtime, actor: str, token: str, reason: str) -> BulkResult:
    from gateway.routing.replay import replay_deliveries

    with rt.session() as s:
        row = _usable(s, actor, token)
        ids, kind, filters = list(row.target_ids), row.kind, dict(row.filters)
        statuses = dict(s.execute(select(DeliveryRecord.id, DeliveryRecord.status)
                                  .where(DeliveryRecord.id.in_(ids))).all()) if ids else {}
    result = BulkResult(token, kind, filters)
    for i in ids:
        if statuses.get(i) != DeliveryStatus.DEAD_LETTERED:
            result.skipped[i] = (f"no longer dead-lettered (now {statuses[i]})" if i in statuses
                                 else "no such delivery any more")
    still = [i for i in ids if i not in result.skipped]

    def audit(s: Session, report) -> None:  # inside the replay's transaction: all of it or none
        row = _claim(s, actor, token)
        result.applied = list(report.requeued)
        result.skipped.update(report.skipped)
        _audit(s, actor, row, reason, result)

    replay_deliveries(rt, still, audit=audit)
    return result


def _chunks(ids: list[str], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _confirm_reprocess(rt: Runtime, actor: str, token: str, reason: str) -> BulkResult:
    from gateway.intake.receive import enqueue_processing
    from gateway.processing.reprocess import NotReprocessable, check_reprocessable, reset_many

    with rt.session() as s:
        row = _claim(s, actor, token)
        result = BulkResult(token, row.kind, dict(row.filters))
        version, ids = row.filters["map_version"], list(row.target_ids)
        docs: dict[str, Document] = {}
        resolved: set[str] = set()
        for part in _chunks(ids):  # a few queries for all of them, rows locked until the commit
            docs.update((d.id, d) for d in s.scalars(select(Document).where(Document.id.in_(part))
                                                     .with_for_update()))
            resolved.update(s.scalars(select(DocumentResolution.document_id)
                                      .where(DocumentResolution.document_id.in_(part))))
        applicable = []
        for document_id in ids:
            doc = docs.get(document_id)
            if doc is None or doc.status != DocumentStatus.REJECTED:
                result.skipped[document_id] = f"no longer rejected (now {doc.status if doc else 'gone'})"
            elif document_id in resolved:
                result.skipped[document_id] = "resolved meanwhile (ignored or resubmitted)"
            elif doc.map_version != version:
                result.skipped[document_id] = f"now rejected by another map version ({doc.map_version})"
            else:
                try:
                    applicable.append(check_reprocessable(doc, document_id))
                except NotReprocessable as exc:
                    result.skipped[document_id] = str(exc)
        reset_many(s, applicable)
        result.applied = [d.id for d in applicable]
        sizes = {d.id: d.size for d in applicable}
        _audit(s, actor, row, reason, result)
    for document_id in result.applied:
        enqueue_processing(rt, document_id, sizes[document_id])  # Redis away: the sweeper queues it later
    return result
