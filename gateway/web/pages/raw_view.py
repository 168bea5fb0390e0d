"""The raw document as numbered segments, with the failing segment and element marked.

Sans-IO: bytes and the stored findings in, lines out. Findings point into a transaction
set by ``segment_index`` (1-based, ST = 1, as AK3 reports) and ``element`` (``ACK05``);
the reader gives each set segment its byte offset, which is how a line of the file is
tied to a finding. Bytes are shown as Latin-1 so every byte stays one visible character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gateway.x12.reader import read_x12

MAX_LINES = 5000  # beyond this the page would be too heavy: download the raw file instead
_ELEMENT = re.compile(r"^([A-Z][A-Z0-9]{1,2}?)(\d{2})(?:-\d{2})?$")
_SKIP = b" \t\r\n"


@dataclass
class Line:
    number: int  # 1-based over the whole file, envelope segments included
    tag: str
    elements: list[str]  # elements[0] is the tag, as in the file
    separator: str = "*"
    terminator: str = "~"
    set_ref: str | None = None  # "855 0001 #8": the set and the position a finding would name
    bad_elements: set[int] = field(default_factory=set)  # 1-based element positions to mark
    findings: list[dict] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        return bool(self.findings)


@dataclass
class RawView:
    lines: list[Line]
    truncated: bool = False
    text: str | None = None  # a non-X12 document, shown as text


def element_position(ref: str | None, segment_id: str) -> int | None:
    """``ACK05`` of an ``ACK`` segment is 5; anything else is None."""
    m = _ELEMENT.match(ref or "")
    return int(m.group(2)) if m and m.group(1) == segment_id else None


def raw_view(data: bytes, transactions: list[dict]) -> RawView:
    """``transactions`` are the stored sets (``group_control_number``, ``control_number``,
    ``set_id``, ``errors``), as :func:`gateway.store.views.document_detail` gives them."""
    result = read_x12(data)
    if not result.is_x12 or not result.interchanges:
        return RawView([], text=data[:2_000_000].decode("utf-8", errors="replace"))
    where: dict[int, tuple[str, str, str, int]] = {}
    for ic in result.interchanges:
        for g in ic.groups:
            for t in g.transactions:
                for seg in t.segments:
                    where[seg.offset] = (g.control_number, t.control_number, t.set_id, seg.position)
    findings: dict[tuple[str, str, int], list[dict]] = {}
    for t in transactions:
        for e in t.get("errors") or []:
            if e.get("segment_index"):
                findings.setdefault((t["group_control_number"], t["control_number"], e["segment_index"]), []).append(e)
    lines: list[Line] = []
    for ic in result.interchanges:
        d = ic.delimiters
        term = d.segment.encode("latin-1")
        offset = ic.start
        for piece in data[ic.start:ic.end].split(term):
            start = offset + len(piece) - len(piece.lstrip(_SKIP))
            offset += len(piece) + len(term)
            text = piece.strip(_SKIP).decode("latin-1")
            if not text:
                continue
            if len(lines) >= MAX_LINES:
                return RawView(lines, truncated=True)
            elements = text.split(d.element)
            line = Line(len(lines) + 1, elements[0], elements, d.element, d.segment)
            if start in where:
                group_cn, set_cn, set_id, position = where[start]
                line.set_ref = f"{set_id} {set_cn} #{position}"
                line.findings = findings.get((group_cn, set_cn, position), [])
                line.bad_elements = {p for f in line.findings
                                     if (p := element_position(f.get("element"), line.tag)) is not None}
            lines.append(line)
    return RawView(lines)
