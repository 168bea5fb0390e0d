"""Onboarding in the console through Flask's test client (CSRF on): who may see and
change what, refusals that name what is wrong, and the upload -> dry-run -> activate ->
rollback flow; every change audited with its reason."""

from __future__ import annotations

import io
import re
import sys

import pytest
from console_support import ROLES, csrf_token, post_form
from support import REPO

from gateway.store.models_api import AuditEntry
from gateway.store.models_onboarding import OnboardedPartner

sys.path.insert(0, str(REPO / "tests" / "integration" / "onboarding"))
from onboarding_support import RENUMBERED_855_MAP  # noqa: E402

PARTNER_FORM = {"id": "globex", "name": "Globex Parts", "isa_qualifier": "ZZ", "isa_id": "GLOBEXPARTS",
                "group_ids": "GLOBEXPARTS", "our_qualifier": "ZZ", "our_id": "BUYERCO", "our_group_ids": "BUYERCO",
                "ack": "997", "control_number_reuse": "never", "test_data": "hold", "sftp": "1",
                "as2_id": "GLOBEX-AS2", "cxml": "NetworkId GLOBEX", "reason": "new supplier"}


def _upload(client, content: str, reason: str = "renumbered items"):
    return client.post("/partners/demo/maps", content_type="multipart/form-data", data={
        "map": (io.BytesIO(content.encode()), "acme-855.yaml"), "reason": reason,
        "csrf_token": csrf_token(client, "/partners/demo")})


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_and_may_do_what_it_should(rt, as_role, role):
    client = as_role(role)
    page = client.get("/partners")
    assert page.status_code == (403 if role == "partner" else 200)
    offered = 'id="create-partner"' in page.get_data(as_text=True)
    assert offered == (role in ("admin", "buyer"))
    if role == "partner":
        assert client.get("/partners/demo").status_code == 403
        return
    created = post_form(client, "/partners", {**PARTNER_FORM, "id": f"p-{role}", "isa_id": f"ID{role.upper()}",
                                              "as2_id": "", "cxml": ""}, "/")
    assert created.status_code == (302 if role in ("admin", "buyer") else 403)
    with rt.session() as s:
        assert (s.get(OnboardedPartner, f"p-{role}") is not None) == (role in ("admin", "buyer"))
        if role not in ("admin", "buyer"):
            assert s.query(AuditEntry).filter_by(action="denied", actor=f"{role}:{role}").count() == 1


def test_a_buyer_creates_a_partner_and_refusals_say_what_is_wrong(rt, as_role):
    client = as_role("buyer")
    no_reason = post_form(client, "/partners", {**PARTNER_FORM, "reason": ""}, "/partners")
    assert no_reason.status_code == 400 and "Say why" in no_reason.get_data(as_text=True)
    bad = post_form(client, "/partners", {**PARTNER_FORM, "isa_qualifier": "ZZZ"}, "/partners")
    assert bad.status_code == 422 and "x12.qualifier" in bad.get_data(as_text=True)
    assert 'value="GLOBEXPARTS"' in bad.get_data(as_text=True)  # what was typed is kept
    taken = post_form(client, "/partners", {**PARTNER_FORM, "isa_id": "ACMESUPPLY"}, "/partners")
    assert taken.status_code == 409 and "already sends as ZZ/ACMESUPPLY" in taken.get_data(as_text=True)
    created = post_form(client, "/partners", PARTNER_FORM, "/partners")
    assert created.status_code == 302 and created.headers["Location"].endswith("/partners/globex")
    page = client.get("/partners/globex").get_data(as_text=True)
    assert "GLOBEX-AS2: starts once a certificate is added" in page and "No maps of its own" in page
    with rt.session() as s:
        entry = s.query(AuditEntry).filter_by(action="partner.create").one()
    assert (entry.actor, entry.reason) == ("buyer:buyer", "new supplier")


