"""Plugins: modules that register strategies, models, post-hoc steps or dataset sources with the usual
decorators, from three places:

- a module dropped into `strategies/` (imported with the package, see strategies/__init__.py);
- an installed package declaring the module in the entry-point group `imbench.strategies` (or
  `imbench.models`, `imbench.datasets`: the groups only say what the module adds, all load the same
  way); an entry point naming a function instead of a module is called once;
- plugin directories: every `*.py` file in a directory given to `imbench run --plugins DIR` (or
  listed in `IMBENCH_PLUGINS`, a path list, which is how worker processes learn them).

External plugins (entry points and IMBENCH_PLUGINS) load once per process, on the first registry
lookup or when the runner starts work (`load_external_plugins`) — not while `strategies` itself is
being imported, because a plugin imports `strategies` (or `datasets`) itself.
A plugin that fails to import disables only itself, with a one-line warning saying why; one that
registers a name another module owns (`smote`) stops the command with one line naming both
(foundation/names.py), since going on would mix two meanings of one name in a store.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

from imbench.foundation.names import NameConflictError
from imbench.foundation.namespace import bare_room_import

PLUGIN_ENV = "IMBENCH_PLUGINS"
#: Plugins whose failure this process (or its parent) has already reported, as a JSON list: worker
#: processes inherit it (IMBENCH_* variables are passed on) and stay quiet about the same failures.
REPORTED_ENV = "IMBENCH_PLUGINS_REPORTED"
ENTRY_POINT_GROUPS = ("imbench.strategies", "imbench.models", "imbench.datasets")
#: Plugin name → why it is disabled.
PLUGIN_FAILURES: dict[str, str] = {}
_LOADED: set[Path] = set()
_LOADED_ENTRY_POINTS: set[str] = set()
_external_loaded = False


def disable(plugin: str, exc: BaseException) -> None:
    """Record and announce a plugin that failed to load; the run goes on without it.

    The warning is attributed to the plugin itself (line 0), so it prints as one line naming the plugin
    and the reason, without a line of imbench's source under it."""
    reason = bare_room_import(exc) or f"{type(exc).__name__}: {exc}".splitlines()[0]
    PLUGIN_FAILURES[plugin] = reason
    reported = _reported()
    if plugin in reported:
        return  # a worker process: the client that started it has already said so
    os.environ[REPORTED_ENV] = json.dumps(sorted({*reported, plugin}))
    warnings.warn_explicit(f"imbench: plugin {plugin} disabled: {reason}", UserWarning, filename=plugin, lineno=0)


def _reported() -> set[str]:
    try:
        return set(json.loads(os.environ.get(REPORTED_ENV, "[]")))
    except ValueError:
        return set()


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
    except NameConflictError:
        raise
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


def load_entry_points(groups: Iterable[str] = ENTRY_POINT_GROUPS) -> None:
    """Import the plugin modules installed packages declare (each entry point once per process)."""
    import types
    from importlib.metadata import entry_points

    for group in groups:
        for point in entry_points(group=group):
            ident = f"{group}:{point.name}={point.value}"
            if ident in _LOADED_ENTRY_POINTS:
                continue
            _LOADED_ENTRY_POINTS.add(ident)
            try:
                loaded = point.load()
                if callable(loaded) and not isinstance(loaded, (type, types.ModuleType)):
                    loaded()
            except NameConflictError:
                raise
            except Exception as exc:
                disable(f"{point.value} (entry point {point.name!r} in {group})", exc)


def load_external_plugins() -> None:
    """Entry points, then IMBENCH_PLUGINS directories: once per process, when first needed."""
    global _external_loaded
    if _external_loaded:
        return
    _external_loaded = True
    load_entry_points()
    load_plugin_dirs(env_plugin_dirs())
