"""Prior-shift stress, calibration and budget analyses on real stores (the tiny grid, with and without
training-fold predictions) and on hand-built stores (post-hoc thresholds, recorded priors)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from imbench.analysis.budget import budget_table, plot_budget, run_budget
from imbench.analysis.calibration import calibration_table, run_calibration
from imbench.analysis.stress import prior_estimates, robustness_leaderboard, run_stress, stress_table
from imbench.benchmarks.spec.grid import parse_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.results import CellResult, DerivedResult, InnerPredictions
from imbench.benchmarks.store.writer import Store
from imbench.foundation.posthoc import choose_threshold
from tests.helpers import TINY_GRID

INNER_GRID = TINY_GRID.replace("n_repeats = 2\n", "n_repeats = 2\ninner_folds = 3\n")


@pytest.fixture(scope="module")
def tiny_inner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny grid with training-fold out-of-fold predictions (inner 3-fold)."""
    path = tmp_path_factory.mktemp("stress") / "tiny_inner"
    run_grid(parse_grid(INNER_GRID), path, backend="sequential")
    return path


@pytest.fixture(scope="module")
def tiny_plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny grid as `imbench run benchmarks/smoke.toml` would store it: no training-fold predictions."""
    path = tmp_path_factory.mktemp("stress") / "tiny"
    run_grid(parse_grid(TINY_GRID), path, backend="sequential")
    return path


@pytest.fixture(scope="module")
def tiny_stress(tiny_inner: Path):
    return run_stress(tiny_inner, (0.5, 0.67, 1.0, 1.5, 2.0), 0.9)


def test_unshifted_uncorrected_numbers_are_the_stored_metrics(tiny_inner: Path, tiny_stress) -> None:
    cells = store_reader(tiny_inner).cells().set_index("key")
    rows = tiny_stress.folds
    rows = rows[(rows["shift"] == 1.0) & (rows["correction"] == "none")].set_index("key")
    assert len(rows) == (cells["status"] == "ok").sum()
    for metric in ("ap", "roc_auc", "brier", "log_loss", "ece"):
        assert np.allclose(rows[metric], cells.loc[rows.index, metric], atol=1e-10), metric


def test_thresholds_are_chosen_on_training_predictions_only(tiny_inner: Path, tiny_stress) -> None:
    rows = tiny_stress.folds[(tiny_stress.folds["shift"] == 1.0) & (tiny_stress.folds["correction"] == "none")]
    assert set(rows["threshold_source"]) <= {"target", "unreachable"}
    target = rows[rows["threshold_source"] == "target"]
    assert len(target) > len(rows) / 2
    assert (target["promised_precision"] >= 0.9).all()
    inner = store_reader(tiny_inner).inner_predictions(list(target["key"][:5]))
    for key, own in inner.items():
        expected = choose_threshold(own.y_true, own.proba, "precision", 0.9).threshold
        assert target.set_index("key").loc[key, "threshold"] == expected


def test_precision_under_shift_follows_the_formula_in_every_fold(tiny_stress) -> None:
    rows = tiny_stress.folds[(tiny_stress.folds["correction"] == "none") & tiny_stress.folds["precision"].notna()]
    base = rows[rows["shift"] == 1.0].set_index("key")
    tpr = base["recall"]
    fpr = (base["alert_rate"] - base["prior"] * tpr) / (1 - base["prior"])
    for s in (0.5, 2.0):
        shifted = rows[rows["shift"] == s].set_index("key")
        keys = shifted.index.intersection(base.index)
        pi = shifted.loc[keys, "shifted_prior"]
        expected = pi * tpr[keys] / (pi * tpr[keys] + (1 - pi) * fpr[keys])
        assert np.allclose(shifted.loc[keys, "precision"], expected, atol=1e-9)
        assert np.allclose(shifted.loc[keys, "recall"], tpr[keys])


def test_prior_correction_is_monotone_and_estimates_sit_next_to_the_truth(tiny_stress) -> None:
    folds = tiny_stress.folds.set_index(["key", "shift", "correction"]).sort_index()
    for correction in ("known", "em"):
        same = folds.xs(correction, level="correction")[["ap", "roc_auc"]]
        assert np.allclose(same, folds.xs("none", level="correction")[["ap", "roc_auc"]])
    known = tiny_stress.folds[tiny_stress.folds["correction"] == "known"]
    assert np.allclose(known["corrected_to"], known["shifted_prior"])
    estimates = prior_estimates(tiny_stress)
    assert estimates["em_estimate"].between(0, 1, inclusive="neither").all()
    by_shift = estimates.groupby("shift")[["shifted_prior", "em_estimate"]].mean()
    assert by_shift["shifted_prior"].is_monotonic_increasing
    assert by_shift["em_estimate"].is_monotonic_increasing  # EM follows the shift from unlabelled rows alone


def test_robustness_leaderboard_counts(tiny_stress) -> None:
    board = robustness_leaderboard(tiny_stress)
    assert set(board["correction"]) == {"none", "known", "em"}
    assert len(board) == 4 * 3  # one model × 4 strategies × 3 corrections
    assert (board["kept"] <= board["with_threshold"]).all() and (board["with_threshold"] <= board["datasets"]).all()
    assert (board["precision_worst"] <= board["precision_at_1"] + 1e-12).all()
    data = tiny_stress.datasets()
    none = data[(data["correction"] == "none") & (data["strategy"] == "none")]
    kept_by_hand = none.groupby("dataset")["keeps_target"].agg(lambda k: bool(k.notna().all() and k.all())).sum()
    row = board[(board["correction"] == "none") & (board["strategy"] == "none")].iloc[0]
    assert row["kept"] == kept_by_hand
    for _, part in board.groupby("correction"):
        assert part["kept"].is_monotonic_decreasing  # most robust first
    table = stress_table(tiny_stress)
    assert table["datasets"].max() == 3 and table["ap_ci_low"].le(table["ap"] + 1e-12).all()


def test_a_store_without_training_predictions_still_gives_every_threshold_free_number(tiny_plain: Path) -> None:
    result = run_stress(tiny_plain)
    folds = result.folds
    assert folds[["ap", "roc_auc", "brier", "ece", "log_loss", "em_estimate"]].notna().all().all()
    assert folds["precision"].isna().all() and set(folds["threshold_source"]) == {"unavailable"}
    assert any("inner_folds = 3" in note for note in result.notes)
    board = robustness_leaderboard(result)
    assert board["ap_worst"].notna().all() and board["kept"].isna().all()
    assert not run_budget(tiny_plain).available
    assert budget_table(tiny_plain).empty
    figure = plot_budget(tiny_plain)  # the report shows a figure that says what is missing
    assert "inner_folds = 3" in figure.axes[0].texts[0].get_text()


# --- hand-built stores -----------------------------------------------------------------------------

def _put_fold(store: Store, key: str, strategy: str, label: str, params: dict, y: np.ndarray, proba: np.ndarray,
              fold: int, train: tuple[np.ndarray, np.ndarray] | None = None, training_prior: float = 0.5,
              derived: list[DerivedResult] | None = None) -> None:
    inner = None if train is None else InnerPredictions(
        3, np.arange(len(train[0])), train[0], np.resize(np.arange(3, dtype=np.int8), len(train[0])), train[1],
        np.zeros((3, len(y))))
    store.put(CellResult(key=key, dataset="synthetic", model="logreg", strategy=strategy, label=label, params=params,
                         repeat=0, fold=fold, status="ok", family="undersampling", training_prior=training_prior,
                         prior_rule="measured", row_index=np.arange(len(y)), y_true=y, proba=proba, inner=inner,
                         inner_status="ok" if inner is not None else "", derived=derived or []))


def _calibrated(n: int, prior: float, rng: np.random.Generator, model_prior: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels at `prior` and scores calibrated for a model trained at `model_prior`."""
    y = (rng.random(n) < prior).astype(np.int8)
    x = rng.normal(np.where(y == 1, 1.0, -1.0), 1.0)
    return y, expit(2.0 * x + logit(model_prior))


