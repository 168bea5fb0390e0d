"""Our outbound control numbers: an ack's ISA13, GS06s and ST02s taken in one statement
give exactly the numbers one ``next`` at a time would, wrap at the X12 maximum, create a
counter that does not exist yet, and never hand the same number to two workers."""

from __future__ import annotations

import threading

from sqlalchemy import event, update

from gateway.acks.numbers import take_numbers
from gateway.processing.control_numbers import DatabaseControlNumbers
from gateway.store.models import ControlNumber


def test_take_gives_what_next_would_in_one_statement(rt):
    with rt.session() as s:
        counter = DatabaseControlNumbers(s)
        counter.next("interchange"), counter.next("group"), counter.next("transaction")
    statements = []
    with rt.session() as s:
        engine = s.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with rt.session() as s:
            got = DatabaseControlNumbers(s).take({"interchange": 1, "group": 3, "transaction": 3})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert got == {"interchange": [2], "group": [2, 3, 4], "transaction": [2, 3, 4]}
    assert len([st for st in statements if "control_numbers" in st]) == 1
    with rt.session() as s:
        counter = DatabaseControlNumbers(s)
        assert [counter.next(n) for n in ("interchange", "group", "transaction")] == [3, 5, 5]


def test_take_wraps_at_the_maximum_and_creates_missing_counters(rt):
    with rt.session() as s:
        DatabaseControlNumbers(s).next("transaction")
        s.execute(update(ControlNumber).where(ControlNumber.name == "transaction").values(value=9_998))
    with rt.session() as s:
        got = DatabaseControlNumbers(s).take({"interchange": 1, "group": 2, "transaction": 3})
    # ST02 wraps after 9999; the interchange and group counters did not exist: they start at 1
    assert got == {"interchange": [1], "group": [1, 2], "transaction": [9_999, 1, 2]}


def test_take_numbers_falls_back_to_next_for_plain_counters():
    class Counter:
        def __init__(self):
            self.values = {}

        def next(self, name):
            self.values[name] = self.values.get(name, 0) + 1
            return self.values[name]

    assert take_numbers(Counter(), {"interchange": 1, "group": 2}) == {"interchange": [1], "group": [1, 2]}


def test_concurrent_takes_never_share_a_number(rt):
    with rt.session() as s:
        counter = DatabaseControlNumbers(s)
        counter.next("interchange"), counter.next("group"), counter.next("transaction")
    taken: list[dict] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            for _ in range(15):
                with rt.session() as s:
                    c = DatabaseControlNumbers(s)
                    if i % 2:  # mixed with single next() calls in the usual order
                        taken.append({n: [c.next(n)] for n in ("interchange", "group", "transaction")})
                    else:
                        taken.append(c.take({"interchange": 1, "group": 2, "transaction": 2}))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    for name in ("interchange", "group", "transaction"):
        numbers = [n for got in taken for n in got[name]]
        assert len(numbers) == len(set(numbers)), f"{name} handed out twice"
