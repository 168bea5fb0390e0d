"""Async MDNs posted to /as2 are evidence only from the partner the message went to,
verified against its certificate, and never change a final state or stored evidence
(issue #10 item 8). The partner's AS2 software (pyas2lib on a real server) delivers a
real signed MDN first; then forged, misdirected and replayed MDNs are posted to our
real /as2 endpoint."""

from __future__ import annotations

import copy
import logging
import time

import pytest
import requests
from as2_kit import PartnerAs2Server, Server, make_runtime, new_keys, write_partner
from sqlalchemy import select

from gateway.store.models_transport import As2Message
from gateway.transports import as2_profiles
from gateway.transports.as2_compat import Mdn, Organization
from gateway.transports.as2_send import send_to_partner

ACK = b"ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ACMESUPPLY     *...~IEA*1*000000001~"


@pytest.fixture(scope="module")
def keys():
    return {"ours": new_keys("BUYERCO"), "acme": new_keys("ACME-AS2"), "other": new_keys("OTHER-AS2")}


@pytest.fixture
def delivered(tmp_path, keys, database_url):
    """One message sent to ACME over AS2 and delivered: its signed async MDN is kept."""
    partner = PartnerAs2Server(keys["acme"], keys["ours"].cert_pem, 0)  # port 0: no window for another test to take it
    port = partner.server.server_port
    partners = tmp_path / "partners"
    write_partner(partners, "acme", "ACME-AS2", [keys["acme"].cert_pem], url=f"http://127.0.0.1:{port}/as2",
                  mdn="async")
    write_partner(partners, "plain", "PLAIN-AS2", [keys["acme"].cert_pem])  # the same certificate, another partner
    rt = make_runtime(tmp_path / "home", partners, database_url, None, [keys["ours"]])
    ours = Server(rt)
    rt.settings = rt.settings.with_overrides(extra={**rt.settings.extra, "GATEWAY_AS2_MDN_URL": ours.url})
    as2_profiles._directories.clear()
    send_to_partner(rt, "acme", "997_000000001.x12", ACK)
    deadline = time.monotonic() + 120  # a generous bound: the MDN arrives when a busy machine gets to it
    while row(rt).status == "awaiting-mdn" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert row(rt).status == "delivered", row(rt).detail
    yield rt, ours, partner.messages[0]
    ours.stop()
    partner.stop()


def row(rt) -> As2Message:
    with rt.session() as s:
        return s.scalars(select(As2Message).where(As2Message.direction == "out")).one()


def forged_mdn(parsed, signer: bytes | None, status="processed/Error", detail="decryption-failed") -> Mdn:
    """An MDN for the partner's copy of our message, signed with ``signer`` (None: unsigned)."""
    msg = copy.copy(parsed)
    msg.receiver = Organization(as2_name="ACME-AS2", sign_key=signer, decrypt_key=signer) if signer else None
    mdn = Mdn(mdn_mode="ASYNC", mdn_url="unused")
    mdn.build(message=msg, status=status, detailed_status=detail)
    return mdn


def post(server, mdn: Mdn, **header_overrides):
    headers = {**dict(mdn.headers), **header_overrides}
    return requests.post(server.url, data=mdn.content, headers=headers, timeout=30)


def assert_untouched(rt, before: As2Message):
    after = row(rt)
    assert (after.status, after.mdn_status, after.mdn_body, after.detail) == \
        (before.status, before.mdn_status, before.mdn_body, before.detail)


def test_an_unsigned_mdn_cannot_flip_a_delivered_message(delivered, caplog):
    rt, ours, parsed = delivered
    before = row(rt)
    assert b"application/pkcs7-signature" in before.mdn_body
    with caplog.at_level(logging.WARNING, logger="gateway.security"):
        response = post(ours, forged_mdn(parsed, None))
    assert response.status_code == 403, response.text
    assert_untouched(rt, before)
    assert any(r.name == "gateway.security" for r in caplog.records)


def test_an_mdn_signed_with_another_key_is_refused(delivered, keys):
    rt, ours, parsed = delivered
    before = row(rt)
    response = post(ours, forged_mdn(parsed, keys["other"].pair))
    assert response.status_code == 403, response.text
    assert_untouched(rt, before)


def test_an_mdn_from_another_partner_is_refused_even_when_it_verifies(delivered, keys):
    rt, ours, parsed = delivered
    before = row(rt)
    # PLAIN shares ACME's certificate here: the signature verifies, the sender is wrong.
    response = post(ours, forged_mdn(parsed, keys["acme"].pair), **{"AS2-From": "PLAIN-AS2"})
    assert response.status_code == 404, response.text
    assert_untouched(rt, before)


def test_a_genuine_signed_mdn_never_changes_a_final_state(delivered, keys, caplog):
    rt, ours, parsed = delivered
    before = row(rt)
    with caplog.at_level(logging.WARNING, logger="gateway.security"):
        response = post(ours, forged_mdn(parsed, keys["acme"].pair))  # the partner's own key, later
    assert response.status_code == 409, response.text
    assert_untouched(rt, before)
    assert any("already delivered" in r.getMessage() for r in caplog.records if r.name == "gateway.security")


def test_an_mdn_from_an_unknown_partner_is_refused(delivered, keys):
    rt, ours, parsed = delivered
    before = row(rt)
    response = post(ours, forged_mdn(parsed, keys["acme"].pair), **{"AS2-From": "NOBODY"})
    assert response.status_code == 403, response.text
    assert_untouched(rt, before)
