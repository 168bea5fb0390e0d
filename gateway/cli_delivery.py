"""CLI commands for deliveries: ``gateway replay ...``, ``gateway reprocess``, ``gateway void``,
``gateway deliveries list``, ``gateway po register``. Exit codes as in gateway.cli:
0 ok, 1 failed, 2 bad usage.

Without ``REDIS_URL`` these join the Redis of a ``gateway up`` running on the same
``GATEWAY_HOME`` (:meth:`Settings.with_running_redis`), so what they queue runs now.
Replays and reprocesses need ``--reason`` and are written to the audit log, as the
API's are, with the actor ``cli:<login name>``.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _runtime():
    from gateway.cli import cli_runtime

    return cli_runtime()


def _say_if_not_queued(rt) -> None:
    """Queuing needs Redis; without one the database row waits for a gateway's sweeper."""
    if rt.settings.redis_url:
        try:
            rt.redis.ping()
            return
        except Exception:
            pass
    print(f"note: no Redis reachable (REDIS_URL unset and no running `gateway up` under {rt.settings.home}): "
          "the work is recorded and a running gateway's sweeper will queue it", file=sys.stderr)


def _audit(rt, action: str, target: str, reason: str, details: dict) -> None:
    from gateway.store.models import utcnow
    from gateway.store.models_api import AuditEntry

    with rt.session() as s:
        s.add(AuditEntry(at=utcnow(), actor=f"cli:{_login()}", action=action, target=target, reason=reason,
                         details=details))


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in a bare container: still audit, as whom we can tell
        return "unknown"


def _report(report, as_json: bool) -> int:
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for delivery_id in report.requeued:
            print(f"re-queued  {delivery_id}")
        for delivery_id, why in report.skipped.items():
            print(f"skipped    {delivery_id}: {why}")
        if not report.requeued and not report.skipped:
            print("nothing to replay")
    return EXIT_OK


def _no_reason(args) -> bool:
    if args.reason.strip():
        return False
    print("error: say why: --reason must not be empty (it goes to the audit log)", file=sys.stderr)
    return True


def cmd_replay(args) -> int:
    from gateway.routing.replay import replay_dead_letters, replay_delivery, replay_document

    if _no_reason(args):
        return EXIT_USAGE
    rt = _runtime()
    missing = _missing_target(rt, args.what, args.target)
    if missing:  # else "nothing to replay", exit 0, reads as if all were well
        print(f"error: {missing}", file=sys.stderr)
        return EXIT_FAILED
    _say_if_not_queued(rt)
    if args.what == "delivery":
        try:
            report = replay_delivery(rt, args.target, force=args.force)
        except LookupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        _audit(rt, "delivery.replay", args.target, args.reason, report.to_dict())
    elif args.what == "document":
        report = replay_document(rt, args.target, force=args.force)
        _audit(rt, "document.replay", args.target, args.reason, report.to_dict())
    else:
        report = replay_dead_letters(rt, args.target)
        _audit(rt, "dead_letters.replay", f"adapter:{args.target}", args.reason,
               {"requeued": len(report.requeued)})
    return _report(report, args.json)


def _missing_target(rt, what: str, target: str) -> str | None:
    """Why ``target`` names nothing (a document id, or an adapter of routes.yaml), or None."""
    if what == "document":
        from gateway.store.models import Document

        with rt.session() as s:
            return None if s.get(Document, target) is not None else f"no document {target!r}"
    if what == "dead-letters":
        from sqlalchemy import select

        from gateway.routing.routes import load_route_table
        from gateway.store.models import DeliveryRecord

        if target in load_route_table(rt.settings).adapters:
            return None
        with rt.session() as s:  # an adapter since removed from routes.yaml may still have dead letters
            if s.scalar(select(DeliveryRecord.id).where(DeliveryRecord.adapter == target).limit(1)):
                return None
        return f"no adapter {target!r} in the routes and no deliveries to it"
    return None


def cmd_reprocess(args) -> int:
    from gateway.processing.reprocess import NotReprocessable, reprocess

    if _no_reason(args):
        return EXIT_USAGE
    rt = _runtime()
    _say_if_not_queued(rt)
    try:
        queued = reprocess(rt, args.document)
    except NotReprocessable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    _audit(rt, "document.reprocess", args.document, args.reason, {"queued": queued})
    print(f"{args.document} is queued for processing from its original bytes" if queued
          else f"{args.document} is set to be processed again; the sweeper will queue it")
    return EXIT_OK


