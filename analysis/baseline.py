"""What a leaderboard compares with: `--baseline LABEL` (that label on the same model, default
`none`) or `--baseline MODEL/LABEL` (one fixed model × label for every row), and the comparison
columns against it — Δ as mean *and* median, win/tie/loss, Wilcoxon signed-rank, Holm, and the
Bayesian signed-rank test's P(better / equivalent / worse) with a ROPE (`analysis.bayes`).

The baseline is explicit because "better than what?" changes the answer: `none` on the same model
asks whether a strategy helps that model; `logreg/none` asks whether it beats the simplest model.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from imbench.analysis.bayes import BAYES_COLUMNS, bayes_frame, rope_for
from imbench.analysis.statistics import compare_to_baseline, holm
from imbench.foundation.names import UnknownNameError, unknown_name_message

DEFAULT_BASELINE = "none"
#: Columns `comparison_columns` adds to a board's table.
COMPARISON_COLUMNS = ("baseline", "delta_mean", "delta_median", "wins", "ties", "losses", "n_paired", "p_wilcoxon",
                      "wilcoxon_note", "p_holm", "significant")


@dataclass(frozen=True)
class Baseline:
    """A label, on the same model as the compared label (`model` None) or on one fixed model."""

    label: str = DEFAULT_BASELINE
    model: str | None = None

    def column_for(self, model: str) -> tuple[str, str]:
        """The (model, label) column a label of `model` is compared with."""
        return (self.model or model, self.label)

    def __str__(self) -> str:
        return f"{self.model}/{self.label}" if self.model else self.label

    def describe(self) -> str:
        return f"`{self}`" if self.model else f"`{self.label}` on the same model"


def parse_baseline(text: str | Baseline, models: list[str], labels: list[str]) -> Baseline:
    """`LABEL` or `MODEL/LABEL` (MODEL one of `models`), checked against the stored labels with a
    "did you mean" when unknown. A label that itself contains "/" is taken whole unless the part
    before the first "/" names a stored model."""
    if isinstance(text, Baseline):
        return text
    model, _, label = text.partition("/")
    baseline = Baseline(label, model) if label and model in models else Baseline(text)
    if baseline.label not in labels and not (text == DEFAULT_BASELINE and labels):
        # the default baseline absent (a subset run without `none`): boards rank without comparisons
        # and say so; a baseline the user named must exist
        raise UnknownNameError(unknown_name_message("baseline label in this store", baseline.label, labels))
    return baseline


def comparison_columns(values: pd.DataFrame, baseline_values: pd.DataFrame, metric: str, baseline: Baseline,
                       alpha: float, tests: bool = True, rope: float | None = None, seed: int = 0) -> pd.DataFrame:
    """Per compared (model, label) column of `values` (datasets × columns): Δ mean and median to
    its baseline (`baseline_values`: the baseline's value paired with each column, NaN where it
    failed), W/T/L, Wilcoxon p (or why it could not run), and Holm-adjusted p over every comparison
    of the board. A column that is its own baseline gets Δ = 0 and no test; a column without a
    baseline column, or every column when `tests` is False, gets empty comparison columns."""
    rows = {}
    for column in values.columns:
        if not tests:
            continue
        if column not in baseline_values.columns:
            rows[column] = {"wilcoxon_note": f"no {baseline.describe()} with every fold to compare with"}
            continue
        if baseline.column_for(column[0]) == column:
            rows[column] = {"baseline": str(baseline), "delta_mean": 0.0, "delta_median": 0.0,
                            "wilcoxon_note": "is the baseline"}
            continue
        result = compare_to_baseline(values[column], baseline_values[column], metric)
        rows[column] = {"baseline": str(baseline), "delta_mean": result.delta_mean,
                        "delta_median": result.delta_median, "wins": result.wins, "ties": result.ties,
                        "losses": result.losses, "n_paired": result.n_paired, "p_wilcoxon": result.p_value,
                        "wilcoxon_note": result.reason}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(COMPARISON_COLUMNS))
    frame = frame.reindex(values.columns)
    frame["p_holm"] = holm(frame["p_wilcoxon"].astype(float), alpha)
    frame["significant"] = (frame["p_holm"] < alpha).where(frame["p_holm"].notna()).astype("boolean")
    for name in ("wins", "ties", "losses", "n_paired"):
        frame[name] = frame[name].astype("Int64")
    frame["wilcoxon_note"] = frame["wilcoxon_note"].fillna("")
    own = {c for c in values.columns if baseline.column_for(c[0]) == c}
    bayes = (bayes_frame(values, baseline_values, metric, rope_for(metric, rope), own, seed) if tests else
             pd.DataFrame(index=values.columns, columns=list(BAYES_COLUMNS), dtype=float))
    return frame.join(bayes)
