"""The same cells on a real Dask cluster (LocalCluster on loopback): identical stored results."""
from __future__ import annotations

from pathlib import Path

import distributed
import pandas as pd
import pytest

from benchmarks.execution import BackendError
from benchmarks.grid import load_grid
from benchmarks.runner import run_grid
from tests.helpers import comparable


def test_dask_cluster_gives_the_same_store_as_local(tiny_grid_file: Path, tmp_path: Path) -> None:
    grid = load_grid(tiny_grid_file)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        summary = run_grid(grid, tmp_path / "dask", backend="dask", scheduler=cluster.scheduler_address)
    assert summary.counts["ok"] > 0
    run_grid(grid, tmp_path / "local", n_jobs=1)
    a_cells, a_preds = comparable(tmp_path / "local")
    b_cells, b_preds = comparable(tmp_path / "dask")
    pd.testing.assert_frame_equal(a_cells, b_cells)
    pd.testing.assert_frame_equal(a_preds, b_preds)


def test_unreachable_scheduler_is_a_clear_error(tiny_grid_file: Path, tmp_path: Path) -> None:
    grid = load_grid(tiny_grid_file)
    with pytest.raises(BackendError, match="cannot reach the Dask scheduler"):
        run_grid(grid, tmp_path / "r", backend="dask", scheduler="tcp://127.0.0.1:9")
