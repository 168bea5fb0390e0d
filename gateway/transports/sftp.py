"""The SFTP channel (paramiko server): partners log in with a public key as their
partner id, drop documents into ``/inbound`` and pick up acks from ``/outbound``.

Uploads (staged, checked for completeness, accepted on close or on a rename from a
temporary name) are in :mod:`gateway.transports.sftp_upload`; logins, algorithms and
throttling in :mod:`gateway.transports.sftp_auth` and ``sftp_limits``; the jail in
``sftp_jail``. This module is the partner's view of its folder and the listener, which
applies the banner/handshake/auth timeouts, an idle timeout and caps on connections per
client address and in all (each connection costs threads, so their number is bounded).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface
from paramiko.sftp import (
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_OP_UNSUPPORTED,
    SFTP_PERMISSION_DENIED,
)

from gateway.bootstrap import Runtime
from gateway.transports.sftp_auth import (
    PartnerAuthServer,
    load_or_create_host_key,
    modern_algorithms_only,
)
from gateway.transports.sftp_jail import Jail, JailViolation
from gateway.transports.sftp_limits import AuthThrottle, bytes_today, sftp_limits
from gateway.transports.sftp_upload import (
    GatewaySFTPServer,
    UploadHandle,
    accept,
    is_temporary_name,
)

log = logging.getLogger("gateway.transports.sftp")


class PartnerFolder(SFTPServerInterface):
    """The SFTP view of one partner's folder (the jail)."""

    def __init__(self, server: PartnerAuthServer, *args, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.rt: Runtime = server.rt
        self.partner_id: str = server.partner_id
        self.jail = Jail(self.rt.settings.sftp_root / self.partner_id)
        self.jail.ensure()
        self.pending: dict[str, Path] = {}  # temporary-named uploads closed, waiting for their rename

    def keep_pending(self, virtual: str, staged: Path) -> None:
        old = self.pending.pop(virtual, None)
        if old is not None and old != staged:
            old.unlink(missing_ok=True)
        self.pending[virtual] = staged

    def is_pending(self, staged: Path) -> bool:
        return staged in self.pending.values()

    def session_ended(self):
        for staged in self.pending.values():  # never renamed: never delivered
            staged.unlink(missing_ok=True)
        self.pending.clear()
        super().session_ended()

    def _pending_path(self, path: str) -> str | None:
        try:
            virtual = self.jail.virtual(path)
        except JailViolation:
            return None
        return virtual if virtual in self.pending else None

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
        pending = self._pending_path(path)
        if pending:
            return SFTPAttributes.from_stat(os.stat(self.pending[pending]))
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
            profile = self.rt.partners[self.partner_id]
            max_bytes = min(profile.sftp.max_file_bytes or self.rt.settings.max_document_bytes,
                            self.rt.settings.max_document_bytes)
            quota = profile.sftp.daily_quota_bytes
            quota_left = None if quota is None else max(0, quota - bytes_today(self.rt, self.partner_id))
            return UploadHandle(self, virtual, real.name, staging, max_bytes=max_bytes, quota_left=quota_left)
        if not real.is_file():
            return SFTP_NO_SUCH_FILE
        try:  # the path is resolved; O_NOFOLLOW refuses a link swapped in since
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)
        handle = SFTPHandle(flags)
        handle.readfile = os.fdopen(fd, "rb")
        return handle

    def remove(self, path):
        pending = self._pending_path(path)
        if pending:
            self.pending.pop(pending).unlink(missing_ok=True)
            return SFTP_OK
        try:
            virtual, real = self.jail.virtual(path), self._real(path)
        except JailViolation:
            return SFTP_PERMISSION_DENIED
        if self.jail.folder_of(virtual) != "outbound" or not real.is_file():
            return SFTP_PERMISSION_DENIED
        real.unlink()
        return SFTP_OK

    def rename(self, oldpath, newpath):
        return self.rename_verbose(oldpath, newpath)[0]

    posix_rename = rename

    def rename_verbose(self, oldpath, newpath) -> tuple[int, str]:
        """Only a temporary-named upload in ``/inbound`` may be renamed, to a final name
        there: that delivers it (completeness-checked, stored) under the new name."""
        pending = self._pending_path(oldpath)
        try:
            virtual_new, real_new = self.jail.virtual(newpath), self._real(newpath)
        except JailViolation:
            return SFTP_PERMISSION_DENIED, "outside your folder"
        if pending is None:
            return SFTP_PERMISSION_DENIED, "only an upload under a temporary name may be renamed"
        if self.jail.folder_of(virtual_new) != "inbound" or real_new.parent != self.jail.root / "inbound":
            return SFTP_PERMISSION_DENIED, "a file can only be renamed within /inbound"
        if is_temporary_name(real_new.name):
            staged = self.pending.pop(pending)
            self.pending[virtual_new] = staged
            return SFTP_OK, "renamed (still a temporary name)"
        staged = self.pending.pop(pending)
        try:
            return accept(self.rt, self.partner_id, real_new.name, staged.read_bytes())
        finally:
            staged.unlink(missing_ok=True)

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
        self.limits = sftp_limits(rt)
        self.throttle = AuthThrottle(self.limits)
        self._sessions: Counter[str] = Counter()
        self._sessions_lock = threading.Lock()
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
            with self._sessions_lock:
                if sum(self._sessions.values()) >= self.limits.max_connections:
                    too_many = f"the server is at its {self.limits.max_connections} connections"
                elif self._sessions[addr[0]] >= self.limits.sessions_per_address:
                    too_many = "too many connections from this address"
                else:
                    too_many = None
                    self._sessions[addr[0]] += 1
            if too_many:
                log.warning("sftp: refused a connection from %s: %s", addr[0], too_many)
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn, addr), name=f"sftp-{addr[0]}", daemon=True).start()

    def _serve(self, conn: socket.socket, addr) -> None:
        transport = paramiko.Transport(conn)
        limits = self.limits
        try:
            transport.banner_timeout = limits.banner_timeout
            transport.handshake_timeout = limits.handshake_timeout
            transport.auth_timeout = limits.auth_timeout
            modern_algorithms_only(transport)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", GatewaySFTPServer, PartnerFolder)
            server = PartnerAuthServer(self.rt, addr[0], throttle=self.throttle, limits=limits, transport=transport)
            transport.start_server(server=server)
            channel = transport.accept(timeout=limits.auth_timeout + limits.handshake_timeout)
            if channel is None:
                return
            while transport.is_active() and not self._stop.is_set():
                transport.join(timeout=1)
                if time.monotonic() - server.last_activity > limits.idle_timeout:
                    log.info("sftp connection from %s (%s) idle; closing", addr[0], server.partner_id)
                    break
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.info("sftp connection from %s ended: %s", addr[0], exc)
        finally:
            transport.close()
            with self._sessions_lock:
                self._sessions[addr[0]] -= 1
                if self._sessions[addr[0]] <= 0:
                    del self._sessions[addr[0]]

    def stop(self) -> None:
        self._stop.set()
        if self._sock:
            self._sock.close()
        if self._thread:
            self._thread.join(timeout=5)
