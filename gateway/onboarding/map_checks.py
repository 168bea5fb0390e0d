"""Check an uploaded map before it is stored: size, YAML shape, and the map loader's
own validation, with each problem's file, line and field named.

The upload is loaded exactly as a map file in ``partners/<id>/maps/`` would be (it may
``inherits:`` a base map), so what passes here is what a worker will run.
"""

from __future__ import annotations

import re
import secrets
import shutil
from functools import lru_cache
from pathlib import Path

import yaml

from gateway.mapping.compiled import TranslationMap
from gateway.mapping.loader import BASE_MAPS_DIR, load_map
from gateway.mapping.yamlsource import MapFileError
from gateway.onboarding.errors import Invalid
from gateway.onboarding.materialize import ROOT

MAX_MAP_BYTES = 256 * 1024
MAX_YAML_NODES = 50_000  # after aliases are expanded: a few anchors must not make a billion nodes
FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}\.ya?ml$")
BASE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$")
DOCUMENT_TYPE = re.compile(r"^[a-z0-9]{1,10}-[A-Za-z0-9_.-]{1,50}$")
_PROBLEM = re.compile(r"^\s*(?P<file>[^\s:]+):(?P<line>\d+|\?): (?:(?P<field>[A-Za-z0-9_.\[\]()-]+): )?(?P<message>.+)$")


def document_type(m: TranslationMap) -> str:
    """What a map translates, as one name: ``x12-855-004010``, ``cxml-OrderRequest``."""
    if m.format == "x12":
        return f"x12-{m.transaction_set}-{m.version}"
    return f"{m.format}-{m.document}"


@lru_cache(maxsize=512)
def _file_document_type(path: str, mtime_ns: int, base_dir: str) -> str:
    return document_type(load_map(Path(path), Path(base_dir)))


def file_document_type(path: Path, base_dir: Path = BASE_MAPS_DIR) -> str:
    """The document type of a map file in the repository (cached by modification time)."""
    return _file_document_type(str(path), path.stat().st_mtime_ns, str(base_dir))


def _expanded_nodes(node, memo: dict) -> int:
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = 1  # a cycle counts once
    total = 1
    if isinstance(node, yaml.MappingNode):
        total += sum(_expanded_nodes(k, memo) + _expanded_nodes(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_nodes(v, memo) for v in node.value)
    memo[id(node)] = total
    return total


def _problems(text: str, tmp: Path, filename: str) -> list[dict]:
    """The loader's message as ``[{file, line, field, message}]``, our temporary path
    replaced by the name the user uploaded."""
    out = []
    for raw in str(text).replace(str(tmp), filename).splitlines():
        if raw.startswith("map ") and raw.rstrip().endswith("is invalid:"):
            continue
        m = _PROBLEM.match(raw)
        if m is None:
            out.append({"file": filename, "line": None, "field": None, "message": raw.strip()})
            continue
        file = m["file"]
        if file.startswith(str(BASE_MAPS_DIR)):
            file = "base map " + Path(file).name
        out.append({"file": file, "line": int(m["line"]) if m["line"].isdigit() else None,
                    "field": m["field"], "message": m["message"]})
    return out


def check_map(home: Path, partner_id: str, filename: str, content: str,
              base_dir: Path = BASE_MAPS_DIR) -> TranslationMap:
    """The loaded map, or :class:`Invalid` with every problem's file, line and field."""
    if not FILENAME.match(filename or ""):
        raise Invalid("the map's file name must be letters, digits, '.', '_' or '-', ending .yaml",
                      [{"file": filename, "line": None, "field": None, "message": "bad file name"}])
    size = len(content.encode("utf-8"))
    if size > MAX_MAP_BYTES:
        raise Invalid(f"{filename}: the map is {size} bytes; maps are limited to {MAX_MAP_BYTES}")
    try:
        node = yaml.compose(content, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        message = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise Invalid(f"{filename}:{line}: {message}",
                      [{"file": filename, "line": line, "field": None, "message": message}]) from None
    if node is not None and _expanded_nodes(node, {}) > MAX_YAML_NODES:
        raise Invalid(f"{filename}: the map expands to more than {MAX_YAML_NODES} YAML nodes (anchors and aliases)")
    try:
        data = yaml.safe_load(content) if node is not None else None
    except yaml.YAMLError as exc:  # e.g. a tag a map cannot hold (!!python/object)
        raise Invalid(f"{filename}: not a plain YAML map: {exc}",
                      [{"file": filename, "line": None, "field": None, "message": str(exc)}]) from None
    parent = data.get("inherits") if isinstance(data, dict) else None
    if parent is not None and (not isinstance(parent, str) or not BASE_NAME.match(parent)):
        raise Invalid(f"{filename}: inherits must name a base map, e.g. x12-855-004010",
                      [{"file": filename, "line": None, "field": "inherits", "message": "not a base map name"}])
    tmp = Path(home) / ROOT / "checks" / secrets.token_hex(8)
    path = tmp / partner_id / "maps" / (Path(filename).stem + ".yaml")
    try:
        path.parent.mkdir(parents=True)
        path.write_text(content, encoding="utf-8")
        try:
            loaded = load_map(path, base_dir)
        except MapFileError as exc:
            problems = _problems(str(exc), path, filename)
            raise Invalid(f"{filename} is not a valid map: " + "; ".join(
                f"line {p['line']}: {p['field'] + ': ' if p['field'] else ''}{p['message']}" for p in problems[:5]),
                problems) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not DOCUMENT_TYPE.match(document_type(loaded)):
        field = "transaction_set" if loaded.format == "x12" else "document"
        raise Invalid(f"{filename}: {field} must be letters, digits, '.', '_' or '-' (it names the document type)",
                      [{"file": filename, "line": None, "field": field, "message": "not a document type name"}])
    return loaded
