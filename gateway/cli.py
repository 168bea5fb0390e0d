"""The ``gateway`` command. Exit codes: 0 ok, 1 the document is invalid or the command
failed, 2 bad usage (DESIGN §4).

Honest endings: our own failure (missing package data, a bug) is reported as ours and
never as a problem with the user's file; a closed pipe (``gateway validate ... | head``)
and Ctrl-C end quietly, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False, default=str))


def cli_runtime():
    """Without REDIS_URL, the Redis of a `gateway up` on this GATEWAY_HOME, if one runs."""
    from gateway.bootstrap import bootstrap
    from gateway.config import load_settings
    from gateway.onboarding.directory import refresh

    rt = bootstrap(load_settings().with_running_redis())
    refresh(rt)  # with the partners and maps onboarded in the console
    return rt


def cmd_up(args) -> int:
    from gateway.roles import start_all

    stop = threading.Event()
    _set_on_signals(stop)  # Ctrl-C while starting, too: stop what is up, quietly
    gw = start_all()
    try:
        return _serve(gw, stop)
    finally:
        gw.settings.redis_url_file.unlink(missing_ok=True)
        gw.stop()


def _serve(gw, stop: threading.Event) -> int:
    s = gw.settings
    # CLI commands on this GATEWAY_HOME (`gateway replay`, ...) queue on this Redis.
    s.redis_url_file.parent.mkdir(parents=True, exist_ok=True)
    s.redis_url_file.write_text(s.redis_url + "\n")
    _wait_for_workers(gw, stop)
    if stop.is_set():
        print("stopping before start-up finished (interrupted)", file=sys.stderr)
        return EXIT_OK
    schemas = _schema_banner()  # its warnings (cXML not DTD-checked) come before the banner
    print("Supplier EDI Gateway is up.")
    print(f"  data directory   {s.home}")
    print(f"  database         {s.database_url}")
    print(f"  redis            {s.redis_url}{' (embedded)' if gw.redis else ''}")
    print(f"  SFTP             sftp -P {gw.sftp.port} <partner>@{s.host}   host key {gw.sftp.fingerprint}")
    if gw.as2 is not None:
        from gateway.transports.as2_profiles import directory

        d = directory(gw.as2)
        print(f"  AS2              http://{s.host}:{gw.http.port}/as2   as {d.config.as2_id}, certificate "
              f"{d.our_keys[0].info.fingerprint[:23]}... ({d.our_keys[0].path.with_suffix('.crt')})")
    if gw.folder is not None:
        print(f"  watched folder   {gw.folder.settings.root}/<partner>/")
    print(f"  HTTP             http://{s.host}:{gw.http.port}/healthz   /metrics")
    print(f"  cXML             http://{s.host}:{gw.http.port}/cxml   (partners with a cxml: block in partner.yaml)")
    print(f"  console          http://{s.host}:{gw.http.port}/   (an account: gateway users create NAME --role support)")
    if gw.demo_erp:
        print(f"  demo ERP         http://{s.host}:{gw.http.port}/demo/erp   (no GATEWAY_ERP_URL: events are posted here)")
    else:
        print(f"  ERP              {s.erp_url}")
    print(f"  worker           pid {gw.worker.pid}")
    print("  partners         " + ", ".join(sorted(_runtime_partners(s))))
    print(f"  XML schemas      {schemas}")
    print("Authorize a key:   gateway partners authorize demo ~/.ssh/id_ed25519.pub")
    print("Press Ctrl-C to stop.", flush=True)
    while not stop.wait(1):
        gw.supervise()  # a dead worker or embedded Redis is restarted with backoff; the rest stays up
    return EXIT_OK


def _schema_banner() -> str:
    """One line on what XML is validated against; a family that is not, said out loud."""
    from gateway.xml.schemas import schema_dir

    off = _warn_unvalidated_xml()
    return f"{schema_dir()}" + (" (" + "; ".join(w.split(":")[0] for w in off) + ")" if off else "")


def _warn_unvalidated_xml() -> list[str]:
    """Say at start-up which XML family will not be checked against a schema (cXML, by default)."""
    from gateway.xml.schemas import coverage, schema_dir

    off = [why for why in coverage(schema_dir()).values() if why]
    for why in off:
        print(f"warning: {why}", file=sys.stderr, flush=True)
    return off


def _wait_for_workers(gw, stop: threading.Event | None = None, timeout: float = 120.0) -> None:
    """Say "up" only once every worker has registered with Redis (maps loaded, warm)."""
    import time

    from rq import Worker

    from gateway.routing.queues import connect

    redis, expected = connect(gw.settings.redis_url), 1 + len(gw.extra_workers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(Worker.all(connection=redis)) < expected:
        if stop is not None and stop.is_set():
            return
        gw.supervise()  # a worker that dies while starting is restarted, not waited for
        time.sleep(0.2)


def _runtime_partners(settings) -> list[str]:
    from gateway.domain.partner import load_partners

    return list(load_partners(settings.partners_dir))


def cmd_worker(args) -> int:
    from gateway.bootstrap import runtime
    from gateway.roles import run_worker

    queue_names = tuple(q.strip() for q in args.queues.split(",") if q.strip()) if args.queues else None
    if not os.environ.get("GATEWAY_UP_CHILD"):  # under `gateway up`, which said it once already
        _warn_unvalidated_xml()
    try:
        run_worker(runtime(), burst=args.burst, queue_names=queue_names, sweep_interval=args.sweep_interval,
                   sweeper=not args.no_sweeper, fork=args.fork)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


def cmd_folder(args) -> int:
    from gateway.transports.folder import FolderWatcher

    watcher = FolderWatcher(cli_runtime()).start()
    print(f"watching {watcher.settings.root} (one folder per partner)", flush=True)
    _wait_for_signal()
    watcher.stop()
    return EXIT_OK


def cmd_sftp(args) -> int:
    from gateway.transports.sftp import SFTPService

    rt = cli_runtime()
    _check_redis(rt)
    svc = SFTPService(rt).start()
    print(f"SFTP on {svc.host}:{svc.port}, host key {svc.fingerprint}", flush=True)
    _wait_for_signal()
    svc.stop()
    return EXIT_OK


def cmd_web(args) -> int:
    from gateway.roles import HttpService

    rt = cli_runtime()
    _check_redis(rt)
    http = HttpService(rt, demo_erp=args.demo_erp).start()
    print(f"HTTP on http://{rt.settings.host}:{http.port}", flush=True)
    _wait_for_signal()
    http.stop()
    return EXIT_OK


def _check_redis(rt) -> None:
    """Intake enqueues too: refuse a Redis that may evict jobs (a reachable one, at least)."""
    from gateway.routing.queues import check_eviction_policy

    if rt.settings.redis_url:
        try:
            rt.redis.ping()
        except Exception:  # Redis away: intake still stores; the sweeper enqueues later
            return
        check_eviction_policy(rt.redis)


def _set_on_signals(stop: threading.Event) -> None:
    """SIGINT/SIGTERM set ``stop``, from a short-lived thread: a handler runs in the main
    thread between two bytecodes, possibly while that thread holds the Event's own lock
    inside ``stop.wait()``, and ``stop.set()`` there would wait for that lock forever (a
    scheduler left running after its worker died hung exactly so, ticking on)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: threading.Thread(target=stop.set, daemon=True).start())


