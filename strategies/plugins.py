"""Plugins from directories: every `*.py` file in a plugin directory is imported once and may register
strategies, models or dataset sources with the usual decorators.

Directories come from `imbench run --plugins DIR` (or `IMBENCH_PLUGINS`, a path list), and are
passed to worker processes through that environment variable, so workers know the same names.
A plugin that fails to import disables only itself, with a one-line warning saying why.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

PLUGIN_ENV = "IMBENCH_PLUGINS"
#: Plugin name → why it is disabled.
PLUGIN_FAILURES: dict[str, str] = {}
_LOADED: set[Path] = set()


def disable(plugin: str, exc: BaseException) -> None:
    """Record and announce a plugin that failed to load; the run goes on without it."""
    reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
    PLUGIN_FAILURES[plugin] = reason
    warnings.warn(f"imbench: plugin {plugin} disabled: {reason}", stacklevel=3)


def load_plugin_file(path: Path) -> None:
    path = path.resolve()
    if path in _LOADED:
        return
    _LOADED.add(path)
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    module_name = f"imbench_plugin_{path.stem}_{digest}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # so pickled objects defined there resolve in workers
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        disable(str(path), exc)


def load_plugin_dirs(dirs: Iterable[str | Path]) -> None:
    """Import every plugin file (sorted, skipping names starting with `_`) in each directory."""
    for directory in dirs:
        directory = Path(directory)
        if not directory.is_dir():
            disable(str(directory), FileNotFoundError(f"plugin directory {directory} does not exist"))
            continue
        for path in sorted(directory.glob("*.py")):
            if not path.name.startswith("_"):
                load_plugin_file(path)


def env_plugin_dirs() -> list[str]:
    return [d for d in os.environ.get(PLUGIN_ENV, "").split(os.pathsep) if d]


def add_plugin_dirs(dirs: Iterable[str | Path]) -> None:
    """Load plugin directories here and export them so worker processes load them too."""
    absolute = [str(Path(d).resolve()) for d in dirs]
    merged = list(dict.fromkeys(env_plugin_dirs() + absolute))
    os.environ[PLUGIN_ENV] = os.pathsep.join(merged)
    load_plugin_dirs(absolute)
