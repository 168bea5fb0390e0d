"""SFTP limits: timeouts, failed-login throttling, sessions per address, file size and
the daily quota. Settings are read here, beside the code that uses them
(``GATEWAY_SFTP_*`` from the environment, overridable through ``Settings.extra``).

Throttling counts failures in memory, per SFTP process: per client address (any
method) and per user name (password guesses only: a refused public key cannot be
brute-forced, and counting those per user would let anyone lock a partner out).
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from gateway.bootstrap import Runtime
from gateway.store.models_transport import SftpUsage


@dataclass(frozen=True)
class SftpLimits:
    banner_timeout: float = 15.0  # client banner after TCP connect
    handshake_timeout: float = 15.0
    auth_timeout: float = 30.0  # login finished after the handshake
    idle_timeout: float = 600.0  # no SFTP request for this long: disconnect
    max_auth_tries: int = 6  # failed attempts on one connection before it is closed
    address_failures: int = 20  # failures from one address within `window` -> locked out
    user_failures: int = 10  # password failures for one user within `window` -> locked out
    window: float = 600.0
    lockout: float = 900.0
    sessions_per_address: int = 10


def sftp_limits(rt: Runtime) -> SftpLimits:
    env = {**os.environ, **rt.settings.extra}
    values = {}
    for name, default in SftpLimits.__dataclass_fields__.items():
        raw = env.get(f"GATEWAY_SFTP_{name.upper()}")
        if raw is not None:
            values[name] = type(default.default)(float(raw))
    return SftpLimits(**values)


class AuthThrottle:
    """Counts failed logins; ``blocked(address, user)`` once a threshold is reached."""

    def __init__(self, limits: SftpLimits, clock=time.monotonic):
        self.limits, self.clock = limits, clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}

    def _count(self, key: str, threshold: int, now: float) -> None:
        q = self._failures[key]
        q.append(now)
        while q and q[0] < now - self.limits.window:
            q.popleft()
        if len(q) >= threshold:
            self._locked_until[key] = now + self.limits.lockout
            q.clear()

    def failed(self, address: str, user: str, *, password: bool) -> None:
        now = self.clock()
        with self._lock:
            self._count(f"addr:{address}", self.limits.address_failures, now)
            if password:
                self._count(f"user:{user}", self.limits.user_failures, now)

    def blocked(self, address: str, user: str | None = None) -> bool:
        now = self.clock()
        with self._lock:
            keys = [f"addr:{address}"] + ([f"user:{user}"] if user else [])
            return any(self._locked_until.get(k, 0) > now for k in keys)


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def bytes_today(rt: Runtime, partner_id: str) -> int:
    """Bytes charged today: an early hint for a write (the real check is :func:`charge`)."""
    with rt.session() as s:
        row = s.scalar(select(SftpUsage).where(SftpUsage.partner_id == partner_id, SftpUsage.day == today()))
        return row.bytes if row else 0


def _ensure_usage_row(rt: Runtime, partner_id: str, day: str) -> None:
    with rt.session() as s:
        if s.scalar(select(SftpUsage.id).where(SftpUsage.partner_id == partner_id, SftpUsage.day == day)):
            return
    try:
        with rt.session() as s:
            s.add(SftpUsage(partner_id=partner_id, day=day, bytes=0, files=0))
    except IntegrityError:  # another upload made today's row first: fine, it is there
        pass


def charge(rt: Runtime, partner_id: str, size: int, quota: int | None) -> bool:
    """Count ``size`` bytes against today's quota, if they fit: True when charged.

    One conditional UPDATE (``bytes + size <= quota``) does the check and the charge, so
    uploads finishing at the same moment, on parallel handles or connections, can never
    together pass the quota: the database serialises the updates and re-checks each.
    """
    day = today()
    _ensure_usage_row(rt, partner_id, day)
    query = update(SftpUsage).where(SftpUsage.partner_id == partner_id, SftpUsage.day == day)
    if quota is not None:
        query = query.where(SftpUsage.bytes + size <= quota)
    with rt.session() as s:
        charged = s.execute(query.values(bytes=SftpUsage.bytes + size, files=SftpUsage.files + 1)).rowcount == 1
    return charged


def refund(rt: Runtime, partner_id: str, size: int) -> None:
    """Give back a charge for an upload that could not be stored after all."""
    with rt.session() as s:
        s.execute(update(SftpUsage).where(SftpUsage.partner_id == partner_id, SftpUsage.day == today())
                  .values(bytes=SftpUsage.bytes - size, files=SftpUsage.files - 1))
