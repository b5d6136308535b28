"""Behaviour of particular strategies: where SMOTENC sits, parameter rules recorded with the cell,
weighting knobs per model, declared ensembles, skips instead of errors, and the listing."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from imblearn.under_sampling import TomekLinks

from imbench.benchmarks.execution.fit_cell import fit_on_fold
from imbench.benchmarks.spec.grid import GridError, parse_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.datasets import Dataset, register_source
from imbench.strategies import TrainingContext, get_model, get_strategy, register_strategy
from imbench.strategies.base import NotApplicable, Strategy
from imbench.strategies.weighting import PositiveClassWeighted
from tests.helpers import DATA, TEST, TRAIN, tiny_data


def _ctx(kind: str) -> TrainingContext:
    X, y, categorical = DATA[kind]
    numeric = tuple(c for c in X.columns if c not in categorical)
    return TrainingContext(len(TRAIN), int(y[TRAIN].sum()), numeric, tuple(categorical))


def _resampled(strategy: str, kind: str) -> pd.DataFrame:
    """What reaches the model's own preprocessing output: run the pipeline's steps up to the model."""
    X, y, _ = DATA[kind]
    s = get_strategy(strategy)
    pipe = s.build(get_model("logreg"), s.resolve_params({}), _ctx(kind), seed=0)
    Xt, yt = X.iloc[TRAIN], y[TRAIN]
    for name, step in pipe.steps[:-1]:
        if hasattr(step, "fit_resample"):
            Xt, yt = step.fit_resample(Xt, yt)
        else:
            Xt = step.fit_transform(Xt, yt)
    names = pipe.named_steps["prep"].get_feature_names_out()
    return pd.DataFrame(np.asarray(Xt), columns=names)


def test_smotenc_sees_categories_and_smote_sees_one_hot_columns() -> None:
    """The documented placement: SMOTENC between imputation and encoding, SMOTE after encoding."""
    onehot_nc = _resampled("smotenc", "mixed").filter(like="cat__")
    onehot_smote = _resampled("smote", "mixed").filter(like="cat__")
    assert set(np.unique(onehot_nc.to_numpy())) == {0.0, 1.0}  # synthetic rows have real categories
    per_column = onehot_nc.T.groupby(lambda name: name.split("_")[2]).sum().T  # one category per original column
    np.testing.assert_array_equal(per_column.to_numpy(), 1.0)
    fractional = (onehot_smote.to_numpy() > 0) & (onehot_smote.to_numpy() < 1)
    assert fractional.any()  # plain SMOTE interpolates one-hot columns: the reason smotenc exists


def test_smotenc_and_smoten_say_which_data_they_need() -> None:
    model = get_model("logreg")
    for name, kind, message in [("smotenc", "numeric", "no categorical columns"),
                                ("smotenc", "categorical", "needs a numeric column"),
                                ("smoten", "mixed", "treats every column as categorical")]:
        strategy = get_strategy(name)
        ok, reason = strategy.check(model, strategy.resolve_params({}), _ctx(kind))
        assert not ok and message in reason


@pytest.mark.parametrize(("name", "key", "n_pos", "skip_message", "shrunk"), [
    ("smote", "k_neighbors", 4, "SMOTE with k_neighbors=5 needs at least 6 positives in the training fold, found 4", 3),
    ("adasyn", "n_neighbors", 3, "ADASYN with n_neighbors=5 needs at least 6 positives", 2),
    ("nearmiss", "n_neighbors", 2, "NearMiss with n_neighbors=3 needs at least 3 positives", 2),
])
def test_few_positives_rule(name: str, key: str, n_pos: int, skip_message: str, shrunk: int) -> None:
    strategy, model = get_strategy(name), get_model("logreg")
    ctx = TrainingContext(60, n_pos, ("x0",), ())
    strict, notes = strategy.adapt(model, strategy.resolve_params({}), ctx)
    ok, reason = strategy.check(model, strict, ctx)
    assert notes == [] and not ok and reason.startswith(skip_message)
    used, notes = strategy.adapt(model, strategy.resolve_params({"few_positives": "shrink"}), ctx)
    assert used[key] == shrunk and len(notes) == 1 and f"{key} " in notes[0]
    assert strategy.check(model, used, ctx) == (True, "")


def test_shrink_is_recorded_with_the_cell() -> None:
    X, y, _ = tiny_data("numeric", n=60, n_pos=6, seed=1)  # 4 positives in the training fold
    train, test = np.arange(60)[np.r_[0:45]], np.arange(45, 60)
    y[:] = 0
    y[[1, 2, 3, 4, 50, 55]] = 1
    fitted = fit_on_fold("logreg", "smote", {"few_positives": "shrink"}, X, y, [], train, test, 1)
    assert fitted.extra["effective_params"] == {"sampling_ratio": 1.0, "k_neighbors": 3, "few_positives": "shrink"}
    assert fitted.extra["adapted"][0].startswith("k_neighbors 5 → 3: only 4 positives")
    with pytest.raises(NotApplicable, match="needs at least 6 positives"):
        fit_on_fold("logreg", "smote", {}, X, y, [], train, test, 1)


def test_sampling_ratio_already_reached_is_a_skip() -> None:
    strategy = get_strategy("random-over")
    ok, reason = strategy.check(get_model("logreg"), {"sampling_ratio": 0.1}, TrainingContext(120, 20, ("x",), ()))
    assert not ok and reason == ("the training fold already has minority/majority = 0.2 > sampling_ratio 0.1: "
                                 "nothing to over-sample")


def test_measured_prior_of_a_cleaning_method() -> None:
    """Tomek links remove a data-dependent number of negatives; the pipeline's counter records it."""
    fitted = fit_on_fold("logreg", "tomek-links", {}, *DATA["numeric"], TRAIN, TEST, 1)
    X, y, _ = DATA["numeric"]
    prep = fitted.estimator.named_steps["prep"]
    _, y_clean = TomekLinks().fit_resample(prep.transform(X.iloc[TRAIN]), y[TRAIN])
    assert fitted.training_prior == pytest.approx(y_clean.mean())
    assert fitted.training_prior > y[TRAIN].mean()


