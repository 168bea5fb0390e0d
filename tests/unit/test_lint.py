"""The code base stays ruff-clean (pyproject.toml holds the rules; ruff is a test dependency)."""

import subprocess
import sys

from support import REPO


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "gateway", "tests", "benchmarks"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
