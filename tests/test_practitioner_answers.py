"""Issue 13 as a user meets it, on one small store made by a plugin strategy: chance rows, costs and
`threshold:cost=R` against hand computations on the stored predictions, per-dataset budgets judged fold
by fold, oracle vs deployed recall, every store-reading command without (and with) `--plugins`, an
80-column terminal, `--version`, the help sentences and `-j -1`."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbench.analysis.budget import Budget, BudgetResult, budget_table, run_budget
from imbench.analysis.costs import Costs, fold_costs
from imbench.analysis.folds import load_folds
from imbench.benchmarks.store.reader import store_reader
from imbench import api
from tests.helpers import ROOT, run_cli

GRID = """\
name = "answers"
seed = 11
datasets = ["keel:glass6", "keel:ecoli1", "keel:new-thyroid1"]  # IR 3–6: under-then-weight applies everywhere
models = ["logreg", "prior", "random"]
strategies = ["none", "under-then-weight"]
posthoc = ["none", "threshold:precision>=0.8", "threshold:cost=20", "calibrate:ensemble-isotonic"]

[cv]
n_splits = 3
n_repeats = 1
inner_folds = 3

[metrics]
recall_at_precision = [0.8]
"""


def readme_example() -> str:
    section = (ROOT / "README.md").read_text().split("\n## Add a strategy\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(results folder, plugin folder): the README's strategy run from a plugin folder."""
    root = tmp_path_factory.mktemp("answers")
    plugins = root / "plugins"
    plugins.mkdir()
    (plugins / "under_then_weight.py").write_text(readme_example())
    (root / "grid.toml").write_text(GRID)
    out = run_cli("run", str(root / "grid.toml"), "-j", "-1", "--results", str(root / "r"), "--no-progress",
                  "--plugins", str(plugins))
    assert out.returncode == 0, out.stderr
    return root / "r", plugins


def test_chance_rows_in_the_run_and_its_leaderboard(store: tuple[Path, Path]) -> None:
    results, _ = store
    cells = store_reader(results).cells()
    chance = cells[cells["model"].isin(["prior", "random"])]
    assert set(chance["strategy"]) == {"none"} and set(chance["family"]) == {"baseline"}
    assert (chance["degenerate"] == "").all()  # a constant is what `prior` is for
    prior = cells[cells["model"] == "prior"]
    np.testing.assert_allclose(prior["ap"], prior["prevalence"])  # a constant score's AP is the prevalence
    boards = api.leaderboard(results, "ap")
    assert [b.model for b in boards] == ["logreg"]  # the chance models get no board of their own
    table = boards.table.set_index(["model", "strategy"])
    assert table.loc[("random", "none"), "role"] == "reference" and pd.isna(table.loc[("random", "none"), "mean_rank"])
    assert table.loc[("random", "none"), "ap_random"] > table.loc[("prior", "none"), "ap"]


def test_expected_cost_and_threshold_cost_equal_hand_computations(store: tuple[Path, Path]) -> None:
    results, _ = store
    cells = store_reader(results).cells()
    derived = store_reader(results).derived()
    key = cells[(cells["model"] == "logreg") & (cells["label"] == "none")]["key"].iloc[0]
    inner = store_reader(results).inner_predictions([key])[key]
    # threshold:cost=20 by hand: every distinct inner score (and "no alert"), lowest FP + 20·FN, fewest alerts
    y, s = np.asarray(inner.y_true), np.asarray(inner.proba)
    candidates = [math.inf, *sorted(set(s), reverse=True)]
    costs = [np.sum((s >= t) & (y == 0)) + 20 * np.sum((s < t) & (y == 1)) for t in candidates]
    chosen = candidates[int(np.argmin(costs))]
    stored = derived[(derived["key"] == key) & (derived["posthoc"] == "threshold:cost=20")]["threshold"].iloc[0]
    assert stored == pytest.approx(chosen)
    # expected cost at the deployed threshold and at the Bayes threshold, by hand on the test predictions
    test = store_reader(results).predictions([key])
    yt, pt = test["y_true"].to_numpy(), test["proba"].to_numpy()

    def cost(threshold: float) -> float:
        return (1 * np.sum((pt >= threshold) & (yt == 0)) + 20 * np.sum((pt < threshold) & (yt == 1))) / len(yt)

    table = fold_costs(load_folds(results), Costs(1, 20)).set_index(["key", "label"])
    assert table.loc[(key, "none"), "cost@deployed"] == pytest.approx(cost(0.5))
    assert table.loc[(key, "none"), "cost@bayes"] == pytest.approx(cost(1 / 21))
    assert table.loc[(key, "none+threshold:cost=20"), "cost@deployed"] == pytest.approx(cost(chosen))


