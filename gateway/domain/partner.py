"""Partner profiles: one ``partners/<id>/partner.yaml`` each, validated when loaded.

A broken profile fails at start-up with its file and field named, never at 2 a.m.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class PartnerConfigError(ValueError):
    """A partner profile is invalid; the message names the file and field."""


class _X12Schema(Schema):
    qualifier = fields.String(required=True, validate=validate.Length(equal=2))
    id = fields.String(required=True, validate=validate.Length(min=1, max=15))
    group_ids = fields.List(fields.String(validate=validate.Length(min=1, max=15)), load_default=list)
    ack = fields.String(load_default="auto", validate=validate.OneOf(["auto", "997", "999", "none"]))
    # how long the partner has to answer what we send with a 997/999 before ack.overdue
    ack_deadline_hours = fields.Float(load_default=24.0, validate=validate.Range(min=0.01, max=24 * 30))


# How a reused ISA13 (other bytes, within the duplicate window) is treated:
#   after_rejection: allowed when every earlier interchange with it was rejected (a
#                    corrected resend); refused with TA1 025 once one was accepted
#   never:           always refused with TA1 025
CONTROL_NUMBER_REUSE = ["after_rejection", "never"]
# What happens to test data (ISA15 = T, cXML deploymentMode="test"); it is validated
# and acknowledged as usual either way, and never goes to a production route:
#   hold:  kept, marked test, delivered nowhere
#   route: delivered only on routes marked `test: true` in routes.yaml
TEST_DATA = ["hold", "route"]


class _PartnerX12Schema(_X12Schema):
    """``x12``: the partner's own ids, plus how we treat its control numbers."""

    control_number_reuse = fields.String(load_default="after_rejection", validate=validate.OneOf(CONTROL_NUMBER_REUSE))
    # true: a GS08 release we hold no tables for is an error (AK5 R), not validated against
    # the nearest release we hold with an informational note
    strict_releases = fields.Boolean(load_default=False)


AS2_NAME = re.compile(r"^[\x21-\x7e ]{1,128}$")  # RFC 4130 AS2-name: printable ASCII
DIGESTS = ["sha256", "sha384", "sha512"]  # SHA-1 and MD5 are not accepted for new partners
CIPHERS = ["aes_128_cbc", "aes_192_cbc", "aes_256_cbc"]


class _SftpSchema(Schema):
    """``channels.sftp``: optional password (hash only, see gateway.transports.sftp_auth) and limits."""

    password_hash = fields.String(load_default=None, validate=validate.Regexp(r"^scrypt\$"))
    max_file_bytes = fields.Integer(load_default=None, validate=validate.Range(min=1))
    daily_quota_bytes = fields.Integer(load_default=None, validate=validate.Range(min=1))


class _As2Schema(Schema):
    """``channels.as2``: the partner's AS2 id, certificates and what it must/will do.

    Certificate files are PEM, named relative to the partner folder (or absolute).
    Two may be listed during a rollover: any valid one verifies, the newest encrypts.
    """

    as2_id = fields.String(required=True, validate=validate.Regexp(AS2_NAME))
    our_as2_id = fields.String(load_default=None, validate=validate.Regexp(AS2_NAME))
    certificates = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=4))
    ca_certificates = fields.List(fields.String(), load_default=list)
    url = fields.Url(load_default=None, schemes={"http", "https"}, require_tld=False)
    # The only URLs this partner may name in Receipt-Delivery-Option: we post async MDNs
    # nowhere else (an anonymous request must not make us call an internal address).
    async_mdn_urls = fields.List(fields.Url(schemes={"http", "https"}, require_tld=False), load_default=list)
    sign = fields.Boolean(load_default=True)  # inbound must be signed; we sign what we send
    encrypt = fields.Boolean(load_default=True)  # inbound must be encrypted; we encrypt what we send
    compress = fields.Boolean(load_default=False)  # compress what we send
    mdn = fields.String(load_default="sync", validate=validate.OneOf(["sync", "async", "none"]))
    mdn_signed = fields.Boolean(load_default=True)
    digest = fields.String(load_default="sha256", validate=validate.OneOf(DIGESTS))
    encryption = fields.String(load_default="aes_256_cbc", validate=validate.OneOf(CIPHERS))
    timeout = fields.Float(load_default=60.0, validate=validate.Range(min=1, max=600))


