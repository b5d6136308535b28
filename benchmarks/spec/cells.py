"""Cells — (dataset, repeat, fold, model, strategy with canonical parameters) — their keys and seeds,
and which combinations a grid enumerates.

A cell is one fit of the whole pipeline on a training fold (plus, when the grid asks, k inner fits).
Post-hoc steps are not cells: they are derived from a cell's stored predictions. A combination that
cannot exist by design (a strategy on a model it does not support, a post-hoc step that cannot apply
to a strategy, any step on an anti-pattern) is never enumerated; the plan says what it left out and why.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from imbench.benchmarks.spec.grid import GridSpec, ModelConfig, StrategyConfig
from imbench.foundation.hashing import stable_hash
from imbench.strategies import get_model, get_strategy
from imbench.strategies.posthoc import POSTHOC, parse_posthoc


@dataclass(frozen=True)
class Cell:
    """The unit of work, of failure, of storage and of resume."""

    dataset: str
    model_config: ModelConfig
    strategy: StrategyConfig
    repeat: int
    fold: int
    run_seed: int
    n_splits: int
    n_repeats: int

    @property
    def model(self) -> str:
        """The model's label: its name, with the options that differ from the defaults."""
        return self.model_config.label

    def spec(self) -> dict[str, Any]:
        """What identifies the cell: canonical parameters and options (defaults filled, numbers by type)."""
        return {"dataset": self.dataset, "model": self.model_config.name, "model_options": self.model_config.options,
                "strategy": self.strategy.name, "params": self.strategy.params, "repeat": self.repeat,
                "fold": self.fold, "seed": self.run_seed, "cv": [self.n_splits, self.n_repeats]}

    @cached_property
    def _digest(self) -> str:
        return stable_hash(self.spec())

    @property
    def key(self) -> str:
        return self._digest[:24]

    @property
    def seed(self) -> int:
        """Model/strategy seed: from the spec, so it depends on neither `-j`, backend nor order."""
        return int(self._digest[:8], 16) & 0x7FFFFFFF

    @property
    def label(self) -> str:
        return self.strategy.label


@dataclass(frozen=True)
class LeftOut:
    """Combinations a grid names that cannot exist, with why and how many cells (or derived results,
    when `step` is set) they would be."""

    model: str
    strategy: str
    label: str
    step: str
    reason: str
    count: int


@dataclass
class CellPlan:
    """Every cell of a grid, the post-hoc steps each strategy point derives, and what was left out."""

    cells: list[Cell]
    #: strategy label → the canonical post-hoc steps (not "none") derived from its cells.
    steps: dict[str, tuple[str, ...]]
    left_out: list[LeftOut] = field(default_factory=list)

    def derived_count(self) -> int:
        return sum(len(self.steps.get(cell.label, ())) for cell in self.cells)

    def left_out_summary(self) -> list[str]:
        """One line per kind of combination left out: how many cells or derived results, and why."""
        cells: dict[tuple[str, str, str], list[LeftOut]] = defaultdict(list)
        steps: dict[tuple[str, str], list[LeftOut]] = defaultdict(list)
        for item in self.left_out:
            if item.step:
                steps[(item.label, item.reason)].append(item)
            else:
                cells[(item.model, item.strategy, item.reason)].append(item)
        lines = []
        for (model, strategy, reason), items in sorted(cells.items()):
            points = len({i.label for i in items})
            shown = f"{strategy} ({points} parameter points)" if points > 1 else items[0].label
            lines.append(f"{sum(i.count for i in items)} cells of {model} × {shown}: {reason}")
        for (label, reason), items in sorted(steps.items()):
            names = sorted({i.step for i in items})
            shown = f"{label}+{names[0]}" if len(names) == 1 else f"{label} + {len(names)} post-hoc steps"
            lines.append(f"{sum(i.count for i in items)} post-hoc results of {shown}: {reason}")
        return lines


def derived_steps(grid: GridSpec, point: StrategyConfig) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """(steps that apply to this strategy point, [(step, reason) that cannot])."""
    strategy = get_strategy(point.name)
    steps, refused = [], []
    for text in grid.posthoc:
        if text == "none":
            continue
        if strategy.anti_pattern:
            refused.append((text, "an anti-pattern gets no post-hoc steps"))
            continue
        spec = parse_posthoc(text)
        ok, reason = POSTHOC.get(spec.step).applies(strategy, spec.params)
        (steps.append(text) if ok else refused.append((text, reason)))
    return tuple(steps), refused


@dataclass
class GridPoints:
    """The (model, strategy point) pairs that can exist, per strategy label the steps it derives, and
    what was left out: a grid's cells without the datasets × folds product."""

    points: list[tuple[ModelConfig, StrategyConfig]]
    steps: dict[str, tuple[str, ...]]
    left_out: list[LeftOut]


def grid_points(grid: GridSpec) -> GridPoints:
    folds = grid.n_repeats * grid.n_splits
    n_data = len(grid.datasets)
    points: list[tuple[ModelConfig, StrategyConfig]] = []
    left_out: list[LeftOut] = []
    steps: dict[str, tuple[str, ...]] = {}
    for point in grid.strategies:
        applying, refused = derived_steps(grid, point)
        steps[point.label] = applying
        strategy = get_strategy(point.name)
        for model in grid.models:
            ok, reason = strategy.can_exist(get_model(model.name).with_options(model.options), point.params)
            if ok:
                points.append((model, point))
                left_out += [LeftOut(model.label, point.name, point.label, step, why, folds * n_data)
                             for step, why in refused]
            else:
                left_out.append(LeftOut(model.label, point.name, point.label, "", reason, folds * n_data))
    return GridPoints(points, steps, left_out)


def count_plan(grid: GridSpec) -> tuple[int, int]:
    """(cells, derived post-hoc results) a grid plans, without making its cells."""
    found = grid_points(grid)
    per_dataset = grid.n_repeats * grid.n_splits * len(grid.datasets)
    return (per_dataset * len(found.points),
            per_dataset * sum(len(found.steps.get(point.label, ())) for _, point in found.points))


def enumerate_cells(grid: GridSpec) -> CellPlan:
    """All cells that can exist, grouped by dataset so a worker reuses the dataset it has loaded."""
    found = grid_points(grid)
    cells = [Cell(dataset, model, point, repeat, fold, grid.seed, grid.n_splits, grid.n_repeats)
             for dataset in grid.datasets
             for repeat in range(grid.n_repeats)
             for fold in range(grid.n_splits)
             for model, point in found.points]
    return CellPlan(cells, found.steps, found.left_out)


def dataset_skip_reason(n_pos: int, grid: GridSpec) -> str:
    """Why no cell of a dataset with `n_pos` positives can run (too few to stratify), or ''."""
    if n_pos < grid.n_splits:
        return (f"dataset has {n_pos} positives; stratified {grid.n_splits}-fold CV needs at least "
                f"{grid.n_splits}")
    return ""
