"""Post-hoc steps as evaluations of stored predictions: the grid axis, what is (not) enumerated, the
fit count, derived results that equal a recomputation from the store, scikit-learn's calibration
semantics, and steps or inner folds added to a finished store without refitting."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold

from imbench.benchmarks.spec.cells import Cell, enumerate_cells
from imbench.benchmarks.spec.cv import fold_indices
from imbench.benchmarks.spec.grid import GridError, ModelConfig, StrategyConfig, parse_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.schema import StoreError
from imbench.datasets import load_dataset
from imbench.foundation.hashing import derive_seed
from imbench.foundation.metrics import threshold_metrics
from imbench.foundation.plugins import load_plugin_dirs
from imbench.foundation.posthoc import adjust_prior, choose_threshold
from imbench.strategies import TrainingContext, get_model, get_strategy
from tests.helpers import ROOT, LogitScores

GRID = """\
name = "t"
seed = 3
datasets = ["keel:glass1"]
models = ["logreg"]
strategies = ["none", {name = "smote", k_neighbors = 3}]
posthoc = ["none", "threshold : precision >= 0.90", "calibrate:isotonic"]
[cv]
n_splits = 3
n_repeats = 1
"""


def test_posthoc_steps_are_not_cells() -> None:
    grid = parse_grid(GRID, "g.toml")
    assert grid.posthoc == ["none", "threshold:precision>=0.9", "calibrate:isotonic"]
    assert grid.inner_folds == 3  # the steps need inner folds: the default k
    plan = enumerate_cells(grid)
    assert len(plan.cells) == 1 * 1 * 2 * 3  # one fit per strategy point and fold, whatever the steps
    assert {c.label for c in plan.cells} == {"none", "smote[k_neighbors=3]"}
    assert plan.steps == {"none": ("threshold:precision>=0.9", "calibrate:isotonic"),
                          "smote[k_neighbors=3]": ("threshold:precision>=0.9", "calibrate:isotonic")}
    assert plan.derived_count() == 12
    assert parse_grid(GRID.replace("posthoc", "# posthoc")).posthoc == ["none"]
    assert parse_grid(GRID.replace("posthoc", "# posthoc")).inner_folds == 0


def test_impossible_combinations_are_never_enumerated() -> None:
    grid = parse_grid(GRID.replace('models = ["logreg"]', 'models = ["logreg", "lightgbm"]')
                      .replace('strategies = ["none", {name = "smote", k_neighbors = 3}]',
                               'strategies = ["none", "focal", "random-under", "leaky-smote", '
                               '{name = "class-weight", knob = "is_unbalance"}]')
                      .replace('"calibrate:isotonic"', '"prior"'), "g.toml")
    plan = enumerate_cells(grid)
    pairs = {(c.model, c.label) for c in plan.cells}
    assert ("logreg", "focal") not in pairs and ("lightgbm", "focal") in pairs  # focal loss needs boosting
    assert ("logreg", "class-weight[knob=is_unbalance]") not in pairs  # a knob logreg does not have
    assert ("lightgbm", "class-weight[knob=is_unbalance]") in pairs
    assert plan.steps["none"] == ("threshold:precision>=0.9",)  # none keeps the prior: no `prior` step
    assert plan.steps["focal"] == ("threshold:precision>=0.9",)  # no known training prior
    assert plan.steps["random-under"] == ("threshold:precision>=0.9", "prior")
    assert plan.steps["leaky-smote"] == ()  # an anti-pattern gets no post-hoc steps
    summary = "\n".join(plan.left_out_summary())
    assert "3 cells of logreg × focal: strategy 'focal' supports only models" in summary
    assert "6 post-hoc results of none+prior: it trains on the data's own prior" in summary
    assert "12 post-hoc results of leaky-smote + 2 post-hoc steps: an anti-pattern gets no post-hoc steps" in summary


@pytest.mark.parametrize(("entry", "expected"), [
    ('"treshold:f1"', "g.toml:6: unknown posthoc step 'treshold': did you mean 'threshold'"),
    ('"threshold:precision>=1.5"', "g.toml:6: posthoc threshold:precision: `level` must be a number in (0, 1], got 1.5"),
    ('"threshold:cost=-2"', "g.toml:6: posthoc threshold:cost: `level` must be a number > 0, got -2"),
    ('"threshold:mcc"', "g.toml:6: posthoc threshold needs an objective"),
    ('"calibrate:beta"', "g.toml:6: posthoc calibrate needs a method"),
    ('"prior:0.1"', "g.toml:6: posthoc step 'prior' takes no argument"),
    ('"threshold:f1", "threshold: f1"', "g.toml:6: posthoc step 'threshold:f1' is listed twice"),
])
def test_bad_posthoc_entries_are_one_line_errors(entry: str, expected: str) -> None:
    text = GRID.replace('"calibrate:isotonic"', entry)
    with pytest.raises(GridError) as info:
        parse_grid(text, "g.toml")
    assert str(info.value).startswith(expected), str(info.value)


def test_steps_without_inner_folds_are_refused() -> None:
    with pytest.raises(GridError, match="the posthoc steps need inner folds"):
        parse_grid(GRID.replace("n_repeats = 1", "n_repeats = 1\ninner_folds = 0"), "g.toml")


# --- fits counted with a model that logs every fit -------------------------------------------------

COUNTING = """\
name = "count"
seed = 1
datasets = ["keel:glass1", "keel:new-thyroid1"]
models = ["counting-logreg"]
strategies = ["none", "random-under"]
posthoc = {posthoc}
[cv]
n_splits = 3
n_repeats = 1
{inner}
"""


@pytest.fixture
def counting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The counting model plugin, loaded here and (through the environment) in workers; returns the log."""
    plugins = ROOT / "tests" / "plugins_counting"
    monkeypatch.setenv("IMBENCH_PLUGINS", str(plugins))
    load_plugin_dirs([plugins])
    log = tmp_path / "fits.log"
    monkeypatch.setenv("IMBENCH_FIT_LOG", str(log))
    return log


