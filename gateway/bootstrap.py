"""Wire the gateway's parts together. Nothing connects at import time.

``bootstrap(settings)`` returns a :class:`Runtime` holding the settings, the session
factory, the blob store, the partner profiles and a Redis connection; each role (web,
sftp, worker, CLI) makes one and passes it down. ``runtime()`` is the per-process one
that RQ jobs use, built from the environment on first use.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property

from redis import Redis
from rq import Queue
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import ConfigError, Settings, load_settings
from gateway.domain.partner import PartnerProfile, load_partners
from gateway.routing import queues
from gateway.store.blobs import BlobStore
from gateway.store.db import session_scope, sessions


@dataclass
class Runtime:
    settings: Settings
    partners: dict[str, PartnerProfile]
    blobs: BlobStore
    _queues: dict[str, Queue] = field(default_factory=dict)

    @property
    def sessions(self) -> sessionmaker:
        return sessions(self.settings.database_url)

    def session(self):
        """A context manager: commit on success, roll back on error."""
        return session_scope(self.settings.database_url)

    def new_session(self) -> Session:
        return self.sessions()

    @cached_property
    def redis(self) -> Redis:
        if not self.settings.redis_url:
            # A setting that is missing, not a fault of ours: the CLI prints it as such.
            raise ConfigError("no REDIS_URL: start the gateway with `gateway up` or set REDIS_URL")
        return queues.connect(self.settings.redis_url)

    def queue(self, name: str) -> Queue:
        if name not in self._queues:
            self._queues[name] = queues.queue(name, self.redis)
        return self._queues[name]

    def partner(self, partner_id: str | None) -> PartnerProfile | None:
        return self.partners.get(partner_id) if partner_id else None


def bootstrap(settings: Settings | None = None) -> Runtime:
    settings = settings or load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    return Runtime(settings=settings, partners=load_partners(settings.partners_dir), blobs=BlobStore(settings.blob_dir))


_lock = threading.Lock()
_runtime: tuple[int, Runtime] | None = None


def _renew_lock_in_child() -> None:
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_renew_lock_in_child)


def runtime() -> Runtime:
    """The runtime of this process (re-made in a forked child), from the environment."""
    global _runtime
    with _lock:
        if _runtime is None or _runtime[0] != os.getpid():
            _runtime = (os.getpid(), bootstrap())
        return _runtime[1]
