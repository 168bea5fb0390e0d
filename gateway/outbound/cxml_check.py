"""The one place a cXML document we send is checked before it leaves.

The cXML DTDs are not shipped (licence), so this checks what the DTD requires of the
elements we write, as a table: each element's required children and attributes, in
the order the DTD states them, and the envelope's payloadID and timestamp. The bytes
are read back with the hardened parser first, so what is checked is what goes out
(well-formed, no DTD subset). Sans-IO: bytes in, findings (dicts) out.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from gateway.xml.findings import XmlRejected
from gateway.xml.parse import parse_document

# element: (required children in DTD order, required attributes, text required)
REQUIRED: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "cXML": (("Header", "Request"), ("payloadID", "timestamp"), False),
    "Header": (("From", "To", "Sender"), (), False),
    "From": (("Credential",), (), False),
    "To": (("Credential",), (), False),
    "Sender": (("Credential", "UserAgent"), (), False),
    "Credential": (("Identity",), ("domain",), False),
    "Identity": ((), (), True),
    "UserAgent": ((), (), True),
    "Request": (("OrderRequest",), (), False),
    "OrderRequest": (("OrderRequestHeader", "ItemOut"), (), False),
    "OrderRequestHeader": (("Total", "BillTo"), ("orderID", "orderDate", "type"), False),
    "Total": (("Money",), (), False),
    "Money": ((), ("currency",), True),
    "ShipTo": (("Address",), (), False),
    "BillTo": (("Address",), (), False),
    "Address": (("Name",), (), False),
    "Contact": (("Name",), (), False),
    "Name": ((), ("{http://www.w3.org/XML/1998/namespace}lang",), True),
    "PostalAddress": (("Street", "City", "Country"), (), False),
    "Country": ((), ("isoCountryCode",), False),
    "ItemOut": (("ItemID",), ("quantity",), False),
    "ItemID": (("SupplierPartID",), (), False),
    "SupplierPartID": ((), (), True),
    "ItemDetail": (("UnitPrice", "Description", "UnitOfMeasure", "Classification"), (), False),
    "UnitPrice": (("Money",), (), False),
    "Description": ((), ("{http://www.w3.org/XML/1998/namespace}lang",), False),
    "UnitOfMeasure": ((), (), True),
    "Classification": ((), ("domain",), False),
}
# What the canonical payload calls the element a finding is about, for the ERP's message.
PAYLOAD_NAMES = {"Total": "total_amount", "Money": "currency and amount", "BillTo": "bill_to",
                 "SupplierPartID": "vendor_part", "ItemDetail": "unit_price, description and uom",
                 "UnitPrice": "unit_price", "UnitOfMeasure": "uom", "Description": "description",
                 "Street": "address_lines", "City": "city", "Country": "country", "Name": "name",
                 "orderDate": "po_date", "quantity": "quantity"}


def cxml_errors(data: bytes) -> list[dict]:
    """What the cXML DTD would refuse in ``data`` (empty when it may be sent)."""
    try:
        root = parse_document(data)
    except XmlRejected as exc:
        return [f.to_dict() for f in exc.findings]
    errors: list[dict] = []
    _walk(root, "/cXML", errors)
    for attr in ("timestamp",):
        value = root.get(attr) or ""
        try:
            if datetime.fromisoformat(value).tzinfo is None:
                raise ValueError
        except ValueError:
            errors.append(_error("/cXML/@timestamp", f"timestamp {value[:40]!r} is not ISO 8601 with a UTC offset"))
    if not (root.get("payloadID") or "").strip() or "@" not in root.get("payloadID", ""):
        errors.append(_error("/cXML/@payloadID", "payloadID must be unique and of the form id@host"))
    return errors


def _walk(element: etree._Element, path: str, errors: list[dict]) -> None:
    rule = REQUIRED.get(element.tag)
    if rule is not None:
        children, attributes, text = rule
        names = [c.tag for c in element]
        for child in children:
            if child not in names:
                errors.append(_error(path, f"{element.tag} requires a {child} element{_from(child)}"))
        for attr in attributes:
            if not (element.get(attr) or "").strip():
                name = attr.rpartition("}")[2]
                errors.append(_error(path, f"{element.tag} requires its {name} attribute{_from(name)}"))
        if text and not (element.text or "").strip():
            errors.append(_error(path, f"{element.tag} must not be empty{_from(element.tag)}"))
        order = [c for c in children if c in names]
        if [n for n in names if n in children] != sorted([n for n in names if n in children], key=order.index):
            errors.append(_error(path, f"{element.tag}'s children are not in DTD order ({', '.join(children)})"))
    seen: dict[str, int] = {}
    for child in element:
        seen[child.tag] = seen.get(child.tag, 0) + 1
        _walk(child, f"{path}/{child.tag}[{seen[child.tag]}]", errors)


def _from(name: str) -> str:
    return f" (from the payload's {PAYLOAD_NAMES[name]})" if name in PAYLOAD_NAMES else ""


def _error(xpath: str, message: str) -> dict:
    return {"code": "CXML_STRUCTURE", "message": message, "segment_id": xpath, "segment_index": None,
            "element": None}
