"""Cells — (dataset, model, strategy+params, post-hoc step, repeat, fold) — and their stable keys and seeds.

Additions to the spec enter the key only away from their default (the post-hoc step when it is not
"none", a strategy's `added_params` when changed), so stores written before them keep their keys and
a re-run resumes instead of recomputing everything.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.grid import GridSpec, StrategyConfig
from foundation.hashing import stable_hash


@dataclass(frozen=True)
class Cell:
    """The unit of work, of failure, of storage and of resume."""

    dataset: str
    model: str
    strategy: StrategyConfig
    repeat: int
    fold: int
    run_seed: int
    n_splits: int
    n_repeats: int

    def spec(self) -> dict[str, Any]:
        params = self.strategy.params if self.strategy.key_params is None else self.strategy.key_params
        spec = {"dataset": self.dataset, "model": self.model, "strategy": self.strategy.name,
                "params": params, "repeat": self.repeat, "fold": self.fold,
                "seed": self.run_seed, "cv": [self.n_splits, self.n_repeats]}
        if self.strategy.posthoc != "none":
            spec["posthoc"] = self.strategy.posthoc
        return spec

    @property
    def key(self) -> str:
        return stable_hash(self.spec())[:24]

    @property
    def seed(self) -> int:
        """Model/strategy seed: from the key, so it depends on neither `-j`, backend nor order.

        The post-hoc step is left out: `smote` and `smote+threshold:f1` fit the same model with the same
        randomness, so comparing post-hoc steps is paired down to the model itself."""
        spec = self.spec()
        spec.pop("posthoc", None)
        return int(stable_hash(spec)[:8], 16) & 0x7FFFFFFF


def enumerate_cells(grid: GridSpec) -> list[Cell]:
    """All cells, grouped by dataset so a worker reuses the dataset it has loaded."""
    points = [strategy.with_posthoc(posthoc) for strategy in grid.strategies for posthoc in grid.posthoc]
    return [Cell(dataset, model, point, repeat, fold, grid.seed, grid.n_splits, grid.n_repeats)
            for dataset in grid.datasets
            for repeat in range(grid.n_repeats)
            for fold in range(grid.n_splits)
            for model in grid.models
            for point in points]
