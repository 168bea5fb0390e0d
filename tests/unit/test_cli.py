"""The CLI contract of DESIGN §4: JSON shapes and exit codes (0 ok, 1 invalid/failed, 2 usage)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import SAMPLES

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"


def gateway(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


@pytest.fixture
def bad_855(tmp_path):
    text = SAMPLE_855.read_text()
    text = text.replace("PO1*3*25*BX", "PO1*3*ten*BX").replace("ACK*IA*100*EA*068*20261201", "ACK*IA*100*EA*068*20261341")
    path = tmp_path / "bad.edi"
    path.write_text(text)
    return path


def test_validate_json_for_a_valid_file():
    result = gateway("validate", str(SAMPLE_855), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["valid"] is True and report["format"] == "x12" and report["errors"] == []
    assert report["transactions"] == [{"set_id": "855", "control_number": "0001", "group_control_number": "101",
                                       "interchange_control_number": "000000101", "valid": True, "errors": []}]


def test_validate_reports_each_error_where_it_is(bad_855):
    result = gateway("validate", str(bad_855), "--json")
    assert result.returncode == 1
    [ts] = json.loads(result.stdout)["transactions"]
    errors = {(e["segment_id"], e["segment_index"], e["element"]): e for e in ts["errors"]}
    po102 = errors[("PO1", 12, "PO102")]
    assert po102["message"] == "PO1 #3 (segment 12), element PO102: 'ten' is not a number"
    assert errors[("ACK", 8, "ACK05")]["code"] == "INVALID_DATE"
    text = gateway("validate", str(bad_855)).stdout
    assert "PO1 #3 (segment 12), element PO102: 'ten' is not a number" in text


def test_validate_several_files_gives_a_list_and_fails_if_one_is_invalid(bad_855):
    result = gateway("validate", str(SAMPLE_855), str(bad_855), "--json")
    assert result.returncode == 1
    assert [r["valid"] for r in json.loads(result.stdout)] == [True, False]


def test_ack_prints_the_997_that_would_be_sent(bad_855):
    ok = gateway("ack", str(SAMPLE_855))
    assert ok.returncode == 0 and "AK9*A*1*1*1" in ok.stdout
    bad = gateway("ack", str(bad_855))
    assert bad.returncode == 1
    assert "AK3*PO1*12**8~AK4*2*330*6*ten~" in bad.stdout and "AK5*R*5~" in bad.stdout


def test_translate_prints_the_events():
    result = gateway("translate", str(SAMPLE_855), "--json")
    assert result.returncode == 0, result.stderr
    [event] = json.loads(result.stdout)
    assert event["type"] == "purchase_order.acknowledged"
    assert event["payload"]["po_number"] == "4500012345"


def test_usage_errors_exit_2(tmp_path):
    assert gateway("validate").returncode == 2
    assert gateway("no-such-command").returncode == 2
    assert gateway("validate", str(tmp_path / "missing.edi")).returncode == 2
    assert gateway("translate", str(SAMPLE_855), "--partner", "nobody").returncode == 2


def test_maps_test_runs_the_map_tests_as_data():
    result = gateway("maps", "test", "demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout
