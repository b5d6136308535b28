"""imbench's top floor: the command line (`imbench.cli`) and the Python API it calls.

`imbench.run(grid, results=..., jobs=...)`, `imbench.load(results)`, `imbench.leaderboard(store,
metric=...)` and `imbench.compare(a, b)` return pandas objects (docs/python-api.md); they are imported
on first use, so `import imbench` stays cheap. Every other room (`foundation`, `datasets`,
`strategies`, `benchmarks`, `analysis`) sits below this package and never imports it.
"""
from __future__ import annotations

from typing import Any

API = ("run", "load", "leaderboard", "compare")
__all__ = [*API, "__version__"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("imbench")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


__version__ = _version()


def __getattr__(name: str) -> Any:
    if name in API:
        from imbench import api

        return getattr(api, name)
    raise AttributeError(f"module 'imbench' has no attribute {name!r}")
