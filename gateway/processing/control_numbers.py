"""Our outbound control numbers (ISA13, GS06, ST02), one database counter each.

Handed out inside the caller's transaction, so a rolled-back ack gives its numbers
back and two workers never hand out the same one.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.store.models import ControlNumber

_LIMITS = {"interchange": 999_999_999, "group": 999_999_999, "transaction": 9_999}


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

    def peek(self, name: str) -> int:
        return self.session.scalar(select(ControlNumber.value).where(ControlNumber.name == name)) or 0
