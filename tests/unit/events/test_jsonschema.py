"""The published JSON Schemas (docs/events/) are the generator's output, and they accept
what the gateway emits and refuse what it refuses."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from support import REPO

from gateway.events.jsonschema import main, render_all

DOCS = REPO / "docs" / "events"
GOLDEN = sorted(REPO.glob("maps/translate/**/*.expected.json")) + sorted(REPO.glob("partners/*/maps/*.expected.json"))


def test_the_committed_schemas_are_the_generators_output():
    committed = {p.name: p.read_text() for p in DOCS.glob("*.schema.json")}
    assert committed == render_all(), "run: python -m gateway.events.jsonschema docs/events"
    assert main([str(DOCS), "--check"]) == 0


def test_the_check_mode_reports_a_drifted_file(tmp_path, capsys):
    assert main([str(tmp_path)]) == 0
    first = sorted(tmp_path.glob("*.schema.json"))[0]
    first.write_text(first.read_text().replace('"string"', '"number"', 1))
    assert main([str(tmp_path), "--check"]) == 1
    assert first.name in capsys.readouterr().out


def _validator(event: dict) -> Draft202012Validator:
    name = f"{event['type']}.v{event['schema'].rsplit('/', 1)[1]}.schema.json"
    return Draft202012Validator(json.loads((DOCS / name).read_text()),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_every_golden_event_is_valid_against_its_published_schema(path):
    for event in json.loads(path.read_text()):
        errors = [e.message for e in _validator(event).iter_errors(event)]
        assert errors == [], f"{event['type']}: {errors[:3]}"


@pytest.mark.parametrize("change", [
    lambda e: e["payload"]["lines"][0].update(quantity=100.0),  # a float, never
    lambda e: e["payload"].update(po_numbr="1"),                 # unknown keys are refused
    lambda e: e["payload"].update(ack_type="accepted_partially"),
    lambda e: e.update(schema="purchase_order.acknowledged/2"),
    lambda e: e.pop("schema"),
])
def test_the_published_schema_refuses_what_the_gateway_refuses(change):
    from gateway.events import validate_event

    event = json.loads((REPO / "maps" / "translate" / "x12-855-004010.acme.expected.json").read_text())[0]
    change(event)
    assert validate_event(event) != {}
    schema = json.loads((DOCS / "purchase_order.acknowledged.v1.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(event)) != []
