"""A purchase order's whole flow through the real pipeline: the ERP posts a PO over HTTP
(our 850 goes out), the supplier answers with a 997, then an 855 a day late, an 856 and
an 810 whose price disagrees with the PO. The deadline check runs under a moved clock
(``now`` passed in; nothing sleeps). Real parts: the gateway's HTTP server, Redis and the
worker, the ERP receiver; SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import date, timedelta

import pytest
import requests
from as2_kit import Server
from outbound_kit import PO, answer_997, post_po
from sqlalchemy import select
from support import REPO, add_partner_like_demo, drain, with_partner_settings

from gateway.flow.deadlines import check_flow_deadlines
from gateway.store.models import Document, EventRecord
from gateway.store.models_outbound import OutboundDocument
from gateway.web.auth import create_token

SAMPLES = REPO / "sample_docs"
PO_NUMBER = "4500012345"


@pytest.fixture
def world(rt):
    http = Server(rt)
    base = http.url.rsplit("/as2", 1)[0]
    yield base, {role: create_token(rt, role, role, "demo" if role == "partner" else None)
                 for role in ("buyer", "partner", "admin")}
    http.stop()


def _po(requested: date) -> dict:
    """The demo PO, wanted ``requested`` (so the ASN's deadline does not depend on today's date)."""
    payload = copy.deepcopy(PO)
    payload["requested_date"] = requested.isoformat()
    for line in payload["lines"]:
        line["requested_date"] = requested.isoformat()
    return payload


def _upload(base: str, token: str, data: bytes, name: str) -> str:
    reply = requests.post(f"{base}/api/v1/documents", data=data, timeout=60,
                          headers={"Authorization": f"Bearer {token}", "X-Filename": name})
    assert reply.status_code == 202, reply.text
    return reply.json()["id"]


def _get(base: str, token: str, path: str, **params) -> requests.Response:
    return requests.get(f"{base}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _events(rt, event_type: str) -> list[dict]:
    with rt.session() as s:
        return [e.body for e in s.scalars(select(EventRecord).where(EventRecord.type == event_type))]


def _issue(rt, base, tokens, requested: date) -> tuple[OutboundDocument, bytes]:
    reply = post_po(base, tokens["buyer"], "erp-po-flow-1", _po(requested))
    assert reply.status_code == 201, reply.text
    with rt.session() as s:
        row = s.get(OutboundDocument, reply.json()["id"])
        s.expunge(row)
        return row, rt.blobs.get(s.get(Document, row.id).sha256)


def test_a_po_flow_850_997_855_856_810_with_a_late_855_and_an_invoice_discrepancy(rt, world, erp_receiver):
    base, tokens = world
    sent, x12 = _issue(rt, base, tokens, date.today() + timedelta(days=30))
    t850 = sent.created_at
    _upload(base, tokens["partner"], answer_997(x12), "997.x12")
    drain(rt)

    assert check_flow_deadlines(rt, t850 + timedelta(hours=23)) == 0  # the 855 is not due yet
    owed = _get(base, tokens["partner"], "/api/v1/partners/demo/open-steps").json()["open_steps"]
    assert [(o["po_number"], o["step"], o["status"]) for o in owed] == [
        (PO_NUMBER, "order_ack", "pending"), (PO_NUMBER, "ship_notice", "pending")]
    assert owed[0]["due_at"] == (t850 + timedelta(hours=24)).isoformat()

    assert check_flow_deadlines(rt, t850 + timedelta(hours=25)) == 1  # the clock moved: no 855 after 24 h
    assert check_flow_deadlines(rt, t850 + timedelta(hours=30)) == 0  # raised once, not every sweep
    drain(rt)
    [overdue] = _events(rt, "purchase_order.step_overdue")
    assert overdue["payload"]["step"] == "order_ack" and overdue["payload"]["status"] == "missing"
    assert overdue["payload"]["due_at"] == (t850 + timedelta(hours=24)).isoformat()
    assert "PO 4500012345 (demo): no 855 PO acknowledgment" in overdue["payload"]["message"]

    _upload(base, tokens["partner"], (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes(),
            "855.x12")
    _upload(base, tokens["partner"], (SAMPLES / "856" / "856_004010_acme_asn_sh-77001.edi").read_bytes(), "856.x12")
    drain(rt)
    invoice_id = _upload(base, tokens["partner"], (SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi")
                         .read_bytes(), "810.x12")
    drain(rt)

    flow = _get(base, tokens["buyer"], f"/api/v1/purchase-orders/{PO_NUMBER}/flow").json()
    assert [(s["step"], s["status"], s["count"]) for s in flow["steps"]] == [
        ("order", "done", 1), ("functional_ack", "done", 1), ("order_ack", "late", 1),
        ("ship_notice", "done", 1), ("invoice", "done", 1)]
    assert flow["steps"][1]["documents"][0]["reference"] == "accepted"
    assert flow["steps"][4]["documents"][0]["reference"] == "INV-88001"
    lines = {line["line_number"]: line for line in flow["lines"]}
    assert (lines["1"]["ordered"], lines["1"]["shipped"], lines["1"]["invoiced"]) == ("100", "100", "100")
    assert (lines["2"]["ordered"], lines["2"]["shipped"], lines["2"]["invoiced"]) == ("50", None, None)

    [discrepancy] = _events(rt, "invoice.discrepancy")  # line 3: ordered at 30.00, invoiced at 31.00
    assert discrepancy["payload"] == {"po_number": PO_NUMBER, "invoice_number": "INV-88001", "line_number": "3",
                                      "field": "unit_price", "ordered": "30.00", "shipped": None,
                                      "invoiced": "31.00"}
    erp = [p["body"]["type"] for p in erp_receiver.posts]
    assert erp.count("invoice.discrepancy") == 1 and erp.count("purchase_order.step_overdue") == 1
    assert _get(base, tokens["partner"], "/api/v1/partners/demo/open-steps").json()["open_steps"] == []

    reply = requests.post(f"{base}/api/v1/documents/{invoice_id}/reprocess", json={"reason": "replay test"},
                          headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=60)
    assert reply.status_code == 202, reply.text
    drain(rt)  # the same 810 again: the same events, nothing new, nothing delivered twice
    with rt.session() as s:
        assert s.get(Document, invoice_id).status == "accepted"
    assert len(_events(rt, "invoice.discrepancy")) == 1
    assert [p["body"]["type"] for p in erp_receiver.posts].count("invoice.discrepancy") == 1
    again = _get(base, tokens["buyer"], f"/api/v1/purchase-orders/{PO_NUMBER}/flow").json()
    assert again["steps"][4]["count"] == 1 and again["alerts"] == flow["alerts"]


def test_an_invoice_before_the_asn_is_flagged_and_a_late_asn_that_disagrees_with_it_raises_the_discrepancy(
        rt, world, erp_receiver):
    base, tokens = world
    _issue(rt, base, tokens, date.today() + timedelta(days=30))
    invoice = (SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi").read_bytes().replace(
        b"IT1*3*25*BX*31.00", b"IT1*3*25*BX*30.00")  # agrees with the PO
    _upload(base, tokens["partner"], invoice, "810.x12")
    drain(rt)
    [flagged] = _events(rt, "purchase_order.step_out_of_order")
    assert flagged["payload"]["step"] == "invoice" and flagged["payload"]["status"] == "out_of_order"
    assert "came before the 856 ship notice" in flagged["payload"]["message"]
    assert _events(rt, "invoice.discrepancy") == []  # it agrees with what was ordered

    asn = (SAMPLES / "856" / "856_004010_acme_asn_sh-77001.edi").read_bytes().replace(
        b"SN1*1*100*EA**100*EA", b"SN1*1*90*EA**100*EA")  # only 90 of line 1 shipped, 100 invoiced
    _upload(base, tokens["partner"], asn, "856.x12")
    drain(rt)
    [discrepancy] = _events(rt, "invoice.discrepancy")
    assert discrepancy["payload"] == {"po_number": PO_NUMBER, "invoice_number": "INV-88001", "line_number": "1",
                                      "field": "quantity", "ordered": "100", "shipped": "90", "invoiced": "100"}
    flow = _get(base, tokens["partner"], f"/api/v1/purchase-orders/{PO_NUMBER}/flow").json()
    invoice_step = flow["steps"][4]
    assert invoice_step["out_of_order"] is True and invoice_step["documents"][0]["discrepancies"] == 1
    assert [p["body"]["type"] for p in erp_receiver.posts].count("purchase_order.step_out_of_order") == 1


def test_a_partner_sees_only_its_own_flows_and_staff_name_the_partner_when_a_number_is_shared(
        rt, monkeypatch, tmp_path):
    rt = with_partner_settings(rt, monkeypatch, tmp_path)  # a copy of partners/ to add a second supplier to
    add_partner_like_demo(tmp_path / "partners", "globex", "GLOBEX")
    rt = with_partner_settings(rt, monkeypatch, tmp_path)
    http = Server(rt)
    base = http.url.rsplit("/as2", 1)[0]
    try:
        buyer, demo = create_token(rt, "erp", "buyer"), create_token(rt, "acme", "partner", "demo")
        for partner in ("demo", "globex"):  # the same PO number to two suppliers
            reply = post_po(base, buyer, f"po-{partner}", _po(date.today() + timedelta(days=30)), partner=partner)
            assert reply.status_code == 201, reply.text
        path = f"/api/v1/purchase-orders/{PO_NUMBER}/flow"
        shared = _get(base, buyer, path)
        assert shared.status_code == 409 and shared.json()["partners"] == ["demo", "globex"]
        assert _get(base, buyer, path, partner="globex").json()["partner_id"] == "globex"
        assert _get(base, demo, path).json()["partner_id"] == "demo"
        assert _get(base, demo, path, partner="globex").json()["partner_id"] == "demo"  # its own, whatever it asks
        assert _get(base, demo, "/api/v1/partners/globex/open-steps").status_code == 404
        assert [o["step"] for o in _get(base, buyer, "/api/v1/partners/globex/open-steps").json()["open_steps"]] == [
            "functional_ack", "order_ack", "ship_notice"]
        assert _get(base, buyer, "/api/v1/purchase-orders/nope/flow").status_code == 404
        assert "/api/v1/purchase-orders/{po_number}/flow" in _get(base, buyer, "/openapi.json").json()["paths"]
    finally:
        http.stop()


def test_an_invoice_for_a_po_we_never_saw_is_kept_in_its_timeline_without_alerts(rt, world, erp_receiver):
    base, tokens = world
    _upload(base, tokens["partner"], (SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi").read_bytes(),
            "810.x12")
    drain(rt)
    flow = _get(base, tokens["buyer"], f"/api/v1/purchase-orders/{PO_NUMBER}/flow").json()
    assert [(s["step"], s["status"]) for s in flow["steps"]] == [
        ("order", "pending"), ("functional_ack", "pending"), ("order_ack", "pending"), ("ship_notice", "pending"),
        ("invoice", "done")]
    assert flow["steps"][4]["out_of_order"] is True and flow["alerts"] == []  # maybe a services PO: no ASN comes
    assert _events(rt, "purchase_order.step_out_of_order") == [] and _events(rt, "invoice.discrepancy") == []
    assert [p["body"]["type"] for p in erp_receiver.posts] == ["invoice.received"]


def test_a_po_number_with_slashes_has_its_flow(rt, world):
    base, tokens = world
    payload = {**_po(date.today() + timedelta(days=30)), "po_number": "PO/2026/7"}
    assert post_po(base, tokens["buyer"], "po-slashes", payload).status_code == 201
    flow = _get(base, tokens["buyer"], "/api/v1/purchase-orders/PO/2026/7/flow")
    assert flow.status_code == 200 and flow.json()["po_number"] == "PO/2026/7"
    assert flow.json()["lines_truncated"] is False


def test_the_operators_check_overdue_command_runs_the_flow_check_too(rt, world):
    base, tokens = world
    _issue(rt, base, tokens, date.today() + timedelta(days=30))
    done = subprocess.run([sys.executable, "-m", "gateway", "outbound", "check-overdue", "--fail-if-overdue"],
                          capture_output=True, text=True, timeout=120)  # this test's environment: its database
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["0 newly overdue", "0 PO flow steps newly overdue"]
