"""``/api/v1/partners`` through Flask's test client, on a real Redis and both databases:
roles, reasons, validation answers, the dry-run -> activate -> rollback flow, and the
routes in /openapi.json."""

from __future__ import annotations

import io

import pytest
from onboarding_support import NEW_PARTNER, RENUMBERED_855_MAP, certificate, ssh_public_key
from sqlalchemy import select

from gateway.store.models_api import AuditEntry
from gateway.web.app import create_app
from gateway.web.auth import create_token

ROLES = ("admin", "buyer", "support", "viewer", "partner")


@pytest.fixture
def client(rt):
    return create_app(rt).test_client()


@pytest.fixture
def tokens(rt):
    return {role: {"Authorization": "Bearer " + create_token(rt, f"t-{role}", role,
                                                             "demo" if role == "partner" else None)}
            for role in ROLES}


def _upload(client, headers, content=RENUMBERED_855_MAP, reason="renumbered items"):
    return client.post("/api/v1/partners/demo/maps", headers=headers,
                       json={"filename": "acme-855.yaml", "content": content, "reason": reason})


def test_each_role_against_each_onboarding_action(rt, client, tokens):
    for role in ROLES:
        listed = client.get("/api/v1/partners", headers=tokens[role])
        assert listed.status_code == (403 if role == "partner" else 200), role
        created = client.post("/api/v1/partners", headers=tokens[role],
                              json={"partner": {**NEW_PARTNER, "id": f"p-{role}", "x12": {
                                  **NEW_PARTNER["x12"], "id": f"ID-{role.upper()}"}, "xml": None,
                                  "channels": {"sftp": {}}}, "reason": "new supplier"})
        assert created.status_code == (201 if role in ("admin", "buyer") else 403), (role, created.json)
        uploaded = _upload(client, tokens[role], RENUMBERED_855_MAP.replace("ITEM-100-B", f"ITEM-{role}"))
        assert uploaded.status_code == (201 if role in ("admin", "buyer") else 403), role
    assert client.get("/api/v1/partners").status_code == 401
    with rt.session() as s:
        denied = s.scalars(select(AuditEntry).where(AuditEntry.action == "denied")).all()
    assert {d.actor.split(":")[0] for d in denied} == {"support", "viewer", "partner"}
    ids = {p["id"] for p in client.get("/api/v1/partners", headers=tokens["viewer"]).json["partners"]}
    assert ids == {"demo", "p-admin", "p-buyer"}


def test_changes_need_a_reason_and_bad_input_is_answered_clearly(client, tokens):
    buyer = tokens["buyer"]
    assert client.post("/api/v1/partners", headers=buyer, json={"partner": NEW_PARTNER}).status_code == 400
    assert _upload(client, buyer, reason=" ").status_code == 400
    assert client.post("/api/v1/partners", headers=buyer, data="[1]",
                       content_type="application/json").status_code == 400
    bad = _upload(client, buyer, content=RENUMBERED_855_MAP.replace("timezone: America/Chicago", "timezone: Mars/Base"))
    assert bad.status_code == 422
    assert bad.json["problems"][0] == {"file": "acme-855.yaml", "line": 3, "field": "timezone",
                                       "message": "unknown time zone 'Mars/Base' (an IANA name like America/Chicago, "
                                                  "or ±HH:MM)"}
    invalid = client.post("/api/v1/partners", headers=buyer, json={"partner": {**NEW_PARTNER, "name": None},
                                                                  "reason": "x"})
    assert invalid.status_code == 422 and invalid.json["problems"][0]["field"] == "name"
    assert client.get("/api/v1/partners/nobody/maps", headers=buyer).status_code == 404
    assert client.get("/api/v1/partners/demo/maps/99999", headers=buyer).status_code == 404


