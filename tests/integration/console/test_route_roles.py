"""Every role against every route of the app (issue #12 §5).

``RULES`` names, for each route the app serves (Flask's url_map, method by method), who
may use it. The test asks the app for its routes: a route added without a rule fails
here until someone decides who may use it. Then each role tries each route: a role
outside the rule is answered 403 (and the refusal is audited), a role inside it is not
(it may still get 400/404/409: the request is deliberately empty and names nothing).

``CONSOLE_TO_API`` says which API endpoint does what each console form does, so the API
covers every page action; both sides are checked against the app and /openapi.json.

Adding a route: add one line to ``RULES`` (and, for a console POST, to ``CONSOLE_TO_API``
or ``CONSOLE_ONLY`` with the reason).
"""

from __future__ import annotations

import re

import pytest
from console_support import ROLES, csrf_token

from gateway.store.models_api import AuditEntry
from gateway.web.auth import create_token

ADMIN = ("admin",)
OPS = ("admin", "support")
ISSUERS = ("admin", "buyer")
STAFF = ("admin", "support", "buyer", "viewer")
ALL = ROLES
PUBLIC = "public"  # no sign-in and no token: health, metrics, the contract, AS2 (partners sign), sign-in, assets
SIGNED_IN = "signed in"  # any signed-in user, whatever the role (sign out)