# --- weighting ------------------------------------------------------------------------------------

def _weighted(model: str, params: dict[str, Any]) -> Any:
    return fit_on_fold(model, "class-weight", params, *DATA["numeric"], TRAIN, TEST, 1)


def test_class_weight_reaches_each_models_knob() -> None:
    y = DATA["numeric"][1][TRAIN]
    balanced = (len(y) - y.sum()) / y.sum()
    assert _weighted("xgboost", {}).estimator.named_steps["model"].get_params()["scale_pos_weight"] == balanced
    lgbm = _weighted("lightgbm", {"knob": "is_unbalance"})
    assert lgbm.estimator.named_steps["model"].booster_.params["is_unbalance"] is True
    assert lgbm.training_prior == pytest.approx(0.5)
    assert _weighted("logreg", {"ratio": 3}).estimator.named_steps["model"].class_weight == {0: 1.0, 1: 3.0}
    by_sample = _weighted("logreg", {"ratio": 3, "knob": "sample_weight"})
    assert isinstance(by_sample.estimator.named_steps["model"], PositiveClassWeighted)
    # for logistic regression, class_weight is sample weighting: both knobs give the same model
    np.testing.assert_allclose(by_sample.proba, _weighted("logreg", {"ratio": 3}).proba, rtol=1e-6)
    prior = y.mean()
    assert _weighted("logreg", {"ratio": 3}).training_prior == pytest.approx(3 * prior / (3 * prior + 1 - prior))


def test_class_weight_knob_mistakes() -> None:
    strategy = get_strategy("class-weight")
    ok, reason = strategy.check(get_model("logreg"), strategy.resolve_params({"knob": "scale_pos_weight"}), _ctx("numeric"))
    assert not ok and reason == "model 'logreg' has no scale_pos_weight knob (it has class_weight, sample_weight)"
    grid = """datasets = ["keel:glass1"]\nmodels = ["lightgbm"]\nstrategies = [{name = "class-weight", %s}]\n"""
    with pytest.raises(GridError, match=r"^g.toml:3: class-weight: `knob` = 'is_unbalance' needs `ratio` = 'balanced', got 2 \(LightGBM's is_unbalance weights by n_neg/n_pos only"):
        parse_grid(grid % 'ratio = 2, knob = "is_unbalance"', "g.toml")
    with pytest.raises(GridError, match=r"^g.toml:3: class-weight: `knob` must be one of 'auto', 'class_weight', "):
        parse_grid(grid % 'knob = "weights"', "g.toml")


@pytest.mark.parametrize(("entry", "message"), [
    ('{name = "smote", k_neighbors = 0}', "smote: `k_neighbors` must be an integer ≥ 1, got 0"),
    ('{name = "smote", sampling_ratio = 1.5}', "smote: `sampling_ratio` must be a number in (0, 1], got 1.5"),
    ('{name = "borderline-smote", kind = 3}', "borderline-smote: `kind` must be one of 1, 2, got 3"),
    ('{name = "smote", few_positives = "maybe"}', "smote: `few_positives` must be one of 'skip', 'shrink', got 'maybe'"),
    ('{name = "focal", alpha = 1.5}', "focal: `alpha` must be a number in (0, 1), got 1.5"),
    ('{name = "nearmiss", version = [1, 4]}', "nearmiss: `version` must be one of 1, 2, 3, got 4"),
])
def test_bad_parameter_values_fail_when_the_grid_is_read(entry: str, message: str) -> None:
    text = f'datasets = ["keel:glass1"]\nmodels = ["logreg"]\nstrategies = ["none", {entry}]\n'
    with pytest.raises(GridError) as info:
        parse_grid(text, "g.toml")
    assert str(info.value) == f"g.toml:3: {message}" or str(info.value).startswith(f"g.toml:3: {message}")


