"""Leaderboards: paired and complete boards per model, what is left out and why, failure policies,
baselines, degenerate fits, post-hoc labels, groups, the post-hoc effect view, and the
`imbench leaderboard` command on a store."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbench.analysis.leaderboard import AnalysisInputError, build_leaderboard, dataset_groups, grouped_leaderboards, leaderboards
from imbench.analysis.loading import RunResults
from imbench.analysis.results_frame import build_frame
from imbench.analysis.outputs import board_title, display_board
from imbench.analysis.posthoc_effect import posthoc_effects
from perf.fake_store import write_fake_store
from imbench.benchmarks.store.schema import store_path
from imbench.foundation.metrics import UnknownMetricError
from imbench.analysis.board_notes import board_notes
from imbench.foundation.names import UnknownNameError
from tests.helpers import run_cli
from tests.helpers.results import random_values, synthetic_results

#: AP per (dataset, strategy) for two folds; `c` fails (error) on d3's second fold.
AP = {
    "d1": {"none": (0.50, 0.52), "a": (0.60, 0.62), "b": (0.55, 0.57), "c": (0.40, 0.42)},
    "d2": {"none": (0.30, 0.30), "a": (0.35, 0.37), "b": (0.30, 0.30), "c": (0.50, 0.52)},
    "d3": {"none": (0.70, 0.72), "a": (0.71, 0.73), "b": (0.60, 0.62), "c": (0.90, None)},
    "d4": {"none": (0.20, 0.24), "a": (0.30, 0.30), "b": (0.25, 0.27), "c": (0.10, 0.12)},
}


def cells_frame(model: str = "logreg") -> pd.DataFrame:
    """A cells table (as `read_cells` returns it) of AP."""
    rows = []
    for dataset, by_label in AP.items():
        for label, folds in by_label.items():
            for fold, ap in enumerate(folds):
                ok = ap is not None
                rows.append({"key": f"{dataset}-{label}-{fold}", "dataset": dataset, "model": model,
                             "strategy": {"a": "class-weight", "b": "smote", "c": "gone-strategy"}.get(label, label),
                             "family": {"a": "weighting", "b": "oversampling", "c": "unknown"}.get(label, label),
                             "label": label, "params": "{}", "repeat": 0, "fold": fold,
                             "status": "ok" if ok else "error", "message": "" if ok else "boom",
                             "fit_seconds": 0.1, "predict_seconds": 0.01, "extra": "{}", "finished_at": "",
                             "anti_pattern": False, "degenerate": "",
                             "ap": ap if ok else np.nan, "ece": (1 - ap) / 10 if ok else np.nan,
                             "prevalence": 0.1 if ok else np.nan})
    return pd.DataFrame(rows)


NO_DERIVED = pd.DataFrame(columns=["key", "posthoc", "status", "message", "outcome", "threshold", "report",
                                   "finished_at"])


def results(model: str = "logreg") -> pd.DataFrame:
    return build_frame(cells_frame(model), NO_DERIVED, {})


def board_of(frame: pd.DataFrame, metric: str = "ap", **options: object):  # type: ignore[no-untyped-def]
    return build_leaderboard(frame, metric, model=frame["model"].iloc[0], **options)  # type: ignore[arg-type]


# --- the results frame: cells and derived post-hoc results -------------------------------------------

def test_results_frame_joins_cells_and_derived_results() -> None:
    """A post-hoc label has a row for every cell of its strategy: the derived result where the cell is
    ok (with only the metrics the step carries), the cell's own status where it is not."""
    cells = cells_frame().assign(**{"f1@0.5": 0.4, "f1@deployed": 0.4, "precision@deployed": 0.5})
    own = cells[cells["label"] == "c"]
    ok_keys = list(own.loc[own["status"] == "ok", "key"])
    derived = pd.DataFrame({"key": ok_keys, "posthoc": "threshold:f1", "status": "ok", "message": "",
                            "outcome": ["unreachable"] + ["met"] * (len(ok_keys) - 1), "threshold": 0.3,
                            "report": "{}", "finished_at": "", "f1@deployed": 0.6,
                            "precision@deployed": [np.nan] + [0.7] * (len(ok_keys) - 1)})
    derived = derived[derived["key"] != "d1-c-1"]  # one not derived yet: a partial store
    frame = build_frame(cells, derived, {"c": ["threshold:f1"]})
    base = frame[frame["label"] == "c"].set_index("key")
    tuned = frame[frame["label"] == "c+threshold:f1"].set_index("key")
    assert len(tuned) == len(base) == 8 and set(frame["label"]) == {"none", "a", "b", "c", "c+threshold:f1"}
    assert (tuned["posthoc"] == "threshold:f1").all() and (tuned["base_label"] == "c").all()
    assert (tuned["family"] == "unknown").all() and (base["posthoc"] == "none").all()
    assert tuned.loc["d3-c-1", "status"] == "error" and tuned.loc["d3-c-1", "message"] == "boom"  # the cell's
    assert tuned.loc["d1-c-1", "status"] == "missing"
    assert tuned.loc["d1-c-0", "outcome"] == "unreachable" and np.isnan(tuned.loc["d1-c-0", "precision@deployed"])
    assert tuned.loc["d2-c-0", "f1@deployed"] == 0.6 and np.isnan(tuned.loc["d2-c-0", "ap"])  # not carried
    assert base.loc["d2-c-0", "f1@deployed"] == 0.4 and base.loc["d2-c-0", "threshold"] == 0.5
    assert not frame["degenerate"].any()


