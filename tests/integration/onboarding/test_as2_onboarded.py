"""A partner created in the database sends over AS2 once its certificate is added, with
the gateway's web process running all along (its AS2 directory is rebuilt, not restarted)."""

from __future__ import annotations

import sys

import requests
from onboarding_support import BUYER, NEW_PARTNER, SAMPLE_855
from sqlalchemy import select
from support import REPO, sent_by

from gateway.onboarding import partners
from gateway.store.models import Document

sys.path.insert(0, str(REPO / "tests" / "integration" / "transports"))
from as2_kit import Server, make_runtime, new_keys, partner_message, verify_mdn  # noqa: E402


def test_an_onboarded_partner_sends_over_as2_after_its_certificate_is_added(tmp_path, database_url):
    ours, globex = new_keys("BUYERCO"), new_keys("GLOBEX-AS2")
    rt = make_runtime(tmp_path / "home", REPO / "partners", database_url, None, [ours])
    server = Server(rt)
    try:
        payload = sent_by(SAMPLE_855.read_bytes(), "GLOBEXPARTS")
        before = partner_message(globex, "GLOBEX-AS2", ours.cert_pem, payload)
        response = requests.post(server.url, data=before.content, headers=before.headers, timeout=60)
        assert b"could not be processed" in response.content  # nobody has this AS2 id yet

        partners.create(rt, BUYER, NEW_PARTNER, "new supplier")
        partners.add_certificate(rt, BUYER, "globex", globex.cert_pem.decode(), "their certificate")
        msg = partner_message(globex, "GLOBEX-AS2", ours.cert_pem, payload)
        response = requests.post(server.url, data=msg.content, headers=msg.headers, timeout=60)
        assert response.status_code == 200, response.text
        status, detail, _ = verify_mdn(msg, response.headers.items(), response.content)
        assert (status, detail) == ("processed", None)
        with rt.session() as s:
            docs = s.scalars(select(Document).where(Document.partner_id == "globex")).all()
        assert [(d.channel, d.filename) for d in docs] == [("as2", "po.edi")]
    finally:
        server.stop()
