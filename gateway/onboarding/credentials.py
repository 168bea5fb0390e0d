"""Check a partner's AS2 certificate or SFTP public key before it is kept.

A certificate must be one readable PEM X.509 certificate, valid now (not expired, not
before its start), with an RSA key of at least 2048 bits or an EC key on P-256/384/521,
signed with SHA-256 or stronger. A private key pasted by mistake is refused, never kept.
An SFTP key must be an OpenSSH public key line of a type the SFTP server accepts:
ed25519, ECDSA, or RSA of at least 2048 bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.onboarding.errors import Invalid

MAX_PEM_BYTES = 64 * 1024
MIN_RSA_BITS = 2048
EC_CURVES = ("secp256r1", "secp384r1", "secp521r1")
WEAK_HASHES = ("md5", "sha1")
SSH_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")


@dataclass(frozen=True)
class CheckedCertificate:
    pem: str
    sha256: str
    subject: str
    not_before: datetime
    not_after: datetime


def check_certificate(text: str, when: datetime | None = None) -> CheckedCertificate:
    when = when or datetime.now(UTC)
    if len(text.encode("utf-8", "replace")) > MAX_PEM_BYTES:
        raise Invalid(f"a certificate is at most {MAX_PEM_BYTES} bytes of PEM")
    if "PRIVATE KEY" in text:
        raise Invalid("this is a private key: send only the partner's certificate (-----BEGIN CERTIFICATE-----)")
    try:
        cert = x509.load_pem_x509_certificate(text.encode("ascii", "replace"))
    except ValueError as exc:
        raise Invalid(f"not a PEM certificate: {exc}") from None
    if when < cert.not_valid_before_utc:
        raise Invalid(f"the certificate is not valid before {cert.not_valid_before_utc.isoformat()}")
    if when > cert.not_valid_after_utc:
        raise Invalid(f"the certificate expired on {cert.not_valid_after_utc.isoformat()}")
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise Invalid(f"the certificate's RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are needed")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in EC_CURVES:
            raise Invalid(f"the certificate's EC curve {key.curve.name} is not one of {', '.join(EC_CURVES)}")
    else:
        raise Invalid(f"the certificate's key type ({type(key).__name__}) cannot sign or encrypt AS2 messages")
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or algorithm.name in WEAK_HASHES:
        raise Invalid(f"the certificate is signed with {algorithm.name if algorithm else 'no hash'}; "
                      "SHA-256 or stronger is needed")
    return CheckedCertificate(pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
                              sha256=cert.fingerprint(hashes.SHA256()).hex(),
                              subject=cert.subject.rfc4514_string()[:500],
                              not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc)


def check_ssh_key(line: str):
    """``(paramiko key, comment)`` of an acceptable OpenSSH public key line."""
    from gateway.transports.sftp_auth import PublicKeyError, parse_public_key

    if len(line) > 16 * 1024 or "\n" in line.strip():
        raise Invalid("send one OpenSSH public key line: '<type> <base64> [comment]'")
    if "PRIVATE KEY" in line:
        raise Invalid("this is a private key: send only the partner's public key (its .pub file)")
    try:
        key, comment = parse_public_key(line)
    except PublicKeyError as exc:
        raise Invalid(str(exc)) from None
    if key.get_name() not in SSH_TYPES:
        raise Invalid(f"{key.get_name()} keys are not accepted; use ed25519, ECDSA or RSA (2048 bits or more)")
    if key.get_name() == "ssh-rsa" and key.get_bits() < MIN_RSA_BITS:
        raise Invalid(f"the RSA key has {key.get_bits()} bits; at least {MIN_RSA_BITS} are needed")
    return key, comment[:255]
