"""AS2 certificates and keys: ours (made on first start, like the SFTP host key) and the
partners' (PEM files named in ``partner.yaml``), their validity, and the expiry report
that ``/metrics`` and the dashboard read.

Rollover: a partner may list two certificates; any currently valid one verifies its
signatures and the newest valid one encrypts what we send. We may hold several key
pairs in ``<GATEWAY_HOME>/keys/as2/``: all of them decrypt, the newest valid one signs.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

log = logging.getLogger("gateway.transports.as2")

WARN_DAYS = 30


class CertificateError(ValueError):
    """A certificate or key file is missing or unreadable; the message names the file."""


@dataclass(frozen=True)
class CertInfo:
    path: Path
    cert: x509.Certificate
    pem: bytes  # the certificate alone, PEM

    @property
    def not_before(self) -> datetime:
        return self.cert.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.cert.not_valid_after_utc

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    @property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex(":").upper()

    def valid_at(self, when: datetime | None = None) -> bool:
        when = when or datetime.now(UTC)
        return self.not_before <= when <= self.not_after

    def state(self, when: datetime | None = None, warn_days: int = WARN_DAYS) -> str:
        """``ok``, ``expiring`` (within ``warn_days``), ``expired`` or ``not_yet_valid``."""
        when = when or datetime.now(UTC)
        if when < self.not_before:
            return "not_yet_valid"
        if when > self.not_after:
            return "expired"
        return "expiring" if self.not_after - when <= timedelta(days=warn_days) else "ok"


def load_cert(path: Path) -> CertInfo:
    """The first certificate in a PEM file (a key in the same file is ignored here)."""
    try:
        cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
    except OSError as exc:
        raise CertificateError(f"{path}: {exc.strerror}") from None
    except ValueError as exc:
        raise CertificateError(f"{path}: not a PEM certificate ({exc})") from None
    return CertInfo(Path(path), cert, cert.public_bytes(serialization.Encoding.PEM))


def pick_current(certs: list[CertInfo], when: datetime | None = None) -> list[CertInfo]:
    """Currently valid certificates, newest first; if none is valid, all of them (so the
    AS2 library reports the precise reason, e.g. "certificate has expired")."""
    valid = sorted((c for c in certs if c.valid_at(when)), key=lambda c: c.not_before, reverse=True)
    return valid or list(certs)


@dataclass(frozen=True)
class KeyPair:
    """One of our own AS2 key pairs: PEM with the private key then its certificate."""

    path: Path
    pem: bytes
    info: CertInfo


def load_key_pair(path: Path) -> KeyPair:
    pem = Path(path).read_bytes()
    if b"PRIVATE KEY" not in pem:
        raise CertificateError(f"{path}: no private key in the file")
    return KeyPair(Path(path), pem, load_cert(path))


def make_self_signed(common_name: str, *, days: int = 730, not_before: datetime | None = None,
                     key_size: int = 3072) -> tuple[bytes, bytes]:
    """A new RSA key and a self-signed certificate for it: (key PEM, certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=True,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def write_private(path: Path, data: bytes) -> None:
    """Write a file holding a private key: mode 0600 from the start, never world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def load_or_create_our_keys(keys_dir: Path, as2_id: str) -> list[KeyPair]:
    """Our key pairs, newest first; the first start makes one (RSA 3072, two years)."""
    pairs = [load_key_pair(p) for p in sorted(keys_dir.glob("*.pem"))] if keys_dir.is_dir() else []
    if not pairs:
        key_pem, cert_pem = make_self_signed(as2_id)
        path = keys_dir / f"as2-{datetime.now(UTC):%Y%m%d}.pem"
        write_private(path, key_pem + cert_pem)
        (keys_dir / f"{path.stem}.crt").write_bytes(cert_pem)  # the public half, to hand to partners
        log.warning("created our AS2 key pair %s; give partners %s", path, path.with_suffix(".crt"))
        pairs = [load_key_pair(path)]
    return sorted(pairs, key=lambda p: p.info.not_before, reverse=True)


def certificate_report(partners: dict, our_keys: list[KeyPair] = (), when: datetime | None = None,
                       warn_days: int = WARN_DAYS) -> list[dict]:
    """Every AS2 certificate we depend on, with days left and a state; for metrics/dashboard.

    ``partners`` is ``Runtime.partners``. An unreadable file is reported as ``unreadable``
    rather than raising, so one bad file does not hide the others.
    """
    when = when or datetime.now(UTC)
    rows = []
    entries = [("(us)", "own", k.path) for k in our_keys]
    for p in partners.values():
        if p.as2:
            entries += [(p.id, "partner", path) for path in p.as2.certificates]
    for owner, kind, path in entries:
        try:
            info = load_cert(path)
        except CertificateError as exc:
            rows.append({"partner_id": owner, "kind": kind, "path": str(path), "state": "unreadable",
                         "error": str(exc), "days_left": None})
            continue
        days_left = (info.not_after - when).total_seconds() / 86400
        rows.append({"partner_id": owner, "kind": kind, "path": str(path), "subject": info.subject,
                     "fingerprint": info.fingerprint, "not_after": info.not_after.isoformat(),
                     "days_left": round(days_left, 2), "state": info.state(when, warn_days)})
    return rows
