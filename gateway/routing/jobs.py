"""RQ job entry points. Each takes an id (claim check), never a payload, and works
from the database and the blob store, so any worker on any host can run it again."""

from __future__ import annotations

from gateway.bootstrap import runtime


def _current_runtime():
    """This process's runtime, with partners and maps onboarded since it started (one
    primary-key read per job; a reload only when something was activated)."""
    from gateway.onboarding.directory import refresh

    rt = runtime()
    refresh(rt)
    return rt


def process_document(document_id: str) -> str:
    from gateway.processing.service import process

    return process(_current_runtime(), document_id)


def deliver(delivery_id: str) -> str:
    from gateway.routing.delivery import attempt

    return attempt(runtime(), delivery_id)


def send_ack(ack_id: int) -> str:
    from gateway.processing.acks import send

    return send(_current_runtime(), ack_id)
