"""What a partner's answer to our cXML request means (stated once, in cxml_response), and
the Response document we answer with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from gateway.outbound.cxml_response import ACCEPTED, REDIRECTED, REJECTED, TRANSIENT, read_answer
from gateway.transports.cxml_receive import response_document


def _response(code: str, text: str = "X", message: str = "") -> bytes:
    return (f'<?xml version="1.0"?><cXML payloadID="1@x" timestamp="2026-12-02T10:00:00+00:00"><Response>'
            f'<Status code="{code}" text="{text}">{message}</Status></Response></cXML>').encode()


@pytest.mark.parametrize(("http", "body", "outcome", "code"), [
    (200, _response("200", "OK"), ACCEPTED, 200),
    (200, _response("201", "Accepted"), ACCEPTED, 201),
    (200, _response("204", "No Content"), ACCEPTED, 204),
    (204, b"", ACCEPTED, 204),
    (200, _response("400", "Bad Request", "unknown part"), REJECTED, 400),
    (200, _response("401", "Unauthorized"), REJECTED, 401),
    (500, _response("409", "Conflict"), REJECTED, 409),  # the cXML status decides, HTTP is the fallback
    (200, _response("500", "Internal Server Error"), TRANSIENT, 500),
    (200, _response("560", "Temporary server error"), TRANSIENT, 560),
    (503, b"<html>down for maintenance</html>", TRANSIENT, 503),
    (200, b"OK", TRANSIENT, 200),  # a 200 without a Response is never taken as accepted
    (200, _response("abc"), TRANSIENT, 200),
    (429, b"", TRANSIENT, 429),
    (404, b"<html>not found</html>", REJECTED, 404),
    (302, b"", REDIRECTED, 302),
])
def test_each_answer_means_one_thing(http, body, outcome, code):
    answer = read_answer(http, body, max_bytes=4096)
    assert (answer.outcome, answer.code) == (outcome, code)


def test_the_partners_text_is_kept_and_an_entity_in_its_answer_is_not_expanded():
    assert read_answer(200, _response("400", "Bad Request", "  unknown\n part "), max_bytes=4096).text == (
        "Bad Request unknown part")
    hostile = (b'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY x SYSTEM "file:///etc/passwd">]><cXML><Response>'
               b'<Status code="200" text="OK">&x;</Status></Response></cXML>')
    assert read_answer(200, hostile, max_bytes=4096).outcome == TRANSIENT


def test_our_response_document_is_cxml_with_its_status():
    data = response_document(406, "ProfileRequest documents are not taken", now=datetime(2026, 12, 2, tzinfo=UTC))
    root = etree.fromstring(data)
    status = root.find("Response/Status")
    assert (status.get("code"), status.get("text"), status.text) == (
        "406", "Not Acceptable", "ProfileRequest documents are not taken")
    assert root.get("timestamp") == "2026-12-02T00:00:00+00:00" and "@" in root.get("payloadID")
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE cXML SYSTEM")
