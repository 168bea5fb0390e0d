"""What a partner posts to /cxml is stored without its SharedSecret: every SharedSecret's
text becomes a placeholder, nothing else changes, and a document where that cannot be
made sure of is not stored at all."""

from __future__ import annotations

import pytest

from gateway.transports.cxml_receive import SECRET_PLACEHOLDER, _without_secret

HEAD = b'<?xml version="1.0" encoding="UTF-8"?><cXML payloadID="1@x" timestamp="2026-12-02T10:00:00+00:00"><Header>'
TAIL = b"</Header><Request><OrderRequest/></Request></cXML>"


def _doc(credentials: bytes) -> bytes:
    return HEAD + b"<Sender>" + credentials + b"</Sender>" + TAIL


@pytest.mark.parametrize("secret", [b"plain", b"<![CDATA[a<b]]>", b"a &amp; b", b"multi\nline"])
def test_the_secret_becomes_the_placeholder_and_nothing_else_changes(secret):
    data = _doc(b'<Credential domain="NetworkId"><Identity>A</Identity><SharedSecret>' + secret +
                b"</SharedSecret></Credential>")
    stored = _without_secret(data)
    assert stored == data.replace(secret, SECRET_PLACEHOLDER)


def test_every_credential_is_redacted_and_an_empty_one_is_left_as_it_is():
    data = _doc(b'<Credential domain="a"><Identity>A</Identity><SharedSecret/></Credential>'
                b'<Credential domain="b"><Identity>B</Identity><SharedSecret >s2</SharedSecret ></Credential>'
                b'<Credential domain="c"><Identity>C</Identity><SharedSecret>s3</SharedSecret></Credential>')
    stored = _without_secret(data)
    assert stored is not None and b"s2" not in stored and b"s3" not in stored
    assert b"<SharedSecret/>" in stored and b"<Identity>B</Identity>" in stored


def test_a_document_whose_secret_cannot_be_found_in_its_bytes_is_not_stored():
    utf16 = _doc(b'<Credential domain="a"><Identity>A</Identity><SharedSecret>s</SharedSecret></Credential>')
    utf16 = utf16.replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode().encode("utf-16")
    assert _without_secret(utf16) is None
