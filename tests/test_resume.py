"""Resume and determinism: an interrupted run, resumed, equals an uninterrupted one; -j never matters."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from imbench.benchmarks.spec.grid import load_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.schema import store_path
from tests.helpers import comparable



class Interrupt(Exception):
    pass


def test_interrupted_then_resumed_equals_uninterrupted(tiny_grid_file: Path, tmp_path: Path) -> None:
    grid = load_grid(tiny_grid_file)
    run_grid(grid, tmp_path / "straight", n_jobs=1)

    seen = []

    def stop_after_ten(result: object) -> None:
        seen.append(result)
        if len(seen) == 10:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_grid(grid, tmp_path / "resumed", n_jobs=1, on_result=stop_after_ten)
    assert len(store_reader(tmp_path / "resumed").cells()) == 10
    summary = run_grid(grid, tmp_path / "resumed", n_jobs=1)
    assert summary.already_done == 10
    assert sum(summary.counts.values()) == summary.total - 10
    a_cells, a_preds = comparable(tmp_path / "straight")
    b_cells, b_preds = comparable(tmp_path / "resumed")
    pd.testing.assert_frame_equal(a_cells, b_cells)
    pd.testing.assert_frame_equal(a_preds, b_preds)
    # a third run has nothing left to do
    assert sum(run_grid(grid, tmp_path / "resumed", n_jobs=1).counts.values()) == 0


def test_j1_and_j2_store_identical_results(tiny_grid_file: Path, tmp_path: Path) -> None:
    grid = load_grid(tiny_grid_file)
    run_grid(grid, tmp_path / "j1", n_jobs=1)
    run_grid(grid, tmp_path / "j2", n_jobs=2)
    a_cells, a_preds = comparable(tmp_path / "j1")
    b_cells, b_preds = comparable(tmp_path / "j2")
    assert (a_cells["status"] == "ok").sum() > 0
    pd.testing.assert_frame_equal(a_cells, b_cells)
    np.testing.assert_array_equal(a_preds["proba"].to_numpy(), b_preds["proba"].to_numpy())


def _stored_count(results: Path) -> int:
    try:
        with sqlite3.connect(store_path(results), timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_mid_run_then_resume_equals_uninterrupted(tiny_grid_file: Path, tmp_path: Path) -> None:
    grid = load_grid(tiny_grid_file)
    run_grid(grid, tmp_path / "straight", n_jobs=1)
    exe = Path(sys.executable).with_name("imbench")
    killed = tmp_path / "killed"
    proc = subprocess.Popen([str(exe), "run", str(tiny_grid_file), "-j", "2", "--results", str(killed),
                             "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while _stored_count(killed) < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; make the grid larger"
    import os

    os.killpg(proc.pid, signal.SIGKILL)  # the client and its workers, mid-write
    proc.wait()
    partial = _stored_count(killed)
    assert 0 < partial < len(store_reader(tmp_path / "straight").cells())
    run_grid(grid, killed, n_jobs=1)
    a_cells, a_preds = comparable(tmp_path / "straight")
    b_cells, b_preds = comparable(killed)
    pd.testing.assert_frame_equal(a_cells, b_cells)
    pd.testing.assert_frame_equal(a_preds, b_preds)


def test_inner_folds_store_training_fold_oof_predictions(tiny_grid_file: Path, tmp_path: Path) -> None:
    text = tiny_grid_file.read_text().replace("n_repeats = 2", "n_repeats = 1\ninner_folds = 3")
    grid_file = tmp_path / "inner.toml"
    grid_file.write_text(text)
    grid = load_grid(grid_file)
    assert grid.inner_folds == 3
    run_grid(grid, tmp_path / "r", n_jobs=1)
    cells = store_reader(tmp_path / "r").cells()
    ok = cells[cells["status"] == "ok"]
    inner = store_reader(tmp_path / "r").inner_predictions()
    test = store_reader(tmp_path / "r").predictions()
    assert set(inner) == set(ok["key"]) and (ok["inner_folds"] == 3).all()
    n_rows = store_reader(tmp_path / "r").datasets().set_index("name")["n"]
    for key, dataset in ok[["key", "dataset"]].itertuples(index=False):
        own = inner[key]
        test_rows = test.loc[test["key"] == key, "row_index"].to_numpy()
        assert not set(own.row_index) & set(test_rows)  # training-fold rows only
        assert len(set(own.row_index)) == len(own.row_index)  # each training row predicted exactly once
        assert len(own.row_index) + len(test_rows) == n_rows[dataset]
        assert sorted(set(own.fold)) == [0, 1, 2] and own.test_proba.shape == (3, len(test_rows))
        assert np.bincount(own.fold).min() >= len(own.fold) // 3  # stratified parts of equal size
    every = np.concatenate([own.proba for own in inner.values()])
    labels = np.concatenate([own.y_true for own in inner.values()])
    assert ((every >= 0) & (every <= 1)).all()
    assert 0.6 < roc_auc_score(labels, every) < 1.0  # informative, not in-sample perfect
