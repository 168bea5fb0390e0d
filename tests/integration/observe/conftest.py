"""Observability tests use the fault kit (gateway processes, scripted receivers): put its
folder on sys.path (pytest runs with --import-mode=importlib)."""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS / "faults"))
sys.path.insert(0, str(TESTS / "integration" / "transports"))
