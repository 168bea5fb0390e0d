"""Test support shared by the test folders: paths, free ports, a recording HTTP receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from gateway.roles import run_worker
from gateway.routing.outbox import sweep
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


def drain(rt, rounds: int = 20) -> None:
    """Run the worker until the queues are empty and nothing is waiting for a retry."""
    for _ in range(rounds):
        run_worker(rt, burst=True)
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
