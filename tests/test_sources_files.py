"""User files (CSV, Parquet): options, categorical detection, missing and bad values, grid paths."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbench.benchmarks.spec.grid import GridError, load_grid
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.schema import store_path
from imbench.datasets import DatasetError, load_dataset, resolve_name
from tests.helpers import run_cli

N = 80


def churn_frame() -> pd.DataFrame:
    """80 customers, 12 churned; usage has 3 missing entries written three different ways."""
    rng = np.random.RandomState(0)
    churned = np.array(["no"] * (N - 12) + ["yes"] * 12)
    rng.shuffle(churned)
    usage = np.round(rng.gamma(2.0, 10.0, N) + 15 * (churned == "yes"), 2).astype(object)
    usage[[3, 10, 50]] = ["", "NA", "?"]
    return pd.DataFrame({"id": np.arange(N), "plan": rng.choice(["basic", "pro", "team"], N),
                         "region": rng.choice([1, 2, 3], N), "usage": usage, "tenure": rng.randint(1, 60, N),
                         "churned": churned})


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_csv_with_categorical_missing_and_drop(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "churn.csv", churn_frame())
    name = f"file:{path}[target=churned,positive=yes,drop=[id],categorical=[region]]"
    dataset = load_dataset(name)
    assert dataset.name == f"file:{path}[target=churned,positive=yes,categorical=[region],drop=[id]]"
    assert list(dataset.X.columns) == ["plan", "region", "usage", "tenure"]
    assert dataset.categorical == ["plan", "region"]
    assert list(dataset.X["region"].cat.categories) == ["1", "2", "3"]
    assert dataset.X["usage"].dtype == np.float64 and int(dataset.X["usage"].isna().sum()) == 3
    expected = (churn_frame()["churned"] == "yes").to_numpy().astype(np.int8)
    np.testing.assert_array_equal(dataset.y, expected)
    assert dataset.meta["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "text column 'plan' read as categorical" in dataset.meta["notices"]
    assert dataset.meta["n_categorical"] == 2 and dataset.meta["missing_rate"] == pytest.approx(3 / (N * 4), abs=1e-4)


def test_relative_paths_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_csv(tmp_path / "churn.csv", churn_frame())
    monkeypatch.chdir(tmp_path)
    assert resolve_name("file:churn.csv[positive=yes,target=churned]") == \
        f"file:{tmp_path / 'churn.csv'}[target=churned,positive=yes]"


def test_parquet_with_category_bool_nullable_and_01_target(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "colour": pd.Categorical(["red", "blue", None, "red"] * 10),
        "flag": [True, False] * 20,
        "count": pd.array([1, None, 3, 4] * 10, dtype="Int64"),
        "label": [0, 0, 0, 1] * 10,
    })
    frame.to_parquet(tmp_path / "d.parquet")
    dataset = load_dataset(f"file:{tmp_path / 'd.parquet'}[target=label]")
    assert dataset.n_pos == 10 and dataset.meta["positive"] == ["1"]
    assert dataset.categorical == ["colour"] and int(dataset.X["colour"].isna().sum()) == 10
    assert dataset.X["flag"].tolist()[:2] == [1.0, 0.0]
    assert dataset.X["count"].dtype == np.float64 and int(dataset.X["count"].isna().sum()) == 10


OK = "target=churned,positive=yes"


@pytest.mark.parametrize(("change", "options", "message"), [
    (lambda f: f.assign(usage=f["usage"].where(f.index != 7, "abc")), OK,
     "column 'usage' has 1 values that are not numbers (e.g. 'abc' in row 7) among 76 numbers"),
    (lambda f: f.assign(tenure=f["tenure"].astype(float).where(f.index != 5, np.inf)), OK,
     "column 'tenure' has 1 infinite values"),
    (lambda f: f, "target=churn,positive=yes", "unknown target column 'churn': did you mean 'churned'"),
    (lambda f: f, "target=churned,positive=maybe",
     "positive class 'maybe' is not a class of target 'churned'; classes (count): 'no' (68), 'yes' (12)"),
    (lambda f: f, "target=plan", "target 'plan' has 3 classes and no positive class is declared"),
    (lambda f: f, "target=churned", "target 'churned' is not 0/1 and no positive class is declared"),
    (lambda f: f.assign(churned=f["churned"].where(~f.index.isin([2, 4]), None)), OK,
     "target 'churned' has 2 missing values (rows 2, 4)"),
    (lambda f: f, OK + ",drop=[idd]", "unknown drop column 'idd': did you mean 'id'"),
])
def test_bad_files_fail_in_one_line(tmp_path: Path, change, options: str, message: str) -> None:
    path = write_csv(tmp_path / "churn.csv", change(churn_frame()))
    with pytest.raises(DatasetError) as info:
        load_dataset(f"file:{path}[{options}]")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_useless_columns_dropped_with_notices(tmp_path: Path) -> None:
    rng = np.random.RandomState(1)
    n = 200
    frame = pd.DataFrame({
        "x": rng.randn(n), "empty": [np.nan] * n, "same": [7] * n,
        "customer": [f"c{i:04d}" for i in range(n)],          # identifier: 200 levels in 200 rows
        "city": [f"city{i % 60}" for i in range(n)],          # 60 levels: high cardinality, kept
        "y": [1] * 20 + [0] * (n - 20),
    })
    write_csv(tmp_path / "d.csv", frame)
    dataset = load_dataset(f"file:{tmp_path / 'd.csv'}[target=y]")
    assert list(dataset.X.columns) == ["x", "city"] and dataset.categorical == ["city"]
    notices = " | ".join(dataset.meta["notices"])
    assert "dropped 1 all-missing column: 'empty'" in notices and "dropped 1 constant column: 'same'" in notices
    assert "dropped categorical column 'customer': 200 levels in 200 rows looks like an identifier" in notices
    assert "categorical column 'city' has 60 levels" in notices


GRID = """\
name = "files"
seed = 0
datasets = [
    {{file = "data/churn.csv", target = "churned", positive = "yes", categorical = ["region"], drop = ["id"]}},
]
models = ["logreg"]
strategies = ["none", "class-weight"]

