"""Analysis commands: `imbench leaderboard`, `plot`, `report` and `leakage` — everything from the
results store, nothing refitted, so they regenerate every table and figure in seconds.

Heavy modules (pandas, scipy, matplotlib, analysis) are imported inside the commands so that
`imbench --help` stays fast.
"""
from __future__ import annotations

from pathlib import Path

import click

from imbench.tables import make_console

console = make_console()
err_console = make_console(stderr=True)

POLICY_HELP = ("What a failed strategy (error, timeout, crashed, oom) on a dataset does: `drop` leaves that dataset "
               "out of the board (default), `rank-last` keeps it and ranks the failure last there. Skipped cells "
               "and missing folds always leave the dataset out.")
BASELINE_HELP = ("What Δ, W/T/L and the Wilcoxon tests compare with: LABEL on the same model, or MODEL/LABEL for "
                 "every row.")


JOBS_OPTION = click.option("-j", "--jobs", "n_jobs", default=2, show_default=True, type=click.IntRange(min=1),
                           help="Processes drawing figures in parallel.")


def _options(function):  # type: ignore[no-untyped-def]
    """Options shared by the three commands."""
    function = click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
                            help="Output folder [default: RESULTS_DIR/report].")(function)
    function = click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
                            show_default=True, help="Significance level of every test.")(function)
    function = click.option("--failed", type=click.Choice(["drop", "rank-last"]), default="drop",
                            show_default=True, help=POLICY_HELP)(function)
    function = click.option("--pool-models", is_flag=True,
                            help="One board over every model × strategy instead of one board per model.")(function)
    function = click.option("--baseline", default="none", show_default=True, help=BASELINE_HELP)(function)
    function = click.option("--model", default=None, help="Only this model (default: all models).")(function)
    function = click.option("--include-anti-patterns", is_flag=True,
                            help="Keep anti-pattern strategies (e.g. leaky-smote), left out by default.")(function)
    return function


def load_results(results_dir: Path, model: str | None, include_anti_patterns: bool = False):  # type: ignore[no-untyped-def]
    """The stored run, checked: not empty, and `model` (if given) is one of its models."""
    from analysis.loading import RunResults
    from imbench.errors import UserError
    from foundation.names import UnknownNameError, unknown_name_message

    run = RunResults.load(results_dir, include_anti_patterns)
    if run.results.empty:
        raise UserError(f"{results_dir}: the store holds no cells yet; run a grid into it first (imbench run GRID)")
    if model is not None and model not in run.models:
        raise UnknownNameError(unknown_name_message("model in this store", model, run.models))
    return run


def print_leaderboard(results_dir: Path, metric: str | None = None, model: str | None = None, by: str | None = None,
                      failed: str = "drop", alpha: float = 0.05, out_dir: Path | None = None,
                      write_files: bool = False, include_anti_patterns: bool = False, baseline: str = "none",
                      pool_models: bool = False) -> list[Path]:
    """Print the leaderboards of a results folder, one per model (or one pooled); with `write_files`,
    also CSV and Markdown in the report folder. `imbench run` calls this at the end of a run."""
    from analysis.baseline import parse_baseline
    from analysis.leaderboard import CoverageCache, check_metric, dataset_groups, grouped_leaderboards, leaderboards
    from analysis.loading import RunResults
    from analysis.outputs import board_title, display_board, file_stem, report_dir, write_leaderboards
    from imbench.tables import rich_table

    run = RunResults.load(results_dir, include_anti_patterns)
    if run.results.empty:
        console.print("no cells stored yet")
        return []
    if model is not None:
        run = load_results(results_dir, model, include_anti_patterns)
    metric = metric or "ap"
    check_metric(run.results, metric)
    chosen = parse_baseline(baseline, run.models, run.labels)  # checked once, against every label of the run
    options = {"failed": failed, "alpha": alpha, "baseline": chosen, "completeness": run.completeness,
               "pool_models": pool_models and model is None, "models": [model] if model else None}
    boards = (grouped_leaderboards(run.results, dataset_groups(run.datasets, by), metric,
                                   planned_folds=run.planned_folds, **options) if by
              else leaderboards(run.results, metric, cache=CoverageCache(run.results, run.planned_folds), **options))
    for board in boards:
        console.print(rich_table(display_board(board), title=board_title(board), compact=True))
        for line in board.notes() + ([run.anti_pattern_note()] if run.anti_patterns else []):
            console.print(f"  {line}", soft_wrap=True, highlight=False)
        console.print()
    if not write_files:
        return []
    stem = file_stem(metric, model, by, pooled=options["pool_models"])
    paths = write_leaderboards(boards, report_dir(results_dir, out_dir), stem)
    for path in paths:
        err_console.print(f"wrote {path}", highlight=False)
    return paths


