"""``file``: append each event as one JSON line to ``<directory>/<YYYY-MM-DD>.jsonl``.

Options: ``directory`` (required; created if missing). The file is chosen by the
event's ``received_at`` date, so a retry or replay of an event always looks at the
same file, and the append is idempotent by ``event_id``: under an exclusive lock the
file is searched for the id first. Appends are atomic as far as a reader can tell:
one ``write`` of a whole line, fsynced, under the lock; a torn last line left by a
crash (no trailing newline) is cut off before the next append.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from gateway.adapters.base import DeliveryResult, Outcome


def line_for(event: dict) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def _contains(content: bytes, event_id: str) -> bool:
    needle = json.dumps({"event_id": event_id}, separators=(",", ":"))[1:-1].encode()
    if needle not in content:
        return False  # the fast path; parse only lines that might match
    return any(needle in line and json.loads(line).get("event_id") == event_id
               for line in content.splitlines() if line)


class FileAdapter:
    alias = "file"
    required_options = ("directory",)

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    @classmethod
    def from_options(cls, options: dict) -> FileAdapter:
        return cls(options["directory"])

    def path_for(self, event: dict) -> Path:
        day = (event.get("received_at") or event.get("occurred_at") or "undated")[:10]
        return self.directory / f"{day}.jsonl"

    def deliver(self, event: dict) -> DeliveryResult:
        path = self.path_for(event)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        except OSError as exc:
            return DeliveryResult(Outcome.RETRY, f"cannot open {path}: {exc.strerror}")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            content = _read_all(fd)
            if content and not content.endswith(b"\n"):  # a writer died mid-line
                content = content[: content.rfind(b"\n") + 1]
                os.ftruncate(fd, len(content))
            if _contains(content, event["event_id"]):
                return DeliveryResult(Outcome.DELIVERED, f"already in {path.name}")
            line = line_for(event)
            if os.write(fd, line) != len(line):
                raise OSError(28, "short write")
            os.fsync(fd)
            return DeliveryResult(Outcome.DELIVERED, f"appended to {path.name}")
        except OSError as exc:  # disk full and the like: try again later
            return DeliveryResult(Outcome.RETRY, f"cannot append to {path}: {exc.strerror or exc}")
        finally:
            os.close(fd)  # also releases the lock


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    os.lseek(fd, 0, os.SEEK_SET)
    chunks, left = [], size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
