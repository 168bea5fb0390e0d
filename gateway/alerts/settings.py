"""Alert settings, read from the environment when alerts are recorded or sent.

- ``GATEWAY_SMTP_URL``: ``smtp://[user:password@]host[:port]`` (port 25; STARTTLS when
  the server offers it) or ``smtps://…`` (TLS from the start, port 465). Unset: no e-mail.
- ``GATEWAY_ALERT_FROM``: the sender address (default ``edi-gateway@localhost``).
- ``GATEWAY_CONSOLE_URL``: where the console is reached, for the link in each alert
  (default ``http://<GATEWAY_HOST>:<GATEWAY_HTTP_PORT>``).
- ``GATEWAY_ALERT_MAX_ATTEMPTS`` (default 10) and ``GATEWAY_ALERT_BACKOFF`` (seconds
  before the first retry, default 30; doubles up to an hour).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from urllib.parse import unquote, urlsplit

from gateway.config import ConfigError, positive_setting


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never the password in a log line
        return f"SmtpServer({'smtps' if self.tls else 'smtp'}://{self.host}:{self.port}, user={self.username!r})"


@dataclass(frozen=True)
class AlertSettings:
    smtp: SmtpServer | None
    sender: str
    console_url: str
    max_attempts: int = 10
    backoff: float = 30.0
    timeout: float = 10.0


def parse_smtp_url(url: str) -> SmtpServer:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"GATEWAY_SMTP_URL must look like smtp://host:port or smtps://user:password@host, "
                          f"not {parts.scheme or 'no scheme'}://…")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise ConfigError("GATEWAY_SMTP_URL has a port that is not a number") from None
    return SmtpServer(parts.hostname, port, parts.scheme == "smtps",
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None)


def alert_settings(settings, env=None) -> AlertSettings:
    """The alert settings beside the gateway's ``settings`` (for the default console URL)."""
    env = os.environ if env is None else env
    sender = env.get("GATEWAY_ALERT_FROM") or "edi-gateway@localhost"
    try:
        Address(addr_spec=sender)
    except (HeaderParseError, ValueError, IndexError):
        raise ConfigError(f"GATEWAY_ALERT_FROM={sender!r} is not an e-mail address") from None
    smtp = parse_smtp_url(env["GATEWAY_SMTP_URL"]) if env.get("GATEWAY_SMTP_URL") else None
    console = (env.get("GATEWAY_CONSOLE_URL") or f"http://{settings.host}:{settings.http_port}").rstrip("/")
    return AlertSettings(smtp, sender, console, int(positive_setting(env, "GATEWAY_ALERT_MAX_ATTEMPTS", 10)),
                         positive_setting(env, "GATEWAY_ALERT_BACKOFF", 30.0))
