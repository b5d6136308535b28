"""Faults the runner must survive: an exception, a hang past the time limit, a worker that dies."""
from __future__ import annotations

from pathlib import Path

from benchmarks.store import read_cells, read_predictions
from tests.helpers import ROOT, run_cli

FAULT_GRID = """\
name = "faults"
datasets = ["keel:glass1"]
models = ["logreg"]
strategies = ["none", "test-raise", "test-crash", "test-hang"]
[cv]
n_splits = 2
n_repeats = 1
"""


def test_every_fault_is_a_row_and_the_grid_goes_on(tmp_path: Path) -> None:
    grid = tmp_path / "faults.toml"
    grid.write_text(FAULT_GRID)
    results = tmp_path / "r"
    args = ["run", str(grid), "-j", "2", "--timeout", "3", "--results", str(results), "--no-progress",
            "--plugins", str(ROOT / "tests" / "plugins_faults")]
    out = run_cli(*args)
    assert out.returncode == 0, out.stderr
    cells = read_cells(results)
    status = cells.groupby("label")["status"].agg(lambda s: sorted(set(s)))
    assert status.to_dict() == {"none": ["ok"], "test-raise": ["error"], "test-crash": ["crashed"],
                                "test-hang": ["timeout"]}
    messages = cells.set_index("label")["message"]
    assert messages["test-raise"].str.contains("deliberate failure in fit").all()
    assert messages["test-hang"].str.contains("time limit of 3 s").all()
    assert messages["test-crash"].str.contains("worker process died").all()
    # no fabricated predictions for failed cells
    assert set(read_predictions(results)["key"]) == set(cells.loc[cells["status"] == "ok", "key"])

    # failures are retried on the next run, successes are not
    again = run_cli(*args)
    assert again.returncode == 0
    assert "2 already stored, ran 6" in again.stderr


def test_broken_plugin_disables_only_itself(tmp_path: Path) -> None:
    out = run_cli("list", "strategies", "--plugins", str(ROOT / "tests" / "plugins_broken"),
                  "--plugins", str(ROOT / "tests" / "plugins_faults"))
    assert out.returncode == 0, out.stderr
    assert "broken.py disabled: ModuleNotFoundError" in out.stderr
    assert "test-crash" in out.stdout and "smote" in out.stdout
