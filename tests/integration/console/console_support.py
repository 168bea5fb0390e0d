"""Helpers for the console tests (also used by the browser tests in tests/e2e/console)."""

from __future__ import annotations

import re

from support import SAMPLES

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "support", "buyer", "viewer", "partner")
SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"
# ACK05 of the first line is 2026-13-01: not a date, so the 855 is rejected at segment 8.
BAD_855 = SAMPLE_855.read_bytes().replace(b"ACK*IA*100*EA*068*20261201", b"ACK*IA*100*EA*068*20261301")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/signin") -> str:
    page = client.get(path)
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post("/signin", data={"username": username, "password": password,
                                        "csrf_token": csrf_token(client)})


def post_form(client, path: str, data: dict, page: str):
    """POST ``data`` to ``path`` with the CSRF token rendered on ``page``."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})
