"""The X12 tables in maps/x12/spec as data: one table per release we accept, release
annotations, and the GS08/GS01 rules of releases.txt (issue #9)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from x12_spec import load_spec  # noqa: E402


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def _segments_in(nodes):
    for node in nodes:
        if node.kind == "segment":
            yield node.id
        yield from _segments_in(node.children)


def _loop(nodes, loop_id):
    return next(n for n in nodes if n.kind == "loop" and n.id == loop_id)


SET_IDS = ("850", "855", "856", "810")


def test_every_release_has_tables_that_hold_together(spec):
    """Each set's table in each release names only segments that release defines, and every
    segment names only elements and composites we define."""
    elements = spec.load_elements()
    segments, composites = spec.load_segments()
    assert set(segments) == set(spec.VERSIONS)
    for release in spec.VERSIONS:
        for set_id in SET_IDS + ("997",) + (("999",) if release == "005010" else ()):
            used = set(_segments_in(spec.load_set(set_id, release)))
            assert used <= set(segments[release]), (set_id, release, used - set(segments[release]))
        for seg in list(segments[release].values()) + list(composites.values()):
            for ref in seg.elements:
                assert ref.num in elements or ref.num in composites, (release, seg.tag, ref.num)


def test_005010_purchase_orders_carry_mtx_where_004010_carried_msg(spec):
    for set_id in ("850", "855"):
        old = _loop(spec.load_set(set_id, "004010")[0].children, "N9")
        new = _loop(spec.load_set(set_id, "005010")[0].children, "N9")
        assert [c.id for c in old.children] == ["N9", "DTM", "MSG"]
        assert [c.id for c in new.children] == ["N9", "DTM", "MTX", "PWK"]


def test_the_change_lands_in_the_release_that_made_it(spec):
    """MSG gave way to MTX in 004020 (bots-grammars 850004020); the header LDT became a loop."""
    header = spec.load_set("850", "004020")[0].children
    assert "MTX" in [c.id for c in _loop(header, "N9").children]
    assert "LDT" not in [c.id for c in header if c.kind == "segment"]
    assert _loop(header, "LDT").children[0].id == "LDT"
    assert "MSG" in [c.id for c in _loop(spec.load_set("850", "003040")[0].children, "N9").children]


def test_element_lengths_follow_the_release(spec):
    elements = spec.load_elements()
    assert elements["67"].in_release("004010") == ("AN", 2, 80)
    assert elements["67"].in_release("005010") == ("AN", 2, 80)
    assert elements["67"].in_release("003040") == ("AN", 2, 17)
    assert elements["373"].in_release("003060") == ("DT", 6, 6)
    assert elements["373"].in_release("004010") == ("DT", 8, 8)
    assert elements["127"].in_release("004030") == ("AN", 1, 50)  # derived: the wider neighbour


def test_segments_differ_by_release(spec):
    segments, _ = spec.load_segments()
    assert [r.num for r in segments["004010"]["MTX"].elements] == ["363", "1551", "1551", "934"]
    assert len(segments["005010"]["MTX"].elements) == 6
    assert [r.num for r in segments["003040"]["DTM"].elements][4] == "624"  # Century
    assert len(segments["004010"]["PO1"].elements) == 25


def test_release_annotations(spec, tmp_path):
    assert spec.releases_in("004020+") == ("004020", "004030", "004060", "005010")
    assert spec.releases_in("003040-003060,005010") == ("003040", "003050", "003060", "005010")
    for bad in ("004050", "005010-004010", "4010"):
        with pytest.raises(spec.SpecError):
            spec.releases_in(bad)

    elements = tmp_path / "elements.txt"
    elements.write_text("9999 AN 1 10 @003040-003050 ID 2 2 @005010 1 20 Test Element\n")
    de = spec.load_elements(elements)["9999"]
    assert de.name == "Test Element"
    assert de.in_release("003050") == ("ID", 2, 2)
    assert de.in_release("004010") == ("AN", 1, 10)
    assert de.in_release("005010") == ("AN", 1, 20)
    assert de.types == {"003040": "ID", "003050": "ID"}

    segments = tmp_path / "segments.txt"
    segments.write_text("ZZZ | Test | 9999M |\n@005010 ZZZ | -\n")
    by_release, _ = spec.load_segments(segments)
    assert "ZZZ" in by_release["004060"] and "ZZZ" not in by_release["005010"]


def test_a_bad_spec_line_names_its_file_and_line(spec, tmp_path):
    elements = tmp_path / "elements.txt"
    elements.write_text("19 AN 2 30 City Name\n67 AN 2 @004099 1 2 Identification Code\n")
    with pytest.raises(spec.SpecError, match="elements.txt:2"):
        spec.load_elements(elements)


def test_a_set_outside_the_releases_we_hold_is_refused(spec):
    with pytest.raises(LookupError):
        spec.load_set("850", "004050")
    with pytest.raises(LookupError):
        spec.load_set("999", "004010")  # the 999 came with 005010
    for set_id in ("860", "../releases", "85", ""):  # ST01 is partner data
        with pytest.raises(LookupError):
            spec.load_set(set_id, "004010")


def test_acknowledgment_tables(spec):
    ack_999 = spec.load_set("999", "005010")[0].children
    assert [n.id for n in ack_999] == ["AK1", "AK2", "AK9"]
    ak2 = _loop(ack_999, "AK2")
    assert [n.id for n in ak2.children] == ["AK2", "IK3", "IK5"]
    segments, composites = spec.load_segments()
    assert [r.num for r in segments["005010"]["AK1"].elements] == ["479", "28", "480"]
    assert "IK3" not in segments["004010"]
    assert [r.num for r in composites["C030"].elements] == ["722", "1528", "1686"]


@pytest.mark.parametrize(
    ("gs08", "release", "guide", "nearest"),
    [
        ("004010", "004010", None, False),
        ("004010VICS", "004010", "004010VICS", False),
        ("005010X231A1", "005010", "005010X231*", False),
        ("004010X357", "004010", "004010X357", False),
        ("004010ZZZZ", "004010", None, False),  # an unknown guide: its base release alone
        ("003060", "003060", None, False),
        ("004030VICS", "004030", None, False),
        ("004050", "004030", None, True),
        ("005030", "005010", None, True),
        (" 004060 ", "004060", None, False),
    ],
)
def test_gs08_resolves_to_a_release_we_hold(spec, gs08, release, guide, nearest):
    resolution = spec.load_releases().resolve(gs08)
    assert resolution.release == release
    assert (resolution.guide.pattern if resolution.guide else None) == guide
    assert resolution.nearest is nearest


@pytest.mark.parametrize("gs08", ["003010", "002040", "006020", "", "ABCDEF", "00401"])
def test_gs08_we_hold_nothing_for(spec, gs08):
    assert spec.load_releases().resolve(gs08) is None


def test_gs01_carries_its_sets_and_guides_may_assign_others(spec):
    releases = spec.load_releases()
    assert releases.sets_for("PO", "004010") == ("850",)
    assert releases.sets_for("FA", "005010X231A1") == ("997", "999")
    assert releases.sets_for("SC", "004010") == ()
    assert releases.sets_for("SC", "004010X357") == ("850",)  # aerospace guide
    assert releases.sets_for("SC", "004010X348") == ("810",)
    assert releases.sets_for("OW", "005010") == ()


def test_every_held_release_is_in_versions_and_back(spec):
    assert set(spec.load_releases().held) == set(spec.VERSIONS)


def test_guides_with_an_overlay_must_ship_it(spec, tmp_path):
    path = tmp_path / "releases.txt"
    path.write_text("HOLD 004010 x\nGUIDE 004010ABC = guides/abc.txt\n")
    with pytest.raises(spec.SpecError, match="overlay"):
        spec.load_releases(path)
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "abc.txt").write_text("# overlay\n")
    guide = spec.load_releases(path).resolve("004010ABC").guide
    assert guide.overlay == tmp_path / "guides" / "abc.txt"


CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "real"


def _interchange_segments(data: bytes):
    """(tag, element count) of each segment, by the ISA's own delimiters (no validation)."""
    data = data.lstrip(b"\xef\xbb\xbf").lstrip()
    element, terminator = chr(data[3]), chr(data[105])
    for raw in data.decode("latin-1").split(terminator):
        fields = raw.strip("\r\n ").split(element)
        if fields[0]:
            yield fields[0], len(fields) - 1, fields


def test_real_documents_use_only_what_their_release_defines(spec):
    """Every segment of every real 850/855/856/810/997/999 in the corpus is in its release's
    table (by GS08), with no more elements than the release's segment has."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus {CORPUS} is absent")
    segments, _ = spec.load_segments()
    releases = spec.load_releases()
    checked, problems = 0, []
    for path in sorted(CORPUS.glob("x12-*/*")):
        data = path.read_bytes()
        if not data.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"ISA"):
            continue
        release = allowed = None
        for tag, count, fields in _interchange_segments(data):
            if tag == "GS":
                resolution = releases.resolve(fields[8]) if len(fields) > 8 else None
                release = resolution.release if resolution else None
            elif tag == "ST":
                try:
                    allowed = (
                        set(_segments_in(spec.load_set(fields[1], release))) if release else None
                    )
                except LookupError:
                    allowed = None
                checked += allowed is not None
            elif tag == "SE":
                allowed = None
            elif allowed is None:
                continue
            elif tag not in allowed:
                problems.append(f"{path.name}: {tag} is not in the {release} table")
            elif count > len(segments[release][tag].elements):
                problems.append(f"{path.name}: {tag} has {count} elements in {release}")
    assert checked > 20
    assert problems == []
