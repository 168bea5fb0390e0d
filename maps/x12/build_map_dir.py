"""The X12 tables in ``spec/`` (parsing, top of this file) and the pyx12 map builder.

Parsing contract (the validation engine in ``gateway/x12/`` compiles these): every release
in ``VERSIONS`` has its tables. ``load_elements()`` -> ``{num: DataElement}`` (``lengths`` /
``types`` per release where they differ from 004010, ``in_release(rel)``);
``load_segments()`` -> ``({release: {tag: SegmentDef}}, composites)``; ``load_set(set_id,
release)`` -> that release's areas; ``load_codes()``; ``load_releases()`` -> which GS08 maps
to which release and guide, and which sets each GS01 may carry; ``load_registry()`` -> the
pyx12 ``maps.xml`` rows. A malformed line raises ``SpecError`` naming ``file:line``.

Builder contract: ``build(dest)`` writes ``dest/004010/`` and ``dest/005010/`` (pyx12 has
envelope maps for those two only), each a complete pyx12 map directory (``maps.xml``, both
envelope maps, ``dataele.xml``, ``codes.xml``, our 850/855/856/810 maps for both versions -
each from its own release's table - and pyx12's 997/999 maps). The two directories differ
in the data-element lengths (004010's or 005010's), so pick the directory by the data's
version. Output depends only on the sources and the installed pyx12: re-running is idempotent.

Sources (all in ``spec/``, described in ``../README.md``): ``elements.txt``,
``segments.txt``, ``codes.txt``, ``sets/<set>.txt``, ``releases.txt``, ``registry.txt``,
and ``rulings.txt`` (where we differ from the reference dictionary, and why).

Run standalone: ``python maps/x12/build_map_dir.py DEST``.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE / "spec"
#: Every X12 release we hold tables for, oldest first. The order is what a release range
#: ("004020+", "003040-003060") in the spec files means.
VERSIONS = (
    "003040",
    "003050",
    "003060",
    "004010",
    "004020",
    "004030",
    "004060",
    "005010",
)
#: The release that the unannotated lines of the spec files describe.
BASE_RELEASE = "004010"
#: The releases pyx12 can serve as reference for: it ships envelope maps for 00401/00501 only.
PYX12_VERSIONS = ("004010", "005010")
SET_IDS = ("850", "855", "856", "810")
ICVN = {"004010": "00401", "005010": "00501"}
SHORT = {"004010": "4010", "005010": "5010"}
#: Supply-chain ISA05/ISA07 qualifiers missing from pyx12's HIPAA envelope maps (pitfall 22).
EXTRA_ISA_QUALIFIERS = (
    "02",
    "03",
    "04",
    "07",
    "08",
    "09",
    "10",
    "11",
    "12",
    "13",
    "15",
    "16",
    "17",
    "18",
    "19",
    "AM",
    "NR",
    "SA",
    "SN",
)
#: 856 HL nesting: level code -> child level codes (the HIPAA-style hierarchy of HL loops).
HL_LEVELS = {"S": ("O", "T", "P", "I"), "O": ("T", "P", "I"), "T": ("P", "I"), "P": ("I",), "I": ()}
#: Acknowledgment maps copied from pyx12 (inbound 997/999 for documents we sent).
ACK_MAPS = ("997.4010.xml", "997.5010.xml", "999.5010.xml", "999.5010X231.A1.xml")
HL_NAMES = {"S": "SHIPMENT", "O": "ORDER", "T": "TARE", "P": "PACK", "I": "ITEM"}


def pyx12_map_dir() -> Path:
    """The installed pyx12's bundled map directory."""
    import pyx12

    return Path(pyx12.__file__).resolve().parent / "map"


# --------------------------------------------------------------------------- parsing
#
# The spec files describe BASE_RELEASE; a release annotation says where another release
# differs. An annotation names releases as "005010", "004020+" (this release and every later
# one we hold), "003040-003060" (a range, both ends included) or a comma list of these.
# Lines are read top to bottom and a later line wins for the releases it names.


