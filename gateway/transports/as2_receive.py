"""Receive one AS2 message: decrypt, verify, decompress (bounded) with pyas2lib, store
the payload through :func:`gateway.intake.receive.receive`, and only then answer
``processed`` (DESIGN §1).

The contract, case by case:

* verified and stored: the MDN pyas2lib built (signed when asked, with the MIC) is
  kept in ``as2_messages`` and returned (sync) or posted to the partner (async);
* storage failed: an error MDN (``processed/Error: unexpected-processing-error``), or
  503 when no MDN was asked for; the Message-ID is *not* marked seen, so a resend works;
* verified, but encrypted or signed with other algorithms than the profile's
  ``encryption``/``digest`` (3DES, SHA-1, ...): ``insufficient-message-security``, nothing
  stored;
* a Message-ID already processed for this partner: the original MDN again, nothing
  received twice (a different payload under the same id is logged as an alert);
* security short of the partner's profile, a bad signature, another partner's
  certificate, an expired certificate, a zip bomb: pyas2lib's error MDN, nothing stored;
  a refused message that asked for an asynchronous MDN gets the reason in the HTTP
  answer instead, and no request goes to the URL it named;
* an async MDN is posted only to a URL listed in the partner's ``async_mdn_urls``, never
  following redirects; a verified message naming another URL is refused (403), nothing
  stored.

pyas2lib's duplicate callback runs *before* verification, so it is not used: a
Message-ID counts as seen only once a verified message was stored.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DbIntegrityError

from gateway.bootstrap import Runtime
from gateway.intake.receive import receive
from gateway.store.models import utcnow
from gateway.store.models_transport import As2Message
from gateway.transports.as2_compat import BoundedMessage, Mdn
from gateway.transports.as2_profiles import directory

log = logging.getLogger("gateway.transports.as2")
security = logging.getLogger("gateway.security")

RETRY_WITH_NEXT_CERT = {"authentication-failed", "invalid-certificate"}
CLAIM_SECONDS = 120  # a "receiving" row older than this belongs to a request that died
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection", "host",
              "content-length"}


@dataclass
class As2Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    after: Callable[[], None] | None = None  # run once the HTTP response is sent (async MDN)


def raw_message(headers: list[tuple[str, str]], body: bytes) -> bytes:
    """HTTP headers and body as the one MIME message pyas2lib parses."""
    lines = [f"{k}: {v}\r\n" for k, v in headers if k.lower() not in HOP_BY_HOP]
    return "".join(lines).encode("utf-8", "replace") + b"\r\n" + body


def is_mdn(headers: list[tuple[str, str]], body: bytes) -> bool:
    """An MDN (multipart/report, possibly signed) rather than a message: never encrypted."""
    ctype = next((v for k, v in headers if k.lower() == "content-type"), "").lower()
    if ctype.startswith("multipart/report"):
        return True
    if ctype.startswith("multipart/signed"):
        parsed = message_from_bytes(raw_message(headers, body))
        return any(part.get_content_type() == "multipart/report" for part in parsed.walk())
    return False


def handle_message(rt: Runtime, headers: list[tuple[str, str]], body: bytes) -> As2Reply:
    d = directory(rt)
    h = {k.lower(): v for k, v in headers}
    as2_from, as2_to = unquote_name(h.get("as2-from", "")), unquote_name(h.get("as2-to", ""))
    message_id = h.get("message-id", "").strip().strip("<>")
    if not (as2_from and as2_to and message_id):
        return As2Reply(400, {"Content-Type": "text/plain"}, b"not an AS2 message: AS2-From, AS2-To and Message-ID are required\n")
    profile = d.partner_by_as2_id(as2_from, as2_to)
    raw = raw_message(headers, body)
    msg, status, exc, mdn = _parse(d, profile, raw)
    if status != "processed":
        reason = getattr(exc, "disposition_modifier", "") or str(exc)
        log.warning("AS2 message %s from %r refused: %s (%s)", message_id, as2_from, status, reason)
        return _refuse(mdn, status, reason, 400 if profile is None else 422, message_id, as2_from)
    weaker = below_profile(profile, msg)
    if weaker:
        security.warning("AS2 message %s from %s refused: %s; nothing stored", message_id, profile.id, weaker)
        return _refuse(_error_mdn(mdn, msg, "insufficient-message-security"), "processed/Error",
                       f"insufficient-message-security ({weaker})", 422, message_id, as2_from)
    if mdn is not None and mdn.mdn_url and not mdn_url_allowed(profile, mdn.mdn_url):
        security.warning("AS2 message %s from %s asks for its MDN at %r, not one of its async_mdn_urls; "
                         "refused, nothing stored", message_id, profile.id, mdn.mdn_url)
        return As2Reply(403, {"Content-Type": "text/plain"},
                        f"Receipt-Delivery-Option {mdn.mdn_url!r} is not an async MDN URL configured for "
                        f"{as2_from}; nothing was stored: ask for a synchronous MDN or have the URL added\n".encode())

    payload = msg.content if isinstance(msg.content, bytes) else msg.content.encode()
    sha = hashlib.sha256(payload).hexdigest()
    filename = _filename(msg, message_id)
    mic = f"{msg.mic.decode()}, {msg.digest_alg}" if msg.mic else None
    outcome, row_id = _claim(rt, profile.id, message_id, sha, filename, mdn, mic)
    if outcome == "duplicate":
        return _replay(rt, row_id, sha)
    if outcome == "busy":
        return As2Reply(503, {"Retry-After": "30", "Content-Type": "text/plain"}, b"this message is being received\n")
    try:
        receipt = receive(rt, payload, channel="as2", filename=filename, partner_id=profile.id)
    except Exception as exc:
        log.exception("AS2 message %s from %s could not be stored", message_id, profile.id)
        _release(rt, row_id)
        if mdn is None:
            return As2Reply(503, {"Retry-After": "60", "Content-Type": "text/plain"}, b"not stored, send again\n")
        return _answer(_error_mdn(mdn, msg, "unexpected-processing-error"))
    with rt.session() as s:
        row = s.get(As2Message, row_id)
        row.status, row.document_id = "processed", receipt.document_id
        if mdn is not None:
            row.mdn_headers, row.mdn_body = dict(mdn.headers), mdn.content
            row.mdn_status = "processed"
            if mdn.mdn_url:
                row.next_attempt_at = utcnow()
    log.info("AS2 message %s from %s stored as %s", message_id, profile.id, receipt.document_id)
    return _answer(mdn, after=(lambda: deliver_async_mdn(rt, row_id)) if mdn is not None and mdn.mdn_url else None)


def below_profile(profile, msg) -> str | None:
    """Why a verified message falls short of the algorithms its partner's profile names
    (``encryption``, ``digest``), or None. Exact: a partner agreed to one of each."""
    s = profile.as2
    if msg.encrypted and msg.enc_alg != s.encryption:
        return f"encrypted with {msg.enc_alg}, the profile asks for {s.encryption}"
    if msg.signed and msg.digest_alg != s.digest:
        return f"signed with {msg.digest_alg}, the profile asks for {s.digest}"
    return None


def _error_mdn(mdn, msg, modifier: str):
    """An error MDN in place of pyas2lib's ``processed`` one (None when none was asked for)."""
    if mdn is None:
        return None
    error = Mdn(mdn_mode=mdn.mdn_mode, digest_alg=mdn.digest_alg, mdn_url=mdn.mdn_url)
    error.build(message=msg, status="processed/Error", detailed_status=modifier)
    return error


