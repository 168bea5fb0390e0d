"""CLI commands beside a running ``gateway up`` (issue #11 item 2).

A real ``gateway up`` subprocess with its embedded Redis, a real HTTP receiver as the
ERP, a document dropped into the watched folder. ``gateway replay`` run without
``REDIS_URL`` must find that Redis through ``GATEWAY_HOME`` and queue at once, and the
replay must be in the audit log with its reason, as an API replay would be.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from faults.faultkit import wait_for
from support import REPO, SAMPLES, free_port

pytestmark = pytest.mark.slow

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"


@pytest.fixture
def running(tmp_path, erp_receiver):
    """A running ``gateway up`` on its own GATEWAY_HOME; yields the CLI's environment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GATEWAY_") and k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(GATEWAY_HOME=str(tmp_path / "home"), GATEWAY_ERP_URL=erp_receiver.url,
               GATEWAY_HTTP_PORT=str(free_port()), GATEWAY_SFTP_PORT=str(free_port()),
               # The sweeper would re-queue a replayed delivery only after this lease: a
               # delivery seen before then was queued by the replay itself.
               GATEWAY_LEASE_SECONDS="3600")
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "up"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = []
    for line in proc.stdout:
        output.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    if "Supplier EDI Gateway is up." not in "".join(output):
        proc.wait(timeout=120)
        pytest.fail(f"gateway up exited with {proc.returncode} before it was up:\n{''.join(output)}")
    try:
        yield env
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _gateway(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_replay_finds_the_running_gateways_redis_and_is_audited(running, erp_receiver):
    env = running
    home = Path(env["GATEWAY_HOME"])
    assert (home / "redis" / "url").read_text().startswith("unix://")
    erp_receiver.script = [409]  # the ERP refuses the first posting: dead-lettered at once
    drop = home / "drop" / "demo"
    drop.mkdir(parents=True, exist_ok=True)
    (drop / "po.edi.tmp").write_bytes(SAMPLE_855.read_bytes())
    (drop / "po.edi.tmp").rename(drop / "po.edi")

    def dead_letters():
        listed = _gateway(env, "deliveries", "list", "--status", "dead_lettered", "--json")
        return json.loads(listed.stdout) if listed.returncode == 0 else None

    [dead] = wait_for(dead_letters, 120, 0.5, "the refused delivery to be dead-lettered")
    assert len(erp_receiver.posts) == 1

    result = _gateway(env, "replay", "dead-letters", "erp_http", "--reason", "ERP fixed the PO", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"requeued": [dead["id"]], "skipped": {}}
    assert "no Redis reachable" not in result.stderr and "REDIS_URL" not in result.stderr
    wait_for(lambda: len(erp_receiver.posts) == 2, 120, 0.5, "the replayed delivery to reach the ERP")
    assert len(set(erp_receiver.keys())) == 1  # the same idempotency key both times

    with sqlite3.connect(home / "gateway.db") as db:
        rows = db.execute("SELECT actor, action, target, reason FROM audit_log "
                          "WHERE action = 'dead_letters.replay'").fetchall()
    [(actor, action, target, reason)] = rows
    assert actor.startswith("cli:") and target == "adapter:erp_http" and reason == "ERP fixed the PO"

    # A reprocess from the CLI is queued on the same Redis and audited in the same way.
    [document] = json.loads(_gateway(env, "documents", "list", "--json").stdout)
    assert _gateway(env, "reprocess", document["id"], "--reason", " ").returncode == 2
    again = _gateway(env, "reprocess", document["id"], "--reason", "map fixed")
    assert again.returncode == 0, again.stderr
    assert "is queued for processing" in again.stdout and "no Redis reachable" not in again.stderr
    with sqlite3.connect(home / "gateway.db") as db:
        rows = db.execute("SELECT actor, target, reason, details FROM audit_log "
                          "WHERE action = 'document.reprocess'").fetchall()
    [(actor, target, reason, details)] = rows
    assert actor.startswith("cli:") and target == document["id"] and reason == "map fixed"
    assert json.loads(details) == {"queued": True}
