"""The ``cxml:`` block of a partner profile: validated when loaded, the secret only named
(an environment variable or a file), read when used and never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.domain.partner import PartnerConfigError, SecretUnavailable, load_partner

REPO = Path(__file__).resolve().parents[3]
CXML = {"order_url": "https://orders.acme.example/cxml", "from": {"domain": "NetworkId", "identity": "BUYERCO"},
        "to": {"domain": "DUNS", "identity": "123456789"}, "shared_secret_env": "ACME_CXML_SECRET"}


def _profile(tmp_path: Path, **cxml) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir(exist_ok=True)
    data = yaml.safe_load((REPO / "partners" / "demo" / "partner.yaml").read_text())
    data["cxml"] = {k: v for k, v in {**CXML, **cxml}.items() if v is not None}
    (folder / "partner.yaml").write_text(yaml.safe_dump(data))
    return folder / "partner.yaml"


def test_the_block_loads_with_defaults_and_its_to_credential_identifies_the_partner(tmp_path, monkeypatch):
    profile = load_partner(_profile(tmp_path))
    c = profile.cxml
    assert (c.order_url, c.from_, c.to, c.sender) == (
        "https://orders.acme.example/cxml", ("NetworkId", "BUYERCO"), ("DUNS", "123456789"), ("NetworkId", "BUYERCO"))
    assert (c.version, c.deployment_mode, c.timeout, c.max_attempts) == ("1.2.063", "production", 30.0, 8)
    assert ("DUNS", "123456789") in profile.xml.cxml and ("NetworkId", "ACMESUPPLY") in profile.xml.cxml
    monkeypatch.setenv("ACME_CXML_SECRET", "  the-secret\n")
    assert c.shared_secret.read() == "the-secret"
    assert "the-secret" not in repr(profile) and "the-secret" not in str(c.shared_secret)


def test_a_secret_file_is_relative_to_the_partner_folder(tmp_path):
    profile = load_partner(_profile(tmp_path, shared_secret_env=None, shared_secret_file="cxml.secret"))
    with pytest.raises(SecretUnavailable, match="cannot be read"):
        profile.cxml.shared_secret.read()
    (tmp_path / "demo" / "cxml.secret").write_text("from-a-file\n")
    assert profile.cxml.shared_secret.read() == "from-a-file"


def test_an_unset_secret_is_our_configuration_error_when_used(tmp_path, monkeypatch):
    monkeypatch.delenv("ACME_CXML_SECRET", raising=False)
    with pytest.raises(SecretUnavailable, match="ACME_CXML_SECRET"):
        load_partner(_profile(tmp_path)).cxml.shared_secret.read()


@pytest.mark.parametrize(("change", "message"), [
    ({"shared_secret_env": None}, "exactly one of shared_secret_env or shared_secret_file"),
    ({"shared_secret_file": "x.secret"}, "exactly one of shared_secret_env or shared_secret_file"),
    ({"shared_secret": "in-the-repo"}, "shared_secret"),
    ({"order_url": "ftp://acme.example/x"}, "order_url"),
    ({"to": None}, "to"),
    ({"deployment_mode": "staging"}, "deployment_mode"),
    ({"max_response_bytes": 10}, "max_response_bytes"),
])
def test_a_broken_block_fails_when_loaded_naming_the_field(tmp_path, change, message):
    with pytest.raises(PartnerConfigError, match=message):
        load_partner(_profile(tmp_path, **change))
