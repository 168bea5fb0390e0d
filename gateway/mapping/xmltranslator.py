"""The message translator for XML: a cXML or UBL document in, canonical events out.

The document kind decides the map: cXML by the element inside ``Request``
(``OrderRequest``, ``ConfirmationRequest``, ``ShipNoticeRequest``,
``InvoiceDetailRequest``), UBL by its root element (``Order``, ``OrderResponse``,
``DespatchAdvice``, ``Invoice``). Kinds without a map yield no events.

Bytes are parsed here with entities, network access and DTD loading off. Schema
validation (DTD/XSD) is the XML stage's job and happens before translation.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from gateway.events.envelope import SourceContext, make_event, validate_event
from gateway.mapping.accounting import check_accounted, xml_source_lines
from gateway.mapping.compiled import TranslationMap
from gateway.mapping.evaluate import Evaluator, TranslationError
from gateway.mapping.functions import fn_iso_datetime
from gateway.mapping.loader import BASE_MAPS_DIR
from gateway.mapping.paths import Scope
from gateway.mapping.translator import cached_maps

UBL_NAMESPACE_PREFIX = "urn:oasis:names:specification:ubl:schema:xsd:"
MAX_BYTES = 50 * 1024 * 1024


def safe_parse(data: bytes) -> etree._Element:
    """Parse without entity expansion, network, DTD loading or huge-tree allowances."""
    if len(data) > MAX_BYTES:
        raise TranslationError(f"XML document larger than {MAX_BYTES} bytes")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise TranslationError(f"not well-formed XML: {exc}") from exc
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        # Business documents never need their own entities; declaring them is how
        # XXE and entity-expansion attacks start, so refuse rather than half-parse.
        raise TranslationError("XML that declares entities in its DOCTYPE is refused (XXE / expansion risk)")
    return root


def document_kind(root: etree._Element) -> tuple[str, str, etree._Element]:
    """``(format, document name, element the map's relative paths start at)``."""
    qname = etree.QName(root)
    if qname.localname == "cXML" and not qname.namespace:
        for holder in ("Request", "Message", "Response"):
            found = root.find(holder)
            if found is not None:
                child = next((c for c in found if isinstance(c.tag, str)), None)
                if child is not None:
                    return "cxml", etree.QName(child).localname, root
        return "cxml", "", root
    if (qname.namespace or "").startswith(UBL_NAMESPACE_PREFIX):
        return "ubl", qname.localname, root
    raise TranslationError(f"not a cXML or UBL document (root element {root.tag!r})")


def translate_xml(
    document: bytes | etree._Element,
    context: SourceContext,
    *,
    partner_maps_dir: Path | None = None,
    base_dir: Path = BASE_MAPS_DIR,
) -> list[dict]:
    """Translate one cXML or UBL document into its canonical event (or none when unmapped)."""
    root = safe_parse(document) if isinstance(document, bytes) else document
    fmt, name, start = document_kind(root)
    spec = cached_maps(partner_maps_dir, base_dir).select_document(fmt, name)
    if spec is None:
        return []
    return [translate_document(spec, start, fmt, name, context)]


def _moment(value: str | None, zone: str) -> str | None:
    """``occurred_at`` must be a date-time: a bare date means its midnight in the map's zone."""
    if not value or "T" in value:
        return value
    return fn_iso_datetime(f"{value}T00:00:00", timezone=zone)


def translate_document(spec: TranslationMap, root: etree._Element, fmt: str, name: str,
                       context: SourceContext) -> dict:
    """One XML document -> one validated event, using ``spec``."""
    scope = Scope(root, root, 0, "")
    envelope = Evaluator(spec.tables, spec.timezone, f"{fmt} {name} (map {spec.id})",
                         spec.dialect).fields(spec.envelope, scope)
    key = envelope.get("document_key") or ""
    where = f"{fmt} {name} {key!r} (map {spec.id})"
    payload = Evaluator(spec.tables, spec.timezone, where, spec.dialect).fields(spec.payload, scope)
    check_accounted(spec, where, payload, xml_source_lines(spec, root))
    event = make_event(
        event_type=spec.event,
        context=context,
        source={
            "format": fmt,
            "transaction_set": name,
            "version": envelope.get("version"),
            "interchange_control_number": key or None,
            "group_control_number": None,
            "transaction_control_number": None,
        },
        payload=payload,
        occurred_at=_moment(envelope.get("occurred_at"), spec.timezone) or context.received_at.isoformat(),
        id_keys=(fmt, name, key or context.document_id),
    )
    errors = validate_event(event)
    if errors:
        raise TranslationError(f"{where}: the event does not match its schema: {errors}")
    return event
