"""The bundled collection: Parquet files plus a manifest, converted by datasets/tools/build_bundle.py.

Listing reads only the manifest; loading reads one small Parquet file, so it takes milliseconds and
never touches the network.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from imbench.datasets.base import Dataset
from imbench.datasets.parquet import read_parquet

BUNDLE_DIR = Path(__file__).parent / "bundle"
TARGET_COLUMN = "__target__"


@lru_cache(maxsize=1)
def manifest() -> dict[str, dict[str, Any]]:
    """Manifest entries by full name (e.g. 'keel:yeast4')."""
    path = BUNDLE_DIR / "manifest.json"
    if not path.exists():
        return {}
    entries = json.loads(path.read_text())["datasets"]
    return {entry["name"]: entry for entry in entries}


def load_bundled(name: str) -> Dataset:
    entry = manifest()[name]
    frame = read_parquet(BUNDLE_DIR / entry["file"])
    y = frame.pop(TARGET_COLUMN).to_numpy()
    meta = {key: entry[key] for key in ("n", "d", "n_pos", "ir", "missing_rate", "source", "origin", "license")
            if key in entry}
    meta["n_categorical"] = len(entry["categorical"])
    return Dataset(name=name, X=frame, y=y, categorical=list(entry["categorical"]), meta=meta)
