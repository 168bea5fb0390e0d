"""Reuse the kit beside these tests: pytest runs with --import-mode=importlib, which does
not put test folders on sys.path."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]
