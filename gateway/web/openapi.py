"""``/openapi.json``: the API's contract, kept beside the routes it describes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from gateway.web.cxml import OPENAPI_PATHS as CXML_PATHS

bp = Blueprint("openapi", __name__)

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_REASON = {"content": {"application/json": {"schema": {
    "type": "object", "properties": {"reason": {"type": "string"}, "force": {"type": "boolean"}},
    "required": ["reason"]}}}}
_DOC_ID = {"name": "document_id", "in": "path", "required": True, "schema": {"type": "string"}}

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Supplier EDI Gateway", "version": "1"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
            "Receipt": {"type": "object", "properties": {
                "id": {"type": "string"}, "correlation_id": {"type": "string"}, "status": {"type": "string"},
                "sha256": {"type": "string"}}},
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/healthz": {"get": {"security": [], "summary": "database and Redis reachable",
                             "responses": {"200": {"description": "ok"}, "503": {"description": "degraded"}}}},
        "/readyz": {"get": {"security": [], "summary": "ready to take work: database, Redis (noeviction), workers",
                            "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
        "/metrics": {"get": {"security": [], "summary": "Prometheus metrics",
                             "responses": {"200": {"description": "text exposition format"}}}},
        "/api/v1/documents": {
            "post": {"summary": "upload a document (stored before 202 is answered)",
                     "parameters": [{"name": "partner", "in": "query", "schema": {"type": "string"}},
                                    {"name": "X-Filename", "in": "header", "schema": {"type": "string"}}],
                     "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                       "format": "binary"}}}},
                     "responses": {"202": {"description": "received", "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/Receipt"}}}},
                         "400": _ERROR, "401": _ERROR, "403": _ERROR, "413": _ERROR}},
            "get": {"summary": "search documents",
                    "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                                   for n in ("status", "partner", "limit")],
                    "responses": {"200": {"description": "documents"}, "400": _ERROR, "401": _ERROR}},
        },
        "/api/v1/documents/{document_id}": {"get": {
            "summary": "a document with its sets, acks, events and deliveries", "parameters": [_DOC_ID],
            "responses": {"200": {"description": "document"}, "404": _ERROR}}},
        "/api/v1/documents/{document_id}/raw": {"get": {
            "summary": "the original bytes", "parameters": [_DOC_ID],
            "responses": {"200": {"description": "bytes"}, "404": _ERROR}}},
        "/api/v1/documents/{document_id}/reprocess": {"post": {
            "summary": "process again from the original bytes (same event ids)", "parameters": [_DOC_ID],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]}}}},
            "responses": {"202": {"description": "queued"}, "400": _ERROR, "403": _ERROR, "409": _ERROR}}},
        "/api/v1/documents/{document_id}/resubmit": {"post": {
            "summary": "a corrected copy of a rejected document, as a new document linked to it "
                       "(the original is untouched; no ack to the partner unless send_ack)",
            "parameters": [_DOC_ID],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "required": ["document", "reason_code", "note"], "properties": {
                    "document": {"type": "string", "description": "the corrected document text"},
                    "reason_code": {"type": "string", "enum": ["wrong_value", "missing_data", "format_error",
                                                               "partner_confirmed", "other"]},
                    "note": {"type": "string"}, "send_ack": {"type": "boolean", "default": False}}}}}},
            "responses": {"202": {"description": "received (or, for a partner that wants a second approver, "
                                                "{status: awaiting_approval, approval_id}: see /api/v1/corrections)",
                                  "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Receipt"}}}},
                "400": _ERROR, "403": _ERROR, "404": _ERROR, "409": _ERROR, "413": _ERROR}}},
        "/api/v1/documents/{document_id}/void": {"post": {
            "summary": "take back an accepted document: a document.voided event naming its events goes to "
                       "every route (voiding again changes nothing: changed is false)",
            "parameters": [_DOC_ID],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]}}}},
            "responses": {"200": {"description": "voided"}, "400": _ERROR, "403": _ERROR, "404": _ERROR,
                          "409": _ERROR}}},
        "/api/v1/audit": {"get": {
            "summary": "the audit log, newest first (read-only; not for partner tokens)",
            "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                           for n in ("actor", "action", "target", "before")],
            "responses": {"200": {"description": "entries"}, "401": _ERROR, "403": _ERROR}}},
        "/api/v1/deliveries/{delivery_id}/replay": {"post": {
            "summary": "send one delivery again under the same Idempotency-Key",
            "parameters": [{"name": "delivery_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": _REASON, "responses": {"202": {"description": "queued"}, "400": _ERROR, "404": _ERROR}}},
        "/api/v1/documents/{document_id}/replay": {"post": {
            "summary": "replay the deliveries of a document's events", "parameters": [_DOC_ID],
            "requestBody": _REASON, "responses": {"202": {"description": "queued"}, "400": _ERROR, "404": _ERROR}}},
        "/api/v1/adapters/{adapter}/dead-letters/replay": {"post": {
            "summary": "replay every dead letter of an adapter",
            "parameters": [{"name": "adapter", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": _REASON, "responses": {"202": {"description": "queued"}, "400": _ERROR}}},
        "/api/v1/purchase-orders": {"post": {
            "summary": "issue a PO: the partner's 850 (or cXML OrderRequest, for a partner with cxml.order_url) is "
                       "built, validated, sent once per Idempotency-Key (issue #13)",
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True,
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,120}$"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["partner_id", "payload"], "properties": {
                    "type": {"type": "string", "enum": ["purchase_order.issued"]}, "partner_id": {"type": "string"},
                    "payload": {"type": "object", "description": "the purchase_order.issued payload (DESIGN §3)"}}}}}},
            "responses": {"201": {"description": "recorded and sent"}, "200": {"description": "a repeat: not sent again"},
                          "400": _ERROR, "403": _ERROR, "409": _ERROR, "422": _ERROR,
                          "503": {"description": "recorded, not yet sent: repeat with the same key"}}}},
        "/api/v1/purchase-orders/outbound": {"get": {
            "summary": "documents we sent, with the partner's 997/999 answer (ack_status=overdue: the ones to chase)",
            "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                           for n in ("partner", "ack_status", "status", "po_number", "limit")],
            "responses": {"200": {"description": "outbound documents"}}}},
        "/api/v1/purchase-orders/outbound/{outbound_id}": {"get": {
            "summary": "one document we sent, with the partner's error detail",
            "parameters": [{"name": "outbound_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "outbound document"}, "404": _ERROR}}},
        "/api/v1/purchase-orders/{po_number}/flow": {"get": {
            "summary": "the PO's flow (850, 997/999, 855, 856, 810): each step's status (done, late, missing, "
                       "pending), due time and documents, the alerts raised, and ordered/shipped/invoiced per line",
            "parameters": [{"name": "po_number", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "partner", "in": "query", "schema": {"type": "string"},
                            "description": "the supplier, when several share the PO number (staff tokens)"}],
            "responses": {"200": {"description": "flow"}, "404": _ERROR, "409": _ERROR}}},
        "/api/v1/partners/{partner_id}/open-steps": {"get": {
            "summary": "what a partner still owes: steps not done, with their due times, soonest first",
            "parameters": [{"name": "partner_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "open steps"}, "404": _ERROR}}},
        "/api/v1/events": {"get": {
            "summary": "canonical events",
            "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                           for n in ("type", "partner", "po_number", "limit")],
            "responses": {"200": {"description": "events"}}}},
    },
}

from gateway.web.openapi_onboarding import PATHS as _ONBOARDING_PATHS  # noqa: E402

SPEC["paths"].update(_ONBOARDING_PATHS)


SPEC["paths"].update(CXML_PATHS)


from gateway.web import api_acks  # noqa: E402 - these routes are described beside them
from gateway.web.pages import alerts  # noqa: E402

for _described in (api_acks, alerts):
    SPEC["paths"].update(_described.PATHS)


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)


def _described_beside_their_routes() -> dict:
    """Blueprints that keep their part of the contract in their own module."""
    from gateway.web import api_accounts, api_bulk, api_corrections, api_support

    return {**api_bulk.OPENAPI_PATHS, **api_accounts.OPENAPI_PATHS, **api_support.OPENAPI_PATHS,
            **api_corrections.OPENAPI_PATHS}


SPEC["paths"].update(_described_beside_their_routes())
