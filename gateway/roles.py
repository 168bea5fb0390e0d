"""The gateway's roles as long-running services: web, SFTP, worker, sweeper; and ``up``,
which runs them all on one machine with embedded defaults."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

from werkzeug.serving import make_server

from gateway.bootstrap import Runtime, bootstrap
from gateway.config import Settings, load_settings
from gateway.routing import queues
from gateway.routing.embedded_redis import EmbeddedRedis
from gateway.store.migrate import upgrade

log = logging.getLogger("gateway")


class HttpService:
    def __init__(self, rt: Runtime, *, demo_erp: bool):
        from gateway.web.app import create_app

        self.server = make_server(rt.settings.host, rt.settings.http_port, create_app(rt, demo_erp=demo_erp),
                                  threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name="http", daemon=True)

    def start(self) -> HttpService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()


class Sweeper:
    """Runs :func:`gateway.routing.outbox.sweep` every ``interval`` seconds on a thread."""

    def __init__(self, rt: Runtime, interval: float = 5.0):
        self.rt, self.interval = rt, interval
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sweeper", daemon=True)

    def start(self) -> Sweeper:
        self.thread.start()
        return self

    def _run(self) -> None:
        from gateway.routing.outbox import sweep

        while not self._stop.wait(self.interval):
            try:
                sweep(self.rt)
            except Exception as exc:  # the database or Redis is away; try again next round
                log.warning("sweeper: %s", exc)

    def stop(self) -> None:
        self._stop.set()


def run_worker(rt: Runtime, *, burst: bool = False, sweep_interval: float = 5.0) -> None:
    """An RQ worker on every queue, critical first, with the scheduler (for retries) and a sweeper."""
    from rq import Worker
    from rq.serializers import JSONSerializer

    queues.check_eviction_policy(rt.redis)
    sweeper = None if burst else Sweeper(rt, sweep_interval).start()
    worker = Worker([rt.queue(n) for n in queues.QUEUE_ORDER], connection=rt.redis, serializer=JSONSerializer,
                    maintenance_interval=60)
    try:
        worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
    finally:
        if sweeper:
            sweeper.stop()


@dataclass
class Gateway:
    """Everything `gateway up` started, so it can be stopped in order."""

    settings: Settings
    redis: EmbeddedRedis | None
    http: HttpService
    sftp: object
    worker: subprocess.Popen
    demo_erp: bool

    def stop(self) -> None:
        if self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.worker.kill()
        self.sftp.stop()
        self.http.stop()
        if self.redis:
            self.redis.stop()


def start_all(settings: Settings | None = None) -> Gateway:
    """Start Redis (embedded unless REDIS_URL), migrate, then HTTP, SFTP and one worker."""
    from gateway.transports.sftp import SFTPService

    settings = settings or load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    embedded = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.home)
        settings = settings.with_overrides(redis_url=embedded.start())
    demo_erp = not settings.erp_url
    if demo_erp:
        settings = settings.with_overrides(erp_url=f"http://{settings.host}:{settings.http_port}/demo/erp/events")
    upgrade(settings.database_url)
    rt = bootstrap(settings)
    queues.check_eviction_policy(rt.redis)
    http = HttpService(rt, demo_erp=demo_erp).start()
    if demo_erp and settings.http_port == 0:  # the port is known only now
        settings = settings.with_overrides(erp_url=f"http://{settings.host}:{http.port}/demo/erp/events")
        rt.settings = settings
    sftp = SFTPService(rt).start()
    env = dict(os.environ, GATEWAY_HOME=str(settings.home), DATABASE_URL=settings.database_url,
               REDIS_URL=settings.redis_url, GATEWAY_ERP_URL=settings.erp_url,
               GATEWAY_PARTNERS_DIR=str(settings.partners_dir))
    worker = subprocess.Popen([sys.executable, "-m", "gateway", "worker"], env=env)
    return Gateway(settings, embedded, http, sftp, worker, demo_erp)
