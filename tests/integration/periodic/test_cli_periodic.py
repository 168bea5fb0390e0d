"""`gateway periodic run` runs a task here under the scheduled jobs' lock; `gateway
periodic status` shows what each task did last."""

from __future__ import annotations

import json

from gateway import periodic
from gateway.cli import main


def test_run_then_status(rt, capsys):
    assert main(["periodic", "run", "sweep"]) == 0
    assert capsys.readouterr().out.strip() == "sweep: ok"
    assert main(["periodic", "status", "--json"]) == 0
    rows = {r["task"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["sweep"]["last_outcome"] == "ok" and rows["sweep"]["last_success_ago"] >= 0
    assert rows["as2-resend"]["last_outcome"] is None  # never ran
    assert set(rows) == {t.name for t in periodic.tasks()}


def test_run_skips_while_the_task_is_held_elsewhere_and_refuses_an_unknown_task(rt, capsys):
    rt.redis.set(periodic.KEY.format(name="sweep", part="running"), "another-worker", px=60_000)
    assert main(["periodic", "run", "sweep"]) == 0
    assert "skipped" in capsys.readouterr().out
    assert main(["periodic", "run", "nosuch"]) == 2
    assert "no periodic task 'nosuch'" in capsys.readouterr().err
