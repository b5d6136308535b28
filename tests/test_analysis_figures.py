"""Figures: every kind is written as PNG and SVG from a store, is not blank, keeps one colour per
strategy, and `imbench plot --only` draws only what was asked."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from imbench.analysis.figures import FIGURES, balanced_groups, kind_of, render, start_render
from imbench.analysis.costs import Costs
from imbench.analysis.figures.context import FigureContext, default_dataset
from imbench.analysis.figures.cost import pareto_front
from imbench.analysis.figures.palette import BASELINE_COLOR, strategy_colors
from imbench.analysis.loading import RunResults
from perf.fake_store import write_fake_store
from tests.helpers import run_cli


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_store(tmp_path_factory.mktemp("figures") / "fake", n_datasets=10, n_strategies=6, n_models=2,
                            n_folds=3, n_test=30, failure_rate=0.05)


def test_every_figure_kind_as_png_and_svg(store: Path, tmp_path: Path) -> None:
    ctx = FigureContext(RunResults.load(store))
    written = render(ctx, None, tmp_path)
    assert {kind_of(stem) for stem in written} == set(FIGURES) - {"costs"}  # cost curves need --costs
    with_costs = FigureContext(RunResults.load(store), costs=Costs(1, 20))
    written.update(render(with_costs, ["costs"], tmp_path))
    assert {kind_of(stem) for stem in written} == set(FIGURES)
    assert {"cd_ap", "cd_ece", "cd_recall_at_precision0.8"} <= set(written)  # one CD diagram per headline metric
    for stem, paths in written.items():
        assert [p.suffix for p in paths] == [".png", ".svg"]
        image = mpimg.imread(paths[0])
        assert image.shape[0] > 200 and image.shape[1] > 400, stem
        assert image[..., :3].std() > 0.05, f"{stem} looks blank"
        root = ET.parse(paths[1]).getroot()
        assert root.tag.endswith("svg") and len(list(root.iter())) > 50, stem


def test_parallel_drawing_writes_the_same_files(store: Path, tmp_path: Path) -> None:
    ctx = FigureContext(RunResults.load(store))
    one = render(ctx, ["cost", "disagreement", "pr"], tmp_path / "one")
    # a caller busy with other work leaves every figure to the worker process
    two = start_render(ctx, ["cost", "disagreement", "pr"], tmp_path / "two", n_jobs=2, busy=100.0)()
    assert list(one) == list(two) == ["pr_curves", "cost_benefit", "disagreement"]
    for stem in one:  # drawn in a worker process or here: the same image, pixel for pixel
        assert one[stem][0].read_bytes() == two[stem][0].read_bytes(), stem


def test_two_jobs_draw_in_a_second_process_before_collecting(store: Path, tmp_path: Path) -> None:
    # -j 2 is the caller plus one worker: the worker's group must be drawn while the caller does other
    # work (joblib.Parallel(n_jobs=1) would run it lazily in the caller, at collection time)
    import time

    ctx = FigureContext(RunResults.load(store))
    collect = start_render(ctx, ["cost", "pr"], tmp_path, n_jobs=2, busy=100.0)  # the caller's group is empty
    deadline = time.monotonic() + 60
    wanted = [tmp_path / "pr_curves.svg", tmp_path / "cost_benefit.svg"]
    while not all(p.exists() for p in wanted) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(p.exists() for p in wanted)
    assert list(collect()) == ["pr_curves", "cost_benefit"]


def test_plot_command_only(store: Path, tmp_path: Path) -> None:
    out = run_cli("plot", str(store), "--only", "cd,heatmap", "--out", str(tmp_path), "-j", "1")
    assert out.returncode == 0, out.stderr
    names = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert names == sorted(f"{stem}.{fmt}" for stem in ("cd_ap", "cd_ece", "cd_recall_at_precision0.8", "heatmap_ap")
                           for fmt in ("png", "svg"))
    bad = run_cli("plot", str(store), "--only", "cd,heatmp")
    assert bad.returncode == 2 and "unknown figure 'heatmp': did you mean 'heatmap'" in bad.stderr
    bad = run_cli("plot", str(store), "--dataset", "fake:ds999")
    assert bad.returncode == 2 and "unknown dataset in this store" in bad.stderr


def test_colours_are_fixed_per_strategy() -> None:
    colours = strategy_colors(["smote", "none", "class-weight"])
    assert colours["none"] == BASELINE_COLOR
    assert colours == strategy_colors(["class-weight", "smote", "none"])  # order of appearance does not matter
    many = strategy_colors([f"s{i:02d}" for i in range(30)] + ["none"])
    assert len(set(many.values())) == 31  # still distinct beyond 20 strategies


def test_pareto_front() -> None:
    cost = np.array([1.0, 2.0, 3.0, 1.5, 4.0])
    rank = np.array([5.0, 3.0, 3.5, 6.0, 1.0])
    # (1, 5) cheapest; (2, 3) better and dearer; (4, 1) best; (3, 3.5) and (1.5, 6) are dominated
    assert pareto_front(cost, rank).tolist() == [True, True, False, False, True]


def test_balanced_groups_and_default_dataset(store: Path) -> None:
    groups = balanced_groups(list(FIGURES), 2)
    assert sorted(sum(groups, [])) == sorted(FIGURES) and len(groups) == 2
    assert balanced_groups(["cd"], 4) == [["cd"]]
    run = RunResults.load(store)
    chosen = default_dataset(run)
    ir = run.datasets["ir"]
    assert abs(ir[chosen] - ir.median()) == (ir - ir.median()).abs().min()


def test_the_bayes_figure_of_one_dataset_says_the_test_needs_two(tmp_path: Path) -> None:
    from imbench.analysis.figures import bayes

    store = write_fake_store(tmp_path / "one", n_datasets=1, n_strategies=3, n_models=1, n_folds=3, failure_rate=0.0)
    [(stem, fig)] = bayes.draw(FigureContext(RunResults.load(store)))
    text = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert stem == "bayes_ap" and "1 dataset ranked" in text and "at least 2" in text
    assert "shares datasets" not in text
