"""Structure validation of one X12 interchange with pyx12 against the maps we own: the
reference our engine (:mod:`gateway.x12.validator`) is tested against, selected in the
gateway by ``GATEWAY_X12_VALIDATOR=pyx12``.

Contract
--------
``validate_structure(interchange_bytes) -> StructureReport`` runs
``pyx12.x12n_document.x12n_document`` over ONE interchange that the caller has already
normalised (ASCII, no BOM, ISA12 ``00401`` or ``00501``) with ``map_path=`` our map
directory, and returns a plain, JSON-ready report: ``valid`` plus a list of error dicts,
each exactly::

    {"level": "segment"|"element"|"transaction"|"group"|"interchange",
     "group_control_number", "transaction_control_number", "segment_id",
     "segment_position",  # 1-based within the set (ST = 1), as AK3 reports
     "loop_id", "element_position", "component_position",
     "code",     # the X12 AK3/AK4/IK3/IK4/AK5/AK9/TA1-style code string pyx12 gives
     "message", "value"}

pyx12's exceptions (``EngineError`` for a group without a map, ``ValueError``,
``UnicodeDecodeError``) become one ``interchange``-level error with code ``"engine"``;
any other exception (pyx12 crashing, e.g. ``IndexError`` on an SE inside a set) becomes
code ``"crash"``: never a traceback. The ``pyx12`` loggers are kept quiet. Nothing is
printed.

The map directory is built from ``maps/x12/`` (``build_map_dir(dest)``) lazily into
``$GATEWAY_HOME/cache/pyx12-maps/<hash of the sources>/`` (``./var`` without
``GATEWAY_HOME``), once per source version. CLI:
``python -m gateway.x12.structure build [DEST]`` and
``python -m gateway.x12.structure validate FILE``.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import re
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from gateway import resources

MAPS_SOURCE = resources.x12_maps_dir(check=False)  # GATEWAY_X12_MAPS, package data or checkout
ENGINE_ERROR = "engine"
CRASH = "crash"  # pyx12 itself failed: our (the reference's) problem, not the document's

_lock = threading.Lock()
_run_lock = threading.Lock()  # the pyx12 log capture is process-wide: one run at a time
_builder: ModuleType | None = None


@dataclass
class StructureReport:
    """Result of one structure validation: ``valid`` and JSON-ready ``errors``."""

    valid: bool
    errors: list[dict[str, Any]] = field(default_factory=list)
    map_version: str = ""  # "004010" or "005010": whose element lengths were applied

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- map directory


def _load_builder() -> ModuleType:
    global _builder
    if _builder is None:
        path = MAPS_SOURCE / "build_map_dir.py"
        if not path.is_file():  # our installation is broken, not the document being checked
            raise resources.MissingDataError("X12 tables", MAPS_SOURCE, "GATEWAY_X12_MAPS")
        spec = importlib.util.spec_from_file_location("gateway_x12_build_map_dir", path)
        if spec is None or spec.loader is None:  # pragma: no cover
            raise FileNotFoundError(path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _builder = module
    return _builder


def build_map_dir(dest: str | Path) -> Path:
    """Build the complete pyx12 map directories into ``dest/004010`` and ``dest/005010``."""
    return _load_builder().build(Path(dest))


def _cache_root() -> Path:
    home = os.environ.get("GATEWAY_HOME", "var")
    return Path(home) / "cache" / "pyx12-maps"


def map_dir(data_version: str = "004010") -> Path:
    """The built map directory for ``data_version`` (004010/005010), building it if absent."""
    builder = _load_builder()
    key = builder.source_hash()
    root = _cache_root()
    target = root / key
    with _lock:
        if not (target / "005010" / "maps.xml").exists():
            try:
                root.mkdir(parents=True, exist_ok=True)
                tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
            except OSError:
                target = Path(tempfile.gettempdir()) / "gateway-pyx12-maps" / key
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
            if not (target / "005010" / "maps.xml").exists():
                builder.build(tmp)
                try:
                    tmp.rename(target)
                except OSError:  # another process won the race
                    _rmtree(tmp)
            else:
                _rmtree(tmp)
    return target / ("005010" if data_version.startswith("00501") else "004010")


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- validation


def _cache_pyx12_maps() -> None:
    """Load each pyx12 map file once per process instead of on every call.

    ``x12n_document`` parses the control map and the transaction map XML (plus the
    data-element and code lists) on every run: ~0.33 s per document with our full maps,
    more than the validation itself. Since pyx12 4.0 a loaded map holds no per-run
    state (segment and loop counts live in the walker's NodeCounter), so one parsed map
    can serve every run; the cache is keyed by file and map directory.
    """
    import pyx12.map_if

    if getattr(pyx12.map_if.load_map_file, "gateway_cached", False):
        return
    original = pyx12.map_if.load_map_file
    cache: dict[tuple[str, str | None], Any] = {}

    def load_map_file(map_file: str, param: Any, map_path: str | None = None) -> Any:
        key = (map_file, map_path)
        if key not in cache:
            cache[key] = original(map_file, param, map_path)
        return cache[key]

    load_map_file.gateway_cached = True  # type: ignore[attr-defined]
    pyx12.map_if.load_map_file = load_map_file


def _quiet_pyx12() -> None:
    _cache_pyx12_maps()
    logger = logging.getLogger("pyx12")
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def data_version(text: str) -> str:
    """005010 when the first GS08 (else ISA12) says 005010, otherwise 004010."""
    if len(text) < 106 or not text.startswith("ISA"):
        return "004010"
    ele, term = text[3], text[105]
    gs_at = text.find(term + "GS" + ele)
    if gs_at < 0:
        gs_at = text.find("GS" + ele, 106)
    if gs_at >= 0:
        end = text.find(term, gs_at + 1)
        fields = text[gs_at : end if end >= 0 else None].strip().split(ele)
        if len(fields) > 8:
            return "005010" if fields[8].strip().startswith("00501") else "004010"
    return "005010" if text[84:89] == "00501" else "004010"


class _LoopTracker:
    """pyx12 callback: remembers the map loop of each segment (by GS06, ST02, seg count)
    and the file lines of ISA/GS segments (their element errors are only logged).

    The loop id is a detail of an error report; it is kept for the first MAX_LOOPS
    segments only, so memory stays bounded on a 200 MB file (an error further on is
    reported without its loop id)."""

    MAX_LOOPS = 50_000

    def __init__(self) -> None:
        self.gs = ""
        self.st = ""
        self.loops: dict[tuple[str, str, int], str] = {}
        self.envelope_lines: dict[int, tuple[str, str]] = {}  # line -> (ISA|GS, GS06)

    def __call__(self, seg: Any, src: Any, node: Any, valid: bool) -> None:
        seg_id = seg.get_seg_id()
        if seg_id == "ISA":
            self.envelope_lines[src.get_cur_line()] = ("ISA", "")
        if seg_id == "GS":
            self.gs = seg.get_value("GS06") or ""
            self.envelope_lines[src.get_cur_line()] = ("GS", self.gs)
        elif seg_id == "ST":
            self.st = seg.get_value("ST02") or ""
        parent = node.parent if node is not None else None
        if parent is not None and hasattr(parent, "id") and len(self.loops) < self.MAX_LOOPS:
            self.loops[(self.gs, self.st, src.get_seg_count())] = parent.id


class _EnvelopeLog(logging.Handler):
    """Collects pyx12's logged element errors ("Line:N ELE:code - message")."""

    PATTERN = re.compile(r"^Line:(\d+) ELE:(\w+) - (.*)$", re.S)

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[tuple[int, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        m = self.PATTERN.match(record.getMessage())
        if m:
            self.records.append((int(m.group(1)), m.group(2), m.group(3)))

    def envelope_errors(self, lines: dict[int, tuple[str, str]]) -> list[dict[str, Any]]:
        """ISA/GS element errors: pyx12 logs them but keeps them out of its error tree."""
        out = []
        for line, code, message in self.records:
            if line not in lines:
                continue
            seg_id, gcn = lines[line]
            ref = re.search(r"\((ISA|GS)(\d\d)\)", message)
            value = re.search(r"\(([^()]*)\)$", message.strip())
            out.append(
                _error(
                    "interchange" if seg_id == "ISA" else "group",
                    code,
                    message.strip(),
                    group_control_number=gcn or None,
                    segment_id=seg_id,
                    element_position=int(ref.group(2)) if ref else None,
                    value=value.group(1) if value else None,
                )
            )
        return out


def _error(level: str, code: Any, message: str, **kw: Any) -> dict[str, Any]:
    err = {
        "level": level,
        "group_control_number": None,
        "transaction_control_number": None,
        "segment_id": None,
        "segment_position": None,
        "loop_id": None,
        "element_position": None,
        "component_position": None,
        "code": None if code is None else str(code),
        "message": message,
        "value": None,
    }
    err.update(kw)
    return err


def _flatten(doc: dict[str, Any], loops: dict[tuple[str, str, int], str]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for isa in doc.get("interchanges", []):
        for e in isa.get("errors", []):
            errors.append(_error("interchange", e["err_cde"], e["err_str"]))
        for gs in isa.get("groups", []):
            gcn = gs.get("gs_control_num")
            gcn = None if gcn is None else str(gcn)
            for e in gs.get("errors", []):
                errors.append(_error("group", e["err_cde"], e["err_str"], group_control_number=gcn))
            for st in gs.get("transactions", []):
                tcn = st.get("trn_set_control_num")
                tcn = None if tcn is None else str(tcn)
                ids = {"group_control_number": gcn, "transaction_control_number": tcn}
                for e in st.get("errors", []):
                    errors.append(_error("transaction", e["err_cde"], e["err_str"], **ids))
                for seg in st.get("segments", []):
                    pos = seg.get("seg_count")
                    seg_ids = dict(ids, segment_id=seg.get("seg_id"), segment_position=pos)
                    codes = {e["err_cde"] for e in seg.get("errors", [])}
                    if "1" not in codes:
                        seg_ids["loop_id"] = loops.get((gcn or "", tcn or "", pos))
                    for e in seg.get("errors", []):
                        errors.append(
                            _error(
                                "segment",
                                e["err_cde"],
                                e["err_str"],
                                value=e.get("err_val"),
                                **seg_ids,
                            )
                        )
                    for ele in seg.get("elements", []):
                        for e in ele.get("errors", []):
                            errors.append(
                                _error(
                                    "element",
                                    e["err_cde"],
                                    e["err_str"],
                                    value=e.get("err_val"),
                                    element_position=ele.get("ele_pos"),
                                    component_position=ele.get("subele_pos"),
                                    **seg_ids,
                                )
                            )
    return errors


def validate_structure(interchange_bytes: bytes | io.TextIOBase, version: str | None = None) -> StructureReport:
    """Validate one normalised interchange against our maps; never raises for bad data.

    ``interchange_bytes`` may also be a text stream (already normalised, ASCII), for
    interchanges too large to hold in memory; then ``version`` (004010 / 005010) must
    be given, since the stream is read only once, by pyx12.
    """
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    _quiet_pyx12()
    if isinstance(interchange_bytes, bytes | bytearray):
        try:
            text = interchange_bytes.decode("ascii")
        except UnicodeDecodeError as exc:
            return StructureReport(False, [_error("interchange", ENGINE_ERROR, f"not ASCII: {exc}")])
        version = data_version(text)
        source = io.StringIO(text, newline="")
    else:
        source, version = interchange_bytes, version or "004010"
    path = map_dir(version)
    fd_json = io.StringIO()
    tracker = _LoopTracker()
    param = pyx12.params.params()
    log = _EnvelopeLog()
    ele_logger = logging.getLogger("pyx12.error_handler")
    ele_logger.setLevel(logging.ERROR)
    _run_lock.acquire()
    ele_logger.addHandler(log)
    try:
        ok = pyx12.x12n_document.x12n_document(
            param,
            source,
            fd_997=None,
            fd_html=None,
            fd_json=fd_json,
            map_path=str(path),
            callback=tracker,
        )
    except (
        pyx12.errors.EngineError,
        pyx12.errors.X12Error,
        ValueError,
        UnicodeDecodeError,
        KeyError,
    ) as exc:
        return StructureReport(
            False, [_error("interchange", ENGINE_ERROR, f"{type(exc).__name__}: {exc}")], version
        )
    except Exception as exc:  # pyx12 crashes on some real documents: report, never raise
        return StructureReport(
            False, [_error("interchange", CRASH, f"pyx12 failed: {type(exc).__name__}: {exc}")], version
        )
    finally:
        ele_logger.removeHandler(log)
        _run_lock.release()
    raw = fd_json.getvalue()
    errors = log.envelope_errors(tracker.envelope_lines)
    errors += _flatten(json.loads(raw), tracker.loops) if raw else []
    if not ok and not errors:
        errors.append(
            _error("interchange", ENGINE_ERROR, "pyx12 rejected the interchange without detail")
        )
    return StructureReport(bool(ok) and not errors, errors, version)


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``build [DEST]`` or ``validate FILE``; exit 0 ok, 1 invalid, 2 usage."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["build"] and len(args) <= 2:
        if len(args) == 2:
            print(build_map_dir(args[1]))
        else:
            print(map_dir("004010").parent)
        return 0
    if args[:1] == ["validate"] and len(args) == 2:
        report = validate_structure(Path(args[1]).read_bytes())
        print(json.dumps(report.to_dict(), indent=2))
        return 0 if report.valid else 1
    print("usage: python -m gateway.x12.structure build [DEST] | validate FILE", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
