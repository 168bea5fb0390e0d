"""A partner created by another process (the web) logs in to a running SFTP service with
the key added for it, and its upload is received: the SFTP service sees it without a
restart. Driven with OpenSSH's own sftp client."""

from __future__ import annotations

import shutil
import sys

import pytest
from onboarding_support import BUYER, NEW_PARTNER, SAMPLE_855
from sqlalchemy import select
from support import REPO

from gateway.bootstrap import bootstrap
from gateway.onboarding import partners
from gateway.store.models import Document

sys.path.insert(0, str(REPO / "tests" / "integration" / "transports"))
from sftp_kit import SftpRig  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("sftp") is None, reason="OpenSSH's sftp client is not installed")


def test_an_onboarded_partner_logs_in_with_its_new_key(tmp_path, database_url):
    rig = SftpRig(tmp_path, database_url, None, REPO / "partners")
    try:
        key = rig.key_for("globex")  # made before the partner exists: not authorized anywhere
        refused = rig.sftp(f"put {SAMPLE_855} inbound/po.edi\n", user="globex", key=key)
        assert refused.returncode != 0

        web = bootstrap(rig.rt.settings)  # another process's runtime: the SFTP service is not told
        partners.create(web, BUYER, NEW_PARTNER, "new supplier")
        partners.add_sftp_key(web, BUYER, "globex", key.with_suffix(".pub").read_text(), "their key")
        done = rig.sftp(f"put {SAMPLE_855} inbound/po.edi\n", user="globex", key=key)
        assert done.returncode == 0, done.stderr
        with rig.rt.session() as s:
            docs = s.scalars(select(Document).where(Document.partner_id == "globex")).all()
        assert [(d.channel, d.filename) for d in docs] == [("sftp", "po.edi")]
    finally:
        rig.stop()
