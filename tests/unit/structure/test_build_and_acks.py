"""The map build is deterministic and complete; inbound 997/999 validate; helpers."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from gateway.x12 import structure
from gateway.x12.structure import data_version, validate_structure

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*240115*1230*U*{isa12}*000000001*0*T*>~\n"
)


def _interchange(isa12, gs01, gs08, body):
    return (
        ISA.format(isa12=isa12)
        + f"GS*{gs01}*SENDER*RECEIVER*20240115*1230*7*X*{gs08}~\n"
        + body
        + "GE*1*7~\nIEA*1*000000001~\n"
    )


def test_build_is_deterministic(tmp_path):
    a = structure.build_map_dir(tmp_path / "a")
    b = structure.build_map_dir(tmp_path / "b")
    for version in ("004010", "005010"):
        names = sorted(p.name for p in (a / version).iterdir())
        assert names == sorted(p.name for p in (b / version).iterdir())
        match, mismatch, errors = filecmp.cmpfiles(a / version, b / version, names, shallow=False)
        assert mismatch == [] and errors == []
    structure.build_map_dir(tmp_path / "a")  # re-runnable over an existing build
    assert (a / "004010" / "maps.xml").is_file()


def test_map_dir_is_complete(map_dirs):
    for version, path in map_dirs.items():
        names = {p.name for p in path.iterdir()}
        assert {
            "maps.xml",
            "dataele.xml",
            "codes.xml",
            "x12.control.00401.xml",
            "x12.control.00501.xml",
            "997.4010.xml",
            "999.5010.xml",
        } <= names
        assert {
            f"{s}.{v}.xml" for s in ("850", "855", "856", "810") for v in ("4010", "5010")
        } <= names
        lengths = {
            e.get("ele_num"): e.get("max_len")
            for e in ET.parse(path / "dataele.xml").getroot().iter("data_ele")
        }
        assert lengths["127"] == ("30" if version == "004010" else "50")


@pytest.mark.parametrize(
    ("icvn", "gs08", "gs01", "map_file"),
    [
        ("00401", "004010", "PO", "850.4010.xml"),
        ("00401", "004010VICS", "PR", "855.4010.xml"),
        ("00401", "004010UCS", "SH", "856.4010.xml"),
        ("00501", "004010", "IN", "810.4010.xml"),
        ("00501", "005010", "PO", "850.5010.xml"),
        ("00401", "005010VICS", "SH", "856.5010.xml"),
        ("00401", "004010", "FA", "997.4010.xml"),
        ("00501", "005010X231", "FA", "999.5010.xml"),
    ],
)
def test_maps_index_rows(map_dirs, icvn, gs08, gs01, map_file):
    import pyx12.map_index

    index = pyx12.map_index.map_index(str(map_dirs["004010"]))
    assert index.get_filename(icvn, gs08, gs01) == map_file


def test_envelope_accepts_supply_chain_qualifiers(map_dirs):
    root = ET.parse(map_dirs["004010"] / "x12.control.00401.xml").getroot()
    isa05 = next(e for e in root.iter("element") if e.get("xid") == "ISA05")
    codes = {c.text for c in isa05.iter("code")}
    assert {"01", "08", "12", "14", "ZZ"} <= codes


def test_inbound_997_validates():
    body = "ST*997*0001~\nAK1*PO*1~\nAK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~\nSE*6*0001~\n"
    report = validate_structure(_interchange("00401", "FA", "004010", body).encode())
    assert report.valid, report.errors


def test_inbound_999_validates():
    body = (
        "ST*999*0001*005010X231~\nAK1*PO*1*005010~\nAK2*850*0001~\nIK5*A~\n"
        "AK9*A*1*1*1~\nSE*6*0001~\n"
    )
    report = validate_structure(_interchange("00501", "FA", "005010X231", body).encode())
    assert report.valid, report.errors
    assert report.map_version == "005010"


def test_data_version_prefers_gs08():
    doc = _interchange("00401", "PO", "005010", "")
    assert data_version(doc) == "005010"
    assert data_version(_interchange("00501", "PO", "004010VICS", "")) == "004010"
    assert data_version("not x12") == "004010"


def test_report_is_json_ready():
    body = "ST*850*0001~\nBEG*00*SA*1**2024011~\nSE*3*0001~\n"
    report = validate_structure(_interchange("00401", "PO", "004010", body).encode())
    data = json.loads(json.dumps(report.to_dict()))
    assert data["valid"] is False
    assert {e["code"] for e in data["errors"]} >= {"3", "8"}  # PO1 loop missing, bad date


def test_cli_build_and_validate(tmp_path):
    dest = tmp_path / "maps"
    done = subprocess.run(
        [sys.executable, "-m", "gateway.x12.structure", "build", str(dest)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (dest / "004010" / "850.4010.xml").is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "gateway.x12.structure", "frobnicate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2


@pytest.mark.parametrize(("isa12", "gs08"), [("00401", "004010VICS"), ("00501", "005010X230")])
def test_inbound_997_variants_validate(isa12, gs08):
    st03 = "*005010X230" if gs08.startswith("005010") else ""
    body = f"ST*997*0001{st03}~\nAK1*PO*1~\nAK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~\nSE*6*0001~\n"
    report = validate_structure(_interchange(isa12, "FA", gs08, body).encode())
    assert report.valid, report.errors
