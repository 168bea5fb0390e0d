"""Document search for the console (and its CSV/JSON export): one query built from
named filters, so a shared URL and an export always mean the same rows.

PO, shipment and invoice numbers are looked up in the canonical events a document
produced (a rejected document has none: find it by control number or text instead).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

from sqlalchemy import String, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from gateway.domain.status import DeliveryStatus, DocumentStatus
from gateway.store.models import DeliveryRecord, Document, EventRecord, TransactionSetRecord, utcnow
from gateway.store.models_users import DocumentResolution

# A document still `received` this long after it arrived is overdue (stuck, not "in progress").
OVERDUE_AFTER = timedelta(minutes=15)
PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
_BUSINESS_KEYS = {"po": "po_number", "shipment": "shipment_id", "invoice": "invoice_number"}


class BadFilter(ValueError):
    """A filter value that cannot mean anything (the message names it)."""


@dataclass(frozen=True)
class DocumentFilters:
    """Every filter the search page offers; empty strings mean "any"."""

    partner: str = ""
    format: str = ""
    set_id: str = ""
    status: str = ""  # a DocumentStatus, or "open" for rejected and not yet resolved
    received_from: str = ""  # YYYY-MM-DD, inclusive (UTC)
    received_to: str = ""  # YYYY-MM-DD, inclusive (UTC)
    control_number: str = ""  # ISA13, GS06 or ST02
    po: str = ""
    shipment: str = ""
    invoice: str = ""
    text: str = ""  # id, file name, reason, correlation id
    delivery: str = ""  # a DeliveryStatus: documents with such a delivery
    overdue: str = ""  # "1": still received after OVERDUE_AFTER
    held: str = ""  # "1": test data held (accepted test documents delivered nowhere)

    @classmethod
    def from_args(cls, args) -> DocumentFilters:
        return cls(**{f.name: (args.get(f.name) or "").strip()[:200] for f in fields(cls)})

    def as_args(self) -> dict[str, str]:
        """Only the filters in use: the query string of a shareable URL."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter(f"{name} must be a date like 2026-12-01, not {value!r}") from None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min).replace(tzinfo=utcnow().tzinfo)


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(f: DocumentFilters) -> list:
    where = []
    if f.partner:
        where.append(Document.partner_id == f.partner)
    if f.format:
        where.append(Document.format == f.format)
    if f.status == "open":
        where += [Document.status == DocumentStatus.REJECTED,
                  ~exists().where(DocumentResolution.document_id == Document.id)]
    elif f.status:
        if f.status not in set(DocumentStatus):
            raise BadFilter(f"status must be one of open, {', '.join(DocumentStatus)}")
        where.append(Document.status == f.status)
    if f.received_from:
        where.append(Document.received_at >= _start_of(_day(f.received_from, "received_from")))
    if f.received_to:
        where.append(Document.received_at < _start_of(_day(f.received_to, "received_to") + timedelta(days=1)))
    sets = []
    if f.set_id:
        sets.append(TransactionSetRecord.set_id == f.set_id)
    if f.control_number:
        n = f.control_number
        sets.append(or_(TransactionSetRecord.control_number == n, TransactionSetRecord.group_control_number == n,
                        TransactionSetRecord.interchange_control_number == n))
    if sets:
        where.append(exists().where(TransactionSetRecord.document_id == Document.id, *sets))
    for name, key in _BUSINESS_KEYS.items():
        if getattr(f, name):
            # Both backends store the event as json.dumps text, so the key/value pair reads the same.
            needle = _like(f'"{key}": "{getattr(f, name)}"')
            where.append(exists().where(EventRecord.document_id == Document.id,
                                        cast(EventRecord.body, String).like(needle, escape="\\")))
    if f.text:
        needle = _like(f.text.lower())
        where.append(or_(*(func.lower(c).like(needle, escape="\\") for c in
                           (Document.id, Document.filename, Document.reason, Document.correlation_id))))
    if f.delivery:
        if f.delivery not in set(DeliveryStatus):
            raise BadFilter(f"delivery must be one of {', '.join(DeliveryStatus)}")
        where.append(exists().where(EventRecord.document_id == Document.id,
                                    DeliveryRecord.event_id == EventRecord.event_id,
                                    DeliveryRecord.status == f.delivery))
    if f.overdue == "1":
        where += [Document.status == DocumentStatus.RECEIVED, Document.received_at < utcnow() - OVERDUE_AFTER]
    if f.held == "1":  # a partner whose test_data is `route` has them delivered to test routes: not held
        where += [Document.test.is_(True), Document.status == DocumentStatus.ACCEPTED,
                  ~exists().where(EventRecord.document_id == Document.id,
                                  DeliveryRecord.event_id == EventRecord.event_id)]
    return where


def count_documents(s: Session, f: DocumentFilters) -> int:
    """How many documents match: the dashboard's counts use the very filters they link to."""
    return s.scalar(select(func.count()).select_from(Document).where(and_(True, *_conditions(f)))) or 0


def counts_by_partner_and_status(s: Session, f: DocumentFilters) -> list[tuple[str | None, str, int]]:
    """(partner, status, documents) for the documents matching ``f``."""
    q = (select(Document.partner_id, Document.status, func.count()).where(and_(True, *_conditions(f)))
         .group_by(Document.partner_id, Document.status).order_by(Document.partner_id, Document.status))
    return [tuple(row) for row in s.execute(q)]


def search_documents(s: Session, f: DocumentFilters, *, page: int = 1,
                     page_size: int = PAGE_SIZE) -> tuple[list[Document], int]:
    """One page of matching documents, newest first, and how many match in all."""
    where = and_(True, *_conditions(f))
    total = count_documents(s, f)
    q = (select(Document).where(where).order_by(Document.received_at.desc(), Document.id)
         .offset((max(page, 1) - 1) * page_size).limit(page_size))
    return list(s.scalars(q)), total
