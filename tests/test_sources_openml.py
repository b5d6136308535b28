"""OpenML through the real `openml` package against a loopback server: fetch → cache → offline re-load,
name lookup, multi-class targets, corrupt caches, tasks with their own splits, suites. No internet."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imbench.benchmarks.spec.cv import fold_indices
from imbench.benchmarks.spec.grid import GridError, parse_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.datasets import DatasetError, expand_names, list_datasets, load_dataset, resolve_name
from imbench.datasets import registry
from imbench.datasets.openml_source import dataset_dir, local_suites, task_split
from imbench.datasets.selection import Selection
from tests.helpers import ROOT, run_cli
from tests.helpers.fake_openml import FakeOpenML, labels, task_splits


@pytest.fixture
def fake_openml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import openml

    monkeypatch.setenv("IMBENCH_CACHE_DIR", str(tmp_path / "imbench-cache"))
    monkeypatch.delenv("IMBENCH_OFFLINE", raising=False)
    previous_cache = openml.config.get_config_as_dict()["cachedir"]
    registry._META_MEMO.clear()
    task_split.cache_clear()
    with FakeOpenML() as server:
        monkeypatch.setattr(openml.config, "server", server.api)
        monkeypatch.setattr(openml.config, "connection_n_retries", 1)
        monkeypatch.setattr(openml.config, "retry_policy", "robot")
        openml.config.set_root_cache_directory(tmp_path / "openml-package-cache")
        try:
            yield server
        finally:
            openml.config.set_root_cache_directory(previous_cache)
            registry._META_MEMO.clear()
            task_split.cache_clear()


def _go_offline(server: FakeOpenML, monkeypatch: pytest.MonkeyPatch) -> None:
    server.stop()
    monkeypatch.setenv("IMBENCH_OFFLINE", "1")


def test_fetch_cache_then_offline_reload(fake_openml: FakeOpenML, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_dataset("openml:61[positive=pos]")
    fetched = set(fake_openml.requests)
    assert {"/api/v1/xml/data/61", "/api/v1/xml/data/features/61", "/api/v1/xml/data/qualities/61",
            "/data/v1/download/61/tiny-multi.arff"} <= fetched
    served = np.array(labels(61))
    np.testing.assert_array_equal(first.y, (served == "pos").astype(np.int8))  # rows in file order
    assert (first.meta["n"], first.meta["n_pos"], first.meta["positive"]) == (60, 12, ["pos"])

    _go_offline(fake_openml, monkeypatch)
    again = load_dataset("openml:61[positive=pos]")
    assert set(fake_openml.requests) == fetched
    np.testing.assert_array_equal(again.y, first.y)
    assert again.X.equals(first.X)

    # a fresh process (as a worker is) loads the same data by name alone, from the cache
    code = "from imbench.datasets import load_dataset; d = load_dataset('openml:61[positive=pos]'); print(len(d.y), d.n_pos)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["60", "12"]


def test_multiclass_target_needs_a_declared_positive(fake_openml: FakeOpenML) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset("openml:61")
    message = str(info.value)
    assert "has 3 classes" in message and "'neg' (40), 'pos' (12), 'rare' (8)" in message
    assert "\n" not in message
    both = load_dataset("openml:61[positive=[rare,pos]]")
    assert both.name == "openml:61[positive=[pos,rare]]"  # canonical: sorted classes
    assert both.n_pos == 20
    with pytest.raises(DatasetError, match="positive class 'yes' is not a class of target 'class'"):
        load_dataset("openml:61[positive=yes]")


def test_binary_target_minority_categoricals_missing_and_constant(fake_openml: FakeOpenML) -> None:
    data = load_dataset("openml:62")
    assert data.meta["positive"] == ["yes"] and data.n_pos == 15
    assert data.categorical == ["color"] and str(data.X["color"].dtype) == "category"
    assert "const" not in data.X.columns and any("'const'" in n for n in data.meta["notices"])
    assert int(data.X["a"].isna().sum()) == 1  # the '?' in the ARFF file
    assert data.meta["missing_rate"] == pytest.approx(1 / (60 * 2), abs=1e-4)


def test_names_resolve_to_ids_and_are_remembered(fake_openml: FakeOpenML, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_name("openml:tiny-binary") == "openml:62"
    with pytest.raises(DatasetError, match="OpenML has no active dataset named 'nope'"):
        resolve_name("openml:nope")
    _go_offline(fake_openml, monkeypatch)
    assert resolve_name("openml:tiny-binary[positive=yes]") == "openml:62[positive=yes]"


def test_corrupt_cache_is_one_clear_line(fake_openml: FakeOpenML, monkeypatch: pytest.MonkeyPatch) -> None:
    load_dataset("openml:62")
    _go_offline(fake_openml, monkeypatch)
    data_file = dataset_dir(62) / "data.parquet"
    data_file.write_bytes(data_file.read_bytes()[:100])
    with pytest.raises(DatasetError) as info:
        load_dataset("openml:62")
    message = str(info.value)
    assert message.startswith("dataset 'openml:62': the cached copy in") and "unreadable" in message
    assert str(dataset_dir(62)) in message and "\n" not in message
    done = run_cli("fetch", "openml:62")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"imbench: error: {message}"]


def test_missing_cache_offline_or_unreachable(fake_openml: FakeOpenML, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_openml.stop()
    with pytest.raises(DatasetError, match=r"dataset 'openml:62': fetching from OpenML \(http://127\.0\.0\.1:\d+/api"):
        load_dataset("openml:62")
    monkeypatch.setenv("IMBENCH_OFFLINE", "1")
    with pytest.raises(DatasetError, match="is not cached .* and IMBENCH_OFFLINE is set"):
        load_dataset("openml:62")


TASK_GRID = """\
name = "task"
seed = 1
datasets = ["openml-task:59"]
models = ["logreg"]
strategies = ["none", "class-weight"]
cv = "task"
"""


def test_task_splits_are_used_end_to_end(fake_openml: FakeOpenML, monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    grid = parse_grid(TASK_GRID, "task.toml")
    assert grid.datasets == ["openml-task:59[cv=task]"]
    assert (grid.n_repeats, grid.n_splits) == (2, 3)
    assert grid.to_dict()["cv"]["splits"] == "task"
    _go_offline(fake_openml, monkeypatch)
    data = load_dataset(grid.datasets[0])
    served = task_splits()
    for index, (train, test) in enumerate(served):
        got_train, got_test = fold_indices(data.y, 3, 2, grid.seed, grid.datasets[0], *divmod(index, 3))
        np.testing.assert_array_equal(got_train, train)
        np.testing.assert_array_equal(got_test, test)
    run_grid(grid, tmp_path / "results", backend="sequential")
    cells = store_reader(tmp_path / "results").cells()
    assert len(cells) == 12 and set(cells["status"]) == {"ok"}
    predictions = store_reader(tmp_path / "results").predictions().merge(cells[["key", "repeat", "fold"]], on="key")
    for (repeat, fold), rows in predictions.groupby(["repeat", "fold"]):
        expected = np.sort(served[repeat * 3 + fold][1])
        for _, per_cell in rows.groupby("key"):
            np.testing.assert_array_equal(np.sort(per_cell["row_index"].to_numpy()), expected)

    with pytest.raises(GridError, match='task.toml:3: cv = "task" uses OpenML tasks\' own splits, but '
                                        "'keel:glass1' is not an OpenML task"):
        parse_grid(TASK_GRID.replace('["openml-task:59"]', '["openml-task:59", "keel:glass1"]'), "task.toml")


def test_curated_suite_lists_without_network(fake_openml: FakeOpenML) -> None:
    suite = local_suites()["imbalanced"]["datasets"]
    names = expand_names(["openml-suite:imbalanced"])
    assert names == [f"openml:{entry['id']}" for entry in suite] and len(names) >= 20
    frame = list_datasets(["openml-suite:imbalanced"]).set_index("name")
    assert (frame["data"] == "download").all()
    assert frame.loc["openml:310", "ir"] == pytest.approx(42.01)
    assert fake_openml.requests == []
    small = list_datasets(["openml-suite:imbalanced"], Selection(ir=(10, 50), rows=(0, 20000)))
    assert set(small["name"]) >= {"openml:310", "openml:1068"} and "openml:42397" not in set(small["name"])


def test_remote_suite_keeps_binary_members_and_works_offline(fake_openml: FakeOpenML,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert expand_names(["openml-suite:99"]) == ["openml:62"]
    assert "left out 1 multi-class datasets" in capsys.readouterr().err
    assert expand_names(["openml-suite:99[tasks=true]"]) == ["openml-task:59"]
    _go_offline(fake_openml, monkeypatch)
    assert expand_names(["openml-suite:99"]) == ["openml:62"]
