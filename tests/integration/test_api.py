"""``/api/v1`` through Flask's test client, on a real Redis and both databases."""

from __future__ import annotations

import json
from urllib.parse import unquote, urlencode
from urllib.request import Request, urlopen

import pytest
from support import SAMPLES, drain

from gateway.store.models import DeliveryRecord, Document
from gateway.store.models_api import AuditEntry
from gateway.web.app import create_app
from gateway.web.auth import create_token

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"


@pytest.fixture
def client(rt):
    return create_app(rt).test_client()


@pytest.fixture
def tokens(rt):
    return {role: {"Authorization": "Bearer " + create_token(rt, f"t-{role}", role,
                                                             "demo" if role == "partner" else None)}
            for role in ("admin", "support", "viewer", "partner")}


def upload(client, headers, data: bytes | None = None, **params):
    data = SAMPLE_855.read_bytes() if data is None else data
    return client.post("/api/v1/documents", data=data, headers={**headers, "X-Filename": "po.edi"},
                       query_string=params)


def test_a_partner_uploads_and_the_855_goes_all_the_way(rt, client, tokens, erp_receiver):
    response = upload(client, tokens["partner"])
    assert response.status_code == 202
    doc_id = response.json["id"]
    drain(rt)
    detail = client.get(f"/api/v1/documents/{doc_id}", headers=tokens["partner"]).json
    assert detail["status"] == "accepted" and detail["channel"] == "http" and detail["partner_id"] == "demo"
    assert detail["events"][0]["deliveries"][0]["status"] == "delivered"
    assert len(erp_receiver.posts) == 1
    raw = client.get(f"/api/v1/documents/{doc_id}/raw", headers=tokens["support"])
    assert raw.data == SAMPLE_855.read_bytes()
    events = client.get("/api/v1/events", query_string={"po_number": "4500012345"}, headers=tokens["viewer"]).json
    assert [e["type"] for e in events["events"]] == ["purchase_order.acknowledged"]


def test_no_token_is_401_and_a_wrong_role_is_403_and_audited(rt, client, tokens):
    assert client.get("/api/v1/documents").status_code == 401
    assert client.get("/api/v1/documents", headers={"Authorization": "Bearer gw_nope"}).status_code == 401
    doc_id = upload(client, tokens["support"], partner="demo").json["id"]
    drain(rt)
    denied = client.post(f"/api/v1/documents/{doc_id}/reprocess", json={"reason": "x"}, headers=tokens["viewer"])
    assert denied.status_code == 403
    with rt.session() as s:
        assert s.query(AuditEntry).filter_by(action="denied", actor="viewer:t-viewer").count() == 1


def test_a_partner_cannot_see_documents_that_are_not_its_own(rt, client, tokens):
    other = upload(client, tokens["admin"]).json["id"]  # no partner given: identified later from the ISA
    mine = upload(client, tokens["partner"]).json["id"]
    listed = {d["id"] for d in client.get("/api/v1/documents", headers=tokens["partner"]).json["documents"]}
    assert listed == {mine}
    assert client.get(f"/api/v1/documents/{other}", headers=tokens["partner"]).status_code == 404
    assert client.get(f"/api/v1/documents/{other}/raw", headers=tokens["partner"]).status_code == 404
    assert client.get(f"/api/v1/documents/{other}", headers=tokens["viewer"]).status_code == 200


def test_reprocess_needs_a_reason_keeps_event_ids_and_posts_nothing_twice(rt, client, tokens, erp_receiver):
    doc_id = upload(client, tokens["partner"]).json["id"]
    drain(rt)
    first = client.get(f"/api/v1/documents/{doc_id}", headers=tokens["support"]).json
    no_reason = client.post(f"/api/v1/documents/{doc_id}/reprocess", headers=tokens["support"])
    assert no_reason.status_code == 400
    again = client.post(f"/api/v1/documents/{doc_id}/reprocess", json={"reason": "map fixed"},
                        headers=tokens["support"])
    assert again.status_code == 202
    drain(rt)
    second = client.get(f"/api/v1/documents/{doc_id}", headers=tokens["support"]).json
    assert second["status"] == "accepted"
    assert [e["event_id"] for e in second["events"]] == [e["event_id"] for e in first["events"]]
    assert len(second["acks"]) == 1  # no second 997 for the same interchange
    assert len(erp_receiver.posts) == 1
    with rt.session() as s:
        entry = s.query(AuditEntry).filter_by(action="document.reprocess").one()
        assert entry.reason == "map fixed" and entry.actor == "support:t-support"


def test_bad_uploads_are_refused_clearly(rt, client, tokens):
    assert upload(client, tokens["partner"], data=b"").status_code == 400
    unknown = upload(client, tokens["support"], partner="nobody")
    assert unknown.status_code == 400 and "nobody" in unknown.json["error"]
    assert client.get("/api/v1/documents", query_string={"status": "bogus"},
                      headers=tokens["viewer"]).status_code == 400


