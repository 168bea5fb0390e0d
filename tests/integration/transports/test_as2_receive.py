"""AS2 receive at /as2 on a real werkzeug server, with pyas2lib as the partner's AS2
software (its own keys, made here): every combination of signed / encrypted /
compressed with sync and async MDNs, and the ways a message must be refused."""

from __future__ import annotations

import itertools
import socket
from datetime import UTC, datetime, timedelta

import pytest
import requests
from as2_kit import (
    MdnCatcher,
    Server,
    make_runtime,
    new_keys,
    partner_message,
    verify_mdn,
    write_partner,
)
from sqlalchemy import select
from support import SAMPLES

from gateway.store.models import Document
from gateway.store.models_transport import As2Message

PAYLOAD = (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes()


@pytest.fixture(scope="module")
def keys():
    return {"ours": new_keys("BUYERCO"), "acme": new_keys("ACME-AS2"), "other": new_keys("OTHER-AS2"),
            "acme_next": new_keys("ACME-AS2 2027"),
            "expired": new_keys("OLD-AS2", not_before=datetime.now(UTC) - timedelta(days=400), days=30)}


def _partners(tmp, keys, mdn_urls=()):
    partners = tmp / "partners"
    write_partner(partners, "acme", "ACME-AS2", [keys["acme"].cert_pem], sign="false", encrypt="false",
                  async_mdn_urls="[" + ", ".join(f'"{u}"' for u in mdn_urls) + "]")
    write_partner(partners, "strict", "STRICT-AS2", [keys["acme"].cert_pem])
    write_partner(partners, "other", "OTHER-AS2", [keys["other"].cert_pem])
    write_partner(partners, "old", "OLD-AS2", [keys["expired"].cert_pem], sign="false", encrypt="false")
    write_partner(partners, "rolling", "ROLL-AS2", [keys["acme"].cert_pem, keys["acme_next"].cert_pem])
    return partners


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, keys):
    """One gateway (SQLite, no Redis: documents wait for the sweeper) for the matrix."""
    tmp = tmp_path_factory.mktemp("as2")
    catcher = MdnCatcher()
    rt = make_runtime(tmp / "home", _partners(tmp, keys, [catcher.url]), f"sqlite:///{tmp / 'gw.db'}", None,
                      [keys["ours"]], GATEWAY_AS2_MAX_DECOMPRESSED=1_000_000)
    server = Server(rt)
    yield rt, server, catcher
    server.stop()
    catcher.stop()


def post(server, msg):
    return requests.post(server.url, data=msg.content, headers=msg.headers, timeout=30)


def documents(rt, partner_id):
    with rt.session() as s:
        return s.scalars(select(Document).where(Document.partner_id == partner_id)).all()


@pytest.mark.parametrize(("sign", "encrypt", "compress", "mdn"),
                         list(itertools.product([True, False], [True, False], [True, False], ["SYNC", "ASYNC"])))
def test_every_combination_is_received_and_acknowledged(gateway, keys, sign, encrypt, compress, mdn):
    rt, server, catcher = gateway
    before = len(documents(rt, "acme"))
    catcher.event.clear()
    msg = partner_message(keys["acme"], "ACME-AS2", keys["ours"].cert_pem, PAYLOAD, sign=sign, encrypt=encrypt,
                          compress=compress, mdn=mdn, mdn_url=catcher.url if mdn == "ASYNC" else None)
    response = post(server, msg)
    assert response.status_code == 200
    if mdn == "SYNC":
        status, detail, _ = verify_mdn(msg, response.headers.items(), response.content)
    else:
        assert response.content == b""
        assert catcher.event.wait(10), "no async MDN"
        from gateway.transports.as2_compat import Mdn

        status, detail = Mdn().parse(catcher.received[-1], find_message_cb=lambda _m, _r: msg)
    assert (status, detail) == ("processed", None)  # signature verified, and the MIC matched when signed
    docs = documents(rt, "acme")
    assert len(docs) == before + 1
    doc = max(docs, key=lambda d: d.received_at)
    assert doc.channel == "as2" and doc.filename == "po.edi"
    assert rt.blobs.path_for(doc.sha256).read_bytes().replace(b"\r\n", b"\n") == PAYLOAD.replace(b"\r\n", b"\n")


def _refused(server, msg) -> str:
    response = post(server, msg)
    assert response.status_code == 200
    status, detail, mdn = verify_mdn(msg, response.headers.items(), response.content)
    return f"{status}: {detail}"


def test_security_short_of_the_profile_is_refused(gateway, keys):
    rt, server, _ = gateway
    ours = keys["ours"].cert_pem
    unsigned = partner_message(keys["acme"], "STRICT-AS2", ours, PAYLOAD, sign=False, encrypt=True)
    assert _refused(server, unsigned) == "processed/Error: insufficient-message-security"
    unencrypted = partner_message(keys["acme"], "STRICT-AS2", ours, PAYLOAD, sign=True, encrypt=False)
    assert _refused(server, unencrypted) == "processed/Error: insufficient-message-security"
    good = partner_message(keys["acme"], "STRICT-AS2", ours, PAYLOAD)
    assert _refused(server, good) == "processed: None"
    assert len(documents(rt, "strict")) == 1


