"""Writing outbound X12: segments, the ISA/IEA and GS/GE envelopes of our acknowledgments.

We answer with the delimiters the partner used (their system already parses them),
falling back to ``* ~ >`` when the inbound ones were unusable. Values copied from the
inbound data (bad values in AK4/IK4) are cleaned so they cannot break our own syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.x12.model import Delimiters

STANDARD = Delimiters(element="*", segment="~", component=">")
REPETITION_CANDIDATES = "^{|!`"
COMPONENT_CANDIDATES = ">:}\\"
# ISA16 and ISA11 are data: they must be in the version's extended character set
# (004010 lacks ^ and `, which 005010 added).
EXTENDED_00401 = set("!\"&'()*+,-./:;?= %~@[]_{}\\|<>#$")
EXTENDED_00501 = EXTENDED_00401 | {"^", "`"}


def _usable(d: Delimiters) -> bool:
    chars = (d.element, d.segment, d.component)
    return len(set(chars)) == 3 and all(len(c) == 1 and ord(c) < 0x80 and not c.isalnum()
                                        for c in chars)


def outbound_delimiters(inbound: Delimiters, version: str) -> Delimiters:
    """The inbound delimiters (or the standard ones) with a repetition separator for 00501."""
    d = inbound if _usable(inbound) else STANDARD
    allowed = EXTENDED_00501 if version >= "00501" else EXTENDED_00401
    component = d.component if d.component in allowed else next(
        c for c in COMPONENT_CANDIDATES if c not in (d.element, d.segment))
    d = Delimiters(d.element, d.segment, component, d.repetition)
    if version < "00402":
        return Delimiters(d.element, d.segment, d.component, None)
    used = (d.element, d.segment, d.component)
    rep = d.repetition if d.repetition and d.repetition not in used else next(
        c for c in REPETITION_CANDIDATES if c not in used)
    return Delimiters(d.element, d.segment, d.component, rep)


@dataclass(frozen=True)
class Party:
    qualifier: str
    id: str


class SegmentWriter:
    """Join elements into segments; trailing empty elements are dropped, as X12 requires."""

    def __init__(self, d: Delimiters):
        self.d = d
        specials = {d.element, d.segment, d.component, d.repetition or ""}
        self._specials = {c for c in specials if c}
        self.segments: list[str] = []

    def clean(self, value: str, max_len: int = 99) -> str:
        """A value echoed from inbound data, safe to embed: printable ASCII, no delimiters."""
        out = "".join("?" if c in self._specials or not " " <= c <= "~" else c for c in value)
        return out[:max_len]

    def add(self, tag: str, *elements: str) -> None:
        values = list(elements)
        while values and values[-1] == "":
            values.pop()
        self.segments.append(self.d.element.join([tag, *values]) + self.d.segment)

    def text(self) -> str:
        return "".join(self.segments)


def isa_segment(w: SegmentWriter, *, sender: Party, receiver: Party, version: str, icn: int,
                usage: str, now: datetime) -> None:
    d = w.d
    w.add("ISA", "00", " " * 10, "00", " " * 10,
          w.clean(sender.qualifier, 2).ljust(2), w.clean(sender.id.strip(), 15).ljust(15),
          w.clean(receiver.qualifier, 2).ljust(2), w.clean(receiver.id.strip(), 15).ljust(15),
          now.strftime("%y%m%d"), now.strftime("%H%M"), d.repetition or "U", version,
          f"{icn:09d}", "0", usage if usage in ("P", "T", "I") else "P", d.component)


def group_header(w: SegmentWriter, *, app_sender: str, app_receiver: str, gcn: int,
                 version: str, now: datetime) -> None:
    w.add("GS", "FA", app_sender or " ", app_receiver or " ", now.strftime("%Y%m%d"),
          now.strftime("%H%M"), str(gcn), "X", version)
