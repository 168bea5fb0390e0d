"""Where runtime data is found (gateway.resources): setting, then package data, then checkout."""

from __future__ import annotations

import pytest
from support import REPO

from gateway import resources
from gateway.config import ConfigError


def test_in_the_checkout_everything_comes_from_the_repository():
    assert resources.data_root() == REPO
    assert resources.x12_spec_dir({}) == REPO / "maps" / "x12" / "spec"
    assert resources.translate_maps_dir({}) == REPO / "maps" / "translate"
    assert resources.schemas_dir({}) == REPO / "maps" / "xml"
    assert resources.partners_dir({}) == REPO / "partners"
    assert resources.routes_file({}) == REPO / "routes.yaml"


def test_a_setting_wins_and_must_exist(tmp_path):
    assert resources.x12_maps_dir({"GATEWAY_X12_MAPS": str(tmp_path)}) == tmp_path
    assert resources.routes_file({"GATEWAY_ROUTES_FILE": str(REPO / "routes.yaml")}) == REPO / "routes.yaml"
    with pytest.raises(ConfigError, match="GATEWAY_PARTNERS_DIR"):
        resources.partners_dir({"GATEWAY_PARTNERS_DIR": str(tmp_path / "missing")})


def test_package_data_comes_before_the_checkout(tmp_path, monkeypatch):
    (tmp_path / "maps" / "translate").mkdir(parents=True)
    monkeypatch.setattr(resources, "PACKAGE_DATA", tmp_path)
    assert resources.data_root() == tmp_path
    assert resources.translate_maps_dir({}) == tmp_path / "maps" / "translate"


def test_missing_data_of_ours_says_it_is_ours(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "PACKAGE_DATA", tmp_path / "site-packages" / "gateway" / "_data")
    monkeypatch.setattr(resources, "CHECKOUT", tmp_path / "nothing")
    with pytest.raises(resources.MissingDataError) as caught:
        resources.x12_spec_dir({})
    message = str(caught.value)
    assert message.startswith("internal error: the gateway's X12 tables are missing at ")
    assert "this is not a problem with your file" in message and "GATEWAY_X12_MAPS" in message
    assert resources.routes_file({}, check=False) == tmp_path / "site-packages" / "gateway" / "_data" / "routes.yaml"
