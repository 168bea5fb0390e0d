"""The whitelisted transforms: exact decimals, X12 and XML dates, time zones."""

from __future__ import annotations

import pytest

from gateway.mapping.functions import (
    fn_datetime,
    fn_decimal,
    fn_implied_decimal,
    fn_integer,
    fn_iso_date,
    fn_iso_datetime,
    fn_multiply,
)


@pytest.mark.parametrize("raw,places,expected", [
    ("223200", 2, "2232.00"), ("5", 2, "0.05"), ("-4500", 2, "-45.00"), ("1234", 3, "1.234"),
    ("12.5", 2, "12.5"),  # an explicit point wins
])
def test_implied_decimals(raw, places, expected):
    assert fn_implied_decimal(raw, places) == expected


def test_decimals_never_floats_or_exponents():
    assert fn_decimal("012.50") == "12.50" and fn_decimal(".5") == "0.5" and fn_decimal("+3") == "3"
    assert fn_multiply("3", "0.1") == "0.3"
    assert fn_multiply("3", "0.333", 2) == "1.00" and fn_multiply("2", None) is None
    assert fn_integer("4") == 4
    for bad in ("1e3", "12,5.0", "abc", "NaN"):
        with pytest.raises(ValueError):
            fn_decimal(bad)
    with pytest.raises(ValueError):
        fn_integer("2.5")


def test_x12_dates_and_times():
    assert fn_datetime("20261201") == "2026-12-01"
    assert fn_datetime("261201") == "2026-12-01" and fn_datetime("991231") == "1999-12-31"
    assert fn_datetime("20261201", "1400", "CT") == "2026-12-01T14:00:00-06:00"
    assert fn_datetime("20260701", "1400", "CT") == "2026-07-01T14:00:00-05:00"  # daylight time
    assert fn_datetime("20261201", "140005", "UT") == "2026-12-01T14:00:05+00:00"
    assert fn_datetime("20261201", "1400", "LT", "America/Chicago") == "2026-12-01T14:00:00-06:00"
    assert fn_datetime("20261201", "1400", None, "+02:00") == "2026-12-01T14:00:00+02:00"
    for bad in ("2026-12-01", "20261301", "1201"):
        with pytest.raises(ValueError):
            fn_datetime(bad)


def test_xml_dates():
    assert fn_iso_date("2026-11-18T09:00:00-06:00") == "2026-11-18"
    assert fn_iso_datetime("2026-11-18T09:00:00Z") == "2026-11-18T09:00:00+00:00"
    assert fn_iso_datetime("2026-11-18", "09:00:00", "UTC") == "2026-11-18T09:00:00+00:00"
    assert fn_iso_datetime("2026-11-18", "09:00:00-06:00") == "2026-11-18T09:00:00-06:00"
    assert fn_iso_datetime("2026-11-18") == "2026-11-18"
    with pytest.raises(ValueError):
        fn_iso_date("invoice_date")