def cmd_void(args) -> int:
    """``gateway void DOCUMENT --reason``: as the API's void (gateway.processing.void)."""
    from gateway.processing.void import NotVoidable, void_document
    from gateway.store.models import utcnow
    from gateway.store.models_api import AuditEntry

    if _no_reason(args):
        return EXIT_USAGE
    rt = _runtime()
    _say_if_not_queued(rt)
    try:
        report = void_document(rt, args.document, args.reason, audit=lambda s, report: s.add(AuditEntry(
            at=utcnow(), actor=f"cli:{_login()}", action="document.void", target=args.document,
            reason=args.reason.strip(), details={"event_id": report.event_id})))
    except NotVoidable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    elif report.changed:
        print(f"{args.document} is voided: document.voided {report.event_id} names "
              f"{len(report.original_event_ids)} events and goes to {len(report.deliveries)} targets")
    else:
        print(f"{args.document} was voided before ({report.event_id}); nothing was done again")
    return EXIT_OK


def cmd_deliveries_list(args) -> int:
    from sqlalchemy import select

    from gateway.store.models import DeliveryRecord
    from gateway.store.views import delivery_view

    rt = _runtime()
    with rt.session() as s:
        query = select(DeliveryRecord).order_by(DeliveryRecord.created_at.desc()).limit(args.limit)
        if args.status:
            query = query.where(DeliveryRecord.status == args.status)
        if args.adapter:
            query = query.where(DeliveryRecord.adapter == args.adapter)
        rows = [delivery_view(d) for d in s.scalars(query)]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    else:
        for r in rows:
            print(f"{r['id']}  {r['status']:<13} attempts {r['attempts']:<3} {r.get('last_error') or ''}")
    return EXIT_OK


def cmd_po_register(args) -> int:
    from gateway.routing.derived import register_850, register_purchase_order

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    rt = _runtime()
    try:
        if data.lstrip()[:1] == b"{":
            numbers = [register_purchase_order(rt, json.loads(data), args.partner)]
        else:
            numbers = register_850(rt, data, args.partner)
    except (ValueError, KeyError) as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for number in numbers:
        print(f"purchase order {number} registered for {args.partner or 'any partner'}")
    return EXIT_OK


def register(sub) -> None:
    rp = sub.add_parser("replay", help="send deliveries again under the same idempotency key")
    rp.add_argument("what", choices=["delivery", "document", "dead-letters"],
                    help="one delivery (by id), every delivery of a document, or all dead letters of an adapter")
    rp.add_argument("target", help="the delivery id, document id or adapter name")
    rp.add_argument("--force", action="store_true", help="also re-send deliveries already delivered")
    rp.add_argument("--reason", required=True, help="why (written to the audit log, as the API requires)")
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(func=cmd_replay)

    rr = sub.add_parser("reprocess", help="process a stored document again from its original bytes")
    rr.add_argument("document", help="the document id")
    rr.add_argument("--reason", required=True, help="why (written to the audit log, as the API requires)")
    rr.set_defaults(func=cmd_reprocess)

    rv = sub.add_parser("void", help="take back an accepted document: every target is sent document.voided")
    rv.add_argument("document", help="the document id")
    rv.add_argument("--reason", required=True, help="why (sent to every target and written to the audit log)")
    rv.add_argument("--json", action="store_true")
    rv.set_defaults(func=cmd_void)

    deliveries = sub.add_parser("deliveries", help="the delivery outbox").add_subparsers(
        dest="deliveries_command", required=True)
    dl = deliveries.add_parser("list")
    dl.add_argument("--status", choices=["pending", "delivered", "dead_lettered"])
    dl.add_argument("--adapter")
    dl.add_argument("--limit", type=int, default=100)
    dl.add_argument("--json", action="store_true")
    dl.set_defaults(func=cmd_deliveries_list)

    po = sub.add_parser("po", help="open purchase orders (what derived events compare against)").add_subparsers(
        dest="po_command", required=True)
    pr = po.add_parser("register", help="register the POs of an 850 we sent, or a PO as JSON")
    pr.add_argument("file", help="an X12 850 interchange, or a JSON purchase_order payload")
    pr.add_argument("--partner", help="the supplier's partner id")
    pr.set_defaults(func=cmd_po_register)
