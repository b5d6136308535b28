"""Export a store to Parquet or CSV: cells (metrics as columns), predictions (long) and datasets."""
from __future__ import annotations

from pathlib import Path

from benchmarks.store import read_cells, read_datasets, read_predictions


def export_store(results_dir: str | Path, out_dir: str | Path, fmt: str = "parquet") -> list[Path]:
    """Write cells.<fmt>, predictions.<fmt> and datasets.<fmt> into out_dir; return the paths written."""
    out_dir = Path(out_dir)
    tables = {"cells": read_cells(results_dir), "predictions": read_predictions(results_dir),
              "datasets": read_datasets(results_dir)}
    out_dir.mkdir(parents=True, exist_ok=True)
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
