"""CLI commands for deliveries: ``gateway replay ...``, ``gateway deliveries list``,
``gateway po register``. Exit codes as in gateway.cli: 0 ok, 1 failed, 2 bad usage."""

from __future__ import annotations

import json
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _runtime():
    from gateway.bootstrap import bootstrap

    return bootstrap()


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


def cmd_replay(args) -> int:
    from gateway.routing.replay import replay_dead_letters, replay_delivery, replay_document

    rt = _runtime()
    if args.what == "delivery":
        try:
            report = replay_delivery(rt, args.target, force=args.force)
        except LookupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
    elif args.what == "document":
        report = replay_document(rt, args.target, force=args.force)
    else:
        report = replay_dead_letters(rt, args.target)
    return _report(report, args.json)


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
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(func=cmd_replay)

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
