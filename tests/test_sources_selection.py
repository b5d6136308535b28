"""Selecting datasets: grid entries, [select] ranges, globs vs explicit names, listing, and name syntax."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from imbench.benchmarks.spec.grid import GridError, parse_grid
from imbench.datasets import DatasetError, list_datasets, resolve_name
from imbench.datasets.bundled import manifest
from imbench.datasets.names import NameSyntaxError, format_name, parse_name
from imbench.datasets.selection import Selection, SelectionError, parse_range, selection_from_table
from tests.helpers import run_cli

BASE = """\
name = "sel"
datasets = {datasets}
models = ["logreg"]
strategies = ["none"]
{extra}
[cv]
n_splits = {n_splits}
n_repeats = 1
"""


def grid(datasets: str, extra: str = "", n_splits: int = 3, path: str = "g.toml"):
    return parse_grid(BASE.format(datasets=datasets, extra=extra, n_splits=n_splits), path)


def bundled(predicate) -> set[str]:
    return {name for name, entry in manifest().items() if predicate(entry)}


def test_select_ranges_match_the_manifest() -> None:
    chosen = grid('["keel:*"]', "[select]\nir = [10, 40]\nmax_rows = 1000\n")
    expected = bundled(lambda e: e["source"] == "keel" and 10 <= e["ir"] <= 40 and e["n"] <= 1000 and e["n_pos"] >= 3)
    assert set(chosen.datasets) == expected and len(expected) > 5


def test_select_by_source_and_features() -> None:
    chosen = grid('["*"]', '[select]\nsource = "nasa"\nd = [20, 40]\n')
    assert set(chosen.datasets) == bundled(lambda e: e["source"] == "nasa" and 20 <= e["d"] <= 40)


def test_glob_leaves_out_datasets_with_too_few_positives(capsys: pytest.CaptureFixture[str]) -> None:
    few = sorted(bundled(lambda e: e["source"] == "keel" and e["n_pos"] < 20))
    assert few, "the bundle has keel datasets with fewer than 20 positives"
    chosen = grid('["keel:*"]', n_splits=20)
    assert not set(few) & set(chosen.datasets)
    assert f"left out {few[0]!r}" in capsys.readouterr().err
    with pytest.raises(GridError) as info:
        grid(f'["{few[0]}"]', n_splits=20)
    n_pos = manifest()[few[0]]["n_pos"]
    assert str(info.value) == (f"g.toml:2: dataset {few[0]!r} has {n_pos} positives; stratified 20-fold CV needs at "
                               f"least 20 (one per test fold): lower n_splits to {max(n_pos, 2)} or leave the "
                               "dataset out")


def test_option_tables_and_synthetic_entries() -> None:
    chosen = grid('[{name = "sklearn:wine", positive = "class_0"}, "synthetic[n=300,prevalence=0.1]"]')
    assert chosen.datasets == ["sklearn:wine[positive=0]",
                               "synthetic[n=300,d=20,prevalence=0.1,class_sep=1,flip_y=0.01,informative=10,seed=0]"]


@pytest.mark.parametrize(("datasets", "extra", "expected"), [
    ('["keel:*"]', "[select]\nir = [10]\n", "g.toml:6: `ir` must be [low, high]"),
    ('["keel:*"]', "[select]\nmax_row = 10\n", "g.toml:6: unknown key in [select] 'max_row'"),
    ('["keel:*"]', "[select]\nir = [500, 1000]\n", "g.toml:5: no dataset left with [select] IR 500:1000"),
    ('["keel:yeast*", "sklearn:iris"]', "", "g.toml:2: dataset 'sklearn:iris': 3 classes and no positive class"),
    ('["opneml:31"]', "", "g.toml:2: unknown dataset source 'opneml': did you mean 'openml'"),
    ('["nomatch*"]', "", "g.toml:2: dataset pattern 'nomatch*' matches no dataset"),
    ('[{file = "missing.csv", target = "y"}]', "", "g.toml:2: dataset 'file:"),
    ('[42]', "", "g.toml:1: a datasets entry must be a name"),
])
def test_bad_dataset_entries_say_where(datasets: str, extra: str, expected: str) -> None:
    with pytest.raises(GridError) as info:
        grid(datasets, extra)
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_entry_names_the_absolute_path(tmp_path: Path) -> None:
    with pytest.raises(GridError, match=f"file not found: {tmp_path / 'data' / 'x.csv'}"):
        grid('[{file = "data/x.csv", target = "y"}]', path=str(tmp_path / "g.toml"))


def test_ranges() -> None:
    assert parse_range("10:200", "ir") == (10, 200)
    assert parse_range("10:", "ir") == (10, math.inf) and parse_range(":5", "ir") == (-math.inf, 5)
    with pytest.raises(SelectionError, match="empty"):
        parse_range("9:3", "ir")
    selection = selection_from_table({"min_rows": 100, "rows": [0, 500], "max_d": 10})
    assert (selection.rows, selection.d) == ((100, 500), (-math.inf, 10))
    assert Selection(ir=(1, 2)).matches({"ir": 1.5}) and not Selection(ir=(1, 2)).matches({"ir": None})


def test_list_datasets_cli_shows_the_selection() -> None:
    done = run_cli("list", "datasets", "--ir", "40:60", "--source", "keel")
    assert done.returncode == 0, done.stderr
    expected = bundled(lambda e: e["source"] == "keel" and 40 <= e["ir"] <= 60)
    assert f"{len(expected)} datasets with source in ['keel'], IR 40:60" in done.stdout
    for name in expected:
        assert name in done.stdout
    frame = list_datasets(["keel:*"], Selection(ir=(40, 60)))
    assert set(frame["name"]) == expected
    bad = run_cli("list", "datasets", "--ir", "lots")
    assert bad.returncode == 2 and bad.stderr.startswith("imbench: error: ir range 'lots' must look like LOW:HIGH")


@pytest.mark.parametrize(("name", "scheme", "body", "options"), [
    ("keel:yeast4", "keel", "yeast4", {}),
    ("synthetic[n=10,d=2]", "synthetic", "", {"n": "10", "d": "2"}),
    ("file:/data/run[3]/x.csv[target=y,drop=[a,b]]", "file", "/data/run[3]/x.csv", {"target": "y", "drop": ["a", "b"]}),
    ('openml:31[positive=["a,b",c]]', "openml", "31", {"positive": ["a,b", "c"]}),
])
def test_name_syntax_round_trips(name: str, scheme: str, body: str, options: dict) -> None:
    parsed = parse_name(name)
    assert (parsed.scheme, parsed.body, parsed.options) == (scheme, body, options)
    assert parse_name(format_name(scheme, body, options)) == parsed


@pytest.mark.parametrize("bad", ["openml:31[positive]", "openml:31[positive=a=b]", "openml:31[a=1,a=2]",
                                 "openml:31[positive=[a]"])
def test_bad_name_syntax(bad: str) -> None:
    with pytest.raises((NameSyntaxError, DatasetError)):
        resolve_name(bad)
