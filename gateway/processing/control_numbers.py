"""Our outbound control numbers (ISA13, GS06, ST02), one database counter each.

Handed out inside the caller's transaction, so a rolled-back ack gives its numbers
back and two workers never hand out the same one.
"""

from __future__ import annotations

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.store.models import ControlNumber

_LIMITS = {"interchange": 999_999_999, "group": 999_999_999, "transaction": 9_999}
#: The order every caller locks the counter rows in (one ack's numbers are taken in one
#: statement; two statements locking the same rows in different orders could deadlock).
LOCK_ORDER = ("interchange", "group", "transaction")
_COUNTERS = ControlNumber.__table__


class DatabaseControlNumbers:
    """``next(name)`` for ``interchange``, ``group`` and ``transaction``; wraps to 1 at the X12 maximum."""

    def __init__(self, session: Session):
        self.session = session

    def next(self, name: str) -> int:
        limit = _LIMITS.get(name, 999_999_999)
        for _ in range(3):
            row = self.session.execute(
                update(ControlNumber).where(ControlNumber.name == name)
                .values(value=ControlNumber.value % limit + 1).returning(ControlNumber.value)
                .execution_options(synchronize_session=False)  # no ControlNumber object is kept in a session
            ).first()
            if row is not None:
                return int(row[0])
            try:
                with self.session.begin_nested():
                    self.session.add(ControlNumber(name=name, value=1))
                return 1
            except IntegrityError:  # another worker created it first; increment theirs
                continue
        raise RuntimeError(f"could not allocate a {name} control number")

    def take(self, counts: dict[str, int]) -> dict[str, list[int]]:
        """Several sequences advanced in ONE ``UPDATE ... RETURNING`` (an ack's ISA13, GS06s
        and ST02s: one statement where there were three or more). The numbers are the same
        as from ``next`` called ``counts[name]`` times, wrapping included. A counter that
        does not exist yet is created through ``next``."""
        counts = {name: n for name, n in counts.items() if n > 0}
        if not counts:
            return {}
        names = sorted(counts, key=lambda n: (LOCK_ORDER.index(n) if n in LOCK_ORDER else len(LOCK_ORDER), n))
        # On the table, not the ORM entity: no ORM bulk-update machinery and no autoflush of
        # the caller's pending rows for a statement that touches none of them (about a
        # twentieth of a single-set document's processing CPU went there).
        table = _COUNTERS
        limit = case(_LIMITS, value=table.c.name, else_=999_999_999)
        step = case(counts, value=table.c.name, else_=0)
        stmt = update(table).values(value=(table.c.value + step - 1) % limit + 1)
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            # Lock the rows in LOCK_ORDER first: the order a sequence of next() calls takes.
            order = case({n: i for i, n in enumerate(names)}, value=table.c.name)
            locked = (select(table.c.name).where(table.c.name.in_(names))
                      .order_by(order).with_for_update().cte("locked").prefix_with("MATERIALIZED"))
            stmt = stmt.where(table.c.name == locked.c.name)
        else:  # SQLite: one writer at a time, the whole database is the lock
            stmt = stmt.where(table.c.name.in_(names))
        rows = connection.execute(stmt.returning(table.c.name, table.c.value)).all()
        got = {name: int(value) for name, value in rows}
        out = {}
        for name in names:
            n, limit_n = counts[name], _LIMITS.get(name, 999_999_999)
            if name in got:  # the k-th of n numbers handed out, counted back from the new value
                out[name] = [(got[name] - 1 - (n - k)) % limit_n + 1 for k in range(1, n + 1)]
            else:
                out[name] = [self.next(name) for _ in range(n)]
        return out

    def peek(self, name: str) -> int:
        return self.session.scalar(select(ControlNumber.value).where(ControlNumber.name == name)) or 0
