"""The correlation id across RQ: the queue stamps it on each job it creates (``meta``),
the worker binds it while the job runs, so every log line of processing and delivery,
and every job enqueued from there, carries the id intake assigned.

A job queued without one (the sweeper re-queuing a row from the database, a CLI
replay) is looked up once at its start from the row it names.
"""

from __future__ import annotations

import logging

from rq.job import Job
from rq.queue import Queue

from gateway.observe import context

log = logging.getLogger("gateway.observe")

# job function -> what its first argument names
_ARGUMENT = {"gateway.routing.jobs.process_document": "document_id", "gateway.routing.jobs.deliver": "delivery_id",
             "gateway.routing.jobs.send_ack": "ack_id", "gateway.periodic.run_task": "task"}


class CorrelatedQueue(Queue):
    """A Queue that stamps the bound correlation id on the jobs it creates."""

    def create_job(self, *args, **kwargs) -> Job:
        cid = context.correlation_id()
        if cid:
            kwargs["meta"] = {"correlation_id": cid, **(kwargs.get("meta") or {})}
        return super().create_job(*args, **kwargs)


class CorrelatedJob(Job):
    """A Job that runs inside the correlation context of what it works on."""

    def perform(self):
        fields = {"job_id": self.id}
        name = _ARGUMENT.get(self.func_name)
        if name and self.args:
            fields[name] = self.args[0]
        cid = (self.meta or {}).get("correlation_id") or _look_up(name, self.args[0] if self.args else None)
        with context.bind(correlation_id=cid, **fields):
            return super().perform()


def _look_up(name: str | None, value) -> str | None:
    """The correlation id of the document a job's argument leads to (one query), or None."""
    if name not in ("document_id", "delivery_id", "ack_id") or value is None:
        return None
    from sqlalchemy import select

    from gateway.bootstrap import runtime
    from gateway.store.models import AckRecord, DeliveryRecord, Document, EventRecord

    try:
        with runtime().session() as s:
            if name == "document_id":
                return s.scalar(select(Document.correlation_id).where(Document.id == value))
            if name == "ack_id":
                return s.scalar(select(Document.correlation_id).join(AckRecord, AckRecord.document_id == Document.id)
                                .where(AckRecord.id == value))
            return s.scalar(select(Document.correlation_id)
                            .join(EventRecord, EventRecord.document_id == Document.id)
                            .join(DeliveryRecord, DeliveryRecord.event_id == EventRecord.event_id)
                            .where(DeliveryRecord.id == value))
    except Exception as exc:  # the job itself will meet the same fault and report it
        log.debug("no correlation id for %s=%s: %s", name, value, exc)
        return None
