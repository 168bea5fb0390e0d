"""The optional second approver per partner for edit-and-resubmit (issue #12 §1): with
``corrections: second_approver: true`` support's corrected copy waits, no document made
and nothing delivered, until another operator approves it; the one who made it cannot;
a declined one leaves the original open. Console and API; every decision audited."""

from __future__ import annotations

import pytest
from console_support import BAD_855, PASSWORD, post_form, sign_in
from support import drain, with_partner_settings

from gateway.intake.receive import receive
from gateway.store.models import Document
from gateway.store.models_api import AuditEntry
from gateway.store.models_users import CorrectionApproval, DocumentResolution, Resubmission
from gateway.web.app import create_app
from gateway.web.auth import create_token
from gateway.web.pages.resubmit import editable
from gateway.web.users import create_user

FIXED = "ACK*IA*100*EA*068*20261201~"


@pytest.fixture
def rt(rt, monkeypatch, tmp_path):
    return with_partner_settings(rt, monkeypatch, tmp_path, corrections={"second_approver": True})


def corrected(rt, original: str) -> str:
    with rt.session() as s:
        sha = s.get(Document, original).sha256
    return editable(rt.blobs.get(sha)).replace("ACK*IA*100*EA*068*20261301~", FIXED)


def test_a_correction_waits_for_a_second_operator_and_only_then_is_delivered(rt, erp_receiver):
    app = create_app(rt)
    create_user(rt, "sam", PASSWORD, "support")
    create_user(rt, "kim", PASSWORD, "support")
    sam, kim = app.test_client(), app.test_client()
    assert sign_in(sam, "sam").status_code == 302 and sign_in(kim, "kim").status_code == 302
    original = receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo").document_id
    drain(rt)
    form = {"document": corrected(rt, original), "reason_code": "wrong_value", "note": "buyer confirmed the date"}
    response = post_form(sam, f"/documents/{original}/resubmit", form, f"/documents/{original}/edit")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/documents/{original}")
    drain(rt)
    with rt.session() as s:
        assert s.query(Resubmission).count() == 0 and s.get(DocumentResolution, original) is None
        assert s.query(Document).count() == 1  # no document for the correction yet
        [waiting] = s.query(CorrectionApproval).all()
    assert erp_receiver.posts == []
    assert "Held: corrections awaiting approval" in kim.get("/").get_data(as_text=True)
    again = post_form(sam, f"/documents/{original}/resubmit", form, f"/documents/{original}/edit")
    assert again.status_code == 409  # one waiting correction per original

    page = sam.get("/corrections").get_data(as_text=True)
    assert "You made this correction" in page and f"/corrections/{waiting.id}/approve" not in page
    own = post_form(sam, f"/corrections/{waiting.id}/approve", {"reason": "looks right"}, "/corrections")
    assert own.status_code == 409 and "a second person must approve" in own.get_data(as_text=True)
    assert f"/corrections/{waiting.id}/approve" in kim.get("/corrections").get_data(as_text=True)
    assert post_form(kim, f"/corrections/{waiting.id}/approve", {"reason": ""}, "/corrections").status_code == 400
    done = post_form(kim, f"/corrections/{waiting.id}/approve", {"reason": "checked the PO"}, "/corrections")
    assert done.status_code == 302
    copy = done.headers["Location"].rsplit("/", 1)[-1]
    drain(rt)
    with rt.session() as s:
        assert s.get(Document, copy).status == "accepted"
        assert s.get(Resubmission, copy).actor == "support:sam"
        assert s.get(DocumentResolution, original).resolved_by == copy
        [row] = s.query(AuditEntry).filter_by(action="correction.approve").all()
        assert row.actor == "support:kim" and row.reason == "checked the PO" and row.target == original
    assert len(erp_receiver.posts) == 1
    twice = post_form(kim, f"/corrections/{waiting.id}/approve", {"reason": "again"}, "/corrections")
    assert twice.status_code == 409


def test_through_the_api_a_declined_correction_leaves_the_original_open(rt, app, erp_receiver):
    api = app.test_client()
    sam = {"Authorization": f"Bearer {create_token(rt, 'sam', 'support')}"}
    kim = {"Authorization": f"Bearer {create_token(rt, 'kim', 'admin')}"}
    original = receive(rt, BAD_855, channel="sftp", filename="bad.edi", partner_id="demo").document_id
    drain(rt)
    made = api.post(f"/api/v1/documents/{original}/resubmit", headers=sam,
                    json={"document": corrected(rt, original).replace("~\n", "~"), "reason_code": "wrong_value",
                          "note": "typo"})
    assert made.status_code == 202 and made.get_json()["status"] == "awaiting_approval"
    approval_id = made.get_json()["approval_id"]
    [listed] = api.get("/api/v1/corrections", headers=kim).get_json()["corrections"]
    assert listed["id"] == approval_id and f"\n+{FIXED}\n" in listed["diff"]  # one segment a diff line
    assert api.post(f"/api/v1/corrections/{approval_id}/approve", json={"reason": "mine"},
                    headers=sam).status_code == 409
    declined = api.post(f"/api/v1/corrections/{approval_id}/decline", json={"reason": "wrong fix"}, headers=kim)
    assert declined.status_code == 200 and declined.get_json()["state"] == "declined"
    assert api.post(f"/api/v1/corrections/{approval_id}/approve", json={"reason": "x"},
                    headers=kim).status_code == 409
    drain(rt)
    with rt.session() as s:
        assert s.get(Document, original).status == "rejected" and s.get(DocumentResolution, original) is None
        assert s.query(Document).count() == 1
        assert s.query(AuditEntry).filter_by(action="correction.decline", actor="admin:kim").count() == 1
    assert erp_receiver.posts == []
