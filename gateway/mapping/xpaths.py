"""XPath as a map path language, for cXML and UBL maps.

A map declares its prefixes (``namespaces: {cbc: urn:..., cac: urn:...}``); each
path is compiled once by lxml when the map loads (a bad expression fails the map
with its line). Evaluation returns strings: text of the selected elements,
attribute values, or the string result of an XPath function. ``#`` and ``.``
mean what they mean in X12 paths: the list position and the current element.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.mapping.paths import PathSyntaxError, Scope


@dataclass(frozen=True)
class XPathExpr:
    text: str
    compiled: etree.XPath | None
    ordinal: bool = False
    itself: bool = False


def parse_xpath(text: str, namespaces: dict[str, str] | None = None) -> XPathExpr:
    """Compile ``text``; raise :class:`PathSyntaxError` when lxml cannot."""
    if not isinstance(text, str) or not text.strip():
        raise PathSyntaxError("a path must be a non-empty string")
    text = text.strip()
    if text == "#":
        return XPathExpr(text, None, ordinal=True)
    if text == ".":
        return XPathExpr(text, None, itself=True)
    try:
        return XPathExpr(text, etree.XPath(text, namespaces=namespaces or {}, smart_strings=False))
    except etree.XPathSyntaxError as exc:
        raise PathSyntaxError(f"{text!r}: not a valid XPath ({exc})") from exc


def _run(expr: XPathExpr, scope: Scope) -> list:
    try:
        result = expr.compiled(scope.node)
    except etree.XPathEvalError:
        return []
    return result if isinstance(result, list) else [result]


def xml_values(expr: XPathExpr, scope: Scope) -> list[str]:
    """Every non-empty string the expression yields, in document order."""
    if expr.ordinal:
        return [str(scope.ordinal)] if scope.ordinal else []
    if expr.itself:
        return [_text(scope.node)] if _text(scope.node) else []
    out = []
    for item in _run(expr, scope):
        text = _text(item) if isinstance(item, etree._Element) else _scalar(item)
        if text:
            out.append(text)
    return out


def _scalar(item: object) -> str:
    if isinstance(item, bool):
        return ""  # a boolean test is not a value
    if isinstance(item, float):
        return "" if item != item else (str(int(item)) if item.is_integer() else repr(item))
    return str(item).strip()


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def xml_select(expr: XPathExpr, scope: Scope) -> list:
    """The elements the expression selects (for ``each`` and ``scope``)."""
    if expr.itself:
        return [scope.node]
    return [item for item in _run(expr, scope) if isinstance(item, etree._Element)]


def xml_where(node) -> str:
    if not isinstance(node, etree._Element):
        return ""
    return f"at {node.getroottree().getpath(node)} (line {node.sourceline})"


class XmlDialect:
    """XPath, as the evaluator sees any path language."""

    name = "xml"

    def __init__(self, namespaces: dict[str, str] | None = None):
        self.namespaces = dict(namespaces or {})

    def parse(self, text: str) -> XPathExpr:
        return parse_xpath(text, self.namespaces)

    values = staticmethod(xml_values)
    select = staticmethod(xml_select)
    where = staticmethod(xml_where)
