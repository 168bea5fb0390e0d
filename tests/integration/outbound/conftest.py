"""Reuse the transport kits (as2_kit, the partner's AS2 server) beside these tests: pytest
runs with --import-mode=importlib, which does not put test folders on sys.path."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "transports")]