class _ChannelsSchema(Schema):
    sftp = fields.Nested(_SftpSchema, load_default=None, allow_none=True)
    as2 = fields.Nested(_As2Schema, load_default=None, allow_none=True)


class _CxmlCredentialSchema(Schema):
    domain = fields.String(required=True, validate=validate.Length(min=1, max=64))  # e.g. NetworkId, DUNS
    identity = fields.String(required=True, validate=validate.Length(min=1, max=128))


class _CxmlSchema(Schema):
    """``cxml``: a partner that speaks cXML over HTTP (see :class:`CxmlSettings`)."""

    order_url = fields.Url(load_default=None, schemes={"http", "https"}, require_tld=False)
    from_ = fields.Nested(_CxmlCredentialSchema, data_key="from", required=True)  # us, as the partner knows us
    to = fields.Nested(_CxmlCredentialSchema, required=True)  # the partner
    sender = fields.Nested(_CxmlCredentialSchema, load_default=None)  # us as the transmitting party; default: from
    shared_secret_env = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"))
    shared_secret_file = fields.String(load_default=None, validate=validate.Length(min=1, max=1024))
    user_agent = fields.String(load_default="Supplier EDI Gateway", validate=validate.Length(min=1, max=128))
    version = fields.String(load_default="1.2.063", validate=validate.Regexp(r"^1\.2\.\d{3}$"))
    deployment_mode = fields.String(load_default="production", validate=validate.OneOf(["production", "test"]))
    timeout = fields.Float(load_default=30.0, validate=validate.Range(min=1, max=300))
    max_response_bytes = fields.Integer(load_default=1024 * 1024, validate=validate.Range(min=1024, max=64 * 1024 * 1024))
    max_attempts = fields.Integer(load_default=8, validate=validate.Range(min=1, max=50))

    @validates_schema
    def _one_secret(self, data, **kwargs):
        if bool(data.get("shared_secret_env")) == bool(data.get("shared_secret_file")):
            raise ValidationError("name exactly one of shared_secret_env or shared_secret_file "
                                  "(the secret itself never goes in partner.yaml)", "shared_secret_env")


class _UblPartyIdSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=128))  # PartyIdentification/ID, EndpointID
    scheme = fields.String(load_default=None)  # its schemeID; None: any scheme


class _XmlSchema(Schema):
    """``xml``: how the partner names itself in cXML (From/Sender) and UBL (its party ids)."""

    cxml = fields.List(fields.Nested(_CxmlCredentialSchema), load_default=list)
    ubl = fields.List(fields.Nested(_UblPartyIdSchema), load_default=list)


ALERT_KINDS = ["rejected", "dead_letter", "certificate_expiring", "ack_overdue"]  # gateway.alerts.kinds


class _ContactSchema(Schema):
    """``contacts``: who hears of this partner's alerts by e-mail (see docs/alerts.md)."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(load_default=None, validate=validate.Length(max=120))
    notify = fields.List(fields.String(validate=validate.OneOf(ALERT_KINDS)), load_default=lambda: ["rejected"])


class _CorrectionsSchema(Schema):
    """``corrections``: support's corrected copies of this partner's documents."""

    second_approver = fields.Boolean(load_default=False)  # a second operator approves each before it enters


class _PartnerSchema(Schema):
    id = fields.String(required=True, validate=validate.Regexp(PARTNER_ID))
    name = fields.String(required=True)
    x12 = fields.Nested(_PartnerX12Schema, required=True)
    our_x12 = fields.Nested(_X12Schema, required=True)
    test_data = fields.String(load_default="hold", validate=validate.OneOf(TEST_DATA))
    channels = fields.Nested(_ChannelsSchema, load_default=dict)
    xml = fields.Nested(_XmlSchema, load_default=None, allow_none=True)
    cxml = fields.Nested(_CxmlSchema, load_default=None, allow_none=True)
    flow = fields.Dict(load_default=None, allow_none=True)  # flow rule overrides: gateway.flow.rules
    contacts = fields.List(fields.Nested(_ContactSchema), load_default=list, validate=validate.Length(max=50))
    corrections = fields.Nested(_CorrectionsSchema, load_default=dict)


@dataclass(frozen=True)
class Contact:
    """A person told of this partner's alerts of the kinds in ``notify``."""

    email: str
    notify: tuple[str, ...] = ("rejected",)
    name: str | None = None


