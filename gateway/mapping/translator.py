"""The message translator: an X12 interchange in, validated canonical events out.

``translate_x12`` is sans-IO apart from reading map files (cached by path and
modification time). Each transaction set that has a map yields one event; sets
without one (997, 999, ...) yield nothing. Every event is validated against its
marshmallow schema before it is returned, so what leaves here is the contract.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gateway.events.envelope import SourceContext, make_event, validate_event
from gateway.mapping.accounting import check_accounted, x12_source_lines
from gateway.mapping.compiled import TranslationMap
from gateway.mapping.evaluate import Evaluator, TranslationError
from gateway.mapping.functions import parse_x12_date, parse_x12_time, resolve_zone
from gateway.mapping.loader import BASE_MAPS_DIR, MapSet, load_maps, map_files
from gateway.mapping.paths import Scope
from gateway.mapping.tree import build_tree
from gateway.x12.model import FunctionalGroup, Interchange, Segment, TransactionSet

_CACHE: dict[tuple, MapSet] = {}


def cached_maps(partner_maps_dir: Path | None, base_dir: Path = BASE_MAPS_DIR) -> MapSet:
    """:func:`load_maps`, reloaded only when a map file changes (an edited map takes effect)."""
    dirs = [Path(base_dir)] + ([Path(partner_maps_dir)] if partner_maps_dir else [])
    key = tuple((str(p), p.stat().st_mtime_ns) for d in dirs for p in map_files(d))
    key = (str(partner_maps_dir), str(base_dir), *key)
    if key not in _CACHE:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = load_maps(partner_maps_dir, base_dir=base_dir)
    return _CACHE[key]


def translate_x12(
    interchange: Interchange,
    context: SourceContext,
    *,
    partner_maps_dir: Path | None = None,
    base_dir: Path = BASE_MAPS_DIR,
    maps: MapSet | None = None,
) -> list[dict]:
    """Translate every mapped transaction set of ``interchange`` into canonical events.

    ``partner_maps_dir`` is ``partners/<id>/maps`` when the partner has overrides,
    None for base maps only. Raises :class:`TranslationError` (which field, which
    transaction set, which segment) when a document lacks a required business field,
    and its :class:`~gateway.mapping.accounting.TranslationIncomplete` when the event
    would not carry every line of the set. ``maps``: the map set already looked up for
    ``partner_maps_dir`` (a caller translating many sets checks the map files once).
    """
    maps = maps or cached_maps(partner_maps_dir, base_dir)
    events = []
    for group in interchange.groups:
        for ts in group.transactions:
            spec = maps.select(ts.set_id, group.version)
            if spec is not None:
                events.append(translate_transaction(spec, interchange, group, ts, context))
    return events


def translate_transaction(
    spec: TranslationMap,
    interchange: Interchange,
    group: FunctionalGroup,
    ts: TransactionSet,
    context: SourceContext,
) -> dict:
    """One transaction set -> one validated event, using ``spec``."""
    where = (
        f"{ts.set_id} ST02={ts.control_number} (GS06={group.control_number}, "
        f"ISA13={interchange.control_number}, map {spec.id})"
    )
    root = build_tree(ts.segments, spec.loops, header=_envelope_segments(interchange, group))
    scope = Scope(root, root, 0, interchange.delimiters.component or ">")
    payload = Evaluator(spec.tables, spec.timezone, where).fields(spec.payload, scope)
    check_accounted(spec, where, payload, x12_source_lines(spec, root))
    event = make_event(
        event_type=spec.event,
        context=context,
        source={
            "format": "x12",
            "transaction_set": ts.set_id,
            "version": group.version,
            "interchange_control_number": interchange.control_number,
            "group_control_number": group.control_number,
            "transaction_control_number": ts.control_number,
        },
        payload=payload,
        occurred_at=_occurred_at(interchange, group, spec.timezone, context.received_at),
        # ISA09/ISA10 too: a partner's control numbers wrap around, and a reused ISA13 on
        # another day must not collide with the event of the first one.
        id_keys=(interchange.date + interchange.time, interchange.control_number, group.control_number,
                 ts.control_number),
    )
    errors = validate_event(event)
    if errors:
        raise TranslationError(f"{where}: the event does not match its schema: {errors}")
    return event


def _envelope_segments(interchange: Interchange, group: FunctionalGroup) -> list[Segment]:
    """ISA and GS as virtual root segments, so maps can say ``/GS04`` or ``ISA06``."""
    isa = Segment("ISA", [
        "", "", "", "", interchange.sender_qualifier, interchange.sender_id,
        interchange.receiver_qualifier, interchange.receiver_id, interchange.date,
        interchange.time, "", interchange.version, interchange.control_number,
        "1" if interchange.ack_requested else "0", interchange.usage, "",
    ])
    gs = Segment("GS", [
        group.functional_id, group.sender, group.receiver, group.date, group.time,
        group.control_number, group.agency, group.version,
    ])
    return [isa, gs]


def _occurred_at(interchange: Interchange, group: FunctionalGroup, zone: str, fallback: datetime) -> str:
    """When the sender created the document: GS04/GS05 (else ISA09/ISA10) in the map's zone."""
    tz = resolve_zone(None, zone)
    for day, clock in ((group.date, group.time), (interchange.date, interchange.time)):
        try:
            moment = datetime.combine(parse_x12_date(day), parse_x12_time(clock or "0000"))
        except ValueError:
            continue
        return moment.replace(tzinfo=tz or fallback.tzinfo).isoformat()
    return fallback.isoformat()


def translate_bytes(
    data: bytes,
    context: SourceContext,
    *,
    partner_maps_dir: Path | None = None,
    base_dir: Path = BASE_MAPS_DIR,
    reader=None,
) -> list[dict]:
    """Every event of an X12 file (all interchanges) or a cXML/UBL document.

    ``reader`` turns X12 bytes into interchanges (default: ``gateway.x12.reader``).
    For ``gateway translate FILE`` and the map tests.
    """
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        from gateway.mapping.xmltranslator import translate_xml

        return translate_xml(data, context, partner_maps_dir=partner_maps_dir, base_dir=base_dir)
    if reader is None:
        from gateway.x12.reader import read_x12

        def reader(raw: bytes):
            return read_x12(raw).interchanges

    return [event for ic in reader(data)
            for event in translate_x12(ic, context, partner_maps_dir=partner_maps_dir, base_dir=base_dir)]
