"""Partner profiles: one ``partners/<id>/partner.yaml`` each, validated when loaded.

A broken profile fails at start-up with its file and field named, never at 2 a.m.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from marshmallow import Schema, ValidationError, fields, validate

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class PartnerConfigError(ValueError):
    """A partner profile is invalid; the message names the file and field."""


class _X12Schema(Schema):
    qualifier = fields.String(required=True, validate=validate.Length(equal=2))
    id = fields.String(required=True, validate=validate.Length(min=1, max=15))
    group_ids = fields.List(fields.String(validate=validate.Length(min=1, max=15)), load_default=list)
    ack = fields.String(load_default="auto", validate=validate.OneOf(["auto", "997", "999", "none"]))


class _PartnerSchema(Schema):
    id = fields.String(required=True, validate=validate.Regexp(PARTNER_ID))
    name = fields.String(required=True)
    x12 = fields.Nested(_X12Schema, required=True)
    our_x12 = fields.Nested(_X12Schema, required=True)
    channels = fields.Dict(keys=fields.String(), load_default=dict)


@dataclass(frozen=True)
class X12Identity:
    qualifier: str
    id: str
    group_ids: tuple[str, ...] = ()
    ack: str = "auto"  # 997 for 004010 groups and 999 for 005010 unless forced


@dataclass(frozen=True)
class PartnerProfile:
    id: str
    name: str
    x12: X12Identity  # the partner's own ISA05/ISA06 (and GS02 ids)
    our_x12: X12Identity  # how the partner addresses us (ISA07/ISA08)
    folder: Path

    @property
    def maps_dir(self) -> Path | None:
        maps = self.folder / "maps"
        return maps if maps.is_dir() and any(maps.iterdir()) else None

    def sends_as(self, qualifier: str, sender_id: str) -> bool:
        return (qualifier, sender_id.strip()) == (self.x12.qualifier, self.x12.id)


def load_partner(path: Path) -> PartnerProfile:
    """Load and validate one ``partner.yaml``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PartnerConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        data = _PartnerSchema().load(raw or {})
    except ValidationError as exc:
        raise PartnerConfigError(f"{path}: {exc.messages}") from None
    if data["id"] != path.parent.name:
        raise PartnerConfigError(f"{path}: id {data['id']!r} must equal its folder name {path.parent.name!r}")
    return PartnerProfile(
        id=data["id"],
        name=data["name"],
        x12=_identity(data["x12"]),
        our_x12=_identity(data["our_x12"]),
        folder=path.parent,
    )


def _identity(d: dict) -> X12Identity:
    return X12Identity(d["qualifier"], d["id"], tuple(d["group_ids"]), d["ack"])


def load_partners(partners_dir: Path) -> dict[str, PartnerProfile]:
    """Every profile under ``partners_dir``; raises on the first invalid one."""
    partners: dict[str, PartnerProfile] = {}
    for path in sorted(partners_dir.glob("*/partner.yaml")):
        profile = load_partner(path)
        partners[profile.id] = profile
    return partners


def find_by_sender(partners: dict[str, PartnerProfile], qualifier: str, sender_id: str) -> PartnerProfile | None:
    for profile in partners.values():
        if profile.sends_as(qualifier, sender_id):
            return profile
    return None
