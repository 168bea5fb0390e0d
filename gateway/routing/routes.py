"""Routes: which adapters receive which event types, and the adapters they name.

Routes are data. The default sends every canonical event to the ERP; issue #5 adds
planning and notification routes and per-partner overrides.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.adapters.erp_http import ErpHttpAdapter
from gateway.config import Settings


@dataclass(frozen=True)
class Route:
    adapter: str  # alias in the adapter registry
    queue: str  # the RQ queue its deliveries go on (erp is critical and served first)
    event_types: frozenset[str] | None = None  # None: every type


DEFAULT_ROUTES = (Route(adapter="erp_http", queue="erp"),)


def routes_for(event_type: str, settings: Settings) -> list[Route]:
    """The routes an event of ``event_type`` takes; a route whose target is not configured is skipped."""
    out = []
    for route in DEFAULT_ROUTES:
        if route.event_types is not None and event_type not in route.event_types:
            continue
        if route.adapter == "erp_http" and not settings.erp_url:
            continue
        out.append(route)
    return out


def build_adapter(alias: str, settings: Settings):
    """The adapter registry: alias -> a configured adapter instance."""
    if alias == "erp_http":
        if not settings.erp_url:
            raise LookupError("erp_http has no URL: set GATEWAY_ERP_URL")
        return ErpHttpAdapter(settings.erp_url, timeout=settings.erp_timeout)
    raise LookupError(f"no adapter registered as {alias!r}")
