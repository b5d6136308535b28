"""Running commands: `imbench list`, `run`, `export` and `fetch` — what to run, running it, and getting
the stored results out.

Heavy modules are imported inside the commands so that `imbench --help` stays fast.
"""
from __future__ import annotations

from pathlib import Path

import click

from imbench.cli_store import grid_part, part_options, plan_and_print
from imbench.errors import UserError
from imbench.options import WIDE_OPTION, jobs_option, plugins_option
from imbench.plugin_options import load_plugins
from imbench.tables import make_console, wrapped

console = make_console()
err_console = make_console(stderr=True)


@click.command("list", short_help="List registered datasets, models or strategies.")
@click.argument("what", type=click.Choice(["datasets", "models", "strategies"]))
@click.argument("names", nargs=-1)
@click.option("--source", "sources", multiple=True, help="Datasets of this source only (keel, openml, imblearn, "
              "sklearn, ...); repeatable.")
@click.option("--ir", default=None, metavar="LOW:HIGH", help="Datasets with IR in this range, e.g. 10:200 or 10:.")
@click.option("--rows", default=None, metavar="LOW:HIGH", help="Datasets with a row count in this range.")
@click.option("--max-rows", type=click.IntRange(min=1), default=None, help="Datasets with at most this many rows.")
@click.option("--features", default=None, metavar="LOW:HIGH", help="Datasets with a feature count in this range.")
@click.option("--family", default=None, help="Strategies of this family only (oversampling, undersampling, hybrid, "
              "ensemble, weighting, loss, posthoc, none).")
@click.option("--plugins", "plugin_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Directory of plugin modules to include; repeatable.")
@click.option("--params", "parameters", is_flag=True, help="Strategies or models: every declared parameter with its "
              "type, default, allowed values and tuning range.")
@click.option("--markdown", is_flag=True, help="With --params: the table as Markdown (the docs' parameter tables).")
@WIDE_OPTION
def list_command(what: str, names: tuple[str, ...], sources: tuple[str, ...], ir: str | None, rows: str | None,
                 max_rows: int | None, features: str | None, family: str | None, plugin_dirs: tuple[Path, ...],
                 parameters: bool, markdown: bool, wide: bool) -> None:
    """List registered datasets, models or strategies.

    For datasets, NAMES may be names, globs (`keel:yeast*`) or suites (`openml-suite:imbalanced`), and the
    options select by metadata as a grid's [select] table does: `imbench list datasets --ir 10:200`.
    """
    load_plugins(plugin_dirs)
    from imbench.listing import listing_table

    selection = None
    if what == "datasets":
        from imbench.datasets.selection import selection_from_table

        table = {"source": list(sources), "ir": ir, "rows": rows, "max_rows": max_rows, "d": features}
        selection = selection_from_table({k: v for k, v in table.items() if v})
    elif names or sources or ir or rows or max_rows or features:
        raise UserError(f"names and selection options apply to `imbench list datasets`, not to {what}")
    if family is not None and what != "strategies":
        raise UserError(f"--family applies to `imbench list strategies`, not to {what}")
    if parameters and what == "datasets":
        raise UserError("--params applies to `imbench list strategies` and `imbench list models`, not to datasets")
    if markdown and not parameters:
        raise UserError("--markdown applies with --params (the parameter tables of the docs)")
    if parameters:
        _print_parameters(what, family, markdown, wide)
        return
    frame, title = listing_table(what, list(names), selection, family=family)
    from imbench.tables import print_fitted, rich_table

    if what == "datasets":  # many short columns: a compact table that drops the least needed to fit
        print_fitted(console, frame, title, drop_order=("missing_rate", "n_categorical", "source", "data"), wide=wide,
                     all_columns="--wide shows every column")
    else:
        console.print(rich_table(frame, title=title, digits=2))


def _print_parameters(what: str, family: str | None, markdown: bool, wide: bool) -> None:
    from imbench.listing import parameter_lines, parameters_frame, parameters_markdown

    if markdown:
        click.echo(parameters_markdown(what))
        return
    frame = parameters_frame(what, family)
    width = max(60, console.width if not wide else 200)
    click.echo(f"{len(frame)} declared parameters of {what}" + (f" of family {family}" if family else "")
               + " (`--markdown`: the docs' table)")
    for line in parameter_lines(frame, width):
        click.echo(line)


@click.command("run", short_help="Run a grid file into a results folder; running it again resumes.")
@click.argument("grid_file", type=click.Path(path_type=Path))
@jobs_option(1, "Cells fitted in parallel.")
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=None,
              help="Results folder [default: results/<grid name>].")
@click.option("--backend", type=click.Choice(["local", "dask", "sequential", "loky"]), default="local",
              show_default=True, help="local: worker processes on this machine (`loky` is its former name); dask: "
              "a Dask cluster; sequential: in this process, for debugging (no limits).")
