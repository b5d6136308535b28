"""Analysis commands: `imbench leaderboard`, `plot`, `report` and `leakage` — everything from the
results store, nothing refitted, so they regenerate every table and figure in seconds.

Heavy modules (pandas, scipy, matplotlib, analysis) are imported inside the commands so that
`imbench --help` stays fast.
"""
from __future__ import annotations

from pathlib import Path

import click

from imbench.options import COSTS_OPTION, ROPE_OPTION, WIDE_OPTION, jobs_option, parse_costs, plugins_option
from imbench.plugin_options import load_plugins
from imbench.progress import with_analysis_progress
from imbench.tables import make_console, print_fitted, rich_table

console = make_console()
err_console = make_console(stderr=True)

POLICY_HELP = ("What a failed strategy (error, timeout, crashed, oom) on a dataset does: `drop` leaves that dataset "
               "out of the board (default), `rank-last` keeps it and ranks the failure last there. Skipped cells "
               "and missing folds always leave the dataset out.")
BASELINE_HELP = ("What Δ, W/T/L and the Wilcoxon tests compare with: LABEL on the same model, or MODEL/LABEL for "
                 "every row.")


JOBS_OPTION = jobs_option(2, "Processes drawing figures in parallel.")


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
    function = ROPE_OPTION(function)
    function = COSTS_OPTION(function)
    function = plugins_option()(function)
    return function


def load_results(results_dir: Path, model: str | None, include_anti_patterns: bool = False):  # type: ignore[no-untyped-def]
    """The stored run, checked: not empty, and `model` (if given) is one of its models."""
    from imbench.foundation.progress import stage
    from imbench.api import load

    stage("reading the store")
    return load(results_dir, include_anti_patterns=include_anti_patterns, model=model)


def print_frame(frame, title: str, notes: list[str], drop_order: tuple[str, ...] = (), wide: bool = False,  # type: ignore[no-untyped-def]
                caption: str | None = None) -> None:
    """`imbench.tables.print_fitted` on this module's console."""
    print_fitted(console, frame, title, notes, drop_order, wide, caption)


def print_leaderboard(results_dir: Path, metric: str | None = None, model: str | None = None, by: str | None = None,
                      failed: str = "drop", alpha: float = 0.05, out_dir: Path | None = None,
                      write_files: bool = False, include_anti_patterns: bool = False, baseline: str = "none",
                      pool_models: bool = False, rope: float | None = None, costs: str | None = None,
                      wide: bool = False) -> list[Path]:
    """Print the leaderboards of a results folder, one per model (or one pooled); with `write_files`,
    also CSV and Markdown in the report folder. `imbench run` calls this at the end of a run."""
    from imbench.analysis.loading import RunResults
    from imbench.analysis.outputs import ABBREVIATIONS, DROP_ORDER, board_title, display_board, file_stem, report_dir
    from imbench.analysis.outputs import write_leaderboards
    from imbench.api import leaderboard

    chosen_costs = parse_costs(costs)  # a typo is one line before anything is read
    run = RunResults.load(results_dir, include_anti_patterns)
    if run.results.empty:
        console.print("no cells stored yet")
        return []
    metric = metric or "ap"
    result = leaderboard(run, metric, model=model, by=by, baseline=baseline, pool_models=pool_models,
                         failed=failed, alpha=alpha, rope=rope, costs=chosen_costs)
    for board, notes in zip(result.boards, result.notes):
        frame = display_board(board)
        if not wide and any(long in name for name in board.table["strategy"] for long, _ in ABBREVIATIONS):
            notes = notes + ["names shortened: " + ", ".join(f"{short} = {long}" for long, short in ABBREVIATIONS
                                                             if any(long in n for n in board.table["strategy"]))
                             + " (--wide and the files keep them whole)."]
        print_frame(display_board(board, wide=True) if wide else frame, board_title(board), notes, DROP_ORDER, wide)
    if not write_files:
        return []
    stem = file_stem(metric, model, by, pooled=pool_models and model is None)
    paths = write_leaderboards(result.boards, report_dir(results_dir, out_dir), stem)
    for path in paths:
        err_console.print(f"wrote {path}", highlight=False)
    return paths


