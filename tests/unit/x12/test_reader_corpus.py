"""The real third-party documents of ../shared/corpus/real (issue 3 §7).

Structurally sound folders must read without envelope errors (except errors really
in the document); every X12 file in malformed/ must give the error PROVENANCE.md names.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12_samples import CORPUS  # noqa: E402

from gateway.x12.reader import read_x12  # noqa: E402

SOUND = ("x12-850", "x12-855", "x12-856", "x12-810", "x12-other")


def _files(*folders: str) -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for f in folders for p in (CORPUS / f).glob("*") if p.suffix != ".xml")


needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(),
                                  reason=f"real-document corpus not found at {CORPUS}")

# Errors that really are in "sound" documents: the bots sample repeats GS06 5 in both
# groups and ST02 000000001 in every set (X12 wants both unique).
REAL_ERRORS = {
    "850_4010_two-groups-four-po_yymmdd-gs-date_bots.edi": [
        "DUPLICATE_TRANSACTION_CONTROL_NUMBER", "DUPLICATE_GROUP_CONTROL_NUMBER",
        "DUPLICATE_TRANSACTION_CONTROL_NUMBER"],
}

# What each malformed file must be rejected for (from its name and PROVENANCE.md).
MALFORMED = {
    "204_no-iea-trailer_gtlogistics.edi": {"INTERCHANGE_TRAILER_MISSING"},
    "204_segment-count-mismatch_gtlogistics.edi": {"SEGMENT_COUNT_MISMATCH"},
    "214_4010_ellipsis-terminator_staedi.edi": {"INVALID_SEGMENT_TERMINATOR"},
    "850_3010_unpadded-isa_bang-terminator_stupidedi.edi": {"INVALID_CONTROL_STRUCTURE",
                                                            "SEGMENT_COUNT_MISMATCH"},
    "850_4010_adobe-clp_short-isa06_oopfactory.edi": {"INVALID_CONTROL_STRUCTURE"},
    # ISA16 missing: byte 104 is '~' (read as component separator), LF terminates, so
    # every segment ends in a stray '~': ST02/GE02/IEA02 no longer match their headers.
    "850_4010_missing-isa16_edinet.edi": {"INVALID_TRANSACTION_SET_CONTROL_NUMBER",
                                          "GROUP_CONTROL_NUMBER_MISMATCH",
                                          "INTERCHANGE_CONTROL_NUMBER_MISMATCH"},
    # its envelope is fine; the syntax notes are checked by the pyx12 maps, not here
    "850_4010_syntax-note-violations_ediengine.edi": set(),
    "850_5010_napa_unpadded-isa_pipe-repetition_x12types.edi": {"INVALID_CONTROL_STRUCTURE"},
    "855_4010_dandh_unpadded-isa_x12types.edi": {"INVALID_CONTROL_STRUCTURE",
                                                 "SEGMENT_COUNT_MISMATCH"},
    "856_4010_fisher-scientific_unpadded-isa_x12types.edi": {"INVALID_CONTROL_STRUCTURE"},
    # the N1 without terminator runs into the next line: a line break inside N104
    "860_4010_missing-terminator_short-isa_oopfactory.edi": {"INVALID_CONTROL_STRUCTURE",
                                                             "INVALID_CHARACTER",
                                                             "SEGMENT_COUNT_MISMATCH"},
    "940_4010_control-numbers-mismatch_ediengine.edi": {"SET_CONTROL_NUMBER_MISMATCH",
                                                        "GROUP_CONTROL_NUMBER_MISMATCH",
                                                        "INTERCHANGE_CONTROL_NUMBER_MISMATCH"},
    "999_5010_se01-wrong_staedi.edi": {"SEGMENT_COUNT_MISMATCH"},
}


def _errors(result) -> list[str]:
    return [f.code.name for f in result.findings if f.is_error]


@needs_corpus
@pytest.mark.parametrize("path", _files(*SOUND), ids=lambda p: p.name)
def test_sound_documents_read_cleanly(path):
    result = read_x12(path.read_bytes())
    assert result.is_x12
    assert _errors(result) == REAL_ERRORS.get(path.name, []), [
        f.message for f in result.findings]
    assert all(g.transactions for ic in result.interchanges for g in ic.groups)
    assert result.interchanges and all(ic.end > ic.start for ic in result.interchanges)


@needs_corpus
@pytest.mark.parametrize("path", _files(*SOUND), ids=lambda p: p.name)
def test_sound_documents_stream_the_same(path):
    """keep_segments=False and file objects give the same envelopes and findings."""
    full = read_x12(path.read_bytes())
    with path.open("rb") as fh:
        lean = read_x12(fh, keep_segments=False)
    assert [f.code for f in lean.findings] == [f.code for f in full.findings]
    assert [[(g.control_number, [t.control_number for t in g.transactions]) for g in ic.groups]
            for ic in lean.interchanges] == [
        [(g.control_number, [t.control_number for t in g.transactions]) for g in ic.groups]
        for ic in full.interchanges]


@needs_corpus
@pytest.mark.parametrize("path", _files("malformed"), ids=lambda p: p.name)
def test_malformed_documents_give_their_error(path):
    assert path.name in MALFORMED, f"new malformed file {path.name}: add its expected error"
    result = read_x12(path.read_bytes())
    assert result.is_x12
    assert set(_errors(result)) == MALFORMED[path.name], [f.message for f in result.findings]


@needs_corpus
def test_corpus_counts():
    sound, malformed = _files(*SOUND), _files("malformed")
    assert len(sound) >= 37 and len(malformed) >= 13
