"""SFTP limits: timeouts, failed-login throttling, connections per address and in all,
sessions per connection, file size and the daily quota. Settings are read here, beside the code that uses them
(``GATEWAY_SFTP_*`` from the environment, overridable through ``Settings.extra``).

Throttling counts failures in memory, per SFTP process. Only an *address* is ever
locked out (any method): a lockout per user name would let anyone who knows a partner
id lock that partner out from wherever it really logs in. Guesses are slowed down
instead: each failed attempt is answered later the more failures its address, and (for
passwords) its user name, had recently; a correct key or password is answered at once.
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
    window: float = 600.0
    lockout: float = 900.0  # of the address only
    slowdown: float = 0.25  # a failure is answered this much later, doubling with recent failures ...
    slowdown_max: float = 4.0  # ... up to this
    sessions_per_address: int = 10  # connections from one client address
    max_connections: int = 100  # connections in all: each costs threads, so there is a ceiling
    channels_per_connection: int = 10  # SFTP sessions multiplexed on one connection (as AWS Transfer)


def sftp_limits(rt: Runtime) -> SftpLimits:
    env = {**os.environ, **rt.settings.extra}
    values = {}
    for name, default in SftpLimits.__dataclass_fields__.items():
        raw = env.get(f"GATEWAY_SFTP_{name.upper()}")
        if raw is not None:
            values[name] = type(default.default)(float(raw))
    return SftpLimits(**values)


class AuthThrottle:
    """Counts failed logins: ``blocked(address)`` once an address reached its threshold;
    ``delay(address, user)`` is how long to hold the answer to a failure."""

    def __init__(self, limits: SftpLimits, clock=time.monotonic):
        self.limits, self.clock = limits, clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] < now - self.limits.window:
            q.popleft()
        if not q:
            del self._failures[key]  # keys from rotating addresses must not pile up
        return q

    def failed(self, address: str, user: str, *, password: bool) -> float:
        """Count a failure; returns the seconds to hold its answer (see :meth:`delay`)."""
        now = self.clock()
        with self._lock:
            self._failures[f"addr:{address}"].append(now)
            if len(self._recent(f"addr:{address}", now)) >= self.limits.address_failures:
                self._locked_until[f"addr:{address}"] = now + self.limits.lockout
                self._failures.pop(f"addr:{address}", None)
            if password:
                self._failures[f"user:{user}"].append(now)
            return self._delay(address, user if password else None, now)

    def _delay(self, address: str, user: str | None, now: float) -> float:
        recent = len(self._recent(f"addr:{address}", now)) if f"addr:{address}" in self._failures else 0
        if user is not None and f"user:{user}" in self._failures:
            recent = max(recent, len(self._recent(f"user:{user}", now)))
        if recent == 0:
            return 0.0
        return min(self.limits.slowdown_max, self.limits.slowdown * 2 ** min(recent - 1, 16))

    def blocked(self, address: str) -> bool:
        now = self.clock()
        with self._lock:
            until = self._locked_until.get(f"addr:{address}")
            if until is not None and until <= now:
                del self._locked_until[f"addr:{address}"]
            return until is not None and until > now


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
