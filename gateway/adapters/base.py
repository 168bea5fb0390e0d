"""The adapter contract: deliver one canonical event to one target system.

An adapter is a small class with a ``deliver(event)`` method, registered by alias in
``gateway.adapters.registry.ADAPTERS``; routes (``routes.yaml``) name adapters by alias. Each call carries the event's
``event_id`` as idempotency key, so a retry or a replay is recognised by the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    DELIVERED = "delivered"  # the target took it (2xx)
    RETRY = "retry"  # transient: 5xx, timeout, connection reset; try again later
    REFUSED = "refused"  # the target said no for business reasons (4xx); retrying will not help


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    detail: str
    status_code: int | None = None
    response_body: str | None = None


class Adapter(Protocol):
    alias: str  # the type alias routes use
    required_options: tuple[str, ...]  # without these the adapter is "not configured"

    @classmethod
    def from_options(cls, options: dict) -> Adapter: ...

    def deliver(self, event: dict) -> DeliveryResult:
        """Deliver ``event`` once; never raise for a target's failure (return RETRY)."""
        ...
