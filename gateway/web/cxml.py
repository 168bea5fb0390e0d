"""``POST /cxml``: partners post cXML documents (ConfirmationRequest, ShipNoticeRequest,
InvoiceDetailRequest, OrderRequest) and get a cXML ``Response`` (see
:mod:`gateway.transports.cxml_receive`). Authenticated by the cXML shared secret in the
document, not by a token or a cookie: CSRF does not apply. A body over
``GATEWAY_MAX_REQUEST_BYTES`` is 413 and nothing of it is used, whatever its framing.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from gateway.web.body import BodyTooLarge, read_body

bp = Blueprint("cxml", __name__)
CONTENT_TYPE = "text/xml; charset=UTF-8"


@bp.post("/cxml")
def cxml_receive():
    from gateway.transports.cxml_receive import CxmlReply, handle_cxml

    rt = current_app.extensions["gateway"]
    try:
        body = read_body(request, rt.settings.max_request_bytes)
    except BodyTooLarge as exc:
        reply = CxmlReply(413, 413, f"cXML documents: {exc}")
    else:
        reply = handle_cxml(rt, body, remote=request.remote_addr or "?")
    return Response(reply.body(), reply.http_status, content_type=CONTENT_TYPE)
