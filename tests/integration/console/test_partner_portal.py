"""The partner's own pages: its documents with the problem in plain language, our acks to
download, its own document view, and an upload that takes the SFTP road (limits, quota,
stored before the answer, validated and acknowledged); SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import io

from console_support import BAD_855, SAMPLE_855, csrf_token
from sqlalchemy import func, select
from support import drain

from gateway.domain.partner import SftpSettings
from gateway.store.models import AckRecord, Document
from gateway.web.auth import create_token


def _upload(client, data: bytes, filename: str = "855.edi"):
    return client.post("/partner/upload", content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(client, "/partner"), "file": (io.BytesIO(data), filename)})


def _count(rt) -> int:
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(Document))


def test_a_partner_sees_its_documents_the_problem_in_words_and_its_acks(rt, as_role, documents):
    page = as_role("partner").get("/partner").get_data(as_text=True)
    assert "good.edi" in page and "bad.edi" in page and "other.txt" not in page
    assert "ACK05: &#39;20261301&#39; is not a valid date" in page  # the finding, beside the file
    assert 'id="total">2 documents.' in page
    with rt.session() as s:
        acks = s.scalars(select(AckRecord.id).join(Document).where(Document.partner_id == "demo")).all()
    assert acks and all(f'href="/partner/acks/{a}"' in page for a in acks)
    rejected = as_role("partner").get("/partner?status=rejected").get_data(as_text=True)
    assert "bad.edi" in rejected and "good.edi" not in rejected


def test_a_partner_downloads_the_ack_we_sent_it(rt, as_role, documents):
    with rt.session() as s:
        ack = s.scalar(select(AckRecord).where(AckRecord.document_id == documents["rejected"]))
    answer = as_role("partner").get(f"/partner/acks/{ack.id}")
    assert answer.status_code == 200 and answer.get_data(as_text=True) == ack.text
    assert answer.get_data(as_text=True).startswith("ISA*") and "AK5*R" in ack.text
    assert f'filename="{ack.kind}_' in answer.headers["Content-Disposition"]
    token = create_token(rt, "acme-erp", "partner", "demo")
    api = as_role("partner").get(f"/api/v1/acks/{ack.id}/raw", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.get_data(as_text=True) == ack.text
    listed = as_role("partner").get(f"/api/v1/documents/{documents['rejected']}/acks",
                                    headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [a["id"] for a in listed["acks"]] == [ack.id]


def test_a_partner_opens_its_document_without_our_deliveries_or_audit_trail(as_role, documents):
    page = as_role("partner").get(f"/documents/{documents['accepted']}").get_data(as_text=True)
    assert "Our acknowledgments to you" in page and 'class="ack-download"' in page
    assert "erp_http" not in page and 'id="deliveries"' not in page and "Audit" not in page.split("</nav>")[1]
    assert "purchase_order.acknowledged" in page  # what it became, without where it went
    support = as_role("support").get(f"/documents/{documents['accepted']}").get_data(as_text=True)
    assert "erp_http" in support  # support's view is unchanged


def test_staff_do_not_use_the_partner_pages(as_role):
    for role in ("admin", "support", "buyer", "viewer"):
        client = as_role(role)
        assert client.get("/partner").status_code == 403, role
        assert _upload(client, SAMPLE_855.read_bytes()).status_code == 403, role


def test_an_upload_is_stored_before_the_answer_then_checked_and_acked_as_from_sftp(rt, as_role):
    client = as_role("partner")
    answer = _upload(client, BAD_855, "C:\\Users\\acme\\855 fix.edi")
    assert answer.status_code == 303
    document_id = answer.headers["Location"].rsplit("/", 1)[-1]
    with rt.session() as s:  # stored and committed before we answered
        doc = s.get(Document, document_id)
        assert (doc.partner_id, doc.channel, doc.filename, doc.status) == ("demo", "portal", "855 fix.edi",
                                                                           "received")
        assert rt.blobs.get(doc.sha256) == BAD_855
    drain(rt)
    with rt.session() as s:
        doc = s.get(Document, document_id)
        assert doc.status == "rejected"
        [ack] = doc.acks
        assert ack.kind == "997" and "AK5*R" in ack.text and ack.status == "sent"
    assert (rt.settings.sftp_root / "demo" / "outbound").is_dir()  # the ack went to its channel, as usual
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "is not a valid date" in page and f'href="/partner/acks/{ack.id}"' in page


def test_uploads_over_the_partners_limits_are_refused_and_nothing_is_kept(rt, as_role, monkeypatch):
    client = as_role("partner")
    sample = SAMPLE_855.read_bytes()
    profile = rt.partners["demo"]
    monkeypatch.setitem(rt.partners, "demo", dataclasses.replace(
        profile, sftp=SftpSettings(max_file_bytes=len(sample) - 1)))
    before = _count(rt)
    refused = _upload(client, sample)
    assert refused.status_code == 413 and "the limit is" in refused.get_data(as_text=True)
    assert _upload(client, b"", "empty.edi").status_code == 400
    monkeypatch.setitem(rt.partners, "demo", dataclasses.replace(
        profile, sftp=SftpSettings(daily_quota_bytes=len(sample) + 10)))
    assert _upload(client, sample).status_code == 303  # the first fits today's quota ...
    over = _upload(client, sample)  # ... the second does not: the quota SFTP uploads count against too
    assert over.status_code == 413 and "quota" in over.get_data(as_text=True)
    assert _count(rt) == before + 1


def test_a_request_over_the_gateway_limit_is_413(rt, app, as_role):
    client = as_role("partner")
    token = csrf_token(client, "/partner")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    before = _count(rt)
    answer = client.post("/partner/upload", content_type="multipart/form-data",
                         data={"csrf_token": token, "file": (io.BytesIO(b"ISA" + b"x" * 100_000), "big.edi")})
    assert answer.status_code == 413 and _count(rt) == before


def test_an_ack_withheld_for_supports_corrected_copy_is_not_the_partners(rt, as_role, documents):
    """An ack that never went to the partner (support's corrected copy) is not offered to it."""
    with rt.session() as s:
        ack = s.scalar(select(AckRecord).where(AckRecord.document_id == documents["accepted"]))
        ack.status = "withheld"
    client = as_role("partner")
    assert client.get(f"/partner/acks/{ack.id}").status_code == 404
    assert f"/partner/acks/{ack.id}" not in client.get("/partner").get_data(as_text=True)
    assert f"/partner/acks/{ack.id}" not in client.get(f"/documents/{documents['accepted']}").get_data(as_text=True)
    token = {"Authorization": f"Bearer {create_token(rt, 'acme-erp', 'partner', 'demo')}"}
    assert client.get(f"/api/v1/acks/{ack.id}/raw", headers=token).status_code == 404
    assert client.get(f"/api/v1/documents/{documents['accepted']}/acks", headers=token).get_json()["acks"] == []
    assert as_role("support").get(f"/documents/{documents['accepted']}").status_code == 200


def test_supports_corrected_copy_is_not_listed_as_received_from_the_partner(rt, as_role, documents):
    from gateway.intake.resubmit import Correction, resubmit

    fixed = BAD_855.replace(b"000000101", b"000000102").replace(b"20261301", b"20261201")
    copy = resubmit(rt, documents["rejected"], Correction(fixed, "wrong_value", "date", "support:sam")).document_id
    page = as_role("partner").get("/partner").get_data(as_text=True)
    assert copy not in page and 'id="total">2 documents.' in page


def test_a_partner_whose_profile_is_gone_is_told_so_not_given_an_error(rt, as_role, monkeypatch):
    client = as_role("partner")
    monkeypatch.delitem(rt.partners, "demo")
    page = client.get("/partner")
    assert page.status_code == 409 and "not set up on this gateway" in page.get_data(as_text=True)
    assert _upload(client, SAMPLE_855.read_bytes()).status_code == 409
