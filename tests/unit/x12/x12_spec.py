"""The X12 spec parser (maps/x12/build_map_dir.py) for tests: maps/ is data, not a package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MODULE = "gateway_x12_build_map_dir"  # the name gateway.x12.structure loads it under


def load_spec():
    """The parser module, loaded once per process."""
    if MODULE not in sys.modules:
        loader = importlib.util.spec_from_file_location(MODULE, ROOT / "maps/x12/build_map_dir.py")
        module = importlib.util.module_from_spec(loader)
        sys.modules[MODULE] = module
        loader.loader.exec_module(module)
    return sys.modules[MODULE]
