"""Tools for the delivery and fault tests: scripted HTTP receivers that count by
Idempotency-Key, distinct 855 interchanges, a private redis-server, gateway processes.

Imported by tests/faults and tests/integration/delivery (their conftest puts this
folder on sys.path)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from support import SAMPLES, free_port

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"
SAMPLE_850 = SAMPLES / "850" / "850_004010_buyerco_po_4500012345.edi"


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


def make_855(n: int, po_number: str = "4500012345") -> bytes:
    """The sample 855 as interchange number ``n``: its own ISA13/IEA02, so its own event id."""
    data = SAMPLE_855.read_bytes()
    icn = f"{n:09d}".encode()
    data = data.replace(b"*000000101*", b"*" + icn + b"*", 1).replace(b"IEA*1*000000101", b"IEA*1*" + icn, 1)
    return data.replace(b"BAK*00*AC*4500012345*", f"BAK*00*AC*{po_number}*".encode(), 1)


def make_big_interchange(n: int, sets: int) -> bytes:
    """One interchange (ISA13 ``n``) of ``sets`` transaction sets: half sample 856s (GS SH),
    half sample 810s (GS IN), each with its own ST02 and shipment or invoice number."""
    def parts(path: Path) -> tuple[list[str], list[str]]:
        segs = [x.strip() for x in path.read_text().split("~") if x.strip()]
        return segs[:2], segs[2:-2]  # ISA, GS | ST..SE

    (isa, gs_sh), asn = parts(next((SAMPLES / "856").glob("*sh-77001.edi")))
    (_, gs_in), inv = parts(next((SAMPLES / "810").glob("*.edi")))
    out, k = [isa.replace("*000000102*", f"*{n:09d}*")], 0
    for gs, body, count, ref in ((gs_sh, asn, sets - sets // 2, "SH-77001"), (gs_in, inv, sets // 2, "INV-88001")):
        out.append(gs)
        for _ in range(count):
            k += 1
            for seg in body:
                seg = seg.replace(ref, f"{ref[:3]}{k}")
                if seg.startswith(("ST*", "SE*")):
                    seg = "*".join(seg.split("*")[:2] + [f"{k:06d}"])
                out.append(seg)
        out.append(f"GE*{count}*{gs.split('*')[6]}")
    out.append(f"IEA*2*{n:09d}")
    return ("~\n".join(out) + "~\n").encode()


class Receiver:
    """A target system over real HTTP that counts POSTs per Idempotency-Key.

    ``script`` is consumed one entry per POST: an int (answer that status), ``"drop"``
    (take the request, count it as committed, close the connection without answering),
    ``("hold", seconds)`` (commit, wait, then answer 200). ``fail_until``: answer 500
    until that ``time.time()``. ``delay``: seconds to wait before every answer.
    """

    def __init__(self, path: str = "/events"):
        self.posts: list[dict] = []
        self.script: list = []
        self.fail_until = 0.0
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Like any production HTTP server: without it, a kept-alive connection waits
            # ~40 ms per answer (Nagle on our headers/body writes x the client's delayed ACK).
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802 - http.server naming
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    action = receiver.script.pop(0) if receiver.script else 200
                    if time.time() < receiver.fail_until:
                        action = 500
                    committed = action == "drop" or isinstance(action, tuple) or (
                        isinstance(action, int) and action < 300)
                    receiver.posts.append({"key": self.headers.get("Idempotency-Key"), "raw": raw,
                                           "body": json.loads(raw or b"null"), "headers": dict(self.headers),
                                           "action": action, "committed": committed, "at": time.time(),
                                           "peer": self.client_address})
                if receiver.delay:
                    time.sleep(receiver.delay)
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(action, tuple):
                    time.sleep(action[1])
                    action = 200
                payload = b'{"ok": true}' if action < 300 else b'{"error": "scripted"}'
                self.send_response(action)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def keys(self) -> list[str]:
        with self.lock:
            return [p["key"] for p in self.posts]

    def committed(self) -> Counter:
        """Per key, how many POSTs the target took (2xx, or committed then dropped)."""
        with self.lock:
            return Counter(p["key"] for p in self.posts if p["committed"])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RedisServer:
    """A private redis-server on a free port, without persistence, so a restart is empty."""

    def __init__(self, tmp: Path, *extra: str):
        self.port = free_port()
        self.dir = tmp / f"redis-{self.port}"
        self.dir.mkdir(parents=True)
        self.extra = extra
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), *self.extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=self.port)
        wait_for(lambda: _pings(client), 10, what="redis-server")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (from /proc)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            out += [child, *descendants(child)]
    return out


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


class Processes:
    """`gateway ...` subprocesses in their own process groups (so kill -9 takes the
    work-horse too), logging to files under ``tmp``."""

    def __init__(self, env: dict, tmp: Path):
        self.env, self.tmp = env, tmp
        self.procs: list[subprocess.Popen] = []

    def gateway(self, *args: str, name: str = "gw") -> subprocess.Popen:
        log = open(self.tmp / f"{name}-{len(self.procs)}.log", "w")  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen([sys.executable, "-m", "gateway", *args], env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        proc.log_path = log.name
        self.procs.append(proc)
        return proc

    def worker(self, *extra: str) -> subprocess.Popen:
        return self.gateway("worker", "--sweep-interval", "0.5", *extra, name="worker")

    def python(self, code: str, name: str = "py") -> subprocess.Popen:
        log = open(self.tmp / f"{name}-{len(self.procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-c", code], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        proc.log_path = log.name
        self.procs.append(proc)
        return proc

    @staticmethod
    def kill9(proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its work-horse (RQ forks the horse into its own session,
        so the process group alone would miss it)."""
        for pid in descendants(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def ledger(rt) -> dict:
    """What the database says: events by type, deliveries by status and adapter, documents by status."""
    from sqlalchemy import func, select

    from gateway.store.models import DeliveryRecord, Document, EventRecord

    with rt.session() as s:
        return {
            "documents": dict(s.execute(select(Document.status, func.count()).group_by(Document.status)).all()),
            "events": {e: t for e, t in s.execute(select(EventRecord.event_id, EventRecord.type)).all()},
            "deliveries": {(d.event_id, d.adapter): d.status for d in s.scalars(select(DeliveryRecord))},
        }


def gateway_env(tmp: Path, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment a gateway process (or an in-process runtime) runs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_") and k not in ("REDIS_URL",
                                                                                             "DATABASE_URL")}
    env.update(GATEWAY_HOME=str(tmp / "home"), DATABASE_URL=database_url, REDIS_URL=redis_url,
               GATEWAY_DELIVERY_BACKOFF="0.05", GATEWAY_DELIVERY_MAX_ATTEMPTS="5", GATEWAY_LEASE_SECONDS="30")
    env.update(extra)
    return env


