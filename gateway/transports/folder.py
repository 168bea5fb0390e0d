"""The watched local folder, for on-premises batch drops (a polling consumer).

Layout under ``GATEWAY_FOLDER_DIR`` (default ``<GATEWAY_HOME>/drop``): one subfolder
per partner (``drop/<partner_id>/``) whose files are received for that partner, and
files dropped straight into ``drop/`` are received without a partner (the pipeline
identifies it from the envelope). A file is picked up only when

* its name is not a temporary one (``.name``, ``*.part``, ``*.tmp``, ``*.filepart``):
  writers that can should write under such a name and rename when done; and
* its size and modification time did not change between two polls, and it was last
  modified at least ``settle`` seconds ago (for writers that cannot rename).

Each picked file goes through :func:`gateway.intake.receive.receive` (channel
``folder``) and only after that returned (blob fsynced, row committed) is it moved to
``processed/`` beside it. A failure leaves it where it is, for the next poll. Files are
only ever read: nothing dropped here is executed or interpreted by its location.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gateway.bootstrap import Runtime
from gateway.intake.receive import receive
from gateway.transports.completeness import incomplete_reason
from gateway.transports.sftp_upload import is_temporary_name

log = logging.getLogger("gateway.transports.folder")

PROCESSED = "processed"


@dataclass(frozen=True)
class FolderSettings:
    root: Path
    poll: float = 2.0
    settle: float = 2.0


def folder_settings(rt: Runtime) -> FolderSettings:
    env = {**os.environ, **rt.settings.extra}
    return FolderSettings(root=Path(env.get("GATEWAY_FOLDER_DIR", rt.settings.home / "drop")),
                          poll=float(env.get("GATEWAY_FOLDER_POLL", 2.0)),
                          settle=float(env.get("GATEWAY_FOLDER_SETTLE", 2.0)))


class FolderWatcher:
    def __init__(self, rt: Runtime, settings: FolderSettings | None = None):
        self.rt = rt
        self.settings = settings or folder_settings(rt)
        self._seen: dict[Path, tuple[int, int]] = {}  # (size, mtime_ns) at the previous poll
        self._warned: set[tuple[Path, int, int]] = set()
        self._stop = threading.Event()
        self.thread: threading.Thread | None = None

    def ensure(self) -> None:
        self.settings.root.mkdir(parents=True, exist_ok=True)
        for partner_id in self.rt.partners:
            (self.settings.root / partner_id).mkdir(exist_ok=True)

    def candidates(self) -> list[tuple[Path, str | None]]:
        from gateway.onboarding.directory import refresh

        known = self.rt.partners
        refresh(self.rt)
        if self.rt.partners is not known:  # a partner onboarded since: its folder too
            self.ensure()
        out: list[tuple[Path, str | None]] = []
        for folder, partner_id in [(self.settings.root, None)] + [
                (self.settings.root / p, p) for p in self.rt.partners]:
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                if entry.is_file(follow_symlinks=False) and not is_temporary_name(entry.name):
                    out.append((Path(entry.path), partner_id))
        return out

    def poll_once(self) -> list[str]:
        """One pass; returns the ids of the documents received."""
        received, now, current = [], time.time(), {}
        for path, partner_id in self.candidates():
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            sig = (st.st_size, st.st_mtime_ns)
            current[path] = sig
            if self._seen.get(path) != sig or now - st.st_mtime < self.settings.settle:
                continue  # still being written (or just appeared): look again next poll
            doc_id = self._take(path, partner_id, sig)
            if doc_id:
                received.append(doc_id)
                current.pop(path, None)
        self._seen = current
        return received

    def _take(self, path: Path, partner_id: str | None, sig: tuple[int, int]) -> str | None:
        data = path.read_bytes()
        if len(data) != sig[0]:
            return None  # changed under us
        reason = incomplete_reason(data)
        if reason:
            if (path, *sig) not in self._warned:
                self._warned.add((path, *sig))
                log.warning("folder: %s left in place: %s", path, reason)
            return None
        try:
            receipt = receive(self.rt, data, channel="folder", filename=path.name, partner_id=partner_id)
        except Exception:
            log.exception("folder: could not store %s; will try again", path)
            return None
        target = path.parent / PROCESSED / f"{receipt.document_id}_{path.name}"
        target.parent.mkdir(exist_ok=True)
        os.replace(path, target)  # only now: the document is stored and recorded
        log.info("folder: %s stored as %s", path, receipt.document_id)
        return receipt.document_id

    def start(self) -> FolderWatcher:
        self.ensure()
        self.thread = threading.Thread(target=self._run, name="folder-watcher", daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.settings.poll):
            try:
                self.poll_once()
            except Exception as exc:  # e.g. the database is away: next poll
                log.warning("folder watcher: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        if self.thread:
            self.thread.join(timeout=5)
