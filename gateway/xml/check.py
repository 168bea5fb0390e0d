"""One call for the worker and ``gateway validate``: parse safely, tell the kind, validate.

Sans-IO: bytes in, an :class:`XmlCheck` out (it never raises for a bad document).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from gateway.xml.findings import XmlFinding, XmlRejected
from gateway.xml.kind import DocumentKind, detect_kind
from gateway.xml.parse import MAX_BYTES, parse_document
from gateway.xml.validate import check_schema


@dataclass
class XmlCheck:
    root: etree._Element | None = None
    kind: DocumentKind | None = None
    findings: list[XmlFinding] = field(default_factory=list)
    schema: str | None = None  # the DTD/XSD it was validated against
    skipped: str | None = None  # why schema validation did not run

    @property
    def valid(self) -> bool:
        return self.root is not None and not self.findings


def check_xml(data: bytes, directory: Path | None, *, max_bytes: int = MAX_BYTES) -> XmlCheck:
    """Parse ``data`` hardened, detect its kind, validate it against ``directory``'s schemas."""
    try:
        root = parse_document(data, max_bytes=max_bytes)
        kind = detect_kind(root)
    except XmlRejected as exc:
        return XmlCheck(findings=exc.findings)
    schema = check_schema(root, kind, directory)
    return XmlCheck(root, kind, schema.findings, schema.schema, schema.skipped)


def validation_report(data: bytes, report: dict, directory: Path | None) -> dict:
    """Fill the ``gateway validate`` JSON (DESIGN §4) for an XML file.

    Errors go under the file (XML has no transaction sets): ``segment_id`` is the
    element's XPath, ``segment_index`` its line. ``document`` names the kind found and
    ``schema`` what it was validated against, or why validation was skipped.
    """
    check = check_xml(data, directory)
    report["format"] = "xml"
    report["errors"] = [f.to_dict() for f in check.findings]
    report["valid"] = check.valid
    if check.kind is not None:
        report["document"] = {"standard": check.kind.standard, "kind": check.kind.name,
                              "version": check.kind.version, "id": check.kind.document_id}
    report["schema"] = {"validated_against": check.schema, "skipped": check.skipped}
    return report