RULES: dict[tuple[str, str], tuple[str, ...] | str] = {
    # console pages (cookie session + CSRF)
    ("GET", "/"): ALL,
    ("GET", "/search"): ALL,
    ("GET", "/search.csv"): ALL,
    ("GET", "/search.json"): ALL,
    ("POST", "/search/saved"): ALL,
    ("POST", "/search/saved/<int:search_id>/delete"): ALL,
    ("GET", "/documents/<document_id>"): ALL,
    ("GET", "/documents/<document_id>/edit"): OPS,
    ("POST", "/documents/<document_id>/validate"): OPS,
    ("POST", "/documents/<document_id>/resubmit"): OPS,
    ("POST", "/documents/<document_id>/reprocess"): OPS,
    ("POST", "/documents/<document_id>/ignore"): OPS,
    ("POST", "/documents/<document_id>/void"): OPS,
    ("POST", "/deliveries/<delivery_id>/replay"): OPS,
    ("GET", "/audit"): STAFF,
    ("GET", "/corrections"): OPS,
    ("POST", "/corrections/<int:approval_id>/approve"): OPS,
    ("POST", "/corrections/<int:approval_id>/decline"): OPS,
    ("GET", "/bulk"): OPS,
    ("POST", "/bulk/preview"): OPS,
    ("GET", "/bulk/previews/<token>"): OPS,
    ("POST", "/bulk/previews/<token>/confirm"): OPS,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/<int:user_id>/disable"): ADMIN,
    ("POST", "/admin/users/<int:user_id>/enable"): ADMIN,
    ("GET", "/admin/tokens"): ADMIN,
    ("POST", "/admin/tokens"): ADMIN,
    ("POST", "/admin/tokens/<int:token_id>/revoke"): ADMIN,
    ("GET", "/alerts"): STAFF,
    ("POST", "/alerts/<int:alert_id>/retry"): OPS,
    ("GET", "/partner"): ("partner",),
    ("GET", "/partner/acks/<int:ack_id>"): ("partner",),
    ("POST", "/partner/upload"): ("partner",),
    ("GET", "/partners"): STAFF,
    ("POST", "/partners"): ISSUERS,
    ("GET", "/partners/<partner_id>"): STAFF,
    ("POST", "/partners/<partner_id>/edit"): ISSUERS,
    ("POST", "/partners/<partner_id>/certificates"): ISSUERS,
    ("POST", "/partners/<partner_id>/sftp-keys"): ISSUERS,
    ("POST", "/partners/<partner_id>/maps"): ISSUERS,
    ("GET", "/partners/<partner_id>/maps/<int:version_id>"): STAFF,
    ("POST", "/partners/<partner_id>/maps/<int:version_id>/dry-runs"): ISSUERS,
    ("GET", "/partners/<partner_id>/dry-runs/<dry_run_id>"): STAFF,
    ("POST", "/partners/<partner_id>/maps/<int:version_id>/activate"): ISSUERS,
    ("POST", "/partners/<partner_id>/document-types/<document_type>/rollback"): ISSUERS,
    ("GET", "/partners/<partner_id>/open-steps"): ALL,
    ("GET", "/purchase-orders/<path:po_number>/flow"): ALL,
    ("GET", "/signin"): PUBLIC,
    ("POST", "/signin"): PUBLIC,
    ("POST", "/signout"): SIGNED_IN,
    # API (bearer token)
    ("POST", "/api/v1/documents"): ("partner", *OPS),
    ("GET", "/api/v1/documents"): ALL,
    ("GET", "/api/v1/documents/<document_id>"): ALL,
    ("GET", "/api/v1/documents/<document_id>/raw"): ALL,
    ("POST", "/api/v1/documents/<document_id>/reprocess"): OPS,
    ("POST", "/api/v1/documents/<document_id>/resubmit"): OPS,
    ("POST", "/api/v1/documents/<document_id>/replay"): OPS,
    ("POST", "/api/v1/documents/<document_id>/ignore"): OPS,
    ("POST", "/api/v1/documents/<document_id>/void"): OPS,
    ("POST", "/api/v1/validate"): OPS,
    ("POST", "/api/v1/deliveries/<delivery_id>/replay"): OPS,
    ("POST", "/api/v1/adapters/<adapter>/dead-letters/replay"): OPS,
    ("GET", "/api/v1/events"): ALL,
    ("GET", "/api/v1/audit"): STAFF,
    ("GET", "/api/v1/corrections"): OPS,
    ("POST", "/api/v1/corrections/<int:approval_id>/approve"): OPS,
    ("POST", "/api/v1/corrections/<int:approval_id>/decline"): OPS,
    ("POST", "/api/v1/bulk/<action>/preview"): OPS,
    ("GET", "/api/v1/bulk/previews/<token>"): OPS,
    ("POST", "/api/v1/bulk/previews/<token>/confirm"): OPS,
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users/<int:user_id>/disable"): ADMIN,
    ("POST", "/api/v1/users/<int:user_id>/enable"): ADMIN,
    ("GET", "/api/v1/tokens"): ADMIN,
    ("POST", "/api/v1/tokens"): ADMIN,
    ("POST", "/api/v1/tokens/<int:token_id>/revoke"): ADMIN,
    ("GET", "/api/v1/documents/<document_id>/acks"): ALL,
    ("GET", "/api/v1/acks/<int:ack_id>/raw"): ALL,
    ("GET", "/api/v1/alerts"): STAFF,
    ("POST", "/api/v1/alerts/<int:alert_id>/retry"): OPS,
    ("GET", "/api/v1/partners"): STAFF,
    ("POST", "/api/v1/partners"): ISSUERS,
    ("GET", "/api/v1/partners/<partner_id>"): STAFF,
    ("PUT", "/api/v1/partners/<partner_id>"): ISSUERS,
    ("POST", "/api/v1/partners/<partner_id>/certificates"): ISSUERS,
    ("POST", "/api/v1/partners/<partner_id>/sftp-keys"): ISSUERS,
    ("GET", "/api/v1/partners/<partner_id>/maps"): STAFF,
    ("POST", "/api/v1/partners/<partner_id>/maps"): ISSUERS,
    ("GET", "/api/v1/partners/<partner_id>/maps/<int:version_id>"): STAFF,
    ("POST", "/api/v1/partners/<partner_id>/maps/<int:version_id>/dry-runs"): ISSUERS,
    ("GET", "/api/v1/partners/<partner_id>/dry-runs/<dry_run_id>"): STAFF,
    ("POST", "/api/v1/partners/<partner_id>/maps/<int:version_id>/activate"): ISSUERS,
    ("POST", "/api/v1/partners/<partner_id>/document-types/<document_type>/rollback"): ISSUERS,
    ("GET", "/api/v1/partners/<partner_id>/open-steps"): ALL,
    ("GET", "/api/v1/purchase-orders/<path:po_number>/flow"): ALL,
    ("POST", "/api/v1/purchase-orders"): ISSUERS,
    ("GET", "/api/v1/purchase-orders/outbound"): ALL,
    ("GET", "/api/v1/purchase-orders/outbound/<outbound_id>"): ALL,
    # no sign-in
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("POST", "/as2"): PUBLIC,
    ("POST", "/cxml"): PUBLIC,  # the partner's shared secret in the cXML header authenticates it
    ("GET", "/static/<path:filename>"): PUBLIC,
}

