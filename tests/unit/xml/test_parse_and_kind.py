"""Hardened parsing and document kinds: every refusal is a located finding."""

from __future__ import annotations

import pytest
from support import SAMPLES

from gateway.xml import XmlErrorCode, XmlRejected, detect_kind, parse_document

INVOICE = (SAMPLES / "ubl" / "Invoice_acme_inv-88070.xml").read_bytes()


def rejected(data: bytes, **kwargs):
    with pytest.raises(XmlRejected) as err:
        parse_document(data, **kwargs)
    return err.value.findings


def test_a_truncated_document_names_the_line_and_the_open_element():
    [finding] = rejected(INVOICE[:900])
    assert finding.code is XmlErrorCode.NOT_WELL_FORMED
    assert INVOICE[:900].count(b"\n") + 1 == finding.line == 9
    assert finding.xpath == "/Invoice/cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cbc:CityName"
    assert finding.to_dict()["segment_id"] == finding.xpath and finding.to_dict()["segment_index"] == 9
    assert finding.text().startswith("line 9, /Invoice/cac:AccountingSupplierParty")


def test_siblings_are_numbered_in_the_xpath():
    data = INVOICE.replace(b"<cbc:Name>MOUNTING BRACKET</cbc:Name>", b"<cbc:Name>MOUNTING BRACKET</cbc:Nome>")
    [finding] = rejected(data)
    assert finding.xpath == "/Invoice/cac:InvoiceLine[2]/cac:Item/cbc:Name"


def test_size_and_depth_limits():
    assert rejected(INVOICE, max_bytes=100)[0].code is XmlErrorCode.TOO_LARGE
    deep = b"<a>" * 30 + b"</a>" * 30
    [finding] = rejected(deep, max_depth=20)
    assert finding.code is XmlErrorCode.TOO_DEEP and finding.xpath.count("/") == 21 and finding.line == 1
    assert parse_document(deep, max_depth=30).tag == "a"


def test_a_doctype_without_subset_is_fine_but_any_declaration_is_refused():
    root = parse_document(b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.063/cXML.dtd"><cXML/>')
    assert root.getroottree().docinfo.system_url.endswith("cXML.dtd")
    for subset in (b'<!ENTITY x "y">', b"<!ELEMENT cXML ANY>"):
        [finding] = rejected(b"<!DOCTYPE cXML [" + subset + b"]><cXML/>")
        assert finding.code is XmlErrorCode.DTD_FORBIDDEN and "DTD/entities forbidden" in finding.message


def test_processing_instructions_and_comments_are_dropped():
    root = parse_document(b'<a><?php system("id"); ?><!-- hi --><b/></a>')
    assert [c.tag for c in root] == ["b"]


@pytest.mark.parametrize("name, standard, kind, version, doc_id", [
    ("cxml/ConfirmationRequest_acme_po_4500012360.xml", "cxml", "ConfirmationRequest", "1.2.063",
     "20261220103000.C-4500012360@acmesupply.example"),
    ("cxml/InvoiceDetailRequest_acme_inv-88060.xml", "cxml", "InvoiceDetailRequest", "1.2.037",
     "20270106081500.INV-88060@acmesupply.example"),
    ("ubl/Order_acme_po_ac-9002.xml", "ubl", "Order", "2.1", "AC-9002"),
    ("ubl/DespatchAdvice_acme_sh-77070.xml", "ubl", "DespatchAdvice", "2.1", "DA-77070"),
])
def test_kinds_of_our_samples(name, standard, kind, version, doc_id):
    found = detect_kind(parse_document((SAMPLES / name).read_bytes()))
    assert (found.standard, found.name, found.version, found.document_id) == (standard, kind, version, doc_id)


def test_the_dtd_a_cxml_document_names_or_the_default_for_its_kind():
    with_doctype = detect_kind(parse_document((SAMPLES / "cxml" / "ShipNoticeRequest_acme_sh-77060.xml").read_bytes()))
    assert with_doctype.dtd == "Fulfill.dtd"
    bare = detect_kind(parse_document(b'<cXML version="1.2.050"><Request><InvoiceDetailRequest/></Request></cXML>'))
    assert (bare.dtd, bare.version) == ("InvoiceDetail.dtd", "1.2.050")


def test_other_documents_are_refused_by_name():
    with pytest.raises(XmlRejected) as err:
        detect_kind(parse_document(b"<html><body/></html>"))
    assert err.value.findings[0].code is XmlErrorCode.NOT_CXML_OR_UBL and "'html'" in str(err.value)
    with pytest.raises(XmlRejected) as err:
        detect_kind(parse_document(b'<OrderChange xmlns="urn:oasis:names:specification:ubl:schema:xsd:OrderChange-2"/>'))
    assert err.value.findings[0].code is XmlErrorCode.UNSUPPORTED_DOCUMENT and "OrderChange" in str(err.value)
