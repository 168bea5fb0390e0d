"""One JSON POST and what its answer means, shared by the HTTP adapters.

2xx is delivered; 4xx is a business refusal (kept, not retried), except 408/425/429
which mean "later"; 5xx, timeouts, resets and refused connections are retried. The
body is sent exactly as given (the caller serialises it once, so a signature over it
stays valid), with ``Idempotency-Key`` set by the caller.
"""

from __future__ import annotations

import logging

import requests

from gateway.adapters.base import DeliveryResult, Outcome

log = logging.getLogger("gateway.adapters")

RETRYABLE_4XX = frozenset({408, 425, 429})
BODY_KEPT = 2000  # characters of the target's answer kept on the delivery row
CONNECT_TIMEOUT = 5.0


def post_json(http: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float,
              *, target: str) -> DeliveryResult:
    """POST ``body`` to ``url``; ``target`` names the system in the messages people read."""
    headers = {"Content-Type": "application/json", **headers}
    try:
        response = http.post(url, data=body, headers=headers, timeout=(min(CONNECT_TIMEOUT, timeout), timeout))
    except requests.Timeout:
        return DeliveryResult(Outcome.RETRY, f"no answer from {url} within {timeout}s")
    except requests.ConnectionError as exc:
        # Includes "the target committed and then dropped the connection": we cannot
        # tell, so we retry with the same key and let the target recognise it.
        return DeliveryResult(Outcome.RETRY, f"could not reach {url}: {type(exc).__name__}")
    text = response.text[:BODY_KEPT]
    code = response.status_code
    if 200 <= code < 300:
        return DeliveryResult(Outcome.DELIVERED, f"HTTP {code}", code, text)
    if 400 <= code < 500 and code not in RETRYABLE_4XX:
        return DeliveryResult(Outcome.REFUSED, f"the {target} refused the event: HTTP {code}", code, text)
    return DeliveryResult(Outcome.RETRY, f"HTTP {code} from {url}", code, text)


def option_float(options: dict, name: str, default: float) -> float:
    value = options.get(name, default)
    try:
        return float(value if value not in (None, "") else default)
    except (TypeError, ValueError):
        raise ValueError(f"adapter option {name}={value!r} is not a number") from None
