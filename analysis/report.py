"""The offline HTML report of a run: one self-contained `report/index.html` (figures embedded as PNG
data URIs, styles inline, no network), written from the store only.

Sections: run spec and environment, datasets, leaderboards (headline metrics, with their
statistics), every figure, failures, extra analyses, and how to reproduce the run. Every name that
comes from the store is HTML-escaped. The extra analyses (prior-shift stress, calibration after
prior correction, alert budgets) come from their own modules (`EXTRA_SECTIONS`, imported here like
everything else); one that fails on this run shows its one-line error instead of its section.
"""
from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from imbench.analysis import budget, calibration, calibration_figures, stress, stress_figures
from imbench.analysis.figures import DPI, FIGURES, FORMATS, kind_of, start_render
from imbench.analysis.figures.context import FigureContext
from imbench.analysis.leaderboard import Leaderboard
from imbench.analysis.outputs import board_title, display_board, file_stem, write_leaderboards
from imbench.benchmarks.store.spec_union import grid_part
from imbench.foundation.metrics import metric_direction, short_name
from imbench.foundation.progress import stage
from imbench.analysis.board_notes import board_notes

#: Rows shown in the failures table of the page (the CSV next to it has all of them).
MAX_FAILURE_ROWS = 200


@dataclass(frozen=True)
class ExtraSection:
    """An analysis of another module: compute its result once, then show its tables and figures."""

    title: str
    anchor: str
    #: The module's docstring opens the section.
    module: Any
    compute: Callable[[Path], Any]
    tables: tuple[tuple[str, Callable[[Any], pd.DataFrame]], ...]
    #: (title, file stem, drawing function).
    figures: tuple[tuple[str, str, Callable[[Any], Any]], ...]


