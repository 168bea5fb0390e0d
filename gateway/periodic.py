"""Periodic work on the queue engine: the sweeper, AS2 resends, async-MDN timeouts,
overdue-ack and certificate-expiry checks, each one :class:`PeriodicTask` run as an RQ job.

Why RQ jobs and not a loop in a thread: the roles run as separate processes on separate
hosts (``gateway web``, ``gateway sftp``, ``gateway worker``); a loop inside one of them
stops when that role is not running. Here any number of schedulers may run (each
``gateway worker`` starts one beside it, so does ``gateway up``) and still:

- **each task is queued once per interval, whoever ticks**: a scheduler queues a task
  only if it wins ``SET gateway:periodic:<name>:due NX PX <interval>`` on Redis, and
  never while the task's last job is still waiting in the queue (no pile-up behind a
  busy worker);
- **a task never runs twice at once**: the job takes ``gateway:periodic:<name>:running``
  (``SET NX PX <timeout>``, released only by its holder) and skips its turn otherwise.

Each run is recorded in Redis (``gateway:periodic:<name>:last`` and a short history),
which ``/metrics`` exports as the time of the last successful run per task: an alert on
that age catches a gateway with no worker or no scheduler at all.

A task function is called ``function(rt, now)`` when it takes a parameter named
``now``, else ``function(rt)``. Adding a task is one line in :data:`TASKS`.
Intervals can be set per task with ``GATEWAY_PERIODIC_INTERVALS="sweep=5,as2-resend=10"``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace

from gateway.config import ConfigError

log = logging.getLogger("gateway.periodic")

QUEUE = "periodic"
KEY = "gateway:periodic:{name}:{part}"
HISTORY = 50  # runs kept per task


@dataclass(frozen=True)
class PeriodicTask:
    """``function`` (``"module:name"``) every ``interval`` seconds, at most ``timeout`` seconds a run."""

    name: str
    interval: float
    function: str
    timeout: float = 300.0

    def resolve(self):
        module, _, attr = self.function.partition(":")
        return getattr(importlib.import_module(module), attr)


# The timeout is also how long a killed run's lock outlives it: short for the sweeper,
# which recovery after a `kill -9` waits on; long where a run talks to partners.
TASKS: tuple[PeriodicTask, ...] = (
    PeriodicTask("sweep", 5.0, "gateway.routing.outbox:sweep", timeout=60.0),
    PeriodicTask("outbound-send", 30.0, "gateway.outbound.send:send_unsent", timeout=600.0),
    PeriodicTask("as2-resend", 10.0, "gateway.transports.as2_send:run_due", timeout=900.0),
    PeriodicTask("as2-mdn-timeouts", 60.0, "gateway.transports.as2_mdn_timeout:expire_awaiting_mdns", timeout=60.0),
    PeriodicTask("overdue-acks", 60.0, "gateway.outbound.acks:check_overdue_acks", timeout=120.0),
    PeriodicTask("certificate-expiry", 86400.0, "gateway.transports.cert_monitor:warn_expiring", timeout=60.0),
    PeriodicTask("flow-deadlines", 60.0, "gateway.flow.deadlines:check_flow_deadlines", timeout=300.0),
    PeriodicTask("alerts-send", 10.0, "gateway.alerts.send:send_due_alerts", timeout=300.0),
)


def parse_intervals(raw: str) -> dict[str, float]:
    """``"sweep=5,as2-resend=10"`` -> ``{"sweep": 5.0, "as2-resend": 10.0}``; a bad entry is a ConfigError."""
    known = {t.name for t in TASKS}
    out = {}
    for item in filter(None, (p.strip() for p in raw.split(","))):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in known:
            raise ConfigError(f"GATEWAY_PERIODIC_INTERVALS: unknown task {name!r}; known: {', '.join(sorted(known))}")
        try:
            seconds = float(value)
        except ValueError:
            raise ConfigError(f"GATEWAY_PERIODIC_INTERVALS: {item!r} is not name=seconds") from None
        if seconds <= 0:
            raise ConfigError(f"GATEWAY_PERIODIC_INTERVALS: {name} must be greater than zero")
        out[name] = seconds
    return out


def tasks(env: Mapping[str, str] | None = None, **intervals: float) -> tuple[PeriodicTask, ...]:
    """:data:`TASKS` with the intervals of ``GATEWAY_PERIODIC_INTERVALS`` and ``intervals`` applied."""
    env = os.environ if env is None else env
    legacy = {"as2-resend": float(env["GATEWAY_AS2_RESEND_INTERVAL"])} if env.get("GATEWAY_AS2_RESEND_INTERVAL") else {}
    chosen = {**legacy, **parse_intervals(env.get("GATEWAY_PERIODIC_INTERVALS", "")),
              **{k.replace("_", "-"): v for k, v in intervals.items() if v}}
    return tuple(replace(t, interval=chosen.get(t.name, t.interval)) for t in TASKS)


def task_named(name: str) -> PeriodicTask:
    for task in tasks():
        if task.name == name:
            return task
    raise KeyError(f"no periodic task {name!r}")


def _key(name: str, part: str) -> str:
    return KEY.format(name=name, part=part)


def tick(rt, task_list: tuple[PeriodicTask, ...] | None = None) -> list[str]:
    """Queue each task whose interval has passed since anyone last queued it; returns their names."""
    from rq.job import Job, JobStatus

    from gateway.routing.queues import job_id

    queued = []
    redis = rt.redis
    for task in task_list or tasks():
        last = redis.get(_key(task.name, "job"))
        if last:
            try:
                if Job.fetch(last.decode(), connection=redis).get_status() in (JobStatus.QUEUED, JobStatus.SCHEDULED):
                    continue  # still waiting for a worker: one is enough
            except Exception:  # expired or gone: queue a new one
                pass
        if not redis.set(_key(task.name, "due"), str(time.time()), nx=True, px=max(1, int(task.interval * 1000))):
            continue  # queued by another scheduler (or us) within this interval
        jid = job_id("periodic", task.name, uuid.uuid4().hex[:12])
        rt.queue(QUEUE).enqueue_call("gateway.periodic.run_task", args=(task.name,), job_id=jid,
                                     timeout=int(task.timeout), result_ttl=600, failure_ttl=24 * 3600)
        redis.set(_key(task.name, "job"), jid, px=max(1, int(task.interval * 1000)) + 3600 * 1000)
        queued.append(task.name)
    return queued


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def run_task(name: str) -> str:
    """The RQ job: run task ``name`` unless a run of it holds the lock; record the run."""
    from gateway.bootstrap import runtime

    rt, task = runtime(), task_named(name)
    return run(rt, task)


def run(rt, task: PeriodicTask) -> str:
    """Run ``task`` once under its lock (see the module docstring); returns ``ok``, ``skipped`` or ``failed``."""
    from gateway.store.models import utcnow

    redis, token = rt.redis, uuid.uuid4().hex
    lock = _key(task.name, "running")
    started = time.time()
    if not redis.set(lock, token, nx=True, px=max(1, int(task.timeout * 1000))):
        _record(redis, task, started, started, "skipped", "a run of this task is still going")
        return "skipped"
    outcome, detail = "ok", ""
    try:
        fn = task.resolve()
        now = utcnow()
        result = fn(rt, now) if "now" in inspect.signature(fn).parameters else fn(rt)
        detail = _summary(result)
    except Exception as exc:  # the database or a partner is away: say so, try again next interval
        outcome, detail = "failed", f"{type(exc).__name__}: {exc}"
        log.warning("periodic task %s failed: %s", task.name, detail)
    finally:
        redis.eval(_RELEASE, 1, lock, token)
    _record(redis, task, started, time.time(), outcome, detail)
    return outcome


def _summary(result) -> str:
    if isinstance(result, dict):
        return json.dumps(result, default=str)[:500]
    if isinstance(result, list):
        return f"{len(result)} item(s)"
    return "" if result is None else str(result)[:500]


def _record(redis, task: PeriodicTask, started: float, finished: float, outcome: str, detail: str) -> None:
    run = {"started": started, "finished": finished, "outcome": outcome, "detail": detail, "pid": os.getpid()}
    pipe = redis.pipeline()
    pipe.hset(_key(task.name, "last"), mapping={"started": started, "finished": finished, "outcome": outcome})
    if outcome == "ok":
        pipe.hset(_key(task.name, "last"), mapping={"success": finished, "duration": finished - started})
    pipe.lpush(_key(task.name, "runs"), json.dumps(run))
    pipe.ltrim(_key(task.name, "runs"), 0, HISTORY - 1)
    pipe.execute()


def runs(redis, name: str) -> list[dict]:
    """The last runs of task ``name``, newest first."""
    return [json.loads(r) for r in redis.lrange(_key(name, "runs"), 0, -1)]


def last_runs(redis, task_list: tuple[PeriodicTask, ...] | None = None) -> dict[str, dict[str, float]]:
    """Per task: ``success`` (epoch seconds of the last successful run) and ``duration``, when known."""
    out = {}
    for task in task_list or tasks():
        raw = redis.hgetall(_key(task.name, "last"))
        out[task.name] = {k.decode(): float(v) for k, v in raw.items() if k in (b"success", b"duration")}
    return out


class Scheduler:
    """Calls :func:`tick` every ``resolution`` seconds on a thread until stopped. Run it in a
    process of its own beside a forking worker (``gateway scheduler``), never as a thread of it."""

    def __init__(self, rt, *, resolution: float = 1.0, task_list: tuple[PeriodicTask, ...] | None = None):
        self.rt, self.task_list = rt, task_list or tasks()
        self.resolution = min(resolution, *(t.interval for t in self.task_list))
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="periodic-scheduler", daemon=True)

    def start(self) -> Scheduler:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                tick(self.rt, self.task_list)
            except Exception as exc:  # Redis away: the next tick tries again
                log.warning("periodic scheduler: %s", exc)
            self._stop.wait(self.resolution)

    def stop(self) -> None:
        self._stop.set()
