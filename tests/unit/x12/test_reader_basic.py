import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12_samples import SAMPLE_855, render, sample_bytes, segments  # noqa: E402

from gateway.x12.reader import read_x12  # noqa: E402


def test_sample_855_reads_clean():
    result = read_x12(SAMPLE_855.read_bytes())
    assert result.is_x12 and result.valid
    assert result.findings == []
    (ic,) = result.interchanges
    assert (ic.sender_qualifier, ic.sender_id) == ("ZZ", "ACMESUPPLY")
    assert (ic.receiver_id, ic.control_number, ic.version) == ("BUYERCO", "000000101", "00401")
    assert not ic.ack_requested and ic.usage == "P"
    (group,) = ic.groups
    assert (group.functional_id, group.sender, group.control_number, group.version) == (
        "PR", "ACMESUPPLY", "101", "004010")
    (tset,) = group.transactions
    assert (tset.set_id, tset.control_number) == ("855", "0001")
    assert [s.tag for s in tset.segments][:3] == ["ST", "BAK", "CUR"]
    assert [s.position for s in tset.segments] == list(range(1, 17))
    po1 = [s for s in tset.segments if s.tag == "PO1"][2]
    assert po1.get(2) == "25" and po1.get(3) == "BX"
    assert ic.start == 0 and ic.end == len(SAMPLE_855.read_bytes().rstrip())  # past IEA~


def test_file_object_and_offsets():
    data = sample_bytes()
    result = read_x12(io.BytesIO(data))
    tset = result.interchanges[0].groups[0].transactions[0]
    for seg in tset.segments:
        assert data[seg.offset:seg.offset + len(seg.tag)].decode() == seg.tag


def test_keep_segments_false_keeps_envelopes_only():
    result = read_x12(sample_bytes(), keep_segments=False)
    tset = result.interchanges[0].groups[0].transactions[0]
    assert result.valid and tset.segments == [] and tset.control_number == "0001"


def test_control_character_delimiters_and_tilde_separator():
    for element, terminator, component in (("\x1d", "\x1c", "@"), ("~", "}", ">"),
                                           ("|", "\x15", "}"), ("*", "\r", ">"),
                                           ("*", "\n", ">"), ("+", "'", ":")):
        data = render(segments(), element=element, terminator=terminator, component=component,
                      eol="" if terminator in "\r\n" else "\r\n")
        result = read_x12(data)
        assert result.valid, (repr(element), repr(terminator), result.findings)
        ic = result.interchanges[0]
        assert ic.delimiters.element == element and ic.delimiters.segment == terminator
        assert len(ic.groups[0].transactions[0].segments) == 16
