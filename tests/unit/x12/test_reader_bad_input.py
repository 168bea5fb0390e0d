"""Issue 3 §6: every bad input gives a clear finding with the exact code expected."""

import sys
import time
import tracemalloc
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12_samples import codes, render, replace, sample_bytes, segments  # noqa: E402

from gateway.x12.findings import FindingCode as C  # noqa: E402
from gateway.x12.findings import Level  # noqa: E402
from gateway.x12.reader import read_x12  # noqa: E402


def read_segs(segs, **kw):
    return read_x12(render(segs, **kw))


def only(result, code: C):
    found = [f for f in result.findings if f.code is code]
    assert found, [f.code.name for f in result.findings]
    return found[0]


@pytest.mark.parametrize("data", [b"", b"   \n", b'{"po": 1}', b"<?xml version='1.0'?><Order/>",
                                  b"UNA:+.? 'UNB+UNOC:3"])
def test_not_x12(data):
    result = read_x12(data)
    assert not result.is_x12 and not result.valid
    assert codes(result) == ["NOT_X12"]


def test_binary_junk_file():
    junk = bytes(range(256)) * 40
    result = read_x12(junk)
    assert not result.is_x12
    assert codes(result) == ["BINARY_CONTENT", "NOT_X12"]


def test_binary_junk_spliced_mid_file():
    segs = segments()
    data = render(segs[:8]) + bytes(range(256)) * 8 + render(segs[8:])
    result = read_x12(data)
    assert "BINARY_CONTENT" in codes(result)
    assert only(result, C.BINARY_CONTENT).code.code == "024"
    # the junk holds '~' bytes; the fragments are reported once, not one finding each
    assert codes(result).count("BINARY_CONTENT") == 1


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff", b""])
def test_utf16(bom):
    text = sample_bytes().decode("ascii")
    data = bom + text.encode("utf-16-le" if bom != b"\xfe\xff" else "utf-16-be")
    result = read_x12(data)
    assert not result.is_x12
    assert codes(result) == ["UTF16_ENCODING", "NOT_X12"]
    assert "UTF-16" in only(result, C.UTF16_ENCODING).message


def test_isa_not_106_characters():
    segs = segments()
    segs[0] = segs[0].replace("ACMESUPPLY     ", "ACMESUPPLY    ")  # ISA06 one short
    result = read_segs(segs)
    f = only(result, C.INVALID_CONTROL_STRUCTURE)
    assert "105 bytes" in f.message and f.code.code == "022"
    # the sender can still be named, the rest is still read
    assert result.interchanges[0].sender_id == "ACMESUPPLY"
    assert codes(result) == ["INVALID_CONTROL_STRUCTURE"]


def test_isa_longer_than_106_and_unpadded():
    segs = segments()
    segs[0] = segs[0].replace("ACMESUPPLY     ", "ACMESUPPLY      ")
    assert "107 bytes" in only(read_segs(segs), C.INVALID_CONTROL_STRUCTURE).message
    segs[0] = "ISA*00* *00* *ZZ*ACMESUPPLY *ZZ*BUYERCO *261120*1030*U*00401*000000101*0*P*>"
    result = read_segs(segs)
    assert codes(result) == ["INVALID_CONTROL_STRUCTURE"]
    ic = result.interchanges[0]
    assert (ic.sender_id, ic.receiver_id, ic.control_number) == ("ACMESUPPLY", "BUYERCO",
                                                                 "000000101")


def test_element_separator_equals_terminator():
    result = read_segs(segments(), element="~", terminator="~")
    assert codes(result) == ["INVALID_ELEMENT_SEPARATOR"]
    assert only(result, C.INVALID_ELEMENT_SEPARATOR).code.code == "026"


def test_iea02_differs_from_isa13():
    result = read_segs(replace(segments(), "IEA", "IEA*1*000000102"))
    f = only(result, C.INTERCHANGE_CONTROL_NUMBER_MISMATCH)
    assert codes(result) == ["INTERCHANGE_CONTROL_NUMBER_MISMATCH"]
    assert f.code.code == "001" and f.value == "000000102" and f.interchange_index == 0


def test_iea01_wrong():
    result = read_segs(replace(segments(), "IEA", "IEA*2*000000101"))
    assert codes(result) == ["INVALID_GROUP_COUNT"]
    assert only(result, C.INVALID_GROUP_COUNT).code.code == "021"


