"""The gateway's roles as long-running services: web, SFTP, worker, sweeper; and ``up``,
which runs them all on one machine with embedded defaults, its worker processes and
embedded Redis supervised (restarted with backoff, see :mod:`gateway.supervisor`)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field

from werkzeug.serving import make_server

from gateway import periodic
from gateway.bootstrap import Runtime, bootstrap
from gateway.config import Settings, load_settings
from gateway.periodic import Scheduler
from gateway.routing import queues
from gateway.routing.embedded_redis import EmbeddedRedis
from gateway.store.migrate import upgrade
from gateway.supervisor import Supervisor

log = logging.getLogger("gateway")


class HttpService:
    def __init__(self, rt: Runtime, *, demo_erp: bool):
        from gateway.web.app import create_app

        self.app = create_app(rt, demo_erp=demo_erp)
        self.server = make_server(rt.settings.host, rt.settings.http_port, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name="http", daemon=True)

    def start(self) -> HttpService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()


class Sweeper(Scheduler):
    """This host's periodic scheduler (:mod:`gateway.periodic`): queues the sweeper, AS2
    resends, async-MDN timeouts, overdue-ack and certificate checks as RQ jobs, each once
    per interval whoever else ticks; ``interval`` is the sweep task's (seconds)."""

    def __init__(self, rt: Runtime, interval: float = 5.0):
        super().__init__(rt, task_list=periodic.tasks(sweep=interval))


def check_maps() -> None:
    """Load every base and partner translation map: a broken map stops start-up, naming file and line."""
    from gateway.mapping import validate_all_maps

    validate_all_maps()


PROCESSING_QUEUES = frozenset({"process", "bulk"})  # the queues whose jobs validate and translate


def preload(rt: Runtime, queue_names: tuple[str, ...] = (), *, schemas: bool = True) -> None:
    """Import and load what jobs use before the worker forks its work horses, so each
    job starts warm (loading the translation maps alone takes about half a second).

    Only a worker that processes documents loads maps and schemas: building the five UBL
    XSDs takes ~11 s, which a worker that only delivers (planning, notify) never needs.
    ``schemas=False`` leaves each XSD to be built on first use instead (a worker that runs
    jobs in its own process keeps it; a forking one would build it in every work horse)."""
    import gateway.processing.acks  # noqa: F401
    import gateway.routing.delivery  # noqa: F401

    if queue_names and not PROCESSING_QUEUES & set(queue_names):
        return
    import gateway.processing.service  # noqa: F401
    from gateway.mapping.loader import BASE_MAPS_DIR
    from gateway.mapping.translator import cached_maps
    from gateway.processing.structure import engine_name
    from gateway.xml.schemas import preload as preload_schemas

    for maps_dir in {None, *(p.maps_dir for p in rt.partners.values())}:
        cached_maps(maps_dir, BASE_MAPS_DIR)
    if engine_name() == "pyx12":  # the reference validator reads maps built from the tables
        from gateway.x12.structure import map_dir

        map_dir("004010"), map_dir("005010")
    if schemas:
        preload_schemas()  # building one UBL XSD takes ~2.5 s
    warm_x12_maps()


def warm_x12_maps() -> None:
    """Validate one small document of each set, so the compiled X12 tables (or, with the
    pyx12 reference, its parsed maps, ~0.16 s each) are in memory before the work horses fork."""
    from gateway.processing.validate import check_x12
    from gateway.resources import sample_docs_dir

    for sample in sorted(sample_docs_dir(check=False).glob("*/*.edi")):
        check_x12(sample.read_bytes())


def run_worker(rt: Runtime, *, burst: bool = False, sweep_interval: float = 5.0,
               queue_names: tuple[str, ...] | None = None, sweeper: bool = True, fork: bool = False) -> None:
    """An RQ worker with RQ's scheduler (for retries) and, unless ``burst``, the periodic
    scheduler (:mod:`gateway.periodic`: sweeper, AS2 resends, ack and certificate checks,
    queued as jobs on the ``periodic`` queue, once per interval however many workers run).

    By default jobs run in the worker process itself (RQ's SimpleWorker): a fork per job
    cost ~200 ms here, three jobs per document, while processing an 855 takes ~16 ms.
    ``fork=True`` (``gateway worker --fork``) isolates each job in a work horse instead,
    for very large documents whose memory should go back to the system after each job.
    Either way a killed worker loses nothing: its leases expire and the sweeper re-queues.
    The scheduler runs as a separate process, never a thread of a forking parent (a lock
    such a thread held at the fork would stay held in the child).

    ``queue_names`` (default: all, in :data:`queues.QUEUE_ORDER`) are served strictly in
    that order: RQ pops the first non-empty queue, so ``erp`` always goes before
    ``planning``/``notify``. But a worker busy with a slow non-critical job cannot take
    the next ERP job; run critical and non-critical queues on separate workers (``gateway
    up`` does) so a dead webhook never delays the ERP.
    """
    from rq import SimpleWorker, Worker
    from rq.serializers import JSONSerializer

    from gateway.routing.routes import load_route_table

    names = tuple(queue_names or queues.QUEUE_ORDER)
    unknown = [n for n in names if n not in queues.QUEUE_ORDER]
    if unknown:
        raise ValueError(f"unknown queues {unknown}; known: {', '.join(queues.QUEUE_ORDER)}")
    names = tuple(n for n in queues.QUEUE_ORDER if n in names)  # priority is ours, not the caller's order
    queues.check_eviction_policy(rt.redis)
    load_route_table(rt.settings)  # a broken routes.yaml fails here, loudly
    sweeping = None
    if not burst:
        check_maps()
        if sweeper:
            sweeping = subprocess.Popen([sys.executable, "-m", "gateway", "sweep", "--every", str(sweep_interval),
                                         "--exit-with-parent"])
    preload(rt, names, schemas=fork)  # in-process jobs build an XSD once, on the first UBL document
    worker_class = Worker if fork else SimpleWorker
    from gateway.observe.jobs import CorrelatedJob, CorrelatedQueue

    worker = worker_class([rt.queue(n) for n in names], connection=rt.redis, serializer=JSONSerializer,
                          maintenance_interval=60, job_class=CorrelatedJob, queue_class=CorrelatedQueue)
    try:
        worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
    finally:
        if sweeping is not None:
            sweeping.terminate()
            sweeping.wait(timeout=10)


