"""Structural validation of each transaction set, as findings: which engine runs.

Default: our engine (:mod:`gateway.x12.validator`), fed by the reader in the same single
streaming pass that checks envelopes, counts, control numbers and characters
(``read_and_validate``). ``GATEWAY_X12_VALIDATOR=pyx12`` selects the reference, pyx12
with the maps built from the same tables, run after the reader over each normalised
interchange (ASCII, no BOM, nothing between segments, ISA12 00401/00501; segment
positions stay the same) -- the path below ``add_structure_findings``.

Either way, sets of an interchange whose envelope is broken (an interchange- or
file-level error of its own) get no structure findings: the TA1 rejects it whole. (The
pyx12 path also skips every interchange after junk between interchanges; ours does not.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import BinaryIO

from gateway.processing.normalize import NormalizedInterchange, pyx12_isa_version
from gateway.x12.findings import Finding, FindingCode, Level
from gateway.x12.model import Interchange
from gateway.x12.reader import X12ReadResult, read_x12
from gateway.x12.validator import InterchangeValidator, Options

ENGINES = ("engine", "pyx12")


def engine_name() -> str:
    """``GATEWAY_X12_VALIDATOR``: ``engine`` (default, ours) or ``pyx12`` (the reference)."""
    name = os.environ.get("GATEWAY_X12_VALIDATOR", "engine").strip().lower() or "engine"
    if name not in ENGINES:
        raise ValueError(f"GATEWAY_X12_VALIDATOR must be one of {', '.join(ENGINES)}, not {name!r}")
    return name


def read_and_validate(data: bytes | BinaryIO, *, keep_segments: bool = True,
                      options: Options | None = None, engine: str | None = None,
                      options_for: Callable[[Interchange], Options] | None = None) -> X12ReadResult:
    """Read ``data`` (bytes, or a binary file streamed once) and validate every set of every
    interchange whose envelope is sound. ``options_for(interchange)``, when given, picks
    the options per interchange once its ISA is read (the sender's partner settings)."""
    if (engine or engine_name()) == "pyx12":
        result = read_x12(data, keep_segments=keep_segments)
        add_structure_findings(result, data)
        return result
    options = options or Options()
    validators: dict[int, InterchangeValidator] = {}

    def observe(index: int, ic: Interchange) -> InterchangeValidator:
        validators[index] = InterchangeValidator(index, ic, options_for(ic) if options_for else options)
        return validators[index]

    result = read_x12(data, keep_segments=keep_segments, observer=observe)
    broken = _broken_interchanges(result.findings, len(result.interchanges))
    for index, validator in validators.items():
        if index not in broken:
            result.findings.extend(validator.findings)
    return result


def _broken_interchanges(findings: list[Finding], count: int) -> set[int]:
    """Indexes of interchanges with an envelope error of their own. A file-level finding
    without an index (data between interchanges) does not stop the others' sets from
    being validated: the worker would otherwise accept them unchecked."""
    return {f.interchange_index for f in findings if f.is_error and f.interchange_index is not None
            and f.interchange_index < count and f.level in (Level.INTERCHANGE, Level.FILE)}

SEGMENT_CODES = {
    "1": FindingCode.UNRECOGNIZED_SEGMENT_ID,
    "2": FindingCode.UNEXPECTED_SEGMENT,
    "3": FindingCode.MANDATORY_SEGMENT_MISSING,
    "4": FindingCode.LOOP_OCCURS_OVER_MAXIMUM,
    "5": FindingCode.SEGMENT_EXCEEDS_MAXIMUM_USE,
    "6": FindingCode.SEGMENT_NOT_IN_DEFINED_SET,
    "7": FindingCode.SEGMENT_NOT_IN_PROPER_SEQUENCE,
    "8": FindingCode.SEGMENT_HAS_ELEMENT_ERRORS,
}
ELEMENT_CODES = {
    "1": FindingCode.MANDATORY_ELEMENT_MISSING,
    "2": FindingCode.CONDITIONAL_ELEMENT_MISSING,
    "3": FindingCode.TOO_MANY_ELEMENTS,
    "4": FindingCode.ELEMENT_TOO_SHORT,
    "5": FindingCode.ELEMENT_TOO_LONG,
    "6": FindingCode.INVALID_CHARACTER,
    "7": FindingCode.INVALID_CODE_VALUE,
    "8": FindingCode.INVALID_DATE,
    "9": FindingCode.INVALID_TIME,
    "10": FindingCode.EXCLUSION_CONDITION_VIOLATED,
    "12": FindingCode.TOO_MANY_REPETITIONS,
    "13": FindingCode.TOO_MANY_COMPONENTS,
}


def normalised(ic: Interchange, data: bytes) -> bytes | None:
    """The interchange's bytes as pyx12 reads them: no BOM, nothing between segments,
    ISA12 00401/00501 (the ISA keeps its 106 characters). None when it holds bytes
    outside ASCII (the reader has reported those already)."""
    raw = data[ic.start:ic.end or len(data)]
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    text = text[text.find("ISA"):]
    term = ic.delimiters.segment
    keep = " \r\n\t".replace(ic.delimiters.element, "")
    segments = [piece.strip(keep) for piece in text.split(term)]
    text = term.join(piece for piece in segments if piece) + term
    if len(text) < 106:
        return None
    version = ic.groups[0].version if ic.groups else ""
    isa12 = "00501" if version.startswith("005") else "00401"
    isa11 = "U" if isa12 == "00401" else text[82]
    return (text[:82] + isa11 + text[83:84] + isa12 + text[89:]).encode("ascii")


def structure_findings(index: int, ic: Interchange, data: bytes | BinaryIO) -> list[Finding]:
    """Segment and element findings for every set of ``ic`` (envelopes are the reader's job).

    ``data`` is the whole file, in memory or as a seekable binary file (streamed)."""
    from gateway.x12.structure import validate_structure

    if isinstance(data, bytes | bytearray):
        normal = normalised(ic, data)
        if normal is None:
            return []
        report = validate_structure(normal)
    else:
        report = validate_structure(NormalizedInterchange(data, ic), pyx12_isa_version(ic)[0])
    findings: list[Finding] = []
    for e in report.errors:
        f = _finding(index, ic, e)
        if f is not None:
            findings.append(f)
    return findings


def _finding(index: int, ic: Interchange, e: dict) -> Finding | None:
    level, code = e.get("level"), str(e.get("code"))
    gcn, scn = e.get("group_control_number"), e.get("transaction_control_number")
    if level == "interchange" and code == "crash":
        return Finding(FindingCode.REFERENCE_VALIDATOR_FAILED,
                       f"the pyx12 reference validator failed on this interchange ({e.get('message')}); "
                       "this is our failure, not the document's: validate it with our engine",
                       interchange_index=index)
    if level == "interchange" and code == "engine":
        # pyx12 has no map for a group (GS01/GS08 we do not support): every set of the
        # interchange is rejected with the reason.
        return Finding(FindingCode.FUNCTIONAL_GROUP_NOT_SUPPORTED,
                       f"no X12 map for this functional group/version: {e.get('message')}",
                       interchange_index=index,
                       group_control_number=ic.groups[0].control_number if ic.groups else None)
    if level == "segment":
        fc = SEGMENT_CODES.get(code)
    elif level == "element":
        fc = ELEMENT_CODES.get(code)
    else:
        return None  # envelope counts and control numbers: already reported by the reader
    if fc is None or scn is None:
        return None
    return Finding(fc, _message(ic, e), interchange_index=index, group_control_number=gcn,
                   transaction_control_number=scn, segment_id=e.get("segment_id"),
                   segment_position=e.get("segment_position"), element_position=e.get("element_position"),
                   component_position=e.get("component_position"), value=e.get("value"))


_ELEMENT_PROBLEMS = {
    "1": "is required but missing",
    "2": "is required because a related element is present, but missing",
    "3": "has more elements than the standard defines",
    "4": "is too short",
    "5": "is too long",
    "6": "contains characters its type does not allow",
    "7": "is not a valid code here",
    "8": "is not a valid date",
    "9": "is not a valid time",
    "10": "must not be used together with a related element",
    "12": "repeats more often than allowed",
    "13": "has more components than allowed",
}
_SEGMENT_PROBLEMS = {
    "1": "is not expected here (unknown, or out of the standard's order)",
    "2": "is not expected in this transaction set",
    "3": "is mandatory but missing",
    "4": "starts a loop that repeats more often than the standard allows",
    "5": "repeats more often than the standard allows",
    "6": "is not defined for this transaction set",
    "7": "is not in the standard's order",
    "8": "has element errors",
}


def _occurrence(ic: Interchange, e: dict) -> int | None:
    """Which occurrence of its tag the segment is within its set (PO1 #3)."""
    for g in ic.groups:
        if g.control_number != e.get("group_control_number"):
            continue
        for ts in g.transactions:
            if ts.control_number != e.get("transaction_control_number"):
                continue
            position = e.get("segment_position") or 0
            same = [seg for seg in ts.segments if seg.tag == e.get("segment_id") and seg.position <= position]
            return len(same) or None
    return None


def _message(ic: Interchange, e: dict) -> str:
    """A sentence a supplier understands: "PO1 #3, element PO102: 'ten' is not a number"."""
    seg, code, value = e.get("segment_id") or "segment", str(e.get("code")), e.get("value")
    n = _occurrence(ic, e)
    where = f"{seg} #{n}" if n else seg
    where += f" (segment {e.get('segment_position')})"
    detail = str(e.get("message") or "")
    if e.get("level") == "element":
        ref = f"{seg}{int(e.get('element_position') or 0):02d}"
        if e.get("component_position"):
            ref += f"-{int(e['component_position'])}"
        problem = _ELEMENT_PROBLEMS.get(code, detail)
        if code == "6" and ("type R" in detail or "type N" in detail):
            problem = "is not a number"
        shown = f"{value!r} " if value not in (None, "") else ""
        return f"{where}, element {ref}: {shown}{problem}"
    return f"{where} {_SEGMENT_PROBLEMS.get(code, detail)}"


def add_structure_findings(result, data: bytes | BinaryIO) -> None:
    """The reference path: validate every interchange whose envelope is sound with pyx12
    and add its findings to ``result``."""
    for index, ic in enumerate(result.interchanges):
        if not _envelope_broken(result.findings, index) and not _non_ascii(result.findings, index):
            result.findings.extend(structure_findings(index, ic, data))


def _non_ascii(findings: list[Finding], index: int) -> bool:
    """pyx12 reads ASCII only; the reader has already reported the bytes that are not."""
    return any(f.code in (FindingCode.NON_ASCII_BYTE, FindingCode.NON_ASCII_CHARACTER)
               and f.interchange_index in (index, None) for f in findings)


def _envelope_broken(findings: list[Finding], index: int) -> bool:
    return any(f.is_error and f.level in (Level.INTERCHANGE, Level.FILE)
               and f.interchange_index in (index, None) for f in findings)