class SpecError(ValueError):
    """A spec file says something the loader cannot read; the message names file and line."""


def releases_in(spec: str) -> tuple[str, ...]:
    """The releases (in VERSIONS order) that a release annotation names."""
    chosen: set[str] = set()
    for part in spec.split(","):
        if part.endswith("+"):
            lo, hi = part[:-1], VERSIONS[-1]
        elif "-" in part:
            lo, _, hi = part.partition("-")
        else:
            lo = hi = part
        if lo not in VERSIONS or hi not in VERSIONS or VERSIONS.index(lo) > VERSIONS.index(hi):
            raise SpecError(f"release annotation {spec!r}: {part!r} is not a range of {VERSIONS}")
        chosen.update(VERSIONS[VERSIONS.index(lo) : VERSIONS.index(hi) + 1])
    return tuple(v for v in VERSIONS if v in chosen)


@dataclass
class DataElement:
    """One data element. ``type``/``min``/``max`` are BASE_RELEASE's; ``types`` and
    ``lengths`` hold only the releases where they differ from it."""

    num: str
    type: str
    min: int
    max: int
    name: str
    lengths: dict[str, tuple[int, int]] = field(default_factory=dict)  # release -> (min, max)
    types: dict[str, str] = field(default_factory=dict)  # release -> type

    def in_release(self, release: str) -> tuple[str, int, int]:
        """(type, min, max) of this element in ``release``."""
        lo, hi = self.lengths.get(release, (self.min, self.max))
        return self.types.get(release, self.type), lo, hi


@dataclass
class ElementRef:
    num: str  # data element number, or Cnnn for a composite
    req: str  # M, O, X
    codeset: str | None = None


@dataclass
class SegmentDef:
    tag: str
    name: str
    elements: list[ElementRef]
    syntax: list[str]


@dataclass
class Node:
    """One row of a set table: a segment (tag) or a loop (children)."""

    kind: str  # "segment" | "loop" | "area"
    id: str
    pos: int = 0
    req: str = "O"
    repeat: str = "1"
    children: list[Node] = field(default_factory=list)


def _lines(path: Path) -> list[str]:
    return [line for _, line in _numbered_lines(path)]


def _numbered_lines(path: Path) -> list[tuple[str, str]]:
    """(``file:line`` for error messages, text without comments) of every non-blank line."""
    out: list[tuple[str, str]] = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if line.strip():
            out.append((f"{path.name}:{number}", line))
    return out


def load_elements(path: Path = SPEC / "elements.txt") -> dict[str, DataElement]:
    """``{num: DataElement}``. Line: ``num TYPE min max [@REL [TYPE] min max]... name``."""
    elements: dict[str, DataElement] = {}
    for where, line in _numbered_lines(path):
        parts = line.split()
        try:
            de = DataElement(parts[0], parts[1], int(parts[2]), int(parts[3]), "")
            rest = parts[4:]
            while rest and rest[0].startswith("@"):
                releases = releases_in(rest[0][1:])
                typ = de.type
                if not rest[1].isdigit():
                    typ, rest = rest[1], rest[1:]
                lo, hi, rest = int(rest[1]), int(rest[2]), rest[3:]
                for release in releases:
                    _set_or_clear(de.types, release, typ, de.type)
                    _set_or_clear(de.lengths, release, (lo, hi), (de.min, de.max))
        except (IndexError, ValueError) as exc:
            raise SpecError(f"{where}: {exc}: {line.strip()!r}") from exc
        de.name = " ".join(rest)
        elements[de.num] = de
    return elements


def _set_or_clear(table: dict, release: str, value, base) -> None:
    """Record ``value`` for ``release`` only where it differs from the base release's."""
    if value == base:
        table.pop(release, None)
    else:
        table[release] = value


