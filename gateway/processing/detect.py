"""Tell what kind of document a received file is, from its first bytes."""

from __future__ import annotations

from enum import StrEnum

_BOM = b"\xef\xbb\xbf"


class Format(StrEnum):
    X12 = "x12"
    XML = "xml"
    UNKNOWN = "unknown"


def detect(data: bytes) -> Format:
    head = data[:512]
    if head.startswith(_BOM):
        head = head[len(_BOM):]
    head = head.lstrip(b" \t\r\n")
    if head.startswith(b"ISA"):
        return Format.X12
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and b"I\x00S\x00A" in head[:16] or b"\x00I\x00S\x00A" in head[:16]:
        return Format.X12  # UTF-16 X12: the reader rejects it with a clear reason
    if head.startswith(b"<"):
        return Format.XML
    return Format.UNKNOWN


def describe_start(data: bytes, n: int = 24) -> str:
    """The first bytes, printable, for an error message."""
    text = data[:n].decode("latin-1")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
