"""The comparison figures: each module draws one kind from a `FigureContext` (stored results only).

`render(ctx, only, out_dir)` writes every requested figure as PNG and SVG and returns the paths.
Colours are fixed per strategy for the whole run (`palette.strategy_colors`), markers per model.

Figures show the leaderboards `imbench leaderboard` prints, so they follow its per-model default:
the CD diagram and the heatmap draw one panel per model's board (one pooled panel with
`--pool-models`), the improvement and regime figures draw each model's Δ to its baseline on that
board's compared datasets, the disagreement figure sets per-model ranks against each other (ρ per
model). The cost figure alone always uses the pooled board: per-model ranks (1..k within each
model) cannot share one axis, and trading a cheaper model against a better one is what it shows.
"""
from __future__ import annotations

import pickle
from collections.abc import Callable
from types import ModuleType
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from imbench.analysis.figures import (bayes, cd, cost, disagreement, expected_cost, heatmap, improvement,  # noqa: E402
                              pr_curves, regime, reliability)
from imbench.analysis.figures.context import FigureContext  # noqa: E402
from imbench.foundation.progress import steps

#: name for `--only` → (module drawing it, what it shows). Order is the report's order.
FIGURES: dict[str, tuple[ModuleType, str]] = {
    "cd": (cd, "Critical-difference diagram per headline metric (Friedman + Nemenyi), one panel per board"),
    "heatmap": (heatmap, "Rank of each strategy on each compared dataset, datasets ordered by imbalance ratio"),
    "improvement": (improvement, "Difference to the baseline per compared dataset, one panel per model"),
    "bayes": (bayes, "Bayesian signed-rank test vs the baseline: P(better), P(equivalent), P(worse) per strategy"),
    "pr": (pr_curves, "Precision–recall curves on one dataset, pooled out-of-fold predictions"),
    "reliability": (reliability, "Reliability diagrams on one dataset, pooled out-of-fold predictions"),
    "cost": (cost, "Mean fit time vs mean rank among every model × strategy, Pareto front highlighted"),
    "regime": (regime, "Difference to baseline vs imbalance ratio, one panel per strategy family"),
    "disagreement": (disagreement, "Rank by PR AUC vs rank by ECE and by F1"),
    "costs": (expected_cost, "Cost curves: expected cost at the Bayes threshold over cost ratios (with --costs)"),
}
#: Drawing cost (seconds, PNG + SVG, on the 100,000-cell benchmark store, measured side by side on a
#: busy machine: only the proportions matter), to balance parallel groups.
COST = {"cd": 15.0, "heatmap": 5.0, "reliability": 12.5, "improvement": 5.0, "pr": 5.0, "regime": 4.4, "cost": 1.6,
        "disagreement": 2.0, "bayes": 2.0, "costs": 1.5}
#: What a figure worker spends before drawing (imports, unpickling the context, the light boards its
#: figures need), in the same units.
WORKER_START = 8.0
#: Figures drawn by the caller: they need the full boards (tests against the baseline), which the report
#: computes for its tables anyway; a worker would compute them a second time.
CALLER_FIGURES = ("bayes",)
FORMATS = ("png", "svg")
DPI = 100
#: SVG text stays text (selectable, small, fast to write) instead of one path per glyph.
RC = {"svg.fonttype": "none", "figure.constrained_layout.h_pad": 0.06, "figure.constrained_layout.w_pad": 0.06}


def drawer(name: str) -> Callable[[FigureContext], list[tuple[str, Figure]]]:
    return FIGURES[name][0].draw


def render(ctx: FigureContext, only: list[str] | None, out_dir: Path, formats: tuple[str, ...] = FORMATS,
           n_jobs: int = 1) -> dict[str, list[Path]]:
    """Draw the chosen figures (all by default) into `out_dir`; figure file stem → files written."""
    return start_render(ctx, only, out_dir, formats, n_jobs)()