def print_posthoc_effects(results_dir: Path, metric: str | None, model: str | None, alpha: float,
                          out_dir: Path | None, include_anti_patterns: bool, pool_models: bool,
                          wide: bool = False) -> list[Path]:
    """Print each post-hoc step against its own strategy (one table per model), then the oracle
    recall@precision next to the recall each `threshold:precision>=P` step really deployed; write CSVs."""
    import pandas as pd

    from imbench.analysis.leaderboard import CoverageCache, check_metric
    from imbench.analysis.oracle import note as oracle_note
    from imbench.analysis.oracle import oracle_vs_deployed
    from imbench.analysis.posthoc_effect import posthoc_effects
    from imbench.analysis.outputs import display_effects, effects_title, report_dir, short_label, write_effects

    run = load_results(results_dir, model, include_anti_patterns)
    if metric is not None:
        check_metric(run.results, metric)
    results = run.results[run.results["model"] == model] if model else run.results
    cache = CoverageCache(results, run.planned_folds)
    effects = posthoc_effects(results, metric, alpha=alpha, pool_models=pool_models, cache=cache)
    if effects.table.empty:
        console.print("no post-hoc step to compare: the store holds no label with a step (e.g. smote+threshold:f1)")
    groups = [("all models", effects.table)] if pool_models else list(effects.table.groupby("model", sort=True))
    for i, (name, part) in enumerate(groups):
        frame = display_effects(part)
        if not wide:
            frame["strategy"], frame["step"] = frame["strategy"].map(short_label), frame["step"].map(short_label)
        print_frame(frame, effects_title(str(name), run.completeness),
                    effects.notes if i == len(groups) - 1 else [], ("Δmed", "W/T/L", "metric"), wide)
    oracle = oracle_vs_deployed(results, cache)
    out = report_dir(results_dir, out_dir)
    paths = write_effects(effects, out, metric)
    if len(oracle):
        shown = pd.DataFrame({"model": oracle["model"], "strategy": oracle["strategy"].map(short_label),
                              "P": oracle["precision_target"], "n": oracle["datasets"],
                              "R@P oracle": oracle["oracle_recall"], "R deployed": oracle["deployed_recall"],
                              "gap": oracle["gap"], "P deployed": oracle["deployed_precision"],
                              "P met": oracle["folds_meeting_target"]})
        if not pool_models and shown["model"].nunique() == 1:
            shown = shown.drop(columns=["model"])
        print_frame(shown, "Oracle vs deployed: recall at precision ≥ P", [oracle_note()], ("P deployed", "n"), wide)
        oracle.to_csv(out / "oracle_vs_deployed.csv", index=False)
        paths.append(out / "oracle_vs_deployed.csv")
    for path in paths:
        err_console.print(f"wrote {path}", highlight=False)
    return paths


@click.command("leaderboard", short_help="Print the leaderboards of a results folder with their statistics.")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--metric", default=None,
              help="Metric to rank by (e.g. ap, roc_auc, f1@deployed, recall_at_precision0.8, ece, brier) "
                   "[default: ap; with --posthoc-effect: f1@deployed for thresholds, ece for calibration].")
@click.option("--by", type=click.Choice(["ir", "size", "source"]), default=None,
              help="Boards per dataset group: imbalance-ratio band, size band or source.")
@click.option("--posthoc-effect", is_flag=True,
              help="Instead of boards: each post-hoc step against its own strategy without it "
                   "(smote+threshold:f1 vs smote), per model.")
@WIDE_OPTION
@_options
@with_analysis_progress(err_console)
def leaderboard_command(results_dir: Path, metric: str | None, by: str | None, posthoc_effect: bool, wide: bool,
                        include_anti_patterns: bool, model: str | None, baseline: str, pool_models: bool, failed: str,
                        alpha: float, out_dir: Path | None, rope: float | None, costs: str | None,
                        plugin_dirs: tuple[Path, ...]) -> None:
    """Leaderboards of a results folder with their statistics (reads the store, refits nothing).

    One board per model: its strategies ranked on the datasets where every one of them has all its
    folds (--pool-models: one board over every model × strategy). Prints the tables and writes CSV
    and Markdown to RESULTS_DIR/report/.
    """
    from imbench.analysis.outputs import check_report_dir

    load_plugins(plugin_dirs)
    check_report_dir(results_dir, out_dir)
    if posthoc_effect:
        print_posthoc_effects(results_dir, metric, model, alpha, out_dir, include_anti_patterns, pool_models, wide)
        return
    print_leaderboard(results_dir, metric, model, by, failed, alpha, out_dir, write_files=True,
                      include_anti_patterns=include_anti_patterns, baseline=baseline, pool_models=pool_models,
                      rope=rope, costs=costs, wide=wide)


def _figure_names(value: str | None) -> list[str] | None:
    from imbench.analysis.figures import FIGURES
    from imbench.foundation.names import UnknownNameError, unknown_name_message

    if not value:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    for name in names:
        if name not in FIGURES:
            raise UnknownNameError(unknown_name_message("figure", name, list(FIGURES)))
    return names