def _wait_for_signal() -> None:
    stop = threading.Event()
    _set_on_signals(stop)
    stop.wait()


def cmd_db_upgrade(args) -> int:
    from gateway.config import load_settings
    from gateway.store.migrate import current_revision, upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    print(f"database at revision {current_revision(settings.database_url)}")
    return EXIT_OK


def cmd_partners_list(args) -> int:
    rt = cli_runtime()
    rows = [{"id": p.id, "name": p.name, "isa": f"{p.x12.qualifier}/{p.x12.id}", "ack": p.x12.ack}
            for p in rt.partners.values()]
    if args.json:
        _print_json(rows)
    else:
        for r in rows:
            print(f"{r['id']:<16} {r['isa']:<20} {r['name']}")
    return EXIT_OK


def cmd_partners_authorize(args) -> int:
    from gateway.transports.sftp_auth import PublicKeyError, authorize_key

    rt = cli_runtime()
    try:
        text = Path(args.keyfile).expanduser().read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {args.keyfile}: {exc.strerror}") from None
    try:
        fp = authorize_key(rt, args.partner, text)
    except PublicKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{fp} may now log in over SFTP as {args.partner!r}")
    return EXIT_OK


def cmd_documents_list(args) -> int:
    from gateway.store.views import document_summary, list_documents

    rt = cli_runtime()
    with rt.session() as s:
        docs = [document_summary(d) for d in list_documents(s, status=args.status, partner_id=args.partner,
                                                             limit=args.limit)]
    if args.json:
        _print_json(docs)
    else:
        for d in docs:
            print(f"{d['id']}  {d['received_at'][:19]}  {d['partner_id'] or '-':<10} {d['format']:<7} "
                  f"{d['status']:<9} {d['filename']}")
    return EXIT_OK