def start_render(ctx: FigureContext, only: list[str] | None, out_dir: Path, formats: tuple[str, ...] = FORMATS,
                 n_jobs: int = 1, busy: float = 0.0) -> Callable[[], dict[str, list[Path]]]:
    """Start drawing and return a function that finishes it and returns the files (stem → paths).

    With `n_jobs > 1` the figures are split into groups of similar cost: all but the first go to
    worker processes now (loky; matplotlib draws on one thread, so processes are the only way to use
    more cores), the first is drawn here when the caller collects — after its own work (the report's
    tables), with its imports and cached leaderboards already in place. `busy` is how much work (in
    COST units) the caller does before collecting, so that group gets less drawing.

    The workers are submitted to loky's executor directly: `joblib.Parallel(n_jobs=1)` — one worker
    beside the caller, i.e. `-j 2` — runs its tasks in the calling process, so the figures were
    drawn one after the other. The context is pickled here, before the caller goes on filling its
    caches (the executor would otherwise pickle it in a thread while they change).
    """
    names = [name for name in FIGURES if only is None or name in only]  # always in the report's order
    out_dir.mkdir(parents=True, exist_ok=True)
    costs = {} if ctx.costs is not None else {"costs": 0.0}  # without --costs the cost curve draws nothing
    groups = balanced_groups(names, n_jobs, [busy] + [WORKER_START] * (n_jobs - 1), costs)
    if len(groups) <= 1:
        return lambda: _render_names(ctx, names, out_dir, formats)
    from joblib.externals.loky import get_reusable_executor

    executor = get_reusable_executor(max_workers=len(groups) - 1)
    payload = pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL)
    parts = [executor.submit(_render_pickled, payload, group, out_dir, formats) for group in groups[1:]]
    order = {name: i for i, name in enumerate(names)}

    def collect() -> dict[str, list[Path]]:
        merged = _render_names(ctx, groups[0], out_dir, formats) if groups[0] else {}
        for part in parts:
            merged.update(part.result())
        return dict(sorted(merged.items(), key=lambda item: order.get(kind_of(item[0]), len(order))))

    return collect


def _render_pickled(payload: bytes, names: list[str], out_dir: Path, formats: tuple[str, ...]
                    ) -> dict[str, list[Path]]:
    """A worker's group: the context arrives pickled (see `start_render`)."""
    return _render_names(pickle.loads(payload), names, out_dir, formats)


def _render_names(ctx: FigureContext, names: list[str], out_dir: Path,
                  formats: tuple[str, ...]) -> dict[str, list[Path]]:
    written: dict[str, list[Path]] = {}
    for name in steps(names, len(names), "figures"):
        with plt.rc_context(RC):
            for stem, fig in drawer(name)(ctx):
                written[stem] = save(fig, out_dir / stem, formats)
    return written


def save(fig: Figure, stem: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write `fig` as stem.png / stem.svg and close it. Figures lay themselves out (constrained
    layout), so no `bbox_inches="tight"` (it would draw every figure twice more), and the layout
    found for the first format is frozen for the next instead of being solved again."""
    paths = []
    for i, fmt in enumerate(formats):
        path = stem.with_name(f"{stem.name}.{fmt}")
        fig.savefig(path, dpi=DPI if fmt == "png" else None)
        if i == 0:
            fig.set_layout_engine("none")
        paths.append(path)
    plt.close(fig)
    return paths


def balanced_groups(names: list[str], n_jobs: int, start: list[float] | None = None,
                    costs: dict[str, float] | None = None) -> list[list[str]]:
    """Split figure names into at most n_jobs groups finishing at about the same time: longest first,
    each to the group that is free first (`start`: work each group has before drawing; `costs`
    overrides COST). Group 0 is the caller's; it is kept (possibly empty) so the others stay the
    workers'. It always holds the CALLER_FIGURES asked for."""
    n = max(1, min(n_jobs, len(names)))
    cost = {**COST, **(costs or {})}
    groups: list[list[str]] = [[] for _ in range(n)]
    load = list((start or [])[:n]) + [0.0] * (n - len(start or []))
    for name in sorted(names, key=lambda x: (x not in CALLER_FIGURES, -cost.get(x, 1.0))):
        i = 0 if name in CALLER_FIGURES else load.index(min(load))
        groups[i].append(name)
        load[i] += cost.get(name, 1.0)
    return [groups[0]] + [g for g in groups[1:] if g]


def kind_of(stem: str) -> str:
    """Figure file stem → its FIGURES key (cd_ap → cd, pr_curves → pr, cost_benefit → cost)."""
    for name, (module, _) in FIGURES.items():
        short = module.__name__.rsplit(".", 1)[-1]
        if stem in (name, short) or stem.startswith((f"{name}_", f"{short}_")):
            return name
    return stem
