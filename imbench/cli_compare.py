"""`imbench compare A B`: the same labels in two stores, paired by dataset means (`analysis.compare`)."""
from __future__ import annotations

from pathlib import Path

import click

from imbench.options import ROPE_OPTION, WIDE_OPTION, plugins_option
from imbench.plugin_options import load_plugins
from imbench.tables import make_console

console = make_console()
err_console = make_console(stderr=True)


@click.command("compare", short_help="Compare two stores of one grid label by label (B − A, paired by dataset).")
@click.argument("store_a", type=click.Path(path_type=Path))
@click.argument("store_b", type=click.Path(path_type=Path))
@click.option("--metric", default="ap", show_default=True, help="Metric to compare (e.g. ap, roc_auc, ece).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Significance level of the Wilcoxon tests (Holm-corrected).")
@click.option("--include-anti-patterns", is_flag=True, help="Keep anti-pattern strategies, left out by default.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Where to write compare_<metric>.csv [default: STORE_B/report].")
@ROPE_OPTION
@WIDE_OPTION
@plugins_option()
def compare_command(store_a: Path, store_b: Path, metric: str, alpha: float, include_anti_patterns: bool,
                    out_dir: Path | None, rope: float | None, wide: bool, plugin_dirs: tuple[Path, ...]) -> None:
    """Compare two stores of compatible grids (same cross-validation) label by label: per label, the
    mean difference B − A over the datasets where both have every fold, with a 95 % interval, win/tie/
    loss, Wilcoxon–Holm and the Bayesian signed-rank test; and what is in one store only."""
    import pandas as pd

    from imbench.analysis.bayes import compact
    from imbench.analysis.outputs import report_dir, short_label
    from imbench.api import compare
    from imbench.cli_analysis import print_frame

    load_plugins(plugin_dirs)
    result = compare(store_a, store_b, metric, alpha=alpha, rope=rope, include_anti_patterns=include_anti_patterns)
    t = result.table
    name = [f"{m}/{s}" for m, s in zip(t["model"], t["strategy"])]
    shown = pd.DataFrame({
        "strategy": name if wide else [short_label(n) for n in name], "n": t["datasets"], "A": t["a_mean"],
        "B": t["b_mean"], "Δ": t["delta_mean"],
        "95% CI": ["–" if pd.isna(lo) else f"[{lo:+.3f}, {hi:+.3f}]" for lo, hi in zip(t["ci_low"], t["ci_high"])],
        "W/T/L": [f"{w}/{ti}/{lo}" for w, ti, lo in zip(t["wins"], t["ties"], t["losses"])],
        "p_Holm": ["–" if pd.isna(p) else f"{p:.3f}" + ("*" if p < alpha else "") for p in t["p_holm"]],
        "P(b/=/w)": [compact(b, e, w) for b, e, w in zip(t["p_better"], t["p_equivalent"], t["p_worse"])]})
    print_frame(shown, f"B − A by {metric}: {len(t)} labels in both stores", result.notes,
                ("A", "B", "W/T/L", "p_Holm", "n"), wide)
    out = report_dir(store_b, out_dir)
    path = out / f"compare_{metric}.csv"
    t.to_csv(path, index=False)
    result.unmatched.to_csv(out / f"compare_{metric}_unmatched.csv", index=False)
    err_console.print(f"wrote {path}", highlight=False)


COMMANDS = [compare_command]
