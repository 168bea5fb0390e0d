"""RQ queues on Redis. Redis is transport, not truth: jobs carry ids only (claim check),
use the JSON serializer (never pickle), and the database says what happened.
"""

from __future__ import annotations

import re

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from rq import Queue
from rq.serializers import JSONSerializer

# Served in this order by every worker: critical ERP deliveries first, then document
# processing and acks, then big documents, and only then the non-critical targets.
# `periodic` carries the scheduled tasks (gateway.periodic: the sweeper, AS2 resends, ...).
QUEUE_ORDER = ("erp", "process", "acks", "periodic", "bulk", "planning", "notify")
CRITICAL_QUEUES = ("erp", "process", "acks")
# Its own worker under `gateway up`: an AS2 resend to a partner that hangs until its
# timeout must not hold the worker the ERP deliveries wait for (nor the sweeper wait behind them).
PERIODIC_QUEUES = ("periodic",)
# Documents above Settings.bulk_threshold_bytes: one may take minutes, so they have a
# worker of their own and never hold the one that serves `process` (issue #10 item 10).
BULK_QUEUES = ("bulk",)
NON_CRITICAL_QUEUES = ("planning", "notify")
# The workers `gateway up` starts, one per group: a slow job in one group never delays another.
WORKER_GROUPS = (CRITICAL_QUEUES, BULK_QUEUES, NON_CRITICAL_QUEUES, PERIODIC_QUEUES)
# RQ's hard limit per job. Non-critical targets get a short one: a hung webhook must
# give its worker back quickly (the adapter's own HTTP timeout is shorter still).
# Processing jobs get one from the document's size (intake.receive.processing_timeout).
JOB_TIMEOUT = {"erp": 600, "process": 600, "acks": 300, "periodic": 900, "bulk": 600, "planning": 60, "notify": 60}
_JOB_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class RedisPolicyError(RuntimeError):
    """Redis is configured so that it may drop jobs; the gateway refuses to use it."""


def connect(url: str) -> Redis:
    return Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=2, base=0.1), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_connect_timeout=5,
        health_check_interval=30,
    )


def check_eviction_policy(redis: Redis) -> None:
    """Refuse a Redis that may evict keys: an evicted job is a lost document (rq #1280)."""
    try:
        policy = redis.config_get("maxmemory-policy").get("maxmemory-policy", "noeviction")
    except Exception:  # managed Redis may forbid CONFIG; nothing to check then
        return
    if policy != "noeviction":
        raise RedisPolicyError(
            f"Redis maxmemory-policy is {policy!r}; set it to 'noeviction' so queued jobs are never evicted"
        )


def queue(name: str, redis: Redis) -> Queue:
    """A queue whose jobs carry the correlation id bound when they are queued (gateway.observe.jobs)."""
    from gateway.observe.jobs import CorrelatedJob, CorrelatedQueue

    return CorrelatedQueue(name, connection=redis, serializer=JSONSerializer, default_timeout=600,
                           job_class=CorrelatedJob)


def job_id(*parts: str) -> str:
    """An RQ job id from ``parts``, restricted to the characters RQ accepts."""
    return _JOB_ID_UNSAFE.sub("_", "-".join(parts))[:200]


def processing_queue(size: int, bulk_threshold_bytes: int) -> str:
    """The queue a document of ``size`` bytes is processed on: ``bulk`` above the threshold."""
    return "bulk" if size > bulk_threshold_bytes else "process"
