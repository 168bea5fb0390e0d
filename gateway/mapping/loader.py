"""Find, load, merge and validate translation maps; pick the map for a document.

Base maps live in ``maps/translate/<id>.yaml`` (id = file stem, e.g.
``x12-855-004010``); a partner's maps live in ``partners/<id>/maps/`` and name
their base with ``inherits:``. Loading merges the layers (a partner's mapping keys
override the base's, recursively; ``null`` deletes an inherited key; lists are
replaced whole), validates the result, and compiles it. Any fault raises
:class:`MapFileError` naming the file, the line and the field.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from marshmallow import ValidationError

from gateway import resources
from gateway.mapping.compiled import (
    CompileError,
    TranslationMap,
    compile_envelope,
    compile_loops,
    compile_payload,
)
from gateway.mapping.paths import X12, PathSyntaxError
from gateway.mapping.schema import PATH_PARSER, MapSchema
from gateway.mapping.xpaths import XmlDialect
from gateway.mapping.yamlsource import MapFileError, load_yaml

# Where the maps are is gateway.resources' answer (an installed wheel's package data, or
# the checkout); not checked here, at import, so a broken install fails where it is used.
BASE_MAPS_DIR = resources.translate_maps_dir(check=False)
PARTNERS_DIR = resources.partners_dir(check=False)


def map_files(directory: Path) -> list[Path]:
    """The map files in ``directory`` (test files ``*.test.yaml`` are not maps)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.yaml") if not p.name.endswith(".test.yaml"))


def _layers(path: Path, base_dir: Path, seen: tuple[Path, ...] = ()) -> list[tuple[Path, dict, dict]]:
    """``[(file, data, origins)]`` from the root base map to ``path``."""
    if path in seen:
        raise MapFileError(f"{path}: 'inherits' forms a cycle: {' -> '.join(map(str, (*seen, path)))}")
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise MapFileError(f"{path}:1: a map must be a mapping of settings")
    origins = {at: f"{path}:{line}" for at, line in lines.items()}
    parent = data.get("inherits")
    if parent is None:
        return [(path, data, origins)]
    parent_file = base_dir / f"{parent}.yaml"
    if not isinstance(parent, str) or not parent_file.is_file():
        where = origins.get(("inherits",), str(path))
        raise MapFileError(f"{where}: inherits: no base map {parent!r} in {base_dir}")
    return [*_layers(parent_file, base_dir, (*seen, path)), (path, data, origins)]


def _merge(base: object, over: object) -> object:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = _merge(base.get(key), value)
        return out
    return over


def _where(origins: dict, at: tuple) -> str:
    """``file:line`` of the key path ``at``, or of its nearest ancestor."""
    at = tuple(at)
    while at and at not in origins:
        at = at[:-1]
    return origins.get(at, "?")


def _flatten(messages: object, at: tuple = ()) -> list[tuple[tuple, str]]:
    if isinstance(messages, dict):
        out = []
        for key, sub in messages.items():
            out.extend(_flatten(sub, at if key == "_schema" else (*at, key)))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(at, m) for m in messages]
    if isinstance(messages, list):
        return [item for i, sub in enumerate(messages) for item in _flatten(sub, (*at, i))]
    return [(at, str(messages))]


def load_map(path: Path, base_dir: Path = BASE_MAPS_DIR) -> TranslationMap:
    """Load one map file (and the base maps it inherits) into a :class:`TranslationMap`."""
    path = Path(path)
    layers = _layers(path, Path(base_dir))
    merged: dict = {}
    origins: dict = {}
    for _, data, layer_origins in layers:
        merged = _merge(merged, data)
        origins.update(layer_origins)
    merged.pop("inherits", None)
    dialect = _dialect(merged)
    token = PATH_PARSER.set(dialect.parse)
    try:
        spec = MapSchema().load(merged)
        payload = compile_payload(spec["payload"], spec["event"], spec["tables"])
        envelope = compile_envelope(spec["envelope"], spec["tables"])
        source_lines = _source_lines(spec, dialect)
    except ValidationError as exc:
        problems = [f"{_where(origins, at)}: {'.'.join(map(str, at)) or '(map)'}: {msg}"
                    for at, msg in _flatten(exc.messages)]
        raise MapFileError(f"map {path} is invalid:\n  " + "\n  ".join(problems)) from None
    except CompileError as exc:
        where = _where(origins, exc.at)
        raise MapFileError(f"map {path} is invalid:\n  {where}: {'.'.join(exc.at)}: {exc}") from None
    finally:
        PATH_PARSER.reset(token)
    partner = path.parent.resolve() != Path(base_dir).resolve()
    base_id = layers[0][0].stem if len(layers) > 1 else None
    return TranslationMap(
        id=path.stem if not partner else f"{path.parent.parent.name}/{path.stem}",
        files=tuple(p for p, _, _ in layers),
        transaction_set=spec.get("transaction_set"),
        version=spec.get("version"),
        compatible=tuple(spec["compatible"]),
        event=spec["event"],
        timezone=spec["timezone"],
        loops=compile_loops(spec["loops"]),
        tables=spec["tables"],
        payload=payload,
        partner=partner,
        base_id=base_id,
        meta={"description": spec.get("description", "")},
        format=spec["format"],
        document=spec.get("document"),
        dialect=dialect,
        envelope=envelope,
        source_lines=source_lines,
    )


