"""The web console's plumbing: session secret, cookie flags, sign-in (flask-login) and
CSRF (flask-wtf), and the page blueprints.

Cookie sessions and bearer tokens are kept apart: CSRF is checked on every POST to a
console page (a browser sends the session cookie by itself, so a form from another site
would otherwise act as the user) and never on ``/api/v1`` or ``/as2``, which take no
cookies. The session cookie is HttpOnly, SameSite=Lax, and Secure whenever the request
came over HTTPS.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from gateway.config import ConfigError
from gateway.web.users import load_user

log = logging.getLogger("gateway.web")
SECRET_FILE = "console_secret_key"


def secret_key(home: Path) -> str:
    """``GATEWAY_SECRET_KEY`` if set (several web hosts must share one), else the key in
    ``GATEWAY_HOME/console_secret_key``, made once with mode 0600. A key file others can
    read is refused: whoever reads it can forge any session."""
    if os.environ.get("GATEWAY_SECRET_KEY"):
        return os.environ["GATEWAY_SECRET_KEY"]
    path = home / SECRET_FILE
    if not path.exists():
        # Written whole to a private temporary file, then linked into place: a second web
        # process starting at the same moment finds either no key or the whole key.
        tmp = home / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
            log.info("made the console session key %s", path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            tmp.unlink()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError(f"{path} holds no usable key; delete it to have a new one made")
    return key


class _SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        # Behind a TLS-terminating proxy, run werkzeug's ProxyFix so request.is_secure is true.
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


csrf = CSRFProtect()


def init_console(app: Flask) -> None:
    """Add sign-in, CSRF and the console pages to ``app`` (made by ``create_app``)."""
    rt = app.extensions["gateway"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(rt.settings.home)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_NAME="gateway_session", WTF_CSRF_CHECK_DEFAULT=False,
                      WTF_CSRF_TIME_LIMIT=None)  # the token lives as long as the session
    app.session_interface = _SessionInterface()
    csrf.init_app(app)
    logins = LoginManager(app)
    logins.login_view = "console_signin.signin"
    logins.login_message = "Please sign in."
    logins.session_protection = "strong"
    logins.user_loader(lambda user_id: load_user(rt, user_id))

    from gateway.web.pages import (
        actions,
        admin,
        alerts,
        audit_log,
        bulk,
        corrections,
        dashboard,
        document,
        onboarding,
        partner,
        resubmit,
        saved_searches,
        search,
        signin,
    )

    blueprints = (signin.bp, dashboard.bp, search.bp, saved_searches.bp, document.bp, actions.bp, resubmit.bp,
                  audit_log.bp, onboarding.bp, partner.bp, alerts.bp, bulk.bp, admin.bp, corrections.bp)
    from gateway.web.pages import po_flow

    blueprints += (po_flow.bp,)  # the document flow per PO
    console = {bp.name for bp in blueprints}

    from werkzeug.exceptions import RequestEntityTooLarge

    from gateway.web.pages.guards import refuse_foreign_origin, too_large

    @app.before_request
    def _csrf_on_console_forms():
        if request.blueprint in console:
            refuse_foreign_origin()
            csrf.protect()  # only POST/PUT/PATCH/DELETE are checked

    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    for bp in blueprints:
        app.register_blueprint(bp)
    app.register_blueprint(alerts.api_bp)  # /api/v1/alerts: bearer tokens, so not CSRF-checked


def _csrf_refused(exc: CSRFError):
    from flask import render_template

    return render_template("console/error.html", title="Form refused",
                           message="This form was not sent from a page of this console, or it is too old. "
                                   "Go back, reload the page and try again."), 400