# --- ranks, policies, directions ---------------------------------------------------------------------

def test_rank_last_policy() -> None:
    board = board_of(results(), failed="rank-last")
    t = board.table.set_index("strategy")
    # per-dataset ranks (1 = best): d1 a,b,none,c; d2 c,a,(none,b tied); d3 a,none,b,c(failed → last); d4 a,b,none,c
    assert t["mean_rank"].to_dict() == pytest.approx({"a": (1 + 2 + 1 + 1) / 4, "b": (2 + 3.5 + 3 + 2) / 4,
                                                      "none": (3 + 3.5 + 2 + 3) / 4, "c": (4 + 1 + 4 + 4) / 4})
    assert t.index[0] == "a"
    assert t.loc["c", "failed_datasets"] == 1 and t.loc["c", "datasets"] == 3 and t.loc["c", "lacks_failed"] == 1
    assert t.loc["c", "failed_cells"] == 1
    assert t.loc["c", "ap"] == pytest.approx(np.mean([0.41, 0.51, 0.11]))  # over datasets with results
    # vs none: c wins d2, loses d1, d4 and d3 (failed)
    assert (t.loc["c", "wins"], t.loc["c", "ties"], t.loc["c", "losses"]) == (1, 0, 3)
    assert (t.loc["b", "wins"], t.loc["b", "ties"], t.loc["b", "losses"]) == (2, 1, 1)
    assert t.loc["c", "family"] == "unknown"  # as the store recorded it
    assert t.loc["a", "family"] == "weighting"
    diffs = [0.61 - 0.51, 0.36 - 0.30, 0.72 - 0.71, 0.30 - 0.22]
    assert t.loc["a", "delta_mean"] == pytest.approx(np.mean(diffs))
    assert t.loc["a", "delta_median"] == pytest.approx(np.median(diffs))
    # four paired datasets: the test cannot reach p < 0.05, so it is not run and says why
    assert np.isnan(t.loc["a", "p_wilcoxon"]) and "only 4 paired datasets" in t.loc["a", "wilcoxon_note"]
    assert board.friedman.applicable and board.friedman.n_datasets == 4
    notes = " ".join(board_notes(board))
    assert "rank-last" in notes and "α=0.05" in notes and "Friedman" in notes
    assert "Wilcoxon not run for a, b: only 4 paired datasets" in notes
    assert "Wilcoxon not run for c: only 3 paired datasets" in notes
    assert "c lacks 1 of 4 datasets (1 failed, ranked last)" in notes


