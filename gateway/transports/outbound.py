"""Put a file in a partner's SFTP ``/outbound`` folder, all at once.

The file is written and fsynced under a staging name outside the partner's view, then
renamed into place, so a partner polling the folder never reads half a file.
"""

from __future__ import annotations

from pathlib import Path

from gateway.config import Settings
from gateway.store.files import write_atomically


def write_outbound(settings: Settings, partner_id: str, filename: str, content: bytes) -> Path:
    target = settings.sftp_root / partner_id / "outbound" / filename
    return write_atomically(target, content, staging=settings.home / "outbound-staging", mode=0o640)
