"""The walking skeleton as a user runs it: `gateway up`, `gateway partners authorize`,
OpenSSH's own `sftp` client, an ERP receiver over HTTP, and the 997 fetched back over
SFTP. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from support import REPO, SAMPLES, GatewayUp, gateway_up_shape

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"
GETTING_STARTED = REPO / "docs" / "getting-started.md"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("sftp") is None, reason="OpenSSH sftp client not installed (apt-get install openssh-client)"),
]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


class User:
    """Runs `gateway` and `sftp` the way a person at a terminal would."""

    def __init__(self, env: dict, home: Path, sftp_port: int):
        self.env, self.home, self.sftp_port = env, home, sftp_port
        self.key = home / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)], check=True)

    def gateway(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gateway", *args], env=self.env, capture_output=True, text=True,
                              timeout=60)

    def sftp(self, commands: str, user: str = "demo", key: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["sftp", "-b", "-", "-i", str(key or self.key), "-P", str(self.sftp_port),
             "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={self.home / 'known_hosts'}",
             "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", f"{user}@127.0.0.1"],
            input=commands, capture_output=True, text=True, timeout=60,
        )

    def documents(self) -> list[dict]:
        result = self.gateway("documents", "list", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def running_gateway(tmp_path, database_url, erp_receiver):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(GATEWAY_HOME=str(tmp_path / "var"), GATEWAY_ERP_URL=erp_receiver.url, DATABASE_URL=database_url)
    with GatewayUp(env, tmp_path / "gateway.log") as up:
        user = User(env, tmp_path, up.sftp_port)
        user.printed = up.output()
        yield user, up.http_port


def test_855_over_sftp_reaches_the_erp_and_the_997_comes_back(running_gateway, erp_receiver, tmp_path):
    user, http_port = running_gateway
    assert requests.get(f"http://127.0.0.1:{http_port}/healthz", timeout=5).json()["status"] == "ok"
    # what getting-started shows `gateway up` printing is what it prints
    documented = GETTING_STARTED.read_text().split("## 1. Start the gateway", 1)[1].split("```")[3]
    expected = [("ERP" if label == "demo ERP" else label)  # GATEWAY_ERP_URL is set here: the line names it
                for label in gateway_up_shape(documented)]
    assert gateway_up_shape(user.printed) == expected
    authorized = user.gateway("partners", "authorize", "demo", str(user.key) + ".pub")
    assert authorized.returncode == 0, authorized.stderr

    put = user.sftp(f"put {SAMPLE_855} inbound/\n")
    closed_at = time.time()
    assert put.returncode == 0, put.stderr

    wait_for(lambda: erp_receiver.posts, timeout=30)
    post_latency = erp_receiver.posts[0]["at"] - closed_at
    print(f"\nSFTP close -> ERP POST: {post_latency * 1000:.0f} ms")

    [doc] = wait_for(lambda: [d for d in user.documents() if d["status"] != "received"])
    assert doc["status"] == "accepted" and doc["partner_id"] == "demo" and doc["format"] == "x12"
    detail = json.loads(user.gateway("documents", "show", doc["id"], "--json").stdout)
    [event] = detail["events"]
    assert event["type"] == "purchase_order.acknowledged"

    [post] = erp_receiver.posts
    assert post["headers"]["Idempotency-Key"] == event["event_id"]
    payload = post["body"]["payload"]
    assert payload["po_number"] == "4500012345"
    assert [(ln["line_number"], ln["quantity"], ln["status"]) for ln in payload["lines"]] == [
        ("1", "100", "accepted"), ("2", "50", "accepted_with_changes"), ("3", "25", "accepted")]
    wait_for(lambda: json.loads(user.gateway("documents", "show", doc["id"], "--json").stdout)
             ["events"][0]["deliveries"][0]["status"] == "delivered")

    # the 997 comes back through the partner's own folder
    wait_for(lambda: "997_" in user.sftp("ls outbound\n").stdout)
    fetched = tmp_path / "fetched"
    fetched.mkdir()
    got = user.sftp(f"lcd {fetched}\nget outbound/*\n")
    assert got.returncode == 0, got.stderr
    [ack_file] = list(fetched.iterdir())
    ack = ack_file.read_text()
    assert "ST*997*" in ack
    assert "AK1*PR*101" in ack  # names the inbound group's control number
    assert "AK9*A*1*1*1" in ack

    # the same file again: duplicate, nothing new posted
    again = user.sftp(f"put {SAMPLE_855} inbound/855-again.edi\n")
    assert again.returncode == 0, again.stderr
    wait_for(lambda: any(d["status"] == "duplicate" for d in user.documents()))
    time.sleep(1.0)
    assert len(erp_receiver.posts) == 1

    # not X12 at all: stored, rejected with a reason, nothing posted
    junk = tmp_path / "not-edi.txt"
    junk.write_text("Dear supplier team, please find our price list attached.\n")
    assert user.sftp(f"put {junk} inbound/\n").returncode == 0
    rejected = wait_for(lambda: [d for d in user.documents() if d["status"] == "rejected"])
    assert "not an X12 interchange" in rejected[0]["reason"]
    assert len(erp_receiver.posts) == 1


def test_sftp_refuses_unknown_keys_and_paths_outside_the_jail(running_gateway, tmp_path):
    user, _ = running_gateway
    assert user.gateway("partners", "authorize", "demo", str(user.key) + ".pub").returncode == 0

    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    refused = user.sftp("ls\n", key=stranger)
    assert refused.returncode != 0 and "Permission denied" in refused.stderr

    other_user = user.sftp("ls\n", user="someone-else")
    assert other_user.returncode != 0

    for target in ("../../escaped.edi", "/etc/escaped.edi", "inbound/../../escaped.edi", "outbound/x.edi"):
        result = user.sftp(f"put {SAMPLE_855} {target}\n")
        assert result.returncode != 0, target
        assert "Permission denied" in result.stderr, (target, result.stderr)
    home = Path(user.env["GATEWAY_HOME"])
    assert not list(home.rglob("escaped.edi")) and not Path("/etc/escaped.edi").exists()
    assert user.documents() == []

    # the partner sees only its own two folders
    listing = user.sftp("ls /\n").stdout
    assert "inbound" in listing and "outbound" in listing
