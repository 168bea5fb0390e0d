"""Who may open which page: a signed-in user with one of the page's roles; a ``partner``
user only ever sees its own partner's documents (another's is answered 404, as the API
does, so ids cannot be probed). A refusal is audited."""

from __future__ import annotations

import functools

from flask import current_app, render_template, request
from flask_login import current_user, login_required

from gateway.store.models import Document
from gateway.web.auth import OPERATORS, READERS, Principal, audit, document_for

STAFF = tuple(r for r in READERS if r != "partner")  # everyone but partners
__all__ = ["OPERATORS", "READERS", "STAFF", "allow", "principal", "rt", "visible_document", "not_found"]


def rt():
    return current_app.extensions["gateway"]


def principal() -> Principal:
    return current_user.principal


def allow(*roles: str):
    """Decorator: signed in (else to the sign-in page) and one of ``roles`` (else 403, audited)."""

    def wrap(view):
        @login_required
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if current_user.role not in roles:
                # The target column holds 160 characters; a longer path must not turn a 403 into a 500.
                audit(principal(), "denied", request.path[:160], details={"method": request.method, "via": "console"})
                return render_template("console/error.html", title="Not allowed",
                                       message=f"The {current_user.role} role may not do this."), 403
            return view(*args, **kwargs)

        return inner

    return wrap


def visible_document(s, document_id: str) -> Document | None:
    return document_for(s, principal(), document_id)


def not_found(what: str):
    return render_template("console/error.html", title="Not found", message=f"There is no {what}."), 404