def test_leaderboard_with_costs(store: tuple[Path, Path]) -> None:
    results, _ = store
    boards = api.leaderboard(results, "cost@deployed", costs=(1, 20))
    table = boards.table.set_index(["model", "strategy"])
    assert table.loc[("logreg", "none"), "role"] == "ranked" and "cost@bayes" in table.columns
    assert table.loc[("prior", "none"), "cost@deployed"] > table.loc[("logreg", "none+threshold:cost=20"),
                                                                     "cost@deployed"]
    out = run_cli("leaderboard", str(results), "--costs", "fp=1,fn=20", columns=80)
    assert out.returncode == 0, out.stderr
    assert "cost@dep" in out.stdout and "fp/(fp+fn) = 0.0476" in " ".join(out.stdout.split())
    bad = run_cli("leaderboard", str(results), "--costs", "fp=1,fn=-2")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "fn must be a positive number" in bad.stderr


def test_budget_per_dataset_judged_fold_by_fold(store: tuple[Path, Path]) -> None:
    results, _ = store
    stored = load_folds(results).subset("keel:ecoli1", "logreg")
    assert {f.dataset for f in stored.folds} == {"keel:ecoli1"} and {f.model for f in stored.folds} == {"logreg"}
    budget = run_budget(stored, alerts_per_day=2_000, population_per_day=20_000, min_precision=0.8, shifts="1")
    folds = budget.folds[budget.folds["strategy"] == "none"]
    assert len(folds) == 3
    for fold in stored.folds:
        if fold.label != "none":
            continue
        # by hand: the most alerts within 10 % of the training rows whose inner precision ≥ 0.8
        y, s = fold.train_y, fold.train_proba
        best = None
        for t in sorted(set(s), reverse=True):
            flagged = s >= t
            if flagged.sum() <= 0.1 * len(s) and y[flagged].mean() >= 0.8:
                best = t
        row = folds[folds["key"] == fold.key].iloc[0]
        if best is not None and row["status"] == "on budget":
            assert row["threshold"] == pytest.approx(best)
        flagged = fold.test.proba >= row["threshold"]
        assert row["alert_rate"] == pytest.approx(flagged.mean())
        assert bool(row["within_budget"]) == (flagged.mean() <= 0.1 + 1e-12)
        assert bool(row["floor_held"]) == (flagged.any() and fold.test.y[flagged].mean() >= 0.8)
    table = budget_table(budget).set_index("strategy").loc["none"]
    assert table["share_within_budget"] == pytest.approx(folds["within_budget"].mean())
    assert table["share_floor"] == pytest.approx(folds["floor_held"].mean())
    assert table["keeps_floor"] == int(folds["floor_held"].all())
    out = run_cli("budget", str(results), "--dataset", "keel:ecoli1", "--model", "logreg", "--no-figures",
                  "--costs", "fp=1,fn=20", columns=80)
    assert out.returncode == 0, out.stderr
    assert "dataset keel:ecoli1" in " ".join(out.stdout.split()) and "cost" in out.stdout
    assert (results / "report" / "budget" / "keel-ecoli1_logreg" / "budget.csv").is_file()
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    wrong = run_cli("budget", str(results), "--dataset", "ecoli1")
    assert wrong.returncode == 2 and "did you mean 'keel:ecoli1'" in wrong.stderr


def test_keeps_floor_is_judged_fold_by_fold_not_by_the_fold_mean() -> None:
    """Two folds at precision 0.95 and 0.75 average 0.85 ≥ the floor, yet one fold was below it."""
    rows = [{"key": f"k{i}", "dataset": "d", "model": "m", "strategy": "s", "family": "none", "repeat": 0, "fold": i,
             "shift": 1.0, "status": "on budget", "alerts_per_day": 90.0, "precision": p, "recall": 0.5,
             "train_alert_rate": 0.005, "train_precision": 0.9, "floor_held": p >= 0.85, "within_budget": True}
            for i, p in enumerate([0.95, 0.75])]
    result = BudgetResult(pd.DataFrame(rows), Budget(100, 20_000, 0.85), (1.0,), ["s"])
    table = budget_table(result).iloc[0]
    assert table["precision"] == pytest.approx(0.85)
    assert table["keeps_floor"] == 0 and table["share_floor"] == 0.5 and table["share_within_budget"] == 1.0


