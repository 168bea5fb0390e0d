"""read_x12 never raises, streams in bounded memory, and mutated input still yields acks."""

import random
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12_samples import render, sample_bytes, segments  # noqa: E402

from gateway.acks import build_acknowledgments  # noqa: E402
from gateway.x12.reader import read_x12  # noqa: E402


class Counter:
    def __init__(self):
        self.n = 0

    def next(self, name: str) -> int:
        self.n += 1
        return self.n


def _mutations(seed: int, count: int):
    rng = random.Random(seed)
    base = sample_bytes()
    specials = b"*~>\r\n\x00\x15\xff ISAGSSTSEGEIEA"
    for _ in range(count):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            if not data:
                break
            op, at = rng.random(), rng.randrange(len(data))
            if op < 0.4:
                data[at] = rng.choice(specials)
            elif op < 0.6:
                del data[at:at + rng.randint(1, 40)]
            elif op < 0.8:
                data[at:at] = bytes(rng.choice(specials) for _ in range(rng.randint(1, 5)))
            else:
                data = data[:at]
        yield bytes(data)


def test_mutated_input_never_raises_and_acks_build():
    for data in _mutations(seed=3, count=600):
        result = read_x12(data)
        assert isinstance(result.valid, bool)
        for index in range(len(result.interchanges)):
            for ack in build_acknowledgments(result, index, our_qualifier="ZZ", our_id="US",
                                             control_numbers=Counter()):
                assert ack.text.startswith("ISA") and ack.kind in ("TA1", "997", "999")


def test_tiny_max_segment_and_odd_sources():
    assert read_x12(sample_bytes(), max_segment_bytes=1).valid  # at least one ISA long
    assert read_x12(bytearray(sample_bytes())).valid


def test_many_sets_stream_in_bounded_memory():
    segs = segments()
    isa, gs, st_se = segs[0], segs[1], segs[2:18]
    sets = 3000

    class Stream:
        """Serves a ~2 MB interchange lazily so only the reader's memory is measured."""

        def __init__(self):
            parts = [render([isa, gs])]
            parts += (render([s.replace("0001", f"{n:06d}") for s in st_se])
                      for n in range(1, sets + 1))
            parts.append(render([f"GE*{sets}*101", "IEA*1*000000101"]))
            self.parts, self.pending = iter(parts), b""

        def read(self, size: int) -> bytes:
            while len(self.pending) < size:
                nxt = next(self.parts, None)
                if nxt is None:
                    break
                self.pending += nxt
            out, self.pending = self.pending[:size], self.pending[size:]
            return out

    tracemalloc.start()
    result = read_x12(Stream(), keep_segments=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.valid
    assert len(result.interchanges[0].groups[0].transactions) == sets
    assert peak < 3 * 1024 * 1024, peak  # ~300 bytes per kept set header + one chunk
