"""Support's actions from the console: each role against each action, a reason always
required, every action audited, a cross-site POST refused (issue #12 §1, §5)."""

from __future__ import annotations

import pytest
from console_support import SAMPLE_855, post_form
from support import drain

from gateway.intake.receive import receive
from gateway.store.models import DeliveryRecord, Document, EventRecord
from gateway.store.models_api import AuditEntry
from gateway.store.models_users import DocumentResolution

ACTIONS = ("reprocess", "ignore")


def _audited(rt, **where) -> int:
    with rt.session() as s:
        return s.query(AuditEntry).filter_by(**where).count()


@pytest.mark.parametrize("role", ["buyer", "viewer", "partner"])
def test_roles_without_operator_rights_are_refused_every_action_and_audited(rt, as_role, documents, role):
    client = as_role(role)
    doc = documents["rejected"]
    for action in ACTIONS:
        response = post_form(client, f"/documents/{doc}/{action}", {"reason": "because"}, "/")
        assert response.status_code == 403, action
        assert _audited(rt, action="denied", target=f"/documents/{doc}/{action}", actor=f"{role}:{role}") == 1
    assert post_form(client, "/deliveries/anything/replay", {"reason": "because"}, "/").status_code == 403
    with rt.session() as s:
        assert s.get(Document, doc).status == "rejected" and s.get(DocumentResolution, doc) is None


@pytest.mark.parametrize("role", ["admin", "support"])
def test_operators_reprocess_with_a_reason_and_it_is_audited(rt, as_role, documents, role):
    client = as_role(role)
    doc = documents["rejected"]
    assert post_form(client, f"/documents/{doc}/reprocess", {"reason": ""}, f"/documents/{doc}").status_code == 400
    response = post_form(client, f"/documents/{doc}/reprocess", {"reason": "map fixed"}, f"/documents/{doc}")
    assert response.status_code == 302
    with rt.session() as s:
        assert s.get(Document, doc).status == "received"
    assert _audited(rt, action="document.reprocess", target=doc, reason="map fixed", actor=f"{role}:{role}") == 1
    drain(rt)
    with rt.session() as s:
        assert s.get(Document, doc).status == "rejected"  # same bytes, same content error


def test_ignore_closes_an_open_rejection_once_and_only_a_rejected_one(rt, as_role, documents):
    client = as_role("support")
    doc = documents["rejected"]
    assert post_form(client, f"/documents/{doc}/ignore", {"reason": ""}, f"/documents/{doc}").status_code == 400
    assert post_form(client, f"/documents/{doc}/ignore", {"reason": "partner re-sent it"},
                     f"/documents/{doc}").status_code == 302
    page = client.get(f"/documents/{doc}").get_data(as_text=True)
    assert 'id="resolution">ignored' in page and "partner re-sent it" in page
    assert f'href="/documents/{doc}"' not in client.get("/search?status=open").get_data(as_text=True)
    again = post_form(client, f"/documents/{doc}/ignore", {"reason": "twice"}, f"/documents/{doc}")
    assert again.status_code == 409
    accepted = documents["accepted"]
    assert post_form(client, f"/documents/{accepted}/ignore", {"reason": "x"}, "/").status_code == 409
    assert _audited(rt, action="document.ignore", target=doc) == 1


def test_a_cross_site_post_changes_nothing(rt, as_role, documents):
    client = as_role("support")
    doc = documents["rejected"]
    for action in ACTIONS:
        response = client.post(f"/documents/{doc}/{action}", data={"reason": "forged"},
                               headers={"Origin": "https://evil.example", "Referer": "https://evil.example/"})
        assert response.status_code == 400
    with rt.session() as s:
        assert s.get(Document, doc).status == "rejected" and s.get(DocumentResolution, doc) is None
    assert _audited(rt, reason="forged") == 0


def test_support_replays_a_dead_lettered_delivery_and_the_erp_gets_it_once(rt, as_role, users, erp_receiver):
    erp_receiver.script = [500, 500, 500]  # every attempt fails: dead-lettered
    doc = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="po.edi", partner_id="demo").document_id
    drain(rt)
    with rt.session() as s:
        delivery = s.query(DeliveryRecord).join(EventRecord).filter(EventRecord.document_id == doc).one()
        assert delivery.status == "dead_lettered"
        delivery_id = delivery.id
    client = as_role("support")
    page = client.get(f"/documents/{doc}").get_data(as_text=True)
    assert f'action="/deliveries/{delivery_id}/replay"' in page
    assert post_form(client, f"/deliveries/{delivery_id}/replay", {"reason": ""}, "/").status_code == 400
    assert post_form(client, f"/deliveries/{delivery_id}/replay", {"reason": "ERP is back"}, "/").status_code == 302
    drain(rt)
    with rt.session() as s:
        assert s.get(DeliveryRecord, delivery_id).status == "delivered"
    assert [p["status"] for p in erp_receiver.posts] == [500, 500, 500, 200]
    assert _audited(rt, action="delivery.replay", target=delivery_id, reason="ERP is back") == 1
    again = post_form(client, f"/deliveries/{delivery_id}/replay", {"reason": "once more"}, "/")
    assert again.status_code == 409 and len(erp_receiver.posts) == 4  # delivered: left alone


def test_a_refusal_for_a_very_long_path_is_still_a_403(rt, as_role):
    """The audit target is 160 characters (PostgreSQL enforces it): a long id must not make the 403 a 500."""
    client = as_role("viewer")
    long_id = "doc_" + "x" * 300
    assert post_form(client, f"/documents/{long_id}/reprocess", {"reason": "r"}, "/").status_code == 403
    assert _audited(rt, action="denied", actor="viewer:viewer") == 1
