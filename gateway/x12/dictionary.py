"""The X12 tables as data: elements, segments, code lists and set tables per release.

Contract
--------
``spec_dir()`` is the one place that says where the tables live (``maps/x12/spec`` in a
checkout or an installed wheel, or ``$GATEWAY_X12_MAPS/spec``: :mod:`gateway.resources`). ``tables()`` parses them once per process
through the loaders of ``maps/x12/build_map_dir.py`` (the tables' own parser, so the
pyx12 maps and our engine can never read the data differently) and returns a
:class:`Tables`. Nothing here validates data; :mod:`gateway.x12.schema` compiles these
tables into checks.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

_lock = threading.Lock()
#: Code lists our segment table names but ``codes.txt`` does not hold yet; their
#: values are read from pyx12's bundled codes.xml (data only, pyx12 is not imported).
BUNDLED_CODE_LISTS = ("currency", "states", "country")


def maps_dir() -> Path:
    """``maps/x12``: the tables and their loader (``build_map_dir.py``)."""
    from gateway.resources import x12_maps_dir

    return x12_maps_dir()


def spec_dir() -> Path:
    """Where the X12 tables (elements.txt, segments.txt, codes.txt, sets/) are."""
    return maps_dir() / "spec"


@lru_cache(maxsize=1)
def loader() -> ModuleType:
    """The tables' parser module (``maps/x12/build_map_dir.py``), loaded once."""
    from gateway.resources import MissingDataError

    path = maps_dir() / "build_map_dir.py"
    if not path.is_file() or not (maps_dir() / "spec" / "segments.txt").is_file():
        raise MissingDataError("X12 tables", maps_dir(), "GATEWAY_X12_MAPS")  # ours, not the user's file
    spec = importlib.util.spec_from_file_location("gateway_x12_build_map_dir", path)
    if spec is None or spec.loader is None:  # pragma: no cover - a broken checkout
        raise MissingDataError("X12 tables", maps_dir(), "GATEWAY_X12_MAPS")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Tables:
    """Everything the engine compiles from. ``segments[release][tag]``."""

    releases: tuple[str, ...]
    elements: dict[str, Any]
    segments: dict[str, dict[str, Any]]
    composites: dict[str, Any]
    codes: dict[str, frozenset[str]]
    _sets: dict[tuple[str, str], list[Any] | None] = field(default_factory=dict)

    def set_table(self, set_id: str, release: str) -> list[Any] | None:
        """Area nodes of ``set_id`` for ``release``; None when we hold no table for it."""
        key = (set_id, release)
        if key not in self._sets:
            self._sets[key] = _load_set(set_id, release)
        return self._sets[key]

    def lengths(self, num: str, release: str) -> tuple[int, int]:
        de = self.elements[num]
        return de.lengths.get(release, (de.min, de.max))


def _load_set(set_id: str, release: str) -> list[Any] | None:
    mod = loader()
    if not (spec_dir() / "sets" / f"{set_id}.txt").is_file():
        return None
    # load_set(set_id, release=...) once the tables carry per-release set tables;
    # until then every release shares the one table.
    if "release" in inspect.signature(mod.load_set).parameters:
        return mod.load_set(set_id, release=release)
    return mod.load_set(set_id)


def _bundled_codes() -> dict[str, frozenset[str]]:
    found = importlib.util.find_spec("pyx12")
    if found is None or not found.submodule_search_locations:
        return {}
    path = Path(list(found.submodule_search_locations)[0]) / "map" / "codes.xml"
    if not path.is_file():
        return {}
    out = {}
    for cs in ET.parse(path).getroot().iter("codeset"):
        if cs.findtext("id") in BUNDLED_CODE_LISTS:
            out[cs.findtext("id")] = frozenset(c.text for c in cs.iter("code") if c.text)
    return out


_tables: Tables | None = None


def tables() -> Tables:
    """The parsed tables (once per process)."""
    global _tables
    with _lock:
        if _tables is None:
            mod = loader()
            segments, composites = mod.load_segments(spec_dir() / "segments.txt")
            codes = _bundled_codes()
            codes.update({cid: frozenset(values) for cid, (_ele, values)
                          in mod.load_codes(spec_dir() / "codes.txt").items()})
            _tables = Tables(tuple(segments), mod.load_elements(spec_dir() / "elements.txt"),
                             segments, composites, codes)
        return _tables
