"""Which tables validate a functional group: GS08 (release + guide) and GS01.

Contract
--------
``resolve(gs08, gs01, held) -> Resolution``: the release whose tables apply, the
implementation guide named by GS08's suffix, whether the release is one we hold
exactly, and a note that says what was substituted. A release we do not hold is
validated against the nearest one we do (same major version first), so no sound
document is refused for lack of a table; the caller turns the note into an
informational finding, or an error when the partner asks for strict releases.

``set_ids_for(gs01, guide)`` is what a functional group may carry (X12 479 -> 143),
with the guides that assign other GS01 codes.

The tables below are small and provisional: ``maps/x12/spec/releases.txt`` (the
tables' owners) is meant to replace them; this module is the one place to point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: GS01 functional identifier -> the transaction sets such a group carries.
FUNCTIONAL_IDS: dict[str, frozenset[str]] = {
    "PO": frozenset({"850"}),
    "PR": frozenset({"855"}),
    "SH": frozenset({"856"}),
    "IN": frozenset({"810"}),
    "FA": frozenset({"997", "999"}),
}


@dataclass(frozen=True)
class Guide:
    """An implementation guide: GS08 suffix, and GS01 codes it assigns beyond X12's."""

    suffix: str
    name: str
    gs01: tuple[tuple[str, frozenset[str]], ...] = ()


#: Guides we know. None ships an overlay of its own yet: they validate against the base
#: release. The aerospace guides send their 850/855/810 under GS01 SC (as in the
#: public stupidedi fixtures of 004010X357/X358/X348).
GUIDES: dict[str, Guide] = {g.suffix: g for g in (
    Guide("VICS", "Voluntary Interindustry Commerce Solutions (retail)"),
    Guide("UCS", "Uniform Communication Standard (grocery)"),
    Guide("X357", "aerospace purchase order", (("SC", frozenset({"850"})),)),
    Guide("X358", "aerospace purchase order acknowledgment", (("SC", frozenset({"855"})),)),
    Guide("X359", "aerospace ship notice", (("SC", frozenset({"856"})),)),
    Guide("X348", "aerospace invoice", (("SC", frozenset({"810"})),)),
    Guide("X230", "functional acknowledgment"),
    Guide("X231", "implementation acknowledgment"),
    Guide("X231A1", "implementation acknowledgment, addenda 1"),
)}
GS08 = re.compile(r"(\d{6})([A-Z0-9]*)")


@dataclass(frozen=True)
class Resolution:
    release: str | None  # tables to use; None when GS08 names no release at all
    guide: str  # GS08 suffix ("" for none)
    exact: bool  # the release is one we hold
    note: str  # what was substituted, in words ("" when nothing was)


def nearest(release: str, held: tuple[str, ...]) -> str:
    """The held release closest to ``release``: same major version (004xxx) first, then
    the numerically closest (the earlier one on a tie)."""
    value = int(release)
    same = [h for h in held if h[:3] == release[:3]]
    return min(same or held, key=lambda h: (abs(int(h) - value), int(h)))


def resolve(gs08: str, gs01: str, held: tuple[str, ...]) -> Resolution:
    """See the module docstring. ``held`` is the releases whose tables we have."""
    m = GS08.fullmatch(gs08.strip())
    if m is None or not held:
        return Resolution(None, "", False, f"GS08 {gs08!r} does not name an X12 release "
                          "(six digits, e.g. 004010, optionally followed by a guide)")
    release, guide = m.groups()
    notes = []
    if guide and guide not in GUIDES:
        notes.append(f"implementation guide {guide} is not one we hold an overlay for; "
                     f"validated against the base release")
    if release in held:
        return Resolution(release, guide, True, "; ".join(notes))
    use = nearest(release, held)
    notes.insert(0, f"release {release} is validated against the {use} tables "
                    f"(the nearest release we hold)")
    return Resolution(use, guide, False, "; ".join(notes))


def set_ids_for(gs01: str, guide: str = "") -> frozenset[str]:
    """Transaction sets a group with this GS01 may carry (empty when GS01 is unknown)."""
    allowed = set(FUNCTIONAL_IDS.get(gs01, ()))
    g = GUIDES.get(guide)
    for code, sets in g.gs01 if g else ():
        if code == gs01:
            allowed |= sets
    return frozenset(allowed)
