"""The SFTP channel (paramiko server): partners log in with a public key as their
partner id, drop documents into ``/inbound`` and pick up acks from ``/outbound``.

An upload is written to a staging file the partner cannot see. Only when the client
closes the handle is it handed to :func:`gateway.intake.receive.receive`, and the
close is answered OK only after the bytes are durable and recorded; a failure there
is answered with an SFTP error, so the partner knows to send again. A connection that
drops mid-upload leaves nothing accepted.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
from pathlib import Path

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface
from paramiko.sftp import (
    CMD_CLOSE,
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_OP_UNSUPPORTED,
    SFTP_PERMISSION_DENIED,
)

from gateway.bootstrap import Runtime
from gateway.intake.receive import DocumentTooLarge, receive
from gateway.transports.sftp_auth import (
    PartnerAuthServer,
    load_or_create_host_key,
    modern_algorithms_only,
)
from gateway.transports.sftp_jail import Jail, JailViolation

log = logging.getLogger("gateway.transports.sftp")


class UploadHandle(SFTPHandle):
    """A file being uploaded into ``/inbound``: staged, then received on an explicit close."""

    def __init__(self, rt: Runtime, partner_id: str, filename: str, staging_dir: Path):
        super().__init__()
        self.rt, self.partner_id, self.filename = rt, partner_id, filename
        staging_dir.mkdir(parents=True, exist_ok=True)
        fd, self.staged = tempfile.mkstemp(dir=staging_dir, suffix=".part")
        self.writefile = os.fdopen(fd, "w+b")
        self.size = 0

    def write(self, offset, data):
        end = offset + len(data)
        if end > self.rt.settings.max_document_bytes:
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
        """The client closed the file: receive it. Returns the SFTP status to answer with."""
        try:
            self.writefile.seek(0)
            data = self.writefile.read()
            receipt = receive(self.rt, data, channel="sftp", filename=self.filename, partner_id=self.partner_id)
            log.info("sftp upload %s from %s stored as %s", self.filename, self.partner_id, receipt.document_id)
            return SFTP_OK, "received"
        except DocumentTooLarge as exc:
            return SFTP_FAILURE, f"refused: {exc}"
        except Exception:
            log.exception("could not store the upload %s from %s", self.filename, self.partner_id)
            return SFTP_FAILURE, "not received: the gateway could not store the file, please send it again"
        finally:
            self.discard()

    def close(self):  # called by paramiko on disconnect: an unfinished upload is dropped
        self.discard()

    def discard(self):
        self.writefile.close()
        if os.path.exists(self.staged):
            os.unlink(self.staged)


class GatewaySFTPServer(SFTPServer):
    """Answers an upload's CLOSE with the outcome of storing it, not a blind OK."""

    def _process(self, t, request_number, msg):
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
        super()._process(t, request_number, msg)


class PartnerFolder(SFTPServerInterface):
    """The SFTP view of one partner's folder (the jail)."""

    def __init__(self, server: PartnerAuthServer, *args, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.rt: Runtime = server.rt
        self.partner_id: str = server.partner_id
        self.jail = Jail(self.rt.settings.sftp_root / self.partner_id)
        self.jail.ensure()

    def _real(self, path: str) -> Path:
        return self.jail.real(path)

    def canonicalize(self, path):
        try:
            return self.jail.virtual(path)
        except JailViolation:
            return "/"

    def list_folder(self, path):
        try:
            real = self._real(path)
            out = []
            for name in sorted(os.listdir(real)):
                attrs = SFTPAttributes.from_stat(os.lstat(real / name))
                attrs.filename = name
                out.append(attrs)
            return out
        except JailViolation:
            return SFTP_PERMISSION_DENIED
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)

    def stat(self, path):
        try:
            return SFTPAttributes.from_stat(os.stat(self._real(path)))
        except JailViolation:
            return SFTP_PERMISSION_DENIED
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)

    lstat = stat

    def open(self, path, flags, attr):
        try:
            virtual = self.jail.virtual(path)
            real = self._real(path)
        except JailViolation as exc:
            log.warning("partner %s: refused path %r: %s", self.partner_id, path, exc)
            return SFTP_PERMISSION_DENIED
        writing = flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC)
        if writing:
            if self.jail.folder_of(virtual) != "inbound" or real.parent != self.jail.root / "inbound":
                return SFTP_PERMISSION_DENIED
            staging = self.rt.settings.home / "sftp-staging" / self.partner_id
            return UploadHandle(self.rt, self.partner_id, real.name, staging)
        if not real.is_file():
            return SFTP_NO_SUCH_FILE
        handle = SFTPHandle(flags)
        handle.readfile = open(real, "rb")  # noqa: SIM115 - paramiko closes it with the handle
        return handle

    def remove(self, path):
        try:
            virtual, real = self.jail.virtual(path), self._real(path)
        except JailViolation:
            return SFTP_PERMISSION_DENIED
        if self.jail.folder_of(virtual) != "outbound" or not real.is_file():
            return SFTP_PERMISSION_DENIED
        real.unlink()
        return SFTP_OK

    def rename(self, oldpath, newpath):
        return SFTP_PERMISSION_DENIED

    def mkdir(self, path, attr):
        return SFTP_PERMISSION_DENIED

    def rmdir(self, path):
        return SFTP_PERMISSION_DENIED

    def chattr(self, path, attr):
        return SFTP_OK  # timestamps/modes a client sets after `put -p` are not kept

    def symlink(self, target_path, path):
        return SFTP_OP_UNSUPPORTED

    def readlink(self, path):
        return SFTP_OP_UNSUPPORTED


class SFTPService:
    """Listens on (host, port) and serves each connection on its own thread."""

    def __init__(self, rt: Runtime, host: str | None = None, port: int | None = None):
        self.rt = rt
        self.host = host or rt.settings.host
        self.port = rt.settings.sftp_port if port is None else port
        self.host_key = load_or_create_host_key(rt.settings.host_key_path)
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def fingerprint(self) -> str:
        from gateway.transports.sftp_auth import fingerprint

        return fingerprint(self.host_key)

    def start(self) -> SFTPService:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(64)
        sock.settimeout(0.5)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._thread = threading.Thread(target=self._accept_loop, name="sftp-accept", daemon=True)
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            threading.Thread(target=self._serve, args=(conn, addr), name=f"sftp-{addr[0]}", daemon=True).start()

    def _serve(self, conn: socket.socket, addr) -> None:
        transport = paramiko.Transport(conn)
        try:
            modern_algorithms_only(transport)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", GatewaySFTPServer, PartnerFolder)
            server = PartnerAuthServer(self.rt, addr[0])
            transport.start_server(server=server)
            channel = transport.accept(timeout=30)
            if channel is None:
                return
            while transport.is_active() and not self._stop.is_set():
                transport.join(timeout=1)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.info("sftp connection from %s ended: %s", addr[0], exc)
        finally:
            transport.close()

    def stop(self) -> None:
        self._stop.set()
        if self._sock:
            self._sock.close()
        if self._thread:
            self._thread.join(timeout=5)
