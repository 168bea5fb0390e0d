"""Our X12 engine (gateway.x12.validator) on documents we write ourselves: every finding
names its segment, element, rule and data element number; structure, hierarchy,
releases, guides and the per-set cap."""

from __future__ import annotations

import pytest
from support import SAMPLES

from gateway.processing.structure import read_and_validate
from gateway.x12 import releases
from gateway.x12.findings import FindingCode as C
from gateway.x12.findings import Level, Severity
from gateway.x12.validator import MAX_PER_SET, Options

INVOICE = (SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi").read_text()
ASN = (SAMPLES / "856" / "856_004010_acme_asn_sh-77001.edi").read_text()
PO = (SAMPLES / "850" / "850_004010_buyerco_po_4500012345.edi").read_text()


def check(text: str, **options):
    return read_and_validate(text.encode("latin-1"), options=Options(**options), engine="engine")


def errors(text: str, **options):
    return [f for f in check(text, **options).findings if f.is_error]


def only(text: str, **options):
    found = errors(text, **options)
    assert len(found) == 1, [(f.code.name, f.message) for f in found]
    return found[0]


def recount(text: str, delta: int) -> str:
    """Keep SE01 right after adding/removing segments."""
    head, _, tail = text.rpartition("SE*")
    count, rest = tail.split("*", 1)
    return f"{head}SE*{int(count) + delta}*{rest}"


def test_the_samples_are_valid():
    for text in (INVOICE, ASN, PO):
        assert errors(text) == []


def test_a_paired_syntax_note_names_the_missing_element_and_the_rule():
    f = only(INVOICE.replace("IT1*1*100*EA*12.50*", "IT1*1*100**12.50*"))
    assert f.code is C.CONDITIONAL_ELEMENT_MISSING and f.code.code == "2"
    assert (f.segment_id, f.segment_position, f.element_position) == ("IT1", 13, 3)
    assert f.rule == "P020304" and f.element_reference == "355"
    assert f.message == "IT1 #1 (segment 13): IT103 is required when IT102 or IT104 is present (P020304)"
    assert f.to_dict()["rule"] == "P020304" and f.to_dict()["element"] == "IT103"


def test_an_exclusion_note_is_code_10_on_the_second_element():
    # TD3 E0110: TD301 (equipment description) and TD310 (equipment type) exclude each other
    text = recount(ASN.replace("TD5*B*2*FDEG*M*FEDEX GROUND~", "TD5*B*2*FDEG*M*FEDEX GROUND~TD3*TL*********FFFF~"), 1)
    f = only(text)
    assert f.code is C.EXCLUSION_CONDITION_VIOLATED and f.code.code == "10"
    assert (f.segment_id, f.element_position, f.rule, f.value) == ("TD3", 10, "E0110", "FFFF")


def test_required_and_conditional_notes():
    # N1 R0203: N102 or N103 is required
    f = only(INVOICE.replace("N1*RI*ACME SUPPLY CO*92*ACME01", "N1*RI"))
    assert (f.code, f.element_position, f.rule) == (C.CONDITIONAL_ELEMENT_MISSING, 2, "R0203")
    # N4 C0605: N406 requires N405
    f = only(INVOICE.replace("N4*DAYTON*OH*45402*US", "N4*DAYTON*OH*45402*US**DAYTON"))
    assert (f.code, f.element_position, f.rule) == (C.CONDITIONAL_ELEMENT_MISSING, 5, "C0605")
    assert "N405 is required when N406 is present (C0605)" in f.message


@pytest.mark.parametrize(("old", "new", "code", "element", "ak403"), [
    ("BIG*20261202*INV-88001", "BIG**INV-88001", C.MANDATORY_ELEMENT_MISSING, 1, "1"),
    ("BIG*20261202*INV-88001", "BIG*20261302*INV-88001", C.INVALID_DATE, 1, "8"),
    ("IT1*1*100*EA", "IT1*1*1O0*EA", C.INVALID_NUMERIC_VALUE, 2, "6"),
    ("REF*BM*BOL-990011", "REF*BM*BOL-990011-AND-THEN-SOME-MORE-TEXT", C.ELEMENT_TOO_LONG, 2, "5"),
    ("N1*RI*ACME SUPPLY CO*92*ACME01", "N1*RI*ACME SUPPLY CO*92", C.CONDITIONAL_ELEMENT_MISSING, 4, "2"),
    ("SAC*C*D240", "SAC*Z*D240", C.INVALID_CODE_VALUE, 1, "7"),
    ("CUR*SE*USD", "CUR*SE*USX", C.INVALID_CODE_VALUE, 2, "7"),
    ("DTM*011*20261201", "DTM*011*20261201*2561", C.INVALID_TIME, 3, "9"),
    ("REF*BM*BOL-990011", "REF*B*BOL-990011", C.ELEMENT_TOO_SHORT, 1, "4"),
])
def test_element_errors_have_their_ak403_code(old, new, code, element, ak403):
    assert old in INVOICE
    found = [f for f in errors(INVOICE.replace(old, new, 1)) if f.code is code]
    assert found, errors(INVOICE.replace(old, new, 1))
    f = found[0]
    assert f.element_position == element and f.code.x12_code("997") == ak403
    assert f.element_ref and f.element_ref in f.message and f.rule


def test_too_many_elements_points_at_the_first_extra_one():
    f = only(INVOICE.replace("DTM*011*20261201~", "DTM*011*20261201*****X~"))
    assert (f.code, f.element_position, f.value) == (C.TOO_MANY_ELEMENTS, 7, "X")
    assert errors(INVOICE.replace("DTM*011*20261201~", "DTM*011*20261201*****~")) == []  # empty: harmless


def test_a_composite_component_is_checked_and_named():
    # REF04 (C040): REF04-01 qualifier is mandatory when the composite is used
    f = only(INVOICE.replace("REF*BM*BOL-990011", "REF*BM*BOL-990011**>PO-1"))
    assert (f.code, f.element_position, f.component_position) == (C.MANDATORY_ELEMENT_MISSING, 4, 1)
    assert f.element_ref == "REF04-01" and f.element_reference == "128"


@pytest.mark.parametrize(("change", "delta", "code", "segment", "position"), [
    (("CUR*SE*USD~", "CUR*SE*USD~ZZZ*1~"), 1, C.UNRECOGNIZED_SEGMENT_ID, "ZZZ", 4),
    (("CUR*SE*USD~", "CUR*SE*USD~BEG*00*SA*1**20261118~"), 1, C.SEGMENT_NOT_IN_DEFINED_SET, "BEG", 4),
    (("DTM*011*20261201~", "DTM*011*20261201~CUR*SE*USD~"), 1, C.SEGMENT_NOT_IN_PROPER_SEQUENCE, "CUR", 13),
    (("BIG*20261202*INV-88001*20261118*4500012345~", ""), -1, C.MANDATORY_SEGMENT_MISSING, "BIG", 2),
    (("CUR*SE*USD~", "CUR*SE*USD~CUR*SE*USD~"), 1, C.SEGMENT_EXCEEDS_MAXIMUM_USE, "CUR", 4),
])
def test_segment_errors(change, delta, code, segment, position):
    f = only(recount(INVOICE.replace(*change), delta))
    assert (f.code, f.segment_id, f.segment_position) == (code, segment, position)
    assert f.level is Level.SEGMENT and f.rule


def test_a_loop_over_its_repeat_is_reported_at_the_segment_that_starts_it():
    # the 810 N1 loop repeats at most 200 times: two in the sample, 199 more
    n1 = "N1*BT*X*92*AP01~"
    text = recount(INVOICE.replace("ITD*01", n1 * 199 + "ITD*01"), 199)
    f = only(text)
    assert (f.code, f.segment_id, f.segment_position) == (C.LOOP_OCCURS_OVER_MAXIMUM, "N1", 11 + 198)


def test_hl_parents_must_exist_and_come_first_and_ids_be_unique():
    assert errors(ASN.replace("HL*2*1*O", "HL*2*7*O")) [0].code is C.HIERARCHY_PARENT_UNKNOWN
    f = errors(ASN.replace("HL*5*2*P", "HL*4*2*P"))[0]
    assert (f.code, f.element_position, f.segment_position, f.code.code) == (C.HIERARCHY_ID_NOT_UNIQUE, 1, 24, "7")
    f = only(ASN.replace("HL*2*1*O", "HL*2*1*I").replace("HL*3*2*P", "HL*3*1*P"))
    # HL 5 (pack) now sits under HL 2, an item
    assert (f.code, f.segment_position, f.element_position) == (C.HIERARCHY_LEVEL_MISPLACED, 24, 3)
    # numbering need not be sequential (X12 asks for unique ids, not 1, 2, 3)
    renumbered = ASN.replace("HL*6*5*I", "HL*60*5*I")
    assert errors(renumbered) == []


def test_findings_are_capped_per_set_then_summarised():
    lines = "IT1*1*X*EA*12.50**BP*W~" * 400
    text = recount(INVOICE.replace("TDS*", lines + "TDS*"), 400)
    found = check(text).findings
    in_set = [f for f in found if f.transaction_control_number == "0001"]
    assert len(in_set) == MAX_PER_SET + 1
    summary = in_set[-1]
    assert summary.code is C.ERRORS_NOT_LISTED and summary.is_error and summary.value == "300"
    assert summary.level is Level.SET and summary.code.code == "5"


def test_gs01_must_carry_the_set_and_a_guide_may_assign_another_code():
    f = only(PO.replace("GS*PO*", "GS*OW*"))
    assert (f.code, f.element_position) == (C.FUNCTIONAL_GROUP_NOT_SUPPORTED, 1)
    f = only(PO.replace("GS*PO*", "GS*SH*"))
    assert (f.code, f.segment_id, f.level) == (C.TRANSACTION_SET_NOT_SUPPORTED, "ST", Level.SET)
    assert "does not belong in a GS01 SH group" in f.message
    # the aerospace guide (GS08 004010X357) sends its 850 under GS01 SC
    assert errors(PO.replace("GS*PO*", "GS*SC*").replace("*X*004010~", "*X*004010X357~")) == []
    assert only(PO.replace("GS*PO*", "GS*SC*")).code is C.FUNCTIONAL_GROUP_NOT_SUPPORTED


def test_a_release_we_do_not_hold_validates_against_the_nearest_with_a_note():
    text = PO.replace("*X*004010~", "*X*004050VICS~")  # releases.txt: NEAREST 004050 004030
    found = check(text).findings
    [note] = [f for f in found if f.code is C.RELEASE_SUBSTITUTED]
    assert note.severity is Severity.INFO and not note.is_error
    assert "004050 is validated against the 004030 tables" in note.message
    assert not any(f.is_error for f in found)
    # a segment our 004010 table lacks is a warning there, an error when exact
    extra = recount(PO.replace("CUR*BY*USD~", "CUR*BY*USD~ZZZ**NOTE~"), 1)
    assert only(extra).code is C.UNRECOGNIZED_SEGMENT_ID
    lenient = [f for f in check(extra.replace("*X*004010~", "*X*004050~")).findings if f.code is C.UNRECOGNIZED_SEGMENT_ID]
    assert lenient[0].severity is Severity.WARNING and "judged by the 004030 tables" in lenient[0].message
    # data no release accepts stays an error
    assert only(PO.replace("*X*004010~", "*X*004050~").replace("BEG*00*SA*4500012345**20261118",
                                                                 "BEG*00*SA*4500012345**20261341")).code is C.INVALID_DATE
    # the partner's strict setting refuses the substitution
    f = only(text, strict_releases=True)
    assert f.code is C.FUNCTIONAL_GROUP_VERSION_NOT_SUPPORTED and f.is_error


def test_element_lengths_follow_the_release():
    long_id = "N1*ST*BUYERCO PLANT 1*92*" + "P" * 40  # N104 (element 67): 2/80 from 004010, 2/20 in 003050
    text = PO.replace("N1*ST*BUYERCO PLANT 1*92*PLANT01", long_id)
    assert errors(text) == []
    too_long = [f for f in errors(text.replace("*X*004010~", "*X*003050~"))  # (its dates are 6/6 there too)
                if f.code is C.ELEMENT_TOO_LONG and f.segment_id == "N1"]
    assert [(f.element_position, f.element_reference) for f in too_long] == [(4, "67")]


@pytest.mark.parametrize(("gs08", "release", "exact"), [
    ("004010", "004010", True), ("004010VICS", "004010", True), ("005010X231A1", "005010", True),
    ("004030", "004030", True), ("003040", "003040", True), ("005030", "005010", False),
    ("004060", "004060", True), ("004050", "004030", False), ("006020", "005010", False),
    ("004010X357", "004010", True),
])
def test_resolve_picks_the_nearest_release(gs08, release, exact):
    from gateway.x12.dictionary import tables

    r = releases.resolve(gs08, "PO", tables().releases)
    assert (r.release, r.exact) == (release, exact)
    assert bool(r.note) == (not exact)


def test_resolve_refuses_what_is_not_a_release():
    r = releases.resolve("X", "PO", ("004010", "005010"))
    assert r.release is None and "does not name an X12 release" in r.note
    f = only(PO.replace("*X*004010~", "*X*4010~"))
    assert f.code is C.FUNCTIONAL_GROUP_VERSION_NOT_SUPPORTED


def test_the_environment_selects_the_pyx12_reference(monkeypatch, tmp_path):
    from gateway.processing.validate import check_x12

    monkeypatch.setenv("GATEWAY_HOME", str(tmp_path))  # pyx12's map directory is built there
    text = INVOICE.replace("IT1*1*100*EA*12.50*", "IT1*1*100**12.50*").encode()
    [ours] = [f for f in check_x12(text).findings if f.is_error]
    assert ours.rule == "P020304"
    monkeypatch.setenv("GATEWAY_X12_VALIDATOR", "pyx12")
    [ref] = [f for f in check_x12(text).findings if f.is_error]
    assert ref.rule is None and ref.segment_position == 13  # the old path: pyx12's findings
    monkeypatch.setenv("GATEWAY_X12_VALIDATOR", "bogus")
    with pytest.raises(ValueError, match="GATEWAY_X12_VALIDATOR must be one of engine, pyx12"):
        check_x12(text)


def test_junk_between_interchanges_does_not_stop_the_others_being_validated():
    bad = INVOICE.replace("SAC*C*D240", "SAC*Z*D240")
    second = bad.replace("000000103", "000000104")
    found = check(bad + "GARBAGE BETWEEN\n" + second).findings
    assert any(f.code is C.DATA_OUTSIDE_INTERCHANGE for f in found)
    assert sorted(f.interchange_index for f in found if f.code is C.INVALID_CODE_VALUE) == [0, 1]
