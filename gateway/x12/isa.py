"""The ISA header: delimiters from fixed positions, and the checks on its 16 elements.

The ISA is the only fixed-width X12 segment: 106 bytes, element separator at byte 3,
component separator (ISA16) at byte 104, segment terminator at byte 105. Files whose
ISA fields are not padded are genuinely malformed; they are still *read* (by counting
element separators) so that the error can name the sender, but always reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from gateway.x12.findings import FindingCode as C
from gateway.x12.findings import Severity
from gateway.x12.model import Delimiters

ISA_LENGTH = 106
# Offsets of the 16 element separators in a well-formed ISA.
SEPARATOR_POSITIONS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
# ISA12 versions we read (00200 .. 00801); others are noted, since real files carry
# typos such as 00040 that do not stop a group from being understood.
MIN_VERSION, MAX_VERSION = 200, 801


@dataclass
class IsaHeader:
    """A parsed ISA. ``problems`` are (code, message, severity) for the reader to report."""

    elements: list[str]
    delimiters: Delimiters
    length: int  # bytes from "ISA" to the terminator, exclusive
    fixed: bool  # True when the 106-byte layout holds
    problems: list[tuple[C, str, Severity]] = field(default_factory=list)

    def get(self, n: int) -> str:
        return self.elements[n - 1] if n <= len(self.elements) else ""


def _bad_delimiter(b: int) -> bool:
    """Delimiters must be one ASCII byte that cannot occur in data: no letter or digit."""
    return b >= 0x80 or chr(b).isalnum()


def parse_isa(head: bytes) -> IsaHeader | None:
    """Parse the ISA at the start of ``head`` (which holds at least 106 bytes when the
    data has them). Returns None when no ISA can be made out at all."""
    if len(head) < 4 or head[:3] != b"ISA":
        return None
    sep = head[3]
    fixed = len(head) >= ISA_LENGTH and all(head[p] == sep for p in SEPARATOR_POSITIONS) \
        and head[4:103].count(sep) == len(SEPARATOR_POSITIONS) - 2
    if fixed:
        length, comp, term = 105, head[104], head[105]
    else:
        # Count separators instead: ISA16 is the byte after the 16th, the terminator next.
        positions = [i for i, b in enumerate(head[:512]) if b == sep][:16]
        if len(positions) < 16 or positions[-1] + 2 >= len(head):
            return None
        length = positions[-1] + 2
        comp, term = head[length - 1], head[length]
    text = head[4:length - 2].decode("latin-1")
    elements = text.split(chr(sep)) + [chr(comp)]
    rep = elements[10] if len(elements) > 10 else "U"
    delimiters = Delimiters(
        element=chr(sep), segment=chr(term), component=chr(comp),
        repetition=rep if rep != "U" and len(rep) == 1 and not rep.isalnum() else None,
    )
    isa = IsaHeader(elements, delimiters, length, fixed)
    if not fixed:
        isa.problems.append((C.INVALID_CONTROL_STRUCTURE,
                             f"ISA is {length + 1} bytes long; it must be exactly 106 "
                             "(every ISA field padded to its fixed width)", Severity.ERROR))
    _check_delimiters(isa, sep, comp, term)
    _check_elements(isa)
    return isa


def _check_delimiters(isa: IsaHeader, sep: int, comp: int, term: int) -> None:
    add = isa.problems.append
    if term == sep:
        add((C.INVALID_ELEMENT_SEPARATOR, f"the element separator {chr(sep)!r} is also the "
             "segment terminator (ISA byte 106), so segments cannot be told apart", Severity.ERROR))
    elif _bad_delimiter(term):
        add((C.INVALID_SEGMENT_TERMINATOR, f"segment terminator byte 0x{term:02X} (ISA byte 106) "
             "is not a valid delimiter: it must be one ASCII character that is not a letter "
             "or digit", Severity.ERROR))
    if _bad_delimiter(sep):
        add((C.INVALID_ELEMENT_SEPARATOR, f"element separator byte 0x{sep:02X} (ISA byte 4) is "
             "not a valid delimiter", Severity.ERROR))
    if comp in (sep, term) or _bad_delimiter(comp):
        add((C.INVALID_COMPONENT_SEPARATOR, f"component separator (ISA16) {chr(comp)!r} is not a "
             "valid delimiter or equals another delimiter", Severity.ERROR))


def _date_ok(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def _check_elements(isa: IsaHeader) -> None:
    add = isa.problems.append
    if len(isa.elements) != 16:
        add((C.INVALID_CONTROL_STRUCTURE, f"ISA has {len(isa.elements)} elements; it must "
             "have 16", Severity.ERROR))
        return
    g = isa.get
    e = Severity.ERROR
    if not re.fullmatch(r"\d\d", g(1)):
        add((C.INVALID_AUTHORIZATION_QUALIFIER, f"ISA01 {g(1)!r} is not a 2-digit qualifier", e))
    if not re.fullmatch(r"\d\d", g(3)):
        add((C.INVALID_SECURITY_QUALIFIER, f"ISA03 {g(3)!r} is not a 2-digit qualifier", e))
    for qual, ident, cq, ci, who in ((5, 6, C.INVALID_SENDER_QUALIFIER, C.INVALID_SENDER_ID,
                                      "sender"),
                                     (7, 8, C.INVALID_RECEIVER_QUALIFIER,
                                      C.INVALID_RECEIVER_ID, "receiver")):
        if not re.fullmatch(r"[A-Za-z0-9]{2}", g(qual)):
            add((cq, f"ISA{qual:02d} {g(qual)!r} is not a valid {who} id qualifier", e))
        if not g(ident).strip():
            add((ci, f"ISA{ident:02d} ({who} id) is empty", e))
    if not _date_ok(g(9), "%y%m%d") or len(g(9)) != 6:
        add((C.INVALID_INTERCHANGE_DATE, f"ISA09 {g(9)!r} is not a date (YYMMDD)", e))
    if not _date_ok(g(10), "%H%M") or len(g(10)) != 4:
        add((C.INVALID_INTERCHANGE_TIME, f"ISA10 {g(10)!r} is not a time (HHMM)", e))
    if not re.fullmatch(r"\d{5}", g(12)):
        add((C.INVALID_CONTROL_VERSION, f"ISA12 {g(12)!r} is not a 5-digit version", e))
    elif not MIN_VERSION <= int(g(12)) <= MAX_VERSION:
        add((C.INVALID_CONTROL_VERSION, f"ISA12 {g(12)!r} is outside the versions 00200-00801; "
             "read as 00401", Severity.WARNING))
    if not re.fullmatch(r"\d{9}", g(13)):
        add((C.INVALID_INTERCHANGE_CONTROL_NUMBER, f"ISA13 {g(13)!r} is not a 9-digit "
             "control number", e))
    if g(14) not in ("0", "1"):
        add((C.INVALID_ACKNOWLEDGMENT_REQUESTED, f"ISA14 {g(14)!r} must be 0 or 1", e))
    if g(15) not in ("P", "T", "I"):
        add((C.INVALID_USAGE_INDICATOR, f"ISA15 {g(15)!r} must be P (production) or T (test)", e))