@dataclass(frozen=True)
class X12Identity:
    qualifier: str
    id: str
    group_ids: tuple[str, ...] = ()
    ack: str = "auto"  # 997 for 004010 groups and 999 for 005010 unless forced
    ack_deadline_hours: float = 24.0  # x12 only: the partner's 997/999 for our 850 is overdue after this


@dataclass(frozen=True)
class SftpSettings:
    password_hash: str | None = None
    max_file_bytes: int | None = None  # None: the gateway-wide max_document_bytes
    daily_quota_bytes: int | None = None  # None: no daily quota


@dataclass(frozen=True)
class As2Settings:
    as2_id: str
    certificates: tuple[Path, ...]  # resolved; existence is checked when AS2 starts
    ca_certificates: tuple[Path, ...] = ()
    our_as2_id: str | None = None  # None: the gateway's own AS2 id
    url: str | None = None  # None: we do not send to this partner over AS2
    async_mdn_urls: tuple[str, ...] = ()  # where its async MDNs may go; empty: sync MDNs only
    sign: bool = True
    encrypt: bool = True
    compress: bool = False
    mdn: str = "sync"
    mdn_signed: bool = True
    digest: str = "sha256"
    encryption: str = "aes_256_cbc"
    timeout: float = 60.0


@dataclass(frozen=True)
class XmlIdentity:
    """The partner's ids in XML documents (matched by :mod:`gateway.xml.identity`)."""

    cxml: tuple[tuple[str, str], ...] = ()  # (credential domain, identity)
    ubl: tuple[tuple[str | None, str], ...] = ()  # (schemeID or None for any, id)


class SecretUnavailable(RuntimeError):
    """Our side cannot read a configured secret (unset variable, missing file): our fault."""


@dataclass(frozen=True)
class SharedSecretRef:
    """Where a shared secret is kept (an environment variable or a file), never the secret:
    read when used, so it is in no profile, log line or repr."""

    env: str | None = None
    file: Path | None = None

    def read(self) -> str:
        import os

        if self.env:
            value = os.environ.get(self.env, "")
            where = f"environment variable {self.env}"
        else:
            try:
                value = self.file.read_text(encoding="utf-8")
            except OSError as exc:
                raise SecretUnavailable(f"the shared secret file {self.file} cannot be read: "
                                        f"{exc.strerror or exc}") from None
            where = f"file {self.file}"
        value = value.strip()
        if not value:
            raise SecretUnavailable(f"the shared secret ({where}) is not set")
        return value

    def __str__(self) -> str:
        return f"env:{self.env}" if self.env else f"file:{self.file}"


@dataclass(frozen=True)
class CxmlSettings:
    """A partner that speaks cXML: where our OrderRequests go (``order_url``; None: its POs
    go as X12 850s on its other channel) and the credentials in their Header. The shared secret is the partner's
    and ours both ways: it goes in the Sender credential of what we send, and the
    partner's documents posted to ``/cxml`` must carry it."""

    from_: tuple[str, str]  # (domain, identity): us
    to: tuple[str, str]  # the partner
    sender: tuple[str, str]  # us, as the party that transmits
    shared_secret: SharedSecretRef
    order_url: str | None = None
    user_agent: str = "Supplier EDI Gateway"
    version: str = "1.2.063"
    deployment_mode: str = "production"
    timeout: float = 30.0
    max_response_bytes: int = 1024 * 1024
    max_attempts: int = 8


