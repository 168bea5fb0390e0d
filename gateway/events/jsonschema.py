"""JSON Schema (draft 2020-12) for every event type and version, generated from the
marshmallow schemas that validate them, so the published schemas cannot drift from
what the gateway checks.

    python -m gateway.events.jsonschema docs/events          # write the files
    python -m gateway.events.jsonschema docs/events --check  # exit 1 when they differ

One file per version, ``<type>.v<version>.schema.json``: the whole event (envelope and
payload). A test compares the committed files with this generator's output.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from marshmallow import Schema, fields, validate

from gateway.events.envelope import EventSchema, SourceSchema
from gateway.events.fields import DateOrDateTime, DecimalString, IsoDate, IsoDateTime
from gateway.events.versions import EventVersion, all_versions, schema_name

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _scalar(field: fields.Field) -> dict:
    if isinstance(field, DecimalString):
        return {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "a decimal number as a string"}
    if isinstance(field, IsoDateTime):
        out = {"type": "string", "format": "date-time"}
        if field.aware:
            out["description"] = "ISO 8601 with a UTC offset"
        return out
    if isinstance(field, DateOrDateTime):
        return {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}
    if isinstance(field, IsoDate):
        return {"type": "string", "format": "date"}
    if isinstance(field, fields.Integer):
        return {"type": "integer"}
    if isinstance(field, fields.Boolean):
        return {"type": "boolean"}
    if isinstance(field, fields.String):
        return {"type": "string"}
    if isinstance(field, fields.Dict):
        return {"type": "object"}
    raise TypeError(f"no JSON Schema for marshmallow field {type(field).__name__}")


def field_schema(field: fields.Field) -> dict:
    """The JSON Schema of one marshmallow field (its validators included)."""
    if isinstance(field, fields.Nested):
        nested = field.nested() if callable(field.nested) and not isinstance(field.nested, Schema) else field.nested
        out = object_schema(nested if isinstance(nested, Schema) else nested())
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": field_schema(field.inner)}
    else:
        out = _scalar(field)
    for v in field.validators:
        if isinstance(v, validate.OneOf):
            out["enum"] = list(v.choices)
        elif isinstance(v, validate.Regexp):
            out["pattern"] = v.regex.pattern
        elif isinstance(v, validate.Length):
            prefix = "Items" if out.get("type") == "array" else "Length"
            if v.min is not None:
                out[f"min{prefix}"] = v.min
            if v.max is not None:
                out[f"max{prefix}"] = v.max
    if field.allow_none:
        out["type"] = [out["type"], "null"] if isinstance(out.get("type"), str) else out.get("type")
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def object_schema(schema: Schema) -> dict:
    """An object with the schema's fields; unknown keys are refused, as the gateway refuses them."""
    doc = (type(schema).__doc__ or "").strip()
    out: dict = {"type": "object"}
    if doc and type(schema).__module__.startswith("gateway."):
        out["description"] = " ".join(doc.split())
    out["properties"] = {name: field_schema(f) for name, f in schema.fields.items()}
    required = [name for name, f in schema.fields.items() if f.required]
    if required:
        out["required"] = required
    out["additionalProperties"] = False
    return out


def event_schema(version: EventVersion) -> dict:
    """The whole event of ``version``: the envelope with ``type`` and ``schema`` fixed."""
    envelope = object_schema(EventSchema())
    props = envelope["properties"]
    props["type"] = {"const": version.type}
    props["schema"] = {"const": schema_name(version.type, version.version)}
    props["source"] = object_schema(SourceSchema())
    props["payload"] = object_schema(version.schema())
    props["test"]["description"] = "present and true only on test data"
    envelope["description"] = props["payload"].pop("description", "") or envelope["description"]
    return {"$schema": DRAFT, "title": schema_name(version.type, version.version), **envelope}


def filename(version: EventVersion) -> str:
    return f"{version.type}.v{version.version}.schema.json"


def render_all() -> dict[str, str]:
    """File name -> text, for every registered event version."""
    return {filename(v): json.dumps(event_schema(v), indent=2, ensure_ascii=False) + "\n" for v in all_versions()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.events.jsonschema", description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a file differs")
    args = parser.parse_args(argv)
    files = render_all()
    stale = sorted(p.name for p in args.directory.glob("*.schema.json") if p.name not in files)
    differ = [name for name, text in files.items()
              if not (args.directory / name).is_file() or (args.directory / name).read_text() != text]
    if args.check:
        for name in differ + stale:
            print(f"{args.directory / name}: out of date (run python -m gateway.events.jsonschema {args.directory})")
        return 1 if differ or stale else 0
    args.directory.mkdir(parents=True, exist_ok=True)
    for name in differ:
        (args.directory / name).write_text(files[name])
    for name in stale:
        (args.directory / name).unlink()
    print(f"{len(files)} schemas in {args.directory}: {len(differ)} written, {len(stale)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