def _fits(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _grid(posthoc: list[str], inner: str = ""):  # type: ignore[no-untyped-def]
    return parse_grid(COUNTING.format(posthoc=json.dumps(posthoc), inner=inner), "count.toml")


ALL_STEPS = ["none", "threshold:f1", "threshold:precision>=0.8", "threshold:recall>=0.8", "threshold:alert=0.1",
             "threshold:cost=10", "calibrate:sigmoid", "calibrate:isotonic", "calibrate:ensemble-sigmoid", "prior"]


def test_every_cell_is_one_plus_k_fits_whatever_the_steps(counting: Path, tmp_path: Path) -> None:
    run_grid(_grid(["none", "threshold:f1"]), tmp_path / "one", n_jobs=2)
    one = _fits(counting)
    assert one == 12 * (1 + 3)  # 2 datasets × 2 strategies × 3 folds, each 1 final + 3 inner fits
    counting.unlink()
    run_grid(_grid(ALL_STEPS), tmp_path / "many", n_jobs=2)
    assert _fits(counting) == one  # nine steps cost no extra fit
    derived = store_reader(tmp_path / "many").derived()
    assert len(derived) == 12 * 8 + 6  # 8 steps each, `prior` only on random-under
    assert set(derived["status"]) == {"ok"}


def test_adding_inner_folds_and_steps_to_a_finished_store(counting: Path, tmp_path: Path) -> None:
    """A finished store without inner folds: adding a post-hoc step fits only the inner models (k per
    cell) and leaves every stored test prediction as it was; adding another step then fits nothing."""
    results = tmp_path / "r"
    run_grid(_grid(["none"]), results, n_jobs=2)
    assert _fits(counting) == 12
    before = store_reader(results).predictions().sort_values(["key", "row_index"]).reset_index(drop=True)
    cells_before = store_reader(results).cells().set_index("key")
    counting.unlink()
    summary = run_grid(_grid(["none", "threshold:f1"]), results, n_jobs=2)
    assert _fits(counting) == 12 * 3 and summary.inner_only == 12
    after = store_reader(results).predictions().sort_values(["key", "row_index"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    cells_after = store_reader(results).cells().set_index("key")
    pd.testing.assert_series_equal(cells_before["ap"], cells_after["ap"])
    assert (cells_after["inner_folds"] == 3).all()
    counting.unlink()
    summary = run_grid(_grid(["none", "threshold:f1", "calibrate:sigmoid", "prior"]), results, n_jobs=2)
    assert _fits(counting) == 0 and sum(summary.counts.values()) == 0
    assert summary.derived_from_store == {"ok": 12 + 6}
    assert len(store_reader(results).derived()) == 12 * 2 + 6


def test_inner_folds_of_another_k_are_refused(counting: Path, tmp_path: Path) -> None:
    run_grid(_grid(["none", "threshold:f1"]), tmp_path / "r", n_jobs=1, backend="sequential")
    with pytest.raises(StoreError, match="its cells have inner_folds = 3, the grid asks for 4"):
        run_grid(_grid(["none", "threshold:f1"], inner="inner_folds = 4"), tmp_path / "r", backend="sequential")


# --- derived results equal a recomputation from what the store holds -------------------------------

@pytest.fixture(scope="module")
def derived_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    grid = parse_grid(GRID.replace('"threshold : precision >= 0.90", "calibrate:isotonic"',
                                   ", ".join(f'"{s}"' for s in ALL_STEPS[1:]))
                      .replace('datasets = ["keel:glass1"]', 'datasets = ["keel:glass1", "keel:yeast3"]')
                      .replace('{name = "smote", k_neighbors = 3}', '"random-over"'), "g.toml")
    results = tmp_path_factory.mktemp("derived") / "r"
    run_grid(grid, results, n_jobs=2)
    return results


def test_thresholds_are_an_exact_search_on_the_stored_inner_predictions(derived_store: Path) -> None:
    cells = store_reader(derived_store).cells().set_index("key")
    derived = store_reader(derived_store).derived()
    inner = store_reader(derived_store).inner_predictions()
    test = store_reader(derived_store).predictions()
    checked = 0
    for row in derived[derived["posthoc"].str.startswith("threshold")].itertuples(index=False):
        objective, _, level = row.posthoc.removeprefix("threshold:").replace(">=", "=").partition("=")
        own = inner[row.key]
        choice = choose_threshold(own.y_true, own.proba, objective, float(level) if level else None)
        assert row.threshold == choice.threshold and row.outcome == choice.outcome
        rows = test[test["key"] == row.key]
        expected = threshold_metrics(rows["y_true"].to_numpy(), rows["proba"].to_numpy(), choice.threshold, "@deployed")
        for name, value in expected.items():
            stored = derived.loc[(derived["key"] == row.key) & (derived["posthoc"] == row.posthoc), name].iloc[0]
            assert (np.isnan(value) and np.isnan(stored)) or stored == pytest.approx(value, abs=1e-12), name
        report = json.loads(row.report)
        assert report["inner_alert_rate"] == pytest.approx(np.mean(own.proba >= choice.threshold))
        stored = derived.loc[(derived["key"] == row.key) & (derived["posthoc"] == row.posthoc)].iloc[0]
        assert stored["alert_rate@inner"] == report["inner_alert_rate"]  # what the training fold promised
        assert report["test_alert_rate"] == pytest.approx(np.mean(rows["proba"].to_numpy() >= choice.threshold))
        checked += 1
    assert checked == 2 * 2 * 3 * 5
    # a threshold label carries only what a threshold changes: no AP, no calibration, no @0.5
    thresholds = derived[derived["posthoc"] == "threshold:f1"]
    assert thresholds["ap"].isna().all() and thresholds["brier"].isna().all()
    assert thresholds["f1@0.5"].isna().all() and thresholds["f1@deployed"].notna().all()
    assert cells["f1@deployed"].equals(cells["f1@0.5"])  # a label without a threshold step deploys 0.5


def test_sigmoid_keeps_the_ranking_isotonic_does_not(derived_store: Path) -> None:
    derived = store_reader(derived_store).derived()
    assert derived.loc[derived["posthoc"] == "calibrate:sigmoid", "ap"].isna().all()
    assert derived.loc[derived["posthoc"] == "calibrate:sigmoid", "brier"].notna().all()
    assert derived.loc[derived["posthoc"] == "calibrate:isotonic", "ap"].notna().all()


def test_prior_correction_uses_the_recorded_training_prior(derived_store: Path) -> None:
    cells = store_reader(derived_store).cells()
    over = cells[cells["strategy"] == "random-over"]
    assert (over["prior_rule"] == "measured").all() and np.allclose(over["training_prior"], 0.5, atol=0.01)
    assert (cells.loc[cells["strategy"] == "none", "prior_rule"] == "data").all()
    corrected = store_reader(derived_store).derived_probabilities("prior")
    assert set(corrected) == set(over["key"])  # `prior` is derived for random-over only
    inner = store_reader(derived_store).inner_predictions()
    test = store_reader(derived_store).predictions()
    for row in over.itertuples(index=False):
        proba = test.loc[test["key"] == row.key, "proba"].to_numpy()
        train_prior = float(np.mean(inner[row.key].y_true))
        np.testing.assert_allclose(corrected[row.key][0], adjust_prior(proba, row.training_prior, train_prior),
                                   rtol=1e-12)



@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_derived_calibration_is_calibrated_classifier_cv_without_ensemble(derived_store: Path, method: str) -> None:
    """The stored derived probabilities equal scikit-learn's CalibratedClassifierCV(ensemble=False) fitted
    on the training fold with the same inner folds (to 1e-9): the runner's inner fits are its
    cross-validation, and its final model is the refit."""
    cells = store_reader(derived_store).cells()
    calibrated = store_reader(derived_store).derived_probabilities(f"calibrate:{method}")
    data = load_dataset("keel:glass1")
    for row in cells[(cells["dataset"] == "keel:glass1") & (cells["strategy"] == "none")].itertuples(index=False):
        train, test = fold_indices(data.y, 3, 1, 3, "keel:glass1", row.repeat, row.fold)
        seed = _cell_seed(row)
        ctx = TrainingContext(len(train), int(data.y[train].sum()), tuple(data.X.columns), ())
        pipeline = get_strategy("none").build(get_model("logreg"), {}, ctx, seed)
        inner = StratifiedKFold(3, shuffle=True, random_state=derive_seed("inner", seed))
        reference = CalibratedClassifierCV(LogitScores(pipeline), method=method, cv=inner, ensemble=False)
        reference.fit(data.X.iloc[train], data.y[train])
        expected = reference.predict_proba(data.X.iloc[test])[:, 1]
        np.testing.assert_allclose(calibrated[row.key][0], expected, atol=1e-9)


def _cell_seed(row: object) -> int:
    """The seed the runner gave this cell (from the same spec as its key)."""
    cell = Cell(row.dataset, ModelConfig(row.model, {}, row.model),  # type: ignore[attr-defined]
                StrategyConfig(row.strategy, json.loads(row.params), row.label),  # type: ignore[attr-defined]
                row.repeat, row.fold, 3, 3, 1)  # type: ignore[attr-defined]
    assert cell.key == row.key  # type: ignore[attr-defined]
    return cell.seed
