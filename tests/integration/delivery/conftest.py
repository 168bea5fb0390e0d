"""Delivery tests share the fault tests' kit (scripted receivers, 855 maker)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "faults"))


@pytest.fixture
def erp():
    """A scripted HTTP receiver standing in for the ERP (faultkit.Receiver)."""
    from faultkit import Receiver

    r = Receiver()
    yield r
    r.stop()
