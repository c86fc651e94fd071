"""Shared helpers for the Python package's tests: each test runs in its own
folder, so default results folders land there."""

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def branin(x0: float, x1: float) -> float:
    """Branin's function (the benchmark's formula, evaluated in Python)."""
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x1 - b * x0**2 + c * x0 - r) ** 2 + s * (1 - t) * math.cos(x0) + s


def run_python(code: str, cwd: Path, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter (the one running the tests)."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, **kw,
    )


def hpsearch_command() -> str:
    """The `hpsearch` command installed with the package (beside python)."""
    exe = Path(sys.executable).parent / "hpsearch"
    assert exe.exists(), f"{exe}: the package's hpsearch command is missing"
    return str(exe)


def read(path: Path) -> bytes:
    return Path(path).read_bytes()


os.environ.setdefault("PYTHONHASHSEED", "0")
