"""Real third-party 850/855/856/810 documents (../shared/corpus/real) validate against our
maps, or fail only with defects really present in the document (listed below with why).

The caller normalises before ``validate_structure``; this test does the same minimal
normalisation itself: strip a UTF-8 BOM, drop whitespace between segments, and set ISA12
to 00401/00501 by the data's version (ISA11 back to ``U`` for 00401).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.x12.structure import data_version, validate_structure

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "real"
FOLDERS = ("x12-850", "x12-855", "x12-856", "x12-810")
FILES = sorted(p for folder in FOLDERS for p in (CORPUS / folder).glob("*") if p.is_file())

#: Releases the pyx12 reference has no map for (our engine validates them: see
#: tests/unit/x12/test_differential.py, which runs every corpus file through it).
UNSUPPORTED = {
    "810_4030_two-invoices-sac_oopfactory.edi": "GS08 004030",
    "850_3040_sa-govt-dais_gs-fs-control-char-delims_oboe.edi": "GS08 003040",
    "850_4030VICS_repetition-sep-caret_bots.edi": "GS08 004030VICS",
    "856_3060-gs_isa-00401_oopfactory.edi": "GS08 003060",
    "856_4060_xyz-retail_hl-sopi_nodex12.edi": "GS08 004060",
}

#: Documents with real defects: file -> the (level, segment, position, element, code) set.
DEFECTS = {
    # IT1*<id>*4**70: IT103 (unit) missing while IT102/IT104 present, 004010 syntax P020304.
    "810_4010_pipe-element-sep_stupidedi.edi": {
        ("segment", "IT1", 7, None, "8"),
        ("segment", "IT1", 9, None, "8"),
    },
    # ISS sent before TDS: in the 004010 810 ISS (summary 060) follows TDS (summary 010).
    "810_4010_walmart-style_oopfactory.edi": {("segment", "ISS", 16, None, "1")},
    # GS04 950120 is YYMMDD (004010 needs CCYYMMDD); both groups reuse GS06 5 and
    # each group repeats ST02 000000001.
    "850_4010_two-groups-four-po_yymmdd-gs-date_bots.edi": {
        ("group", "GS", None, 4, "4"),
        ("transaction", None, None, None, "23"),
        ("group", None, None, None, "6"),
    },
    # GS01 OW (warehouse order) does not match ST01 850: no map for (OW, 005010).
    # Likewise GS01 SC (price/sales catalog) around an 850/855/810 in the aerospace guides.
    "850_4010X357_aerospace-taxexempt-po_stupidedi.edi": {
        ("interchange", None, None, None, "engine")
    },
    "855_4010X358_aerospace-rejected_stupidedi.edi": {("interchange", None, None, None, "engine")},
    "810_4010X348_aerospace-basic_stupidedi.edi": {("interchange", None, None, None, "engine")},
    "850_5010_stedi-demo_gs01-OW-mismatch.edi": {("interchange", None, None, None, "engine")},
}


def normalise(raw: bytes) -> bytes:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("latin-1")
    text = text[text.find("ISA") :]
    term = text[105]
    segments = [s.strip(" \r\n\t") for s in text.split(term)]
    text = term.join(s for s in segments if s) + term
    isa12 = "00501" if data_version(text) == "005010" else "00401"
    isa11 = "U" if isa12 == "00401" else text[82]
    return (text[:82] + isa11 + text[83:84] + isa12 + text[89:]).encode("latin-1")


def _summary(report):
    return {
        (e["level"], e["segment_id"], e["segment_position"], e["element_position"], e["code"])
        for e in report.errors
    }


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not present at {CORPUS}")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_real_document(path):
    if path.name in UNSUPPORTED:
        pytest.skip(f"the pyx12 reference has no map for {UNSUPPORTED[path.name]}; the engine's corpus test covers it")
    report = validate_structure(normalise(path.read_bytes()))
    expected = DEFECTS.get(path.name)
    if expected is None:
        assert report.errors == []
        assert report.valid
    else:
        assert not report.valid
        assert _summary(report) == expected


def test_corpus_folder_or_skip():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not present at {CORPUS}")
    assert FILES, "corpus folders are empty"
    assert set(UNSUPPORTED) | set(DEFECTS) <= {p.name for p in FILES}


#: The GS01-mismatch documents are otherwise sound: with the right GS01 they validate.
GS01_FIX = {
    "850_5010_stedi-demo_gs01-OW-mismatch.edi": "PO",
    "850_4010X357_aerospace-taxexempt-po_stupidedi.edi": "PO",
    "855_4010X358_aerospace-rejected_stupidedi.edi": "PR",
    "810_4010X348_aerospace-basic_stupidedi.edi": "IN",
}


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not present at {CORPUS}")
@pytest.mark.parametrize("name", sorted(GS01_FIX))
def test_gs01_mismatch_documents_validate_with_the_right_gs01(name):
    path = next(p for p in FILES if p.name == name)
    text = normalise(path.read_bytes()).decode("latin-1")
    at = text.find("GS", 106)
    text = text[: at + 3] + GS01_FIX[name] + text[at + 5 :]
    report = validate_structure(text.encode("latin-1"))
    assert report.valid, report.errors
