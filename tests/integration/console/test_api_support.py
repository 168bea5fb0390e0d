"""The API twins of the console's ignore and live validation (issue #12: the API covers
every page action)."""

from __future__ import annotations

from console_support import BAD_855, SAMPLE_855

from gateway.store.models_api import AuditEntry
from gateway.store.models_users import DocumentResolution
from gateway.web.auth import create_token


def test_ignore_through_the_api_needs_a_reason_closes_once_and_is_audited(rt, app, documents):
    api = app.test_client()
    auth = {"Authorization": f"Bearer {create_token(rt, 'ops', 'support')}"}
    doc = documents["rejected"]
    assert api.post(f"/api/v1/documents/{doc}/ignore", json={}, headers=auth).status_code == 400
    assert api.post(f"/api/v1/documents/{doc}/ignore", json={"reason": "partner re-sent it"},
                    headers=auth).status_code == 200
    assert api.post(f"/api/v1/documents/{doc}/ignore", json={"reason": "again"}, headers=auth).status_code == 409
    accepted = documents["accepted"]
    assert api.post(f"/api/v1/documents/{accepted}/ignore", json={"reason": "x"}, headers=auth).status_code == 409
    assert api.post("/api/v1/documents/doc_nothing/ignore", json={"reason": "x"}, headers=auth).status_code == 404
    with rt.session() as s:
        assert s.get(DocumentResolution, doc).kind == "ignored" and s.get(DocumentResolution, accepted) is None
        [row] = s.query(AuditEntry).filter_by(action="document.ignore", target=doc).all()
        assert row.actor == "support:ops" and row.details == {"via": "api"}


def test_validate_through_the_api_reports_like_the_editor_and_holds_the_size_limit(rt, app):
    api = app.test_client()
    auth = {"Authorization": f"Bearer {create_token(rt, 'ops', 'support')}"}
    good = api.post("/api/v1/validate", data=SAMPLE_855.read_bytes(), headers=auth).get_json()
    assert good["valid"] is True and good["format"] == "x12"
    bad = api.post("/api/v1/validate", data=BAD_855, headers=auth).get_json()
    assert bad["valid"] is False and bad["transactions"][0]["errors"]
    too_big = b"x" * (rt.settings.max_request_bytes + 1)
    assert api.post("/api/v1/validate", data=too_big, headers=auth).status_code == 413
