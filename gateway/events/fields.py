"""Marshmallow fields for the canonical wire format.

Money and quantities travel as decimal *strings* ("12.50"), never floats, so no
consumer ever sees 0.1 + 0.2. Dates and date-times are ISO 8601 strings. These
fields only validate: what comes in is already JSON-ready and goes out unchanged.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from marshmallow import ValidationError, fields

_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


class DecimalString(fields.String):
    """A decimal number written as a string: ``"12.50"``, ``"-3"``; no exponent, no float."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not _DECIMAL.match(value):
            raise ValidationError(f"must be a decimal string like '12.50', got {value!r}")
        return value


class IsoDate(fields.String):
    """An ISO 8601 calendar date, ``YYYY-MM-DD``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) != 10:
            raise ValidationError(f"must be an ISO 8601 date YYYY-MM-DD, got {value!r}")
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(f"not a valid date: {value!r}") from exc
        return value


class IsoDateTime(fields.String):
    """An ISO 8601 date-time, ``YYYY-MM-DDTHH:MM:SS[+HH:MM]``.

    ``aware=True`` demands an explicit offset (envelope timestamps are always aware).
    """

    def __init__(self, *, aware: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.aware = aware

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or "T" not in value:
            raise ValidationError(f"must be an ISO 8601 date-time, got {value!r}")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(f"not a valid date-time: {value!r}") from exc
        if self.aware and parsed.tzinfo is None:
            raise ValidationError(f"must carry a UTC offset, got {value!r}")
        return value


class DateOrDateTime(fields.String):
    """Either an ISO date or an ISO date-time (an X12 DTM may carry a time or not)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and "T" in value:
            return IsoDateTime()._deserialize(value, attr, data)
        return IsoDate()._deserialize(value, attr, data)