def _refuse(mdn, status: str, reason: str, code: int, message_id: str, as2_from: str) -> As2Reply:
    """A refused message: its error MDN when a synchronous one was asked for; otherwise the
    reason in the HTTP answer. Never a request to a URL a refused message named."""
    if mdn is not None and mdn.mdn_url:
        security.warning("AS2 message %s from %r refused (%s); no async MDN posted to %r", message_id,
                         as2_from, reason, mdn.mdn_url)
        return As2Reply(code, {"Content-Type": "text/plain"},
                        f"{status}: {reason}; refused messages get no asynchronous MDN\n".encode())
    return _answer(mdn, status_if_none=code)


def _parse(d, profile, raw: bytes):
    """Parse with each of our decryption keys and each of the partner's valid certificates
    (a rollover), stopping at the first success or at an error another key cannot fix."""
    orgs = d.organizations(profile) if profile else [None]
    partners = d.partners(profile) if profile else [None]
    result = None
    for org in orgs:
        for partner in partners:
            msg = BoundedMessage()
            msg.max_decompressed = d.config.max_decompressed_bytes
            status, (exc, _tb), mdn = msg.parse(raw, find_org_partner_cb=lambda _to, _from, o=org, p=partner: (o, p))
            result = (msg, status, exc, mdn)
            if status == "processed" or getattr(exc, "disposition_modifier", "") not in RETRY_WITH_NEXT_CERT:
                break
        if getattr(result[2], "disposition_modifier", "") != "decryption-failed":
            break
    return result


def _claim(rt: Runtime, partner_id: str, message_id: str, sha: str, filename: str, mdn, mic) -> tuple[str, int | None]:
    """Reserve the Message-ID: ``new`` (go on), ``duplicate`` (already processed) or ``busy``."""
    for _ in range(2):
        try:
            with rt.session() as s:
                row = s.scalar(select(As2Message).where(As2Message.direction == "in", As2Message.partner_id == partner_id,
                                                        As2Message.message_id == message_id))
                if row is not None and row.status == "processed":
                    return "duplicate", row.id
                if row is not None and row.updated_at > utcnow() - timedelta(seconds=CLAIM_SECONDS):
                    return "busy", None
                if row is None:
                    row = As2Message(direction="in", partner_id=partner_id, message_id=message_id[:255])
                    s.add(row)
                row.status, row.sha256, row.filename, row.mic = "receiving", sha, filename, mic
                row.mdn_mode = "none" if mdn is None else ("async" if mdn.mdn_url else "sync")
                row.mdn_url, row.updated_at = (mdn.mdn_url if mdn else None), utcnow()
                s.flush()
                return "new", row.id
        except DbIntegrityError:  # another request inserted it between our select and insert
            continue
    return "busy", None


