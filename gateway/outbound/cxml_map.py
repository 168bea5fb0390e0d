"""cXML reverse maps: a canonical payload (JSON) becomes the body of one cXML request.

Maps are data (``maps/translate/outbound/cxml-<Document>.yaml``, a test file beside each),
the XML twin of :mod:`gateway.outbound.reverse_map`. Sans-IO: a dict in, an lxml
element (``<OrderRequest>``) out; the ``<cXML>`` envelope is :mod:`gateway.outbound.cxml_envelope`'s.

Nothing the ERP sends is dropped silently: every non-empty value of the payload must be
read by the map, or the render fails naming the field.

Map shape::

    document: OrderRequest
    event: purchase_order.issued
    tables: {purpose: {original: new}}        # canonical value -> cXML value; others pass
    elements:                                   # the children of <OrderRequest>, in DTD order
      - OrderRequestHeader:
          attributes: {orderID: {from: po_number}, type: {from: purpose, table: purpose, default: new}}
          children:
            - ShipTo: {scope: ship_to, children: [...]}        # into payload.ship_to; left out when empty
      - ItemOut: {each: lines, attributes: {quantity: {from: quantity, transform: decimal}}}

An element is ``{Name: spec}``; ``spec`` may hold ``attributes`` (name -> value), ``text``
(a value), ``children`` (a list of elements), ``scope`` (descend into an object) or
``each`` (one element per item of a list). A value is a literal string or ``{from: path,
table, transform: decimal|date|datetime, default}``; a path is dotted keys from the
current scope, or from the payload's root when it starts with ``/`` (``/currency``).
An element is written only when a ``from`` value inside it (its attributes, text or
children) is non-empty; ``always: true`` writes it anyway. ``xml:lang`` is the XML
namespace's ``lang`` attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from gateway.outbound.reverse_map import ReverseMapError, _decimal, _leaves, outbound_maps_dir

XML_NS = "http://www.w3.org/XML/1998/namespace"
TRANSFORMS = ("decimal", "date", "datetime")
SPEC_KEYS = {"attributes", "text", "children", "scope", "each", "always"}


@dataclass
class CxmlMap:
    document: str
    event: str
    tables: dict[str, dict[str, str]]
    elements: list
    source: Path | None = None


def load_cxml_map(document: str, directory: Path | None = None) -> CxmlMap:
    """The map for cXML ``document``; a broken map fails here, naming its file."""
    directory = directory or outbound_maps_dir()
    path = directory / f"cxml-{document}.yaml"
    if not path.is_file():
        raise ReverseMapError(f"no outbound map for cXML {document} ({path.name} in {directory})")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = {"document", "event", "elements"} - data.keys()
    if missing:
        raise ReverseMapError(f"{path}: missing {', '.join(sorted(missing))}")
    cmap = CxmlMap(str(data["document"]), str(data["event"]),
                   {k: {str(a): str(b) for a, b in v.items()} for k, v in (data.get("tables") or {}).items()},
                   data["elements"], path)
    _check(cmap.elements, cmap, path)
    return cmap


def _check(elements: list, cmap: CxmlMap, path: Path) -> None:
    for item in elements:
        if not isinstance(item, dict) or len(item) != 1:
            raise ReverseMapError(f"{path}: an element is {{Name: spec}}: {item!r}")
        (name, spec), = item.items()
        spec = spec or {}
        if not isinstance(spec, dict) or set(spec) - SPEC_KEYS:
            raise ReverseMapError(f"{path}: {name}: a spec has only {sorted(SPEC_KEYS)}: {spec!r}")
        values = list((spec.get("attributes") or {}).values()) + ([spec["text"]] if "text" in spec else [])
        for value in values:
            if isinstance(value, dict):
                if "from" not in value:
                    raise ReverseMapError(f"{path}: {name}: a value is a literal or {{from: path, ...}}: {value!r}")
                if value.get("table") and value["table"] not in cmap.tables:
                    raise ReverseMapError(f"{path}: {name} names unknown table {value['table']!r}")
                if value.get("transform") and value["transform"] not in TRANSFORMS:
                    raise ReverseMapError(f"{path}: {name}: transform must be one of {TRANSFORMS}")
        _check(spec.get("children") or [], cmap, path)


@dataclass
class _Render:
    cmap: CxmlMap
    root: dict
    read: set[str] = field(default_factory=set)


def render_cxml(cmap: CxmlMap, payload: dict) -> etree._Element:
    """The ``<Document>`` element (e.g. ``<OrderRequest>``) for ``payload``."""
    r = _Render(cmap, payload)
    out = etree.Element(cmap.document)
    for item in cmap.elements:
        _element(r, item, payload, "", out)
    unread = sorted(p for p in _leaves(payload, "") if p not in r.read)
    if unread:
        raise ReverseMapError(f"payload field(s) {', '.join(unread)} have no place in the cXML "
                              f"{cmap.document} map; nothing is dropped silently")
    return out


def _get(r: _Render, scope: Any, prefix: str, path: str) -> Any:
    path = str(path)
    if path == ".":  # the current item itself (a string in a list)
        r.read.add(prefix[:-1])
        return scope
    if path.startswith("/"):
        scope, prefix, path = r.root, "", path[1:]
    value = scope
    for key in path.split("."):
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            value = None
    r.read.add(prefix + path)
    return value


def _element(r: _Render, item: dict, scope: Any, prefix: str, parent: etree._Element) -> bool:
    """Append the element to ``parent`` when it has data (or ``always``); True when it had data."""
    (name, spec), = item.items()
    spec = spec or {}
    if "each" in spec:
        values = _get(r, scope, prefix, spec["each"])
        inner = {k: v for k, v in spec.items() if k != "each"}
        had = False
        for i, each in enumerate(values if isinstance(values, list) else []):
            had = _element(r, {name: inner}, each, f"{prefix}{spec['each']}.{i}.", parent) or had
        return had
    if "scope" in spec:
        inner_scope = _get(r, scope, prefix, spec["scope"])
        if not isinstance(inner_scope, dict) or not any(True for _ in _leaves(inner_scope, "")):
            return False
        scope, prefix = inner_scope, f"{prefix}{spec['scope']}."
    element = etree.Element(_qname(name))
    has_data = False
    for attr, value_spec in (spec.get("attributes") or {}).items():
        value, from_data = _value(r, value_spec, scope, prefix, f"{name}/@{attr}")
        if value:
            _xml_safe(value, prefix, value_spec, f"{name}/@{attr}")
            element.set(_qname(attr), value)
        has_data = has_data or from_data
    if "text" in spec:
        value, from_data = _value(r, spec["text"], scope, prefix, name)
        _xml_safe(value, prefix, spec["text"], name)
        element.text = value or None
        has_data = has_data or from_data
    for child in spec.get("children") or []:
        has_data = _element(r, child, scope, prefix, element) or has_data
    if has_data or spec.get("always"):
        parent.append(element)
    return has_data


def _xml_safe(value: str, prefix: str, spec: Any, where: str) -> None:
    """XML 1.0 cannot carry NUL or most control characters: refused, naming the field."""
    if any((ord(c) < 0x20 and c not in "\t\n\r") or 0xD800 <= ord(c) <= 0xDFFF or ord(c) in (0xFFFE, 0xFFFF)
           for c in value):
        field_name = prefix + str(spec.get("from")) if isinstance(spec, dict) else where
        raise ReverseMapError(f"{field_name}: {value[:40]!r} holds a character XML cannot carry (for {where})")


def _qname(name: str) -> str:
    return f"{{{XML_NS}}}{name[4:]}" if name.startswith("xml:") else name


def _value(r: _Render, spec: Any, scope: Any, prefix: str, where: str) -> tuple[str, bool]:
    """The value's text, and whether it came from the payload (not a literal or default)."""
    if not isinstance(spec, dict):
        return str(spec), False
    raw = _get(r, scope, prefix, spec["from"])
    if isinstance(raw, bool) or isinstance(raw, (dict, list)):
        raise ReverseMapError(f"{prefix}{spec['from']}: expected a text value, got {type(raw).__name__}")
    value = "" if raw is None else str(raw).strip()
    from_data = value != ""
    if not value and "default" in spec:
        value = str(spec["default"])
    if value and spec.get("table"):
        value = r.cmap.tables[spec["table"]].get(value, value)
    if value and spec.get("transform") == "decimal":
        value = _decimal(value, prefix + str(spec["from"]))
    elif value and spec.get("transform") in ("date", "datetime"):
        value = _date(value, prefix + str(spec["from"]), spec["transform"], where)
    return value, from_data


def _date(value: str, path: str, transform: str, where: str) -> str:
    """An ISO date; ``datetime`` writes it as the start of that day in UTC, as cXML dates are."""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise ReverseMapError(f"{path}: {value!r} is not an ISO date (YYYY-MM-DD) for {where}") from None
    if transform == "date":
        return day.isoformat()
    return datetime(day.year, day.month, day.day).isoformat() + "+00:00"