def test_iea_missing():
    result = read_segs(replace(segments(), "IEA", None))
    assert codes(result) == ["INTERCHANGE_TRAILER_MISSING"]
    assert only(result, C.INTERCHANGE_TRAILER_MISSING).code.code == "023"


def test_ge02_differs_from_gs06():
    result = read_segs(replace(segments(), "GE", "GE*1*102"))
    f = only(result, C.GROUP_CONTROL_NUMBER_MISMATCH)
    assert codes(result) == ["GROUP_CONTROL_NUMBER_MISMATCH"]
    assert (f.code.code, f.group_control_number, f.level) == ("4", "101", Level.GROUP)


def test_ge01_wrong():
    result = read_segs(replace(segments(), "GE", "GE*3*101"))
    f = only(result, C.TRANSACTION_SET_COUNT_MISMATCH)
    assert codes(result) == ["TRANSACTION_SET_COUNT_MISMATCH"]
    assert (f.code.code, f.value) == ("5", "3")


def test_ge_missing():
    result = read_segs(replace(segments(), "GE", None))
    assert codes(result) == ["GROUP_TRAILER_MISSING"]
    assert only(result, C.GROUP_TRAILER_MISSING).code.code == "3"


def test_se01_wrong():
    result = read_segs(replace(segments(), "SE", "SE*15*0001"))
    f = only(result, C.SEGMENT_COUNT_MISMATCH)
    assert codes(result) == ["SEGMENT_COUNT_MISMATCH"]
    assert (f.code.code, f.transaction_control_number, f.segment_id, f.segment_position,
            f.element_position) == ("4", "0001", "SE", 16, 1)
    assert "SE01 says 15 segments but set 0001 has 16" in f.message


def test_se02_differs_from_st02():
    result = read_segs(replace(segments(), "SE", "SE*16*0002"))
    assert codes(result) == ["SET_CONTROL_NUMBER_MISMATCH"]
    assert only(result, C.SET_CONTROL_NUMBER_MISMATCH).code.code == "3"


def test_se_missing():
    result = read_segs(replace(segments(), "SE", None))
    f = only(result, C.SET_TRAILER_MISSING)
    assert codes(result) == ["SET_TRAILER_MISSING"]
    assert (f.code.code, f.transaction_control_number) == ("2", "0001")


def test_duplicate_st02_and_gs06():
    segs = segments()
    gs, st_to_se, ge = segs[1], segs[2:18], segs[18]
    body = [gs, *st_to_se, *st_to_se, ge.replace("GE*1", "GE*2"), gs, *st_to_se, ge]
    result = read_segs([segs[0], *body, "IEA*2*000000101"])
    assert codes(result) == ["DUPLICATE_TRANSACTION_CONTROL_NUMBER",
                             "DUPLICATE_GROUP_CONTROL_NUMBER"]
    dup_set = only(result, C.DUPLICATE_TRANSACTION_CONTROL_NUMBER)
    assert (dup_set.code.code, dup_set.set_index, dup_set.group_index) == ("23", 1, 0)
    dup_group = only(result, C.DUPLICATE_GROUP_CONTROL_NUMBER)
    # 004010's 997 code list has no "not unique" code: 6 there, 19 in a 999
    assert (dup_group.code.x12_code("997"), dup_group.code.x12_code("999")) == ("6", "19")


def test_unrecognized_segment_id():
    segs = segments()
    segs.insert(5, "P@1*1*2")
    result = read_segs(replace(segs, "SE", "SE*17*0001"))
    f = only(result, C.UNRECOGNIZED_SEGMENT_ID)
    assert codes(result) == ["UNRECOGNIZED_SEGMENT_ID"]
    assert (f.code.code, f.segment_position, f.level) == ("1", 4, Level.SEGMENT)


