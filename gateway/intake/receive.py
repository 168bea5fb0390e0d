"""Receive a file from any channel: store the original, record it, then enqueue its id.

This is the only way bytes enter the gateway. ``receive`` returns once the blob is
fsynced and the row committed; only then may a channel tell the sender "received"
(SFTP close OK, HTTP 202, AS2 MDN). If Redis is down at that moment the document is
still safe: it stays ``received`` and the sweeper enqueues it later.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from gateway import queue as jobs
from gateway.bootstrap import Runtime
from gateway.domain.status import DocumentStatus
from gateway.observe.context import bind
from gateway.routing import queues
from gateway.store.models import Document, utcnow

log = logging.getLogger("gateway.intake")


class DocumentTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class Receipt:
    document_id: str
    correlation_id: str
    sha256: str
    enqueued: bool


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def receive(rt: Runtime, data: bytes, *, channel: str, filename: str, partner_id: str | None,
            enqueue: bool = True) -> Receipt:
    """Store ``data`` durably and queue it for processing. ``enqueue=False``: the caller
    processes it at once (a synchronous channel such as cXML over HTTP); the sweeper
    takes it up if that caller dies before it has."""
    if len(data) > rt.settings.max_document_bytes:
        raise DocumentTooLarge(f"{len(data)} bytes is over the {rt.settings.max_document_bytes}-byte limit")
    sha = rt.blobs.put(data)
    document_id = new_id("doc")
    correlation_id = new_id("cor")
    with rt.session() as s:
        s.add(
            Document(
                id=document_id,
                partner_id=partner_id,
                channel=channel,
                filename=filename[-255:],
                sha256=sha,
                size=len(data),
                status=DocumentStatus.RECEIVED,
                correlation_id=correlation_id,
                received_at=utcnow(),
                queued_at=utcnow(),
                errors=[],
            )
        )
    log.info(
        "document received",
        extra={"document_id": document_id, "correlation_id": correlation_id, "partner_id": partner_id,
               "channel": channel, "bytes": len(data)},
    )
    if not enqueue:
        return Receipt(document_id, correlation_id, sha, False)
    with bind(correlation_id=correlation_id, document_id=document_id):  # the job carries it on
        enqueued = enqueue_processing(rt, document_id, len(data))
    if not enqueued:  # let the sweeper pick it up on its next pass instead of after a lease
        with rt.session() as s:
            s.get(Document, document_id).queued_at = None
    return Receipt(document_id, correlation_id, sha, enqueued)


def processing_timeout(size: int) -> int:
    """Seconds a processing job may run: pyx12 validates ~3,000 segments/s with our full
    maps (~100 KB/s); allow 20 KB/s on a busy host, and never less than five minutes."""
    return 300 + size // 20_000


def enqueue_processing(rt: Runtime, document_id: str, size: int | None = None) -> bool:
    """Put the document on the ``process`` queue (``bulk`` when it is big, so it cannot
    hold up the small ones); False (and a log line) if Redis is away."""
    try:
        if size is None:
            with rt.session() as s:
                size = s.get(Document, document_id).size
        rt.queue(queues.processing_queue(size, rt.settings.bulk_threshold_bytes)).enqueue_call(
            jobs.process_document,
            args=(document_id,),
            timeout=processing_timeout(size),
            job_id=queues.job_id("process", document_id, uuid.uuid4().hex[:8]),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )
        return True
    except Exception as exc:  # the sweeper will find the document still `received`
        log.warning("could not enqueue %s for processing: %s", document_id, exc)
        return False
