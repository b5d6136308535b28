"""Parts of a grid: `run --datasets/--models/--strategies/--posthoc` (names and globs) and
`--shard I/N`.

A part narrows what one run does; it never changes what a cell is, so parts run into one store (or
into separate stores later combined by `imbench merge`) give exactly the cells of the whole grid.
The shard of a cell is decided by its key alone (a hash of its spec), so N machines that each run
`--shard i/N` of the same grid split it without talking to each other, whatever their order or `-j`.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from imbench.foundation.names import closest_names

if TYPE_CHECKING:  # kept light: `run` parses its part options before the registries are imported
    from imbench.benchmarks.spec.cells import Cell
    from imbench.benchmarks.spec.grid import GridSpec


class PartError(ValueError):
    """A part option that cannot select anything (a pattern matching nothing, a bad shard)."""


@dataclass(frozen=True)
class GridPart:
    """Patterns per axis (empty: the whole axis) and an optional shard (i, n), 1-based."""

    datasets: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    posthoc: tuple[str, ...] = ()
    shard: tuple[int, int] | None = None

    @property
    def whole(self) -> bool:
        return not (self.datasets or self.models or self.strategies or self.posthoc or self.shard)

    def describe(self) -> dict[str, str]:
        """The options as stored with the run (`{"datasets": "keel:yeast*", "shard": "1/3"}`)."""
        out = {axis: ",".join(values) for axis in ("datasets", "models", "strategies", "posthoc")
               if (values := getattr(self, axis))}
        if self.shard:
            out["shard"] = f"{self.shard[0]}/{self.shard[1]}"
        return out

    def cells(self, cells: list["Cell"]) -> list["Cell"]:
        """The cells of this part's shard (all of them without a shard)."""
        return cells if self.shard is None else [c for c in cells if in_shard(c.key, self.shard)]


def split_patterns(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Option values as patterns: repeatable, and comma-separated outside brackets
    (`synthetic[n=1000,prevalence=0.01]` stays one name)."""
    out: list[str] = []
    for value in values:
        depth, start = 0, 0
        for i, ch in enumerate(value + ","):
            depth += {"[": 1, "]": -1}.get(ch, 0)
            if ch == "," and depth <= 0:
                piece = value[start:i].strip()
                if piece:
                    out.append(piece)
                start = i + 1
    return tuple(dict.fromkeys(out))


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """`"2/8"` → (2, 8); 1 ≤ I ≤ N."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise PartError(f"--shard {text!r}: write I/N, e.g. 1/4 for the first of four parts")
    i, n = int(match.group(1)), int(match.group(2))
    if n < 1 or not 1 <= i <= n:
        raise PartError(f"--shard {text}: I must be between 1 and N (N ≥ 1), e.g. 1/{max(n, 4)}")
    return i, n


def in_shard(key: str, shard: tuple[int, int]) -> bool:
    """Whether the cell with this key belongs to shard (i, n): its key's first 8 hex digits mod n."""
    i, n = shard
    return int(key[:8], 16) % n == i - 1


def _matches(pattern: str, names: tuple[str, ...]) -> bool:
    """A pattern is a name (exact, so `smote[k_neighbors=3]` is not a glob class) or a glob; a bare
    pattern also matches the part after `source:` (`yeast*` matches `keel:yeast4`)."""
    for name in names:
        if pattern == name or fnmatch.fnmatchcase(name, pattern):
            return True
        if ":" not in pattern and ":" in name and fnmatch.fnmatchcase(name.split(":", 1)[1], pattern):
            return True
    return False


def _select(option: str, patterns: tuple[str, ...], items: list[Any], names: Any, what: str) -> list[Any]:
    if not patterns:
        return items
    for pattern in patterns:
        if not any(_matches(pattern, names(item)) for item in items):
            valid = sorted({name for item in items for name in names(item)})
            close = closest_names(pattern, valid)
            hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else (
                f"the grid has {', '.join(valid[:8])}{' ...' if len(valid) > 8 else ''}")
            raise PartError(f"{option} {pattern!r} matches none of the grid's {len(items)} {what}: {hint}")
    return [item for item in items if any(_matches(p, names(item)) for p in patterns)]


def select_part(grid: "GridSpec", part: GridPart) -> "GridSpec":
    """The grid narrowed to a part's datasets, models, strategies and post-hoc steps (the shard
    applies to its cells, see GridPart.cells); a pattern matching nothing is an error."""
    if part.whole:
        return grid
    datasets = _select("--datasets", part.datasets, grid.datasets, lambda name: (name,), "datasets")
    models = _select("--models", part.models, grid.models, lambda m: (m.label, m.name), "models")
    strategies = _select("--strategies", part.strategies, grid.strategies, lambda s: (s.label, s.name),
                         "strategy points")
    posthoc = grid.posthoc
    if part.posthoc:
        steps = [step for step in grid.posthoc if step != "none"]
        if not steps:
            raise PartError("--posthoc: the grid has no post-hoc step to choose from")
        posthoc = _select("--posthoc", part.posthoc, steps, lambda step: (step, step.split(":", 1)[0]),
                          "post-hoc steps")
    return replace(grid, datasets=datasets, models=models, strategies=strategies, posthoc=posthoc)