@click.option("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://HOST:8786 (with --backend "
              "dask; without it, a local Dask cluster of -j workers).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds per cell before it is stopped and stored as `timeout` [default: the grid's "
                   "[limits] cell_timeout, else none].")
@click.option("--memory", "memory", default=None, metavar="SIZE",
              help="Memory per cell (e.g. 2GB, 512MB, or MiB) before it is stopped and stored as `oom` "
                   "[default: the grid's [limits] cell_memory, else none].")
@click.option("--no-progress", is_flag=True, help="No progress bar (e.g. in logs).")
@click.option("--metric", default="ap", show_default=True, help="Metric the final leaderboard ranks by.")
@click.option("--plugins", "plugin_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Directory of plugin modules (strategies, models, dataset sources); repeatable.")
@part_options
@click.option("--dry-run", is_flag=True, help="Print the plan (`imbench plan`) instead of running; writes nothing.")
@click.option("--probe", "probe_seconds", type=click.FloatRange(min=0), default=8.0, show_default=True,
              help="With --dry-run: seconds of real cells timed to scale the estimate (0: none).")
def run_command(grid_file: Path, n_jobs: int, results_dir: Path | None, backend: str, scheduler: str | None,
                timeout: float | None, memory: str | None, no_progress: bool, metric: str,
                plugin_dirs: tuple[Path, ...], part_datasets: tuple[str, ...], part_models: tuple[str, ...],
                part_strategies: tuple[str, ...], part_posthoc: tuple[str, ...], shard: str | None, dry_run: bool,
                probe_seconds: float) -> None:
    """Run GRID_FILE (TOML); re-running the same command resumes where it stopped. One run per results
    folder at a time (a second is refused); keep the folder on a local disk."""
    from imbench.benchmarks.execution.backends import check_backend
    from imbench.benchmarks.spec.limits import parse_memory

    backend = check_backend(backend, scheduler)
    try:
        memory_mb = None if memory is None else parse_memory(memory)
    except ValueError as exc:
        raise UserError(f"--memory {exc}") from None
    part = grid_part(part_datasets, part_models, part_strategies, part_posthoc, shard)
    if not dry_run and _resumed_at_once(grid_file, results_dir, part, list(plugin_dirs), metric):
        return
    if backend == "sequential" and not dry_run:
        from imbench.sequential import supervise

        supervise()  # returns in the process that runs the cells
    load_plugins(plugin_dirs)
    if dry_run:
        plan_and_print(grid_file, part, results_dir, n_jobs, probe_seconds, timeout)
        return
    from imbench.benchmarks.spec.grid import load_grid
    from imbench.benchmarks.store.receipt import inputs_key
    from imbench.progress import RunProgress
    from imbench.benchmarks.runner import run_grid
    from imbench.datasets.cleaning import release_notices

    key = inputs_key(grid_file, part.describe(), list(plugin_dirs))
    grid = load_grid(grid_file)
    check_run_metric(grid, metric)
    results_dir = results_dir or Path("results") / grid.name
    with RunProgress(err_console, f"{grid.name}", enabled=not no_progress) as bar:
        summary = run_grid(grid, results_dir, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                           timeout=timeout, memory_mb=memory_mb,
                           on_start=lambda *counts: (release_notices(), bar.start(*counts)),
                           on_result=bar.update, part=part, receipt_key=key)
    ran = sum(summary.counts.values())
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts.items())) or "nothing to do"
    err_console.print(f"{grid.name}: {summary.total} cells, {summary.already_done} already stored, ran {ran}: "
                      f"{counts} → {results_dir}", highlight=False)
    if summary.oom_kept:
        err_console.print(f"  {summary.oom_kept} cells stored as oom are not retried: raise --memory (or "
                          "[limits] cell_memory) to retry them", highlight=False)
    if summary.inner_only:
        err_console.print(f"  {summary.inner_only} stored cells needed only their inner folds", highlight=False)
    if summary.derived_from_store:
        derived = ", ".join(f"{n} {status}" for status, n in sorted(summary.derived_from_store.items()))
        err_console.print(f"  post-hoc steps derived from stored predictions, no fit: {derived}", highlight=False)
    for line in summary.left_out:
        err_console.print(wrapped(f"not enumerated: {line}", err_console.width), highlight=False, soft_wrap=True,
                          markup=False)
    _print_board_or_merge_hint(results_dir, metric, key, part)


def _print_board_or_merge_hint(results_dir: Path, metric: str, key: str | None, part,  # type: ignore[no-untyped-def]
                               receipt: dict | None = None) -> None:  # type: ignore[type-arg]
    """The leaderboard at the end of `run`; after a shard, which holds a scattered 1/N of every
    board, how to get the boards instead."""
    if part.shard is None:
        _print_board(results_dir, metric, key, receipt)
        return
    i, n = part.shard
    err_console.print(wrapped(f"part {i}/{n} of the grid is in {results_dir}; the leaderboard needs every part: "
                              f"`imbench merge OUT STORE...` of the {n} stores, then `imbench leaderboard OUT`",
                              err_console.width), highlight=False, soft_wrap=True, markup=False)


