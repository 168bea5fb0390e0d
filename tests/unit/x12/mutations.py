"""Seeded mutations of a sound interchange, for the differential and fuzz tests.

``mutations(text, seed, count)`` yields (label, mutated bytes). Each mutation touches
one segment inside a transaction set: dropped, duplicated, moved one place, an element
emptied / made too long / made non-numeric / given a bad date or code, an element added,
or the SE count changed. Deterministic for a seed, so a failure names its case.
"""

from __future__ import annotations

import random

ENVELOPE = ("ISA", "GS", "GE", "IEA")


def _split(text: str) -> tuple[str, str, list[str]]:
    term, sep = text[105], text[3]
    segments = [s.strip("\r\n") for s in text.split(term)]
    return term, sep, [s for s in segments if s]


def _join(term: str, segments: list[str]) -> bytes:
    return (term.join(segments) + term).encode("latin-1")


def _in_set(segments: list[str], sep: str) -> list[int]:
    return [i for i, s in enumerate(segments) if s.split(sep, 1)[0] not in ENVELOPE + ("ST", "SE")]


def _element(rng: random.Random, segment: str, sep: str, how: str) -> str:
    parts = segment.split(sep)
    if len(parts) < 2:
        return segment
    n = rng.randrange(1, len(parts))
    value = {"empty": "", "long": "9" * 90, "alpha": "XQ", "date": "20261341", "junk": "?",
             "space": parts[n] + "  "}[how]
    parts[n] = value
    return sep.join(parts)


def _recount(segs: list[str], sep: str, i: int, delta: int) -> None:
    """Keep SE01 right, so a structure error is not hidden behind a count error."""
    se = next(k for k in range(i, len(segs)) if segs[k].startswith("SE" + sep))
    parts = segs[se].split(sep)
    if parts[1].isdigit():
        parts[1] = str(int(parts[1]) + delta)
        segs[se] = sep.join(parts)


KINDS = ("drop", "duplicate", "move", "empty", "long", "alpha", "date", "junk", "extra", "count")


def mutate(text: str, rng: random.Random) -> tuple[str, bytes]:
    term, sep, segs = _split(text)
    inside = _in_set(segs, sep)
    kind = rng.choice(KINDS)
    i = rng.choice(inside)
    label = f"{kind}@{i}:{segs[i][:12]}"
    if kind == "drop":
        del segs[i]
        _recount(segs, sep, i, -1)
    elif kind == "duplicate":
        segs.insert(i, segs[i])
        _recount(segs, sep, i, +1)
    elif kind == "move":
        j = min(i + 1, len(segs) - 1)
        if segs[j].split(sep, 1)[0] not in ENVELOPE + ("SE",):
            segs[i], segs[j] = segs[j], segs[i]
    elif kind == "extra":
        segs[i] = segs[i] + sep * 40 + "X"
    elif kind == "count":
        se = next(k for k in range(i, len(segs)) if segs[k].startswith("SE" + sep))
        parts = segs[se].split(sep)
        parts[1] = str(int(parts[1]) + 1) if parts[1].isdigit() else "1"
        segs[se] = sep.join(parts)
    else:
        segs[i] = _element(rng, segs[i], sep, kind)
    return label, _join(term, segs)


def mutations(text: str, seed: int, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        yield mutate(text, rng)
