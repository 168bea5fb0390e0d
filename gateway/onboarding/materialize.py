"""Database-held partners and map versions as folders the rest of the gateway reads.

The translator, the AS2 profiles and the partner loader all read files; rather than
teach each of them a second source, a partner (its ``partner.yaml``, certificates and
active maps) is written once under ``GATEWAY_HOME/onboarding/<kind>/<digest>/``. The
digest is of the content, so a folder never changes once written: a worker's map cache
(keyed by path and modification time) holds each version once, and two processes writing
the same folder at once both end with the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path

ROOT = "onboarding"


def content_digest(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()[:32]


def write_tree(home: Path, kind: str, files: dict[str, str]) -> Path:
    """The folder holding ``files`` (relative path -> text), written once and atomically."""
    parent = Path(home) / ROOT / kind
    root = parent / content_digest(files)
    if root.is_dir():
        return root
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{root.name}.{os.getpid()}.{secrets.token_hex(4)}"
    for rel, text in files.items():
        path = tmp / rel
        if tmp.resolve() not in path.resolve().parents:
            raise ValueError(f"refusing to write outside the folder: {rel!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(tmp, root)
    except OSError:  # another process wrote the same content first
        shutil.rmtree(tmp, ignore_errors=True)
    return root
