"""``gateway periodic``: what the periodic tasks did last (``status``), and one run of a
task now (``run``), under the same lock the scheduled jobs take."""

from __future__ import annotations

import json
import time

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def cmd_periodic_status(args) -> int:
    from gateway import periodic
    from gateway.cli import cli_runtime

    rt = cli_runtime()
    now = time.time()
    rows = []
    for task in periodic.tasks():
        runs = periodic.runs(rt.redis, task.name)
        last_ok = next((r for r in runs if r["outcome"] == "ok"), None)
        rows.append({"task": task.name, "interval": task.interval, "function": task.function,
                     "last_outcome": runs[0]["outcome"] if runs else None,
                     "last_detail": runs[0]["detail"] if runs else None,
                     "last_success_ago": round(now - last_ok["finished"], 1) if last_ok else None,
                     "last_duration": round(last_ok["finished"] - last_ok["started"], 3) if last_ok else None})
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    print(f"{'task':20} {'every':>8} {'last success':>14} {'took':>8}  last outcome")
    for r in rows:
        ago = f"{r['last_success_ago']:.0f}s ago" if r["last_success_ago"] is not None else "never"
        took = f"{r['last_duration']:.2f}s" if r["last_duration"] is not None else "-"
        outcome = r["last_outcome"] or "-"
        detail = f" ({r['last_detail']})" if r["last_outcome"] == "failed" else ""
        print(f"{r['task']:20} {r['interval']:>7g}s {ago:>14} {took:>8}  {outcome}{detail}")
    return EXIT_OK


def cmd_periodic_run(args) -> int:
    from gateway import periodic
    from gateway.cli import UsageError, cli_runtime

    try:
        task = periodic.task_named(args.task)
    except KeyError:
        raise UsageError(f"no periodic task {args.task!r}; known: "
                         f"{', '.join(t.name for t in periodic.tasks())}") from None
    outcome = periodic.run(cli_runtime(), task)
    print(f"{task.name}: {outcome}" + (" (a run of it is going on elsewhere)" if outcome == "skipped" else ""))
    return EXIT_FAILED if outcome == "failed" else EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("periodic", help="the periodic tasks (sweeper, AS2 resends, ack and certificate checks)")
    ps = p.add_subparsers(dest="periodic_command", required=True)
    st = ps.add_parser("status", help="when each task last ran, how long it took, and how it ended")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_periodic_status)
    rn = ps.add_parser("run", help="run one task now, here (skipped while a run of it is going on elsewhere)")
    rn.add_argument("task")
    rn.set_defaults(func=cmd_periodic_run)
