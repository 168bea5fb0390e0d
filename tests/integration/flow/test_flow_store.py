"""The flow tables on SQLite and PostgreSQL: two workers making one PO's flow at the
same moment (its 855 and 856 processed side by side) end with one flow, not a crash."""

from __future__ import annotations

from sqlalchemy import func, select

from gateway.flow.models import PurchaseOrderFlow
from gateway.flow.record import _new_flow, flow_for
from gateway.store.models import AckRecord, utcnow


def test_a_flow_made_by_another_worker_meanwhile_is_the_one_used(rt):
    with rt.session() as mine:
        mine.scalar(select(func.count()).select_from(AckRecord))  # this worker's transaction is under way
        assert flow_for(mine, "demo", "4500012345") is None
        with rt.session() as theirs:  # the other worker commits the flow first
            theirs.add(PurchaseOrderFlow(partner_id="demo", po_number="4500012345", created_at=utcnow(),
                                         updated_at=utcnow()))
        flow = _new_flow(mine, "demo", "4500012345", utcnow())
        assert flow is not None and flow.id is not None
        flow.requested_date = "2027-01-01"  # and this transaction goes on, and commits
    with rt.session() as s:
        [only] = s.scalars(select(PurchaseOrderFlow)).all()
        assert only.requested_date == "2027-01-01"
