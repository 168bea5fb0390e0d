"""Marshmallow fields for the leaves of a map: paths and whitelisted transforms.

Paths are checked with the parser of the map being loaded (``PATH_PARSER``: X12
paths, or XPath with the map's namespaces), so a typo in a path fails the map at
load time with its line. Transform names must be in ``FUNCTIONS``; their arguments
are checked against each function's declared parameter kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from marshmallow import ValidationError, fields

from gateway.mapping.functions import FUNCTIONS, INT, PATH
from gateway.mapping.paths import PathSyntaxError, parse_path

# The path language of the map being loaded (X12 paths, or XPath with the map's
# namespaces); the loader sets it, so one schema serves every format.
PATH_PARSER: ContextVar[Callable[[str], object]] = ContextVar("PATH_PARSER", default=parse_path)

def _check_path(text: object) -> None:
    try:
        PATH_PARSER.get()(text)  # type: ignore[arg-type]
    except PathSyntaxError as exc:
        raise ValidationError(str(exc)) from exc


class PathField(fields.Field):
    """A path, or with ``many`` a path or a list of paths (tried in order)."""

    def __init__(self, *, many: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.many = many

    def _deserialize(self, value, attr, data, **kwargs):
        items = value if self.many and isinstance(value, list) else [value]
        if not items or (isinstance(value, list) and not self.many):
            raise ValidationError("expected a path" + (" or a list of paths" if self.many else ""))
        for item in items:
            if not isinstance(item, str):
                raise ValidationError(f"expected a path string, got {item!r}")
            _check_path(item)
        return list(items) if self.many else value


class TransformField(fields.Field):
    """``name`` or ``[name, {name: {arg: value}}]`` with names from the whitelist only."""

    def _deserialize(self, value, attr, data, **kwargs):
        steps = value if isinstance(value, list) else [value]
        out = []
        for step in steps:
            name, args = (step, {}) if isinstance(step, str) else _one_key(step)
            fn = FUNCTIONS.get(name)
            if fn is None:
                raise ValidationError(f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}")
            if not isinstance(args, dict):
                raise ValidationError(f"{name}: arguments must be a mapping")
            checked = {}
            for arg, raw in args.items():
                kind = fn.params.get(arg)
                if kind is None:
                    raise ValidationError(f"{name}: unknown argument {arg!r}; allowed: {sorted(fn.params)}")
                if kind == INT:
                    if not str(raw).isdigit():
                        raise ValidationError(f"{name}.{arg}: expected a whole number, got {raw!r}")
                    raw = int(raw)
                elif kind == PATH:
                    _check_path(raw)
                checked[arg] = raw
            out.append((name, checked))
        return out


def _one_key(step: object) -> tuple[str, object]:
    if isinstance(step, dict) and len(step) == 1:
        return next(iter(step.items()))
    raise ValidationError(f"a transform step is a name or {{name: {{args}}}}, got {step!r}")


