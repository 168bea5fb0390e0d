"""measure_in_child (tests/support.py) sees what a call allocates even after this process
had a higher peak, which the process-wide ``ru_maxrss`` the memory checks used cannot."""

from __future__ import annotations

import gc
import logging
import resource

import pytest
from support import measure_in_child

MB = 1024 * 1024


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_growth_after_an_earlier_higher_peak_is_seen():
    earlier = b"x" * (200 * MB)  # an earlier peak, like a schema build or another test
    del earlier
    before = _peak_mb()
    held = b"y" * (60 * MB)
    assert _peak_mb() - before < 10  # the old measure: 60 MB more, and it sees nothing
    del held

    measured = measure_in_child(lambda: len(b"z" * (60 * MB)))
    assert measured.value == 60 * MB
    assert 55 < measured.peak_growth_mb < 120


def test_a_small_call_measures_small_and_its_logs_come_back():
    def work():
        logging.getLogger("gateway.test").debug("hello from the child")
        return {"ok": [1, 2]}

    measured = measure_in_child(work)
    assert measured.value == {"ok": [1, 2]}
    assert measured.peak_growth_mb < 10 and measured.cpu_seconds < 5
    assert "hello from the child" in measured.log


def test_a_failure_in_the_child_is_reported_with_its_traceback():
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        measure_in_child(lambda: 1 / 0)


def test_the_child_does_not_collect_what_it_inherited():
    """The test process's own heap is no part of the measured call: frozen before the fork."""
    run = measure_in_child(lambda: gc.get_freeze_count())
    assert run.value > 0
    assert gc.get_freeze_count() == 0  # and back in reach of the collector here
