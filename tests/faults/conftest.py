"""Fault tests: real gateway processes, real Redis and databases, scripted receivers."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faultkit
