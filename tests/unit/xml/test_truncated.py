"""Issue #10 item 14 (part): a document cut off in transfer is reported as incomplete and
not well-formed, with its line; it is never called an entity (XXE) attack because an
element on the way (cXML ``Identity``, UBL ``CountrySubentity``) has "entity" in its name.
Real DTD subsets stay refused."""

from __future__ import annotations

import pytest
from support import SAMPLES

from gateway.xml import XmlErrorCode, XmlRejected, parse_document

TRUNCATED_CXML = SAMPLES / "malformed" / "cxml_OrderRequest_acme_po_ac-9001_truncated.xml"
ORDER_REQUEST = (SAMPLES / "cxml" / "OrderRequest_acme_po_ac-9001.xml").read_bytes()
INVOICE = (SAMPLES / "ubl" / "Invoice_acme_inv-88070.xml").read_bytes()


def finding(data: bytes):
    with pytest.raises(XmlRejected) as err:
        parse_document(data)
    [found] = err.value.findings
    return found


def test_a_truncated_cxml_is_incomplete_not_an_attack():
    found = finding(TRUNCATED_CXML.read_bytes())
    assert found.code is XmlErrorCode.NOT_WELL_FORMED
    assert found.line == 7 and found.xpath == "/cXML/Header/Sender/Credential/Identity"
    assert "incomplete" in found.message and "inside /cXML/Header/Sender/Credential/Identity" in found.message
    assert "XXE" not in found.text() and "forbidden" not in found.text()


@pytest.mark.parametrize("data", [ORDER_REQUEST, INVOICE], ids=["cXML OrderRequest", "UBL Invoice"])
def test_every_cut_of_a_document_is_incomplete(data):
    """Cut after every byte: never an attack, never too deep, never a crash (a cut inside
    ``<cbc:`` once raised ValueError from the XPath bookkeeping: an internal failure)."""
    for cut in range(len(data.rstrip())):
        found = finding(data[:cut])
        assert found.code is XmlErrorCode.NOT_WELL_FORMED, (cut, found)
        assert "incomplete" in found.message or found.message == "the document is empty", (cut, found)


def test_an_element_named_depth_is_not_a_nesting_attack():
    found = finding(b"<Order><Depth>12")
    assert found.code is XmlErrorCode.NOT_WELL_FORMED and found.xpath == "/Order/Depth"


def test_an_error_inside_the_document_is_not_called_incomplete():
    found = finding(INVOICE.replace(b"</cbc:Name>", b"</cbc:Nome>", 1))
    assert found.code is XmlErrorCode.NOT_WELL_FORMED and "incomplete" not in found.message


def test_real_dtd_subsets_stay_refused_even_when_broken_or_cut():
    laughs = (b'<!DOCTYPE cXML [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %s "%s">' % (b"a" * (i + 1), b"&%s;" % (b"a" * i) * 10) for i in range(1, 9))
        + b']><cXML>&aaaaaaaaa;</cXML>')
    for data in (laughs, laughs[:60], b'<!DOCTYPE cXML [<!ENTITY x SYSTEM "file:///etc/passwd">]><cXML>&x;</cXML>'):
        found = finding(data)
        assert found.code is XmlErrorCode.DTD_FORBIDDEN and "DTD/entities forbidden" in found.message, data[:60]
