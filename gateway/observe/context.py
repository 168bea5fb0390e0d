"""The correlation context: which received file (``correlation_id``) and which document,
delivery or job this code is working for, carried in :mod:`contextvars`.

Intake binds the correlation id it assigns; the queue stamps it on every RQ job
enqueued while it is bound (job ``meta``); the worker binds it again when the job
starts (:class:`gateway.observe.jobs.CorrelatedJob`), so the jobs that job enqueues in
turn carry it too. Every log record gets these fields (:class:`ContextFilter`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

FIELDS = ("correlation_id", "document_id", "delivery_id", "job_id", "task")
_context: ContextVar[dict[str, str]] = ContextVar("gateway_context", default={})  # noqa: B039 - never mutated


def current() -> dict[str, str]:
    """The fields bound now (a copy)."""
    return dict(_context.get())


def correlation_id() -> str | None:
    return _context.get().get("correlation_id")


@contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Add ``fields`` (those not None) to the context for the ``with`` block."""
    token = _context.set({**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Puts the bound fields and the process's role on every record (a record's own
    ``extra=`` of the same name wins)."""

    def __init__(self, role: str):
        super().__init__()
        self.role = role

    def filter(self, record: logging.LogRecord) -> bool:
        record.role = self.role
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True
