"""A dataset's content fingerprint: one hash of its features (values, column names, dtypes, which
columns are categorical) and target, so a store notices when the data behind a name changed (a
`file:` dataset edited between two runs) and never pairs cells fitted on different data.

pandas' `hash_pandas_object` hashes each column vectorised (about 1 s for 1,000,000 × 50), and the
result is kept per process and per loaded dataset.

Resuming a run should not load every dataset again just to hash it, so `dataset_identity` keeps
fingerprints (and metadata) in `<cache>/fingerprints.json`, keyed by the dataset's name and the
size and modification time of the files its content is read from (a bundled Parquet file, a user's
CSV, a cached download). A dataset without such files (synthetic, scikit-learn) is loaded every
time. Bump `RULES` when cleaning or loading changes what a file yields.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imbench.datasets.base import Dataset
from imbench.datasets.bundled import BUNDLE_DIR, manifest
from imbench.datasets.cache import cache_root, write_json_atomic

#: Version of what a source file yields (loading and cleaning rules); part of every cache key.
RULES = 1
CACHE_FILE = "fingerprints.json"


def fingerprint(dataset: Dataset) -> str:
    """sha256 hex digest of the dataset's content (cached on the Dataset object)."""
    cached = dataset.meta.get("fingerprint")
    if isinstance(cached, str):
        return cached
    digest = hashlib.sha256()
    X = dataset.X
    digest.update(repr([(str(c), str(X[c].dtype)) for c in X.columns]).encode())
    digest.update(repr(sorted(map(str, dataset.categorical))).encode())
    for column in X.columns:
        digest.update(pd.util.hash_pandas_object(X[column], index=False).to_numpy().tobytes())
    digest.update(np.ascontiguousarray(dataset.y, dtype=np.int8).tobytes())
    value = digest.hexdigest()
    dataset.meta["fingerprint"] = value
    return value


@dataclass(frozen=True)
class DatasetIdentity:
    """What a run needs to know about a dataset without its rows: content fingerprint and metadata
    (n, d, n_pos, categorical columns, ...)."""

    name: str
    fingerprint: str
    meta: dict[str, Any]


def source_files(name: str) -> list[Path] | None:
    """The files a dataset's content is read from, or None when it has none (generated, or a source
    without a `files` hook)."""
    from imbench.datasets.registry import SOURCE_SPECS, scheme_of

    entry = manifest().get(name)
    if entry is not None:
        return [BUNDLE_DIR / entry["file"]]
    spec = SOURCE_SPECS.get(scheme_of(name))
    if spec is None or spec.files is None:
        return None
    return spec.files(name)


def _stat_key(name: str) -> str | None:
    files = source_files(name)
    if not files:
        return None
    stats = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            return None
        stats.append([str(path.resolve()), stat.st_size, stat.st_mtime_ns])
    return json.dumps([RULES, name, stats])


_MEMO: dict[str, dict[str, Any]] | None = None


def _cache_path() -> Path:
    return cache_root() / CACHE_FILE


def _entries() -> dict[str, dict[str, Any]]:
    global _MEMO
    if _MEMO is None:
        try:
            loaded = json.loads(_cache_path().read_text())
            _MEMO = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            _MEMO = {}
    return _MEMO


def known_identity(name: str) -> DatasetIdentity | None:
    """The cached identity of `name` when its source files are unchanged (size, mtime), else None."""
    key = _stat_key(name)
    entry = _entries().get(name) if key else None
    if not entry or entry.get("key") != key:
        return None
    return DatasetIdentity(name, entry["fingerprint"], entry["meta"])


def remember(dataset: Dataset, flush: bool = True) -> DatasetIdentity:
    """Fingerprint a loaded dataset and keep its identity for the next process (when it has files)."""
    global _DIRTY
    value = fingerprint(dataset)
    meta = json.loads(json.dumps({**dataset.meta, "categorical": list(dataset.categorical)}, default=str))
    identity = DatasetIdentity(dataset.name, value, meta)
    key = _stat_key(dataset.name)
    entries = _entries()
    if key is not None and entries.get(dataset.name, {}).get("key") != key:
        entries[dataset.name] = {"key": key, "fingerprint": value, "meta": meta}
        _DIRTY = True
    if flush:
        _flush()
    return identity


_DIRTY = False


def _flush() -> None:
    global _DIRTY
    if not _DIRTY:
        return
    _DIRTY = False
    try:
        write_json_atomic(_entries(), _cache_path())
    except OSError:
        pass  # a read-only cache only costs a reload next time


def dataset_identities(names: list[str]) -> dict[str, DatasetIdentity]:
    """Fingerprint and metadata of each dataset: from the cache when its files are unchanged, else by
    loading it (which validates it, and may download it)."""
    from imbench.datasets.registry import load_dataset

    out = {}
    try:
        for name in names:
            out[name] = known_identity(name) or remember(load_dataset(name), flush=False)
    finally:
        _flush()
    return out
