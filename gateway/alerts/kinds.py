"""The alert kinds, and which console roles subscribe to which by default.

A partner-role user hears only of its own partner's alerts, and never of a dead letter
(that is our delivery to our own systems failing, not the partner's business)."""

from __future__ import annotations

from enum import StrEnum


class AlertKind(StrEnum):
    REJECTED = "rejected"  # a document we received was rejected
    DEAD_LETTER = "dead_letter"  # a delivery to one of our systems ran out of attempts
    CERTIFICATE_EXPIRING = "certificate_expiring"  # an AS2 certificate expires soon, or has
    ACK_OVERDUE = "ack_overdue"  # the partner's 997/999 for what we sent is late


ALL = frozenset(AlertKind)
ROLE_SUBSCRIPTIONS: dict[str, frozenset[AlertKind]] = {
    "admin": ALL,
    "support": frozenset({AlertKind.REJECTED, AlertKind.DEAD_LETTER, AlertKind.ACK_OVERDUE}),
    "buyer": frozenset({AlertKind.ACK_OVERDUE, AlertKind.CERTIFICATE_EXPIRING}),
    "viewer": frozenset(),
    "partner": frozenset({AlertKind.REJECTED, AlertKind.ACK_OVERDUE, AlertKind.CERTIFICATE_EXPIRING}),
}
PARTNER_VISIBLE = frozenset({AlertKind.REJECTED, AlertKind.ACK_OVERDUE, AlertKind.CERTIFICATE_EXPIRING})
