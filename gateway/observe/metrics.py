"""The Prometheus metrics behind ``/metrics``, read at scrape time from the database and
Redis (a prometheus-client custom collector).

Why a collector and not counters in each process: the gateway runs as many processes on
many hosts (web, sftp, workers), and a counter kept in one process's memory sees only
that process's work and is lost when it restarts. The database is the system of record
and Redis holds the queues, so what the collector reads is right whichever process
serves the scrape, and a scrape of any web replica gives the same numbers. Latency
histograms are computed from the timestamps each row already stores (received,
processed, delivered), bucket by bucket in one aggregate query, for the same reason:
prometheus-client's multiprocess mode would only be right per host.

Counters are counts of rows (documents received, accepted, rejected; deliveries
delivered), so they only go down if rows are deleted (retention) or a document is
reprocessed to another outcome; ``rate()`` treats a drop as a reset.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func, literal, select

from gateway.store.models import DeliveryRecord, Document, EventRecord, TransactionSetRecord

# Seconds: a document is processed in milliseconds when workers keep up, minutes when a
# queue backs up; end to end adds the ERP's answer and any retries.
PROCESSING_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
END_TO_END_BUCKETS = (0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)


def seconds_between(dialect: str, start, end):
    """``end - start`` in seconds, as SQL for this database."""
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


class GatewayCollector(Collector):
    """Everything ``/metrics`` shows; ``with_partners=False`` leaves out every series
    labelled with a partner (an anonymous scrape under ``GATEWAY_METRICS_ACCESS=open``)."""

    def __init__(self, rt, *, with_partners: bool = True):
        self.rt, self.with_partners = rt, with_partners

    def collect(self) -> Iterator:
        yield from self._documents()
        yield from self._latency()
        yield from self._deliveries()
        yield from self._queues()
        yield from self._acks()
        yield from self._periodic()
        yield from self._certificates()

    # -- documents -------------------------------------------------------------------
    def _documents(self):
        with self.rt.session() as s:
            by_status = s.execute(select(Document.status, func.count()).group_by(Document.status)).all()
            rows = s.execute(_documents_query(self._dialect())).all()
        gauge = GaugeMetricFamily("gateway_documents", "Documents by status now.", labels=["status"])
        for status, n in by_status:
            gauge.add_metric([status], n)
        yield gauge
        if not self.with_partners:
            return
        labels = ["partner", "format", "type"]
        received = CounterMetricFamily("gateway_documents_received", "Documents received, per partner, format and "
                                       "type (X12 transaction set, or the event type of an XML document).", labels=labels)
        accepted = CounterMetricFamily("gateway_documents_accepted", "Documents processed and accepted.", labels=labels)
        rejected = CounterMetricFamily("gateway_documents_rejected", "Documents rejected (the partner's to fix).",
                                       labels=labels)
        totals: dict[tuple, dict[str, int]] = {}
        for partner, fmt, kind, status, n in rows:
            t = totals.setdefault((partner, fmt or "unknown", kind), {"received": 0, "accepted": 0, "rejected": 0})
            t["received"] += n
            if status in ("accepted", "rejected"):
                t[status] += n
        for key, t in sorted(totals.items()):
            received.add_metric(list(key), t["received"])
            accepted.add_metric(list(key), t["accepted"])
            rejected.add_metric(list(key), t["rejected"])
        yield from (received, accepted, rejected)

    def _dialect(self) -> str:
        from gateway.store.db import engine_for

        return engine_for(self.rt.settings.database_url).dialect.name

    # -- latency ---------------------------------------------------------------------
    def _latency(self):
        dialect = self._dialect()
        processing = seconds_between(dialect, Document.received_at, Document.processed_at)
        e2e = seconds_between(dialect, Document.received_at, DeliveryRecord.delivered_at)
        with self.rt.session() as s:
            doc = s.execute(_histogram_query(dialect, processing, PROCESSING_BUCKETS,
                                             Document.processed_at.is_not(None), Document)).all()
            dlv = s.execute(_histogram_query(
                dialect, e2e, END_TO_END_BUCKETS, DeliveryRecord.delivered_at.is_not(None), DeliveryRecord,
                (EventRecord, EventRecord.event_id == DeliveryRecord.event_id),
                (Document, Document.id == EventRecord.document_id))).all()
        yield _histogram("gateway_document_processing_seconds",
                         "From receipt to the end of processing (queue wait included), per document.",
                         PROCESSING_BUCKETS, doc)
        yield _histogram("gateway_delivery_end_to_end_seconds",
                         "From receipt of the document to the target's 2xx, per delivery.", END_TO_END_BUCKETS, dlv)

    # -- deliveries --------------------------------------------------------------------
    def _deliveries(self):
        with self.rt.session() as s:
            rows = s.execute(select(DeliveryRecord.adapter, DeliveryRecord.status, func.count())
                             .group_by(DeliveryRecord.adapter, DeliveryRecord.status)).all()
        gauge = GaugeMetricFamily("gateway_deliveries", "Deliveries by adapter and status now.",
                                  labels=["adapter", "status"])
        delivered = CounterMetricFamily("gateway_deliveries_delivered", "Deliveries the target took (2xx), per adapter.",
                                        labels=["adapter"])
        dead = GaugeMetricFamily("gateway_dead_letters", "Deliveries dead-lettered now (out of attempts or refused), "
                                 "per adapter; replay brings them back.", labels=["adapter"])
        adapters = sorted({a for a, _, _ in rows})
        counts = {(a, st): n for a, st, n in rows}
        for (adapter, status), n in sorted(counts.items()):
            gauge.add_metric([adapter, status], n)
        for adapter in adapters:
            delivered.add_metric([adapter], counts.get((adapter, "delivered"), 0))
            dead.add_metric([adapter], counts.get((adapter, "dead_lettered"), 0))
        yield from (gauge, delivered, dead)

    # -- queues ----------------------------------------------------------------------
    def _queues(self):
        from rq import Worker
        from rq.job import Job

        from gateway.routing.queues import QUEUE_ORDER

        depth = GaugeMetricFamily("gateway_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"])
        age = GaugeMetricFamily("gateway_queue_oldest_job_age_seconds",
                                "Age of the oldest job waiting in each queue (0 when empty).", labels=["queue"])
        up = GaugeMetricFamily("gateway_redis_up", "1 when Redis answered this scrape.")
        workers = GaugeMetricFamily("gateway_workers", "RQ workers registered with Redis.")
        now = time.time()
        try:
            redis = self.rt.redis
            for name in QUEUE_ORDER:
                q = self.rt.queue(name)
                depth.add_metric([name], q.count)
                oldest = 0.0
                first = q.get_job_ids(0, 1)
                if first:
                    job = Job.fetch(first[0], connection=redis, serializer=q.serializer)
                    if job.enqueued_at is not None:
                        oldest = max(0.0, now - job.enqueued_at.timestamp())
                age.add_metric([name], oldest)
            workers.add_metric([], len(Worker.all(connection=redis)))
            up.add_metric([], 1)
        except Exception:  # Redis away: say so, and leave the queue series out rather than guess
            up.add_metric([], 0)
            yield up
            return
        yield from (depth, age, workers, up)

    # -- acks --------------------------------------------------------------------------
    def _acks(self):
        from gateway.store.models_outbound import OutboundDocument

        with self.rt.session() as s:
            rows = s.execute(select(OutboundDocument.partner_id, OutboundDocument.ack_status, func.count())
                             .group_by(OutboundDocument.partner_id, OutboundDocument.ack_status)).all()
        overdue = GaugeMetricFamily("gateway_acks_overdue", "Documents we sent whose 997/999 is past its deadline.")
        overdue.add_metric([], sum(n for _, st, n in rows if st == "overdue"))
        yield overdue
        if self.with_partners:
            per = GaugeMetricFamily("gateway_outbound_documents", "Documents we sent, per partner and ack state.",
                                    labels=["partner", "ack_status"])
            for partner, st, n in sorted(rows, key=lambda r: (r[0], str(r[1]))):
                per.add_metric([partner, st or "none"], n)
            yield per

    # -- periodic tasks ------------------------------------------------------------------
    def _periodic(self):
        from gateway import periodic

        last = GaugeMetricFamily("gateway_periodic_last_success_timestamp_seconds",
                                 "When each periodic task last ran to completion (Unix time; absent: never).",
                                 labels=["task"])
        duration = GaugeMetricFamily("gateway_periodic_last_duration_seconds",
                                     "How long each periodic task's last successful run took.", labels=["task"])
        try:
            runs = periodic.last_runs(self.rt.redis)
        except Exception:
            return
        for name, r in sorted(runs.items()):
            if "success" in r:
                last.add_metric([name], r["success"])
                duration.add_metric([name], r.get("duration", 0.0))
        yield from (last, duration)

    # -- certificates ------------------------------------------------------------------
    def _certificates(self):
        from gateway.transports.as2_certs import WARN_DAYS
        from gateway.transports.cert_monitor import expiry_report

        rows = expiry_report(self.rt)
        days = GaugeMetricFamily("gateway_certificate_expiry_days",
                                 "Days until an AS2 certificate expires (negative: expired).",
                                 labels=["partner", "kind", "file"])
        for r in rows:
            if r["days_left"] is not None and (self.with_partners or r["kind"] == "own"):
                days.add_metric([r["partner_id"] or "", r["kind"], r["path"].rsplit("/", 1)[-1]], r["days_left"])
        attention = GaugeMetricFamily("gateway_certificates_attention",
                                      f"AS2 certificates expiring within {WARN_DAYS} days, expired, not yet valid "
                                      "or unreadable.")
        attention.add_metric([], sum(1 for r in rows if r["state"] != "ok"))
        yield from (days, attention)


def _documents_query(dialect: str):
    """Documents per partner, format, type and status. ``type``: the X12 set (the lowest,
    if several), else the event type of an XML document, else ``unknown``. PostgreSQL
    groups each table once and joins by hash; SQLite, which has no hash join, does best
    with a lookup per document on the ``document_id`` indexes."""
    if dialect == "sqlite":
        sets = (select(func.min(TransactionSetRecord.set_id)).where(TransactionSetRecord.document_id == Document.id)
                .correlate(Document).scalar_subquery())
        events = (select(func.min(EventRecord.type)).where(EventRecord.document_id == Document.id,
                                                           EventRecord.type != "document.rejected")
                  .correlate(Document).scalar_subquery())
        joined = Document
    else:
        grouped_sets = (select(TransactionSetRecord.document_id, func.min(TransactionSetRecord.set_id).label("t"))
                        .group_by(TransactionSetRecord.document_id).subquery())
        grouped_events = (select(EventRecord.document_id, func.min(EventRecord.type).label("t"))
                          .where(EventRecord.type != "document.rejected").group_by(EventRecord.document_id).subquery())
        sets, events = grouped_sets.c.t, grouped_events.c.t
        joined = (Document.__table__.outerjoin(grouped_sets, grouped_sets.c.document_id == Document.id)
                  .outerjoin(grouped_events, grouped_events.c.document_id == Document.id))
    doc_type = func.coalesce(sets, events, literal("unknown")).label("type")
    return (select(func.coalesce(Document.partner_id, literal("unknown")), Document.format, doc_type,
                   Document.status, func.count()).select_from(joined)
            .group_by(Document.partner_id, Document.format, "type", Document.status))


def _histogram_query(dialect, seconds, buckets, where, start, *joins):
    """Count per bucket of ``seconds`` in one pass. The duration is computed once per row in
    a subquery that the database keeps as is (SQLite would otherwise evaluate it again
    for every bucket's comparison), and each row is counted in its first bucket."""
    inner = select(seconds.label("d")).select_from(start)
    for target, on in joins:
        inner = inner.join(target, on)
    inner = inner.where(where)
    if dialect == "sqlite":
        inner = inner.limit(-1).offset(0)  # a LIMIT keeps SQLite from flattening it into the outer query
    inner = inner.subquery()
    bucket = case(*((inner.c.d <= b, i) for i, b in enumerate(buckets)), else_=len(buckets))
    return select(bucket.label("bucket"), func.count(), func.coalesce(func.sum(inner.c.d), 0.0)).group_by("bucket")


def _cumulate(rows, buckets) -> tuple[list[int], int, float]:
    per = [0] * (len(buckets) + 1)
    total_sum = 0.0
    for index, n, s in rows:
        per[index] += n
        total_sum += float(s or 0.0)
    counts, running = [], 0
    for n in per[:-1]:
        running += n
        counts.append(running)
    return counts, running + per[-1], total_sum


def _histogram(name: str, doc: str, buckets, rows) -> HistogramMetricFamily:
    counts, total, total_sum = _cumulate(rows, buckets)
    pairs = [(_le(b), int(c)) for b, c in zip(buckets, counts, strict=True)] + [("+Inf", int(total))]
    return HistogramMetricFamily(name, doc, buckets=pairs, sum_value=float(total_sum or 0.0))


def _le(bound: float) -> str:
    return f"{float(bound)}"
