"""The periodic scheduler on a real Redis: each task is queued once per interval however
many schedulers tick, never piles up behind a busy worker, and a run holding the lock
makes any other run of the same task skip its turn."""

from __future__ import annotations

import threading
import time

import pytest

from gateway import periodic
from gateway.periodic import PeriodicTask, run, runs, tick


def test_two_schedulers_queue_each_task_once_per_interval(rt):
    task_list = periodic.tasks(sweep=3600)
    first = tick(rt, task_list)
    second = tick(rt, task_list)  # another host ticking in the same interval
    assert sorted(first) == sorted(t.name for t in task_list)
    assert second == []
    assert rt.queue(periodic.QUEUE).count == len(task_list)


def test_a_task_still_waiting_in_the_queue_is_not_queued_again(rt):
    [sweep] = [t for t in periodic.tasks() if t.name == "sweep"]
    fast = (PeriodicTask(sweep.name, 0.05, sweep.function),)
    assert tick(rt, fast) == ["sweep"]
    time.sleep(0.2)  # the interval has passed, but no worker took the first job
    assert tick(rt, fast) == []
    assert rt.queue(periodic.QUEUE).count == 1


def test_a_run_skips_while_another_run_of_the_same_task_holds_the_lock(rt, monkeypatch):
    started, release = threading.Event(), threading.Event()

    def slow_sweep(rt_):
        started.set()
        release.wait(30)
        return {"documents": 0}

    import gateway.routing.outbox as outbox

    monkeypatch.setattr(outbox, "sweep", slow_sweep)  # a sweep that takes a while, so two runs meet
    task = next(t for t in periodic.tasks() if t.name == "sweep")
    first = threading.Thread(target=run, args=(rt, task))
    first.start()
    assert started.wait(30)
    assert run(rt, task) == "skipped"
    release.set()
    first.join(30)
    assert [r["outcome"] for r in runs(rt.redis, "sweep")] == ["ok", "skipped"]
    assert run(rt, task) == "ok"  # the lock was released by its holder


def test_a_failing_task_is_recorded_and_its_lock_released(rt, monkeypatch):
    import gateway.routing.outbox as outbox

    def broken(rt_):
        raise RuntimeError("database away")

    monkeypatch.setattr(outbox, "sweep", broken)
    task = next(t for t in periodic.tasks() if t.name == "sweep")
    assert run(rt, task) == "failed"
    assert "database away" in runs(rt.redis, "sweep")[0]["detail"]
    assert "success" not in periodic.last_runs(rt.redis)["sweep"]
    monkeypatch.undo()
    assert run(rt, task) == "ok"
    assert periodic.last_runs(rt.redis)["sweep"]["success"] > 0


def test_intervals_from_the_environment():
    chosen = {t.name: t.interval for t in periodic.tasks({"GATEWAY_PERIODIC_INTERVALS": "sweep=2, as2-resend=7"})}
    assert chosen["sweep"] == 2 and chosen["as2-resend"] == 7 and chosen["overdue-acks"] == 60
    from gateway.config import ConfigError

    for bad in ("nosuch=1", "sweep=fast", "sweep=0"):
        with pytest.raises(ConfigError):
            periodic.tasks({"GATEWAY_PERIODIC_INTERVALS": bad})
