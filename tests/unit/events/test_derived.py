"""Derived events on PO 4500012345's story: 850 -> 855 -> 856 -> 810 (the map tests' output)."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.events import delivery_date_changes, derive_events, invoice_discrepancies

MAPS = Path(__file__).resolve().parents[3] / "maps" / "translate"


def _event(name: str) -> dict:
    return json.loads((MAPS / name).read_text())[0]


PO = _event("x12-850-004010.buyerco.expected.json")
ACK = _event("x12-855-004010.acme.expected.json")
ASN = _event("x12-856-004010.acme.expected.json")
INVOICE = _event("x12-810-004010.acme.expected.json")


def test_ack_rescheduling_line_2_is_five_days_late():
    assert delivery_date_changes(PO["payload"], ACK["payload"]) == [{
        "po_number": "4500012345", "line_number": "2", "previous_date": "2026-12-05",
        "new_date": "2026-12-10", "days_late": 5, "source_type": "purchase_order.acknowledged",
    }]


def test_asn_expected_delivery_later_than_requested():
    changes = delivery_date_changes(PO["payload"], ASN["payload"])
    assert [(c["line_number"], c["days_late"], c["new_date"]) for c in changes] == [
        ("1", 3, "2026-12-04"), ("3", 3, "2026-12-04")
    ]


def test_no_change_for_another_po_or_an_earlier_date():
    other = {**ACK["payload"], "po_number": "999"}
    assert delivery_date_changes(PO["payload"], other) == []
    early = {**ASN["payload"], "expected_delivery": "2026-11-30"}
    assert delivery_date_changes(PO["payload"], early) == []


def test_lines_match_by_part_when_line_numbers_differ():
    ack = json.loads(json.dumps(ACK["payload"]))
    for line in ack["lines"]:
        line["line_number"] = "0" + line["line_number"]
    [change] = delivery_date_changes(PO["payload"], ack)
    assert change["line_number"] == "2"


def test_invoice_price_above_the_po_is_a_discrepancy():
    assert invoice_discrepancies(PO["payload"], [ASN["payload"]], INVOICE["payload"]) == [{
        "po_number": "4500012345", "invoice_number": "INV-88001", "line_number": "3",
        "field": "unit_price", "ordered": "30.00", "shipped": None, "invoiced": "31.00",
    }]


def test_invoiced_quantity_against_shipped_then_ordered():
    invoice = json.loads(json.dumps(INVOICE["payload"]))
    invoice["lines"][0]["quantity"] = "120"
    [qty, _price] = invoice_discrepancies(PO["payload"], [ASN["payload"]], invoice)
    assert (qty["field"], qty["ordered"], qty["shipped"], qty["invoiced"]) == ("quantity", "100", "100", "120")
    no_asn = invoice_discrepancies(PO["payload"], [], invoice)
    assert [(d["line_number"], d["field"], d["shipped"]) for d in no_asn] == [
        ("1", "quantity", None), ("3", "unit_price", None)
    ]


def test_equal_decimals_in_other_notation_are_not_discrepancies():
    invoice = json.loads(json.dumps(INVOICE["payload"]))
    invoice["lines"][0]["unit_price"] = "12.5"
    invoice["lines"][1]["unit_price"] = "30"
    assert invoice_discrepancies(PO["payload"], [ASN["payload"]], invoice) == []


def test_derived_events_are_valid_and_deterministic():
    payloads = delivery_date_changes(PO["payload"], ACK["payload"])
    [event] = derive_events(ACK, "delivery_date.changed", payloads)
    assert event["type"] == "delivery_date.changed"
    assert event["correlation_id"] == ACK["correlation_id"] and event["source"] == ACK["source"]
    assert derive_events(ACK, "delivery_date.changed", payloads)[0]["event_id"] == event["event_id"]
    assert event["event_id"] != ACK["event_id"]
    discrepancies = invoice_discrepancies(PO["payload"], [ASN["payload"]], INVOICE["payload"])
    assert derive_events(INVOICE, "invoice.discrepancy", discrepancies)[0]["payload"]["field"] == "unit_price"


def test_lines_without_a_quantity_are_compared_on_what_they_state():
    """UBL makes DeliveredQuantity and InvoicedQuantity optional (issue #10, 6): a null
    quantity neither crashes the comparison nor counts as zero shipped or invoiced."""
    asn = json.loads(json.dumps(ASN["payload"]))
    asn["orders"][0]["lines"][0]["quantity_shipped"] = None
    invoice = json.loads(json.dumps(INVOICE["payload"]))
    invoice["lines"][1]["quantity"] = None
    found = invoice_discrepancies(PO["payload"], [asn], invoice)
    assert [(d["line_number"], d["field"]) for d in found] == [("3", "unit_price")]
