"""Envelopes as partners really send them: BOM, blanks, mailbags, versions, TA1."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12_samples import codes, render, replace, sample_bytes, segments  # noqa: E402

from gateway.x12.findings import FindingCode as C  # noqa: E402
from gateway.x12.findings import Severity  # noqa: E402
from gateway.x12.reader import read_x12  # noqa: E402


def test_bom_and_leading_whitespace_and_indentation():
    data = b"\xef\xbb\xbf\r\n  " + sample_bytes(eol="\r\n    ")
    result = read_x12(data)
    assert result.valid
    assert [f.code for f in result.findings] == [C.BYTE_ORDER_MARK]
    assert result.findings[0].severity is None and not result.findings[0].is_error
    assert result.interchanges[0].start == 7


def test_mailbag_with_different_delimiters_and_ctrl_z():
    first = sample_bytes()
    second = render(replace(segments(), "ISA", segments()[0].replace("000000101", "000000102"))
                    [:-1] + ["IEA*1*000000102"], element="|", terminator="\x15", component="}",
                    eol="\r\n")
    result = read_x12(first + second + b"\x1a")
    assert result.valid, result.findings
    a, b = result.interchanges
    assert (a.delimiters.element, b.delimiters.element, b.delimiters.segment) == ("*", "|", "\x15")
    assert b.start == len(first) and b.control_number == "000000102"


def test_duplicate_isa13_in_one_file():
    data = sample_bytes() + sample_bytes()
    result = read_x12(data)
    assert codes(result) == ["DUPLICATE_INTERCHANGE_CONTROL_NUMBER"]
    assert result.findings[0].interchange_index == 1
    assert result.findings[0].code.code == "025"


def test_new_isa_without_iea_closes_the_previous_interchange():
    data = render(segments()[:-1]) + sample_bytes()
    result = read_x12(data)
    assert codes(result) == ["INTERCHANGE_TRAILER_MISSING", "DUPLICATE_INTERCHANGE_CONTROL_NUMBER"]
    assert len(result.interchanges) == 2


def test_junk_between_interchanges_is_reported():
    result = read_x12(sample_bytes() + b"hello there\n" + sample_bytes().replace(b"0101", b"0102"))
    assert codes(result) == ["DATA_OUTSIDE_INTERCHANGE"]
    assert len(result.interchanges) == 2


@pytest.mark.parametrize("version", ["00200", "00300", "00400", "00401", "00403", "00501", "00801"])
def test_isa12_versions_accepted(version):
    segs = segments()
    segs[0] = segs[0].replace("*00401*", f"*{version}*")
    assert read_x12(render(segs)).valid


def test_isa12_out_of_range_is_a_warning_non_numeric_an_error():
    segs = segments()
    segs[0] = segs[0].replace("*00401*", "*00040*")
    result = read_x12(render(segs))
    assert result.valid and result.findings[0].severity is Severity.WARNING
    segs[0] = segs[0].replace("*00040*", "*0040X*")
    assert codes(read_x12(render(segs))) == ["INVALID_CONTROL_VERSION"]


def test_ta1_between_isa_and_gs_and_ta1_only_interchange():
    segs = segments()
    segs.insert(1, "TA1*000000077*261119*1200*A*000")
    result = read_x12(render(segs))
    assert result.valid
    (ta1,) = result.ta1[0]
    assert ta1.get(1) == "000000077" and ta1.get(4) == "A"
    only = read_x12(render([segs[0], segs[1], "IEA*0*000000101"]))
    assert only.valid and len(only.ta1[0]) == 1 and only.interchanges[0].groups == []


def test_inbound_997_is_read_like_anything_else():
    segs = [segments()[0], "GS*FA*ACMESUPPLY*BUYERCO*20261120*1030*7*X*004010", "ST*997*0001",
            "AK1*PO*55", "AK2*850*0001", "AK5*A", "AK9*A*1*1*1", "SE*6*0001", "GE*1*7",
            "IEA*1*000000101"]
    result = read_x12(render(segs))
    assert result.valid
    assert result.interchanges[0].groups[0].transactions[0].set_id == "997"


def test_several_groups_and_sets():
    segs = segments()
    st_se = segs[2:18]
    second = [s.replace("0001", "0002") for s in st_se]
    body = [segs[1], *st_se, *second, "GE*2*101", segs[1].replace("*101*", "*102*"), *st_se,
            "GE*1*102"]
    result = read_x12(render([segs[0], *body, "IEA*2*000000101"]))
    assert result.valid, result.findings
    g1, g2 = result.interchanges[0].groups
    assert [t.control_number for t in g1.transactions] == ["0001", "0002"]
    assert g2.control_number == "102" and len(g2.transactions) == 1
    assert result.findings_for(0, "101") == []


def test_findings_for_narrows_by_group_and_set():
    result = read_x12(render(replace(segments(), "SE", "SE*99*0001")))
    assert len(result.findings_for(0)) == 1
    assert len(result.findings_for(0, "101", "0001")) == 1
    assert result.findings_for(0, "101", "0002") == []
    assert result.findings_for(1) == []


def test_finding_to_dict_shape():
    result = read_x12(render(replace(segments(), "SE", "SE*99*0001")))
    assert result.findings[0].to_dict() == {
        "code": "SEGMENT_COUNT_MISMATCH",
        "message": "SE01 says 99 segments but set 0001 has 16 (ST to SE inclusive)",
        "segment_id": "SE", "segment_index": 16, "element": "SE01"}
