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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.config import ConfigError

log = logging.getLogger("gateway.transports.as2")

WARN_DAYS = 30


class CertificateError(ConfigError):
    """A certificate or key file is missing or unreadable; the message names the file.
    A :class:`ConfigError`, so ``gateway up`` stops with the message, not a traceback."""


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
    """One of our own AS2 key pairs. ``pem`` is the private key (decrypted, in memory only)
    then its certificate: what pyas2lib is given, so it never needs the password."""

    path: Path
    pem: bytes = field(repr=False)
    info: CertInfo


KEY_SUFFIXES = (".pem", ".p12", ".pfx")
PASSWORD_HINT = "set GATEWAY_AS2_KEY_PASSWORD or GATEWAY_AS2_KEY_PASSWORD_FILE"


def key_files(keys_dir: Path) -> list[Path]:
    """Our key files in a folder: PEM (key + certificate) or PKCS#12 (``.p12``/``.pfx``)."""
    if not keys_dir.is_dir():
        return []
    return sorted(p for p in keys_dir.iterdir() if p.is_file() and p.suffix.lower() in KEY_SUFFIXES)


def load_key_pair(path: Path, password: bytes | None = None) -> KeyPair:
    """Our private key and its certificate from a PEM file (the key may be encrypted) or a
    PKCS#12 file, checked to belong together. Any problem is a :class:`CertificateError`
    naming the file and what to do."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"{path}: {exc.strerror}") from None
    if path.suffix.lower() in (".p12", ".pfx"):
        key, cert = _from_pkcs12(path, data, password)
    else:
        key, cert = _from_pem(path, data, password)
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        raise CertificateError(f"{path}: the private key does not belong to the certificate ({cert.subject.rfc4514_string()})")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    return KeyPair(path, key_pem + cert_pem, CertInfo(path, cert, cert_pem))


def _from_pkcs12(path: Path, data: bytes, password: bytes | None):
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, cert, _chain = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        if password is None:
            raise CertificateError(f"{path}: a PKCS#12 file that needs a password: {PASSWORD_HINT}") from None
        raise CertificateError(f"{path}: not a PKCS#12 file, or the password is wrong") from None
    if key is None or cert is None:
        raise CertificateError(f"{path}: the PKCS#12 file must hold our private key and its certificate")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError(f"{path}: AS2 needs an RSA key, not {type(key).__name__}")
    return key, cert


def _from_pem(path: Path, data: bytes, password: bytes | None):
    if b"PRIVATE KEY-----" not in data:
        raise CertificateError(f"{path}: no private key in the file")
    encrypted = b"ENCRYPTED PRIVATE KEY-----" in data or b"Proc-Type: 4,ENCRYPTED" in data
    if encrypted and password is None:
        raise CertificateError(f"{path}: the private key is encrypted: {PASSWORD_HINT}")
    try:
        key = serialization.load_pem_private_key(data, password if encrypted else None)
    except (ValueError, TypeError):
        raise CertificateError(f"{path}: the private key cannot be read"
                               f"{' (wrong password?)' if encrypted else ''}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError(f"{path}: AS2 needs an RSA key, not {type(key).__name__}")
    return key, load_cert(path).cert


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


def load_our_keys(keys_dir: Path, password: bytes | None = None) -> list[KeyPair]:
    """The key pairs in ``keys_dir`` (not below it), newest first; none if it has none."""
    pairs = [load_key_pair(p, password) for p in key_files(keys_dir)]
    return sorted(pairs, key=lambda p: p.info.not_before, reverse=True)


def load_or_create_our_keys(keys_dir: Path, as2_id: str, password: bytes | None = None) -> list[KeyPair]:
    """Our key pairs, newest first; the first start makes one (RSA 3072, two years)."""
    pairs = load_our_keys(keys_dir, password)
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
    entries = [("(us)", "own", k.path, k.info) for k in our_keys]  # loaded already (maybe with a password)
    for p in partners.values():
        if p.as2:
            entries += [(p.id, "partner", path, None) for path in p.as2.certificates]
    for owner, kind, path, info in entries:
        try:
            info = info or load_cert(path)
        except CertificateError as exc:
            rows.append({"partner_id": owner, "kind": kind, "path": str(path), "state": "unreadable",
                         "error": str(exc), "days_left": None})
            continue
        days_left = (info.not_after - when).total_seconds() / 86400
        rows.append({"partner_id": owner, "kind": kind, "path": str(path), "subject": info.subject,
                     "fingerprint": info.fingerprint, "not_after": info.not_after.isoformat(),
                     "days_left": round(days_left, 2), "state": info.state(when, warn_days)})
    return rows
