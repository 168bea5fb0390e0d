"""X12 syntax notes (relational conditions) of a segment or composite, as data.

A note such as ``P020304`` is compiled once into a :class:`Note` (kind, positions);
``violations(note, present)`` says which element is in error and why, in words that
name the rule: "IT104 is required when IT102 or IT103 is present (P020304)".

Kinds (X12.6): P paired (all or none), R required (at least one), E exclusion (at most
one), C conditional (if the first, then all the others), L list conditional (if the
first, then at least one of the others). P/R/C/L violations are AK403/IK403 ``2``
(conditional required data element missing); E is ``10`` (exclusion violated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

KINDS = "PRECL"


@dataclass(frozen=True)
class Note:
    text: str  # "P020304"
    kind: str
    positions: tuple[int, ...]

    @property
    def first(self) -> int:
        return min(self.positions)


def holds(note: Note, values: list[str]) -> bool:
    """The fast check (the common case is a note that holds): True when satisfied."""
    n = len(values)
    kind = note.kind
    have = 0
    for p in note.positions:
        if p <= n and values[p - 1]:
            have += 1
    if kind == "P":
        return have == 0 or have == len(note.positions)
    if kind == "R":
        return have > 0
    if kind == "E":
        return have < 2
    first = note.positions[0]
    if not (first <= n and values[first - 1]):
        return True
    return have == len(note.positions) if kind == "C" else have > 1


def parse(text: str) -> Note | None:
    """``P020304`` -> Note("P", (2, 3, 4)); None for anything that is not a note."""
    body = text[1:]
    if not text or text[0] not in KINDS or len(body) < 4 or len(body) % 2 or not body.isdigit():
        return None
    return Note(text, text[0], tuple(int(body[i:i + 2]) for i in range(0, len(body), 2)))


def _either(refs: list[str]) -> str:
    return refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + " or " + refs[-1]


def violations(note: Note, present: Callable[[int], bool],
               ref: Callable[[int], str]) -> list[tuple[int, bool, str]]:
    """(element position in error, is an exclusion, message) for each violation."""
    pos = note.positions
    have = [p for p in pos if present(p)]
    if note.kind == "P":
        if not have or len(have) == len(pos):
            return []
        given = _either([ref(p) for p in have])
        return [(p, False, f"{ref(p)} is required when {given} is present ({note.text})")
                for p in pos if p not in have]
    if note.kind == "R":
        if have:
            return []
        return [(pos[0], False, f"at least one of {_either([ref(p) for p in pos])} is required "
                                f"({note.text})")]
    if note.kind == "E":
        if len(have) < 2:
            return []
        return [(p, True, f"{ref(p)} must not be present together with {ref(have[0])} "
                          f"({note.text}: at most one of {_either([ref(q) for q in pos])})")
                for p in have[1:]]
    first, rest = pos[0], pos[1:]
    if first not in have:
        return []
    if note.kind == "C":
        return [(p, False, f"{ref(p)} is required when {ref(first)} is present ({note.text})")
                for p in rest if p not in have]
    if any(p in have for p in rest):  # L
        return []
    return [(rest[0], False, f"at least one of {_either([ref(p) for p in rest])} is required "
                             f"when {ref(first)} is present ({note.text})")]
