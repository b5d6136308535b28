"""The results frame every leaderboard reads: one row per (cell, post-hoc step) of a store.

Base rows are the cells themselves (`posthoc` "none"); a post-hoc label (`smote+threshold:f1`) has a
row for every cell of its strategy: the derived result where the cell is ok, the cell's own status
(skipped, error, …) where it is not, so a label's failures and skips are visible per fold. A derived
row carries only the metrics its step can change (the store kept only those), so a threshold label is
never ranked by AP. Everything comes from the store: no strategy registry, no plugins.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from imbench.benchmarks.store.reader import store_reader

#: Columns of the results frame that are not metrics: identity, what the row is, status, timings.
RESULT_COLUMNS = ("key", "posthoc", "label", "base_label", "dataset", "model", "strategy", "family", "anti_pattern",
                  "repeat", "fold", "status", "message", "degenerate", "outcome", "threshold", "fit_seconds",
                  "predict_seconds")


def results_frame(results_dir: str | Path) -> tuple[pd.DataFrame, dict[str, object]]:
    """(the frame, the store's meta) of a results folder."""
    store = store_reader(results_dir)
    meta = store.meta()
    cells = store.cells()
    derived = store.derived()
    return build_frame(cells, derived, meta.get("steps") or {}), meta


def build_frame(cells: pd.DataFrame, derived: pd.DataFrame, steps: dict[str, list[str]]) -> pd.DataFrame:
    """Join cells and derived results; `steps` maps a strategy label to the post-hoc steps its cells derive."""
    base = cells.assign(posthoc="none", base_label=cells["label"], outcome="", threshold=0.5,
                        degenerate=cells["degenerate"].astype(str) != "")
    base.loc[base["status"] != "ok", "threshold"] = float("nan")
    frames = [base]
    identity = cells[["key", "label", "dataset", "model", "strategy", "family", "anti_pattern", "repeat", "fold",
                      "status", "message", "degenerate", "fit_seconds", "predict_seconds"]]
    for label, label_steps in steps.items():
        own = identity[identity["label"] == label]
        if own.empty:
            continue
        for step in label_steps:
            rows = own.merge(derived[derived["posthoc"] == step], on="key", how="left", suffixes=("", "_step"))
            ok = rows["status"] == "ok"
            rows["status"] = rows["status_step"].where(ok, rows["status"]).fillna("missing")
            rows["message"] = rows["message_step"].where(ok, rows["message"]).fillna("")
            rows["outcome"] = rows["outcome"].fillna("")
            rows = rows.drop(columns=["status_step", "message_step", "report", "finished_at"], errors="ignore")
            rows["posthoc"] = step
            rows["base_label"] = label
            rows["label"] = f"{label}+{step}"
            rows["degenerate"] = rows["degenerate"].astype(str) != ""
            frames.append(rows)
    frame = pd.concat(frames, ignore_index=True, sort=False)
    frame["anti_pattern"] = frame["anti_pattern"].astype(bool)
    frame["degenerate"] = frame["degenerate"].astype(bool)
    metrics = sorted(c for c in frame.columns if c not in RESULT_COLUMNS and c not in _cell_bookkeeping())
    ordered = [c for c in RESULT_COLUMNS if c in frame.columns] + metrics
    return frame[ordered].sort_values(["dataset", "model", "label", "repeat", "fold"], kind="stable",
                                      ignore_index=True)


def _cell_bookkeeping() -> set[str]:
    """Cell columns that are neither identity nor metrics (kept in the cells table, not the frame)."""
    return {"run_id", "params", "training_prior", "prior_rule", "fingerprint", "inner_folds", "inner_status",
            "inner_seconds", "extra", "finished_at"}
