"""Our X12 dictionary (maps/x12/spec) cross-checked against an independent one.

The reference is the facts extracted from stupidedi (``../shared/reference/x12-dictionary/``,
see its PROVENANCE.md). For every release both hold (003040, 003050, 004010, 005010), each
data element we define (type, min, max) and each segment (element list and requirements)
either agrees with the reference or has a row in ``maps/x12/spec/rulings.txt`` that records
both sides, the ruling and its source. A ruling that no longer matches a disagreement fails
too, so the file cannot go stale. Requirement X (ours) and R (stupidedi's "relational") are
the same thing and compare equal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from x12_spec import load_spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "maps" / "x12" / "spec"
REFERENCE = ROOT.parent / "shared" / "reference" / "x12-dictionary"
REFERENCE_RELEASES = ("003040", "003050", "004010", "005010")


def _builder():
    return load_spec()


def _reference(release: str) -> dict:
    path = REFERENCE / f"stupidedi-{release}.json"
    if not path.is_file():
        pytest.skip(f"reference dictionary {path} is absent")
    return json.loads(path.read_text())


def element_text(typ: str, lo: int, hi: int) -> str:
    return f"{typ} {lo}/{hi}"


def segment_text(refs: list[tuple[str, str]]) -> str:
    """``98M 93X 66X ...``: element (or composite) and requirement, X for relational."""
    return " ".join(num + ("X" if req in ("X", "R") else req) for num, req in refs) or "-"


def disagreements(release: str, elements=None, segments=None) -> dict[tuple, tuple[str, str]]:
    """{(kind, id, release): (ours, reference)} for everything both define that differs."""
    builder = _builder()
    ref = _reference(release)
    elements = elements if elements is not None else builder.load_elements()
    segments = segments if segments is not None else builder.load_segments()[0]
    found: dict[tuple, tuple[str, str]] = {}
    for num, de in elements.items():
        theirs = ref["elements"].get(num)
        if theirs is None:
            continue
        ours_text = element_text(*de.in_release(release))
        ref_text = element_text(theirs["type"], theirs["min"], theirs["max"])
        if ours_text != ref_text:
            found[("E", num, release)] = (ours_text, ref_text)
    for tag, seg in segments[release].items():
        theirs = ref["segments"].get(tag)
        if theirs is None:
            continue
        ours_text = segment_text([(r.num, r.req) for r in seg.elements])
        ref_text = segment_text([(n.removeprefix("E"), req) for n, req in theirs["elements"]])
        if ours_text != ref_text:
            found[("S", tag, release)] = (ours_text, ref_text)
    return found


def load_rulings(path: Path = SPEC / "rulings.txt") -> dict[tuple, tuple[str, str, str, str]]:
    """``KIND ID RELEASES | ours | reference | ruling | source`` rows, one key per release."""
    builder = _builder()
    rulings: dict[tuple, tuple[str, str, str, str]] = {}
    for where, line in builder._numbered_lines(path):
        fields = [f.strip() for f in line.split("|")]
        assert len(fields) == 5, f"{where}: want 5 '|'-separated fields: {line!r}"
        kind, ident, releases = fields[0].split()
        assert kind in ("E", "S"), f"{where}: kind {kind!r} is not E or S"
        assert fields[3] and fields[4], f"{where}: a ruling needs its reason and its source"
        for release in builder.releases_in(releases):
            key = (kind, ident, release)
            assert key not in rulings, f"{where}: {key} is ruled twice"
            rulings[key] = tuple(fields[1:])
    return rulings


def unresolved(found: dict, rulings: dict, releases=REFERENCE_RELEASES) -> list[str]:
    """Human-readable problems: disagreements without a matching ruling, and stale rulings."""
    problems = []
    for key, (ours, theirs) in sorted(found.items()):
        ruling = rulings.get(key)
        if ruling is None:
            problems.append(f"{key}: ours {ours!r} vs reference {theirs!r}: no ruling")
        elif ruling[:2] != (ours, theirs):
            problems.append(f"{key}: ruling recorded {ruling[:2]!r}, now {(ours, theirs)!r}")
    for key in sorted(set(rulings) - set(found)):
        if key[2] in releases:
            problems.append(f"{key}: stale ruling, ours and the reference no longer differ")
    return problems


@pytest.mark.parametrize("release", REFERENCE_RELEASES)
def test_every_disagreement_with_the_reference_has_a_ruling(release):
    rulings = {k: v for k, v in load_rulings().items() if k[2] == release}
    assert unresolved(disagreements(release), rulings, (release,)) == []


def test_rulings_name_only_releases_the_reference_holds():
    assert {key[2] for key in load_rulings()} <= set(REFERENCE_RELEASES)


def test_a_changed_length_without_a_ruling_is_caught():
    """The check can fail: widen element 67 in 004010 and it no longer matches its ruling
    (or the reference)."""
    elements = _builder().load_elements()
    elements["67"].max = 81
    problems = unresolved(
        disagreements("004010", elements=elements),
        {k: v for k, v in load_rulings().items() if k[2] == "004010"},
        ("004010",),
    )
    assert any("('E', '67', '004010')" in p for p in problems)


def test_a_stale_ruling_is_caught():
    rulings = load_rulings()
    rulings[("E", "19", "004010")] = ("AN 2/30", "AN 2/30", "made up", "test")
    problems = unresolved(
        disagreements("004010"), {k: v for k, v in rulings.items() if k[2] == "004010"}, ("004010",)
    )
    assert any("stale ruling" in p and "'19'" in p for p in problems)
