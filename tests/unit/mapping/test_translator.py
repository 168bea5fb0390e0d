"""translate_x12 on the 855: events, determinism, errors that say which and where."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.events import validate_event
from gateway.mapping import SourceContext, TranslationError, translate_bytes, translate_x12

REPO = Path(__file__).resolve().parents[3]
SAMPLE_855 = REPO / "sample_docs/855/855_004010_acme_accepted_with_changes.edi"
CTX = SourceContext("demo", "doc-855", datetime(2026, 11, 20, 10, 31, tzinfo=UTC), "corr-1")


def _855(text: str) -> str:
    return SAMPLE_855.read_text().replace(
        "BAK*00*AC*4500012345*20261118*****20261120~", text
    )


def test_855_translates_to_a_valid_acknowledgment(x12_reader):
    [ic] = x12_reader(SAMPLE_855.read_bytes())
    [event] = translate_x12(ic, CTX)
    assert validate_event(event) == {}
    assert event["type"] == "purchase_order.acknowledged"
    payload = event["payload"]
    assert payload["po_number"] == "4500012345"
    assert payload["ack_type"] == "accepted_with_changes"
    assert payload["ack_date"] == "2026-11-20"
    assert [line["status"] for line in payload["lines"]] == [
        "accepted", "accepted_with_changes", "accepted"
    ]
    assert payload["lines"][1]["scheduled_date"] == "2026-12-10"
    assert payload["lines"][0]["unit_price"] == "12.50"
    assert event["source"] == {
        "document_id": "doc-855", "format": "x12", "transaction_set": "855",
        "version": "004010", "interchange_control_number": "000000101",
        "group_control_number": "101", "transaction_control_number": "0001",
    }


def test_event_ids_are_deterministic_and_partner_specific(x12_reader):
    [ic] = x12_reader(SAMPLE_855.read_bytes())
    first = translate_x12(ic, CTX)[0]["event_id"]
    assert translate_x12(ic, CTX)[0]["event_id"] == first
    other = SourceContext("other", "doc-2", CTX.received_at, "corr-2")
    assert translate_x12(ic, other)[0]["event_id"] != first


def test_partner_overrides_apply(x12_reader):
    [ic] = x12_reader(SAMPLE_855.read_bytes())
    [event] = translate_x12(ic, CTX, partner_maps_dir=REPO / "partners/demo/maps")
    assert [line["item_number"] for line in event["payload"]["lines"]] == [
        "ITEM-100", "ITEM-200", "ITEM-300"
    ]
    assert event["occurred_at"] == "2026-11-20T10:30:00-06:00"


def test_missing_po_number_names_the_field_and_the_segment(interchange):
    ic = interchange(_855("BAK*00*AC**20261118*****20261120~"))
    with pytest.raises(TranslationError) as err:
        translate_x12(ic, CTX)
    message = str(err.value)
    assert "po_number" in message and "BAK03" in message
    assert "855 ST02=0001" in message and "ISA13=000000101" in message


def test_unknown_status_code_names_the_line(interchange):
    ic = interchange(SAMPLE_855.read_text().replace("ACK*DR*", "ACK*XX*"))
    with pytest.raises(TranslationError, match=r"lines\[2\]\.status: code 'XX' is not in table 'line_status'.*PO1 loop at segment 9"):
        translate_x12(ic, CTX)


def test_bad_date_is_a_translation_error(interchange):
    ic = interchange(_855("BAK*00*AC*4500012345*20261318*****20261120~"))
    with pytest.raises(TranslationError, match="po_date"):
        translate_x12(ic, CTX)


def test_translate_bytes_reads_x12_and_xml(x12_reader):
    x12 = translate_bytes(SAMPLE_855.read_bytes(), CTX, reader=x12_reader)
    assert [e["type"] for e in x12] == ["purchase_order.acknowledged"]
    xml = (REPO / "maps/translate/samples/ubl_Order_buyerco_po_4500012348.xml").read_bytes()
    assert translate_bytes(xml, CTX)[0]["payload"]["po_number"] == "4500012348"


def test_sets_without_a_map_produce_nothing(interchange):
    text = (
        "ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*BUYERCO        *261120*1030*U*00401*000000102*0*P*>~"
        "GS*FA*ACMESUPPLY*BUYERCO*20261120*1030*102*X*004010~ST*997*0001~AK1*PO*1~AK9*A*1*1*1~SE*4*0001~"
        "GE*1*102~IEA*1*000000102~"
    )
    assert translate_x12(interchange(text), CTX) == []
