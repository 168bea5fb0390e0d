"""Alert texts (sans-IO): what a partner put in a file name or a finding cannot break a
mail header or flood a subject line; findings are listed in words, each once."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from gateway.alerts import messages
from gateway.alerts.settings import parse_smtp_url


def _doc(**changes):
    doc = dict(id="doc_1", partner_id="demo", filename="855.edi", received_at=datetime(2026, 12, 2, tzinfo=UTC),
               channel="sftp", reason="1 transaction set rejected", errors=[])
    return SimpleNamespace(**{**doc, **changes})


def test_a_hostile_file_name_cannot_add_a_header_or_a_long_subject():
    draft = messages.rejected(_doc(filename="x.edi\r\nBcc: everyone@example.com" + "A" * 500))
    assert "\r" not in draft.subject and "\n" not in draft.subject
    assert len(draft.subject) <= messages.MAX_SUBJECT
    assert "\nBcc:" not in draft.body and "\r" not in draft.body  # the name stays on its own line


def test_findings_are_listed_in_words_with_their_place_once():
    errors = [{"message": "ACK #1 (segment 8), element ACK05: '20261301' is not a valid date", "segment_id": "ACK",
               "segment_index": 8, "element": "ACK05"},
              {"message": "the interchange has no IEA", "segment_id": "ISA", "segment_index": 1}]
    body = messages.rejected(_doc(errors=errors)).body
    assert "- ACK #1 (segment 8), element ACK05: '20261301' is not a valid date\n" in body
    assert "- the interchange has no IEA (at ISA #1)" in body
    many = messages.rejected(_doc(errors=errors * 10)).body
    assert many.count("\n- ") == messages.MAX_FINDINGS + 1 and "and 10 more on the document page" in many


def test_alert_keys_say_once_per_what():
    assert messages.rejected(_doc()).key == "rejected:doc_1"
    delivery = SimpleNamespace(id="ev-erp_http", adapter="erp_http", attempts=8, last_error="HTTP 500", replays=2)
    event = SimpleNamespace(type="invoice.received", partner_id="demo", document_id="doc_1")
    assert messages.dead_letter(delivery, event).key == "dead_letter:ev-erp_http:2"  # again after a failed replay


def test_smtp_urls():
    plain = parse_smtp_url("smtp://mail.example")
    assert (plain.host, plain.port, plain.tls, plain.username) == ("mail.example", 25, False, None)
    secure = parse_smtp_url("smtps://alerts%40ourco:p%2Fw@mail.example")
    assert (secure.port, secure.tls, secure.username, secure.password) == (465, True, "alerts@ourco", "p/w")
    assert "p/w" not in repr(secure)
