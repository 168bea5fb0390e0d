"""The Flask application factory. ``create_app(rt)`` builds the app around a runtime;
nothing connects at import time."""

from __future__ import annotations

from flask import Flask

from gateway.bootstrap import Runtime, bootstrap


def create_app(rt: Runtime | None = None, *, demo_erp: bool = False) -> Flask:
    app = Flask(__name__)
    app.extensions["gateway"] = rt = rt or bootstrap()
    # The one limit (GATEWAY_MAX_REQUEST_BYTES): also what form parsing is held to.
    app.config["MAX_CONTENT_LENGTH"] = rt.settings.max_request_bytes
    from gateway.web import api, api_resubmit, api_void, as2, health, openapi, purchase_orders

    app.register_blueprint(health.bp)
    app.register_blueprint(as2.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(purchase_orders.bp)
    app.register_blueprint(api_resubmit.bp)
    app.register_blueprint(api_void.bp)
    from gateway.web.console import init_console

    init_console(app)  # the web console: sign-in, CSRF, pages (issue #12)
    if demo_erp:
        from gateway.web import demo_erp as demo

        app.register_blueprint(demo.bp)
    return app


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["gateway"]