def _parse_refs(text: str) -> list[ElementRef]:
    refs = []
    for tok in text.split():
        body, _, codeset = tok.partition("=")
        refs.append(ElementRef(body[:-1], body[-1], codeset or None))
    return refs


def load_segments(
    path: Path = SPEC / "segments.txt",
) -> tuple[dict[str, dict[str, SegmentDef]], dict[str, SegmentDef]]:
    """Return ({release: {tag: SegmentDef}} for every release in VERSIONS, {composite: def}).

    ``TAG | name | elements | syntax`` defines a segment for every release; ``@REL TAG | ...``
    replaces it in the releases named; ``@REL TAG | -`` says it does not exist there. Lines
    apply top to bottom, so a later line wins. ``COMPOSITE Cnnn | ...`` lines define
    composites, which are the same in every release."""
    by_release: dict[str, dict[str, SegmentDef]] = {v: {} for v in VERSIONS}
    composites: dict[str, SegmentDef] = {}
    for where, line in _numbered_lines(path):
        fields = [p.strip() for p in line.split("|")]
        head = fields[0].split()
        releases = releases_in(head[0][1:]) if head[0].startswith("@") else VERSIONS
        tag = head[-1]
        if fields[1:] == ["-"]:
            for release in releases:
                by_release[release].pop(tag, None)
            continue
        if len(fields) != 4:
            raise SpecError(f"{where}: want 'TAG | name | elements | syntax': {line.strip()!r}")
        seg = SegmentDef(tag, fields[1], _parse_refs(fields[2]), fields[3].split())
        if "COMPOSITE" in head:
            if head[0] != "COMPOSITE":
                raise SpecError(f"{where}: composites are the same in every release")
            composites[tag] = seg
            continue
        for release in releases:
            by_release[release][tag] = seg
    return by_release, composites


def load_codes(path: Path = SPEC / "codes.txt") -> dict[str, tuple[str, list[str]]]:
    codes: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in _lines(path):
        if line[0].isspace():
            codes[current][1].extend(line.split())
            continue
        head, _, values = line.partition(":")
        current, ele = head.split()
        codes[current] = (ele, values.split())
    return codes


def load_set(set_id: str, release: str = BASE_RELEASE) -> list[Node]:
    """Parse ``sets/<set_id>.txt`` into ``release``'s area nodes (HEADER, DETAIL, SUMMARY).

    A row (segment or LOOP) ending in ``@REL`` exists only in the releases named; a loop's
    annotation covers its children. ``RELEASES <spec>`` on the first line limits the whole
    set to those releases. LookupError for a release or set we hold no table for."""
    if release not in VERSIONS:
        raise LookupError(f"X12 release {release} is not one we hold ({', '.join(VERSIONS)})")
    # set_id often comes straight from ST01: only a three-digit id may name a file.
    path = SPEC / "sets" / f"{set_id}.txt"
    if not (len(set_id) == 3 and set_id.isdigit() and path.is_file()):
        raise LookupError(f"no X12 table for transaction set {set_id!r}")
    areas: list[Node] = []
    stack: list[tuple[int, Node]] = []
    skip_below: int | None = None  # indent of a loop absent from this release
    for where, line in _numbered_lines(path):
        indent = len(line) - len(line.lstrip())
        parts = line.split()
        if skip_below is not None and indent > skip_below:
            continue
        skip_below = None
        if parts[-1].startswith("@"):
            present = release in releases_in(parts.pop()[1:])
        else:
            present = True
        if parts[0] == "RELEASES":
            if release not in releases_in(parts[1]):
                raise LookupError(f"X12 {set_id} is not defined in release {release}")
            continue
        if parts[0] in ("HEADER", "DETAIL", "SUMMARY"):
            areas.append(Node("area", parts[0]))
            stack = [(-1, areas[-1])]
            continue
        if not present:
            skip_below = indent if parts[0] == "LOOP" else None
            continue
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        try:
            if parts[0] == "LOOP":
                node = Node("loop", parts[1], repeat=parts[2])
                parent.children.append(node)
                stack.append((indent, node))
            else:
                pos, tag, req, max_use = parts
                parent.children.append(Node("segment", tag, int(pos), req, max_use))
        except ValueError as exc:
            raise SpecError(f"{where}: {exc}: {line.strip()!r}") from exc
    for area in areas:
        _fix_loops(area)
    return areas


