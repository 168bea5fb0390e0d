"""The seed scenario, end to end with real HTTP receivers (issue #5 §5).

The ERP has an open PO 4500012345 (registered through the ERP function, or from the
850 we sent). The supplier's 855 moves line 2's ship date from 2026-12-01 to
2026-12-10: the ERP gets the acknowledgment, the planning system gets the new
expected receipt date with ``days_late`` 9, and a signed notification goes out.
"""

from __future__ import annotations

import json

import pytest
from faultkit import (
    SAMPLE_850,
    SAMPLE_855,
    Receiver,
    drain,
    gateway_env,
    in_process_runtime,
    ledger,
)

from gateway.adapters.webhook import verify_signature
from gateway.intake.receive import receive
from gateway.processing.reprocess import reprocess
from gateway.routing.derived import register_850, register_purchase_order

SECRET = "s3cret-for-the-demo-route"


@pytest.fixture
def targets():
    erp, planning, webhook = Receiver("/erp/events"), Receiver("/planning/receipts"), Receiver("/hooks/edi")
    yield erp, planning, webhook
    for r in (erp, planning, webhook):
        r.stop()


@pytest.fixture
def rt(tmp_path, database_url, redis_url, targets, monkeypatch):
    erp, planning, webhook = targets
    env = gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url, GATEWAY_PLANNING_URL=planning.url,
                      GATEWAY_WEBHOOK_URL=webhook.url, GATEWAY_WEBHOOK_SECRET=SECRET,
                      GATEWAY_EVENTS_DIR=str(tmp_path / "events"))
    return in_process_runtime(monkeypatch, env)


def open_po(requested: str = "2026-12-01") -> dict:
    lines = [{"line_number": str(n), "buyer_part": part, "vendor_part": None, "description": None,
              "quantity": qty, "uom": "EA", "unit_price": "1.00", "requested_date": requested}
             for n, part, qty in ((1, "WIDGET-100", "100"), (2, "BRACKET-200", "50"), (3, "FASTENER-300", "25"))]
    return {"po_number": "4500012345", "po_date": "2026-11-18", "purpose": "original", "currency": "USD",
            "requested_date": requested, "lines": lines}


def test_an_855_that_moves_line_2_nine_days_reaches_erp_planning_and_a_signed_webhook(rt, targets, tmp_path):
    erp, planning, webhook = targets
    register_purchase_order(rt, open_po(), partner_id="demo")

    receipt = receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename=SAMPLE_855.name, partner_id="demo")
    drain(rt)

    # the ERP: the acknowledgment (and, by the default "*" route, the derived event too)
    types = {p["body"]["type"]: p for p in erp.posts}
    assert set(types) == {"purchase_order.acknowledged", "delivery_date.changed"}
    ack = types["purchase_order.acknowledged"]["body"]
    assert ack["payload"]["po_number"] == "4500012345"
    assert ack["payload"]["ack_type"] == "accepted_with_changes"

    # planning: line 2 is now expected on 2026-12-10, nine days late
    [update] = planning.posts
    body = update["body"]
    assert body["contract"] == "expected-receipts/v1" and body["reason"] == "delivery_date.changed"
    assert body["updates"] == [{"po_number": "4500012345", "line_number": "2", "expected_receipt_date": "2026-12-10",
                                "previous_date": "2026-12-01", "days_late": 9, "quantity": None,
                                "shipment_id": None}]
    changed_id = types["delivery_date.changed"]["body"]["event_id"]
    assert update["key"] == body["update_id"] == changed_id

    # the notification: signed, verifiable, same key
    [note] = webhook.posts
    h = note["headers"]
    assert verify_signature(SECRET, h["X-Gateway-Timestamp"], note["raw"], h["X-Gateway-Signature"])
    assert not verify_signature("another-secret", h["X-Gateway-Timestamp"], note["raw"], h["X-Gateway-Signature"])
    assert note["body"]["payload"]["days_late"] == 9 and note["key"] == changed_id

    # the file archive has both events, once each
    lines = [json.loads(line) for f in (tmp_path / "events").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert sorted(e["type"] for e in lines) == ["delivery_date.changed", "purchase_order.acknowledged"]

    # every delivery delivered; one distinct key per event and adapter
    book = ledger(rt)
    assert set(book["deliveries"].values()) == {"delivered"}
    assert sorted(a for _, a in book["deliveries"]) == sorted(
        ["erp_http", "file", "erp_http", "file", "planning_http", "webhook"])
    for r in (erp, planning, webhook):
        assert set(r.committed().values()) == {1}

    # reprocessing the document (say, after a map fix) yields the same event ids and posts nothing new
    ids_before = set(book["events"])
    reprocess(rt, receipt.document_id)
    drain(rt)
    assert set(ledger(rt)["events"]) == ids_before
    assert len(erp.posts) == 2 and len(planning.posts) == 1 and len(webhook.posts) == 1


def test_the_850_we_sent_is_the_open_po_the_855_is_compared_with(rt, targets):
    erp, planning, webhook = targets
    assert register_850(rt, SAMPLE_850.read_bytes(), partner_id="demo") == ["4500012345"]
    receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename=SAMPLE_855.name, partner_id="demo")
    drain(rt)
    [update] = planning.posts
    # the 850 asks for line 2 on 2026-12-05 (its own DTM), so the 855's 2026-12-10 is 5 days late
    assert [(u["line_number"], u["days_late"]) for u in update["body"]["updates"]] == [("2", 5)]
    assert len(webhook.posts) == 1


def test_without_an_open_po_only_the_acknowledgment_goes_out(rt, targets):
    erp, planning, webhook = targets
    receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename=SAMPLE_855.name, partner_id="demo")
    drain(rt)
    assert [p["body"]["type"] for p in erp.posts] == ["purchase_order.acknowledged"]
    assert planning.posts == [] and webhook.posts == []
