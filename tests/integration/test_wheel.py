"""The gateway installed from its wheel (not editable), run from outside the repository.

Builds the wheel from a copy of this checkout with ``pip wheel --no-deps``, installs it
with ``--no-deps`` into a fresh ``venv --system-site-packages`` (the dependencies come
from the system, so nothing is downloaded), and runs the installed ``gateway`` command
in an empty directory: ``validate``, ``translate`` and a ``gateway up`` smoke check.
Everything the gateway needs must come from the wheel (DESIGN §8).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from support import REPO, SAMPLES, free_port

pytestmark = pytest.mark.slow

SAMPLE_855 = SAMPLES / "855" / "855_004010_acme_accepted_with_changes.edi"
SAMPLE_UBL = SAMPLES / "ubl" / "Order_acme_po_ac-9002.xml"
# Not part of the source a wheel is built from.
NOT_SOURCE = shutil.ignore_patterns(".git", ".scratch", "var", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".ruff_cache", ".venv", "venv")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``bin/`` of a fresh venv with the gateway wheel installed."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(source)])
    [wheel] = (root / "dist").glob("supplier_edi_gateway-*.whl")
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(root / "venv")])
    _run([str(root / "venv" / "bin" / "pip"), "install", "--no-deps", "-q", str(wheel)])
    return root / "venv" / "bin"


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=_clean_env())
    assert result.returncode == 0, f"{cmd}: {result.stdout}\n{result.stderr}"


def _clean_env(**extra: str) -> dict[str, str]:
    """No setting that would point the installed gateway back at this repository."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GATEWAY_") and k not in ("PYTHONPATH", "REDIS_URL", "DATABASE_URL")}
    return {**env, **extra}


@pytest.fixture
def outside(tmp_path) -> Path:
    """An empty working directory that is not the repository."""
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(SAMPLE_855, work / "doc.edi")
    shutil.copy(SAMPLE_UBL, work / "order.xml")
    return work


def gateway(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "gateway"), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=_clean_env(GATEWAY_HOME=str(cwd / "var")))


def test_the_installed_gateway_uses_its_own_package_data(installed, outside):
    result = subprocess.run([str(installed / "python"), "-c", "import gateway.resources as r; print(r.data_root())"],
                            cwd=outside, capture_output=True, text=True, timeout=60, env=_clean_env())
    assert result.returncode == 0, result.stderr
    data_root = Path(result.stdout.strip())
    assert data_root.is_relative_to(installed.parent) and data_root.name == "_data"
    for part in ("maps/x12/spec/segments.txt", "maps/translate", "partners/demo/partner.yaml", "routes.yaml",
                 "maps/xml/ubl-2.1/NOTICE.md", "maps/xml/LICENSES.md"):
        assert (data_root / part).exists(), part


def test_validate_from_the_wheel(installed, outside):
    result = gateway(installed, outside, "validate", "doc.edi")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "doc.edi: valid (x12)" in result.stdout
    assert "855 #0001: ok" in result.stdout


def test_ubl_is_schema_validated_by_default_from_the_wheel(installed, outside):
    result = gateway(installed, outside, "validate", "order.xml", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"validated_against": "ubl-2.1/xsd/maindoc/UBL-Order-2.1.xsd"' in result.stdout


def test_translate_from_the_wheel(installed, outside):
    result = gateway(installed, outside, "translate", "doc.edi")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("purchase_order.acknowledged")
    assert "4500012345" in result.stdout


def test_map_tests_run_from_the_wheel(installed, outside):
    result = gateway(installed, outside, "maps", "test", "demo")  # their inputs are relative paths in the data
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout and not result.stdout.startswith("0 passed")


def test_up_from_the_wheel_serves_and_stops_on_ctrl_c(installed, outside):
    http_port = free_port()
    env = _clean_env(GATEWAY_HOME=str(outside / "var"), GATEWAY_HTTP_PORT=str(http_port),
                     GATEWAY_SFTP_PORT=str(free_port()))
    proc = subprocess.Popen([str(installed / "gateway"), "up"], cwd=outside, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = []
    try:
        for line in proc.stdout:  # until it says it is up (or exits)
            output.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        assert "Supplier EDI Gateway is up." in "".join(output), "".join(output)
        assert "  partners         demo" in "".join(output)
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=30) as response:
            assert response.status == 200
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = "".join(output) + rest
    assert proc.returncode in (0, 130), text
    assert "Traceback" not in text, text
    assert not (outside / "var" / "redis" / "url").exists()  # no stale pointer for the CLI to follow

