"""``POST /cxml`` over real HTTP: a partner's cXML documents are authenticated by its
shared secret, stored (without the secret) before the answer, processed through the
normal pipeline and answered with a cXML Response status. SQLite and PostgreSQL; real
Redis and worker for the ERP deliveries."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests
from cxml_kit import SECRET, SECRET_ENV, Gateway, cxml_profile
from lxml import etree
from sqlalchemy import func, select
from support import drain, with_partner_settings

from gateway.store.models import Document, EventRecord

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "sample_docs" / "cxml"
CONFIRMATION = (SAMPLES / "ConfirmationRequest_acme_po_4500012360.xml").read_bytes()
ASN = (SAMPLES / "ShipNoticeRequest_acme_sh-77060.xml").read_bytes()
INVOICE = (SAMPLES / "InvoiceDetailRequest_acme_inv-88060.xml").read_bytes()
ORDER = (SAMPLES / "OrderRequest_acme_po_ac-9001.xml").read_bytes()  # when we are the supplier
SAMPLE_SECRET = b"<SharedSecret>not-a-real-secret</SharedSecret>"


def signed(doc: bytes, secret: str = SECRET) -> bytes:
    assert SAMPLE_SECRET in doc
    return doc.replace(SAMPLE_SECRET, f"<SharedSecret>{secret}</SharedSecret>".encode())


@pytest.fixture
def world(rt, tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    rt2 = with_partner_settings(rt, monkeypatch, tmp_path, cxml=cxml_profile(None))
    gateway = Gateway(rt2)
    yield rt2, gateway.url
    gateway.stop()


def post(base: str, body: bytes, **kwargs) -> tuple[requests.Response, etree._Element]:
    answer = requests.post(f"{base}/cxml", data=body, headers={"Content-Type": "text/xml"}, timeout=60, **kwargs)
    return answer, etree.fromstring(answer.content)


def status(root: etree._Element) -> tuple[int, str]:
    el = root.find("Response/Status")
    return int(el.get("code")), el.text or ""


def documents(rt) -> list[Document]:
    with rt.session() as s:
        rows = s.scalars(select(Document).where(Document.channel == "cxml").order_by(Document.received_at)).all()
        s.expunge_all()
        return rows


@pytest.mark.parametrize("sample", [CONFIRMATION, ASN, INVOICE, ORDER], ids=[
    "ConfirmationRequest", "ShipNoticeRequest", "InvoiceDetailRequest", "OrderRequest"])
def test_a_partners_document_is_stored_without_its_secret_accepted_and_delivered(world, erp_receiver, sample):
    rt, base = world
    answer, root = post(base, signed(sample))
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml")
    code, message = status(root)
    [doc] = documents(rt)
    assert (code, doc.status, doc.partner_id) == (200, "accepted", "demo"), message
    assert doc.id in message and root.get("payloadID") and root.get("timestamp")
    stored = rt.blobs.get(doc.sha256)
    assert SECRET.encode() not in stored and b"<SharedSecret>[redacted by the gateway]</SharedSecret>" in stored
    drain(rt)
    with rt.session() as s:
        events = s.scalars(select(EventRecord).where(EventRecord.document_id == doc.id)).all()
    assert events and {p["body"]["event_id"] for p in erp_receiver.posts} == {e.event_id for e in events}

    again, root = post(base, signed(sample))  # the partner did not see our answer and sends it again
    assert status(root)[0] == 200 and "duplicate" in status(root)[1]
    assert [d.status for d in documents(rt)] == ["accepted", "duplicate"]
    drain(rt)
    assert len(erp_receiver.posts) == len(events)  # nothing delivered twice


@pytest.mark.parametrize(("body", "why"), [
    (signed(CONFIRMATION, "wrong-secret"), "wrong SharedSecret"),
    (CONFIRMATION.replace(SAMPLE_SECRET, b""), "no SharedSecret"),
    (signed(CONFIRMATION).replace(b"ACMESUPPLY", b"SOMEONEELSE"), "no partner takes cXML"),
], ids=["wrong-secret", "no-secret", "unknown-sender"])
def test_an_unauthenticated_document_is_401_logged_and_nothing_is_stored(world, caplog, body, why):
    rt, base = world
    with caplog.at_level(logging.WARNING, logger="gateway.security"):
        answer, root = post(base, body)
    assert (answer.status_code, status(root)[0]) == (200, 401)
    assert documents(rt) == [] and rt_documents_count(rt) == 0
    [record] = [r for r in caplog.records if r.name == "gateway.security"]
    assert why in record.getMessage() and SECRET not in record.getMessage()
    assert "wrong-secret" not in record.getMessage()


def rt_documents_count(rt) -> int:
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(Document))


def test_a_partner_without_a_cxml_block_cannot_post(rt, tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    rt2 = with_partner_settings(rt, monkeypatch, tmp_path, cxml=None)  # its xml ids are known, but no cxml: secret
    gateway = Gateway(rt2)
    try:
        answer, root = post(gateway.url, signed(CONFIRMATION))
    finally:
        gateway.stop()
    assert status(root)[0] == 401 and rt_documents_count(rt2) == 0


def test_the_demo_partner_posts_with_the_secret_from_its_environment_variable(rt, monkeypatch):
    monkeypatch.setenv("GATEWAY_DEMO_CXML_SECRET", "not-a-real-secret")  # what the sample documents carry
    gateway = Gateway(rt)
    try:
        answer, root = post(gateway.url, CONFIRMATION)
    finally:
        gateway.stop()
    assert status(root)[0] == 200, status(root)


def test_malformed_xml_and_hostile_xml_are_400_and_no_entity_is_expanded(world):
    rt, base = world
    answer, root = post(base, signed(CONFIRMATION)[:-40])
    assert status(root)[0] == 400 and "incomplete" in status(root)[1]
    xxe = (b'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<cXML payloadID="1@x" timestamp="2026-12-02T10:00:00+00:00"><Header>&x;</Header></cXML>')
    answer, root = post(base, xxe)
    assert status(root)[0] == 400 and "DTD/entities forbidden" in status(root)[1]
    assert b"root:" not in answer.content
    assert rt_documents_count(rt) == 0


def with_request(doc: bytes, request: bytes) -> bytes:
    start, end = doc.index(b"<ConfirmationRequest>"), doc.index(b"</ConfirmationRequest>") + 22
    return doc[:start] + request + doc[end:]


def test_a_document_kind_we_do_not_take_is_406_and_kept(world):
    rt, base = world
    answer, root = post(base, with_request(signed(CONFIRMATION), b'<StatusUpdateRequest><Status code="200" '
                                                                 b'text="OK"/></StatusUpdateRequest>'))
    code, message = status(root)
    assert code == 406 and "not taken" in message
    [doc] = documents(rt)
    assert doc.status == "rejected"


def test_a_profile_request_is_answered_with_what_we_take_and_where(world):
    rt, base = world
    answer, root = post(base, with_request(signed(CONFIRMATION), b"<ProfileRequest/>"))
    assert status(root)[0] == 200
    transactions = {t.get("requestName"): t.findtext("URL") for t in root.iter("Transaction")}
    assert transactions == {name: f"{base}/cxml" for name in (
        "OrderRequest", "ConfirmationRequest", "ShipNoticeRequest", "InvoiceDetailRequest")}
    assert rt_documents_count(rt) == 0  # no business content: nothing stored
    answer, root = post(base, with_request(signed(CONFIRMATION, "wrong"), b"<ProfileRequest/>"))
    assert status(root)[0] == 401 and root.find(".//ProfileResponse") is None


def test_an_invalid_document_is_400_with_the_finding(world):
    rt, base = world
    broken = signed(CONFIRMATION).replace(b'type="detail" noticeDate', b'noticeDate')  # no confirmation type
    answer, root = post(base, broken)
    code, message = status(root)
    [doc] = documents(rt)
    assert (code, doc.status) == (400, "rejected") and doc.reason in message


def test_a_reused_payload_id_with_other_content_is_409(world):
    rt, base = world
    assert status(post(base, signed(CONFIRMATION))[1])[0] == 200
    changed = signed(CONFIRMATION).replace(b'confirmID="SO-55160"', b'confirmID="SO-55161"')
    code, message = status(post(base, changed)[1])
    assert code == 409 and "payloadID" in message
    assert [d.status for d in documents(rt)] == ["accepted", "rejected"]


def test_test_documents_follow_the_partners_test_data_setting(world, erp_receiver):
    rt, base = world
    test_doc = signed(CONFIRMATION).replace(b'deploymentMode="production"', b'deploymentMode="test"')
    code, message = status(post(base, test_doc)[1])
    [doc] = documents(rt)
    assert code == 200 and doc.test is True and "held" in message  # the demo partner's test_data: hold
    drain(rt)
    assert erp_receiver.posts == []


def test_a_body_over_the_limit_is_413_whatever_its_framing(rt, tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    rt2 = with_partner_settings(rt, monkeypatch, tmp_path, cxml=cxml_profile(None))
    rt2.settings = rt2.settings.with_overrides(max_request_bytes=2048)
    gateway = Gateway(rt2)
    try:
        big = signed(CONFIRMATION) + b" " * 4096
        sized = requests.post(f"{gateway.url}/cxml", data=big, timeout=60)
        chunked = requests.post(f"{gateway.url}/cxml", data=iter([big[:1500], big[1500:]]), timeout=60)
    finally:
        gateway.stop()
    for answer in (sized, chunked):
        assert answer.status_code == 413 and status(etree.fromstring(answer.content))[0] == 413
    assert rt_documents_count(rt2) == 0


def test_our_own_failure_is_500_not_the_partners_fault(world, monkeypatch):
    rt, base = world
    monkeypatch.delenv(SECRET_ENV)  # our configuration lost the secret
    answer, root = post(base, signed(CONFIRMATION))
    code, message = status(root)
    assert (answer.status_code, code) == (500, 500) and "our side" in message
    assert rt_documents_count(rt) == 0


def test_openapi_describes_the_cxml_endpoint(world):
    rt, base = world
    spec = requests.get(f"{base}/openapi.json", timeout=60).json()
    post_cxml = spec["paths"]["/cxml"]["post"]
    assert post_cxml["security"] == [] and "SharedSecret" in post_cxml["summary"]
    assert "cXML OrderRequest" in spec["paths"]["/api/v1/purchase-orders"]["post"]["summary"]


def test_a_large_document_is_201_and_processed_by_a_worker(world, erp_receiver):
    rt, base = world
    rt.settings = rt.settings.with_overrides(bulk_threshold_bytes=1024)  # the sample is about 2 KB
    answer, root = post(base, signed(CONFIRMATION))
    code, message = status(root)
    [doc] = documents(rt)
    assert (code, doc.status) == (201, "received") and doc.id in message
    drain(rt)
    [doc] = documents(rt)
    assert doc.status == "accepted" and erp_receiver.posts