@pytest.fixture
def hand_store(tmp_path: Path) -> Path:
    """Two folds of an under-sampled model (trained at 0.5, data at 0.1): one deploys a post-hoc threshold
    and records its training prior, the other has training-fold predictions only."""
    rng = np.random.default_rng(0)
    path = tmp_path / "hand"
    with Store(path) as store:
        store.begin_run({"metrics": {"ece_bins": 10}}, {}, "test", 0)
        store.put_dataset("synthetic", "fingerprint", {"n": 8000, "n_pos": 800})
        y, p = _calibrated(4000, 0.1, rng, 0.5)
        _put_fold(store, "posthoc", "random-under", "random-under", {"sampling_ratio": 1.0}, y, p, fold=0,
                  derived=[DerivedResult("posthoc", "threshold:f1", "ok", outcome="met", threshold=0.8)])
        train = _calibrated(4000, 0.1, rng, 0.5)
        y, p = _calibrated(4000, 0.1, rng, 0.5)
        _put_fold(store, "plain", "random-under", "random-under", {"sampling_ratio": 1.0}, y, p, fold=1, train=train)
    return path


def test_posthoc_threshold_and_recorded_prior_are_used(hand_store: Path) -> None:
    folds = run_stress(hand_store, "1", 0.9).folds.set_index(["key", "strategy", "correction"])
    posthoc = folds.loc[("posthoc", "random-under+threshold:f1", "none")]
    assert posthoc["threshold_source"] == "posthoc" and posthoc["threshold"] == 0.8
    assert posthoc["prior_rule"] == "measured" and posthoc["model_prior"] == 0.5
    assert np.isnan(posthoc["promised_precision"])  # no training predictions to promise from
    assert folds.loc[("posthoc", "random-under", "none"), "threshold_source"] == "unavailable"
    plain = folds.loc[("plain", "random-under", "none")]
    assert plain["threshold_source"] == "target" and plain["prior_rule"] == "measured"
    # the model was trained at 0.5: correcting to the data's prior removes its miscalibration
    assert folds.loc[("plain", "random-under", "known"), "ece"] < 0.3 * plain["ece"]
    # EM from the unlabelled fold finds the data's prior (≈ 0.1) from the 0.5-calibrated scores
    assert folds.loc[("plain", "random-under", "em"), "em_estimate"] == pytest.approx(0.1, abs=0.02)


