"""Routes as data: which adapters receive which events, and how each adapter is set up.

``routes.yaml`` (shipped with the gateway, or ``GATEWAY_ROUTES_FILE``) holds the defaults; a partner's
``partners/<id>/routes.yaml`` may override adapter options by name and add routes (see
the comments in ``routes.yaml``). Files are validated when loaded: an unknown adapter
type, queue or name fails at start-up, not at 2 a.m. The result is cached per file
modification time and environment, so editing a file takes effect without a restart.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from gateway.adapters.registry import adapter_class
from gateway.config import Settings
from gateway.routing.queues import QUEUE_ORDER

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_ADAPTER_KEYS = {"type", "queue", "retry"}


class RouteConfigError(ValueError):
    """A routes file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff: float  # seconds before the first retry
    cap: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff with jitter after ``attempts`` tries: a random point in the
        upper half of ``backoff * 2^(attempts-1)`` (capped), so a crowd of deliveries that
        failed together does not come back together."""
        ceiling = min(self.cap, self.backoff * (2 ** max(0, attempts - 1)))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


@dataclass(frozen=True)
class AdapterSpec:
    name: str  # recorded on each delivery row
    type: str  # alias in gateway.adapters.registry
    queue: str
    retry: RetryPolicy
    options: dict = field(hash=False, compare=False)
    missing: tuple[str, ...] = ()  # required options without a value: not configured

    @property
    def configured(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Route:
    adapter: str  # the adapter's name
    queue: str
    event_types: frozenset[str] | None = None  # None: every type
    # the schema versions this adapter is sent (gateway.routing.versions); None: the
    # version the event was recorded at
    versions: tuple[int, ...] | None = None


# A route's `versions:` entry for one event type: the versions it wants, and the last
# day (UTC, inclusive) of the deprecation window after which only the newest is sent.
VersionWish = tuple[tuple[int, ...], date | None]


@dataclass(frozen=True)
class RouteTable:
    adapters: dict[str, AdapterSpec]
    # (event types or None for all, adapter names, partner ids or None, carries test data,
    #  {event type: VersionWish})
    rules: tuple[tuple[frozenset[str] | None, tuple[str, ...], frozenset[str] | None, bool, dict], ...]

    def routes_for(self, event_type: str, partner_id: str | None = None, test: bool = False,
                   today: date | None = None) -> list[Route]:
        """Configured adapters for ``event_type``, each once, in file order, each with the
        schema versions its routes ask for (several routes to one adapter: all they ask).

        Test data takes only the routes marked ``test: true``, production data only the
        others: a test event can never reach a production adapter by a route."""
        today = today or datetime.now(UTC).date()
        names: list[str] = []
        versions: dict[str, set[int] | None] = {}
        for types, adapters, partners, for_test, wishes in self.rules:
            if for_test != test or (partners is not None and partner_id not in partners):
                continue
            if types is None or event_type in types:
                names += [a for a in adapters if a not in names]
                wanted = _wanted(wishes.get(event_type), today)
                for a in adapters:
                    if a not in versions or versions[a] is None:
                        versions[a] = None if wanted is None else set(wanted)
                    elif wanted is not None:
                        versions[a] |= set(wanted)
        return [Route(n, self.adapters[n].queue, versions=None if versions[n] is None else tuple(sorted(versions[n])))
                for n in names if self.adapters[n].configured]


def _wanted(wish: VersionWish | None, today: date) -> tuple[int, ...] | None:
    if wish is None:
        return None
    send, until = wish
    return send if until is None or today <= until else (max(send),)


def routes_file() -> Path:
    """GATEWAY_ROUTES_FILE, else the routes.yaml the gateway ships (see gateway.resources)."""
    from gateway import resources

    return resources.routes_file()


def _environment(settings: Settings) -> tuple[tuple[str, str], ...]:
    env = {k: v for k, v in os.environ.items() if k.startswith("GATEWAY_")}
    env.update(settings.extra)
    # Settings win over the raw environment: `gateway up` points the ERP at its demo receiver.
    env["GATEWAY_ERP_URL"] = settings.erp_url or ""
    env["GATEWAY_ERP_TIMEOUT"] = str(settings.erp_timeout)
    env.setdefault("GATEWAY_EVENTS_DIR", "")
    return tuple(sorted(env.items()))


def load_route_table(settings: Settings, partner_id: str | None = None) -> RouteTable:
    default = routes_file()
    partner = settings.partners_dir / partner_id / "routes.yaml" if partner_id else None
    return _load(_stamp(default), _stamp(partner) if partner else None, _environment(settings),
                 settings.delivery_max_attempts, settings.delivery_backoff_seconds)


def routes_for(event_type: str, settings: Settings, partner_id: str | None = None, test: bool = False) -> list[Route]:
    """The routes an event of ``event_type`` from ``partner_id`` takes (configured adapters only);
    ``test``: the event is test data (only routes marked ``test: true``)."""
    return load_route_table(settings, partner_id).routes_for(event_type, partner_id, test)


def adapter_spec(name: str, settings: Settings, partner_id: str | None = None) -> AdapterSpec:
    spec = load_route_table(settings, partner_id).adapters.get(name)
    if spec is None:
        raise LookupError(f"no adapter named {name!r} in {routes_file()}")
    return spec


def build_adapter(name: str, settings: Settings, partner_id: str | None = None):
    """A ready adapter instance for the adapter called ``name``."""
    spec = adapter_spec(name, settings, partner_id)
    if not spec.configured:
        raise LookupError(f"adapter {name!r} is not configured: {', '.join(spec.missing)} has no value")
    return adapter_class(spec.type).from_options(spec.options)


def _stamp(path: Path) -> tuple[str, float] | None:
    try:
        return str(path), path.stat().st_mtime
    except FileNotFoundError:
        return None


@lru_cache(maxsize=64)
def _load(default, partner, env, max_attempts: int, backoff: float) -> RouteTable:
    if default is None:
        raise RouteConfigError(f"routes file {routes_file()} not found")
    environ = dict(env)
    base = _read(default[0], environ)
    adapters = dict(base.get("adapters") or {})
    rules = list(base.get("routes") or [])
    if partner is not None:
        extra = _read(partner[0], environ)
        for name, options in (extra.get("adapters") or {}).items():
            adapters[name] = {**adapters.get(name, {}), **(options or {})}
        rules = ([] if extra.get("replace_routes") else rules) + list(extra.get("routes") or [])
    where = partner[0] if partner else default[0]
    specs = {name: _spec(name, opts or {}, max_attempts, backoff, where) for name, opts in adapters.items()}
    return RouteTable(specs, tuple(_rule(r, specs, where) for r in rules))


def _read(path: str, environ: dict[str, str]) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise RouteConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RouteConfigError(f"{path}: expected a mapping with `adapters` and `routes`")
    return _expand(data, environ)


def _expand(value, environ: dict[str, str]):
    if isinstance(value, str):
        return _VAR.sub(lambda m: environ.get(m.group(1)) or (m.group(2) or ""), value)
    if isinstance(value, dict):
        return {k: _expand(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, environ) for v in value]
    return value


def _spec(name: str, raw: dict, max_attempts: int, backoff: float, where: str) -> AdapterSpec:
    kind = raw.get("type", name)
    try:
        cls = adapter_class(kind)
    except LookupError as exc:
        raise RouteConfigError(f"{where}: adapter {name!r}: {exc}") from None
    queue = raw.get("queue", "notify")
    if queue not in QUEUE_ORDER:
        raise RouteConfigError(f"{where}: adapter {name!r}: queue {queue!r} is not one of {QUEUE_ORDER}")
    retry = raw.get("retry") or {}
    try:
        policy = RetryPolicy(int(retry.get("max_attempts", max_attempts)), float(retry.get("backoff", backoff)),
                             float(retry.get("cap", 3600.0)))
    except (TypeError, ValueError):
        raise RouteConfigError(f"{where}: adapter {name!r}: retry values must be numbers: {retry!r}") from None
    if policy.max_attempts < 1 or policy.backoff <= 0:
        raise RouteConfigError(f"{where}: adapter {name!r}: retry needs max_attempts >= 1 and backoff > 0")
    options = {k: v for k, v in raw.items() if k not in _ADAPTER_KEYS}
    missing = tuple(o for o in cls.required_options if options.get(o) in (None, ""))
    return AdapterSpec(name, kind, queue, policy, options, missing)


def _rule(raw, specs: dict[str, AdapterSpec], where: str):
    if not isinstance(raw, dict) or "events" not in raw or "adapters" not in raw:
        raise RouteConfigError(f"{where}: each route needs `events` and `adapters`: {raw!r}")
    unknown = [a for a in raw["adapters"] if a not in specs]
    if unknown:
        raise RouteConfigError(f"{where}: route {raw!r} names unknown adapters {unknown}")
    test = raw.get("test", False)
    if not isinstance(test, bool):
        raise RouteConfigError(f"{where}: route {raw!r}: `test` must be true or false")
    types = None if "*" in raw["events"] else frozenset(raw["events"])
    partners = frozenset(raw["partners"]) if raw.get("partners") else None
    return types, tuple(raw["adapters"]), partners, test, _versions(raw, types, where)


def _versions(raw: dict, types: frozenset[str] | None, where: str) -> dict[str, VersionWish]:
    """A route's ``versions:``: ``{event type: [1, 2]}`` (both, for good) or
    ``{event type: {send: [1, 2], until: 2027-03-31}}`` (both through that day, then the newest)."""
    from gateway.events.versions import versions_of

    wishes = raw.get("versions") or {}
    if not isinstance(wishes, dict):
        raise RouteConfigError(f"{where}: route {raw!r}: `versions` maps event types to the versions sent")
    out: dict[str, VersionWish] = {}
    for event_type, wish in wishes.items():
        if types is not None and event_type not in types:
            raise RouteConfigError(f"{where}: route {raw!r}: `versions` names {event_type!r}, which the route "
                                   "does not carry")
        send, until = (wish.get("send"), wish.get("until")) if isinstance(wish, dict) else (wish, None)
        if isinstance(send, int) and not isinstance(send, bool):
            send = [send]
        if not isinstance(send, list) or not send or not all(isinstance(v, int) and not isinstance(v, bool)
                                                             for v in send):
            raise RouteConfigError(f"{where}: route {raw!r}: versions of {event_type!r} must be a list of numbers")
        unknown = [v for v in send if v not in versions_of(event_type)]
        if unknown:
            raise RouteConfigError(f"{where}: route {raw!r}: no schema {event_type}/{unknown[0]} is registered "
                                   f"(known: {sorted(versions_of(event_type)) or 'none'})")
        if until is not None and not isinstance(until, date):
            try:
                until = date.fromisoformat(str(until))
            except ValueError:
                raise RouteConfigError(f"{where}: route {raw!r}: `until` must be a date (YYYY-MM-DD), "
                                       f"got {until!r}") from None
        out[event_type] = (tuple(sorted(set(send))), until)
    return out
