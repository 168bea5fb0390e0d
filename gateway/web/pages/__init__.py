"""The web console's pages (issue #12): sign-in, dashboard, search, document, actions,
audit log. Server-rendered; every POST is CSRF-checked (``gateway.web.console``)."""
