"""One copy of a large dataset for the whole run: the client writes it once to the run's scratch folder
and every process maps it read-only, so the operating system keeps a single copy in memory.

A fit then copies only what it needs: its training rows, once (benchmarks/execution/fold_rows.py). Read-only, so a
strategy that wrote into the shared data would fail loudly instead of changing other cells' data.
Small datasets (most bundled ones load in milliseconds) are not worth a file: workers load them by name.
"""
from __future__ import annotations

import ctypes
import gc
from functools import lru_cache
from pathlib import Path

import joblib
import numpy as np

from imbench.datasets import Dataset
from imbench.foundation.hashing import stable_hash

#: Datasets at least this large (features and target in memory) are shared through a mapped file.
SHARE_ABOVE_BYTES = 16 * 2**20


def nbytes(dataset: Dataset) -> int:
    """In-memory size of the features and target."""
    return int(dataset.X.memory_usage(index=False, deep=True).sum()) + int(np.asarray(dataset.y).nbytes)


def load_shared(path: str | Path) -> Dataset:
    """The dataset in `path`, its arrays memory-mapped read-only."""
    return joblib.load(path, mmap_mode="r")


def share(datasets: dict[str, Dataset], folder: Path, above: int | None = None) -> dict[str, str]:
    """Write every large dataset of `datasets` once to `folder` and swap the caller's copy for the
    mapped one (so the client holds no second copy once nothing else refers to the loaded one: then call
    release_memory); returns name → file for the workers."""
    limit = SHARE_ABOVE_BYTES if above is None else above
    files = {}
    for name, dataset in datasets.items():
        if nbytes(dataset) < limit:
            continue
        path = folder / f"{stable_hash(name)[:16]}.joblib"
        joblib.dump(dataset, path)
        datasets[name] = load_shared(path)
        files[name] = str(path)
    return files


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # glibc only
        return libc
    except (OSError, AttributeError):
        return None


def release_memory() -> None:
    """Give freed memory back to the operating system: glibc keeps large freed blocks for reuse, and
    pyarrow its pool, so a process that loaded or fitted something large looks as large afterwards."""
    gc.collect()
    try:
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    except (ImportError, AttributeError):
        pass
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
