"""Map versions through the service layer, on SQLite and PostgreSQL: file maps imported
as version 1, uploads validated with file/line/field, dry-runs that store and deliver
nothing, activation only from a fresh dry-run of that version, rollback, and processing
that uses the active version."""

from __future__ import annotations

import pytest
from onboarding_support import (
    BUYER,
    DEMO_855_MAP,
    FAILING_855_MAP,
    RENUMBERED_855_MAP,
    SAMPLE_855,
)
from sqlalchemy import func, select
from support import drain

from gateway.intake.receive import receive
from gateway.onboarding import Conflict, Invalid, NotFound, dry_run, map_versions
from gateway.store.models import DeliveryRecord, Document, EventRecord
from gateway.store.models_api import AuditEntry
from gateway.store.models_onboarding import ActiveMap, MapVersion


def _855_events(rt) -> list[dict]:
    with rt.session() as s:
        return [e.body for e in s.scalars(select(EventRecord).where(EventRecord.type == "purchase_order.acknowledged")
                                          .order_by(EventRecord.created_at))]


def _item_numbers(event: dict) -> list:
    return [line.get("item_number") for line in event["payload"]["lines"]]


def _receive_855(rt, control: str) -> str:
    data = SAMPLE_855.read_bytes().replace(b"000000101", control.encode())
    doc = receive(rt, data, channel="sftp", filename=f"855-{control}.edi", partner_id="demo").document_id
    drain(rt)
    return doc


def _audits(rt, action: str) -> list[AuditEntry]:
    with rt.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_file_maps_are_version_1_and_active(rt):
    groups = {g["document_type"]: g for g in map_versions.versions(rt, "demo")}
    assert set(groups) == {"x12-810-004010", "x12-855-004010"}
    v1 = groups["x12-855-004010"]["versions"]
    assert [(v["version"], v["source"], v["active"]) for v in v1] == [(1, "file", True)]
    map_versions.versions(rt, "demo")  # a second look imports nothing again
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(MapVersion)) == 2


def test_an_invalid_map_is_refused_with_file_line_and_field_and_nothing_is_stored(rt):
    bad = DEMO_855_MAP.replace('on_missing: "null"', "on_missing: maybe")
    with pytest.raises(Invalid) as refused:
        map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", bad, "try")
    problem = refused.value.problems[0]
    assert problem["file"] == "acme-855.yaml"
    assert problem["line"] == DEMO_855_MAP.splitlines().index(
        next(line for line in DEMO_855_MAP.splitlines() if "on_missing" in line)) + 1
    assert problem["field"] == "payload.lines.fields.item_number.on_missing"
    with pytest.raises(Invalid, match="not valid YAML"):
        map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", "payload: [1\n", "try")
    with pytest.raises(Invalid, match="inherits"):
        map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", "inherits: ../../../etc/x\n", "try")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdef", "bcdefg", strict=True))
    with pytest.raises(Invalid, match="expands to more than"):
        map_versions.upload(rt, BUYER, "demo", "bomb.yaml", bomb, "try")
    with pytest.raises(Invalid, match="not a plain YAML map"):
        map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", "a: !!python/object:os.system {}\n", "try")
    with pytest.raises(NotFound):
        map_versions.upload(rt, BUYER, "nobody", "x.yaml", DEMO_855_MAP, "try")
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(MapVersion).where(MapVersion.source == "upload")) == 0
    assert _audits(rt, "map.upload") == []


