"""One request size limit (GATEWAY_MAX_REQUEST_BYTES) for /as2 and the upload API,
whatever the framing: a real HTTP client sends chunked bodies (no Content-Length) to a
real werkzeug server. Over the limit is 413 and nothing is stored or confirmed; under
it the body arrives whole."""

from __future__ import annotations

import http.client

import pytest
from as2_kit import Server, make_runtime, new_keys, partner_message, write_partner
from sqlalchemy import select

from gateway.store.models import Document
from gateway.web.auth import create_token

LIMIT = 200_000


def x12(size: int) -> bytes:
    """An interchange-looking payload of about ``size`` bytes (its content is irrelevant here)."""
    head = b"ISA*00*          *00*          *ZZ*ACME           *ZZ*BUYERCO        *"
    return head + b"N9*ZZ*" + b"X" * (size - len(head) - 7) + b"~"


@pytest.fixture
def gateway(tmp_path, database_url):
    keys = {"ours": new_keys("BUYERCO"), "acme": new_keys("ACME-AS2")}
    write_partner(tmp_path / "partners", "acme", "ACME-AS2", [keys["acme"].cert_pem], sign="false", encrypt="false")
    rt = make_runtime(tmp_path / "home", tmp_path / "partners", database_url, None, [keys["ours"]])
    # Documents may be bigger than requests here, so only the request limit can refuse.
    rt.settings = rt.settings.with_overrides(max_request_bytes=LIMIT, max_document_bytes=10 * LIMIT)
    server = Server(rt)
    yield rt, server, keys
    server.stop()


def chunked_post(server, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    """POST with Transfer-Encoding: chunked (no Content-Length), 16 KiB per chunk."""
    port = server.server.server_port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    chunks = (body[i:i + 16384] for i in range(0, len(body), 16384))
    conn.request("POST", path, body=chunks, headers=headers, encode_chunked=True)
    response = conn.getresponse()
    status, content = response.status, response.read()
    conn.close()
    return status, content


def stored(rt) -> list[Document]:
    with rt.session() as s:
        return s.scalars(select(Document)).all()


def test_chunked_as2_message_over_the_limit_is_413_and_nothing_is_stored_or_confirmed(gateway):
    rt, server, keys = gateway
    msg = partner_message(keys["acme"], "ACME-AS2", keys["ours"].cert_pem, x12(LIMIT + 50_000), sign=False,
                          encrypt=False)
    assert len(msg.content) > LIMIT
    status, content = chunked_post(server, "/as2", msg.content, dict(msg.headers))
    assert status == 413, content[:300]
    assert b"processed" not in content  # no MDN of any kind
    assert stored(rt) == []


def test_chunked_as2_message_under_the_limit_arrives_whole(gateway):
    rt, server, keys = gateway
    payload = x12(LIMIT - 20_000)
    msg = partner_message(keys["acme"], "ACME-AS2", keys["ours"].cert_pem, payload, sign=False, encrypt=False)
    status, content = chunked_post(server, "/as2", msg.content, dict(msg.headers))
    assert status == 200 and b"processed" in content
    [doc] = stored(rt)
    assert rt.blobs.path_for(doc.sha256).read_bytes() == payload


@pytest.mark.parametrize("size", [LIMIT + 1, 3 * LIMIT])
def test_chunked_upload_over_the_limit_is_413_and_nothing_is_stored(gateway, size):
    rt, server, _ = gateway
    token = create_token(rt, "ops", "admin")
    status, content = chunked_post(server, "/api/v1/documents?partner=acme&filename=big.edi", x12(size),
                                   {"Authorization": f"Bearer {token}", "Content-Type": "application/edi-x12"})
    assert status == 413, content[:300]
    assert str(LIMIT).encode() in content
    assert stored(rt) == []


def test_chunked_upload_at_the_limit_is_stored_whole(gateway):
    rt, server, _ = gateway
    token = create_token(rt, "ops", "admin")
    body = x12(LIMIT)
    status, content = chunked_post(server, "/api/v1/documents?partner=acme&filename=edge.edi", body,
                                   {"Authorization": f"Bearer {token}", "Content-Type": "application/edi-x12"})
    assert status == 202, content[:300]
    [doc] = stored(rt)
    assert rt.blobs.path_for(doc.sha256).read_bytes() == body


def test_chunked_multipart_upload_over_the_limit_is_413(gateway):
    rt, server, _ = gateway
    token = create_token(rt, "ops", "admin")
    boundary = "gw-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.edi\"\r\n"
            f"Content-Type: application/edi-x12\r\n\r\n").encode() + x12(2 * LIMIT) + f"\r\n--{boundary}--\r\n".encode()
    status, content = chunked_post(server, "/api/v1/documents?partner=acme", body,
                                   {"Authorization": f"Bearer {token}",
                                    "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 413, content[:300]
    assert stored(rt) == []