def test_oracle_vs_deployed(store: tuple[Path, Path]) -> None:
    results, _ = store
    out = run_cli("leaderboard", str(results), "--posthoc-effect", columns=80)
    assert out.returncode == 0, out.stderr
    assert "Oracle vs deployed" in out.stdout and max(len(line) for line in out.stdout.splitlines()) <= 80
    table = pd.read_csv(results / "report" / "oracle_vs_deployed.csv")
    assert set(table["model"]) == {"logreg"}  # chance rows get no post-hoc view
    table = table.set_index("strategy")
    frame = api.load(results).results
    base = frame[(frame["model"] == "logreg") & (frame["label"] == "none")]
    step = frame[(frame["model"] == "logreg") & (frame["label"] == "none+threshold:precision>=0.8")]
    oracle = base.groupby("dataset")["recall_at_precision0.8"].mean().mean()
    deployed = step.groupby("dataset")["recall@deployed"].mean().mean()
    assert table.loc["none", "oracle_recall"] == pytest.approx(oracle)
    assert table.loc["none", "deployed_recall"] == pytest.approx(deployed)
    assert table.loc["none", "gap"] == pytest.approx(deployed - oracle)
    met = (step["precision@deployed"] >= 0.8).mean()
    assert table.loc["none", "folds_meeting_target"] == pytest.approx(met)


#: The default suite checks two commands; `make test-all` runs every store-reading command both ways.
COMMANDS = [pytest.param(["stress", "--no-figures"], id="stress")] + [
    pytest.param(c, id=c[0] + ("-posthoc" if "--posthoc-effect" in c else ""), marks=pytest.mark.slow) for c in (
        ["leaderboard"], ["leaderboard", "--posthoc-effect"], ["plot", "--only", "heatmap,bayes", "-j", "1"],
        ["calibration", "--no-figures"], ["budget", "--no-figures"], ["export"], ["leakage"],
        ["report", "--no-extras", "-j", "1"])]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_store_reading_command_works_without_the_plugins_and_takes_them(
        store: tuple[Path, Path], command: list[str]) -> None:
    results, plugins = store
    plain = run_cli(command[0], str(results), *command[1:])
    given = run_cli(command[0], str(results), *command[1:], "--plugins", str(plugins))
    if command == ["leakage"]:  # no leaky-smote in this grid: its one-line answer, with or without plugins
        assert plain.returncode == given.returncode == 2 and "leaky-smote" in plain.stderr
        return
    assert plain.returncode == 0, plain.stderr
    assert given.returncode == 0, given.stderr


def test_compare_takes_plugins_and_reads_without_them(store: tuple[Path, Path]) -> None:
    results, plugins = store
    out = run_cli("compare", str(results), str(results), "--plugins", str(plugins), columns=80)
    assert out.returncode == 0, out.stderr
    assert "under-then-weight" in out.stdout and max(len(line) for line in out.stdout.splitlines()) <= 80


def test_an_80_column_leaderboard_shows_its_numbers(store: tuple[Path, Path]) -> None:
    results, _ = store
    out = run_cli("leaderboard", str(results), columns=80)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    row = next(line for line in lines if line.startswith("under-then-weight+cal:ens-iso"))
    assert re.search(r"\b0\.\d{3}\b", row) and "…" not in out.stdout  # numbers shown whole, never cut to 0.…
    assert "names shortened: cal: = calibrate:" in " ".join(out.stdout.split())
    wide = run_cli("leaderboard", str(results), "--wide", columns=80)
    assert "under-then-weight+calibrate:ensemble-isotonic" in wide.stdout and "95% CI" in wide.stdout
    assert "P(better)" in wide.stdout and "E[AP] random" in wide.stdout


def test_version_help_sentences_and_all_cores() -> None:
    version = run_cli("--version")
    assert version.returncode == 0 and re.fullmatch(r"imbench \d+\.\d+\.\d+\S*\n", version.stdout)
    listing = run_cli("--help", columns=80).stdout
    commands = listing.split("Commands:", 1)[1]
    assert "..." not in commands
    for name in ("budget", "calibration", "check-plugins", "compare", "leaderboard", "run", "stress"):
        assert re.search(rf"^\s+{name}\s+\S", commands, re.M), name
    # every command's one-line summary is a whole sentence (it ends with a full stop)
    summaries = " ".join(commands.split())
    assert summaries.count(".") >= 13
    bad = run_cli("plot", "nowhere", "-j", "0")
    assert bad.returncode == 2 and "-1 for all cores" in bad.stderr
