"""Shared fixtures: real databases (SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
real Redis, free ports, an HTTP receiver that records what it is sent."""

from __future__ import annotations

import os
import uuid

import pytest
from support import Receiver


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


@pytest.fixture
def redis_url():
    """A real Redis (TEST_REDIS_URL, default the local server), database 15, emptied first."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {url}")
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def erp_receiver():
    r = Receiver()
    yield r
    r.stop()
