"""The console's Void button: operators void an accepted document with a reason, the ERP
(a real HTTP receiver) gets one document.voided naming its events, the page says so."""

from __future__ import annotations

import pytest
from console_support import post_form
from support import drain

from gateway.store.models import EventRecord
from gateway.store.models_api import AuditEntry


def _voided_posts(erp_receiver) -> list[dict]:
    return [p["body"] for p in erp_receiver.posts if p["body"]["type"] == "document.voided"]


def test_support_voids_an_accepted_document_from_its_page(rt, as_role, documents, erp_receiver):
    client = as_role("support")
    doc = documents["accepted"]
    page = client.get(f"/documents/{doc}").get_data(as_text=True)
    assert 'id="void"' in page and 'id="doc-voided"' not in page
    assert post_form(client, f"/documents/{doc}/void", {"reason": ""}, f"/documents/{doc}").status_code == 400
    response = post_form(client, f"/documents/{doc}/void", {"reason": "wrong map version"}, f"/documents/{doc}")
    assert response.status_code == 302
    drain(rt)

    with rt.session() as s:
        originals = [e.event_id for e in s.query(EventRecord).filter_by(document_id=doc)
                     if e.type != "document.voided"]
    [voided] = _voided_posts(erp_receiver)
    assert sorted(voided["payload"]["original_event_ids"]) == sorted(originals) and voided["payload"]["reason"] == "wrong map version"
    page = client.get(f"/documents/{doc}").get_data(as_text=True)
    assert 'id="doc-voided"' in page and "wrong map version" in page and 'id="void"' not in page

    again = post_form(client, f"/documents/{doc}/void", {"reason": "again"}, f"/documents/{doc}")
    drain(rt)
    assert again.status_code == 302 and len(_voided_posts(erp_receiver)) == 1
    with rt.session() as s:
        assert [(a.action, a.reason, a.actor) for a in s.query(AuditEntry).filter_by(action="document.void")] == [
            ("document.void", "wrong map version", "support:support")]


@pytest.mark.parametrize("role", ["buyer", "viewer", "partner"])
def test_readers_have_no_void_button_and_are_refused(rt, as_role, documents, erp_receiver, role):
    client = as_role(role)
    doc = documents["accepted"]
    assert 'id="void"' not in client.get(f"/documents/{doc}").get_data(as_text=True)
    assert post_form(client, f"/documents/{doc}/void", {"reason": "x"}, "/").status_code == 403
    drain(rt)
    assert _voided_posts(erp_receiver) == []


def test_a_rejected_document_cannot_be_voided(rt, as_role, documents, erp_receiver):
    client = as_role("admin")
    doc = documents["rejected"]
    assert 'id="void"' not in client.get(f"/documents/{doc}").get_data(as_text=True)
    response = post_form(client, f"/documents/{doc}/void", {"reason": "x"}, f"/documents/{doc}")
    assert response.status_code == 409
    assert _voided_posts(erp_receiver) == []
