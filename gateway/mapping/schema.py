"""The shape of a translation map, checked with marshmallow when the map loads.

A map file (YAML)::

    transaction_set: "855"          # ST01
    version: "004010"               # the GS08 it was written for
    compatible: ["003*", "004*"]    # other GS08 values it serves (fnmatch patterns)
    event: purchase_order.acknowledged
    timezone: UTC                   # for X12 times that carry no zone
    loops:   {PO1: {members: [PID, ACK, DTM]}, N1: {members: [N3, N4]}}
    tables:  {ack_type: {AC: accepted_with_changes, AD: accepted}}
    payload: {po_number: {from: BAK03, required: true}, lines: {each: PO1, fields: {...}}}
    source_lines: [PO1]             # the line-bearing source parts (see mapping/accounting.py)

A partner map adds ``inherits: <base map id>`` and states only what differs.

Payload nodes: a string is a path; ``{from|value|concat|count|sum, transform,
table, on_missing, default, required}`` is a value rule; ``{fields, scope}`` is an
object; ``{each, fields}`` a list of objects, ``{each}`` alone a list of values.
"""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from gateway.events.lines import carries_lines
from gateway.events.payloads import PAYLOAD_SCHEMAS
from gateway.mapping.functions import resolve_zone
from gateway.mapping.mapfields import PATH_PARSER, PathField, TransformField

__all__ = ["PATH_PARSER", "MapSchema"]

ON_MISSING = ("error", "keep", "null")
SEGMENT_TAG = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
FORMATS = ("x12", "cxml", "ubl")


class RuleSchema(Schema):
    class Meta:
        unknown = RAISE

    from_ = PathField(many=True, data_key="from")
    value = fields.String()
    concat = fields.List(PathField())
    sep = fields.String(load_default=" ")
    count = PathField()
    sum = PathField()
    transform = TransformField(load_default=list)
    table = fields.String()
    on_missing = fields.String(load_default="error", validate=validate.OneOf(ON_MISSING))
    default = fields.String()
    required = fields.Boolean(load_default=False)
    otherwise = fields.Raw()  # another value rule, used when this one yields nothing

    @validates_schema
    def _otherwise(self, data, **kwargs):
        alt = data.get("otherwise")
        if alt is not None:
            try:
                node = NodeField()._deserialize(alt, "otherwise", data)
            except ValidationError as exc:
                raise ValidationError({"otherwise": exc.messages}) from exc
            if node["kind"] != "value":
                raise ValidationError({"otherwise": ["expected a value rule"]})
            data["otherwise"] = node

    @validates_schema
    def _one_source(self, data, **kwargs):
        sources = [k for k in ("from_", "value", "concat", "count", "sum") if k in data]
        if len(sources) > 1:
            raise ValidationError("give only one of from/value/concat/count/sum")
        if not sources and "default" not in data:
            raise ValidationError("a value needs from, value, concat, count, sum or default")


class NodeField(fields.Field):
    """One payload node: a path (or list of paths), a value rule, an object, or a list."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (str, list)):  # a path, or paths tried in order
            value = {"from": value}
        if not isinstance(value, dict):
            raise ValidationError("expected a path, a rule, {fields: ...} or {each: ...}")
        if "each" in value:
            return {"kind": "list", **ListSchema().load(value)}
        if "fields" in value:
            return {"kind": "object", **ObjectSchema().load(value)}
        return {"kind": "value", **RuleSchema().load(value)}


class FieldsMap(fields.Field):
    """``{output name: node}``; errors are keyed by output name."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict) or (not value and self.required):
            raise ValidationError("expected a non-empty mapping of output field -> node")
        out, errors = {}, {}
        for name, node in value.items():
            if node is None:  # deleted by a partner override
                continue
            try:
                out[name] = NodeField()._deserialize(node, name, value)
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)
        return out


class ObjectSchema(Schema):
    class Meta:
        unknown = RAISE

    fields_ = FieldsMap(required=True, data_key="fields")
    scope = PathField(many=True)
    required = fields.Boolean(load_default=False)


