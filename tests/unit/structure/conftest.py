"""Fixtures for the pyx12 structure tests: one map build per session in a temp GATEWAY_HOME."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MAPS = ROOT / "maps" / "x12"
CORPUS = ROOT.parent / "shared" / "corpus" / "real"


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session", autouse=True)
def gateway_home(tmp_path_factory):
    old = os.environ.get("GATEWAY_HOME")
    home = tmp_path_factory.mktemp("gateway-home")
    os.environ["GATEWAY_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("GATEWAY_HOME", None)
    else:
        os.environ["GATEWAY_HOME"] = old


@pytest.fixture(scope="session")
def docgen():
    return load_module("x12_docgen", MAPS / "docgen.py")


@pytest.fixture(scope="session")
def map_dirs(gateway_home):
    from gateway.x12 import structure

    return {v: structure.map_dir(v) for v in ("004010", "005010")}
