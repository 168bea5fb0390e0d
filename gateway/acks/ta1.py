"""TA1 interchange acknowledgment: A (accepted), E (accepted with errors), R (rejected).

Sent when the partner asked for one (ISA14 = 1) or when the interchange envelope is
broken. TA105 is the note code of the first interchange-level finding.
"""

from __future__ import annotations

from datetime import datetime

from gateway.acks.writer import Party, SegmentWriter, isa_segment
from gateway.x12.model import Delimiters, Interchange


def build_ta1(inbound: Interchange, *, status: str, note_code: str, delimiters: Delimiters,
              sender: Party, receiver: Party, control_numbers, now: datetime) -> tuple[str, int]:
    """An ISA/TA1/IEA interchange answering ``inbound``; returns (text, our ISA13)."""
    if status not in ("A", "E", "R"):
        raise ValueError(f"TA104 must be A, E or R, not {status!r}")
    icn = control_numbers.next("interchange")
    w = SegmentWriter(delimiters)
    version = inbound.version if "00200" <= inbound.version <= "00801" else "00401"
    isa_segment(w, sender=sender, receiver=receiver, version=version, icn=icn,
                usage=inbound.usage, now=now)
    w.add("TA1", w.clean(inbound.control_number, 9).rjust(9, "0"), w.clean(inbound.date, 6),
          w.clean(inbound.time, 4), status, note_code)
    w.add("IEA", "0", f"{icn:09d}")
    return w.text(), icn
