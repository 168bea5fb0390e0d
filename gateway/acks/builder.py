"""``build_acknowledgments``: every TA1/997/999 one inbound interchange calls for.

Policy (X12 practice, stated here because callers rely on it):

* No ack can be addressed when the data is not X12 or the ISA sender is unreadable: [].
* Acknowledgments are never acknowledged: FA groups get no 997/999, and an interchange
  holding only TA1s or FA groups gets nothing at all (no ack loops).
* TA1 when ISA14 = 1 or an interchange-level (or file-level) error exists. TA104 = R
  with the first error's code; then the interchange is rejected as a whole and no
  997/999 follows. A GS whose GS01/GS06 an AK1 cannot echo is TA105 024 (invalid GS).
  Only warnings -> TA104 = E (sent only if ISA14 = 1).
* Otherwise one 997 interchange for the groups acknowledged with a 997 (versions before
  005010) and one 999 interchange for 005010+ groups; ``prefer`` forces either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from gateway.acks.functional import build_functional_ack
from gateway.acks.report import group_reports
from gateway.acks.ta1 import build_ta1
from gateway.acks.writer import Party, outbound_delimiters
from gateway.x12.findings import Finding, Level
from gateway.x12.findings import FindingCode as C
from gateway.x12.model import FunctionalGroup
from gateway.x12.reader import X12ReadResult

ENVELOPE_LEVELS = (Level.FILE, Level.INTERCHANGE)
ADDRESSABLE_ID, ADDRESSABLE_CN = re.compile(r"[A-Z0-9]{2}"), re.compile(r"\d{1,9}")


class ControlNumbers(Protocol):
    def next(self, name: str) -> int:
        """The next number of sequence ``name``: interchange, group or transaction."""


@dataclass(frozen=True)
class Ack:
    """One acknowledgment interchange to send back."""

    kind: str  # "TA1", "997" or "999"
    text: str  # the whole ISA..IEA interchange
    interchange_control_number: int  # our ISA13
    acknowledged_control_number: str = ""  # the inbound ISA13 it answers


def _addressable(group: FunctionalGroup) -> bool:
    """AK101/AK102 must echo GS01 (2 characters) and GS06 (1-9 digits)."""
    return bool(ADDRESSABLE_ID.fullmatch(group.functional_id)
                and ADDRESSABLE_CN.fullmatch(group.control_number))


def ack_kind(version: str, prefer: str | None) -> str:
    """997 for versions before 005010, 999 from 005010 on, unless the partner prefers."""
    if prefer in ("997", "999"):
        return prefer
    return "999" if version[:6].isdigit() and version[:6] >= "005010" else "997"


def build_acknowledgments(result: X12ReadResult, interchange_index: int, *, our_qualifier: str,
                          our_id: str, control_numbers: ControlNumbers,
                          prefer: str | None = None, extra_findings: Iterable[Finding] = (),
                          now: datetime | None = None) -> list[Ack]:
    """The acks for interchange ``interchange_index`` of ``result`` (see module doc)."""
    if not result.is_x12 or not 0 <= interchange_index < len(result.interchanges):
        return []
    ic = result.interchanges[interchange_index]
    if not ic.sender_id.strip() or not ic.sender_qualifier.strip():
        return []
    groups = [g for g in ic.groups if g.functional_id != "FA"]
    if not groups and (ic.groups or result.ta1.get(interchange_index)):
        return []  # an acknowledgment-only interchange
    now = now or datetime.now(UTC)
    findings = [f for f in [*result.findings, *extra_findings]
                if f.interchange_index == interchange_index]
    me, partner = Party(our_qualifier, our_id), Party(ic.sender_qualifier, ic.sender_id)
    envelope = [f for f in findings if f.level in ENVELOPE_LEVELS and f.code.code]
    errors = [f for f in envelope if f.is_error]
    codes = [f.code.code for f in errors]
    if any(not _addressable(g) for g in groups):
        codes.append(C.INVALID_INTERCHANGE_CONTENT.code)  # a GS no AK1 can point at
    acks: list[Ack] = []
    if codes or ic.ack_requested:
        status, code = ("R", codes[0]) if codes else \
            ("E", envelope[0].code.code) if envelope else ("A", "000")
        text, icn = build_ta1(ic, status=status, note_code=code, sender=me, receiver=partner,
                              delimiters=outbound_delimiters(ic.delimiters, ic.version),
                              control_numbers=control_numbers, now=now)
        acks.append(Ack("TA1", text, icn, ic.control_number))
        if codes:
            return acks
    reports = [r for r in group_reports(ic, findings) if r.group.functional_id != "FA"]
    for kind in ("997", "999"):
        mine = [r for r in reports if ack_kind(r.group.version, prefer) == kind]
        if mine:
            version = "00401" if kind == "997" else "00501"
            text, icn = build_functional_ack(
                kind, mine, delimiters=outbound_delimiters(ic.delimiters, version), sender=me,
                receiver=partner, usage=ic.usage, control_numbers=control_numbers, now=now)
            acks.append(Ack(kind, text, icn, ic.control_number))
    return acks
