"""A dataset's content fingerprint: one hash of its features (values, column names, dtypes, which
columns are categorical) and target, so a store notices when the data behind a name changed (a
`file:` dataset edited between two runs) and never pairs cells fitted on different data.

pandas' `hash_pandas_object` hashes each column vectorised (about 1 s for 1,000,000 × 50), and the
result is kept per process and per loaded dataset.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from datasets.base import Dataset


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