# --- ensembles and declarations -----------------------------------------------------------------

def test_balanced_ensembles_declare_that_they_replace_the_model() -> None:
    for name in ("balanced-random-forest", "balanced-bagging", "easy-ensemble", "rusboost"):
        assert get_strategy(name).replaces_model and get_strategy(name).family == "ensemble"
    assert get_strategy("balanced-random-forest").supported_models == ("random-forest",)
    fitted = fit_on_fold("logreg", "easy-ensemble", {"n_estimators": 3}, *DATA["numeric"], TRAIN, TEST, 1)
    members = fitted.estimator.named_steps["model"].estimators_
    assert len(members) == 3 and type(members[0].steps[-1][1]).__name__ == "LogisticRegression"
    assert fitted.training_prior == 0.5


def test_registration_refuses_what_could_leak_or_mislead() -> None:
    class Peeks(Strategy):
        name, family, uses_full_dataset = "test-peeks", "oversampling", True

    class Posthoc(Strategy):
        name, family = "test-posthoc", "posthoc"

    for cls, message in [(Peeks, "only an anti-pattern may use the full dataset"),
                         (Posthoc, "register_posthoc")]:
        with pytest.raises(TypeError, match=message):
            register_strategy(cls)


# --- a sampler that cannot apply at fit time is a skip, not an error ------------------------------

@register_source("catalogue")
def _catalogue_source(name: str) -> Dataset:
    X, y, categorical = tiny_data("numeric", seed=5)
    X = X.assign(x0=np.random.default_rng(0).normal(size=len(y)), x1=np.random.default_rng(1).normal(size=len(y)))
    return Dataset(name=name, X=X, y=y, categorical=categorical, meta={"n": len(y)})


def test_kmeans_smote_without_dense_clusters_is_stored_as_skipped(tmp_path: Path) -> None:
    grid = parse_grid('datasets = ["catalogue:noise"]\nmodels = ["lightgbm"]\nstrategies = ["kmeans-smote"]\n'
                      '[cv]\nn_splits = 3\nn_repeats = 1\n')
    run_grid(grid, tmp_path / "r", backend="sequential")
    cells = store_reader(tmp_path / "r").cells()
    assert set(cells["status"]) == {"skipped"}
    assert cells["message"].str.startswith("KMeansSMOTE: No clusters found with sufficient samples").all()


# --- listing ---------------------------------------------------------------------------------------

def _imbench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI in this process (the listing needs no subprocess): exit code, stdout, stderr. The
    console is wide, so names are checked whole (fitting 80 columns is tested below; a plugin
    strategy another test registered in this process can narrow the name column)."""
    from imbench import cli_run
    from imbench.cli import main

    width = cli_run.console.width
    cli_run.console.width = 200
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        cli_run.console.width = width
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_strategies_by_family(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _imbench(capsys, "list", "strategies", "--family", "oversampling")
    assert code == 0, err
    for name in ("smote", "smotenc", "borderline-smote", "leaky-smote", "ANTI-PATTERN"):
        assert name in out
    assert "random-under" not in out and "│ focal" not in out and "threshold:f1" not in out
    code, out, _ = _imbench(capsys, "list", "strategies", "--family", "posthoc")
    assert "threshold:precision>=P" in out and "calibrate:isotonic" in out and "smote" not in out
    code, out, _ = _imbench(capsys, "list", "strategies", "--family", "ensemble")
    assert "replaces the" in out and "n_estimators=10" in out
    code, _, err = _imbench(capsys, "list", "strategies", "--family", "oversample")
    assert code == 2 and "did you mean 'oversampling'" in err


@pytest.mark.parametrize("what", ["strategies", "models", "datasets"])
def test_listings_fit_80_columns(what: str) -> None:
    from tests.helpers import run_cli

    out = run_cli("list", what, columns=80)
    assert out.returncode == 0, out.stderr
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    if what == "datasets":  # whole names and numbers, the columns that do not fit named below the table
        assert "keel:yeast-2_vs_4 " in out.stdout and " 284807 " in out.stdout
        assert "left out to fit 80 columns" in out.stdout
