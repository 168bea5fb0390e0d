"""Send documents and acks to a partner over AS2, keep the MDN as evidence, retry with
backoff until the partner's MDN says ``processed``.

``send_to_partner`` is the one call the rest of the gateway uses: it picks the partner's
channel (AS2 when its profile has a URL, else its SFTP ``/outbound`` folder). An AS2 send
is recorded first (payload in the blob store, a row in ``as2_messages``), tried once at
once, and then by :func:`run_due` (the ``as2-resend`` periodic task, :mod:`gateway.periodic`) until it succeeds or runs out of attempts.
A resend keeps its Message-ID, so the partner can recognise it as a duplicate.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from types import SimpleNamespace

import requests
from sqlalchemy import or_, select

from gateway.bootstrap import Runtime
from gateway.domain.partner import PartnerProfile
from gateway.store.models import utcnow
from gateway.store.models_transport import As2Message
from gateway.transports.as2_compat import Mdn, Message
from gateway.transports.as2_profiles import directory
from gateway.transports.as2_receive import deliver_async_mdn, raw_message, unquote_name
from gateway.transports.outbound import write_outbound

log = logging.getLogger("gateway.transports.as2")
security = logging.getLogger("gateway.security")

FINAL = {"delivered", "failed"}


def send_to_partner(rt: Runtime, partner: PartnerProfile | str, filename: str, content: bytes) -> str:
    """Send ``content`` to the partner on its own channel; returns where it went, e.g.
    ``as2:demo/<message-id> (delivered)`` or ``sftp:demo/outbound/997_000000001.x12``.

    Over AS2 a failed first attempt is not an error here: the message is recorded and
    retried in the background; the description says ``(retrying)``."""
    profile = rt.partners[partner] if isinstance(partner, str) else partner
    if profile.as2 is None or not profile.as2.url:
        path = write_outbound(rt.settings, profile.id, filename, content)
        return f"sftp:{profile.id}/outbound/{path.name}"
    row_id, message_id = queue_as2(rt, profile, filename, content)
    status = deliver(rt, row_id)
    return f"as2:{profile.id}/{message_id} ({'retrying' if status == 'pending' else status})"


def queue_as2(rt: Runtime, profile: PartnerProfile, filename: str, content: bytes) -> tuple[int, str]:
    """Record an outbound AS2 message (the payload is stored first); returns (row id, Message-ID)."""
    d = directory(rt)
    sha = rt.blobs.put(content)
    org = d.signing_organization(profile)
    message_id = f"{uuid.uuid4().hex}@{org.domain}"
    with rt.session() as s:
        row = As2Message(direction="out", partner_id=profile.id, message_id=message_id, status="pending",
                         filename=filename[-255:], sha256=sha, mdn_mode=profile.as2.mdn, next_attempt_at=utcnow())
        s.add(row)
        s.flush()
        return row.id, message_id


def _build(rt: Runtime, row: As2Message) -> Message:
    d = directory(rt)
    profile = rt.partners[row.partner_id]
    partner = d.partners(profile, outbound=True)[0]  # the newest valid certificate encrypts
    msg = Message(sender=d.signing_organization(profile), receiver=partner)
    left, _, _domain = row.message_id.partition("@")
    msg.build(rt.blobs.path_for(row.sha256).read_bytes(), filename=row.filename, message_id=left,
              content_type="application/edi-x12" if row.filename.lower().endswith((".x12", ".edi")) else
              "application/octet-stream", disposition_notification_to="edi@" + _domain)
    return msg


def deliver(rt: Runtime, row_id: int) -> str:
    """One attempt; returns the row's new status (pending, awaiting-mdn, delivered, failed)."""
    d = directory(rt)
    with rt.session() as s:
        row = s.get(As2Message, row_id)
        if row is None or row.status in FINAL or row.status == "awaiting-mdn":
            return row.status if row else "missing"
        row.attempts += 1
        row.next_attempt_at = utcnow() + timedelta(seconds=min(3600, 10 * 2 ** min(row.attempts - 1, 9)))
        attempts = row.attempts
        profile = rt.partners[row.partner_id]
        snapshot = SimpleNamespace(**{c: getattr(row, c) for c in ("partner_id", "message_id", "filename", "sha256")})
    try:
        msg = _build(rt, snapshot)
        mic = f"{msg.mic.decode()}, {msg.digest_alg}" if msg.mic else None
        if mic:  # kept before the POST: a partner may post its async MDN before our POST returns
            with rt.session() as s:
                s.get(As2Message, row_id).mic = mic
        response = requests.post(profile.as2.url, data=msg.content, headers=msg.headers, timeout=profile.as2.timeout)
    except Exception as exc:  # network, partner down, or a certificate problem on our side
        return _record(rt, row_id, attempts, d.config.max_attempts, ok=False, detail=f"send failed: {exc}")
    if response.status_code >= 300:
        return _record(rt, row_id, attempts, d.config.max_attempts, ok=False,
                       detail=f"partner answered HTTP {response.status_code}")
    if msg.receiver.mdn_mode == "ASYNC":
        with rt.session() as s:
            row = s.get(As2Message, row_id, with_for_update=True)
            if row.status in FINAL:  # the async MDN came back before our POST returned
                return row.status
            row.status, row.detail = "awaiting-mdn", "sent; waiting for the async MDN"
        return "awaiting-mdn"
    if msg.receiver.mdn_mode is None:
        return _record(rt, row_id, attempts, d.config.max_attempts, ok=True, detail="sent (no MDN requested)", mic=mic)
    raw = raw_message(list(response.headers.items()), response.content)
    status, detail = Mdn().parse(raw, find_message_cb=lambda _mid, _rcpt: msg)
    return _record(rt, row_id, attempts, d.config.max_attempts, ok=status == "processed", mic=mic,
                   detail=f"MDN {status}{': ' + detail if detail else ''}", mdn=(dict(response.headers), response.content),
                   mdn_status=status, final_on_error=status is not None and status.startswith("processed/"))


