"""Leaderboards: folds averaged per dataset, ranks and tests over datasets, failures by policy, groups,
and the `imbench leaderboard` command on a store."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.leaderboard import (AnalysisInputError, build_leaderboard, dataset_groups, grouped_leaderboards,
                                  per_dataset)
from foundation.metrics import UnknownMetricError
from benchmarks.perf.fake_store import write_fake_store
from benchmarks.store import store_path
from tests.helpers import run_cli

#: AP per (dataset, strategy) for two folds; `c` fails (error) on d3's second fold.
AP = {
    "d1": {"none": (0.50, 0.52), "a": (0.60, 0.62), "b": (0.55, 0.57), "c": (0.40, 0.42)},
    "d2": {"none": (0.30, 0.30), "a": (0.35, 0.37), "b": (0.30, 0.30), "c": (0.50, 0.52)},
    "d3": {"none": (0.70, 0.72), "a": (0.71, 0.73), "b": (0.60, 0.62), "c": (0.90, None)},
    "d4": {"none": (0.20, 0.24), "a": (0.30, 0.30), "b": (0.25, 0.27), "c": (0.10, 0.12)},
}


def cells_frame(model: str = "logreg") -> pd.DataFrame:
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
                             "ap": ap if ok else np.nan, "ece": (1 - ap) / 10 if ok else np.nan,
                             "prevalence": 0.1 if ok else np.nan})
    return pd.DataFrame(rows)


def test_fold_means_per_dataset_and_failed_datasets() -> None:
    table = per_dataset(cells_frame(), "ap")
    assert table.loc["d1", ("logreg", "a")] == pytest.approx(0.61)
    assert np.isnan(table.loc["d3", ("logreg", "c")])  # one fold failed: the dataset counts as failed


def test_rank_last_policy() -> None:
    board = build_leaderboard(cells_frame(), "ap", failed="rank-last")
    t = board.table.set_index("strategy")
    # per-dataset ranks (1 = best): d1 a,b,none,c; d2 c,a,(none,b tied); d3 a,none,b,c(failed → last); d4 a,b,none,c
    assert t["mean_rank"].to_dict() == pytest.approx({"a": (1 + 2 + 1 + 1) / 4, "b": (2 + 3.5 + 3 + 2) / 4,
                                                      "none": (3 + 3.5 + 2 + 3) / 4, "c": (4 + 1 + 4 + 4) / 4})
    assert t.index[0] == "a"
    assert t.loc["c", "failed_datasets"] == 1 and t.loc["c", "datasets"] == 3 and t.loc["c", "error"] == 1
    assert t.loc["c", "ap"] == pytest.approx(np.mean([0.41, 0.51, 0.11]))  # over datasets with results
    # vs none: c wins d2, loses d1, d4 and d3 (failed)
    assert (t.loc["c", "wins"], t.loc["c", "ties"], t.loc["c", "losses"]) == (1, 0, 3)
    assert (t.loc["b", "wins"], t.loc["b", "ties"], t.loc["b", "losses"]) == (2, 1, 1)
    assert t.loc["c", "family"] == "unknown"  # as the store recorded it
    assert t.loc["a", "family"] == "weighting"
    diffs = [0.61 - 0.51, 0.36 - 0.30, 0.72 - 0.71, 0.30 - 0.22]
    assert t.loc["a", "p_wilcoxon"] == pytest.approx(stats.wilcoxon(diffs, zero_method="zsplit").pvalue)
    assert t.loc["a", "p_holm"] >= t.loc["a", "p_wilcoxon"]
    assert board.friedman.applicable and board.friedman.n_datasets == 4
    notes = " ".join(board.notes())
    assert "rank-last" in notes and "Holm" in notes and "α=0.05" in notes and "Friedman" in notes


def test_drop_policy_compares_all_on_the_same_datasets() -> None:
    board = build_leaderboard(cells_frame(), "ap", failed="drop")
    assert board.dropped == ["d3"] and board.n_datasets == 3
    t = board.table.set_index("strategy")
    assert t.loc["c", "mean_rank"] == pytest.approx((4 + 1 + 4) / 3)
    assert t.loc["none", "ap"] == pytest.approx(np.mean([0.51, 0.30, 0.22]))
    assert "left out: 1 dataset(s) (d3)" in " ".join(board.notes())


def test_lower_is_better_metric_reverses_the_order() -> None:
    board = build_leaderboard(cells_frame(), "ece")  # ece = (1 − ap)/10 here: the same order as ap
    by_ap = build_leaderboard(cells_frame(), "ap")
    assert board.table["strategy"].tolist() == by_ap.table["strategy"].tolist()
    assert "lower is better" in board.notes()[0]


def test_one_dataset_is_said_not_crashed() -> None:
    cells = cells_frame()
    board = build_leaderboard(cells[cells["dataset"] == "d1"], "ap")
    assert not board.friedman.applicable
    assert any("not applicable: only 1 dataset" in line for line in board.notes())
    assert board.table["mean_rank"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert board.table["within_cd_of_best"].isna().all()


def test_bad_metric_names() -> None:
    with pytest.raises(UnknownMetricError, match="did you mean 'ap'"):
        build_leaderboard(cells_frame(), "apx")
    with pytest.raises(AnalysisInputError, match="not a score"):
        build_leaderboard(cells_frame(), "prevalence")
    with pytest.raises(AnalysisInputError, match="failure policy"):
        build_leaderboard(cells_frame(), "ap", failed="ignore")


def test_dataset_groups_by_ir() -> None:
    meta = pd.DataFrame({"ir": [1.5, 5.0, 12.0, 200.0, np.nan]}, index=["d1", "d2", "d3", "d4", "d5"])
    groups = dataset_groups(meta, "ir")
    assert groups.astype(str).tolist() == ["IR<3", "3≤IR<10", "10≤IR<30", "IR≥30", "IR unknown"]
    boards = grouped_leaderboards(cells_frame(), groups, "ap")
    assert [b.group for b in boards] == ["IR<3", "3≤IR<10", "10≤IR<30", "IR≥30"]  # d5 has no cells
    assert all(b.n_datasets == 1 for b in boards)


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_store(tmp_path_factory.mktemp("analysis") / "fake", n_datasets=12, n_strategies=5, n_models=2,
                            n_folds=3, n_test=30, failure_rate=0.05)


def test_leaderboard_command_writes_csv_and_markdown(small_store: Path, tmp_path: Path) -> None:
    out = run_cli("leaderboard", str(small_store), "--metric", "ece", "--by", "ir", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "Leaderboard by ece [" in out.stdout and "Friedman test" in out.stdout and "failure policy" in out.stdout
    csv = pd.read_csv(tmp_path / "leaderboard_ece_by-ir.csv")
    assert {"group", "mean_rank", "ece_ci_low", "p_holm", "wins", "error", "skipped"} <= set(csv.columns)
    assert set(csv["group"]) <= {"IR<3", "3≤IR<10", "10≤IR<30", "IR≥30"}
    markdown = (tmp_path / "leaderboard_ece_by-ir.md").read_text()
    assert markdown.startswith("## Leaderboard by ece [") and "| strategy" in markdown


def test_leaderboard_command_bad_input_changes_nothing(small_store: Path) -> None:
    before = hashlib.sha256(store_path(small_store).read_bytes()).hexdigest()
    for args, expected in ((["--model", "logregg"], "did you mean 'logreg'"),
                           (["--metric", "ecee"], "unknown metric 'ecee'")):
        out = run_cli("leaderboard", str(small_store), *args)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and expected in out.stderr, out.stderr
    assert hashlib.sha256(store_path(small_store).read_bytes()).hexdigest() == before
    assert not (small_store / "report").exists()


def test_anti_patterns_are_left_out_unless_asked(tmp_path: Path) -> None:
    from analysis.loading import RunResults

    strategies = [("none", "none"), ("smote", "smote"), ("leaky-smote", "leaky-smote")]
    store = write_fake_store(tmp_path / "leak", n_models=1, n_folds=2, n_test=20, strategies=strategies,
                             dataset_names=["fake:a", "fake:b", "fake:c"])
    default = RunResults.load(store)
    assert set(default.labels) == {"none", "smote"} and default.anti_patterns == ["leaky-smote"]
    assert "leaky-smote" in default.anti_pattern_note()
    assert set(RunResults.load(store, include_anti_patterns=True).labels) == {"none", "smote", "leaky-smote"}
