"""Categorical features end to end: one-hot for linear models, native categorical splits for LightGBM and
HistGradientBoosting, rare levels grouped, and every strategy family still runs on categorical data."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbench.benchmarks.spec.grid import load_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.strategies import TrainingContext, get_model, get_strategy
from imbench.strategies.preprocessing import MAX_ONEHOT_LEVELS

N = 600


def frame() -> tuple[pd.DataFrame, np.ndarray]:
    """The label depends on a categorical only: a tree needs category splits (or one-hot) to find it."""
    rng = np.random.RandomState(0)
    colour = rng.choice(list("abcdefgh"), N)
    city = np.array([f"city{i}" for i in rng.randint(0, 120, N)])  # 120 levels: high cardinality
    X = pd.DataFrame({"x": rng.randn(N), "colour": pd.Categorical(colour), "city": pd.Categorical(city),
                      "z": rng.randn(N)})
    X.loc[[4, 9], "colour"] = None
    y = (np.isin(colour, ["b", "e"]) & (rng.rand(N) < 0.8)).astype(int)
    return X, y


def build(model: str, strategy: str = "none", params: dict | None = None):
    X, y = frame()
    ctx = TrainingContext(n_train=N, n_pos=int(y.sum()), numeric_columns=("x", "z"),
                          categorical_columns=("colour", "city"))
    chosen = get_strategy(strategy)
    pipe = chosen.build(get_model(model), chosen.resolve_params(params or {}), ctx, seed=3)
    fewer = {k: 30 for k in pipe.get_params() if k.endswith(("model__max_iter", "model__n_estimators"))}
    return pipe.set_params(**fewer).fit(X, y), X  # fewer boosting rounds: these tests check the plumbing


def test_linear_models_get_one_hot_with_rare_levels_grouped() -> None:
    pipe, _ = build("logreg")
    coef = pipe[-1].coef_
    # 2 numeric + 8 colour levels + city capped at MAX_ONEHOT_LEVELS columns (the last: all rarer cities)
    assert coef.shape[1] == 2 + 8 + MAX_ONEHOT_LEVELS


def test_lightgbm_splits_on_categories_natively() -> None:
    pipe, X = build("lightgbm")
    booster = pipe[-1].booster_
    assert pipe[-1].get_params()["categorical_column"] == [2, 3]
    transformed = pipe[0].transform(X)
    assert transformed.shape[1] == 4 and np.nanmax(transformed[:, 2]) == 7  # codes 0..7, one column each

    def decisions(node: dict) -> list[tuple[int, str]]:
        if "split_feature" not in node:
            return []
        own = [(node["split_feature"], node["decision_type"])]
        return own + decisions(node["left_child"]) + decisions(node["right_child"])

    splits = [s for tree in booster.dump_model()["tree_info"] for s in decisions(tree["tree_structure"])]
    assert {kind for feature, kind in splits if feature == 2} == {"=="}  # category subsets on colour
    assert {kind for feature, kind in splits if feature in (0, 3)} <= {"<=", "=="}


def test_hist_gb_knows_which_columns_are_categorical() -> None:
    pipe, _ = build("hist-gb", "class-weight")
    assert pipe[-1].is_categorical_.tolist() == [False, False, True, True]


def test_wrapped_and_resampled_native_models() -> None:
    under, _ = build("lightgbm", "random-under")
    assert under[-1].get_params()["categorical_column"] == [2, 3]
    bagging, _ = build("lightgbm", "balanced-bagging", {"n_estimators": 3})
    assert bagging[-1].get_params()["estimator__categorical_column"] == [2, 3]
    forest, X = build("lightgbm", "balanced-random-forest", {"n_estimators": 5})
    assert forest[0].transform(X).shape[1] == 2 + 8 + MAX_ONEHOT_LEVELS  # no native parameter: one-hot


def test_interpolated_codes_are_rounded_to_levels() -> None:
    smote, X = build("hist-gb", "smote")  # HistGB refuses fractional codes (too many distinct values)
    codes = smote.named_steps["codes"]
    assert codes.positions == [2, 3] and codes.max_code_.tolist() == [7, X["city"].nunique() - 1]
    synthetic = np.array([[0.3, 1.0, 2.6, 160.2], [0.1, 2.0, -0.4, np.nan]])
    top = X["city"].nunique() - 1
    np.testing.assert_array_equal(codes.transform(synthetic), [[0.3, 1.0, 3.0, top], [0.1, 2.0, 0.0, np.nan]])


def test_numeric_only_data_is_unchanged() -> None:
    X, y = frame()
    X = X[["x", "z"]]
    ctx = TrainingContext(n_train=N, n_pos=int(y.sum()), numeric_columns=("x", "z"), categorical_columns=())
    pipe = get_strategy("none").build(get_model("lightgbm"), {}, ctx, seed=3).fit(X, y)
    assert pipe[-1].get_params()["categorical_column"] == []


GRID = """\
name = "categorical"
seed = 0
datasets = [{{file = "{csv}", target = "y", positive = "1", categorical = ["colour"]}}]
models = {models}
strategies = {strategies}

[cv]
n_splits = 2
n_repeats = 1
"""


@pytest.mark.parametrize(("models", "strategies"), [
    (["logreg", "hist-gb"], ["none", "smote", "smotenc"]),
    pytest.param(["logreg", "lightgbm", "hist-gb"], ["none", "class-weight", "random-under", "smote", "smotenc",
                                                      "balanced-bagging"], marks=pytest.mark.slow),
])
def test_grid_with_categoricals_runs_every_model_and_strategy(tmp_path: Path, models: list[str],
                                                              strategies: list[str]) -> None:
    X, y = frame()
    X.assign(y=y).to_csv(tmp_path / "d.csv", index=False)
    grid_file = tmp_path / "g.toml"
    grid_file.write_text(GRID.format(csv="d.csv", models=json.dumps(models), strategies=json.dumps(strategies)))
    grid = load_grid(grid_file)
    run_grid(grid, tmp_path / "results", backend="sequential")
    cells = store_reader(tmp_path / "results").cells()
    assert len(cells) == len(models) * len(strategies) * 2
    assert set(cells["status"]) == {"ok"}, cells.loc[cells["status"] != "ok", ["model", "strategy", "message"]]
    by_model = cells[cells["strategy"] == "none"].groupby("model")["roc_auc"].mean()
    assert (by_model > 0.75).all()  # the categorical signal is found through one-hot and native splits


@pytest.mark.parametrize("model", ["lightgbm", "hist-gb"])
def test_unseen_level_at_predict_time(model: str) -> None:
    pipe, X = build(model)
    new = X.head(3).copy()
    new["colour"] = pd.Categorical(["zzz", "a", None])
    proba = pipe.predict_proba(new)[:, 1]
    assert np.isfinite(proba).all()