def _record(rt, row_id, attempts, max_attempts, *, ok, detail, mic=None, mdn=None, mdn_status=None,
            final_on_error=False) -> str:
    with rt.session() as s:
        row = s.get(As2Message, row_id, with_for_update=True)
        if row.status in FINAL:  # an async MDN settled it while this attempt was in flight
            return row.status
        row.detail = detail
        row.mic = mic or row.mic
        if mdn is not None:
            row.mdn_headers, row.mdn_body, row.mdn_status = mdn[0], mdn[1], mdn_status
        if ok:
            row.status, row.next_attempt_at = "delivered", None
        elif final_on_error or attempts >= max_attempts:
            # the partner processed it and reported an error, or we are out of attempts
            row.status, row.next_attempt_at = "failed", None
            log.error("AS2 message %s to %s failed: %s", row.message_id, row.partner_id, detail)
        else:
            log.warning("AS2 message %s to %s: attempt %s: %s", row.message_id, row.partner_id, attempts, detail)
        return row.status


def handle_async_mdn(rt: Runtime, headers: list[tuple[str, str]], body: bytes) -> tuple[int, str]:
    """An MDN posted to ``/as2`` for a message we sent; returns (HTTP status, text).

    Anyone can POST here, so an MDN is evidence only when it comes from the partner the
    message went to (its AS2-From/AS2-To), names a message we sent *to that partner*,
    and verifies against that partner's certificate(s) as the profile asks (signed unless
    ``mdn_signed: false``, with the profile's digest). A message whose state is final or
    whose MDN is already stored is never changed. Every refusal changes nothing and is
    logged on ``gateway.security``."""
    d = directory(rt)
    h = {k.lower(): v for k, v in headers}
    as2_from, as2_to = unquote_name(h.get("as2-from", "")), unquote_name(h.get("as2-to", ""))
    profile = d.partner_by_as2_id(as2_from, as2_to)
    if profile is None:
        return _refuse(403, f"MDN from an unknown AS2 partner {as2_from!r} (to {as2_to!r})")
    raw = raw_message(headers, body)
    row_id = status = detail = verified_with = None
    for partner in d.partners(profile, outbound=True):  # one per valid certificate (rollover)
        found: dict = {}
        mdn = Mdn()
        status, detail = mdn.parse(raw, find_message_cb=lambda mid, _rcpt, p=partner, f=found: _sent(rt, profile, p, mid, f))
        if "row_id" not in found:
            return _refuse(404, f"MDN from {profile.id} names no message we sent to {profile.id} "
                                f"({getattr(mdn, 'orig_message_id', None)!r})")
        row_id = found["row_id"]
        if mdn.digest_alg:  # a signature was present and verified with this certificate
            verified_with = mdn.digest_alg
            break
    if verified_with is None and (profile.as2.mdn_signed or (detail or "").startswith("Failed to parse")):
        return _refuse(403, f"MDN from {profile.id} for message row {row_id} did not verify: {status}: {detail}")
    if verified_with is not None and verified_with != profile.as2.digest:
        return _refuse(403, f"MDN from {profile.id} signed with {verified_with}; its profile asks for "
                            f"{profile.as2.digest}")
    with rt.session() as s:
        row = s.get(As2Message, row_id, with_for_update=True)
        if row.status in FINAL or row.mdn_body is not None:
            return _refuse(409, f"MDN from {profile.id} for message {row.message_id}, which is already "
                                f"{row.status} with its MDN kept; nothing changed")
        row.mdn_headers, row.mdn_body, row.mdn_status = {k: v for k, v in headers}, body, status
        row.detail = f"async MDN {status}{': ' + detail if detail else ''}"
        row.status = "delivered" if status == "processed" else "failed"
        row.next_attempt_at = None
    return 200, "MDN received"


def _sent(rt: Runtime, profile: PartnerProfile, partner, message_id: str, found: dict):
    """pyas2lib's find-message callback: our outbound message with this id, sent to ``profile``."""
    with rt.session() as s:
        row = s.scalar(select(As2Message).where(As2Message.direction == "out", As2Message.partner_id == profile.id,
                                                As2Message.message_id == message_id))
        if row is None:
            return None
        found["row_id"] = row.id
        mic = row.mic.split(",")[0].strip().encode() if row.mic else None
        return SimpleNamespace(receiver=partner, mic=mic, message_id=message_id)


def _refuse(status: int, why: str) -> tuple[int, str]:
    security.warning("async MDN refused (HTTP %s): %s", status, why)
    return status, why


def run_due(rt: Runtime, limit: int = 50) -> int:
    """One resender pass: outbound messages due for another attempt and async MDNs we
    still owe. Returns how many were tried."""
    now = utcnow()
    with rt.session() as s:
        rows = s.execute(select(As2Message.id, As2Message.direction).where(
            As2Message.next_attempt_at <= now,
            or_(As2Message.direction == "in", As2Message.status == "pending")).limit(limit)).all()
    for row_id, direction in rows:
        try:
            deliver(rt, row_id) if direction == "out" else deliver_async_mdn(rt, row_id)
        except Exception:
            log.exception("AS2 resend of row %s failed", row_id)
    return len(rows)
