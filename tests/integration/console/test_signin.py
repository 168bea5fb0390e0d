"""Sign-in, sessions, CSRF and request limits of the web console (issue #12 §1, §5)."""

from __future__ import annotations

import io
import os
import stat

import pytest
from console_support import PASSWORD, csrf_token, sign_in

from gateway.cli import main
from gateway.store.models_api import AuditEntry
from gateway.web.app import create_app
from gateway.web.console import ConfigError, secret_key


def test_signing_in_gives_an_httponly_samesite_cookie_and_the_dashboard(app, users):
    client = app.test_client()
    assert client.get("/").status_code == 302  # to the sign-in page
    response = sign_in(client, "support")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/")
    assert page.status_code == 200 and "support (support)" in page.get_data(as_text=True)


def test_over_https_the_session_cookie_is_secure(app, users):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/signin", base_url="https://localhost", headers={"Referer": "https://localhost/signin"},
                           data={"username": "viewer", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_wrong_password_or_unknown_user_gets_the_same_answer_and_no_session(app, users):
    for username, password in (("support", "wrong password!"), ("nobody", PASSWORD)):
        client = app.test_client()
        response = sign_in(client, username, password)
        assert response.status_code == 401
        assert "Wrong username or password." in response.get_data(as_text=True)
        assert client.get("/").status_code == 302


def test_a_post_without_the_csrf_token_is_refused(app, users, rt):
    """A cross-site form cannot carry the token: sign-in and sign-out are refused without it."""
    client = app.test_client()
    refused = client.post("/signin", data={"username": "support", "password": PASSWORD})
    assert refused.status_code == 400 and "Form refused" in refused.get_data(as_text=True)
    assert sign_in(client, "support").status_code == 302
    forged = client.post("/signout", data={"csrf_token": "forged"}, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_sign_out_ends_the_session(app, users):
    client = app.test_client()
    sign_in(client, "viewer")
    assert client.post("/signout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    assert client.get("/").status_code == 302


def test_after_sign_in_only_a_local_path_is_followed(app, users):
    for target, expected in (("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/search", "/search")):
        client = app.test_client()
        response = client.post("/signin", data={"username": "viewer", "password": PASSWORD, "next": target,
                                                "csrf_token": csrf_token(client)})
        assert response.headers["Location"] == expected


def test_an_oversized_form_is_413(rt, users):
    rt.settings = rt.settings.with_overrides(max_request_bytes=4096)
    client = create_app(rt).test_client()
    token = csrf_token(client)
    response = client.post("/signin", data={"username": "support", "password": "x" * 10_000, "csrf_token": token})
    assert response.status_code == 413


def test_gateway_users_create_bootstraps_an_account(rt, app, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "create", "alice", "--role", "support", "--password-stdin"]) == 0
    assert "created support user 'alice'" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "create", "bob", "--role", "support", "--password-stdin"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "create", "carol", "--role", "partner", "--password-stdin"]) == 2  # no --partner
    assert sign_in(app.test_client(), "alice").status_code == 302
    with rt.session() as s:
        assert s.query(AuditEntry).filter_by(action="user.create", target="user:alice").count() == 1
        assert s.query(AuditEntry).filter_by(action="console.signin", actor="support:alice").count() == 1


def test_the_session_key_is_made_once_with_mode_0600_and_a_readable_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("GATEWAY_SECRET_KEY", raising=False)
    first = secret_key(tmp_path)
    path = tmp_path / "console_secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(tmp_path) == first
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        secret_key(tmp_path)