def test_drop_policy_is_the_default_and_compares_all_on_the_same_datasets() -> None:
    board = board_of(results())
    assert board.policy == "drop"
    assert list(board.dropped) == ["d3"] and board.n_datasets == 3 and board.datasets_total == 4
    t = board.table.set_index("strategy")
    assert t.loc["c", "mean_rank"] == pytest.approx((4 + 1 + 4) / 3)
    assert t.loc["none", "ap"] == pytest.approx(np.mean([0.51, 0.30, 0.22]))
    notes = " ".join(board_notes(board))
    assert "left out 1 of 4 datasets: d3 (c: failed)" in notes and "c lacks 1 of 4 datasets (1 failed)" in notes
    assert "Leaderboard by ap — logreg: 3 of 4 datasets" == board_title(board)


def test_lower_is_better_metric_reverses_the_order() -> None:
    board = board_of(results(), "ece")  # ece = (1 − ap)/10 here: the same order as ap
    by_ap = board_of(results(), "ap")
    assert board.table["strategy"].tolist() == by_ap.table["strategy"].tolist()
    assert "lower is better" in board_notes(board)[0]


def test_bad_metric_names_policy_and_baseline() -> None:
    with pytest.raises(UnknownMetricError, match="did you mean 'ap'"):
        board_of(results(), "apx")
    with pytest.raises(AnalysisInputError, match="not a score"):
        board_of(results(), "prevalence")
    with pytest.raises(AnalysisInputError, match="failure policy"):
        board_of(results(), "ap", failed="ignore")
    with pytest.raises(UnknownNameError, match="did you mean 'none'"):
        board_of(results(), "ap", baseline="nonee")


# --- invariants of a fair comparison -------------------------------------------------------------------

def test_an_impossible_combination_leaves_friedman_unchanged() -> None:
    """A label skipped on every dataset (e.g. focal loss on logreg) is not ranked and changes no statistic."""
    values = random_values(8, {"none": 0.0, "class-weight": 0.03, "smote": 0.05, "random-under": -0.04}, seed=1)
    without = synthetic_results(values)
    for by_label in values.values():
        by_label["focal"] = ["skipped"] * 3
    with_impossible = synthetic_results(values)
    for policy in ("drop", "rank-last"):
        plain, board = board_of(without, failed=policy), board_of(with_impossible, failed=policy)
        assert board.friedman.statistic == pytest.approx(plain.friedman.statistic)
        assert board.friedman.p_value == pytest.approx(plain.friedman.p_value)
        assert board.n_datasets == plain.n_datasets == 8 and "focal" not in board.table["strategy"].tolist()
        pd.testing.assert_frame_equal(board.ranks, plain.ranks)
        assert "not ranked (no ok cell): focal (8 of 8 datasets: 8 skipped)" in " ".join(board_notes(board))


def test_a_data_dependent_skip_takes_the_dataset_out_and_is_never_a_loss() -> None:
    values = random_values(8, {"none": 0.0, "smote": 0.05, "class-weight": 0.02}, seed=2)
    values["d03"]["smote"] = [0.5, "skipped", 0.5]  # too few positives in one fold
    values["d05"]["class-weight"] = [0.4, "error", 0.4]
    for policy in ("drop", "rank-last"):
        board = board_of(synthetic_results(values), failed=policy)
        t = board.table.set_index("strategy")
        assert "d03" not in board.ranks.index and board.dropped["d03"] == "smote: skipped"
        assert t.loc["smote", "lacks_skipped"] == 1 and t.loc["smote", "losses"] + t.loc["smote", "wins"] \
            + t.loc["smote", "ties"] == board.n_datasets
        assert ("d05" in board.ranks.index) == (policy == "rank-last")
    last = board_of(synthetic_results(values), failed="rank-last")
    assert last.ranks.loc["d05", ("logreg", "class-weight")] == 3  # failed: ranked last, not skipped


def test_a_partial_store_says_incomplete_and_ranks_only_complete_paired_datasets() -> None:
    values = random_values(6, {"none": 0.0, "a": 0.05, "b": 0.02}, folds=3, seed=3)
    values["d01"]["a"] = [0.5, 0.5, None]  # one fold not stored yet
    values["d04"]["b"] = [None, None, None]  # not started on this dataset
    frame = synthetic_results(values)
    board = board_of(frame, completeness=(len(frame), 6 * 3 * 3))
    assert list(board.ranks.index) == ["d00", "d02", "d03", "d05"]
    assert board.dropped == {"d01": "a: missing folds", "d04": "b: missing folds"}
    assert board.incomplete == "incomplete: 50 of 54 results"
    assert board_title(board).endswith("— incomplete: 50 of 54 results")
    assert any(line.startswith("incomplete: 50 of 54 results stored") for line in board_notes(board))
    # the folds each label should have come from the whole run: a mean over fewer folds is never used
    complete = board_of(frame, completeness=(54, 54))
    assert complete.incomplete == "" and not any("incomplete" in line for line in board_notes(complete))