def print_posthoc_effects(results_dir: Path, metric: str | None, model: str | None, alpha: float,
                          out_dir: Path | None, include_anti_patterns: bool, pool_models: bool) -> list[Path]:
    """Print each post-hoc step against its own strategy (one table per model); write the CSV."""
    from analysis.leaderboard import CoverageCache, check_metric
    from analysis.outputs import display_effects, effects_title, report_dir, write_effects
    from analysis.posthoc_effect import posthoc_effects
    from imbench.tables import rich_table

    run = load_results(results_dir, model, include_anti_patterns)
    if metric is not None:
        check_metric(run.results, metric)
    results = run.results[run.results["model"] == model] if model else run.results
    effects = posthoc_effects(results, metric, alpha=alpha, pool_models=pool_models,
                              cache=CoverageCache(results, run.planned_folds))
    if effects.table.empty:
        console.print("no post-hoc step to compare: the store holds no label with a step (e.g. smote+threshold:f1)")
    for name, part in ([("all models", effects.table)] if pool_models else effects.table.groupby("model", sort=True)):
        console.print(rich_table(display_effects(part), title=effects_title(str(name), run.completeness),
                                 compact=True))
    for line in effects.notes:
        console.print(f"  {line}", soft_wrap=True, highlight=False)
    paths = write_effects(effects, report_dir(results_dir, out_dir), metric)
    for path in paths:
        err_console.print(f"wrote {path}", highlight=False)
    return paths


@click.command("leaderboard")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--metric", default=None,
              help="Metric to rank by (e.g. ap, roc_auc, f1@deployed, recall_at_precision0.8, ece, brier) "
                   "[default: ap; with --posthoc-effect: f1@deployed for thresholds, ece for calibration].")
@click.option("--by", type=click.Choice(["ir", "size", "source"]), default=None,
              help="Boards per dataset group: imbalance-ratio band, size band or source.")
@click.option("--posthoc-effect", is_flag=True,
              help="Instead of boards: each post-hoc step against its own strategy without it "
                   "(smote+threshold:f1 vs smote), per model.")
@_options
def leaderboard_command(results_dir: Path, metric: str | None, by: str | None, posthoc_effect: bool,
                        include_anti_patterns: bool, model: str | None, baseline: str, pool_models: bool, failed: str,
                        alpha: float, out_dir: Path | None) -> None:
    """Leaderboards of a results folder with their statistics (reads the store, refits nothing).

    One board per model: its strategies ranked on the datasets where every one of them has all its
    folds (--pool-models: one board over every model × strategy). Prints the tables and writes CSV
    and Markdown to RESULTS_DIR/report/.
    """
    from analysis.outputs import check_report_dir

    check_report_dir(results_dir, out_dir)
    if posthoc_effect:
        print_posthoc_effects(results_dir, metric, model, alpha, out_dir, include_anti_patterns, pool_models)
        return
    print_leaderboard(results_dir, metric, model, by, failed, alpha, out_dir, write_files=True,
                      include_anti_patterns=include_anti_patterns, baseline=baseline, pool_models=pool_models)


def _figure_names(value: str | None) -> list[str] | None:
    from analysis.figures import FIGURES
    from foundation.names import UnknownNameError, unknown_name_message

    if not value:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    for name in names:
        if name not in FIGURES:
            raise UnknownNameError(unknown_name_message("figure", name, list(FIGURES)))
    return names


def _figure_context(results_dir: Path, metric: str, dataset: str | None, model: str | None, failed: str,
                    alpha: float, include_anti_patterns: bool, baseline: str = "none",
                    pool_models: bool = False):  # type: ignore[no-untyped-def]
    from analysis.baseline import parse_baseline
    from analysis.figures.context import FigureContext
    from analysis.leaderboard import check_metric
    from foundation.names import UnknownNameError, unknown_name_message

    run = load_results(results_dir, model, include_anti_patterns)
    check_metric(run.results, metric)
    parse_baseline(baseline, run.models, run.labels)  # a mistake is one line now, not a figure's error later
    names = sorted(run.results["dataset"].unique())
    if dataset is not None and dataset not in names:
        raise UnknownNameError(unknown_name_message("dataset in this store", dataset, names))
    return FigureContext(run, metric=metric, dataset=dataset, model=model, failed=failed, alpha=alpha,
                         baseline=baseline, pool_models=pool_models)


@click.command("plot")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--only", default=None,
              help="Comma-separated figures: cd, heatmap, improvement, pr, reliability, cost, regime, disagreement "
                   "[default: all].")
@click.option("--metric", default="ap", show_default=True,
              help="Metric of the heatmap, improvement, cost and regime figures (CD diagrams use the headline metrics).")
@click.option("--dataset", default=None,
              help="Dataset of the PR-curve and reliability figures [default: the one with the median IR].")
