"""The states a document, an acknowledgment and a delivery move through.

``REJECTED`` (the document is wrong: fixed by the partner or a map) and
``DEAD_LETTERED`` (a delivery failed: replayed when the target is back) are different
states on different things, and are listed and acted on separately.
"""

from __future__ import annotations

from enum import StrEnum

# A document whose processing crashes this often is not tried again: it ends `failed`,
# with its last error, and the partner is told (see gateway.processing.failure).
MAX_PROCESS_ATTEMPTS = 5


class DocumentStatus(StrEnum):
    RECEIVED = "received"  # stored; not yet processed
    ACCEPTED = "accepted"  # valid; events recorded (some sets may still be rejected)
    REJECTED = "rejected"  # not a valid document for us; reason kept, ack says why
    DUPLICATE = "duplicate"  # same interchange bytes as an earlier document; nothing delivered
    # Processing could not finish (it timed out, or kept crashing): OUR failure, not the
    # partner's. Final: nothing delivered, a TA1 told the partner; support reprocesses.
    FAILED = "failed"


class TransactionStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class AckStatus(StrEnum):
    PENDING = "pending"  # recorded; not yet written to the partner's channel
    SENT = "sent"
    WITHHELD = "withheld"  # support's corrected copy: no ack to the partner unless asked


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the target answered 2xx
    DEAD_LETTERED = "dead_lettered"  # out of attempts, or refused by the target; replayable