def cmd_documents_show(args) -> int:
    from gateway.store.models import Document
    from gateway.store.views import document_detail

    rt = cli_runtime()
    with rt.session() as s:
        doc = s.get(Document, args.id)
        if doc is None:
            print(f"error: no document {args.id!r}", file=sys.stderr)
            return EXIT_FAILED
        detail = document_detail(doc)
    if args.json:
        _print_json(detail)
        return EXIT_OK
    test = "  TEST DATA" if detail["test"] else ""
    print(f"{detail['id']}  {detail['status']}{test}  from {detail['partner_id']} via {detail['channel']}: "
          f"{detail['filename']}")
    if detail["reason"]:
        print(f"  reason: {detail['reason']}")
    for t in detail["transaction_sets"]:
        print(f"  {t['set_id']} #{t['control_number']} (group {t['group_control_number']}): {t['status']}")
        for e in t["errors"]:
            print(f"    - {e['message']}")
    for a in detail["acks"]:
        print(f"  ack {a['kind']} ISA13 {a['interchange_control_number']}: {a['status']} {a['destination'] or ''}")
    for e in detail["events"]:
        states = ", ".join(f"{d['adapter']} {d['status']}" for d in e["deliveries"]) or "no routes"
        print(f"  event {e['type']} {e['event_id']}: {states}")
    return EXIT_OK


def cmd_demo_erp_list(args) -> int:
    from gateway.web.demo_erp import list_postings

    postings = list_postings(cli_runtime())
    if args.json:
        _print_json(postings)
    else:
        for p in postings:
            payload = p["event"].get("payload", {})
            key = payload.get("po_number") or payload.get("shipment_id") or payload.get("invoice_number") or ""
            print(f"{p['received_at'][:19]}  {p['event_type']:<30} {key:<14} {p['idempotency_key']}")
    return EXIT_OK


def cmd_tokens_create(args) -> int:
    from gateway.web.auth import create_token

    try:
        token = create_token(cli_runtime(), args.name, args.role, args.partner)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(token)
    print(f"(shown once) bearer token {args.name!r} with role {args.role}", file=sys.stderr)
    return EXIT_OK


