"""Export a store to Parquet or CSV for pandas, DuckDB or a spreadsheet: cells (metrics as columns),
derived post-hoc results, predictions (long), inner out-of-fold predictions (long), datasets and runs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from imbench.benchmarks.store.reader import store_reader
from imbench.foundation.paths import check_writable_dir, prepare_dir


def inner_long(results_dir: str | Path) -> pd.DataFrame:
    """(key, row_index, y_true, inner_fold, proba): every cell's inner out-of-fold predictions."""
    inner = store_reader(results_dir).inner_predictions()
    if not inner:
        return pd.DataFrame({"key": pd.Series(dtype=str), "row_index": pd.Series(dtype="int32"),
                             "y_true": pd.Series(dtype="int8"), "inner_fold": pd.Series(dtype="int8"),
                             "proba": pd.Series(dtype=float)})
    return pd.DataFrame({
        "key": np.repeat(np.array(list(inner), dtype=object), [len(p.proba) for p in inner.values()]),
        "row_index": np.concatenate([p.row_index for p in inner.values()]),
        "y_true": np.concatenate([p.y_true for p in inner.values()]),
        "inner_fold": np.concatenate([p.fold for p in inner.values()]),
        "proba": np.concatenate([p.proba for p in inner.values()])})


def export_store(results_dir: str | Path, out_dir: str | Path, fmt: str = "parquet", out_option: str = "--out"
                 ) -> list[Path]:
    """Write cells, derived, predictions, inner_predictions, datasets and runs (.parquet or .csv) into
    out_dir; return the paths written. The store and the output folder are checked before reading."""
    out_dir = Path(out_dir)
    store_reader(results_dir)
    check_writable_dir(out_dir, out_option)
    runs = pd.DataFrame(store_reader(results_dir).runs())
    for column in ("spec", "environment"):
        if column in runs:
            runs[column] = runs[column].map(lambda value: json.dumps(value, sort_keys=True))
    tables = {"cells": store_reader(results_dir).cells(), "derived": store_reader(results_dir).derived(),
              "predictions": store_reader(results_dir).predictions(), "inner_predictions": inner_long(results_dir),
              "datasets": store_reader(results_dir).datasets(), "runs": runs}
    prepare_dir(out_dir, out_option)
    written = []
    for name, frame in tables.items():
        path = out_dir / f"{name}.{fmt}"
        tmp = path.with_suffix(path.suffix + ".tmp")
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        tmp.replace(path)  # atomic: a reader never sees half a file
        written.append(path)
    return written
