"""Supervision for ``gateway up``: the child processes it starts (the workers, the
embedded Redis) are restarted when they die, with backoff, and said so in the log and
on ``/healthz``.

One process dying must never take the rest down: a ``kill -9`` of a worker used to stop
SFTP, HTTP and AS2 with it, and a killed embedded Redis stayed dead. Nothing is lost by a
restart: a killed worker's leases expire and the sweeper re-queues its work; the
embedded Redis comes back from its append-only file under the data directory.

The backoff doubles with each death that came soon after a start (``backoff`` seconds
first, at most ``max_backoff``), and starts over once a process stayed up for
``stable_after`` seconds, so a crash loop is slowed down but a rare death is mended fast.
:meth:`Supervisor.check` does one round; the caller runs it every second or so.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("gateway.supervisor")


@dataclass
class Child:
    """One supervised process, how to start it again, and its restart history."""

    name: str
    start: Callable[[], subprocess.Popen]
    process: subprocess.Popen
    started_at: float
    restarts: int = 0
    quick_deaths: int = 0  # deaths soon after a start, in a row: they drive the backoff
    last_exit: int | None = None
    restart_at: float | None = None  # set while dead: when the next start is due
    last_error: str | None = None

    @property
    def running(self) -> bool:
        return self.restart_at is None and self.process.poll() is None

    def status(self, now: float) -> dict:
        state = "running" if self.running else f"restarting in {max(0.0, (self.restart_at or now) - now):.0f}s"
        return {"state": state, "pid": self.process.pid, "restarts": self.restarts, "last_exit": self.last_exit,
                "last_error": self.last_error}


class Supervisor:
    """Keeps a set of child processes running (see the module docstring)."""

    def __init__(self, *, backoff: float = 1.0, max_backoff: float = 60.0, stable_after: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.backoff, self.max_backoff, self.stable_after, self.clock = backoff, max_backoff, stable_after, clock
        self.children: dict[str, Child] = {}
        self._stopping = threading.Event()

    def watch(self, name: str, start: Callable[[], subprocess.Popen],
              process: subprocess.Popen | None = None) -> subprocess.Popen:
        """Supervise ``name``: ``process`` if it is already running, else ``start()``."""
        process = process or start()
        self.children[name] = Child(name, start, process, self.clock())
        return process

    def process(self, name: str) -> subprocess.Popen:
        return self.children[name].process

    def check(self) -> None:
        """One round: notice deaths, and start again what is due. Run from one thread only;
        /healthz reads the state from others (plain attributes: at worst a round old)."""
        for child in list(self.children.values()):
            if self._stopping.is_set():
                return
            self._check(child, self.clock())

    def _check(self, child: Child, now: float) -> None:
        if child.restart_at is None:
            code = child.process.poll()
            if code is None:
                if now - child.started_at >= self.stable_after:
                    child.quick_deaths = 0
                return
            child.last_exit = code
            child.quick_deaths = child.quick_deaths + 1 if now - child.started_at < self.stable_after else 1
            delay = min(self.max_backoff, self.backoff * 2 ** (child.quick_deaths - 1))
            child.restart_at = now + delay
            log.warning("%s (pid %d) exited with %s; restarting it in %.0fs (restart %d)", child.name,
                        child.process.pid, code, delay, child.restarts + 1)
            return
        if now < child.restart_at:
            return
        try:
            child.process = child.start()
        except Exception as exc:  # say why and try again later, further apart
            child.quick_deaths += 1
            child.last_error = f"{type(exc).__name__}: {exc}"
            child.restart_at = now + min(self.max_backoff, self.backoff * 2 ** (child.quick_deaths - 1))
            log.error("%s could not be restarted: %s; trying again in %.0fs", child.name, child.last_error,
                      child.restart_at - now)
            return
        child.restarts += 1
        child.started_at, child.restart_at, child.last_error = self.clock(), None, None
        log.warning("%s restarted as pid %d (restart %d)", child.name, child.process.pid, child.restarts)

    def status(self) -> dict[str, dict]:
        """Per child: ``state`` (running, or restarting in N s), ``pid``, ``restarts``, ``last_exit``."""
        now = self.clock()
        return {name: child.status(now) for name, child in list(self.children.items())}

    def stop(self) -> None:
        """No more restarts: the caller is shutting the children down."""
        self._stopping.set()