def _fix_loops(node: Node) -> None:
    """A loop takes its position and requirement from its first segment."""
    for child in node.children:
        if child.kind == "loop":
            _fix_loops(child)
            first = child.children[0]
            child.pos, child.req = first.pos, first.req


def load_registry(path: Path = SPEC / "registry.txt") -> list[tuple[str, str, str, str]]:
    """Rows (map file, set id, GS01, GS08) for pyx12's maps.xml."""
    rows = []
    for line in _lines(path):
        map_file, set_id, gs01, *gs08s = line.split()
        rows.extend((map_file, set_id, gs01, gs08) for gs08 in gs08s)
    return rows


# --------------------------------------------------------------------------- releases


@dataclass
class Guide:
    """An implementation guide named by GS08 (``pattern`` is a glob on the whole GS08)."""

    pattern: str
    base: str  # the release it narrows, or "=" for "GS08's first six characters"
    overlay: Path | None  # guide overlay file under spec/guides/, None when we ship none
    gs01: dict[str, tuple[str, ...]]  # GS01 codes this guide assigns beyond the standard's
    note: str = ""


@dataclass
class Resolution:
    """What a GS08 is validated against."""

    gs08: str
    release: str  # a release in VERSIONS
    guide: Guide | None
    nearest: bool  # True when GS08's own release is not one we hold


@dataclass
class Releases:
    """``spec/releases.txt``: the releases we hold, the fallback for releases we do not, the
    transaction sets each GS01 may carry and the implementation guides we know."""

    held: dict[str, str]  # release -> where its facts come from
    nearest: dict[str, str]  # release we do not hold -> the held release we validate it by
    gs01: dict[str, tuple[str, ...]]  # functional identifier code -> transaction sets
    guides: list[Guide]

    def resolve(self, gs08: str) -> Resolution | None:
        """The release (and guide) for a GS08 value, or None when we hold nothing for it."""
        gs08 = gs08.strip()
        guide = next((g for g in self.guides if fnmatch.fnmatchcase(gs08, g.pattern)), None)
        release = gs08[:6] if guide is None or guide.base == "=" else guide.base
        if not (len(release) == 6 and release.isdigit()):
            return None
        if release in self.held:
            return Resolution(gs08, release, guide, nearest=False)
        if release in self.nearest:
            return Resolution(gs08, self.nearest[release], guide, nearest=True)
        return None

    def sets_for(self, gs01: str, gs08: str = "") -> tuple[str, ...]:
        """The transaction sets a group with this GS01 may carry (under GS08's guide)."""
        resolution = self.resolve(gs08) if gs08 else None
        extra = resolution.guide.gs01.get(gs01, ()) if resolution and resolution.guide else ()
        return tuple(dict.fromkeys(self.gs01.get(gs01, ()) + extra))


def load_releases(path: Path = SPEC / "releases.txt") -> Releases:
    """Parse ``releases.txt`` (rows HOLD, NEAREST, GS01 and GUIDE; see the file's header)."""
    releases = Releases({}, {}, {}, [])
    for where, line in _numbered_lines(path):
        kind, *args = line.split()
        try:
            if kind == "HOLD":
                releases.held[args[0]] = " ".join(args[1:])
            elif kind == "NEAREST":
                releases.nearest[args[0]] = args[1]
            elif kind == "GS01":
                releases.gs01[args[0]] = tuple(args[1:])
            elif kind == "GUIDE":
                releases.guides.append(_guide(args, path.parent))
            else:
                raise SpecError(f"unknown row {kind!r}")
        except (IndexError, ValueError) as exc:
            raise SpecError(f"{where}: {exc}: {line.strip()!r}") from exc
    unknown = {r for r in releases.held if r not in VERSIONS} | {
        r for r in releases.nearest.values() if r not in releases.held
    }
    unknown |= {g.base for g in releases.guides if g.base != "=" and g.base not in releases.held}
    if unknown:
        raise SpecError(f"{path.name}: releases not held or not in VERSIONS: {sorted(unknown)}")
    return releases


