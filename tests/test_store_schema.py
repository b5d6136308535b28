"""A store that describes itself (schema 2): what each cell is, refused mixtures (another schema, a
dataset whose content changed), and degenerate fits flagged instead of a silent `ok`."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbench.benchmarks.spec.grid import parse_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.schema import StoreError, store_path
from tests.helpers import run_cli

FILE_GRID = """\
name = "file"
datasets = ["file:{path}[target=y]"]
models = ["logreg"]
strategies = ["none", "random-under"]
[cv]
n_splits = 3
n_repeats = 1
"""


def _write_csv(path: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    pd.DataFrame({"x0": rng.normal(size=n) + y, "x1": rng.normal(size=n), "y": y}).to_csv(path, index=False)


def test_each_cell_and_run_says_what_it_is(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    _write_csv(data, 200)
    results = tmp_path / "r"
    run_grid(parse_grid(FILE_GRID.format(path=data)), results, backend="sequential")
    cells = store_reader(results).cells()
    assert dict(zip(cells["strategy"], cells["family"])) == {"none": "none", "random-under": "undersampling"}
    assert not cells["anti_pattern"].any()
    under = cells[cells["strategy"] == "random-under"]
    assert (under["prior_rule"] == "measured").all() and np.allclose(under["training_prior"], 0.5, atol=0.02)
    none = cells[cells["strategy"] == "none"]
    assert (none["prior_rule"] == "data").all() and none["training_prior"].between(0.1, 0.3).all()
    fingerprint = store_reader(results).datasets()["fingerprint"].iloc[0]
    assert len(fingerprint) == 64 and (cells["fingerprint"] == fingerprint).all()
    run = store_reader(results).runs()[0]
    assert run["spec"]["name"] == "file" and run["finished_at"] and run["pid"] > 0
    packages = run["environment"]["packages"]
    assert packages["imbench"] and packages["scikit-learn"]
    assert (cells["run_id"] == run["id"]).all()


def test_a_dataset_that_changed_is_refused_on_resume(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    _write_csv(data, 200)
    results = tmp_path / "r"
    grid = tmp_path / "grid.toml"
    grid.write_text(FILE_GRID.format(path=data))
    assert run_cli("run", str(grid), "--results", str(results), "--no-progress").returncode == 0
    before = store_reader(results).cells()
    _write_csv(data, 300, seed=1)  # same name, other rows
    out = run_cli("run", str(grid), "--results", str(results), "--no-progress")
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "dataset 'file:" in out.stderr and "changed since its cells were stored" in out.stderr
    pd.testing.assert_frame_equal(store_reader(results).cells(), before)  # nothing stored changed
    _write_csv(data, 200)  # restored: the same content resumes (nothing to do)
    again = run_cli("run", str(grid), "--results", str(results), "--no-progress")
    assert again.returncode == 0 and "ran 0" in again.stderr


def test_a_schema_1_store_is_refused_in_one_line(tmp_path: Path) -> None:
    results = tmp_path / "old"
    results.mkdir()
    conn = sqlite3.connect(store_path(results))
    conn.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                       "INSERT INTO meta VALUES ('schema_version', '1');"
                       "CREATE TABLE cells (key TEXT PRIMARY KEY);")
    conn.commit()
    conn.close()
    before = store_path(results).read_bytes()
    for args in (["leaderboard", str(results)], ["run", "benchmarks/smoke.toml", "--results", str(results)]):
        out = run_cli(*args)
        assert out.returncode == 2, out.stderr
        assert out.stderr.startswith("imbench: error: ") and out.stderr.count("\n") == 1
        assert "schema 1" in out.stderr and "schema 2" in out.stderr and "Traceback" not in out.stderr
    assert store_path(results).read_bytes() == before
    with pytest.raises(StoreError, match="no migration"):
        store_reader(results).cells()


TINY_BALANCED = """\
name = "tiny"
datasets = ["keel:glass-0-1-6_vs_5"]
models = ["lightgbm", {name = "lightgbm", small_sets = "scale"}]
strategies = ["random-under"]
[cv]
n_splits = 3
n_repeats = 1
"""


def test_a_constant_prediction_is_flagged_and_the_opt_in_rule_is_recorded(tmp_path: Path) -> None:
    """glass-0-1-6_vs_5 has 9 positives: under-sampled to balance, a training fold holds 12 rows, below
    LightGBM's 20-row leaves, so the model predicts one value — flagged, never a silent ok. The
    opt-in rule `small_sets = "scale"` lets it split, and each cell records what it used."""
    results = tmp_path / "r"
    run_grid(parse_grid(TINY_BALANCED), results, backend="sequential")
    cells = store_reader(results).cells().set_index("model")
    plain, scaled = cells.loc[["lightgbm"]], cells.loc[["lightgbm[small_sets=scale]"]]
    assert (plain["status"] == "ok").all()
    assert plain["degenerate"].str.contains("single value on the test fold").all()
    assert not scaled["degenerate"].astype(bool).any()
    rules = [json.loads(extra)["model_rules"][0] for extra in scaled["extra"]]
    assert all(rule.startswith("min_child_samples 20 → 1 for 12 training rows") for rule in rules), rules
    assert scaled["ap"].gt(plain["ap"].mean()).mean() >= 2 / 3
    assert {json.loads(e).get("model_options", {}).get("small_sets") for e in scaled["extra"]} == {"scale"}


def test_a_leaderboard_and_its_folds_open_the_store_once(tmp_path: Path) -> None:
    """One reader per command: the board reads cells, derived results, datasets and predictions and
    the fold analyses read them again, all through one connection checked once; a write to the store
    makes the next read open a new one."""
    import imbench
    from imbench.analysis.folds import load_folds
    from imbench.benchmarks.store.reader import StoreReader, forget_reader

    data = tmp_path / "data.csv"
    _write_csv(data, 200)
    results = tmp_path / "r"
    run_grid(parse_grid(FILE_GRID.format(path=data)), results, backend="sequential")
    forget_reader(results)
    before = StoreReader.opened
    imbench.leaderboard(results)
    load_folds(results)
    assert StoreReader.opened - before == 1
    first = store_reader(results)
    run_grid(parse_grid(FILE_GRID.format(path=data).replace('"random-under"]', '"random-under", "class-weight"]')),
             results, backend="sequential")
    assert store_reader(results) is not first and len(store_reader(results).cells()) == 9


def test_every_sql_statement_is_in_the_store_room() -> None:
    """The store's room (benchmarks/store) is the only code that talks SQL or opens SQLite."""
    import ast

    from tests.helpers import ROOT

    found = []
    for room in ("foundation", "datasets", "strategies", "benchmarks", "analysis", "imbench"):
        for path in sorted((ROOT / room).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative.parts[:2] == ("benchmarks", "store") or "tools" in relative.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "executescript",
                                                                     "read_sql", "read_sql_query", "connect"):
                    owner = ast.unparse(node.value)
                    if node.attr != "connect" or owner == "sqlite3":
                        found.append(f"{relative}:{node.lineno} {owner}.{node.attr}")
    assert found == []
