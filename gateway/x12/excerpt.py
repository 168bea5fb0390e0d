"""Parts of a streamed X12 file read back by byte range, never the whole file.

When a large file was validated as a stream (segments not kept), the worker still
needs, for each accepted transaction set, that set's segments (to translate it) and
each interchange's SHA-256 (to recognise a resent interchange). Both are read here
from the seekable binary file, one chunk at a time: memory is one set, not the file.
"""

from __future__ import annotations

import hashlib
from typing import BinaryIO

from gateway.x12.model import Interchange, Segment, TransactionSet
from gateway.x12.tokenizer import CHUNK, WHITESPACE


def interchange_sha256(source: BinaryIO, ic: Interchange) -> str:
    """SHA-256 of the interchange's bytes [ic.start, ic.end) (end of data when 0)."""
    digest = hashlib.sha256()
    source.seek(ic.start)
    remaining = (ic.end - ic.start) if ic.end else None
    while remaining is None or remaining > 0:
        chunk = source.read(CHUNK if remaining is None else min(CHUNK, remaining))
        if not chunk:
            break
        digest.update(chunk)
        if remaining is not None:
            remaining -= len(chunk)
    return digest.hexdigest()


def set_segments(source: BinaryIO, ic: Interchange, ts: TransactionSet) -> list[Segment]:
    """The segments of ``ts`` (ST..SE, positions 1..n), read from ``ts.start`` as the
    reader tokenized them: line breaks and indentation between segments dropped, a CR
    before a LF terminator dropped."""
    d = ic.delimiters
    term = d.segment.encode("latin-1")
    skippable = bytes(c for c in WHITESPACE if chr(c) not in (d.segment, d.element, d.component))
    source.seek(ts.start)
    out: list[Segment] = []
    pending = b""
    offset = ts.start
    while True:
        chunk = source.read(CHUNK)
        pieces = (pending + chunk).split(term)
        pending = pieces.pop() if chunk else b""
        for piece in pieces:
            at = offset + len(piece) - len(piece.lstrip(skippable))
            offset += len(piece) + len(term)
            data = piece.lstrip(skippable)
            if term == b"\n" and data.endswith(b"\r"):
                data = data[:-1]
            if not data:
                continue
            fields = data.decode("latin-1").split(d.element)
            out.append(Segment(fields[0], fields[1:], len(out) + 1, at))
            if fields[0] == "SE":
                return out
        if not chunk:
            return out
