"""Parts of a grid: subsets and shards run into one store or several, `imbench merge` combines
them, and the result is the store of one whole run."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from imbench.benchmarks.spec.cells import enumerate_cells
from imbench.benchmarks.spec.grid import parse_grid
from imbench.benchmarks.store.merge import merge_stores
from imbench.benchmarks.spec.parts import GridPart, PartError, in_shard, parse_shard, select_part, split_patterns
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.schema import StoreError, store_path
from tests.helpers import TINY_GRID, comparable, run_cli

GRID = TINY_GRID.replace('"random-under", "smote"', '"random-under", {name = "smote", k_neighbors = [3, 5]}')


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = tmp_path_factory.mktemp("whole") / "r"
    run_grid(parse_grid(GRID), results, backend="sequential")
    return results


def test_shards_split_the_cells_by_key_without_overlap() -> None:
    cells = enumerate_cells(parse_grid(GRID)).cells
    shards = [GridPart(shard=(i, 3)).cells(cells) for i in (1, 2, 3)]
    keys = [{c.key for c in shard} for shard in shards]
    assert sum(map(len, keys)) == len(cells) == len(set().union(*keys))
    assert all(len(k) > len(cells) / 6 for k in keys)  # each a real part
    assert all(in_shard(c.key, (2, 3)) for c in shards[1])
    # decided by the key alone: another order of the grid gives the same shards
    reversed_grid = parse_grid(GRID.replace('"keel:glass1", "keel:ecoli-0_vs_1", "keel:new-thyroid1"',
                                            '"keel:new-thyroid1", "keel:ecoli-0_vs_1", "keel:glass1"'))
    again = GridPart(shard=(2, 3)).cells(enumerate_cells(reversed_grid).cells)
    assert {c.key for c in again} == keys[1]


@pytest.mark.parametrize(("text", "expected"), [("1/3", (1, 3)), (" 2 / 8 ", (2, 8)), ("1/1", (1, 1))])
def test_parse_shard(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "1-3", "a/b", "1/3/4"])
def test_parse_shard_refuses(text: str) -> None:
    with pytest.raises(PartError):
        parse_shard(text)


def test_subsets_by_names_and_globs() -> None:
    grid = parse_grid(GRID)
    part = GridPart(datasets=split_patterns(["glass*,keel:new-thyroid1"]), strategies=("smote",))
    chosen = select_part(grid, part)
    assert chosen.datasets == ["keel:glass1", "keel:new-thyroid1"]
    assert [s.label for s in chosen.strategies] == ["smote[k_neighbors=3]", "smote"]
    exact = select_part(grid, GridPart(strategies=("smote[k_neighbors=3]",)))
    assert [s.label for s in exact.strategies] == ["smote[k_neighbors=3]"]
    assert split_patterns(["synthetic[n=100,prevalence=0.1],keel:a*", "x"]) == (
        "synthetic[n=100,prevalence=0.1]", "keel:a*", "x")
    with pytest.raises(PartError, match="--models 'lightgbm' matches none of the grid's 1 models"):
        select_part(grid, GridPart(models=("lightgbm",)))


def test_three_shards_merged_equal_one_run(whole: Path, tmp_path: Path) -> None:
    grid = parse_grid(GRID)
    shards = []
    for i in (1, 2, 3):
        shards.append(tmp_path / f"shard{i}")
        summary = run_grid(grid, shards[-1], backend="sequential", part=GridPart(shard=(i, 3)))
        assert summary.total == len(store_reader(shards[-1]).cells()) < len(store_reader(whole).cells())
        assert store_reader(shards[-1]).meta()["expected_cells"] == len(store_reader(whole).cells())  # a shard says it is partial
    merged = tmp_path / "merged"
    summary = merge_stores(merged, shards)
    assert summary.cells == len(store_reader(whole).cells()) and summary.runs == 3 and summary.duplicates == 0
    for shard in shards:  # the inputs were read as they are: nothing created next to them
        assert sorted(p.name for p in shard.iterdir()) == ["imbench.lock", "imbench.sqlite"]
    a_cells, a_preds = comparable(whole)
    b_cells, b_preds = comparable(merged)
    pd.testing.assert_frame_equal(a_cells, b_cells)
    pd.testing.assert_frame_equal(a_preds, b_preds)
    # every run kept, with its part, and each cell points to the run that fitted it
    runs = store_reader(merged).runs()
    assert [r["spec"]["part"] for r in runs] == [{"shard": f"{i}/3"} for i in (1, 2, 3)]
    cells = store_reader(merged).cells().set_index("key")
    for run, shard in zip(runs, shards):
        assert set(cells.index[cells["run_id"] == run["id"]]) == set(store_reader(shard).cells()["key"])
    meta = store_reader(merged).meta()
    assert meta["expected_cells"] == len(cells) and meta["spec"] == grid.to_dict()
    # a resume of the merged store has nothing to do
    assert sum(run_grid(grid, merged, backend="sequential").counts.values()) == 0


def test_merge_prefers_a_final_copy_and_never_duplicates(whole: Path, tmp_path: Path) -> None:
    failed = tmp_path / "failed"
    shutil.copytree(whole, failed)
    with sqlite3.connect(store_path(failed)) as conn:
        key = conn.execute("SELECT MIN(key) FROM cells").fetchone()[0]
        conn.execute("UPDATE cells SET status = 'error', message = 'boom' WHERE key = ?", (key,))
        conn.execute("DELETE FROM predictions WHERE key = ?", (key,))
    merged = tmp_path / "merged"
    summary = merge_stores(merged, [failed, whole])
    assert summary.cells == len(store_reader(whole).cells()) and summary.duplicates == len(store_reader(whole).cells())
    cells = store_reader(merged).cells().set_index("key")
    assert cells.at[key, "status"] == "ok"
    assert set(store_reader(merged).predictions()["key"]) == set(cells.index)


def test_merge_refuses_other_package_versions_and_other_data(whole: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(whole, other)
    with sqlite3.connect(store_path(other)) as conn:
        env = conn.execute("SELECT environment FROM runs").fetchone()[0].replace('"scikit-learn": "', '"scikit-learn": "0.')
        conn.execute("UPDATE runs SET environment = ?", (env,))
    with pytest.raises(StoreError, match="used scikit-learn 0."):
        merge_stores(tmp_path / "m1", [whole, other])
    changed = tmp_path / "changed"
    shutil.copytree(whole, changed)
    with sqlite3.connect(store_path(changed)) as conn:
        conn.execute("UPDATE datasets SET fingerprint = 'abc' WHERE name = 'keel:glass1'")
    with pytest.raises(StoreError, match="dataset 'keel:glass1' has other content"):
        merge_stores(tmp_path / "m2", [whole, changed])
    assert not (tmp_path / "m1").exists() and not (tmp_path / "m2").exists()
    damaged = tmp_path / "damaged"  # pages garbled where the cheap checks do not look: found while copying
    shutil.copytree(whole, damaged)
    data = bytearray(store_path(damaged).read_bytes())
    middle = len(data) // 2
    data[middle:middle + len(data) // 4] = b"\xff" * (len(data) // 4)
    store_path(damaged).write_bytes(bytes(data))
    with pytest.raises((StoreError, sqlite3.DatabaseError)):
        merge_stores(tmp_path / "m3", [damaged])
    assert not (tmp_path / "m3").exists()  # nothing left behind, not even the lock


def test_subsets_into_one_store_equal_one_run(whole: Path, tmp_path: Path) -> None:
    grid = parse_grid(GRID)
    results = tmp_path / "parts"
    run_grid(grid, results, backend="sequential", part=GridPart(strategies=("smote",)))
    run_grid(grid, results, backend="sequential", part=GridPart(strategies=("none", "class-weight")))
    assert store_reader(results).meta()["expected_cells"] > len(store_reader(results).cells())
    run_grid(grid, results, backend="sequential", part=GridPart(strategies=("random-*",)))
    a_cells, a_preds = comparable(whole)
    b_cells, b_preds = comparable(results)
    pd.testing.assert_frame_equal(a_cells, b_cells)
    pd.testing.assert_frame_equal(a_preds, b_preds)
    assert [r["spec"]["part"] for r in store_reader(results).runs()] == [{"strategies": "smote"},
                                                               {"strategies": "none,class-weight"},
                                                               {"strategies": "random-*"}]


def test_run_parts_from_the_command_line(tmp_path: Path) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text(GRID)
    results = tmp_path / "r"
    out = run_cli("run", str(grid), "--results", str(results), "--datasets", "glass1", "--strategies", "none,smote",
                  "--shard", "1/2", "--no-progress")
    assert out.returncode == 0, out.stderr
    cells = store_reader(results).cells()
    assert set(cells["dataset"]) == {"keel:glass1"} and set(cells["strategy"]) == {"none", "smote"}
    assert all(in_shard(key, (1, 2)) for key in cells["key"])
    assert f"{len(cells)} cells, 0 already stored, ran {len(cells)}" in out.stderr
    # a shard holds a scattered part of every board: no board, but how to get one
    assert out.stdout == "" and "part 1/2 of the grid" in out.stderr and "imbench merge" in out.stderr
    again = run_cli("run", str(grid), "--results", str(results), "--datasets", "glass1", "--strategies", "none,smote",
                    "--no-progress")  # the rest of that subset, no shard
    assert again.returncode == 0, again.stderr
    assert "incomplete:" in again.stdout  # the leaderboard says the store holds a part of the grid


def test_the_python_api_runs_shards_with_a_memory_limit(whole: Path, tmp_path: Path) -> None:
    import json

    from imbench import api

    grid = tmp_path / "tiny.toml"
    grid.write_text(GRID)
    first = api.run(grid, results=tmp_path / "r", shard="1/2", memory="2GB")
    assert 0 < first.summary.total < len(store_reader(whole).cells())
    api.run(grid, results=tmp_path / "r", shard="2/2", memory=2048)
    cells, preds = comparable(tmp_path / "r")
    expected_cells, expected_preds = comparable(whole)
    pd.testing.assert_frame_equal(cells, expected_cells)
    pd.testing.assert_frame_equal(preds, expected_preds)
    parts = [json.dumps(run["spec"].get("part")) for run in store_reader(tmp_path / "r").runs()]
    assert any("1/2" in p or "[1, 2]" in p for p in parts) and len(parts) == 2


def test_a_subset_without_the_default_baseline_ranks_and_says_why_there_is_no_comparison(tmp_path: Path) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text(GRID)
    out = run_cli("run", str(grid), "--results", str(tmp_path / "r"), "--datasets", "glass1", "--strategies",
                  "random-under,smote*", "--no-progress")
    assert out.returncode == 0, out.stderr
    assert "random-under" in out.stdout and "no comparisons" in out.stdout and "--baseline LABEL" in out.stdout
    named = run_cli("leaderboard", str(tmp_path / "r"), "--baseline", "class-weight")  # a named baseline must exist
    assert named.returncode == 2 and "unknown baseline label in this store 'class-weight'" in named.stderr


def test_merge_says_a_file_dataset_is_named_by_its_path() -> None:
    from imbench.benchmarks.store.merge import _describe_difference

    a = {"datasets": ["file:/home/ann/data.parquet[target=y]"], "seed": 0}
    b = {"datasets": ["file:/home/bob/data.parquet[target=y]"], "seed": 0}
    assert "named by its absolute path" in _describe_difference(a, b)
    named = _describe_difference({"datasets": ["keel:glass1"]}, {"datasets": ["keel:yeast4"]})
    assert "keel:yeast4" in named and "path" not in named
