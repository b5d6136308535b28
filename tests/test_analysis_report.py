"""The HTML report: self-contained, escaped, complete, reproducible — and it renders in a real browser."""
from __future__ import annotations

import re
import shutil
import subprocess
import types
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import pandas as pd
import pytest

import imbench.analysis.report as report
from imbench.analysis.figures.context import FigureContext
from imbench.analysis.loading import RunResults
from imbench.benchmarks.spec.grid import parse_grid
from perf.fake_store import write_fake_store
from tests.helpers import TINY_GRID, run_cli

HOSTILE_LABEL = '<script>alert("x")</script>'
HOSTILE_DATASET = 'fake:<b>&"q"'


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    strategies = [("none", "none"), ("class-weight", "class-weight"), ("smote", "smote"),
                  ("retired-sampler", HOSTILE_LABEL)]
    names = [HOSTILE_DATASET] + [f"fake:ds{i}" for i in range(7)]
    return write_fake_store(tmp_path_factory.mktemp("report") / "fake", n_models=2, n_folds=3, n_test=30,
                            failure_rate=0.05, strategies=strategies, dataset_names=names)


@pytest.fixture(scope="module")
def page(store: Path) -> Path:
    ctx = FigureContext(RunResults.load(store))
    return report.write_report(ctx, store / "report", extras=False)


def test_report_is_complete_and_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    for section in ("run", "datasets", "leaderboards", "figures", "failures", "reproduce"):
        assert f'<section id="{section}">' in html
    pngs = sorted((page.parent / "figures").glob("*.png"))
    assert len(pngs) >= 10
    assert html.count('<img src="data:image/png;base64,') == len(pngs)
    assert not re.search(r'(src|href)="https?://', html)  # nothing fetched from the network
    assert "Friedman test" in html and "failure policy" in html and "Holm" in html
    for name in ("leaderboard_ap.csv", "leaderboard_ece.csv", "failures.csv", "grid.toml"):
        assert (page.parent / name).is_file()
    failures = pd.read_csv(page.parent / "failures.csv")
    assert len(failures) > 0 and set(failures["status"]) <= {"error", "timeout", "skipped", "crashed"}


def test_every_name_is_escaped(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert HOSTILE_LABEL not in html and "<b>&" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "fake:&lt;b&gt;&amp;&quot;q&quot;" in html
    assert html.count("<script>") == 1  # only the page's own image check


def test_grid_toml_reproduces_the_spec() -> None:
    grid = TINY_GRID.replace('"smote"]', '{name = "smote", k_neighbors = [3, 5]}]').replace(
        "n_repeats = 2", "n_repeats = 2\ninner_folds = 3").replace(
        "[cv]", 'posthoc = ["none", "threshold:f1"]\n\n[cv]')
    spec = parse_grid(grid).to_dict()
    assert len(spec["strategies"]) == 5 and spec["cv"]["inner_folds"] == 3
    assert spec["posthoc"] == ["none", "threshold:f1"]
    assert parse_grid(report.grid_toml(spec)).to_dict() == spec


def test_extra_sections_are_included_or_reported(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Extra sections name their functions (no lookup by string): a section shows its module's first
    docstring line, tables and figures; a section whose analysis fails on this run, or one of whose
    figures fails, shows the one-line error instead."""
    extra = types.ModuleType("fake_extra_analysis")
    extra.__doc__ = "A pretend analysis module."

    def figure(result: object) -> plt.Figure:
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        return fig

    def failing_figure(result: object) -> plt.Figure:
        raise KeyError("no such column")

    def broken(results_dir: Path) -> object:
        raise ValueError("needs inner folds")

    monkeypatch.setattr(report, "EXTRA_SECTIONS", (
        report.ExtraSection("Pretend", "pretend", extra, lambda results_dir: {"from": str(results_dir)},
                            (("A table", lambda result: pd.DataFrame({"model": ["logreg"], "value": [0.5]})),),
                            (("A figure", "figure", figure), ("Failing", "failing", failing_figure))),
        report.ExtraSection("Broken", "broken", extra, broken, (), ()),
    ))
    ctx = FigureContext(RunResults.load(store))
    html = report.write_report(ctx, tmp_path, n_jobs=1).read_text(encoding="utf-8")
    assert '<section id="pretend">' in html and "A pretend analysis module." in html and "<h3>A table</h3>" in html
    assert (tmp_path / "figures" / "pretend_figure.png").is_file() and 'alt="pretend_figure"' in html
    assert "failing_figure: not available (KeyError" in html
    assert '<section id="broken">' in html and "ValueError: needs inner folds" in html


def test_report_command(store: Path, tmp_path: Path) -> None:
    out = run_cli("report", str(store), "--out", str(tmp_path), "--no-extras", "--model", "logreg", "-j", "1")
    assert out.returncode == 0, out.stderr
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    boards = html.split('<section id="leaderboards">')[1].split("</section>")[0]
    assert "model logreg" in html and "<td>logreg</td>" in boards and "lightgbm" not in boards


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def test_report_renders_in_headless_chromium(page: Path, tmp_path: Path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip("no headless Chromium on this machine: `make test` installs Debian's chromium when run as root "
                    "with apt; without it the browser check cannot run")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             "--enable-logging=stderr", "--v=0", "--window-size=1400,2400"]
    url = page.resolve().as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    n_images = len(list((page.parent / "figures").glob("*.png")))
    assert f'data-images="ok:{n_images}"' in dom.stdout  # every figure decoded (set by the page's load handler)
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console  # no JavaScript errors or console messages
    shot = tmp_path / "report.png"
    done = subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1400)
    assert pixels.std() > 0.1  # not a blank page: header, text and tables rendered
    header = pixels[:60].reshape(-1, 3).mean(axis=0)
    assert header[2] > header[0]  # the dark blue header band is there
