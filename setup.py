"""Build hook: ship the runtime data in the wheel (DESIGN §8, "runtime data is package data").

The repository keeps ``maps/``, ``partners/``, ``sample_docs/`` and ``routes.yaml`` at its
root, where people edit them. An installed gateway has no repository, so the build copies
them, same layout, into ``gateway/_data/``, where :mod:`gateway.resources` looks first.
Everything else about the package is in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RUNTIME_DATA = ("maps", "partners", "sample_docs", "routes.yaml")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class BuildWithRuntimeData(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "gateway" / "_data"
        for name in RUNTIME_DATA:
            source, dest = ROOT / name, target / name
            if not source.exists():  # an incomplete checkout must not build a wheel that cannot work
                raise SystemExit(f"cannot build: {source} is missing")
            if dest.exists():
                shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, ignore=SKIP)
            else:
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": BuildWithRuntimeData})
