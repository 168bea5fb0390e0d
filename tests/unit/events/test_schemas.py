"""The canonical schemas: decimal strings, ISO dates, the envelope, deterministic ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from marshmallow import ValidationError

from gateway.events import PAYLOAD_SCHEMAS, check_event, event_id, validate_event

MAPS = Path(__file__).resolve().parents[3] / "maps" / "translate"
ACK = json.loads((MAPS / "x12-855-004010.acme.expected.json").read_text())[0]


def _with(path: str, value) -> dict:
    event = json.loads(json.dumps(ACK))
    target = event
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    return event


def test_every_design_type_has_a_schema():
    assert set(PAYLOAD_SCHEMAS) == {
        "purchase_order.received", "purchase_order.acknowledged", "shipment.noticed",
        "invoice.received", "delivery_date.changed", "invoice.discrepancy",
        "purchase_order.issued", "ack.received", "ack.overdue", "document.rejected",
        "purchase_order.step_overdue", "purchase_order.step_out_of_order",
        # compensating events
        "document.voided", "acknowledgment.superseded", "purchase_order.cancelled", "invoice.credited",
    }


def test_the_sample_ack_is_valid():
    assert validate_event(ACK) == {}
    assert check_event(ACK) is ACK


@pytest.mark.parametrize("path,value", [
    ("payload.lines.0.quantity", 100.0),       # a float, never
    ("payload.lines.0.quantity", "1e2"),       # no exponents
    ("payload.lines.0.unit_price", "12,50"),
    ("payload.ack_date", "20261120"),           # X12, not ISO
    ("payload.ack_type", "accepted_partially"),
    ("payload.lines.0.status", "AC"),
    ("payload.po_numbr", "1"),                  # unknown keys are refused
    ("received_at", "2026-11-20T10:31:00"),     # envelope times carry an offset
    ("event_id", "a b"),
    ("source.format", "edifact"),
])
def test_invalid_values_are_refused(path, value):
    errors = validate_event(_with(path, value))
    assert errors, f"{path}={value!r} should be refused"
    with pytest.raises(ValidationError):
        check_event(_with(path, value))


def test_event_ids_are_deterministic_and_job_id_safe():
    a = event_id("demo", "000000101", "101", "0001", event_type="purchase_order.acknowledged")
    assert a == event_id("demo", "000000101", "101", "0001", event_type="purchase_order.acknowledged")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", a)
    others = {
        event_id("demo", "000000101", "101", "0002", event_type="purchase_order.acknowledged"),
        event_id("demo", "000000101", "101", "0001", event_type="purchase_order.acknowledged", ordinal=1),
        event_id("acme", "000000101", "101", "0001", event_type="purchase_order.acknowledged"),
        event_id("demo", "000000101", "101", "0001", event_type="delivery_date.changed"),
    }
    assert a not in others and len(others) == 4
