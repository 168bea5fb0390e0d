"""The X12 envelope model: interchange > functional group > transaction set > segment.

Sans-IO value types shared by the reader (``gateway.x12.reader``), the ack builders
(``gateway.acks``) and the translator (``gateway.mapping``). Nothing here reads files
or talks to a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Delimiters:
    """The separators an interchange declares in its ISA header."""

    element: str
    segment: str
    component: str
    repetition: str | None = None  # ISA11 from 00402 on; None when ISA11 is the 'U' standards id


@dataclass
class Segment:
    """One segment. ``elements[0]`` is the first data element (XX01), not the tag.

    ``position`` is the 1-based ordinal within the transaction set (ST = 1), which is
    what AK3/IK3 report; for envelope segments (ISA, GS, GE, IEA) it is 0.
    ``offset`` is the byte offset of the segment's first byte in the received file.
    """

    tag: str
    elements: list[str]
    position: int = 0
    offset: int = 0

    def get(self, n: int, default: str = "") -> str:
        """Element ``n`` (1-based, as in ``BEG03``), or ``default`` when absent or empty."""
        if 1 <= n <= len(self.elements) and self.elements[n - 1] != "":
            return self.elements[n - 1]
        return default

    def component(self, n: int, c: int, separator: str, default: str = "") -> str:
        """Component ``c`` (1-based) of composite element ``n``."""
        parts = self.get(n).split(separator) if separator else [self.get(n)]
        if 1 <= c <= len(parts) and parts[c - 1] != "":
            return parts[c - 1]
        return default


@dataclass
class TransactionSet:
    """ST..SE: one business document (an 850, an 855, ...)."""

    set_id: str  # ST01
    control_number: str  # ST02
    implementation_reference: str = ""  # ST03 (005010 and later)
    segments: list[Segment] = field(default_factory=list)  # ST first, SE last when present
    start: int = 0  # byte offset of the ST in the received file (to re-read a streamed set)


@dataclass
class FunctionalGroup:
    """GS..GE: transaction sets of one functional id (PO, PR, SH, IN, FA)."""

    functional_id: str  # GS01
    sender: str  # GS02
    receiver: str  # GS03
    date: str  # GS04
    time: str  # GS05
    control_number: str  # GS06
    agency: str  # GS07
    version: str  # GS08, e.g. 004010, 004010VICS, 005010
    transactions: list[TransactionSet] = field(default_factory=list)


@dataclass
class Interchange:
    """ISA..IEA: one envelope between two trading partners."""

    delimiters: Delimiters
    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06, trailing spaces stripped
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08, trailing spaces stripped
    date: str  # ISA09 YYMMDD
    time: str  # ISA10 HHMM
    version: str  # ISA12, e.g. 00401
    control_number: str  # ISA13
    ack_requested: bool  # ISA14 == "1"
    usage: str  # ISA15: P production, T test
    groups: list[FunctionalGroup] = field(default_factory=list)
    start: int = 0  # byte offset of "ISA" in the received file
    end: int = 0  # byte offset just past the IEA terminator (or end of data)
