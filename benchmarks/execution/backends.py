"""The execution backends by name, and their options checked before a run writes anything (the tasks
run in benchmarks/execution/dispatch.py)."""
from __future__ import annotations

BACKENDS = ("local", "dask", "sequential")
#: Other names accepted for a backend.
ALIASES = {"loky": "local"}


class BackendError(RuntimeError):
    """A backend that cannot be used here (missing extra, unreachable scheduler, bad option)."""


def backend_name(backend: str) -> str:
    """The backend's name, or a BackendError listing the valid ones."""
    name = ALIASES.get(backend, backend)
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    return name


def check_backend(backend: str, scheduler: str | None) -> str:
    """The backend's name, once its options make sense together (checked before a run writes anything)."""
    name = backend_name(backend)
    if scheduler is not None and name != "dask":
        raise BackendError("--scheduler is a Dask scheduler address: use it with --backend dask")
    return name