def _release(rt: Runtime, row_id: int) -> None:
    try:
        with rt.session() as s:
            row = s.get(As2Message, row_id)
            if row is not None and row.status == "receiving":
                s.delete(row)
    except Exception:  # the database is away; the claim times out after CLAIM_SECONDS
        log.warning("could not release the claim on AS2 message row %s", row_id)


def _replay(rt: Runtime, row_id: int, sha: str) -> As2Reply:
    with rt.session() as s:
        row = s.get(As2Message, row_id)
        if row.sha256 != sha:
            log.error("ALERT: AS2 Message-ID %s from %s resent with a different payload; not received again",
                      row.message_id, row.partner_id)
        log.info("AS2 message %s from %s is a resend; answering with the original MDN", row.message_id, row.partner_id)
        if row.mdn_body is None:
            return As2Reply(200)
        if row.mdn_mode == "async":
            row.next_attempt_at = utcnow()
            return As2Reply(200, after=lambda: deliver_async_mdn(rt, row_id))
        return As2Reply(200, dict(row.mdn_headers), row.mdn_body)


def _answer(mdn, *, status_if_none: int = 200, after=None) -> As2Reply:
    if mdn is None:
        return As2Reply(status_if_none)
    if mdn.mdn_url:  # asynchronous: the HTTP answer is empty, the MDN is posted separately
        return As2Reply(200, after=after or (lambda: _post_mdn(mdn.mdn_url, dict(mdn.headers), mdn.content)))
    return As2Reply(200, dict(mdn.headers), mdn.content)


def mdn_url_allowed(profile, url: str) -> bool:
    """Whether the partner's profile lists ``url`` among its ``async_mdn_urls`` (exactly)."""
    return profile is not None and profile.as2 is not None and url.strip() in profile.as2.async_mdn_urls


def deliver_async_mdn(rt: Runtime, row_id: int) -> bool:
    """Post the stored MDN of an inbound message to the partner; on failure the resender
    tries again later (backoff). True once the partner accepted it.

    Only to a URL the partner's profile still lists (it may have changed since)."""
    with rt.session() as s:
        row = s.get(As2Message, row_id)
        if row is None or row.next_attempt_at is None or not row.mdn_url:
            return True
        if not mdn_url_allowed(rt.partners.get(row.partner_id), row.mdn_url):
            security.warning("async MDN for AS2 message %s not posted: %r is no longer one of %s's "
                             "async_mdn_urls", row.message_id, row.mdn_url, row.partner_id)
            row.next_attempt_at, row.detail = None, "async MDN not sent: URL not allowed by the profile"
            return False
        url, headers, body = row.mdn_url, dict(row.mdn_headers), row.mdn_body
    ok, detail = _post_mdn(url, headers, body)
    with rt.session() as s:
        row = s.get(As2Message, row_id)
        row.attempts += 1
        row.detail = detail
        if ok:
            row.next_attempt_at = None
        else:
            row.next_attempt_at = utcnow() + timedelta(seconds=min(3600, 5 * 2 ** min(row.attempts, 10)))
    return ok


def _post_mdn(url: str, headers: dict, body: bytes) -> tuple[bool, str]:
    import requests

    try:
        # Never follow a redirect: a 302 would turn our POST into a GET on wherever it points.
        response = requests.post(url, data=body, headers=headers, timeout=30, allow_redirects=False)
    except requests.RequestException as exc:
        log.warning("async MDN to %s failed: %s", url, exc)
        return False, f"async MDN not delivered: {exc}"
    if response.status_code >= 300:
        log.warning("async MDN to %s answered %s", url, response.status_code)
        return False, f"async MDN answered HTTP {response.status_code}"
    return True, "async MDN delivered"


def unquote_name(name: str) -> str:
    """An AS2 name as the header carries it, without the quotes RFC 4130 allows around it."""
    name = name.strip()
    return name[1:-1].replace('\\"', '"').replace("\\\\", "\\") if len(name) > 1 and name[0] == name[-1] == '"' else name


def _filename(msg, message_id: str) -> str:
    """The file name the partner gave (Content-Disposition), made safe; else from the Message-ID."""
    name = None
    payload = getattr(msg, "payload", None)
    if payload is not None:
        name = payload.get_filename()
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")[:200]
    return name or re.sub(r"[^A-Za-z0-9._-]", "_", message_id)[:200] + ".edi"
