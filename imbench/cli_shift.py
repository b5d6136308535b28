"""`imbench stress`, `imbench calibration`, `imbench budget`: prior shift, calibration and alert budgets,
all computed from a results folder's stored predictions (nothing is refitted or written to the store).

Each prints a summary table and writes CSV + Markdown tables and PNG + SVG figures under
`RESULTS/report/{stress,calibration,budget}/` (or `--out`). Options are checked and the analysis is
computed before anything is written.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pandas as pd

from imbench.options import COSTS_OPTION, WIDE_OPTION, parse_costs, plugins_option
from imbench.plugin_options import load_plugins
from imbench.progress import with_analysis_progress
from imbench.tables import make_console, print_fitted, wrapped

console = make_console()
err_console = make_console(stderr=True)

SHIFTS_HELP = ("Comma-separated prior shifts; s multiplies the positive prior (1.5 → 50 % more positives). "
               "1 is always included.")


def _scope_options(function):  # type: ignore[no-untyped-def]
    """--dataset, --model, --wide and --plugins, shared by the three commands."""
    function = plugins_option()(function)
    function = WIDE_OPTION(function)
    function = click.option("--model", default=None, help="Only this model's folds.")(function)
    function = click.option("--dataset", default=None,
                            help="Only this dataset's folds: the answer for one dataset.")(function)
    return function


def _source(results_dir: Path, dataset: str | None, model: str | None, plugin_dirs: tuple[Path, ...]) -> Any:
    """The results folder, or its folds of one dataset and/or model (checked, with "did you mean")."""
    load_plugins(plugin_dirs)
    if dataset is None and model is None:
        return results_dir
    from imbench.analysis.folds import load_folds

    return load_folds(results_dir).subset(dataset, model)


def _scope_title(dataset: str | None, model: str | None) -> str:
    parts = [f"dataset {dataset}" if dataset else "", f"model {model}" if model else ""]
    return (" — " + ", ".join(p for p in parts if p)) if dataset or model else ""


def _out_dir(results_dir: Path, out: Path | None, area: str, dataset: str | None = None,
             model: str | None = None, create: bool = True) -> Path:
    """RESULTS/report/AREA, or a subfolder per --dataset/--model (so the whole-store files stay);
    checked (and created unless `create` is False) with a one-line error."""
    from imbench.foundation.paths import check_writable_dir, prepare_dir

    if out is not None:
        target, option = out, "--out"
    else:
        scope = "_".join(re.sub(r"[^A-Za-z0-9_.=-]+", "-", name).strip("-") for name in (dataset, model) if name)
        target = results_dir / "report" / area / scope if scope else results_dir / "report" / area
        option = f"the {area} folder (set --out)"
    return prepare_dir(target, option) if create else check_writable_dir(target, option)


def _ratio(kept: object, of: object) -> str:
    return "–" if pd.isna(kept) else f"{kept}/{of}"


def _shares(values: pd.Series) -> list[str]:
    return ["–" if pd.isna(v) else f"{v:.0%}" for v in values]


def _arrow(before: float, after: float, digits: int = 3) -> str:
    if pd.isna(before):
        return "–"
    return f"{before:.{digits}f} → {after:.{digits}f}"


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        err_console.print(wrapped(f"note: {note}", err_console.width, indent=""), highlight=False, markup=False,
                          soft_wrap=True)


def _finish(paths: list[Path], out: Path, figures: dict[str, Any] | None) -> None:
    """Save the figures (stem → Figure; None with --no-figures) next to the tables and say what was written."""
    from imbench.analysis.shift_outputs import save_figure

    for stem, fig in (figures or {}).items():
        paths += save_figure(fig, out, stem)
    _wrote(paths, out)


def _wrote(paths: list[Path], out: Path) -> None:
    err_console.print(f"wrote {len(paths)} files to {out}", highlight=False, markup=False, soft_wrap=True)


@click.command("stress", short_help="Re-score every stored fold at shifted positive priors, no refit.")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--shifts", default="0.5,0.67,1,1.5,2", show_default=True, help=SHIFTS_HELP)
@click.option("--target-precision", type=float, default=0.9, show_default=True,
              help="Precision the threshold must meet on the training fold's out-of-fold predictions.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: RESULTS_DIR/report/stress].")
@click.option("--no-figures", is_flag=True, help="Write the tables only.")
@_scope_options
@with_analysis_progress(err_console)
def stress_command(results_dir: Path, shifts: str, target_precision: float, out: Path | None,
                   no_figures: bool, dataset: str | None, model: str | None, wide: bool,
                   plugin_dirs: tuple[Path, ...]) -> None:
    """Re-score every stored fold at shifted positive priors (label shift, importance reweighting), with
    and without prior correction; rank strategies by how well their precision survives."""
    from imbench.analysis.stress import (CORRECTIONS, THRESHOLD_SOURCES, prior_estimates, robustness_leaderboard, run_stress,
                                 stress_table)

    _out_dir(results_dir, out, "stress", dataset, model, create=False)
    result = run_stress(_source(results_dir, dataset, model, plugin_dirs), shifts, target_precision)
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
    print_fitted(console, shown, f"Prior-shift robustness, shifts {', '.join(f'{s:g}' for s in result.shifts)} — "
                 f"target precision {result.target_precision:g}, no prior correction{_scope_title(dataset, model)}",
                 ["kept: datasets keeping precision ≥ target at every shift / datasets with a threshold; P: precision "
                  "at the threshold chosen at the training prior (per dataset, then mean); alerts×: alert volume "
                  "relative to no shift"], ("AP worst", "AP@1", "P spread", "unreach", f"alerts×@{low:g}"), wide)
    estimates = prior_estimates(result)
    error = estimates.groupby(["model", "strategy"])["relative_error"].median()
    pivot = board.pivot(index=["model", "strategy"], columns="correction", values=["kept", "precision_worst"])
    compare = pd.DataFrame(index=pivot.index)
    for correction in CORRECTIONS:
        compare[f"kept {correction}"] = [_ratio(k, n) for k, n in zip(
            pivot[("kept", correction)], board[board["correction"] == correction].set_index(
                ["model", "strategy"]).loc[pivot.index, "with_threshold"])]
    for correction in CORRECTIONS:
        compare[f"P worst {correction}"] = pivot[("precision_worst", correction)].astype(float)
    compare["EM prior error"] = error.reindex(pivot.index)
    print_fitted(console, compare.reset_index(), "With prior correction: known shifted prior vs EM estimate",
                 ["EM prior error: median |π̂ − π'| / π' over datasets and shifts"],
                 ("P worst none", "kept none", "EM prior error"), wide)
    _print_notes(result.notes)
    out_dir = _out_dir(results_dir, out, "stress", dataset, model)
    from imbench.analysis.shift_outputs import write_table

    notes = [f"correction `{k}`: {v}" for k, v in CORRECTIONS.items()] + \
            [f"threshold `{k}`: {v}" for k, v in THRESHOLD_SOURCES.items()] + result.notes
    paths = write_table(board, out_dir, "robustness", "Prior-shift robustness leaderboard", notes)
    paths += write_table(stress_table(result), out_dir, "stress_by_shift",
                         "Metrics under prior shift (mean over datasets, 95 % bootstrap interval)", notes)
    paths += write_table(estimates, out_dir, "prior_estimates", "EM prior estimates vs the true shifted prior", notes)
    # every fold × shift × correction: Parquet, as a large store makes millions of rows
    result.folds.to_parquet(out_dir / "stress_folds.parquet", index=False)
    paths.append(out_dir / "stress_folds.parquet")
    from imbench.analysis.stress_figures import all_figures

    _finish(paths, out_dir, None if no_figures else all_figures(result))


@click.command("calibration", short_help="Calibration per strategy as trained and after prior correction.")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: RESULTS_DIR/report/calibration].")
@click.option("--no-figures", is_flag=True, help="Write the tables only.")
@_scope_options
@with_analysis_progress(err_console)
def calibration_command(results_dir: Path, out: Path | None, no_figures: bool, dataset: str | None,
                        model: str | None, wide: bool, plugin_dirs: tuple[Path, ...]) -> None:
    """Calibration per strategy as trained and after the prior correction that undoes resampling or
    class weighting: ECE, Brier, log loss, calibration intercept and slope; reliability diagrams."""
    from imbench.analysis.calibration import VARIANTS, calibration_side_by_side, calibration_table, run_calibration

    _out_dir(results_dir, out, "calibration", dataset, model, create=False)
    result = run_calibration(_source(results_dir, dataset, model, plugin_dirs))
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
    print_fitted(console, shown, "Calibration as trained → after prior correction (mean over datasets; median for "
                 f"intercept and slope){_scope_title(dataset, model)}",
                 [f"ECE: equal-mass bins ({result.n_bins}); trained at π: mean positive prior the model learned at; the "
                  "correction maps it back to the training fold's prevalence (it shifts the intercept, never the slope)"],
                 ("slope", "intercept", "log loss", "trained at π"), wide)
    _print_notes(result.notes)
    out_dir = _out_dir(results_dir, out, "calibration", dataset, model)
    from imbench.analysis.shift_outputs import write_table

    notes = [f"`{k}`: {v}" for k, v in VARIANTS.items()] + result.notes
    paths = write_table(calibration_table(result), out_dir, "calibration", "Calibration per strategy", notes)
    paths += write_table(side, out_dir, "calibration_side_by_side", "Calibration as trained vs prior-corrected", notes)
    from imbench.analysis.calibration_figures import all_figures

    _finish(paths, out_dir, None if no_figures else all_figures(result))


@click.command("budget", short_help="Thresholds for an alert budget under a precision floor, per fold.")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--alerts-per-day", type=float, default=100, show_default=True, help="Alerts the team can review a day.")
@click.option("--population-per-day", type=float, default=20_000, show_default=True,
              help="Cases scored a day (the budgeted alert rate is alerts / population).")
@click.option("--min-precision", type=float, default=0.85, show_default=True, help="Precision floor.")
@click.option("--shifts", default="0.5,0.67,1,1.5,2", show_default=True, help=SHIFTS_HELP)
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: RESULTS_DIR/report/budget].")
@click.option("--no-figures", is_flag=True, help="Write the table only.")
@COSTS_OPTION
@_scope_options
@with_analysis_progress(err_console)
def budget_command(results_dir: Path, alerts_per_day: float, population_per_day: float, min_precision: float,
                   shifts: str, out: Path | None, no_figures: bool, costs: str | None, dataset: str | None,
                   model: str | None, wide: bool, plugin_dirs: tuple[Path, ...]) -> None:
    """Pick each fold's threshold on training out-of-fold predictions to meet an alert budget under a
    precision floor; report the alerts, precision and recall it delivers, unshifted and under shift."""
    from imbench.analysis.budget import budget_table, plot_budget, run_budget
    from imbench.analysis.folds import MISSING_TRAIN_PREDICTIONS
    from imbench.analysis.prior_shift import ShiftInputError
    from imbench.foundation.posthoc import BUDGET_OUTCOMES

    _out_dir(results_dir, out, "budget", dataset, model, create=False)
    chosen_costs = parse_costs(costs)
    result = run_budget(_source(results_dir, dataset, model, plugin_dirs), alerts_per_day, population_per_day,
                        min_precision, shifts, chosen_costs)
    if not result.available:
        raise ShiftInputError(f"{results_dir}: {MISSING_TRAIN_PREDICTIONS}")
    table = budget_table(result)
    low, high = min(result.shifts), max(result.shifts)
    at = {s: table[table["shift"] == s].set_index(["model", "strategy"]) for s in (low, 1.0, high)}
    base = at[1.0]
    def per_day(values: pd.Series) -> pd.Series:
        return values.round().astype("Int64")

    shown = pd.DataFrame({
        "alerts": per_day(base["alerts_per_day"]), "P": base["precision"], "R": base["recall"],
        "kept": [_ratio(k, n) for k, n in zip(base["keeps_floor"], base["datasets"])],
        "in bgt": _shares(base["share_within_budget"]), "≥floor": _shares(base["share_floor"]),
        "both": _shares(base["share_budget_and_floor"]),
        **({"cost": base["expected_cost"]} if "expected_cost" in base else {}),
        f"alerts/day @{low:g}": per_day(at[low]["alerts_per_day"]), f"P @{low:g}": at[low]["precision"],
        f"alerts/day @{high:g}": per_day(at[high]["alerts_per_day"]), f"P @{high:g}": at[high]["precision"],
        "folds on budget/floor/best/over": [f"{a}/{b}/{c}/{d}" for a, b, c, d in zip(
            base["folds_on_budget"], base["folds_floor"], base["folds_best_precision"], base["folds_over_budget"])],
    }).reset_index()
    if model is not None:
        shown = shown.drop(columns=["model"])
    b = result.budget
    cost_note = (f"; cost: mean expected cost per case at the budget threshold ({costs})" if chosen_costs else "")
    print_fitted(console, shown, f"Alert budget: {b.alerts_per_day:g} alerts/day of {b.population_per_day:g} "
                 f"({b.alert_rate:.2%}), precision floor {b.min_precision:g}{_scope_title(dataset, model)}",
                 ["alerts (a day), P (precision), R (recall): mean over datasets of the realized test-fold values; "
                  "judged fold by fold — kept: datasets where every fold's precision ≥ floor / datasets (a fold with "
                  "no alert does not keep it); in bgt, ≥floor, both: share of folds whose realized alerts stay within "
                  f"the budget, whose precision keeps the floor, and both{cost_note}; @s: under prior shift s. "
                  + "; ".join(f"{k}: {v}" for k, v in BUDGET_OUTCOMES.items() if k != "unavailable")],
                 ("folds on budget/floor/best/over", f"P @{high:g}", f"alerts/day @{high:g}", f"P @{low:g}",
                  f"alerts/day @{low:g}", "R", "both"), wide)
    _print_notes(result.notes)
    out_dir = _out_dir(results_dir, out, "budget", dataset, model)
    from imbench.analysis.shift_outputs import write_table

    notes = [f"status `{k}`: {v}" for k, v in BUDGET_OUTCOMES.items()] + result.notes
    paths = write_table(table, out_dir, "budget", "Alert budget per strategy and prior shift", notes)
    result.folds.to_parquet(out_dir / "budget_folds.parquet", index=False)
    paths.append(out_dir / "budget_folds.parquet")
    _finish(paths, out_dir, None if no_figures else {"budget": plot_budget(result)})


COMMANDS = [stress_command, calibration_command, budget_command]
