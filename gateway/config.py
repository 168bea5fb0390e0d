"""Settings: defaults, then ``GATEWAY_*`` / ``DATABASE_URL`` / ``REDIS_URL`` from the environment.

Everything the gateway needs to know about its surroundings is here, read once and
validated, so that a bad value fails at start-up with the variable named.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout; runtime data: gateway.resources


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _port(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name}={port} is outside 0..65535")
    return port


def positive_setting(env: Mapping[str, str], name: str, default: float) -> float:
    """A setting that must be a number greater than zero; a ConfigError naming it otherwise."""
    raw = env.get(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be greater than zero")
    return value


@dataclass(frozen=True)
class Settings:
    """The gateway's settings. Build with :func:`load_settings`; override with ``replace``."""

    home: Path
    database_url: str
    redis_url: str | None  # None: start the embedded Redis under ``home``
    partners_dir: Path
    host: str = "127.0.0.1"
    sftp_port: int = 2222
    http_port: int = 8080
    erp_url: str | None = None  # None: `gateway up` points it at the built-in demo receiver
    erp_timeout: float = 30.0
    delivery_max_attempts: int = 8
    delivery_backoff_seconds: float = 2.0  # first retry; doubles each attempt, with jitter
    lease_seconds: float = 120.0  # a claimed job not finished by then is swept and retried
    max_document_bytes: int = 50 * 1024 * 1024
    # Any HTTP request body (an AS2 message, an upload): over it is 413, whatever the
    # framing. Above max_document_bytes because MIME, signatures and base64 add to a document.
    max_request_bytes: int = 55 * 1024 * 1024
    duplicate_window_days: float = 90.0  # an ISA13 reused after this is a new interchange
    metrics_access: str = "token"  # /metrics: "token" (a bearer token), "open" (no partner ids), "off"
    bulk_threshold_bytes: int = 256 * 1024  # bigger documents are processed on the `bulk` queue
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def blob_dir(self) -> Path:
        return self.home / "blobs"

    @property
    def sftp_root(self) -> Path:
        """One folder per partner below this: ``<partner>/inbound`` and ``<partner>/outbound``."""
        return self.home / "sftp"

    @property
    def host_key_path(self) -> Path:
        return self.home / "keys" / "sftp_host_ed25519"

    @property
    def redis_url_file(self) -> Path:
        """Where a running ``gateway up`` writes the URL of its Redis, for CLI commands."""
        return self.home / "redis" / "url"

    def with_running_redis(self) -> Settings:
        """These settings, with the Redis of a ``gateway up`` running on the same
        ``GATEWAY_HOME`` when ``REDIS_URL`` is not set (and that Redis answers). So a CLI
        ``replay`` queues at once instead of leaving the job to the sweeper."""
        if self.redis_url:
            return self
        try:
            url = self.redis_url_file.read_text().strip()
        except OSError:
            return self
        from redis import Redis

        try:
            Redis.from_url(url, socket_timeout=2).ping()
        except Exception:  # a stale file from a gateway that is gone: nothing to join
            return self
        return replace(self, redis_url=url)

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)


METRICS_ACCESS = ("token", "open", "off")


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = env.get(name, default)
    if raw not in choices:
        raise ConfigError(f"{name}={raw!r} must be one of {', '.join(choices)}")
    return raw


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from ``env`` (default: the process environment)."""
    from gateway.resources import partners_dir

    env = dict(os.environ if env is None else env)
    home = Path(env.get("GATEWAY_HOME", "./var")).expanduser().resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{home / 'gateway.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    return Settings(
        home=home,
        database_url=database_url,
        redis_url=env.get("REDIS_URL") or None,
        partners_dir=partners_dir(env, check=False),  # an installed wheel's own, or GATEWAY_PARTNERS_DIR
        host=env.get("GATEWAY_HOST", "127.0.0.1"),
        sftp_port=_port(env, "GATEWAY_SFTP_PORT", 2222),
        http_port=_port(env, "GATEWAY_HTTP_PORT", 8080),
        erp_url=env.get("GATEWAY_ERP_URL") or None,
        erp_timeout=positive_setting(env, "GATEWAY_ERP_TIMEOUT", 30.0),
        delivery_max_attempts=int(positive_setting(env, "GATEWAY_DELIVERY_MAX_ATTEMPTS", 8)),
        delivery_backoff_seconds=positive_setting(env, "GATEWAY_DELIVERY_BACKOFF", 2.0),
        lease_seconds=positive_setting(env, "GATEWAY_LEASE_SECONDS", 120.0),
        max_document_bytes=int(positive_setting(env, "GATEWAY_MAX_DOCUMENT_BYTES", 50 * 1024 * 1024)),
        duplicate_window_days=positive_setting(env, "GATEWAY_DUPLICATE_WINDOW_DAYS", 90.0),
        max_request_bytes=int(positive_setting(env, "GATEWAY_MAX_REQUEST_BYTES", 55 * 1024 * 1024)),
        metrics_access=_choice(env, "GATEWAY_METRICS_ACCESS", METRICS_ACCESS, "token"),
        bulk_threshold_bytes=int(positive_setting(env, "GATEWAY_BULK_THRESHOLD_BYTES", 256 * 1024)),
    )
