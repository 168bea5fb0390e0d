"""Evaluate a compiled map's payload nodes against a transaction set's loop tree.

Empty X12 elements become ``None``. A ``required`` value that ends up empty, a
code missing from its table (``on_missing: error``) or a value a transform
cannot read raises :class:`TranslationError` naming the output field, the path
and the segment position, so support can point at the offending segment.
"""

from __future__ import annotations

from decimal import Decimal

from gateway.mapping.compiled import ListNode, ObjectNode, ValueRule
from gateway.mapping.functions import FUNCTIONS, decimal_text, to_decimal
from gateway.mapping.paths import X12, Scope


class TranslationError(Exception):
    """A document cannot be translated: a required business field is missing or unreadable."""


def _label(at: tuple, items: tuple) -> str:
    """``payload.lines[2].quantity`` from the node path and the list positions met."""
    out, idx = [], list(items)
    for part in at:
        if part in ("fields", "otherwise"):
            continue
        out.append(str(part))
        if idx and idx[0][0] == len(out):
            out[-1] += f"[{idx.pop(0)[1]}]"
    return ".".join(out[1:]) if out and out[0] == "payload" else ".".join(out)


class Evaluator:
    """Walks payload nodes; ``where`` tells errors which transaction set they are about."""

    def __init__(self, tables: dict, timezone: str, where: str, dialect=X12):
        self.dialect = dialect
        self.tables = tables
        self.timezone = timezone
        self.where = where

    def fields(self, spec: dict, scope: Scope, items: tuple = ()) -> dict:
        return {name: self.node(node, scope, items) for name, node in spec.items()}

    def node(self, node, scope: Scope, items: tuple):
        if isinstance(node, ObjectNode):
            return self.object(node, scope, items)
        if isinstance(node, ListNode):
            return self.list(node, scope, items)
        return self.value(node, scope, items)

    def object(self, node: ObjectNode, scope: Scope, items: tuple):
        if node.scope:
            found = self._first_nodes(node.scope, scope)
            if found is None:
                if node.required:
                    self._fail(node.at, items, scope, f"no loop matches {', '.join(p.text for p in node.scope)}")
                return None
            scope = Scope(found, scope.root, scope.ordinal, scope.component_separator)
        return self.fields(node.fields, scope, items)

    def list(self, node: ListNode, scope: Scope, items: tuple):
        if node.fields is None:
            out = []
            for path in node.each:
                for raw in self.dialect.values(path, scope):
                    value = self._finish(node.rule, raw, scope, items)
                    if value is not None and value not in out:
                        out.append(value)
        else:
            out = []
            depth = len([p for p in node.at if p not in ("fields", "otherwise")])
            for path in node.each:
                for i, loop in enumerate(self.dialect.select(path, scope), start=1):
                    sub = Scope(loop, scope.root, i, scope.component_separator)
                    out.append(self.fields(node.fields, sub, (*items, (depth, i))))
        if not out and node.otherwise is not None:
            return self.list(node.otherwise, scope, items)
        if node.required and not out:
            self._fail(node.at, items, scope, f"no {', '.join(p.text for p in node.each)} found")
        return out

    def value(self, rule: ValueRule, scope: Scope, items: tuple):
        raw = self._raw(rule, scope, items)
        value = self._finish(rule, raw, scope, items) if raw is not None else None
        if value is None and rule.otherwise is not None:
            value = self.value(rule.otherwise, scope, items)
        if value is None and rule.default is not None:
            value = rule.default
        if value is None and rule.required:
            self._fail(rule.at, items, scope, f"required but empty ({rule.describe()})")
        return value

    def _raw(self, rule: ValueRule, scope: Scope, items: tuple):
        if rule.source == "value":
            return rule.constant
        if rule.source == "from":
            for path in rule.paths:
                found = self.dialect.values(path, scope)
                if found:
                    return found[0]
            return None
        if rule.source == "concat":
            parts = [v for path in rule.paths for v in self.dialect.values(path, scope)[:1]]
            return rule.sep.join(parts) if parts else None
        if rule.source == "count":
            count = len(self.dialect.select(rule.paths[0], scope))
            return str(count) if count else None
        if rule.source == "sum":
            found = self.dialect.values(rule.paths[0], scope)
            try:
                return decimal_text(sum((to_decimal(v) for v in found), Decimal(0))) if found else None
            except ValueError as exc:
                self._fail(rule.at, items, scope, str(exc))
        return None

    def _finish(self, rule: ValueRule, value, scope: Scope, items: tuple):
        for name, args in rule.transforms:
            fn = FUNCTIONS[name]
            kwargs = {k: (self._first(v, scope) if hasattr(v, "text") else v) for k, v in args.items()}
            if "timezone" in fn.params and "timezone" not in kwargs:
                kwargs["timezone"] = self.timezone
            try:
                value = fn.fn(value, **kwargs)
            except ValueError as exc:
                self._fail(rule.at, items, scope, f"{name}: {exc} ({rule.describe()})")
            if value is None:
                return None
        if rule.table is not None and value is not None:
            key = str(value)
            if key in rule.table:
                value = rule.table[key]
            elif "*" in rule.table:
                value = rule.table["*"]
            elif rule.on_missing == "null":
                value = None
            elif rule.on_missing == "error":
                self._fail(rule.at, items, scope, f"code {key!r} is not in table {rule.table_name!r}")
        return value

    def _first(self, path, scope: Scope):
        found = self.dialect.values(path, scope)
        return found[0] if found else None

    def _first_nodes(self, paths, scope: Scope):
        for path in paths:
            found = self.dialect.select(path, scope)
            if found:
                return found[0]
        return None

    def _fail(self, at: tuple, items: tuple, scope: Scope, message: str):
        near = self.dialect.where(scope.node)
        near = f", {near}" if near else ""
        raise TranslationError(f"{self.where}: {_label(at, items)}: {message}{near}")
