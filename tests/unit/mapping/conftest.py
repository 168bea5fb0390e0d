"""Fixtures: a tiny X12 splitter for these tests only, used until ``gateway.x12.reader`` lands.

It trusts the envelope (fixed ISA positions, one delimiter set per interchange);
the real reader validates. ``read_interchanges`` prefers the real reader.
"""

from __future__ import annotations

import pytest

from gateway.x12.model import Delimiters, FunctionalGroup, Interchange, Segment, TransactionSet


def split_interchanges(data: bytes | str) -> list[Interchange]:
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    out = []
    start = text.find("ISA")
    while start != -1:
        elem, comp, term = text[start + 3], text[start + 104], text[start + 105]
        body_end = text.find(f"{term}", text.find(f"IEA{elem}", start))
        chunk = text[start : body_end + 1]
        out.append(_interchange(chunk, Delimiters(elem, term, comp), start))
        start = text.find("ISA", body_end + 1)
    return out


def _interchange(chunk: str, d: Delimiters, start: int) -> Interchange:
    segs = [s.strip("\r\n\t ") for s in chunk.split(d.segment)]
    segs = [s.split(d.element) for s in segs if s]
    isa = segs[0]
    ic = Interchange(d, isa[5], isa[6].strip(), isa[7], isa[8].strip(), isa[9], isa[10],
                     isa[12], isa[13], isa[14] == "1", isa[15], start=start)
    ts = None
    position = 0
    for parts in segs[1:]:
        tag, els = parts[0], parts[1:]
        if tag == "GS":
            ic.groups.append(FunctionalGroup(*els[:8]))
        elif tag == "ST":
            position = 1
            ts = TransactionSet(els[0], els[1], els[2] if len(els) > 2 else "")
            ts.segments.append(Segment(tag, els, position))
            ic.groups[-1].transactions.append(ts)
        elif tag in ("GE", "IEA"):
            continue
        elif ts is not None:
            position += 1
            ts.segments.append(Segment(tag, els, position))
    return ic


def read_interchanges(data: bytes) -> list[Interchange]:
    """The project's reader when present, else the splitter above."""
    try:
        from gateway.x12.reader import read_x12
    except ImportError:
        return split_interchanges(data)
    return list(read_x12(data).interchanges)


@pytest.fixture
def x12_reader():
    """``bytes -> list[Interchange]``."""
    return read_interchanges


@pytest.fixture
def interchange(x12_reader):
    """Build the one interchange of an X12 text."""
    def build(text: str) -> Interchange:
        return x12_reader(text.encode("latin-1"))[0]

    return build
