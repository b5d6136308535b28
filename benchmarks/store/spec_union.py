"""The union of the specs of every run into a store: what produced its stored cells.

Each run into a store keeps its own spec (a row of the `runs` table); reports, `grid.toml` and the
planned cell count use their union, so a resume with a smaller grid (or one that selected nothing)
never makes the store describe less than it holds. Runs into one store share seed, CV and metrics
(the runner refuses anything else), so the union is of datasets, models, strategy points and
post-hoc steps, with the largest number of inner folds. A run of a part of a grid (`--datasets`,
`--shard`, ...) stores the whole grid's spec with a `part` entry; the union describes the grid.
Plain dicts in, a plain dict out: analysis uses it without the registries.
"""
from __future__ import annotations

import json
from typing import Any


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _ordered_union(lists: list[list[Any]], key: Any = _key) -> list[Any]:
    seen: dict[str, Any] = {}
    for values in lists:
        for value in values:
            seen.setdefault(key(value), value)
    return list(seen.values())


def union_spec(specs: list[dict[str, Any]]) -> dict[str, Any]:
    """One spec describing every run of `specs` (oldest first); the latest run's name and settings."""
    if not specs:
        return {}
    union = {k: v for k, v in specs[-1].items() if k != "part"}
    union["datasets"] = _ordered_union([s.get("datasets") or [] for s in specs])
    union["models"] = _ordered_union([s.get("models") or [] for s in specs])
    union["strategies"] = _ordered_union([s.get("strategies") or [] for s in specs],
                                         key=lambda entry: entry.get("label") if isinstance(entry, dict) else _key(entry))
    union["posthoc"] = _ordered_union([s.get("posthoc") or ["none"] for s in specs])
    cv = dict(union.get("cv") or {})
    if "inner_folds" in cv:
        cv["inner_folds"] = max(int((s.get("cv") or {}).get("inner_folds", 0) or 0) for s in specs)
    union["cv"] = cv
    return union


def grid_part(spec: dict[str, Any]) -> str:
    """How a run's spec says which part of the grid it ran ('' for the whole grid)."""
    part = spec.get("part") or {}
    return " ".join(f"--{key} {value}" for key, value in sorted(part.items()))
