"""A grid's `name`: a plain folder name, since it becomes `results/<name>` when `--results` is not
given — never a path (`../x`, `/tmp/x`, `a/b`), never `.` or `..`, no NUL or other control
character. Kept apart from benchmarks/spec/grid.py so the resume fast path (benchmarks/store/receipt.py) can
find a grid's results folder without importing the registries.
"""
from __future__ import annotations

import re
from typing import Any

PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]+")
RULE = "use letters, digits, '-', '_' and '.' (not '.' or '..'); it names the results folder"


def is_plain(name: Any) -> bool:
    return isinstance(name, str) and bool(PLAIN_NAME.fullmatch(name)) and name not in (".", "..")


def default_name(stem: str) -> str:
    """The name of a grid file without `name`: its file name's stem, made plain."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "grid"


def grid_name(raw: dict[str, Any], stem: str) -> str | None:
    """The grid's name, or None when the `name` it gives is not plain (the grid check says so)."""
    if "name" not in raw:
        return default_name(stem)
    return raw["name"] if is_plain(raw["name"]) else None