def cmd_sweep(args) -> int:
    from gateway.routing.outbox import sweep

    rt = cli_runtime()
    if not args.every:
        _print_json(sweep(rt))
        return EXIT_OK
    from gateway.roles import Sweeper

    sweeper = Sweeper(rt, args.every).start()
    if args.exit_with_parent:  # started by a worker: a kill -9 of the worker must not orphan us
        parent = os.getppid()
        stop = threading.Event()
        _set_on_signals(stop)
        while not stop.wait(1) and os.getppid() == parent:
            pass
    else:
        _wait_for_signal()
    sweeper.stop()
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from gateway.domain.status import DocumentStatus

    p = argparse.ArgumentParser(prog="gateway", description="Supplier EDI Gateway")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start everything with embedded defaults").set_defaults(func=cmd_up)
    w = sub.add_parser("worker", help="run an RQ worker (all queues, critical first)")
    w.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    w.add_argument("--queues", help="comma-separated queues to serve (default all: erp,process,acks,planning,notify);"
                                    " always served in that priority order")
    w.add_argument("--sweep-interval", type=float, default=5.0, help="seconds between sweeper passes (default 5)")
    w.add_argument("--no-sweeper", action="store_true", help="do not run a sweeper beside this worker")
    w.add_argument("--fork", action="store_true",
                   help="run each job in a forked work horse (isolates memory of huge documents; ~200 ms per job)")
    w.set_defaults(func=cmd_worker)
    sub.add_parser("sftp", help="run the SFTP server alone").set_defaults(func=cmd_sftp)
    sub.add_parser("folder", help="watch the local drop folder alone").set_defaults(func=cmd_folder)
    web = sub.add_parser("web", help="run the HTTP server alone")
    web.add_argument("--demo-erp", action="store_true", help="also serve the demo ERP receiver")
    web.set_defaults(func=cmd_web)
    sw = sub.add_parser("sweep", help="re-queue work the database says is waiting (once), or run the periodic "
                                      "scheduler (--every)")
    sw.add_argument("--every", type=float, metavar="SECONDS",
                    help="run the periodic-task scheduler, queueing the sweep at this interval")
    sw.add_argument("--exit-with-parent", action="store_true", help="stop when the process that started it ends")
    sw.set_defaults(func=cmd_sweep)

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    partners = sub.add_parser("partners", help="trading partners").add_subparsers(dest="partners_command", required=True)
    pl = partners.add_parser("list")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=cmd_partners_list)
    pa = partners.add_parser("authorize", help="let an SSH public key log in over SFTP as the partner")
    pa.add_argument("partner")
    pa.add_argument("keyfile")
    pa.set_defaults(func=cmd_partners_authorize)

    docs = sub.add_parser("documents", help="received documents").add_subparsers(dest="documents_command", required=True)
    dl = docs.add_parser("list")
    dl.add_argument("--json", action="store_true")
    dl.add_argument("--status", choices=[s.value for s in DocumentStatus])
    dl.add_argument("--partner")
    dl.add_argument("--limit", type=int, default=100)
    dl.set_defaults(func=cmd_documents_list)
    ds = docs.add_parser("show")
    ds.add_argument("id")
    ds.add_argument("--json", action="store_true")
    ds.set_defaults(func=cmd_documents_show)

    demo = sub.add_parser("demo-erp", help="the built-in demo ERP receiver").add_subparsers(dest="demo_command",
                                                                                           required=True)
    dp = demo.add_parser("list", help="what the demo ERP was sent")
    dp.add_argument("--json", action="store_true")
    dp.set_defaults(func=cmd_demo_erp_list)

    tokens = sub.add_parser("tokens", help="API bearer tokens").add_subparsers(dest="tokens_command", required=True)
    tc = tokens.add_parser("create", help="create a token (printed once)")
    tc.add_argument("name")
    tc.add_argument("--role", required=True, choices=["admin", "support", "buyer", "viewer", "partner"])
    tc.add_argument("--partner", help="the partner a partner-role token belongs to")
    tc.set_defaults(func=cmd_tokens_create)

    from gateway.cli_documents import register

    register(sub)
    from gateway.cli_delivery import register as register_delivery

    register_delivery(sub)
    from gateway.cli_outbound import register as register_outbound

    register_outbound(sub)
    from gateway.cli_users import register as register_users

    register_users(sub)
    from gateway.cli_periodic import register as register_periodic

    register_periodic(sub)
    return p


EXIT_INTERRUPTED = 128 + signal.SIGINT  # what a shell reports for Ctrl-C


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    try:
        from gateway.observe.logs import configure

        configure(args.command)  # JSON or text (GATEWAY_LOG_FORMAT), each line with its correlation id
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here for output still buffered
        return code
    except BrokenPipeError:
        # The reader went away (`| head`): what it wanted, it has. Point stdout at
        # /dev/null so the interpreter's own last flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        return _failed(exc)


def _failed(exc: Exception) -> int:
    """A setting's fault names the setting; our own missing data or a bug says it is ours."""
    from gateway.config import ConfigError
    from gateway.domain.partner import PartnerConfigError
    from gateway.resources import MissingDataError
    from gateway.routing.queues import RedisPolicyError
    from gateway.routing.routes import RouteConfigError

    if isinstance(exc, MissingDataError):
        print(exc, file=sys.stderr)  # "internal error: the gateway's ... are missing at ..."
        return EXIT_FAILED
    if isinstance(exc, ConfigError | PartnerConfigError | RedisPolicyError | RouteConfigError):
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    import traceback

    traceback.print_exc()  # for the bug report
    print(f"internal error: {type(exc).__name__}: {exc}; this is a fault in the gateway, not a problem with "
          "your input", file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":  # `python -m gateway.cli` works like `python -m gateway`
    sys.exit(main())