def _guide(args: list[str], spec_dir: Path) -> Guide:
    """``GUIDE pattern base overlay|- [GS01=SET,SET ...] [-- note]``."""
    words, _, note = " ".join(args).partition(" -- ")
    pattern, base, overlay, *assignments = words.split()
    overlay_path = None if overlay == "-" else spec_dir / overlay
    if overlay_path is not None and not overlay_path.is_file():
        raise SpecError(f"guide {pattern}: overlay {overlay} is missing")
    gs01 = {}
    for item in assignments:
        code, _, sets = item.partition("=")
        gs01[code] = tuple(sets.split(","))
    return Guide(pattern, base, overlay_path, gs01, note.strip())


# --------------------------------------------------------------------------- rendering


def _usage(req: str) -> str:
    return "R" if req == "M" else "S"


def _repeat(value: str) -> str:
    return value  # ">1" is written as-is; ElementTree escapes ">"


class MapRenderer:
    """Render one transaction set map (v2 attribute style) for one X12 version."""

    def __init__(self, version: str, elements, segments, composites, codes) -> None:
        self.version = version
        self.elements = elements
        self.segments = segments[version]
        self.composites = composites
        self.codes = codes

    def element_name(self, num: str) -> str:
        if num in self.elements:
            return self.elements[num].name
        return num

    def segment(
        self, tag: str, pos: int, req: str, max_use: str, inline: dict | None = None
    ) -> ET.Element:
        seg_def = self.segments[tag]
        seg = ET.Element(
            "segment",
            {
                "xid": tag,
                "usage": _usage(req),
                "pos": f"{pos:03d}",
                "max_use": _repeat(max_use),
                "name": seg_def.name,
            },
        )
        for note in seg_def.syntax:
            ET.SubElement(seg, "syntax").text = note
        for seq, ref in enumerate(seg_def.elements, start=1):
            xid = f"{tag}{seq:02d}"
            codes = (inline or {}).get(seq)
            seg.append(self.element(xid, ref, seq, codes))
        return seg

    def element(self, xid: str, ref: ElementRef, seq: int, inline_codes=None) -> ET.Element:
        if ref.num.startswith("C"):
            comp_def = self.composites[ref.num]
            comp = ET.Element(
                "composite",
                {
                    "xid": xid,
                    "data_ele": ref.num,
                    "usage": _usage(ref.req),
                    "seq": f"{seq:02d}",
                    "name": comp_def.name,
                },
            )
            for sub_seq, sub in enumerate(comp_def.elements, start=1):
                comp.append(self.element(f"{xid}-{sub_seq:02d}", sub, sub_seq))
            return comp
        ele = ET.Element(
            "element",
            {
                "xid": xid,
                "data_ele": ref.num,
                "usage": _usage(ref.req),
                "seq": f"{seq:02d}",
                "name": self.element_name(ref.num),
            },
        )
        if inline_codes:
            vc = ET.SubElement(ele, "valid_codes")
            for code in inline_codes:
                ET.SubElement(vc, "code").text = code
        elif ref.codeset:
            ET.SubElement(ele, "valid_codes", {"external": ref.codeset})
        return ele

    def nodes(self, parent: ET.Element, nodes: list[Node], path: str = "") -> None:
        for node in nodes:
            if node.kind == "segment":
                parent.append(self.segment(node.id, node.pos, node.req, node.repeat))
            elif node.id == "HL":
                self.hl_loops(parent, node)
            else:
                loop = self.loop_element(
                    node.id + "_LOOP" if not node.id.endswith("_LOOP") else node.id, node
                )
                self.nodes(loop, node.children)
                parent.append(loop)

    def loop_element(self, xid: str, node: Node, name: str | None = None) -> ET.Element:
        first = node.children[0]
        return ET.Element(
            "loop",
            {
                "xid": xid,
                "usage": _usage(node.req),
                "pos": f"{node.pos:03d}",
                "repeat": _repeat(node.repeat),
                "name": name or self.segments[first.id].name,
            },
        )

    def hl_loops(self, parent: ET.Element, node: Node) -> None:
        """856: one loop per HL03 level, nested S > O > T > P > I, plus a generic HL loop."""
        parent.append(self.hl_level(node, "S", ""))
        generic = self.loop_element("HL_LOOP", node, "Hierarchical Level (other HL03 codes)")
        generic.set("usage", "S")
        self.nodes(generic, node.children)
        parent.append(generic)

    def hl_level(self, node: Node, level: str, prefix: str) -> ET.Element:
        xid = f"HL_{HL_NAMES[level]}"
        loop = self.loop_element(xid, node, f"Hierarchical Level - {HL_NAMES[level].title()}")
        hl, *rest = node.children
        loop.append(self.segment("HL", hl.pos, "M", "1", inline={3: [level]}))
        self.nodes(loop, rest)
        last_pos = max(c.pos for c in node.children)
        for child in HL_LEVELS[level]:
            sub = self.hl_level(node, child, prefix + level)
            sub.set("pos", f"{last_pos + 10:03d}")
            sub.set("usage", "S")
            loop.append(sub)
        return loop

    def render(
        self, set_id: str, envelope: ET.Element, gs01: list[str], gs08: list[str]
    ) -> ET.Element:
        areas = load_set(set_id, self.version)
        root = ET.Element("transaction", {"xid": set_id})
        ET.SubElement(root, "name").text = f"{set_id} {self.version} (X12 standard)"
        isa_loop = copy.deepcopy(envelope)
        _set_codes(isa_loop, "GS01", gs01)
        _set_codes(isa_loop, "GS08", gs08)
        gs_loop = _find_loop(isa_loop, "GS_LOOP")
        st_loop = ET.Element(
            "loop",
            {
                "xid": "ST_LOOP",
                "usage": "R",
                "pos": "020",
                "repeat": ">1",
                "type": "explicit",
                "name": "Transaction Set Header",
            },
        )
        st = self.segment("ST", 10, "M", "1", inline={1: [set_id]})
        st_loop.append(st)
        for index, area in enumerate(areas):
            required = any(c.req == "M" for c in area.children)
            wrapper = ET.SubElement(
                st_loop,
                "loop",
                {
                    "xid": area.id,
                    "usage": "R" if required else "S",
                    "pos": f"{20 + 10 * index:03d}",
                    "repeat": "1",
                    "type": "wrapper",
                    "name": area.id.title(),
                },
            )
            self.nodes(wrapper, area.children)
        st_loop.append(self.segment("SE", 20 + 10 * len(areas), "M", "1"))
        # ST_LOOP goes between GS and GE
        children = list(gs_loop)
        ge_index = next(
            i for i, c in enumerate(children) if c.tag == "segment" and c.get("xid") == "GE"
        )
        gs_loop.insert(ge_index, st_loop)
        root.append(isa_loop)
        return root


