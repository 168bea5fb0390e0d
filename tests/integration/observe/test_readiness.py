"""/readyz: ready only with a database, a Redis that never evicts, and workers serving
the critical queues; each check made to fail against the real thing."""

from __future__ import annotations

import pytest
from faultkit import Processes, RedisServer, gateway_env, in_process_runtime, wait_for
from support import free_port

from gateway.bootstrap import bootstrap
from gateway.web.app import create_app

pytestmark = pytest.mark.slow


def readyz(rt) -> tuple[int, dict]:
    answer = create_app(rt).test_client().get("/readyz")
    return answer.status_code, answer.get_json()


def test_ready_only_once_workers_serve_the_critical_queues(tmp_path, database_url, redis_url, monkeypatch):
    env = gateway_env(tmp_path, database_url, redis_url)
    rt = in_process_runtime(monkeypatch, env)
    status, body = readyz(rt)
    assert status == 503 and body["status"] == "not ready"
    assert body["checks"]["database"] == body["checks"]["redis"] == body["checks"]["redis_eviction"] == "ok"
    assert body["checks"]["workers"].startswith("error: no worker is registered")
    procs = Processes(env, tmp_path)
    try:
        procs.worker("--queues", "planning,notify", "--no-sweeper")
        wait_for(lambda: "no worker serves" in readyz(rt)[1]["checks"]["workers"], 120, interval=0.3,
                 what="the non-critical worker registered")
        assert readyz(rt)[1]["checks"]["workers"].startswith("error: no worker serves erp, process, acks, periodic")
        procs.worker("--no-sweeper")  # all queues
        wait_for(lambda: readyz(rt)[0] == 200, 120, interval=0.3, what="ready with a worker on every queue")
        assert readyz(rt)[1] == {"status": "ready", "checks": {
            "database": "ok", "redis": "ok", "redis_eviction": "ok", "workers": "ok"}}
    finally:
        procs.stop_all()
    assert readyz(rt)[1]["checks"]["workers"].startswith("error: no worker")  # a warm shutdown unregisters them


def test_an_evicting_redis_is_not_ready(tmp_path, database_url, monkeypatch):
    lru = RedisServer(tmp_path, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru").start()
    try:
        rt = in_process_runtime(monkeypatch, gateway_env(tmp_path, database_url, lru.url))
        status, body = readyz(rt)
    finally:
        lru.stop()
    assert status == 503
    assert body["checks"]["redis"] == "ok"
    assert "allkeys-lru" in body["checks"]["redis_eviction"] and "noeviction" in body["checks"]["redis_eviction"]


def test_redis_or_the_database_away_is_not_ready(tmp_path, database_url, redis_url, monkeypatch):
    rt = in_process_runtime(monkeypatch, gateway_env(tmp_path, database_url, redis_url))
    away = bootstrap(rt.settings.with_overrides(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    status, body = readyz(away)
    assert status == 503 and body["checks"]["redis"].startswith("error:") and body["checks"]["database"] == "ok"
    no_db = bootstrap(rt.settings.with_overrides(
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere?connect_timeout=5"))
    status, body = readyz(no_db)
    assert status == 503 and body["checks"]["database"].startswith("error:") and body["checks"]["redis"] == "ok"
