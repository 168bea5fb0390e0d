"""Flow rules as data, and their evaluation (pure: no database, no clock of its own).

``maps/flow/default.yaml`` holds the defaults; a partner's ``partner.yaml`` may override
any step under ``flow:`` (key by key, per step). :func:`evaluate` turns the rules and
the facts of one PO (when each step happened, which were already flagged) into each
step's status at ``now``:

- ``done``: it happened by its due time (or it has none);
- ``late``: it happened after its due time, or after we had flagged it overdue;
- ``missing``: it has not happened and its due time has passed (or we flagged it so);
- ``pending``: it has not happened and is not due yet (or its due time cannot be known
  yet, say the 850 it counts from is not there; or it is not expected at all: no ASN
  or invoice follows a PO the supplier rejected).

``out_of_order`` is set on a step that happened before a step it ``requires``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import yaml

from gateway.resources import maps_dir

STEPS = ("order", "functional_ack", "order_ack", "ship_notice", "invoice")
LABELS = {"order": "850 purchase order", "functional_ack": "997/999 functional ack",
          "order_ack": "855 PO acknowledgment", "ship_notice": "856 ship notice (ASN)", "invoice": "810 invoice"}
ANCHORS = ("requested_date",)
MAX_HOURS = 24 * 366


class FlowRuleError(ValueError):
    """A flow rule is malformed; the message names the step and the field."""


@dataclass(frozen=True)
class StepRule:
    step: str
    after: str | None = None  # due `hours` after this step
    before: str | None = None  # due `hours` before this anchor (requested_date)
    hours: float = 0.0
    requires: tuple[str, ...] = ()
    enabled: bool = True

    @property
    def text(self) -> str:
        """The rule in words, for a timeline or an alert."""
        if self.after:
            return f"within {self.hours:g} h of the {LABELS[self.after]}"
        if self.before:
            ahead = f"{self.hours:g} h " if self.hours else ""
            return f"{ahead}before the PO's requested date"
        if self.requires:
            return "after the " + " and ".join(LABELS[r] for r in self.requires)
        return "no deadline"


def _rule(step: str, raw: dict) -> StepRule:
    if step not in STEPS or step == "order":
        raise FlowRuleError(f"flow: unknown step {step!r}; steps with rules: {', '.join(STEPS[1:])}")
    if not isinstance(raw, dict):
        raise FlowRuleError(f"flow.{step}: must be a mapping (due, requires, enabled)")
    unknown = set(raw) - {"due", "requires", "enabled"}
    if unknown:
        raise FlowRuleError(f"flow.{step}: unknown key(s) {', '.join(sorted(unknown))}")
    due = raw.get("due") or {}
    if not isinstance(due, dict) or set(due) - {"after", "before", "hours"}:
        raise FlowRuleError(f"flow.{step}.due: must be {{after: <step>, hours: N}} or {{before: requested_date, hours: N}}")
    after, before = due.get("after"), due.get("before")
    if due and (after is None) == (before is None):
        raise FlowRuleError(f"flow.{step}.due: give exactly one of after or before")
    if after is not None and (after not in STEPS or after == step):
        raise FlowRuleError(f"flow.{step}.due.after: {after!r} is not another step ({', '.join(STEPS)})")
    if before is not None and before not in ANCHORS:
        raise FlowRuleError(f"flow.{step}.due.before: {before!r} is not one of {', '.join(ANCHORS)}")
    hours = due.get("hours", 0)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 <= hours <= MAX_HOURS:
        raise FlowRuleError(f"flow.{step}.due.hours: a number of hours from 0 to {MAX_HOURS}")
    requires = raw.get("requires") or []
    if not isinstance(requires, list) or any(r not in STEPS or r == step for r in requires):
        raise FlowRuleError(f"flow.{step}.requires: a list of other steps ({', '.join(STEPS)})")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise FlowRuleError(f"flow.{step}.enabled: true or false")
    return StepRule(step, after, before, float(hours), tuple(requires), enabled)


def parse_rules(raw: dict, base: dict[str, StepRule] | None = None) -> dict[str, StepRule]:
    """Rules from ``raw`` (``{step: {...}}``), each step's keys laid over ``base``'s."""
    if not isinstance(raw, dict):
        raise FlowRuleError("flow: must be a mapping of step -> rule")
    out = dict(base or {})
    for step, rule in raw.items():
        out[step] = _rule(step, _merge(out[step], rule) if step in out and isinstance(rule, dict) else rule)
    return out


def _merge(base: StepRule, rule: dict) -> dict:
    """``rule`` over ``base``; within ``due``, hours alone keep the base's anchor, while
    naming ``after`` or ``before`` replaces it."""
    merged = {**_raw(base), **rule}
    due = rule.get("due")
    if isinstance(due, dict) and "due" in _raw(base):
        kept = {k: v for k, v in _raw(base)["due"].items() if not ({"after", "before"} & set(due)) or k == "hours"}
        merged["due"] = {**kept, **due}
    return merged


def _raw(rule: StepRule) -> dict:
    raw: dict = {"requires": list(rule.requires), "enabled": rule.enabled}
    if rule.after or rule.before:
        raw["due"] = {"hours": rule.hours, **({"after": rule.after} if rule.after else {"before": rule.before})}
    return raw


def load_default_rules(path: Path | None = None) -> dict[str, StepRule]:
    path = path or maps_dir() / "flow" / "default.yaml"
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return parse_rules(raw.get("steps") or {})
    except (yaml.YAMLError, FlowRuleError, AttributeError) as exc:
        raise FlowRuleError(f"{path}: {exc}") from None


_DEFAULTS: dict[str, StepRule] | None = None


def rules_for(overrides: dict | None) -> dict[str, StepRule]:
    """The default rules with a partner's ``flow:`` overrides (already validated) laid over."""
    global _DEFAULTS
    if _DEFAULTS is None:
        _DEFAULTS = load_default_rules()
    return parse_rules(overrides, _DEFAULTS) if overrides else _DEFAULTS