[cv]
n_splits = {n_splits}
n_repeats = 1
"""


def test_grid_file_entry_relative_to_grid_runs_in_workers(tmp_path: Path) -> None:
    (tmp_path / "grids" / "data").mkdir(parents=True)
    csv = write_csv(tmp_path / "grids" / "data" / "churn.csv", churn_frame())
    grid_file = tmp_path / "grids" / "g.toml"
    grid_file.write_text(GRID.format(n_splits=3))
    grid = load_grid(grid_file)
    assert grid.datasets == [f"file:{csv}[target=churned,positive=yes,categorical=[region],drop=[id]]"]
    run_grid(grid, tmp_path / "results", n_jobs=2)  # loky workers load the file by its canonical name
    cells = store_reader(tmp_path / "results").cells()
    assert len(cells) == 6 and set(cells["status"]) == {"ok"}
    stored = store_reader(tmp_path / "results").datasets().set_index("name").loc[grid.datasets[0]]
    assert stored["n_pos"] == 12 and stored["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()


def test_too_few_positives_for_the_folds(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    frame = churn_frame()
    frame["churned"] = ["yes"] * 3 + ["no"] * (N - 3)
    write_csv(tmp_path / "data" / "churn.csv", frame)
    grid_file = tmp_path / "g.toml"
    grid_file.write_text(GRID.format(n_splits=5))
    with pytest.raises(GridError) as info:
        load_grid(grid_file)
    assert str(info.value).startswith(f"{grid_file}:4: dataset 'file:")
    assert "has 3 positives; stratified 5-fold CV needs at least 5" in str(info.value)


def _parquet_cases() -> dict[str, tuple[pd.DataFrame, dict]]:
    rng = np.random.default_rng(0)
    floats = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
    floats.iloc[[3, 40], 1] = np.nan
    return {
        "floats": (floats, {}),
        "floats then a target": (floats.assign(y=np.arange(60, dtype=np.int8) % 2), {}),
        "floats then text and categories": (floats.assign(s=["u", "v"] * 30, k=pd.Categorical(["p", "q"] * 30)), {}),
        "a target first": (floats.assign(y=1)[["y", "a", "b", "c", "d"]], {}),
        "a stored index": (floats.set_index(pd.Index(range(100, 160), name="id")), {}),
        "small row groups": (floats.assign(y=1), {"row_group_size": 7}),
    }


@pytest.mark.parametrize("case", list(_parquet_cases()))
@pytest.mark.parametrize("index", [False, None, True])
def test_read_parquet_equals_pandas(case: str, index: bool | None, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Float columns read one at a time into one block give pandas' frame exactly; files the column
    reader does not take (a text column first, a stored index) are read by pandas itself."""
    from imbench.datasets.parquet import read_parquet

    frame, options = _parquet_cases()[case]
    path = tmp_path / "d.parquet"
    frame.to_parquet(path, index=index, **options)
    expected = pd.read_parquet(path)
    whole_reads: list[Path] = []
    original = pd.read_parquet

    def spy(source: Path, **options: object) -> pd.DataFrame:
        if "columns" not in options:
            whole_reads.append(source)
        return original(source, **options)

    monkeypatch.setattr(pd, "read_parquet", spy)
    got = read_parquet(path, above_bytes=0)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got._mgr.nblocks == expected._mgr.nblocks
    # an index stored as a column (index=True, or a non-default index) goes to pandas, as does a file
    # whose float columns do not come first
    stored_index = index is True or (index is None and case == "a stored index")
    assert whole_reads == ([path] if stored_index or case == "a target first" else [])


def test_read_parquet_keeps_arrow_nulls_as_nan_without_pandas_metadata(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from imbench.datasets.parquet import read_parquet

    table = pa.table({"a": pa.array([1.0, None, 3.0] * 10), "b": pa.array(np.arange(30.0)),
                      "t": pa.array([0, 1, 1] * 10, pa.int64())})
    pq.write_table(table, tmp_path / "raw.parquet", row_group_size=7)
    got = read_parquet(tmp_path / "raw.parquet", above_bytes=0)
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "raw.parquet"), check_exact=True)
    assert np.isnan(got.loc[1, "a"]) and got.loc[2, "a"] == 3.0


def test_a_copied_project_is_refused_not_stored_twice(tmp_path: Path) -> None:
    """The same file at another path is another name: resuming a copied project into its copied store
    would store the data again and count it twice in every board. It is refused in one line, with the
    store unchanged; the same data at the stored path resumes."""
    first = tmp_path / "a"
    (first / "data").mkdir(parents=True)
    write_csv(first / "data" / "churn.csv", churn_frame())
    (first / "g.toml").write_text(GRID.format(n_splits=3))
    run_cli("run", str(first / "g.toml"), "--results", str(first / "results"), "--no-progress")
    copy = tmp_path / "b"
    shutil.copytree(first, copy)
    before = store_path(copy / "results").read_bytes()
    out = run_cli("run", str(copy / "g.toml"), "--results", str(copy / "results"), "--no-progress")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "has the content of" in out.stderr and "named by its absolute path" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert store_path(copy / "results").read_bytes() == before
    again = run_cli("run", str(first / "g.toml"), "--results", str(copy / "results"), "--no-progress")
    assert again.returncode == 0 and "6 already stored, ran 0" in again.stderr
