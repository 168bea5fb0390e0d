"""``gateway outbound list|show|check-overdue|resend``: what we sent partners and whether they
answered. Exit codes as in gateway.cli: 0 ok, 1 failed (or: something is overdue, for
``check-overdue --fail-if-overdue``), 2 bad usage."""

from __future__ import annotations

import json
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _runtime():
    from gateway.bootstrap import bootstrap

    return bootstrap()


def cmd_outbound_list(args) -> int:
    from sqlalchemy import select

    from gateway.outbound.acks import ack_counts
    from gateway.outbound.issue import summary
    from gateway.store.models_outbound import OutboundDocument

    q = select(OutboundDocument).order_by(OutboundDocument.created_at.desc()).limit(args.limit)
    for column in ("partner_id", "ack_status", "po_number"):
        if getattr(args, column):
            q = q.where(getattr(OutboundDocument, column) == getattr(args, column))
    with _runtime().session() as s:
        rows, counts = [summary(r) for r in s.scalars(q)], ack_counts(s)
    if args.json:
        print(json.dumps({"outbound": rows, "ack_counts": counts}, indent=2))
        return EXIT_OK
    for r in rows:
        ref = f"payloadID {r['payload_id']}" if r["format"] == "cxml" else f"ISA13 {r['interchange_control_number']}"
        print(f"{r['id']}  {r['partner_id']:<12} {r['transaction_set']} PO {r['po_number'] or '-':<14} "
              f"{ref}  {r['status']:<11} ack {r['ack_status']}")
    print("ack states: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing sent yet"))
    return EXIT_OK


def cmd_outbound_show(args) -> int:
    from gateway.outbound.issue import summary
    from gateway.store.models_outbound import OutboundDocument

    with _runtime().session() as s:
        row = s.get(OutboundDocument, args.id)
        if row is None:
            print(f"error: no outbound document {args.id!r}", file=sys.stderr)
            return EXIT_FAILED
        print(json.dumps(summary(row), indent=2))
    return EXIT_OK


def cmd_outbound_check_overdue(args) -> int:
    from gateway.flow.deadlines import check_flow_deadlines
    from gateway.outbound.acks import check_overdue_acks
    from gateway.store.models import utcnow

    rt = _runtime()
    raised = check_overdue_acks(rt, utcnow())
    print(f"{raised} newly overdue")
    steps = check_flow_deadlines(rt, utcnow())  # the PO flows' steps (855, ASN...) past their due time
    print(f"{steps} PO flow steps newly overdue")
    return EXIT_FAILED if (raised or steps) and args.fail_if_overdue else EXIT_OK


def cmd_outbound_resend(args) -> int:
    """Send a document that ended ``failed`` (a cXML partner's attempts ran out, or it
    redirected) or waits as ``send_failed``, now, with a fresh series of attempts: after
    the profile or the partner's side was fixed. The same bytes go (a cXML payloadID is
    kept, so the partner can tell a repeat)."""
    import logging

    from sqlalchemy import update

    from gateway.outbound.issue import summary
    from gateway.outbound.send import SendFailed, send_outbound
    from gateway.store.models_outbound import OutboundDocument

    rt = _runtime()
    with rt.session() as s:
        changed = s.execute(update(OutboundDocument).where(
            OutboundDocument.id == args.id, OutboundDocument.status.in_(("failed", "send_failed")))
            .values(status="send_failed", attempts=0, next_attempt_at=None)).rowcount
        row = s.get(OutboundDocument, args.id)
        status = row.status if row is not None else None
    if row is None:
        print(f"error: no outbound document {args.id!r}", file=sys.stderr)
        return EXIT_FAILED
    if not changed:
        print(f"error: {args.id} is {status}; only failed or send_failed documents are sent again", file=sys.stderr)
        return EXIT_FAILED
    logging.getLogger("gateway.outbound").warning("outbound %s sent again by hand: %s", args.id, args.reason)
    try:
        send_outbound(rt, args.id)
    except SendFailed as exc:
        print(f"not sent: {exc}", file=sys.stderr)
    with rt.session() as s:
        record = summary(s.get(OutboundDocument, args.id))
    print(json.dumps(record, indent=2))
    return EXIT_OK if record["status"] == "sent" else EXIT_FAILED


def register(sub) -> None:
    out = sub.add_parser("outbound", help="documents we sent partners (850s) and their 997/999")
    cmds = out.add_subparsers(dest="outbound_command", required=True)
    ol = cmds.add_parser("list", help="newest first, with the count per ack state")
    ol.add_argument("--partner", dest="partner_id")
    ol.add_argument("--ack-status", choices=["awaiting", "accepted", "accepted_with_errors", "rejected", "overdue"])
    ol.add_argument("--po", dest="po_number")
    ol.add_argument("--limit", type=int, default=100)
    ol.add_argument("--json", action="store_true")
    ol.set_defaults(func=cmd_outbound_list)
    os_ = cmds.add_parser("show", help="one outbound document with the partner's ack detail")
    os_.add_argument("id")
    os_.set_defaults(func=cmd_outbound_show)
    oc = cmds.add_parser("check-overdue", help="raise ack.overdue for what is past its deadline (the sweeper does this)")
    oc.add_argument("--fail-if-overdue", action="store_true")
    oc.set_defaults(func=cmd_outbound_check_overdue)
    orr = cmds.add_parser("resend", help="send a failed document again now, with a fresh series of attempts")
    orr.add_argument("id")
    orr.add_argument("--reason", required=True, help="why (logged)")
    orr.set_defaults(func=cmd_outbound_resend)