def test_a_degenerate_label_is_flagged_and_counted() -> None:
    values = random_values(6, {"none": 0.0, "random-under": -0.2}, folds=2, seed=4)
    flagged = [(d, "random-under", f) for d in ("d00", "d01", "d02") for f in (0, 1)]
    board = board_of(synthetic_results(values, model="lightgbm", degenerate=flagged))
    t = board.table.set_index("strategy")
    assert t.loc["random-under", "degenerate"] == 6 and t.loc["none", "degenerate"] == 0
    shown = display_board(board).set_index("strategy")
    assert shown.loc["random-under", "degen"] == 6
    assert "lightgbm random-under predicted a constant in 6 of 12 cells" in " ".join(board_notes(board))


def test_a_degenerate_fit_without_a_value_is_a_stated_lack() -> None:
    values = random_values(6, {"none": 0.0, "random-under": -0.1}, folds=2, seed=4)
    values["d02"]["random-under"] = [{"ap": np.nan}, 0.3]
    board = board_of(synthetic_results(values, degenerate=[("d02", "random-under", 0)]))
    assert board.dropped["d02"] == "random-under: degenerate"


def test_baseline_changes_delta_and_can_be_another_model() -> None:
    values = random_values(7, {"none": 0.0, "a": 0.05, "b": 0.02}, folds=2, seed=5)
    frame = pd.concat([synthetic_results(values), synthetic_results(random_values(7, {"none": 0.1, "a": 0.1},
                                                                                  folds=2, seed=6), model="lgbm")])
    means = board_of(frame).values.droplevel("model", axis=1)
    by_none = board_of(frame).table.set_index("strategy")
    by_a = board_of(frame, baseline="a").table.set_index("strategy")
    assert by_none.loc["b", "delta_mean"] == pytest.approx((means["b"] - means["none"]).mean())
    assert by_a.loc["b", "delta_mean"] == pytest.approx((means["b"] - means["a"]).mean())
    assert by_a.loc["b", "delta_median"] == pytest.approx((means["b"] - means["a"]).median())
    assert by_a.loc["a", "delta_mean"] == 0 and by_a.loc["a", "wilcoxon_note"] == "is the baseline"
    assert (by_a["baseline"] == "a").all() and "vs `a` on the same model" in " ".join(board_notes(board_of(frame, baseline="a")))
    other = board_of(frame, baseline="lgbm/none").table.set_index("strategy")
    lgbm = build_leaderboard(frame, "ap", model="lgbm").values.droplevel("model", axis=1)
    assert other.loc["none", "delta_mean"] == pytest.approx((means["none"] - lgbm["none"]).mean())
    assert (other["baseline"] == "lgbm/none").all()


def test_per_model_ranks_differ_from_pooled_ranks_as_expected() -> None:
    weak = random_values(8, {"none": 0.0, "a": 0.05, "b": 0.1}, folds=2, seed=7, spread=0.001)
    strong = {d: {label: [v + 0.3 for v in folds] for label, folds in by_label.items()}  # type: ignore[operator]
              for d, by_label in weak.items()}
    frame = pd.concat([synthetic_results(weak, model="weak"), synthetic_results(strong, model="strong")])
    per_model = {b.model: b.table.set_index("strategy")["mean_rank"] for b in leaderboards(frame, "ap")}
    assert per_model["weak"].to_dict() == per_model["strong"].to_dict() == {"b": 1.0, "a": 2.0, "none": 3.0}
    (pooled,) = leaderboards(frame, "ap", pool_models=True)
    ranks = pooled.table.set_index(["model", "strategy"])["mean_rank"]
    assert ranks[("strong", "b")] == 1 and ranks[("weak", "b")] == 4 and ranks[("weak", "none")] == 6
    assert pooled.friedman.n_strategies == 6 and "pooled" in board_title(pooled)
    # Holm family: per model by default (2 comparisons each), all 4 when pooled
    assert "the 2 tests of this board" in " ".join(board_notes(leaderboards(frame, "ap")[0]))
    assert "the 4 tests of this board" in " ".join(board_notes(pooled))


