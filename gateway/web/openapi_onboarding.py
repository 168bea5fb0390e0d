"""The onboarding routes' part of ``/openapi.json`` (``gateway.web.api_onboarding``)."""

from __future__ import annotations

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_REFUSED = {"description": "refused; problems name file, line and field", "content": {"application/json": {
    "schema": {"type": "object", "properties": {
        "error": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "object", "properties": {
            "file": {"type": "string"}, "line": {"type": "integer", "nullable": True},
            "field": {"type": "string", "nullable": True}, "message": {"type": "string"}}}}}}}}}
_PARTNER = {"name": "partner_id", "in": "path", "required": True, "schema": {"type": "string"}}
_VERSION = {"name": "version_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _json(properties: dict, required: list[str]) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties, "required": required}}}}


_REASON = {"reason": {"type": "string", "description": "why: goes to the audit log"}}
_CHANGE = {"400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR, "409": _REFUSED, "422": _REFUSED}

PATHS = {
    "/api/v1/partners": {
        "get": {"summary": "partners, from partners/ and created here (not for partner tokens)",
                "responses": {"200": {"description": "partners"}, "401": _ERROR, "403": _ERROR}},
        "post": {"summary": "create a partner (buyer, admin): its partner.yaml as JSON",
                 "requestBody": _json({**_REASON, "partner": {"type": "object", "description":
                                       "id, name, x12 {qualifier, id, group_ids, ack, control_number_reuse}, "
                                       "our_x12, test_data (hold|route), channels {sftp, as2 {as2_id, ...}}, "
                                       "xml {cxml: [{domain, identity}], ubl}"}}, ["partner", "reason"]),
                 "responses": {"201": {"description": "created"}, **_CHANGE}},
    },
    "/api/v1/partners/{partner_id}": {
        "get": {"summary": "a partner with its SFTP keys and AS2 certificates", "parameters": [_PARTNER],
                "responses": {"200": {"description": "partner"}, "404": _ERROR}},
        "put": {"summary": "replace the profile of a partner created here (its id stays; a partner kept in "
                           "partners/ is changed in its file: 409)", "parameters": [_PARTNER],
                "requestBody": _json({**_REASON, "partner": {"type": "object"}}, ["partner", "reason"]),
                "responses": {"200": {"description": "changed"}, **_CHANGE}},
    },
    "/api/v1/partners/{partner_id}/certificates": {"post": {
        "summary": "add the partner's AS2 certificate (PEM; checked: dates, key type and size, signature hash)",
        "parameters": [_PARTNER], "requestBody": _json({**_REASON, "certificate": {"type": "string"}},
                                                       ["certificate", "reason"]),
        "responses": {"201": {"description": "added"}, **_CHANGE}}},
    "/api/v1/partners/{partner_id}/sftp-keys": {"post": {
        "summary": "authorize an SFTP public key (OpenSSH line; ed25519, ECDSA or RSA >= 2048 bits)",
        "parameters": [_PARTNER], "requestBody": _json({**_REASON, "key": {"type": "string"}}, ["key", "reason"]),
        "responses": {"201": {"description": "added"}, **_CHANGE}}},
    "/api/v1/partners/{partner_id}/maps": {
        "get": {"summary": "map versions per document type, with the active one", "parameters": [_PARTNER],
                "responses": {"200": {"description": "document types"}, "404": _ERROR}},
        "post": {"summary": "upload a map version (YAML, validated; nothing is activated)", "parameters": [_PARTNER],
                 "requestBody": {"required": True, "content": {
                     "application/json": {"schema": {"type": "object", "required": ["filename", "content", "reason"],
                                                     "properties": {**_REASON, "filename": {"type": "string"},
                                                                    "content": {"type": "string"}}}},
                     "multipart/form-data": {"schema": {"type": "object", "required": ["file", "reason"],
                                                        "properties": {**_REASON, "file": {"type": "string",
                                                                                           "format": "binary"}}}}}},
                 "responses": {"201": {"description": "stored"}, **_CHANGE}},
    },
    "/api/v1/partners/{partner_id}/maps/{version_id}": {"get": {
        "summary": "one map version with its content", "parameters": [_PARTNER, _VERSION],
        "responses": {"200": {"description": "map version"}, "404": _ERROR}}},
    "/api/v1/partners/{partner_id}/maps/{version_id}/dry-runs": {"post": {
        "summary": "translate the partner's samples and its last N documents with this version and the active "
                   "one; canonical JSON and a per-document diff (nothing stored as events, nothing delivered)",
        "parameters": [_PARTNER, _VERSION],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "documents": {"type": "integer", "minimum": 0, "maximum": 50, "default": 20},
            "samples": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "content": {"type": "string"}}}},
            "reason": {"type": "string"}}}}}},
        "responses": {"201": {"description": "dry-run with summary and results"}, **_CHANGE}}},
    "/api/v1/partners/{partner_id}/dry-runs/{dry_run_id}": {"get": {
        "summary": "a dry-run's results",
        "parameters": [_PARTNER, {"name": "dry_run_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "dry-run"}, "404": _ERROR}}},
    "/api/v1/partners/{partner_id}/maps/{version_id}/activate": {"post": {
        "summary": "activate a version from a dry-run of it that is still current (refused: another version's, "
                   "stale, or with new failures unless accept_failures)",
        "parameters": [_PARTNER, _VERSION],
        "requestBody": _json({**_REASON, "dry_run_id": {"type": "string"}, "accept_failures": {"type": "boolean"}},
                             ["dry_run_id", "reason"]),
        "responses": {"200": {"description": "activated"}, **_CHANGE}}},
    "/api/v1/partners/{partner_id}/document-types/{document_type}/rollback": {"post": {
        "summary": "reactivate the version that was active before the current one",
        "parameters": [_PARTNER, {"name": "document_type", "in": "path", "required": True,
                                  "schema": {"type": "string", "example": "x12-855-004010"}}],
        "requestBody": _json(_REASON, ["reason"]),
        "responses": {"200": {"description": "rolled back"}, **_CHANGE}}},
}
