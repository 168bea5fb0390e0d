"""Readiness: may this gateway take work now? Each check says ``ok`` or why not.

- ``database``: a ``SELECT 1`` answers.
- ``redis``: ``PING`` answers.
- ``redis_eviction``: Redis's ``maxmemory-policy`` is ``noeviction`` (any other policy may
  drop queued jobs under memory pressure: a lost document). A managed Redis that forbids
  ``CONFIG`` cannot be checked; that is said, and not counted as a failure.
- ``workers``: at least one RQ worker is registered, and every critical queue (``erp``,
  ``process``, ``acks``, ``periodic``) has one listening: otherwise documents are taken
  in and never processed, and the periodic tasks (the sweeper, AS2 resends) never run.
"""

from __future__ import annotations

from sqlalchemy import text


def dependency_checks(rt) -> dict[str, str]:
    """``database`` and ``redis``: ``ok``, or the error's kind (for /healthz and /readyz)."""
    checks: dict[str, str] = {}
    try:
        with rt.session() as s:
            s.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        rt.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    return checks


def readiness(rt) -> tuple[bool, dict[str, str]]:
    """``(ready, checks)``: ready when every check is ``ok`` (or could not be made, said so)."""
    checks = dependency_checks(rt)
    if checks["redis"] != "ok":
        checks["redis_eviction"] = checks["workers"] = "error: Redis is not answering"
        return False, checks
    checks["redis_eviction"] = _eviction(rt.redis)
    checks["workers"] = _workers(rt.redis)
    ready = all(v == "ok" or v.startswith("unchecked") for v in checks.values())
    return ready, checks


def _eviction(redis) -> str:
    try:
        policy = redis.config_get("maxmemory-policy").get("maxmemory-policy")
    except Exception:
        return "unchecked: this Redis does not allow CONFIG GET; make sure maxmemory-policy is noeviction"
    if policy in (None, "noeviction"):
        return "ok"
    return f"error: maxmemory-policy is {policy!r}; queued jobs may be evicted (set it to 'noeviction')"


def _workers(redis) -> str:
    from rq import Worker

    from gateway.routing.queues import CRITICAL_QUEUES, PERIODIC_QUEUES

    workers = Worker.all(connection=redis)
    if not workers:
        return "error: no worker is registered with Redis; start `gateway worker`"
    served = {name for w in workers for name in w.queue_names()}
    missing = [q for q in CRITICAL_QUEUES + PERIODIC_QUEUES if q not in served]
    if missing:
        return f"error: no worker serves {', '.join(missing)} ({len(workers)} worker(s) registered)"
    return "ok"
