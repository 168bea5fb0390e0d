"""`gateway up` keeps going when one of its processes is killed: a `kill -9` of a worker
or of the embedded Redis is mended (restarted with backoff, said in the log and on
/healthz) while SFTP and HTTP keep answering, and documents still reach the ERP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import paramiko
import pytest
from faultkit import descendants, wait_for
from support import SAMPLES, free_port

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("sftp") is None, reason="OpenSSH sftp client not installed")]

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"


def healthz(port: int) -> dict:
    """/healthz as JSON, whatever its status (503 while something is restarting)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as exc:
        return json.load(exc)


def sftp_answers(port: int) -> bool:
    """A real SSH handshake with the SFTP listener (then a clean goodbye)."""
    with paramiko.Transport(socket.create_connection(("127.0.0.1", port), timeout=10)) as t:
        t.start_client(timeout=10)
        return t.is_active() and t.remote_version.startswith("SSH-2.0-")


def test_killed_worker_and_redis_are_restarted_and_the_rest_keeps_answering(tmp_path, erp_receiver):
    sftp_port, http_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_") and k not in ("REDIS_URL",
                                                                                             "DATABASE_URL")}
    env.update(GATEWAY_HOME=str(tmp_path / "var"), GATEWAY_SFTP_PORT=str(sftp_port),
               GATEWAY_HTTP_PORT=str(http_port), GATEWAY_ERP_URL=erp_receiver.url)
    log_path = tmp_path / "gateway.log"
    with log_path.open("w") as log:
        up = subprocess.Popen([sys.executable, "-m", "gateway", "up"], env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "Press Ctrl-C" in log_path.read_text() or up.poll() is not None, 180, 0.2, "gateway up")
        assert up.poll() is None, log_path.read_text()
        before = healthz(http_port)
        assert before["status"] == "ok", before
        worker_pid, redis_pid = before["processes"]["worker-critical"]["pid"], before["processes"]["redis"]["pid"]
        assert worker_pid in descendants(up.pid) and redis_pid in descendants(up.pid)

        os.kill(worker_pid, signal.SIGKILL)
        seen_down = []

        def worker_back():
            assert sftp_answers(sftp_port)  # SFTP answers all along ...
            health = healthz(http_port)  # ... and so does HTTP
            seen_down.append(health["checks"]["worker-critical"] != "ok")
            p = health["processes"]["worker-critical"]
            return p["pid"] != worker_pid and p["state"] == "running" and health

        health = wait_for(worker_back, 120, 0.3, "the worker restarted")
        assert health["processes"]["worker-critical"]["restarts"] == 1
        assert health["processes"]["worker-critical"]["last_exit"] == -signal.SIGKILL
        assert any(seen_down) or "restarting it in" in log_path.read_text()
        log_text = log_path.read_text()
        assert f"worker-critical (pid {worker_pid}) exited with -9; restarting it in 1s (restart 1)" in log_text
        assert "worker-critical restarted as pid" in log_text
        assert up.poll() is None

        os.kill(redis_pid, signal.SIGKILL)

        def redis_back():
            health = healthz(http_port)
            p = health["processes"]["redis"]
            return p["pid"] != redis_pid and health["checks"]["redis"] == "ok" and health

        health = wait_for(redis_back, 120, 0.2, "the embedded Redis restarted")
        assert health["processes"]["redis"]["restarts"] == 1
        assert f"redis (pid {redis_pid}) exited with -9" in log_path.read_text()
        assert up.poll() is None

        # And the mended gateway still does its job: SFTP in, the restarted worker posts to the ERP.
        key = tmp_path / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        authorized = subprocess.run([sys.executable, "-m", "gateway", "partners", "authorize", "demo",
                                     str(key.with_suffix(".pub"))], env=env, capture_output=True, text=True,
                                    timeout=60)
        assert authorized.returncode == 0, authorized.stderr
        sent = subprocess.run(["sftp", "-b", "-", "-i", str(key), "-P", str(sftp_port), "-o",
                               "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={tmp_path / 'known_hosts'}",
                               "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "demo@127.0.0.1"],
                              input=f"put {SAMPLE_855} inbound/po.edi\n", capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0, sent.stderr
        wait_for(lambda: len(erp_receiver.posts) >= 1, 120, 0.2, "the ERP post")
        assert healthz(http_port)["status"] == "ok"
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
            try:
                up.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(up.pid, signal.SIGKILL)
                up.wait(10)
        try:  # whatever of its session is left (a worker or redis-server it did not stop)
            os.killpg(up.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_restarts_back_off_while_a_process_keeps_dying_and_start_over_once_it_stays_up():
    from gateway.supervisor import Supervisor

    now = [0.0]
    sup = Supervisor(backoff=1.0, max_backoff=8.0, stable_after=60.0, clock=lambda: now[0])
    starts = []

    def start():  # a real process that dies at once, with status 3
        starts.append(now[0])
        if len(starts) == 4:
            raise OSError("no more processes")
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])

    sup.watch("crashy", start)
    delays = []
    for _ in range(6):
        sup.process("crashy").wait(10)
        sup.check()  # notices the death
        status = sup.status()["crashy"]
        assert status["state"].startswith("restarting") and status["last_exit"] == 3
        due = sup.children["crashy"].restart_at
        delays.append(due - now[0])
        now[0], started = due - 0.01, len(starts)
        sup.check()
        assert len(starts) == started  # not before its time
        now[0] = due
        sup.check()  # the restart (or, the fourth time, a failed start: tried again later)
        if sup.children["crashy"].restart_at is not None:
            assert sup.status()["crashy"]["last_error"] == "OSError: no more processes"
            now[0] = sup.children["crashy"].restart_at
            sup.check()
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]  # doubling, capped
    assert sup.status()["crashy"]["restarts"] == 6

    sup.children["crashy"].start = lambda: subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    sup.process("crashy").wait(10)
    sup.check()
    now[0] = sup.children["crashy"].restart_at
    sup.check()
    now[0] += 61  # it stayed up: the next death is mended after the first delay again
    sup.check()
    sup.process("crashy").kill()
    sup.process("crashy").wait(10)
    sup.check()
    assert sup.children["crashy"].restart_at - now[0] == 1.0
    sup.stop()
    now[0] += 1
    sup.check()  # stopping: nothing is restarted any more
    assert sup.children["crashy"].restart_at is not None and sup.process("crashy").poll() is not None
