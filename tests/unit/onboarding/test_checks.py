"""The sans-IO parts of onboarding: the dry-run diff, and the certificate and key checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509.oid import NameOID

from gateway.onboarding import Invalid
from gateway.onboarding.credentials import check_certificate, check_ssh_key
from gateway.onboarding.dry_run import diff


def test_diff_names_every_leaf_that_differs():
    before = {"payload": {"po_number": "1", "lines": [{"q": "1"}, {"q": "2"}]}, "type": "t"}
    after = {"payload": {"po_number": "1", "lines": [{"q": "1"}, {"q": "3"}, {"q": "4"}], "currency": "USD"},
             "type": "t"}
    assert diff(before, after) == [
        {"path": "payload.lines[1].q", "before": "2", "after": "3"},
        {"path": "payload.lines[2]", "before": None, "after": {"q": "4"}},
        {"path": "payload.currency", "before": None, "after": "USD"},
    ]
    assert diff(before, before) == []


def _certificate(key, days=30) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partner")])
    start = datetime.now(UTC) - timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + timedelta(days=days))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_certificates_with_weak_or_unusable_keys_are_refused():
    assert check_certificate(_certificate(ec.generate_private_key(ec.SECP256R1()))).subject == "CN=partner"
    with pytest.raises(Invalid, match="secp256k1"):
        check_certificate(_certificate(ec.generate_private_key(ec.SECP256K1())))
    with pytest.raises(Invalid, match="DSAPublicKey"):
        check_certificate(_certificate(dsa.generate_private_key(key_size=2048)))
    checked = check_certificate(_certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    assert len(checked.sha256) == 64 and checked.pem.startswith("-----BEGIN CERTIFICATE-----")


def test_ssh_keys_are_one_public_line_of_an_accepted_type():
    with pytest.raises(Invalid, match="one OpenSSH public key line"):
        check_ssh_key("ssh-ed25519 AAAA\nssh-ed25519 BBBB")
    with pytest.raises(Invalid, match="private key"):
        check_ssh_key("-----BEGIN OPENSSH PRIVATE KEY-----")
    line = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    key, comment = check_ssh_key(line + " ops@globex")
    assert key.get_name() == "ecdsa-sha2-nistp256" and comment == "ops@globex"
