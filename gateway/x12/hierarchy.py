"""HL hierarchies (856 and any set with an HL loop): ids unique, parents earlier, levels
in an order that makes sense.

X12 asks HL01 to be unique within the set and HL02 to name the parent's HL01; the
parent comes first. Sequential numbering (1, 2, 3 ...) is common practice, not a rule,
so it is not required. Level codes (HL03) are checked for the supply-chain levels whose
nesting is fixed (shipment > order > tare > pack > item); other codes are accepted
under any parent. Memory: the ids seen and their level, at most MAX_IDS per set.
"""

from __future__ import annotations

from gateway.x12.findings import FindingCode as C

MAX_IDS = 200_000  # the 856 HL loop's repeat: beyond it the loop is over maximum anyway
#: level -> levels that may sit under it (856 practice; others are free)
CHILD_LEVELS = {"S": "OTPI", "O": "TPI", "T": "PI", "P": "I", "I": ""}
LEVEL_NAMES = {"S": "shipment", "O": "order", "T": "tare", "P": "pack", "I": "item"}


class Hierarchy:
    """Feed each HL's elements in order; ``check`` returns the problems of that HL as
    (finding code, element position, value, message, rule)."""

    __slots__ = ("levels",)

    def __init__(self) -> None:
        self.levels: dict[str, str] = {}  # HL01 -> HL03

    def check(self, elements: list[str]) -> list[tuple[C, int, str, str, str]]:
        hl01 = elements[0] if elements else ""
        hl02 = elements[1] if len(elements) > 1 else ""
        hl03 = elements[2] if len(elements) > 2 else ""
        out = []
        if hl01 and hl01 in self.levels:
            out.append((C.HIERARCHY_ID_NOT_UNIQUE, 1, hl01,
                        f"HL01 {hl01!r} is already the id of an earlier HL of this set",
                        "HL01 unique"))
        if hl02:
            parent = self.levels.get(hl02)
            if parent is None:
                out.append((C.HIERARCHY_PARENT_UNKNOWN, 2, hl02,
                            f"HL02 {hl02!r} names no earlier HL (the parent must come first)",
                            "HL02 parent"))
            elif parent in CHILD_LEVELS and hl03 in CHILD_LEVELS and hl03 not in CHILD_LEVELS[parent]:
                out.append((C.HIERARCHY_LEVEL_MISPLACED, 3, hl03,
                            f"a {LEVEL_NAMES[hl03]} level (HL03 {hl03}) cannot sit under "
                            f"a {LEVEL_NAMES[parent]} level (HL {hl02})", "HL03 level"))
        if hl01 and hl01 not in self.levels and len(self.levels) < MAX_IDS:
            self.levels[hl01] = hl03
        return out
