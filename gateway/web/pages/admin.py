"""``/admin/users`` and ``/admin/tokens``: who may get in (admin only).

List, create (a new token's secret is shown on the response page once, never stored and
never put in the session), revoke a token, disable or enable a user; each with a reason
where it takes something away, each audited (:mod:`gateway.web.accounts`, which the API
calls too). A revoked token or disabled user is refused on its next request.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

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
from gateway.web.auth import ROLES
from gateway.web.pages.access import allow, not_found, principal, rt

bp = Blueprint("console_admin", __name__)
ADMIN = ("admin",)


def _users_page(status: int = 200, error: str | None = None):
    return render_template("console/admin_users.html", users=list_users(rt()), roles=ROLES,
                           partners=sorted(rt().partners), error=error, form=request.form), status


def _tokens_page(status: int = 200, error: str | None = None, created: dict | None = None):
    response = make_response(render_template("console/admin_tokens.html", tokens=list_tokens(rt()), roles=ROLES,
                                             partners=sorted(rt().partners), error=error, created=created), status)
    response.headers["Cache-Control"] = "no-store"  # the one page that shows a token's secret
    return response


@bp.get("/admin/users")
@allow(*ADMIN)
def users():
    return _users_page()


@bp.post("/admin/users")
@allow(*ADMIN)
def create_user():
    f = request.form
    try:
        made = add_user(rt(), principal().actor, f.get("username", ""), f.get("password", ""), f.get("role", ""),
                        f.get("partner_id") or None)
    except AccountError as exc:
        return _users_page(400, str(exc))
    flash(f"Created {made['role']} user {made['username']}.", "info")
    return redirect(url_for("console_admin.users"))


def _set_disabled(user_id: int, disabled: bool):
    try:
        changed = set_user_disabled(rt(), principal().actor, user_id, disabled, request.form.get("reason", ""),
                                    acting_user_id=current_user.id)
    except NoSuchAccount:
        return not_found(f"user {user_id}")
    except AccountError as exc:
        return _users_page(400 if isinstance(exc, ReasonRequired) else 409, str(exc))
    flash(f"{changed['username']} is {'disabled: signed out at once' if disabled else 'enabled again'}.", "info")
    return redirect(url_for("console_admin.users"))


@bp.post("/admin/users/<int:user_id>/disable")
@allow(*ADMIN)
def disable_user(user_id: int):
    return _set_disabled(user_id, True)


@bp.post("/admin/users/<int:user_id>/enable")
@allow(*ADMIN)
def enable_user(user_id: int):
    return _set_disabled(user_id, False)


@bp.get("/admin/tokens")
@allow(*ADMIN)
def tokens():
    return _tokens_page()


@bp.post("/admin/tokens")
@allow(*ADMIN)
def create_token():
    f = request.form
    try:
        made = add_token(rt(), principal().actor, f.get("name", ""), f.get("role", ""), f.get("partner_id") or None)
    except AccountError as exc:
        return _tokens_page(400, str(exc))
    return _tokens_page(201, created=made)


@bp.post("/admin/tokens/<int:token_id>/revoke")
@allow(*ADMIN)
def revoke(token_id: int):
    try:
        done = revoke_token(rt(), principal().actor, token_id, request.form.get("reason", ""))
    except NoSuchAccount:
        return not_found(f"token {token_id}")
    except AccountError as exc:
        return _tokens_page(400 if isinstance(exc, ReasonRequired) else 409, str(exc))
    flash(f"Token {done['name']} is revoked: it is refused from now on.", "info")
    return redirect(url_for("console_admin.tokens"))
