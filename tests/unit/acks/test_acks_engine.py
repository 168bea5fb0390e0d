"""997/999 from our engine's findings: an AK4/IK4 for every element error, with the
element position, the data element reference number (AK402) and the code of the rule;
syntax-note violations included (they used to come out as a bare AK3 ... 8)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE)]

from pyx12_check import pyx12_errors, relaxed_map_dir  # noqa: E402
from support import SAMPLES  # noqa: E402

from gateway.acks import build_acknowledgments  # noqa: E402
from gateway.processing.structure import read_and_validate  # noqa: E402

NOW = datetime(2026, 12, 2, 8, 0)
INVOICE = (SAMPLES / "810" / "810_004010_acme_invoice_inv-88001.edi").read_text()


class Sequences:
    def __init__(self):
        self.n = 0

    def next(self, name: str) -> int:
        self.n += 1
        return self.n


@pytest.fixture(scope="module")
def map_dir(tmp_path_factory):
    return relaxed_map_dir(str(tmp_path_factory.mktemp("pyx12")))


def ack(text: str, prefer: str | None = None):
    result = read_and_validate(text.encode(), engine="engine")
    [a] = build_acknowledgments(result, 0, our_qualifier="ZZ", our_id="BUYERCO", control_numbers=Sequences(),
                                prefer=prefer, now=NOW)
    return a


BROKEN = (INVOICE.replace("IT1*1*100*EA*12.50*", "IT1*1*100**12.50*")  # P020304: IT103 missing
          .replace("IT1*3*25*BX", "IT1*3*TEN*BX")  # IT102 not a number
          .replace("SAC*C*D240", "SAC*Z*D240"))  # SAC01 not a code of 248


@pytest.mark.parametrize(("kind", "ak3", "ak4", "ak5"), [("997", "AK3", "AK4", "AK5"), ("999", "IK3", "IK4", "IK5")])
def test_every_element_error_has_its_ak4_with_reference_and_code(kind, ak3, ak4, ak5, map_dir):
    a = ack(BROKEN, prefer=kind)
    lines = a.text.split("~")
    body = lines[lines.index(next(x for x in lines if x.startswith("AK2"))):]
    assert body[:9] == [
        "AK2*810*0001",
        f"{ak3}*IT1*13**8", f"{ak4}*3*355*2",
        f"{ak3}*IT1*15**8", f"{ak4}*2*358*6*TEN",
        f"{ak3}*SAC*19**8", f"{ak4}*1*248*7*Z",
        f"{ak5}*R*5", "AK9*R*1*1*0",
    ]
    ok, tree = pyx12_errors(a.text, map_dir)  # the ack itself is valid X12
    assert ok, tree
