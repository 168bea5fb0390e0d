"""``gateway validate``: what is wrong with a file, as the JSON contract of DESIGN §4.

Sans-IO: bytes in, a dict out. X12 is read by :mod:`gateway.x12.reader` (envelopes,
control numbers, counts, characters); each transaction set's findings are listed under
it, everything above the set under the file.
"""

from __future__ import annotations

from gateway.processing.detect import Format, describe_start, detect


def _error(code: str, message: str) -> dict:
    return {"code": code, "message": message, "segment_id": None, "segment_index": None, "element": None}


def validate_bytes(data: bytes, name: str) -> dict:
    fmt = detect(data)
    report = {"file": name, "format": fmt.value, "valid": False, "errors": [], "transactions": []}
    if fmt is Format.UNKNOWN:
        report["errors"].append(_error("NOT_X12", f"not an X12 interchange or an XML document: it starts with "
                                                  f"'{describe_start(data)}'"))
        return report
    if fmt is Format.XML:
        report["errors"].append(_error("XML_NOT_SUPPORTED", "XML validation (cXML DTD, UBL XSD) is not in this "
                                                            "gateway version yet"))
        return report
    return _validate_x12(data, report)


def check_x12(data: bytes):
    """Read ``data`` and validate every sound interchange's sets against our maps."""
    from gateway.processing.structure import add_structure_findings
    from gateway.x12.reader import read_x12

    result = read_x12(data)
    add_structure_findings(result, data)
    return result


def _validate_x12(data: bytes, report: dict) -> dict:
    result = check_x12(data)
    in_sets: set[int] = set()
    for i, ic in enumerate(result.interchanges):
        for group in ic.groups:
            for ts in group.transactions:
                findings = [f for f in result.findings_for(i, group.control_number, ts.control_number)
                            if f.transaction_control_number is not None]
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
    lines += [f"  - {e['message']}" for e in report["errors"]]
    for t in report["transactions"]:
        lines.append(f"  {t['set_id']} #{t['control_number']}: {'ok' if t['valid'] else 'rejected'}")
        lines += [f"    - {e['message']}" for e in t["errors"]]
    return "\n".join(lines)
