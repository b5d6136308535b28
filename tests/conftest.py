"""Shared fixtures: a tiny fast grid on bundled datasets, and a way to run the real CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Three small bundled datasets, logistic regression only: a run takes a second or two.
TINY_GRID = """\
name = "tiny"
seed = 7
datasets = ["keel:glass1", "keel:ecoli-0_vs_1", "keel:new-thyroid1"]
models = ["logreg"]
strategies = ["none", "class-weight", "random-under", "smote"]

[cv]
n_splits = 3
n_repeats = 2
"""


@pytest.fixture
def tiny_grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_GRID)
    return path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `imbench ARGS` as a user would, in a subprocess (the console script of this venv)."""
    exe = Path(sys.executable).with_name("imbench")
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(exe), *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env)
