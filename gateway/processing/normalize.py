"""A streaming view of one interchange as pyx12 wants to read it.

Reads the interchange's byte range from a binary file in chunks and hands out ASCII
text with nothing between segments and ISA11/ISA12 set to what pyx12 accepts, so a
200 MB interchange is validated without holding it in memory.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from gateway.x12.model import Interchange

CHUNK = 64 * 1024


def pyx12_isa_version(ic: Interchange) -> tuple[str, str]:
    """(data version for the map directory, ISA12 to present to pyx12)."""
    version = ic.groups[0].version if ic.groups else ""
    return ("005010", "00501") if version.startswith("005") else ("004010", "00401")


class NormalizedInterchange(io.TextIOBase):
    def __init__(self, fh: BinaryIO, ic: Interchange, end: int | None = None):
        self.fh = fh
        self.fh.seek(ic.start)
        self.remaining = (end if end is not None else ic.end) - ic.start
        self.term = ic.delimiters.segment
        self.strip = " \r\n\t".replace(ic.delimiters.element, "").replace(self.term, "")
        _, self.isa12 = pyx12_isa_version(ic)
        self.pending = ""  # an unfinished segment carried to the next chunk
        self.out = ""
        self.first = True

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        if self.remaining <= 0:
            if self.pending.strip(self.strip):
                self.out += self.pending.strip(self.strip) + self.term
            self.pending = ""
            return False
        raw = self.fh.read(min(CHUNK, self.remaining))
        if not raw:
            self.remaining = 0
            return self._fill()
        self.remaining -= len(raw)
        pieces = (self.pending + raw.decode("ascii")).split(self.term)
        self.pending = pieces.pop()
        for piece in pieces:
            piece = piece.strip(self.strip)
            if not piece:
                continue
            if self.first:
                piece = self._patch_isa(piece)
                self.first = False
            self.out += piece + self.term
        return True

    def _patch_isa(self, isa: str) -> str:
        isa = isa[isa.find("ISA"):]
        if len(isa) < 105:
            return isa
        isa11 = "U" if self.isa12 == "00401" else isa[82]
        return isa[:82] + isa11 + isa[83:84] + self.isa12 + isa[89:]

    def read(self, size: int = -1) -> str:
        while (size < 0 or len(self.out) < size) and self._fill():
            pass
        if size < 0:
            size = len(self.out)
        chunk, self.out = self.out[:size], self.out[size:]
        return chunk
