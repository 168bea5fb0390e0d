"""What a partner's answer to a cXML request means: sans-IO, an HTTP status and body in,
a :class:`CxmlAnswer` out. Stated once here:

- a readable cXML ``Response`` decides by its ``Status@code`` (the HTTP status is only
  the fallback): 2xx accepted (200 OK, 201 Accepted, 204 No Content, ...), 4xx rejected
  with the partner's text (the document is wrong: sending it again would not help),
  5xx transient (the partner's side is down: sent again later, same payloadID, which
  cXML partners deduplicate on);
- HTTP 204 with no body: accepted;
- HTTP 3xx: a redirect we do not follow (``order_url`` must be the partner's real URL):
  failed, not retried, until the profile is fixed;
- anything else unreadable (an HTML error page, a 200 without a cXML Response): transient,
  retried up to the partner's ``max_attempts``; never taken as accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.xml.findings import XmlRejected
from gateway.xml.parse import parse_document

ACCEPTED, REJECTED, TRANSIENT, REDIRECTED = "accepted", "rejected", "transient", "redirected"


@dataclass(frozen=True)
class CxmlAnswer:
    outcome: str  # ACCEPTED, REJECTED, TRANSIENT, REDIRECTED
    code: int  # the cXML Status code, or the HTTP status when there is none
    text: str  # Status@text and its message, or what was wrong with the answer


def read_answer(http_status: int, body: bytes, *, max_bytes: int) -> CxmlAnswer:
    status = _status(body, max_bytes)
    if status is not None:
        code, text = status
        if 200 <= code < 300:
            return CxmlAnswer(ACCEPTED, code, text)
        if 400 <= code < 500:
            return CxmlAnswer(REJECTED, code, text)
        return CxmlAnswer(TRANSIENT, code, text or f"cXML status {code}")
    if http_status == 204 and not body.strip():
        return CxmlAnswer(ACCEPTED, 204, "No Content")
    if 300 <= http_status < 400:
        return CxmlAnswer(REDIRECTED, http_status, f"HTTP {http_status}: the partner redirects; redirects are "
                                                   "not followed (set cxml.order_url to the URL it names)")
    if 400 <= http_status < 500 and http_status not in (408, 425, 429):
        return CxmlAnswer(REJECTED, http_status, f"HTTP {http_status} without a cXML Response: {_snippet(body)}")
    return CxmlAnswer(TRANSIENT, http_status, f"HTTP {http_status} without a readable cXML Response: "
                                              f"{_snippet(body)}")


def _status(body: bytes, max_bytes: int) -> tuple[int, str] | None:
    if not body.strip():
        return None
    try:
        root = parse_document(body, max_bytes=max_bytes)
    except XmlRejected:
        return None
    status = root.find("Response/Status") if root.tag == "cXML" else None
    if status is None or not (status.get("code") or "").strip().isdigit():
        return None
    text = " ".join(p for p in ((status.get("text") or "").strip(), " ".join((status.text or "").split())) if p)
    return int(status.get("code")), text[:2000]


def _snippet(body: bytes) -> str:
    text = " ".join(body[:200].decode("utf-8", "replace").split())
    return repr(text) if text else "(empty body)"