def test_tampered_payload_and_another_partners_certificate_are_refused(gateway, keys):
    rt, server, _ = gateway
    ours = keys["ours"].cert_pem
    msg = partner_message(keys["acme"], "ACME-AS2", ours, PAYLOAD, encrypt=False)  # signed, readable
    tampered = msg.content.replace(b"4500012345", b"4500099999")
    assert tampered != msg.content
    response = requests.post(server.url, data=tampered, headers=msg.headers, timeout=30)
    assert "authentication-failed" in verify_mdn(msg, response.headers.items(), response.content)[1]
    # OTHER's own, valid key, claiming to be STRICT (AS2-From spoof)
    spoof = partner_message(keys["other"], "STRICT-AS2", ours, PAYLOAD)
    assert _refused(server, spoof) == "processed/Error: authentication-failed"
    with rt.session() as s:
        assert s.scalar(select(As2Message).where(As2Message.message_id == spoof.message_id)) is None


def test_an_expired_partner_certificate_is_refused(gateway, keys):
    rt, server, _ = gateway
    msg = partner_message(keys["expired"], "OLD-AS2", keys["ours"].cert_pem, PAYLOAD, encrypt=False)
    refused = _refused(server, msg)
    assert "invalid-certificate" in refused or "expired" in refused, refused
    assert documents(rt, "old") == []


def test_certificate_rollover_accepts_both_partner_certificates(gateway, keys):
    rt, server, _ = gateway
    for k in ("acme", "acme_next"):
        msg = partner_message(keys[k], "ROLL-AS2", keys["ours"].cert_pem, PAYLOAD)
        assert _refused(server, msg) == "processed: None", k
    assert len(documents(rt, "rolling")) == 2


def test_a_zip_bomb_is_refused_before_it_fills_memory(gateway, keys):
    rt, server, _ = gateway
    bomb = b"ISA" + b"0" * 20_000_000  # 20 MB of zeros compress to ~20 KB
    msg = partner_message(keys["acme"], "ACME-AS2", keys["ours"].cert_pem, bomb, compress=True)
    assert len(msg.content) < 200_000
    before = len(documents(rt, "acme"))
    assert _refused(server, msg) == "processed/Error: decompression-failed"
    assert len(documents(rt, "acme")) == before


def test_unknown_partner_gets_an_error_mdn(gateway, keys):
    _, server, _ = gateway
    msg = partner_message(keys["acme"], "NOBODY", keys["ours"].cert_pem, PAYLOAD, encrypt=False)
    response = post(server, msg)
    assert b"unknown-trading-partner" in response.content


def test_a_body_over_the_limit_is_refused_before_it_is_read(gateway):
    _, server, _ = gateway
    port = int(server.url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /as2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkcs7-mime\r\n"
                     b"AS2-From: ACME-AS2\r\nAS2-To: BUYERCO\r\nContent-Length: 900000000\r\n\r\n")
        answer = sock.recv(4096)  # answered without us sending a single body byte
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]


@pytest.fixture
def fresh(tmp_path, keys, database_url, redis_url):
    rt = make_runtime(tmp_path / "home", _partners(tmp_path, keys), database_url, redis_url, [keys["ours"]])
    server = Server(rt)
    yield rt, server
    server.stop()


def test_a_replayed_message_id_gets_the_original_mdn_and_is_not_received_again(fresh, keys):
    rt, server = fresh
    msg = partner_message(keys["acme"], "STRICT-AS2", keys["ours"].cert_pem, PAYLOAD)
    first = post(server, msg)
    again = post(server, msg)
    assert verify_mdn(msg, first.headers.items(), first.content)[:2] == ("processed", None)
    assert again.content == first.content  # the very same MDN, byte for byte
    assert len(documents(rt, "strict")) == 1
    with rt.session() as s:
        row = s.scalar(select(As2Message).where(As2Message.message_id == msg.message_id))
        assert row.status == "processed" and row.mdn_body == first.content and row.mic.endswith("sha256")


def test_a_storage_failure_never_says_processed_and_the_resend_works(fresh, keys, monkeypatch):
    rt, server = fresh
    import gateway.transports.as2_receive as receiving

    real = receiving.receive
    monkeypatch.setattr(receiving, "receive", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    msg = partner_message(keys["acme"], "STRICT-AS2", keys["ours"].cert_pem, PAYLOAD)
    failed = post(server, msg)
    assert verify_mdn(msg, failed.headers.items(), failed.content)[:2] == ("processed/Error",
                                                                          "unexpected-processing-error")
    assert documents(rt, "strict") == []
    no_mdn = partner_message(keys["acme"], "STRICT-AS2", keys["ours"].cert_pem, PAYLOAD, mdn=None)
    assert post(server, no_mdn).status_code == 503
    monkeypatch.setattr(receiving, "receive", real)
    resent = post(server, msg)  # the same Message-ID was not burnt by the failure
    assert verify_mdn(msg, resent.headers.items(), resent.content)[:2] == ("processed", None)
    assert len(documents(rt, "strict")) == 1
