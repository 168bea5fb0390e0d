"""A real `gateway up` for benchmarks: embedded Redis, SQLite unless a database URL is
given, an HTTP receiver as the ERP, and a fresh SSH key authorized for the demo partner.

    with GatewayUp(database_url) as gw:
        closed = gw.put(path)      # `sftp put` to demo's inbound/; returns when it exited
        gw.receiver.posts          # what the ERP was sent
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from support import Receiver, free_port  # noqa: E402


class GatewayUp:
    def __init__(self, database_url: str | None = None):
        self.work = Path(tempfile.mkdtemp(prefix="gw-bench-"))
        self.receiver = Receiver()
        self.sftp_port, http_port = free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        self.env.update(GATEWAY_HOME=str(self.work / "var"), GATEWAY_SFTP_PORT=str(self.sftp_port),
                        GATEWAY_HTTP_PORT=str(http_port), GATEWAY_ERP_URL=self.receiver.url)
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.key = self.work / "id_ed25519"

    def __enter__(self) -> GatewayUp:
        self.log = open(self.work / "gateway.log", "w")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen([sys.executable, "-m", "gateway", "up"], env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        while "Press Ctrl-C" not in (self.work / "gateway.log").read_text():
            if self.proc.poll() is not None:
                raise SystemExit((self.work / "gateway.log").read_text())
            time.sleep(0.1)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)], check=True)
        subprocess.run([sys.executable, "-m", "gateway", "partners", "authorize", "demo", f"{self.key}.pub"],
                       env=self.env, check=True, capture_output=True)
        return self

    def put(self, path: Path) -> float:
        """Upload ``path`` to demo's inbound folder; the time `sftp` exited (the close was answered)."""
        subprocess.run(["sftp", "-b", "-", "-i", str(self.key), "-P", str(self.sftp_port), "-o", "BatchMode=yes",
                        "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={self.work / 'kh'}",
                        "demo@127.0.0.1"], input=f"put {path} inbound/\n", check=True, capture_output=True, text=True)
        return time.time()

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.receiver.stop()
        self.log.close()