def test_a_threshold_label_is_not_in_an_ap_board_but_every_label_has_f1_at_deployed() -> None:
    values = {}
    for d, by_label in random_values(7, {"none": 0.0, "smote": 0.03}, folds=2, seed=8).items():
        values[d] = {label: [{"ap": v, "f1@deployed": v / 2} for v in folds] for label, folds in by_label.items()}
        values[d]["none+threshold:f1"] = [{"f1@deployed": v / 2 + 0.5} for v in by_label["none"]]
    frame = synthetic_results(values)
    ap = board_of(frame, "ap")
    assert set(ap.table["strategy"]) == {"none", "smote"}
    assert "not in this board (does not carry ap; a post-hoc step carries only the metrics it can change): " \
           "none+threshold:f1" in " ".join(board_notes(ap))
    f1 = board_of(frame, "f1@deployed")
    assert set(f1.table["strategy"]) == {"none", "smote", "none+threshold:f1"}
    assert f1.table.set_index("strategy").loc["none+threshold:f1", "mean_rank"] == 1
    # a baseline without values gives no W/T/L, said once instead of printed against nothing
    against_step = board_of(frame, "ap", baseline="none+threshold:f1")
    assert against_step.baseline_problem == "`none+threshold:f1` on the same model does not carry ap"
    assert "W/T/L" not in display_board(against_step).columns
    assert against_step.table["wins"].isna().all()


def test_precision_without_alerts_is_counted_never_zero() -> None:
    values = {}
    for d, by_label in random_values(6, {"none": 0.0, "strict": 0.0}, folds=2, seed=9).items():
        values[d] = {label: [{"precision@deployed": v, "alert_rate@deployed": 0.1} for v in folds]
                     for label, folds in by_label.items()}
    no_alert = {"precision@deployed": np.nan, "alert_rate@deployed": 0.0}
    values["d00"]["strict"] = [no_alert, {"precision@deployed": 0.9, "alert_rate@deployed": 0.01}]
    values["d01"]["strict"] = [no_alert, no_alert]
    board = board_of(synthetic_results(values, metric="precision@deployed"), "precision@deployed")
    t = board.table.set_index("strategy")
    assert t.loc["strict", "no_alert"] == 3 and board.dropped == {"d01": "strict: no alert"}
    assert board.values.loc["d00", ("logreg", "strict")] == 0.9  # the fold without alerts is not a 0
    assert "strict in 3 of 12 cells" in " ".join(board_notes(board)) and "no alert" in display_board(board).columns


def test_reference_rows_are_shown_never_ranked() -> None:
    values = random_values(7, {"none": 0.0, "a": 0.05, "chance": -0.3}, folds=2, seed=10)
    frame = synthetic_results(values, families={"chance": "baseline"})
    board = board_of(frame)
    plain = board_of(frame[frame["label"] != "chance"])
    assert board.table["strategy"].iloc[-1] == "chance" and board.table["role"].iloc[-1] == "reference"
    assert np.isnan(board.table["mean_rank"].iloc[-1]) and pd.isna(board.table["wins"].iloc[-1])
    assert board.friedman.statistic == pytest.approx(plain.friedman.statistic)
    assert "chance (ref)" in display_board(board)["strategy"].tolist()
    assert "reference rows (chance, family `baseline`): chance" in " ".join(board_notes(board))