@dataclass
class FlowFacts:
    """What happened to one PO: the time of each step's first occurrence (and the count)."""

    first: dict[str, datetime] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)
    requested_date: date | None = None
    flagged_overdue: dict[str, datetime] = field(default_factory=dict)  # step -> when we raised it
    rejected: bool = False  # the supplier's latest 855 rejected the PO: no ASN or invoice is expected


@dataclass(frozen=True)
class StepStatus:
    step: str
    status: str  # done, late, missing, pending
    due_at: datetime | None
    done_at: datetime | None
    count: int
    rule: str
    out_of_order: bool = False
    problem: str | None = None


def _not_expected(step: str, facts: FlowFacts) -> bool:
    return facts.rejected and step in ("ship_notice", "invoice")


def _when(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def due_at(rule: StepRule, facts: FlowFacts) -> datetime | None:
    if rule.after:
        start = facts.first.get(rule.after)
        return start + timedelta(hours=rule.hours) if start else None
    if rule.before == "requested_date" and facts.requested_date:
        return datetime.combine(facts.requested_date, time(0), UTC) - timedelta(hours=rule.hours)
    return None


def evaluate(rules: dict[str, StepRule], facts: FlowFacts, now: datetime) -> list[StepStatus]:
    """Every step's status at ``now``, in flow order (disabled steps left out)."""
    out = []
    for step in STEPS:
        rule = rules.get(step, StepRule(step))
        if not rule.enabled:
            continue
        due, done = due_at(rule, facts), facts.first.get(step)
        if done is None and _not_expected(step, facts):
            out.append(StepStatus(step, "pending", None, None, 0, rule.text,
                                  problem="not expected: the supplier rejected the PO"))
            continue
        if done is not None:
            flagged = step in facts.flagged_overdue
            status = "late" if (due is not None and done > due) or flagged else "done"
        else:
            overdue = step in facts.flagged_overdue or (due is not None and now > due)
            status = "missing" if overdue else "pending"
        missing_before = [r for r in rule.requires if r not in facts.first or (done and facts.first[r] > done)]
        out_of_order = done is not None and bool(missing_before)
        problem = None
        if out_of_order:
            problem = f"the {LABELS[step]} came before the " + " and ".join(LABELS[r] for r in missing_before)
        elif status == "missing":
            problem = f"no {LABELS[step]}, due {rule.text}" + (f" ({_when(due)})" if due else "")
        elif status == "late" and due is not None and done > due:
            problem = f"the {LABELS[step]} came late: due {rule.text} ({_when(due)})"
        elif status == "late":
            problem = f"the {LABELS[step]} came after it was flagged overdue ({_when(facts.flagged_overdue[step])})"
        out.append(StepStatus(step, status, due, done, facts.count.get(step, 0),
                              "" if step == "order" else rule.text, out_of_order, problem))
    return out


def next_due(rules: dict[str, StepRule], facts: FlowFacts) -> datetime | None:
    """The earliest due time of a step not done and not yet flagged: when to look again."""
    times = [due_at(r, facts) for r in rules.values() if r.enabled and r.step not in facts.first
             and r.step not in facts.flagged_overdue and not _not_expected(r.step, facts)]
    return min((t for t in times if t is not None), default=None)
