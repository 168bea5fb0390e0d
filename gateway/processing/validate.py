"""``gateway validate``: what is wrong with a file, as the JSON contract of DESIGN §4.

Sans-IO: bytes in, a dict out. X12 is read by :mod:`gateway.x12.reader` (envelopes,
control numbers, counts, characters); each transaction set's findings are listed under
it, everything above the set under the file.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from gateway.processing.detect import Format, describe_start, detect


def _error(code: str, message: str) -> dict:
    return {"code": code, "message": message, "segment_id": None, "segment_index": None, "element": None}


# With the pyx12 reference, X12 above this is streamed (its messages then lack "PO1 #3");
# our engine always streams X12 from a file, one pass, whatever its size.
IN_MEMORY_LIMIT = 16 * 1024 * 1024


def validate_path(path: str) -> dict:
    """Validate a file; X12 is streamed end to end, never held in memory."""
    from gateway.processing.structure import engine_name

    with open(path, "rb") as fh:
        head = fh.read(4096)
        if detect(head) is not Format.X12 or (engine_name() == "pyx12"
                                              and os.fstat(fh.fileno()).st_size <= IN_MEMORY_LIMIT):
            return validate_bytes(head + fh.read(), path)
        fh.seek(0)
        report = _new_report(path, Format.X12)
        return _validate_x12(fh, report)


def _new_report(name: str, fmt: Format) -> dict:
    return {"file": name, "format": fmt.value, "valid": False, "errors": [], "transactions": []}


def validate_bytes(data: bytes, name: str) -> dict:
    fmt = detect(data)
    report = _new_report(name, fmt)
    if fmt is Format.UNKNOWN:
        report["errors"].append(_error("NOT_X12", f"not an X12 interchange or an XML document: it starts with "
                                                  f"'{describe_start(data)}'"))
        return report
    if fmt is Format.XML:
        from gateway.xml import schema_dir, validation_report

        return validation_report(data, report, schema_dir())
    return _validate_x12(data, report)


def check_x12(data: bytes | BinaryIO, keep_segments: bool | None = None, partners=None):
    """Read ``data`` and validate every sound interchange's sets against our tables.

    A binary file is streamed (once by our engine; twice with the pyx12 reference) and
    never held in memory. Segments are kept (for translation) only when asked, and by
    default only for bytes already in memory. ``partners`` (id -> profile), when given,
    applies the sending partner's validation settings (``x12.strict_releases``)."""
    from gateway.processing.structure import read_and_validate
    from gateway.x12.validator import Options

    if keep_segments is None:
        keep_segments = isinstance(data, bytes | bytearray)
    options_for = None
    if partners is not None:
        from gateway.domain.partner import find_by_sender

        def options_for(ic):
            partner = find_by_sender(partners, ic.sender_qualifier, ic.sender_id)
            return Options(strict_releases=bool(partner and partner.strict_releases))
    return read_and_validate(data, keep_segments=keep_segments, options_for=options_for)


def _validate_x12(data: bytes | BinaryIO, report: dict) -> dict:
    from gateway.processing.structure import engine_name

    # the report needs no segments; the pyx12 path's messages ("PO1 #3") do
    result = check_x12(data, keep_segments=engine_name() == "pyx12" and isinstance(data, bytes | bytearray))
    # one pass over the findings, not one per set: linear in sets and in errors
    by_set: dict[tuple, list] = {}
    for f in result.findings:
        if f.transaction_control_number is not None:
            by_set.setdefault((f.interchange_index, f.group_control_number, f.transaction_control_number),
                              []).append(f)
    in_sets: set[int] = set()
    for i, ic in enumerate(result.interchanges):
        for group in ic.groups:
            for ts in group.transactions:
                findings = by_set.get((i, group.control_number, ts.control_number), [])
                in_sets.update(id(f) for f in findings)
                errors = [f.to_dict() for f in findings if f.is_error]
                report["transactions"].append({
                    "set_id": ts.set_id, "control_number": ts.control_number,
                    "group_control_number": group.control_number, "interchange_control_number": ic.control_number,
                    "valid": not errors, "errors": errors,
                })
    report["errors"] = [f.to_dict() for f in result.findings if f.is_error and id(f) not in in_sets]
    if result.suppressed:
        report["errors"].append(_error("TOO_MANY_ERRORS", f"{result.suppressed} more errors were not listed"))
    report["valid"] = result.valid
    return report


def render_text(report: dict) -> str:
    """The report as sentences a supplier understands."""
    head = f"{report['file']}: {'valid' if report['valid'] else 'INVALID'} ({report['format']})"
    lines = [head]
    skipped = (report.get("schema") or {}).get("skipped")
    if skipped:  # a document not checked against its schema must not read as simply "valid"
        lines.append(f"  ! {skipped}")
    lines += [f"  - {e['message']}" for e in report["errors"]]
    for t in report["transactions"]:
        lines.append(f"  {t['set_id']} #{t['control_number']}: {'ok' if t['valid'] else 'rejected'}")
        lines += [f"    - {e['message']}" for e in t["errors"]]
    return "\n".join(lines)
