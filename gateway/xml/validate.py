"""Validate a parsed cXML document against its DTD and a UBL document against its XSD.

Sans-IO apart from reading the (cached) schemas: a root element and its kind in, a
:class:`SchemaCheck` out. Each error carries the line and the XPath of the element it
is about. Without a schema directory, or without a schema for this kind in it, the
check is *skipped* and says why; it never reaches for the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from gateway.xml.findings import XmlErrorCode, XmlFinding
from gateway.xml.kind import DocumentKind
from gateway.xml.schemas import ENV, find_dtd, find_xsd, load_dtd, load_xsd

MAX_ERRORS = 100


@dataclass
class SchemaCheck:
    findings: list[XmlFinding] = field(default_factory=list)
    schema: str | None = None  # what it was checked against, relative to the schema dir
    skipped: str | None = None  # why it was not checked

    @property
    def valid(self) -> bool:
        return not self.findings


def check_schema(root: etree._Element, kind: DocumentKind, directory: Path | None) -> SchemaCheck:
    """Check ``root`` against the DTD (cXML) or XSD (UBL) for ``kind`` from ``directory``."""
    if directory is None:
        return SchemaCheck(skipped=f"schema validation skipped: {ENV} is not set, so there are no "
                                   "cXML DTDs or UBL XSDs to validate against")
    if kind.standard == "cxml":
        return _check_dtd(root, kind, directory)
    return _check_xsd(root, kind, directory)


def _check_dtd(root: etree._Element, kind: DocumentKind, directory: Path) -> SchemaCheck:
    path = find_dtd(directory, kind.dtd or "cXML.dtd", kind.version)
    if path is None:
        return SchemaCheck(skipped=f"schema validation skipped: no cxml/*/{kind.dtd} in {directory} (the cXML "
                                   f"DTDs are not shipped with the gateway, see maps/xml/LICENSES.md; set {ENV} "
                                   "to a folder that has them)")
    dtd = load_dtd(directory, path)
    check = SchemaCheck(schema=str(path.relative_to(directory)))
    if not dtd.validate(root):
        for entry in list(dtd.error_log)[:MAX_ERRORS]:
            check.findings.append(XmlFinding(XmlErrorCode.DTD_INVALID, f"{entry.message} (DTD {check.schema})",
                                             entry.line or None, entry.path or None))
    return check


def _check_xsd(root: etree._Element, kind: DocumentKind, directory: Path) -> SchemaCheck:
    path = find_xsd(directory, kind.name)
    if path is None:
        return SchemaCheck(skipped=f"schema validation skipped: no UBL-{kind.name}-2.1.xsd in {directory}")
    schema = load_xsd(directory, path)
    check = SchemaCheck(schema=str(path.relative_to(directory)))
    for error in schema.iter_errors(root, use_location_hints=False):
        reason = (error.reason or error.message or "invalid").strip().replace("\n", " ")
        check.findings.append(XmlFinding(XmlErrorCode.XSD_INVALID, f"{reason[:300]} (XSD {path.name})",
                                         error.sourceline, error.path))
        if len(check.findings) >= MAX_ERRORS:
            break
    return check
