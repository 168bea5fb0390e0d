"""The whitelisted transforms a map may name. Nothing else runs: no eval, no imports.

Each function takes the current value (a non-empty string) plus the arguments the
map gives, already resolved (``PATH`` arguments are evaluated in the same loop as
the value), and returns the new value. A value that cannot be converted raises
:class:`ValueError`; the translator turns it into a ``TranslationError`` naming the
field and the segment.

``FUNCTIONS`` is the registry: adding a transform means adding an entry here,
with its parameter kinds, so maps that use it are still checked when loaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PATH, INT, STR = "path", "int", "str"

# X12 time codes (DTM04, G6204...): a fixed offset, or a zone when daylight time
# depends on the date. LT (local time) and unknown codes fall back to the map's zone.
X12_TIME_CODES: dict[str, str] = {
    "UT": "UTC", "GM": "UTC", "UTC": "UTC",
    "ED": "-04:00", "ES": "-05:00", "ET": "America/New_York",
    "CD": "-05:00", "CS": "-06:00", "CT": "America/Chicago",
    "MD": "-06:00", "MS": "-07:00", "MT": "America/Denver",
    "PD": "-07:00", "PS": "-08:00", "PT": "America/Los_Angeles",
    "AD": "-03:00", "AS": "-04:00", "AT": "America/Halifax",
    "HD": "-09:00", "HS": "-10:00", "HT": "Pacific/Honolulu",
}


@dataclass(frozen=True)
class Function:
    fn: Callable[..., object]
    params: dict[str, str] = field(default_factory=dict)
    doc: str = ""


def to_decimal(value: str) -> Decimal:
    """Parse an X12 numeric (R or N0) value; reject floats' exponents and junk."""
    text = value.strip()
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", text):
        raise ValueError(f"not a number: {value!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise ValueError(f"not a number: {value!r}") from exc


def decimal_text(number: Decimal) -> str:
    """A decimal string without exponent: ``Decimal('1E+2')`` -> ``'100'``."""
    text = format(number, "f")
    return "0" if text in ("-0", "") else text


def fn_decimal(value: str) -> str:
    return decimal_text(to_decimal(value))


def fn_implied_decimal(value: str, places: int = 2) -> str:
    """TDS01, SAC05, ...: type N2 has two implied decimals ("125000" -> "1250.00")."""
    number = to_decimal(value)
    if "." in value:  # an explicit point wins: some senders write R where N2 is due
        return decimal_text(number)
    return decimal_text(number.scaleb(-places).quantize(Decimal(1).scaleb(-places)))


def fn_integer(value: str) -> int:
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(f"not a whole number: {value!r}")
    return int(number)


def fn_multiply(value: str, by: str | None = None, places: int | None = None) -> str | None:
    """``value × by`` (e.g. quantity × unit price), exact unless ``places`` rounds it."""
    if by is None:
        return None
    product = to_decimal(value) * to_decimal(by)
    if places is not None:
        product = product.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return decimal_text(product)


def parse_x12_date(value: str) -> date:
    """CCYYMMDD, or YYMMDD with the usual pivot (00-49 -> 20xx, 50-99 -> 19xx)."""
    text = value.strip()
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    if re.fullmatch(r"\d{6}", text):
        yy = int(text[:2])
        return date((2000 if yy < 50 else 1900) + yy, int(text[2:4]), int(text[4:]))
    raise ValueError(f"not a CCYYMMDD or YYMMDD date: {value!r}")


def parse_x12_time(value: str) -> time:
    """HHMM, HHMMSS or HHMMSSD..: seconds and fractions kept when given."""
    text = value.strip()
    if not re.fullmatch(r"\d{4}(\d{2}(\d{1,2})?)?", text):
        raise ValueError(f"not an HHMM[SS[dd]] time: {value!r}")
    frac = text[6:]
    micro = int(frac.ljust(6, "0")) if frac else 0
    return time(int(text[:2]), int(text[2:4]), int(text[4:6] or 0), micro)


def resolve_zone(code: str | None, default: str | None) -> timezone | ZoneInfo | None:
    """An X12 time code or an IANA zone name or ``±HH:MM`` -> a tzinfo (None: unknown)."""
    for name in (X12_TIME_CODES.get((code or "").upper()), default):
        if not name:
            continue
        m = re.fullmatch(r"([+-])(\d{2}):(\d{2})", name)
        if m:
            delta = timedelta(hours=int(m[2]), minutes=int(m[3]))
            return timezone(-delta if m[1] == "-" else delta)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return None


def fn_date(value: str) -> str:
    return parse_x12_date(value).isoformat()


def fn_datetime(
    value: str, time: str | None = None, zone: str | None = None, timezone: str | None = None
) -> str:
    """Date (+ time, + X12 time code) -> ISO 8601; without a time, the date alone."""
    day = parse_x12_date(value)
    if not time:
        return day.isoformat()
    moment = datetime.combine(day, parse_x12_time(time))
    tz = resolve_zone(zone, timezone)
    return (moment.replace(tzinfo=tz) if tz else moment).isoformat()


def fn_iso_date(value: str) -> str:
    """An XML date or date-time (``2026-11-18``, ``2026-11-18T10:00:00-06:00``) -> its date."""
    text = value.strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date: {value!r}") from exc


def fn_iso_datetime(value: str, time: str | None = None, timezone: str | None = None) -> str:
    """An XML date-time (or a date plus ``time``, as UBL IssueDate + IssueTime), zone-aware.

    A value without an offset gets the map's ``timezone``; a date without a time
    stays a date.
    """
    text = value.strip()
    if time and "T" not in text:
        text = f"{text[:10]}T{time.strip()}"
    if "T" not in text:
        return fn_iso_date(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date-time: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=resolve_zone(None, timezone))
    return moment.isoformat()


FUNCTIONS: dict[str, Function] = {
    "decimal": Function(fn_decimal, doc="a number as a decimal string"),
    "implied_decimal": Function(fn_implied_decimal, {"places": INT}, "N2-style implied decimals"),
    "integer": Function(fn_integer, doc="a whole number (JSON integer)"),
    "multiply": Function(fn_multiply, {"by": PATH, "places": INT}, "value × another element"),
    "date": Function(fn_date, doc="CCYYMMDD or YYMMDD -> YYYY-MM-DD"),
    "datetime": Function(
        fn_datetime, {"time": PATH, "zone": PATH, "timezone": STR}, "date + time + zone -> ISO"
    ),
    "iso_date": Function(fn_iso_date, doc="XML date or date-time -> YYYY-MM-DD"),
    "iso_datetime": Function(
        fn_iso_datetime, {"time": PATH, "timezone": STR}, "XML date-time (+ time) -> aware ISO"
    ),
    "upper": Function(str.upper, doc="upper case"),
    "lower": Function(str.lower, doc="lower case"),
    "strip_zeros": Function(lambda v: v.lstrip("0") or "0", doc="drop leading zeros"),
}
