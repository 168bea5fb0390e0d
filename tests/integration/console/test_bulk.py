"""Bulk actions on a search result, from the console and the API: a preview shows what
will happen; confirming acts on exactly the previewed ids, once, with a reason, in one
audited transaction (issue #12 §1)."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from console_support import SAMPLE_855, post_form
from support import REPO, add_partner_like_demo, drain, sent_by

from gateway.intake.receive import receive
from gateway.store.models import DeliveryRecord, Document, EventRecord
from gateway.store.models_api import AuditEntry
from gateway.web.auth import create_token

MAP = "demo/maps/x12-855-004010.yaml"
_TOKEN = re.compile(r'action="/bulk/previews/([^/"]+)/confirm"')


@pytest.fixture
def partners(tmp_path, monkeypatch):
    """A copy of the partners folder with a second supplier (``globex``) and a demo 855
    map that refuses ACME's part AC-W100 (no cross-reference for it): every demo 855 is
    rejected by that map version until the map is fixed."""
    folder = tmp_path / "partners"
    shutil.copytree(REPO / "partners", folder)
    add_partner_like_demo(folder, "globex", "GLOBEXSUPPLY")
    monkeypatch.setenv("GATEWAY_PARTNERS_DIR", str(folder))
    return folder


def break_map(partners) -> None:
    path = partners / MAP
    text = path.read_text()
    path.write_text(text.replace("    AC-W100: ITEM-100\n", "").replace('on_missing: "null"', "on_missing: error"))


def fix_map(partners) -> None:
    path = partners / MAP
    shutil.copy(REPO / "partners" / MAP, path)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))  # a new modification time, surely


@pytest.fixture
def rt(partners, rt):
    return rt


def send_855(rt, n: int, partner: str = "demo") -> str:
    data = SAMPLE_855.read_bytes().replace(b"000000101", f"{n:09d}".encode())
    data = data.replace(b"*4500012345*", f"*45000{n:05d}*".encode())  # its own PO: no 855 supersedes another
    if partner != "demo":
        data = sent_by(data, "GLOBEXSUPPLY")
    return receive(rt, data, channel="sftp", filename=f"855-{n}.edi", partner_id=partner).document_id


def audit_rows(rt, **where) -> list[AuditEntry]:
    with rt.session() as s:
        return s.query(AuditEntry).filter_by(**where).all()


def status(rt, document_id: str) -> str:
    with rt.session() as s:
        return s.get(Document, document_id).status


def test_reprocess_every_document_one_map_version_rejected_acts_on_the_preview_only(rt, partners, as_role):
    break_map(partners)
    docs = [send_855(rt, n) for n in (201, 202, 203)]
    drain(rt)
    with rt.session() as s:
        versions = {s.get(Document, d).map_version for d in docs}
        assert {s.get(Document, d).status for d in docs} == {"rejected"}
    assert len(versions) == 1
    broken = versions.pop()
    assert broken.startswith("demo/x12-855-004010@")

    client = as_role("support")
    result = client.get("/search?status=open&partner=demo").get_data(as_text=True)
    assert re.search(r'href="/bulk\?partner=demo[^"]*#reprocess"', result)  # a search result leads to its bulk action
    shown = client.get(f"/documents/{docs[0]}").get_data(as_text=True)
    link = re.search(r'<dd id="map-version">([^ <]+) · <a href="([^"]+)"', shown)
    assert link and link.group(1) == broken  # the document names its map version, and links to the bulk action
    form = client.get(link.group(2).replace("&amp;", "&")).get_data(as_text=True)
    assert f'<option value="{broken}" selected>' in form and "(3 open)" in form
    response = post_form(client, "/bulk/preview", {"kind": "reprocess_rejected", "map_version": broken,
                                                   "partner": "demo"}, "/bulk")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>3</strong> documents would be reprocessed: demo 3" in page
    assert all(f"/documents/{d}" in page for d in docs) and broken in page
    token = _TOKEN.search(page).group(1)

    # After the preview: one more document rejected by the same version (not previewed: not
    # touched), and support ignores one of the previewed (skipped, and named).
    late = send_855(rt, 204)
    drain(rt)
    assert post_form(client, f"/documents/{docs[0]}/ignore", {"reason": "partner re-sent"}, "/").status_code == 302
    fix_map(partners)

    assert post_form(client, f"/bulk/previews/{token}/confirm", {"reason": ""}, f"/bulk/previews/{token}"
                     ).status_code == 400
    assert status(rt, docs[1]) == "rejected"  # no reason, nothing done
    done = post_form(client, f"/bulk/previews/{token}/confirm", {"reason": "855 map fixed: AC-W100 added"},
                     f"/bulk/previews/{token}")
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "<strong>2</strong> queued for processing again; <strong>1</strong> skipped" in text
    assert f"{docs[0]}: resolved meanwhile" in text
    [row] = audit_rows(rt, action="bulk.reprocess_rejected")
    assert row.actor == "support:support" and row.target == f"bulk:{token}" and row.reason.startswith("855 map")
    assert row.details["applied"] == docs[1:] and list(row.details["skipped"]) == [docs[0]]
    assert row.details["filters"] == {"map_version": broken, "partner": "demo"}
    drain(rt)
    assert [status(rt, d) for d in docs] == ["rejected", "accepted", "accepted"]
    assert status(rt, late) == "rejected"  # it matched by the time of the confirm, but was never previewed
    again = post_form(client, f"/bulk/previews/{token}/confirm", {"reason": "twice"}, "/bulk")
    assert again.status_code == 409 and len(audit_rows(rt, action="bulk.reprocess_rejected")) == 1


def dead_letters(rt, erp_receiver, numbers, partner="demo") -> list[str]:
    erp_receiver.script = [500] * (3 * len(numbers))  # GATEWAY_DELIVERY_MAX_ATTEMPTS=3: every try fails
    docs = [send_855(rt, n, partner) for n in numbers]
    drain(rt)
    with rt.session() as s:
        rows = (s.query(DeliveryRecord).join(EventRecord).filter(EventRecord.document_id.in_(docs))
                .order_by(DeliveryRecord.dead_lettered_at).all())
        assert {d.status for d in rows} == {"dead_lettered"}
        return [d.id for d in rows if d.adapter == "erp_http"]


def test_replay_the_dead_letters_of_one_adapter_from_one_partner_through_the_api(rt, app, erp_receiver):
    demo = dead_letters(rt, erp_receiver, (301, 302))
    other = dead_letters(rt, erp_receiver, (303,), partner="globex")
    client = app.test_client()
    token = create_token(rt, "ops-script", "support")
    auth = {"Authorization": f"Bearer {token}"}

    assert client.post("/api/v1/bulk/replay-dead-letters/preview", json={"partner": "demo"},
                       headers=auth).status_code == 400  # no adapter: a bulk action names what it acts on
    assert client.post("/api/v1/bulk/replay-dead-letters/preview", json={"adapter": "erp_http",
                       "dead_lettered_from": "yesterday"}, headers=auth).status_code == 400
    future = client.post("/api/v1/bulk/replay-dead-letters/preview", headers=auth,
                         json={"adapter": "erp_http", "dead_lettered_from": "2999-01-01"}).get_json()
    assert future["count"] == 0
    shown = client.post("/api/v1/bulk/replay-dead-letters/preview", headers=auth,
                        json={"adapter": "erp_http", "partner": "demo", "dead_lettered_from": "2000-01-01T00:00",
                              "dead_lettered_to": "2999-12-31"})
    assert shown.status_code == 200
    preview = shown.get_json()
    assert preview["count"] == 2 and preview["by_partner"] == {"demo": 2}
    assert sorted(x["delivery_id"] for x in preview["sample"]) == sorted(demo)

    late = dead_letters(rt, erp_receiver, (304,))  # after the preview: not in it
    posts_before = len(erp_receiver.posts)
    assert client.post(f"/api/v1/bulk/previews/{preview['token']}/confirm", json={}, headers=auth).status_code == 400
    admin = {"Authorization": f"Bearer {create_token(rt, 'other-admin', 'admin')}"}
    refused = client.post(f"/api/v1/bulk/previews/{preview['token']}/confirm", json={"reason": "x"}, headers=admin)
    assert refused.status_code == 404  # a preview is confirmed by the person who saw it
    done = client.post(f"/api/v1/bulk/previews/{preview['token']}/confirm", json={"reason": "ERP back after outage"},
                       headers=auth)
    assert done.status_code == 202
    assert sorted(done.get_json()["applied"]) == sorted(demo) and done.get_json()["skipped"] == {}
    drain(rt)
    with rt.session() as s:
        states = {d: s.get(DeliveryRecord, d).status for d in demo + other + late}
    assert states == {**dict.fromkeys(demo, "delivered"), **dict.fromkeys(other + late, "dead_lettered")}
    assert len(erp_receiver.posts) == posts_before + 2  # one post each, nothing else
    [row] = audit_rows(rt, action="bulk.replay_dead_letters")
    assert row.actor == "support:ops-script" and sorted(row.details["applied"]) == sorted(demo)
    again = client.post(f"/api/v1/bulk/previews/{preview['token']}/confirm", json={"reason": "again"}, headers=auth)
    assert again.status_code == 409


@pytest.mark.parametrize("role", ["buyer", "viewer", "partner"])
def test_only_operators_preview_or_confirm_a_bulk_action(rt, app, as_role, role):
    client = as_role(role)
    assert client.get("/bulk").status_code == 403
    assert post_form(client, "/bulk/preview", {"kind": "replay_dead_letters", "adapter": "erp_http"},
                     "/").status_code == 403
    api = app.test_client()
    auth = {"Authorization": f"Bearer {create_token(rt, role, role, 'demo' if role == 'partner' else None)}"}
    assert api.post("/api/v1/bulk/replay-dead-letters/preview", json={"adapter": "erp_http"},
                    headers=auth).status_code == 403
    assert api.post("/api/v1/bulk/previews/anything/confirm", json={"reason": "x"}, headers=auth).status_code == 403


def test_an_xml_document_records_its_map_version_too(rt):
    from support import SAMPLES

    cxml = (SAMPLES / "cxml" / "ConfirmationRequest_acme_po_4500012360.xml").read_bytes()
    doc = receive(rt, cxml, channel="http", filename="confirm.xml", partner_id="demo").document_id
    drain(rt)
    with rt.session() as s:
        row = s.get(Document, doc)
        assert row.status == "accepted" and re.fullmatch(r"[\w/-]+@[0-9a-f]{12}", row.map_version or "")


def test_abandoned_previews_are_dropped_a_day_after_they_expire(rt):
    from datetime import timedelta

    from gateway.actions import bulk
    from gateway.store.models import utcnow
    from gateway.store.models_bulk import BulkPreview

    old = bulk.preview(rt, "support:sam", bulk.REPLAY_DEAD_LETTERS, {"adapter": "erp_http"}).token
    recent = bulk.preview(rt, "support:sam", bulk.REPLAY_DEAD_LETTERS, {"adapter": "erp_http"}).token
    with rt.session() as s:
        s.get(BulkPreview, old).expires_at = utcnow() - timedelta(days=2)
        s.get(BulkPreview, recent).expires_at = utcnow() - timedelta(hours=1)
    bulk.preview(rt, "support:sam", bulk.REPLAY_DEAD_LETTERS, {"adapter": "erp_http"})
    with rt.session() as s:
        assert s.get(BulkPreview, old) is None and s.get(BulkPreview, recent) is not None
    with pytest.raises(bulk.NoSuchPreview):
        bulk.confirm(rt, "support:sam", old, "too late")
    with pytest.raises(bulk.PreviewUnusable, match="expired"):
        bulk.confirm(rt, "support:sam", recent, "too late")
