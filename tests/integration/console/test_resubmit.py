"""Edit and resubmit (issue #12): a corrected copy is a new document linked to the
original; the original is untouched and marked resolved; the change is kept as a diff
with a reason code; the partner gets no ack for our copy unless asked."""

from __future__ import annotations

import pytest
from console_support import BAD_855, post_form
from support import drain

from gateway.intake.receive import receive
from gateway.store.models import AckRecord, Document
from gateway.store.models_api import AuditEntry
from gateway.store.models_users import DocumentResolution, Resubmission
from gateway.web.auth import create_token
from gateway.web.pages.resubmit import editable

FIXED = "ACK*IA*100*EA*068*20261201~"


def _rejected(rt) -> str:
    doc = receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo").document_id
    drain(rt)
    return doc


def _acks(rt, document_id: str) -> list[str]:
    with rt.session() as s:
        return [a.status for a in s.query(AckRecord).filter_by(document_id=document_id)]


@pytest.mark.parametrize("send_ack", [False, True])
def test_a_corrected_copy_is_delivered_and_the_original_is_left_as_it_was(rt, as_role, erp_receiver, send_ack):
    original = _rejected(rt)
    with rt.session() as s:
        before = s.get(Document, original)
        sha, status = before.sha256, before.status
    assert _acks(rt, original) == ["sent"]  # the partner heard its 855 was wrong
    client = as_role("support")
    text = editable(rt.blobs.get(sha))
    assert "ACK*IA*100*EA*068*20261301~\n" in text  # one segment a line in the editor
    form = {"document": text.replace("ACK*IA*100*EA*068*20261301~", FIXED), "reason_code": "wrong_value",
            "note": "buyer confirmed 2026-12-01", **({"send_ack": "1"} if send_ack else {})}
    response = post_form(client, f"/documents/{original}/resubmit", form, f"/documents/{original}/edit")
    assert response.status_code == 302
    copy = response.headers["Location"].rsplit("/", 1)[-1]
    drain(rt)
    with rt.session() as s:
        new, old = s.get(Document, copy), s.get(Document, original)
        assert new.status == "accepted" and new.channel == "console" and new.partner_id == "demo"
        assert (old.status, old.sha256) == (status, sha)
        assert rt.blobs.get(new.sha256) == BAD_855.replace(b"ACK*IA*100*EA*068*20261301~", FIXED.encode())
        link = s.get(Resubmission, copy)
        assert link.original_id == original and link.reason_code == "wrong_value"
        assert "-ACK*IA*100*EA*068*20261301~" in link.diff and "+" + FIXED in link.diff
        resolution = s.get(DocumentResolution, original)
        assert (resolution.kind, resolution.resolved_by) == ("resubmitted", copy)
        assert s.query(AuditEntry).filter_by(action="document.resubmit", target=original).count() == 1
    assert _acks(rt, copy) == (["sent"] if send_ack else ["withheld"])
    assert len(erp_receiver.posts) == 1
    old_page = client.get(f"/documents/{original}").get_data(as_text=True)
    assert f'id="resolution">resolved by <a href="/documents/{copy}">' in old_page
    assert f'href="/documents/{copy}"' in old_page.split('id="resubmissions"')[1]
    assert f'id="originals"><a href="/documents/{original}">' in client.get(f"/documents/{copy}").get_data(as_text=True)


def test_a_resubmission_that_changes_nothing_or_comes_twice_is_refused(rt, as_role):
    original = _rejected(rt)
    client = as_role("admin")
    with rt.session() as s:
        text = editable(rt.blobs.get(s.get(Document, original).sha256))
    same = post_form(client, f"/documents/{original}/resubmit",
                     {"document": text, "reason_code": "other", "note": "n"}, f"/documents/{original}/edit")
    assert same.status_code == 409 and "nothing was changed" in same.get_data(as_text=True)
    fixed = text.replace("ACK*IA*100*EA*068*20261301~", FIXED)
    no_note = post_form(client, f"/documents/{original}/resubmit",
                        {"document": fixed, "reason_code": "other", "note": " "}, f"/documents/{original}/edit")
    assert no_note.status_code == 409 and "a note is required" in no_note.get_data(as_text=True)
    first = post_form(client, f"/documents/{original}/resubmit",
                      {"document": fixed, "reason_code": "other", "note": "n"}, f"/documents/{original}/edit")
    assert first.status_code == 302
    twice = post_form(client, f"/documents/{original}/resubmit",
                      {"document": fixed, "reason_code": "other", "note": "n"}, f"/documents/{original}/edit")
    assert twice.status_code == 409 and "already resolved" in twice.get_data(as_text=True)
    with rt.session() as s:
        assert s.query(Resubmission).count() == 1


@pytest.mark.parametrize("role", ["buyer", "viewer", "partner"])
def test_only_operators_may_edit_or_resubmit(rt, as_role, role):
    original = _rejected(rt)
    client = as_role(role)
    assert client.get(f"/documents/{original}/edit").status_code == 403
    denied = post_form(client, f"/documents/{original}/resubmit",
                       {"document": "x", "reason_code": "other", "note": "n"}, "/")
    assert denied.status_code == 403
    with rt.session() as s:
        assert s.query(Resubmission).count() == 0


def test_live_validation_reports_the_edited_text(rt, as_role):
    original = _rejected(rt)
    client = as_role("support")
    with rt.session() as s:
        text = editable(rt.blobs.get(s.get(Document, original).sha256))
    token_page = client.get(f"/documents/{original}/edit").get_data(as_text=True)
    token = token_page.split('name="csrf_token" value="')[1].split('"')[0]
    bad = client.post(f"/documents/{original}/validate", data=text, headers={"X-CSRFToken": token}).json
    assert not bad["valid"] and "ACK05" in str(bad["transactions"][0]["errors"])
    good = client.post(f"/documents/{original}/validate", data=text.replace("20261301", "20261201"),
                       headers={"X-CSRFToken": token}).json
    assert good["valid"]
    assert client.post(f"/documents/{original}/validate", data=text).status_code == 400  # no token


def test_the_api_resubmits_for_operators_and_describes_it(rt, app, erp_receiver):
    original = _rejected(rt)
    client = app.test_client()
    support = {"Authorization": "Bearer " + create_token(rt, "s", "support")}
    viewer = {"Authorization": "Bearer " + create_token(rt, "v", "viewer")}
    fixed = BAD_855.decode().replace("ACK*IA*100*EA*068*20261301~", FIXED)
    body = {"document": fixed, "reason_code": "wrong_value", "note": "fixed by support"}
    assert client.post(f"/api/v1/documents/{original}/resubmit", json=body, headers=viewer).status_code == 403
    bad = client.post(f"/api/v1/documents/{original}/resubmit", json={**body, "reason_code": "because"},
                      headers=support)
    assert bad.status_code == 400 and "reason_code must be one of" in bad.json["error"]
    assert client.post("/api/v1/documents/doc_nope/resubmit", json=body, headers=support).status_code == 404
    made = client.post(f"/api/v1/documents/{original}/resubmit", json=body, headers=support)
    assert made.status_code == 202 and made.json["original_id"] == original
    assert client.post(f"/api/v1/documents/{original}/resubmit", json=body, headers=support).status_code == 409
    drain(rt)
    assert len(erp_receiver.posts) == 1 and _acks(rt, made.json["id"]) == ["withheld"]
    spec = client.get("/openapi.json").json
    assert "post" in spec["paths"]["/api/v1/documents/{document_id}/resubmit"]
