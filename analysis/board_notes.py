"""The sentences under a leaderboard: how it was computed and everything it left out, per label.

A board that silently drops a dataset, a label or a test misleads as surely as a wrong number, so
every exclusion the board makes (`analysis.leaderboard`) has its line here: datasets compared out of
the total, labels not carrying the metric or never complete, per label the datasets it lacks and
why, tests that could not run, degenerate fits, undefined precisions, and a partial store.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from imbench.analysis.coverage import LACKING, alert_column
from imbench.foundation.metrics import metric_direction

if TYPE_CHECKING:
    from imbench.analysis.leaderboard import Leaderboard

#: Names the terminal lists in one note before "and N more" (the Markdown and HTML files list all).
SHOWN = 6


def board_notes(board: "Leaderboard", shown: int | None = SHOWN) -> list[str]:
    """Every note of `board`, most important first; lists of names cut after `shown` (None: all)."""
    def listed(names: list[str]) -> str:
        return _listed(names, shown)

    lines = [_incomplete(board), _ranking(board), _comparisons(board), _bayes(board), *_untested(board, listed),
             board.friedman.describe() + ("; ≈best: within CD of the best mean rank"
                                          if board.friedman.applicable else ""),
             f"failure policy ({board.policy}): {_policy(board)}.", _dropped(board, listed),
             *_left_out(board, listed), *_lacking(board), *_degenerate(board), _no_alert(board, listed),
             _references(board, listed), _costs(board)]
    return [line for line in lines if line]


def _who(board: "Leaderboard", model: str, label: str) -> str:
    return label if not board.pooled else f"{model}/{label}"


def _listed(names: list[str], shown: int | None) -> str:
    if shown is None or len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def _incomplete(board: "Leaderboard") -> str:
    if not board.incomplete:
        return ""
    running = "a run is still writing the store; " if "run in progress" in board.incomplete else ""
    return (f"{board.incomplete} stored (a result is a cell or one of its post-hoc steps): a partial store; "
            f"{running}the board ranks only datasets where every compared strategy has all its folds.")


def _ranking(board: "Leaderboard") -> str:
    n, total = board.n_datasets, board.datasets_total
    among = "every model × strategy (pooled)" if board.pooled else f"the strategies of {board.model}"
    uncertainty = ("CI: 95 % BCa bootstrap of the mean over datasets." if n > 1 else
                   "with one dataset there is no CI and no test (datasets are the units of both): its ranks are "
                   "one dataset's fold means, untested; rank more datasets to tell a difference from noise.")
    return (f"rank: mean rank over {n} of {total} dataset{'' if total == 1 else 's'} (1 = best, ties averaged) by "
            f"{board.metric} ({metric_direction(board.metric)} is better), among {among}; folds averaged per "
            f"dataset; {uncertainty}")


def _comparisons(board: "Leaderboard") -> str:
    if board.baseline_problem:
        return (f"vs {board.baseline.describe()}: no comparisons ({board.baseline_problem}); --baseline LABEL "
                "compares with another.")
    t = board.table
    n_tests = int(t["p_wilcoxon"].notna().sum()) if "p_wilcoxon" in t else 0
    tests = (f"Holm-corrected over the {n_tests} test{'' if n_tests == 1 else 's'} of this board at α={board.alpha:g}"
             if n_tests else "no test could run (below)")
    return (f"vs {board.baseline.describe()} (--baseline): Δmean and Δmed are the mean and the median over the "
            f"compared datasets of (strategy − baseline) in {board.metric}; W/T/L and two-sided Wilcoxon "
            f"signed-rank tests are paired by dataset, {tests}.")


def _bayes(board: "Leaderboard") -> str:
    t = board.table
    if board.baseline_problem or "p_better" not in t or not t["p_better"].notna().any():
        return ""
    return (f"P(b/=/w): Bayesian signed-rank test (baycomp, seeded) against the same baseline, paired by dataset: "
            f"posterior probability that the strategy is better by more than the ROPE ({board.rope:g} {board.metric}, "
            f"--rope), practically equivalent (within it), or worse by more than it.")


def _costs(board: "Leaderboard") -> str:
    if "cost@deployed" not in board.table:
        return ""
    return ("cost@deployed / cost@bayes (--costs): mean cost per case (fp·FP + fn·FN)/n at the threshold the label "
            "deploys, and at p ≥ fp/(fp+fn) on its probabilities (cost-optimal when they are calibrated); lower is "
            "better.")


def _untested(board: "Leaderboard", listed: Callable[[list[str]], str]) -> list[str]:
    """Tests that could not run, grouped by reason (instead of a p-value that would read as a verdict)."""
    if "wilcoxon_note" not in board.table or board.baseline_problem:
        return []
    by_reason: dict[str, list[str]] = defaultdict(list)
    for row in board.table.itertuples(index=False):
        note = getattr(row, "wilcoxon_note", "")
        if isinstance(note, str) and note and note != "is the baseline":
            by_reason[note].append(_who(board, row.model, row.strategy))
    return [f"Wilcoxon not run for {listed(names)}: {reason}." for reason, names in by_reason.items()]


def _policy(board: "Leaderboard") -> str:
    from imbench.analysis.leaderboard import FAILURE_POLICIES

    return FAILURE_POLICIES[board.policy] + "; skipped cells and missing folds always take the dataset out"


def _dropped(board: "Leaderboard", listed: Callable[[list[str]], str]) -> str:
    if not board.dropped:
        return ""
    items = [f"{dataset} ({why})" for dataset, why in board.dropped.items()]
    return f"left out {len(items)} of {board.datasets_total} datasets: {listed(items)}."


def _left_out(board: "Leaderboard", listed: Callable[[list[str]], str]) -> list[str]:
    by_reason: dict[str, list[str]] = defaultdict(list)
    for item in board.left_out:
        lacks = f" ({item.lacks})" if item.lacks else ""
        by_reason[item.reason].append(_who(board, item.model, item.label) + lacks)
    out = []
    for reason, names in by_reason.items():
        if reason.startswith("does not carry"):
            out.append(f"not in this board ({reason}; a post-hoc step carries only the metrics it can change): "
                       f"{listed(names)}.")
        else:
            out.append(f"not ranked ({reason}): {listed(names)}.")
    return out


def _lacking(board: "Leaderboard") -> list[str]:
    """Per ranked or reference label: how many datasets it lacks and why."""
    columns = [f"lacks_{reason.replace(' ', '_')}" for reason in LACKING]
    if not set(columns) <= set(board.table.columns):
        return []
    out = []
    for _, row in board.table.iterrows():
        parts = [f"{int(row[c])} {reason}{', ranked last' if reason == 'failed' and board.policy == 'rank-last' else ''}"
                 for c, reason in zip(columns, LACKING) if row[c]]
        if parts:
            lacking = sum(int(row[c]) for c in columns)
            out.append(f"{_who(board, row['model'], row['strategy'])} lacks {lacking} of {board.datasets_total} "
                       f"datasets ({', '.join(parts)}).")
    return out


def _degenerate(board: "Leaderboard") -> list[str]:
    t = board.table
    if "degenerate" not in t:
        return []
    rows = t[t["degenerate"] > 0]
    return [f"{row.model} {row.strategy} predicted a constant in {int(row.degenerate)} of {int(row.cells)} cells "
            "(degenerate fits, ranked with what they scored)." for row in rows.itertuples(index=False)]


def _no_alert(board: "Leaderboard", listed: Callable[[list[str]], str]) -> str:
    t = board.table
    if alert_column(board.metric) is None or "no_alert" not in t or not (t["no_alert"] > 0).any():
        return ""
    rows = t[t["no_alert"] > 0]
    items = [f"{_who(board, r.model, r.strategy)} in {int(r.no_alert)} of {int(r.cells)} cells"
             for r in rows.itertuples(index=False)]
    return (f"{board.metric} is undefined where nothing was flagged (no alert), never counted as 0; those folds are "
            f"left out of the fold means: {listed(items)}.")


def _references(board: "Leaderboard", listed: Callable[[list[str]], str]) -> str:
    t = board.table
    rows = t[t["role"] == "reference"]
    names = [_who(board, r.model, r.strategy) if r.model == board.model else
             r.model + r.strategy.removeprefix("none") if r.strategy.startswith("none") else f"{r.model}/{r.strategy}"
             for r in rows.itertuples(index=False)]  # a chance model's row by its model: `random`
    if not names:
        return ""
    line = (f"reference rows (chance, family `baseline`): {listed(names)}; shown below the board on the same "
            "datasets, never ranked or tested.")
    if "ap_random" in rows and rows["ap_random"].notna().any():
        line += (f" A random ranking's exact expected AP for these folds' class counts is "
                 f"{rows['ap_random'].dropna().iloc[0]:.3f} (mean over datasets; the prevalence is lower).")
    return line

