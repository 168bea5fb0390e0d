"""AS2 settings and the pyas2lib objects built from them: our Organization (one per
decryption key, during a rollover) and, per partner, one Partner per valid certificate.

Settings are read here, beside the code that uses them (``GATEWAY_AS2_*`` from the
environment, overridable through ``Settings.extra``), and checked when AS2 starts: a
missing certificate file, or a key that cannot be read (encrypted without
``GATEWAY_AS2_KEY_PASSWORD``/``_FILE``, wrong password, not matching its certificate),
fails at start-up with the file named.

Our keys: ``<keys_dir>/*.pem|*.p12|*.pfx`` for every identity, except an ``our_as2_id``
that has its own folder ``<keys_dir>/<our_as2_id>/``, which uses only the keys there.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from gateway.bootstrap import Runtime
from gateway.domain.partner import PartnerProfile
from gateway.transports.as2_certs import (
    CertificateError,
    CertInfo,
    KeyPair,
    load_cert,
    load_or_create_our_keys,
    load_our_keys,
    pick_current,
)
from gateway.transports.as2_compat import Organization, Partner


@dataclass(frozen=True)
class As2Config:
    as2_id: str  # our AS2 name, unless a partner's profile says otherwise (our_as2_id)
    keys_dir: Path
    max_decompressed_bytes: int  # compressed-data inflating past this is refused
    mdn_url: str | None  # where partners post async MDNs for what we send (None: ask for sync)
    resend_interval: float  # seconds between resender passes
    max_attempts: int  # outbound sends before a message is marked failed
    key_password: bytes | None = field(default=None, repr=False)  # for encrypted PEM / PKCS#12 keys


def _key_password(env: dict) -> bytes | None:
    """``GATEWAY_AS2_KEY_PASSWORD``, or the first line of ``GATEWAY_AS2_KEY_PASSWORD_FILE``
    (a mounted secret); not both."""
    value, file = env.get("GATEWAY_AS2_KEY_PASSWORD"), env.get("GATEWAY_AS2_KEY_PASSWORD_FILE")
    if value and file:
        raise CertificateError("set GATEWAY_AS2_KEY_PASSWORD or GATEWAY_AS2_KEY_PASSWORD_FILE, not both")
    if file:
        try:
            lines = Path(file).read_bytes().splitlines()
        except OSError as exc:
            raise CertificateError(f"GATEWAY_AS2_KEY_PASSWORD_FILE {file}: {exc.strerror}") from None
        if not lines or not lines[0]:
            raise CertificateError(f"GATEWAY_AS2_KEY_PASSWORD_FILE {file}: the first line is empty")
        return lines[0]
    return value.encode() if value else None


def as2_config(rt: Runtime) -> As2Config:
    env = {**os.environ, **rt.settings.extra}

    def number(name: str, default: float) -> float:
        try:
            value = float(env.get(name, default))
        except ValueError:
            raise CertificateError(f"{name}={env[name]!r} is not a number") from None
        if value <= 0:
            raise CertificateError(f"{name} must be greater than zero")
        return value

    return As2Config(
        as2_id=env.get("GATEWAY_AS2_ID", "BUYERCO"),
        keys_dir=Path(env.get("GATEWAY_AS2_KEYS_DIR", rt.settings.home / "keys" / "as2")),
        max_decompressed_bytes=int(number("GATEWAY_AS2_MAX_DECOMPRESSED", rt.settings.max_document_bytes)),
        mdn_url=env.get("GATEWAY_AS2_MDN_URL") or None,
        resend_interval=number("GATEWAY_AS2_RESEND_INTERVAL", 10.0),
        max_attempts=int(number("GATEWAY_AS2_MAX_ATTEMPTS", 8)),
        key_password=_key_password(env),
    )


def _domain(as2_id: str) -> str:
    """The right-hand side of our Message-IDs."""
    return (re.sub(r"[^A-Za-z0-9.-]", "-", as2_id).strip("-.") or "gateway").lower() + ".as2"


class As2Directory:
    """Who is who over AS2 for one runtime. Build with :func:`directory`."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.built_for = rt.partners  # a partner onboarded since is a new dict: rebuilt then
        self.config = as2_config(rt)
        password = self.config.key_password
        self.our_keys: list[KeyPair] = load_or_create_our_keys(self.config.keys_dir, self.config.as2_id, password)
        # An our_as2_id with its own folder keys/as2/<our_as2_id>/ uses those keys alone.
        self.keys_by_id: dict[str, list[KeyPair]] = {}
        for as2_id in {p.as2.our_as2_id for p in rt.partners.values() if p.as2 and p.as2.our_as2_id}:
            own = load_our_keys(self.config.keys_dir / as2_id, password)
            if own:
                self.keys_by_id[as2_id] = own
        self.partner_certs: dict[str, list[CertInfo]] = {}
        self.ca_bundles: dict[str, bytes | None] = {}
        self._orgs: dict[tuple[str, Path], Organization] = {}
        for p in rt.partners.values():
            if p.as2 is None:
                continue
            try:
                self.partner_certs[p.id] = [load_cert(path) for path in p.as2.certificates]
                cas = [load_cert(path).pem for path in p.as2.ca_certificates]
            except CertificateError as exc:
                raise CertificateError(f"partner {p.id!r}: {exc}") from None
            self.ca_bundles[p.id] = b"".join(cas) or None

    def our_id(self, profile: PartnerProfile) -> str:
        return profile.as2.our_as2_id or self.config.as2_id

    def partner_by_as2_id(self, as2_from: str, as2_to: str) -> PartnerProfile | None:
        for p in self.rt.partners.values():
            if p.as2 and p.as2.as2_id == as2_from and self.our_id(p) == as2_to:
                return p
        return None

    def keys(self, as2_id: str) -> list[KeyPair]:
        """Our key pairs for one of our AS2 ids, newest first."""
        return self.keys_by_id.get(as2_id, self.our_keys)

    def _signing_pair(self, as2_id: str) -> KeyPair:
        pairs = self.keys(as2_id)
        current = pick_current([k.info for k in pairs])[0]
        return next(k for k in pairs if k.info is current)

    def organizations(self, profile: PartnerProfile) -> list[Organization]:
        """Our organization as this partner sees it, once per decryption key (newest first)."""
        as2_id = self.our_id(profile)
        return [self._organization(as2_id, pair) for pair in self.keys(as2_id)]

    def signing_organization(self, profile: PartnerProfile) -> Organization:
        as2_id = self.our_id(profile)
        return self._organization(as2_id, self._signing_pair(as2_id))

    def _organization(self, as2_id: str, decrypt: KeyPair) -> Organization:
        key = (as2_id, decrypt.path)
        with _lock:
            org = self._orgs.get(key)
            if org is None:
                org = Organization(as2_name=as2_id, sign_key=self._signing_pair(as2_id).pem, decrypt_key=decrypt.pem,
                                   mdn_url=self.config.mdn_url, domain=_domain(as2_id))
                self._orgs[key] = org
            return org

    def partners(self, profile: PartnerProfile, *, outbound: bool = False) -> list[Partner]:
        """pyas2lib Partners for this profile, one per usable certificate, newest first.

        Inbound, ``sign``/``encrypt`` mean "required of the partner"; outbound they mean
        "we do it". Certificates are checked (validity, chain) by pyas2lib."""
        s = profile.as2
        mdn_mode = {"sync": "SYNC", "async": "ASYNC"}.get(s.mdn) if outbound else None
        if mdn_mode == "ASYNC" and not self.config.mdn_url:
            mdn_mode = "SYNC"  # we have no public URL to be called back on
        return [
            Partner(as2_name=s.as2_id, verify_cert=c.pem, verify_cert_ca=self.ca_bundles.get(profile.id),
                    encrypt_cert=c.pem, encrypt_cert_ca=self.ca_bundles.get(profile.id), validate_certs=True,
                    sign=s.sign, encrypt=s.encrypt, compress=s.compress and outbound, digest_alg=s.digest,
                    enc_alg=s.encryption, mdn_mode=mdn_mode, mdn_digest_alg=s.digest if s.mdn_signed else None)
            for c in pick_current(self.partner_certs[profile.id])
        ]


_lock = threading.Lock()
_directories: dict[int, As2Directory] = {}


def directory(rt: Runtime) -> As2Directory:
    """The AS2 directory of this runtime, built (and validated) on first use."""
    with _lock:
        d = _directories.get(id(rt))
        if d is None or d.rt is not rt or d.built_for is not rt.partners:
            d = _directories[id(rt)] = As2Directory(rt)
    return d


def as2_status(rt: Runtime) -> str:
    """``ok`` when our keys and every partner certificate load, else ``error: <why>`` with
    the file named (for ``/healthz``)."""
    try:
        directory(rt)
    except CertificateError as exc:
        return f"error: {exc}"
    return "ok"
