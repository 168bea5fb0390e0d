"""RQ job entry points. Each takes an id (claim check), never a payload, and works
from the database and the blob store, so any worker on any host can run it again."""

from __future__ import annotations

from gateway.bootstrap import runtime


def process_document(document_id: str) -> str:
    from gateway.processing.service import process

    return process(runtime(), document_id)


def deliver(delivery_id: str) -> str:
    from gateway.routing.delivery import attempt

    return attempt(runtime(), delivery_id)


def send_ack(ack_id: int) -> str:
    from gateway.processing.acks import send

    return send(runtime(), ack_id)
