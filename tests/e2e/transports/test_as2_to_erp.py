"""AS2 end to end as an operator runs it: `gateway up`, the partner's AS2 software
(pyas2lib, its own keys) posting a signed and encrypted 855 to /as2, our signed MDN
verified by the partner, and the event reaching the ERP once. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import time

import pytest
import requests
from support import REPO, SAMPLES, GatewayUp

from gateway.transports.as2_certs import make_self_signed
from gateway.transports.as2_compat import Mdn, Message, Organization, Partner
from gateway.transports.as2_receive import raw_message

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"
pytestmark = pytest.mark.slow


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {predicate}")


def test_signed_encrypted_855_over_as2_reaches_the_erp_once(tmp_path, database_url, erp_receiver):
    key_pem, cert_pem = make_self_signed("ACME-AS2", key_size=2048)
    partners = tmp_path / "partners"
    shutil.copytree(REPO / "partners" / "demo", partners / "demo")
    (partners / "demo" / "acme-as2.pem").write_bytes(cert_pem)
    profile = (partners / "demo" / "partner.yaml").read_text()
    (partners / "demo" / "partner.yaml").write_text(profile.replace(
        "channels:\n", "channels:\n  as2:\n    as2_id: ACME-AS2\n    certificates: [acme-as2.pem]\n"))
    home = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(GATEWAY_HOME=str(home), GATEWAY_ERP_URL=erp_receiver.url, DATABASE_URL=database_url,
               GATEWAY_PARTNERS_DIR=str(partners))
    with GatewayUp(env, tmp_path / "gateway.log") as up:
        http_port = up.http_port
        assert "/as2" in up.output()
        [our_cert] = (home / "keys" / "as2").glob("*.crt")  # what we hand to the partner

        org = Organization(as2_name="ACME-AS2", sign_key=key_pem + cert_pem, decrypt_key=key_pem + cert_pem,
                           domain="acme.test")
        us = Partner(as2_name="BUYERCO", verify_cert=our_cert.read_bytes(), encrypt_cert=our_cert.read_bytes(),
                     sign=True, encrypt=True, compress=True, enc_alg="aes_256_cbc", mdn_mode="SYNC",
                     mdn_digest_alg="sha256")
        msg = Message(sender=org, receiver=us)
        msg.build(SAMPLE_855.read_bytes(), filename=SAMPLE_855.name, content_type="application/edi-x12")
        sent_at = time.time()
        response = requests.post(f"http://127.0.0.1:{http_port}/as2", data=msg.content, headers=msg.headers,
                                 timeout=30)
        status, detail = Mdn().parse(raw_message(list(response.headers.items()), response.content),
                                     find_message_cb=lambda _m, _r: msg)
        assert (status, detail) == ("processed", None)
        wait_for(lambda: erp_receiver.posts)
        print(f"\nAS2 POST -> ERP POST: {(erp_receiver.posts[0]['at'] - sent_at) * 1000:.0f} ms")
        assert erp_receiver.posts[0]["body"]["payload"]["po_number"] == "4500012345"
        again = requests.post(f"http://127.0.0.1:{http_port}/as2", data=msg.content, headers=msg.headers, timeout=30)
        assert again.content == response.content  # a resend: the original MDN, nothing posted again
        time.sleep(1.5)
        assert len(erp_receiver.posts) == 1
