"""Ignore a rejected document on purpose, with a reason (say, the partner sent a corrected
one itself): it stops counting as an open rejection; the document is not changed.

One function for the console and the API; the resolution and its audit row commit together.
"""

from __future__ import annotations

from gateway.domain.status import DocumentStatus
from gateway.store.models import Document, utcnow
from gateway.store.models_api import AuditEntry
from gateway.store.models_users import DocumentResolution

MAX_REASON = 2000


class NotIgnorable(ValueError):
    """The document is in no state to be ignored (the message says why)."""


def ignore_document(rt, actor: str, document_id: str, reason: str, *, via: str) -> None:
    """Raises ``LookupError`` (no such document) or :class:`NotIgnorable`; audits the change."""
    why = (reason or "").strip()[:MAX_REASON]
    with rt.session() as s:
        doc = s.get(Document, document_id, with_for_update=True)
        if doc is None:
            raise LookupError(f"no document {document_id!r}")
        if not why:
            raise ValueError("say why it may be ignored: the reason goes to the audit log")
        if doc.status != DocumentStatus.REJECTED:
            raise NotIgnorable(f"only a rejected document can be ignored; this one is {doc.status}")
        if s.get(DocumentResolution, document_id) is not None:
            raise NotIgnorable("this document is already resolved")
        s.add(DocumentResolution(document_id=document_id, kind="ignored", actor=actor, reason=why, at=utcnow()))
        s.add(AuditEntry(at=utcnow(), actor=actor, action="document.ignore", target=document_id, reason=why,
                         details={"via": via}))
