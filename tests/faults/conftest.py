"""Fault tests: real gateway processes, real Redis and databases, scripted receivers."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faultkit


@pytest.fixture
def erp():
    """A scripted HTTP receiver standing in for the ERP (faultkit.Receiver)."""
    from faultkit import Receiver

    r = Receiver()
    yield r
    r.stop()
