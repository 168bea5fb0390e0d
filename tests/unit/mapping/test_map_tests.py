"""Every map test file beside every map, run as one parametrized test (issue 4 §5)."""

from __future__ import annotations

import pytest

from gateway.mapping.maptests import find_test_files, load_cases, run_case, run_map_tests

CASES = [case for tf in find_test_files() for case in load_cases(tf)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_map_case(case, x12_reader):
    result = run_case(case, reader=x12_reader)
    assert result.passed, f"{case.id}: translation differs from {case.expected.name}\n{result.diff}"


def test_every_map_has_a_test_file():
    from gateway.mapping.loader import BASE_MAPS_DIR, map_files

    missing = [p.name for p in map_files(BASE_MAPS_DIR) if not p.with_suffix(".test.yaml").exists()]
    assert not missing, f"maps without a test file: {missing}"


def test_run_map_tests_reports_a_readable_diff(tmp_path, x12_reader):
    case = CASES[0]
    wrong = tmp_path / "wrong.expected.json"
    wrong.write_text('[{"payload": {"po_number": "999"}}]')
    (tmp_path / "x.test.yaml").write_text(
        f"cases:\n  - name: wrong\n    input: {case.input}\n    expected: {wrong}\n"
    )
    results = run_map_tests(reader=x12_reader, base_dir=tmp_path, partners_dir=tmp_path / "none")
    assert [r.passed for r in results] == [False]
    assert '-      "po_number": "999"' in results[0].diff
    assert "FAILED" in str(results[0])


def test_update_writes_the_actual_output(tmp_path, x12_reader):
    case = CASES[0]
    target = tmp_path / "new.expected.json"
    (tmp_path / "x.test.yaml").write_text(
        f"cases:\n  - name: new\n    input: {case.input}\n    expected: {target}\n"
    )
    kwargs = {"reader": x12_reader, "base_dir": tmp_path, "partners_dir": tmp_path / "none"}
    [result] = run_map_tests(update=True, **kwargs)
    assert result.passed and target.read_text().strip() == "[]"  # no maps in tmp_path: no events
    assert [r.passed for r in run_map_tests(**kwargs)] == [True]


def test_run_map_tests_for_one_partner(x12_reader):
    results = run_map_tests("demo", reader=x12_reader)
    assert results and all(r.passed for r in results), "\n".join(map(str, results))