def test_truncated_file():
    data = sample_bytes()
    result = read_x12(data[: len(data) * 6 // 10])
    assert codes(result) == ["SET_TRAILER_MISSING", "GROUP_TRAILER_MISSING",
                             "INTERCHANGE_TRAILER_MISSING"]


def test_truncated_inside_isa():
    result = read_x12(sample_bytes()[:50])
    assert result.is_x12 and codes(result) == ["INVALID_CONTROL_STRUCTURE"]
    assert result.interchanges == []


def test_non_ascii_byte_in_element():
    segs = segments()
    segs[5] = segs[5].replace("PLANT 1", "PLANTÉ 1")
    result = read_x12(render(segs).replace("É".encode("latin-1"), "É".encode()))
    f = only(result, C.NON_ASCII_CHARACTER)
    assert codes(result) == ["NON_ASCII_CHARACTER"]
    assert (f.code.code, f.segment_id, f.segment_position, f.element_position) == ("6", "N1", 4, 2)
    assert "N1 #1 (segment 4), element N102: non-ASCII byte 0xC3" in f.message


def test_control_character_in_element():
    segs = segments()
    segs[8] = segs[8].replace("STEEL", "ST\x01EEL")
    result = read_segs(segs)
    f = only(result, C.INVALID_CHARACTER)
    assert (f.segment_id, f.element_position, f.code.code) == ("PID", 5, "6")


def test_empty_segment_is_reported_not_a_silent_stop():
    data = sample_bytes().replace(b"CUR*SE*USD~", b"CUR*SE*USD~~")
    result = read_x12(data)
    assert codes(result) == ["EMPTY_SEGMENT"]
    assert only(result, C.EMPTY_SEGMENT).code.code == "024"
    assert len(result.interchanges[0].groups[0].transactions[0].segments) == 16


def test_blank_line_with_line_feed_terminator_is_only_a_warning():
    data = sample_bytes(terminator="\n", eol="").replace(b"CUR*SE*USD\n", b"CUR*SE*USD\n\n")
    result = read_x12(data)
    assert result.valid and [f.code for f in result.findings] == [C.EMPTY_SEGMENT]


def test_gs_without_functional_id_or_version():
    result = read_segs(replace(segments(), "GS", "GS**ACMESUPPLY*BUYERCO*20261120*1030*101*X"))
    assert codes(result) == ["FUNCTIONAL_GROUP_NOT_SUPPORTED",
                             "FUNCTIONAL_GROUP_VERSION_NOT_SUPPORTED"]
    assert [f.code.code for f in result.findings] == ["1", "2"]


def test_one_megabyte_segment():
    segs = segments()
    segs[8] = "PID*F****" + "X" * (1024 * 1024)
    started = time.perf_counter()
    result = read_segs(segs)
    assert time.perf_counter() - started < 2
    f = only(result, C.SEGMENT_TOO_LONG)
    assert codes(result) == ["SEGMENT_TOO_LONG"]
    assert (f.segment_id, f.segment_position, f.code.code) == ("PID", 7, "024")
    assert "1048585 bytes long" in f.message


class Endless:
    """A file object serving an ISA and then ``size`` bytes without any terminator."""

    def __init__(self, head: bytes, size: int):
        self.head, self.left = head, size

    def read(self, n: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head, b""
            return out
        n = min(n if n > 0 else 1 << 16, self.left)
        self.left -= n
        return b"A" * n


def test_fifty_megabytes_without_terminator_bounded_time_and_memory():
    isa = sample_bytes()[:107]
    tracemalloc.start()
    started = time.perf_counter()
    result = read_x12(Endless(isa, 50 * 1024 * 1024))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert codes(result) == ["SEGMENT_TOO_LONG", "INTERCHANGE_TRAILER_MISSING"]
    assert elapsed < 10 and peak < 2 * 1024 * 1024, (elapsed, peak)


def test_segment_outside_a_set():
    segs = segments()
    segs.insert(2, "REF*ZZ*X")
    result = read_segs(segs)
    assert codes(result) == ["INVALID_INTERCHANGE_CONTENT"]


def test_isa_element_checks():
    segs = segments()
    isa = segs[0].split("*")
    isa[9], isa[10], isa[12], isa[13], isa[14], isa[15] = "261340", "2561", "00401", "00000010X", "2", "Q"
    segs[0] = "*".join(isa)
    result = read_segs(segs)
    assert codes(result) == ["INVALID_INTERCHANGE_DATE", "INVALID_INTERCHANGE_TIME",
                             "INVALID_INTERCHANGE_CONTROL_NUMBER",
                             "INVALID_ACKNOWLEDGMENT_REQUESTED", "INVALID_USAGE_INDICATOR",
                             "INTERCHANGE_CONTROL_NUMBER_MISMATCH"]
