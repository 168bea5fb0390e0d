"""The CLI contract of DESIGN §4: JSON shapes and exit codes (0 ok, 1 invalid/failed, 2 usage)."""

from __future__ import annotations

import json
import os
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


# --- issue #11 item 1: honest answers -------------------------------------------------


@pytest.fixture
def miscounted_855(tmp_path):
    """Valid business content, broken envelope (SE01 counts one segment too many)."""
    text = SAMPLE_855.read_text()
    assert text.count("\nSE*16*0001~") == 1
    path = tmp_path / "miscounted.edi"
    path.write_text(text.replace("\nSE*16*0001~", "\nSE*17*0001~"))
    return path


def test_translate_refuses_a_file_that_fails_validation(miscounted_855):
    result = gateway("translate", str(miscounted_855), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)  # the findings, not events
    assert isinstance(report, dict) and report["valid"] is False
    assert "not a valid document, so no events were produced" in result.stderr
    text = gateway("translate", str(miscounted_855))
    assert text.returncode == 1 and text.stdout == ""
    assert "INVALID" in text.stderr and "--force" in text.stderr


def test_translate_force_keeps_the_old_behaviour(miscounted_855):
    result = gateway("translate", str(miscounted_855), "--json", "--force")
    assert result.returncode == 0, result.stderr
    [event] = json.loads(result.stdout)
    assert event["type"] == "purchase_order.acknowledged"


def test_translate_of_something_that_is_not_a_document_exits_1(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("dear supplier, please find attached\n")
    result = gateway("translate", str(junk))
    assert result.returncode == 1
    assert "not an X12 interchange or an XML document" in result.stderr
    assert result.stdout == ""


def test_maps_test_of_an_unknown_partner_exits_1():
    result = gateway("maps", "test", "UNKNOWN")
    assert result.returncode == 1
    assert "no partner 'UNKNOWN'" in result.stderr


def test_replay_of_nothing_exits_1(tmp_path):
    env = {**os.environ, "GATEWAY_HOME": str(tmp_path / "home")}
    env.pop("REDIS_URL", None), env.pop("DATABASE_URL", None)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True, env=env,
                              timeout=120)

    assert run("db", "upgrade").returncode == 0  # a real, empty database: "no such" is about the id
    document = run("replay", "document", "NOSUCH", "--reason", "test")
    assert document.returncode == 1 and "no document 'NOSUCH'" in document.stderr, document.stderr
    adapter = run("replay", "dead-letters", "NOSUCH", "--reason", "test")
    assert adapter.returncode == 1 and "no adapter 'NOSUCH'" in adapter.stderr, adapter.stderr
    assert run("replay", "document", "NOSUCH").returncode == 2  # --reason is required, as in the API


def test_a_closed_pipe_ends_quietly(tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_text("not a document\n")
    # Enough output (~250 KB) to overflow the pipe after the reader has gone, as `| head -1` does.
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "validate", *[str(junk)] * 2000],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert first.startswith(str(junk).encode())
    assert stderr == "", stderr


def test_our_missing_data_is_never_blamed_on_the_users_file(tmp_path):
    empty = tmp_path / "x12-tables"
    empty.mkdir()
    env = {**os.environ, "GATEWAY_X12_MAPS": str(empty), "GATEWAY_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-m", "gateway", "validate", str(SAMPLE_855)], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 1
    assert "cannot read" not in result.stderr
    assert "internal error: the gateway's X12 tables are missing" in result.stderr
    assert "this is not a problem with your file" in result.stderr
    assert "Traceback" not in result.stderr  # a known fault of ours is a message, not a crash


# --- issue #11 item 2: the CLI finds the Redis of a running `gateway up` -------------


def test_settings_join_the_recorded_redis_only_when_it_answers(tmp_path, redis_url):
    from support import free_port

    from gateway.config import load_settings

    settings = load_settings({"GATEWAY_HOME": str(tmp_path)})
    assert settings.with_running_redis().redis_url is None  # nothing recorded: nothing to join
    settings.redis_url_file.parent.mkdir(parents=True)
    settings.redis_url_file.write_text(f"redis://127.0.0.1:{free_port()}/0\n")  # a gateway that is gone
    assert settings.with_running_redis().redis_url is None
    settings.redis_url_file.write_text(redis_url + "\n")
    assert settings.with_running_redis().redis_url == redis_url
    explicit = load_settings({"GATEWAY_HOME": str(tmp_path), "REDIS_URL": "redis://elsewhere:6379/0"})
    assert explicit.with_running_redis().redis_url == "redis://elsewhere:6379/0"  # REDIS_URL wins


def test_a_stop_signal_never_waits_for_the_lock_of_the_event_it_sets():
    """A signal handler runs in the main thread, possibly while that thread holds the
    Event's lock inside ``stop.wait()``: setting the Event there would wait forever (a
    `gateway sweep --exit-with-parent` whose worker died hung so, its scheduler ticking on).
    The handler is called here while the Event's lock is held, as in that moment."""
    import signal
    import threading

    from gateway.cli import _set_on_signals

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stop = threading.Event()
    try:
        _set_on_signals(stop)
        handler = signal.getsignal(signal.SIGTERM)
        returned = threading.Event()

        def inside_wait():
            with stop._cond:  # what stop.wait() holds between its checks
                handler(signal.SIGTERM, None)
                returned.set()

        threading.Thread(target=inside_wait, daemon=True).start()
        assert returned.wait(10), "the handler waited for the lock its own thread holds"
        assert stop.wait(10)
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)
