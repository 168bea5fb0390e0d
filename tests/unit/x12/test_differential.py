"""Differential test: our engine against pyx12, the reference, on the same bytes.

Sources: every map's full-coverage and minimal documents (maps/x12/docgen.py, 004010
and 005010), the project's sample documents, ../shared/corpus (when present), and
seeded mutations of the first two (tests/unit/x12/mutations.py: dropped, duplicated,
moved segments, corrupted or extra elements, wrong counts). Per transaction set the
verdicts must agree at the level both can express: accepted or rejected, the position
of the first segment in error, and the element positions in error there.

Where they differ, the difference is one of KNOWN, each proven by its own test below
with the reason pyx12 is wrong (or says less). When pyx12 itself crashes, that is
counted in the differential report, never a failure of ours.

``GATEWAY_DIFFERENTIAL_MUTATIONS`` (default 12 per document, ~360 in all) sets the
count; e.g. 150 gives ~4,500 mutations (a few minutes on a busy machine).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest
from support import CORPUS, REPO, SAMPLES

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutations import mutations  # noqa: E402

from gateway.processing.structure import read_and_validate  # noqa: E402
from gateway.x12 import releases  # noqa: E402
from gateway.x12.findings import FindingCode as C  # noqa: E402
from gateway.x12.findings import Level  # noqa: E402

MUTATIONS = int(os.environ.get("GATEWAY_DIFFERENTIAL_MUTATIONS", "12"))
SETS = {"850": "PO", "855": "PR", "856": "SH", "810": "IN"}
VERSIONS = {"004010": ("4010", "00401"), "005010": ("5010", "00501")}
NOT_COMPARED_ELEMENTS = {C.CONDITIONAL_ELEMENT_MISSING, C.EXCLUSION_CONDITION_VIOLATED,
                         C.TOO_MANY_ELEMENTS}  # see KNOWN: syntax-note-element, too-many-elements
HIERARCHY = {C.HIERARCHY_ID_NOT_UNIQUE, C.HIERARCHY_PARENT_UNKNOWN, C.HIERARCHY_LEVEL_MISPLACED}

#: Every accepted difference, and why pyx12 is the one that is wrong or says less.
KNOWN = {
    "hl-hierarchy": "pyx12 checks HL numbering in its reader (codes HL1/HL2, outside the AK3 "
                    "code list, so they never reach an ack) and demands 1, 2, 3 ... numbering, "
                    "which X12 does not; a duplicate id or an unknown parent passes it.",
    "loop-iteration-mandatory": "pyx12 does not report a mandatory segment missing from a loop "
                                "iteration when the loop repeats (LM without its LQ, then LM).",
    "missing-segment-position": "a mandatory segment missing at the end of a set: pyx12 puts its "
                                "AK3 on the last segment before SE; we put it on SE, where the "
                                "gap was found (as we do for a gap inside the set, and so does pyx12).",
    "hl-first-level": "our pyx12 map nests the 856 HL loop by level and requires the first to "
                      "be a shipment (HL03 S); the X12 856 table has one HL loop and does not. "
                      "(Level codes outside S/O/T/P/I pass us until code list 735 is in the tables.)",
    "syntax-note-element": "pyx12 puts a syntax-note AK4 on the note's first element even when "
                           "that is the one present; we name the element that is missing.",
    "too-many-elements": "pyx12 reports too many elements at segment level (AK3 8, no AK4); we "
                         "name the first extra element.",
    "release-or-guide": "pyx12 has no map for a release or guide GS01 we resolve (004030, "
                        "003040, aerospace GS01 SC): it refuses the group; we validate.",
}


class ReferenceCrashed(Exception):
    pass


@pytest.fixture(scope="module", autouse=True)
def gateway_home(tmp_path_factory):
    old = os.environ.get("GATEWAY_HOME")
    os.environ["GATEWAY_HOME"] = str(tmp_path_factory.mktemp("gateway-home"))  # pyx12 map cache
    yield
    if old is None:
        os.environ.pop("GATEWAY_HOME", None)
    else:
        os.environ["GATEWAY_HOME"] = old


@pytest.fixture(scope="module")
def documents() -> dict[str, bytes]:
    from gateway.x12.structure import map_dir

    spec = importlib.util.spec_from_file_location("x12_docgen_diff", REPO / "maps" / "x12" / "docgen.py")
    docgen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = docgen
    spec.loader.exec_module(docgen)
    docs = {}
    for version, (short, isa12) in VERSIONS.items():
        for set_id, gs01 in SETS.items():
            for kind in ("full", "minimal"):
                make = getattr(docgen, f"{kind}_document")
                docs[f"{kind}-{set_id}-{version}"] = make(map_dir(version), f"{set_id}.{short}.xml", gs01,
                                                          version, isa12).encode()
    for path in sorted(SAMPLES.glob("8*/*.edi")):
        docs[path.name] = path.read_bytes()
    return docs


def verdicts(data: bytes, engine: str) -> dict[str, tuple]:
    """Per set (by ST02): (first segment position in error, element positions there, codes,
    segment ids in error there)."""
    try:
        result = read_and_validate(data, engine=engine)
    except Exception as exc:  # only the reference may crash; ours must not (test_engine_fuzz)
        if engine == "pyx12":
            raise ReferenceCrashed(f"{type(exc).__name__}: {exc}") from exc
        raise
    if any(f.code is C.REFERENCE_VALIDATOR_FAILED for f in result.findings):
        raise ReferenceCrashed(next(f.message for f in result.findings if f.code is C.REFERENCE_VALIDATOR_FAILED))
    by_set: dict[str, list] = {}
    for f in result.findings:
        if f.is_error and f.transaction_control_number:
            by_set.setdefault(f.transaction_control_number, []).append(f)
    out = {}
    for key, found in by_set.items():
        located = [f for f in found if f.level in (Level.SEGMENT, Level.ELEMENT) and f.segment_position]
        first = min((f.segment_position for f in located), default=None)
        elements = frozenset(f.element_position for f in located if f.segment_position == first
                             and f.level is Level.ELEMENT and f.code not in NOT_COMPARED_ELEMENTS)
        ids = frozenset(f.segment_id for f in located if f.segment_position == first)
        out[key] = (first, elements, frozenset(f.code for f in found), ids)
    return out


def explain(ours: tuple | None, ref: tuple | None) -> str | None:
    """The KNOWN case a difference in one set is, or None when it is unexplained."""
    if ours and not ref and ours[2] <= HIERARCHY:
        return "hl-hierarchy"
    if ours and not ref and ours[2] <= {C.MANDATORY_SEGMENT_MISSING}:
        return "loop-iteration-mandatory"
    if not ours and ref and ref[2] == {C.MANDATORY_SEGMENT_MISSING} and ref[3] == {"HL"}:
        return "hl-first-level"
    if (ours and ref and C.MANDATORY_SEGMENT_MISSING in ours[2] & ref[2] and ours[0] is not None
            and ref[0] == ours[0] - 1):
        return "missing-segment-position"
    return None


def compare(data: bytes) -> tuple[list[str], list[str]]:
    """(unexplained differences, explained ones as KNOWN keys); ReferenceCrashed if pyx12 fails."""
    ours, ref = verdicts(data, "engine"), verdicts(data, "pyx12")
    bad, known = [], []
    for key in sorted(set(ours) | set(ref)):
        a, b = ours.get(key), ref.get(key)
        if (a and a[:2]) == (b and b[:2]):
            continue
        why = explain(a, b)
        (known if why else bad).append(why or f"set {key}: ours {a and a[:2]} {a and sorted(c.name for c in a[2])}, "
                                              f"pyx12 {b and b[:2]} {b and sorted(c.name for c in b[2])}")
    return bad, known


def test_full_coverage_and_sample_documents_agree(documents):
    for name, data in documents.items():
        assert compare(data) == ([], []), name
        assert verdicts(data, "engine") == {}, name


def test_mutations_agree_or_are_known_cases(documents):
    report = {"compared": 0, "reference crashed": 0, **{k: 0 for k in KNOWN}}
    unexplained = []
    for seed, (name, data) in enumerate(sorted(documents.items())):
        for label, mutated in mutations(data.decode("latin-1"), seed, MUTATIONS):
            try:
                bad, known = compare(mutated)
            except ReferenceCrashed:
                report["reference crashed"] += 1  # pyx12's failure: ours ran (see verdicts)
                assert verdicts(mutated, "engine") is not None
                continue
            report["compared"] += 1
            for why in known:
                report[why] += 1
            unexplained += [f"{name} {label}: {b}" for b in bad]
    print("differential report:", report)
    assert not unexplained, "\n".join(unexplained[:20])
    assert report["compared"] > MUTATIONS * len(documents) * 0.8


def _corpus_files():
    folder = CORPUS / "real"
    return sorted(p for sub in ("x12-850", "x12-855", "x12-856", "x12-810") for p in (folder / sub).glob("*")
                  if p.is_file()) if folder.is_dir() else []


def _substituted(data: bytes) -> bool:
    """A group whose release or guide pyx12 has no map for (KNOWN release-or-guide)."""
    from gateway.x12.reader import read_x12

    for ic in read_x12(data, keep_segments=False).interchanges:
        for g in ic.groups:
            r = releases.resolve(g.version, g.functional_id, ("004010", "005010"))
            if not r.exact or not releases.set_ids_for(g.functional_id):
                return True
            if r.guide and r.guide not in ("VICS", "UCS"):
                return True
    return False


@pytest.mark.skipif(not _corpus_files(), reason=f"corpus not present at {CORPUS / 'real'}")
def test_real_documents_agree():
    compared = 0
    for path in _corpus_files():
        data = path.read_bytes()
        if _substituted(data):
            continue
        try:
            bad, known = compare(data)
        except ReferenceCrashed:
            continue
        assert bad == [], path.name
        compared += 1
    assert compared >= 10


# --------------------------------------------------------------------------- KNOWN, proven

ASN = (SAMPLES / "856" / "856_004010_acme_asn_sh-77001.edi").read_text()


def test_known_hl_hierarchy():
    bad, known = compare(ASN.replace("HL*5*2*P", "HL*4*2*P").encode())  # HL01 4 used twice
    assert (bad, known) == ([], ["hl-hierarchy"])


def test_known_loop_iteration_mandatory(documents):
    text = documents["full-850-004010"].decode()
    lm = next(line for line in text.splitlines() if line.startswith("LM*"))
    doc = text.replace(lm, lm + "\n" + lm, 1)
    head, _, tail = doc.rpartition("SE*")
    count, rest = tail.split("*", 1)
    doc = f"{head}SE*{int(count) + 1}*{rest}"
    assert compare(doc.encode()) == ([], ["loop-iteration-mandatory"])
    [f] = [f for f in read_and_validate(doc.encode(), engine="engine").findings if f.is_error]
    assert (f.code, f.segment_id) == (C.MANDATORY_SEGMENT_MISSING, "LQ")


def test_known_missing_segment_position(documents):
    text = documents["minimal-855-004010"].decode()
    bak = next(line for line in text.splitlines() if line.startswith("BAK*"))
    data = text.replace(bak + "\n", "").replace("SE*3*", "SE*2*").encode()
    assert compare(data) == ([], ["missing-segment-position"])
    [f] = [f for f in read_and_validate(data, engine="engine").findings if f.is_error]
    assert (f.code, f.segment_id, f.segment_position) == (C.MANDATORY_SEGMENT_MISSING, "BAK", 2)  # SE's place
    # inside the set both point at the segment where the gap was found (TXI, after TDS)
    invoice = (SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi").read_text()
    inside = invoice.replace("TDS*223200~", "").replace("SE*21*", "SE*20*").encode()
    assert compare(inside) == ([], [])


def test_a_segment_without_data_is_an_error_in_both():
    invoice = (SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi").read_text()
    data = invoice.replace("N4*DAYTON*OH*45402*US~", "N4~").encode()  # N4: every element optional
    [f] = [f for f in read_and_validate(data, engine="engine").findings if f.is_error]
    assert (f.code, f.segment_position) == (C.SEGMENT_HAS_ELEMENT_ERRORS, 7)
    assert compare(data) == ([], [])


def test_known_hl_first_level():
    # the first HL is an order level (O), under no parent: sound X12, refused by our pyx12 map
    data = ASN.replace("HL*1**S", "HL*1**O").replace("HL*2*1*O", "HL*2*1*T").encode()
    assert compare(data) == ([], ["hl-first-level"])


def test_known_syntax_note_element():
    invoice = (SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi").read_text()
    data = invoice.replace("IT1*1*100*EA*12.50*", "IT1*1*100**12.50*").encode()
    ours = [f for f in read_and_validate(data, engine="engine").findings if f.is_error]
    ref = [f for f in read_and_validate(data, engine="pyx12").findings if f.is_error]
    assert [(f.segment_position, f.element_position) for f in ours] == [(13, 3)]  # IT103, the missing one
    assert (13, 3) not in [(f.segment_position, f.element_position) for f in ref]
    assert compare(data) == ([], [])  # positions agree; elements of notes are not compared


def test_known_too_many_elements():
    invoice = (SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi").read_text()
    data = invoice.replace("DTM*011*20261201~", "DTM*011*20261201*****X~").encode()
    [ours] = [f for f in read_and_validate(data, engine="engine").findings if f.is_error]
    assert (ours.code, ours.element_position) == (C.TOO_MANY_ELEMENTS, 7)
    ref = [f for f in read_and_validate(data, engine="pyx12").findings if f.is_error]
    assert [(f.segment_position, f.element_position) for f in ref] == [(12, None)]
    assert compare(data) == ([], [])


def test_known_release_or_guide():
    po = (SAMPLES / "850" / "850_004010_buyerco_po_4500012345.edi").read_text()
    data = po.replace("*X*004010~", "*X*004030~").encode()
    assert verdicts(data, "engine") == {}
    ref = read_and_validate(data, engine="pyx12")
    assert any(f.code is C.FUNCTIONAL_GROUP_NOT_SUPPORTED for f in ref.findings)
    assert _substituted(data)


def test_reference_crash_is_a_finding_not_a_traceback():
    """pyx12 raises IndexError on an SE inside a set (our reader already rejects such an
    interchange's envelope, so the service never hands it to pyx12; the reference path
    itself must still not raise)."""
    from gateway.processing.structure import structure_findings
    from gateway.x12.reader import read_x12
    from gateway.x12.structure import validate_structure

    invoice = (SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi").read_text()
    data = invoice.replace("TDS*223200~", "SE*3*0001~TDS*223200~").encode()
    report = validate_structure(data)
    assert [e["code"] for e in report.errors] == ["crash"] and "IndexError" in report.errors[0]["message"]
    result = read_x12(data)
    [f] = structure_findings(0, result.interchanges[0], data)
    assert f.code is C.REFERENCE_VALIDATOR_FAILED and f.code.code is None
    assert "our failure, not the document's" in f.message
    assert verdicts(data, "engine")  # ours reports the document's real problems
