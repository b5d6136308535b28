"""A plan before a run: counts that match what the run does, a cost model that learns what it is
shown, a longest-first schedule, a probe of real cells, and a dry run that writes nothing."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from benchmarks.cells import enumerate_cells
from benchmarks.cost_model import CostModel, FitShape, fit_cost_model, order_by_cost, predict_rows, shipped_model
from benchmarks.fit_cell import CellTask
from benchmarks.grid import parse_grid
from benchmarks.parts import GridPart
from benchmarks.plan import STARTUP_SECONDS, Plan, make_plan, run_probe
from benchmarks.runner import run_grid
from benchmarks.store import read_cells
from tests.helpers import ROOT, TINY_GRID
from tests.helpers.cli_fork import run_cli_forked

#: smoten cannot apply to numeric data (a skip its `check` decides from the data's shape).
GRID = TINY_GRID.replace('"smote"]', '"smote", "smoten"]')


def test_the_plan_counts_what_the_run_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    grid = parse_grid(GRID)
    plan = make_plan(grid)
    assert len(plan.cells) == plan.grid_cells == len(enumerate_cells(grid).cells) == 90
    summary = run_grid(grid, tmp_path / "r", backend="sequential")
    cells = read_cells(tmp_path / "r").set_index("key")
    predicted = set(plan.cells.loc[plan.cells["skipped"], "key"])
    assert predicted == set(cells.index[cells["status"] == "skipped"]) and len(predicted) == 18
    assert summary.counts["ok"] == int(plan.cells["fits"].sum()) == 72
    assert set(plan.summary("strategy")["strategy"]) == {"none", "class-weight", "random-under", "smote", "smoten"}
    again = make_plan(grid, results_dir=tmp_path / "r")
    assert again.stored == 90 and again.to_run.empty and again.wall_seconds(2) == STARTUP_SECONDS
    shard = make_plan(grid, GridPart(shard=(2, 3)))
    assert 0 < len(shard.cells) < 90


def test_the_wall_time_is_a_longest_first_schedule() -> None:
    table = pd.DataFrame({"key": list("abcde"), "dataset": "d", "model": "m", "strategy": "s", "skipped": False,
                          "fits": 1, "fit_seconds": [10.0, 6.0, 5.0, 4.0, 1.0], "steps": 0, "stored": False})
    plan = Plan(parse_grid(TINY_GRID), GridPart(), table, 5, [], [], model=CostModel(overhead_seconds=0.0))
    assert plan.wall_seconds(1) == pytest.approx(26 + STARTUP_SECONDS)
    assert plan.wall_seconds(2) == pytest.approx(14 + STARTUP_SECONDS)  # 10+4 | 6+5+1, longest first
    assert plan.wall_seconds(8) == pytest.approx(10 + STARTUP_SECONDS)  # never below the longest cell
    plan.timeout = 7.0
    assert plan.wall_seconds(8) == pytest.approx(7 + STARTUP_SECONDS)  # a cell stops at its time limit


def _rows(model: CostModel, n: int, noise: float, rng: np.random.Generator) -> pd.DataFrame:
    rows = pd.DataFrame({
        "model": rng.choice(["logreg", "lightgbm", "random-forest"], n),
        "strategy": rng.choice(["none", "smote", "random-under"], n),
        "n_train": np.exp(rng.uniform(np.log(100), np.log(20000), n)), "d": np.exp(rng.uniform(0, np.log(500), n)),
        "n_categorical": rng.integers(0, 4, n).astype(float)})
    rows["label"] = rows["strategy"]
    rows["family"] = rows["strategy"].map({"none": "none", "smote": "oversampling", "random-under": "undersampling"})
    rows["n_pos"] = rows["n_train"] * rng.uniform(0.01, 0.3, n)
    truth = predict_rows(model, rows.assign(seconds=0.0))
    rows["seconds"] = truth * np.exp(rng.normal(0, noise, n) - noise ** 2 / 2)
    return rows


def test_the_cost_model_learns_the_costs_it_is_shown() -> None:
    truth = CostModel(shared={"one": -9.0, "log_n": 0.4, "log_d": 0.6, "log_fit": 0.5, "log_d_grown": 0.2},
                      model={"lightgbm": {"one": 1.0, "log_fit": 0.3}, "random-forest": {"one": 2.0}},
                      strategy={"smote": {"one": 0.5, "log_n": 0.2}, "random-under": {"one": -0.3}})
    rng = np.random.default_rng(0)
    fitted = fit_cost_model(_rows(truth, 4000, 0.3, rng), 0.0, {})
    held = _rows(truth, 500, 0.3, rng)
    predicted = predict_rows(fitted, held)
    expected = predict_rows(truth, held)
    assert np.median(np.abs(np.log(predicted / expected))) < 0.05
    assert predicted.sum() / expected.sum() == pytest.approx(1.0, abs=0.05)  # expected sums, not medians
    assert fitted.smearing == pytest.approx(math.exp(0.3 ** 2 / 2), abs=0.02)
    # an unseen strategy takes its family's factors
    unseen = FitShape("lightgbm", "adasyn", "adasyn", "oversampling", 1000, 20, 100)
    assert fitted.log_seconds(unseen) == pytest.approx(
        fitted.log_seconds(FitShape("lightgbm", "smote", "smote", "oversampling", 1000, 20, 100)), abs=1e-9)


def test_the_shipped_model_says_how_it_was_fitted() -> None:
    model = shipped_model()
    assert model.fitted_on.get("stores") and model.fitted_on.get("excluded_shard") == "1/1000"
    assert model.model and model.strategy and model.overhead_seconds > 0
    # what scheduling by cost needs: more rows and features cost more, for every model. (The size
    # scaling is flatter than measured fits: see docs/performance.md, plan accuracy.)
    for name in model.model:
        big, small = (FitShape(name, "smote", "smote", "oversampling", n, d, n / 10) for n, d in ((10000, 200), (160, 8)))
        assert model.fit_seconds(big) > 3 * model.fit_seconds(small), name
    forest, linear = (FitShape(m, "none", "none", "none", 5000, 50, 500) for m in ("random-forest", "logreg"))
    assert model.fit_seconds(forest) > model.fit_seconds(linear)


def test_the_runner_starts_with_the_longest_cells() -> None:
    grid = parse_grid(TINY_GRID.replace('"keel:new-thyroid1"]', '"keel:new-thyroid1", "keel:page-blocks0"]')
                      .replace('models = ["logreg"]', 'models = ["logreg", "random-forest"]'))
    tasks = [CellTask(cell, grid.metrics) for cell in enumerate_cells(grid).cells]
    metas = {"keel:glass1": {"n": 214, "d": 9, "n_pos": 76}, "keel:ecoli-0_vs_1": {"n": 220, "d": 7, "n_pos": 77},
             "keel:new-thyroid1": {"n": 215, "d": 5, "n_pos": 35}, "keel:page-blocks0": {"n": 5472, "d": 10,
                                                                                         "n_pos": 559}}
    model = CostModel(shared={"one": -8.0, "log_n": 1.0}, model={"random-forest": {"one": 2.0}})
    ordered = order_by_cost(tasks, metas, model)
    costs = [model.cell_seconds(t.cell, metas[t.cell.dataset], 0) for t in ordered]
    assert costs == sorted(costs, reverse=True)
    assert ordered[0].cell.dataset == "keel:page-blocks0" and ordered[0].cell.model == "random-forest"
    assert {t.cell.key for t in ordered} == {t.cell.key for t in tasks}


def test_the_probe_times_real_cells_of_the_plan() -> None:
    plan = make_plan(parse_grid(GRID))
    probe = run_probe(plan, budget=3.0, n_jobs=1)
    assert 2 <= probe.cells <= 24 and probe.measured > 0 and probe.predicted > 0
    assert probe.ratio == pytest.approx(np.clip(probe.measured / probe.predicted, 0.25, 4.0))
    plan.probe = probe
    assert plan.cell_seconds().sum() == pytest.approx(
        (plan.to_run["fit_seconds"].sum() + plan.model.overhead(0) * len(plan.to_run)) * probe.ratio)


def test_a_dry_run_prints_the_plan_and_writes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    grid = tmp_path / "g.toml"
    grid.write_text(GRID)
    results = tmp_path / "r"
    out = run_cli_forked("run", str(grid), "--results", str(results), "--dry-run", "--probe", "0", "-j", "2",
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert not results.exists()
    text = " ".join(out.stdout.split())
    assert "90 cells in the grid; this run: 90 cells, 0 already stored, 90 to run (72 fits, 18 skips)" in text
    assert "estimate at -j 2:" in out.stdout and "by strategy" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    full = run_cli_forked("plan", "benchmarks/full.toml", "--probe", "0", "--shard", "1/1000", cwd=ROOT)
    assert full.returncode == 0, full.stderr
    assert "204,530 cells in the grid" in full.stdout and "113 bundled" in full.stdout
    assert "probe:" not in full.stdout
    assert "need a download" not in full.stdout  # full.toml runs offline
    assert max(len(line) for line in full.stdout.splitlines()) <= 80, full.stdout
