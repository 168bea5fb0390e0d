"""Shared data for the onboarding tests: the demo partner's 855 map and variants of it,
a partner profile to create, and certificates and keys to add."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import REPO

from gateway.web.auth import Principal

DEMO_855_MAP = (REPO / "partners" / "demo" / "maps" / "x12-855-004010.yaml").read_text()
SAMPLE_855 = REPO / "sample_docs" / "855" / "855_004010_acme_accepted_with_changes.edi"
# ACME's item AC-W100 is now our ITEM-100-B: the item number of one line changes
RENUMBERED_855_MAP = DEMO_855_MAP.replace("AC-W100: ITEM-100", "AC-W100: ITEM-100-B")
# the currency is now looked up in a table that does not hold it: translation fails
FAILING_855_MAP = DEMO_855_MAP.replace("currency: {from: CUR02, default: USD}",
                                       "currency: {from: CUR02, default: USD, table: item_xref}")
BUYER = Principal("bea", "buyer")

NEW_PARTNER = {
    "id": "globex",
    "name": "Globex Parts",
    "x12": {"qualifier": "ZZ", "id": "GLOBEXPARTS", "group_ids": ["GLOBEXPARTS"], "ack": "997",
            "control_number_reuse": "never"},
    "our_x12": {"qualifier": "ZZ", "id": "BUYERCO", "group_ids": ["BUYERCO"]},
    "test_data": "hold",
    "channels": {"sftp": {}, "as2": {"as2_id": "GLOBEX-AS2"}},
    "xml": {"cxml": [{"domain": "NetworkId", "identity": "GLOBEX"}]},
}


def certificate(days: int = 365, start_days_ago: int = 1, key_size: int = 2048) -> str:
    from gateway.transports.as2_certs import make_self_signed

    start = datetime.now(UTC) - timedelta(days=start_days_ago)
    return make_self_signed("globex-as2", days=days, not_before=start, key_size=key_size)[1].decode()


def ssh_public_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + " globex"
