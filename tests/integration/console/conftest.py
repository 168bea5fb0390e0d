"""The web console through Flask's test client, on a real Redis and both databases, with
CSRF on (as in production): every POST carries the token its page rendered."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from console_support import BAD_855, PASSWORD, ROLES, SAMPLE_855, sign_in  # noqa: E402
from support import drain  # noqa: E402

from gateway.intake.receive import receive  # noqa: E402
from gateway.web.app import create_app  # noqa: E402
from gateway.web.users import create_user  # noqa: E402


@pytest.fixture
def app(rt):
    return create_app(rt)


@pytest.fixture
def users(rt):
    """One console user per role (``partner`` belongs to the ``demo`` partner)."""
    return {role: create_user(rt, role, PASSWORD, role, "demo" if role == "partner" else None) for role in ROLES}


@pytest.fixture
def as_role(app, users):
    """``as_role("support")``: a test client signed in as that role's user."""

    def make(role: str):
        client = app.test_client()
        assert sign_in(client, role).status_code == 302
        return client

    return make


@pytest.fixture
def documents(rt):
    """An accepted 855 and a rejected one from ``demo``, and a document of another partner."""
    accepted = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="good.edi", partner_id="demo")
    rejected = receive(rt, BAD_855.replace(b"000000101", b"000000102"), channel="sftp", filename="bad.edi",
                       partner_id="demo")
    other = receive(rt, b"hello, not a document", channel="http", filename="other.txt", partner_id="otherco")
    drain(rt)
    return {"accepted": accepted.document_id, "rejected": rejected.document_id, "other": other.document_id}
