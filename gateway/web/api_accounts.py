"""``/api/v1/users`` and ``/api/v1/tokens``: the console's user and token management for
scripts (admin tokens only; :mod:`gateway.web.accounts` does the work and the audit)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from gateway.web.accounts import (
    AccountError,
    NoSuchAccount,
    ReasonRequired,
    add_token,
    add_user,
    list_tokens,
    list_users,
    revoke_token,
    set_user_disabled,
)
from gateway.web.auth import require

bp = Blueprint("api_accounts", __name__, url_prefix="/api/v1")


def _rt():
    return current_app.extensions["gateway"]


def _json() -> dict:
    """The JSON object the request carries; anything else reads as an empty one, which every
    route here refuses with 400 for its missing fields."""
    body = request.get_json(silent=True) if request.get_data(cache=True) else {}
    return body if isinstance(body, dict) else {}


def _refused(exc: Exception):
    if isinstance(exc, NoSuchAccount):
        return jsonify({"error": str(exc)}), 404
    return jsonify({"error": str(exc)}), 400 if isinstance(exc, ReasonRequired) else 409


@bp.get("/users")
@require("admin")
def users():
    return jsonify({"users": list_users(_rt())})


@bp.post("/users")
@require("admin")
def create_user():
    body = _json()
    try:
        made = add_user(_rt(), g.principal.actor, body.get("username"), body.get("password"), body.get("role"),
                        body.get("partner_id"))
    except AccountError as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify(made), 201


@bp.post("/users/<int:user_id>/disable")
@require("admin")
def disable_user(user_id: int):
    try:
        return jsonify(set_user_disabled(_rt(), g.principal.actor, user_id, True, _json().get("reason")))
    except (AccountError, NoSuchAccount) as exc:
        return _refused(exc)


@bp.post("/users/<int:user_id>/enable")
@require("admin")
def enable_user(user_id: int):
    try:
        return jsonify(set_user_disabled(_rt(), g.principal.actor, user_id, False, _json().get("reason")))
    except (AccountError, NoSuchAccount) as exc:
        return _refused(exc)


@bp.get("/tokens")
@require("admin")
def tokens():
    return jsonify({"tokens": list_tokens(_rt())})


@bp.post("/tokens")
@require("admin")
def create_token():
    body = _json()
    try:
        made = add_token(_rt(), g.principal.actor, body.get("name"), body.get("role"), body.get("partner_id"))
    except AccountError as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify(made), 201, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int:token_id>/revoke")
@require("admin")
def revoke(token_id: int):
    try:
        return jsonify(revoke_token(_rt(), g.principal.actor, token_id, _json().get("reason")))
    except (AccountError, NoSuchAccount) as exc:
        return _refused(exc)


_ERR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_ID = {"in": "path", "required": True, "schema": {"type": "integer"}}
_REASON = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}}}}
_ROLE = {"type": "string", "enum": ["admin", "support", "buyer", "viewer", "partner"]}
OPENAPI_PATHS = {
    "/api/v1/users": {
        "get": {"summary": "console users (admin)", "responses": {"200": {"description": "users"}, "403": _ERR}},
        "post": {"summary": "create a console user (admin)", "requestBody": {"required": True, "content": {
            "application/json": {"schema": {"type": "object", "required": ["username", "password", "role"],
                                            "properties": {"username": {"type": "string"},
                                                           "password": {"type": "string", "minLength": 12},
                                                           "role": _ROLE, "partner_id": {"type": "string"}}}}}},
                 "responses": {"201": {"description": "created"}, "400": _ERR, "403": _ERR}}},
    "/api/v1/users/{user_id}/disable": {"post": {
        "summary": "disable a user: refused from the next request on (admin)", "parameters": [
            {"name": "user_id", **_ID}], "requestBody": _REASON,
        "responses": {"200": {"description": "disabled"}, "400": _ERR, "404": _ERR, "409": _ERR}}},
    "/api/v1/users/{user_id}/enable": {"post": {
        "summary": "enable a disabled user again (admin)", "parameters": [{"name": "user_id", **_ID}],
        "requestBody": _REASON, "responses": {"200": {"description": "enabled"}, "400": _ERR, "404": _ERR,
                                              "409": _ERR}}},
    "/api/v1/tokens": {
        "get": {"summary": "API tokens, never their secrets (admin)",
                "responses": {"200": {"description": "tokens"}, "403": _ERR}},
        "post": {"summary": "create an API token; its secret is in this response only (admin)",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["name", "role"], "properties": {
                         "name": {"type": "string"}, "role": _ROLE, "partner_id": {"type": "string"}}}}}},
                 "responses": {"201": {"description": "created, with the secret as token"}, "400": _ERR,
                               "403": _ERR}}},
    "/api/v1/tokens/{token_id}/revoke": {"post": {
        "summary": "revoke a token: refused from the next request on (admin)",
        "parameters": [{"name": "token_id", **_ID}], "requestBody": _REASON,
        "responses": {"200": {"description": "revoked"}, "400": _ERR, "404": _ERR, "409": _ERR}}},
}