def test_one_dataset_is_said_not_crashed() -> None:
    frame = results()
    board = board_of(frame[frame["dataset"] == "d1"])
    assert not board.friedman.applicable
    notes = " ".join(board_notes(board))
    assert "not applicable: only 1 dataset" in notes and "only 1 paired dataset" in notes
    assert board.table["mean_rank"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert board.table["within_cd_of_best"].isna().all()
    assert "p_Holm" in display_board(board) and set(display_board(board)["p_Holm"]) == {"–"}  # never p = 1


def test_dataset_groups_by_ir() -> None:
    meta = pd.DataFrame({"ir": [1.5, 5.0, 12.0, 200.0, np.nan]}, index=["d1", "d2", "d3", "d4", "d5"])
    groups = dataset_groups(meta, "ir")
    assert groups.astype(str).tolist() == ["IR<3", "3≤IR<10", "10≤IR<30", "IR≥30", "IR unknown"]
    boards = grouped_leaderboards(results(), groups, "ap")
    assert [b.group for b in boards] == ["IR<3", "3≤IR<10", "10≤IR<30", "IR≥30"]  # d5 has no cells
    assert [b.n_datasets for b in boards] == [1, 1, 1, 1]
    assert all("only 1 dataset" in b.friedman.reason for b in boards)
    # in d3's band, c (a failed fold) has no dataset with every fold: it is said, and the others are ranked
    assert "not ranked (no dataset with every fold): c (1 of 1 dataset: 1 failed)" in " ".join(board_notes(boards[2]))


# --- the post-hoc effect view ------------------------------------------------------------------------

def test_posthoc_effect_compares_each_step_with_its_own_strategy() -> None:
    values = {}
    rng = np.random.default_rng(11)
    for d in range(7):
        base = {label: [float(rng.uniform(0.3, 0.6)) for _ in range(2)] for label in ("none", "smote")}
        values[f"d{d}"] = {label: [{"ap": v, "f1@deployed": v, "ece": 0.1} for v in folds]
                           for label, folds in base.items()}
        values[f"d{d}"]["smote+threshold:f1"] = [{"f1@deployed": v + 0.02 * (d + 1)} for v in base["smote"]]
        values[f"d{d}"]["none+calibrate:sigmoid"] = [{"ece": 0.05, "f1@deployed": 0.3}, {"ece": 0.05,
                                                                                          "f1@deployed": 0.3}]
    effects = posthoc_effects(synthetic_results(values))
    t = effects.table.set_index(["strategy", "step"])
    tuned = t.loc[("smote", "threshold:f1")]
    assert tuned["metric"] == "f1@deployed" and tuned["datasets"] == 7
    assert tuned["delta_mean"] == pytest.approx(np.mean([0.02 * (d + 1) for d in range(7)]))
    assert (tuned["wins"], tuned["ties"], tuned["losses"]) == (7, 0, 0) and tuned["p_holm"] < 0.05
    calibrated = t.loc[("none", "calibrate:sigmoid")]
    assert calibrated["metric"] == "ece" and calibrated["delta_mean"] == pytest.approx(-0.05)
    assert calibrated["wins"] == 7  # lower ECE is better
    assert calibrated["p_wilcoxon"] == pytest.approx(2 / 2 ** 7)  # exact: 7 differences of one sign
    by_metric = posthoc_effects(synthetic_results(values), "f1@deployed").table.set_index(["strategy", "step"])
    assert by_metric.loc[("none", "calibrate:sigmoid"), "metric"] == "f1@deployed"
    assert any("Holm-corrected over each model" in line for line in effects.notes)


# --- the command on a store ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_store(tmp_path_factory.mktemp("analysis") / "fake", n_datasets=12, n_strategies=5, n_models=2,
                            n_folds=3, n_test=30, failure_rate=0.05)


