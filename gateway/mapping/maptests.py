"""Maps tested as data: ``<map>.test.yaml`` beside a map names inputs and expected JSON.

A test file::

    cases:
      - name: ACME accepts PO 4500012345 with a date change
        input: ../../sample_docs/855/855_004010_acme_accepted_with_changes.edi
        expected: x12-855-004010.acme.expected.json   # a JSON list of events
        context: {partner_id: demo}                     # optional SourceContext fields

Paths are relative to the test file. A test file under ``partners/<id>/maps/``
translates with that partner's maps; one under ``maps/translate/`` with base maps
only. ``run_map_tests`` backs ``gateway maps test [PARTNER]`` and the pytest
that runs every case; a mismatch carries a unified diff of the JSON.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gateway.events.envelope import SourceContext
from gateway.mapping.evaluate import TranslationError
from gateway.mapping.loader import BASE_MAPS_DIR, PARTNERS_DIR
from gateway.mapping.translator import translate_bytes
from gateway.mapping.yamlsource import MapFileError, load_yaml

DEFAULT_CONTEXT = {
    "partner_id": "test-partner",
    "document_id": "map-test",
    "received_at": "2026-01-01T00:00:00+00:00",
    "correlation_id": "map-test",
}


@dataclass
class MapTestCase:
    test_file: Path
    name: str
    input: Path
    expected: Path
    context: SourceContext
    partner_maps_dir: Path | None

    @property
    def id(self) -> str:
        return f"{self.test_file.name}::{self.name}"


@dataclass
class MapTestResult:
    case: MapTestCase
    passed: bool
    diff: str = ""  # unified diff (expected -> actual) or the error text

    def __str__(self) -> str:
        status = "ok" if self.passed else "FAILED"
        return f"{status}  {self.case.id}" + ("" if self.passed else "\n" + self.diff)


def find_test_files(partner_id: str | None = None, *, base_dir: Path = BASE_MAPS_DIR,
               partners_dir: Path = PARTNERS_DIR) -> list[Path]:
    """Base test files and every partner's (``partner_id=None``), or one partner's."""
    if partner_id is not None:
        return sorted((Path(partners_dir) / partner_id / "maps").glob("*.test.yaml"))
    files = sorted(Path(base_dir).glob("*.test.yaml"))
    if Path(partners_dir).is_dir():
        files += sorted(Path(partners_dir).glob("*/maps/*.test.yaml"))
    return files


def load_cases(test_file: Path, *, base_dir: Path = BASE_MAPS_DIR) -> list[MapTestCase]:
    data, lines = load_yaml(test_file)
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise MapFileError(f"{test_file}:1: a map test file needs a 'cases' list")
    in_partner = Path(base_dir).resolve() != test_file.parent.resolve()
    out = []
    for i, case in enumerate(data["cases"]):
        if not isinstance(case, dict) or not {"name", "input", "expected"} <= case.keys():
            raise MapFileError(f"{test_file}:{lines.get(('cases', i), '?')}: a case needs name, input, expected")
        ctx = {**DEFAULT_CONTEXT, **(data.get("context") or {}), **(case.get("context") or {})}
        out.append(MapTestCase(
            test_file=test_file,
            name=case["name"],
            input=(test_file.parent / case["input"]).resolve(),
            expected=(test_file.parent / case["expected"]).resolve(),
            context=SourceContext(ctx["partner_id"], ctx["document_id"],
                                  datetime.fromisoformat(ctx["received_at"]), ctx["correlation_id"]),
            partner_maps_dir=test_file.parent if in_partner else None,
        ))
    return out


def translate_file(path: Path, context: SourceContext, partner_maps_dir: Path | None = None, *,
                   reader: Callable | None = None, base_dir: Path = BASE_MAPS_DIR) -> list[dict]:
    """Every event of the X12 file (all interchanges) or XML document at ``path``."""
    return translate_bytes(Path(path).read_bytes(), context, partner_maps_dir=partner_maps_dir,
                           base_dir=base_dir, reader=reader)


def run_case(case: MapTestCase, *, reader: Callable | None = None,
             base_dir: Path = BASE_MAPS_DIR, update: bool = False) -> MapTestResult:
    """Translate the case's input and compare; ``update`` rewrites a differing expected file
    (for a reviewer to read in the diff before committing), reporting what changed."""
    try:
        actual = translate_file(case.input, case.context, case.partner_maps_dir,
                                reader=reader, base_dir=base_dir)
    except (TranslationError, MapFileError, OSError) as exc:
        return MapTestResult(case, False, f"{type(exc).__name__}: {exc}")
    try:
        expected = json.loads(case.expected.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        if update:
            case.expected.write_text(dump(actual) + "\n", encoding="utf-8")
            return MapTestResult(case, True, f"wrote {case.expected}")
        return MapTestResult(case, False, f"cannot read {case.expected}: {exc}\nactual:\n{dump(actual)}")
    if expected == actual:
        return MapTestResult(case, True)
    diff = "\n".join(difflib.unified_diff(dump(expected).splitlines(), dump(actual).splitlines(),
                                         f"expected {case.expected.name}", "actual", lineterm=""))
    if update:
        case.expected.write_text(dump(actual) + "\n", encoding="utf-8")
        return MapTestResult(case, True, f"updated {case.expected}:\n{diff}")
    return MapTestResult(case, False, diff)


def dump(events: object) -> str:
    return json.dumps(events, indent=2, sort_keys=True, ensure_ascii=False)


def run_map_tests(partner_id: str | None = None, *, reader: Callable | None = None,
                  base_dir: Path = BASE_MAPS_DIR, partners_dir: Path = PARTNERS_DIR,
                  update: bool = False) -> list[MapTestResult]:
    """Run the map tests (all, or one partner's); never raises for a failing case.

    ``update=True`` (``gateway maps test --update``) writes the actual output over
    missing or differing expected files and reports the diff instead of failing.
    """
    results = []
    for test_file in find_test_files(partner_id, base_dir=base_dir, partners_dir=partners_dir):
        try:
            cases = load_cases(test_file, base_dir=base_dir)
        except MapFileError as exc:
            results.append(MapTestResult(MapTestCase(test_file, "(file)", test_file, test_file,
                                                     SourceContext("", "", datetime.now(), ""), None),
                                         False, str(exc)))
            continue
        results.extend(run_case(c, reader=reader, base_dir=base_dir, update=update) for c in cases)
    return results