def _find_loop(root: ET.Element, xid: str) -> ET.Element:
    for loop in root.iter("loop"):
        if loop.get("xid") == xid:
            return loop
    raise KeyError(xid)


def _find_element(root: ET.Element, xid: str) -> ET.Element | None:
    for ele in root.iter("element"):
        if ele.get("xid") == xid:
            return ele
    return None


def _set_codes(root: ET.Element, xid: str, codes: list[str], keep: bool = False) -> None:
    ele = _find_element(root, xid)
    if ele is None:
        return
    vc = ele.find("valid_codes")
    if vc is None:
        vc = ET.SubElement(ele, "valid_codes")
    existing = [c.text for c in vc.findall("code")] if keep else []
    for c in list(vc):
        vc.remove(c)
    for code in dict.fromkeys(existing + list(codes)):
        ET.SubElement(vc, "code").text = code


def patch_envelope(root: ET.Element, gs01: list[str], gs08: list[str]) -> ET.Element:
    """Add supply-chain ISA05/07 qualifiers and our GS01/GS08 values to an envelope map."""
    for xid in ("ISA05", "ISA07"):
        _set_codes(root, xid, list(EXTRA_ISA_QUALIFIERS), keep=True)
    _set_codes(root, "GS01", gs01, keep=True)
    _set_codes(root, "GS08", gs08, keep=True)
    _set_codes(root, "GS07", ["T", "X"], keep=True)  # T (TDCC) is valid for DE 455
    _set_codes(root, "ISA01", ["00", "01", "02", "03", "04", "05", "06"], keep=True)
    return root


