"""Taking an ack's control numbers from whatever counter the caller passes."""

from __future__ import annotations


def take_numbers(control_numbers, counts: dict[str, int]) -> dict[str, list[int]]:
    """``counts[name]`` consecutive numbers of each sequence (``interchange``, ``group``,
    ``transaction``): in one go when the counter can (the database's does it in one
    statement, :meth:`gateway.processing.control_numbers.DatabaseControlNumbers.take`),
    else one ``next(name)`` at a time, in the order given."""
    take = getattr(control_numbers, "take", None)
    if take is not None:
        return take(counts)
    return {name: [control_numbers.next(name) for _ in range(n)] for name, n in counts.items()}
