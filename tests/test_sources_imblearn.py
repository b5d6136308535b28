"""imbalanced-learn's benchmark through `fetch_datasets` and a cache built here in its own format."""
from __future__ import annotations

from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest

from imbench.datasets import DatasetError, list_datasets, load_dataset, registry
from imbench.datasets.imblearn_source import catalogue_table


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """scikit-learn's data folder in tmp; a download attempt fails like an unreachable network."""
    import imblearn.datasets._zenodo as zenodo

    def unreachable(url: str) -> None:
        raise URLError("network unreachable (test)")

    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path))
    monkeypatch.delenv("IMBENCH_OFFLINE", raising=False)
    monkeypatch.setattr(zenodo, "urlopen", unreachable)
    registry._META_MEMO.clear()
    yield tmp_path
    registry._META_MEMO.clear()


def write_cached(home: Path, ident: int, n: int = 120, n_pos: int = 12, d: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A file as fetch_datasets stores it: zenodo/x<ID>data.npz with `data` and `label` (-1/1)."""
    rng = np.random.RandomState(ident)
    data = rng.randn(n, d)
    label = np.where(np.arange(n) < n_pos, 1, -1)
    rng.shuffle(label)
    (home / "zenodo").mkdir(exist_ok=True)
    np.savez(home / "zenodo" / f"x{ident}data.npz", data=data, label=label)
    return data, label


def test_catalogue_is_the_27_documented_datasets() -> None:
    table = catalogue_table()
    assert len(table) == 27
    assert table["ecoli"] == {"id": 1, "origin": "UCI, target: imU", "ir": 8.6, "n": 336, "d": 7}
    assert table["abalone_19"]["id"] == 27 and table["protein_homo"]["n"] == 145751


def test_loads_from_the_cache_positive_is_label_1(data_home: Path) -> None:
    data, label = write_cached(data_home, 1)
    dataset = load_dataset("imblearn:ecoli")
    np.testing.assert_array_equal(dataset.y, (label == 1).astype(np.int8))
    np.testing.assert_allclose(dataset.X.to_numpy(), data)
    assert dataset.meta["ir"] == 9.0 and dataset.meta["source"] == "imblearn"
    assert "imU" in dataset.meta["origin"]


def test_listing_documented_until_cached_then_computed(data_home: Path) -> None:
    write_cached(data_home, 1)
    frame = list_datasets(["imblearn:ecoli", "imblearn:oil"]).set_index("name")
    assert frame.loc["imblearn:ecoli", "data"] == "cached" and frame.loc["imblearn:ecoli", "ir"] == 9.0
    assert frame.loc["imblearn:oil", "data"] == "download" and frame.loc["imblearn:oil", "ir"] == 22.0


def test_missing_cache_unreachable_network_and_offline(data_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = data_home / "zenodo" / "x18data.npz"
    with pytest.raises(DatasetError) as info:
        load_dataset("imblearn:oil")
    message = str(info.value)
    assert message.startswith(f"dataset 'imblearn:oil' is not cached ({expected} missing) and the download from "
                              "Zenodo failed (URLError")
    assert "\n" not in message
    monkeypatch.setenv("IMBENCH_OFFLINE", "1")
    with pytest.raises(DatasetError, match=r"is not cached .* and IMBENCH_OFFLINE is set"):
        load_dataset("imblearn:oil")


def test_corrupt_cache_file(data_home: Path) -> None:
    write_cached(data_home, 18)
    path = data_home / "zenodo" / "x18data.npz"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(DatasetError, match=f"the cached file {path} is unreadable"):
        load_dataset("imblearn:oil")


def test_unknown_name_suggests() -> None:
    with pytest.raises(DatasetError, match="unknown imbalanced-learn dataset 'ecolli': did you mean 'ecoli'"):
        load_dataset("imblearn:ecolli")



def test_fetch_command_reads_the_cache(data_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import run_cli

    monkeypatch.setenv("IMBENCH_OFFLINE", "1")  # the subprocess must not download either
    write_cached(data_home, 1)
    done = run_cli("fetch", "imblearn:ecoli")
    assert done.returncode == 0, done.stderr
    assert "1 datasets ready" in done.stdout and "imblearn:ecoli" in done.stdout and "9.00" in done.stdout
    missing = run_cli("fetch", "imblearn:oil")
    assert missing.returncode == 2
    assert missing.stderr.startswith("imbench: error: dataset 'imblearn:oil' is not cached")
