"""The version of a translation map, as recorded on the documents it translated.

A map version is ``<map id>@<12 hex digits>``: the map's id (``855_004010``, or
``demo/855_004010`` for a partner's map) and the start of the SHA-256 of the files it is
made of (its layers, base first). Any change to any layer is a new version; the same
files give the same version on every host. Support uses it to find "every document
rejected by this map version" and reprocess them once the map is fixed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from gateway.mapping.compiled import TranslationMap
from gateway.mapping.loader import BASE_MAPS_DIR
from gateway.mapping.translator import cached_maps

_DIGESTS: dict[tuple, str] = {}
MAX_CHARS = 160  # documents.map_version


def map_version(spec: TranslationMap) -> str:
    """``<id>@<digest>`` of ``spec`` (file digests are cached by path and modification time)."""
    key = tuple((str(f), Path(f).stat().st_mtime_ns) for f in spec.files)
    digest = _DIGESTS.get(key)
    if digest is None:
        h = hashlib.sha256()
        for f in spec.files:
            h.update(Path(f).read_bytes())
            h.update(b"\0")
        if len(_DIGESTS) > 512:
            _DIGESTS.clear()
        digest = _DIGESTS[key] = h.hexdigest()[:12]
    return f"{spec.id}@{digest}"[:MAX_CHARS]


def x12_map_version(partner_maps_dir: Path | None, set_id: str, gs08: str,
                    base_dir: Path = BASE_MAPS_DIR) -> str | None:
    """The version of the map that translates ``set_id`` under GS08 ``gs08`` (None: no map)."""
    spec = cached_maps(partner_maps_dir, base_dir).select(set_id, gs08)
    return map_version(spec) if spec is not None else None


def xml_map_version(partner_maps_dir: Path | None, root, base_dir: Path = BASE_MAPS_DIR) -> str | None:
    """The version of the map that translates the XML document ``root`` (None: no map)."""
    from gateway.mapping.xmltranslator import document_kind

    try:
        fmt, name, _ = document_kind(root)
    except Exception:  # not a document kind any map reads: translation says why
        return None
    spec = cached_maps(partner_maps_dir, base_dir).select_document(fmt, name)
    return map_version(spec) if spec is not None else None
