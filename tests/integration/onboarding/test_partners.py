"""Partners created in the database, on SQLite and PostgreSQL: validated like a
partner.yaml, unique ids, certificates and SFTP keys checked before they are kept, and
a document from the new partner processed without a restart."""

from __future__ import annotations

import copy

import pytest
from onboarding_support import BUYER, NEW_PARTNER, SAMPLE_855, certificate, ssh_public_key
from sqlalchemy import select
from support import drain, sent_by

from gateway.bootstrap import runtime
from gateway.intake.receive import receive
from gateway.onboarding import Conflict, Invalid, partners
from gateway.store.models import Document, SftpKey
from gateway.store.models_api import AuditEntry
from gateway.store.models_onboarding import OnboardedPartner


def _changed(**changes) -> dict:
    profile = copy.deepcopy(NEW_PARTNER)
    for key, value in changes.items():
        profile[key] = {**profile[key], **value} if isinstance(value, dict) else value
    return profile


def test_a_new_partner_is_validated_like_a_partner_yaml(rt):
    with pytest.raises(Invalid) as refused:
        partners.create(rt, BUYER, _changed(x12={"qualifier": "ZZZ"}, test_data="sometimes"), "new supplier")
    fields = {p["field"] for p in refused.value.problems}
    assert fields == {"x12.qualifier", "test_data"}
    with pytest.raises(Invalid):
        partners.create(rt, BUYER, "id: globex", "new supplier")
    with pytest.raises(Invalid, match="certificates are added after creation"):
        partners.create(rt, BUYER, _changed(channels={"as2": {"as2_id": "G", "certificates": ["/etc/passwd"]}}), "x")
    with pytest.raises(Conflict, match="already a partner 'demo'"):
        partners.create(rt, BUYER, _changed(id="demo"), "x")
    with pytest.raises(Conflict, match="already sends as ZZ/ACMESUPPLY"):
        partners.create(rt, BUYER, _changed(x12={"id": "ACMESUPPLY"}), "x")
    with pytest.raises(Conflict, match="cXML identity"):
        partners.create(rt, BUYER, _changed(xml={"cxml": [{"domain": "NetworkId", "identity": "ACMESUPPLY"}]}), "x")
    with rt.session() as s:
        assert s.scalars(select(OnboardedPartner)).all() == []
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "partner.create")).all() == []


def test_a_partner_created_here_sends_a_document_without_a_restart(rt):
    assert "globex" not in runtime().partners  # the jobs' runtime exists before the partner does
    partners.create(rt, BUYER, NEW_PARTNER, "new supplier from January")
    data = sent_by(SAMPLE_855.read_bytes(), "GLOBEXPARTS")
    doc = receive(rt, data, channel="http", filename="globex.edi", partner_id="globex").document_id
    drain(rt)
    with rt.session() as s:
        row = s.get(Document, doc)
        assert (row.status, row.partner_id) == ("accepted", "globex"), row.reason
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "partner.create")).one()
    assert (audit.actor, audit.target, audit.reason) == ("buyer:bea", "partner:globex", "new supplier from January")
    with pytest.raises(Conflict, match="already sends as ZZ/GLOBEXPARTS"):
        partners.create(rt, BUYER, _changed(id="globex2"), "the same ids again")


def test_certificates_are_checked_before_they_are_kept(rt):
    partners.create(rt, BUYER, NEW_PARTNER, "new supplier")
    assert rt.partners["globex"].as2 is None  # AS2 waits for a certificate
    with pytest.raises(Invalid, match="expired"):
        partners.add_certificate(rt, BUYER, "globex", certificate(days=10, start_days_ago=20), "old one")
    with pytest.raises(Invalid, match="not valid before"):
        partners.add_certificate(rt, BUYER, "globex", certificate(start_days_ago=-5), "future one")
    with pytest.raises(Invalid, match="1024 bits"):
        partners.add_certificate(rt, BUYER, "globex", certificate(key_size=1024), "weak one")
    with pytest.raises(Invalid, match="private key"):
        partners.add_certificate(rt, BUYER, "globex", "-----BEGIN PRIVATE KEY-----\nAAAA\n", "oops")
    with pytest.raises(Invalid, match="not a PEM certificate"):
        partners.add_certificate(rt, BUYER, "globex", "hello", "junk")
    pem = certificate()
    partners.add_certificate(rt, BUYER, "globex", pem, "their 2027 certificate")
    as2 = rt.partners["globex"].as2
    assert as2.as2_id == "GLOBEX-AS2" and len(as2.certificates) == 1
    assert as2.certificates[0].read_text() == pem
    with pytest.raises(Conflict, match="already added"):
        partners.add_certificate(rt, BUYER, "globex", pem, "again")


def test_sftp_keys_are_checked_before_they_are_kept(rt):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    partners.create(rt, BUYER, NEW_PARTNER, "new supplier")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    with pytest.raises(Invalid, match="1024 bits"):
        partners.add_sftp_key(rt, BUYER, "globex", weak, "weak")
    with pytest.raises(Invalid):
        partners.add_sftp_key(rt, BUYER, "globex", "ssh-ed25519 notbase64!", "junk")
    line = ssh_public_key()
    partners.add_sftp_key(rt, BUYER, "globex", line, "their ops laptop")
    with rt.session() as s:
        key = s.scalars(select(SftpKey).where(SftpKey.partner_id == "globex")).one()
    assert key.key_type == "ssh-ed25519" and key.comment == "globex"
    with pytest.raises(Conflict):
        partners.add_sftp_key(rt, BUYER, "globex", line, "again")


def test_a_partner_created_here_is_changed_with_a_reason_and_workers_follow(rt):
    from gateway.store.models import AckRecord

    partners.create(rt, BUYER, NEW_PARTNER, "new supplier")
    with pytest.raises(Conflict, match="partners/demo/partner.yaml"):
        partners.update(rt, BUYER, "demo", NEW_PARTNER, "not here")
    with pytest.raises(Invalid, match="id cannot be changed"):
        partners.update(rt, BUYER, "globex", _changed(id="globex2"), "rename")
    with pytest.raises(Conflict, match="nothing changed"):
        partners.update(rt, BUYER, "globex", NEW_PARTNER, "same")
    with pytest.raises(Conflict, match="already sends as ZZ/ACMESUPPLY"):
        partners.update(rt, BUYER, "globex", _changed(x12={"id": "ACMESUPPLY"}), "take demo's id")
    runtime()  # the jobs' runtime, made before the change
    partners.update(rt, BUYER, "globex", _changed(x12={"ack": "none"}), "they do not want 997s")
    doc = receive(rt, sent_by(SAMPLE_855.read_bytes(), "GLOBEXPARTS"), channel="http", filename="g.edi",
                  partner_id="globex").document_id
    drain(rt)
    with rt.session() as s:
        assert s.get(Document, doc).status == "accepted"
        assert s.scalars(select(AckRecord).where(AckRecord.document_id == doc)).all() == []
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "partner.update")).one()
    assert entry.reason == "they do not want 997s"
    assert (entry.details["before"]["x12"]["ack"], entry.details["after"]["x12"]["ack"]) == ("997", "none")
