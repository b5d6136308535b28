"""The plugin API as a user meets it: the README's "Add a strategy" example, run from a plugin directory
and through the contract checks; and a throwaway external package, installed as a wheel, whose entry
points (one per group, one of them a function) add a strategy, a model and a dataset source used in
one grid — plus a broken one that only disables itself."""
from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np

from imbench.benchmarks.store.reader import store_reader
from imbench.foundation.plugins import load_plugin_file
from tests.helpers import ROOT, run_cli
from tests.helpers import fitted_depends_on_test_rows, check_probabilities, first_fit


def readme_example() -> str:
    """The first python block of the README's "Add a strategy" section."""
    section = (ROOT / "README.md").read_text().split("\n## Add a strategy\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


README_GRID = """\
name = "readme-example"
datasets = ["keel:glass1", "keel:yeast-2_vs_4"]
models = ["logreg", "lightgbm"]
strategies = ["none", {name = "under-then-weight", ratio = [0.25, 0.5]}]
[cv]
n_splits = 3
n_repeats = 1
"""


def test_readme_example_runs_from_a_plugin_directory(tmp_path: Path) -> None:
    code = readme_example()
    assert len(code.strip().splitlines()) <= 30
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "under_then_weight.py").write_text(code)
    grid = tmp_path / "grid.toml"
    grid.write_text(README_GRID)
    out = run_cli("run", str(grid), "-j", "2", "--results", str(tmp_path / "r"), "--no-progress",
                  "--plugins", str(plugins))
    assert out.returncode == 0, out.stderr
    cells = store_reader(tmp_path / "r").cells()
    mine = cells[cells["strategy"] == "under-then-weight"]
    # a model it does not support is never enumerated, and the run says so
    assert len(mine) == 2 * 1 * 2 * 3 and set(mine["model"]) == {"logreg"}
    assert ("not enumerated: 12 cells of lightgbm × under-then-weight (2 parameter points): strategy "
            "'under-then-weight' supports only") in " ".join(out.stderr.split())
    ok = mine[(mine["model"] == "logreg") & (mine["dataset"] == "keel:yeast-2_vs_4")]
    assert (ok["status"] == "ok").all() and ok["ap"].between(0, 1).all()
    # its own rule gives a stated skip: a fold already past the ratio
    glass = mine[(mine["dataset"] == "keel:glass1") & (mine["model"] == "logreg")]  # IR ≈ 1.8
    assert glass["message"].str.startswith("the training fold is already at minority/majority").all()


def test_readme_example_passes_the_contract(tmp_path: Path) -> None:
    """Registered in this process, the example gets the same contract checks as every strategy."""
    path = tmp_path / "readme_strategy.py"
    path.write_text(readme_example())
    load_plugin_file(path)
    kind, fitted = first_fit("under-then-weight", "logreg")
    check_probabilities(fitted, kind)
    assert not fitted_depends_on_test_rows("under-then-weight", "logreg")


PACKAGE = {
    "imbench_toy_plugin/__init__.py": '"""An external imbench plugin: a strategy, a model and a dataset source."""\n',
    "imbench_toy_plugin/strategy.py": '''
        from imblearn.under_sampling import RandomUnderSampler

        from imbench.strategies import register_strategy
        from imbench.strategies.resampling import SamplerStrategy, sampling_ratio


        @register_strategy
        class ToyUnder(SamplerStrategy):
            name = "toy-under"
            family = "undersampling"
            description = "random under-sampling to minority/majority = 0.5 (from an installed plugin)"
            parameters = (sampling_ratio(0.5),)
            ratio_kind = "under"

            def make_sampler(self, params, seed):
                return RandomUnderSampler(sampling_strategy=params["sampling_ratio"], random_state=seed)
        ''',
    "imbench_toy_plugin/models.py": '''
        from sklearn.tree import DecisionTreeClassifier

        from imbench.strategies import ModelSpec, register_model


        def _tree(seed):
            return DecisionTreeClassifier(max_depth=3, random_state=seed)


        def register():
            register_model(ModelSpec("toy-tree", _tree, frozenset({"class_weight", "sample_weight"}), "class_weight",
                                     False, "a depth-3 decision tree (from an installed plugin)"))
        ''',
    "imbench_toy_plugin/data.py": '''
        import numpy as np
        import pandas as pd

        from imbench.datasets import Dataset, register_source


        @register_source("toy")
        def _toy(name):
            rng = np.random.default_rng(0)
            y = (rng.random(300) < 0.1).astype(np.int8)
            X = pd.DataFrame({"a": rng.normal(size=300) + 2 * y, "b": rng.normal(size=300)})
            return Dataset(name=name, X=X, y=y, categorical=[], meta={"n": 300})
        ''',
    "imbench_toy_plugin/broken.py": "import a_module_that_does_not_exist  # noqa: F401\n",
}
ENTRY_POINTS = """\
[imbench.strategies]
toy = imbench_toy_plugin.strategy
broken = imbench_toy_plugin.broken

[imbench.models]
toy-tree = imbench_toy_plugin.models:register

[imbench.datasets]
toy = imbench_toy_plugin.data
"""
PACKAGE_GRID = """\
name = "toy"
datasets = ["toy:blobs"]
models = ["toy-tree", "logreg"]
strategies = ["none", "toy-under"]
[cv]
n_splits = 3
n_repeats = 1
"""


def build_wheel(files: dict[str, str], dist: str, version: str, entry_points: str, out: Path) -> Path:
    """A minimal pure-Python wheel (PEP 427): the files, METADATA, WHEEL, entry_points.txt and RECORD."""
    name = dist.replace("-", "_")
    info = f"{name}-{version}.dist-info"
    contents = {path: textwrap.dedent(text).lstrip() for path, text in files.items()}
    contents[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
    contents[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: imbench-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    contents[f"{info}/entry_points.txt"] = entry_points
    record = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    contents[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = out / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
    return wheel


def test_installed_package_plugs_in_through_entry_points(tmp_path: Path) -> None:
    wheel = build_wheel(PACKAGE, "imbench-toy-plugin", "0.1", ENTRY_POINTS, tmp_path)
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--no-compile",
                              "--disable-pip-version-check", "--quiet", "--target", str(site), str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}
    exe = str(Path(sys.executable).with_name("imbench"))
    grid = tmp_path / "grid.toml"
    grid.write_text(PACKAGE_GRID)
    run = subprocess.run([exe, "run", str(grid), "-j", "2", "--results", str(tmp_path / "r"), "--no-progress"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if "disabled" in line]
    assert len(warnings) == 1 and warnings[0].endswith(
        "imbench: plugin imbench_toy_plugin.broken (entry point 'broken' in imbench.strategies) disabled: "
        "ModuleNotFoundError: No module named 'a_module_that_does_not_exist'")
    cells = store_reader(tmp_path / "r").cells()
    assert len(cells) == 1 * 2 * 2 * 3 and set(cells["status"]) == {"ok"}  # workers found the plugin too
    toy = cells[(cells["strategy"] == "toy-under") & (cells["model"] == "toy-tree")]
    assert len(toy) == 3 and (toy["ap"] > 2 * toy["prevalence"]).all()
    listing = subprocess.run([exe, "list", "models"], capture_output=True, text=True, env=env, timeout=300)
    assert "toy-tree" in listing.stdout and "a depth-3 decision tree" in listing.stdout
    # without the package on the path the names are unknown again: nothing leaked into imbench itself
    assert "toy-tree" not in run_cli("list", "models").stdout
    assert np.isfinite(toy["ap"]).all()
