"""The command line as a user types it: end-to-end smoke run, listing, export, and bad input."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.schema import store_path
from tests.helpers import ROOT, TINY_GRID, run_cli


def test_smoke_grid_end_to_end(tmp_path: Path) -> None:
    results = tmp_path / "smoke"
    done = run_cli("run", "benchmarks/smoke.toml", "-j", "2", "--results", str(results))
    assert done.returncode == 0, done.stderr
    assert "Leaderboard by ap" in done.stdout and "class-weight" in done.stdout
    cells = store_reader(results).cells()
    assert set(cells["status"]) <= {"ok", "skipped"}
    assert (cells["status"] == "ok").mean() > 0.9
    ok = cells[cells["status"] == "ok"]
    assert ok["ap"].between(0, 1).all() and (ok["ap"] >= ok["prevalence"] - 0.2).all()
    # every ok cell has exactly its test fold's predictions
    preds = store_reader(results).predictions()
    assert preds.groupby("key").size().sum() == len(preds)
    assert set(preds["key"]) == set(ok["key"])

    again = run_cli("run", "benchmarks/smoke.toml", "--results", str(results), "--no-progress")
    assert again.returncode == 0
    assert f"{len(cells)} already stored, ran 0" in again.stderr

    board = run_cli("leaderboard", str(results), "--metric", "roc_auc")
    assert board.returncode == 0 and "Leaderboard by roc_auc" in board.stdout

    for fmt in ("parquet", "csv"):
        out = run_cli("export", str(results), "--format", fmt, "--out", str(tmp_path / fmt))
        assert out.returncode == 0, out.stderr
        read = pd.read_parquet if fmt == "parquet" else pd.read_csv
        assert len(read(tmp_path / fmt / f"cells.{fmt}")) == len(cells)
        exported = read(tmp_path / fmt / f"predictions.{fmt}")
        assert len(exported) == len(preds)
        assert exported["proba"].sum() == pytest.approx(preds["proba"].sum())


@pytest.mark.parametrize(("what", "expected"), [("datasets", "keel:yeast4"), ("models", "lightgbm"),
                                                ("strategies", "smote")])
def test_list(what: str, expected: str) -> None:
    out = run_cli("list", what)
    assert out.returncode == 0 and expected in out.stdout


def _bad(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('"keel:glass1"', '"keel:glas1"', "bad.toml:3: unknown dataset 'keel:glas1': did you mean 'keel:glass1'"),
    ('models = ["logreg"]', 'models = ["logreg"', "bad.toml:5: malformed TOML"),
    ('n_splits = 3', 'n_splits = 3\nfold = 2', "bad.toml:9: unknown key in [cv] 'fold': did you mean"),
])
def test_bad_grid_one_line_exit_2(tmp_path: Path, old: str, new: str, expected: str) -> None:
    grid = _bad(tmp_path, TINY_GRID.replace(old, new))
    out = run_cli("run", str(grid), "--results", str(tmp_path / "r"))
    assert out.returncode == 2
    line = out.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line == f"imbench: error: {grid.parent}/{expected}" or line.startswith(f"imbench: error: {grid.parent}/{expected}")
    assert not (tmp_path / "r").exists()


def test_missing_grid_and_results(tmp_path: Path) -> None:
    out = run_cli("run", str(tmp_path / "nope.toml"))
    assert out.returncode == 2 and "grid file not found" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("leaderboard", str(tmp_path))
    assert out.returncode == 2 and "no imbench results store here" in out.stderr


def test_debug_shows_traceback(tmp_path: Path) -> None:
    out = run_cli("--debug", "run", str(tmp_path / "nope.toml"))
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_bad_input_leaves_existing_results_untouched(tmp_path: Path) -> None:
    grid = _bad(tmp_path, TINY_GRID.replace('strategies = ["none", "class-weight", "random-under", "smote"]',
                                            'strategies = ["none"]'))
    results = tmp_path / "r"
    assert run_cli("run", str(grid), "--results", str(results), "--no-progress").returncode == 0
    before_cells = store_reader(results).cells()
    before_hash = hashlib.sha256(store_path(results).read_bytes()).hexdigest()
    for text in (TINY_GRID.replace("seed = 7", "seed = 8"), TINY_GRID.replace('"smote"', '"smoet"')):
        out = run_cli("run", str(_bad(tmp_path, text)), "--results", str(results))
        assert out.returncode == 2, out.stderr
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "different `seed`" in run_cli("run", str(_bad(tmp_path, TINY_GRID.replace("seed = 7", "seed = 8"))),
                                         "--results", str(results)).stderr
    out = run_cli("leaderboard", str(results), "--metric", "pr_auc")
    assert out.returncode == 2 and "unknown metric 'pr_auc': it is stored as 'ap'" in out.stderr
    out = run_cli("leaderboard", str(results), "--metric", "recall_at_precision0.85")
    assert out.returncode == 2 and "did you mean 'recall_at_precision0.8'" in out.stderr
    pd.testing.assert_frame_equal(before_cells, store_reader(results).cells())
    assert hashlib.sha256(store_path(results).read_bytes()).hexdigest() == before_hash


def test_shipped_grid_files_exist() -> None:
    for name in ("smoke", "default", "full"):
        assert (ROOT / "benchmarks" / f"{name}.toml").is_file()


def test_a_closed_pipe_ends_a_command_quietly_with_141() -> None:
    """`imbench list datasets | head -1`: the reader goes away; no traceback, and not exit code 1,
    which means an internal error. (The reader is gone before the command writes, so every write
    meets the closed pipe.)"""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "imbench.cli", "list", "datasets"], cwd=ROOT, stdout=write_end,
                              stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write_end)
    errors = proc.stderr.decode()
    assert proc.returncode == 141, errors
    assert "Traceback" not in errors and "BrokenPipe" not in errors
