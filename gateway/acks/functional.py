"""997 and 999 functional acknowledgments, one ack group per inbound functional group.

A 997 (004010) answers with AK1/AK2/AK3/AK4/AK5/AK9; a 999 (005010X231A1) with
AK1/AK2/IK3/IK4/IK5/AK9 and the implementation references (AK103, AK203, ST03). Codes
come from the findings enum (``FindingCode.x12_code``), never from message text.
"""

from __future__ import annotations

import re
from datetime import datetime

from gateway.acks.numbers import take_numbers
from gateway.acks.report import GroupReport, SetReport
from gateway.acks.writer import Party, SegmentWriter, group_header, isa_segment
from gateway.x12.model import Delimiters

X231 = "005010X231A1"
MAX_CODES = 5  # AK502..AK506, AK905..AK909
MAX_ELEMENT_ERRORS = 99  # AK4/IK4 repeat per segment
SET_ID, SET_CN = re.compile(r"[A-Z0-9]{3}"), re.compile(r"[A-Za-z0-9]{4,9}")


def addressable(r: SetReport) -> bool:
    """AK201/AK202 must echo ST01 (3 characters) and ST02 (4-9); a set whose header is too
    broken for that gets no AK2 and counts as received but not accepted in AK9."""
    return bool(SET_ID.fullmatch(r.tset.set_id) and SET_CN.fullmatch(r.tset.control_number))


def segment_id(tag: str) -> str:
    """AK301/IK301 is 2-3 letters or digits; an unrecognizable tag is shown as UNK."""
    cleaned = re.sub(r"[^A-Z0-9]", "", tag.upper())[:3]
    return cleaned if len(cleaned) >= 2 and cleaned == tag else "UNK"


def reference_number(num: str | None) -> str:
    """AK402/IK402: the data element reference number (1-4 digits), or empty when the
    finding names none (a composite, or a validator that does not know it)."""
    return num if num and num.isdigit() and len(num) <= 4 else ""


def _set_segments(w: SegmentWriter, kind: str, r: SetReport) -> None:
    t = r.tset
    ak3, ak4, ak5 = ("AK3", "AK4", "AK5") if kind == "997" else ("IK3", "IK4", "IK5")
    w.add("AK2", w.clean(t.set_id, 3), w.clean(t.control_number, 9),
          w.clean(t.implementation_reference, 35) if kind == "999" else "")
    comp = w.d.component
    for seg in r.segments:
        w.add(ak3, segment_id(seg.segment_id), str(seg.position), "",
              seg.segment_code.x12_code(kind))
        for f in seg.elements[:MAX_ELEMENT_ERRORS]:
            pos = str(f.element_position)
            if f.component_position:
                pos += comp + str(f.component_position)
            w.add(ak4, pos, reference_number(f.element_reference), f.code.x12_code(kind),
                  w.clean(f.value or ""))
    codes = [c.x12_code(kind) for c in r.codes][:MAX_CODES]
    w.add(ak5, "A" if r.accepted else "R", *codes)


def _group_segments(w: SegmentWriter, kind: str, r: GroupReport, *, gcn: int, tcn: int,
                    now: datetime) -> None:
    g = r.group
    version = "004010" if kind == "997" else X231
    group_header(w, app_sender=w.clean(g.receiver.strip(), 15),
                 app_receiver=w.clean(g.sender.strip(), 15),
                 gcn=gcn, version=version, now=now)
    start = len(w.segments)
    w.add("ST", kind, f"{tcn:04d}", X231 if kind == "999" else "")
    w.add("AK1", w.clean(g.functional_id, 2), w.clean(g.control_number, 9),
          w.clean(g.version, 12) if kind == "999" else "")
    for s in r.sets:
        if addressable(s):
            _set_segments(w, kind, s)
    declared = r.declared_sets if r.declared_sets is not None else r.received
    w.add("AK9", r.status, str(declared), str(r.received), str(r.accepted),
          *[c.x12_code(kind) for c in r.codes][:MAX_CODES])
    w.add("SE", str(len(w.segments) - start + 1), f"{tcn:04d}")
    w.add("GE", "1", str(gcn))


def build_functional_ack(kind: str, reports: list[GroupReport], *, delimiters: Delimiters,
                         sender: Party, receiver: Party, usage: str, control_numbers,
                         now: datetime) -> tuple[str, int]:
    """A whole ISA..IEA interchange holding one 997 or 999 group per report.

    Returns (X12 text, our interchange control number). ``control_numbers`` supplies our
    ISA13 ("interchange"), GS06 ("group") and ST02 ("transaction"), all in one go
    (:func:`~gateway.processing.control_numbers.take_numbers`).
    """
    if kind not in ("997", "999"):
        raise ValueError(f"kind must be 997 or 999, not {kind!r}")
    numbers = take_numbers(control_numbers, {"interchange": 1, "group": len(reports), "transaction": len(reports)})
    icn = numbers["interchange"][0]
    w = SegmentWriter(delimiters)
    isa_segment(w, sender=sender, receiver=receiver, version="00401" if kind == "997" else "00501",
                icn=icn, usage=usage, now=now)
    for r, gcn, tcn in zip(reports, numbers.get("group", []), numbers.get("transaction", []), strict=True):
        _group_segments(w, kind, r, gcn=gcn, tcn=tcn, now=now)
    w.add("IEA", str(len(reports)), f"{icn:09d}")
    return w.text(), icn


def build_997(reports: list[GroupReport], **envelope) -> tuple[str, int]:
    """004010 997 for ``reports``; see :func:`build_functional_ack` for the keywords."""
    return build_functional_ack("997", reports, **envelope)


def build_999(reports: list[GroupReport], **envelope) -> tuple[str, int]:
    """005010X231A1 999 for ``reports``; see :func:`build_functional_ack`."""
    return build_functional_ack("999", reports, **envelope)
