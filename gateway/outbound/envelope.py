"""Envelope one outbound transaction set: ISA/GS/ST ... SE/GE/IEA with our control numbers.

Sans-IO: the control-number source and the clock are passed in (as for our acks).
We write the standard delimiters ``* ~ >``; a value that contains one of them, or a
character outside printable ASCII, is refused rather than altered: a PO must reach the
supplier as the ERP wrote it, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.acks.numbers import take_numbers
from gateway.acks.writer import STANDARD, Party, SegmentWriter, isa_segment
from gateway.domain.partner import PartnerProfile


class EnvelopeError(ValueError):
    """A value cannot be written in X12 as it is; the message names the segment."""


@dataclass(frozen=True)
class Enveloped:
    text: str
    interchange_control_number: str  # ISA13 as written (9 digits)
    group_control_number: str  # GS06
    transaction_control_number: str  # ST02


def envelope(partner: PartnerProfile, segments: list[tuple[str, list[str]]], *, set_id: str, version: str,
             functional_id: str, control_numbers, now: datetime, usage: str = "P") -> Enveloped:
    """One interchange holding one group holding one set, from us to ``partner``."""
    _check_values(segments)
    numbers = take_numbers(control_numbers, {"interchange": 1, "group": 1, "transaction": 1})
    icn, gcn, tcn = (numbers[n][0] for n in ("interchange", "group", "transaction"))
    w = SegmentWriter(STANDARD)
    us, them = partner.our_x12, partner.x12
    isa_segment(w, sender=Party(us.qualifier, us.id), receiver=Party(them.qualifier, them.id),
                version="00501" if version >= "005" else "00401", icn=icn, usage=usage, now=now)
    w.add("GS", functional_id, (us.group_ids or (us.id,))[0], (them.group_ids or (them.id,))[0],
          now.strftime("%Y%m%d"), now.strftime("%H%M"), str(gcn), "X", version)
    st02 = f"{tcn:04d}"
    w.add("ST", set_id, st02)
    for tag, elements in segments:
        w.add(tag, *elements)
    w.add("SE", str(len(segments) + 2), st02)
    w.add("GE", "1", str(gcn))
    w.add("IEA", "1", f"{icn:09d}")
    return Enveloped("\n".join(w.segments) + "\n", f"{icn:09d}", str(gcn), st02)


def _check_values(segments: list[tuple[str, list[str]]]) -> None:
    reserved = {STANDARD.element, STANDARD.segment, STANDARD.component}
    for tag, elements in segments:
        for i, value in enumerate(elements, 1):
            bad = sorted({c for c in value if c in reserved or not " " <= c <= "~"})
            if bad:
                raise EnvelopeError(f"{tag}{i:02d} {value!r} contains {', '.join(map(repr, bad))}, which X12 "
                                    f"cannot carry here (delimiters or characters outside printable ASCII)")
