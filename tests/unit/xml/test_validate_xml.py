"""``gateway validate`` for XML (the JSON contract of DESIGN §4), and the real corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support import CORPUS, REPO, SAMPLES

from gateway.processing.validate import validate_bytes

SCHEMAS = CORPUS / "schemas"
needs_schemas = pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"no schema directory at {SCHEMAS}")


def run_validate(*files, schemas=SCHEMAS):
    env = {**os.environ, "GATEWAY_SCHEMA_DIR": str(schemas)}
    return subprocess.run([sys.executable, "-m", "gateway", "validate", *map(str, files), "--json"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@needs_schemas
def test_cli_json_for_a_valid_and_an_invalid_document(tmp_path):
    good = SAMPLES / "cxml" / "ConfirmationRequest_acme_po_4500012360.xml"
    bad = tmp_path / "bad.xml"
    bad.write_bytes(good.read_bytes().replace(b'<ConfirmationStatus type="detail"', b'<ConfirmationStatus type="x"'))
    result = run_validate(good, bad)
    assert result.returncode == 1, result.stderr
    ok, wrong = json.loads(result.stdout)
    assert ok == {"file": str(good), "format": "xml", "valid": True, "errors": [], "transactions": [],
                  "document": {"standard": "cxml", "kind": "ConfirmationRequest", "version": "1.2.063",
                               "id": "20261220103000.C-4500012360@acmesupply.example"},
                  "schema": {"validated_against": "cxml/1.2.063/Fulfill.dtd", "skipped": None}}
    assert wrong["valid"] is False
    [error] = wrong["errors"]
    assert set(error) == {"code", "message", "segment_id", "segment_index", "element"}
    assert error["code"] == "DTD_INVALID"
    assert error["segment_id"] == "/cXML/Request/ConfirmationRequest/ConfirmationItem[2]/ConfirmationStatus"
    assert error["segment_index"] == 19
    assert error["message"].startswith(f"line 19, {error['segment_id']}: ")
    assert run_validate(good).returncode == 0


def test_by_default_ubl_is_checked_against_the_shipped_xsd(monkeypatch):
    monkeypatch.delenv("GATEWAY_SCHEMA_DIR", raising=False)
    report = validate_bytes((SAMPLES / "ubl" / "Order_acme_po_ac-9002.xml").read_bytes(), "o.xml")
    assert report["valid"] is True and report["errors"] == []
    assert report["schema"] == {"validated_against": "ubl-2.1/xsd/maindoc/UBL-Order-2.1.xsd", "skipped": None}
    data = (SAMPLES / "ubl" / "Order_acme_po_ac-9002.xml").read_bytes()
    bad = validate_bytes(data.replace(b"<cbc:ID>", b"<cbc:Nonsense/><cbc:ID>", 1), "bad.xml")
    assert bad["valid"] is False and bad["errors"][0]["code"] == "XSD_INVALID"


def test_without_cxml_dtds_the_skipped_check_is_said_in_json_and_text():
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_SCHEMA_DIR"}
    sample = SAMPLES / "cxml" / "OrderRequest_acme_po_ac-9001.xml"
    as_json = subprocess.run([sys.executable, "-m", "gateway", "validate", str(sample), "--json"], cwd=REPO,
                             env=env, capture_output=True, text=True, timeout=120)
    skipped = json.loads(as_json.stdout)["schema"]["skipped"]
    assert "no cxml/*/cXML.dtd" in skipped and "not shipped" in skipped and "GATEWAY_SCHEMA_DIR" in skipped
    text = subprocess.run([sys.executable, "-m", "gateway", "validate", str(sample)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert text.returncode == 0 and f"  ! {skipped}" in text.stdout


def test_a_broken_document_reports_line_and_open_element(monkeypatch):
    monkeypatch.delenv("GATEWAY_SCHEMA_DIR", raising=False)
    data = (SAMPLES / "ubl" / "Order_acme_po_ac-9002.xml").read_bytes()
    report = validate_bytes(data[: len(data) - 40], "cut.xml")
    [error] = report["errors"]
    assert report["valid"] is False and error["code"] == "NOT_WELL_FORMED"
    assert error["segment_index"] and error["segment_id"].startswith("/Order")


REAL = sorted(p for d in ("cxml", "ubl") for p in (CORPUS / "real" / d).glob("*.xml")) if CORPUS.is_dir() else []
MALFORMED = sorted((CORPUS / "real" / "malformed").glob("*.xml")) if CORPUS.is_dir() else []
NOT_TAKEN = {"UBL-OrderChange-2.1-Example_oasis.xml": "UNSUPPORTED_DOCUMENT"}


@needs_schemas
@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_real_documents_are_valid_against_the_official_schemas(path, monkeypatch):
    monkeypatch.setenv("GATEWAY_SCHEMA_DIR", str(SCHEMAS))
    report = validate_bytes(path.read_bytes(), path.name)
    if path.name in NOT_TAKEN:
        assert [e["code"] for e in report["errors"]] == [NOT_TAKEN[path.name]]
        return
    assert report["valid"], report["errors"]
    if report["document"]["kind"] != "OrderResponseSimple":  # no XSD for it in the directory
        assert report["schema"]["validated_against"], report["schema"]


@needs_schemas
@pytest.mark.parametrize("path", MALFORMED, ids=[p.name for p in MALFORMED])
def test_malformed_real_xml_is_invalid_with_located_errors(path, monkeypatch):
    monkeypatch.setenv("GATEWAY_SCHEMA_DIR", str(SCHEMAS))
    report = validate_bytes(path.read_bytes(), path.name)
    assert report["valid"] is False
    assert all(e["segment_index"] and e["segment_id"] for e in report["errors"]), report["errors"]
