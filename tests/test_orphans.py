"""No orphans: killing only the main process (as an OOM killer or a supervisor does) leaves no imbench
process behind, SIGTERM stops a run like Ctrl-C (exit 143), and the next run cleans what a dead run left."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from imbench.benchmarks.spec.grid import load_grid
from imbench.benchmarks.execution.run_folder import OWNER_FILE, PREFIX, remove_stale
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.schema import store_path
from tests.helpers import comparable


def _stored(results: Path) -> int:
    try:
        with sqlite3.connect(store_path(results), timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    except sqlite3.Error:
        return 0


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                out.append(process)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from tests.helpers import TINY_GRID

    folder = tmp_path_factory.mktemp("straight")
    grid = folder / "tiny.toml"
    grid.write_text(TINY_GRID)
    run_grid(load_grid(grid), folder / "r", n_jobs=2)
    return grid, folder / "r"


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killing_the_main_process_only_leaves_nothing_running(straight: tuple[Path, Path], tmp_path: Path,
                                                              how: signal.Signals) -> None:
    grid, straight_results = straight
    killed = tmp_path / "killed"
    exe = Path(sys.executable).with_name("imbench")
    proc = subprocess.Popen([str(exe), "run", str(grid), "-j", "2", "--results", str(killed), "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while _stored(killed) < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; make the grid larger"
    main = psutil.Process(proc.pid)
    family = main.children(recursive=True)
    assert len(family) >= 2, family  # at least the two workers
    scratch = [p for p in Path(tempfile.gettempdir()).glob(f"{PREFIX}{proc.pid}-*")]
    assert len(scratch) == 1

    os.kill(proc.pid, how)  # the main process only, not its group
    _, stderr = proc.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while _alive(family) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(family) == [], [p.cmdline() for p in _alive(family)]
    if how == signal.SIGTERM:
        assert proc.returncode == 143
        lines = [line for line in stderr.splitlines() if line.strip() and "notice:" not in line]
        assert lines == ["imbench: stopped by SIGTERM (a run keeps its finished cells: the same command resumes)"]
        assert not scratch[0].exists()  # cleaned up on the way out
    else:
        assert proc.returncode == -signal.SIGKILL
        assert scratch[0].exists()  # nobody could clean up: the next run does

    partial = _stored(killed)
    assert partial >= 8
    summary = run_grid(load_grid(grid), killed, n_jobs=2)
    assert summary.already_done == partial
    assert not scratch[0].exists()
    a_cells, a_preds = comparable(straight_results)
    b_cells, b_preds = comparable(killed)
    pd.testing.assert_frame_equal(a_cells, b_cells)
    pd.testing.assert_frame_equal(a_preds, b_preds)


def test_stale_scratch_folders_and_semaphores_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    temp, shm = tmp_path / "tmp", tmp_path / "shm"
    temp.mkdir()
    shm.mkdir()
    mine = temp / f"{PREFIX}{os.getpid()}-a"
    mine.mkdir()
    (mine / OWNER_FILE).write_text(f"{os.getpid()} {psutil.Process().create_time()!r}\n")
    orphan = temp / f"{PREFIX}{dead.pid}-b"
    orphan.mkdir()
    (orphan / OWNER_FILE).write_text(f"{dead.pid} 12345.0\n")
    (orphan / "data.joblib").write_bytes(b"x")
    reused = temp / f"{PREFIX}{os.getpid()}-c"  # this pid, but another start time: a dead run whose pid came back
    reused.mkdir()
    (reused / OWNER_FILE).write_text(f"{os.getpid()} 12345.0\n")
    foreign = temp / f"{PREFIX}somebody"  # not ours to judge
    foreign.mkdir()
    semaphore, live_semaphore = shm / f"sem.loky-{dead.pid}-x1", shm / f"sem.loky-{os.getpid()}-x2"
    semaphore.write_bytes(b"")
    live_semaphore.write_bytes(b"")

    removed = remove_stale(temp, shm)
    assert sorted(removed) == sorted([orphan, reused, semaphore])
    assert mine.exists() and foreign.exists() and live_semaphore.exists()
    assert not orphan.exists() and not reused.exists() and not semaphore.exists()
