"""The watched folder: a file still being written is not picked up; a finished one is
received (channel "folder") and only then moved to processed/."""

from __future__ import annotations

import os
import time

from sqlalchemy import select
from support import SAMPLES

from gateway.bootstrap import bootstrap
from gateway.config import load_settings
from gateway.store.migrate import upgrade
from gateway.store.models import Document
from gateway.transports.folder import FolderSettings, FolderWatcher

SAMPLE = (SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi").read_bytes()


def _rt(tmp_path, database_url, redis_url):
    settings = load_settings({"GATEWAY_HOME": str(tmp_path / "home"), "DATABASE_URL": database_url,
                              "REDIS_URL": redis_url})
    upgrade(settings.database_url)
    return bootstrap(settings)


def docs(rt):
    with rt.session() as s:
        return s.scalars(select(Document).order_by(Document.received_at)).all()


def test_files_being_written_wait_and_finished_ones_are_received_then_moved(tmp_path, database_url, redis_url):
    rt = _rt(tmp_path, database_url, redis_url)
    watcher = FolderWatcher(rt, FolderSettings(root=tmp_path / "drop", poll=0.1, settle=0.2))
    watcher.ensure()
    growing = tmp_path / "drop" / "demo" / "po.edi"
    growing.write_bytes(SAMPLE[:200])
    temp = tmp_path / "drop" / "demo" / "later.edi.part"
    temp.write_bytes(SAMPLE)
    assert watcher.poll_once() == []  # first sight: never taken
    time.sleep(0.3)
    with growing.open("ab") as fh:  # the writer is still going
        fh.write(SAMPLE[200:400])
    assert watcher.poll_once() == []  # size changed since the last poll
    time.sleep(0.3)
    assert watcher.poll_once() == []  # stable but incomplete (no IEA): left in place
    with growing.open("ab") as fh:
        fh.write(SAMPLE[400:])
    old = time.time() - 10
    os.utime(growing, (old, old))
    assert watcher.poll_once() == []
    [doc_id] = watcher.poll_once()
    [doc] = docs(rt)
    assert (doc.id, doc.channel, doc.partner_id, doc.filename) == (doc_id, "folder", "demo", "po.edi")
    assert rt.blobs.path_for(doc.sha256).read_bytes() == SAMPLE
    assert not growing.exists()
    assert (tmp_path / "drop" / "demo" / "processed" / f"{doc_id}_po.edi").read_bytes() == SAMPLE
    assert temp.exists() and len(docs(rt)) == 1  # a temporary name is never taken
    temp.rename(tmp_path / "drop" / "demo" / "later.edi")
    os.utime(tmp_path / "drop" / "demo" / "later.edi", (old, old))
    watcher.poll_once()
    assert len(watcher.poll_once()) == 1 and len(docs(rt)) == 2


def test_a_storage_failure_leaves_the_file_for_the_next_poll(tmp_path, database_url, redis_url, monkeypatch):
    rt = _rt(tmp_path, database_url, redis_url)
    watcher = FolderWatcher(rt, FolderSettings(root=tmp_path / "drop", poll=0.1, settle=0))
    watcher.ensure()
    dropped = tmp_path / "drop" / "po.edi"
    dropped.write_bytes(SAMPLE)
    import gateway.transports.folder as folder

    real = folder.receive
    monkeypatch.setattr(folder, "receive", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    watcher.poll_once()
    assert watcher.poll_once() == [] and dropped.exists()
    monkeypatch.setattr(folder, "receive", real)
    [doc_id] = watcher.poll_once() or watcher.poll_once()
    assert not dropped.exists() and docs(rt)[0].partner_id is None
