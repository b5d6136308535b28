"""`imbench compare` (a store against itself, a planted difference, two seeds of one grid),
`imbench check-plugins` (the README's example passes, a plugin that peeks at test rows fails), and the
Python API: its documented example runs and `import imbench` stays cheap."""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imbench import api
from tests.helpers import ROOT, run_cli

GRID = """\
name = "cmp"
seed = {seed}
datasets = ["keel:glass1", "keel:ecoli-0_vs_1", "keel:new-thyroid1", "keel:glass6", "keel:ecoli1", "keel:yeast3"]
models = ["logreg"]
strategies = ["none", "class-weight"]
[cv]
n_splits = 3
n_repeats = 1
"""


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same grid at seeds 0 and 1, and a copy of seed 0 with class-weight's AP raised by 0.05."""
    root = tmp_path_factory.mktemp("compare")
    out = {}
    for seed in (0, 1):
        (root / f"g{seed}.toml").write_text(GRID.format(seed=seed))
        out[f"seed{seed}"] = api.run(root / f"g{seed}.toml", results=root / f"s{seed}", jobs=2).results_dir
    planted = root / "planted"
    shutil.copytree(out["seed0"], planted)
    with sqlite3.connect(planted / "imbench.sqlite") as conn:
        for key, metrics in conn.execute("SELECT key, metrics FROM cells WHERE label = 'class-weight'").fetchall():
            values = json.loads(metrics)
            values["ap"] += 0.05
            conn.execute("UPDATE cells SET metrics = ? WHERE key = ?", (json.dumps(values), key))
    out["planted"] = planted
    return out


def test_a_store_against_itself_gives_zero_differences(stores: dict[str, Path]) -> None:
    result = api.compare(stores["seed0"], stores["seed0"])
    assert len(result.table) == 2 and result.unmatched.empty
    assert (result.table["delta_mean"] == 0).all() and (result.table["ci_low"] == 0).all()
    assert (result.table["ci_high"] == 0).all() and (result.table["p_equivalent"] == 1).all()
    assert (result.table["wilcoxon_note"] == "every paired difference is zero").all()


def test_a_planted_difference_is_found(stores: dict[str, Path]) -> None:
    result = api.compare(stores["seed0"], stores["planted"]).table.set_index("strategy")
    assert result.loc["class-weight", "delta_mean"] == pytest.approx(0.05)
    assert result.loc["class-weight", "ci_low"] == pytest.approx(0.05) and result.loc["class-weight", "wins"] == 6
    assert result.loc["class-weight", "p_better"] > 0.99
    assert result.loc["none", "delta_mean"] == 0


def test_two_seeds_of_one_grid_differ_within_their_intervals(stores: dict[str, Path]) -> None:
    result = api.compare(stores["seed0"], stores["seed1"])
    table = result.table
    assert len(table) == 2 and (table["datasets"] == 6).all()
    assert (table["delta_mean"] != 0).all()  # other folds, other numbers
    assert ((table["ci_low"] <= 0) & (0 <= table["ci_high"])).all()
    assert not table["significant"].any()
    assert any("run seeds differ (0 vs 1)" in line for line in result.notes)


@pytest.mark.slow
def test_compare_cli_says_what_did_not_match_and_refuses_other_cv(stores: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(GRID.format(seed=0).replace('"keel:yeast3"', '"keel:yeast4"').replace(
        'strategies = ["none", "class-weight"]', 'strategies = ["none", "random-under"]'))
    api.run(other, results=tmp_path / "o", jobs=2)
    out = run_cli("compare", str(stores["seed0"]), str(tmp_path / "o"), columns=80)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "1 label in A only (not compared): logreg/class-weight" in text
    assert "1 label in B only (not compared): logreg/random-under" in text
    assert "1 dataset in A only (not compared): keel:yeast3" in text
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    (tmp_path / "cv.toml").write_text(GRID.format(seed=0).replace("n_splits = 3", "n_splits = 2").replace(
        'datasets = ["keel:glass1", "keel:ecoli-0_vs_1", "keel:new-thyroid1", "keel:glass6", "keel:ecoli1", '
        '"keel:yeast3"]', 'datasets = ["keel:glass1"]'))
    api.run(tmp_path / "cv.toml", results=tmp_path / "cv", jobs=1)
    refused = run_cli("compare", str(stores["seed0"]), str(tmp_path / "cv"))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "different cross-validation" in refused.stderr


def readme_example() -> str:
    section = (ROOT / "README.md").read_text().split("\n## Add a strategy\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


PEEKING_STEP = '''
import numpy as np

from imbench.strategies.posthoc import PostHoc, PosthocOutput, register_posthoc


@register_posthoc
class TopDecile(PostHoc):
    name = "top-decile"
    description = "flags the top 10 % of the test fold (chosen on the test rows: a leak)"
    syntax = "top-decile"
    needs_inner = False
    examples = ("top-decile",)

    def evaluate(self, params, data):
        return PosthocOutput(data.test_scores, float(np.quantile(data.test_scores, 0.9)))
'''


def test_check_plugins_passes_the_readme_example(tmp_path: Path) -> None:
    (tmp_path / "under_then_weight.py").write_text(readme_example())
    out = run_cli("check-plugins", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.strip().splitlines()
    from imbench.benchmarks.contract import STRATEGY_CHECKS

    assert sum(line.startswith("ok   strategy under-then-weight: ") for line in lines) == len(STRATEGY_CHECKS) == 7
    assert lines[-1] == "all 7 checks passed: 1 strategy"


def test_check_plugins_fails_a_plugin_that_peeks_at_test_rows(tmp_path: Path) -> None:
    (tmp_path / "peek.py").write_text(PEEKING_STEP)
    (tmp_path / "broken.py").write_text("import not_a_module_at_all\n")
    out = run_cli("check-plugins", str(tmp_path))
    assert out.returncode == 2
    assert "FAIL posthoc top-decile: evaluates stored predictions, no test peeking" in out.stdout
    assert "it peeks at the test fold" in out.stdout and "FAIL plugin" in out.stdout
    error = [line for line in out.stderr.splitlines() if line.startswith("imbench: error:")]
    assert len(error) == 1 and "posthoc top-decile" in error[0] and "broken.py" in error[0]


def test_import_imbench_is_cheap_and_lazy() -> None:
    code = ("import sys, imbench; print(imbench.__version__); "
            "print(sorted(m for m in ('pandas', 'sklearn', 'analysis', 'benchmarks') if m in sys.modules)); "
            "imbench.leaderboard; print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    version, loaded, after = out.stdout.splitlines()
    assert version[0].isdigit() and loaded == "[]" and after == "True"


def test_the_python_api_example_runs(tmp_path: Path) -> None:
    """docs/python-api.md's first example, as written (run in a scratch folder)."""
    text = (ROOT / "docs" / "python-api.md").read_text()
    example = text.split("<!-- tested example -->\n```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {"__name__": "__main__"}  # as a script run with `python`
    code = compile(example, "docs/python-api.md", "exec")
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(code, namespace)  # noqa: S102 - the documented example is the test
    finally:
        os.chdir(cwd)
    board = namespace["board"]
    assert set(board.columns) >= {"model", "strategy", "role", "mean_rank", "ap", "p_better", "cost@deployed"}
    assert set(board.loc[board["role"] == "reference", "model"]) == {"random"}
    assert np.isfinite(namespace["diff"].table["delta_mean"]).all()
