"""What can be wrong with an XML document: one closed enum, each finding with its place.

A finding renders to the per-error JSON of DESIGN §4: ``segment_id`` carries the
element's XPath and ``segment_index`` its line, so the same UI and API that point at an
X12 segment point at an XML element. Messages never quote the document's content
beyond element names and short attribute values (no entity text, no file contents).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class XmlErrorCode(StrEnum):
    """The closed list of XML findings (names read like the problem)."""

    TOO_LARGE = "too_large"  # above the byte limit: not parsed at all
    NOT_WELL_FORMED = "not_well_formed"  # syntax, truncation, an encoding that lies
    DTD_FORBIDDEN = "dtd_forbidden"  # an internal DTD subset: entities, XXE, expansion
    TOO_DEEP = "too_deep"  # nesting beyond the depth limit
    NOT_CXML_OR_UBL = "not_cxml_or_ubl"  # well-formed, but no document kind we know
    UNSUPPORTED_DOCUMENT = "unsupported_document"  # cXML/UBL, but a kind we do not take
    DTD_INVALID = "dtd_invalid"  # cXML not valid against its DTD
    XSD_INVALID = "xsd_invalid"  # UBL not valid against the official XSD
    SCHEMA_NOT_FOUND = "schema_not_found"  # no DTD/XSD for this document in the schema dir
    UNKNOWN_SENDER = "unknown_sender"  # no partner profile has the sender's ids
    SENDER_MISMATCH = "sender_mismatch"  # the document names another partner than the login
    DUPLICATE_DOCUMENT_ID = "duplicate_document_id"  # payloadID / UBL ID reused, other content
    TRANSLATION_FAILED = "translation_failed"  # the map could not build a valid event


@dataclass(frozen=True)
class XmlFinding:
    code: XmlErrorCode
    message: str
    line: int | None = None
    xpath: str | None = None

    def to_dict(self) -> dict:
        """The per-error JSON of DESIGN §4 (``code`` is the enum member's name)."""
        return {
            "code": self.code.name,
            "message": self.text(),
            "segment_id": self.xpath,
            "segment_index": self.line,
            "element": None,
        }

    def text(self) -> str:
        """The message with its place, as a supplier reads it: ``line 14, /cXML/...: ...``."""
        where = ", ".join(p for p in (f"line {self.line}" if self.line else "", self.xpath or "") if p)
        return f"{where}: {self.message}" if where else self.message


class XmlRejected(Exception):
    """The document cannot go further; ``findings`` say why (at least one)."""

    def __init__(self, findings: list[XmlFinding]):
        super().__init__("; ".join(f.text() for f in findings[:3]))
        self.findings = findings
