"""The leakage demonstration: `leaky-smote` resamples the whole dataset before splitting, is flagged as
an anti-pattern in every stored cell, is dropped by `drop_anti_patterns`, and `imbench leakage`
measures how much it inflates PR AUC against in-fold SMOTE on the same folds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE

from imbench.analysis.anti_patterns import drop_anti_patterns, is_anti_pattern, leakage_table
from imbench.benchmarks.spec.grid import parse_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.strategies import get_strategy
from tests.helpers import run_cli
from tests.helpers import DATA, TEST, TRAIN

LEAK_GRID = """\
name = "leak"
seed = 1
datasets = ["keel:glass4", "keel:yeast-2_vs_4", "uci:german"]
models = ["lightgbm"]
strategies = ["none", "smote", "leaky-smote"]
[cv]
n_splits = 3
n_repeats = 1
"""


def test_leaky_training_data_is_resampled_before_the_split() -> None:
    X, y, _ = DATA["numeric"]
    leaky = get_strategy("leaky-smote")
    X_fit, y_fit = leaky.training_data(X, y, TRAIN, leaky.resolve_params({}), seed=4)
    n_train = len(TRAIN)
    pd.testing.assert_frame_equal(X_fit.iloc[:n_train], X.iloc[TRAIN].reset_index(drop=True))
    np.testing.assert_array_equal(y_fit[:n_train], y[TRAIN])
    synthetic = X_fit.iloc[n_train:].to_numpy()
    assert (y_fit[n_train:] == 1).all()
    # the synthetic rows are exactly the training share of SMOTE run on the whole (imputed) dataset ...
    everything, _ = SMOTE(random_state=4).fit_resample(X.fillna(X.median()), y)
    all_synthetic = everything.iloc[len(y):].to_numpy()
    kept = np.random.default_rng(4).random(len(all_synthetic)) < n_train / len(y)
    np.testing.assert_allclose(synthetic, all_synthetic[kept])
    # ... so some of them were interpolated from test-fold positives: the leak
    test_positives = X.fillna(X.median()).to_numpy()[TEST][y[TEST] == 1]
    train_positives = X.fillna(X.median()).to_numpy()[TRAIN][y[TRAIN] == 1]
    nearest_test = np.min(np.linalg.norm(synthetic[:, None] - test_positives[None], axis=2), axis=1)
    nearest_train = np.min(np.linalg.norm(synthetic[:, None] - train_positives[None], axis=2), axis=1)
    assert (nearest_test < nearest_train).sum() > 0.1 * len(synthetic)


def test_leakage_command_and_anti_pattern_flags(tmp_path: Path) -> None:
    results = tmp_path / "r"
    run_grid(parse_grid(LEAK_GRID), results, backend="sequential")
    cells = store_reader(results).cells()
    leaky = cells["strategy"] == "leaky-smote"
    assert cells.loc[leaky, "anti_pattern"].all() and not cells.loc[~leaky, "anti_pattern"].any()  # whatever status
    german = cells[leaky & (cells["dataset"] == "uci:german")]
    assert (german["status"] == "skipped").all() and german["message"].str.contains("numeric datasets only").all()

    kept = drop_anti_patterns(cells)
    assert list(kept.columns) == list(cells.columns) and len(kept) == (~leaky).sum()
    assert "leaky-smote" not in set(kept["strategy"])

    table = leakage_table(cells)
    assert set(table["dataset"]) == {"keel:glass4", "keel:yeast-2_vs_4"} and (table["folds"] == 3).all()
    ok = cells[cells["status"] == "ok"].set_index(["dataset", "fold", "strategy"])["ap"].unstack()
    expected = (ok["leaky-smote"] - ok["smote"]).dropna().groupby(level="dataset").mean()
    np.testing.assert_allclose(table.set_index("dataset")["inflation"].loc[expected.index], expected)
    assert (table["inflation"] > 0).all()  # trees memorise neighbourhoods of the test positives

    out = run_cli("leakage", str(results))
    assert out.returncode == 0, out.stderr
    mean = table["inflation"].mean()
    assert f"leaky-smote inflates ap by {mean:+.3f} on average" in " ".join(out.stdout.split())
    assert "keel:glass4" in out.stdout and "keel:yeast-2_vs_4" in out.stdout


def test_drop_anti_patterns_without_the_registry() -> None:
    """Stores outlive code: the flag each cell stored is what counts, never the live registry (a plugin
    that registers a strategy of the same name as a stored one changes nothing)."""
    cells = pd.DataFrame({
        "strategy": ["smote", "retired-leak", "leaky-smote", "none"],
        "anti_pattern": [False, True, True, False],
        "ap": [0.5, 0.9, 0.8, 0.4]})
    assert is_anti_pattern(cells).tolist() == [False, True, True, False]
    assert drop_anti_patterns(cells)["strategy"].tolist() == ["smote", "none"]
    assert drop_anti_patterns(cells.iloc[:0]).empty


def test_leakage_without_a_pair_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from imbench.cli import main

    results = tmp_path / "r"
    run_grid(parse_grid(LEAK_GRID.replace('"none", "smote", "leaky-smote"', '"smote"')
                        .replace('"keel:yeast-2_vs_4", "uci:german"', "")), results, backend="sequential")
    with pytest.raises(SystemExit) as exit_info:
        main(["leakage", str(results)])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert err.startswith(f"imbench: error: {results}: no fold where both `leaky-smote` and in-fold `smote`")


@pytest.mark.parametrize("name", ["leaky-smote"])
def test_anti_pattern_declaration(name: str) -> None:
    strategy = get_strategy(name)
    assert strategy.anti_pattern and strategy.uses_full_dataset and strategy.family == "oversampling"
