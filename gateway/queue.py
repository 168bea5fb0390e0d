"""RQ entry points: every job the gateway puts on a queue is one of these functions,
enqueued by reference (``queue.enqueue_call(process_document, ...)``), never by a
dotted string that can drift from the code.

Each takes ids (claim check), never payloads, and works from the database and the blob
store, so any worker on any host can run it again. This module imports nothing from the
gateway at import time: RQ imports it in every worker, and the work each job does is
loaded on its first call.

One document, one job: ``process_document`` validates, acknowledges, translates and
records in one transaction, then sends the acks and makes the first ERP delivery
attempts in the same job (see :func:`gateway.routing.dispatch.dispatch`). Only what
cannot go there (non-critical targets, retries, replays, a big document's thousands of
events) becomes ``deliver_batch`` jobs.
"""

from __future__ import annotations


def _current_runtime():
    """This process's runtime, with partners and maps onboarded since it started (one
    primary-key read per job; a reload only when something was activated)."""
    from gateway.bootstrap import runtime
    from gateway.onboarding.directory import refresh

    rt = runtime()
    refresh(rt)
    return rt


def process_document(document_id: str) -> str:
    """The document's claim reads the onboarding generation on the way: partners and maps
    onboarded since are loaded from it before the document is processed (one statement
    fewer per job than :func:`_current_runtime`)."""
    from gateway.bootstrap import runtime
    from gateway.onboarding.directory import refresh
    from gateway.processing.service import process
    from gateway.routing.dispatch import dispatch

    return process(runtime(), document_id, dispatch=dispatch, onboarded=refresh)


def deliver_batch(delivery_ids: list[str]) -> dict[str, int]:
    """Attempt each delivery once (one claim and one verdict statement for the batch, each
    row on its own lease); counts by outcome."""
    from gateway.bootstrap import runtime
    from gateway.routing.delivery import attempt_many

    return attempt_many(runtime(), delivery_ids)


def deliver(delivery_id: str) -> str:
    """One delivery (jobs queued before deliveries were batched still name this)."""
    from gateway.bootstrap import runtime
    from gateway.routing.delivery import attempt

    return attempt(runtime(), delivery_id)


def send_ack(ack_id: int) -> str:
    from gateway.processing.acks import send

    return send(_current_runtime(), ack_id)
