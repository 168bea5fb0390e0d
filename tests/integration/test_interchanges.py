"""Several interchanges in one file, and control numbers reused after a rejection
(issue #10 items 2 and 5), end to end: intake -> RQ worker -> acks in the partner's
SFTP outbound folder and events at a real HTTP ERP receiver."""

from __future__ import annotations

import re

from support import SAMPLES, drain, with_partner_settings

from gateway.intake.receive import receive
from gateway.store.models import Document
from gateway.store.views import document_detail

SAMPLE_855 = (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes()


def interchange(icn: int, *, trailer_icn: int | None = None, po: bytes = b"4500012345") -> bytes:
    """The sample 855 as interchange ``icn``; ``trailer_icn`` breaks IEA02 on purpose."""
    data = SAMPLE_855.replace(b"*000000101*", b"*%09d*" % icn, 1)
    data = data.replace(b"IEA*1*000000101~", b"IEA*1*%09d~" % (trailer_icn or icn))
    return data.replace(b"BAK*00*AC*4500012345*", b"BAK*00*AC*" + po + b"*")


def show(rt, document_id: str) -> dict:
    with rt.session() as s:
        return document_detail(s.get(Document, document_id))


def outbound(rt) -> dict[str, str]:
    folder = rt.settings.sftp_root / "demo" / "outbound"
    return {p.name: p.read_text() for p in sorted(folder.iterdir())} if folder.exists() else {}


def answered(acks: dict[str, str]) -> list[tuple[str, str]]:
    """(kind, the inbound ISA13 or GS06 each ack names) for every ack file."""
    out = []
    for name, text in acks.items():
        kind = name.split("_")[0]
        if kind == "TA1":
            out += [("TA1", m) for m in re.findall(r"TA1\*(\d+)\*", text)]
        else:
            out += [(kind, m) for m in re.findall(r"AK1\*PR\*(\d+)", text)]
    return sorted(out)


def test_every_interchange_of_a_file_gets_its_own_997(rt, erp_receiver):
    data = b"".join(interchange(n, po=b"45000123%02d" % n) for n in (201, 202, 203))
    receipt = receive(rt, data, channel="sftp", filename="three.edi", partner_id="demo")
    drain(rt)
    doc = show(rt, receipt.document_id)
    assert doc["status"] == "accepted", doc["reason"]
    assert len(erp_receiver.posts) == 3
    acks = outbound(rt)
    assert len(acks) == 3, acks
    # each 997 answers its own interchange's group (GS06 101 in each) ...
    assert answered(acks) == [("997", "101")] * 3
    # ... and is addressed back as its own interchange: one ack row per inbound ISA13
    assert sorted(a["acknowledges"] for a in doc["acks"]) == ["000000201", "000000202", "000000203"]


def test_a_broken_interchange_beside_a_good_one_gets_its_ta1(rt, erp_receiver):
    data = interchange(301) + interchange(302, trailer_icn=399)
    receipt = receive(rt, data, channel="sftp", filename="good-and-bad.edi", partner_id="demo")
    drain(rt)
    doc = show(rt, receipt.document_id)
    assert doc["status"] == "accepted"  # the good one went through ...
    assert "IEA02" in doc["reason"] or "000000399" in doc["reason"], doc["reason"]  # ... the bad one is explained
    assert len(erp_receiver.posts) == 1
    acks = outbound(rt)
    assert answered(acks) == [("997", "101"), ("TA1", "000000302")]
    [ta1] = [t for n, t in acks.items() if n.startswith("TA1")]
    assert "*R*001~" in ta1


def test_a_resent_file_of_three_gets_each_original_ack_again_once(rt, erp_receiver):
    data = b"".join(interchange(n, po=b"45000124%02d" % n) for n in (211, 212, 213))
    first = receive(rt, data, channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    second = receive(rt, data, channel="sftp", filename="b.edi", partner_id="demo")
    drain(rt)
    dup = show(rt, second.document_id)
    assert dup["status"] == "duplicate"
    original = show(rt, first.document_id)
    assert sorted(a["text"] for a in dup["acks"]) == sorted(a["text"] for a in original["acks"])
    assert len(dup["acks"]) == 3
    assert len(erp_receiver.posts) == 3


def broken_set(icn: int) -> bytes:
    """Interchange ``icn`` whose only set has a wrong SE01: the whole interchange is rejected."""
    return interchange(icn).replace(b"SE*16*0001~", b"SE*99*0001~")


def test_a_corrected_resend_with_the_same_isa13_is_processed_and_delivered(rt, erp_receiver):
    first = receive(rt, broken_set(401), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    assert show(rt, first.document_id)["status"] == "rejected"
    assert erp_receiver.posts == []
    corrected = receive(rt, interchange(401), channel="sftp", filename="a-fixed.edi", partner_id="demo")
    drain(rt)
    doc = show(rt, corrected.document_id)
    assert doc["status"] == "accepted", doc["reason"]
    assert len(erp_receiver.posts) == 1
    assert doc["ack"]["kind"] == "997" and "AK9*A*1*1*1" in doc["ack"]["text"]
    # the same broken bytes again are a duplicate: the original rejection goes back
    again = receive(rt, broken_set(401), channel="sftp", filename="a-again.edi", partner_id="demo")
    drain(rt)
    assert show(rt, again.document_id)["status"] == "duplicate"


def test_an_accepted_isa13_stays_spent_even_after_a_rejected_reuse(rt, erp_receiver):
    receive(rt, interchange(402), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    for name, data in (("b.edi", broken_set(402)), ("c.edi", interchange(402, po=b"4500099999"))):
        doc = show(rt, receive(rt, data, channel="sftp", filename=name, partner_id="demo").document_id)
        drain(rt)
        doc = show(rt, doc["id"])
        assert doc["status"] == "rejected" and "ISA13 000000402 was already used" in doc["reason"]
        assert "*R*025~" in doc["ack"]["text"]
    assert len(erp_receiver.posts) == 1


def test_a_partner_set_to_never_reuse_gets_ta1_025_for_a_corrected_resend(rt, erp_receiver, monkeypatch, tmp_path):
    rt = with_partner_settings(rt, monkeypatch, tmp_path, x12={"control_number_reuse": "never"})
    receive(rt, broken_set(403), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    corrected = receive(rt, interchange(403), channel="sftp", filename="a-fixed.edi", partner_id="demo")
    drain(rt)
    doc = show(rt, corrected.document_id)
    assert doc["status"] == "rejected" and "*R*025~" in doc["ack"]["text"]
    assert erp_receiver.posts == []


def test_a_release_we_hold_no_tables_for_is_substituted_unless_the_partner_is_strict(
        rt, erp_receiver, monkeypatch, tmp_path):
    """Issue #9 item 2: GS08 004050 (not held) is validated against the 004030 tables with
    a note; a partner with ``x12.strict_releases: true`` gets it refused (AK5 R)."""
    data = interchange(301).replace(b"*X*004010~", b"*X*004050~")
    receipt = receive(rt, data, channel="sftp", filename="4050.edi", partner_id="demo")
    drain(rt)
    assert show(rt, receipt.document_id)["status"] == "accepted"
    assert len(erp_receiver.posts) == 1
    strict = with_partner_settings(rt, monkeypatch, tmp_path, x12={"strict_releases": True})
    receipt = receive(strict, interchange(302).replace(b"*X*004010~", b"*X*004050~"), channel="sftp",
                      filename="4050-strict.edi", partner_id="demo")
    drain(strict)
    doc = show(strict, receipt.document_id)
    assert doc["status"] == "rejected"
    assert "004050" in doc["reason"]
    assert len(erp_receiver.posts) == 1  # nothing more reached the ERP
    verdicts = sorted(re.findall(r"AK9\*([ARP])\*", "".join(outbound(strict).values())))
    assert verdicts == ["A", "R"]  # the substituted one accepted, the strict one rejected
