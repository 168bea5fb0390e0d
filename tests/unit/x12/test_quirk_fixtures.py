"""Our own quirk fixtures (tests/fixtures/x12, written by its make.py) get the outcomes the
real-document corpus tests ask of the corpus, so a clone without ../shared still tests
every quirk: the reader finds the right delimiters and no error (test_reader_corpus), each
interchange validates against our maps (structure/test_corpus), translates into events
that keep every line (mapping/test_real_corpus), and every ack we would send validates
with pyx12 (acks/test_acks); each malformed fixture gives the error its corpus
counterpart gives."""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

HERE = Path(__file__).resolve().parent
TESTS = HERE.parents[1]
FIXTURES = TESTS / "fixtures" / "x12"
sys.path[:0] = [str(HERE.parent / "acks")]

from pyx12_check import pyx12_errors, relaxed_map_dir  # noqa: E402

from gateway.acks import build_acknowledgments  # noqa: E402
from gateway.mapping import translate_x12  # noqa: E402
from gateway.x12.reader import read_x12  # noqa: E402
from gateway.x12.structure import validate_structure  # noqa: E402


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make = _load("x12_fixture_make", FIXTURES / "make.py")
# the corpus tests' own normalisation and event checks, so both ask exactly the same
structure_corpus = _load("structure_corpus_checks", TESTS / "unit" / "structure" / "test_corpus.py")
mapping_corpus = _load("mapping_corpus_checks", TESTS / "unit" / "mapping" / "test_real_corpus.py")

#: file -> (element, segment terminator, component, repetition) per interchange; warnings allowed
SOUND = {
    "850_004010_control-character-delimiters.edi": [("\x1d", "\x1c", "\x1f", None)],
    "855_004010_tilde-element-separator_apostrophe-terminator.edi": [("~", "'", "}", None)],
    "810_004010_pipe-element-separator.edi": [("|", "~", "\\", None)],
    "856_004010_plus-element-separator_apostrophe-terminator.edi": [("+", "'", ":", None)],
    "855_004010_utf8-bom_crlf.edi": [("*", "~", ">", None)],
    "856_004010_cr-only-terminator.edi": [("*", "\r", ">", None)],
    "850_004010_lf-terminator.edi": [("*", "\n", ">", None)],
    "810_004010_crlf-terminator.edi": [("*", "\r", ">", None)],  # the LF after it is whitespace
    "810_004010_nak-terminator.edi": [("|", "\x15", "}", None)],
    "855_004010_indented_trailing-whitespace-after-iea.edi": [("*", "~", ">", None)],
    "850_005010_repetition-separator-caret.edi": [("*", "~", ">", "^")],
    "855_005010_repetition-separator-exclamation.edi": [("*", "~", ">", "!")],
    "mailbag_three-interchanges_mixed-delimiters_ctrl-z.edi": [
        ("*", "~", ">", None), ("|", "\x15", "}", None), ("\x1d", "\x1c", "\x1f", None)],
    "855_isa12-00200_gs08-004010.edi": [("*", "~", ">", None)],
    "855_isa12-00300_gs08-004010.edi": [("*", "~", ">", None)],
    "855_isa12-00400_gs08-004010VICS.edi": [("*", "~", ">", None)],
    "855_isa12-00403_gs08-004010.edi": [("*", "~", ">", "^")],
    "855_isa12-00040_gs08-004010.edi": [("*", "~", ">", None)],
    "855_isa12-00801_gs08-005010.edi": [("*", "~", ">", "^")],
}
#: findings that are not errors but must be reported
WARNINGS = {
    "855_004010_utf8-bom_crlf.edi": ["BYTE_ORDER_MARK"],
    "855_isa12-00040_gs08-004010.edi": ["INVALID_CONTROL_VERSION"],  # out of range: a warning only
}
#: what each broken envelope must be rejected for (as its corpus counterpart is)
MALFORMED = {
    "malformed/855_004010_no-iea-trailer.edi": {"INTERCHANGE_TRAILER_MISSING"},
    "malformed/810_004010_se01-wrong-count.edi": {"SEGMENT_COUNT_MISMATCH"},
    "malformed/856_004010_multibyte-ellipsis-terminator.edi": {"INVALID_SEGMENT_TERMINATOR"},
    "malformed/850_004010_unpadded-isa.edi": {"INVALID_CONTROL_STRUCTURE"},
    "malformed/855_004010_short-isa06.edi": {"INVALID_CONTROL_STRUCTURE"},
    "malformed/850_004010_missing-isa16.edi": {"INVALID_TRANSACTION_SET_CONTROL_NUMBER",
                                               "GROUP_CONTROL_NUMBER_MISMATCH",
                                               "INTERCHANGE_CONTROL_NUMBER_MISMATCH"},
    "malformed/855_004010_control-numbers-mismatch.edi": {"SET_CONTROL_NUMBER_MISMATCH",
                                                          "GROUP_CONTROL_NUMBER_MISMATCH",
                                                          "INTERCHANGE_CONTROL_NUMBER_MISMATCH"},
}
#: the quirks issue #11 names, and the fixtures that carry each
QUIRKS = {
    "control-character separators": ["850_004010_control-character-delimiters.edi"],
    "unusual element separators": ["855_004010_tilde-element-separator_apostrophe-terminator.edi",
                                   "810_004010_pipe-element-separator.edi",
                                   "856_004010_plus-element-separator_apostrophe-terminator.edi"],
    "UTF-8 BOM": ["855_004010_utf8-bom_crlf.edi"],
    "mailbag": ["mailbag_three-interchanges_mixed-delimiters_ctrl-z.edi"],
    "CR-only terminator": ["856_004010_cr-only-terminator.edi"],
    "LF terminator": ["850_004010_lf-terminator.edi"],
    "CRLF terminator": ["810_004010_crlf-terminator.edi", "855_004010_utf8-bom_crlf.edi"],
    "NAK terminator": ["810_004010_nak-terminator.edi"],
    "ISA12 variants": [n for n in SOUND if "_isa12-" in n] + ["850_005010_repetition-separator-caret.edi"],
    "repetition separator": ["850_005010_repetition-separator-caret.edi",
                             "855_005010_repetition-separator-exclamation.edi"],
    "whitespace around segments and after IEA": ["855_004010_indented_trailing-whitespace-after-iea.edi"],
    "broken envelopes": list(MALFORMED),
}


