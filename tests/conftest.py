"""Shared fixtures (helpers that tests import live in tests/helpers)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import TINY_GRID


@pytest.fixture
def tiny_grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_GRID)
    return path
