"""Event schema versions: which versions of each event type exist, and how to render one.

Every event names its schema as ``"<type>/<version>"`` (``"purchase_order.acknowledged/1"``).
The policy (docs/events/README.md): an additive change (a new optional field) keeps
the version; a breaking change (a field removed, renamed, retyped or made required)
is a new version, registered here with a converter from the version the maps record,
and delivered beside the old one to the routes that still want the old one, until the
deprecation date each route sets (``versions:`` in routes.yaml).

The maps record each event at its *recorded* version (today: 1 for every type). Any
other version is a *rendering*: the same event converted by its registered converter,
stored as its own event row with the id ``<event_id>-v<version>`` so that a consumer
of each version has its own Idempotency-Key and never drops one as a repeat of the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from marshmallow import Schema

from gateway.events.payloads import PAYLOAD_SCHEMAS

SCHEMA_NAME = re.compile(r"^(?P<type>[a-z_]+\.[a-z_]+)/(?P<version>[1-9][0-9]{0,3})$")


@dataclass(frozen=True)
class EventVersion:
    type: str
    version: int
    schema: type[Schema]
    # payload of the recorded version -> payload of this version (None: this is the recorded one)
    convert: Callable[[dict], dict] | None = None
    description: str = ""


_VERSIONS: dict[str, dict[int, EventVersion]] = {
    name: {1: EventVersion(name, 1, schema)} for name, schema in PAYLOAD_SCHEMAS.items()
}
_RECORDED: dict[str, int] = dict.fromkeys(PAYLOAD_SCHEMAS, 1)


class UnknownSchemaVersion(LookupError):
    """An event type or version nobody registered (a routes file asked for it, or an event named it)."""


def schema_name(event_type: str, version: int) -> str:
    return f"{event_type}/{version}"


def parse_schema_name(name: str) -> tuple[str, int] | None:
    m = SCHEMA_NAME.match(name or "")
    return (m.group("type"), int(m.group("version"))) if m else None


def recorded_version(event_type: str) -> int:
    """The version the maps and the gateway's own code build for ``event_type``."""
    return _RECORDED.get(event_type, 1)


def recorded_schema(event_type: str) -> str:
    return schema_name(event_type, recorded_version(event_type))


def versions_of(event_type: str) -> dict[int, EventVersion]:
    return dict(_VERSIONS.get(event_type, {}))


def all_versions() -> list[EventVersion]:
    return [v for name in sorted(_VERSIONS) for _, v in sorted(_VERSIONS[name].items())]


def payload_schema(event_type: str, version: int) -> type[Schema]:
    try:
        return _VERSIONS[event_type][version].schema
    except KeyError:
        raise UnknownSchemaVersion(f"no schema {schema_name(event_type, version)} is registered") from None


def register_version(event_type: str, version: int, schema: type[Schema], convert: Callable[[dict], dict],
                     description: str = "") -> EventVersion:
    """Register a breaking new (or a kept old) version of ``event_type``, with the converter
    from the recorded version's payload. Registering the same version twice is refused."""
    if event_type not in _VERSIONS:
        raise UnknownSchemaVersion(f"no event type {event_type!r}")
    if version in _VERSIONS[event_type]:
        raise ValueError(f"{schema_name(event_type, version)} is already registered")
    if not 1 <= version <= 9999:
        raise ValueError(f"a version is a number from 1 to 9999, got {version!r}")
    entry = EventVersion(event_type, version, schema, convert, description)
    _VERSIONS[event_type][version] = entry
    return entry


def unregister_version(event_type: str, version: int) -> None:
    if version == recorded_version(event_type):
        raise ValueError(f"{schema_name(event_type, version)} is the recorded version")
    _VERSIONS.get(event_type, {}).pop(version, None)


@contextmanager
def registered_version(event_type: str, version: int, schema: type[Schema],
                       convert: Callable[[dict], dict]) -> Iterator[EventVersion]:
    """A version registered for the duration of a ``with`` block (tests, dry runs)."""
    entry = register_version(event_type, version, schema, convert)
    try:
        yield entry
    finally:
        unregister_version(event_type, version)


def rendering_id(event_id: str, version: int) -> str:
    """The id of ``event_id`` rendered at another version: its own Idempotency-Key."""
    return f"{event_id}-v{version}"


def render(body: dict, version: int) -> dict:
    """``body`` (an event at its recorded version) as ``version``; raises
    UnknownSchemaVersion when that version is not registered."""
    event_type = body["type"]
    if version == _version_of(body):
        return body
    entry = _VERSIONS.get(event_type, {}).get(version)
    if entry is None or entry.convert is None:
        raise UnknownSchemaVersion(f"no schema {schema_name(event_type, version)} is registered")
    return {**body, "event_id": rendering_id(body["event_id"], version), "schema": schema_name(event_type, version),
            "payload": entry.convert(body["payload"])}


def _version_of(body: dict) -> int:
    parsed = parse_schema_name(body.get("schema", ""))
    return parsed[1] if parsed else recorded_version(body["type"])


def version_of(body: dict) -> int:
    """The version ``body`` is at (its ``schema``; the recorded version when it names none)."""
    return _version_of(body)
