"""Request guards for the console's forms, beside the CSRF token (flask-wtf):

- a form posted from another site is refused when the browser says so (``Origin`` names
  another site, or ``null``), even before its token is looked at;
- a request body over ``GATEWAY_MAX_REQUEST_BYTES`` is answered 413 with a page saying so
  (the console's) or a JSON error (the API's), never a bare server page.

Behind a proxy, run werkzeug's ``ProxyFix`` (or pass the ``Host`` header through) so the
app knows the host the browser used: the Origin check compares against it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_foreign_origin() -> None:
    """Raise :class:`CSRFError` for an unsafe request whose ``Origin`` is not this site."""
    origin = request.headers.get("Origin")
    if request.method not in UNSAFE or origin is None:
        return  # older browsers send none on same-origin posts: the CSRF token still decides
    # The host is compared, not the scheme: behind a TLS proxy without ProxyFix the app
    # sees http while the browser says https, and that is still this console.
    if urlsplit(origin).netloc.lower() != request.host.lower():
        raise CSRFError(f"the form came from {origin[:80]!r}, not from this console")


def too_large(exc):
    limit = current_app.extensions["gateway"].settings.max_request_bytes
    message = f"request bodies are limited to {limit} bytes"
    if request.path.startswith("/api/"):
        return jsonify({"error": message}), 413
    if not (request.blueprint or "").startswith("console_"):
        return message + "\n", 413, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("console/error.html", title="Too large",
                           message=f"What you sent is too large: {message}. Nothing was changed."), 413
