"""Where downloaded datasets are kept, whether the network may be used, and crash-safe writes.

Cache root: `$IMBENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/imbench`, else `~/.cache/imbench`.
`IMBENCH_OFFLINE=1` forbids every download: a dataset that is not cached then fails at once with a
one-line error instead of waiting for network timeouts (useful on clusters and in tests).
Files are written to a temporary name and renamed, so a killed fetch never leaves a half file that a
later run would take for a cached copy.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

OFFLINE_ENV = "IMBENCH_OFFLINE"
CACHE_ENV = "IMBENCH_CACHE_DIR"


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path("~", ".cache")
    return Path(base, "imbench").expanduser()


def cache_dir(*parts: str) -> Path:
    """A folder under the cache root (not created)."""
    return cache_root().joinpath(*parts)


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _atomic_path(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = _atomic_path(path)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(payload: Any, path: Path) -> None:
    tmp = _atomic_path(path)
    try:
        tmp.write_text(json.dumps(payload, indent=1, sort_keys=True, default=str))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