def test_calibration_correction_undoes_the_training_prior(hand_store: Path) -> None:
    result = run_calibration(hand_store)
    table = calibration_table(result).set_index(["strategy", "variant"])
    raw, corrected = table.loc[("random-under", "raw")], table.loc[("random-under", "corrected")]
    assert raw["ece"] > 0.15 and corrected["ece"] < 0.03
    assert corrected["calibration_intercept"] == pytest.approx(0, abs=0.15)
    assert corrected["calibration_slope"] == pytest.approx(raw["calibration_slope"])  # the correction is a shift


def test_budget_threshold_and_realized_alerts(hand_store: Path) -> None:
    result = run_budget(hand_store, alerts_per_day=300, population_per_day=10_000, min_precision=0.5, shifts="1,2")
    rows = result.folds
    assert set(rows.loc[rows["key"] == "posthoc", "status"]) == {"unavailable"}
    plain = rows[rows["key"] == "plain"].set_index("shift")
    assert plain.loc[1.0, "status"] == "on budget"
    assert plain.loc[1.0, "train_alert_rate"] == pytest.approx(0.03, abs=0.001)
    assert plain.loc[1.0, "alerts_per_day"] == pytest.approx(300, rel=0.3)
    # twice the positives: more alerts, higher precision, same recall
    assert plain.loc[2.0, "alerts_per_day"] > plain.loc[1.0, "alerts_per_day"]
    assert plain.loc[2.0, "precision"] > plain.loc[1.0, "precision"]
    assert plain.loc[2.0, "recall"] == pytest.approx(plain.loc[1.0, "recall"])
    table = budget_table(result)
    assert list(table["shift"]) == [1.0, 2.0] and (table["datasets"] == 1).all()


def test_folds_that_failed_leave_their_dataset_out_of_the_summaries(hand_store: Path) -> None:
    with Store(hand_store) as store:
        store.put(CellResult(key="broken", dataset="synthetic", model="logreg", strategy="random-under",
                             label="random-under", params={"sampling_ratio": 1.0}, repeat=1, fold=0, status="error",
                             message="boom"))
    result = run_stress(hand_store, "1", 0.9)
    assert "random-under" not in set(result.datasets()["strategy"])
    assert any("not ok" in note for note in result.notes)
    assert json.loads(store_reader(hand_store).cells().set_index("key").loc["broken", "params"]) == {"sampling_ratio": 1.0}
    assert isinstance(stress_table(result), pd.DataFrame)


# --- the commands ----------------------------------------------------------------------------------

STRESS_FIGURES = ("stress_ap", "stress_brier", "stress_ece", "stress_log_loss", "stress_precision",
                  "stress_alert_rate", "stress_precision_survival", "stress_prior_estimates")


