"""Assemble complete pyx12 ``map_path`` directories from the map sources in ``spec/``.

Contract: ``build(dest)`` writes ``dest/004010/`` and ``dest/005010/``, each a complete
pyx12 map directory (``maps.xml``, both envelope maps, ``dataele.xml``, ``codes.xml``, our
850/855/856/810 maps for both versions, pyx12's 997/999 maps). The two differ only in the
data-element lengths (004010's or 005010's), so pick the directory by the data's version.
Output depends only on the sources and the installed pyx12, so re-running is idempotent.

Sources (all in ``spec/``): ``elements.txt`` (data-element dictionary), ``segments.txt``
(segment dictionary), ``codes.txt`` (external code lists), ``sets/<set>.txt`` (each
transaction set's table), ``registry.txt`` (which GS01/GS08 pairs use which map).

Run standalone: ``python maps/x12/build_map_dir.py DEST``.
"""

from __future__ import annotations

import copy
import hashlib
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE / "spec"
VERSIONS = ("004010", "005010")
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


@dataclass
class DataElement:
    num: str
    type: str
    min: int
    max: int
    name: str
    lengths: dict[str, tuple[int, int]] = field(default_factory=dict)  # version -> (min, max)


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
    out: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.strip():
            out.append(line)
    return out


def load_elements(path: Path = SPEC / "elements.txt") -> dict[str, DataElement]:
    elements: dict[str, DataElement] = {}
    for line in _lines(path):
        parts = line.split()
        num, typ, lo, hi = parts[0], parts[1], int(parts[2]), int(parts[3])
        rest = parts[4:]
        lengths = {}
        while rest and rest[0].startswith("@"):
            lengths[rest[0][1:]] = (int(rest[1]), int(rest[2]))
            rest = rest[3:]
        elements[num] = DataElement(num, typ, lo, hi, " ".join(rest), lengths)
    return elements


def _parse_refs(text: str) -> list[ElementRef]:
    refs = []
    for tok in text.split():
        body, _, codeset = tok.partition("=")
        refs.append(ElementRef(body[:-1], body[-1], codeset or None))
    return refs


def load_segments(
    path: Path = SPEC / "segments.txt",
) -> tuple[dict[str, dict[str, SegmentDef]], dict[str, SegmentDef]]:
    """Return ({version: {tag: SegmentDef}}, {composite id: SegmentDef})."""
    base: dict[str, SegmentDef] = {}
    overrides: dict[str, dict[str, SegmentDef]] = {v: {} for v in VERSIONS}
    composites: dict[str, SegmentDef] = {}
    for line in _lines(path):
        head, name, elems, syntax = (p.strip() for p in line.split("|"))
        seg = SegmentDef(head.split()[-1], name, _parse_refs(elems), syntax.split())
        if head.startswith("COMPOSITE"):
            composites[seg.tag] = seg
        elif head.startswith("@"):
            overrides[head.split()[0][1:]][seg.tag] = seg
        else:
            base[seg.tag] = seg
    return {v: {**base, **overrides[v]} for v in VERSIONS}, composites


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


def load_set(set_id: str) -> list[Node]:
    """Parse ``sets/<set_id>.txt`` into area nodes (HEADER, DETAIL, SUMMARY)."""
    areas: list[Node] = []
    stack: list[tuple[int, Node]] = []
    for line in _lines(SPEC / "sets" / f"{set_id}.txt"):
        indent = len(line) - len(line.lstrip())
        parts = line.split()
        if parts[0] in ("HEADER", "DETAIL", "SUMMARY"):
            areas.append(Node("area", parts[0]))
            stack = [(-1, areas[-1])]
            continue
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        if parts[0] == "LOOP":
            node = Node("loop", parts[1], repeat=parts[2])
            parent.children.append(node)
            stack.append((indent, node))
        else:
            pos, tag, req, max_use = parts
            parent.children.append(Node("segment", tag, int(pos), req, max_use))
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
    """Rows (map file, set id, GS01, GS08) for maps.xml."""
    rows = []
    for line in _lines(path):
        map_file, set_id, gs01, *gs08s = line.split()
        rows.extend((map_file, set_id, gs01, gs08) for gs08 in gs08s)
    return rows


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
        areas = load_set(set_id)
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
        lo, hi = de.lengths.get(version, (de.min, de.max))
        attrs = {
            "ele_num": num,
            "data_type": de.type,
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
    gs08_by_version = {v: sorted({r[3] for r in registry if r[3].startswith(v)}) for v in VERSIONS}
    for version in VERSIONS:
        control = f"x12.control.{ICVN[version]}.xml"
        root = ET.parse(bundled / control).getroot()
        patch_envelope(root, all_gs01, [g for v in VERSIONS for g in gs08_by_version[v]])
        _write(root, dest / control)

    for version in VERSIONS:
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
    for version in VERSIONS:
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
