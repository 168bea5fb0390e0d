"""Sign in and out of the console. A failed sign-in says only that the pair was wrong."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user

from gateway.web.auth import audit
from gateway.web.pages.access import principal, rt
from gateway.web.users import check_password

bp = Blueprint("console_signin", __name__)
log = logging.getLogger("gateway.web")


def _local(target: str | None) -> str | None:
    """Only a path on this site may be the place to go back to (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    if request.method == "GET":
        return render_template("console/signin.html", next=_local(request.args.get("next")) or "")
    username = request.form.get("username", "")[:120]
    user = check_password(rt(), username, request.form.get("password", "")[:1024])
    if user is None:
        log.warning("console sign-in failed for %r from %s", username, request.remote_addr)
        flash("Wrong username or password.", "error")
        return render_template("console/signin.html", next=_local(request.form.get("next")) or "",
                               username=username), 401
    session.clear()  # nothing from before the sign-in carries over
    login_user(user)
    audit(principal(), "console.signin", f"user:{user.username}")
    return redirect(_local(request.form.get("next")) or url_for("console_dashboard.dashboard"))


@bp.post("/signout")
@login_required
def signout():
    audit(principal(), "console.signout", None)
    logout_user()
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("console_signin.signin"))
