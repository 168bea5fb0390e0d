"""Users and API tokens, managed by admins from the console and the API: a token's secret
is shown once, a revoke or disable takes effect on the very next request, each change
is audited, and nobody but an admin gets in (issue #12 §1)."""

from __future__ import annotations

import re

import pytest
from console_support import PASSWORD, post_form, sign_in

from gateway.store.models_api import ApiToken, AuditEntry
from gateway.web.auth import create_token


def audited(rt, **where) -> list[AuditEntry]:
    with rt.session() as s:
        return s.query(AuditEntry).filter_by(**where).all()


def test_an_admin_makes_a_token_sees_its_secret_once_and_a_revoke_stops_it_at_once(rt, app, as_role):
    client = as_role("admin")
    made = post_form(client, "/admin/tokens", {"name": "erp-sync", "role": "support"}, "/admin/tokens")
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<pre id="token-secret">(gw_[^<]+)</pre>', made.get_data(as_text=True)).group(1)
    api = app.test_client()
    assert api.get("/api/v1/documents", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert "erp-sync" in listing and secret not in listing  # never shown again
    with rt.session() as s:
        token_id = s.query(ApiToken).filter_by(name="erp-sync").one().id
        assert s.query(ApiToken).filter_by(name="erp-sync").one().token_sha256 != secret
    assert post_form(client, f"/admin/tokens/{token_id}/revoke", {"reason": ""}, "/admin/tokens").status_code == 400
    assert api.get("/api/v1/documents", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    done = post_form(client, f"/admin/tokens/{token_id}/revoke", {"reason": "leaked in a ticket"}, "/admin/tokens")
    assert done.status_code == 302
    assert api.get("/api/v1/documents", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "revoked" in client.get("/admin/tokens").get_data(as_text=True)
    assert [a.actor for a in audited(rt, action="token.create", target="token:erp-sync")] == ["admin:admin"]
    [revoked] = audited(rt, action="token.revoke", target="token:erp-sync")
    assert revoked.reason == "leaked in a ticket" and revoked.actor == "admin:admin"
    again = post_form(client, f"/admin/tokens/{token_id}/revoke", {"reason": "twice"}, "/admin/tokens")
    assert again.status_code == 409


def test_an_admin_creates_and_disables_a_user_whose_open_session_ends_at_once(rt, app, as_role):
    admin = as_role("admin")
    assert post_form(admin, "/admin/users", {"username": "pat", "role": "support", "password": "short"},
                     "/admin/users").status_code == 400
    assert post_form(admin, "/admin/users", {"username": "pat", "role": "support", "password": PASSWORD},
                     "/admin/users").status_code == 302
    pat = app.test_client()
    assert sign_in(pat, "pat").status_code == 302 and pat.get("/").status_code == 200
    page = admin.get("/admin/users").get_data(as_text=True)
    user_id = re.search(r'<tr id="user-(\d+)"><td>pat</td>', page).group(1)
    assert post_form(admin, f"/admin/users/{user_id}/disable", {"reason": "left the company"},
                     "/admin/users").status_code == 302
    assert pat.get("/").status_code == 302  # the open session is over: back to sign-in
    assert sign_in(app.test_client(), "pat").status_code != 302
    assert post_form(admin, f"/admin/users/{user_id}/enable", {"reason": "back"}, "/admin/users").status_code == 302
    assert sign_in(app.test_client(), "pat").status_code == 302
    assert [(a.action, a.reason) for a in audited(rt, target="user:pat") if a.action.startswith("user.")] == [
        ("user.create", None), ("user.disable", "left the company"), ("user.enable", "back")]


def test_the_last_admin_cannot_be_disabled_not_even_by_itself(rt, app, as_role, users):
    admin = as_role("admin")
    own = users["admin"].id
    response = post_form(admin, f"/admin/users/{own}/disable", {"reason": "oops"}, "/admin/users")
    assert response.status_code == 409
    api = app.test_client()
    auth = {"Authorization": f"Bearer {create_token(rt, 'root', 'admin')}"}
    refused = api.post(f"/api/v1/users/{own}/disable", json={"reason": "oops"}, headers=auth)
    assert refused.status_code == 409 and "last enabled admin" in refused.get_json()["error"]
    assert admin.get("/").status_code == 200


def test_the_api_manages_users_and_tokens_for_an_admin_token(rt, app):
    api = app.test_client()
    auth = {"Authorization": f"Bearer {create_token(rt, 'root', 'admin')}"}
    made = api.post("/api/v1/tokens", json={"name": "acme-upload", "role": "partner", "partner_id": "demo"},
                    headers=auth)
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    token = made.get_json()
    assert token["token"].startswith("gw_") and token["partner_id"] == "demo"
    listed = api.get("/api/v1/tokens", headers=auth).get_json()["tokens"]
    assert {"acme-upload", "root"} <= {t["name"] for t in listed} and all("token" not in t for t in listed)
    assert api.post("/api/v1/tokens", json={"name": "x", "role": "partner"}, headers=auth).status_code == 400
    assert api.post(f"/api/v1/tokens/{token['id']}/revoke", json={}, headers=auth).status_code == 400
    assert api.post(f"/api/v1/tokens/{token['id']}/revoke", json={"reason": "done"}, headers=auth).status_code == 200
    assert api.get("/api/v1/documents", headers={"Authorization": f"Bearer {token['token']}"}).status_code == 401
    assert api.post("/api/v1/tokens/999999/revoke", json={"reason": "x"}, headers=auth).status_code == 404
    user = api.post("/api/v1/users", json={"username": "kim", "role": "viewer", "password": PASSWORD}, headers=auth)
    assert user.status_code == 201
    assert api.post(f"/api/v1/users/{user.get_json()['id']}/disable", json={"reason": "r"},
                    headers=auth).get_json()["disabled_at"]
    assert "kim" in {u["username"] for u in api.get("/api/v1/users", headers=auth).get_json()["users"]}


@pytest.mark.parametrize("role", ["support", "buyer", "viewer", "partner"])
def test_nobody_but_an_admin_sees_or_changes_users_and_tokens(rt, app, as_role, users, role):
    client = as_role(role)
    assert client.get("/admin/users").status_code == 403 and client.get("/admin/tokens").status_code == 403
    assert post_form(client, "/admin/tokens", {"name": "mine", "role": "admin"}, "/").status_code == 403
    assert post_form(client, f"/admin/users/{users['admin'].id}/disable", {"reason": "r"}, "/").status_code == 403
    api = app.test_client()
    auth = {"Authorization": f"Bearer {create_token(rt, role, role, 'demo' if role == 'partner' else None)}"}
    assert api.get("/api/v1/tokens", headers=auth).status_code == 403
    assert api.post("/api/v1/tokens", json={"name": "mine", "role": "admin"}, headers=auth).status_code == 403
    with rt.session() as s:
        assert s.query(ApiToken).filter_by(name="mine").count() == 0
