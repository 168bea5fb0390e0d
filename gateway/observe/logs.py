"""Logging for every role: one JSON object per line (python-json-logger) or text for a
person at a terminal, each record carrying the correlation context and its ``extra=``.

``GATEWAY_LOG_FORMAT``: ``json`` or ``text``; unset, text when stderr is a terminal and
JSON otherwise (a log shipper, systemd, a container). ``GATEWAY_LOG_LEVEL``: default
``INFO`` for the gateway's own loggers in the roles run alone (``web``, ``sftp``,
``worker``, ``sweep``, ``folder``); ``WARNING`` for ``gateway up`` and the workers it
starts, and for one-shot commands, whose output is their answer.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from gateway.config import ConfigError
from gateway.observe.context import ContextFilter

FORMATS = ("json", "text")
SERVICE_ROLES = frozenset({"web", "sftp", "worker", "sweep", "folder"})
# Record attributes that are not ``extra=``: left out of the JSON, or renamed.
_RENAMED = {"levelname": "level", "name": "logger", "process": "pid"}


def log_format(env: Mapping[str, str] | None = None, stream=None) -> str:
    env = os.environ if env is None else env
    raw = (env.get("GATEWAY_LOG_FORMAT") or "").strip().lower()
    if not raw:
        stream = stream or sys.stderr
        return "text" if hasattr(stream, "isatty") and stream.isatty() else "json"
    if raw not in FORMATS:
        raise ConfigError(f"GATEWAY_LOG_FORMAT={raw!r}: choose one of {', '.join(FORMATS)}")
    return raw


def log_level(role: str, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    raw = (env.get("GATEWAY_LOG_LEVEL") or "").strip().upper()
    if not raw:
        # `gateway up` is a person's one-machine gateway: its banner, then only what needs
        # attention, from it and from the workers it starts (GATEWAY_UP_CHILD).
        quiet = role not in SERVICE_ROLES or env.get("GATEWAY_UP_CHILD")
        return logging.WARNING if quiet else logging.INFO
    level = logging.getLevelName(raw)
    if not isinstance(level, int):
        raise ConfigError(f"GATEWAY_LOG_LEVEL={raw!r}: choose DEBUG, INFO, WARNING or ERROR")
    return level


class TextFormatter(logging.Formatter):
    """``time level logger [correlation id]: message key=value ...`` (the ``extra=`` fields too)."""

    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "role"}

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = {k: v for k, v in vars(record).items() if k not in self._STANDARD and not k.startswith("_")}
        cid = extra.pop("correlation_id", None)
        if cid:
            text = text.replace(f" {record.name}: ", f" {record.name} [{cid}]: ", 1)
        return text + "".join(f" {k}={v}" for k, v in extra.items())


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter("%(levelname)s %(name)s %(message)s %(role)s %(process)d",
                         rename_fields=_RENAMED, timestamp=True, json_default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test may have replaced it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(role: str, env: Mapping[str, str] | None = None, stream=None) -> str:
    """Set up the root logger for ``role`` (to ``stream``, default stderr); returns the
    format chosen. Call again to change it: only the handler it added is replaced."""
    fmt = log_format(env, stream or sys.stderr)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter(role))
    handler._gateway = True
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_gateway", False)]:  # ours from an earlier call
        root.removeHandler(old)
    root.addHandler(handler)
    level = log_level(role, env)
    # Our loggers (gateway.*) at the chosen level; libraries (alembic, werkzeug, paramiko,
    # rq) only say something when it is a warning, unless DEBUG was asked for.
    # (at WARNING and above the root's level governs, so a test's caplog.set_level still works)
    logging.getLogger("gateway").setLevel(level if level < logging.WARNING else logging.NOTSET)
    root.setLevel(level if level < logging.INFO else max(level, logging.WARNING))
    return fmt
