"""Synthetic data: exact prevalence, determinism, canonical names, and label noise that keeps counts."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from imbench.datasets import DatasetError, dataset_meta, load_dataset, resolve_name
from imbench.datasets.synthetic import generate, params


@pytest.mark.parametrize(("n", "prevalence", "flip_y"), [(1000, 0.01, 0.0), (997, 0.013, 0.05), (5000, 0.2, 0.3),
                                                         (20001, 0.0015, 0.01)])
def test_prevalence_is_exact(n: int, prevalence: float, flip_y: float) -> None:
    dataset = load_dataset(f"synthetic[n={n},prevalence={prevalence},flip_y={flip_y},d=6]")
    assert len(dataset.y) == n
    assert dataset.n_pos == int(np.floor(n * prevalence + 0.5))


def test_deterministic_and_seeded() -> None:
    a = load_dataset("synthetic[n=3000,d=8,seed=4]")
    b = load_dataset("synthetic[n=3000,d=8,seed=4]")
    c = load_dataset("synthetic[n=3000,d=8,seed=5]")
    assert a.X.equals(b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X.to_numpy(), c.X.to_numpy())


def test_canonical_name_carries_every_parameter() -> None:
    name = resolve_name("synthetic[seed=0,n=1e4,prevalence=0.010]")
    assert name == "synthetic[n=10000,d=20,prevalence=0.01,class_sep=1,flip_y=0.01,informative=10,seed=0]"
    assert resolve_name(name) == name
    meta = dataset_meta(name)  # from the parameters, nothing generated
    assert (meta["n"], meta["d"], meta["n_pos"], meta["ir"]) == (10000, 20, 100, 99.0)
    assert {k: load_dataset(name).meta[k] for k in ("n", "d", "n_pos", "ir")} == \
        {k: meta[k] for k in ("n", "d", "n_pos", "ir")}


@pytest.mark.parametrize(("bad", "message"), [("synthetic[n=10.5]", "n must be a whole number"),
                                              ("synthetic[prevalence=1.5]", "prevalence must be in"),
                                              ("synthetic[n=100,prevalence=0.001]", "gives 0 positives"),
                                              ("synthetic[rows=5]", "unknown parameter 'rows'")])
def test_bad_parameters(bad: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        resolve_name(bad)


def test_label_noise_keeps_counts_and_hurts_separability() -> None:
    def auc(flip_y: float) -> float:
        X, y = generate(params(f"synthetic[n=20000,d=10,prevalence=0.1,flip_y={flip_y},seed=1]"))
        assert int(y.sum()) == 2000
        model = LogisticRegression(max_iter=500).fit(X[:10000], y[:10000])
        return roc_auc_score(y[10000:], model.predict_proba(X[10000:])[:, 1])

    assert auc(0.0) > auc(0.4) + 0.1


def test_a_million_rows() -> None:
    X, y = generate(params("synthetic[n=1000000,d=20,prevalence=0.01]"))
    assert X.shape == (1_000_000, 20) and X.dtype == np.float32 and X.nbytes == 80_000_000
    assert int(y.sum()) == 10_000


SCALE_GRID = """\
name = "scale"
seed = 0
datasets = ["synthetic[n={n},d=20,prevalence=0.01,seed=3]"]
models = ["logreg"]
strategies = ["none"]

[cv]
n_splits = 2
n_repeats = 1
"""


@pytest.mark.parametrize("n", [100_000, pytest.param(1_000_000, marks=pytest.mark.slow)])
def test_workers_regenerate_identical_data_from_the_name(tmp_path, n: int) -> None:
    from imbench.benchmarks.spec.grid import parse_grid
    from imbench.benchmarks.runner import run_grid
    from imbench.benchmarks.store.reader import store_reader

    grid = parse_grid(SCALE_GRID.format(n=n), "scale.toml")
    run_grid(grid, tmp_path / "r", n_jobs=2)  # loky workers get the name only and rebuild the data
    assert set(store_reader(tmp_path / "r").cells()["status"]) == {"ok"}
    predictions = store_reader(tmp_path / "r").predictions()
    _, y = generate(params(grid.datasets[0]))
    assert len(predictions) == n and predictions["row_index"].nunique() == n
    np.testing.assert_array_equal(predictions["y_true"].to_numpy(), y[predictions["row_index"].to_numpy()])
