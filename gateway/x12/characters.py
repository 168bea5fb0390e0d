"""Character checks: X12 data is ASCII (basic and extended character sets).

Bytes outside printable ASCII, other than the interchange's own delimiters, are either
a sign of binary junk (NUL bytes, or many of them) or one invalid character in an
element (AK4/IK4 code 6). Checks run on whole segments with ``bytes.translate`` so a
clean segment costs one C-level pass.
"""

from __future__ import annotations

from functools import lru_cache

from gateway.x12.model import Delimiters

PRINTABLE = bytes(range(0x20, 0x7F))


@lru_cache(maxsize=64)
def allowed_bytes(d: Delimiters) -> bytes:
    """Bytes that may appear in a segment of an interchange with delimiters ``d``."""
    extra = (d.element + d.component + (d.repetition or "")).encode("latin-1")
    return PRINTABLE + extra


def bad_bytes(data: bytes, d: Delimiters) -> bytes:
    return data.translate(None, allowed_bytes(d))


def looks_binary(data: bytes, bad: bytes) -> bool:
    """NUL bytes, or more than a quarter of the segment outside the character set."""
    return b"\x00" in bad or len(bad) > max(8, len(data) // 4)


def describe(byte: int) -> str:
    if byte >= 0x80:
        return f"non-ASCII byte 0x{byte:02X}"
    names = {0x09: "a tab", 0x0A: "a line feed", 0x0D: "a carriage return"}
    return names.get(byte, f"control character 0x{byte:02X}")


def element_problems(elements: list[str], d: Delimiters) -> list[tuple[int, int]]:
    """(1-based element position, first bad byte) for each element with a bad byte."""
    allowed = allowed_bytes(d)
    found = []
    for n, value in enumerate(elements, 1):
        bad = value.encode("latin-1").translate(None, allowed)
        if bad:
            found.append((n, bad[0]))
    return found
