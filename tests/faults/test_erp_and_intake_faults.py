"""The ERP failing on script (F12: 500 then recovery; commit then drop), the same file
delivered twice at once (D1), and the database away at intake (F10)."""

from __future__ import annotations

import pytest
from faultkit import (
    SAMPLE_855,
    Processes,
    TcpProxy,
    all_delivered,
    assert_exactly_once,
    drain,
    gateway_env,
    in_process_runtime,
    ledger,
    make_855,
    wait_for,
)
from paramiko.sftp import SFTP_FAILURE, SFTP_OK

from gateway.intake.receive import receive
from gateway.transports.sftp_upload import accept


@pytest.fixture
def env(tmp_path, database_url, redis_url, erp):
    return gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url,
                       GATEWAY_DELIVERY_MAX_ATTEMPTS="30", GATEWAY_DELIVERY_BACKOFF="0.2")


def test_the_erp_answers_500_for_a_while_then_recovers(env, monkeypatch, erp):
    rt = in_process_runtime(monkeypatch, env)
    erp.script = [500] * 6  # the first six POSTs fail, whatever the timing on a busy machine
    for n in range(3):
        receive(rt, make_855(600 + n), channel="sftp", filename=f"{n}.edi", partner_id="demo")
    drain(rt, rounds=200)
    assert_exactly_once(rt, erp)
    assert any(p["action"] == 500 for p in erp.posts) and all(n == 1 for n in erp.committed().values())


def test_the_erp_commits_and_then_drops_the_connection(env, monkeypatch, erp):
    rt = in_process_runtime(monkeypatch, env)
    erp.script = ["drop", "drop", 200]  # took it twice, answered neither: we cannot know, so we retry
    receive(rt, SAMPLE_855.read_bytes(), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    [key] = set(erp.keys())
    assert_exactly_once(rt, erp, reposted={key})
    assert erp.keys() == [key] * 3  # the same key every time: the ERP keeps one posting


@pytest.mark.slow
def test_the_same_file_delivered_twice_at_the_same_moment(env, monkeypatch, erp, tmp_path):
    rt = in_process_runtime(monkeypatch, env)
    procs = Processes(env, tmp_path)
    path = tmp_path / "same.edi"
    path.write_bytes(make_855(650))
    code = ("from gateway.bootstrap import bootstrap; from gateway.intake.receive import receive; "
            f"receive(bootstrap(), open({str(path)!r}, 'rb').read(), channel='sftp', filename='same.edi', "
            "partner_id='demo')")
    try:
        senders = [procs.python(code, name="intake") for _ in range(2)]  # two intake processes, same bytes
        assert [p.wait(60) for p in senders] == [0, 0]
        procs.worker()
        procs.worker()
        wait_for(lambda: all_delivered(rt) and not ledger(rt)["documents"].get("received"), 90, what="both")
    finally:
        procs.stop_all()
    assert ledger(rt)["documents"] == {"accepted": 1, "duplicate": 1}
    assert_exactly_once(rt, erp)
    assert len(erp.posts) == 1


def test_the_database_away_at_intake_means_the_sender_is_told_to_retry(tmp_path, database_url, redis_url,
                                                                        monkeypatch, erp):
    if not database_url.startswith("postgresql"):
        pytest.skip("a SQLite file is never 'away' separately from the disk; PostgreSQL goes through a proxy")
    host_port = database_url.split("@", 1)[1].split("/", 1)[0]
    proxy = TcpProxy(int(host_port.rsplit(":", 1)[1])).up()
    url = database_url.replace(host_port, f"127.0.0.1:{proxy.port}")
    env = gateway_env(tmp_path, url, redis_url, GATEWAY_ERP_URL=erp.url)
    rt = in_process_runtime(monkeypatch, env)
    data = make_855(660)
    try:
        proxy.down()
        status, message = accept(rt, "demo", "po.edi", data)  # what the SFTP CLOSE answers
        assert status == SFTP_FAILURE and "send it again" in message
        with pytest.raises(Exception):  # noqa: B017 - any driver error; the point is: no receipt
            receive(rt, data, channel="http", filename="po.edi", partner_id="demo")
        proxy.up()
        assert ledger(rt)["documents"] == {}  # nothing was acknowledged, nothing half-recorded
        assert accept(rt, "demo", "po.edi", data)[0] == SFTP_OK  # the sender's retry
        drain(rt)
    finally:
        proxy.down()
    # (the proxy is down again, so read the result straight from the database)
    direct = in_process_runtime(monkeypatch, gateway_env(tmp_path, database_url, redis_url, GATEWAY_ERP_URL=erp.url))
    assert ledger(direct)["documents"] == {"accepted": 1}
    assert_exactly_once(direct, erp)
