"""imbalanced-learn's benchmark collection (27 datasets of `fetch_datasets`): `imblearn:ecoli`, ...

Read through `imblearn.datasets.fetch_datasets` and its `data_home` cache only (scikit-learn's data
folder: `$SCIKIT_LEARN_DATA`, default `~/scikit_learn_data`, files `zenodo/x<ID>data.npz`), so an
existing imbalanced-learn cache is reused. The first use downloads the whole collection from Zenodo
(what fetch_datasets does); with `IMBENCH_OFFLINE=1` or without network a missing file is a one-line
error saying where the file is expected. The positive class is the collection's label 1 (its minority).

Until a dataset is cached, listings show the n, d and ratio that imbalanced-learn documents in
`fetch_datasets` (column `data` = "download"); once cached, everything is computed from the data.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imbench.datasets.base import Dataset, DatasetError
from imbench.datasets.cache import OFFLINE_ENV, offline
from imbench.datasets.names import parse_name
from imbench.datasets.registry import register_source
from imbench.datasets.targets import binarize
from imbench.foundation.names import unknown_name_message

SCHEME = "imblearn"
LICENSE = ("as distributed by imbalanced-learn (Zenodo record 61452, collection of Ding 2011); each dataset keeps "
           "its original repository's terms (UCI: CC BY 4.0; LIBSVM, KDD Cup)")
_ROW = re.compile(r"^\s*\|\s*(\d+)\s*\|\s*(\w+)\s*\|([^|]+)\|\s*([\d.]+):1\s*\|\s*([\d,]+)\s*\|\s*(\d+)\s*\|")


@lru_cache(maxsize=1)
def catalogue_table() -> dict[str, dict[str, Any]]:
    """The collection as documented in fetch_datasets' docstring: id, origin, ratio, n, d by name."""
    from imblearn.datasets import fetch_datasets

    table = {}
    for line in (fetch_datasets.__doc__ or "").splitlines():
        match = _ROW.match(line)
        if match:
            ident, name, origin, ratio, n, d = match.groups()
            table[name] = {"id": int(ident), "origin": " ".join(origin.split()), "ir": float(ratio),
                           "n": int(n.replace(",", "")), "d": int(d)}
    if not table:  # docstring format changed: fall back to the id table imblearn keeps
        from imblearn.datasets._zenodo import MAP_NAME_ID

        table = {name: {"id": ident, "origin": "", "ir": None, "n": None, "d": None}
                 for name, ident in MAP_NAME_ID.items()}
    return table


def data_home() -> Path:
    from sklearn.datasets import get_data_home

    return Path(get_data_home())


def cache_file(name: str) -> Path:
    return data_home() / "zenodo" / f"x{catalogue_table()[name]['id']}data.npz"


def _dataset_name(name: str) -> str:
    parsed = parse_name(name)
    if parsed.options:
        raise DatasetError(f"dataset {name!r}: imbalanced-learn datasets take no options")
    if parsed.body not in catalogue_table():
        raise DatasetError(unknown_name_message("imbalanced-learn dataset", parsed.body, sorted(catalogue_table())))
    return parsed.body


def canonical(name: str) -> str:
    return f"{SCHEME}:{_dataset_name(name)}"


def _read(dataset: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    from imblearn.datasets import fetch_datasets

    path = cache_file(dataset)
    was_cached = path.is_file()
    if not was_cached and offline():
        raise DatasetError(f"dataset {name!r} is not cached ({path} missing) and {OFFLINE_ENV} is set: run once "
                           "with network access (imbench fetch NAME) or copy the file there")
    try:
        bunch = fetch_datasets(data_home=str(data_home()), filter_data=(dataset,), download_if_missing=True)[dataset]
        return np.asarray(bunch.data), np.asarray(bunch.target)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line naming the file
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        if was_cached:
            raise DatasetError(f"dataset {name!r}: the cached file {path} is unreadable ({reason}); delete it "
                               "and load again with network access to re-download") from None
        raise DatasetError(f"dataset {name!r} is not cached ({path} missing) and the download from Zenodo failed "
                           f"({reason}); run once with network access or copy the file there") from None


def load(name: str) -> Dataset:
    dataset = _dataset_name(name)
    data, label = _read(dataset, name)
    if data.ndim != 2 or len(data) != len(label):
        raise DatasetError(f"dataset {name!r}: the cached file {cache_file(dataset)} has inconsistent shapes "
                           f"{data.shape} and {label.shape}; delete it to re-download")
    y, _ = binarize(pd.Series(label), ["1"], name)
    X = pd.DataFrame(data.astype(np.float64), columns=[f"x{i}" for i in range(data.shape[1])], copy=False)
    entry = catalogue_table()[dataset]
    meta = {"source": SCHEME, "origin": f"imbalanced-learn benchmark #{entry['id']}: {entry['origin']}",
            "license": LICENSE, "data": "cached"}
    return Dataset(name=name, X=X, y=y, categorical=[], meta=meta)


def names() -> list[str]:
    return [f"{SCHEME}:{name}" for name in catalogue_table()]


def catalogue(name: str) -> dict[str, Any] | None:
    """Documented metadata while the file is not cached; None (= load it) once it is."""
    dataset = _dataset_name(name)
    if cache_file(dataset).is_file():
        return None
    entry = catalogue_table()[dataset]
    return {"n": entry["n"], "d": entry["d"], "n_pos": None, "ir": entry["ir"], "n_categorical": 0,
            "missing_rate": None, "data": "download"}


def files(name: str) -> list[Path]:
    return [cache_file(_dataset_name(canonical(name)))]


register_source(SCHEME, canonical=canonical, names=names, catalogue=catalogue, files=files, downloads=True)(load)
