"""Leaderboards as files: the full table as CSV (for pandas or a spreadsheet) and a readable Markdown
version with the statistics stated under each table."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from analysis.leaderboard import Leaderboard
from analysis.statistics import format_p
from foundation.metrics import short_name

REPORT_DIR = "report"


def report_dir(results_dir: Path, out: Path | None = None) -> Path:
    """Where analysis writes: `RESULTS/report/` unless the user chose another folder."""
    path = out if out is not None else Path(results_dir) / REPORT_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def display_board(board: Leaderboard) -> pd.DataFrame:
    """The leaderboard with short headers and folded columns, so it reads in an 80–120 column terminal."""
    t, metric = board.table, board.metric
    out = pd.DataFrame({"model": t["model"], "strategy": t["strategy"], "rank": t["mean_rank"],
                        short_name(metric): t[metric]})
    out["95% CI"] = [_interval(lo, hi) for lo, hi in zip(t[f"{metric}_ci_low"], t[f"{metric}_ci_high"])]
    for name in t.columns:
        if name not in out.columns and name in _headline_columns(t, metric, board.baseline):
            out[short_name(name)] = t[name]
    delta = f"delta_{metric}_vs_{board.baseline}"
    out[f"Δ{short_name(metric)}"] = t[delta]
    out["W/T/L"] = [_wtl(w, ti, lo) for w, ti, lo in zip(t["wins"], t["ties"], t["losses"])]
    out["p_Holm"] = [format_p(p) + ("*" if p < board.alpha else "") if pd.notna(p) else "–" for p in t["p_holm"]]
    if board.friedman.applicable:
        out["≈best"] = ["yes" if bool(v) else "" for v in t["within_cd_of_best"]]
    out["data"] = t["datasets"]
    out["skip"] = t["skipped"]
    out["fail"] = t["error"] + t["timeout"] + t["crashed"]
    return out


def _headline_columns(table: pd.DataFrame, metric: str, baseline: str) -> list[str]:
    start = table.columns.get_loc(f"{metric}_ci_high") + 1
    stop = table.columns.get_loc(f"delta_{metric}_vs_{baseline}") if f"delta_{metric}_vs_{baseline}" in table.columns \
        else len(table.columns)
    return [c for c in table.columns[start:stop] if not c.startswith("delta_")]


def _interval(low: float, high: float) -> str:
    return "–" if math.isnan(low) or math.isnan(high) else f"[{low:.3f}, {high:.3f}]"


def _wtl(wins: object, ties: object, losses: object) -> str:
    return "–" if pd.isna(wins) else f"{wins}/{ties}/{losses}"


def board_title(board: Leaderboard) -> str:
    group = f" [{board.group}]" if board.group else ""
    return f"Leaderboard by {board.metric}{group} — {board.n_datasets} datasets, folds averaged per dataset"


def file_stem(metric: str, model: str | None = None, by: str | None = None) -> str:
    parts = [f"leaderboard_{metric}"] + ([model] if model else []) + ([f"by-{by}"] if by else [])
    return "_".join(parts).replace("/", "-").replace(" ", "")


def write_leaderboards(boards: list[Leaderboard], out_dir: Path, stem: str) -> list[Path]:
    """`<stem>.csv` (every column, a `group` column when grouped) and `<stem>.md` (readable tables + notes)."""
    frames = [b.table.assign(group=b.group) if b.group else b.table for b in boards]
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    pd.concat(frames, ignore_index=True).to_csv(csv_path, index=False)
    md_path.write_text("\n\n".join(board_markdown(b) for b in boards) + "\n", encoding="utf-8")
    return [csv_path, md_path]


def board_markdown(board: Leaderboard) -> str:
    table = display_board(board).to_markdown(index=False, floatfmt=".3f")
    notes = "\n".join(f"- {line}" for line in board.notes())
    return f"## {board_title(board)}\n\n{table}\n\n{notes}"