# Console form -> the API endpoint (as /openapi.json names it) that does the same.
CONSOLE_TO_API = {
    ("POST", "/documents/<document_id>/reprocess"): ("post", "/api/v1/documents/{document_id}/reprocess"),
    ("POST", "/documents/<document_id>/ignore"): ("post", "/api/v1/documents/{document_id}/ignore"),
    ("POST", "/documents/<document_id>/void"): ("post", "/api/v1/documents/{document_id}/void"),
    ("POST", "/documents/<document_id>/resubmit"): ("post", "/api/v1/documents/{document_id}/resubmit"),
    ("POST", "/documents/<document_id>/validate"): ("post", "/api/v1/validate"),
    ("POST", "/deliveries/<delivery_id>/replay"): ("post", "/api/v1/deliveries/{delivery_id}/replay"),
    ("POST", "/bulk/preview"): ("post", "/api/v1/bulk/{action}/preview"),
    ("POST", "/bulk/previews/<token>/confirm"): ("post", "/api/v1/bulk/previews/{token}/confirm"),
    ("POST", "/corrections/<int:approval_id>/approve"): ("post", "/api/v1/corrections/{approval_id}/approve"),
    ("POST", "/corrections/<int:approval_id>/decline"): ("post", "/api/v1/corrections/{approval_id}/decline"),
    ("POST", "/admin/users"): ("post", "/api/v1/users"),
    ("POST", "/admin/users/<int:user_id>/disable"): ("post", "/api/v1/users/{user_id}/disable"),
    ("POST", "/admin/users/<int:user_id>/enable"): ("post", "/api/v1/users/{user_id}/enable"),
    ("POST", "/admin/tokens"): ("post", "/api/v1/tokens"),
    ("POST", "/admin/tokens/<int:token_id>/revoke"): ("post", "/api/v1/tokens/{token_id}/revoke"),
    ("POST", "/alerts/<int:alert_id>/retry"): ("post", "/api/v1/alerts/{alert_id}/retry"),
    ("POST", "/partner/upload"): ("post", "/api/v1/documents"),
    ("POST", "/partners"): ("post", "/api/v1/partners"),
    ("POST", "/partners/<partner_id>/edit"): ("put", "/api/v1/partners/{partner_id}"),
    ("POST", "/partners/<partner_id>/certificates"): ("post", "/api/v1/partners/{partner_id}/certificates"),
    ("POST", "/partners/<partner_id>/sftp-keys"): ("post", "/api/v1/partners/{partner_id}/sftp-keys"),
    ("POST", "/partners/<partner_id>/maps"): ("post", "/api/v1/partners/{partner_id}/maps"),
    ("POST", "/partners/<partner_id>/maps/<int:version_id>/dry-runs"):
        ("post", "/api/v1/partners/{partner_id}/maps/{version_id}/dry-runs"),
    ("POST", "/partners/<partner_id>/maps/<int:version_id>/activate"):
        ("post", "/api/v1/partners/{partner_id}/maps/{version_id}/activate"),
    ("POST", "/partners/<partner_id>/document-types/<document_type>/rollback"):
        ("post", "/api/v1/partners/{partner_id}/document-types/{document_type}/rollback"),
}
# Console forms with no API twin, and why.
CONSOLE_ONLY = {
    ("POST", "/signin"): "starts a cookie session; the API takes bearer tokens",
    ("POST", "/signout"): "ends a cookie session",
    ("POST", "/search/saved"): "a user's named bookmark of a search URL; the API's search is its query string",
    ("POST", "/search/saved/<int:search_id>/delete"): "the same bookmark, removed",
}


def app_routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


KNOWN = {"action": "replay-dead-letters"}  # variables whose value picks the code that runs


def concrete(rule: str) -> str:
    """The rule with every variable filled by something that names nothing."""
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "999999" if m.group(1) == "int"
                  else KNOWN.get(m.group(2), "nothing-here"), rule)


def test_every_route_has_a_rule_and_every_rule_a_route(app):
    routes = app_routes(app)
    missing = sorted(routes - RULES.keys())
    assert not missing, f"routes without a rule in RULES (decide who may use them): {missing}"
    assert not sorted(RULES.keys() - routes), "rules for routes the app no longer has"


def described(spec: dict, method: str, path: str) -> bool:
    """The contract describes ``path`` itself, or each value of its variable one by one
    (``/api/v1/bulk/{action}/preview`` as ``/api/v1/bulk/replay-dead-letters/preview``, ...)."""
    pattern = re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$")
    return any(method in ops and (p == path or pattern.match(p)) for p, ops in spec.items())


def test_every_console_action_has_its_api_twin_in_the_openapi_contract(app):
    spec = app.test_client().get("/openapi.json").get_json()["paths"]
    console_posts = {(m, r) for m, r in app_routes(app) if m == "POST" and not r.startswith(("/api/", "/as2", "/cxml"))}
    assert console_posts == CONSOLE_TO_API.keys() | CONSOLE_ONLY.keys(), "a console form without an API twin"
    api_routes = {(m.lower(), re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r)) for m, r in app_routes(app)}
    for form, (method, path) in CONSOLE_TO_API.items():
        assert (method, path) in api_routes, f"{form}: the app has no {method.upper()} {path}"
        assert described(spec, method, path), f"{form}: /openapi.json does not describe {method.upper()} {path}"
    for method, rule in app_routes(app):  # and the contract describes every API route
        if rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
            assert described(spec, method.lower(), path), f"/openapi.json lacks {method} {path}"


