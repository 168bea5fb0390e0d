"""Validate an acknowledgment we built with pyx12 4.0.0's own bundled 997/999 maps.

The bundled maps are the HIPAA ones: AK101 (functional id) and AK201 (set id) carry
inline code lists limited to health-care groups (HC, HP, ...) and sets (837, 835, ...).
A 997 for a PR group / 855 set can never match them, so the copy used here drops just
those two code lists, and the HIPAA-only ISA05/ISA07 qualifier lists of the envelope
(pyx12 note, pitfall 22: supply-chain partners use 01, 08, 12, 16 ...); every other
rule of the bundled maps applies unchanged.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
from functools import cache
from pathlib import Path

import pyx12
import pyx12.params
import pyx12.x12n_document

BUNDLED = Path(pyx12.__file__).parent / "map"
ACK_MAPS = ("997.4010.xml", "999.5010.xml", "999.5010X231.A1.xml")
ENVELOPE_MAPS = ("x12.control.00401.xml", "x12.control.00501.xml")


@cache
def relaxed_map_dir(root: str) -> str:
    target = Path(root) / "pyx12-map"
    shutil.copytree(BUNDLED, target, dirs_exist_ok=True)
    for name in ACK_MAPS + ENVELOPE_MAPS:
        path = target / name
        text = path.read_text(encoding="utf-8")
        for xid in ("AK101", "AK201", "ISA05", "ISA07"):
            text = re.sub(rf'(<element xid="{xid}">.*?)<valid_codes>.*?</valid_codes>',
                          r"\1", text, flags=re.S)
        path.write_text(text, encoding="utf-8")
    return str(target)


def pyx12_errors(text: str, map_dir: str) -> tuple[bool, dict]:
    """(pyx12 says valid, its JSON error tree) for an ack interchange."""
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    fd_json = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None,
                                           None, fd_json=fd_json, map_path=map_dir)
    raw = fd_json.getvalue().strip()
    return ok, json.loads(raw) if raw else {}
