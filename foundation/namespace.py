"""imbench's rooms live in one namespace: `imbench.datasets`, `imbench.strategies`, ...

The repository keeps them as top-level folders (`datasets/`, `strategies/`, ...), installed under
`imbench` by a `package-dir` mapping, so a user's own `datasets` (Hugging Face's, most often) is never
shadowed. Code written for the old bare names (`from strategies import Strategy`) gets one line
saying the new name: each room refuses to be imported under its bare name (that happens only when
the repository's root is on `sys.path`), and a plugin that fails on a bare name is told the same.
"""
from __future__ import annotations

#: The rooms that used to be top-level packages.
ROOMS = ("foundation", "datasets", "strategies", "benchmarks", "analysis")


def moved_message(module: str) -> str:
    """One line: where a module of a room is now."""
    room = module.split(".")[0]
    return (f"`{room}` is `imbench.{room}` now: write `from imbench.{module} import ...` "
            f"(imbench's rooms live in the imbench namespace)")


def refuse_bare_import(name: str) -> None:
    """Called first by each room's `__init__` with its `__name__`: an ImportError saying the new name
    when the folder was imported under its bare name."""
    if not name.startswith("imbench."):
        raise ImportError(moved_message(name), name=name)


def bare_room_import(exc: BaseException) -> str | None:
    """The one-line explanation when `exc` comes from importing a room by its old bare name (missing,
    or another package of that name such as Hugging Face's `datasets`), else None."""
    if not isinstance(exc, ImportError) or not exc.name:
        return None
    return moved_message(exc.name) if exc.name.split(".")[0] in ROOMS else None