def _add_5010_997_elements(root: ET.Element) -> None:
    """pyx12 has no 005010 997 (X230): derive it from the 004010 one, adding the 005010
    elements ST03 (1705), AK103 (480) and AK203 (1705)."""
    for seg_xid, seq, data_ele, name in (
        ("ST", 3, "1705", "Implementation Convention Reference"),
        ("AK1", 3, "480", "Version / Release / Industry Identifier Code"),
        ("AK2", 3, "1705", "Implementation Convention Reference"),
    ):
        seg = next(s for s in root.iter("segment") if s.get("xid") == seg_xid)
        ele = ET.SubElement(seg, "element", {"xid": f"{seg_xid}{seq:02d}"})
        for tag, text in (
            ("data_ele", data_ele),
            ("name", name),
            ("usage", "S"),
            ("seq", f"{seq:02d}"),
        ):
            ET.SubElement(ele, tag).text = text


def envelope_isa_loop(control_file: Path) -> ET.Element:
    """The ISA_LOOP of a pyx12 control map, without any ST_LOOP."""
    root = ET.parse(control_file).getroot()
    return _find_loop(root, "ISA_LOOP")


# --------------------------------------------------------------------------- dictionary files


def merged_dataele(version: str, elements: dict[str, DataElement], bundled: Path) -> ET.ElementTree:
    tree = ET.parse(bundled)
    root = tree.getroot()
    by_num = {e.get("ele_num"): e for e in root.findall("data_ele")}
    for num in sorted(elements, key=lambda n: (len(n), n)):
        de = elements[num]
        typ, lo, hi = de.in_release(version)
        attrs = {
            "ele_num": num,
            "data_type": typ,
            "min_len": str(lo),
            "max_len": str(hi),
            "name": de.name,
        }
        if num in by_num:
            by_num[num].attrib.update(attrs)
        else:
            ET.SubElement(root, "data_ele", attrs)
    return tree


def merged_codes(codes: dict[str, tuple[str, list[str]]], bundled: Path) -> ET.ElementTree:
    tree = ET.parse(bundled)
    root = tree.getroot()
    for cid, (ele, values) in codes.items():
        cs = ET.SubElement(root, "codeset")
        ET.SubElement(cs, "id").text = cid
        ET.SubElement(cs, "name").text = f"X12 data element {ele}"
        ET.SubElement(cs, "data_ele").text = ele
        ver = ET.SubElement(cs, "version")
        for v in values:
            ET.SubElement(ver, "code").text = v
    return tree


# --------------------------------------------------------------------------- build


def source_files() -> list[Path]:
    return sorted(p for p in SPEC.rglob("*.txt")) + [Path(__file__).resolve()]


