"""The outbound 850 map as data (a test file beside it), read back by the inbound map,
and the refusals: a field with no place in the 850, a value X12 cannot carry, an 850 our
validator rejects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from gateway.domain.partner import load_partner
from gateway.mapping import SourceContext, translate_bytes
from gateway.outbound.envelope import EnvelopeError, envelope
from gateway.outbound.reverse_map import (
    ReverseMapError,
    load_reverse_map,
    outbound_maps_dir,
    render,
)
from gateway.outbound.validation import outbound_errors

REPO = Path(__file__).resolve().parents[3]
DEMO = load_partner(REPO / "partners" / "demo" / "partner.yaml")
NOW = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


class Counter:
    """Control numbers as the database hands them out: each name counts up from 1."""

    def __init__(self):
        self.values: dict[str, int] = {}

    def next(self, name: str) -> int:
        self.values[name] = self.values.get(name, 0) + 1
        return self.values[name]


def _payload(path: Path) -> dict:
    data = json.loads(path.read_text())
    return data[0]["payload"] if isinstance(data, list) else data


def _cases():
    for test_file in sorted(outbound_maps_dir().glob("x12-*.test.yaml")):  # cXML: test_cxml_map.py
        spec = yaml.safe_load(test_file.read_text())
        set_id, version = test_file.name.split("-")[1:3]
        for case in spec["cases"]:
            yield pytest.param(set_id, version.split(".")[0], test_file.parent / case["input"],
                               test_file.parent / case["expected"], id=f"{test_file.stem}:{case['name']}")


CASES = list(_cases())


def _compact(value):
    """The value without its empty parts (null, [], {}), which both maps leave out."""
    if isinstance(value, dict):
        value = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def _text(segments) -> str:
    return "".join("*".join([tag, *elements]).rstrip("*") + "~\n" for tag, elements in segments)


@pytest.mark.parametrize(("set_id", "version", "source", "expected"), CASES)
def test_map_case(set_id, version, source, expected):
    assert _text(render(load_reverse_map(set_id, version), _payload(source))) == expected.read_text()


def test_every_outbound_map_has_a_test_file():
    maps = [p for p in outbound_maps_dir().glob("*.yaml") if not p.name.endswith(".test.yaml")]
    assert maps and all(p.with_suffix(".test.yaml").exists() for p in maps)


def _interchange(payload: dict) -> bytes:
    segments = render(load_reverse_map("850", "004010"), payload)
    return envelope(DEMO, segments, set_id="850", version="004010", functional_id="PO",
                    control_numbers=Counter(), now=NOW).text.encode()


@pytest.mark.parametrize("source", sorted({c.values[2] for c in CASES}), ids=lambda p: p.name)
def test_what_we_write_the_inbound_map_reads_back_unchanged(source):
    payload = _payload(source)
    data = _interchange(payload)
    assert outbound_errors(data) == []
    context = SourceContext("demo", "out_test", NOW, "cor_test")
    [event] = translate_bytes(data, context)
    back = _compact(event["payload"])
    want = _compact(payload)
    for party in ("buyer", "ship_to", "bill_to", "vendor"):
        lines = want.get(party, {}).get("address_lines", [])
        if len(lines) > 2:  # the inbound map reads every N301, then every N302 (its quirk, not ours)
            want[party]["address_lines"] = lines[0::2] + lines[1::2]
    for line in want["lines"]:
        line.setdefault("uom", "EA")
        if "requested_date" not in line and want.get("requested_date"):
            line["requested_date"] = want["requested_date"]  # a line without a date takes the PO's
    assert back == want


def test_the_envelope_carries_both_ids_and_our_three_control_numbers():
    counter = Counter()
    counter.values = {"interchange": 41, "group": 6, "transaction": 9}
    env = envelope(DEMO, [("BEG", ["00", "SA", "1", "", "20261201"])], set_id="850", version="004010",
                   functional_id="PO", control_numbers=counter, now=NOW)
    lines = env.text.splitlines()
    assert lines[0].startswith("ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ACMESUPPLY     *261202*0830*U*")
    assert lines[0].endswith("*000000042*0*P*>~")
    assert lines[1] == "GS*PO*BUYERCO*ACMESUPPLY*20261202*0830*7*X*004010~"
    assert lines[2:] == ["ST*850*0010~", "BEG*00*SA*1**20261201~", "SE*3*0010~", "GE*1*7~", "IEA*1*000000042~"]
    assert (env.interchange_control_number, env.group_control_number, env.transaction_control_number) == (
        "000000042", "7", "0010")


def test_a_field_the_850_has_no_place_for_is_refused_not_dropped():
    payload = _payload(CASES[0].values[2])
    payload["lines"][1]["item_number"] = "X-1"
    payload["ship_to"]["address_lines"] += ["3RD", "4TH", "5TH"]  # N3 twice holds four
    with pytest.raises(ReverseMapError, match=r"lines\.1\.item_number, ship_to\.address_lines\.4 have no place"):
        render(load_reverse_map("850", "004010"), payload)


@pytest.mark.parametrize("value", ["WIDGET*100", "A~B", "A>B", "caf\u00e9", "tab\there"])
def test_a_value_x12_cannot_carry_is_refused_not_altered(value):
    payload = _payload(CASES[0].values[2])
    payload["lines"][0]["description"] = value
    with pytest.raises(EnvelopeError, match="PID05"):
        _interchange(payload)


def test_our_validator_stops_an_850_the_standard_does_not_allow():
    payload = _payload(CASES[0].values[2])
    payload["po_number"] = "P" * 23  # BEG03 is 1-22 characters
    errors = outbound_errors(_interchange(payload))
    assert errors and errors[0]["segment_id"] == "BEG"


def test_a_broken_map_fails_when_loaded(tmp_path):
    (tmp_path / "x12-850-004010.yaml").write_text(
        "transaction_set: '850'\nversion: '004010'\nfunctional_id: PO\nevent: e\n"
        "segments:\n  - [BEG, {from: purpose, table: nowhere}]\n")
    with pytest.raises(ReverseMapError, match="unknown table 'nowhere'"):
        load_reverse_map("850", "004010", tmp_path)
    with pytest.raises(ReverseMapError, match="no outbound map for 855"):
        load_reverse_map("855", "004010", tmp_path)
