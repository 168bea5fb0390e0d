"""POST a recorded cXML document to the partner's ``cxml.order_url``, and record its answer.

Called by :func:`gateway.outbound.send.send_outbound` once it has claimed the row (so one
request at a time sends it). Only the URL in the partner's profile is ever requested:
no redirects followed, TLS verified, a connect/read timeout and an overall deadline,
and the answer read up to ``cxml.max_response_bytes``. The shared secret is put in the
bytes here, on their way out, and nowhere else.

The answer (:mod:`gateway.outbound.cxml_response`): accepted or rejected is the partner's
acknowledgment, recorded on the row at once (``ack_status``, ``response_code``,
``response_text``, the Response bytes as a blob) with an ``ack.received`` event;
transient is ``send_failed`` with ``next_attempt_at`` backed off (30 s doubling, at most
an hour) for the sweeper's ``send_unsent``, until ``max_attempts`` ends it ``failed``.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import requests

from gateway.bootstrap import Runtime
from gateway.domain.partner import SecretUnavailable
from gateway.outbound.cxml_envelope import with_secret
from gateway.outbound.cxml_response import ACCEPTED, REDIRECTED, REJECTED, CxmlAnswer, read_answer
from gateway.store.models import utcnow
from gateway.store.models_outbound import OutboundDocument

log = logging.getLogger("gateway.outbound")
CHUNK = 16 * 1024


class ResponseTooLarge(IOError):
    pass


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** min(max(attempts - 1, 0), 7)))


def post_cxml(rt: Runtime, outbound_id: str) -> str:
    """Send the claimed row ``outbound_id``; returns its status (``sent``, ``send_failed``, ``failed``)."""
    from gateway.outbound.send import SendFailed

    with rt.session() as s:
        row = s.get(OutboundDocument, outbound_id)
        partner_id, sha, attempts = row.partner_id, row.document.sha256, row.attempts
    settings = rt.partners[partner_id].cxml
    try:
        if settings is None or not settings.order_url:
            raise RuntimeError(f"partner {partner_id} has no cxml.order_url any more")
        data = with_secret(rt.blobs.get(sha), settings.shared_secret.read())
    except (SecretUnavailable, RuntimeError, OSError) as exc:  # our configuration: kept, retried, said so
        if _failed(rt, outbound_id, attempts, settings, f"our side: {exc}") == "failed":
            return "failed"
        raise SendFailed(f"{outbound_id} is recorded but could not be sent: {exc}") from None
    try:
        http_status, body = _post(settings, data)
    except (requests.RequestException, ResponseTooLarge, OSError) as exc:
        detail = f"{type(exc).__name__}: {exc}"[:1000]
        status = _failed(rt, outbound_id, attempts, settings, f"POST {settings.order_url}: {detail}")
        if status == "failed":
            return status
        raise SendFailed(f"{outbound_id} is recorded; the partner could not be reached ({detail}); "
                         f"it is sent again at {_next(rt, outbound_id)}") from None
    answer = read_answer(http_status, body, max_bytes=settings.max_response_bytes)
    if answer.outcome in (ACCEPTED, REJECTED):
        return _answered(rt, outbound_id, answer, body)
    if answer.outcome == REDIRECTED:
        return _failed(rt, outbound_id, attempts, settings, answer.text, give_up=True, answer=answer)
    status = _failed(rt, outbound_id, attempts, settings, f"{answer.code} {answer.text}", answer=answer)
    if status == "failed":
        return status
    raise SendFailed(f"{outbound_id} is recorded; the partner answered {answer.code} ({answer.text[:200]}); "
                     f"it is sent again at {_next(rt, outbound_id)}")


def _post(settings, data: bytes) -> tuple[int, bytes]:
    """One POST to ``order_url``: no redirects, TLS verified, the answer size and time bounded."""
    deadline = time.monotonic() + settings.timeout * 2
    with requests.post(settings.order_url, data=data, timeout=(min(10.0, settings.timeout), settings.timeout),
                       allow_redirects=False, verify=True, stream=True,
                       headers={"Content-Type": "text/xml; charset=UTF-8", "Accept": "text/xml"}) as response:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > settings.max_response_bytes:
            raise ResponseTooLarge(f"the answer is {declared} bytes; at most {settings.max_response_bytes} are read")
        body = bytearray()
        for chunk in response.iter_content(CHUNK):
            body += chunk
            if len(body) > settings.max_response_bytes:
                raise ResponseTooLarge(f"the answer is over {settings.max_response_bytes} bytes")
            if time.monotonic() > deadline:
                raise requests.Timeout(f"the answer took longer than {settings.timeout * 2:.0f} s")
        return response.status_code, bytes(body)


def _answered(rt: Runtime, outbound_id: str, answer: CxmlAnswer, body: bytes) -> str:
    from gateway.outbound.events import outbound_event
    from gateway.processing.x12_interchange import record_event
    from gateway.routing.outbox import relay

    now = utcnow()
    response_sha = rt.blobs.put(body) if body else None
    with rt.session() as s:
        row = s.get(OutboundDocument, outbound_id)
        row.status, row.lease_until, row.sent_at, row.last_error, row.next_attempt_at = "sent", None, now, None, None
        row.destination = f"cxml:{rt.partners[row.partner_id].cxml.order_url}"
        row.response_code, row.response_text, row.response_sha256 = answer.code, answer.text, response_sha
        row.ack_status, row.acked_at = answer.outcome, now
        row.ack_errors = [] if answer.outcome == ACCEPTED else [{"code": str(answer.code), "message": answer.text}]
        event = outbound_event(row, "ack.received", now, {
            "document_id": row.id, "status": answer.outcome, "errors": row.ack_errors, "po_number": row.po_number,
            "transaction_set": row.transaction_set, "ack_document_id": None})
        deliveries = [(d.id, d.queue) for d in record_event(rt, s, row.document, event)]
        partner_id = row.partner_id
    relay(rt, deliveries, [])
    log.log(logging.INFO if answer.outcome == ACCEPTED else logging.WARNING, "cXML %s to %s: %s %s %s",
            outbound_id, partner_id, answer.outcome, answer.code, answer.text[:300])
    return "sent"


def _failed(rt: Runtime, outbound_id: str, attempts: int, settings, error: str, *, give_up: bool = False,
            answer: CxmlAnswer | None = None) -> str:
    """Record a failed attempt: retried after a backoff, or ``failed`` once attempts run out."""
    now = utcnow()
    limit = settings.max_attempts if settings is not None else 1
    with rt.session() as s:
        row = s.get(OutboundDocument, outbound_id)
        row.lease_until, row.last_error = None, error[:2000]
        if answer is not None:
            row.response_code, row.response_text = answer.code, answer.text
        if give_up or attempts >= limit:
            row.status, row.next_attempt_at = "failed", None
            log.error("cXML %s to %s failed for good after %d attempt(s): %s", outbound_id, row.partner_id, attempts,
                      error[:500])
        else:
            row.status, row.next_attempt_at = "send_failed", now + backoff(attempts)
            log.warning("cXML %s to %s: attempt %d failed, next at %s: %s", outbound_id, row.partner_id, attempts,
                        row.next_attempt_at.isoformat(), error[:500])
        return row.status


def _next(rt: Runtime, outbound_id: str) -> str:
    with rt.session() as s:
        at = s.get(OutboundDocument, outbound_id).next_attempt_at
        return at.isoformat() if at else "the next sweep"
