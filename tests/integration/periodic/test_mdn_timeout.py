"""Async-MDN timeouts: a partner that takes our AS2 message (HTTP 200) but never posts
the MDN it was asked for gets the message again, same Message-ID, after
GATEWAY_AS2_MDN_TIMEOUT; out of attempts, the message fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from as2_kit import Listener, make_runtime, new_keys, write_partner
from sqlalchemy import select

from gateway.store.models import utcnow
from gateway.store.models_transport import As2Message
from gateway.transports.as2_mdn_timeout import expire_awaiting_mdns
from gateway.transports.as2_send import deliver, queue_as2, run_due

ACK = b"ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ACMESUPPLY     *...~IEA*1*000000001~"


@pytest.fixture(scope="module")
def keys():
    return {"ours": new_keys("BUYERCO"), "acme": new_keys("ACME-AS2")}


def test_a_missing_async_mdn_sends_again_then_fails(tmp_path, keys, database_url):
    silent = Listener()  # answers 200 to every POST and never sends an MDN back
    try:
        partners = tmp_path / "partners"
        write_partner(partners, "acme", "ACME-AS2", [keys["acme"].cert_pem], url=silent.url, mdn="async")
        rt = make_runtime(tmp_path / "home", partners, database_url, None, [keys["ours"]],
                          GATEWAY_AS2_MDN_URL="http://127.0.0.1:9/as2", GATEWAY_AS2_MDN_TIMEOUT=600,
                          GATEWAY_AS2_MAX_ATTEMPTS=2)
        row_id, message_id = queue_as2(rt, rt.partners["acme"], "997_000000001.x12", ACK)
        assert deliver(rt, row_id) == "awaiting-mdn"
        assert expire_awaiting_mdns(rt, utcnow()) == {"resend": 0, "failed": 0}  # not yet
        waited(rt, row_id, 601)  # the MDN is overdue
        assert expire_awaiting_mdns(rt, utcnow()) == {"resend": 1, "failed": 0}
        with rt.session() as s:
            row = s.get(As2Message, row_id)
            assert row.status == "pending" and "no async MDN" in row.detail
        assert run_due(rt) == 1  # the resender sends it again ...
        with rt.session() as s:
            row = s.get(As2Message, row_id)
            assert (row.status, row.attempts, row.message_id) == ("awaiting-mdn", 2, message_id)  # ... same id
        assert len(silent.requests) == 2
        waited(rt, row_id, 601)
        assert expire_awaiting_mdns(rt, utcnow()) == {"resend": 0, "failed": 1}
        with rt.session() as s:
            rows = s.scalars(select(As2Message)).all()
        assert [(r.status, r.next_attempt_at) for r in rows] == [("failed", None)]
    finally:
        silent.stop()


def waited(rt, row_id: int, seconds: float) -> None:
    """As if ``seconds`` had passed since the message's attempt was due (the clock is the database's)."""
    with rt.session() as s:
        s.get(As2Message, row_id).next_attempt_at = utcnow() - timedelta(seconds=seconds)
