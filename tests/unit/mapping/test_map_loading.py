"""A broken map fails when loaded, naming its file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.mapping import MapFileError, load_map, validate_all_maps
from gateway.mapping.loader import BASE_MAPS_DIR, load_maps

BASE_855 = BASE_MAPS_DIR / "x12-855-004010.yaml"


@pytest.fixture
def base_dir(tmp_path: Path) -> Path:
    d = tmp_path / "translate"
    d.mkdir()
    shutil.copy(BASE_855, d)
    return d


def _partner(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "partners" / "p1" / "maps"
    d.mkdir(parents=True)
    f = d / "x12-855-004010.yaml"
    f.write_text(text)
    return f


def test_all_shipped_maps_are_valid():
    maps = validate_all_maps()
    assert {m.id for m in maps} >= {"x12-855-004010", "demo/x12-855-004010"}


def test_unknown_function_names_file_line_and_field(tmp_path, base_dir):
    f = _partner(tmp_path, "inherits: x12-855-004010\npayload:\n  po_date:\n    from: BAK04\n    transform: eval\n")
    with pytest.raises(MapFileError) as err:
        load_map(f, base_dir)
    assert f"{f}:5: payload.po_date.transform: unknown function 'eval'" in str(err.value)


def test_bad_path_syntax_is_reported_with_its_line(tmp_path, base_dir):
    f = _partner(tmp_path, "inherits: x12-855-004010\npayload:\n  po_number: {from: 'BAK[01=]3'}\n")
    with pytest.raises(MapFileError, match=rf"{f}:3: payload.po_number.from: .*cannot read"):
        load_map(f, base_dir)


def test_unknown_table_points_at_the_table_key(tmp_path, base_dir):
    f = _partner(tmp_path, "inherits: x12-855-004010\npayload:\n  lines:\n    fields:\n      uom: {from: PO103, table: units}\n")
    with pytest.raises(MapFileError, match=rf"{f}:5: payload.lines.fields.uom.table: unknown table 'units'"):
        load_map(f, base_dir)


def test_field_not_in_the_event_schema_is_refused(tmp_path, base_dir):
    f = _partner(tmp_path, "inherits: x12-855-004010\npayload:\n  po_numbr: BAK03\n")
    with pytest.raises(MapFileError, match=rf"{f}:3: payload.po_numbr: 'po_numbr' is not a field"):
        load_map(f, base_dir)


def test_errors_in_the_base_point_at_the_base_file(tmp_path, base_dir):
    text = (base_dir / BASE_855.name).read_text().replace("event: purchase_order.acknowledged", "event: po.acked")
    (base_dir / BASE_855.name).write_text(text)
    with pytest.raises(MapFileError) as err:
        load_map(base_dir / BASE_855.name, base_dir)
    line = text.splitlines().index("event: po.acked") + 1
    assert f"{base_dir / BASE_855.name}:{line}: event: Must be one of" in str(err.value)


def test_unknown_time_zone_fails_at_load(tmp_path, base_dir):
    f = _partner(tmp_path, "inherits: x12-855-004010\ntimezone: Mars/Olympus\n")
    with pytest.raises(MapFileError, match=rf"{f}:2: timezone: unknown time zone 'Mars/Olympus'"):
        load_map(f, base_dir)


def test_missing_base_and_cycles(tmp_path, base_dir):
    f = _partner(tmp_path, "inherits: x12-999-004010\n")
    with pytest.raises(MapFileError, match=rf"{f}:1: inherits: no base map 'x12-999-004010'"):
        load_map(f, base_dir)
    (base_dir / "a.yaml").write_text("inherits: b\n")
    (base_dir / "b.yaml").write_text("inherits: a\n")
    with pytest.raises(MapFileError, match="cycle"):
        load_map(base_dir / "a.yaml", base_dir)


def test_invalid_yaml_names_the_line(tmp_path, base_dir):
    f = _partner(tmp_path, "inherits: x12-855-004010\npayload:\n  po_number: [BAK03\n")
    with pytest.raises(MapFileError, match=rf"{f}:\d+: not valid YAML"):
        load_map(f, base_dir)


def test_codes_stay_strings_and_null_deletes(tmp_path, base_dir):
    f = _partner(tmp_path, "inherits: x12-855-004010\ntables:\n  ack_type: {NO: rejected, '068': accepted}\npayload:\n  supplier_order_number: null\n")
    m = load_map(f, base_dir)
    assert m.tables["ack_type"]["NO"] == "rejected" and m.tables["ack_type"]["068"] == "accepted"
    assert m.tables["ack_type"]["AC"] == "accepted_with_changes"  # inherited entries kept
    assert "supplier_order_number" not in m.payload
    assert m.id == "p1/x12-855-004010" and m.partner


def test_validate_all_maps_lists_every_fault(tmp_path, base_dir):
    _partner(tmp_path, "inherits: x12-855-004010\npayload:\n  po_numbr: BAK03\n")
    (base_dir / "x12-850-004010.yaml").write_text("transaction_set: '850'\n")
    with pytest.raises(MapFileError) as err:
        validate_all_maps(base_dir=base_dir, partners_dir=tmp_path / "partners")
    assert "po_numbr" in str(err.value) and "x12-850-004010.yaml" in str(err.value)


def test_selection_by_version_family():
    maps = load_maps()
    assert maps.select("855", "004010").id == "x12-855-004010"
    assert maps.select("855", "004010VICS").id == "x12-855-004010"
    assert maps.select("855", "003040").id == "x12-855-004010"
    assert maps.select("856", "004060").id == "x12-856-004010"
    assert maps.select("810", "005010").id == "x12-810-005010"
    assert maps.select("850", "005010X999").id == "x12-850-005010"
    assert maps.select("997", "004010") is None


def test_005010_maps_inherit_the_004010_payload():
    maps = {m.id: m for m in validate_all_maps()}
    for set_id in ("850", "855", "856", "810"):
        v4, v5 = maps[f"x12-{set_id}-004010"], maps[f"x12-{set_id}-005010"]
        assert v5.payload == v4.payload and v5.version == "005010"
        assert v5.files[0].name == f"x12-{set_id}-004010.yaml"
