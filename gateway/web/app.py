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
    from gateway.web import cxml

    app.register_blueprint(cxml.bp)  # POST /cxml: partners' cXML documents, answered with a cXML Response
    from gateway.web import flow_api

    app.register_blueprint(flow_api.bp)  # the document flow per PO
    from gateway.web import api_onboarding

    app.register_blueprint(api_onboarding.bp)  # partners and map versions (onboarding)
    from gateway.web import api_acks

    app.register_blueprint(api_acks.bp)  # acks for download (partner self-service)
    from gateway.web import api_accounts, api_bulk, api_corrections, api_support

    app.register_blueprint(api_bulk.bp)  # bulk actions, previewed then confirmed
    app.register_blueprint(api_accounts.bp)  # users and tokens (admin)
    app.register_blueprint(api_support.bp)  # ignore, validate: the console's other actions
    app.register_blueprint(api_corrections.bp)  # corrections awaiting a second approver
    app.register_blueprint(api_void.bp)
    from gateway.web.console import init_console

    init_console(app)  # the web console: sign-in, CSRF, pages (issue #12)
    if demo_erp:
        from gateway.web import demo_erp as demo

        app.register_blueprint(demo.bp)
    return app


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["gateway"]
