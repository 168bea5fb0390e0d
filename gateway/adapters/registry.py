"""The adapter registry: adapter type alias -> class. Routes name types by alias.

Every registered class has ``alias``, ``required_options`` (options without which the
adapter is not configured, and its routes are skipped) and ``from_options(options)``.
Adding a target system = one module with such a class + one line here.
"""

from __future__ import annotations

from gateway.adapters.erp_http import ErpHttpAdapter
from gateway.adapters.file import FileAdapter
from gateway.adapters.planning_http import PlanningHttpAdapter
from gateway.adapters.webhook import WebhookAdapter

ADAPTERS: dict[str, type] = {
    cls.alias: cls for cls in (ErpHttpAdapter, PlanningHttpAdapter, WebhookAdapter, FileAdapter)
}


def adapter_class(type_alias: str) -> type:
    try:
        return ADAPTERS[type_alias]
    except KeyError:
        raise LookupError(f"no adapter type {type_alias!r}; known: {', '.join(sorted(ADAPTERS))}") from None
