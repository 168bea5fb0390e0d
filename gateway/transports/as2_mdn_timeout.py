"""Async-MDN timeouts: an AS2 message we sent asking for an asynchronous MDN, whose MDN
never came, is not left ``awaiting-mdn`` forever.

After ``GATEWAY_AS2_MDN_TIMEOUT`` seconds (default 1800, as pyas2's ``ASYNC_MDN_WAIT``)
the message goes back to ``pending`` and the resender sends it again with the same
Message-ID (the partner can recognise the duplicate); once it is out of attempts
(``GATEWAY_AS2_MAX_ATTEMPTS``) it is ``failed`` and logged as an error. The wait is
counted from when the message's next attempt would have been due (the send time plus
its backoff), so a timeout is never shorter than the setting. A periodic task
(:mod:`gateway.periodic`) runs :func:`expire_awaiting_mdns`.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from sqlalchemy import select

from gateway.config import ConfigError
from gateway.store.models_transport import As2Message

log = logging.getLogger("gateway.transports.as2")

DEFAULT_TIMEOUT = 1800.0


def mdn_timeout(rt) -> float:
    raw = {**os.environ, **rt.settings.extra}.get("GATEWAY_AS2_MDN_TIMEOUT", "") or str(DEFAULT_TIMEOUT)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"GATEWAY_AS2_MDN_TIMEOUT={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ConfigError("GATEWAY_AS2_MDN_TIMEOUT must be greater than zero")
    return value


def expire_awaiting_mdns(rt, now: datetime, limit: int = 200) -> dict[str, int]:
    """Send again (or fail) each message whose async MDN is overdue; returns the counts."""
    from gateway.transports.as2_profiles import as2_config

    cutoff = now - timedelta(seconds=mdn_timeout(rt))
    max_attempts = as2_config(rt).max_attempts
    counts = {"resend": 0, "failed": 0}
    with rt.session() as s:
        rows = s.scalars(select(As2Message).where(
            As2Message.direction == "out", As2Message.status == "awaiting-mdn",
            As2Message.next_attempt_at <= cutoff).limit(limit).with_for_update(skip_locked=True)).all()
        for row in rows:
            if row.attempts >= max_attempts:
                row.status, row.next_attempt_at = "failed", None
                row.detail = f"no async MDN after {row.attempts} attempt(s)"
                log.error("AS2 message %s to %s failed: %s", row.message_id, row.partner_id, row.detail)
                counts["failed"] += 1
            else:
                row.status, row.next_attempt_at = "pending", now
                row.detail = "no async MDN in time; sending again with the same Message-ID"
                log.warning("AS2 message %s to %s: %s", row.message_id, row.partner_id, row.detail)
                counts["resend"] += 1
    return counts
