"""The one place an outbound interchange is validated before it leaves.

Every outbound path calls :func:`outbound_errors`; when the X12 engine changes, only this
function does. The check is the one inbound documents get: envelopes, counts and the
transaction set against the release's tables.
"""

from __future__ import annotations


def outbound_errors(data: bytes) -> list[dict]:
    """The errors our validator finds in ``data`` (empty when it may be sent)."""
    from gateway.processing.validate import check_x12

    result = check_x12(data)
    return [f.to_dict() for f in result.findings if f.is_error]
