"""Every mistake a user can make gets one line and exit code 2, and changes nothing stored.

One parametrized matrix of bad inputs — grid files, data files, run options, results folders,
stores (damaged, locked, incompatible), analysis options and plugins — each run through the real
CLI entry point (forked from this process, tests/helpers/cli_fork.py, so 60 cases take seconds).
Each case asserts: exit code 2, the expected message, exactly one line of output (`imbench: error:
...` on stderr, nothing on stdout), no traceback, the finished store's fingerprint (row counts and a
hash of every table) unchanged, and no results folder created where none existed. An internal error
(a bug) still exits 1 with its traceback, so a catch-all could not pass this matrix. Cases on a
read-only file system run in a private mount namespace (`unshare`).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbench.benchmarks.spec.grid import parse_grid
from imbench.benchmarks.store.lock import RunLock
from imbench.benchmarks.runner import run_grid
from imbench.benchmarks.store.schema import store_path
from tests.helpers import ROOT, store_fingerprint
from tests.helpers.cli_fork import run_cli_forked

GRID = """\
name = "matrix"
seed = 3
datasets = ["keel:glass1", "file:{data}[target=y]"]
models = ["logreg"]
strategies = ["none", "random-under"]
[cv]
n_splits = 3
n_repeats = 1
"""


@dataclass
class Paths:
    root: Path
    store: Path
    data: Path
    grid: Path
    other_store: Path

    def grid_with(self, old: str, new: str, name: str = "bad.toml") -> Path:
        path = self.root / "cases" / name
        path.parent.mkdir(exist_ok=True)
        text = self.grid.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new))
        return path

    def fresh(self, name: str = "fresh") -> Path:
        """A results folder that must still not exist after the case."""
        return self.root / "cases" / name


def _csv(path: Path, n: int = 90, seed: int = 0, columns: str = "x0,x1,y") -> None:
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 4 == 0).astype(int)
    frame = pd.DataFrame({"x0": rng.normal(size=n) + y, "x1": rng.normal(size=n), "y": y})
    path.write_text(columns + "\n" + frame.to_csv(index=False, header=False))


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    root = tmp_path_factory.mktemp("bad_input")
    data = root / "data.csv"
    _csv(data)
    grid = root / "grid.toml"
    grid.write_text(GRID.format(data=data))
    store = root / "store"
    run_grid(parse_grid(grid.read_text(), str(grid)), store, backend="sequential")
    other = root / "other"
    run_grid(parse_grid(grid.read_text().replace("seed = 3", "seed = 4"), str(grid)), other, backend="sequential")
    return Paths(root, store, data, grid, other)


Case = Callable[[Paths], tuple[list[str], str]]


def _grid_case(old: str, new: str, expected: str) -> Case:
    return lambda p: (["run", str(p.grid_with(old, new)), "--results", str(p.fresh())], expected)


def _raw_grid(text: bytes, expected: str) -> Case:
    def case(p: Paths) -> tuple[list[str], str]:
        path = p.root / "cases" / "raw.toml"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text)
        return ["run", str(path), "--results", str(p.fresh())], expected
    return case


def _file_case(csv: Callable[[Path], None], entry: str, expected: str) -> Case:
    def case(p: Paths) -> tuple[list[str], str]:
        data = p.root / "cases" / "case.csv"
        data.parent.mkdir(exist_ok=True)
        csv(data)
        grid = p.grid_with('"keel:glass1", "file:' + str(p.data) + '[target=y]"', entry.format(data=data))
        return ["run", str(grid), "--results", str(p.fresh())], expected
    return case


def _damaged(p: Paths) -> Path:
    """A copy of the store with its header overwritten."""
    copy = p.root / "cases" / "damaged"
    if not copy.exists():
        shutil.copytree(p.store, copy)
        with open(store_path(copy), "r+b") as handle:
            handle.write(b"not a database at all")
    return copy


def _schema_one(p: Paths) -> Path:
    copy = p.root / "cases" / "schema1"
    if not copy.exists():
        shutil.copytree(p.store, copy)
        with sqlite3.connect(store_path(copy)) as conn:
            conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    return copy


def _a_file(p: Paths) -> Path:
    path = p.root / "cases" / "a-file"
    path.parent.mkdir(exist_ok=True)
    path.write_text("not a folder")
    return path


def _shadowing_plugin(p: Paths) -> Path:
    folder = p.root / "cases" / "shadow_plugins"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fake_smote.py").write_text(
        "from imbench.strategies import register_strategy\nfrom imbench.strategies.base import Strategy\n\n\n"
        "@register_strategy\nclass FakeSmote(Strategy):\n    name = 'smote'\n    family = 'oversampling'\n")
    return folder


CASES: dict[str, Case] = {
    # --- grid files ---------------------------------------------------------------------------------
    "grid missing": lambda p: (["run", str(p.root / "nope.toml")], "grid file not found"),
    "grid is a folder": lambda p: (["run", str(p.root)], "is a folder, not a grid file"),
    "grid not UTF-8": _raw_grid(b'name = "x"\n# caf\xe9\n', "raw.toml:2: not UTF-8 text"),
    "malformed TOML": _grid_case('models = ["logreg"]', 'models = ["logreg"', "bad.toml:5: malformed TOML: Unclosed array"),
    "unknown top-level key": _grid_case("seed = 3", "seed = 3\nsead = 4", "unknown key in grid 'sead'"),
    "unknown dataset": _grid_case('"keel:glass1"', '"keel:glas1"', "unknown dataset 'keel:glas1': did you mean"),
    "unknown model": _grid_case('["logreg"]', '["logreg", "lgbm"]', "unknown model 'lgbm'"),
    "unknown strategy": _grid_case('"random-under"', '"random-undr"', "unknown strategy 'random-undr'"),
    "unknown strategy parameter": _grid_case('"random-under"', '{name = "random-under", ratio = 0.5}',
                                             "unknown parameter of strategy 'random-under' 'ratio'"),
    "strategy listed twice": _grid_case('"random-under"', '"random-under", "random-under"', "is listed twice"),
    "n_splits below 2": _grid_case("n_splits = 3", "n_splits = 1", "`n_splits` must be an integer ≥ 2"),
    "negative seed": _grid_case("seed = 3", "seed = -1", "`seed` must be an integer ≥ 0"),
    "empty datasets": _raw_grid(b'datasets = []\nmodels = ["logreg"]\nstrategies = ["none"]\n',
                                "`datasets` must be a non-empty list"),
    "unknown posthoc step": _grid_case('strategies = ["none", "random-under"]',
                                       'strategies = ["none", "random-under"]\nposthoc = ["treshold:f1"]',
                                       "unknown posthoc step 'treshold'"),
    "inner_folds of 1": _grid_case("n_repeats = 1", "n_repeats = 1\ninner_folds = 1",
                                   "`inner_folds` must be an integer ≥ 2"),
    "negative cell_timeout": _grid_case("n_repeats = 1", "n_repeats = 1\n[limits]\ncell_timeout = -5",
                                        "`cell_timeout` must be a positive number"),
    "unknown key in [cv]": _grid_case("n_repeats = 1", "n_repeats = 1\nfolds = 2", "unknown key in [cv] 'folds'"),
    "unknown key in [metrics]": _grid_case("[cv]", "[metrics]\nbins = 5\n[cv]", "unknown key in [metrics] 'bins'"),
    "selection leaves nothing": _grid_case("[cv]", "[select]\nmax_rows = 10\n[cv]", "no dataset left with [select]"),
    "name is a relative path": _grid_case('"matrix"', '"../../escape"', "grid `name` '../../escape' is not a plain"),
    "name is an absolute path": _grid_case('"matrix"', '"/tmp/escape"', "grid `name` '/tmp/escape' is not a plain"),
    "name is ..": _grid_case('"matrix"', '".."', "grid `name` '..' is not a plain name"),
    "name is empty": _grid_case('"matrix"', '""', "grid `name` '' is not a plain name"),
    "name with a NUL byte": _grid_case('"matrix"', '"a\\u0000b"', "grid `name` 'a\\x00b' is not a plain name"),
    # --- data files ---------------------------------------------------------------------------------
    "data file missing": lambda p: (["run", str(p.grid_with(str(p.data), str(p.root / "gone.csv"))), "--results",
                                     str(p.fresh())], "file not found"),
    "target column missing": _file_case(_csv, '"file:{data}[target=label]"', "unknown target column 'label'"),
    "positive class absent": _file_case(_csv, '"file:{data}[target=y,positive=7]"', "positive class"),
    "too few positives": _file_case(lambda path: _csv(path, n=7), '"file:{data}[target=y]"',
                                    "stratified 3-fold CV needs at least 3"),
    "duplicate CSV columns": _file_case(lambda path: _csv(path, columns="x0,x0,y"), '"file:{data}[target=y]"',
                                        "duplicate column names x0"),
    "unsupported data file type": _file_case(_csv, '"file:{data}.xlsx[target=y]"', "file not found"),
    # --- run options --------------------------------------------------------------------------------
    "run --metric unknown": lambda p: (["run", str(p.grid), "--results", str(p.fresh()), "--metric", "pr_aux"],
                                       "unknown metric 'pr_aux'"),
    "run --metric prevalence": lambda p: (["run", str(p.grid), "--results", str(p.fresh()), "--metric", "prevalence"],
                                          "`prevalence` is a yardstick of AP"),
    "run --shard 0/3": lambda p: (["run", str(p.grid), "--results", str(p.fresh()), "--shard", "0/3"],
                                  "I must be between 1 and N"),
    "run --shard x": lambda p: (["run", str(p.grid), "--results", str(p.fresh()), "--shard", "half"], "write I/N"),
    "run --datasets matching nothing": lambda p: (["run", str(p.grid), "--results", str(p.fresh()), "--datasets",
                                                   "keel:yeast*"], "--datasets 'keel:yeast*' matches none"),
    "run --strategies unknown": lambda p: (["run", str(p.grid), "--results", str(p.fresh()), "--strategies", "smote"],
                                           "--strategies 'smote' matches none of the grid's 2 strategy points"),
    "--results is a file": lambda p: (["run", str(p.grid), "--results", str(_a_file(p))], "is a file, not a folder"),
    "--results below a file": lambda p: (["run", str(p.grid), "--results", str(_a_file(p) / "r")],
                                         "lies below a file"),
    "--plugins not a folder": lambda p: (["run", str(p.grid), "--plugins", str(p.root / "nowhere")],
                                         "not a directory"),
    "plugin shadows a built-in": lambda p: (["run", str(p.grid), "--results", str(p.fresh()), "--plugins",
                                             str(_shadowing_plugin(p))], "strategy 'smote' from plugin"),
    "plan --shard bad": lambda p: (["plan", str(p.grid), "--shard", "3/2", "--probe", "0"], "I must be between"),
    "plan of a missing grid": lambda p: (["plan", str(p.root / "nope.toml")], "grid file not found"),
    # --- existing stores ----------------------------------------------------------------------------
    "resume with another seed": lambda p: (["run", str(p.grid_with("seed = 3", "seed = 9")), "--results",
                                            str(p.store)], "holds a run with a different `seed`"),
    "run into a damaged store": lambda p: (["run", str(p.grid), "--results", str(_damaged(p))],
                                           "not an imbench results store"),
    "export a damaged store": lambda p: (["export", str(_damaged(p)), "--out", str(p.fresh())],
                                         "not an imbench results store"),
    "leaderboard of a damaged store": lambda p: (["leaderboard", str(_damaged(p))], "not an imbench results store"),
    "check a damaged store": lambda p: (["check", str(_damaged(p))], "not an imbench results store"),
    "store of schema 1": lambda p: (["leaderboard", str(_schema_one(p))], "a results store of schema 1"),
    "no store in the folder": lambda p: (["leaderboard", str(p.root)], "no imbench results store here"),
    "export --out is a file": lambda p: (["export", str(p.store), "--out", str(_a_file(p))], "is a file, not a folder"),
    "report --out is a file": lambda p: (["report", str(p.store), "--out", str(_a_file(p))], "is a file, not a folder"),
    "leaderboard --out below a file": lambda p: (["leaderboard", str(p.store), "--out", str(_a_file(p) / "x")],
                                                 "lies below a file"),
    "run without a grid (click's usage error)": lambda p: (["run"], "Missing argument 'GRID_FILE'. (see 'imbench run "
                                                                 "--help')"),
    "an unknown option (click's usage error)": lambda p: (["leaderboard", str(p.store), "--bogus"],
                                                          "No such option '--bogus'"),
    "leaderboard --metric prevalence": lambda p: (["leaderboard", str(p.store), "--metric", "prevalence", "--out",
                                                   str(p.fresh())], "`prevalence` is a yardstick of AP"),
    "report --metric prevalence": lambda p: (["report", str(p.store), "--metric", "prevalence", "--out",
                                              str(p.fresh())], "`prevalence` is a yardstick of AP"),
    "leaderboard --metric unknown": lambda p: (["leaderboard", str(p.store), "--metric", "pr_auc", "--out",
                                                str(p.fresh())], "it is stored as 'ap'"),
    "leaderboard --model unknown": lambda p: (["leaderboard", str(p.store), "--model", "lgbm", "--out",
                                               str(p.fresh())], "unknown model in this store 'lgbm'"),
    "merge stores of different grids": lambda p: (["merge", str(p.fresh()), str(p.store), str(p.other_store)],
                                                  "not a part of the same grid"),
    "merge into an existing store": lambda p: (["merge", str(p.other_store), str(p.store)], "already holds a store"),
    "merge a folder without a store": lambda p: (["merge", str(p.fresh()), str(p.store), str(p.root)],
                                                 "no imbench results store here"),
    "merge a store twice": lambda p: (["merge", str(p.fresh()), str(p.store), str(p.store)], "a store is given twice"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_exit_2_and_changes_nothing(name: str, paths: Paths) -> None:
    shutil.rmtree(paths.fresh(), ignore_errors=True)  # left by an earlier failing case: fail only that one
    args, expected = CASES[name](paths)
    before = store_fingerprint(paths.store)
    out = run_cli_forked(*args, cwd=paths.root)
    assert out.returncode == 2, (out.returncode, out.output)
    assert out.stdout == "" and out.stderr.count("\n") == 1, out.output
    assert out.stderr.startswith("imbench: error: ") and "Traceback" not in out.output
    assert expected in out.stderr, out.stderr
    assert store_fingerprint(paths.store) == before
    assert not paths.fresh().exists()
    assert not (paths.root / "results").exists()  # a bad grid name never wrote anywhere


def test_the_matrix_covers_at_least_forty_cases() -> None:
    assert len(CASES) + len(READ_ONLY_CASES) + 1 >= 40


def test_a_second_run_while_one_holds_the_store_is_refused(paths: Paths) -> None:
    before = store_fingerprint(paths.store)
    with RunLock(paths.store):
        out = run_cli_forked("run", str(paths.grid), "--results", str(paths.store), cwd=paths.root)
    assert out.returncode == 2 and out.stdout == "" and out.stderr.count("\n") == 1, out.output
    assert f"another imbench run is writing this store (pid {os.getpid()}, started " in out.stderr
    assert store_fingerprint(paths.store) == before


def test_an_internal_error_still_exits_1_with_its_traceback(paths: Paths) -> None:
    def plant_a_bug() -> None:
        import imbench.benchmarks.spec.grid

        def broken(path: object) -> None:
            raise KeyError("a bug in imbench, not the user's mistake")

        imbench.benchmarks.spec.grid.load_grid = broken  # type: ignore[assignment]

    out = run_cli_forked("run", str(paths.grid), "--results", str(paths.fresh()), before=plant_a_bug, cwd=paths.root)
    assert out.returncode == 1
    assert "Traceback" in out.stderr and "a bug in imbench" in out.stderr


# --- a store on a read-only file system ------------------------------------------------------------

def _read_only_view(paths: Paths) -> Path:
    return paths.root / "ro-view"


READ_ONLY_CASES: dict[str, Callable[[Path, Paths], tuple[list[str], str]]] = {
    "leaderboard of a read-only store without --out": lambda ro, p: (["leaderboard", str(ro)],
                                                                      "read-only file system"),
    "export of a read-only store without --out": lambda ro, p: (["export", str(ro)], "read-only file system"),
    "run into a read-only folder": lambda ro, p: (["run", str(p.grid), "--results", str(ro / "new")],
                                                  "read-only file system"),
    "stress of a read-only store without --out": lambda ro, p: (["stress", str(ro)], "read-only file system"),
}


def _in_read_only_mount(paths: Paths, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Run imbench commands where `paths.store` is seen read-only at ro-view (a private mount
    namespace: nothing is mounted for anyone else, and nothing stays mounted)."""
    if shutil.which("unshare") is None:
        pytest.skip("needs util-linux `unshare` to mount a read-only view")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a mount namespace here: {probe.stderr.strip()}")
    view = _read_only_view(paths)
    view.mkdir(exist_ok=True)
    logs = paths.root / "ro-logs"
    logs.mkdir(exist_ok=True)
    exe = Path(sys.executable).with_name("imbench")
    lines = ["set -e", f"mount --bind {_quote(str(paths.store))} {_quote(str(view))}",
             f"mount -o remount,ro,bind {_quote(str(view))}", "set +e"]
    for i, command in enumerate(commands):
        lines.append(f"{_quote(str(exe))} {' '.join(map(_quote, command))} > {logs}/out{i} 2> {logs}/err{i}; "
                     f"echo $? > {logs}/rc{i}")
    done = subprocess.run(["unshare", "-rm", "sh", "-c", "\n".join(lines)], capture_output=True, text=True,
                          cwd=paths.root, env={**os.environ, "COLUMNS": "200"}, timeout=900)
    assert done.returncode == 0, done.stderr
    return [subprocess.CompletedProcess(command, int((logs / f"rc{i}").read_text()), (logs / f"out{i}").read_text(),
                                        (logs / f"err{i}").read_text()) for i, command in enumerate(commands)]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def test_read_only_store_is_analysable_with_out_and_refused_in_one_line_without(paths: Paths) -> None:
    before = store_fingerprint(paths.store)
    out_dir = paths.root / "ro-out"
    view = _read_only_view(paths)
    cases = [case(view, paths) for case in READ_ONLY_CASES.values()]
    commands = [args for args, _ in cases] + [["leaderboard", str(view), "--out", str(out_dir)],
                                              ["export", str(view), "--out", str(out_dir / "export")]]
    results = _in_read_only_mount(paths, *commands)
    for (args, expected), result in zip(cases, results):
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 2, (args, result.stderr)
        assert len(lines) == 1 and lines[0].startswith("imbench: error: ") and expected in lines[0], (args, lines)
    board, export = results[-2], results[-1]
    assert board.returncode == 0 and export.returncode == 0, (board.stderr, export.stderr)
    assert (out_dir / "leaderboard_ap.csv").is_file() and (out_dir / "export" / "cells.parquet").is_file()
    assert len(pd.read_parquet(out_dir / "export" / "cells.parquet")) == before["cells"][0]
    assert store_fingerprint(paths.store) == before
    assert sorted(p.name for p in paths.store.iterdir()) == ["imbench.lock", "imbench.sqlite"]


def test_hints_never_name_a_command_that_does_not_exist() -> None:
    from imbench.foundation.names import unknown_name_message

    many = [f"name{i}" for i in range(20)]
    assert "imbench list" not in unknown_name_message("metric", "zzz", many)
    assert "imbench list" not in unknown_name_message("key in grid", "zzz", many)
    assert "`imbench list strategies`" in unknown_name_message("strategy", "zzz", many)
    assert ROOT.is_dir()
