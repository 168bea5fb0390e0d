"""CLI commands that work on a file without a running gateway: validate, translate, ack.

A file we cannot open is the user's problem (exit 2, "cannot read"); everything after
that point that fails for want of our own data is ours, and is reported as such by
``gateway.cli.main`` (see :class:`gateway.resources.MissingDataError`)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _read(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None


def _readable(path: str) -> bool:
    """Open (and close) the user's file up front, so that only a failure to read *it*
    is reported as "cannot read": an OSError later is about our own files."""
    try:
        with open(path, "rb"):
            return True
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return False


def cmd_validate(args) -> int:
    from gateway.processing.validate import render_text, validate_path

    if not all(_readable(path) for path in args.files):
        return EXIT_USAGE
    reports = [validate_path(path) for path in args.files]
    if args.json:
        print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    else:
        print("\n".join(render_text(r) for r in reports))
    return EXIT_OK if all(r["valid"] for r in reports) else EXIT_FAILED


def cmd_translate(args) -> int:
    from gateway.config import load_settings
    from gateway.domain.partner import load_partners
    from gateway.mapping import SourceContext, TranslationError, translate_bytes

    data = _read(args.file)
    if data is None:
        return EXIT_USAGE
    maps_dir = None
    if args.partner:
        partners = load_partners(load_settings().partners_dir)
        if args.partner not in partners:
            print(f"error: unknown partner {args.partner!r}", file=sys.stderr)
            return EXIT_USAGE
        maps_dir = partners[args.partner].maps_dir
    if not args.force and not _translatable(data, args.file, args.json):
        return EXIT_FAILED
    context = SourceContext(partner_id=args.partner or "unknown", document_id=f"file:{Path(args.file).name}",
                            received_at=datetime.now(UTC), correlation_id="cli")
    try:
        events = translate_bytes(data, context, partner_maps_dir=maps_dir)
    except TranslationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not events:  # say it, or an empty answer reads as "translated, nothing to see"
        print(f"{args.file}: no events: no translation map applies to this document", file=sys.stderr)
    if args.json:
        print(json.dumps(events, indent=2))
    else:
        for e in events:
            p = e["payload"]
            key = p.get("po_number") or p.get("shipment_id") or p.get("invoice_number") or ""
            print(f"{e['type']:<32} {key:<14} {len(p.get('lines', []))} lines  {e['event_id']}")
    return EXIT_OK


def _translatable(data: bytes, name: str, as_json: bool) -> bool:
    """Validate first, as the pipeline does: a document the gateway would reject yields no
    events here either. Prints the findings (the ``validate`` report) when it fails."""
    from gateway.processing.validate import render_text, validate_bytes

    report = validate_bytes(data, name)
    if report["valid"]:
        return True
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(render_text(report), file=sys.stderr)
    print(f"error: {name} is not a valid document, so no events were produced (--force translates it anyway)",
          file=sys.stderr)
    return False


def cmd_maps_test(args) -> int:
    from gateway.config import load_settings
    from gateway.domain.partner import load_partners
    from gateway.mapping import run_map_tests

    if args.partner:
        partners_dir = load_settings().partners_dir
        if args.partner not in load_partners(partners_dir):  # else "0 passed, 0 failed" looks like success
            print(f"error: no partner {args.partner!r} in {partners_dir}", file=sys.stderr)
            return EXIT_FAILED
    results = run_map_tests(args.partner, update=args.update)
    for result in results:
        print(result)
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return EXIT_FAILED if failed else EXIT_OK


class _Counter:
    """Control numbers for a preview: starts at 1, nothing is reserved."""

    def __init__(self):
        self.values: dict[str, int] = {}

    def next(self, name: str) -> int:
        self.values[name] = self.values.get(name, 0) + 1
        return self.values[name]


def cmd_ack(args) -> int:
    from gateway.acks import build_acknowledgments
    from gateway.processing.validate import check_x12

    data = _read(args.file)
    if data is None:
        return EXIT_USAGE
    result = check_x12(data)
    if not result.interchanges:
        print(f"error: {args.file}: no X12 interchange could be read, so no acknowledgment can be addressed",
              file=sys.stderr)
        return EXIT_FAILED
    acks = []
    counter = _Counter()
    for i, ic in enumerate(result.interchanges):
        acks += build_acknowledgments(result, i, our_qualifier=ic.receiver_qualifier, our_id=ic.receiver_id,
                                      control_numbers=counter, prefer=args.kind)
    if args.json:
        print(json.dumps([{"kind": a.kind, "interchange_control_number": a.interchange_control_number,
                           "text": a.text} for a in acks], indent=2))
    else:
        print("\n".join(a.text for a in acks))
    return EXIT_OK if result.valid else EXIT_FAILED


def register(sub) -> None:
    v = sub.add_parser("validate", help="check X12 files; exit 1 when one is invalid")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_validate)
    t = sub.add_parser("translate", help="print the canonical events a file yields (nothing is delivered)")
    t.add_argument("file", metavar="FILE")
    t.add_argument("--partner", help="apply this partner's map overrides (default: the base maps)")
    t.add_argument("--json", action="store_true")
    t.add_argument("--force", action="store_true",
                   help="translate even a file that fails validation (default: exit 1 with the findings)")
    t.set_defaults(func=cmd_translate)
    maps = sub.add_parser("maps", help="translation maps").add_subparsers(dest="maps_command", required=True)
    mt = maps.add_parser("test", help="run the map tests (all, or one partner's) and show diffs")
    mt.add_argument("partner", nargs="?")
    mt.add_argument("--update", action="store_true", help="write the actual output as the expected files")
    mt.set_defaults(func=cmd_maps_test)
    a = sub.add_parser("ack", help="print the TA1/997/999 the gateway would send for a file")
    a.add_argument("file", metavar="FILE")
    a.add_argument("--kind", choices=["997", "999"], help="force a 997 or a 999 (default: by GS08 version)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_ack)
