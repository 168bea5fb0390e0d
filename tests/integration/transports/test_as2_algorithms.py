"""Inbound AS2 is held to the partner profile's encryption and digest algorithms (3DES
or SHA-1 where AES and SHA-256 were agreed: refused, nothing stored), and RSAES-OAEP key
transport is opened, with SHA-1 and with SHA-2 (as other AS2 products send it; pyas2lib
cannot, so it is built here with asn1crypto and cryptography). Real server, pyas2lib as the
partner's software."""

from __future__ import annotations

import pytest
import requests
from as2_kit import Server, make_runtime, new_keys, partner_message, verify_mdn, write_partner
from asn1crypto import algos, cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select
from support import SAMPLES

from gateway.store.models import Document

PAYLOAD = (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes()


@pytest.fixture(scope="module")
def keys():
    return {"ours": new_keys("BUYERCO"), "acme": new_keys("ACME-AS2"), "stranger": new_keys("STRANGER")}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, keys):
    tmp = tmp_path_factory.mktemp("as2-alg")
    partners = tmp / "partners"
    write_partner(partners, "acme", "ACME-AS2", [keys["acme"].cert_pem])  # defaults: aes_256_cbc, sha256
    write_partner(partners, "modest", "MODEST-AS2", [keys["acme"].cert_pem], encryption="aes_128_cbc", digest="sha384")
    rt = make_runtime(tmp / "home", partners, f"sqlite:///{tmp / 'gw.db'}", None, [keys["ours"]])
    server = Server(rt)
    yield rt, server
    server.stop()


def documents(rt, partner_id):
    with rt.session() as s:
        return s.scalars(select(Document).where(Document.partner_id == partner_id)).all()


def send(server, msg, body: bytes | None = None) -> tuple[str, str | None]:
    response = requests.post(server.url, data=msg.content if body is None else body, headers=msg.headers, timeout=30)
    assert response.status_code == 200, response.text[:300]
    return verify_mdn(msg, response.headers.items(), response.content)[:2]


@pytest.mark.parametrize(("as2_id", "kwargs"), [
    ("ACME-AS2", {"enc_alg": "tripledes_192_cbc"}),
    ("ACME-AS2", {"digest_alg": "sha1"}),
    ("ACME-AS2", {"enc_alg": "aes_128_cbc"}),
    ("MODEST-AS2", {"enc_alg": "aes_256_cbc", "digest_alg": "sha384"}),  # stronger, but not what was agreed
], ids=["3des", "sha1", "aes128-for-aes256", "aes256-for-aes128"])
def test_algorithms_other_than_the_profiles_are_refused(gateway, keys, as2_id, kwargs):
    rt, server = gateway
    partner_id = "acme" if as2_id == "ACME-AS2" else "modest"
    before = len(documents(rt, partner_id))
    msg = partner_message(keys["acme"], as2_id, keys["ours"].cert_pem, PAYLOAD, **kwargs)
    assert send(server, msg) == ("processed/Error", "insufficient-message-security")
    assert len(documents(rt, partner_id)) == before


def test_the_profiles_own_algorithms_are_accepted(gateway, keys):
    rt, server = gateway
    msg = partner_message(keys["acme"], "MODEST-AS2", keys["ours"].cert_pem, PAYLOAD, enc_alg="aes_128_cbc",
                          digest_alg="sha384")
    assert send(server, msg) == ("processed", None)
    assert documents(rt, "modest")


def oaep(envelope_der: bytes, our_keys, digest: str, extra_recipient=None) -> bytes:
    """The same enveloped message (pyas2lib only sends PKCS#1 v1.5) with its content key
    re-wrapped in RSAES-OAEP with ``digest`` and MGF1 with ``digest`` (RFC 4055),
    optionally behind another recipient listed first."""
    info = cms.ContentInfo.load(envelope_der)
    recipient = info["content"]["recipient_infos"][0].chosen
    our_key = serialization.load_pem_private_key(our_keys.key_pem, None)
    content_key = our_key.decrypt(recipient["encrypted_key"].native, padding.PKCS1v15())
    hash_type = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha512": hashes.SHA512}[digest]
    wrapping = padding.OAEP(mgf=padding.MGF1(hash_type()), algorithm=hash_type(), label=None)
    our_cert = x509.load_pem_x509_certificate(our_keys.cert_pem)
    recipient["key_encryption_algorithm"] = cms.KeyEncryptionAlgorithm({
        "algorithm": "rsaes_oaep",
        "parameters": algos.RSAESOAEPParams({
            "hash_algorithm": {"algorithm": digest},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": digest}},
        }),
    })
    recipient["encrypted_key"] = our_cert.public_key().encrypt(content_key, wrapping)
    if extra_recipient is not None:  # e.g. the sender's own copy, listed before ours
        other = cms.KeyTransRecipientInfo.load(recipient.dump(force=True))
        other_cert = x509.load_pem_x509_certificate(extra_recipient.cert_pem)
        other["rid"] = cms.RecipientIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": cms.Certificate.load(other_cert.public_bytes(serialization.Encoding.DER)).issuer,
            "serial_number": other_cert.serial_number})})
        other["encrypted_key"] = other_cert.public_key().encrypt(content_key, wrapping)
        info["content"]["recipient_infos"] = cms.RecipientInfos([cms.RecipientInfo({"ktri": other}),
                                                                 cms.RecipientInfo({"ktri": recipient})])
    return info.dump(force=True)


@pytest.mark.parametrize(("digest", "second_recipient"), [("sha1", False), ("sha256", False), ("sha512", False),
                                                          ("sha256", True)],
                         ids=["sha1", "sha256", "sha512", "sha256-ours-listed-second"])
def test_oaep_key_transport_is_decrypted(gateway, keys, digest, second_recipient):
    rt, server = gateway
    before = len(documents(rt, "acme"))
    msg = partner_message(keys["acme"], "ACME-AS2", keys["ours"].cert_pem, PAYLOAD)
    body = oaep(msg.content, keys["ours"], digest, keys["stranger"] if second_recipient else None)
    assert cms.ContentInfo.load(body)["content"]["recipient_infos"][-1].chosen[
        "key_encryption_algorithm"]["algorithm"].native == "rsaes_oaep"
    assert send(server, msg, body) == ("processed", None)
    docs = documents(rt, "acme")
    assert len(docs) == before + 1
    newest = max(docs, key=lambda d: d.received_at)
    assert rt.blobs.path_for(newest.sha256).read_bytes().replace(b"\r\n", b"\n") == PAYLOAD.replace(b"\r\n", b"\n")
