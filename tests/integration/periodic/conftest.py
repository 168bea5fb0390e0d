"""Periodic-task tests use the fault kit (gateway processes) and the AS2 kit (a partner's
AS2 server): put both folders on sys.path (pytest runs with --import-mode=importlib)."""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS / "faults"))
sys.path.insert(0, str(TESTS / "integration" / "transports"))