EXTRA_SECTIONS = (
    ExtraSection("Prior-shift stress test", "stress", stress, stress.as_stress_result,
                 (("Robustness leaderboard", stress.robustness_leaderboard),),
                 (("Precision vs prior shift", "plot_metric_vs_shift",
                   lambda result: stress_figures.metric_vs_shift(result, "precision")),
                  ("Datasets keeping the precision target", "plot_precision_survival",
                   stress_figures.precision_survival),
                  ("Estimated vs true prior", "plot_prior_estimates", stress_figures.estimated_vs_true_prior))),
    ExtraSection("Calibration after prior correction", "calibration", calibration, calibration.as_calibration_result,
                 (("As trained vs prior-corrected", calibration.calibration_side_by_side),),
                 (("Reliability, as trained and corrected", "plot_reliability", calibration_figures.reliability),
                  ("Effect of the correction", "plot_calibration_effect",
                   lambda result: calibration_figures.correction_effect(result, "ece")))),
    ExtraSection("Alert budget", "budget", budget, budget.as_budget_result,
                 (("Alerts, precision and recall at the budget", budget.budget_table),),
                 (("Alerts and precision vs prior shift", "plot_budget", budget.plot_budget),)),
)

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;background:#fff}
header{background:#20324a;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;color:#d6deea}nav{margin-top:8px}nav a{color:#fff;margin-right:14px;font-size:13px}
main{padding:10px 28px 40px;max-width:1500px}h2{border-bottom:2px solid #20324a;padding-bottom:4px;margin-top:34px}
h3{margin:22px 0 6px}table{border-collapse:collapse;margin:8px 0 6px;font-size:12.5px}
th,td{border:1px solid #d0d4da;padding:3px 7px;text-align:left;white-space:nowrap}
th{background:#eef1f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#f8f9fb}.scroll{overflow-x:auto;max-width:100%}
figure{margin:18px 0 26px}figure img{max-width:100%;height:auto;border:1px solid #e3e6ea}
figcaption{color:#444;font-size:13px;margin-top:4px}ul.notes{color:#333;font-size:13px;margin-top:2px}
pre{background:#f4f6f8;padding:10px;overflow-x:auto;font-size:12.5px}.muted{color:#666}
.warn{color:#8a4b00}
"""

#: Marks the page with whether every figure decoded (`data-images="ok:N"`), and logs broken ones as a
#: console error, so a headless browser can verify the report really rendered.
CHECK_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (img) { return !img.complete || img.naturalWidth === 0; });
  document.body.setAttribute("data-images", broken.length ? "broken:" + broken.length : "ok:" + images.length);
  broken.forEach(function (img) { console.error("imbench report: figure did not render: " + img.alt); });
});
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def frame_html(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as an HTML table: every header and cell escaped, numbers right-aligned and rounded
    for reading (pandas' to_html cannot mark numeric cells for alignment)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for value in values:
            if isinstance(value, (bool, np.bool_)) or value is None or value is pd.NA:
                cells.append(f"<td>{esc('–' if value is None or value is pd.NA else value)}</td>")
            elif isinstance(value, (int, np.integer)):
                cells.append(f'<td class="n">{value}</td>')
            elif isinstance(value, (float, np.floating)):
                cells.append(f'<td class="n">{"–" if math.isnan(value) else f"{value:.{digits}f}"}</td>')
            else:
                cells.append(f"<td>{esc(value)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def image_html(path: Path, alt: str, caption: str, svg: Path | None = None) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    link = f' <a href="figures/{esc(svg.name)}">SVG</a>' if svg is not None else ""
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption)}{link}</figcaption></figure>")


def write_report(ctx: FigureContext, out_dir: Path, extras: bool = True, n_jobs: int = 1) -> Path:
    """Write `out_dir/index.html` (+ figures, leaderboard CSV/Markdown, failures.csv, grid.toml).
    `n_jobs` draws the figures in parallel processes; `extras=False` leaves out other modules' sections."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures_dir = out_dir / "figures"
    # workers draw while the tables are made here (their boards: about 20 s in COST units on a 100k-cell store)
    drawn = start_render(ctx, None, figures_dir, n_jobs=n_jobs, busy=20.0)
    stage("leaderboards and tables")
    sections = [
        ("run", "Run", run_section(ctx)),
        ("datasets", "Datasets", datasets_section(ctx)),
        ("leaderboards", "Leaderboards", leaderboards_section(ctx, out_dir)),
        ("figures", "Figures", figures_html(drawn())),
        ("failures", "Failures", failures_section(ctx, out_dir)),
    ]
    if extras:
        for extra in EXTRA_SECTIONS:
            sections.append((extra.anchor, extra.title, extra_section(extra, ctx, figures_dir)))
    sections.append(("reproduce", "How to reproduce", reproduce_section(ctx, out_dir)))
    spec = ctx.run.meta.get("spec") or {}
    name = spec.get("name") or ctx.run.results_dir.name
    cells = ctx.results
    ok = int((cells["status"] == "ok").sum())
    scope = f" — model {ctx.model}" if ctx.model else ""
    partial = ctx.run.completeness
    partial_line = (f'<p class="warn">{esc(partial.describe())} stored; the boards rank only '
                    "datasets where every compared strategy has all its folds</p>"
                    if partial and partial.describe() else "")
    nav = "".join(f'<a href="#{anchor}">{esc(title)}</a>' for anchor, title, _ in sections)
    body = "".join(f'<section id="{anchor}"><h2>{esc(title)}</h2>{content}</section>'
                   for anchor, title, content in sections)
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>imbench report — {esc(name)}</title><style>{STYLE}</style></head>"
            f'<body data-images="pending"><header><h1>imbench report — {esc(name)}{esc(scope)}</h1>'
            f"<p>{len(cells):,} cells ({ok:,} ok) · {cells['dataset'].nunique()} datasets · "
            f"{cells['model'].nunique()} models · {cells['label'].nunique()} strategies · store "
            f"{esc(ctx.run.results_dir)}</p><p>generated {esc(_now())} from the stored results; nothing was "
            f"refitted (<code>imbench report</code> regenerates it)</p>{partial_line}"
            + (f"<p>{esc(ctx.run.anti_pattern_note())}</p>" if ctx.run.anti_patterns else "")
            + f"<nav>{nav}</nav></header>"
            f"<main>{body}</main><script>{CHECK_SCRIPT}</script></body></html>")
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def run_section(ctx: FigureContext) -> str:
    spec = ctx.run.meta.get("spec") or {}
    env = ctx.run.meta.get("environment") or {}
    rows = [("name", spec.get("name")), ("seed", spec.get("seed")), ("cv", json.dumps(spec.get("cv"))),
            ("metrics", json.dumps(spec.get("metrics"))), ("models", ", ".join(spec.get("models", []))),
            ("datasets", f"{len(spec.get('datasets', []))} in the spec")]
    strategies = pd.DataFrame([{"label": s.get("label"), "strategy": s.get("name"),
                                "family": ctx.families.get(s.get("label"), "unknown"),
                                "parameters": json.dumps(s.get("params", {}), sort_keys=True)}
                               for s in spec.get("strategies", [])])
    environment = [("python", env.get("python")), ("platform", env.get("platform")),
                   ("git commit", env.get("git_commit") or "unknown")]
    packages = pd.DataFrame(sorted((env.get("packages") or {}).items()), columns=["package", "version"])
    return ("<h3>Spec</h3>" + _pairs(rows) + ("<h3>Strategies</h3>" + frame_html(strategies) if len(strategies) else "")
            + "<h3>Environment</h3>" + _pairs(environment) + (frame_html(packages) if len(packages) else ""))


def _pairs(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc('' if v is None else v)}</td></tr>"
                   for k, v in rows)
    return f'<div class="scroll"><table>{body}</table></div>'


def datasets_section(ctx: FigureContext) -> str:
    meta = ctx.run.datasets
    columns = [c for c in ("n", "d", "n_pos", "ir", "missing_rate", "n_categorical", "source") if c in meta.columns]
    table = meta[columns].copy()
    status = ctx.results.groupby("dataset")["status"].value_counts().unstack(fill_value=0)
    table["ok cells"] = status.get("ok", 0)
    table["failed cells"] = status.drop(columns=["ok"], errors="ignore").sum(axis=1).astype(int)
    table = table.sort_values("ir").reset_index().rename(columns={"name": "dataset", "ir": "IR"})
    return (f"<p>{len(table)} datasets, ordered by imbalance ratio (IR = negatives per positive).</p>"
            + frame_html(table, digits=2))


def leaderboards_section(ctx: FigureContext, out_dir: Path) -> str:
    """Per headline metric, the boards as `imbench leaderboard` prints them (one per model, or pooled)."""
    metrics = list(dict.fromkeys([ctx.metric, *ctx.headline()]))
    stems = {m: file_stem(m, ctx.model, pooled=ctx.pool_models) for m in metrics}
    parts = []
    for metric in metrics:
        boards = ctx.boards(metric, full=True)
        write_leaderboards(boards, out_dir, stems[metric])
        parts += [board_html(board, metric) for board in boards]
    files = ", ".join(f'<a href="{esc(stems[m])}.csv">{esc(short_name(m))} CSV</a>' for m in metrics)
    scope = ("one board over every model × strategy" if ctx.pool_models else
             "one board per model: a strategy is ranked among its own model's strategies")
    return (f"<p>Folds are averaged within each dataset first; datasets are the independent units of every test; "
            f"{scope}; each board compares only the datasets where every compared strategy has all its folds. "
            f"Full tables (all columns): {files}.</p>" + "".join(parts))


def board_html(board: Leaderboard, metric: str) -> str:
    notes = "".join(f"<li>{esc(line)}</li>" for line in board_notes(board, None))
    return (f"<h3>{esc(board_title(board))} — {esc(metric_direction(metric))} is better</h3>"
            + frame_html(display_board(board, wide=True)) + f'<ul class="notes">{notes}</ul>')


def figures_html(written: dict[str, list[Path]]) -> str:
    """Every drawn figure, embedded, in the FIGURES order with its description."""
    parts = []
    for name, (_, description) in FIGURES.items():
        for stem, paths in written.items():
            if kind_of(stem) != name:
                continue
            png = next(p for p in paths if p.suffix == ".png")
            svg = next((p for p in paths if p.suffix == ".svg"), None)
            parts.append(image_html(png, stem, f"{description} ({stem})", svg))
    return "".join(parts)


def failures_section(ctx: FigureContext, out_dir: Path) -> str:
    cells = ctx.results
    failed = cells[cells["status"] != "ok"]
    columns = ["dataset", "model", "label", "repeat", "fold", "status", "message", "key"]
    failed[columns].rename(columns={"label": "strategy"}).to_csv(out_dir / "failures.csv", index=False)
    degenerate = int((cells["degenerate"].astype(bool) & (cells["status"] == "ok")).sum())
    constant = (f'<p class="warn">{degenerate:,} ok cells are degenerate (the fit predicted a single value); the '
                "leaderboards count them per label.</p>" if degenerate else "")
    if failed.empty:
        return "<p>No failures: every cell is ok.</p>" + constant
    summary = (failed.groupby(["model", "label"])["status"].value_counts().unstack(fill_value=0)
               .reset_index().rename(columns={"label": "strategy"}))
    detail = (failed.groupby(["dataset", "model", "label", "status"])
              .agg(cells=("key", "size"), message=("message", "first")).reset_index()
              .rename(columns={"label": "strategy"}).sort_values(["model", "strategy", "dataset"]))
    more = (f'<p class="muted">Showing {MAX_FAILURE_ROWS} of {len(detail)} rows; all failed cells are in '
            f'<a href="failures.csv">failures.csv</a>.</p>' if len(detail) > MAX_FAILURE_ROWS else
            '<p class="muted">Every failed cell: <a href="failures.csv">failures.csv</a>.</p>')
    detail["message"] = detail["message"].astype(str).str.slice(0, 160)
    return (f"<p>{len(failed):,} of {len(cells):,} cells did not succeed. Error, timeout and crashed cells are "
            f"retried by the next run; skipped cells (the strategy cannot apply) are final. In the leaderboards "
            f"{esc(ctx.failed)} applies.</p>" + constant + "<h3>Per model and strategy</h3>" + frame_html(summary)
            + "<h3>Per dataset (first message)</h3>" + frame_html(detail.head(MAX_FAILURE_ROWS)) + more)


def extra_section(extra: ExtraSection, ctx: FigureContext, figures_dir: Path) -> str:
    """The section of one extra analysis; what fails on this run shows its one-line error instead."""
    try:
        result = extra.compute(ctx.run.results_dir)
    except Exception as exc:
        return _unavailable(extra, exc)
    parts = [f'<p class="muted">{esc((extra.module.__doc__ or "").strip().splitlines()[0])}</p>']
    for note in getattr(result, "notes", None) or []:
        parts.append(f'<p class="warn">{esc(note)}</p>')
    for title, function in extra.tables:
        parts.append(_extra_item(function, result, lambda table, t=title: f"<h3>{esc(t)}</h3>"
                                 + frame_html(_scoped(table, ctx))))
    for title, stem, function in extra.figures:
        parts.append(_extra_item(function, result,
                                 lambda fig, t=title, f=stem: _extra_figure(fig, figures_dir, f"{extra.anchor}_{f}", t)))
    return "".join(parts)


def _scoped(table: pd.DataFrame, ctx: FigureContext) -> pd.DataFrame:
    return table[table["model"] == ctx.model] if ctx.model and "model" in table.columns else table


def _extra_item(function: Callable[[Any], Any], result: Any, show: Callable[[Any], str]) -> str:
    try:
        return show(function(result))
    except Exception as exc:
        name = getattr(function, "__name__", "figure")
        return f'<p class="warn">{esc(name)}: not available ({esc(type(exc).__name__)}: {esc(_first_line(exc))})</p>'


def _extra_figure(fig: Any, figures_dir: Path, stem: str, title: str) -> str:
    """Another module's figure, saved like ours (its layout is its own, so keep everything in view)."""
    figures_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FORMATS:
        path = figures_dir / f"{stem}.{fmt}"
        fig.savefig(path, dpi=DPI if fmt == "png" else None, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return image_html(paths[0], stem, title, paths[1])


def _unavailable(extra: ExtraSection, exc: BaseException) -> str:
    return (f'<p class="warn">Not available for this run: {esc(type(exc).__name__)}: {esc(_first_line(exc))}</p>')


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def reproduce_section(ctx: FigureContext, out_dir: Path) -> str:
    spec = ctx.run.meta.get("spec") or {}
    env = ctx.run.meta.get("environment") or {}
    name = spec.get("name") or ctx.run.results_dir.name
    commit = env.get("git_commit")
    grid_path = out_dir / "grid.toml"
    grid_path.write_text(grid_toml(spec), encoding="utf-8")
    steps = []
    if commit:
        clean = str(commit).removesuffix("-dirty")
        steps.append(f"git checkout {clean}" + ("   # the run had uncommitted changes on top of it"
                                                 if str(commit).endswith("-dirty") else ""))
    steps += ["make test        # creates .venv with imbench and its dependencies",
              f".venv/bin/imbench run {grid_path.name} -j 2 --results results/{name}",
              f".venv/bin/imbench report results/{name}"]
    packages = env.get("packages") or {}
    pins = " ".join(f"{k}=={v}" for k, v in sorted(packages.items()) if v and k != "imbench")
    specs = ctx.run.meta.get("specs") or [spec]
    runs = "".join(f"<li>run {i}: {esc(s.get('name', ''))}{esc(' ' + grid_part(s)) if grid_part(s) else ' (whole grid)'}"
                   "</li>" for i, s in enumerate(specs, start=1))
    return ("<p>The run is declarative: the same grid, seed and package versions give the same folds, seeds "
            f"and cells. The store holds the cells of {len(specs)} run{'s' if len(specs) != 1 else ''}; the grid "
            "below is the union of their specs, written from the store "
            f'(<a href="grid.toml">grid.toml</a>); the stored specs themselves are authoritative.</p>'
            f"<ul>{runs}</ul>"
            f"<pre>{esc(chr(10).join(steps))}</pre>"
            + (f"<p>Package versions of the run:</p><pre>pip install {esc(pins)}</pre>" if pins else "")
            + f"<h3>grid.toml</h3><pre>{esc(grid_toml(spec))}</pre>"
            + f"<h3>Stored spec (JSON)</h3><pre>{esc(json.dumps(spec, indent=1, sort_keys=True))}</pre>")


def _toml_value(value: Any) -> str:
    """A TOML literal for JSON-like values (the standard library reads TOML but does not write it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        if isinstance(value, float) and math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        return '""'
    return json.dumps(str(value))


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def grid_toml(spec: dict[str, Any]) -> str:
    """A grid file that reproduces the stored spec (`parse_grid(grid_toml(s)).to_dict() == s`)."""
    lines = ["# Written by `imbench report` from the run's stored spec."]
    cv = dict(spec.get("cv") or {})
    for key in ("name", "seed", "datasets", "models"):
        if key in spec:
            lines.append(f"{key} = {_toml_value(spec[key])}")
    strategies = []
    for entry in spec.get("strategies", []):
        extra = {k: v for k, v in entry.items() if k not in ("name", "params", "label")}
        params = {**(entry.get("params") or {}), **extra}
        strategies.append(entry["name"] if not params else {"name": entry["name"], **params})
    lines.append("strategies = [\n" + "".join(f"    {_toml_value(s)},\n" for s in strategies) + "]")
    for key, value in spec.items():
        if key not in ("name", "seed", "datasets", "models", "strategies", "cv", "metrics") and not isinstance(value, dict):
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    if cv.get("splits") == "task":
        lines.append('cv = "task"')
    tables = {"cv": {k: v for k, v in cv.items() if k != "splits" and not (k == "inner_folds" and v == 0)}
              if cv.get("splits") != "task" else {}}
    tables.update({k: v for k, v in spec.items() if isinstance(v, dict) and k != "cv"})
    for table, values in tables.items():
        if values:
            lines.append(f"\n[{_toml_key(table)}]")
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"
