"""Streaming byte source for the X12 reader: chunked reads, segment splitting.

Sans-IO in spirit: it only pulls bytes from ``bytes`` or an already open binary file
object, and keeps at most one segment (bounded by ``max_segment_bytes``) plus one read
chunk in memory, whatever the size of the input.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 64 * 1024
WHITESPACE = b" \t\r\n"


@dataclass
class RawSegment:
    """One terminator-delimited piece of the input.

    ``data`` is the segment without its terminator (leading line breaks and
    indentation already removed). ``length`` is the byte length it really had: larger
    than ``len(data)`` when the segment was oversized and only a preview was kept.
    ``terminated`` is False for a last segment cut off by the end of the data.
    """

    data: bytes
    offset: int
    length: int
    terminated: bool = True

    @property
    def oversized(self) -> bool:
        return self.length > len(self.data)


class ByteSource:
    """Pull-based reader with an absolute byte offset.

    ``buf[pos:]`` is unread data; ``base`` is the absolute offset of ``buf[0]``.
    Consumed bytes are dropped once they are half the buffer, so the cost stays linear.
    """

    def __init__(self, source: bytes | bytearray | BinaryIO, chunk_size: int = CHUNK):
        self._file = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
        self._chunk = chunk_size
        self.buf = bytearray()
        self.pos = 0
        self.base = 0
        self.eof = False

    def tell(self) -> int:
        return self.base + self.pos

    def available(self) -> int:
        return len(self.buf) - self.pos

    def fill(self) -> bool:
        """Read one more chunk; False at end of data."""
        if self.eof:
            return False
        if self.pos > CHUNK and self.pos * 2 > len(self.buf):
            del self.buf[: self.pos]
            self.base += self.pos
            self.pos = 0
        try:
            chunk = self._file.read(self._chunk)
        except (OSError, ValueError):  # a closed or broken stream ends the data, it does not raise
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def ensure(self, n: int) -> bool:
        """Make at least ``n`` unread bytes available if the data has them."""
        while self.available() < n and self.fill():
            pass
        return self.available() >= n

    def peek(self, n: int) -> bytes:
        self.ensure(n)
        return bytes(self.buf[self.pos : self.pos + n])

    def skip(self, n: int) -> None:
        self.pos += n

    def skip_bytes(self, skippable: bytes) -> int:
        """Skip any run of ``skippable`` bytes (line breaks, indentation); return the count."""
        skipped = 0
        while True:
            if self.pos >= len(self.buf) and not self.fill():
                return skipped
            start = self.pos
            while self.pos < len(self.buf) and self.buf[self.pos] in skippable:
                self.pos += 1
            skipped += self.pos - start
            if self.pos < len(self.buf):
                return skipped

    def discard_until(self, needle: bytes) -> tuple[int, bool]:
        """Drop bytes up to and including the next ``needle``.

        Returns (bytes dropped before the needle, needle found). Only the current
        chunk is held while searching, so memory stays bounded.
        """
        dropped = 0
        while True:
            hit = self.buf.find(needle, self.pos)
            if hit >= 0:
                dropped += hit - self.pos
                self.pos = hit + len(needle)
                return dropped, True
            cut = max(self.pos, len(self.buf) - len(needle) + 1)
            dropped += cut - self.pos
            self.pos = cut
            if not self.fill():
                dropped += len(self.buf) - self.pos
                self.pos = len(self.buf)
                return dropped, False

    def next_segment(self, terminator: bytes, max_bytes: int, skippable: bytes) -> RawSegment | None:
        """The next segment, or None at the end of the data.

        ``skippable`` bytes (line breaks and indentation that are not delimiters) are
        dropped before the segment. A segment longer than ``max_bytes`` is skipped up to
        its terminator without being held; only a short preview is returned, so a
        1 MB segment or 50 MB without any terminator costs one pass and one chunk.
        """
        self.skip_bytes(skippable)
        if self.pos >= len(self.buf) and not self.fill():
            return None
        offset = self.tell()
        rel = 0
        while True:
            hit = self.buf.find(terminator, self.pos + rel)
            if hit >= 0 and hit - self.pos <= max_bytes:
                data = bytes(self.buf[self.pos : hit])
                self.pos = hit + len(terminator)
                return RawSegment(data, offset, len(data))
            if hit >= 0 or self.available() > max_bytes:
                preview = bytes(self.buf[self.pos : self.pos + 64])
                length, found = self.discard_until(terminator)
                return RawSegment(preview, offset, length, terminated=found)
            rel = self.available()
            if not self.fill():
                data = bytes(self.buf[self.pos :])
                self.pos = len(self.buf)
                return RawSegment(data, offset, len(data), terminated=False)
