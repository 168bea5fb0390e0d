"""Reading a request body under the one size limit (``Settings.max_request_bytes``,
``GATEWAY_MAX_REQUEST_BYTES``), whatever its framing.

With a Content-Length over the limit the body is refused before a byte of it is read.
Without one (``Transfer-Encoding: chunked``) it is read in bounded chunks and refused as
soon as it passes the limit; the rest is not read (a client still sending may see the
connection reset rather than the 413, as werkzeug documents).

Why not werkzeug's ``get_data`` under ``max_content_length``: it stops *at* the limit and
returns what it has, so an oversized chunked body came back cut short and looked
complete. Here a body is either whole or refused, never truncated.
"""

from __future__ import annotations

from flask import Request

CHUNK = 64 * 1024


class BodyTooLarge(ValueError):
    """The request body is over the limit; nothing of it may be used."""

    def __init__(self, limit: int):
        super().__init__(f"request bodies are limited to {limit} bytes")
        self.limit = limit


def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or :class:`BodyTooLarge` once it is known to be over ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(limit)
    # One byte more than the limit may be read: that byte is the proof the body is over it.
    request.max_content_length = limit + 1
    stream = request.stream
    body = bytearray()
    while len(body) <= limit:
        chunk = stream.read(min(CHUNK, limit + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body += chunk
    raise BodyTooLarge(limit)

