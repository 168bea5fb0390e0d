"""Load a map file as plain data plus the line of every key, for error messages.

Scalars stay strings: YAML 1.1 would read the code ``068`` as the octal number 56
and ``NO`` as ``False``, and in EDI code tables both are ordinary codes. The map
schema converts the few typed settings (booleans, integers) itself. Only ``null``
and ``~`` are special: in a partner map they delete an inherited key.
"""

from __future__ import annotations

from pathlib import Path

import yaml

KeyPath = tuple  # tuple[str | int, ...]


class MapFileError(Exception):
    """A map file is unreadable or invalid. The message names the file, line and field."""


def load_yaml(path: Path) -> tuple[object, dict[KeyPath, int]]:
    """Return ``(data, lines)``; ``lines`` maps each key path to its 1-based line."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise MapFileError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    lines: dict[KeyPath, int] = {}
    if node is None:
        return {}, lines
    return _build(node, (), lines, path), lines


def _build(node: yaml.Node, at: KeyPath, lines: dict[KeyPath, int], path: Path) -> object:
    lines.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, object] = {}
        merged: dict[str, object] = {}  # ``<<: *anchor`` keys: explicit keys win over them
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    built = _build(source, at, {}, path)
                    if isinstance(built, dict):
                        merged = {**built, **merged}
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise MapFileError(f"{path}:{key_node.start_mark.line + 1}: keys must be plain text")
            key = key_node.value
            if key in out:
                raise MapFileError(f"{path}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
            lines[(*at, key)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, (*at, key), lines, path)
        return {**merged, **out}
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*at, i), lines, path) for i, item in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:null" and node.style is None:
        return None
    return node.value
