"""Every map validates a generated document that fills EVERY element of every segment
(pitfall 6), and a minimal one with only the required parts, in 004010 and 005010."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gateway.x12.structure import validate_structure

SETS = {"850": "PO", "855": "PR", "856": "SH", "810": "IN"}
VERSIONS = {"004010": ("4010", "00401"), "005010": ("5010", "00501")}
CASES = [(s, v) for v in VERSIONS for s in SETS]


def _map_tags(map_dir, map_file):
    root = ET.parse(map_dir / map_file).getroot()
    st_loop = next(lp for lp in root.iter("loop") if lp.get("xid") == "ST_LOOP")
    return {seg.get("xid") for seg in st_loop.iter("segment")}


@pytest.mark.parametrize(("set_id", "version"), CASES)
def test_full_document_validates(set_id, version, map_dirs, docgen):
    short, isa12 = VERSIONS[version]
    map_file = f"{set_id}.{short}.xml"
    doc = docgen.full_document(map_dirs[version], map_file, SETS[set_id], version, isa12)
    report = validate_structure(doc.encode())
    assert report.errors == []
    assert report.valid
    tags = {line.split("*")[0] for line in doc.splitlines()}
    assert _map_tags(map_dirs[version], map_file) <= tags  # every segment of the map was used


@pytest.mark.parametrize(("set_id", "version"), CASES)
def test_minimal_document_validates(set_id, version, map_dirs, docgen):
    short, isa12 = VERSIONS[version]
    doc = docgen.minimal_document(
        map_dirs[version], f"{set_id}.{short}.xml", SETS[set_id], version, isa12
    )
    report = validate_structure(doc.encode())
    assert report.errors == []
    assert report.valid


@pytest.mark.parametrize("gs08", ["004010VICS", "004010UCS"])
def test_industry_gs08_variants_are_registered(gs08, map_dirs, docgen):
    doc = docgen.full_document(map_dirs["004010"], "850.4010.xml", "PO", gs08)
    assert validate_structure(doc.encode()).valid


def test_full_856_has_every_hl_level(map_dirs, docgen):
    doc = docgen.full_document(map_dirs["004010"], "856.4010.xml", "SH", "004010")
    levels = [line.split("*")[3] for line in doc.splitlines() if line.startswith("HL*")]
    assert levels == ["S", "O", "T", "P", "I", "Q"]
