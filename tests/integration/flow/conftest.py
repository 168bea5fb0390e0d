"""Reuse the outbound and transport kits: pytest runs with --import-mode=importlib, which
does not put test folders on sys.path."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "outbound"), str(HERE.parent / "transports")]
