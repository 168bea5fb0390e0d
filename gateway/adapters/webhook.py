"""``webhook``: POST the event to any URL, signed so the receiver can trust it.

Options: ``url`` and ``secret`` (both required; the secret is per route, usually
``${GATEWAY_WEBHOOK_SECRET}`` or a partner's own), ``timeout`` (default 5 s: a
notification target is never worth holding a worker for).

Headers: ``Idempotency-Key`` and ``X-Gateway-Event-Id`` (the event id),
``X-Gateway-Event-Type``, ``X-Gateway-Timestamp`` (Unix seconds, when this attempt was
signed) and ``X-Gateway-Signature: sha256=<hex>``, the HMAC-SHA256 with the secret
over ``<timestamp>.<body bytes>``. Signing the timestamp lets a receiver refuse a
captured request replayed later (:func:`verify_signature` with a tolerance); the
idempotency key lets it ignore a legitimate retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests

from gateway.adapters.base import DeliveryResult
from gateway.adapters.http import option_float, post_json

SIGNATURE_HEADER = "X-Gateway-Signature"
TIMESTAMP_HEADER = "X-Gateway-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *,
                     tolerance: float = 300.0, now: float | None = None) -> bool:
    """What a receiver runs: the signature matches and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


class WebhookAdapter:
    alias = "webhook"
    required_options = ("url", "secret")

    def __init__(self, url: str, secret: str, timeout: float = 5.0, session: requests.Session | None = None):
        self.url, self.secret, self.timeout = url, secret, timeout
        self.http = session or requests.Session()

    @classmethod
    def from_options(cls, options: dict) -> WebhookAdapter:
        return cls(options["url"], options["secret"], timeout=option_float(options, "timeout", 5.0))

    def deliver(self, event: dict) -> DeliveryResult:
        body = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Idempotency-Key": event["event_id"],
            "X-Gateway-Event-Id": event["event_id"],
            "X-Gateway-Event-Type": event["type"],
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
        }
        return post_json(self.http, self.url, body, headers, self.timeout, target="webhook receiver")
