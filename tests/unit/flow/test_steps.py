"""Which flow step an event is, and the quantities per line it states (pure)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from gateway.flow.steps import steps_of

MAPS = Path(__file__).resolve().parents[3] / "maps" / "translate"


def _event(name: str) -> dict:
    return json.loads((MAPS / name).read_text())[0]


def test_our_850_is_the_order_step_with_the_ordered_lines_and_its_earliest_requested_date():
    po = {**_event("x12-850-004010.buyerco.expected.json"), "type": "purchase_order.issued"}
    [fact] = steps_of(po)
    assert (fact.po_number, fact.step, fact.document_type) == ("4500012345", "order", "850")
    assert fact.requested_date == date(2026, 12, 1)
    assert [(line["line_number"], line["quantity"], line["unit_price"]) for line in fact.lines] == [
        ("1", "100", "12.50"), ("2", "50", "8.75"), ("3", "25", "30.00")]


def test_an_asn_shipping_two_pos_is_a_step_of_each_with_its_own_lines():
    asn = _event("x12-856-004010.acme.expected.json")
    order = asn["payload"]["orders"][0]
    asn["payload"]["orders"].append({"po_number": "4500099999", "lines": order["lines"][:1]})
    facts = steps_of(asn)
    assert [(f.po_number, f.step, f.reference, len(f.lines)) for f in facts] == [
        ("4500012345", "ship_notice", "SH-77001", len(order["lines"])), ("4500099999", "ship_notice", "SH-77001", 1)]
    assert facts[0].lines[0]["quantity"] == order["lines"][0]["quantity_shipped"]


def test_events_that_are_no_step_of_a_po_flow_make_none():
    invoice = _event("x12-810-004010.acme.expected.json")
    invoice["payload"]["po_number"] = None
    assert steps_of(invoice) == []
    ack = {"type": "ack.received", "source": {"transaction_set": "997"},
           "payload": {"document_id": "out-1", "status": "accepted", "errors": [], "transaction_set": "855",
                       "po_number": "4500012345"}}
    assert steps_of(ack) == []  # the 997 for an 855 we sent is not a step of the buyer's flow
    ack["payload"]["transaction_set"] = "850"
    assert [(f.step, f.reference) for f in steps_of(ack)] == [("functional_ack", "accepted")]
    assert steps_of({"type": "delivery_date.changed", "payload": {}}) == []
