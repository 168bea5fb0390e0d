import sys
from datetime import datetime
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "x12")]

from pyx12_check import pyx12_errors, relaxed_map_dir  # noqa: E402
from x12_samples import SAMPLE_855  # noqa: E402

from gateway.acks import build_acknowledgments  # noqa: E402
from gateway.x12.reader import read_x12  # noqa: E402

NOW = datetime(2026, 11, 21, 8, 5)


class Counter:
    """Stands in for the database sequences."""

    def __init__(self, start: int = 1):
        self.values: dict[str, int] = {}
        self.start = start

    def next(self, name: str) -> int:
        assert name in ("interchange", "group", "transaction")
        self.values[name] = self.values.get(name, self.start - 1) + 1
        return self.values[name]


@pytest.fixture(scope="session")
def map_dir(tmp_path_factory):
    return relaxed_map_dir(str(tmp_path_factory.mktemp("pyx12")))


def acks_for(data: bytes, **kw):
    result = read_x12(data)
    kw.setdefault("control_numbers", Counter())
    return build_acknowledgments(result, 0, our_qualifier="ZZ", our_id="BUYERCO", now=NOW, **kw)


def test_997_accepts_the_sample_855(map_dir):
    (ack,) = acks_for(SAMPLE_855.read_bytes(), control_numbers=Counter(start=42))
    assert ack.kind == "997" and ack.interchange_control_number == 42
    assert ack.text.split("~")[:-1] == [
        "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ACMESUPPLY     *261121*0805*U"
        "*00401*000000042*0*P*>",
        "GS*FA*BUYERCO*ACMESUPPLY*20261121*0805*42*X*004010",
        "ST*997*0042",
        "AK1*PR*101",
        "AK2*855*0001",
        "AK5*A",
        "AK9*A*1*1*1",
        "SE*6*0042",
        "GE*1*42",
        "IEA*1*000000042",
    ]
    ok, tree = pyx12_errors(ack.text, map_dir)
    assert ok, tree


def test_999_when_preferred(map_dir):
    (ack,) = acks_for(SAMPLE_855.read_bytes(), prefer="999")
    assert ack.kind == "999"
    assert "ST*999*0001*005010X231A1~AK1*PR*101*004010~AK2*855*0001~IK5*A~AK9*A*1*1*1~" in ack.text
    assert "*^*00501*" in ack.text
    ok, tree = pyx12_errors(ack.text, map_dir)
    assert ok, tree
