"""``planning_http``: tell the planning system when goods are now expected to arrive.

It turns ``delivery_date.changed`` and ``shipment.noticed`` into ONE request per
event (``POST <url>``, ``Idempotency-Key: <event_id>``), contract
``expected-receipts/v1``::

    {"contract": "expected-receipts/v1",
     "update_id": "<event_id>",            # also the Idempotency-Key
     "reason": "delivery_date.changed" | "shipment.noticed",
     "partner_id": "demo", "correlation_id": "cor_...",
     "updates": [{
        "po_number": "4500012345", "line_number": "2" | null,
        "expected_receipt_date": "2026-12-10",   # ISO date: the new planned receipt
        "previous_date": "2026-12-01" | null,    # what planning had (delivery_date.changed)
        "days_late": 9 | null,                   # new - previous, in days
        "quantity": "50" | null,                 # shipped quantity (shipment.noticed)
        "shipment_id": "SH-77001" | null}]}

The planning system replaces the expected receipt date of each (po_number,
line_number); a null line_number means every open line of the PO. A shipment
without an expected delivery date carries no date to update: nothing is sent and
the delivery counts as done. Other event types are refused (a routing mistake,
made visible as a dead letter instead of being posted somewhere they mean nothing).
"""

from __future__ import annotations

import json

import requests

from gateway.adapters.base import DeliveryResult, Outcome
from gateway.adapters.http import option_float, post_json

CONTRACT = "expected-receipts/v1"
HANDLED = ("delivery_date.changed", "shipment.noticed")


def receipt_updates(event: dict) -> list[dict]:
    """The ``updates`` for ``event`` (pure; empty when it carries no new date)."""
    payload = event.get("payload") or {}
    if event["type"] == "delivery_date.changed":
        return [{"po_number": payload["po_number"], "line_number": payload.get("line_number"),
                 "expected_receipt_date": payload["new_date"][:10], "previous_date": payload.get("previous_date"),
                 "days_late": payload.get("days_late"), "quantity": None, "shipment_id": None}]
    expected = (payload.get("expected_delivery") or "")[:10]
    if not expected:
        return []
    return [{"po_number": order["po_number"], "line_number": line.get("line_number"),
             "expected_receipt_date": expected, "previous_date": None, "days_late": None,
             "quantity": line.get("quantity_shipped"), "shipment_id": payload.get("shipment_id")}
            for order in payload.get("orders", []) for line in order.get("lines", [])]


class PlanningHttpAdapter:
    alias = "planning_http"
    required_options = ("url",)

    def __init__(self, url: str, timeout: float = 10.0, session: requests.Session | None = None):
        self.url, self.timeout = url, timeout
        self.http = session or requests.Session()

    @classmethod
    def from_options(cls, options: dict) -> PlanningHttpAdapter:
        return cls(options["url"], timeout=option_float(options, "timeout", 10.0))

    def deliver(self, event: dict) -> DeliveryResult:
        if event["type"] not in HANDLED:
            return DeliveryResult(Outcome.REFUSED, f"planning_http does not carry {event['type']} events; "
                                                   f"route only {', '.join(HANDLED)} to it")
        updates = receipt_updates(event)
        if not updates:
            return DeliveryResult(Outcome.DELIVERED, "no expected date in the event: nothing to update")
        body = json.dumps({"contract": CONTRACT, "update_id": event["event_id"], "reason": event["type"],
                           "partner_id": event.get("partner_id"), "correlation_id": event.get("correlation_id"),
                           "updates": updates}, sort_keys=True).encode()
        headers = {"Idempotency-Key": event["event_id"], "X-Event-Type": event["type"]}
        return post_json(self.http, self.url, body, headers, self.timeout, target="planning system")