@dataclass(frozen=True)
class PartnerProfile:
    id: str
    name: str
    x12: X12Identity  # the partner's own ISA05/ISA06 (and GS02 ids)
    our_x12: X12Identity  # how the partner addresses us (ISA07/ISA08)
    folder: Path
    sftp: SftpSettings = field(default_factory=SftpSettings)
    as2: As2Settings | None = None
    xml: XmlIdentity = field(default_factory=XmlIdentity)
    control_number_reuse: str = "after_rejection"  # see CONTROL_NUMBER_REUSE
    test_data: str = "hold"  # see TEST_DATA
    strict_releases: bool = False  # a release we hold no tables for is refused, not substituted
    cxml: CxmlSettings | None = None  # it speaks cXML over HTTP (orders out, documents in at /cxml)
    flow: dict | None = field(default=None, hash=False, compare=False)  # its flow rule overrides (validated)
    contacts: tuple[Contact, ...] = ()  # alerts by e-mail (gateway.alerts)
    corrections_second_approver: bool = False  # edit-and-resubmit needs a second operator's approval

    @property
    def maps_dir(self) -> Path | None:
        maps = self.folder / "maps"
        return maps if maps.is_dir() and any(maps.iterdir()) else None

    @property
    def test_data_handling(self) -> str:
        """What happens to this partner's test data, for a document's reason line."""
        if self.test_data == "route":
            return "test data: delivered only on routes marked test"
        return "test data: held, delivered nowhere (the partner's test_data is hold)"

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
        sftp=SftpSettings(**(data["channels"].get("sftp") or {})),
        as2=_as2(data["channels"].get("as2"), path.parent),
        xml=_xml(data.get("xml"), data.get("cxml")),
        control_number_reuse=data["x12"]["control_number_reuse"],
        test_data=data["test_data"],
        strict_releases=data["x12"]["strict_releases"],
        cxml=_cxml(data.get("cxml"), path.parent),
        flow=_flow(data.get("flow"), path),
        contacts=tuple(Contact(c["email"], tuple(c["notify"]), c["name"]) for c in data["contacts"]),
        corrections_second_approver=bool((data.get("corrections") or {}).get("second_approver")),
    )


def _flow(d: dict | None, path: Path) -> dict | None:
    from gateway.flow.rules import FlowRuleError, rules_for

    try:
        rules_for(d)  # laid over the defaults, as they will be used
    except FlowRuleError as exc:
        raise PartnerConfigError(f"{path}: {exc}") from None
    return d or None


def _xml(d: dict | None, cxml: dict | None = None) -> XmlIdentity:
    d = d or {}
    credentials = [(c["domain"], c["identity"]) for c in d.get("cxml", [])]
    if cxml and (cxml["to"]["domain"], cxml["to"]["identity"]) not in credentials:
        credentials.append((cxml["to"]["domain"], cxml["to"]["identity"]))  # its cXML `To` names it too
    return XmlIdentity(tuple(credentials), tuple((u["scheme"], u["id"]) for u in d.get("ubl", [])))


def _cxml(d: dict | None, folder: Path) -> CxmlSettings | None:
    if not d:
        return None
    pair = lambda c: (c["domain"], c["identity"])  # noqa: E731
    secret = SharedSecretRef(env=d["shared_secret_env"],
                             file=(folder / d["shared_secret_file"]).resolve() if d["shared_secret_file"] else None)
    return CxmlSettings(from_=pair(d["from_"]), to=pair(d["to"]), sender=pair(d["sender"] or d["from_"]),
                        shared_secret=secret, order_url=d["order_url"], user_agent=d["user_agent"],
                        version=d["version"], deployment_mode=d["deployment_mode"], timeout=d["timeout"],
                        max_response_bytes=d["max_response_bytes"], max_attempts=d["max_attempts"])


def _as2(d: dict | None, folder: Path) -> As2Settings | None:
    if not d:
        return None
    resolve = lambda names: tuple((folder / n).resolve() for n in names)  # noqa: E731 - absolute names stay
    return As2Settings(**{**d, "certificates": resolve(d["certificates"]),
                          "ca_certificates": resolve(d["ca_certificates"]),
                          "async_mdn_urls": tuple(d["async_mdn_urls"])})


def _identity(d: dict) -> X12Identity:
    return X12Identity(d["qualifier"], d["id"], tuple(d["group_ids"]), d["ack"], d["ack_deadline_hours"])


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