def in_process_runtime(monkeypatch, env: dict[str, str]):
    """A migrated runtime for this process; RQ jobs run here build theirs from ``env`` too."""
    import gateway.bootstrap as bootstrap_module
    from gateway.bootstrap import bootstrap
    from gateway.config import load_settings
    from gateway.store.migrate import upgrade

    for key in [k for k in os.environ if k.startswith("GATEWAY_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("GATEWAY_") or key in ("DATABASE_URL", "REDIS_URL"):
            monkeypatch.setenv(key, value)
    monkeypatch.setattr(bootstrap_module, "_runtime", None)
    settings = load_settings()
    upgrade(settings.database_url)
    return bootstrap(settings)


def drain(rt, rounds: int = 30) -> None:
    """Run a burst worker until nothing is received or pending; between rounds, the
    sweeper re-queues what waits for a retry (as a long-running worker's would)."""
    from support import DRAINED

    from gateway.roles import run_worker
    from gateway.routing.outbox import sweep
    from gateway.store.models import DeliveryRecord, Document

    for _ in range(rounds):
        run_worker(rt, burst=True, queue_names=DRAINED)  # not ``periodic``: see support.DRAINED
        with rt.session() as s:
            pending = s.query(DeliveryRecord).filter(DeliveryRecord.status == "pending").count()
            received = s.query(Document).filter(Document.status == "received").count()
        if not pending and not received:
            return
        time.sleep(0.1)
        saved = rt.settings
        rt.settings = saved.with_overrides(lease_seconds=0.01)
        try:
            sweep(rt)
        finally:
            rt.settings = saved
    raise AssertionError("the queues did not drain")


class TcpProxy:
    """A TCP forwarder we can cut: stands between the gateway and PostgreSQL so a test
    can make the database unavailable (``down``) and bring it back (``up``)."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    def up(self) -> TcpProxy:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self

    def down(self) -> None:
        """Refuse new connections and cut every open one."""
        if self.listener:
            try:  # wakes the accept() blocked in the other thread (a bare close would not, on Linux)
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns.clear()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def all_delivered(rt, adapters=("erp_http",)) -> bool:
    book = ledger(rt)
    if book["documents"].get("received"):
        return False
    return bool(book["deliveries"]) and set(book["deliveries"].values()) == {"delivered"}


def assert_exactly_once(rt, receiver, event_type_filter=None, *, reposted=()) -> None:
    """Every delivery is delivered, and the target took each event's key exactly once,
    counted per key (a set of keys would let two POSTs of one key pass), and no other key.

    ``reposted`` names keys the test expects to be posted again after a commit whose
    answer the gateway never read (the target dropped the connection, or the worker was
    killed while the target held the request): those may be committed more than once, but
    only by such unread commits followed by one answered success."""
    check_exactly_once(ledger(rt), receiver.posts, event_type_filter, reposted=reposted)


def check_exactly_once(book: dict, posts: list[dict], event_type_filter=None, *, reposted=()) -> None:
    """The counting behind :func:`assert_exactly_once`, on a ledger and a receiver's posts."""
    expected = {e for e, t in book["events"].items() if event_type_filter in (None, t)}
    assert set(book["deliveries"].values()) == {"delivered"}, book["deliveries"]
    assert {p["key"] for p in posts} == expected, "the target saw keys that are not these events' (or missed some)"
    unknown = set(reposted) - expected
    assert not unknown, f"reposted names keys that are not events: {unknown}"
    for key in sorted(expected):
        commits = [p["action"] for p in posts if p["key"] == key and p["committed"]]
        if key in reposted:
            unread = [a for a in commits[:-1] if a == "drop" or isinstance(a, tuple)]
            assert len(commits) >= 2 and unread == commits[:-1], (
                f"{key}: re-posted only after commits the gateway never read the answer of, got {commits}")
        else:
            assert len(commits) == 1, f"{key} was committed {len(commits)} times: {commits}"
