"""Uploads over SFTP: staged where the partner cannot see them, accepted only when the
client closes (or renames) a *complete* file, refused with a clear SFTP error otherwise.

* A write past the per-file limit or today's quota fails at that write, and the file
  is refused at close: nothing of it is accepted. So does a write that starts beyond
  the end of what was written (a hole): it would otherwise be zero-filled into the
  document (10 bytes at offset 50 MB made a 50 MB file).
* The daily quota is charged when bytes become a document (the CLOSE of a final name,
  or the rename of a temporary one), atomically in the database: parallel handles and
  connections cannot together pass it, and a temporary name is no way around it.
* A file the client closes is checked for completeness (X12 ends with its IEA, XML is
  well-formed) and then handed to :func:`gateway.intake.receive.receive`; the CLOSE is
  answered OK only once it is stored.
* A connection that drops mid-upload never sends CLOSE: paramiko calls ``close()`` on
  the handle, which discards the staged bytes.
* A temporary name (``*.filepart`` as WinSCP uses, ``*.part``, ``*.tmp``, a leading dot)
  is kept staged on close; renaming it to its final name delivers it under that name.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from paramiko import SFTPAttributes, SFTPHandle, SFTPServer
from paramiko.sftp import CMD_CLOSE, CMD_RENAME, SFTP_FAILURE, SFTP_OK

from gateway.bootstrap import Runtime
from gateway.intake.receive import receive
from gateway.transports.completeness import incomplete_reason
from gateway.transports.sftp_limits import charge, refund

log = logging.getLogger("gateway.transports.sftp")

TEMPORARY_SUFFIXES = (".filepart", ".part", ".tmp", ".partial")


def is_temporary_name(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES)


def accept(rt: Runtime, partner_id: str, filename: str, data: bytes) -> tuple[int, str]:
    """Check a finished upload and receive it. Returns the SFTP status and its message."""
    reason = incomplete_reason(data)
    if reason:
        log.warning("sftp upload %s from %s refused: %s", filename, partner_id, reason)
        return SFTP_FAILURE, f"refused: {reason}; nothing was accepted, please send the whole file again"
    try:
        charged = charge(rt, partner_id, len(data), rt.partners[partner_id].sftp.daily_quota_bytes)
    except Exception:
        log.exception("could not charge %s bytes to %s's quota", len(data), partner_id)
        return SFTP_FAILURE, "not received: the gateway could not store the file, please send it again"
    if not charged:
        log.warning("sftp upload %s from %s refused: over today's quota", filename, partner_id)
        return SFTP_FAILURE, "refused: the file is over what is left of today's upload quota; nothing was accepted"
    try:
        receipt = receive(rt, data, channel="sftp", filename=filename, partner_id=partner_id)
    except Exception:
        log.exception("could not store the upload %s from %s", filename, partner_id)
        try:
            refund(rt, partner_id, len(data))
        except Exception:  # the database is away: the partner is charged for a file it will resend
            log.exception("could not refund %s bytes to %s's quota", len(data), partner_id)
        return SFTP_FAILURE, "not received: the gateway could not store the file, please send it again"
    log.info("sftp upload %s from %s stored as %s", filename, partner_id, receipt.document_id)
    return SFTP_OK, "received"


class UploadHandle(SFTPHandle):
    """A file being uploaded into ``/inbound``."""

    def __init__(self, folder, virtual: str, filename: str, staging_dir: Path, *, max_bytes: int,
                 quota_left: int | None):
        super().__init__()
        self.folder, self.virtual, self.filename = folder, virtual, filename
        self.max_bytes, self.quota_left = max_bytes, quota_left
        staging_dir.mkdir(parents=True, exist_ok=True)
        fd, staged = tempfile.mkstemp(dir=staging_dir, suffix=".part")
        self.staged = Path(staged)
        self.writefile = os.fdopen(fd, "w+b")
        self.size = 0
        self.refused: str | None = None

    def write(self, offset, data):
        end = offset + len(data)
        if self.refused is None and offset > self.size:
            self.refused = f"a write at offset {offset} would leave a hole after byte {self.size}"
        if self.refused is None and end > self.max_bytes:
            self.refused = f"the file is over the {self.max_bytes}-byte limit per file"
        if self.refused is None and self.quota_left is not None and end > self.quota_left:
            self.refused = "the file is over what is left of today's upload quota"
        if self.refused is not None:
            log.warning("sftp upload %s from %s: %s", self.filename, self.folder.partner_id, self.refused)
            return SFTP_FAILURE
        self.writefile.seek(offset)
        self.writefile.write(data)
        self.size = max(self.size, end)
        return SFTP_OK

    def stat(self):
        attrs = SFTPAttributes()
        attrs.st_size, attrs.st_mode = self.size, 0o100600
        return attrs

    def commit(self) -> tuple[int, str]:
        """The client closed the file. Returns the SFTP status and message to answer with."""
        if self.refused is not None:
            self.discard()
            return SFTP_FAILURE, f"refused: {self.refused}; nothing was accepted"
        if is_temporary_name(self.filename):
            self.writefile.flush()
            os.fsync(self.writefile.fileno())
            self.writefile.close()
            self.folder.keep_pending(self.virtual, self.staged)
            return SFTP_OK, "stored under a temporary name: rename it to deliver it"
        try:
            self.writefile.seek(0)
            return accept(self.folder.rt, self.folder.partner_id, self.filename, self.writefile.read())
        finally:
            self.discard()

    def close(self):  # paramiko calls this on disconnect: an unfinished upload is dropped
        self.discard()

    def discard(self):
        if not self.writefile.closed:
            self.writefile.close()
        if self.staged.exists() and not self.folder.is_pending(self.staged):
            self.staged.unlink()


class GatewaySFTPServer(SFTPServer):
    """Answers an upload's CLOSE, and a rename that delivers a file, with the outcome of
    storing it (and a message saying why not), not a blind OK. Every request counts as
    activity for the idle timeout."""

    def _process(self, t, request_number, msg):
        touch = getattr(self.get_server(), "touch", None)
        if touch:
            touch()
        if t == CMD_CLOSE:
            handle = msg.get_binary()
            upload = self.file_table.get(handle)
            if isinstance(upload, UploadHandle):
                del self.file_table[handle]
                code, message = upload.commit()
                self._send_status(request_number, code, message)
                return
            msg.rewind()
            msg.get_int()
        elif t == CMD_RENAME:
            old, new = msg.get_text(), msg.get_text()
            code, message = self.server.rename_verbose(old, new)
            self._send_status(request_number, code, message)
            return
        super()._process(t, request_number, msg)