def test_openapi_describes_the_routes(client):
    spec = client.get("/openapi.json").json
    assert "/api/v1/documents/{document_id}/reprocess" in spec["paths"]


def test_dead_letters_are_replayed_through_the_api_with_the_same_key(rt, client, tokens, erp_receiver,
                                                                     monkeypatch):
    monkeypatch.setenv("GATEWAY_DELIVERY_MAX_ATTEMPTS", "1")  # the forked work horses read the environment
    erp_receiver.script = [503]
    doc_id = upload(client, tokens["partner"]).json["id"]
    drain(rt)
    [event] = client.get(f"/api/v1/documents/{doc_id}", headers=tokens["support"]).json["events"]
    assert event["deliveries"][0]["status"] == "dead_lettered"

    assert client.post("/api/v1/adapters/erp_http/dead-letters/replay", headers=tokens["support"]).status_code == 400
    assert client.post("/api/v1/adapters/erp_http/dead-letters/replay", json={"reason": "ERP back"},
                       headers=tokens["viewer"]).status_code == 403
    replayed = client.post("/api/v1/adapters/erp_http/dead-letters/replay", json={"reason": "ERP back"},
                           headers=tokens["support"])
    assert replayed.status_code == 202 and replayed.json["requeued"] == [event["deliveries"][0]["id"]]
    drain(rt)
    [event] = client.get(f"/api/v1/documents/{doc_id}", headers=tokens["support"]).json["events"]
    assert event["deliveries"][0]["status"] == "delivered"
    assert erp_receiver.keys() == [event["event_id"], event["event_id"]]  # same key both times

    again = client.post(f"/api/v1/documents/{doc_id}/replay", json={"reason": "check"}, headers=tokens["admin"])
    assert again.status_code == 202 and again.json["requeued"] == []  # delivered: not re-sent unless forced
    missing = client.post("/api/v1/deliveries/nope/replay", json={"reason": "x"}, headers=tokens["admin"])
    assert missing.status_code == 404


def _dead_lettered_document(rt, client, tokens, erp_receiver, monkeypatch):
    """A document whose one ERP delivery failed once (503) and was dead-lettered:
    ``(document id, its event, the delivery id)``."""
    monkeypatch.setenv("GATEWAY_DELIVERY_MAX_ATTEMPTS", "1")
    erp_receiver.script = [503]
    doc_id = upload(client, tokens["partner"]).json["id"]
    drain(rt)
    [event] = client.get(f"/api/v1/documents/{doc_id}", headers=tokens["support"]).json["events"]
    return doc_id, event, event["deliveries"][0]["id"]


ACTIONS = ("delivery.replay", "document.replay", "dead_letters.replay", "document.reprocess")
BAD_ACTION_BODIES = [{"reason": {"why": "ERP back"}}, {"reason": ["ERP back"]}, {"reason": 42}, {"reason": "  "},
                     ["ERP back"], {"reason": "ERP back", "force": "yes"}]


def test_bad_action_input_is_a_400_before_anything_is_done(rt, client, tokens, erp_receiver, monkeypatch):
    doc_id, event, delivery_id = _dead_lettered_document(rt, client, tokens, erp_receiver, monkeypatch)
    assert event["deliveries"][0]["status"] == "dead_lettered" and len(erp_receiver.posts) == 1
    actions = [f"/api/v1/deliveries/{delivery_id}/replay", f"/api/v1/documents/{doc_id}/replay",
               "/api/v1/adapters/erp_http/dead-letters/replay", f"/api/v1/documents/{doc_id}/reprocess"]
    for body in BAD_ACTION_BODIES:
        for url in actions:
            refused = client.post(url, json=body, headers=tokens["support"])
            assert refused.status_code == 400, (url, body, refused.status_code)
            assert "reason" in refused.json["error"] or "force" in refused.json["error"] or "JSON object" in \
                refused.json["error"]
    drain(rt)
    assert len(erp_receiver.posts) == 1  # nothing was replayed: the real ERP saw no second POST
    with rt.session() as s:
        assert s.query(AuditEntry).filter(AuditEntry.action.in_(ACTIONS)).count() == 0
        assert s.query(DeliveryRecord).one().status == "dead_lettered"

    # Every action taken has its audit row, written with the change itself.
    taken = [client.post(f"/api/v1/deliveries/{delivery_id}/replay", json={"reason": "ERP back"},
                         headers=tokens["support"])]
    drain(rt)
    taken += [client.post(f"/api/v1/documents/{doc_id}/replay", json={"reason": "resend", "force": True},
                          headers=tokens["admin"]),
              client.post("/api/v1/adapters/erp_http/dead-letters/replay", json={"reason": "sweep"},
                          headers=tokens["support"])]
    drain(rt)
    taken.append(client.post(f"/api/v1/documents/{doc_id}/reprocess", json={"reason": "map fixed"},
                             headers=tokens["support"]))
    assert [r.status_code for r in taken] == [202, 202, 202, 202]
    drain(rt)
    assert erp_receiver.keys() == [event["event_id"]] * 3  # the failed one, the replay, the forced replay
    with rt.session() as s:
        rows = s.query(AuditEntry).filter(AuditEntry.action.in_(ACTIONS)).order_by(AuditEntry.id).all()
        assert [(e.action, e.reason) for e in rows] == [
            ("delivery.replay", "ERP back"), ("document.replay", "resend"), ("dead_letters.replay", "sweep"),
            ("document.reprocess", "map fixed")]
        assert rows[0].details["requeued"] == [delivery_id] and rows[1].details["requeued"] == [delivery_id]


