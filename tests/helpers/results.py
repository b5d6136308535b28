"""Synthetic results frames (the input of every analysis board), written out by hand so each test
states exactly which fold of which label has what."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from imbench.analysis.loading import metric_columns

#: A fold entry: a metric value (ok), {metric: value, ...} (ok, several metrics), a status string
#: ("skipped", "error", "timeout", ...), or None (the fold is not stored).
Entry = float | Mapping[str, float] | str | None


def synthetic_results(values: Mapping[str, Mapping[str, Iterable[Entry]]], *, model: str = "logreg",
                      metric: str = "ap", families: Mapping[str, str] | None = None,
                      degenerate: Iterable[tuple[str, str, int]] = ()) -> pd.DataFrame:
    """`values[dataset][label]` lists one entry per fold (repeat 0). A label `base+step` gets
    posthoc `step`; families default to "test"; `degenerate` marks (dataset, label, fold) rows."""
    flagged = set(degenerate)
    rows = []
    for dataset, by_label in values.items():
        for label, folds in by_label.items():
            base, _, step = label.partition("+")
            for fold, entry in enumerate(folds):
                if entry is None:
                    continue
                status = entry if isinstance(entry, str) else "ok"
                metrics = dict(entry) if isinstance(entry, Mapping) else ({metric: float(entry)} if status == "ok" else {})
                rows.append({"key": f"{model}-{dataset}-{base}-{fold}", "posthoc": step or "none", "label": label,
                             "base_label": base, "dataset": dataset, "model": model, "strategy": base.split("[")[0],
                             "family": (families or {}).get(label, "test"), "anti_pattern": False, "repeat": 0,
                             "fold": fold, "status": status, "message": "" if status == "ok" else status,
                             "degenerate": (dataset, label, fold) in flagged, "outcome": "", "fit_seconds": 0.1,
                             "predict_seconds": 0.01, **metrics})
    frame = pd.DataFrame(rows)
    for name in metric_columns(frame):
        frame[name] = frame[name].astype(float)
    return frame


def random_values(datasets: int, labels: Mapping[str, float], folds: int = 3, seed: int = 0,
                  spread: float = 0.1) -> dict[str, dict[str, list[Entry]]]:
    """AP-like values: each label's effect plus a per-dataset level and fold noise (fixed seed)."""
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, list[Entry]]] = {}
    for d in range(datasets):
        level = rng.uniform(0.2, 0.7)
        out[f"d{d:02d}"] = {label: [float(np.clip(level + effect + rng.normal(0, spread), 0, 1)) for _ in range(folds)]
                            for label, effect in labels.items()}
    return out