def _denied(rt, path: str, actor: str) -> int:
    with rt.session() as s:
        return s.query(AuditEntry).filter_by(action="denied", target=path[:160], actor=actor).count()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_against_each_route(rt, app, users, role):
    """One signed-in browser and one bearer token per role, against every route."""
    browser = app.test_client()
    token = csrf_token(browser)
    assert browser.post("/signin", data={"username": role, "password": "correct horse battery staple",
                                         "csrf_token": token}).status_code == 302
    token = csrf_token(browser, "/search")  # the session's token after sign-in
    bearer = {"Authorization": f"Bearer {create_token(rt, role, role, 'demo' if role == 'partner' else None)}"}
    wrong = []
    for (method, rule), allowed in sorted(RULES.items()):
        if allowed in (PUBLIC, SIGNED_IN):
            continue  # tested below, without a role
        path = concrete(rule)
        if rule.startswith("/api/"):
            response = browser.open(path, method=method, headers=bearer, json={} if method == "POST" else None)
        else:
            response = browser.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
        refused = response.status_code == 403
        if refused == (role in allowed) or response.status_code in (401, 302):
            wrong.append(f"{method} {rule}: {response.status_code}")
        elif refused and not _denied(rt, path, f"{role}:{role}"):
            wrong.append(f"{method} {rule}: refused but not audited")
    assert not wrong, f"{role}: " + "; ".join(wrong)


def test_routes_that_need_a_role_refuse_a_stranger(app):
    stranger = app.test_client()
    for (method, rule), allowed in sorted(RULES.items()):
        if allowed == PUBLIC:
            continue
        response = stranger.open(concrete(rule), method=method)
        if rule.startswith("/api/"):
            assert response.status_code == 401, f"{method} {rule}"
        elif method == "GET":
            assert response.status_code == 302 and "/signin" in response.headers["Location"], f"{method} {rule}"
        else:  # a POST without a session has no CSRF token either: refused before anything else
            assert response.status_code in (400, 302), f"{method} {rule}"


def console_posts() -> list[str]:
    return sorted(rule for method, rule in RULES if method == "POST" and not rule.startswith(("/api/", "/as2", "/cxml")))


def _signed_in_admin(app):
    browser = app.test_client()
    assert browser.post("/signin", data={"username": "admin", "password": "correct horse battery staple",
                                         "csrf_token": csrf_token(browser)}).status_code == 302
    return browser, csrf_token(browser, "/search")


def test_a_cross_site_post_to_any_console_form_is_refused_before_it_acts(rt, app, users):
    """No token, a wrong one, or a right one sent from another site's page: each is 400."""
    browser, token = _signed_in_admin(app)
    site = "http://localhost"  # the test client's host
    for rule in console_posts():
        path = concrete(rule)
        tries = {"no token": ({}, {}), "wrong token": ({"csrf_token": token[:-4] + "AAAA"}, {}),
                 "foreign Origin": ({"csrf_token": token}, {"Origin": "https://evil.example"}),
                 "opaque Origin": ({"csrf_token": token}, {"Origin": "null"})}
        for what, (data, headers) in tries.items():
            response = browser.post(path, data=data, headers=headers)
            assert response.status_code == 400 and "Form refused" in response.get_data(as_text=True), (rule, what)
    with rt.session() as s:  # nothing was done, so nothing was audited
        assert s.query(AuditEntry).filter(AuditEntry.actor == "admin:admin",
                                          AuditEntry.action != "console.signin").count() == 0
    behind_tls_proxy = browser.post("/bulk/preview", data={"csrf_token": token}, headers={"Origin": "https://localhost"})
    assert "Form refused" not in behind_tls_proxy.get_data(as_text=True)  # same host, the proxy spoke https
    for rule in console_posts():  # while our own pages' forms get through the guard
        same_site = browser.post(concrete(rule), data={"csrf_token": token}, headers={"Origin": site})
        assert "Form refused" not in same_site.get_data(as_text=True), rule


def test_an_oversized_request_to_any_route_that_takes_a_body_is_413(rt, users):
    from gateway.web.app import create_app

    rt.settings = rt.settings.with_overrides(max_request_bytes=4096)
    app = create_app(rt)
    browser, token = _signed_in_admin(app)
    bearer = {"Authorization": f"Bearer {create_token(rt, 'root', 'admin')}", "Idempotency-Key": "k1"}
    big = "x" * 10_000
    for method, rule in sorted(RULES):
        if method != "POST" or rule == "/signout":
            continue
        path = concrete(rule)
        if rule.startswith(("/api/", "/as2", "/cxml")):
            response = browser.post(path, data=big.encode(), headers={**bearer, "Content-Type": "application/json"})
        else:
            response = browser.post(path, data={"csrf_token": token, "reason": big, "document": big})
        assert response.status_code == 413, f"{rule}: {response.status_code}"
    page = browser.post("/bulk/preview", data={"csrf_token": token, "adapter": big})
    assert "too large" in page.get_data(as_text=True)  # the console's own page, not a bare server error
