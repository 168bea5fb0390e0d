"""SFTP authentication: partner public keys (kept in the database), the host key, and
the algorithms we accept.

The SSH user name is the partner id; only ``publickey`` is offered, and a key is
accepted only for the partner it was authorized for.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from gateway.bootstrap import Runtime
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


class PartnerAuthServer(paramiko.ServerInterface):
    """One per connection: public-key auth as a partner, a session channel, sftp only."""

    def __init__(self, rt: Runtime, address: str):
        self.rt = rt
        self.address = address
        self.partner_id: str | None = None
        self.event = threading.Event()

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_none(self, username):
        return paramiko.AUTH_FAILED

    def check_auth_password(self, username, password):
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        if username not in self.rt.partners:
            log.warning("sftp login refused from %s: unknown user %r", self.address, username)
            return paramiko.AUTH_FAILED
        fp = fingerprint(key)
        with self.rt.session() as s:
            known = s.scalar(select(SftpKey).where(SftpKey.partner_id == username, SftpKey.fingerprint == fp))
        if known is None or known.key_data != key.get_base64():
            log.warning("sftp login refused from %s: key %s is not authorized for %r", self.address, fp, username)
            return paramiko.AUTH_FAILED
        self.partner_id = username
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind, chanid):
        if kind == "session" and self.partner_id:
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

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
