"""Map SFTP paths into a partner's own folder, and refuse any that would leave it.

A partner sees ``/inbound`` (where it drops documents) and ``/outbound`` (where we put
its acks and documents). Paths are resolved lexically against the partner root, then
checked again after the operating system resolves them, so neither ``..`` nor a
symbolic link planted in the folder can reach outside.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

FOLDERS = ("inbound", "outbound")


class JailViolation(PermissionError):
    """The path points outside the partner's folder."""


class Jail:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def ensure(self) -> None:
        for name in FOLDERS:
            (self.root / name).mkdir(parents=True, exist_ok=True)

    def virtual(self, path: str, cwd: str = "/") -> str:
        """The normalized absolute path as the partner sees it; ``..`` may not climb past ``/``."""
        if "\x00" in path:
            raise JailViolation("NUL in path")
        joined = path if path.startswith("/") else posixpath.join(cwd, path)
        parts: list[str] = []
        for part in joined.replace("\\", "/").split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise JailViolation(f"{path!r} climbs out of the partner folder")
                parts.pop()
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    def real(self, path: str) -> Path:
        """The real path for a partner path, after the OS resolves links; must stay inside."""
        virtual = self.virtual(path)
        candidate = (self.root / virtual.lstrip("/")).resolve()
        if os.path.commonpath([self.root, candidate]) != str(self.root):
            raise JailViolation(f"{path!r} resolves outside the partner folder")
        return candidate

    def folder_of(self, path: str) -> str | None:
        """``inbound`` / ``outbound`` for a path inside one of them, else None."""
        parts = self.virtual(path).strip("/").split("/")
        return parts[0] if parts and parts[0] in FOLDERS else None
