"""Every field a cXML or UBL map marks required is mandatory in the document's schema
(issue #10, 6): a map that demands what UBL 2.1 or the cXML DTD leave optional rejects
valid documents (InvoicedQuantity, Order LineItem/Quantity, cXML OrderReference/@orderID).

The table below records, for each required field, the path that satisfies it and the
schema's minOccurs for every step (from the document element; ``context`` is the list
item the field is read in, which exists by construction). Three checks keep it honest:
the table lists exactly the required fields the maps declare, with one of their paths;
every recorded minOccurs is at least 1; and, with the corpus schemas present, the
recorded numbers are what the XSD/DTD say. A required rule with a ``default`` can never
be empty and is not listed. Code tables read from a cXML attribute whose DTD enumerates
its values must cover them all, or a valid code rejects the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from gateway.mapping.compiled import ListNode, ObjectNode
from gateway.mapping.loader import load_maps

REPO = Path(__file__).resolve().parents[3]
SCHEMAS = REPO.parent / "shared" / "corpus" / "schemas"
XSD = "{http://www.w3.org/2001/XMLSchema}"
CXML_DTD = {  # the request element -> the DTD that declares it
    "OrderRequest": "1.2.063/cXML.dtd",
    "ConfirmationRequest": "1.2.063/Fulfill.dtd",
    "ShipNoticeRequest": "1.2.063/Fulfill.dtd",
    "InvoiceDetailRequest": "1.2.037/InvoiceDetail.dtd",
}


@dataclass(frozen=True)
class Row:
    map_id: str
    field: str  # payload label: ``lines[].quantity``; ``|otherwise`` for the fallback list
    xpath: str  # the map's path that satisfies the field
    steps: tuple[tuple[str, int], ...]  # (step, schema minOccurs) below the context
    context: tuple[str, ...] = ()  # the list item's steps from the document element


ROWS = [
    Row("cxml-ConfirmationRequest", "po_number", "//ConfirmationRequest/OrderReference/DocumentReference/@payloadID",
        (("OrderReference", 1), ("DocumentReference", 1), ("@payloadID", 1))),
    Row("cxml-ConfirmationRequest", "ack_type", "//ConfirmationHeader/@type",
        (("ConfirmationHeader", 1), ("@type", 1))),
    Row("cxml-InvoiceDetailRequest", "invoice_number", "//InvoiceDetailRequestHeader/@invoiceID",
        (("InvoiceDetailRequestHeader", 1), ("@invoiceID", 1))),
    Row("cxml-InvoiceDetailRequest", "invoice_date", "//InvoiceDetailRequestHeader/@invoiceDate",
        (("InvoiceDetailRequestHeader", 1), ("@invoiceDate", 1))),
    Row("cxml-InvoiceDetailRequest", "charges[].type", "name()", ()),  # the selected element's own name
    Row("cxml-InvoiceDetailRequest", "total_amount", "//InvoiceDetailSummary/NetAmount/Money",
        (("InvoiceDetailSummary", 1), ("NetAmount", 1), ("Money", 1))),
    Row("cxml-OrderRequest", "po_number", "//OrderRequestHeader/@orderID",
        (("OrderRequestHeader", 1), ("@orderID", 1))),
    Row("cxml-OrderRequest", "po_date", "//OrderRequestHeader/@orderDate",
        (("OrderRequestHeader", 1), ("@orderDate", 1))),
    Row("cxml-OrderRequest", "lines", "//OrderRequest/ItemOut", (("ItemOut", 1),)),
    Row("cxml-OrderRequest", "lines[].quantity", "@quantity", (("@quantity", 1),), ("ItemOut",)),
    Row("cxml-ShipNoticeRequest", "shipment_id", "//ShipNoticeHeader/@shipmentID",
        (("ShipNoticeHeader", 1), ("@shipmentID", 1))),
    Row("cxml-ShipNoticeRequest", "orders[].po_number", "OrderReference/DocumentReference/@payloadID",
        (("OrderReference", 1), ("DocumentReference", 1), ("@payloadID", 1)), ("ShipNoticePortion",)),
    Row("cxml-ShipNoticeRequest", "orders[].lines[].quantity_shipped", "@quantity", (("@quantity", 1),),
        ("ShipNoticePortion", "ShipNoticeItem")),
    Row("ubl-DespatchAdvice", "shipment_id", "cbc:ID", (("cbc:ID", 1),)),
    Row("ubl-DespatchAdvice", "orders[].po_number", "cbc:ID", (("cbc:ID", 1),), ("cac:OrderReference",)),
    Row("ubl-DespatchAdvice", "orders|otherwise[].po_number", "cbc:ID", (("cbc:ID", 1),),
        ("cac:DespatchLine", "cac:OrderLineReference", "cac:OrderReference")),
    Row("ubl-Invoice", "invoice_number", "cbc:ID", (("cbc:ID", 1),)),
    Row("ubl-Invoice", "invoice_date", "cbc:IssueDate", (("cbc:IssueDate", 1),)),
    Row("ubl-Invoice", "lines", "cac:InvoiceLine", (("cac:InvoiceLine", 1),)),
    Row("ubl-Invoice", "charges[].type", "cbc:ChargeIndicator", (("cbc:ChargeIndicator", 1),),
        ("cac:AllowanceCharge",)),
    Row("ubl-Invoice", "total_amount", "cac:LegalMonetaryTotal/cbc:PayableAmount",
        (("cac:LegalMonetaryTotal", 1), ("cbc:PayableAmount", 1))),
    Row("ubl-Order", "po_number", "cbc:ID", (("cbc:ID", 1),)),
    Row("ubl-Order", "po_date", "cbc:IssueDate", (("cbc:IssueDate", 1),)),
    Row("ubl-Order", "lines", "cac:OrderLine/cac:LineItem", (("cac:OrderLine", 1), ("cac:LineItem", 1))),
    Row("ubl-OrderResponse", "po_number", "cac:OrderReference/cbc:ID",
        (("cac:OrderReference", 1), ("cbc:ID", 1))),
    Row("ubl-OrderResponseSimple", "po_number", "cac:OrderReference/cbc:ID",
        (("cac:OrderReference", 1), ("cbc:ID", 1))),
    Row("ubl-OrderResponseSimple", "ack_type", "cbc:AcceptedIndicator", (("cbc:AcceptedIndicator", 1),)),
]


@cache
def _xml_maps():
    return {m.id: m for m in load_maps().base if m.format in ("cxml", "ubl")}


def required_fields(spec) -> dict[str, tuple[str, ...]]:
    """``{label: the paths that may satisfy it}`` for every field that can reject a document."""
    out: dict[str, tuple[str, ...]] = {}

    def walk(fields: dict, prefix: str) -> None:
        for name, node in fields.items():
            label = prefix + name
            if isinstance(node, ObjectNode):
                if node.required:
                    out[label] = tuple(p.text for p in node.scope)
                walk(node.fields, label + ".")
            elif isinstance(node, ListNode):
                branch, tag = node, ""
                while branch is not None:
                    if branch.required:
                        out[label + tag] = tuple(p.text for p in branch.each)
                    if branch.fields:
                        walk(branch.fields, label + tag + "[].")
                    branch, tag = branch.otherwise, tag + "|otherwise"
            else:
                rules = [node]
                while rules[-1].otherwise is not None:
                    rules.append(rules[-1].otherwise)
                if node.required and all(r.default is None for r in rules):
                    out[label] = tuple(p.text for r in rules for p in r.paths)

    walk(spec.payload, "")
    return out


def test_the_table_lists_every_required_field_of_the_xml_maps():
    declared = {(m.id, label): paths for m in _xml_maps().values() for label, paths in required_fields(m).items()}
    assert sorted(declared) == sorted((r.map_id, r.field) for r in ROWS)
    for row in ROWS:
        assert row.xpath in declared[row.map_id, row.field], f"{row}: the map's paths are {declared[row.map_id, row.field]}"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.map_id}:{r.field}" for r in ROWS])
def test_a_required_field_lies_on_a_mandatory_path(row):
    optional = [step for step, least in row.steps if least < 1]
    assert not optional, f"{row.map_id} requires {row.field} but the schema makes {optional} optional"


# -- what the schemas say ------------------------------------------------------------

@cache
def _ubl_main(document: str) -> etree._Element | None:
    found = sorted(SCHEMAS.glob(f"ubl-2.1/xsd/maindoc/UBL-{document}-2.1.xsd"))
    if not found:
        return None
    return etree.parse(str(found[0])).getroot().find(f"{XSD}complexType[@name='{document}Type']")


@cache
def _ubl_aggregates() -> dict[str, etree._Element]:
    root = etree.parse(str(SCHEMAS / "ubl-2.1/xsd/common/UBL-CommonAggregateComponents-2.1.xsd")).getroot()
    types = {t.get("name"): t for t in root.iter(f"{XSD}complexType")}
    return {e.get("name"): types[e.get("type")] for e in root.findall(f"{XSD}element")}


def ubl_min_occurs(document: str, path: tuple[str, ...]) -> list[int]:
    """minOccurs of each ``cac:``/``cbc:`` step, walking the UBL 2.1 types from the document."""
    current, out = _ubl_main(document), []
    for step in path:
        ref = current.find(f".//{XSD}element[@ref='{step}']")
        assert ref is not None, f"{step} is not a child of {current.get('name')} in UBL 2.1"
        out.append(int(ref.get("minOccurs", "1")))
        if step.startswith("cac:"):
            current = _ubl_aggregates()[step[4:]]
    return out


@cache
def _dtd(name: str) -> dict:
    return {e.name: e for e in etree.DTD(str(SCHEMAS / "cxml" / name)).elements()}


def _least(content, name: str) -> int:
    """How many ``name`` children a content model guarantees (0 when optional)."""
    if content is None:
        return 0
    if content.type == "element":
        n = 1 if content.name == name else 0
    elif content.type == "seq":
        n = _least(content.left, name) + _least(content.right, name)
    elif content.type == "or":
        n = min(_least(content.left, name), _least(content.right, name))
    else:
        n = 0
    return n if content.occur in ("once", "plus") else 0


def cxml_min_occurs(request: str, path: tuple[str, ...]) -> list[int]:
    elements, current, out = _dtd(CXML_DTD[request]), request, []
    for step in path:
        if step.startswith("@"):
            declared = {a.name: a.default for a in elements[current].attributes()}
            assert step[1:] in declared, f"{current} has no attribute {step}"
            out.append(1 if declared[step[1:]] == "required" else 0)
        else:
            out.append(min(_least(elements[current].content, step), 1))
            current = step
    return out


def _document(map_id: str) -> str:
    return _xml_maps()[map_id].document


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.map_id}:{r.field}" for r in ROWS])
def test_the_recorded_cardinality_is_the_schemas(row):
    if not SCHEMAS.is_dir():
        pytest.skip(f"no schemas at {SCHEMAS}")
    document, path = _document(row.map_id), (*row.context, *(step for step, _ in row.steps))
    if row.map_id.startswith("ubl-"):
        if _ubl_main(document) is None:
            pytest.skip(f"no UBL-{document}-2.1.xsd in {SCHEMAS}: the row is unchecked")
        found = ubl_min_occurs(document, path)
    else:
        found = cxml_min_occurs(document, path)
    assert found[len(row.context):] == [least for _, least in row.steps], f"{row}: the schema says {found}"


_ATTRIBUTE = re.compile(r"(?:^|/)(?P<element>\w+)(?:\[\d+\])?/@(?P<attribute>\w+)$")


def _code_rules(spec):
    def walk(fields):
        for node in fields.values():
            if isinstance(node, ObjectNode):
                yield from walk(node.fields)
            elif isinstance(node, ListNode):
                branch = node
                while branch is not None:
                    yield from walk(branch.fields or {})
                    branch = branch.otherwise
            else:
                while node is not None:
                    if node.table is not None and node.on_missing == "error" and "*" not in node.table:
                        yield node
                    node = node.otherwise

    return list(walk(spec.payload))


@pytest.mark.parametrize("map_id", ["cxml-ConfirmationRequest", "cxml-InvoiceDetailRequest", "cxml-OrderRequest",
                                    "cxml-ShipNoticeRequest"])
def test_cxml_code_tables_cover_what_the_dtd_allows(map_id):
    if not SCHEMAS.is_dir():
        pytest.skip(f"no schemas at {SCHEMAS}")
    spec = _xml_maps()[map_id]
    elements = _dtd(CXML_DTD[spec.document])
    for rule in _code_rules(spec):
        for path in rule.paths:
            m = _ATTRIBUTE.search(path.text)
            if m is None or m["element"] not in elements:
                continue
            declared = {a.name: a for a in elements[m["element"]].attributes()}
            values = declared[m["attribute"]].values() if m["attribute"] in declared else []
            missing = sorted(set(values) - set(rule.table))
            assert not missing, f"{map_id}: {path.text} may be {missing}, which table {rule.table_name} rejects"
