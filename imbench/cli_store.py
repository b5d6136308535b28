"""Planning and store commands: `imbench plan` (also `run --dry-run`), `merge` and `check`.

Heavy modules are imported inside the commands so that `imbench --help` stays fast.
"""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from imbench.tables import make_console, wrapped

console = make_console()
err_console = make_console(stderr=True)

#: `imbench check` exit code when it found problems (2 is a mistake in the command, 1 a bug).
CHECK_FAILED = 3
#: Kinds of left-out combinations the plan lists before "and N more" (--left-out: all).
LEFT_OUT_SHOWN = 6


def part_options(function: Any) -> Any:
    """--datasets, --models, --strategies, --posthoc and --shard, shared by `run` and `plan`."""
    for name, what in reversed([("datasets", "Datasets"), ("models", "Models"), ("strategies", "Strategies"),
                                ("posthoc", "Post-hoc steps")]):
        function = click.option(f"--{name}", f"part_{name}", multiple=True, metavar="NAMES",
                                help=f"{what} of the grid to run: names or globs, comma-separated or repeated.")(function)
    return click.option("--shard", default=None, metavar="I/N",
                        help="Run only part I of N of the grid's cells (a split by cell key): N machines or CI jobs "
                             "each run one part into their own store; `imbench merge` combines them.")(function)


def grid_part(part_datasets: tuple[str, ...], part_models: tuple[str, ...], part_strategies: tuple[str, ...],
              part_posthoc: tuple[str, ...], shard: str | None) -> Any:
    from imbench.benchmarks.spec.parts import GridPart, parse_shard, split_patterns

    return GridPart(split_patterns(part_datasets), split_patterns(part_models), split_patterns(part_strategies),
                    split_patterns(part_posthoc), parse_shard(shard))


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


WIDTH = 80


def line(text: str, indent: str = "") -> None:
    """One line of `merge` or `check`, wrapped within 80 columns (continuations indented)."""
    console.print(wrapped(text, min(console.width, WIDTH), indent), highlight=False, markup=False, soft_wrap=True)


def say(text: str) -> None:
    """One plan line, indented under the plan's title."""
    line(text, "  ")