def test_a_dry_run_shows_the_diff_and_stores_and_delivers_nothing(rt, erp_receiver):
    real = _receive_855(rt, "000000201")
    with rt.session() as s:
        before = (s.scalar(select(func.count()).select_from(EventRecord)),
                  s.scalar(select(func.count()).select_from(DeliveryRecord)),
                  s.scalar(select(func.count()).select_from(Document)))
    posts = len(erp_receiver.posts)
    version = map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", RENUMBERED_855_MAP, "renumbered items")
    result = dry_run.run(rt, BUYER, "demo", version.id, documents=5)

    assert result.summary["changed"] == 2 and result.summary["documents"] == 2  # the map test's sample, the real one
    document = next(r for r in result.results if r["kind"] == "document")
    assert document["document_id"] == real and document["outcome"] == "changed"
    change = document["sets"][0]["changes"]
    assert change == [{"path": "payload.lines[0].item_number", "before": "ITEM-100", "after": "ITEM-100-B"}]
    assert _item_numbers(document["sets"][0]["after"])[0] == "ITEM-100-B"  # the canonical JSON, whole
    with rt.session() as s:
        after = (s.scalar(select(func.count()).select_from(EventRecord)),
                 s.scalar(select(func.count()).select_from(DeliveryRecord)),
                 s.scalar(select(func.count()).select_from(Document)))
    assert after == before and len(erp_receiver.posts) == posts
    assert _audits(rt, "map.dry_run")[0].details["dry_run_id"] == result.id


def test_a_version_that_breaks_documents_shows_them_as_newly_failing(rt):
    _receive_855(rt, "000000202")
    version = map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", FAILING_855_MAP, "currency table")
    result = dry_run.run(rt, BUYER, "demo", version.id)
    assert result.summary["newly_fails"] == 2
    failing = result.results[0]["sets"][0]
    assert failing["after"] is None and "'USD' is not in table 'item_xref'" in failing["after_error"]
    with pytest.raises(Conflict, match="newly fail"):
        map_versions.activate(rt, BUYER, "demo", version.id, result.id, "ship it")
    map_versions.activate(rt, BUYER, "demo", version.id, result.id, "ship it, we know", accept_failures=True)


def test_activation_needs_a_current_dry_run_of_that_version(rt):
    first = map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", RENUMBERED_855_MAP, "renumbered")
    second = map_versions.upload(rt, BUYER, "demo", "acme-855-c.yaml",
                                 RENUMBERED_855_MAP.replace("ITEM-200", "ITEM-200-C"), "renumbered more")
    run_first = dry_run.run(rt, BUYER, "demo", first.id, documents=0)
    run_second = dry_run.run(rt, BUYER, "demo", second.id, documents=0)
    with pytest.raises(Invalid, match="needs the id of a dry-run"):
        map_versions.activate(rt, BUYER, "demo", first.id, "", "go")
    with pytest.raises(Invalid):
        map_versions.activate(rt, BUYER, "demo", first.id, "dry_nonexistent", "go")
    with pytest.raises(Conflict, match="is of map version"):
        map_versions.activate(rt, BUYER, "demo", first.id, run_second.id, "go")
    map_versions.activate(rt, BUYER, "demo", first.id, run_first.id, "go")
    with pytest.raises(Conflict, match="already active"):
        map_versions.activate(rt, BUYER, "demo", first.id, run_first.id, "again")
    with pytest.raises(Conflict, match="stale"):  # it compared against version 1, and version 2 is active now
        map_versions.activate(rt, BUYER, "demo", second.id, run_second.id, "go")
    fresh = dry_run.run(rt, BUYER, "demo", second.id, documents=0)
    map_versions.activate(rt, BUYER, "demo", second.id, fresh.id, "go")
    activations = _audits(rt, "map.activate")
    assert [a.details["map_version_id"] for a in activations] == [first.id, second.id]
    assert activations[0].reason == "go" and activations[0].actor == "buyer:bea"


