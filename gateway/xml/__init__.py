"""The XML stage: safe parsing, document kind, cXML DTD / UBL XSD validation, sender ids.

Public API::

    parse_document(data, *, max_bytes, max_depth) -> lxml root   # raises XmlRejected
    detect_kind(root) -> DocumentKind                               # raises XmlRejected
    check_xml(data, schema_dir) -> XmlCheck                         # never raises for bad input
    check_schema(root, kind, schema_dir) -> SchemaCheck
    identify(partners, root, kind) -> (PartnerProfile | None, [SenderId])
    schema_dir() -> Path          # GATEWAY_SCHEMA_DIR, else the shipped maps/xml/;  preload() builds the schemas up front
    XmlFinding, XmlErrorCode, XmlRejected

Sans-IO apart from reading schema files from the local schema directory.
"""

from gateway.xml.check import XmlCheck, check_xml, validation_report
from gateway.xml.findings import XmlErrorCode, XmlFinding, XmlRejected
from gateway.xml.identity import SenderId, identify
from gateway.xml.kind import DocumentKind, detect_kind
from gateway.xml.parse import parse_document
from gateway.xml.schemas import preload, schema_dir
from gateway.xml.validate import SchemaCheck, check_schema

__all__ = [
    "DocumentKind", "SchemaCheck", "SenderId", "XmlCheck", "XmlErrorCode", "XmlFinding", "XmlRejected",
    "check_schema", "check_xml", "detect_kind", "identify", "parse_document", "preload", "schema_dir",
    "validation_report",
]
