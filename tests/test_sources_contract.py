"""One contract for every source: what load_dataset returns is clean, binary and described correctly.

Parametrized over a dataset of each source that works without a network (OpenML's are checked against a
loopback server in test_sources_openml.py), benchopt-style: a new source adds one line here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbench.datasets import dataset_meta, load_dataset, registry, resolve_name

NAMES = ["keel:glass1", "uci:german", "uci:hypothyroid", "keel:ecoli-0_vs_1", "sklearn:breast_cancer",
         "sklearn:digits[positive=3]", "synthetic[n=500,d=4,prevalence=0.1]", "imblearn:ecoli", "file"]


@pytest.fixture
def offline_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user file and an imbalanced-learn cache in tmp; no download possible."""
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path))
    monkeypatch.setenv("IMBENCH_OFFLINE", "1")
    (tmp_path / "zenodo").mkdir()
    rng = np.random.RandomState(0)
    np.savez(tmp_path / "zenodo" / "x1data.npz", data=rng.randn(90, 3), label=np.r_[np.ones(9), -np.ones(81)])
    frame = pd.DataFrame({"num": rng.randn(90), "txt": rng.choice(["a", "b"], 90), "gone": 1.0,
                          "y": ["bad"] * 10 + ["good"] * 80})
    frame.loc[[1, 2], "num"] = np.nan
    frame.to_csv(tmp_path / "d.csv", index=False)
    registry._META_MEMO.clear()
    yield tmp_path
    registry._META_MEMO.clear()


@pytest.mark.parametrize("name", NAMES)
def test_loaded_dataset_contract(name: str, offline_sources: Path) -> None:
    if name == "file":
        name = f"file:{offline_sources / 'd.csv'}[target=y,positive=bad]"
    canonical = resolve_name(name)
    dataset = load_dataset(name)
    assert dataset.name == canonical == resolve_name(canonical)  # canonical names are fixed points
    y, X = dataset.y, dataset.X
    assert y.dtype == np.int8 and set(np.unique(y)) == {0, 1} and len(y) == len(X)
    assert sorted(dataset.categorical + dataset.numeric) == sorted(X.columns)
    for column in dataset.categorical:
        assert isinstance(X[column].dtype, pd.CategoricalDtype)
        assert all(isinstance(c, str) for c in X[column].cat.categories)
    for column in X.columns:
        assert X[column].nunique(dropna=True) >= 2, f"{column} should have been dropped"
    numeric = X[dataset.numeric].to_numpy(dtype=float, na_value=np.nan)
    assert not np.isinf(numeric).any()
    meta = dataset.meta
    n_pos = int(y.sum())
    assert (meta["n"], meta["d"], meta["n_pos"], meta["n_categorical"]) == \
        (len(y), X.shape[1], n_pos, len(dataset.categorical))
    assert meta["ir"] == round((len(y) - n_pos) / n_pos, 2)
    assert meta["missing_rate"] == round(float(X.isna().to_numpy().mean()), 4)
    assert meta["source"] == registry.scheme_of(canonical) or canonical.startswith(f"{meta['source']}:")
    again = load_dataset(canonical)
    assert again.X.equals(X) and np.array_equal(again.y, y)
    assert dataset_meta(canonical)["n_pos"] == n_pos


def test_file_contract_details(offline_sources: Path) -> None:
    dataset = load_dataset(f"file:{offline_sources / 'd.csv'}[target=y,positive=bad]")
    assert dataset.categorical == ["txt"] and "gone" not in dataset.X.columns
    assert dataset.meta["missing_rate"] == round(2 / (90 * 2), 4)


def test_notices_wait_for_the_checks_and_never_precede_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    from imbench.datasets.cleaning import emit_notices, hold_notices, release_notices

    with hold_notices():
        emit_notices("held", ["first notice"])
        assert "first notice" not in capsys.readouterr().err
        release_notices()
        assert "imbench: notice: dataset 'held': first notice" in capsys.readouterr().err
    with pytest.raises(RuntimeError), hold_notices():
        emit_notices("dropped", ["second notice"])
        raise RuntimeError("the command failed")
    assert "second notice" not in capsys.readouterr().err
