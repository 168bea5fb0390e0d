"""The outbound cXML OrderRequest map as data (a test file beside it), checked against
what the cXML DTD requires, read back by the inbound cXML map; and the refusals: a
field with no place, an order the DTD would refuse, a broken map."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from lxml import etree
from support import CORPUS

from gateway.domain.partner import CxmlSettings, SharedSecretRef
from gateway.mapping import SourceContext, translate_bytes
from gateway.outbound.cxml_check import cxml_errors
from gateway.outbound.cxml_envelope import (
    SECRET_PLACEHOLDER,
    SecretPlacementError,
    envelope,
    payload_id,
    with_secret,
)
from gateway.outbound.cxml_map import load_cxml_map, render_cxml
from gateway.outbound.reverse_map import ReverseMapError, outbound_maps_dir
from gateway.xml.check import check_xml

SCHEMAS = CORPUS / "schemas"  # the real cXML DTDs, where this machine has them

NOW = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
SETTINGS = CxmlSettings(from_=("NetworkId", "BUYERCO"), to=("NetworkId", "ACMESUPPLY"),
                        sender=("NetworkId", "BUYERCO"), shared_secret=SharedSecretRef(env="UNUSED"))


def _payload(path: Path) -> dict:
    data = json.loads(path.read_text())
    return data[0]["payload"] if isinstance(data, list) else data


def _cases():
    for test_file in sorted(outbound_maps_dir().glob("cxml-*.test.yaml")):
        document = test_file.name.split("-")[1].split(".")[0]
        for case in yaml.safe_load(test_file.read_text())["cases"]:
            yield pytest.param(document, test_file.parent / case["input"], test_file.parent / case["expected"],
                               id=f"{test_file.stem}:{case['name']}")


CASES = list(_cases())


def _document(payload: dict) -> bytes:
    body = render_cxml(load_cxml_map("OrderRequest"), payload)
    return envelope(SETTINGS, body, payload_id=payload_id(NOW, "out_test", "BUYERCO"), now=NOW)


def test_there_are_cases_for_every_cxml_map():
    maps = [p for p in outbound_maps_dir().glob("cxml-*.yaml") if not p.name.endswith(".test.yaml")]
    assert maps and {c.values[0] for c in CASES} == {p.stem.split("-", 1)[1] for p in maps}


@pytest.mark.parametrize(("document", "source", "expected"), CASES)
def test_map_case(document, source, expected):
    element = render_cxml(load_cxml_map(document), _payload(source))
    assert etree.tostring(element, pretty_print=True).decode() == expected.read_text()


@pytest.mark.parametrize(("document", "source", "expected"), CASES)
def test_each_case_makes_a_document_the_dtd_allows(document, source, expected):
    data = _document(_payload(source))
    assert cxml_errors(data) == []
    root = etree.fromstring(data)
    assert root.get("payloadID") == "20261202083000.out_test@buyerco.cxml"
    assert root.get("timestamp") == "2026-12-02T08:30:00+00:00"
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE cXML SYSTEM "
                           b'"http://xml.cxml.org/schemas/cXML/1.2.063/cXML.dtd">')
    assert root.findtext("Header/Sender/Credential/SharedSecret") == SECRET_PLACEHOLDER


@pytest.mark.skipif(not (SCHEMAS / "cxml").is_dir(), reason=f"no cXML DTDs at {SCHEMAS} (they are not shipped)")
@pytest.mark.parametrize(("document", "source", "expected"), CASES)
def test_each_case_is_valid_against_the_real_cxml_dtd(document, source, expected):
    check = check_xml(_document(_payload(source)), SCHEMAS)
    assert (check.schema, check.findings) == ("cxml/1.2.063/cXML.dtd", [])


def _compact(value):
    if isinstance(value, dict):
        value = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def test_what_we_write_the_inbound_cxml_map_reads_back():
    source = next(c.values[1] for c in CASES if "buyerco" in c.values[2].name)
    payload = _payload(source)
    [event] = translate_bytes(_document(payload), SourceContext("demo", "out_test", NOW, "cor_test"))
    back, want = _compact(event["payload"]), _compact(payload)
    for party in ("buyer", "ship_to", "bill_to", "vendor"):  # Address@addressIDDomain is not read back
        want.get(party, {}).pop("id_qualifier", None)
    want["order_type"] = "regular"  # written as cXML's own orderType
    assert back == want


def test_a_field_the_order_request_has_no_place_for_is_refused_not_dropped():
    payload = _payload(CASES[0].values[1])
    payload["lines"][1]["item_number"] = "X-1"
    with pytest.raises(ReverseMapError, match=r"lines\.1\.item_number have no place"):
        render_cxml(load_cxml_map("OrderRequest"), payload)


@pytest.mark.parametrize("value", ["NUL\x00", "bell\x07", "esc\x1b[0m"])
def test_a_value_xml_cannot_carry_is_refused_not_altered(value):
    payload = _payload(CASES[0].values[1])
    payload["lines"][0]["description"] = value
    with pytest.raises(ReverseMapError, match=r"lines\.0\.description: .* a character XML cannot carry"):
        render_cxml(load_cxml_map("OrderRequest"), payload)
    payload["lines"][0]["description"] = "caf\u00e9 \u2013 tab\there"  # any other Unicode is carried as it is
    element = render_cxml(load_cxml_map("OrderRequest"), payload)
    assert element.find("ItemOut/ItemDetail/Description").text == "caf\u00e9 \u2013 tab\there"


@pytest.mark.parametrize(("change", "finding"), [
    (lambda p: p.pop("bill_to"), "OrderRequestHeader requires a BillTo element (from the payload's bill_to)"),
    (lambda p: p.pop("total_amount"), "Total[1]/Money[1]: Money must not be empty (from the payload's currency and "
                                      "amount)"),
    (lambda p: p.pop("currency"), "Money requires its currency attribute"),
    (lambda p: p["lines"][0].pop("vendor_part"), "ItemID requires a SupplierPartID element (from the payload's "
                                                 "vendor_part)"),
    (lambda p: p["lines"][0].pop("uom"), "ItemDetail requires a UnitOfMeasure element"),
    (lambda p: p["lines"].clear(), "OrderRequest requires a ItemOut element"),
])
def test_an_order_the_dtd_would_refuse_is_found_before_it_is_sent(change, finding):
    payload = _payload(CASES[0].values[1])
    change(payload)
    found = [f"{e['segment_id']}: {e['message']}" for e in cxml_errors(_document(payload))]
    assert any(finding in f for f in found), found


def test_the_check_reads_the_bytes_hardened_and_checks_the_envelope():
    assert cxml_errors(b"<cXML><Header>")[0]["code"] == "NOT_WELL_FORMED"
    data = _document(_payload(CASES[0].values[1]))
    bad = data.replace(b'timestamp="2026-12-02T08:30:00+00:00"', b'timestamp="yesterday"')
    assert any("timestamp" in e["message"] for e in cxml_errors(bad))
    swapped = data.replace(b"<Header>", b"<Request/><Header>", 1)
    assert any("not in DTD order" in e["message"] for e in cxml_errors(swapped))


def test_the_secret_goes_in_only_on_the_way_out_escaped():
    data = _document(_payload(CASES[0].values[1]))
    sent = with_secret(data, "a<b&c")
    assert etree.fromstring(sent).findtext("Header/Sender/Credential/SharedSecret") == "a<b&c"
    assert with_secret(data, "x").replace(b"<SharedSecret>x<", b"") != data
    with pytest.raises(SecretPlacementError):
        with_secret(sent, "again")  # no placeholder left: never two secrets, never a guess


def test_a_broken_map_fails_when_loaded(tmp_path):
    (tmp_path / "cxml-OrderRequest.yaml").write_text(
        "document: OrderRequest\nevent: e\nelements:\n  - OrderRequestHeader: {attributes: {a: {from: x, "
        "table: nowhere}}}\n")
    with pytest.raises(ReverseMapError, match="unknown table 'nowhere'"):
        load_cxml_map("OrderRequest", tmp_path)
    (tmp_path / "cxml-OrderRequest.yaml").write_text("document: OrderRequest\nevent: e\nelements:\n  - [a, b]\n")
    with pytest.raises(ReverseMapError, match="an element is"):
        load_cxml_map("OrderRequest", tmp_path)
    with pytest.raises(ReverseMapError, match="no outbound map for cXML InvoiceDetailRequest"):
        load_cxml_map("InvoiceDetailRequest", tmp_path)