def test_processing_uses_the_active_version_and_rollback_is_one_action(rt):
    _receive_855(rt, "000000203")
    assert _item_numbers(_855_events(rt)[-1])[0] == "ITEM-100"
    version = map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", RENUMBERED_855_MAP, "renumbered")
    result = dry_run.run(rt, BUYER, "demo", version.id)
    map_versions.activate(rt, BUYER, "demo", version.id, result.id, "renumbered items from today")

    _receive_855(rt, "000000204")
    assert _item_numbers(_855_events(rt)[-1])[0] == "ITEM-100-B"
    with pytest.raises(NotFound):
        map_versions.rollback(rt, BUYER, "demo", "x12-850-004010", "no such map")
    done = map_versions.rollback(rt, BUYER, "demo", "x12-855-004010", "the ERP is not ready")
    assert done["version"] == 1
    _receive_855(rt, "000000205")
    assert _item_numbers(_855_events(rt)[-1])[0] == "ITEM-100"
    with rt.session() as s:
        active = s.get(ActiveMap, ("demo", "x12-855-004010"))
        assert s.get(MapVersion, active.map_version_id).source == "file"
    assert _audits(rt, "map.rollback")[0].reason == "the ERP is not ready"


def test_a_map_file_changed_in_the_repository_becomes_the_next_version(rt, monkeypatch, tmp_path):
    from support import with_partner_settings

    rt = with_partner_settings(rt, monkeypatch, tmp_path)  # a copy of partners/ whose files may change
    map_versions.versions(rt, "demo")
    (rt.settings.partners_dir / "demo" / "maps" / "x12-855-004010.yaml").write_text(RENUMBERED_855_MAP)
    group = next(g for g in map_versions.versions(rt, "demo") if g["document_type"] == "x12-855-004010")
    assert [(v["version"], v["source"], v["active"]) for v in group["versions"]] == [(2, "file", True),
                                                                                      (1, "file", False)]
    _receive_855(rt, "000000206")
    assert _item_numbers(_855_events(rt)[-1])[0] == "ITEM-100-B"  # the file as it is now
    map_versions.rollback(rt, BUYER, "demo", "x12-855-004010", "the new numbers are not in the ERP yet")
    _receive_855(rt, "000000207")
    assert _item_numbers(_855_events(rt)[-1])[0] == "ITEM-100"  # version 1's content, kept in the database


def test_a_dry_run_older_than_a_day_is_refused(rt):
    from datetime import timedelta

    from gateway.store.models_onboarding import MapDryRun

    version = map_versions.upload(rt, BUYER, "demo", "acme-855.yaml", RENUMBERED_855_MAP, "renumbered")
    run = dry_run.run(rt, BUYER, "demo", version.id, documents=0)
    with rt.session() as s:
        s.get(MapDryRun, run.id).created_at -= timedelta(hours=25)
    with pytest.raises(Conflict, match="older than"):
        map_versions.activate(rt, BUYER, "demo", version.id, run.id, "go")
    with rt.session() as s:
        assert s.get(ActiveMap, ("demo", "x12-855-004010")).map_version_id != version.id


def test_a_cxml_map_version_is_dry_run_on_the_partners_cxml_documents(rt):
    from support import SAMPLES

    data = (SAMPLES / "cxml" / "ConfirmationRequest_acme_po_4500012360.xml").read_bytes()
    doc = receive(rt, data, channel="http", filename="confirm.xml", partner_id="demo").document_id
    _receive_855(rt, "000000208")  # an X12 document: not one for this map
    with rt.session() as s:
        assert s.get(Document, doc).status == "accepted"
    every_ack_rejected = ("inherits: cxml-ConfirmationRequest\ntables:\n  ack_type:\n"
                          + "".join(f"    {t}: rejected\n" for t in ("accept", "requestToPay", "allDetail", "detail",
                                                                      "except", "backordered", "replace")))
    version = map_versions.upload(rt, BUYER, "demo", "acme-confirmation.yaml", every_ack_rejected, "test")
    assert version.document_type == "cxml-ConfirmationRequest" and version.version == 1
    result = dry_run.run(rt, BUYER, "demo", version.id)
    assert [(r["document_id"], r["outcome"]) for r in result.results] == [(doc, "changed")]
    assert result.baseline_version_id is None  # the base map was in use
    change = next(c for c in result.results[0]["sets"][0]["changes"] if c["path"] == "payload.ack_type")
    assert change["after"] == "rejected"
