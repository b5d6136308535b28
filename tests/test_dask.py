"""The same cells on a real Dask cluster (LocalCluster on loopback, nanny-managed worker processes):
identical stored results, and the local backend's guarantees — a hanging cell is stopped and stored as
`timeout`, a cell that kills its worker is stored as `crashed`, a worker killed from outside loses
nothing."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import dask
import distributed
import pandas as pd
import pytest

import imbench.benchmarks.execution.dask_backend as dask_backend
from imbench.benchmarks.execution.backends import BackendError
from imbench.benchmarks.spec.grid import load_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from tests.helpers import ROOT, comparable, run_cli


def _cluster(**kwargs: object) -> distributed.LocalCluster:
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                    dashboard_address=None, **kwargs)


def _kill_a_busy_worker(address: str) -> int:
    """SIGKILL one worker process that is running a cell, from outside (as an OOM killer would)."""
    with distributed.Client(address, timeout="10s") as client:
        states = client.run(dask_backend.worker_state)
    busy = [state["pid"] for state in states.values() if state["running"]] or [s["pid"] for s in states.values()]
    os.kill(busy[0], signal.SIGKILL)
    return busy[0]


def test_dask_cluster_gives_the_same_store_as_local_even_when_a_worker_is_killed(tiny_grid_file: Path,
                                                                                 tmp_path: Path) -> None:
    grid = load_grid(tiny_grid_file)
    killed: list[int] = []
    with _cluster() as cluster:
        def kill_once(result: object) -> None:
            if not killed and len(seen) == 5:
                killed.append(_kill_a_busy_worker(cluster.scheduler_address))
            seen.append(result)

        seen: list[object] = []
        summary = run_grid(grid, tmp_path / "dask", backend="dask", scheduler=cluster.scheduler_address,
                           on_result=kill_once)
    assert killed and summary.counts["ok"] == summary.total  # the killed worker's cells were re-run
    run_grid(grid, tmp_path / "local", n_jobs=1)
    a_cells, a_preds = comparable(tmp_path / "local")
    b_cells, b_preds = comparable(tmp_path / "dask")
    pd.testing.assert_frame_equal(a_cells, b_cells)
    pd.testing.assert_frame_equal(a_preds, b_preds)


FAULT_GRID = """\
name = "dask-faults"
datasets = ["keel:glass1"]
models = ["logreg"]
strategies = ["none", "test-hang", "test-crash"]
[cv]
n_splits = 2
n_repeats = 1
"""


def test_hanging_and_worker_killing_cells_on_dask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugins = ROOT / "tests" / "plugins_faults"
    monkeypatch.setenv("IMBENCH_PLUGINS", str(plugins))  # the workers load the fault strategies
    grid = tmp_path / "faults.toml"
    grid.write_text(FAULT_GRID)
    # a cell is `crashed` once it has killed allowed-failures + 1 workers (here 2)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), _cluster() as cluster:
        out = run_cli("run", str(grid), "--backend", "dask", "--scheduler", cluster.scheduler_address,
                      "--timeout", "3", "--results", str(tmp_path / "dask"), "--no-progress", "--plugins", str(plugins))
    assert out.returncode == 0, out.stderr
    assert "6 cells, 0 already stored, ran 6: 2 crashed, 2 ok, 2 timeout" in out.stderr
    cells = store_reader(tmp_path / "dask").cells().set_index("label")
    assert (cells.loc["test-hang", "message"] == "cell exceeded its time limit of 3 s").all()
    # how the worker ended comes from its nanny's log; on a loaded machine the line may come too late
    how = ("exited with code 3", "died (its nanny's log says how)")
    prefix = "its worker died on each of 2 attempts; last: the worker process "
    assert cells.loc["test-crash", "message"].isin([prefix + h for h in how]).all(), cells.loc["test-crash", "message"]
    assert set(store_reader(tmp_path / "dask").predictions()["key"]) == set(cells.loc["none", "key"])


def test_unreachable_scheduler_is_a_clear_error(tiny_grid_file: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dask_backend, "CONNECT_TIMEOUT", "2s")
    grid = load_grid(tiny_grid_file)
    with pytest.raises(BackendError, match="cannot reach the Dask scheduler"):
        run_grid(grid, tmp_path / "r", backend="dask", scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "r").exists()  # refused before the results folder is created


def test_memory_limit_on_dask_needs_one_thread_per_worker(tiny_grid_file: Path, tmp_path: Path) -> None:
    grid = load_grid(tiny_grid_file)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        with pytest.raises(BackendError, match="--memory on Dask needs one thread per worker"):
            run_grid(grid, tmp_path / "r", backend="dask", scheduler=cluster.scheduler_address, memory_mb=1024)
