"""Schema lookup in the local directory, validation findings, and sender identification."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import CORPUS, REPO, SAMPLES

from gateway.config import ConfigError
from gateway.domain.partner import load_partners
from gateway.xml import check_schema, detect_kind, identify, parse_document, schema_dir
from gateway.xml.schemas import find_dtd, find_xsd

SCHEMAS = CORPUS / "schemas"
needs_schemas = pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"no schema directory at {SCHEMAS}")


def test_schema_dir_comes_from_the_environment_and_must_exist(tmp_path):
    assert schema_dir({}) == REPO / "maps" / "xml"  # by default, the schemas the gateway ships
    assert schema_dir({"GATEWAY_SCHEMA_DIR": str(tmp_path)}) == tmp_path.resolve()
    with pytest.raises(ConfigError, match="GATEWAY_SCHEMA_DIR"):
        schema_dir({"GATEWAY_SCHEMA_DIR": str(tmp_path / "missing")})


def test_cxml_dtd_versions_exact_then_nearest_newer_then_newest(tmp_path):
    for version in ("1.2.020", "1.2.037", "1.2.063"):
        (tmp_path / "cxml" / version).mkdir(parents=True)
        (tmp_path / "cxml" / version / "cXML.dtd").write_text("")
    pick = lambda v: find_dtd(tmp_path, "cXML.dtd", v).parent.name  # noqa: E731
    assert [pick("1.2.037"), pick("1.2.021"), pick("1.2.070"), pick(None)] == ["1.2.037", "1.2.037", "1.2.063",
                                                                                "1.2.063"]
    assert find_dtd(tmp_path, "Fulfill.dtd", "1.2.063") is None


def test_without_a_schema_directory_validation_is_skipped_and_says_why():
    root = parse_document((SAMPLES / "ubl" / "Invoice_acme_inv-88070.xml").read_bytes())
    check = check_schema(root, detect_kind(root), None)
    assert check.valid and check.schema is None and "GATEWAY_SCHEMA_DIR is not set" in check.skipped


def test_a_kind_without_a_schema_in_the_directory_is_skipped(tmp_path):
    root = parse_document((SAMPLES / "ubl" / "Invoice_acme_inv-88070.xml").read_bytes())
    check = check_schema(root, detect_kind(root), tmp_path)
    assert check.valid and "no UBL-Invoice-2.1.xsd" in check.skipped


@needs_schemas
def test_the_official_schemas_are_found_in_the_release_layout():
    assert find_xsd(SCHEMAS, "Invoice").relative_to(SCHEMAS) == Path("ubl-2.1/xsd/maindoc/UBL-Invoice-2.1.xsd")
    assert find_xsd(SCHEMAS, "OrderResponseSimple") is None


@needs_schemas
def test_a_custom_dtd_pointing_at_xml_cxml_org_resolves_locally():
    data = (b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/Custom.dtd">'
            b'<cXML payloadID="x" timestamp="2026-01-01T00:00:00Z"><Header/></cXML>')
    root = parse_document(data)
    kind = detect_kind(parse_document(data.replace(b"<Header/>", b"<Request><OrderRequest/></Request>")))
    check = check_schema(root, kind, SCHEMAS)
    assert check.schema == "cxml/1.2.050/Custom.dtd"
    assert not check.valid and all(f.xpath.startswith("/cXML") and f.line == 1 for f in check.findings)


PARTNERS = load_partners(REPO / "partners")


@pytest.mark.parametrize("name", sorted(p.name for p in (SAMPLES / "cxml").glob("*.xml"))
                         + sorted(p.name for p in (SAMPLES / "ubl").glob("*.xml")))
def test_our_samples_are_identified_as_the_demo_partner(name):
    path = SAMPLES / ("cxml" if (SAMPLES / "cxml" / name).exists() else "ubl") / name
    root = parse_document(path.read_bytes())
    partner, ids = identify(PARTNERS, root, detect_kind(root))
    assert partner is not None and partner.id == "demo", ids


def test_cxml_sender_falls_back_to_the_sender_credential_and_domains_are_case_blind():
    data = (SAMPLES / "cxml" / "OrderRequest_acme_po_ac-9001.xml").read_bytes()
    data = data.replace(b"<From><Credential domain=\"NetworkId\"><Identity>ACMESUPPLY",
                        b"<From><Credential domain=\"DUNS\"><Identity>123456789", 1)
    data = data.replace(b'<Sender><Credential domain="NetworkId">', b'<Sender><Credential domain="networkid">')
    root = parse_document(data)
    partner, ids = identify(PARTNERS, root, detect_kind(root))
    assert partner.id == "demo" and [(i.where, str(i)) for i in ids] == [
        ("From", "DUNS:123456789"), ("Sender", "networkid:ACMESUPPLY")]


def test_ubl_uses_the_sending_party_of_the_document_kind_only():
    data = (SAMPLES / "ubl" / "Invoice_acme_inv-88070.xml").read_bytes()
    swapped = data.replace(b">ACME01<", b">TMP<").replace(b">BUYER01<", b">ACME01<").replace(b">TMP<", b">BUYER01<")
    root = parse_document(swapped)  # ACME is now only the customer: not the sender
    partner, ids = identify(PARTNERS, root, detect_kind(root))
    assert partner is None and [str(i) for i in ids] == ["92:BUYER01"]
    other_scheme = parse_document(data.replace(b'schemeID="92">ACME01', b'schemeID="GLN">ACME01'))
    assert identify(PARTNERS, other_scheme, detect_kind(other_scheme))[0] is None
