"""SFTP authentication: partner public keys (kept in the database), the host key, and
the algorithms we accept.

The SSH user name is the partner id; ``publickey`` is offered, and a key is accepted
only for the partner it was authorized for. ``password`` is offered only to a partner
whose profile has a ``channels.sftp.password_hash`` (scrypt, see :func:`hash_password`).
Failed attempts are counted (:class:`gateway.transports.sftp_limits.AuthThrottle`): a
locked-out *address* is refused even with the right key, a failure is answered after a
growing delay, and a connection that fails ``max_auth_tries`` times is closed (paramiko
has no MaxAuthTries of its own). A user name is never locked out: guesses against a
partner id from elsewhere only slow those guesses down, never the partner's real login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
import time
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from gateway.bootstrap import Runtime
from gateway.onboarding.directory import refresh
from gateway.store.models import SftpKey

log = logging.getLogger("gateway.transports.sftp")


class PublicKeyError(ValueError):
    """A public key line could not be read."""


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_public_key(line: str) -> tuple[paramiko.PKey, str]:
    """An OpenSSH ``authorized_keys`` line (``type base64 [comment]``) as a key and its comment."""
    parts = line.strip().split(None, 2)
    if len(parts) < 2:
        raise PublicKeyError("expected an OpenSSH public key line: '<type> <base64> [comment]'")
    try:
        key = paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1]))
    except Exception as exc:
        raise PublicKeyError(f"not a usable public key: {exc}") from None
    return key, parts[2] if len(parts) > 2 else ""


def authorize_key(rt: Runtime, partner_id: str, line: str) -> str:
    """Allow the key to log in as ``partner_id``; returns its fingerprint. Idempotent."""
    if partner_id not in rt.partners:
        raise PublicKeyError(f"unknown partner {partner_id!r}")
    key, comment = parse_public_key(line)
    fp = fingerprint(key)
    with rt.session() as s:
        exists = s.scalar(select(SftpKey).where(SftpKey.partner_id == partner_id, SftpKey.fingerprint == fp))
        if exists is None:
            s.add(SftpKey(partner_id=partner_id, key_type=key.get_name(), key_data=key.get_base64(),
                          fingerprint=fp, comment=comment))
    return fp


SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """The value for ``channels.sftp.password_hash``: ``scrypt$N$r$p$salt$hash`` (base64)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def check_password(stored: str, password: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


class PartnerAuthServer(paramiko.ServerInterface):
    """One per connection: public-key (or configured password) auth as a partner, a
    session channel, sftp only."""

    def __init__(self, rt: Runtime, address: str, *, throttle=None, limits=None, transport=None):
        self.rt = rt
        self.address = address
        self.partner_id: str | None = None
        self.event = threading.Event()
        self.throttle, self.transport = throttle, transport
        self.max_tries = limits.max_auth_tries if limits else 6
        self.max_channels = limits.channels_per_connection if limits else 10
        self.failures = 0
        self.last_activity = time.monotonic()

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def get_allowed_auths(self, username):
        refresh(self.rt)  # a partner onboarded since this server started may log in
        profile = self.rt.partners.get(username)
        if profile is not None and profile.sftp.password_hash:
            return "publickey,password"
        return "publickey"

    def check_auth_none(self, username):
        return paramiko.AUTH_FAILED

    def _blocked(self, username) -> bool:
        if self.throttle is not None and self.throttle.blocked(self.address):
            log.warning("sftp login refused from %s as %r: locked out after repeated failures", self.address, username)
            self._close_soon()
            return True
        return False

    def _failed(self, username, *, password: bool, why: str):
        log.warning("sftp login refused from %s as %r: %s", self.address, username, why)
        self.failures += 1
        if self.throttle is not None:
            # Held on this connection's own thread: slows the guesser, not anyone else.
            time.sleep(self.throttle.failed(self.address, username, password=password))
        if self.failures >= self.max_tries:
            self._close_soon()
        return paramiko.AUTH_FAILED

    def _close_soon(self) -> None:
        if self.transport is not None:  # from paramiko's own thread: close after this reply
            threading.Timer(0.05, self.transport.close).start()

    def check_auth_password(self, username, password):
        if self._blocked(username):
            return paramiko.AUTH_FAILED
        profile = self.rt.partners.get(username)
        if profile is None or not profile.sftp.password_hash:
            return self._failed(username, password=True, why="password login is not enabled")
        if not check_password(profile.sftp.password_hash, password):
            return self._failed(username, password=True, why="wrong password")
        self.partner_id = username
        return paramiko.AUTH_SUCCESSFUL

    def check_auth_publickey(self, username, key):
        if self._blocked(username):
            return paramiko.AUTH_FAILED
        refresh(self.rt)
        if username not in self.rt.partners:
            return self._failed(username, password=False, why="unknown user")
        fp = fingerprint(key)
        with self.rt.session() as s:
            known = s.scalar(select(SftpKey).where(SftpKey.partner_id == username, SftpKey.fingerprint == fp))
        if known is None or known.key_data != key.get_base64():
            return self._failed(username, password=False, why=f"key {fp} is not authorized")
        self.partner_id = username
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind, chanid):
        if kind != "session" or not self.partner_id:
            return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        # The transport's channel map holds the channels still open (paramiko drops a closed
        # one); each SFTP session there runs on a thread of its own, so they are capped.
        if self.transport is not None and len(self.transport._channels) >= self.max_channels:
            log.warning("sftp: %s from %s opened more than %d sessions on one connection", self.partner_id,
                        self.address, self.max_channels)
            return paramiko.OPEN_FAILED_RESOURCE_SHORTAGE
        return paramiko.OPEN_SUCCEEDED

    def check_channel_subsystem_request(self, channel, name):
        if name != "sftp":
            return False
        return super().check_channel_subsystem_request(channel, name)

    # No shells, commands, port forwarding or agents: only the sftp subsystem.
    def check_channel_exec_request(self, channel, command):
        return False

    def check_channel_shell_request(self, channel):
        return False

    def check_port_forward_request(self, address, port):
        return False


def load_or_create_host_key(path: Path) -> paramiko.PKey:
    """The persistent Ed25519 host key, created (mode 0600) on first start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    return paramiko.Ed25519Key(filename=str(path))


def modern_algorithms_only(transport: paramiko.Transport) -> None:
    """No CBC ciphers, no SHA-1 MACs, key exchange or ssh-rsa signatures."""
    transport.disabled_algorithms = {
        "ciphers": ["3des-cbc", "aes128-cbc", "aes192-cbc", "aes256-cbc"],
        "macs": ["hmac-sha1", "hmac-sha1-96", "hmac-md5", "hmac-md5-96",
                 "hmac-sha1-etm@openssh.com", "hmac-md5-etm@openssh.com"],
        "kex": ["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1"],
        "keys": ["ssh-rsa", "ssh-dss"],
        "pubkeys": ["ssh-rsa", "ssh-dss"],
    }
