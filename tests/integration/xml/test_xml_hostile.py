"""Hostile XML through the pipeline and through ``gateway validate`` (issue 4 §7, notes M1-M6): each is rejected
with a clear finding within a CPU second and bounded memory, nothing is fetched (no socket
from Python, no connection at a listening canary, which also catches libxml2's own
network code), a local file's content appears nowhere, and nothing is delivered.

Memory and CPU are measured in a forked child that runs only the call (``measure_in_child``):
this process's own peak (``ru_maxrss``) already includes the schema build, so growth below
that earlier peak would never show there."""

from __future__ import annotations

import json
import logging
import socket
import threading

import pytest
from support import CORPUS, SAMPLES, drain, measure_in_child

from gateway.intake.receive import receive
from gateway.processing.service import process
from gateway.processing.validate import validate_bytes
from gateway.store.models import Document
from gateway.store.views import document_detail

INVOICE = (SAMPLES / "ubl" / "Invoice_acme_inv-88070.xml").read_bytes()
_DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_BODY = INVOICE[len(_DECL):]
SECRET_TEXT = "TOP-SECRET-4711-do-not-leak"
SCHEMAS = CORPUS / "schemas"


def _with_doctype(subset: bytes, entity_ref: bytes) -> bytes:
    return (_DECL + b"<!DOCTYPE Invoice [" + subset + b"]>\n"
            + _BODY.replace(b"<cbc:ID>INV-88070</cbc:ID>", b"<cbc:ID>" + entity_ref + b"</cbc:ID>", 1))


