"""XML pipeline fixtures: the local schema directory (from the shared corpus), built once
in the test process so the worker's forked work-horses inherit the parsed schemas."""

from __future__ import annotations

import pytest
from support import CORPUS

SCHEMAS = CORPUS / "schemas"


@pytest.fixture(scope="session")
def _built_schemas():
    if not SCHEMAS.is_dir():
        pytest.skip(f"no schema directory at {SCHEMAS}: DTD/XSD validation tests skipped")
    from gateway.xml.schemas import preload

    return preload(SCHEMAS.resolve())


@pytest.fixture
def schemas(_built_schemas, monkeypatch):
    """GATEWAY_SCHEMA_DIR set for this test (and the workers it runs)."""
    monkeypatch.setenv("GATEWAY_SCHEMA_DIR", str(SCHEMAS))
    return SCHEMAS
