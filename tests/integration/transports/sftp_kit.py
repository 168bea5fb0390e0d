"""An in-process SFTP service on a free port, driven with OpenSSH's own `sftp` client."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from gateway.bootstrap import bootstrap
from gateway.config import load_settings
from gateway.store.migrate import upgrade
from gateway.transports.sftp import SFTPService
from gateway.transports.sftp_auth import authorize_key


def write_sftp_partner(partners: Path, pid: str, **sftp) -> None:
    (partners / pid).mkdir(parents=True, exist_ok=True)
    lines = "".join(f"    {k}: {v}\n" for k, v in sftp.items()) or "    {}\n"
    (partners / pid / "partner.yaml").write_text(textwrap.dedent(f"""\
        id: {pid}
        name: {pid}
        x12: {{qualifier: ZZ, id: {pid.upper()}}}
        our_x12: {{qualifier: ZZ, id: BUYERCO}}
        channels:
          sftp:
        """) + lines.replace("    {}\n", ""))


class SftpRig:
    def __init__(self, tmp: Path, database_url: str, redis_url: str | None, partners: Path, **limits):
        settings = load_settings({"GATEWAY_HOME": str(tmp / "home"), "DATABASE_URL": database_url,
                                  "REDIS_URL": redis_url or "", "GATEWAY_PARTNERS_DIR": str(partners)})
        settings = settings.with_overrides(extra={f"GATEWAY_SFTP_{k.upper()}": str(v) for k, v in limits.items()})
        upgrade(settings.database_url)
        self.rt = bootstrap(settings)
        self.tmp = tmp
        self.service = SFTPService(self.rt, host="127.0.0.1", port=0).start()
        self.keys: dict[str, Path] = {}

    def key_for(self, partner_id: str) -> Path:
        key = self.tmp / f"id_{partner_id}"
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
            if partner_id in self.rt.partners:
                authorize_key(self.rt, partner_id, (key.with_suffix(".pub")).read_text())
        return key

    def command(self, user: str, key: Path, *options: str) -> list[str]:
        opts = []
        for o in options:
            opts += ["-o", o]
        return ["sftp", "-b", "-", "-i", str(key), "-P", str(self.service.port), "-o", "StrictHostKeyChecking=no",
                "-o", f"UserKnownHostsFile={self.tmp / 'known_hosts'}", "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", *opts, f"{user}@127.0.0.1"]

    def sftp(self, commands: str, user: str = "acme", key: Path | None = None, *options: str):
        return subprocess.run(self.command(user, key or self.key_for(user), *options), input=commands,
                              capture_output=True, text=True, timeout=60)

    def stop(self):
        self.service.stop()
