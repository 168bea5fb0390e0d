"""``POST /as2``: the AS2 receive endpoint (messages from partners, and async MDNs for
what we sent). A body over ``GATEWAY_MAX_REQUEST_BYTES`` is 413 and nothing of it is
used, whatever its framing (:mod:`gateway.web.body`); everything else is in
:mod:`gateway.transports.as2_receive`. No cookies, no session: CSRF does not apply.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from gateway.web.body import BodyTooLarge, read_body

bp = Blueprint("as2", __name__)
log = logging.getLogger("gateway.web")


@bp.post("/as2")
def as2_receive():
    from gateway.transports.as2_certs import CertificateError
    from gateway.transports.as2_profiles import directory
    from gateway.transports.as2_receive import handle_message, is_mdn
    from gateway.transports.as2_send import handle_async_mdn

    rt = current_app.extensions["gateway"]
    try:
        directory(rt)
    except CertificateError as exc:  # our side's fault: a 5xx the partner retries, not an MDN blaming it
        log.error("AS2 unavailable: %s", exc)
        return Response("AS2 is unavailable here (a key or certificate of ours cannot be loaded); "
                        "send again later\n", 503, {"Retry-After": "300"}, mimetype="text/plain")
    try:
        body = read_body(request, rt.settings.max_request_bytes)
    except BodyTooLarge as exc:
        return Response(f"AS2 messages: {exc}\n", 413, mimetype="text/plain")
    headers = list(request.headers.items())
    if is_mdn(headers, body):
        status, text = handle_async_mdn(rt, headers, body)
        return Response(text + "\n", status, mimetype="text/plain")
    reply = handle_message(rt, headers, body)
    response = Response(reply.body, reply.status, headers=reply.headers)
    if reply.after is not None:
        response.call_on_close(reply.after)
    return response
