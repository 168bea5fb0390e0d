"""Flow rules as data and their evaluation: each step's status at a given time (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.domain.partner import PartnerConfigError, load_partner
from gateway.flow.rules import (
    FlowFacts,
    FlowRuleError,
    evaluate,
    load_default_rules,
    next_due,
    rules_for,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _status(facts: FlowFacts, now: datetime, overrides: dict | None = None) -> dict[str, tuple]:
    return {s.step: (s.status, s.due_at) for s in evaluate(rules_for(overrides), facts, now)}


def test_the_defaults_are_the_documented_ones():
    rules = load_default_rules()
    assert (rules["functional_ack"].after, rules["functional_ack"].hours) == ("order", 4)
    assert (rules["order_ack"].after, rules["order_ack"].hours) == ("order", 24)
    assert (rules["ship_notice"].before, rules["ship_notice"].hours) == ("requested_date", 0)
    assert rules["invoice"].requires == ("ship_notice",)


def test_a_997_is_pending_until_4_hours_after_the_850_then_missing():
    facts = FlowFacts(first={"order": T0})
    assert _status(facts, T0 + 3 * H)["functional_ack"] == ("pending", T0 + 4 * H)
    assert _status(facts, T0 + 4 * H)["functional_ack"] == ("pending", T0 + 4 * H)  # due at, not yet past
    assert _status(facts, T0 + 5 * H)["functional_ack"] == ("missing", T0 + 4 * H)


def test_a_step_on_time_is_done_after_its_due_time_late_and_flagged_before_it_came_late():
    facts = FlowFacts(first={"order": T0, "order_ack": T0 + 20 * H})
    assert _status(facts, T0 + 100 * H)["order_ack"][0] == "done"
    facts.first["order_ack"] = T0 + 30 * H
    assert _status(facts, T0 + 100 * H)["order_ack"][0] == "late"
    on_time_but_flagged = FlowFacts(first={"order": T0, "order_ack": T0 + 2 * H},
                                    flagged_overdue={"order_ack": T0 + 25 * H})
    assert _status(on_time_but_flagged, T0 + 100 * H)["order_ack"][0] == "late"


def test_without_the_step_it_counts_from_a_step_has_no_due_time_and_stays_pending():
    facts = FlowFacts(first={"order_ack": T0})  # an 855 for a PO whose 850 we never saw
    assert _status(facts, T0 + 1000 * H)["functional_ack"] == ("pending", None)
    assert _status(facts, T0 + 1000 * H)["order"] == ("pending", None)


def test_the_asn_is_due_before_the_goods_on_the_requested_date():
    facts = FlowFacts(first={"order": T0}, requested_date=date(2026, 12, 10))
    due = datetime(2026, 12, 10, tzinfo=UTC)
    assert _status(facts, due - H)["ship_notice"] == ("pending", due)
    assert _status(facts, due + H)["ship_notice"] == ("missing", due)
    ahead = _status(facts, due - H, {"ship_notice": {"due": {"hours": 48}}})  # two days before the goods
    assert ahead["ship_notice"] == ("missing", due - 48 * H)


def test_an_invoice_before_the_asn_is_out_of_order_and_one_after_it_is_not():
    before = evaluate(rules_for(None), FlowFacts(first={"order": T0, "invoice": T0 + H}), T0 + 2 * H)
    invoice = next(s for s in before if s.step == "invoice")
    assert invoice.out_of_order and invoice.problem == "the 810 invoice came before the 856 ship notice (ASN)"
    asn_later = FlowFacts(first={"order": T0, "invoice": T0 + H, "ship_notice": T0 + 2 * H})
    assert next(s for s in evaluate(rules_for(None), asn_later, T0 + 3 * H) if s.step == "invoice").out_of_order
    in_order = FlowFacts(first={"order": T0, "ship_notice": T0 + H, "invoice": T0 + 2 * H})
    assert not next(s for s in evaluate(rules_for(None), in_order, T0 + 3 * H) if s.step == "invoice").out_of_order


def test_a_partner_override_changes_only_what_it_names():
    rules = rules_for({"functional_ack": {"due": {"hours": 2}}, "order_ack": {"due": {"after": "functional_ack"}},
                       "invoice": {"enabled": False}})
    assert (rules["functional_ack"].after, rules["functional_ack"].hours) == ("order", 2)
    assert (rules["order_ack"].after, rules["order_ack"].hours) == ("functional_ack", 24)
    assert "invoice" not in {s.step for s in evaluate(rules, FlowFacts(first={"order": T0}), T0)}
    assert rules_for(None)["functional_ack"].hours == 4  # the defaults are not changed by an override


def test_the_next_due_time_skips_steps_done_or_already_flagged():
    facts = FlowFacts(first={"order": T0}, requested_date=date(2026, 12, 10))
    rules = rules_for(None)
    assert next_due(rules, facts) == T0 + 4 * H
    facts.first["functional_ack"] = T0 + H
    assert next_due(rules, facts) == T0 + 24 * H
    facts.flagged_overdue["order_ack"] = T0 + 25 * H
    assert next_due(rules, facts) == datetime(2026, 12, 10, tzinfo=UTC)


@pytest.mark.parametrize("override, words", [
    ({"goods_receipt": {}}, "unknown step 'goods_receipt'"),
    ({"order": {"due": {"after": "invoice", "hours": 1}}}, "unknown step 'order'"),
    ({"order_ack": {"due": {"after": "order", "before": "requested_date"}}}, "exactly one of after or before"),
    ({"order_ack": {"due": {"hours": -1}}}, "flow.order_ack.due.hours"),
    ({"order_ack": {"due": {"hours": "soon"}}}, "flow.order_ack.due.hours"),
    ({"order_ack": {"due": {"after": "order_ack"}}}, "flow.order_ack.due.after"),
    ({"invoice": {"requires": ["payment"]}}, "flow.invoice.requires"),
    ({"invoice": {"within": 3}}, "unknown key(s) within"),
    ({"invoice": {"enabled": "no"}}, "flow.invoice.enabled"),
])
def test_a_bad_rule_is_refused_naming_the_step_and_field(override, words):
    with pytest.raises(FlowRuleError, match=None) as caught:
        rules_for(override)
    assert words in str(caught.value)


def test_a_partner_profile_with_a_bad_flow_rule_fails_to_load_naming_its_file(tmp_path):
    (tmp_path / "acme").mkdir()
    path = tmp_path / "acme" / "partner.yaml"
    path.write_text("id: acme\nname: ACME\nx12: {qualifier: ZZ, id: ACME}\nour_x12: {qualifier: ZZ, id: BUYERCO}\n"
                    "flow:\n  order_ack: {due: {hours: 8}}\n")
    assert load_partner(path).flow == {"order_ack": {"due": {"hours": 8}}}
    path.write_text(path.read_text().replace("hours: 8", "hours: -8"))
    with pytest.raises(PartnerConfigError, match="partner.yaml: flow.order_ack.due.hours"):
        load_partner(path)


def test_after_the_supplier_rejects_the_po_no_asn_or_invoice_is_expected():
    facts = FlowFacts(first={"order": T0, "functional_ack": T0 + H, "order_ack": T0 + 2 * H},
                      requested_date=date(2026, 12, 10), rejected=True)
    late = datetime(2027, 1, 1, tzinfo=UTC)
    status = {s.step: s for s in evaluate(rules_for(None), facts, late)}
    assert (status["ship_notice"].status, status["ship_notice"].due_at) == ("pending", None)
    assert status["invoice"].problem == "not expected: the supplier rejected the PO"
    assert next_due(rules_for(None), facts) is None  # nothing left to chase
    facts.rejected = False
    assert status["order_ack"].status == "done" and next_due(rules_for(None), facts) == datetime(2026, 12, 10,
                                                                                                  tzinfo=UTC)
