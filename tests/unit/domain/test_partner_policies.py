"""The partner settings of issue #10: control-number reuse and test data, validated on load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from gateway.domain.partner import PartnerConfigError, load_partner

DEMO = Path(__file__).resolve().parents[3] / "partners" / "demo" / "partner.yaml"


def profile(tmp_path, **changes) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    shutil.copy(DEMO, folder / "partner.yaml")
    data = yaml.safe_load(DEMO.read_text())
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    (folder / "partner.yaml").write_text(yaml.safe_dump(data))
    return folder / "partner.yaml"


def test_the_safe_defaults():
    demo = load_partner(DEMO)
    assert demo.control_number_reuse == "after_rejection"
    assert demo.test_data == "hold"


def test_the_settings_are_read(tmp_path):
    p = load_partner(profile(tmp_path, x12={"control_number_reuse": "never"}, test_data="route"))
    assert (p.control_number_reuse, p.test_data) == ("never", "route")


@pytest.mark.parametrize("changes, field", [
    ({"x12": {"control_number_reuse": "sometimes"}}, "control_number_reuse"),
    ({"test_data": "deliver"}, "test_data"),
])
def test_a_wrong_value_fails_loading_naming_file_and_field(tmp_path, changes, field):
    path = profile(tmp_path, **changes)
    with pytest.raises(PartnerConfigError) as err:
        load_partner(path)
    assert str(path) in str(err.value) and field in str(err.value)


def test_reuse_policy_belongs_to_the_partner_not_to_us(tmp_path):
    with pytest.raises(PartnerConfigError, match="control_number_reuse"):
        load_partner(profile(tmp_path, our_x12={"control_number_reuse": "never"}))