def test_query_and_body_shapes_that_are_wrong_are_400s(rt, client, tokens):
    for url in ("/api/v1/documents", "/api/v1/events"):
        for limit in ("abc", "0", "-5", "1e9", "99999"):
            bad = client.get(url, query_string={"limit": limit}, headers=tokens["viewer"])
            assert bad.status_code == 400 and "limit" in bad.json["error"], (url, limit)
        assert client.get(url, query_string={"limit": "5"}, headers=tokens["viewer"]).status_code == 200
    listed = client.post("/api/v1/documents/doc_x/reprocess", data="[1, 2]", content_type="application/json",
                         headers=tokens["support"])
    assert listed.status_code == 400 and "JSON object" in listed.json["error"]
    garbage = client.post("/api/v1/documents/doc_x/reprocess", data="{nope", content_type="application/json",
                          headers=tokens["support"])
    assert garbage.status_code == 400
    long_name = client.post("/api/v1/adapters/" + "x" * 300 + "/dead-letters/replay", json={"reason": "x"},
                            headers=tokens["support"])
    assert long_name.status_code == 404  # not a 500 from an audit target too long to store
    nul = client.post("/api/v1/documents", data=SAMPLE_855.read_bytes(), query_string={"filename": "po\x00.edi"},
                      headers=tokens["partner"])
    assert nul.status_code == 400 and "NUL" in nul.json["error"]


HOSTILE_NAMES = ["po\r\nSet-Cookie: stolen=1.edi", "注文書 №7.edi", 'a"b\\c;d%22.edi', "\x01\x7f\tz.edi"]


def test_raw_download_of_a_hostile_file_name_over_real_http(rt, tokens):
    from gateway.roles import HttpService

    rt.settings = rt.settings.with_overrides(http_port=0)
    http = HttpService(rt, demo_erp=False).start()
    try:
        base = f"http://127.0.0.1:{http.port}/api/v1/documents"
        for name in HOSTILE_NAMES:
            put = Request(f"{base}?{urlencode({'filename': name})}", data=SAMPLE_855.read_bytes(), method="POST",
                          headers={**tokens["partner"], "Content-Type": "application/octet-stream"})
            with urlopen(put, timeout=10) as stored:
                assert stored.status == 202
                doc_id = json.load(stored)["id"]
            with urlopen(Request(f"{base}/{doc_id}/raw", headers=tokens["partner"]), timeout=10) as got:
                assert got.status == 200 and got.read() == SAMPLE_855.read_bytes()
                assert got.headers.get("Set-Cookie") is None
                disposition = got.headers["Content-Disposition"]
                assert "\r" not in disposition and "\n" not in disposition
                assert disposition.isascii()
                fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
                assert all(" " <= c <= "~" and c not in '"\\' for c in fallback)
                encoded = disposition.split("filename*=UTF-8''", 1)[1]
                assert unquote(encoded, errors="strict") == name  # RFC 6266/5987: the exact name, in UTF-8
    finally:
        http.stop()


def _refuse_audit_rows(rt) -> None:
    """Make the database itself refuse audit inserts (a full disk, a revoked grant ...)."""
    from sqlalchemy import text

    with rt.session() as s:
        if s.bind.dialect.name == "sqlite":
            s.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
                           "BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END"))
        else:
            s.execute(text("CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN "
                           "RAISE EXCEPTION 'audit log unavailable'; END $$ LANGUAGE plpgsql"))
            s.execute(text("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW "
                           "EXECUTE FUNCTION refuse_audit()"))


def test_no_action_is_taken_when_its_audit_row_cannot_be_written(rt, client, tokens, erp_receiver, monkeypatch):
    doc_id, event, delivery_id = _dead_lettered_document(rt, client, tokens, erp_receiver, monkeypatch)
    _refuse_audit_rows(rt)
    for url in (f"/api/v1/deliveries/{delivery_id}/replay", f"/api/v1/documents/{doc_id}/replay",
                "/api/v1/adapters/erp_http/dead-letters/replay", f"/api/v1/documents/{doc_id}/reprocess"):
        failed = client.post(url, json={"reason": "ERP back"}, headers=tokens["support"])
        assert failed.status_code == 500, url  # our failure, not the caller's
    with rt.session() as s:
        assert s.get(DeliveryRecord, delivery_id).status == "dead_lettered"
        assert s.get(Document, doc_id).status == "accepted"
    drain(rt)
    assert len(erp_receiver.posts) == 1  # the real ERP saw no replay nobody could account for
    assert rt.queue("process").count == 0 and rt.queue("erp").count == 0
