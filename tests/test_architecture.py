"""The house imports one way: each room imports only rooms below it (docs/architecture.md).

foundation (0) ← datasets, strategies (1, peers: neither imports the other) ← the harness's rooms —
benchmarks.spec (2: grid files and cells) ← benchmarks.store (3: the store and its readers) ←
benchmarks.execution (4: fits and workers) ← benchmarks.planning (5) ← benchmarks (6: the runner and
the plugin contract) — ← analysis (7, which reads the store only) ← imbench (8: the CLI and Python API).
The walk reads every module's imports, those inside functions included, so a lazy import can neither
climb nor close a circle; there are no exceptions.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.helpers import ROOT

#: Folder of each room, relative to the repository, and its rank.
ROOMS = {"foundation": 0, "datasets": 1, "strategies": 1, "benchmarks/spec": 2, "benchmarks/store": 3,
         "benchmarks/execution": 4, "benchmarks/planning": 5, "benchmarks": 6, "analysis": 7, "imbench": 8}


def room_of_module(module: str) -> str | None:
    """`imbench.benchmarks.spec.grid` → "benchmarks/spec"; `imbench.cli` → "imbench"; others None."""
    parts = module.split(".")
    if parts[0] != "imbench":
        return None
    for depth in (2, 1):
        folder = "/".join(parts[1:1 + depth])
        if len(parts) > depth and folder in ROOMS:
            return folder
    return "imbench"


def module_name(path: Path) -> str:
    """The dotted name a module of the repository is imported under."""
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) if parts[0] == "imbench" else ".".join(["imbench", *parts])


def package_modules() -> list[Path]:
    """Every module installed as part of imbench (perf scripts and the bundle's build tool are not)."""
    top = {folder.split("/")[0] for folder in ROOMS}
    return [path for room in sorted(top) for path in sorted((ROOT / room).rglob("*.py"))
            if "tools" not in path.relative_to(ROOT).parts]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, imported imbench module) for every absolute import in `path`, inside functions too;
    `from imbench.x import y` counts as importing `imbench.x.y` when that is a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("imbench")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("imbench"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.append((node.lineno, child if _is_module(child) else node.module))
    return found


def _is_module(dotted: str) -> bool:
    """Whether `imbench.a.b` is a module or package of the repository (not a name defined in one)."""
    parts = dotted.split(".")[1:]
    base = ROOT if parts and parts[0] in {folder.split("/")[0] for folder in ROOMS} - {"imbench"} else ROOT / "imbench"
    return bool(parts) and (base.joinpath(*parts).with_suffix(".py").is_file() or
                            base.joinpath(*parts, "__init__.py").is_file())


def upward_imports() -> list[str]:
    bad = []
    for path in package_modules():
        room = room_of_module(module_name(path))
        for line, name in imported_modules(path):
            other = room_of_module(name)
            if other is None or other == room or (other == "imbench" and name == "imbench"):
                continue
            if ROOMS[other] >= ROOMS[room]:
                bad.append(f"{path.relative_to(ROOT)}:{line} ({room}) imports {name} ({other})")
    return bad


def import_circles() -> list[list[str]]:
    """Every set of modules that import each other in a circle (Tarjan's strongly connected components)."""
    graph: dict[str, set[str]] = defaultdict(set)
    modules = {module_name(path): path for path in package_modules()}
    for name, path in modules.items():
        graph[name] |= {imported for _, imported in imported_modules(path) if imported in modules and imported != name}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(modules):
        if node not in index:
            visit(node)
    return circles


def test_no_room_imports_a_room_above_it_or_beside_it() -> None:
    assert len(package_modules()) > 100, "no modules found"
    assert upward_imports() == []


def test_no_import_circle_even_through_imports_inside_functions() -> None:
    assert import_circles() == []


def test_the_checks_see_upward_imports_and_circles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk itself: an import inside a function is found like one at the top, and a circle of two
    modules is one."""
    module = tmp_path / "m.py"
    module.write_text("import numpy\n\ndef f():\n    from imbench.cli import main\n    import imbench.strategies.base\n")
    assert imported_modules(module) == [(4, "imbench.cli"), (5, "imbench.strategies.base")]
    assert room_of_module("imbench.benchmarks.spec.grid") == "benchmarks/spec"
    assert room_of_module("imbench.benchmarks.runner") == "benchmarks"
    assert room_of_module("imbench.analysis.figures.cd") == "analysis"
    assert room_of_module("numpy") is None
    fake = tmp_path / "foundation"
    fake.mkdir()
    (fake / "a.py").write_text("from imbench.foundation import b\n")
    (fake / "b.py").write_text("def g():\n    from imbench.foundation import a\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "package_modules", lambda: sorted(fake.glob("*.py")))
    assert import_circles() == [["imbench.foundation.a", "imbench.foundation.b"]]


def _rooms_loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    # `imbench.benchmarks` itself is only the harness's package: its rooms are its subpackages
    return {room for name in out.stdout.split()
            if name != "imbench.benchmarks" and (room := room_of_module(name)) is not None}


@pytest.mark.parametrize(("statement", "absent"), [
    ("import imbench.foundation.names, imbench.foundation.metrics, imbench.foundation.hashing, "
     "imbench.foundation.plugins", set(ROOMS) - {"foundation", "imbench"}),
    ("import imbench.datasets", set(ROOMS) - {"foundation", "datasets", "imbench"}),
    ("import imbench.strategies", set(ROOMS) - {"foundation", "strategies", "imbench"}),
    ("import imbench.benchmarks.runner", {"analysis"}),
    # analysis reads the store, which describes itself: never the strategy registry, the grid or the runner
    ("import imbench.analysis.loading, imbench.analysis.leaderboard, imbench.analysis.report, "
     "imbench.analysis.stress, imbench.analysis.budget, imbench.analysis.calibration, "
     "imbench.analysis.anti_patterns, imbench.analysis.figures",
     {"strategies", "datasets", "benchmarks/spec", "benchmarks/execution", "benchmarks/planning", "benchmarks"}),
])
def test_importing_a_room_loads_nothing_above_it(statement: str, absent: set[str]) -> None:
    assert not (_rooms_loaded_by(statement) & absent)


def test_analysis_imports_only_the_store_of_the_harness() -> None:
    """Not even lazily: a store must be readable without the code (or plugins) that wrote it."""
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}"
           for path in sorted((ROOT / "analysis").rglob("*.py")) for line, name in imported_modules(path)
           if room_of_module(name) not in ("foundation", "benchmarks/store", "analysis")]
    assert bad == []
