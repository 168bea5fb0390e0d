"""The event envelope: deterministic ids, source references, validation.

Every canonical event is a JSON-ready dict::

    {event_id, type, partner_id, occurred_at, received_at, correlation_id,
     schema: "<type>/<version>",
     source: {document_id, format, transaction_set, version,
              interchange_control_number, group_control_number,
              transaction_control_number},
     payload}

``event_id`` is a uuid5 of partner + ISA09/ISA10 + ISA13 + GS06 + ST02 + type + ordinal: the same
document reprocessed yields the same ids, so adapters can use it as their
idempotency key. A uuid string uses only ``[0-9a-f-]``, which RQ accepts in job ids.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from gateway.events.fields import IsoDateTime
from gateway.events.payloads import PAYLOAD_SCHEMAS
from gateway.events.versions import (
    UnknownSchemaVersion,
    parse_schema_name,
    payload_schema,
    recorded_schema,
    version_of,
)

# Fixed namespace: changing it would change every event id ever issued.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c2a52-3c0e-5b8e-9f5d-2b7e0c1d4a90")


@dataclass(frozen=True)
class SourceContext:
    """What the caller knows about a received document that the document itself doesn't."""

    partner_id: str
    document_id: str
    received_at: datetime  # timezone-aware
    correlation_id: str


def event_id(partner_id: str, *keys: str, event_type: str, ordinal: int = 0) -> str:
    """A deterministic id from the partner, the control numbers, the type and an ordinal.

    For X12 ``keys`` are ISA09+ISA10, ISA13, GS06, ST02; for XML, the document's own payload id.
    ``ordinal`` tells apart several events of one type from one source.
    """
    name = "|".join([partner_id, *keys, event_type, str(ordinal)])
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, name))


class SourceSchema(Schema):
    class Meta:
        unknown = RAISE

    document_id = fields.String(required=True)
    # "unknown": a file that is neither X12 nor XML (only in document.rejected)
    format = fields.String(required=True, validate=validate.OneOf(("x12", "cxml", "ubl", "derived", "unknown")))
    transaction_set = fields.String(required=True, allow_none=True)
    version = fields.String(required=True, allow_none=True)
    interchange_control_number = fields.String(required=True, allow_none=True)
    group_control_number = fields.String(required=True, allow_none=True)
    transaction_control_number = fields.String(required=True, allow_none=True)


class EventSchema(Schema):
    """The envelope; the payload is checked by its type's schema in :func:`validate_event`."""

    class Meta:
        unknown = RAISE

    event_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]+$"))
    type = fields.String(required=True, validate=validate.OneOf(sorted(PAYLOAD_SCHEMAS)))
    # "<type>/<version>" (gateway.events.versions): the payload is checked against that version
    schema = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+\.[a-z_]+/[1-9][0-9]{0,3}$"))
    partner_id = fields.String(required=True)
    occurred_at = IsoDateTime(required=True, aware=True)
    received_at = IsoDateTime(required=True, aware=True)
    correlation_id = fields.String(required=True)
    source = fields.Nested(SourceSchema, required=True)
    payload = fields.Dict(required=True)
    # Present and true only on test data (ISA15 = T, cXML deploymentMode="test"): such an
    # event never goes to a production route (issue #10 item 3).
    test = fields.Boolean()


_schemas = threading.local()


def _instance(schema: type[Schema]) -> Schema:
    """One instance per schema class and thread: building one deep-copies its declared
    fields, a sixth of what validating an event cost (every event of a 10,000-set
    interchange is validated). ``validate`` keeps nothing between calls; per thread all
    the same, as marshmallow promises no more."""
    made = getattr(_schemas, "made", None)
    if made is None:
        made = _schemas.made = {}
    instance = made.get(schema)
    if instance is None:
        instance = made[schema] = schema()
    return instance


def validate_event(event: dict) -> dict:
    """Return ``{}`` when ``event`` is a valid canonical event, else marshmallow's error dict."""
    errors = _instance(EventSchema).validate(event)
    schema = _payload_schema(event, errors)
    if schema is not None and isinstance(event.get("payload"), dict):
        payload_errors = _instance(schema).validate(event["payload"])
        if payload_errors:
            errors["payload"] = payload_errors
    return errors


def _payload_schema(event: dict, errors: dict):
    """The payload schema ``event`` names (recording a mismatch in ``errors``)."""
    event_type = event.get("type", "")
    if event_type not in PAYLOAD_SCHEMAS:
        return None
    named = parse_schema_name(event.get("schema", "")) if isinstance(event.get("schema"), str) else None
    if named is None:
        return payload_schema(event_type, version_of({"type": event_type}))
    if named[0] != event_type:
        errors.setdefault("schema", []).append(f"names {named[0]!r}, but the event is a {event_type!r}")
        return None
    try:
        return payload_schema(event_type, named[1])
    except UnknownSchemaVersion as exc:
        errors.setdefault("schema", []).append(str(exc))
        return None


def check_event(event: dict) -> dict:
    """Validate ``event`` and return it unchanged; raise ``ValidationError`` when invalid."""
    errors = validate_event(event)
    if errors:
        raise ValidationError(errors)
    return event


def make_event(
    *,
    event_type: str,
    context: SourceContext,
    source: dict,
    payload: dict,
    occurred_at: str,
    id_keys: tuple[str, ...],
    ordinal: int = 0,
) -> dict:
    """Build an envelope around ``payload`` (not yet validated: call :func:`check_event`)."""
    return {
        "event_id": event_id(context.partner_id, *id_keys, event_type=event_type, ordinal=ordinal),
        "type": event_type,
        "schema": recorded_schema(event_type),
        "partner_id": context.partner_id,
        "occurred_at": occurred_at,
        "received_at": context.received_at.isoformat(),
        "correlation_id": context.correlation_id,
        "source": {"document_id": context.document_id, **source},
        "payload": payload,
    }
