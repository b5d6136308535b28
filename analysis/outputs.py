"""Leaderboards as text: the compact table the terminal prints (within 80 columns where the names
allow), the wide table of the Markdown and HTML files, the full table as CSV (for pandas or a
spreadsheet), each with the statistics and everything left out stated under it."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from imbench.analysis.coverage import LACKING
from imbench.analysis.leaderboard import Leaderboard
from imbench.analysis.posthoc_effect import PosthocEffects
from imbench.analysis.bayes import compact
from imbench.analysis.statistics import format_p
from imbench.foundation.metrics import short_name
from imbench.foundation.paths import check_writable_dir, prepare_dir
from imbench.analysis.board_notes import board_notes

REPORT_DIR = "report"


def _report_target(results_dir: Path, out: Path | None) -> tuple[Path, str]:
    if out is not None:
        return Path(out), "--out"
    return Path(results_dir) / REPORT_DIR, "the report folder (set --out)"


def check_report_dir(results_dir: Path, out: Path | None = None) -> None:
    """Before any work: one line when the output folder cannot be written (a store on a read-only
    disk is analysable with --out elsewhere)."""
    check_writable_dir(*_report_target(results_dir, out))


def report_dir(results_dir: Path, out: Path | None = None) -> Path:
    """Where analysis writes: `RESULTS/report/` unless the user chose another folder (created)."""
    return prepare_dir(*_report_target(results_dir, out))


#: Step names shortened in the terminal so long post-hoc labels fit 80 columns (the files keep them whole).
ABBREVIATIONS = (("calibrate:", "cal:"), ("threshold:", "thr:"), ("ensemble-", "ens-"), ("isotonic", "iso"),
                 ("sigmoid", "sig"), ("precision>=", "P≥"), ("recall>=", "R≥"))
#: Compact columns dropped first when the terminal is too narrow (`--wide` shows them all).
DROP_ORDER = ("last", "no alert", "degen", "Δmed", "≈best", "cost@bayes", "W/T/L", "p_Holm", "cost@dep", "P(b/=/w)",
              "Δmean")


def short_label(label: str) -> str:
    """`random-under+calibrate:ensemble-isotonic` → `random-under+cal:ens-iso` (see ABBREVIATIONS)."""
    for long, short in ABBREVIATIONS:
        label = label.replace(long, short)
    return label


def chance_name(model: str, label: str) -> str:
    """A chance row by its model: `random`, `prior+threshold:f1` (its strategy is always `none`)."""
    return model + label.removeprefix("none") if label.startswith("none") else f"{model}/{label}"


def display_board(board: Leaderboard, wide: bool = False) -> pd.DataFrame:
    """The board with short headers. Compact (terminal): name (abbreviated), rank, metric, Δ mean and
    median, W/T/L, Holm p, P(better/equivalent/worse), ≈best, and the counts that are not all zero
    (`imbench.tables.fit_width` drops columns in DROP_ORDER to fit the terminal). `wide` (files,
    report, `--wide`) adds the model, median, interval, other headline metrics, raw p, the three
    posterior probabilities, datasets, what each label lacks and, on chance rows, the expected AP of
    a random ranking."""
    t, metric = board.table, board.metric
    reference = t["role"] == "reference"
    out = pd.DataFrame(index=t.index)
    if wide:
        out["model"] = t["model"]
        out["strategy"] = t["strategy"].where(~reference, t["strategy"] + " (ref)")
    else:
        names = [(f"{s if m == board.model else chance_name(m, s)} (ref)") if ref else f"{m}/{s}" if board.pooled
                 else s for m, s, ref in zip(t["model"], t["strategy"], reference)]
        out["strategy"] = [short_label(n) for n in names]
    out["rank"] = t["mean_rank"]
    out[short_name(metric)] = t[metric]
    if not wide:  # expected costs (--costs) sit next to the metric; the wide table has them among the headline
        for name, shown in (("cost@deployed", "cost@dep"), ("cost@bayes", "cost@bayes")):
            if name in t and name != metric:
                out[shown] = t[name]
    if wide:
        out["median"] = t[f"{metric}_median"]
        out["95% CI"] = [_interval(lo, hi) for lo, hi in zip(t[f"{metric}_ci_low"], t[f"{metric}_ci_high"])]
        for name in _headline_columns(t, metric):
            out[short_name(name)] = t[name]
    if not board.baseline_problem and t["delta_mean"].notna().any():
        out["Δmean"] = t["delta_mean"]
        out["Δmed"] = t["delta_median"]
        out["W/T/L"] = [_wtl(w, ti, lo) for w, ti, lo in zip(t["wins"], t["ties"], t["losses"])]
        if wide:
            out["p"] = [format_p(p) if pd.notna(p) else "–" for p in t["p_wilcoxon"]]
        out["p_Holm"] = [format_p(p) + ("*" if p < board.alpha else "") if pd.notna(p) else "–" for p in t["p_holm"]]
        if "p_better" in t and t["p_better"].notna().any():
            if wide:
                out["P(better)"], out["P(equiv)"], out["P(worse)"] = t["p_better"], t["p_equivalent"], t["p_worse"]
            else:
                out["P(b/=/w)"] = [compact(b, e, w) for b, e, w in zip(t["p_better"], t["p_equivalent"], t["p_worse"])]
    if board.friedman.applicable:
        out["≈best"] = ["yes" if v is True else "" for v in t["within_cd_of_best"].astype(object)]
    if board.policy == "rank-last" and (wide or t["failed_datasets"].any()):
        out["last"] = t["failed_datasets"]
    if wide:
        out["data"] = t["datasets"]
        out["lacks"] = [_lacks(row) for _, row in t.iterrows()]
    if wide or t["degenerate"].any():
        out["degen"] = t["degenerate"]
    if t["no_alert"].any():
        out["no alert"] = t["no_alert"]
    if wide and "ap_random" in t and t["ap_random"].notna().any():
        out["E[AP] random"] = t["ap_random"]
    return out.reset_index(drop=True)


def _headline_columns(table: pd.DataFrame, metric: str) -> list[str]:
    """The other headline metrics the board carries (they sit between the interval and `within_cd_of_best`
    in no fixed place, so they are found by elimination)."""
    from imbench.analysis.baseline import COMPARISON_COLUMNS
    from imbench.analysis.bayes import BAYES_COLUMNS

    known = {"model", "strategy", "family", "role", "mean_rank", metric, f"{metric}_median", f"{metric}_ci_low",
             f"{metric}_ci_high", "within_cd_of_best", "datasets", "failed_datasets", "cells", "degenerate",
             "no_alert", "skipped_cells", "failed_cells", "ap_random", *COMPARISON_COLUMNS, *BAYES_COLUMNS}
    return [c for c in table.columns if c not in known and not c.startswith("lacks_")]


def _lacks(row: pd.Series) -> str:
    parts = [f"{int(row[c])} {reason}" for reason in LACKING
             if (c := f"lacks_{reason.replace(' ', '_')}") in row and row[c]]
    return ", ".join(parts)


def _interval(low: float, high: float) -> str:
    return "–" if math.isnan(low) or math.isnan(high) else f"[{low:.3f}, {high:.3f}]"


def _wtl(wins: object, ties: object, losses: object) -> str:
    return "–" if pd.isna(wins) else f"{wins}/{ties}/{losses}"


def board_title(board: Leaderboard) -> str:
    """`Leaderboard by ap [IR<3] — logreg: 19 of 24 datasets — incomplete: 300 of 360 cells`."""
    group = f" [{board.group}]" if board.group else ""
    scope = "all models pooled" if board.pooled else board.model
    title = f"Leaderboard by {board.metric}{group} — {scope}: {board.n_datasets} of {board.datasets_total} datasets"
    return title + (f" — {board.incomplete}" if board.incomplete else "")


def file_stem(metric: str, model: str | None = None, by: str | None = None, pooled: bool = False) -> str:
    parts = [f"leaderboard_{metric}"] + ([model] if model else []) + (["pooled"] if pooled else []) \
        + ([f"by-{by}"] if by else [])
    return "_".join(parts).replace("/", "-").replace(" ", "")


def write_leaderboards(boards: list[Leaderboard], out_dir: Path, stem: str) -> list[Path]:
    """`<stem>.csv` (every column of every board; `board` names the model or "pooled", `group` the
    dataset group) and `<stem>.md` (the wide tables with their notes)."""
    frames = [b.table.assign(board=b.model or "pooled", **({"group": b.group} if b.group else {})) for b in boards]
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    pd.concat(frames, ignore_index=True).to_csv(csv_path, index=False)
    md_path.write_text("\n\n".join(board_markdown(b) for b in boards) + "\n", encoding="utf-8")
    return [csv_path, md_path]


def board_markdown(board: Leaderboard) -> str:
    table = display_board(board, wide=True).to_markdown(index=False, floatfmt=".3f")
    notes = "\n".join(f"- {line}" for line in board_notes(board, None))
    return f"## {board_title(board)}\n\n{table}\n\n{notes}"


def display_effects(table: pd.DataFrame) -> pd.DataFrame:
    """Post-hoc effects with short headers (one model's rows, or all of them when pooled)."""
    pooled = table["model"].nunique() > 1
    out = pd.DataFrame({"strategy": [f"{m}/{s}" if pooled else s for m, s in zip(table["model"], table["strategy"])],
                        "step": table["step"], "metric": [short_name(m) for m in table["metric"]],
                        "n": table["datasets"], "Δmean": table["delta_mean"], "Δmed": table["delta_median"]})
    out["W/T/L"] = [_wtl(w, ti, lo) for w, ti, lo in zip(table["wins"], table["ties"], table["losses"])]
    out["p_Holm"] = [format_p(p) + ("*" if s is True else "") if pd.notna(p) else "–"
                     for p, s in zip(table["p_holm"], table["significant"].astype(object))]
    if "alerts_inner" in table.columns and table["alerts_inner"].notna().any():
        out["alerts in→test"] = [f"{i:.3f}→{t:.3f}" if pd.notna(i) else "–"
                                 for i, t in zip(table["alerts_inner"], table["alerts_test"])]
    return out.reset_index(drop=True)


def effects_title(scope: str, completeness: tuple[int, int] | None = None) -> str:
    title = f"Post-hoc steps vs their own strategy — {scope}"
    described = getattr(completeness, "describe", None)
    if described is not None and described():
        title += f" — {described()}"
    elif completeness is not None and completeness[0] < completeness[1]:
        title += f" — incomplete: {completeness[0]:,} of {completeness[1]:,} cells"
    return title


def write_effects(effects: PosthocEffects, out_dir: Path, metric: str | None = None) -> list[Path]:
    """`posthoc_effect[_<metric>].csv` (every column) and `.md` (the table and its notes)."""
    stem = "posthoc_effect" + (f"_{metric}" if metric else "")
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    effects.table.to_csv(csv_path, index=False)
    table = display_effects(effects.table).to_markdown(index=False, floatfmt=".3f") if len(effects.table) else ""
    notes = "\n".join(f"- {line}" for line in effects.notes)
    md_path.write_text(f"## {effects_title('all models')}\n\n{table}\n\n{notes}\n", encoding="utf-8")
    return [csv_path, md_path]