def _source_lines(spec: dict, dialect) -> tuple:
    """X12 tags as they are; XPaths compiled now, so a bad one fails the map with its line."""
    declared = tuple(spec.get("source_lines") or ())
    if dialect is X12:
        return declared
    out = []
    for i, text in enumerate(declared):
        try:
            out.append(dialect.parse(text))
        except PathSyntaxError as exc:
            raise CompileError(("source_lines", str(i)), str(exc)) from None
    return tuple(out)


def _dialect(data: dict):
    """The path language of a map: X12 paths, or XPath with its declared namespaces."""
    if data.get("format", "x12") == "x12":
        return X12
    namespaces = data.get("namespaces") if isinstance(data.get("namespaces"), dict) else {}
    return XmlDialect({str(k): str(v) for k, v in namespaces.items()})


@dataclass
class MapSet:
    """The maps one translation may use: a partner's first, then the base maps."""

    base: list[TranslationMap] = field(default_factory=list)
    partner: list[TranslationMap] = field(default_factory=list)

    def select(self, set_id: str, gs08: str) -> TranslationMap | None:
        """The map for transaction set ``set_id`` under GS08 ``gs08``, or None.

        An exact version (``004010`` for ``004010VICS``) wins over a ``compatible``
        pattern, and a partner's map over a base map at the same rank.
        """
        version = (gs08 or "").strip()[:6]
        for exact in (True, False):
            for maps in (self.partner, self.base):
                for m in maps:
                    if m.format != "x12" or m.transaction_set != set_id:
                        continue
                    if exact and m.version == version:
                        return m
                    if not exact and any(fnmatch.fnmatch(version, pat) for pat in m.compatible):
                        return m
        return None

    def select_document(self, fmt: str, document: str) -> TranslationMap | None:
        """The map for an XML document: format (cxml, ubl) and document element name."""
        for maps in (self.partner, self.base):
            for m in maps:
                if m.format == fmt and m.document == document:
                    return m
        return None


def load_maps(
    partner_maps_dir: Path | None = None, *, base_dir: Path = BASE_MAPS_DIR
) -> MapSet:
    """Load every base map, plus the partner's maps when ``partner_maps_dir`` is given."""
    base = [load_map(p, base_dir) for p in map_files(Path(base_dir))]
    partner = []
    if partner_maps_dir is not None:
        partner = [load_map(p, base_dir) for p in map_files(Path(partner_maps_dir))]
    return MapSet(base, partner)


def validate_all_maps(
    *, base_dir: Path = BASE_MAPS_DIR, partners_dir: Path = PARTNERS_DIR
) -> list[TranslationMap]:
    """Load every base and partner map; raise one :class:`MapFileError` listing all faults."""
    loaded, faults = [], []
    files = map_files(Path(base_dir))
    if Path(partners_dir).is_dir():
        for partner in sorted(Path(partners_dir).iterdir()):
            files.extend(map_files(partner / "maps"))
    for path in files:
        try:
            loaded.append(load_map(path, base_dir))
        except MapFileError as exc:
            faults.append(str(exc))
    if faults:
        raise MapFileError("\n".join(faults))
    return loaded


__all__ = ["MapFileError", "MapSet", "load_map", "load_maps", "validate_all_maps"]
