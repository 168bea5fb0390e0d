"""Hardened XML parsing: bytes in, an lxml root element out, or :class:`XmlRejected`.

The parser never expands entities, never loads a DTD or any other external resource
(network or file: a resolver refuses every request libxml2 makes), keeps no processing
instructions or comments, and stays within libxml2's normal limits (``huge_tree`` off).
On top of that the document must be at most ``max_bytes`` long and ``max_depth``
elements deep, and may not carry an internal DTD subset: business documents never
need their own entities, and declaring them is how XXE and entity-expansion attacks
start. A ``<!DOCTYPE cXML SYSTEM "...">`` line without a subset is fine (cXML names
its DTD that way); the DTD itself is only ever read from the local schema directory.

Sans-IO and quick: the bytes are fed in chunks to a pull parser, so a document that is
too deep is refused as soon as it gets too deep, and a syntax error is reported with
the line and the XPath of the element that was open when it happened.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

from lxml import etree

from gateway.xml.findings import XmlErrorCode, XmlFinding, XmlRejected

log = logging.getLogger("gateway.xml")

MAX_BYTES = 50 * 1024 * 1024
MAX_DEPTH = 100  # real cXML and UBL documents stay below 20
_CHUNK = 16 * 1024
# ``<!DOCTYPE name ... [``: an internal subset, where entities are declared
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE\s[^>\[]*\[")


class _RefuseEverything(etree.Resolver):
    """Answers every external-resource request libxml2 makes with nothing."""

    def resolve(self, url, pubid, context):
        log.warning("refused to load external resource %r while parsing", (url or "")[:200])
        return self.resolve_string("", context)


def hardened_parser(events=("start", "end")) -> etree.XMLPullParser:
    """A pull parser with every risky libxml2 feature off (see the module docstring)."""
    parser = etree.XMLPullParser(
        events=events, resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        attribute_defaults=False, huge_tree=False, remove_pis=True, remove_comments=True,
    )  # not collect_ids=False: it makes libxml2 ask for the external DTD
    parser.resolvers.add(_RefuseEverything())
    return parser


def parse_document(data: bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> etree._Element:
    """Parse ``data`` safely; raise :class:`XmlRejected` with located findings if it is not acceptable."""
    if len(data) > max_bytes:
        raise XmlRejected([XmlFinding(XmlErrorCode.TOO_LARGE,
                                      f"the document is {len(data)} bytes; at most {max_bytes} are accepted")])
    parser = hardened_parser()
    stack: list[tuple[str, Counter]] = [("", Counter())]
    at_end = False
    try:
        for start in range(0, len(data), _CHUNK):
            parser.feed(data[start:start + _CHUNK])
            _follow(parser, stack, max_depth)
        at_end = True  # every byte was taken: an error now means the input stopped too early
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        _follow(parser, stack, max_depth)  # the events parsed before the error: where it happened
        raise XmlRejected([_syntax_finding(exc, stack[-1][0], data, at_end=at_end)]) from None
    _refuse_internal_subset(root)
    return root


def _follow(parser: etree.XMLPullParser, stack: list[tuple[str, Counter]], max_depth: int) -> None:
    """Track the open elements' XPath from the parser's events; refuse nesting beyond ``max_depth``."""
    for action, element in parser.read_events():
        if action == "start":
            step = _step(element, stack[-1][1])
            stack.append((f"{stack[-1][0]}/{step}", Counter()))
            if len(stack) - 1 > max_depth:
                raise XmlRejected([XmlFinding(
                    XmlErrorCode.TOO_DEEP, f"elements are nested more than {max_depth} deep",
                    element.sourceline, stack[-1][0][:300])])
        else:
            stack.pop()


def _step(element: etree._Element, siblings: Counter) -> str:
    """``prefix:name[n]`` for a child, counting earlier siblings of the same name."""
    try:
        local = etree.QName(element).localname
    except ValueError:  # a name cut off mid-way ("cbc:") in a truncated document
        local = str(element.tag).rpartition("}")[2] or "?"
    name = f"{element.prefix}:{local}" if element.prefix else local
    siblings[name] += 1
    return f"{name}[{siblings[name]}]" if siblings[name] > 1 else name


def _syntax_finding(exc: etree.XMLSyntaxError, open_path: str, data: bytes, *, at_end: bool) -> XmlFinding:
    """Classify by what libxml2 reported and what the bytes declare, never by words in the
    message: a truncated cXML stops inside ``<Identity>``, and that is no entity attack."""
    line, column = (exc.position if exc.position else (exc.lineno, None))
    message = (exc.msg or str(exc)).strip()
    where = f" (column {column})" if column else ""
    place = (line or None, open_path or None)
    if exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT and "excessive depth" in message.lower():
        return XmlFinding(XmlErrorCode.TOO_DEEP, f"elements are nested too deep{where}: {message[:200]}", *place)
    if _INTERNAL_SUBSET.search(data):
        # entity expansion limits and broken declarations both live in the document's own
        # DTD subset, which is refused whatever else is wrong with it
        return XmlFinding(XmlErrorCode.DTD_FORBIDDEN,
                          f"DTD/entities forbidden: the document declares a DTD subset, and documents with "
                          f"their own DTD or entities are refused (entity expansion / XXE){where}: {message[:200]}",
                          *place)
    if at_end and not data.strip():
        return XmlFinding(XmlErrorCode.NOT_WELL_FORMED, "the document is empty", None, None)
    if at_end:
        inside = f"inside {open_path}" if open_path else "before its root element"
        return XmlFinding(XmlErrorCode.NOT_WELL_FORMED,
                          f"not well-formed XML: the document is incomplete, it ends {inside} (cut off in "
                          f"transfer?){where}: {message[:300]}", *place)
    return XmlFinding(XmlErrorCode.NOT_WELL_FORMED, f"not well-formed XML{where}: {message[:300]}", *place)


def _refuse_internal_subset(root: etree._Element) -> None:
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is None:
        return
    entities = [e.name for e in dtd.iterentities()]
    elements = [e.name for e in dtd.elements()]
    if entities or elements:
        what = f"entities ({', '.join(entities[:5])})" if entities else "declarations"
        raise XmlRejected([XmlFinding(
            XmlErrorCode.DTD_FORBIDDEN,
            f"DTD/entities forbidden: the DOCTYPE declares {what}; documents with their own DTD or "
            "entities are refused (XXE and entity-expansion risk)", 1, None)])
