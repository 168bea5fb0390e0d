"""Generate X12 test documents from a built pyx12 map: every segment, every element filled.

Contract: ``full_document(map_dir, map_file, gs08)`` walks the map's ST_LOOP in order and
emits one instance of every segment of every loop, each with EVERY element (and every
composite component) populated with a valid value for its type, length and code list
(pitfall 6: an undefined data element or code set only fails when data is present). The
856's HL loops are emitted as a numbered S > O > T > P > I chain plus one generic HL.
``minimal_document`` emits only the required segments/elements. Both return a complete
interchange (ISA..IEA) as ``str`` with ``~``/``*``/``>`` delimiters.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

SAMPLE = {"DT8": "20240115", "DT6": "240115", "TM": "1230"}


class Generator:
    def __init__(self, map_dir: Path, map_file: str, full: bool = True) -> None:
        self.map_dir = Path(map_dir)
        self.root = ET.parse(self.map_dir / map_file).getroot()
        self.full = full
        self.dataele = {
            e.get("ele_num"): e.attrib
            for e in ET.parse(self.map_dir / "dataele.xml").getroot().iter("data_ele")
        }
        self.codes = {}
        for cs in ET.parse(self.map_dir / "codes.xml").getroot().iter("codeset"):
            self.codes[cs.findtext("id")] = [c.text for c in cs.iter("code")]
        self.hl_count = 0

    # ---------------------------------------------------------------- values
    def value(self, ele: ET.Element) -> str:
        vc = ele.find("valid_codes")
        if vc is not None:
            if vc.get("external"):
                codes = self.codes[vc.get("external")]
                preferred = {"states": "NY", "country": "US", "currency": "USD"}.get(
                    vc.get("external")
                )
                return preferred if preferred in codes else codes[0]
            codes = [c.text for c in vc.findall("code")]
            if codes:
                return codes[0]
        de = self.dataele[ele.get("data_ele")]
        typ, lo, hi = de["data_type"], int(de["min_len"]), int(de["max_len"])
        if typ == "DT":
            return SAMPLE["DT8"] if hi >= 8 else SAMPLE["DT6"]
        if typ == "TM":
            return SAMPLE["TM"]
        if typ == "R":
            return "1." + "5" * max(lo - 1, 1) if lo > 1 else "2.5"
        if typ.startswith("N"):
            return "7" * max(lo, 1)
        if typ == "ID":
            return "Z" * max(lo, min(hi, 2))
        length = max(lo, min(hi, 12))
        return ("VAL" + "X" * length)[:length]

    def excluded(self, seg: ET.Element) -> set[int]:
        """Elements to leave out so that exclusion (E) syntax notes hold."""
        out: set[int] = set()
        for note in seg.findall("syntax"):
            text = (note.text or "").strip()
            if text.startswith("E"):
                nums = [int(text[i : i + 2]) for i in range(1, len(text), 2)]
                out.update(nums[1:])
        return out

    def segment(self, seg: ET.Element, overrides: dict[int, str] | None = None) -> str:
        tag = seg.get("xid")
        skip = self.excluded(seg) if self.full else set()
        values: list[str] = []
        for child in seg:
            if child.tag not in ("element", "composite"):
                continue
            seq = int(child.get("seq"))
            use = self.full and seq not in skip or child.get("usage") == "R"
            if overrides and seq in overrides:
                values.append(overrides[seq])
            elif not use:
                values.append("")
            elif child.tag == "composite":
                comps = [
                    self.value(c) if (self.full or c.get("usage") == "R") else ""
                    for c in child.findall("element")
                ]
                values.append(">".join(comps).rstrip(">"))
            else:
                values.append(self.value(child))
        while values and values[-1] == "":
            values.pop()
        if not values:  # a segment needs data: fill its first element
            first = next(c for c in seg if c.tag == "element")
            values = [self.value(first)]
        return "*".join([tag] + values)

    # ---------------------------------------------------------------- structure
    def walk(self, node: ET.Element, out: list[str], parent_hl: str = "") -> None:
        for child in node:
            if child.tag == "segment":
                if self.full or child.get("usage") == "R":
                    out.append(self.segment(child))
            elif child.tag == "loop":
                if child.get("type") == "wrapper":
                    self.walk(child, out, parent_hl)
                elif self.full or child.get("usage") == "R":
                    self.loop(child, out, parent_hl)

    def loop(self, loop: ET.Element, out: list[str], parent_hl: str) -> None:
        first = next(c for c in loop if c.tag == "segment")
        if first.get("xid") == "HL":
            self.hl_count += 1
            my_id = str(self.hl_count)
            level = self.value(first.findall("element")[2]) if loop.get("xid") != "HL_LOOP" else "Q"
            has_child = any(c.tag == "loop" and c.get("xid", "").startswith("HL_") for c in loop)
            over = {1: my_id, 2: parent_hl, 3: level, 4: "1" if has_child and self.full else "0"}
            out.append(self.segment(first, over))
            for child in loop:
                if child is first:
                    continue
                if child.tag == "segment":
                    if self.full or child.get("usage") == "R":
                        out.append(self.segment(child))
                elif child.tag == "loop":
                    if child.get("xid", "").startswith("HL_"):
                        # one chain: only the first child level of each HL level
                        if self.full and child is next(
                            c
                            for c in loop
                            if c.tag == "loop" and c.get("xid", "").startswith("HL_")
                        ):
                            self.loop(child, out, my_id)
                    elif self.full or child.get("usage") == "R":
                        self.loop(child, out, my_id)
            return
        self.walk(loop, out, parent_hl)

    def transaction(self, control: str = "0001") -> list[str]:
        st_loop = next(lp for lp in self.root.iter("loop") if lp.get("xid") == "ST_LOOP")
        out: list[str] = []
        for child in st_loop:
            if child.tag == "segment" and child.get("xid") == "ST":
                st = self.segment(child, {2: control})
                out.append(st)
            elif child.tag == "segment" and child.get("xid") == "SE":
                pass
            elif child.tag == "loop":
                if child.get("type") == "wrapper":
                    self.walk(child, out)
                else:
                    self.loop(child, out, "")
            elif child.tag == "segment":
                out.append(self.segment(child))
        out.append(f"SE*{len(out) + 1}*{control}")
        return out


def interchange(
    body: list[str], gs01: str, gs08: str, isa12: str = "00401", st03: str | None = None
) -> str:
    """Wrap segments (ST..SE) in ISA/GS/GE/IEA."""
    if st03 is not None:
        body = [re.sub(r"^(ST\*\d+\*\w+)(\*[^~]*)?$", rf"\1*{st03}", body[0])] + body[1:]
    isa = (
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{'SENDER':<15}*ZZ*{'RECEIVER':<15}"
        f"*240115*1230*U*{isa12}*000000001*0*T*>"
    )
    n_sets = sum(1 for s in body if s.startswith("ST*"))
    segs = [
        isa,
        f"GS*{gs01}*SENDER*RECEIVER*20240115*1230*1*X*{gs08}",
        *body,
        f"GE*{n_sets}*1",
        "IEA*1*000000001",
    ]
    return "~\n".join(segs) + "~\n"


def full_document(map_dir: Path, map_file: str, gs01: str, gs08: str, isa12: str = "00401") -> str:
    gen = Generator(map_dir, map_file, full=True)
    return interchange(gen.transaction(), gs01, gs08, isa12)


def minimal_document(
    map_dir: Path, map_file: str, gs01: str, gs08: str, isa12: str = "00401"
) -> str:
    gen = Generator(map_dir, map_file, full=False)
    return interchange(gen.transaction(), gs01, gs08, isa12)
