"""`imbench stress`, `imbench calibration`, `imbench budget`: prior shift, calibration and alert budgets,
all computed from a results folder's stored predictions (nothing is refitted or written to the store).

Each prints a summary table and writes CSV + Markdown tables and PNG + SVG figures under
`RESULTS/report/{stress,calibration,budget}/` (or `--out`). Options are checked and the analysis is
computed before anything is written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pandas as pd

from imbench.tables import make_console, rich_table

console = make_console()
err_console = make_console(stderr=True)

SHIFTS_HELP = ("Comma-separated prior shifts; s multiplies the positive prior (1.5 → 50 % more positives). "
               "1 is always included.")


def _out_dir(results_dir: Path, out: Path | None, area: str, create: bool = True) -> Path:
    """The output folder, checked (and created unless `create` is False) with a one-line error."""
    from foundation.paths import check_writable_dir, prepare_dir

    target, option = (out, "--out") if out is not None else (results_dir / "report" / area,
                                                              f"the {area} folder (set --out)")
    return prepare_dir(target, option) if create else check_writable_dir(target, option)


def _ratio(kept: object, of: object) -> str:
    return "–" if pd.isna(kept) else f"{kept}/{of}"


def _arrow(before: float, after: float, digits: int = 3) -> str:
    if pd.isna(before):
        return "–"
    return f"{before:.{digits}f} → {after:.{digits}f}"


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        err_console.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)


def _finish(paths: list[Path], out: Path, figures: dict[str, Any] | None) -> None:
    """Save the figures (stem → Figure; None with --no-figures) next to the tables and say what was written."""
    from analysis.shift_outputs import save_figure

    for stem, fig in (figures or {}).items():
        paths += save_figure(fig, out, stem)
    _wrote(paths, out)


def _wrote(paths: list[Path], out: Path) -> None:
    err_console.print(f"wrote {len(paths)} files to {out}", highlight=False, markup=False, soft_wrap=True)


@click.command("stress")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--shifts", default="0.5,0.67,1,1.5,2", show_default=True, help=SHIFTS_HELP)
@click.option("--target-precision", type=float, default=0.9, show_default=True,
              help="Precision the threshold must meet on the training fold's out-of-fold predictions.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: RESULTS_DIR/report/stress].")
@click.option("--no-figures", is_flag=True, help="Write the tables only.")
def stress_command(results_dir: Path, shifts: str, target_precision: float, out: Path | None,
                   no_figures: bool) -> None:
    """Re-score every stored fold at shifted positive priors (label shift, importance reweighting), with
    and without prior correction; rank strategies by how well their precision survives."""
    from analysis.stress import (CORRECTIONS, THRESHOLD_SOURCES, prior_estimates, robustness_leaderboard, run_stress,
                                 stress_table)

    _out_dir(results_dir, out, "stress", create=False)
    result = run_stress(results_dir, shifts, target_precision)
    board = robustness_leaderboard(result)
    low, high = min(result.shifts), max(result.shifts)
    none = board[board["correction"] == "none"]
    shown = pd.DataFrame({
        "model": none["model"], "strategy": none["strategy"],
        "kept": [_ratio(k, n) for k, n in zip(none["kept"], none["with_threshold"])],
        "unreach": none["unreachable"], "P@1": none["precision_at_1"], "P worst": none["precision_worst"],
        "P spread": none["precision_spread"], f"alerts×@{low:g}": none[f"alerts_x_at_{low:g}"],
        f"alerts×@{high:g}": none[f"alerts_x_at_{high:g}"], "AP@1": none["ap_at_1"], "AP worst": none["ap_worst"],
    })
    console.print(rich_table(shown, title=f"Prior-shift robustness, shifts {', '.join(f'{s:g}' for s in result.shifts)}"
                                          f" — target precision {result.target_precision:g}, no prior correction",
                             caption="kept: datasets keeping precision ≥ target at every shift / datasets with a "
                                     "threshold; P: precision at the threshold chosen at the training prior (per "
                                     "dataset, then mean); alerts×: alert volume relative to no shift"))
    estimates = prior_estimates(result)
    error = estimates.groupby(["model", "strategy"])["relative_error"].median()
    wide = board.pivot(index=["model", "strategy"], columns="correction", values=["kept", "precision_worst"])
    compare = pd.DataFrame(index=wide.index)
    for correction in CORRECTIONS:
        compare[f"kept {correction}"] = [_ratio(k, n) for k, n in zip(
            wide[("kept", correction)], board[board["correction"] == correction].set_index(
                ["model", "strategy"]).loc[wide.index, "with_threshold"])]
    for correction in CORRECTIONS:
        compare[f"P worst {correction}"] = wide[("precision_worst", correction)].astype(float)
    compare["EM prior error"] = error.reindex(wide.index)
    console.print(rich_table(compare.reset_index(), title="With prior correction: known shifted prior vs EM estimate",
                             caption="EM prior error: median |π̂ − π'| / π' over datasets and shifts"))
    _print_notes(result.notes)
    out_dir = _out_dir(results_dir, out, "stress")
    from analysis.shift_outputs import write_table

    notes = [f"correction `{k}`: {v}" for k, v in CORRECTIONS.items()] + \
            [f"threshold `{k}`: {v}" for k, v in THRESHOLD_SOURCES.items()] + result.notes
    paths = write_table(board, out_dir, "robustness", "Prior-shift robustness leaderboard", notes)
    paths += write_table(stress_table(result), out_dir, "stress_by_shift",
                         "Metrics under prior shift (mean over datasets, 95 % bootstrap interval)", notes)
    paths += write_table(estimates, out_dir, "prior_estimates", "EM prior estimates vs the true shifted prior", notes)
    # every fold × shift × correction: Parquet, as a large store makes millions of rows
    result.folds.to_parquet(out_dir / "stress_folds.parquet", index=False)
    paths.append(out_dir / "stress_folds.parquet")
    from analysis.stress_figures import all_figures

    _finish(paths, out_dir, None if no_figures else all_figures(result))


@click.command("calibration")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: RESULTS_DIR/report/calibration].")
@click.option("--no-figures", is_flag=True, help="Write the tables only.")
def calibration_command(results_dir: Path, out: Path | None, no_figures: bool) -> None:
    """Calibration per strategy as trained and after the prior correction that undoes resampling or
    class weighting: ECE, Brier, log loss, calibration intercept and slope; reliability diagrams."""
    from analysis.calibration import VARIANTS, calibration_side_by_side, calibration_table, run_calibration

    _out_dir(results_dir, out, "calibration", create=False)
    result = run_calibration(results_dir)
    side = calibration_side_by_side(result)
    shown = pd.DataFrame({
        "model": side["model"], "strategy": side["strategy"], "trained at π": side["model_prior"],
        "ECE": [_arrow(a, b) for a, b in zip(side["ece_raw"], side["ece_corrected"])],
        "Brier": [_arrow(a, b) for a, b in zip(side["brier_raw"], side["brier_corrected"])],
        "log loss": [_arrow(a, b) for a, b in zip(side["log_loss_raw"], side["log_loss_corrected"])],
        "intercept": [_arrow(a, b, 2) for a, b in zip(side["calibration_intercept_raw"],
                                                      side["calibration_intercept_corrected"])],
        "slope": side["calibration_slope_raw"],
    })
    console.print(rich_table(shown, title="Calibration as trained → after prior correction (mean over datasets; "
                                          "median for intercept and slope)",
                             caption=f"ECE: equal-mass bins ({result.n_bins}); trained at π: mean positive prior the "
                                     "model learned at; the correction maps it back to the training fold's prevalence "
                                     "(it shifts the intercept, never the slope)"))
    _print_notes(result.notes)
    out_dir = _out_dir(results_dir, out, "calibration")
    from analysis.shift_outputs import write_table

    notes = [f"`{k}`: {v}" for k, v in VARIANTS.items()] + result.notes
    paths = write_table(calibration_table(result), out_dir, "calibration", "Calibration per strategy", notes)
    paths += write_table(side, out_dir, "calibration_side_by_side", "Calibration as trained vs prior-corrected", notes)
    from analysis.calibration_figures import all_figures

    _finish(paths, out_dir, None if no_figures else all_figures(result))


@click.command("budget")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--alerts-per-day", type=float, default=100, show_default=True, help="Alerts the team can review a day.")
@click.option("--population-per-day", type=float, default=20_000, show_default=True,
              help="Cases scored a day (the budgeted alert rate is alerts / population).")
@click.option("--min-precision", type=float, default=0.85, show_default=True, help="Precision floor.")
@click.option("--shifts", default="0.5,0.67,1,1.5,2", show_default=True, help=SHIFTS_HELP)
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: RESULTS_DIR/report/budget].")
@click.option("--no-figures", is_flag=True, help="Write the table only.")
def budget_command(results_dir: Path, alerts_per_day: float, population_per_day: float, min_precision: float,
                   shifts: str, out: Path | None, no_figures: bool) -> None:
    """Pick each fold's threshold on training out-of-fold predictions to meet an alert budget under a
    precision floor; report the alerts, precision and recall it delivers, unshifted and under shift."""
    from analysis.budget import budget_table, plot_budget, run_budget
    from analysis.folds import MISSING_TRAIN_PREDICTIONS
    from analysis.prior_shift import ShiftInputError
    from foundation.posthoc import BUDGET_OUTCOMES

    _out_dir(results_dir, out, "budget", create=False)
    result = run_budget(results_dir, alerts_per_day, population_per_day, min_precision, shifts)
    if not result.available:
        raise ShiftInputError(f"{results_dir}: {MISSING_TRAIN_PREDICTIONS}")
    table = budget_table(result)
    low, high = min(result.shifts), max(result.shifts)
    at = {s: table[table["shift"] == s].set_index(["model", "strategy"]) for s in (low, 1.0, high)}
    base = at[1.0]
    def per_day(values: pd.Series) -> pd.Series:
        return values.round().astype("Int64")

    shown = pd.DataFrame({
        "alerts/day": per_day(base["alerts_per_day"]), "precision": base["precision"], "recall": base["recall"],
        "keeps floor": [_ratio(k, n) for k, n in zip(base["keeps_floor"], base["datasets"])],
        f"alerts/day @{low:g}": per_day(at[low]["alerts_per_day"]), f"P @{low:g}": at[low]["precision"],
        f"alerts/day @{high:g}": per_day(at[high]["alerts_per_day"]), f"P @{high:g}": at[high]["precision"],
        "folds on budget/floor/best/over": [f"{a}/{b}/{c}/{d}" for a, b, c, d in zip(
            base["folds_on_budget"], base["folds_floor"], base["folds_best_precision"], base["folds_over_budget"])],
    }).reset_index()
    b = result.budget
    console.print(rich_table(shown, title=f"Alert budget: {b.alerts_per_day:g} alerts/day of {b.population_per_day:g} "
                                          f"({b.alert_rate:.2%}), precision floor {b.min_precision:g}",
                             digits=3,
                             caption="mean over datasets of the realized test-fold values; keeps floor: datasets whose "
                                     "fold-mean precision ≥ floor / datasets (no alert at all does not keep it); @s: "
                                     "under prior shift s. " +
                                     "; ".join(f"{k}: {v}" for k, v in BUDGET_OUTCOMES.items() if k != "unavailable")))
    _print_notes(result.notes)
    out_dir = _out_dir(results_dir, out, "budget")
    from analysis.shift_outputs import write_table

    notes = [f"status `{k}`: {v}" for k, v in BUDGET_OUTCOMES.items()] + result.notes
    paths = write_table(table, out_dir, "budget", "Alert budget per strategy and prior shift", notes)
    result.folds.to_parquet(out_dir / "budget_folds.parquet", index=False)
    paths.append(out_dir / "budget_folds.parquet")
    _finish(paths, out_dir, None if no_figures else {"budget": plot_budget(result)})


COMMANDS = [stress_command, calibration_command, budget_command]
