"""The watched folder of a running gateway gets a subfolder for a partner onboarded since
it started, and a file dropped there is received for that partner."""

from __future__ import annotations

import time

from onboarding_support import BUYER, NEW_PARTNER, SAMPLE_855
from sqlalchemy import select
from support import sent_by

from gateway.bootstrap import bootstrap
from gateway.onboarding import partners
from gateway.store.models import Document
from gateway.transports.folder import FolderSettings, FolderWatcher


def test_a_partner_onboarded_elsewhere_gets_its_drop_folder(rt, tmp_path):
    watcher = FolderWatcher(rt, FolderSettings(root=tmp_path / "drop", poll=0.1, settle=0))
    watcher.ensure()
    watcher.poll_once()
    assert not (tmp_path / "drop" / "globex").exists()
    partners.create(bootstrap(rt.settings), BUYER, NEW_PARTNER, "new supplier")  # the web's runtime, not ours
    watcher.poll_once()
    drop = tmp_path / "drop" / "globex"
    assert drop.is_dir()
    (drop / "po.edi").write_bytes(sent_by(SAMPLE_855.read_bytes(), "GLOBEXPARTS"))
    time.sleep(0.05)
    watcher.poll_once()  # first sight: size and time noted
    received = watcher.poll_once()
    assert len(received) == 1
    with rt.session() as s:
        doc = s.scalars(select(Document).where(Document.id == received[0])).one()
    assert (doc.partner_id, doc.channel) == ("globex", "folder")
