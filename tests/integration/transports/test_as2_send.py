"""AS2 send: our acks and documents to the partner's AS2 server (pyas2lib on a real HTTP
server standing in for the partner), sync and async MDNs verified and kept as evidence,
retries with backoff while the partner is away; without AS2 the SFTP outbound folder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from as2_kit import PartnerAs2Server, Server, make_runtime, new_keys, write_partner
from sqlalchemy import select
from support import free_port

from gateway.store.models import utcnow
from gateway.store.models_transport import As2Message
from gateway.transports.as2_send import run_due, send_to_partner

ACK = b"ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ACMESUPPLY     *...~IEA*1*000000001~"


@pytest.fixture(scope="module")
def keys():
    return {"ours": new_keys("BUYERCO"), "acme": new_keys("ACME-AS2")}


def _setup(tmp_path, keys, database_url, *, port, mdn="sync", compress=False):
    partners = tmp_path / "partners"
    write_partner(partners, "acme", "ACME-AS2", [keys["acme"].cert_pem], url=f"http://127.0.0.1:{port}/as2",
                  mdn=mdn, compress=str(compress).lower())
    write_partner(partners, "plain", "PLAIN-AS2", [keys["acme"].cert_pem])  # AS2 in, no URL: SFTP out
    return partners


def rows(rt):
    with rt.session() as s:
        return s.scalars(select(As2Message).where(As2Message.direction == "out")).all()


def test_sync_mdn_is_verified_and_kept_as_evidence(tmp_path, keys, database_url):
    partner = PartnerAs2Server(keys["acme"], keys["ours"].cert_pem, 0)  # port 0: no window for another test to take it
    port = partner.server.server_port
    try:
        rt = make_runtime(tmp_path / "home", _setup(tmp_path, keys, database_url, port=port, compress=True),
                          database_url, None, [keys["ours"]])
        where = send_to_partner(rt, "acme", "997_000000001.x12", ACK)
        assert where.startswith("as2:acme/") and where.endswith("(delivered)"), where
        assert partner.received == [ACK]
        [row] = rows(rt)
        assert row.status == "delivered" and row.mdn_status == "processed"
        assert b"Received-content-MIC" in row.mdn_body and row.mic.endswith("sha256")
        assert b"application/pkcs7-signature" in row.mdn_body  # the signed MDN itself is the evidence
    finally:
        partner.stop()


def test_partner_away_is_retried_with_backoff_until_it_answers(tmp_path, keys, database_url):
    port = free_port()
    rt = make_runtime(tmp_path / "home", _setup(tmp_path, keys, database_url, port=port), database_url, None,
                      [keys["ours"]], GATEWAY_AS2_MAX_ATTEMPTS=5)
    where = send_to_partner(rt, "acme", "997_000000002.x12", ACK)
    assert where.endswith("(retrying)"), where
    [row] = rows(rt)
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at > utcnow()
    assert run_due(rt) == 0  # not due yet: backoff
    partner = PartnerAs2Server(keys["acme"], keys["ours"].cert_pem, port)
    try:
        with rt.session() as s:
            s.get(As2Message, row.id).next_attempt_at = utcnow() - timedelta(seconds=1)
        assert run_due(rt) == 1
        [row] = rows(rt)
        assert row.status == "delivered" and row.attempts == 2
        assert partner.received == [ACK]
        assert run_due(rt) == 0
    finally:
        partner.stop()


def test_async_mdn_comes_back_to_our_endpoint(tmp_path, keys, database_url):
    partner = PartnerAs2Server(keys["acme"], keys["ours"].cert_pem, 0)  # port 0: no window for another test to take it
    port = partner.server.server_port
    rt = make_runtime(tmp_path / "home", _setup(tmp_path, keys, database_url, port=port, mdn="async"),
                      database_url, None, [keys["ours"]])
    ours = Server(rt)
    try:
        rt.settings = rt.settings.with_overrides(extra={**rt.settings.extra, "GATEWAY_AS2_MDN_URL": ours.url})
        from gateway.transports import as2_profiles

        as2_profiles._directories.clear()
        where = send_to_partner(rt, "acme", "855.x12", ACK)
        assert where.endswith("(awaiting-mdn)"), where
        import time

        deadline = time.monotonic() + 120  # a generous bound: the MDN arrives when a busy machine gets to it
        while rows(rt)[0].status == "awaiting-mdn" and time.monotonic() < deadline:
            time.sleep(0.05)
        [row] = rows(rt)
        assert row.status == "delivered" and row.mdn_status == "processed", row.detail
    finally:
        ours.stop()
        partner.stop()


def test_an_async_mdn_that_arrives_before_our_post_returns_settles_the_message(tmp_path, keys, database_url):
    """A fast partner posts its MDN while our POST is still open: the MDN is kept and the
    message is delivered, not set back to awaiting-mdn by the returning POST (CI saw this)."""
    partner = PartnerAs2Server(keys["acme"], keys["ours"].cert_pem, 0, mdn_before_answer=True)
    rt = make_runtime(tmp_path / "home", _setup(tmp_path, keys, database_url, port=partner.server.server_port,
                                                mdn="async"), database_url, None, [keys["ours"]])
    ours = Server(rt)
    try:
        rt.settings = rt.settings.with_overrides(extra={**rt.settings.extra, "GATEWAY_AS2_MDN_URL": ours.url})
        from gateway.transports import as2_profiles

        as2_profiles._directories.clear()
        where = send_to_partner(rt, "acme", "855.x12", ACK)
        [row] = rows(rt)
        assert (row.status, row.mdn_status) == ("delivered", "processed"), row.detail
        assert where.endswith("(delivered)"), where
    finally:
        ours.stop()
        partner.stop()


def test_without_an_as2_url_the_sftp_outbound_folder_is_used(tmp_path, keys, database_url):
    rt = make_runtime(tmp_path / "home", _setup(tmp_path, keys, database_url, port=1), database_url, None,
                      [keys["ours"]])
    where = send_to_partner(rt, "plain", "997_000000003.x12", ACK)
    assert where == "sftp:plain/outbound/997_000000003.x12"
    assert (rt.settings.sftp_root / "plain" / "outbound" / "997_000000003.x12").read_bytes() == ACK