def _errors(result) -> list[str]:
    return [f.code.name for f in result.findings if f.is_error]


def _control_numbers() -> SimpleNamespace:
    """Fresh ack control numbers 1, 2, 3 ... (the acks builder's ControlNumbers protocol)."""
    counter = itertools.count(1)
    return SimpleNamespace(next=lambda name: next(counter))


@pytest.fixture(scope="module")
def private_home(tmp_path_factory):
    """The pyx12 maps are built under GATEWAY_HOME: a private one per test process."""
    old = os.environ.get("GATEWAY_HOME")
    os.environ["GATEWAY_HOME"] = str(tmp_path_factory.mktemp("quirk-home"))
    yield
    if old is None:
        os.environ.pop("GATEWAY_HOME", None)
    else:
        os.environ["GATEWAY_HOME"] = old


def test_the_fixtures_are_what_make_writes():
    written = make.fixtures()
    on_disk = {str(p.relative_to(FIXTURES)): p.read_bytes() for p in FIXTURES.rglob("*.edi")}
    assert on_disk == written, "run python tests/fixtures/x12/make.py and commit the result"
    assert set(written) == set(SOUND) | set(MALFORMED)


def test_every_quirk_named_in_the_issue_has_a_fixture():
    for quirk, names in QUIRKS.items():
        assert names and all((FIXTURES / n).is_file() for n in names), quirk


@pytest.mark.parametrize("name", SOUND)
def test_sound_fixture_reads_with_its_delimiters_and_no_error(name):
    result = read_x12((FIXTURES / name).read_bytes())
    assert result.is_x12
    assert _errors(result) == [], [f.message for f in result.findings]
    assert [f.code.name for f in result.findings if not f.is_error] == WARNINGS.get(name, [])
    assert [(ic.delimiters.element, ic.delimiters.segment, ic.delimiters.component, ic.delimiters.repetition)
            for ic in result.interchanges] == SOUND[name]
    assert all(len(g.transactions) == 1 for ic in result.interchanges for g in ic.groups)
    assert all(ic.end > ic.start for ic in result.interchanges)


@pytest.mark.parametrize("name", SOUND)
def test_sound_fixture_streams_the_same(name):
    full = read_x12((FIXTURES / name).read_bytes())
    with (FIXTURES / name).open("rb") as fh:
        lean = read_x12(fh, keep_segments=False)
    assert [f.code for f in lean.findings] == [f.code for f in full.findings]
    assert [(ic.control_number, [g.control_number for g in ic.groups]) for ic in lean.interchanges] == [
        (ic.control_number, [g.control_number for g in ic.groups]) for ic in full.interchanges]


@pytest.mark.parametrize("name", SOUND)
def test_sound_fixture_validates_against_our_maps(name, private_home):
    raw = (FIXTURES / name).read_bytes()
    for ic in read_x12(raw).interchanges:
        report = validate_structure(structure_corpus.normalise(raw[ic.start:ic.end]))
        assert [e for e in report.errors if (e["segment_id"], e["element_position"]) not in ISA16_CONTROL_CHARACTER] \
            == [], (ic.control_number, report.errors)


#: pyx12 calls a control character in ISA16 invalid (code 6), though X12 allows 0x1C-0x1F
#: as delimiters; the envelope is the reader's to judge (and it reads these cleanly), and
#: the gateway passes on only the findings inside transaction sets.
ISA16_CONTROL_CHARACTER = {("ISA", 16)}


@pytest.mark.parametrize("name", SOUND)
def test_sound_fixture_translates_keeping_every_line(name):
    interchanges = read_x12((FIXTURES / name).read_bytes()).interchanges
    sets = [ts for ic in interchanges for g in ic.groups for ts in g.transactions]
    events = [e for ic in interchanges for e in translate_x12(ic, mapping_corpus.CTX)]
    assert len(events) == len(sets) > 0
    for ts, event in zip(sets, events, strict=True):
        mapping_corpus._check(ts, event)


@pytest.mark.parametrize("name", [*SOUND, *MALFORMED])
def test_every_ack_for_a_fixture_validates_with_pyx12(name, tmp_path_factory):
    map_dir = relaxed_map_dir(str(tmp_path_factory.getbasetemp() / "quirk-pyx12"))
    result = read_x12((FIXTURES / name).read_bytes())
    acks = [ack for index in range(len(result.interchanges))
            for ack in build_acknowledgments(result, index, our_qualifier="ZZ", our_id="BUYERCO",
                                             control_numbers=_control_numbers())]
    assert acks or name in MALFORMED
    for ack in acks:
        if ack.kind != "TA1":
            ok, tree = pyx12_errors(ack.text, map_dir)
            assert ok, (ack.text, tree)


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_fixture_gives_its_error(name):
    result = read_x12((FIXTURES / name).read_bytes())
    assert result.is_x12
    assert set(_errors(result)) == MALFORMED[name], [f.message for f in result.findings]
