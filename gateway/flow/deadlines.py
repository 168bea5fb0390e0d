"""``check_flow_deadlines(rt, now)``: flag every step of a PO's flow that is past its due
time and still missing, once per PO and step, with a ``purchase_order.step_overdue``
event through the normal routes and an error in the log.

A plain function a scheduler calls beside ``check_overdue_acks``. It reads only the
flows whose ``next_due_at`` has passed (an index), so its cost follows the alerts to
raise, not the number of open POs. ``now`` is passed in: tests move the clock by passing
a later one, never by sleeping.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from gateway.flow.alerts import raise_alert
from gateway.flow.models import FlowStep, PurchaseOrderFlow
from gateway.flow.state import refresh, statuses

log = logging.getLogger("gateway.flow")


def check_flow_deadlines(rt, now: datetime, limit: int = 500) -> int:
    """Raise the overdue steps due by ``now``; returns how many alerts were raised."""
    from gateway.processing.x12_interchange import record_event
    from gateway.routing.outbox import relay

    raised, deliveries = 0, []
    with rt.session() as s:
        flows = s.scalars(select(PurchaseOrderFlow).where(PurchaseOrderFlow.next_due_at <= now)
                          .options(selectinload(PurchaseOrderFlow.steps).joinedload(FlowStep.document),
                                   selectinload(PurchaseOrderFlow.alerts))
                          .order_by(PurchaseOrderFlow.next_due_at).limit(limit)).all()
        for flow in flows:
            anchor = flow.steps[0].document  # an alert's event is recorded against the flow's first document
            for status in statuses(rt, flow, now):
                if status.status != "missing":
                    continue
                body = raise_alert(s, flow, status, "overdue", now, anchor)
                if body is not None:
                    deliveries += [(d.id, d.queue) for d in record_event(rt, s, anchor, body)]
                    raised += 1
            refresh(rt, flow)  # the new alerts are in flow.alerts already
    relay(rt, deliveries, [])
    return raised
