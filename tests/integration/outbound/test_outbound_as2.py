"""Outbound 850 over AS2: pyas2lib on a real HTTP server is the supplier; its signed MDN
is kept, but only its 997 (sent back to our /as2) acknowledges the PO. Without one, the
PO is overdue once the partner's deadline passes (the clock moved by passing ``now``)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import requests
from as2_kit import Server, make_runtime, new_keys, partner_message, write_partner
from outbound_kit import answer_997, post_po
from sqlalchemy import select
from support import drain, free_port
from test_as2_send import PartnerAs2Server

import gateway.bootstrap as bootstrap_module
from gateway.outbound.acks import ack_counts, check_overdue_acks
from gateway.store.models import EventRecord
from gateway.store.models_outbound import OutboundDocument
from gateway.store.models_transport import As2Message
from gateway.web.auth import create_token


@pytest.fixture(scope="module")
def keys():
    return {"ours": new_keys("BUYERCO"), "acme": new_keys("ACME-AS2")}


@pytest.fixture
def world(tmp_path, keys, database_url, redis_url, monkeypatch):
    port = free_port()
    partners = tmp_path / "partners"
    write_partner(partners, "acme", "ACME-AS2", [keys["acme"].cert_pem], url=f"http://127.0.0.1:{port}/as2")
    profile = partners / "acme" / "partner.yaml"  # this supplier has 4 hours to answer with a 997
    profile.write_text(profile.read_text().replace("id: ACME}", "id: ACME, ack_deadline_hours: 4}"))
    supplier = PartnerAs2Server(keys["acme"], keys["ours"].cert_pem, port)
    rt = make_runtime(tmp_path / "home", partners, database_url, redis_url, [keys["ours"]])
    env = {"GATEWAY_HOME": str(tmp_path / "home"), "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "GATEWAY_PARTNERS_DIR": str(partners), "GATEWAY_AS2_ID": "BUYERCO"}
    for name, value in env.items():  # the worker's jobs build their runtime from the environment
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(bootstrap_module, "_runtime", None)
    http = Server(rt)
    yield rt, http, create_token(rt, "erp", "buyer"), supplier
    http.stop()
    supplier.stop()


def _row(rt) -> OutboundDocument:
    with rt.session() as s:
        [row] = s.scalars(select(OutboundDocument)).all()
        s.expunge(row)
        return row


def _event_types(rt) -> list[str]:
    with rt.session() as s:
        return [e.type for e in s.scalars(select(EventRecord).order_by(EventRecord.created_at))]


def test_an_850_over_as2_with_an_mdn_but_no_997_goes_overdue_then_a_late_997_accepts_it(world, keys, caplog):
    rt, http, token, supplier = world
    base = http.url.rsplit("/as2", 1)[0]
    first = post_po(base, token, "erp-as2-1", partner="acme")
    assert first.status_code == 201, first.text
    assert first.json()["destination"].endswith("(delivered)")
    assert post_po(base, token, "erp-as2-1", partner="acme").status_code == 200
    [x12] = supplier.received  # one AS2 message, however often the ERP asked
    assert b"ST*850*" in x12 and b"BEG*00*SA*4500012345" in x12
    with rt.session() as s:
        [message] = s.scalars(select(As2Message).where(As2Message.direction == "out")).all()
        assert (message.status, message.mdn_status) == ("delivered", "processed")

    sent = _row(rt)
    assert sent.ack_status == "awaiting"  # the MDN says the bytes arrived, not that the 850 was accepted
    assert sent.ack_due_at == sent.sent_at + timedelta(hours=4)
    assert check_overdue_acks(rt, sent.sent_at + timedelta(hours=3, minutes=59)) == 0
    with caplog.at_level(logging.ERROR, logger="gateway.acks"):
        assert check_overdue_acks(rt, sent.sent_at + timedelta(hours=4, minutes=1)) == 1
    assert "ack overdue: 850" in caplog.text and "PO 4500012345" in caplog.text
    assert check_overdue_acks(rt, sent.sent_at + timedelta(days=2)) == 0  # raised once, not every sweep
    assert _row(rt).ack_status == "overdue"
    assert _event_types(rt) == ["purchase_order.issued", "ack.overdue"]
    with rt.session() as s:
        overdue = s.scalar(select(EventRecord).where(EventRecord.type == "ack.overdue")).body
        assert ack_counts(s) == {"overdue": 1}
    assert overdue["payload"]["document_id"] == sent.id and overdue["payload"]["status"] == "overdue"
    assert "no 997/999 from acme" in overdue["payload"]["errors"][0]["message"]

    late = partner_message(keys["acme"], "ACME-AS2", keys["ours"].cert_pem, answer_997(x12), filename="997.x12")
    answered = requests.post(http.url, data=late.content, headers=late.headers, timeout=30)
    assert answered.status_code == 200
    drain(rt)
    assert _row(rt).ack_status == "accepted"
    assert _event_types(rt) == ["purchase_order.issued", "ack.overdue", "ack.received"]
    assert len(supplier.received) == 1  # nothing went back for the 997: an ack is never acknowledged