def source_hash() -> str:
    """Hash of every source file plus the pyx12 version: the cache key of a build."""
    import pyx12

    h = hashlib.sha256(str(getattr(pyx12, "__version__", "")).encode())
    for p in source_files():
        h.update(p.relative_to(HERE).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _write(tree_or_root, path: Path) -> None:
    tree = (
        tree_or_root if isinstance(tree_or_root, ET.ElementTree) else ET.ElementTree(tree_or_root)
    )
    ET.indent(tree, "  ")
    tree.write(path, encoding="utf-8", xml_declaration=True)


def build_version_dir(dest: Path, data_version: str) -> None:
    """Write one complete map directory whose dataele.xml carries ``data_version`` lengths."""
    bundled = pyx12_map_dir()
    elements = load_elements()
    segments, composites = load_segments()
    codes = load_codes()
    registry = load_registry()
    dest.mkdir(parents=True, exist_ok=True)

    all_gs01 = sorted({r[2] for r in registry})
    gs08_by_version = {
        v: sorted({r[3] for r in registry if r[3].startswith(v)}) for v in PYX12_VERSIONS
    }
    for version in PYX12_VERSIONS:
        control = f"x12.control.{ICVN[version]}.xml"
        root = ET.parse(bundled / control).getroot()
        patch_envelope(root, all_gs01, [g for v in PYX12_VERSIONS for g in gs08_by_version[v]])
        _write(root, dest / control)

    for version in PYX12_VERSIONS:
        renderer = MapRenderer(version, elements, segments, composites, codes)
        envelope = patch_envelope(
            copy.deepcopy(envelope_isa_loop(bundled / f"x12.control.{ICVN[version]}.xml")),
            [],
            [],
        )
        for set_id in SET_IDS:
            rows = [
                r for r in registry if r[1] == set_id and r[0].endswith(f".{SHORT[version]}.xml")
            ]
            gs01 = sorted({r[2] for r in rows})
            gs08 = sorted({r[3] for r in rows})
            root = renderer.render(set_id, envelope, gs01, gs08)
            _write(root, dest / f"{set_id}.{SHORT[version]}.xml")

    for ack in ACK_MAPS:
        source = "997.4010.xml" if ack == "997.5010.xml" else ack
        root = ET.parse(bundled / source).getroot()
        rows = [r for r in registry if r[0] == ack]
        _set_codes(root, "GS01", sorted({r[2] for r in rows}))
        _set_codes(root, "GS08", sorted({r[3] for r in rows}))
        patch_envelope(root, [], [])
        if ack == "997.5010.xml":
            _add_5010_997_elements(root)
        # The bundled lists only know HIPAA groups/sets; the acks we get answer PO/850 etc.
        for xid in ("AK101", "AK201"):
            ele = _find_element(root, xid)
            vc = ele.find("valid_codes") if ele is not None else None
            if vc is not None:
                ele.remove(vc)
        _write(root, dest / ack)

    _write(merged_dataele(data_version, elements, bundled / "dataele.xml"), dest / "dataele.xml")
    _write(merged_codes(codes, bundled / "codes.xml"), dest / "codes.xml")
    _write(maps_index(registry), dest / "maps.xml")


def maps_index(registry: list[tuple[str, str, str, str]]) -> ET.Element:
    root = ET.Element("maps")
    for icvn in ("00401", "00501"):
        ver = ET.SubElement(root, "version", {"icvn": icvn})
        for map_file, set_id, gs01, gs08 in registry:
            ET.SubElement(ver, "map", {"vriic": gs08, "fic": gs01, "abbr": set_id}).text = map_file
    return root


def build(dest: Path | str) -> Path:
    """Build ``dest/004010`` and ``dest/005010`` (replacing what is there). Returns ``dest``."""
    dest = Path(dest)
    for version in PYX12_VERSIONS:
        target = dest / version
        tmp = dest / f".{version}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        build_version_dir(tmp, version)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    return dest


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) != 2:
        print("usage: build_map_dir.py DEST", file=sys.stderr)
        sys.exit(2)
    print(build(sys.argv[1]))