class ListSchema(RuleSchema):
    """``each`` selects loops (with ``fields``) or values (without); rule keys apply per value."""

    class Meta:
        unknown = RAISE

    each = PathField(many=True, required=True)
    fields_ = FieldsMap(data_key="fields")
    otherwise = fields.Raw()  # another list node, used when ``each`` selects nothing

    @validates_schema
    def _otherwise(self, data, **kwargs):
        alt = data.get("otherwise")
        if alt is not None:
            if not isinstance(alt, dict) or "each" not in alt:
                raise ValidationError({"otherwise": ["expected a list node: {each: ..., fields: ...}"]})
            try:
                data["otherwise"] = NodeField()._deserialize(alt, "otherwise", data)
            except ValidationError as exc:
                raise ValidationError({"otherwise": exc.messages}) from exc

    @validates_schema
    def _one_source(self, data, **kwargs):
        if any(k in data for k in ("from_", "value", "concat", "count", "sum")):
            raise ValidationError("a list takes its items from 'each' only")


class LoopSchema(Schema):
    class Meta:
        unknown = RAISE

    members = fields.Raw(load_default=list)
    excluded = fields.List(fields.String(), load_default=list)
    hierarchical = fields.Boolean(load_default=False)
    loops = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)

    @validates_schema
    def _members(self, data, **kwargs):
        members = data.get("members")
        if members != "*" and not (isinstance(members, list) and all(isinstance(m, str) for m in members)):
            raise ValidationError({"members": ["a list of segment tags, or '*' for any"]})
        errors = {}
        for tag, sub in data.get("loops", {}).items():
            try:
                LoopSchema().load(sub or {})
            except ValidationError as exc:
                errors[tag] = exc.messages
        if errors:
            raise ValidationError({"loops": errors})


def _known_zone(name: str) -> bool:
    if resolve_zone(None, name) is None:
        raise ValidationError(f"unknown time zone {name!r} (an IANA name like America/Chicago, or ±HH:MM)")
    return True


class MapSchema(Schema):
    class Meta:
        unknown = RAISE

    inherits = fields.String()
    format = fields.String(load_default="x12", validate=validate.OneOf(FORMATS))
    description = fields.String()
    transaction_set = fields.String()  # X12: ST01
    version = fields.String()  # X12: the GS08 it was written for
    document = fields.String()  # XML: the cXML request element / the UBL root element
    namespaces = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    # XML only: document_key (for event ids), version, occurred_at, as value nodes
    envelope = FieldsMap(load_default=dict)
    compatible = fields.List(fields.String(), load_default=list)
    event = fields.String(required=True, validate=validate.OneOf(sorted(PAYLOAD_SCHEMAS)))
    timezone = fields.String(load_default="UTC", validate=lambda z: _known_zone(z))
    loops = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)
    tables = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.String(allow_none=True)),
        load_default=dict,
    )
    payload = FieldsMap(required=True)
    # X12: segment tags; XML: XPaths. Each loop holding such a segment, or each element
    # selected, must become a line of the event (required when the event has lines).
    source_lines = fields.List(fields.String())

    @validates_schema
    def _source_lines(self, data, **kwargs):
        declared = data.get("source_lines")
        if declared is None:
            if carries_lines(data.get("event", "")):
                raise ValidationError({"source_lines": [
                    f"required: a {data['event']} map must name the line-bearing segments (X12 tags) or "
                    "elements (XPaths) of its source, so that no line is lost silently"]})
            return
        if data.get("format", "x12") == "x12":
            bad = [t for t in declared if not SEGMENT_TAG.match(t)]
            if bad:
                raise ValidationError({"source_lines": [f"X12 segment tags expected (like PO1), got {bad}"]})

    @validates_schema
    def _per_format(self, data, **kwargs):
        if data.get("format", "x12") == "x12":
            errors = {k: ["required for X12 maps"] for k in ("transaction_set", "version") if not data.get(k)}
            if not errors and not re.match(r"^\d{6}", data["version"]):
                errors = {"version": ["expected a 6-digit X12 version like 004010"]}
        else:
            errors = {k: [f"required for {data['format']} maps"] for k in ("document",) if not data.get(k)}
        if errors:
            raise ValidationError(errors)

    @validates_schema
    def _loops(self, data, **kwargs):
        errors = {}
        for tag, sub in data.get("loops", {}).items():
            try:
                LoopSchema().load(sub or {})
            except ValidationError as exc:
                errors[tag] = exc.messages
        if errors:
            raise ValidationError({"loops": errors})
