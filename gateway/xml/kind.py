"""Which cXML or UBL document this is: standard, name, version and its own id.

The naming rule itself (the element inside cXML ``Request``, the UBL root) belongs to
the translator (:func:`gateway.mapping.xmltranslator.document_kind`); this module adds
what validation and deduplication need: the DTD a cXML document names, its version,
and the document's own id (cXML ``payloadID``, UBL ``cbc:ID``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from gateway.xml.findings import XmlErrorCode, XmlFinding, XmlRejected

UBL_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

# The document kinds the gateway takes (each has a base map in maps/translate/).
SUPPORTED = {
    "cxml": ("OrderRequest", "ConfirmationRequest", "ShipNoticeRequest", "InvoiceDetailRequest"),
    "ubl": ("Order", "OrderResponse", "OrderResponseSimple", "DespatchAdvice", "Invoice"),
}
# The DTD a cXML document uses when it names none (cXML 1.2: cXML.dtd, Fulfill.dtd, InvoiceDetail.dtd).
CXML_DEFAULT_DTD = {"ConfirmationRequest": "Fulfill.dtd", "ShipNoticeRequest": "Fulfill.dtd",
                    "InvoiceDetailRequest": "InvoiceDetail.dtd"}
_CXML_SYSTEM = re.compile(r"/cXML/(?P<version>\d+(?:\.\d+)+)/(?P<dtd>[A-Za-z]+\.dtd)$", re.IGNORECASE)


@dataclass(frozen=True)
class DocumentKind:
    standard: str  # "cxml" or "ubl"
    name: str  # OrderRequest, Invoice, ...
    version: str | None  # cXML version (DOCTYPE, else @version); UBL cbc:UBLVersionID
    dtd: str | None = None  # cXML: the DTD file it names (cXML.dtd, Fulfill.dtd, ...)
    document_id: str | None = None  # cXML payloadID, UBL cbc:ID

    @property
    def label(self) -> str:
        return f"{'cXML' if self.standard == 'cxml' else 'UBL'} {self.name}"


def detect_kind(root: etree._Element) -> DocumentKind:
    """The kind of ``root``; :class:`XmlRejected` if it is not a cXML/UBL kind we take."""
    from gateway.mapping import TranslationError
    from gateway.mapping.xmltranslator import document_kind

    try:
        standard, name, _ = document_kind(root)
    except TranslationError:
        raise XmlRejected([XmlFinding(
            XmlErrorCode.NOT_CXML_OR_UBL,
            f"not a cXML or UBL document: the root element is {etree.QName(root).localname!r}"
            f"{' in namespace ' + repr(etree.QName(root).namespace) if etree.QName(root).namespace else ''}",
            root.sourceline, "/" + etree.QName(root).localname)]) from None
    if standard == "cxml":
        kind = _cxml_kind(root, name)
    else:
        kind = DocumentKind("ubl", name, _text(root.find(f"{{{UBL_CBC}}}UBLVersionID")),
                            document_id=_text(root.find(f"{{{UBL_CBC}}}ID")))
    if name not in SUPPORTED[standard]:
        taken = ", ".join(SUPPORTED[standard])
        raise XmlRejected([XmlFinding(
            XmlErrorCode.UNSUPPORTED_DOCUMENT,
            f"{kind.label or standard} documents are not taken by this gateway (it takes {taken})",
            root.sourceline, "/" + etree.QName(root).localname)])
    return kind


def _cxml_kind(root: etree._Element, name: str) -> DocumentKind:
    system = root.getroottree().docinfo.system_url or ""
    match = _CXML_SYSTEM.search(system)
    version = match["version"] if match else root.get("version")
    dtd = match["dtd"] if match else CXML_DEFAULT_DTD.get(name, "cXML.dtd")
    return DocumentKind("cxml", name, version, dtd, root.get("payloadID"))


def _text(element: etree._Element | None) -> str | None:
    return (element.text or "").strip() or None if element is not None else None
