"""A map after loading: parsed paths, resolved tables, loop definitions.

These frozen values are what the translator walks; building them from the
validated YAML data also checks what marshmallow alone cannot see: that a named
table exists and that each output field belongs to the event's payload schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FsPath

from marshmallow import Schema, fields

from gateway.events.payloads import PAYLOAD_SCHEMAS
from gateway.mapping.functions import FUNCTIONS, PATH
from gateway.mapping.mapfields import PATH_PARSER
from gateway.mapping.tree import LoopDef

KeyPath = tuple


@dataclass(frozen=True)
class ValueRule:
    at: KeyPath
    source: str  # from | value | concat | count | sum | none
    paths: tuple = ()
    constant: str | None = None
    sep: str = " "
    transforms: tuple[tuple[str, dict], ...] = ()
    table: dict | None = None
    table_name: str | None = None
    on_missing: str = "error"
    default: str | None = None
    required: bool = False
    otherwise: ValueRule | None = None

    def describe(self) -> str:
        return ", ".join(p.text for p in self.paths) or self.source


@dataclass(frozen=True)
class ObjectNode:
    at: KeyPath
    fields: dict
    scope: tuple = ()
    required: bool = False


@dataclass(frozen=True)
class ListNode:
    at: KeyPath
    each: tuple
    fields: dict | None
    rule: ValueRule
    required: bool = False
    otherwise: ListNode | None = None


@dataclass(frozen=True)
class TranslationMap:
    """One effective map (a base map, or a partner map merged onto its base)."""

    id: str
    files: tuple[FsPath, ...]  # the layers, base first
    transaction_set: str | None
    version: str | None
    compatible: tuple[str, ...]
    event: str
    timezone: str
    loops: LoopDef
    tables: dict
    payload: dict
    partner: bool = False
    base_id: str | None = None
    meta: dict = field(default_factory=dict)
    format: str = "x12"
    document: str | None = None
    dialect: object = None  # X12 or an XmlDialect with the map's namespaces
    envelope: dict = field(default_factory=dict)
    # the line-bearing parts of the source: X12 segment tags, or compiled XPaths
    source_lines: tuple = ()


class CompileError(Exception):
    def __init__(self, at: KeyPath, message: str):
        super().__init__(message)
        self.at = at


def compile_loops(loops: dict) -> LoopDef:
    def one(tag: str, spec: dict) -> LoopDef:
        spec = spec or {}
        members = spec.get("members", [])
        return LoopDef(
            tag=tag,
            members=None if members == "*" else frozenset(members),
            excluded=frozenset(spec.get("excluded", [])),
            children={t: one(t, s) for t, s in (spec.get("loops") or {}).items()},
            hierarchical=str(spec.get("hierarchical", "")).lower() in ("true", "yes", "1"),
        )

    return LoopDef(tag="", members=None, children={t: one(t, s) for t, s in loops.items()})


def compile_payload(payload: dict, event: str, tables: dict) -> dict:
    return _fields(payload, ("payload",), tables, PAYLOAD_SCHEMAS[event]())


def compile_envelope(envelope: dict, tables: dict) -> dict:
    """XML maps' ``envelope`` values (document_key, version, occurred_at): no schema."""
    return _fields(envelope, ("envelope",), tables, None)


def _fields(spec: dict, at: KeyPath, tables: dict, schema: Schema | None) -> dict:
    out = {}
    for name, node in spec.items():
        here = (*at, name)
        target = None
        if schema is not None:
            target = schema.fields.get(name)
            if target is None:
                raise CompileError(here, f"{name!r} is not a field of this payload; known: {sorted(schema.fields)}")
        out[name] = _node(node, here, tables, target)
    return out


def _nested_schema(target: fields.Field | None) -> Schema | None:
    if isinstance(target, fields.List):
        target = target.inner
    if isinstance(target, fields.Nested):
        nested = target.nested
        return nested() if isinstance(nested, type) else nested
    return None


def _node(node: dict, at: KeyPath, tables: dict, target):
    kind = node["kind"]
    if kind == "object":
        return ObjectNode(
            at,
            _fields(node["fields_"], (*at, "fields"), tables, _nested_schema(target)),
            tuple(PATH_PARSER.get()(p) for p in node.get("scope", [])),
            node["required"],
        )
    if kind == "list":
        sub = node.get("fields_")
        return ListNode(
            at,
            tuple(PATH_PARSER.get()(p) for p in node["each"]),
            _fields(sub, (*at, "fields"), tables, _nested_schema(target)) if sub else None,
            _rule({**node, "from_": node["each"]}, at, tables),
            node["required"],
            _node(node["otherwise"], (*at, "otherwise"), tables, target) if node.get("otherwise") else None,
        )
    return _rule(node, at, tables)


def _rule(node: dict, at: KeyPath, tables: dict) -> ValueRule:
    source, paths, constant = "none", (), None
    if "from_" in node:
        source, paths = "from", tuple(PATH_PARSER.get()(p) for p in node["from_"])
    elif "concat" in node:
        source, paths = "concat", tuple(PATH_PARSER.get()(p) for p in node["concat"])
    elif "count" in node or "sum" in node:
        source = "count" if "count" in node else "sum"
        paths = (PATH_PARSER.get()(node[source]),)
    elif "value" in node:
        source, constant = "value", node["value"]
    table = None
    if "table" in node:
        table = tables.get(node["table"])
        if table is None:
            raise CompileError((*at, "table"), f"unknown table {node['table']!r}; known: {sorted(tables)}")
    transforms = tuple(
        (name, {k: PATH_PARSER.get()(v) if _is_path_arg(name, k) else v for k, v in args.items()})
        for name, args in node.get("transform", [])
    )
    return ValueRule(
        at, source, paths, constant, node.get("sep", " "), transforms, table,
        node.get("table"), node.get("on_missing", "error"), node.get("default"), node["required"],
        _rule(node["otherwise"], (*at, "otherwise"), tables) if node.get("otherwise") else None,
    )


def _is_path_arg(name: str, arg: str) -> bool:
    return FUNCTIONS[name].params.get(arg) == PATH