def test_leaderboard_command_writes_csv_and_markdown(small_store: Path, tmp_path: Path) -> None:
    out = run_cli("leaderboard", str(small_store), "--metric", "ece", "--by", "ir", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "Leaderboard by ece [" in out.stdout and "Friedman test" in out.stdout and "failure policy" in out.stdout
    assert "— logreg:" in out.stdout and "— lightgbm:" in out.stdout  # one board per model and band
    csv = pd.read_csv(tmp_path / "leaderboard_ece_by-ir.csv")
    assert {"group", "board", "mean_rank", "ece_ci_low", "delta_mean", "delta_median", "p_holm", "wins",
            "lacks_skipped", "lacks_failed", "degenerate"} <= set(csv.columns)
    assert set(csv["group"]) <= {"IR<3", "3≤IR<10", "10≤IR<30", "IR≥30"} and set(csv["board"]) == {"logreg", "lightgbm"}
    markdown = (tmp_path / "leaderboard_ece_by-ir.md").read_text()
    assert markdown.startswith("## Leaderboard by ece [") and "| strategy" in markdown and "Δmed" in markdown


def test_leaderboard_command_fits_80_columns_and_pools_on_request(small_store: Path, tmp_path: Path) -> None:
    out = run_cli("leaderboard", str(small_store), "--out", str(tmp_path))
    tables = [line for line in out.stdout.splitlines() if not line.startswith("  ")]
    assert max(len(line) for line in tables) <= 80, max(tables, key=len)
    pooled = run_cli("leaderboard", str(small_store), "--pool-models", "--baseline", "logreg/none", "--out",
                     str(tmp_path))
    assert pooled.returncode == 0, pooled.stderr
    assert "all models pooled" in pooled.stdout and "lightgbm/none" in pooled.stdout
    assert "vs `logreg/none`" in pooled.stdout
    assert (tmp_path / "leaderboard_ap_pooled.csv").is_file()


def test_leaderboard_command_bad_input_changes_nothing(small_store: Path) -> None:
    before = hashlib.sha256(store_path(small_store).read_bytes()).hexdigest()
    for args, expected in ((["--model", "logregg"], "did you mean 'logreg'"),
                           (["--metric", "ecee"], "unknown metric 'ecee'"),
                           (["--baseline", "logreg/nonee"], "did you mean 'none'")):
        out = run_cli("leaderboard", str(small_store), *args)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and expected in out.stderr, out.stderr
    assert hashlib.sha256(store_path(small_store).read_bytes()).hexdigest() == before
    assert not (small_store / "report").exists()


def test_a_partial_store_says_so_on_the_command_line(tmp_path: Path) -> None:
    store = write_fake_store(tmp_path / "partial", n_datasets=6, n_strategies=3, n_models=1, n_folds=3, n_test=20,
                             failure_rate=0.0)
    with sqlite3.connect(store_path(store)) as conn:  # as if the run had been stopped: two cells never stored
        conn.execute("DELETE FROM cells WHERE key IN (SELECT key FROM cells WHERE dataset = 'fake:ds002' LIMIT 2)")
    run = RunResults.load(store)
    assert run.completeness == (52, 54)
    out = run_cli("leaderboard", str(store), "--out", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    assert "incomplete: 52 of 54 results" in out.stdout and "5 of 6 datasets" in out.stdout
    assert "fake:ds002" in out.stdout and "missing folds" in out.stdout


def test_posthoc_effect_command(small_store: Path, tmp_path: Path) -> None:
    out = run_cli("leaderboard", str(small_store), "--posthoc-effect", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "no post-hoc step to compare" in out.stdout  # the fake store has no label with a step


def test_anti_patterns_are_left_out_unless_asked(tmp_path: Path) -> None:
    strategies = [("none", "none"), ("smote", "smote"), ("leaky-smote", "leaky-smote")]
    store = write_fake_store(tmp_path / "leak", n_models=1, n_folds=2, n_test=20, strategies=strategies,
                             dataset_names=["fake:a", "fake:b", "fake:c"])
    default = RunResults.load(store)
    assert set(default.labels) == {"none", "smote"} and default.anti_patterns == ["leaky-smote"]
    assert "leaky-smote" in default.anti_pattern_note()
    assert set(RunResults.load(store, include_anti_patterns=True).labels) == {"none", "smote", "leaky-smote"}


def test_a_one_dataset_board_says_it_has_no_interval_and_no_test(tmp_path: Path) -> None:
    from imbench.analysis.board_notes import board_notes

    one = write_fake_store(tmp_path / "one", n_datasets=1, n_strategies=3, n_models=1, n_folds=5, failure_rate=0.0)
    [board] = leaderboards(RunResults.load(one).results, "ap")
    ranking = next(line for line in board_notes(board) if line.startswith("rank:"))
    assert "no CI and no test" in ranking and "BCa" not in ranking
    two = write_fake_store(tmp_path / "two", n_datasets=2, n_strategies=3, n_models=1, n_folds=5, failure_rate=0.0)
    [board] = leaderboards(RunResults.load(two).results, "ap")
    assert "BCa bootstrap" in next(line for line in board_notes(board) if line.startswith("rank:"))