def hostile_documents(secret_url: str, canary_url: str) -> dict[str, tuple[bytes, str]]:
    laughs = b'<!ENTITY lol "lol">' + b"".join(
        b"<!ENTITY lol%d \"%s\">" % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    deep = b"<cac:Note>" * 10_000 + b"</cac:Note>" * 10_000
    return {
        "billion laughs": (_with_doctype(laughs, b"&lol9;"), "DTD_FORBIDDEN"),
        "quadratic blow-up": (_with_doctype(b'<!ENTITY a "' + b"x" * 50_000 + b'">', b"&a;" * 20_000),
                              "DTD_FORBIDDEN"),
        "xxe local file": (_with_doctype(b'<!ENTITY xxe SYSTEM "%s">' % secret_url.encode(), b"&xxe;"),
                           "DTD_FORBIDDEN"),
        "xxe url": (_with_doctype(b'<!ENTITY xxe SYSTEM "%s">' % canary_url.encode(), b"&xxe;"), "DTD_FORBIDDEN"),
        "external parameter entity": (_with_doctype(b'<!ENTITY %% p SYSTEM "%s"> %%p;' % canary_url.encode(),
                                                    b"INV-1"), "DTD_FORBIDDEN"),
        "remote schemaLocation": (INVOICE.replace(
            b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"',
            b'<Invoice xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="'
            b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2 " + canary_url.encode() + b'/evil.xsd" '
            b'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"').replace(
            b"<cbc:IssueDate>", b"<cbc:Backdoor>only my schema allows this</cbc:Backdoor><cbc:IssueDate>", 1),
            "XSD_INVALID"),
        "xinclude of a local file": (INVOICE.replace(
            b"<cbc:IssueDate>", b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="'
            + secret_url.encode() + b'" parse="text"/><cbc:IssueDate>', 1), "XSD_INVALID"),
        "10,000-deep nesting": (INVOICE.replace(b"<cbc:IssueDate>", deep + b"<cbc:IssueDate>", 1), "TOO_DEEP"),
        "declared encoding that lies": (INVOICE.replace(b"STEEL WIDGET", "STEEL WIDGET \u00e9".encode("latin-1")),
                                        "NOT_WELL_FORMED"),
        "a NUL byte": (INVOICE.replace(b"STEEL WIDGET", b"STEEL\x00WIDGET"), "NOT_WELL_FORMED"),
        "truncated document": (INVOICE[: len(INVOICE) // 2], "NOT_WELL_FORMED"),
    }


NAMES = list(hostile_documents("file:///x", "http://x"))
#: Only the local XSD can refuse these two (the document is well-formed); every other case
#: is refused by the hardened parser before any schema, so it runs without one too.
NEEDS_SCHEMAS = {"remote schemaLocation", "xinclude of a local file"}


@pytest.fixture
def schemas_if_needed(request, name, monkeypatch):
    """The official schemas when ../shared/corpus/schemas is there; without it, the cases
    that do not need them still run (with schema validation off), the others skip."""
    if SCHEMAS.is_dir() or name in NEEDS_SCHEMAS:
        return request.getfixturevalue("schemas")  # skips, with the path, when absent
    monkeypatch.delenv("GATEWAY_SCHEMA_DIR", raising=False)
    return None


class Canary:
    """A listening TCP port that records every connection made to it (from any process)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.1)
        self.port = self.server.getsockname()[1]
        self.hits: list[tuple] = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, addr = self.server.accept()
            except OSError:
                continue
            self.hits.append(addr)
            conn.close()

    def stop(self):
        self.running = False
        self.thread.join(timeout=2)
        self.server.close()


@pytest.fixture
def canary():
    c = Canary()
    yield c
    c.stop()


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET_TEXT + "\n")
    return path


@pytest.fixture
def connects(monkeypatch):
    """Every Python-level outbound connection attempt: (host, port)."""
    seen: list[tuple] = []
    real_connect, real_create = socket.socket.connect, socket.create_connection

    def connect(self, address):
        seen.append(address)
        return real_connect(self, address)

    def create_connection(address, *args, **kwargs):
        seen.append(address)
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return seen


#: Bounds for one hostile document: resident memory above the level before the call, and
#: CPU time (not wall time, which a busy machine stretches).
MAX_GROWTH_MB, MAX_CPU_SECONDS = 50, 1.0


@pytest.mark.parametrize("name", NAMES)
def test_hostile_xml_through_the_pipeline(name, rt, erp_receiver, schemas_if_needed, canary, secret, connects, caplog):
    data, code = hostile_documents(secret.as_uri(), f"http://127.0.0.1:{canary.port}")[name]
    caplog.set_level(logging.DEBUG)
    receipt = receive(rt, data, channel="sftp", filename="hostile.xml", partner_id="demo")
    # the worker's job, run alone in a child (as RQ's work-horse runs it) to measure it
    run = measure_in_child(lambda: {"status": process(rt, receipt.document_id), "connects": connects})
    assert run.value["status"] == "rejected"
    assert run.peak_growth_mb < MAX_GROWTH_MB and run.cpu_seconds < MAX_CPU_SECONDS, run
    drain(rt)

    with rt.session() as s:
        row = s.get(Document, receipt.document_id)
        doc = document_detail(row)
    assert doc["status"] == "rejected" and doc["reason"]
    assert code in [e["code"] for e in doc["errors"]], doc["errors"]
    assert all(e["segment_index"] for e in doc["errors"])  # each finding has its line
    everything = json.dumps(doc, default=str) + caplog.text + run.log
    assert SECRET_TEXT not in everything and "lollollol" not in everything
    assert canary.hits == []
    redis_port = int(rt.settings.redis_url.rsplit(":", 1)[1].split("/")[0])
    assert [a for a in connects + [tuple(a) for a in run.value["connects"]] if a[1] != redis_port] == []
    assert [e["type"] for e in doc["events"]] == ["document.rejected"] and erp_receiver.posts == []


@pytest.mark.parametrize("name", NAMES)
def test_hostile_xml_through_validate(name, schemas_if_needed, canary, secret, connects, caplog):
    data, code = hostile_documents(secret.as_uri(), f"http://127.0.0.1:{canary.port}")[name]
    caplog.set_level(logging.DEBUG)
    run = measure_in_child(lambda: {"report": validate_bytes(data, "hostile.xml"), "connects": connects})
    assert run.peak_growth_mb < MAX_GROWTH_MB and run.cpu_seconds < MAX_CPU_SECONDS, run
    report = run.value["report"]
    assert report["format"] == "xml" and report["valid"] is False
    assert code in [e["code"] for e in report["errors"]]
    assert all(e["message"].startswith("line ") for e in report["errors"])
    assert SECRET_TEXT not in json.dumps(report) + caplog.text + run.log
    assert canary.hits == [] and connects == [] and run.value["connects"] == []


def test_a_remote_schema_location_hint_is_never_fetched_and_the_local_xsd_decides(schemas, canary, connects):
    data = hostile_documents("file:///x", f"http://127.0.0.1:{canary.port}")["remote schemaLocation"][0]
    report = validate_bytes(data.replace(b"<cbc:Backdoor>only my schema allows this</cbc:Backdoor>", b""), "h.xml")
    assert report["valid"] is True, report["errors"]
    assert report["schema"]["validated_against"].endswith("UBL-Invoice-2.1.xsd")
    assert canary.hits == [] and connects == []