def duration(seconds: float) -> str:
    """42 s, 3 min 10 s, 2 h 05 min, 3 d 4 h."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{int(minutes)} min {int(seconds % 60):02d} s"
    hours = minutes / 60
    if hours < 48:
        return f"{int(hours)} h {int(minutes % 60):02d} min"
    return f"{int(hours // 24)} d {int(hours % 24)} h"


def _summary_table(plan: Any, by: str, title: str, limit: int) -> Any:
    import pandas as pd

    from imbench.tables import rich_table

    table = plan.summary(by)
    total = table["cpu"].sum()
    shown = table.head(limit)
    names = shown[by].astype(str)
    names = names.where(names.str.len() <= 30, names.str.slice(0, 29) + "…")  # cut names say so
    frame = pd.DataFrame({by: names, "cells": shown["cells"],
                          "fits": shown["fits"], "skips": shown["skips"], "CPU time": shown["cpu"].map(duration),
                          "share": [f"{100 * v / total:.0f} %" if total else "–" for v in shown["cpu"]]})
    more = f" ({limit} of {len(table)} with the most time)" if len(table) > limit else ""
    return rich_table(frame, title=f"{title}{more}", compact=True)


def print_plan(plan: Any, grid_file: Path, n_jobs: int, all_left_out: bool = False) -> None:
    """The plan within 80 columns: totals, three summary tables, left out, downloads, the estimate."""
    run = plan.to_run
    part = " ".join(f"--{k} {v}" for k, v in plan.part.describe().items())
    console.print(textwrap.fill(f"plan: {plan.grid.name} ({grid_file}){' ' + part if part else ''}", WIDTH,
                                subsequent_indent="    ", break_on_hyphens=False), highlight=False, markup=False,
                  soft_wrap=True)
    fits = int(run["fits"].sum())
    inner = f", {plan.grid.inner_folds} inner folds" if plan.grid.inner_folds > 1 else ""
    say(f"{plan.grid_cells:,} cells in the grid; this run: {len(plan.cells):,} cells, {plan.stored:,} already "
        f"stored, {len(run):,} to run ({fits:,} fits, {int(run['skipped'].sum()):,} skips)")
    say(f"{len(plan.datasets)} datasets · {len(plan.grid.models)} models · {len(plan.grid.strategies)} strategy "
        f"points · {plan.grid.n_splits}×{plan.grid.n_repeats} CV{inner}")
    if len(run):
        for by, title, limit in (("model", "by model", 8), ("strategy", "by strategy", 8), ("dataset", "by dataset", 8)):
            console.print(_summary_table(plan, by, title, limit))
    for line in plan.left_out[:None if all_left_out else LEFT_OUT_SHOWN]:
        say(f"not enumerated: {line}")
    if len(plan.left_out) > LEFT_OUT_SHOWN and not all_left_out:
        say(f"... and {len(plan.left_out) - LEFT_OUT_SHOWN} more kinds not enumerated (--left-out lists them all)")
    _print_downloads(plan)
    _print_estimate(plan, n_jobs)


def _print_downloads(plan: Any) -> None:
    kinds: dict[str, list[str]] = {}
    for dataset in plan.datasets:
        kinds.setdefault(dataset.availability, []).append(dataset.name)
    here = ", ".join(f"{len(kinds[k])} {k}" for k in ("bundled", "local", "cached") if kinds.get(k))
    say(f"datasets here: {here or 'none'}")
    missing = kinds.get("download", [])
    if missing:
        shown = " ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        say(f"{len(missing)} need a download and are not cached (their sizes are estimated): on a connected "
            f"machine, imbench fetch {shown}")


def _print_estimate(plan: Any, n_jobs: int) -> None:
    cpu = float(plan.cell_seconds().sum())
    probe = plan.probe
    if probe is not None and probe.cells:
        say(f"probe: {probe.cells} cells timed now in {duration(probe.seconds)} (not stored): this machine takes "
            f"{probe.ratio:.2f}× the cost model's time")
    elif probe is not None:
        say("probe: no cell small enough to time here; the cost model's time is used")
    fitted = plan.model.fitted_on.get("summary", "the default cost model")
    say(f"estimate at -j {n_jobs}: {duration(plan.wall_seconds(n_jobs))} wall ({duration(cpu)} of cell time; "
        f"{fitted})")


def plan_and_print(grid_file: Path, part: Any, results_dir: Path | None, n_jobs: int, probe_seconds: float,
                   timeout: float | None, show_probe: bool = True, all_left_out: bool = False) -> None:
    from imbench.benchmarks.spec.grid import load_grid
    from imbench.benchmarks.planning.plan import make_plan, run_probe

    grid = load_grid(grid_file)
    default = Path("results") / grid.name
    plan = make_plan(grid, part, results_dir or (default if default.is_dir() else None), timeout=timeout)
    if probe_seconds > 0 and len(plan.to_run):
        if show_probe:
            err_console.print(f"probing: timing a few cells (about {duration(probe_seconds)} plus worker start; "
                              "--probe 0 skips it)", highlight=False)
        plan.probe = run_probe(plan, probe_seconds, n_jobs)
    print_plan(plan, grid_file, n_jobs, all_left_out)


@click.command("plan", short_help="Cells, skips, downloads and estimated time of a grid, before running it.")
@click.argument("grid_file", type=click.Path(path_type=Path))
@click.option("-j", "--jobs", "n_jobs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Workers the estimate is for.")
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=None,
              help="Plan a resume: cells already stored in this folder are not counted [default: results/<grid "
                   "name> when it exists].")
@click.option("--probe", "probe_seconds", type=click.FloatRange(min=0), default=8.0, show_default=True,
              help="Seconds of real cells timed now to scale the estimate to this machine (0: none).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Per-cell time limit the estimate caps cells at [default: the grid's].")
@click.option("--left-out", "all_left_out", is_flag=True, help="List every kind of combination left out.")
@part_options
@click.option("--plugins", "plugin_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Directory of plugin modules (strategies, models, dataset sources); repeatable.")
def plan_command(grid_file: Path, n_jobs: int, results_dir: Path | None, probe_seconds: float, timeout: float | None,
                 all_left_out: bool, part_datasets: tuple[str, ...], part_models: tuple[str, ...],
                 part_strategies: tuple[str, ...], part_posthoc: tuple[str, ...], shard: str | None,
                 plugin_dirs: tuple[Path, ...]) -> None:
    """What running GRID_FILE would do, and how long it would take at -j N; runs and writes nothing
    (but a short probe of a few cells, not stored)."""
    from imbench.plugin_options import load_plugins

    load_plugins(plugin_dirs)
    part = grid_part(part_datasets, part_models, part_strategies, part_posthoc, shard)
    plan_and_print(grid_file, part, results_dir, n_jobs, probe_seconds, timeout, all_left_out=all_left_out)


@click.command("merge", short_help="Combine stores of one grid (shards, subsets) into one store.")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.argument("stores", nargs=-1, required=True, type=click.Path(path_type=Path))
def merge_command(out_dir: Path, stores: tuple[Path, ...]) -> None:
    """Combine STORES (parts of one grid: shards, subsets) into a new store OUT_DIR; every run is kept,
    every cell stored once."""
    from imbench.benchmarks.store.merge import merge_stores

    summary = merge_stores(out_dir, list(stores))
    parts = ", ".join(f"{n:,} from {name}" for name, n in summary.per_store.items())
    line(f"merged {plural(len(stores), 'store')} → {out_dir}: {plural(summary.cells, 'cell')} ({parts}), "
         f"{plural(summary.runs, 'run')} kept")
    if summary.duplicates:
        differ = f"; {summary.differing} final copies differed, the first store's kept" if summary.differing else ""
        were = "was" if summary.duplicates == 1 else "were"
        line(f"{plural(summary.duplicates, 'cell')} {were} in more than one store: stored once{differ}", "  ")


@click.command("check", short_help="Verify a store's integrity, cells, predictions and folds.")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--no-folds", is_flag=True, help="Skip recomputing every dataset's folds (the slowest check).")
def check_command(results_dir: Path, no_folds: bool) -> None:
    """Verify a store: SQLite integrity, every ok cell's predictions, duplicates, counts against the
    grid, and the stored rows against recomputed folds. Exit code 3 when something is wrong."""
    from imbench.benchmarks.store.check import check_store_integrity

    report = check_store_integrity(results_dir, folds=not no_folds)
    for text in report.passed:
        line(f"ok: {text}")
    for text in report.notes:
        line(f"note: {text}")
    for text in report.problems:
        line(f"PROBLEM: {text}")
    verdict = "passed" if report.ok else f"failed: {plural(len(report.problems), 'problem')}"
    line(f"{results_dir}: check {verdict}")
    if not report.ok:
        sys.exit(CHECK_FAILED)


COMMANDS = [plan_command, merge_command, check_command]
