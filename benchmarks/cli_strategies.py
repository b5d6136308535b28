"""`imbench leakage RESULTS`: how much resampling before splitting (`leaky-smote`) inflates a metric
against in-fold `smote` on the same folds — read from the store, nothing refitted.

Heavy modules are imported inside the command so that `imbench --help` stays fast.
"""
from __future__ import annotations

from pathlib import Path

import click

from benchmarks.tables import make_console

console = make_console()


@click.command("leakage")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--metric", default="ap", show_default=True, help="Metric to compare (higher is better, e.g. ap, roc_auc).")
def leakage_command(results_dir: Path, metric: str) -> None:
    """Print how much `leaky-smote` inflates METRIC over in-fold `smote`, fold by fold on the same test rows.

    The grid must contain both strategies (same sampling_ratio and k_neighbors), e.g.
    strategies = ["smote", "leaky-smote"].
    """
    from analysis.anti_patterns import HONEST, LEAKY, leakage_summary, leakage_table
    from benchmarks.errors import UserError
    from benchmarks.metrics import unknown_metric
    from benchmarks.store import read_cells
    from benchmarks.tables import rich_table

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


COMMANDS = [leakage_command]
