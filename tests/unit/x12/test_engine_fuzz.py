"""No input makes the engine raise: seeded mutations of every sample, random segment
streams built from the sets' own tags, and random bytes spliced into sound documents."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import SAMPLES

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutations import mutations  # noqa: E402

from gateway.processing.structure import read_and_validate  # noqa: E402
from gateway.x12.findings import Finding  # noqa: E402
from gateway.x12.schema import compiled  # noqa: E402

DOCS = {p.name: p.read_text() for p in sorted(SAMPLES.glob("8*/*.edi"))}
TAGS = sorted(set().union(*(compiled("004010", s).segments for s in ("850", "855", "856", "810")))) + ["ZZZ", "HL", "SE", "ST"]
VALUES = st.one_of(st.sampled_from(["", "1", "-1.5", ".", "20261341", "2599", "XX", "A>B", "^", "-", "0" * 90]),
                   st.text(alphabet="AZaz09.-> ^*", max_size=12))


def validate(data: bytes) -> list[Finding]:
    result = read_and_validate(data, engine="engine")
    assert all(isinstance(f, Finding) for f in result.findings)
    return result.findings


def test_thousands_of_seeded_mutations_never_raise():
    count = 0
    for seed, text in enumerate(DOCS.values()):
        for _label, data in mutations(text, 100 + seed, 600):
            validate(data)
            count += 1
    assert count == 600 * len(DOCS)


def _wrap(body: list[str], gs: str = "SH", version: str = "004010") -> bytes:
    isa = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
           "*261201*1200*U*00401*000000001*0*P*>")
    segs = [isa, f"GS*{gs}*S*R*20261201*1200*1*X*{version}", "ST*856*0001", *body,
            f"SE*{len(body) + 2}*0001", "GE*1*1", "IEA*1*000000001"]
    return ("~".join(segs) + "~").encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(TAGS), st.lists(VALUES, max_size=8)), max_size=40),
       st.sampled_from(["SH", "PO", "IN", "PR", "SC", "FA", "ZZ"]),
       st.sampled_from(["004010", "005010", "003040", "004030VICS", "004010X357", "9", ""]))
def test_random_segment_streams_never_raise(segments, gs01, gs08):
    validate(_wrap(["*".join([tag, *values]) for tag, values in segments], gs01, gs08))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(DOCS)), st.integers(min_value=0, max_value=5000), st.binary(max_size=40))
def test_random_bytes_spliced_into_documents_never_raise(name, at, junk):
    data = DOCS[name].encode()
    at %= len(data)
    validate(data[:at] + junk + data[at:])
