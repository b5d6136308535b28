"""A store you can trust: one run at a time, one file at rest (WAL checkpoints), a full integrity
check, the stored spec describing the stored cells, and a resume that checks cheaply."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbench.benchmarks.store.check import check_store_integrity
from imbench.benchmarks.spec.grid import load_grid, parse_grid
from imbench.benchmarks.store.lock import RunLock, StoreBusyError, run_in_progress
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.spec_union import union_spec
from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.schema import store_path
from imbench.foundation.plugins import load_plugin_dirs
from tests.helpers import ROOT, TINY_GRID, comparable, run_cli, store_fingerprint
from tests.helpers.cli_fork import run_cli_forked

SLOW_PLUGINS = ROOT / "tests" / "plugins_slow"
SLOW_GRID = """\
name = "slow"
seed = 1
datasets = ["keel:glass1"]
models = ["logreg"]
strategies = ["none", {{name = "test-sleep", seconds = {seconds}}}]
[cv]
n_splits = 3
n_repeats = {repeats}
"""


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("imbench")
    return subprocess.Popen([str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "COLUMNS": "200", **(env or {})})


def _count(results: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{store_path(results)}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _wait(condition, seconds: float = 300) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --- one run per store -----------------------------------------------------------------------------

def test_the_lock_is_exclusive_and_released_with_the_process(tmp_path: Path) -> None:
    with RunLock(tmp_path):
        holder = run_in_progress(tmp_path)
        assert holder is not None and holder.pid == os.getpid()
        with pytest.raises(StoreBusyError, match=f"pid {os.getpid()}, started "):
            RunLock(tmp_path).acquire()
    assert run_in_progress(tmp_path) is None
    # a process that dies holding the lock (kill -9) leaves nothing to clean up
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; from imbench.benchmarks.store.lock import RunLock; "
                              f"RunLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    assert run_in_progress(tmp_path).pid == child.pid  # type: ignore[union-attr]
    child.kill()
    child.wait()
    with RunLock(tmp_path):
        pass


def test_two_concurrent_runs_the_second_is_refused_and_the_store_equals_one_run(tmp_path: Path) -> None:
    grid = tmp_path / "slow.toml"
    grid.write_text(SLOW_GRID.format(seconds=0.3, repeats=4))
    shared = tmp_path / "shared"
    first = _cli("run", str(grid), "--results", str(shared), "--plugins", str(SLOW_PLUGINS), "--no-progress")
    _wait(lambda: _count(shared) >= 1 or first.poll() is not None)
    assert first.poll() is None, "the first run ended before the second started; make the grid slower"
    # the second run starts at once (forked from this process, its modules already imported)
    second = run_cli_forked("run", str(grid), "--results", str(shared), "--plugins", str(SLOW_PLUGINS),
                            "--no-progress")
    assert first.poll() is None, "the first run ended before the second was refused; make the grid slower"
    assert second.returncode == 2 and second.stdout == "", second.stderr
    assert second.stderr.count("\n") == 1
    assert f"another imbench run is writing this store (pid {first.pid}, started" in second.stderr
    assert first.wait(timeout=600) == 0
    load_plugin_dirs([SLOW_PLUGINS])
    run_grid(load_grid(grid), tmp_path / "alone", backend="sequential")
    a_cells, a_preds = comparable(tmp_path / "alone")
    b_cells, b_preds = comparable(shared)
    pd.testing.assert_frame_equal(a_cells, b_cells)
    pd.testing.assert_frame_equal(a_preds, b_preds)
    assert len(store_reader(shared).runs()) == 1  # the refused run left no trace


def test_analysis_of_a_store_being_written_says_run_in_progress(tmp_path: Path) -> None:
    run_grid(parse_grid(TINY_GRID), tmp_path / "r", backend="sequential")
    from imbench.analysis.loading import RunResults

    assert RunResults.load(tmp_path / "r").completeness.describe() == ""  # type: ignore[union-attr]
    with RunLock(tmp_path / "r"):
        described = RunResults.load(tmp_path / "r").completeness.describe()  # type: ignore[union-attr]
        board = run_cli("leaderboard", str(tmp_path / "r"), "--out", str(tmp_path / "out"))
    assert described.startswith(f"incomplete: run in progress (pid {os.getpid()}")
    assert board.returncode == 0 and "incomplete: run in progress" in board.stdout


# --- one file at rest ------------------------------------------------------------------------------

def test_after_kill_9_the_main_file_alone_holds_every_cell_stored_before_the_last_checkpoint(tmp_path: Path) -> None:
    interval = 1.0  # stands for the default minute: IMBENCH_CHECKPOINT_SECONDS
    grid = tmp_path / "slow.toml"
    grid.write_text(SLOW_GRID.format(seconds=0.25, repeats=16))
    results = tmp_path / "killed"
    run = _cli("run", str(grid), "--results", str(results), "--plugins", str(SLOW_PLUGINS), "--no-progress",
               env={"IMBENCH_CHECKPOINT_SECONDS": str(interval)})
    _wait(lambda: _count(results) >= 1 or run.poll() is not None)
    first_seen = time.monotonic()
    _wait(lambda: (_count(results) >= 12 and time.monotonic() - first_seen > 4 * interval) or run.poll() is not None)
    assert run.poll() is None, "the run ended before the kill; make the grid slower"
    os.killpg(run.pid, signal.SIGKILL)
    killed_at = pd.Timestamp.now(tz="UTC")
    run.wait()
    alone = tmp_path / "copy"
    alone.mkdir()
    shutil.copy2(store_path(results), store_path(alone))  # the one .sqlite file, without its -wal
    stored = store_reader(results).cells().set_index("key")["finished_at"].map(pd.Timestamp)
    old_enough = set(stored[stored < killed_at - pd.Timedelta(seconds=2 * interval)].index)
    assert len(old_enough) >= 6 and len(old_enough) < len(stored)
    with sqlite3.connect(f"file:{store_path(alone)}?immutable=1", uri=True) as conn:
        in_main_file = {key for (key,) in conn.execute("SELECT key FROM cells")}
    assert old_enough <= in_main_file
    check = run_cli("check", str(results))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "check passed" in check.stdout and "did not finish" in check.stdout


def test_a_finished_run_leaves_one_file(tmp_path: Path) -> None:
    run_grid(parse_grid(TINY_GRID), tmp_path / "r", backend="sequential")
    store_reader(tmp_path / "r").cells()  # reading a store at rest creates nothing next to it
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["imbench.lock", "imbench.sqlite"]


# --- imbench check ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checked_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = tmp_path_factory.mktemp("check") / "r"
    run_grid(parse_grid(TINY_GRID.replace('"random-under", "smote"', '"random-under"')), results, backend="sequential")
    return results


def _tampered(store: Path, tmp_path: Path, *statements: str) -> Path:
    copy = tmp_path / "tampered"
    shutil.copytree(store, copy)
    with sqlite3.connect(store_path(copy)) as conn:
        for statement in statements:
            conn.execute(statement)
    return copy


def test_check_passes_on_a_good_store(checked_store: Path) -> None:
    report = check_store_integrity(checked_store)
    assert report.ok, report.problems
    assert any("folds recomputed: the stored rows of all 54 ok cells match" in line for line in report.passed)


@pytest.mark.parametrize(("statements", "problem"), [
    (["DELETE FROM predictions WHERE key = (SELECT MIN(key) FROM cells)"], "1 ok cells without test predictions"),
    (["INSERT INTO cells SELECT 'x' || key, run_id, dataset, model, strategy, label, params, repeat, fold, status, "
      "message, family, anti_pattern, training_prior, prior_rule, fingerprint, degenerate, inner_folds, inner_status, "
      "metrics, fit_seconds, predict_seconds, inner_seconds, extra, finished_at FROM cells LIMIT 1"],
     "labels stored twice for one fold"),
    (["UPDATE cells SET status = 'error' WHERE key = (SELECT MIN(key) FROM cells)"],
     "1 failed or skipped cells with predictions"),
    (["UPDATE predictions SET row_index = (SELECT row_index FROM predictions ORDER BY key DESC LIMIT 1) "
      "WHERE key = (SELECT MIN(key) FROM predictions)"], "stored rows differ from their recomputed folds"),
    (["UPDATE meta SET value = '7' WHERE key = 'expected_cells'"], "meta says 7 planned cells"),
])
def test_check_says_what_is_wrong(checked_store: Path, tmp_path: Path, statements: list[str], problem: str) -> None:
    report = check_store_integrity(_tampered(checked_store, tmp_path, *statements))
    assert not report.ok and any(problem in line for line in report.problems), report.problems


def test_check_finds_a_damaged_page_and_exits_3(checked_store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "damaged"
    shutil.copytree(checked_store, copy)
    size = store_path(copy).stat().st_size
    with open(store_path(copy), "r+b") as handle:  # the header stays valid: only pages in the middle
        handle.seek(size // 2)
        handle.write(os.urandom(8192))
    out = run_cli("check", str(copy))
    assert out.returncode == 3, out.stdout + out.stderr
    assert "PROBLEM:" in out.stdout and "check failed" in out.stdout and "Traceback" not in out.stderr


# --- the stored spec describes the stored cells ----------------------------------------------------

def test_every_run_keeps_its_spec_and_reports_show_their_union(tmp_path: Path) -> None:
    from imbench.analysis.report import grid_toml

    results = tmp_path / "r"
    run_grid(parse_grid(TINY_GRID), results, backend="sequential")
    fewer = TINY_GRID.replace('"none", "class-weight", "random-under", "smote"', '"none"')
    run_grid(parse_grid(fewer), results, backend="sequential")
    three = TINY_GRID.replace(', "smote"]', ']')
    summary = run_grid(parse_grid(three), results, backend="sequential")
    assert sum(summary.counts.values()) == 0
    specs = [run["spec"] for run in store_reader(results).runs()]
    assert len(specs) == 3 and [len(s["strategies"]) for s in specs] == [4, 1, 3]
    meta = store_reader(results).meta()
    assert meta["spec"] == union_spec(specs) == parse_grid(TINY_GRID).to_dict()
    assert meta["expected_cells"] == len(store_reader(results).cells()) == 72
    assert parse_grid(grid_toml(meta["spec"])).to_dict() == parse_grid(TINY_GRID).to_dict()


# --- resume checks stay cheap ----------------------------------------------------------------------

def test_resuming_a_finished_run_skips_the_registries_until_an_input_changes(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    rng = np.random.default_rng(0)
    y = (np.arange(90) % 4 == 0).astype(int)
    pd.DataFrame({"x": rng.normal(size=90) + y, "y": y}).to_csv(data, index=False)
    grid = tmp_path / "g.toml"
    grid.write_text(TINY_GRID.replace('"keel:ecoli-0_vs_1", ', f'"file:{data}[target=y]", '))
    results = tmp_path / "r"
    script = ("import sys\nfrom imbench.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
              "    code = e.code\nprint('registries loaded:', 'imbench.strategies' in sys.modules, file=sys.stderr)\n")

    def resume() -> str:
        done = subprocess.run([sys.executable, "-c", script, "run", str(grid), "--results", str(results),
                               "--no-progress"], capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert done.returncode == 0, done.stderr
        assert "Leaderboard by ap" in done.stdout
        return done.stderr

    first = resume()
    assert "ran 72: 72 ok" in first and "registries loaded: True" in first
    again = resume()
    assert "72 already stored, ran 0: nothing to do" in again and "registries loaded: False" in again
    before = store_fingerprint(results)
    os.utime(data, ns=(time.time_ns(), time.time_ns() + 10**9))  # the data file looks edited: check it
    edited = resume()
    assert "nothing to do" in edited and "registries loaded: True" in edited
    assert store_fingerprint(results)["cells"] == before["cells"]
    assert "registries loaded: False" in resume()


def test_fingerprints_come_from_the_cache_while_the_file_is_unchanged(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib

    fp = importlib.import_module("imbench.datasets.fingerprint")  # `datasets.fingerprint` is also the function
    registry = importlib.import_module("imbench.datasets.registry")

    monkeypatch.setenv("IMBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(fp, "_MEMO", None)
    data = tmp_path / "d.csv"
    y = (np.arange(60) % 3 == 0).astype(int)
    pd.DataFrame({"x": np.arange(60.0) + y, "y": y}).to_csv(data, index=False)
    name = registry.resolve_name(f"file:{data}[target=y]")
    loads = []
    real = registry.load_dataset
    monkeypatch.setattr(registry, "load_dataset", lambda n: loads.append(n) or real(n))
    first = fp.dataset_identities([name])[name]
    monkeypatch.setattr(fp, "_MEMO", None)  # a new process: read from the cache file
    second = fp.dataset_identities([name])[name]
    assert loads == [name] and second == first and second.meta["n"] == 60
    pd.DataFrame({"x": np.arange(60.0) - y, "y": y}).to_csv(data, index=False)  # same size, new content
    os.utime(data, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    third = fp.dataset_identities([name])[name]
    assert loads == [name, name] and third.fingerprint != first.fingerprint
    assert json.loads((tmp_path / "cache" / "fingerprints.json").read_text())[name]["fingerprint"] == third.fingerprint
