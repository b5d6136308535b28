"""The house imports one way: each room imports only rooms below it (DESIGN.md, "The rooms").

foundation (0) ← datasets, strategies (1, peers: neither imports the other) ← benchmarks (2) ←
analysis (3) ← imbench (4, the CLI and Python API). The test reads every module's imports, those
inside functions included, so a lazy import cannot climb either.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

RANKS = {"foundation": 0, "datasets": 1, "strategies": 1, "benchmarks": 2, "analysis": 3, "imbench": 4}


def package_modules() -> list[Path]:
    """Every module of the installed packages (benchmarks/perf holds scripts, not package modules)."""
    return [path for room in RANKS for path in sorted((ROOT / room).rglob("*.py"))
            if "perf" not in path.relative_to(ROOT).parts and "tools" not in path.relative_to(ROOT).parts]


def imported_rooms(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every absolute import of one of our rooms in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                 [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
        found += [(node.lineno, name) for name in names if name.split(".")[0] in RANKS]
    return found


def upward_imports() -> list[str]:
    bad = []
    for path in package_modules():
        room = path.relative_to(ROOT).parts[0]
        for line, name in imported_rooms(path):
            other = name.split(".")[0]
            if other != room and RANKS[other] >= RANKS[room]:
                bad.append(f"{path.relative_to(ROOT)}:{line} ({room}) imports {name} ({other})")
    return bad


def test_no_room_imports_a_room_above_it_or_beside_it() -> None:
    assert package_modules(), "no modules found"
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The walk itself: an import inside a function is found like one at the top."""
    module = tmp_path / "m.py"
    module.write_text("import numpy\n\ndef f():\n    from imbench.cli import main\n    import strategies.base\n")
    assert imported_rooms(module) == [(4, "imbench.cli"), (5, "strategies.base")]


def _modules_loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(("statement", "absent"), [
    ("import foundation.names, foundation.metrics, foundation.hashing, foundation.plugins",
     {"datasets", "strategies", "benchmarks", "analysis", "imbench"}),
    ("import datasets", {"strategies", "benchmarks", "analysis", "imbench"}),
    ("import strategies", {"datasets", "benchmarks", "analysis", "imbench"}),
    ("import benchmarks.runner", {"analysis", "imbench"}),
    # analysis reads the store, which describes itself: never the strategy registry or the runner
    ("import analysis.loading, analysis.leaderboard, analysis.report, analysis.stress, analysis.budget, "
     "analysis.calibration, analysis.anti_patterns, analysis.figures", {"strategies", "datasets", "imbench"}),
])

def test_importing_a_room_loads_nothing_above_it(statement: str, absent: set[str]) -> None:
    assert not (_modules_loaded_by(statement) & absent)


def test_analysis_never_imports_the_registries_or_the_runner() -> None:
    """Not even lazily: a store must be readable without the code (or plugins) that wrote it."""
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}"
           for path in sorted((ROOT / "analysis").rglob("*.py")) for line, name in imported_rooms(path)
           if name.split(".")[0] in ("strategies", "datasets") or
           (name.startswith("benchmarks") and name != "benchmarks.store")]
    assert bad == []