def test_stress_command_writes_tables_and_figures(tiny_inner: Path, tmp_path: Path) -> None:
    from tests.helpers import run_cli

    out = tmp_path / "stress"
    done = run_cli("stress", str(tiny_inner), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Prior-shift robustness" in done.stdout and "class-weight" in done.stdout
    assert "EM prior error" in done.stdout
    for stem in ("robustness", "stress_by_shift", "prior_estimates"):
        assert (out / f"{stem}.csv").is_file() and (out / f"{stem}.md").is_file()
    for stem in STRESS_FIGURES:
        assert (out / f"{stem}.png").stat().st_size > 10_000 and (out / f"{stem}.svg").is_file()
    board = pd.read_csv(out / "robustness.csv")
    assert board["kept"].notna().all()
    folds = pd.read_parquet(out / "stress_folds.parquet")
    assert len(folds) == (store_reader(tiny_inner).cells()["status"] == "ok").sum() * 5 * 3  # folds × shifts × corrections


def test_stress_command_without_training_predictions_says_what_is_missing(tiny_plain: Path, tmp_path: Path) -> None:
    from tests.helpers import run_cli

    out = tmp_path / "stress"
    done = run_cli("stress", str(tiny_plain), "--out", str(out), "--no-figures")
    assert done.returncode == 0, done.stderr
    notes = [" ".join(note.split()) for note in re.split(r"\n(?=\S)", done.stderr) if note.startswith("note:")]
    assert len(notes) == 1 and "inner_folds = 3" in notes[0] and "[cv]" in notes[0]  # one note, wrapped
    board = pd.read_csv(out / "robustness.csv")
    assert board["ap_worst"].notna().all() and board["precision_worst"].isna().all()
    budget = run_cli("budget", str(tiny_plain), "--out", str(tmp_path / "budget"))
    assert budget.returncode == 2 and "inner_folds = 3" in budget.stderr
    assert len(budget.stderr.strip().splitlines()) == 1 and not (tmp_path / "budget").exists()


def test_bad_stress_options_are_one_line_errors_and_write_nothing(tiny_plain: Path, tmp_path: Path) -> None:
    from tests.helpers import run_cli

    out = tmp_path / "stress"  # the option checks themselves: tests/test_prior_shift.py::test_parse_shifts
    done = run_cli("stress", str(tiny_plain), "--out", str(out), "--shifts", "0,1")
    assert done.returncode == 2
    assert done.stderr.startswith("imbench: error:") and len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_calibration_command(tiny_inner: Path, tmp_path: Path) -> None:
    from tests.helpers import run_cli

    done = run_cli("calibration", str(tiny_inner), "--out", str(tmp_path / "cal"))
    assert done.returncode == 0, done.stderr
    assert "Calibration as trained → after prior correction" in done.stdout and "random-under" in done.stdout
    for stem in ("calibration_reliability", "calibration_effect"):
        assert (tmp_path / "cal" / f"{stem}.png").is_file() and (tmp_path / "cal" / f"{stem}.svg").is_file()
    side = pd.read_csv(tmp_path / "cal" / "calibration_side_by_side.csv").set_index("strategy")
    assert side.loc["none", "ece_raw"] == pytest.approx(side.loc["none", "ece_corrected"])
    assert side.loc["random-under", "model_prior"] == pytest.approx(0.5)


def test_budget_command(tiny_inner: Path, tmp_path: Path) -> None:
    from tests.helpers import run_cli

    done = run_cli("budget", str(tiny_inner), "--alerts-per-day", "50", "--population-per-day", "1000",
                   "--min-precision", "0.8", "--out", str(tmp_path / "budget"))
    assert done.returncode == 0, done.stderr
    assert "Alert budget: 50 alerts/day of 1000 (5.00%)" in done.stdout
    table = pd.read_csv(tmp_path / "budget" / "budget.csv")
    assert set(table["shift"]) == {0.5, 0.67, 1.0, 1.5, 2.0}
    assert (tmp_path / "budget" / "budget.png").is_file()
    bad = run_cli("budget", str(tiny_inner), "--alerts-per-day", "50", "--population-per-day", "10")
    assert bad.returncode == 2 and "cannot exceed" in bad.stderr


def test_results_are_cached_per_store_content(hand_store: Path) -> None:
    first = run_stress(hand_store, "1", 0.9)
    assert run_stress(hand_store, "1", 0.9) is first  # the report may call several functions: one computation
    assert run_stress(hand_store, "1,2", 0.9) is not first
    assert run_calibration(hand_store) is run_calibration(hand_store)
    with Store(hand_store) as store:  # a write makes every analysis read the store again
        store.put(CellResult(key="later", dataset="synthetic", model="logreg", strategy="none", label="none",
                             params={}, repeat=0, fold=2, status="error", message="boom"))
    again = run_stress(hand_store, "1", 0.9)
    assert again is not first and any("not ok" in note for note in again.notes)
