"""Reverse maps: a canonical payload (JSON) becomes the segments of one X12 transaction set.

Maps are data (``maps/translate/outbound/x12-<set>-<version>.yaml``, a test file beside
each). Sans-IO: a dict in, ``[(tag, [elements])]`` out; ST and SE are the enveloper's.

Nothing the ERP sends is dropped silently: every non-empty value of the payload must be
read by the map, or the render fails naming the field that has no place in the 850.

Map shape::

    transaction_set: "850"
    version: "004010"
    functional_id: PO
    event: purchase_order.issued
    tables: {purpose: {original: "00"}}       # canonical value -> X12 code; others pass
    segments:                                  # in X12 order
      - [BEG, {from: purpose, table: purpose}, "SA", {from: po_number}]
      - {scope: ship_to, segments: [[N1, ST, {from: name}]]}   # only when ship_to is set
      - {each: lines, segments: [[PO1, {from: line_number}, ...]]}

A segment is a list: its tag, then elements. An element is a literal string, or
``{from: path, table, transform: date|decimal, default}``, or ``{pairs: [[BP, buyer_part],
...]}`` (qualifier/value pairs for the values present), or ``{count: path}`` (items in a
list). Paths are dotted keys from the current scope (``address_lines.0``). A segment whose
``from``/``pairs``/``count`` values are all empty is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml


def outbound_maps_dir() -> Path:
    """``maps/translate/outbound/`` of this installation (checkout or wheel: gateway.resources)."""
    from gateway.resources import maps_dir

    return maps_dir() / "translate" / "outbound"
TRANSFORMS = ("date", "decimal")


class ReverseMapError(ValueError):
    """The payload cannot be written with this map; the message names the field."""


@dataclass
class ReverseMap:
    transaction_set: str
    version: str
    functional_id: str
    event: str
    tables: dict[str, dict[str, str]]
    segments: list
    source: Path | None = None


def load_reverse_map(transaction_set: str, version: str, directory: Path | None = None) -> ReverseMap:
    """The map for ``transaction_set``/``version``; a broken map fails here, naming its file."""
    directory = directory or outbound_maps_dir()
    path = directory / f"x12-{transaction_set}-{version}.yaml"
    if not path.is_file():
        raise ReverseMapError(f"no outbound map for {transaction_set} {version} ({path.name} in {directory})")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = {"transaction_set", "version", "functional_id", "event", "segments"} - data.keys()
    if missing:
        raise ReverseMapError(f"{path}: missing {', '.join(sorted(missing))}")
    rmap = ReverseMap(str(data["transaction_set"]), str(data["version"]), str(data["functional_id"]),
                      str(data["event"]), {k: {str(a): str(b) for a, b in v.items()}
                                           for k, v in (data.get("tables") or {}).items()},
                      data["segments"], path)
    _check(rmap.segments, rmap, path)
    return rmap


def _check(items: list, rmap: ReverseMap, path: Path) -> None:
    for item in items:
        if isinstance(item, dict):
            if not ({"scope", "each"} & item.keys()) or not isinstance(item.get("segments"), list):
                raise ReverseMapError(f"{path}: a group needs 'scope' or 'each', and 'segments': {item}")
            _check(item["segments"], rmap, path)
            continue
        if not isinstance(item, list) or not item or not isinstance(item[0], str):
            raise ReverseMapError(f"{path}: a segment is [TAG, element, ...]: {item!r}")
        for el in item[1:]:
            if isinstance(el, dict):
                if el.get("table") and el["table"] not in rmap.tables:
                    raise ReverseMapError(f"{path}: {item[0]} names unknown table {el['table']!r}")
                if el.get("transform") and el["transform"] not in TRANSFORMS:
                    raise ReverseMapError(f"{path}: {item[0]}: transform must be one of {TRANSFORMS}")


@dataclass
class _Render:
    rmap: ReverseMap
    read: set[str] = field(default_factory=set)
    out: list[tuple[str, list[str]]] = field(default_factory=list)


def render(rmap: ReverseMap, payload: dict) -> list[tuple[str, list[str]]]:
    """The segments (tag, elements) between ST and SE for ``payload``."""
    r = _Render(rmap)
    _items(r, rmap.segments, payload, "")
    unread = sorted(p for p in _leaves(payload, "") if p not in r.read)
    if unread:
        raise ReverseMapError(f"payload field(s) {', '.join(unread)} have no place in the "
                              f"{rmap.transaction_set} {rmap.version} map; nothing is dropped silently")
    return r.out


def _leaves(value: Any, prefix: str):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{prefix}{k}.")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{prefix}{i}.")
    elif value is not None and value != "":
        yield prefix[:-1]


def _get(r: _Render, scope: Any, prefix: str, path: str) -> Any:
    value = scope
    for key in str(path).split("."):
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            value = None
    r.read.add(prefix + str(path))  # a leaf accounted for (an object or list read accounts for none of its parts)
    return value


def _items(r: _Render, items: list, scope: Any, prefix: str) -> None:
    for item in items:
        if isinstance(item, list):
            _segment(r, item, scope, prefix)
        elif "scope" in item:
            inner = _get(r, scope, prefix, item["scope"])
            if isinstance(inner, dict) and any(True for _ in _leaves(inner, "")):
                _items(r, item["segments"], inner, f"{prefix}{item['scope']}.")
        else:
            values = scope.get(item["each"]) if isinstance(scope, dict) else None
            for i, each in enumerate(values or []):
                _items(r, item["segments"], each, f"{prefix}{item['each']}.{i}.")


def _segment(r: _Render, spec: list, scope: Any, prefix: str) -> None:
    elements: list[str] = []
    has_data = False
    for el in spec[1:]:
        if isinstance(el, str):
            elements.append(el)
        elif "pairs" in el:
            for qualifier, path in el["pairs"]:
                value = _text(_get(r, scope, prefix, path))
                if value:
                    elements += [qualifier, value]
                    has_data = True
        elif "count" in el:
            n = len(_get(r, scope, prefix, el["count"]) or [])
            elements.append(str(n) if n else "")
            has_data = has_data or n > 0
        else:
            value = _value(r, el, scope, prefix, spec[0])
            elements.append(value)
            has_data = has_data or (value != "" and "from" in el)
    if has_data:
        r.out.append((spec[0], elements))


def _value(r: _Render, el: dict, scope: Any, prefix: str, tag: str) -> str:
    value = _text(_get(r, scope, prefix, el["from"])) if "from" in el else ""
    if value == "" and "default" in el:
        value = str(el["default"])
    if value and el.get("table"):
        value = r.rmap.tables[el["table"]].get(value, value)
    if value and el.get("transform") == "date":
        value = _date(value, tag, prefix + str(el.get("from")))
    elif value and el.get("transform") == "decimal":
        value = _decimal(value, prefix + str(el.get("from")))
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise ReverseMapError(f"expected a text value, got {type(value).__name__}: {value!r}")
    return str(value).strip()


def _date(value: str, tag: str, path: str) -> str:
    digits = value[:10].replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        raise ReverseMapError(f"{path}: {value!r} is not an ISO date (YYYY-MM-DD) for {tag}")
    return digits


def _decimal(value: str, path: str) -> str:
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise ReverseMapError(f"{path}: {value!r} is not a decimal number") from None
    if not d.is_finite():
        raise ReverseMapError(f"{path}: {value!r} is not a decimal number")
    return format(d, "f")
