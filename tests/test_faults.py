"""Faults the runner must survive: an exception, a hang past the time limit, a worker that dies (by an
exit code or a signal), a cell past its memory limit (in Python or in native code)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from imbench.benchmarks.store.reader import store_reader
from tests.helpers import ROOT, run_cli

PLUGINS = str(ROOT / "tests" / "plugins_faults")
FAULT_GRID = """\
name = "faults"
datasets = ["keel:glass1"]
models = ["logreg"]
strategies = ["none", "test-raise", "test-crash", "test-kill", "test-hang", "test-oom-python", "test-oom-numpy"]
[cv]
n_splits = 2
n_repeats = 1
"""


def test_every_fault_is_a_row_and_the_grid_goes_on(tmp_path: Path) -> None:
    grid = tmp_path / "faults.toml"
    grid.write_text(FAULT_GRID)
    results = tmp_path / "r"
    args = ["run", str(grid), "-j", "2", "--timeout", "5", "--memory", "250MB", "--results", str(results),
            "--no-progress", "--plugins", PLUGINS]
    out = run_cli(*args)
    assert out.returncode == 0, out.stderr
    cells = store_reader(results).cells()
    status = cells.groupby("label")["status"].agg(lambda s: sorted(set(s)))
    assert status.to_dict() == {"none": ["ok"], "test-raise": ["error"], "test-crash": ["crashed"],
                                "test-kill": ["crashed"], "test-hang": ["timeout"], "test-oom-python": ["oom"],
                                "test-oom-numpy": ["oom"]}
    messages = cells.set_index("label")["message"]
    assert messages["test-raise"].str.contains("deliberate failure in fit").all()
    assert (messages["test-hang"] == "cell exceeded its time limit of 5 s").all()
    assert (messages["test-crash"] == "the worker process exited with code 3").all()
    assert messages["test-kill"].str.startswith("the worker process was killed by signal 9 (SIGKILL").all()
    oom = cells[cells["status"] == "oom"]
    pattern = r"^used [\d,]+ MiB, over the cell memory limit of 250 MiB$"
    assert oom["message"].str.contains(pattern).all(), oom["message"]
    peaks = oom["extra"].map(json.loads)
    assert all(p["memory_limit_mb"] == 250 and p["peak_mb"] > 250 for p in peaks)
    # no fabricated predictions for failed cells
    assert set(store_reader(results).predictions()["key"]) == set(cells.loc[cells["status"] == "ok", "key"])

    # failures are retried on the next run, successes are not, and `oom` cells only under a higher limit
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert "6 already stored, ran 8" in again.stderr
    assert "4 cells stored as oom are not retried" in again.stderr
    hogs = tmp_path / "hogs.toml"  # the same grid's two memory hogs, under a higher limit: retried
    hogs.write_text(FAULT_GRID.replace('"none", "test-raise", "test-crash", "test-kill", "test-hang", ', ""))
    raised = run_cli("run", str(hogs), "-j", "2", "--memory", "300MB", "--results", str(results), "--no-progress",
                     "--plugins", PLUGINS)
    assert raised.returncode == 0, raised.stderr
    assert "0 already stored, ran 4: 4 oom" in raised.stderr
    assert store_reader(results).cells().query("status == 'oom'")["message"].str.endswith("limit of 300 MiB").all()

def test_sequential_backend_names_the_cell_that_killed_the_process(tmp_path: Path) -> None:
    grid = tmp_path / "crash.toml"
    grid.write_text(FAULT_GRID.replace('"test-raise", "test-crash", "test-kill", "test-hang", "test-oom-python", '
                                       '"test-oom-numpy"', '"test-crash"'))
    out = run_cli("run", str(grid), "--backend", "sequential", "--results", str(tmp_path / "r"), "--no-progress",
                  "--plugins", PLUGINS)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("imbench: error: the run process exited with code 3 while fitting keel:glass1 / "
                               "logreg / test-crash, repeat 0 fold "), lines[0]
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("args, message", [
    (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler is a Dask scheduler address: use it with --backend dask"),
    (["--memory", "lots"], "imbench: error: --memory 'lots' is not a memory size"),
])
def test_bad_run_options_are_one_line(tiny_grid_file: Path, tmp_path: Path, args: list[str], message: str) -> None:
    results = tmp_path / "r"
    out = run_cli("run", str(tiny_grid_file), "--results", str(results), *args)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr, out.stderr
    assert not results.exists()


def test_memory_sizes() -> None:
    from imbench.benchmarks.spec.limits import parse_memory

    assert [parse_memory(v) for v in ("2GB", "2G", "2GiB", "1.5g", "512MB", "800", 1024, "100kB")] == \
        [2048, 2048, 2048, 1536, 512, 800, 1024, 100 / 1024]
    for bad in ("0", 0, -1, "x", "2 GBs", True):
        with pytest.raises(ValueError):
            parse_memory(bad)


def test_cell_memory_in_the_grid(tmp_path: Path) -> None:
    from imbench.benchmarks.spec.grid import GridError, parse_grid

    base = 'datasets = ["keel:glass1"]\nmodels = ["logreg"]\nstrategies = ["none"]\n[limits]\n'
    assert parse_grid(base + 'cell_memory = "2GB"\n').cell_memory == 2048
    assert parse_grid(base + "cell_memory = 1536\n").cell_memory == 1536
    assert parse_grid(base + 'cell_memory = "512MiB"\n').cell_memory == 512
    with pytest.raises(GridError, match=r"<grid>:5: `cell_memory`: '2 lots' is not a memory size"):
        parse_grid(base + 'cell_memory = "2 lots"\n')


def test_broken_plugin_disables_only_itself(tmp_path: Path) -> None:
    out = run_cli("list", "strategies", "--plugins", str(ROOT / "tests" / "plugins_broken"),
                  "--plugins", PLUGINS)
    assert out.returncode == 0, out.stderr
    assert "broken.py disabled: ModuleNotFoundError" in out.stderr
    assert "test-crash" in out.stdout and "smote" in out.stdout


def test_exit_reasons_say_code_or_signal() -> None:
    from imbench.benchmarks.execution.local_pool import exit_reason

    assert exit_reason(3) == "the worker process exited with code 3"
    assert exit_reason(-11) == "the worker process was killed by signal 11 (SIGSEGV)"
    assert exit_reason(-6) == "the worker process was killed by signal 6 (SIGABRT)"
    assert os.name != "posix" or exit_reason(-9).startswith("the worker process was killed by signal 9 (SIGKILL")
