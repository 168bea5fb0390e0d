"""Test inputs built programmatically from the small valid 855 sample."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_855 = ROOT / "sample_docs" / "855" / "855_004010_acme_accepted_with_changes.edi"
CORPUS = ROOT.parent / "shared" / "corpus" / "real"


def segments() -> list[str]:
    """The sample's segments with ``*`` / ``>`` delimiters and no terminators."""
    text = SAMPLE_855.read_text(encoding="ascii")
    return [s.strip() for s in text.split("~") if s.strip()]


def render(segs: list[str], *, element: str = "*", terminator: str = "~",
           component: str = ">", eol: str = "\n") -> bytes:
    """Join segments with the given delimiters (``*``/``>`` in ``segs`` are replaced)."""
    out = []
    for s in segs:
        if s.startswith("ISA"):
            s = s[:-1].replace("*", element) + component
        else:
            s = s.replace("*", element)
        out.append(s + terminator + eol)
    return "".join(out).encode("latin-1")


def sample_bytes(**kw) -> bytes:
    return render(segments(), **kw)


def replace(segs: list[str], tag: str, new: str | None, nth: int = 1) -> list[str]:
    """Replace (or drop, when ``new`` is None) the ``nth`` segment with tag ``tag``."""
    out, seen = [], 0
    for s in segs:
        if s.split("*", 1)[0] == tag:
            seen += 1
            if seen == nth:
                if new is not None:
                    out.append(new)
                continue
        out.append(s)
    return out


def codes(result, level=None) -> list[str]:
    """Names of the error findings (optionally only of one level)."""
    return [f.code.name for f in result.findings
            if f.is_error and (level is None or f.level is level)]
