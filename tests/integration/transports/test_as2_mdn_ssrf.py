"""Async MDNs go only to a URL the partner's profile lists, only for a verified message,
never following a redirect (issue #10 item 7: SSRF through /as2). Real listeners stand
in for an internal address (which must get no request at all) and for a redirecting
URL; pyas2lib is the sender on a real werkzeug server."""

from __future__ import annotations

import logging
import time

import pytest
import requests
from as2_kit import (
    Listener,
    MdnCatcher,
    Server,
    make_runtime,
    new_keys,
    partner_message,
    write_partner,
)
from sqlalchemy import select
from support import SAMPLES

from gateway.store.models import Document
from gateway.store.models_transport import As2Message

PAYLOAD = (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes()


@pytest.fixture(scope="module")
def keys():
    return {"ours": new_keys("BUYERCO"), "acme": new_keys("ACME-AS2"), "other": new_keys("OTHER-AS2")}


@pytest.fixture
def setup(tmp_path, keys, database_url):
    internal = Listener()
    redirector = Listener(redirect_to=internal.url)
    catcher = MdnCatcher()
    write_partner(tmp_path / "partners", "acme", "ACME-AS2", [keys["acme"].cert_pem],
                  async_mdn_urls=f'["{redirector.url}", "{catcher.url}"]')
    rt = make_runtime(tmp_path / "home", tmp_path / "partners", database_url, None, [keys["ours"]])
    server = Server(rt)
    yield rt, server, internal, redirector, catcher
    for part in (server, internal, redirector, catcher):
        part.stop()


def post(server, msg):
    return requests.post(server.url, data=msg.content, headers=msg.headers, timeout=30)


def settle(seconds: float = 1.0) -> None:
    """Give an (unwanted) MDN post that runs after the HTTP answer the time to happen."""
    time.sleep(seconds)


def documents(rt):
    with rt.session() as s:
        return s.scalars(select(Document)).all()


def test_an_unknown_partner_cannot_make_us_call_an_internal_address(setup, keys, caplog):
    rt, server, internal, _, _ = setup
    msg = partner_message(keys["other"], "NOBODY", keys["ours"].cert_pem, PAYLOAD, mdn="ASYNC",
                          mdn_url=internal.url)
    with caplog.at_level(logging.WARNING, logger="gateway.security"):
        response = post(server, msg)
    settle()
    assert internal.requests == []
    assert response.status_code == 400 and b"unknown-trading-partner" in response.content
    assert any(r.name == "gateway.security" for r in caplog.records)
    assert documents(rt) == []


def test_a_refused_message_gets_no_async_mdn_even_to_a_listed_url(setup, keys):
    rt, server, _, _, catcher = setup
    spoof = partner_message(keys["other"], "ACME-AS2", keys["ours"].cert_pem, PAYLOAD, mdn="ASYNC",
                            mdn_url=catcher.url)  # OTHER's valid key claiming to be ACME
    response = post(server, spoof)
    settle()
    assert catcher.received == []
    assert response.status_code == 422 and b"authentication-failed" in response.content
    assert documents(rt) == []


def test_a_verified_message_naming_an_unlisted_url_is_refused_and_not_stored(setup, keys, caplog):
    rt, server, internal, _, _ = setup
    msg = partner_message(keys["acme"], "ACME-AS2", keys["ours"].cert_pem, PAYLOAD, mdn="ASYNC",
                          mdn_url=internal.url)
    with caplog.at_level(logging.WARNING, logger="gateway.security"):
        response = post(server, msg)
    settle()
    assert internal.requests == []
    assert response.status_code == 403 and b"async MDN URL" in response.content
    assert documents(rt) == []  # refused before storing: the partner's resend (fixed) is the first copy
    assert any(r.name == "gateway.security" and internal.url in r.getMessage() for r in caplog.records)


def test_a_redirect_from_a_listed_url_is_not_followed(setup, keys):
    rt, server, internal, redirector, _ = setup
    msg = partner_message(keys["acme"], "ACME-AS2", keys["ours"].cert_pem, PAYLOAD, mdn="ASYNC",
                          mdn_url=redirector.url)
    assert post(server, msg).status_code == 200
    deadline = time.monotonic() + 10
    while not redirector.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    settle()
    assert redirector.requests == [("POST", "/internal")]
    assert internal.requests == []  # a followed 302 would have been a GET here
    assert len(documents(rt)) == 1  # the message itself was fine and is kept
    with rt.session() as s:
        row = s.scalar(select(As2Message).where(As2Message.message_id == msg.message_id))
        assert "302" in row.detail and row.next_attempt_at is not None  # not delivered: retried later


def test_a_listed_url_gets_the_signed_mdn(setup, keys):
    rt, server, _, _, catcher = setup
    msg = partner_message(keys["acme"], "ACME-AS2", keys["ours"].cert_pem, PAYLOAD, mdn="ASYNC", mdn_url=catcher.url)
    assert post(server, msg).status_code == 200
    assert catcher.event.wait(10)
    from gateway.transports.as2_compat import Mdn

    assert Mdn().parse(catcher.received[-1], find_message_cb=lambda _m, _r: msg) == ("processed", None)
