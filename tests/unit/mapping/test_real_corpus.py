"""Real third-party documents translate with the base maps into events with the right keys.

Skipped, with the reason, when ``../shared/corpus/real`` or the X12 reader is absent.
The expectations are computed here straight from the segments (not from the maps),
so a map that loses a line or misplaces implied decimals fails.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.events import validate_event
from gateway.mapping import SourceContext, translate_x12

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared" / "corpus" / "real"
FOLDERS = ("x12-850", "x12-855", "x12-856", "x12-810")
FILES = sorted(p for f in FOLDERS for p in (CORPUS / f).glob("*") if p.is_file()) if CORPUS.is_dir() else []
CTX = SourceContext("corpus", "corpus-doc", datetime(2026, 1, 1, tzinfo=UTC), "corpus")
LINE_TAG = {"850": "PO1", "855": "PO1", "856": "LIN", "810": "IT1"}


def _read(path: Path):
    reader = pytest.importorskip("gateway.x12.reader", reason="the X12 reader has not landed")
    return reader.read_x12(path.read_bytes()).interchanges


def _seg(ts, tag: str):
    return next((s for s in ts.segments if s.tag == tag), None)


def _lines(event: dict) -> int:
    payload = event["payload"]
    if event["type"] == "shipment.noticed":
        return sum(len(order["lines"]) for order in payload["orders"])
    return len(payload["lines"])


def _check(ts, event: dict) -> None:
    payload = event["payload"]
    assert validate_event(event) == {}
    assert event["source"]["transaction_control_number"] == ts.control_number
    assert _lines(event) == sum(1 for s in ts.segments if s.tag == LINE_TAG[ts.set_id])
    if ts.set_id == "850":
        assert payload["po_number"] == _seg(ts, "BEG").get(3)
    elif ts.set_id == "855":
        assert payload["po_number"] == _seg(ts, "BAK").get(3)
        assert payload["ack_type"] in ("accepted", "accepted_with_changes", "rejected")
    elif ts.set_id == "856":
        bsn02 = _seg(ts, "BSN").get(2)
        assert payload["shipment_id"] == bsn02 if bsn02 else payload["shipment_id"]
        assert all(order["po_number"] for order in payload["orders"])
    elif ts.set_id == "810":
        assert payload["invoice_number"] == _seg(ts, "BIG").get(2)
        tds01 = _seg(ts, "TDS").get(1)
        expected = Decimal(tds01) if "." in tds01 else Decimal(tds01) / 100
        assert Decimal(payload["total_amount"]) == expected
        assert "." in payload["total_amount"]


@pytest.mark.skipif(not FILES, reason=f"no real-document corpus at {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_real_document_translates_with_the_base_maps(path):
    interchanges = _read(path)
    assert interchanges, "the reader found no interchange"
    expected_sets = [ts for ic in interchanges for g in ic.groups for ts in g.transactions
                     if ts.set_id in LINE_TAG]
    events = [e for ic in interchanges for e in translate_x12(ic, CTX)]
    assert len(events) == len(expected_sets) > 0
    for ts, event in zip(expected_sets, events, strict=True):
        _check(ts, event)
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids) or _duplicate_control_numbers(interchanges)


def _duplicate_control_numbers(interchanges) -> bool:
    """Some fixtures reuse ISA13/GS06/ST02; then equal ids are the point of determinism."""
    keys = [(ic.control_number, g.control_number, ts.control_number)
            for ic in interchanges for g in ic.groups for ts in g.transactions]
    return len(set(keys)) < len(keys)
