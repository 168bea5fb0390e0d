"""``POST /as2``: the AS2 receive endpoint (messages from partners, and async MDNs for
what we sent). The size limit is checked against Content-Length before the body is
read (413), and bounds a chunked body while it is read; everything else is in
:mod:`gateway.transports.as2_receive`. No cookies, no session: CSRF does not apply.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

bp = Blueprint("as2", __name__)


@bp.post("/as2")
def as2_receive():
    from gateway.transports.as2_profiles import directory
    from gateway.transports.as2_receive import handle_message, is_mdn
    from gateway.transports.as2_send import handle_async_mdn

    rt = current_app.extensions["gateway"]
    limit = directory(rt).config.max_request_bytes
    if request.content_length is not None and request.content_length > limit:
        return Response(f"AS2 messages are limited to {limit} bytes\n", 413, mimetype="text/plain")
    request.max_content_length = limit  # a chunked body is cut off (413) at the same limit
    body = request.get_data(cache=False)
    headers = list(request.headers.items())
    if is_mdn(headers, body):
        status, text = handle_async_mdn(rt, headers, body)
        return Response(text + "\n", status, mimetype="text/plain")
    reply = handle_message(rt, headers, body)
    response = Response(reply.body, reply.status, headers=reply.headers)
    if reply.after is not None:
        response.call_on_close(reply.after)
    return response
