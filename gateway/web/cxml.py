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

_RESPONSE = {"content": {"text/xml": {"schema": {"type": "string", "description": "a cXML Response: "
             "<Status code=... text=...>why</Status>"}}}}
OPENAPI_PATHS = {"/cxml": {"post": {
    "security": [],
    "summary": "a partner posts a cXML document (ConfirmationRequest, ShipNoticeRequest, InvoiceDetailRequest, "
               "OrderRequest; a ProfileRequest is answered with a ProfileResponse), authenticated by its shared secret in Header/Sender/Credential/SharedSecret; stored, "
               "processed and answered with a cXML Response whose Status code says why: 200 accepted (or a "
               "duplicate), 201 stored and being processed, 400 not readable or not valid, 401 unknown sender or "
               "wrong secret, 406 a kind not taken, 409 payloadID reused for other content, 413 too large, "
               "500 our failure",
    "requestBody": {"required": True, "content": {"text/xml": {"schema": {"type": "string"}},
                                                  "application/xml": {"schema": {"type": "string"}}}},
    "responses": {"200": {"description": "a cXML Response (its Status code: 200, 201, 400, 401, 406, 409)",
                          **_RESPONSE},
                  "413": {"description": "the body is over GATEWAY_MAX_REQUEST_BYTES (cXML Status 413)", **_RESPONSE},
                  "500": {"description": "our failure, not the partner's (cXML Status 500)", **_RESPONSE}}}}}


@bp.post("/cxml")
def cxml_receive():
    from gateway.transports.cxml_receive import CxmlReply, handle_cxml

    rt = current_app.extensions["gateway"]
    try:
        body = read_body(request, rt.settings.max_request_bytes)
    except BodyTooLarge as exc:
        reply = CxmlReply(413, 413, f"cXML documents: {exc}")
    else:
        reply = handle_cxml(rt, body, remote=request.remote_addr or "?", endpoint_url=request.base_url)
    return Response(reply.body(), reply.http_status, content_type=CONTENT_TYPE)
