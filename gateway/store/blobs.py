"""Content-addressed blob store: the original bytes of every received file, never modified.

``put`` returns only after the bytes and the directory entry are on disk (fsync), so a
channel may tell the sender "received" as soon as the database row is committed too.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from gateway.store.files import write_atomically


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        """Store ``data``; return its SHA-256 (hex), the key to read it back."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        write_atomically(target, data, staging=target.parent, mode=0o440)
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()
