"""A plan before a run: counts that match what the run does, a cost model that learns what it is
shown, a longest-first schedule, a probe of real cells, and a dry run that writes nothing."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from imbench.benchmarks.spec.cells import enumerate_cells
from imbench.benchmarks.planning.cost_model import (CostModel, FitShape, check_rows, fit_cost_model, fit_overhead, order_by_cost,
                                   predict_rows, shipped_model)
from imbench.benchmarks.execution.fit_cell import CellTask
from imbench.benchmarks.spec.grid import parse_grid
from imbench.benchmarks.spec.parts import GridPart
from imbench.benchmarks.planning.plan import STARTUP_SECONDS, Plan, make_plan, run_probe
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from tests.helpers import ROOT, TINY_GRID
from tests.helpers.cli_fork import run_cli_forked

#: smoten cannot apply to numeric data (a skip its `check` decides from the data's shape).
GRID = TINY_GRID.replace('"smote"]', '"smote", "smoten"]')


def test_the_plan_counts_what_the_run_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    grid = parse_grid(GRID)
    plan = make_plan(grid)
    assert len(plan.cells) == plan.grid_cells == len(enumerate_cells(grid).cells) == 90
    summary = run_grid(grid, tmp_path / "r", backend="sequential")
    cells = store_reader(tmp_path / "r").cells().set_index("key")
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
    """Rows drawn from known coefficients (a fixed cost plus a work term, log-normal noise) give
    back both terms of each fit, the contrasts between models and the expected sums."""
    truth = CostModel(shared={"fixed": -1.5, "one": -11.0, "log_work": 1.0, "log_d_grown": 0.2},
                      model={"lightgbm": {"fixed": -0.5, "one": 1.0}, "random-forest": {"fixed": 1.5, "one": 2.0},
                             "logreg": {"fixed": -1.0, "one": -1.0}},
                      strategy={"smote": {"one": 0.5, "log_nd": 0.1}, "random-under": {"fixed": 0.3, "one": -0.3}})
    rng = np.random.default_rng(0)
    fitted = fit_cost_model(_rows(truth, 4000, 0.3, rng), 0.0, {})
    held = _rows(truth, 500, 0.3, rng)
    predicted = predict_rows(fitted, held)
    expected = predict_rows(truth, held)
    assert np.median(np.abs(np.log(predicted / expected))) < 0.05
    assert predicted.sum() / expected.sum() == pytest.approx(1.0, abs=0.05)  # expected sums, not medians
    assert fitted.smearing == pytest.approx(math.exp(0.3 ** 2 / 2), abs=0.02)
    assert fitted.fitted_on["converged"] and fitted.fitted_on["residual_sd"] == pytest.approx(0.3, abs=0.02)
    # each term on its own: the fixed seconds of a small fit and the work of a large one
    for model in ("logreg", "lightgbm", "random-forest"):
        for strategy, family in (("none", "none"), ("smote", "oversampling"), ("random-under", "undersampling")):
            small, large = (FitShape(model, strategy, strategy, family, n, d, n / 10)
                            for n, d in ((150, 8), (5000, 200)))
            assert fitted.log_terms(small)[0] == pytest.approx(truth.log_terms(small)[0], abs=0.15), (model, strategy)
            assert fitted.log_terms(large)[1] == pytest.approx(truth.log_terms(large)[1], abs=0.15), (model, strategy)
    # the coefficients themselves, where they are identified (differences between levels; a
    # level's `one` trades against its small slope deviation, so its work is compared at a size)
    assert fitted.model["random-forest"]["fixed"] - fitted.model["lightgbm"]["fixed"] == pytest.approx(2.0, abs=0.1)
    assert fitted.model["lightgbm"]["fixed"] - fitted.model["logreg"]["fixed"] == pytest.approx(0.5, abs=0.1)
    assert all(abs(weights["log_work"]) < 0.05 for weights in fitted.model.values())  # linear, as drawn
    assert fitted.strategy["smote"]["log_nd"] == pytest.approx(0.1, abs=0.05)
    forest, linear = (FitShape(m, "none", "none", "none", 5000, 50, 500) for m in ("random-forest", "logreg"))
    assert fitted.log_terms(forest)[1] - fitted.log_terms(linear)[1] == pytest.approx(3.0, abs=0.1)
    assert fitted.shared["log_d_grown"] + fitted.family["oversampling"].get("log_d_grown", 0.0) == pytest.approx(
        0.2, abs=0.1)
    # an unseen strategy takes its family's factors
    unseen = FitShape("lightgbm", "adasyn", "adasyn", "oversampling", 1000, 20, 100)
    assert fitted.log_seconds(unseen) == pytest.approx(
        fitted.log_seconds(FitShape("lightgbm", "smote", "smote", "oversampling", 1000, 20, 100)), abs=1e-9)


def test_a_coefficients_file_without_a_fixed_term_is_the_log_linear_model() -> None:
    old = CostModel(shared={"one": -8.0, "log_n": 1.0, "log_d": 0.5})
    shape = FitShape("logreg", "none", "none", "none", 1000, 16, 100)
    assert old.log_terms(shape)[0] == -math.inf
    assert old.log_seconds(shape) == pytest.approx(-8.0 + math.log(1000) + 0.5 * math.log(16))


def test_the_shipped_model_says_how_it_was_fitted() -> None:
    model = shipped_model()
    assert model.fitted_on.get("stores") and model.fitted_on.get("excluded_shard") == "1/1000"
    assert model.model and model.strategy and model.overhead_seconds > 0 and model.form
    assert 0 < model.fitted_on["residual_sd"] < 1 and model.fitted_on["held_out"]
    for check in model.fitted_on["held_out"].values():
        assert set(check["buckets"]) == {"small", "medium", "large"} and check["fits"] > 0
    # what scheduling by cost needs: more rows and features cost more, for every model
    for name in model.model:
        big, small = (FitShape(name, "smote", "smote", "oversampling", n, d, n / 10) for n, d in ((10000, 200), (160, 8)))
        assert model.fit_seconds(big) > 3 * model.fit_seconds(small), name
    forest, linear = (FitShape(m, "none", "none", "none", 5000, 50, 500) for m in ("random-forest", "logreg"))
    assert model.fit_seconds(forest) > model.fit_seconds(linear)


def test_the_shipped_model_grows_with_the_data_as_measured_fits_do() -> None:
    """Measured in the stores the model is fitted on and checked against (2-core machine, -j 2):
    a HistGB fit on the training fold of wcci2006:hiva (3,076 rows × 1,617 features) took 60–215 s
    whatever the strategy; one on a 171-row, 9-feature KEEL fold 0.5–0.9 s — over 100 times as
    long. The log-linear model planned 15 times (8 s against 0.55 s): its slope came from the
    small fits, where the fixed cost is all there is."""
    model = shipped_model()
    large, small = (FitShape("hist-gb", "tomek-links", "tomek-links", "undersampling", n, d, pos)
                    for n, d, pos in ((3076, 1617, 108), (171, 9, 10)))
    assert model.fit_seconds(large) > 30 * model.fit_seconds(small)
    # small fits are their fixed cost, large ones their work (the two terms of the model)
    for name in model.model:
        tiny, big = (FitShape(name, "none", "none", "none", n, d, n / 10) for n, d in ((100, 5), (20000, 200)))
        assert model.log_terms(tiny)[0] > model.log_terms(tiny)[1], name
        assert model.log_terms(big)[1] > model.log_terms(big)[0], name


def test_a_held_out_check_sums_by_size() -> None:
    model = CostModel(shared={"one": 0.0})  # one second a fit, whatever its size
    rows = pd.DataFrame({"model": "logreg", "strategy": "none", "label": "none", "family": "none",
                         "n_train": [100.0, 1000.0, 10000.0, 10000.0], "d": [10.0, 50.0, 20.0, 20.0],
                         "n_pos": 10.0, "n_categorical": 0.0, "seconds": [2.0, 1.0, 0.5, 1.5]})
    check = check_rows(model, rows)
    assert check["fits"] == 4 and check["measured"] == 5.0 and check["predicted"] == 4.0 and check["ratio"] == 0.8
    assert {k: v["ratio"] for k, v in check["buckets"].items()} == {"small": 0.5, "medium": 1.0, "large": 1.0}


def test_the_overhead_per_step_is_never_negative() -> None:
    # runs whose per-cell overhead falls as steps rise: no slope, the mean per cell
    assert fit_overhead([(0.6, 3.0), (0.4, 4.0)]) == pytest.approx((0.5, 0.0))
    assert fit_overhead([(0.05, 0.0), (0.45, 4.0)]) == pytest.approx((0.05, 0.1))


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
