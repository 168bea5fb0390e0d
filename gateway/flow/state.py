"""A stored flow read back as facts, evaluated against its partner's rules.

The facts are kept on the flow's row as running state (``po_flows.facts``, migration
0094): each step recorded is folded in (:func:`add_step`) under the flow's row lock, so
reading them costs no query, whatever the flow holds. An aggregate over the flow's
steps per step recorded made a 10,000-set interchange against one PO quadratic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from gateway.flow.models import PurchaseOrderFlow
from gateway.flow.rules import FlowFacts, StepRule, StepStatus, evaluate, next_due, rules_for


def flow_rules(rt, partner_id: str) -> dict[str, StepRule]:
    partner = rt.partner(partner_id)
    return rules_for(partner.flow if partner is not None else None)


def _when(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def add_step(running: dict | None, step: str, at: datetime, reference: str | None, step_id: int) -> dict:
    """A flow's running facts with one step just inserted (``po_flow_steps`` row
    ``step_id``) folded in: its step's first time and count and, for an 855, whether it is
    the latest (by time, then by id: the order the aggregate over the steps used), whose
    answer says whether the supplier rejected the PO. A new dict: assigned to the flow,
    the flow's row is written with the rest of its changes at the next flush."""
    facts = dict(running or {})
    first, count = dict(facts.get("first") or {}), dict(facts.get("count") or {})
    if step not in first or at < datetime.fromisoformat(first[step]):
        first[step] = _when(at)
    count[step] = count.get(step, 0) + 1
    facts["first"], facts["count"] = first, count
    if step == "order_ack":
        latest = facts.get("latest_ack")
        if latest is None or (at, step_id) > (datetime.fromisoformat(latest["at"]), latest["id"]):
            facts["latest_ack"] = {"at": _when(at), "id": step_id, "reference": reference}
    return facts


def facts_of(flow: PurchaseOrderFlow, running: dict | None = None, requested: str | None = None) -> FlowFacts:
    """The flow's facts, from its running state (no query, whatever the flow holds);
    ``running`` and ``requested``: that state and the requested date as the step being
    recorded left them, not yet on the flow."""
    running = running if running is not None else flow.facts or {}
    requested = requested or flow.requested_date
    facts = FlowFacts(requested_date=date.fromisoformat(requested) if requested else None)
    facts.flagged_overdue = _flagged(flow)
    facts.first = {step: datetime.fromisoformat(at) for step, at in (running.get("first") or {}).items()}
    facts.count = dict(running.get("count") or {})
    latest = running.get("latest_ack")
    facts.rejected = latest is not None and latest["reference"] == "rejected"  # its latest 855 rejected the PO
    return facts


def _flagged(flow: PurchaseOrderFlow) -> dict:
    return {a.step: a.raised_at for a in flow.alerts if a.kind == "overdue"}


def statuses(rt, flow: PurchaseOrderFlow, now: datetime, facts: FlowFacts | None = None) -> list[StepStatus]:
    return evaluate(flow_rules(rt, flow.partner_id), facts or facts_of(flow), now)


def due_next(rt, flow: PurchaseOrderFlow, facts: FlowFacts) -> datetime | None:
    """When the deadline check must look at this flow again; ``facts`` read earlier in
    the same step are reused, with the alerts raised since."""
    facts.flagged_overdue = _flagged(flow)
    return next_due(flow_rules(rt, flow.partner_id), facts)


def refresh(rt, flow: PurchaseOrderFlow) -> None:
    """Recompute when the deadline check must look at this flow again (its alerts raised
    since are in ``flow.alerts``)."""
    flow.next_due_at = due_next(rt, flow, facts_of(flow))
