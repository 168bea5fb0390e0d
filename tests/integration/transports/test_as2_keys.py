"""Our AS2 private key: encrypted PEM and PKCS#12 with the password from
GATEWAY_AS2_KEY_PASSWORD or GATEWAY_AS2_KEY_PASSWORD_FILE, one key per our_as2_id when
it has its own folder, and a key that cannot be loaded failing clearly: `gateway up`
exits naming the file, /healthz says so, /as2 answers 503 (never an HTML 500 or an MDN
blaming the partner). Keys are made here with `cryptography`; pyas2lib is the partner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from as2_kit import Server, make_runtime, new_keys, partner_message, verify_mdn, write_partner
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import select
from support import SAMPLES, free_port

from gateway.store.models import Document

PAYLOAD = (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes()
PASSWORD = b"correct horse battery staple"


@pytest.fixture(scope="module")
def keys():
    return {"ours": new_keys("BUYERCO"), "eu": new_keys("BUYERCO-EU"), "acme": new_keys("ACME-AS2")}


def encrypted_pem(k, password: bytes = PASSWORD) -> bytes:
    key = serialization.load_pem_private_key(k.key_pem, None)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(password)) + k.cert_pem


def pkcs12_file(k, password: bytes = PASSWORD) -> bytes:
    key = serialization.load_pem_private_key(k.key_pem, None)
    return pkcs12.serialize_key_and_certificates(b"as2", key, x509.load_pem_x509_certificate(k.cert_pem), None,
                                                 serialization.BestAvailableEncryption(password))


def gateway_with_key(tmp_path, keys, database_url, filename: str, content: bytes, **extra):
    partners = tmp_path / "partners"
    write_partner(partners, "acme", "ACME-AS2", [keys["acme"].cert_pem])
    key_dir = tmp_path / "home" / "keys" / "as2"
    key_dir.mkdir(parents=True)
    (key_dir / filename).write_bytes(content)
    return make_runtime(tmp_path / "home", partners, database_url, None, [], **extra)


def send_and_verify(rt, keys, our_cert: bytes, to: str = "BUYERCO") -> tuple[str, str | None]:
    """A signed, encrypted message from ACME (to our certificate); our MDN as ACME checks it."""
    server = Server(rt)
    try:
        msg = partner_message(keys["acme"], "ACME-AS2", our_cert, PAYLOAD, to=to)
        response = requests.post(server.url, data=msg.content, headers=msg.headers, timeout=30)
        assert response.status_code == 200, response.text[:300]
        return verify_mdn(msg, response.headers.items(), response.content)[:2]
    finally:
        server.stop()


def documents(rt):
    with rt.session() as s:
        return s.scalars(select(Document)).all()


def test_encrypted_pem_with_the_password_setting(tmp_path, keys, database_url):
    rt = gateway_with_key(tmp_path, keys, database_url, "ours.pem", encrypted_pem(keys["ours"]),
                          GATEWAY_AS2_KEY_PASSWORD=PASSWORD.decode())
    assert send_and_verify(rt, keys, keys["ours"].cert_pem) == ("processed", None)
    assert len(documents(rt)) == 1


def test_pkcs12_with_the_password_from_a_secret_file(tmp_path, keys, database_url):
    secret = tmp_path / "as2-key-password"
    secret.write_bytes(PASSWORD + b"\n")  # as a mounted secret usually ends
    rt = gateway_with_key(tmp_path, keys, database_url, "ours.p12", pkcs12_file(keys["ours"]),
                          GATEWAY_AS2_KEY_PASSWORD_FILE=str(secret))
    assert send_and_verify(rt, keys, keys["ours"].cert_pem) == ("processed", None)
    assert len(documents(rt)) == 1


@pytest.mark.parametrize(("name", "extra", "says"), [
    ("ours.pem", {}, "encrypted: set GATEWAY_AS2_KEY_PASSWORD"),
    ("ours.pem", {"GATEWAY_AS2_KEY_PASSWORD": "wrong"}, "wrong password"),
    ("ours.p12", {}, "needs a password"),
])
def test_a_key_that_cannot_be_loaded_is_a_clear_503_and_healthz_says_why(tmp_path, keys, database_url, name,
                                                                       extra, says):
    content = encrypted_pem(keys["ours"]) if name.endswith(".pem") else pkcs12_file(keys["ours"])
    rt = gateway_with_key(tmp_path, keys, database_url, name, content, **extra)
    server = Server(rt)
    try:
        msg = partner_message(keys["acme"], "ACME-AS2", keys["ours"].cert_pem, PAYLOAD)
        response = requests.post(server.url, data=msg.content, headers=msg.headers, timeout=30)
        assert response.status_code == 503, response.text[:300]
        assert response.headers["Content-Type"].startswith("text/plain")
        assert b"processed" not in response.content  # no MDN blaming the partner
        health = requests.get(server.url.replace("/as2", "/healthz"), timeout=30)
        assert health.status_code == 503
        as2 = health.json()["checks"]["as2"]
        assert as2.startswith("error:") and name in as2 and says in as2, as2
    finally:
        server.stop()
    assert documents(rt) == []


def test_gateway_up_stops_at_once_naming_the_key_file(tmp_path, keys):
    key_dir = tmp_path / "var" / "keys" / "as2"
    key_dir.mkdir(parents=True)
    (key_dir / "ours.pem").write_bytes(encrypted_pem(keys["ours"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "REDIS_URL", "DATABASE_URL"))}
    env.update(GATEWAY_HOME=str(tmp_path / "var"), GATEWAY_SFTP_PORT=str(free_port()),
               GATEWAY_HTTP_PORT=str(free_port()))
    done = subprocess.run([sys.executable, "-m", "gateway", "up"], env=env, capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 1, done.stdout + done.stderr
    assert str(key_dir / "ours.pem") in done.stderr and "GATEWAY_AS2_KEY_PASSWORD" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "var" / "redis").exists()  # stopped before starting anything (no Redis left behind)


def test_an_our_as2_id_with_its_own_folder_uses_its_own_key(tmp_path, keys, database_url):
    partners = tmp_path / "partners"
    write_partner(partners, "acme", "ACME-AS2", [keys["acme"].cert_pem], our_as2_id="BUYERCO-EU")
    rt = make_runtime(tmp_path / "home", partners, database_url, None, [keys["ours"]])
    eu_dir = tmp_path / "home" / "keys" / "as2" / "BUYERCO-EU"
    eu_dir.mkdir()
    (eu_dir / "eu.pem").write_bytes(keys["eu"].pair)
    # Encrypted to the EU key and answered with an MDN that verifies against the EU certificate.
    assert send_and_verify(rt, keys, keys["eu"].cert_pem, to="BUYERCO-EU") == ("processed", None)
    assert len(documents(rt)) == 1


def test_a_partner_certificate_that_cannot_be_read_is_reported_by_healthz(tmp_path, keys, database_url):
    partners = tmp_path / "partners"
    write_partner(partners, "acme", "ACME-AS2", [b"not a certificate\n"])
    rt = make_runtime(tmp_path / "home", partners, database_url, None, [keys["ours"]])
    server = Server(rt)
    try:
        health = requests.get(server.url.replace("/as2", "/healthz"), timeout=30)
        assert health.status_code == 503
        as2 = health.json()["checks"]["as2"]
        assert "partner 'acme'" in as2 and "cert0.pem" in as2 and "not a PEM certificate" in as2, as2
    finally:
        server.stop()