def _figure_context(results_dir: Path, metric: str, dataset: str | None, model: str | None, failed: str,
                    alpha: float, include_anti_patterns: bool, baseline: str = "none",
                    pool_models: bool = False, rope: float | None = None,
                    costs: str | None = None):  # type: ignore[no-untyped-def]
    from imbench.analysis.baseline import parse_baseline
    from imbench.analysis.figures.context import FigureContext
    from imbench.analysis.leaderboard import check_metric
    from imbench.foundation.names import UnknownNameError, unknown_name_message

    run = load_results(results_dir, model, include_anti_patterns)
    if metric not in ("cost@deployed", "cost@bayes") or costs is None:
        check_metric(run.results, metric)
    parse_baseline(baseline, run.models, run.labels)  # a mistake is one line now, not a figure's error later
    names = sorted(run.results["dataset"].unique())
    if dataset is not None and dataset not in names:
        raise UnknownNameError(unknown_name_message("dataset in this store", dataset, names))
    from imbench.analysis.bayes import rope_for
    from imbench.analysis.costs import Costs

    chosen = parse_costs(costs)
    return FigureContext(run, metric=metric, dataset=dataset, model=model, failed=failed, alpha=alpha,
                         baseline=baseline, pool_models=pool_models, rope=rope_for(metric, rope),
                         costs=Costs(*chosen) if chosen else None)


@click.command("plot", short_help="Draw the comparison figures (PNG and SVG) of a results folder.")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--only", default=None,
              help="Comma-separated figures: cd, heatmap, improvement, bayes, pr, reliability, cost, regime, "
                   "disagreement, costs (with --costs) [default: all].")
@click.option("--metric", default="ap", show_default=True,
              help="Metric of the heatmap, improvement, cost and regime figures (CD diagrams use the headline metrics).")
@click.option("--dataset", default=None,
              help="Dataset of the PR-curve and reliability figures [default: the one with the median IR].")
@JOBS_OPTION
@_options
@with_analysis_progress(err_console)
def plot_command(results_dir: Path, only: str | None, metric: str, dataset: str | None, n_jobs: int,
                 include_anti_patterns: bool, model: str | None, baseline: str, pool_models: bool, failed: str,
                 alpha: float, out_dir: Path | None, rope: float | None, costs: str | None,
                 plugin_dirs: tuple[Path, ...]) -> None:
    """Draw the comparison figures (PNG and SVG) into RESULTS_DIR/report/figures/."""
    from imbench.analysis.figures import render
    from imbench.analysis.outputs import check_report_dir, report_dir

    load_plugins(plugin_dirs)
    check_report_dir(results_dir, out_dir)
    names = _figure_names(only)
    ctx = _figure_context(results_dir, metric, dataset, model, failed, alpha, include_anti_patterns, baseline,
                          pool_models, rope, costs)
    written = render(ctx, names, report_dir(results_dir, out_dir) / "figures", n_jobs=n_jobs)
    for paths in written.values():
        console.print("  ".join(str(p) for p in paths), highlight=False)


@click.command("report", short_help="Write a self-contained offline HTML report of a results folder.")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--metric", default="ap", show_default=True, help="Metric of the main leaderboard and figures.")
@click.option("--dataset", default=None,
              help="Dataset of the PR-curve and reliability figures [default: the one with the median IR].")
@click.option("--no-extras", is_flag=True,
              help="Leave out the prior-shift stress, calibration and alert-budget sections.")
@JOBS_OPTION
@_options
@with_analysis_progress(err_console)
def report_command(results_dir: Path, metric: str, dataset: str | None, no_extras: bool, n_jobs: int,
                   include_anti_patterns: bool, model: str | None, baseline: str, pool_models: bool, failed: str,
                   alpha: float, out_dir: Path | None, rope: float | None, costs: str | None,
                   plugin_dirs: tuple[Path, ...]) -> None:
    """Write a self-contained offline HTML report (RESULTS_DIR/report/index.html): run spec and
    environment, datasets, leaderboards, all figures, failures, extra analyses (when installed), and
    how to reproduce the run."""
    from imbench.analysis.outputs import check_report_dir, report_dir
    from imbench.analysis.report import write_report

    load_plugins(plugin_dirs)
    check_report_dir(results_dir, out_dir)
    ctx = _figure_context(results_dir, metric, dataset, model, failed, alpha, include_anti_patterns, baseline,
                          pool_models, rope, costs)
    path = write_report(ctx, report_dir(results_dir, out_dir), extras=not no_extras, n_jobs=n_jobs)
    console.print(str(path), highlight=False)


@click.command("leakage", short_help="Show how much leaky-smote inflates a metric over in-fold smote.")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--metric", default="ap", show_default=True, help="Metric to compare (higher is better, e.g. ap, roc_auc).")
@plugins_option()
def leakage_command(results_dir: Path, metric: str, plugin_dirs: tuple[Path, ...]) -> None:
    """Print how much `leaky-smote` inflates METRIC over in-fold `smote`, fold by fold on the same test rows.

    The grid must contain both strategies (same sampling_ratio and k_neighbors), e.g.
    strategies = ["smote", "leaky-smote"].
    """
    load_plugins(plugin_dirs)
    from imbench.analysis.anti_patterns import HONEST, LEAKY, leakage_summary, leakage_table
    from imbench.errors import UserError
    from imbench.foundation.metrics import unknown_metric
    from imbench.benchmarks.store.reader import store_reader

    cells = store_reader(results_dir).cells()
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