@dataclass
class Gateway:
    """Everything `gateway up` started, so it can be stopped in order."""

    settings: Settings
    redis: EmbeddedRedis | None
    http: HttpService
    sftp: object
    worker: subprocess.Popen  # critical queues: erp, process, acks
    demo_erp: bool
    extra_workers: list[subprocess.Popen] = field(default_factory=list)  # bulk; planning, notify; periodic
    folder: object = None  # gateway.transports.folder.FolderWatcher
    as2: Runtime | None = None  # AS2 is served (resends run as periodic RQ jobs, gateway.periodic)
    supervisor: Supervisor | None = None  # restarts the workers and the embedded Redis

    def supervise(self) -> None:
        """One supervision round (``gateway up`` runs it every second)."""
        if self.supervisor is not None:
            self.supervisor.check()

    def workers(self) -> list[subprocess.Popen]:
        """The worker processes running now (a restarted one replaces the one it mends)."""
        if self.supervisor is None:
            return [self.worker, *self.extra_workers]
        return [c.process for name, c in self.supervisor.children.items() if name.startswith("worker")]

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()  # nothing is restarted while we shut down
        if self.folder is not None:  # stop taking in work before the workers go
            self.folder.stop()
        workers = self.workers()
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)  # warm shutdown: the job in hand finishes
        for w in workers:
            try:
                w.wait(timeout=15)
            except subprocess.TimeoutExpired:
                w.kill()
        self.sftp.stop()
        self.http.stop()
        if self.redis:
            self.redis.stop()


def start_all(settings: Settings | None = None) -> Gateway:
    """Start Redis (embedded unless REDIS_URL), migrate, then HTTP, SFTP and one worker."""
    from gateway.transports.sftp import SFTPService

    settings = settings or load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    from gateway.transports.as2_profiles import directory

    directory(bootstrap(settings))  # an AS2 key or certificate that cannot be loaded stops us before anything runs
    embedded = None
    supervisor = Supervisor()
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.home)
        settings = settings.with_overrides(redis_url=embedded.start())
        if embedded.process is not None:  # ours (not one found already answering): keep it up
            supervisor.watch("redis", embedded.restart, embedded.process)
    demo_erp = not settings.erp_url
    if demo_erp:
        settings = settings.with_overrides(erp_url=f"http://{settings.host}:{settings.http_port}/demo/erp/events")
    upgrade(settings.database_url)
    rt = bootstrap(settings)
    queues.check_eviction_policy(rt.redis)
    from gateway.routing.routes import load_route_table

    load_route_table(rt.settings)  # refuse to start on a broken routes.yaml
    check_maps()  # ... or a broken translation map
    http = HttpService(rt, demo_erp=demo_erp)
    http.app.extensions["gateway.supervisor"] = supervisor  # /healthz shows what is restarting
    http.start()
    if demo_erp and settings.http_port == 0:  # the port is known only now
        settings = settings.with_overrides(erp_url=f"http://{settings.host}:{http.port}/demo/erp/events")
        rt.settings = settings
    sftp = SFTPService(rt).start()
    from gateway.transports.folder import FolderWatcher

    directory(rt)  # refuse to start on a missing partner certificate; make our AS2 keys on first start
    as2 = rt  # its resends and MDN timeouts are periodic tasks, run by the workers' schedulers
    folder = FolderWatcher(rt).start()
    env = dict(os.environ, GATEWAY_HOME=str(settings.home), DATABASE_URL=settings.database_url,
               REDIS_URL=settings.redis_url, GATEWAY_ERP_URL=settings.erp_url,
               GATEWAY_PARTNERS_DIR=str(settings.partners_dir), GATEWAY_UP_CHILD="1")

    def worker_for(queue_names: tuple[str, ...]):
        # One periodic scheduler is enough on one machine: the periodic worker's.
        alone = [] if queue_names == queues.PERIODIC_QUEUES else ["--no-sweeper"]
        return lambda: subprocess.Popen([sys.executable, "-m", "gateway", "worker", "--queues",
                                         ",".join(queue_names), *alone], env=env)

    # One supervised worker per group: the critical queues never wait behind a big document
    # being processed, a slow planning system or a webhook.
    names = {queues.CRITICAL_QUEUES: "worker-critical", queues.BULK_QUEUES: "worker-bulk",
             queues.NON_CRITICAL_QUEUES: "worker-noncritical", queues.PERIODIC_QUEUES: "worker-periodic"}
    worker, *extra = [supervisor.watch(names[group], worker_for(group)) for group in queues.WORKER_GROUPS]
    return Gateway(settings, embedded, http, sftp, worker, demo_erp, extra, folder=folder, as2=as2,
                   supervisor=supervisor)
