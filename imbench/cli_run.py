"""Running commands: `imbench list`, `run`, `export` and `fetch` — what to run, running it, and getting
the stored results out.

Heavy modules are imported inside the commands so that `imbench --help` stays fast.
"""
from __future__ import annotations

from pathlib import Path

import click

from imbench.errors import UserError
from imbench.plugin_options import load_plugins
from imbench.tables import make_console

console = make_console()
err_console = make_console(stderr=True)


@click.command("list")
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
def list_command(what: str, names: tuple[str, ...], sources: tuple[str, ...], ir: str | None, rows: str | None,
                 max_rows: int | None, features: str | None, family: str | None, plugin_dirs: tuple[Path, ...]) -> None:
    """List registered datasets, models or strategies.

    For datasets, NAMES may be names, globs (`keel:yeast*`) or suites (`openml-suite:imbalanced`), and the
    options select by metadata as a grid's [select] table does: `imbench list datasets --ir 10:200`.
    """
    load_plugins(plugin_dirs)
    from imbench.listing import listing_table

    selection = None
    if what == "datasets":
        from datasets.selection import selection_from_table

        table = {"source": list(sources), "ir": ir, "rows": rows, "max_rows": max_rows, "d": features}
        selection = selection_from_table({k: v for k, v in table.items() if v})
    elif names or sources or ir or rows or max_rows or features:
        raise UserError(f"names and selection options apply to `imbench list datasets`, not to {what}")
    if family is not None and what != "strategies":
        raise UserError(f"--family applies to `imbench list strategies`, not to {what}")
    frame, title = listing_table(what, list(names), selection, family=family)
    from imbench.tables import rich_table

    console.print(rich_table(frame, title=title, digits=2))


@click.command("run")
@click.argument("grid_file", type=click.Path(path_type=Path))
@click.option("-j", "--jobs", "n_jobs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Cells fitted in parallel.")
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
def run_command(grid_file: Path, n_jobs: int, results_dir: Path | None, backend: str, scheduler: str | None,
                timeout: float | None, memory: str | None, no_progress: bool, metric: str,
                plugin_dirs: tuple[Path, ...]) -> None:
    """Run GRID_FILE (TOML); re-running the same command resumes where it stopped."""
    from benchmarks.execution import check_backend
    from benchmarks.limits import parse_memory

    backend = check_backend(backend, scheduler)
    try:
        memory_mb = None if memory is None else parse_memory(memory)
    except ValueError as exc:
        raise UserError(f"--memory {exc}") from None
    if backend == "sequential":
        from imbench.sequential import supervise

        supervise()  # returns in the process that runs the cells
    load_plugins(plugin_dirs)
    from benchmarks.grid import load_grid
    from imbench.progress import RunProgress
    from benchmarks.runner import run_grid
    from datasets.cleaning import release_notices

    grid = load_grid(grid_file)
    results_dir = results_dir or Path("results") / grid.name
    with RunProgress(err_console, f"{grid.name}", enabled=not no_progress) as bar:
        summary = run_grid(grid, results_dir, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                           timeout=timeout, memory_mb=memory_mb, on_start=lambda *counts: (release_notices(), bar.start(*counts)),
                           on_result=bar.update)
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
        err_console.print(f"  not enumerated: {line}", highlight=False, soft_wrap=True)
    from imbench.cli_analysis import print_leaderboard

    print_leaderboard(results_dir, metric)


@click.command("export")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: RESULTS_DIR/export].")
def export_command(results_dir: Path, fmt: str, out_dir: Path | None) -> None:
    """Write cells, predictions and datasets as Parquet or CSV for pandas, DuckDB or a spreadsheet."""
    from benchmarks.export import export_store

    for path in export_store(results_dir, out_dir or results_dir / "export", fmt):
        console.print(str(path))


@click.command("fetch")
@click.argument("names", nargs=-1, required=True)
def fetch_command(names: tuple[str, ...]) -> None:
    """Fetch and cache NAMES (names, globs or suites, e.g. openml-suite:imbalanced, imblearn:*) and show
    their metadata; cached datasets load without network afterwards (see IMBENCH_OFFLINE)."""
    import pandas as pd

    from imbench.tables import rich_table
    from datasets import expand_names, load_dataset

    rows = []
    for name in expand_names(list(names)):
        meta = load_dataset(name).meta
        rows.append({"name": name, **{k: meta.get(k) for k in ("n", "d", "n_pos", "ir", "n_categorical",
                                                                "missing_rate")}, "notices": len(meta.get("notices", []))})
    console.print(rich_table(pd.DataFrame(rows), title=f"{len(rows)} datasets ready", digits=2))


COMMANDS = [list_command, run_command, export_command, fetch_command]
