"""``erp_http``: POST each canonical event as JSON to the ERP, ``Idempotency-Key: <event_id>``.

Options: ``url`` (required), ``timeout`` (seconds, default 30). The body is the event
envelope itself (DESIGN §3), keys sorted. Answers are read by
:func:`gateway.adapters.http.post_json`: 2xx delivered, 4xx refused and kept, 5xx /
timeout / reset retried.
"""

from __future__ import annotations

import json

import requests

from gateway.adapters.base import DeliveryResult
from gateway.adapters.http import option_float, post_json


class ErpHttpAdapter:
    alias = "erp_http"
    required_options = ("url",)

    def __init__(self, url: str, timeout: float = 30.0, session: requests.Session | None = None):
        self.url = url
        self.timeout = timeout
        self.http = session or requests.Session()

    @classmethod
    def from_options(cls, options: dict) -> ErpHttpAdapter:
        return cls(options["url"], timeout=option_float(options, "timeout", 30.0))

    def deliver(self, event: dict) -> DeliveryResult:
        headers = {
            "Idempotency-Key": event["event_id"],
            "X-Event-Type": event["type"],
            "X-Correlation-Id": event.get("correlation_id") or "",
        }
        body = json.dumps(event, sort_keys=True).encode()
        return post_json(self.http, self.url, body, headers, self.timeout, target="ERP")