def test_upload_dry_run_activate_and_roll_back_in_the_console(rt, as_role):
    client = as_role("buyer")
    bad = _upload(client, RENUMBERED_855_MAP.replace("timezone: America/Chicago", "timezone: Mars/Base"))
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "acme-855.yaml</code> line 3 <code>timezone</code>" in text
    stored = _upload(client, RENUMBERED_855_MAP)
    assert stored.status_code == 302
    version_page = stored.headers["Location"]
    shown = client.get(version_page).get_data(as_text=True)
    assert '<span class="add">+    AC-W100: ITEM-100-B</span>' in shown  # the YAML against the active version
    run = post_form(client, f"{version_page}/dry-runs", {"documents": "5"}, version_page)
    assert run.status_code == 302
    dry_run_page = run.headers["Location"]
    page = client.get(dry_run_page).get_data(as_text=True)
    assert '<span class="n" id="n-changed">1</span>' in page
    assert "<code>payload.lines[0].item_number</code>" in page and "<ins>ITEM-100-B</ins>" in page
    run_id = dry_run_page.rsplit("/", 1)[-1]
    version_id = int(version_page.rsplit("/", 1)[-1])
    forged = post_form(client, f"/partners/demo/maps/{version_id}/activate",
                       {"dry_run_id": "dry_someone_elses", "reason": "go"}, dry_run_page)
    assert forged.status_code == 422
    done = post_form(client, f"/partners/demo/maps/{version_id}/activate", {"dry_run_id": run_id, "reason": "go"},
                     dry_run_page)
    assert done.status_code == 302
    partner_page = client.get("/partners/demo").get_data(as_text=True)
    assert re.search(r'<tr class="active"><td><a [^>]+>v2</a>', partner_page)
    back = post_form(client, "/partners/demo/document-types/x12-855-004010/rollback", {"reason": "not yet"},
                     "/partners/demo")
    assert back.status_code == 302
    assert re.search(r'<tr class="active"><td><a [^>]+>v1</a>', client.get("/partners/demo").get_data(as_text=True))
    with rt.session() as s:
        actions = [a.action for a in s.query(AuditEntry).filter(AuditEntry.action.like("map.%")).order_by(
            AuditEntry.id)]
    assert actions == ["map.upload", "map.dry_run", "map.activate", "map.rollback"]


def test_a_buyer_changes_a_partner_created_here(rt, as_role):
    client = as_role("buyer")
    post_form(client, "/partners", PARTNER_FORM, "/partners")
    page = client.get("/partners/globex").get_data(as_text=True)
    assert 'id="edit-partner"' in page and 'value="GLOBEXPARTS"' in page
    assert 'id="edit-partner"' not in client.get("/partners/demo").get_data(as_text=True)  # a file partner
    refused = post_form(client, "/partners/globex/edit", {**PARTNER_FORM, "isa_qualifier": "ZZZ"}, "/partners/globex")
    assert refused.status_code == 422 and "x12.qualifier" in refused.get_data(as_text=True)
    done = post_form(client, "/partners/globex/edit", {**PARTNER_FORM, "test_data": "route",
                                                       "reason": "their test data goes to test routes"},
                     "/partners/globex")
    assert done.status_code == 302
    assert rt.partners["globex"].test_data == "route"
    with rt.session() as s:
        assert s.query(AuditEntry).filter_by(action="partner.update").one().reason == \
            "their test data goes to test routes"


def test_changing_a_partner_in_the_console_keeps_what_the_form_does_not_show(rt, as_role):
    from gateway.onboarding import partners
    from gateway.transports.sftp_auth import hash_password
    from gateway.web.auth import Principal

    secret = hash_password("their sftp password")
    partners.create(rt, Principal("bea", "buyer"), {
        "id": "globex", "name": "Globex", "x12": {"qualifier": "ZZ", "id": "GLOBEXPARTS", "ack_deadline_hours": 48},
        "our_x12": {"qualifier": "ZZ", "id": "BUYERCO"},
        "channels": {"sftp": {"password_hash": secret, "max_file_bytes": 1000000}}}, "new")
    client = as_role("buyer")
    assert secret not in client.get("/partners/globex").get_data(as_text=True)
    done = post_form(client, "/partners/globex/edit", {**PARTNER_FORM, "as2_id": "", "cxml": "",
                                                       "reason": "they send 999s now", "ack": "999"},
                     "/partners/globex")
    assert done.status_code == 302
    profile = rt.partners["globex"]
    assert (profile.x12.ack, profile.x12.ack_deadline_hours) == ("999", 48.0)
    assert (profile.sftp.password_hash, profile.sftp.max_file_bytes) == (secret, 1000000)


def test_a_stale_dry_run_offers_no_activation(rt, as_role):
    from datetime import timedelta

    from gateway.store.models_onboarding import MapDryRun

    client = as_role("buyer")
    version_page = _upload(client, RENUMBERED_855_MAP).headers["Location"]
    dry_run_page = post_form(client, f"{version_page}/dry-runs", {"documents": "0"}, version_page).headers["Location"]
    assert 'id="activate-form"' in client.get(dry_run_page).get_data(as_text=True)
    with rt.session() as s:
        s.get(MapDryRun, dry_run_page.rsplit("/", 1)[-1]).created_at -= timedelta(hours=25)
    page = client.get(dry_run_page).get_data(as_text=True)
    assert 'id="stale"' in page and 'id="activate-form"' not in page
