"""The `imbench` command line: list, run, export (+ commands from COMMAND_MODULES, e.g. leaderboard).

User mistakes (unknown names, bad grid files, missing results) print one line and exit with code 2;
`--debug` shows the traceback instead.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from benchmarks.errors import UserError, user_errors
from benchmarks.tables import make_console

console = make_console()
err_console = make_console(stderr=True)


def _check_own_packages() -> None:
    """The top-level names are generic (`datasets` is also Hugging Face's): make sure these are ours."""
    import datasets
    import strategies

    for module in (datasets, strategies):
        if not getattr(module, "IMBENCH_PACKAGE", False):
            raise UserError(f"`import {module.__name__}` resolves to {getattr(module, '__file__', '?')}, not imbench's "
                            "package; run imbench from its own virtual environment (`make bench` creates .venv)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
def cli(debug: bool) -> None:
    """imbench — compare training strategies for imbalanced binary classification."""
    _check_own_packages()


def _load_plugins(plugin_dirs: tuple[Path, ...]) -> None:
    for directory in plugin_dirs:
        if not directory.is_dir():
            raise UserError(f"--plugins {directory}: not a directory")
    if plugin_dirs:
        from strategies.plugins import add_plugin_dirs

        add_plugin_dirs(plugin_dirs)


@cli.command("list")
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
    _load_plugins(plugin_dirs)
    from benchmarks.listing import listing_table

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
    from benchmarks.tables import rich_table

    console.print(rich_table(frame, title=title, digits=2))


@cli.command("run")
@click.argument("grid_file", type=click.Path(path_type=Path))
@click.option("-j", "--jobs", "n_jobs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Cells fitted in parallel.")
@click.option("--results", "results_dir", type=click.Path(path_type=Path), default=None,
              help="Results folder [default: results/<grid name>].")
@click.option("--backend", type=click.Choice(["loky", "dask", "sequential"]), default="loky", show_default=True)
@click.option("--scheduler", default=None, help="Dask scheduler address (with --backend dask).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds per cell before it is stopped and stored as `timeout` [default: the grid's "
                   "[limits] cell_timeout, else none].")
@click.option("--no-progress", is_flag=True, help="No progress bar (e.g. in logs).")
@click.option("--metric", default="ap", show_default=True, help="Metric the final leaderboard ranks by.")
@click.option("--plugins", "plugin_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Directory of plugin modules (strategies, models, dataset sources); repeatable.")
def run_command(grid_file: Path, n_jobs: int, results_dir: Path | None, backend: str, scheduler: str | None,
                timeout: float | None, no_progress: bool, metric: str, plugin_dirs: tuple[Path, ...]) -> None:
    """Run GRID_FILE (TOML); re-running the same command resumes where it stopped."""
    _load_plugins(plugin_dirs)
    from benchmarks.grid import load_grid
    from benchmarks.progress import RunProgress
    from benchmarks.runner import run_grid
    from datasets.cleaning import release_notices

    grid = load_grid(grid_file)
    results_dir = results_dir or Path("results") / grid.name
    with RunProgress(err_console, f"{grid.name}", enabled=not no_progress) as bar:
        summary = run_grid(grid, results_dir, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                           timeout=timeout, on_start=lambda *counts: (release_notices(), bar.start(*counts)),
                           on_result=bar.update)
    ran = sum(summary.counts.values())
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts.items())) or "nothing to do"
    err_console.print(f"{grid.name}: {summary.total} cells, {summary.already_done} already stored, ran {ran}: "
                      f"{counts} → {results_dir}")
    from benchmarks.cli_analysis import print_leaderboard

    print_leaderboard(results_dir, metric)


@cli.command("export")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: RESULTS_DIR/export].")
def export_command(results_dir: Path, fmt: str, out_dir: Path | None) -> None:
    """Write cells, predictions and datasets as Parquet or CSV for pandas, DuckDB or a spreadsheet."""
    from benchmarks.export import export_store

    for path in export_store(results_dir, out_dir or results_dir / "export", fmt):
        console.print(str(path))


#: Modules that contribute commands: each defines `COMMANDS`, a list of click commands. Keeping
#: each area's commands in its own module keeps this file small.
COMMAND_MODULES: list[str] = ["benchmarks.cli_datasets", "benchmarks.cli_analysis", "benchmarks.cli_stress",
                               "benchmarks.cli_strategies"]


def _add_command_modules() -> None:
    import importlib

    for name in COMMAND_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            cli.add_command(command)


_add_command_modules()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors → one line on stderr and exit code 2."""
    from datasets.cleaning import hold_notices

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        with hold_notices():  # dataset notices print after the checks pass, never before an error line
            cli.main(args=args, prog_name="imbench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        if debug:
            raise
        exc.show()
        sys.exit(2)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:
        if debug or not isinstance(exc, user_errors()):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"imbench: error: {message}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