def _print_board(results_dir: Path, metric: str, key: str | None, receipt: dict | None = None) -> None:  # type: ignore[type-arg]
    """The leaderboard at the end of `run`: printed again from the receipt when the store, the code and
    the options are those it was computed for (benchmarks/store/receipt.py), else computed and remembered."""
    import sys

    from imbench.benchmarks.store.receipt import board_key, remember_board
    from imbench import cli_analysis

    board = board_key(metric, cli_analysis.console.width)
    cached = (receipt or {}).get("board") or {}
    if cached.get("key") == board and isinstance(cached.get("text"), str):
        sys.stdout.write(cached["text"])
        return
    with cli_analysis.console.capture() as capture:
        cli_analysis.print_leaderboard(results_dir, metric)
    text = capture.get()
    sys.stdout.write(text)
    if key is not None:
        remember_board(results_dir, key, board, text)


def _resumed_at_once(grid_file: Path, results_dir: Path | None, part, plugin_dirs: list[Path],  # type: ignore[no-untyped-def]
                     metric: str) -> bool:
    """A finished run of this very command: say so and print the leaderboard, without the registries
    (benchmarks/store/receipt.py says what must be unchanged); False when the normal path must run."""
    import tomllib

    from imbench.benchmarks.spec.grid_name import grid_name
    from imbench.benchmarks.store.receipt import fast_resume

    if results_dir is None:
        try:
            name = grid_name(tomllib.loads(grid_file.read_text(encoding="utf-8")), grid_file.stem)
        except (OSError, ValueError):
            return False
        if name is None:
            return False
        results_dir = Path("results") / name
    receipt = fast_resume(grid_file, results_dir, part.describe(), plugin_dirs)
    if receipt is None:
        return False
    done = receipt["summary"]
    total = int(done.get("total", 0))
    err_console.print(f"{done.get('name')}: {total} cells, {total} already stored, ran 0: nothing to do → "
                      f"{results_dir}", highlight=False, markup=False)
    for line in done.get("left_out", []):
        err_console.print(wrapped(f"not enumerated: {line}", err_console.width), highlight=False, soft_wrap=True,
                          markup=False)
    _print_board_or_merge_hint(results_dir, metric, receipt.get("key"), part, receipt)
    return True


def check_run_metric(grid, metric: str) -> None:  # type: ignore[no-untyped-def]
    """`run --metric` is checked before anything runs: a metric the grid's cells will carry."""
    import numpy as np

    from imbench.foundation.metrics import compute_metrics, reference_value_message, unknown_metric

    names = sorted(compute_metrics(np.array([0, 1, 0, 1]), np.array([0.1, 0.8, 0.3, 0.6]), grid.metrics,
                                   deployed_threshold=0.5))
    if metric not in names:
        raise unknown_metric(metric, names)
    message = reference_value_message(metric)
    if message:
        raise UserError(message)


@click.command("export", short_help="Write a store's cells, predictions and datasets as Parquet or CSV.")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: RESULTS_DIR/export].")
@plugins_option()
def export_command(results_dir: Path, fmt: str, out_dir: Path | None, plugin_dirs: tuple[Path, ...]) -> None:
    """Write cells, predictions and datasets as Parquet or CSV for pandas, DuckDB or a spreadsheet."""
    load_plugins(plugin_dirs)
    from imbench.benchmarks.store.export import export_store

    out, option = (out_dir, "--out") if out_dir is not None else (results_dir / "export", "the export folder (set --out)")
    for path in export_store(results_dir, out, fmt, option):
        console.print(str(path))


@click.command("fetch", short_help="Download datasets now, so that runs work offline later.")
@click.argument("names", nargs=-1, required=True)
def fetch_command(names: tuple[str, ...]) -> None:
    """Fetch and cache NAMES (names, globs or suites, e.g. openml-suite:imbalanced, imblearn:*) and show
    their metadata; cached datasets load without network afterwards (see IMBENCH_OFFLINE)."""
    import pandas as pd

    from imbench.tables import rich_table
    from imbench.datasets import expand_names, load_dataset

    rows = []
    for name in expand_names(list(names)):
        meta = load_dataset(name).meta
        rows.append({"name": name, **{k: meta.get(k) for k in ("n", "d", "n_pos", "ir", "n_categorical",
                                                                "missing_rate")}, "notices": len(meta.get("notices", []))})
    console.print(rich_table(pd.DataFrame(rows), title=f"{len(rows)} datasets ready", digits=2))


COMMANDS = [list_command, run_command, export_command, fetch_command]
