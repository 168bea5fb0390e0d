"""Every line of the source comes out as a line of the event, or the translation fails.

A map names its source's line-bearing parts in ``source_lines``: segment tags for
X12 (``[PO1]``; ``[LIN, SN1]`` for the 856), XPaths for cXML and UBL
(``[cac:InvoiceLine]``). For X12 each loop holding one of those segments is one
source line, so an 855 line with several ACK segments is still one line; for XML
each element selected is one. After a translation the count of source lines must
equal the lines the event carries (:func:`gateway.events.lines.line_count`).
Anything else would deliver a document short: an 856 whose items did not land
under an order, a map whose ``each`` misses a line. That is a rejection with the
reason, never a silent success.

Sans-IO: a loop tree or an lxml element and a payload in; nothing out but the error.
"""

from __future__ import annotations

from lxml import etree

from gateway.events.lines import line_count
from gateway.mapping.compiled import TranslationMap
from gateway.mapping.evaluate import TranslationError
from gateway.mapping.paths import Scope
from gateway.mapping.tree import Node

MAX_PLACES = 10  # source lines named in the message; the count says the rest


class TranslationIncomplete(TranslationError):
    """The event would leave out lines of the source: the document is rejected instead."""


def x12_source_lines(spec: TranslationMap, root: Node) -> list[str]:
    """Where each source line starts (``LIN at segment 12``): one per loop holding a
    line-bearing segment, the loop's first such segment."""
    tags = set(spec.source_lines)
    found = []
    for node in (root, *root.descendants()):
        seg = next((s for s in node.segments if s.tag in tags), None)
        if seg is not None:
            found.append((seg.position, f"{seg.tag} at segment {seg.position}"))
    return [place for _, place in sorted(found)]


def xml_source_lines(spec: TranslationMap, root) -> list[str]:
    """Where each source line is (``/Invoice/cac:InvoiceLine[2] (line 40)``), in document order."""
    scope = Scope(root, root, 0, "")
    seen, found = set(), []
    for path in spec.source_lines:
        for element in spec.dialect.select(path, scope):
            if element not in seen:
                seen.add(element)
                found.append(element)
    return [f"{_xpath(e)} (line {e.sourceline})" for e in found]


def _xpath(element) -> str:
    """``/Invoice/cac:InvoiceLine[2]``: prefixes as written, a position only among namesakes."""
    steps = []
    while element is not None:
        local = etree.QName(element).localname
        name = f"{element.prefix}:{local}" if element.prefix else local
        parent = element.getparent()
        namesakes = [e for e in parent if e.tag == element.tag] if parent is not None else [element]
        steps.append(f"{name}[{namesakes.index(element) + 1}]" if len(namesakes) > 1 else name)
        element = parent
    return "/" + "/".join(reversed(steps))


def check_accounted(spec: TranslationMap, where: str, payload: dict, source: list[str]) -> None:
    """Raise :class:`TranslationIncomplete` unless the payload carries one line per source line."""
    carried = line_count(spec.event, payload)
    if carried is None or carried == len(source):
        return
    tags = ", ".join(getattr(p, "text", p) for p in spec.source_lines) or "(none declared)"
    shown = "; ".join(source[:MAX_PLACES]) + ("; ..." if len(source) > MAX_PLACES else "")
    raise TranslationIncomplete(
        f"{where}: the document has {len(source)} line(s) ({tags}: {shown or 'none'}) but the "
        f"{spec.event} event would carry {carried}; rejected rather than deliver it "
        "incomplete (a line outside where the map looks for lines, such as an 856 item under no order level)")
