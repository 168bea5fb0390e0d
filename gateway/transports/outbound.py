"""Put a file in a partner's SFTP ``/outbound`` folder, all at once.

The file is written and fsynced under a staging name outside the partner's view, then
renamed into place, so a partner polling the folder never reads half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gateway.config import Settings


def write_outbound(settings: Settings, partner_id: str, filename: str, content: bytes) -> Path:
    folder = settings.sftp_root / partner_id / "outbound"
    folder.mkdir(parents=True, exist_ok=True)
    staging = settings.home / "outbound-staging"
    staging.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    fd, tmp = tempfile.mkstemp(dir=staging, prefix=f"{partner_id}-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target
