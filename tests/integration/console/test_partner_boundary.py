"""The partner boundary, route by route: every page and API route of the app is called as
demo's partner user (session, with a CSRF token on POSTs) or token (``/api/v1``), with the
other partner's ids in its URL. A route a partner may not use answers 401/403/404; one it
may use never shows or changes the other partner's data, and a route naming another
partner's document, ack or delivery answers 404 (never 403: ids must not leak).

A new route fails here until it is put in one of the lists below: so no route is added
without someone deciding what a partner may do with it."""

from __future__ import annotations

import re

import pytest
from console_support import csrf_token, sign_in
from partner_world import make_world
from sqlalchemy import func, select

from gateway.store.models import Document
from gateway.store.models_api import AuditEntry
from gateway.store.models_users import DocumentResolution, SavedSearch
from gateway.web.app import create_app

# Routes anyone may call (no partner data behind them, or their own authentication).
PUBLIC = {"static", "console_signin.signin", "health.healthz", "health.readyz", "openapi.openapi", "as2.as2_receive",
          "cxml.cxml_receive"}  # /cxml: the partner's shared secret authenticates it
# Routes a partner may use, each kept to its own partner's data.
PARTNER_MAY = {
    "console_dashboard.dashboard", "console_search.search", "console_search.export_csv",
    "console_search.export_json", "console_saved.save", "console_saved.delete", "console_document.show",
    "console_partner.home", "console_partner.upload", "console_partner.download_ack", "console_signin.signout",
    "api.upload", "api.search", "api.show", "api.raw", "api.events", "api_acks.document_acks", "api_acks.ack_raw",
    "purchase_orders.list_outbound", "purchase_orders.show_outbound",
    "po_flow_api.show_flow", "po_flow_api.partner_open_steps", "console_po_flow.show", "console_po_flow.owed",
}
# Of those, the ones that take another partner's id and act on one's own only without a 404.
NO_OP_ON_OTHERS = {"console_saved.delete"}  # deletes only one's own saved search; checked below
ID_ARGS = {"document_id", "ack_id", "delivery_id", "outbound_id", "search_id"}


@pytest.fixture
def world(rt, tmp_path, monkeypatch):
    return make_world(tmp_path, monkeypatch)


def _url(rule, theirs: dict) -> str:
    values = {"document_id": theirs["accepted"], "ack_id": theirs["ack"], "delivery_id": theirs["delivery"],
              "search_id": theirs["saved_search"], "outbound_id": theirs["accepted"], "adapter": "erp_http",
              "filename": "console.css", "alert_id": 1,
              "partner_id": "otherco", "po_number": "PO-OTHER-1", "version_id": 1, "dry_run_id": "1",
              "document_type": "x12-855-004010", "action": "replay-dead-letters",
              "token": "nothing-here", "approval_id": 1, "user_id": 1, "token_id": 1}
    unknown = set(rule.arguments) - set(values)
    if unknown:
        pytest.fail(f"{rule.rule} takes {sorted(unknown)}: teach this test which other-partner value to try")
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), url)
    return url


def _leaks(body: str, theirs: dict) -> list[str]:
    return [v for v in (theirs["accepted"], theirs["rejected"], theirs["filename"], "otherco-bad.edi", "zed's")
            if v in body]


def test_every_route_keeps_a_partner_to_its_own_data(world):
    rt, theirs = world.rt, world.theirs
    app = create_app(rt)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC]
    unlisted = [r.endpoint for r in rules if r.endpoint not in PARTNER_MAY and not r.endpoint.startswith(
        ("console_", "api", "purchase_orders", "health", "demo_erp"))]
    assert not unlisted, f"routes of a blueprint this test does not know: {unlisted}"
    with rt.session() as s:
        before = (s.scalar(select(func.count()).select_from(Document)),
                  s.scalar(select(func.count()).select_from(DocumentResolution)))
    checked = 0
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "console_signin.signout":
                continue  # signing out ends this session; covered by the sign-in tests
            client = app.test_client()
            url = _url(rule, theirs)
            if rule.rule.startswith("/api/v1") or rule.endpoint == "health.metrics":
                headers = {"Authorization": f"Bearer {world.partner_token}"}
                answer = client.open(url, method=method, headers=headers, json={"reason": "probe"}) \
                    if method == "POST" else client.open(url, method=method, headers=headers)
            else:
                assert sign_in(client, "acme").status_code == 302
                data = {"reason": "probe", "name": "probe", "query": "partner=otherco",
                        "csrf_token": csrf_token(client, "/")} if method == "POST" else None
                answer = client.open(url, method=method, data=data)
            where = f"{method} {rule.rule} ({rule.endpoint}) answered {answer.status_code}"
            if rule.endpoint not in PARTNER_MAY:
                assert answer.status_code in (401, 403, 404), where
            elif ID_ARGS & set(rule.arguments) and rule.endpoint not in NO_OP_ON_OTHERS:
                assert answer.status_code == 404, where
            body = answer.get_data(as_text=True)
            for part in url.split("/"):  # a 404 may echo the id it was asked for: that tells nothing
                body = body.replace(part, "") if len(part) > 8 else body
            assert not _leaks(body, theirs), where
            checked += 1
    assert checked >= 30  # every route but the public ones and sign-out
    with rt.session() as s:
        after = (s.scalar(select(func.count()).select_from(Document)),
                 s.scalar(select(func.count()).select_from(DocumentResolution)))
        assert s.get(SavedSearch, theirs["saved_search"]) is not None  # zed's saved search survived
        # Every refusal of a page was audited as such; nothing was reprocessed, ignored or resubmitted.
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "denied")) > 0
        assert not s.scalars(select(AuditEntry.action).where(AuditEntry.action.in_(
            ["document.reprocess", "document.ignore", "document.resubmit", "delivery.replay"]))).all()
    assert after[1] == before[1]
    assert after[0] == before[0] + 1  # the one upload (api.upload with a JSON body), as demo's own
    with rt.session() as s:
        newest = s.scalar(select(Document).order_by(Document.received_at.desc()).limit(1))
        assert newest.partner_id == "demo"


def test_another_partners_ids_answer_exactly_as_ids_that_do_not_exist(world):
    """404 with the same words either way: probing cannot tell "not yours" from "no such"."""
    app = create_app(world.rt)
    client = app.test_client()
    assert sign_in(client, "acme").status_code == 302
    token = {"Authorization": f"Bearer {world.partner_token}"}
    for theirs, nothing in ((f"/documents/{world.theirs['accepted']}", "/documents/doc_00000000"),
                            (f"/partner/acks/{world.theirs['ack']}", "/partner/acks/987654321")):
        a, b = client.get(theirs), client.get(nothing)
        assert a.status_code == b.status_code == 404
        message = lambda r, u: re.search(r'id="error-message">(.*?)<', r.get_data(as_text=True)).group(1) \
            .replace(u.rsplit("/", 1)[-1], "ID")  # noqa: E731
        assert message(a, theirs) == message(b, nothing)
    a = client.get(f"/api/v1/acks/{world.theirs['ack']}/raw", headers=token)
    b = client.get("/api/v1/acks/987654321/raw", headers=token)
    assert a.status_code == b.status_code == 404
    assert a.get_json()["error"].replace(str(world.theirs["ack"]), "ID") == \
        b.get_json()["error"].replace("987654321", "ID")
