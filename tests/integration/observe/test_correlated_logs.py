"""One correlation id from intake to every delivery, in JSON logs of each role: a file
uploaded to `gateway web` is processed and delivered by `gateway worker` (separate
processes); every log line is a JSON object, and the lines about that file carry the id
the upload answered with, as do its outbox rows and the event the ERP receives."""

from __future__ import annotations

import json
import subprocess

import pytest
import requests
from faultkit import (
    Processes,
    Receiver,
    all_delivered,
    gateway_env,
    in_process_runtime,
    make_855,
    wait_for,
)
from sqlalchemy import select
from support import free_port

from gateway.store.models import DeliveryRecord, Document
from gateway.transports.sftp_auth import authorize_key
from gateway.web.auth import create_token

pytestmark = pytest.mark.slow


def _json_lines(path) -> list[dict]:
    """Every log line of a process; each must be one JSON object (prints to stdout are not logs)."""
    out = []
    for line in open(path).read().splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))  # a broken line fails the test here
    return out


def test_each_role_logs_json_lines_carrying_the_correlation_id(tmp_path, database_url, redis_url, monkeypatch):
    erp = Receiver()
    port = free_port()
    env = gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url, GATEWAY_HTTP_PORT=str(port),
                      GATEWAY_LOG_FORMAT="json")
    rt = in_process_runtime(monkeypatch, env)
    token = create_token(rt, "ops-test", "admin", None)
    procs = Processes(env, tmp_path)
    try:
        web = procs.gateway("web", name="web")
        worker = procs.worker()
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 120, what="gateway web")
        answer = requests.post(f"http://127.0.0.1:{port}/api/v1/documents?partner=demo", data=make_855(7001),
                               headers={"Authorization": f"Bearer {token}", "X-Filename": "855.edi"}, timeout=30)
        assert answer.status_code == 202, answer.text
        cid, doc_id = answer.json()["correlation_id"], answer.json()["id"]
        wait_for(lambda: erp.posts and all_delivered(rt), 180, what="the 855's event delivered to the ERP")
        wait_for(lambda: any(r.get("correlation_id") == cid and "delivery" in r["message"]
                             for r in _json_lines(worker.log_path)), 30, what="the worker's delivery line")
    finally:
        procs.stop_all()
        erp.stop()
    web_lines, worker_lines = _json_lines(web.log_path), _json_lines(worker.log_path)
    assert {r["role"] for r in web_lines} == {"web"}
    assert {r["role"] for r in worker_lines} <= {"worker", "sweep"}  # the worker and its periodic scheduler
    [received] = [r for r in web_lines if r["message"] == "document received"]
    assert received["correlation_id"] == cid and received["document_id"] == doc_id  # extra= fields in the JSON
    assert received["channel"] == "http" and received["level"] == "INFO"
    mine = [r for r in worker_lines if r.get("correlation_id") == cid]
    assert any(f"document {doc_id} processed" in r["message"] for r in mine), worker_lines
    assert any(r["message"].startswith("delivery ") and r.get("delivery_id") for r in mine), worker_lines
    with rt.session() as s:
        outbox = s.scalars(select(DeliveryRecord)).all()
    assert outbox and {d.correlation_id for d in outbox} == {cid}
    assert {p["body"]["correlation_id"] for p in erp.posts} == {cid}


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code in (200, 503)
    except requests.RequestException:
        return False


def test_the_sftp_role_logs_the_correlation_id_of_what_it_received(tmp_path, database_url, redis_url, monkeypatch):
    sftp_port = free_port()
    env = gateway_env(tmp_path, database_url, redis_url, GATEWAY_SFTP_PORT=str(sftp_port), GATEWAY_LOG_FORMAT="json")
    rt = in_process_runtime(monkeypatch, env)
    key = tmp_path / "id_demo"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    authorize_key(rt, "demo", key.with_suffix(".pub").read_text())
    upload = tmp_path / "855.edi"
    upload.write_bytes(make_855(7002))
    procs = Processes(env, tmp_path)
    try:
        sftp = procs.gateway("sftp", name="sftp")
        wait_for(lambda: "SFTP on" in open(sftp.log_path).read(), 120, what="gateway sftp")
        put = subprocess.run(
            ["sftp", "-b", "-", "-i", str(key), "-P", str(sftp_port), "-o", "StrictHostKeyChecking=no",
             "-o", f"UserKnownHostsFile={tmp_path / 'known_hosts'}", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
             "demo@127.0.0.1"], input=f"put {upload} inbound/\n", capture_output=True, text=True, timeout=60)
        assert put.returncode == 0, put.stderr
        wait_for(lambda: any(r["message"] == "document received" for r in _json_lines(sftp.log_path)), 30,
                 what="the sftp role's line")
    finally:
        procs.stop_all()
    with rt.session() as s:
        [doc] = s.query(Document).all()
    [line] = [r for r in _json_lines(sftp.log_path) if r["message"] == "document received"]
    assert (line["role"], line["channel"], line["correlation_id"], line["document_id"]) == \
        ("sftp", "sftp", doc.correlation_id, doc.id)
