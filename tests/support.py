"""Test support shared by the test folders: paths, free ports, a recording HTTP receiver,
memory and CPU of one call measured in a child process."""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import re
import resource
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import event

from gateway.roles import run_worker
from gateway.routing.outbox import sweep
from gateway.routing.queues import QUEUE_ORDER
from gateway.store.models import DeliveryRecord, Document

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
SAMPLES = REPO / "sample_docs"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A real HTTP server standing in for the ERP: records every POST; answers per script."""

    def __init__(self):
        self.posts: list[dict] = []
        self.lock = threading.Lock()
        self.script: list[int] = []  # status codes to answer with first, then 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.posts.append({"headers": dict(self.headers), "body": json.loads(body or b"null"),
                                           "status": status, "at": time.time()})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "scripted"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/erp/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def keys(self) -> list[str]:
        with self.lock:
            return [p["headers"].get("Idempotency-Key") for p in self.posts]

    def stop(self):
        self.server.shutdown()


#: What a test's drain runs: every queue but ``periodic``. A periodic job is queued by a
#: scheduler's tick; one left in a shared test Redis by another test's scheduler would
#: run here against this test's runtime (sending its alerts, say) and make it flaky.
DRAINED = tuple(q for q in QUEUE_ORDER if q != "periodic")


def drain(rt, rounds: int = 20) -> None:
    """Run the worker until the queues are empty and nothing is waiting for a retry."""
    for _ in range(rounds):
        run_worker(rt, burst=True, queue_names=DRAINED)
        time.sleep(0.1)
        with rt.session() as s:
            pending = s.query(DeliveryRecord).filter(DeliveryRecord.status == "pending").count()
            received = s.query(Document).filter(Document.status == "received").count()
        if not pending and not received:
            return
        rt.settings = rt.settings.with_overrides(lease_seconds=0.01)
        sweep(rt)


def with_partner_settings(rt, monkeypatch, tmp_path, partner_id: str = "demo", **changes):
    """A runtime whose copy of ``partner_id``'s profile has ``changes`` merged in (nested
    dicts merge), used by this process and by the jobs it runs (they read the environment)."""
    import shutil

    import yaml

    import gateway.bootstrap as bootstrap_module
    from gateway.bootstrap import bootstrap

    partners = tmp_path / "partners"
    if not partners.exists():
        shutil.copytree(REPO / "partners", partners)
    path = partners / partner_id / "partner.yaml"
    profile = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        profile[key] = {**profile.get(key, {}), **value} if isinstance(value, dict) else value
    path.write_text(yaml.safe_dump(profile))
    monkeypatch.setenv("GATEWAY_PARTNERS_DIR", str(partners))
    monkeypatch.setattr(bootstrap_module, "_runtime", None)
    return bootstrap(rt.settings.with_overrides(partners_dir=partners))


def add_partner_like_demo(partners: Path, partner_id: str, isa_id: str) -> None:
    """A second supplier in the ``partners`` folder: the demo profile under another id and ISA06."""
    (partners / partner_id).mkdir()
    (partners / partner_id / "partner.yaml").write_text(
        (partners / "demo" / "partner.yaml").read_text().replace("id: demo", f"id: {partner_id}")
        .replace("ACMESUPPLY", isa_id))


def sent_by(data: bytes, isa_id: str) -> bytes:
    """The demo partner's interchange ``data`` as sent by ``isa_id`` (ISA06 and GS02)."""
    return data.replace(b"ACMESUPPLY     ", isa_id.encode().ljust(15)).replace(b"*ACMESUPPLY*", f"*{isa_id}*".encode())


@dataclass
class Measured:
    value: Any  # what the call returned (JSON round-tripped)
    peak_growth_mb: float  # highest resident memory during the call, above the level before it
    cpu_seconds: float  # user + system CPU of the call: unlike wall time, not stretched by a busy machine
    log: str  # every log record the call emitted, formatted (DEBUG and up)


def _peak_rss_kb() -> int:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))


