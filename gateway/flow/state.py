"""A stored flow read back as facts, evaluated against its partner's rules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from gateway.flow.models import FlowStep, PurchaseOrderFlow
from gateway.flow.rules import FlowFacts, StepRule, StepStatus, evaluate, next_due, rules_for


def flow_rules(rt, partner_id: str) -> dict[str, StepRule]:
    partner = rt.partner(partner_id)
    return rules_for(partner.flow if partner is not None else None)


def facts_of(flow: PurchaseOrderFlow, s=None) -> FlowFacts:
    """The flow's facts: from its loaded steps, or (``s`` given) from the database in one
    aggregate query (first time and count per step, and its latest 855's answer as a
    subquery on each row), so recording one more step of a PO with thousands never loads
    them all."""
    facts = FlowFacts(requested_date=date.fromisoformat(flow.requested_date) if flow.requested_date else None)
    facts.flagged_overdue = _flagged(flow)
    if s is not None:
        ack = aliased(FlowStep)
        latest_ack = select(ack.reference).where(ack.flow_id == flow.id, ack.step == "order_ack") \
            .order_by(ack.at.desc(), ack.id.desc()).limit(1).scalar_subquery()
        for step, first, count, latest in s.execute(
                select(FlowStep.step, func.min(FlowStep.at), func.count(FlowStep.id), latest_ack)
                .where(FlowStep.flow_id == flow.id).group_by(FlowStep.step)):
            facts.first[step], facts.count[step] = first, count
            facts.rejected = latest == "rejected"  # its latest 855 rejected the PO
        return facts
    for row in flow.steps:
        if row.step not in facts.first or row.at < facts.first[row.step]:
            facts.first[row.step] = row.at
        facts.count[row.step] = facts.count.get(row.step, 0) + 1
    acks = sorted((r for r in flow.steps if r.step == "order_ack"), key=lambda r: r.at)
    facts.rejected = bool(acks) and acks[-1].reference == "rejected"  # its latest 855 rejected the PO
    return facts


def first_step_facts(flow: PurchaseOrderFlow, step: str, at: datetime, reference: str | None) -> FlowFacts:
    """The facts of a flow made in this transaction for its first step: what
    :func:`facts_of` would read back, without the query (the step is its only row)."""
    facts = FlowFacts(requested_date=date.fromisoformat(flow.requested_date) if flow.requested_date else None)
    facts.flagged_overdue = _flagged(flow)
    facts.first[step], facts.count[step] = at, 1
    facts.rejected = step == "order_ack" and reference == "rejected"  # its latest 855 rejected the PO
    return facts


def _flagged(flow: PurchaseOrderFlow) -> dict:
    return {a.step: a.raised_at for a in flow.alerts if a.kind == "overdue"}


def statuses(rt, flow: PurchaseOrderFlow, now: datetime, s=None, facts: FlowFacts | None = None) -> list[StepStatus]:
    return evaluate(flow_rules(rt, flow.partner_id), facts or facts_of(flow, s), now)


def refresh(rt, flow: PurchaseOrderFlow, s=None, facts: FlowFacts | None = None) -> None:
    """Recompute when the deadline check must look at this flow again. ``facts`` read
    earlier in the same step are reused, with the alerts raised since."""
    if facts is not None:
        facts.flagged_overdue = _flagged(flow)
    flow.next_due_at = next_due(flow_rules(rt, flow.partner_id), facts or facts_of(flow, s))
