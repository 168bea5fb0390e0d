"""``erp_http``: POST each event as JSON to the ERP, with ``Idempotency-Key: <event_id>``.

2xx is delivered; 4xx is a business refusal (kept, not retried, except 408/425/429
which mean "later"); 5xx, timeouts and dropped connections are retried.
"""

from __future__ import annotations

import json

import requests

from gateway.adapters.base import DeliveryResult, Outcome

_RETRYABLE_4XX = {408, 425, 429}
_BODY_KEPT = 2000


class ErpHttpAdapter:
    alias = "erp_http"

    def __init__(self, url: str, timeout: float = 30.0, session: requests.Session | None = None):
        self.url = url
        self.timeout = timeout
        self.http = session or requests.Session()

    def deliver(self, event: dict) -> DeliveryResult:
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": event["event_id"],
            "X-Event-Type": event["type"],
            "X-Correlation-Id": event.get("correlation_id", ""),
        }
        try:
            response = self.http.post(
                self.url, data=json.dumps(event, sort_keys=True), headers=headers, timeout=(5, self.timeout)
            )
        except requests.Timeout:
            return DeliveryResult(Outcome.RETRY, f"no answer from {self.url} within {self.timeout}s")
        except requests.ConnectionError as exc:
            return DeliveryResult(Outcome.RETRY, f"could not reach {self.url}: {type(exc).__name__}")
        body = response.text[:_BODY_KEPT]
        code = response.status_code
        if 200 <= code < 300:
            return DeliveryResult(Outcome.DELIVERED, f"HTTP {code}", code, body)
        if 400 <= code < 500 and code not in _RETRYABLE_4XX:
            return DeliveryResult(Outcome.REFUSED, f"the ERP refused the event: HTTP {code}", code, body)
        return DeliveryResult(Outcome.RETRY, f"HTTP {code} from {self.url}", code, body)
