"""Schema versions on routes: a breaking v2 (registered by this test only) is delivered
beside v1 to the route that asks for both, alone after the route's deprecation date,
and never to a route that asks for nothing; each version under its own key."""

from __future__ import annotations

import json
import textwrap

import pytest
from faultkit import Receiver, drain, gateway_env, in_process_runtime, make_855
from marshmallow import RAISE, fields, validate
from support import REPO

from gateway.config import load_settings
from gateway.events import ACK_TYPES, check_event
from gateway.events.payloads import PurchaseOrderAckSchema
from gateway.events.versions import registered_version, render
from gateway.intake.receive import receive
from gateway.routing.routes import RouteConfigError, routes_for


class AcknowledgedV2(PurchaseOrderAckSchema):
    """A breaking change for the test: ``ack_type`` renamed ``status``."""

    class Meta:
        unknown = RAISE
        exclude = ("ack_type",)

    status = fields.String(required=True, validate=validate.OneOf(ACK_TYPES))


def to_v2(payload: dict) -> dict:
    out = {k: v for k, v in payload.items() if k != "ack_type"}
    out["status"] = payload["ack_type"]
    return out


@pytest.fixture
def v2():
    with registered_version("purchase_order.acknowledged", 2, AcknowledgedV2, to_v2) as entry:
        yield entry


@pytest.fixture
def targets():
    made = {name: Receiver() for name in ("both", "after_window", "as_recorded")}
    yield made
    for r in made.values():
        r.stop()


ROUTES = """\
adapters:
  both: {{type: erp_http, queue: erp, url: "{both}"}}
  after_window: {{type: erp_http, queue: erp, url: "{after_window}"}}
  as_recorded: {{type: erp_http, queue: erp, url: "{as_recorded}"}}
routes:
  - events: [purchase_order.acknowledged]
    adapters: [both]
    versions: {{purchase_order.acknowledged: {{send: [1, 2], until: 2999-12-31}}}}
  - events: [purchase_order.acknowledged]
    adapters: [after_window]
    versions: {{purchase_order.acknowledged: {{send: [1, 2], until: 2020-01-31}}}}
  - events: [purchase_order.acknowledged]
    adapters: [as_recorded]
"""


@pytest.fixture
def rt(tmp_path, database_url, redis_url, targets, monkeypatch, v2):
    routes = tmp_path / "routes.yaml"
    routes.write_text(ROUTES.format(**{name: r.url for name, r in targets.items()}))
    env = gateway_env(tmp_path, database_url, redis_url, GATEWAY_ROUTES_FILE=str(routes))
    return in_process_runtime(monkeypatch, env)


def test_each_route_gets_the_versions_it_asks_for_under_their_own_keys(rt, targets):
    receive(rt, make_855(601), channel="sftp", filename="a.edi", partner_id="demo")
    drain(rt)
    [recorded] = [p["body"] for p in targets["as_recorded"].posts]
    assert recorded["schema"] == "purchase_order.acknowledged/1" and "ack_type" in recorded["payload"]
    original = recorded["event_id"]

    both = {p["key"]: p["body"] for p in targets["both"].posts}
    assert set(both) == {original, f"{original}-v2"}
    assert both[original] == recorded
    v2_body = both[f"{original}-v2"]
    assert v2_body["schema"] == "purchase_order.acknowledged/2" and v2_body["event_id"] == f"{original}-v2"
    assert v2_body["payload"]["status"] == recorded["payload"]["ack_type"] and "ack_type" not in v2_body["payload"]
    assert check_event(v2_body) is v2_body  # valid against the v2 schema

    # past its deprecation date the route gets only the newest version it names
    assert [p["key"] for p in targets["after_window"].posts] == [f"{original}-v2"]
    for r in targets.values():  # exactly once per key and target
        assert all(count == 1 for count in r.committed().values())


def test_a_route_naming_an_unregistered_version_fails_when_loaded(tmp_path, monkeypatch, v2):
    routes = tmp_path / "routes.yaml"
    routes.write_text(textwrap.dedent("""\
        adapters:
          erp_http: {queue: erp, url: "http://erp/events"}
        routes:
          - events: [purchase_order.acknowledged]
            adapters: [erp_http]
            versions: {purchase_order.acknowledged: [1, 3]}
        """))
    monkeypatch.setenv("GATEWAY_ROUTES_FILE", str(routes))
    settings = load_settings({"GATEWAY_HOME": str(tmp_path)})
    with pytest.raises(RouteConfigError, match="purchase_order.acknowledged/3 is registered"):
        routes_for("purchase_order.acknowledged", settings)


def test_an_event_names_a_version_its_payload_must_match(v2):
    body = json.loads((REPO / "maps" / "translate" / "x12-855-004010.acme.expected.json").read_text())[0]
    assert check_event(render(body, 2))["schema"] == "purchase_order.acknowledged/2"
    with pytest.raises(Exception, match="status"):
        check_event({**body, "schema": "purchase_order.acknowledged/2"})  # a v1 payload is no v2
    with pytest.raises(Exception, match="no schema"):
        check_event({**body, "schema": "purchase_order.acknowledged/7"})
    with pytest.raises(Exception, match="names"):
        check_event({**body, "schema": "invoice.received/1"})


@pytest.mark.parametrize("versions, message", [
    ("{purchase_order.acknowledged: {send: [1, 2], until: next-week}}", "`until` must be a date"),
    ("{invoice.received: [1]}", "which the route does not carry"),
    ("{purchase_order.acknowledged: [one]}", "must be a list of numbers"),
    ("[1, 2]", "maps event types to the versions sent"),
])
def test_a_malformed_versions_entry_fails_when_loaded(tmp_path, monkeypatch, v2, versions, message):
    routes = tmp_path / "routes.yaml"
    routes.write_text(textwrap.dedent(f"""\
        adapters:
          erp_http: {{queue: erp, url: "http://erp/events"}}
        routes:
          - events: [purchase_order.acknowledged]
            adapters: [erp_http]
            versions: {versions}
        """))
    monkeypatch.setenv("GATEWAY_ROUTES_FILE", str(routes))
    with pytest.raises(RouteConfigError, match=message):
        routes_for("purchase_order.acknowledged", load_settings({"GATEWAY_HOME": str(tmp_path)}))