def test_dry_run_activate_and_roll_back_through_the_api(rt, client, tokens):
    buyer = tokens["buyer"]
    version = client.post("/api/v1/partners/demo/maps", headers=buyer, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(RENUMBERED_855_MAP.encode()), "acme-855.yaml"),
                                "reason": "renumbered items"})
    assert version.status_code == 201, version.json
    vid = version.json["id"]
    assert version.json["version"] == 2 and version.json["document_type"] == "x12-855-004010"
    assert client.get(f"/api/v1/partners/demo/maps/{vid}", headers=tokens["viewer"]).json["content"] == \
        RENUMBERED_855_MAP

    no_run = client.post(f"/api/v1/partners/demo/maps/{vid}/activate", headers=buyer, json={"reason": "go"})
    assert no_run.status_code == 422
    run = client.post(f"/api/v1/partners/demo/maps/{vid}/dry-runs", headers=buyer, json={"documents": 10})
    assert run.status_code == 201 and run.json["summary"]["changed"] == 1
    assert client.post(f"/api/v1/partners/demo/maps/{vid}/dry-runs", headers=buyer,
                       json={"documents": 51}).status_code == 400
    shown = client.get(f"/api/v1/partners/demo/dry-runs/{run.json['id']}", headers=tokens["support"]).json
    assert shown["results"][0]["sets"][0]["changes"][0]["after"] == "ITEM-100-B"
    activated = client.post(f"/api/v1/partners/demo/maps/{vid}/activate", headers=buyer,
                            json={"dry_run_id": run.json["id"], "reason": "renumbered from today"})
    assert activated.status_code == 200, activated.json
    types = {t["document_type"]: t for t in client.get("/api/v1/partners/demo/maps", headers=buyer).json[
        "document_types"]}
    assert types["x12-855-004010"]["active_version_id"] == vid
    again = client.post(f"/api/v1/partners/demo/maps/{vid}/activate", headers=buyer,
                        json={"dry_run_id": run.json["id"], "reason": "again"})
    assert again.status_code == 409
    back = client.post("/api/v1/partners/demo/document-types/x12-855-004010/rollback", headers=buyer,
                       json={"reason": "ERP not ready"})
    assert back.status_code == 200 and back.json["version"] == 1
    with rt.session() as s:
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.action.like("map.%"))
                                               .order_by(AuditEntry.id))]
    assert actions == ["map.upload", "map.dry_run", "map.activate", "map.rollback"]


def test_certificates_and_keys_through_the_api(client, tokens):
    buyer = tokens["buyer"]
    assert client.post("/api/v1/partners", headers=buyer, json={"partner": NEW_PARTNER, "reason": "new"}).status_code \
        == 201
    expired = client.post("/api/v1/partners/globex/certificates", headers=buyer,
                          json={"certificate": certificate(days=1, start_days_ago=3), "reason": "cert"})
    assert expired.status_code == 422 and "expired" in expired.json["error"]
    added = client.post("/api/v1/partners/globex/certificates", headers=buyer,
                        json={"certificate": certificate(), "reason": "cert"})
    assert added.status_code == 201 and added.json["subject"] == "CN=globex-as2"
    key = client.post("/api/v1/partners/globex/sftp-keys", headers=buyer, json={"key": ssh_public_key(), "reason": "k"})
    assert key.status_code == 201 and key.json["fingerprint"].startswith("SHA256:")
    shown = client.get("/api/v1/partners/globex", headers=tokens["viewer"]).json
    assert shown["source"] == "database" and len(shown["certificates"]) == 1 and len(shown["sftp_keys"]) == 1
    assert shown["as2"]["as2_id"] == "GLOBEX-AS2"


def test_openapi_describes_the_onboarding_routes(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in ("/api/v1/partners", "/api/v1/partners/{partner_id}/maps",
                 "/api/v1/partners/{partner_id}/maps/{version_id}/dry-runs",
                 "/api/v1/partners/{partner_id}/maps/{version_id}/activate",
                 "/api/v1/partners/{partner_id}/document-types/{document_type}/rollback",
                 "/api/v1/partners/{partner_id}/certificates", "/api/v1/partners/{partner_id}/sftp-keys"):
        assert path in paths, path


def test_a_partner_is_changed_through_the_api(client, tokens):
    buyer = tokens["buyer"]
    client.post("/api/v1/partners", headers=buyer, json={"partner": NEW_PARTNER, "reason": "new"})
    changed = {**NEW_PARTNER, "test_data": "route"}
    assert client.put("/api/v1/partners/globex", headers=tokens["support"],
                      json={"partner": changed, "reason": "x"}).status_code == 403
    assert client.put("/api/v1/partners/globex", headers=buyer, json={"partner": changed}).status_code == 400
    done = client.put("/api/v1/partners/globex", headers=buyer, json={"partner": changed, "reason": "test routes"})
    assert done.status_code == 200 and done.json["test_data"] == "route"
    assert client.put("/api/v1/partners/demo", headers=buyer,
                      json={"partner": {**changed, "id": "demo"}, "reason": "x"}).status_code == 409


def test_a_password_hash_is_never_shown_and_survives_a_round_trip(client, tokens):
    from gateway.transports.sftp_auth import hash_password

    buyer = tokens["buyer"]
    secret = hash_password("their sftp password")
    partner = {**NEW_PARTNER, "channels": {"sftp": {"password_hash": secret}}}
    client.post("/api/v1/partners", headers=buyer, json={"partner": partner, "reason": "new"})
    shown = client.get("/api/v1/partners/globex", headers=buyer).json["profile"]
    assert shown["channels"]["sftp"]["password_hash"] == "(set)"
    done = client.put("/api/v1/partners/globex", headers=buyer,
                      json={"partner": {**shown, "test_data": "route"}, "reason": "test routes"})
    assert done.status_code == 200, done.json
    assert client.application.extensions["gateway"].partners["globex"].sftp.password_hash == secret
