"""Translation maps and the message translator (X12, cXML, UBL -> canonical events).

Public API::

    SourceContext(partner_id, document_id, received_at, correlation_id)
    translate_x12(interchange, context, *, partner_maps_dir=None) -> list[dict]
    translate_xml(document_bytes_or_element, context, *, partner_maps_dir=None) -> list[dict]
    translate_bytes(data, context, *, partner_maps_dir=None) -> list[dict]  # X12 or XML
    TranslationError, MapFileError
    TranslationIncomplete  # a TranslationError: the event would leave out source lines
    load_maps(partner_maps_dir=None) -> MapSet; load_map(path) -> TranslationMap
    validate_all_maps() -> list[TranslationMap]      # start-up and CI
    run_map_tests(partner_id=None) -> list[MapTestResult]  # ``gateway maps test``
"""

from gateway.events.envelope import SourceContext
from gateway.mapping.accounting import TranslationIncomplete
from gateway.mapping.evaluate import TranslationError
from gateway.mapping.loader import MapSet, load_map, load_maps, validate_all_maps
from gateway.mapping.maptests import MapTestResult, run_map_tests
from gateway.mapping.translator import translate_bytes, translate_x12
from gateway.mapping.xmltranslator import translate_xml
from gateway.mapping.yamlsource import MapFileError

__all__ = [
    "MapFileError",
    "MapSet",
    "MapTestResult",
    "SourceContext",
    "TranslationError",
    "TranslationIncomplete",
    "load_map",
    "load_maps",
    "run_map_tests",
    "translate_bytes",
    "translate_x12",
    "translate_xml",
    "validate_all_maps",
]
