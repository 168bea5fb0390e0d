"""The partner's ack deadline: 24 hours unless its profile says otherwise, and checked."""

from __future__ import annotations

import pytest

from gateway.domain.partner import PartnerConfigError, load_partner

PROFILE = """id: acme
name: ACME
x12: {{qualifier: ZZ, id: ACME{extra}}}
our_x12: {{qualifier: ZZ, id: BUYERCO}}
"""


def _load(tmp_path, extra: str = ""):
    (tmp_path / "acme").mkdir()
    path = tmp_path / "acme" / "partner.yaml"
    path.write_text(PROFILE.format(extra=extra))
    return load_partner(path)


def test_the_default_deadline_is_a_day(tmp_path):
    assert _load(tmp_path).x12.ack_deadline_hours == 24


def test_a_partner_may_have_its_own(tmp_path):
    assert _load(tmp_path, ", ack_deadline_hours: 4").x12.ack_deadline_hours == 4


@pytest.mark.parametrize("value", ["0", "-1", "soon", "1000"])
def test_a_deadline_that_makes_no_sense_fails_at_load_naming_the_field(tmp_path, value):
    with pytest.raises(PartnerConfigError, match="ack_deadline_hours"):
        _load(tmp_path, f", ack_deadline_hours: {value}")