@JOBS_OPTION
@_options
def plot_command(results_dir: Path, only: str | None, metric: str, dataset: str | None, n_jobs: int,
                 include_anti_patterns: bool, model: str | None, baseline: str, pool_models: bool, failed: str,
                 alpha: float, out_dir: Path | None) -> None:
    """Draw the comparison figures (PNG and SVG) into RESULTS_DIR/report/figures/."""
    from analysis.figures import render
    from analysis.outputs import check_report_dir, report_dir

    check_report_dir(results_dir, out_dir)
    names = _figure_names(only)
    ctx = _figure_context(results_dir, metric, dataset, model, failed, alpha, include_anti_patterns, baseline,
                          pool_models)
    written = render(ctx, names, report_dir(results_dir, out_dir) / "figures", n_jobs=n_jobs)
    for paths in written.values():
        console.print("  ".join(str(p) for p in paths), highlight=False)


@click.command("report")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--metric", default="ap", show_default=True, help="Metric of the main leaderboard and figures.")
@click.option("--dataset", default=None,
              help="Dataset of the PR-curve and reliability figures [default: the one with the median IR].")
@click.option("--no-extras", is_flag=True,
              help="Leave out the prior-shift stress, calibration and alert-budget sections.")
@JOBS_OPTION
@_options
def report_command(results_dir: Path, metric: str, dataset: str | None, no_extras: bool, n_jobs: int,
                   include_anti_patterns: bool, model: str | None, baseline: str, pool_models: bool, failed: str,
                   alpha: float, out_dir: Path | None) -> None:
    """Write a self-contained offline HTML report (RESULTS_DIR/report/index.html): run spec and
    environment, datasets, leaderboards, all figures, failures, extra analyses (when installed), and
    how to reproduce the run."""
    from analysis.outputs import check_report_dir, report_dir
    from analysis.report import write_report

    check_report_dir(results_dir, out_dir)
    ctx = _figure_context(results_dir, metric, dataset, model, failed, alpha, include_anti_patterns, baseline,
                          pool_models)
    path = write_report(ctx, report_dir(results_dir, out_dir), extras=not no_extras, n_jobs=n_jobs)
    console.print(str(path), highlight=False)


@click.command("leakage")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--metric", default="ap", show_default=True, help="Metric to compare (higher is better, e.g. ap, roc_auc).")
def leakage_command(results_dir: Path, metric: str) -> None:
    """Print how much `leaky-smote` inflates METRIC over in-fold `smote`, fold by fold on the same test rows.

    The grid must contain both strategies (same sampling_ratio and k_neighbors), e.g.
    strategies = ["smote", "leaky-smote"].
    """
    from analysis.anti_patterns import HONEST, LEAKY, leakage_summary, leakage_table
    from imbench.errors import UserError
    from foundation.metrics import unknown_metric
    from benchmarks.store import read_cells
    from imbench.tables import rich_table

    cells = read_cells(results_dir)
    if not cells.empty and metric not in cells.columns:
        known = sorted(set(cells.select_dtypes("number").columns) - {"repeat", "fold"})
        raise unknown_metric(metric, known)
    table = leakage_table(cells, metric)
    if table.empty:
        raise UserError(f"{results_dir}: no fold where both `{LEAKY}` and in-fold `{HONEST}` succeeded with the same "
                        f"parameters; run a grid with strategies = [\"{HONEST}\", \"{LEAKY}\"]")
    summary = leakage_summary(table)
    shown = table.rename(columns={"in_fold": f"{HONEST} {metric}", "leaky": f"{LEAKY} {metric}",
                                  "inflation": "inflation", "leaky_higher": "leaky>"})
    constant = [c for c in ("posthoc", "sampling_ratio", "k_neighbors") if shown[c].nunique(dropna=False) == 1]
    shown = shown.drop(columns=constant)  # only the columns that tell rows apart
    console.print(rich_table(
        shown, title=f"Leakage: {LEAKY} (SMOTE before splitting) vs in-fold {HONEST}, {metric} on the same test folds",
        caption=(f"inflation = {LEAKY} − {HONEST}, fold means; leaky>: folds where the leak scored higher. "
                 f"Mean inflation {summary['mean_inflation']:+.3f} (median {summary['median_inflation']:+.3f}, "
                 f"{summary['mean_relative_inflation']:+.0%} relative); inflated on "
                 f"{summary['share_inflated']:.0%} of {summary['rows']} dataset×model rows.")))
    console.print(f"{LEAKY} inflates {metric} by {summary['mean_inflation']:+.3f} on average "
                  f"({summary['mean_relative_inflation']:+.0%}) over in-fold {HONEST} on the same folds")


COMMANDS = [leaderboard_command, plot_command, report_command, leakage_command]
