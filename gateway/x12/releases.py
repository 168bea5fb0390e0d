"""Which tables validate a functional group: GS08 (release + guide) and GS01.

Contract
--------
``resolve(gs08, gs01, held) -> Resolution``: the release whose tables apply, the
implementation guide named by GS08's suffix, whether the release is one we hold
exactly, and a note that says what was substituted. A release we do not hold is
validated against the nearest one we do (same major version first), so no sound
document is refused for lack of a table; the caller turns the note into an
informational finding, or an error when the partner asks for strict releases.

``set_ids_for(gs01, gs08)`` is what a functional group may carry (X12 479 -> 143),
with the guides that assign other GS01 codes.

The data is ``maps/x12/spec/releases.txt`` (HOLD, NEAREST, GS01 and GUIDE rows, with
where each fact comes from), read through the tables' own parser; this module only
adds the rule for a release that file does not list: the numerically nearest release
we hold, same major version first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

GS08 = re.compile(r"(\d{6})([A-Z0-9]*)")


@lru_cache(maxsize=1)
def _spec():
    """``releases.txt`` parsed once per process (``build_map_dir.load_releases``)."""
    from gateway.x12.dictionary import loader, spec_dir

    return loader().load_releases(spec_dir() / "releases.txt")


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
    spec = _spec()
    known = spec.resolve(gs08.strip())  # a guide row or a NEAREST row of releases.txt
    notes = []
    if guide and (known is None or known.guide is None):
        notes.append(f"implementation guide {guide} is not one we hold an overlay for; "
                     f"validated against the base release")
    if known is not None and known.release in held:
        if known.nearest:
            notes.insert(0, f"release {release} is validated against the {known.release} tables "
                            f"(releases.txt: the nearest release we hold)")
        return Resolution(known.release, guide, not known.nearest, "; ".join(notes))
    if release in held:
        return Resolution(release, guide, True, "; ".join(notes))
    use = nearest(release, held)
    notes.insert(0, f"release {release} is validated against the {use} tables "
                    f"(the nearest release we hold)")
    return Resolution(use, guide, False, "; ".join(notes))


def set_ids_for(gs01: str, gs08: str = "") -> frozenset[str]:
    """Transaction sets a group with this GS01 may carry under GS08's guide (empty when
    GS01 is unknown): X12's 479 -> 143 table plus what the guide assigns."""
    return frozenset(_spec().sets_for(gs01, gs08.strip()))