def measure_in_child(work: Callable[[], Any]) -> Measured:
    """Run ``work`` in a forked child and measure that call alone.

    A peak read in this process (``ru_maxrss``) covers its whole life: after an earlier,
    higher peak (a schema build, another test) it cannot show any growth at all. The
    child starts with a fresh peak (the kernel resets it at fork, and we reset it again
    through ``/proc/self/clear_refs``), so its peak minus its level before the call is
    what the call itself took. The child inherits everything built so far (runtime,
    parsed schemas), as RQ's work-horses do. ``work`` returns something JSON-able.

    What it inherits is frozen out of the garbage collector's reach (``gc.freeze``): a full
    collection in the child would otherwise walk, and copy on write, the whole heap of a
    test process that has run hundreds of tests, and charge that to the call (a hostile
    XML document that costs 0.06 s of CPU measured 1.5 s once, late in a CI run)."""
    read_fd, write_fd = os.pipe()
    gc.freeze()
    pid = os.fork()
    if pid != 0:
        gc.unfreeze()
    if pid == 0:  # the child: never returns into pytest
        status = 0
        try:
            os.close(read_fd)
            buffer = io.StringIO()
            handler = logging.StreamHandler(buffer)
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
            root = logging.getLogger()
            root.addHandler(handler)
            root.setLevel(logging.DEBUG)
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                pass  # older kernels: the peak reset at fork is all we have
            before_kb = _peak_rss_kb()
            cpu = resource.getrusage(resource.RUSAGE_SELF)
            value = work()
            after = resource.getrusage(resource.RUSAGE_SELF)
            result = {"value": value, "peak_growth_mb": (_peak_rss_kb() - before_kb) / 1024,
                      "cpu_seconds": after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime,
                      "log": buffer.getvalue()}
            payload = json.dumps(result, default=str).encode()
        except BaseException:
            payload, status = json.dumps({"error": traceback.format_exc()}).encode(), 1
        try:
            with os.fdopen(write_fd, "wb") as out:
                out.write(payload)
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    result = json.loads(payload or b'{"error": "the child died without a word"}')
    if "error" in result:
        raise AssertionError(f"the measured call failed in the child:\n{result['error']}")
    return Measured(**result)


class GatewayUp:
    """`gateway up` in a subprocess, as a user starts it, on ports the system picks (port 0:
    no window in which a parallel test could take them); the SFTP and HTTP ports are read
    from what it prints. Stopped (SIGTERM, then SIGKILL) on leaving the ``with`` block."""

    def __init__(self, env: dict[str, str], log_path: Path, timeout: float = 120.0):
        import subprocess
        import sys

        env = {**env, "GATEWAY_SFTP_PORT": "0", "GATEWAY_HTTP_PORT": "0"}
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen([sys.executable, "-m", "gateway", "up"], env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while "Press Ctrl-C" not in self.output() and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.proc.poll() is not None or "Press Ctrl-C" not in self.output():
            self.__exit__()
            raise AssertionError(f"`gateway up` did not come up:\n{self.output()}")
        self.sftp_port = int(re.search(r"sftp -P (\d+)", self.output()).group(1))
        self.http_port = int(re.search(r"HTTP\s+http://[^:]+:(\d+)/healthz", self.output()).group(1))

    def output(self) -> str:
        return self.log_path.read_text()

    def __enter__(self) -> GatewayUp:
        return self

    def __exit__(self, *exc) -> None:
        import subprocess

        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


def gateway_up_shape(text: str) -> list[str]:
    """What `gateway up` printed, without the values that differ per machine and run: the
    label of each endpoint line ("  SFTP   sftp -P ..." -> "SFTP") and the other lines up to
    their first colon; log lines (a time stamp, then the level; or one JSON object, the
    log format when stderr is not a terminal) are left out."""
    shape = []
    for line in text.splitlines():
        if not line.strip() or re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line) or line.startswith('{"level": '):
            continue
        shape.append(re.split(r"\s{2,}", line.strip())[0] if line.startswith("  ") else line.split(":")[0])
    return shape


def folded(statement: str) -> str:
    return " ".join(statement.split())


def opening(statement: str) -> str:
    """The statement's first three words (``SELECT acks.id, acks.kind,``)."""
    return " ".join(statement.split()[:3])


def statement_shape(statement: str) -> str:
    """``VERB table``: the statement's verb and the first table it reads or writes."""
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", statement, re.I)
    return f"{statement.split()[0].upper()} {table.group(1) if table else ''}".strip()


@contextmanager
def statements_sent(engine, fold: Callable[[str], str] = folded) -> Iterator[list[str]]:
    """The SQL statements ``engine`` sends inside the block, each as ``fold`` gives it
    (whitespace folded, :func:`statement_shape`, :func:`opening`): what a change to a hot
    path costs in round trips shows in tests as a list to compare."""
    sent: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        sent.append(fold(statement))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)
