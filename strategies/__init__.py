"""Strategy and model registries; every module in this package registers itself on import.

Discovery is by convention (benchopt-style): importing `strategies` imports each module here; the
modules installed packages declare in the entry-point groups `imbench.strategies`, `imbench.models` and
`imbench.datasets`
and the plugin directories in IMBENCH_PLUGINS follow before the first registry lookup
(strategies/plugins.py). A module that fails to import disables only itself, with a one-line warning.
"""
from __future__ import annotations

import importlib
import pkgutil

from strategies.base import STRATEGIES, Strategy, TrainingContext, get_strategy, register_strategy
from strategies.models import MODELS, ModelSpec, get_model, register_model
from strategies.plugins import PLUGIN_FAILURES, disable, load_external_plugins
from strategies.posthoc import POSTHOC, PostHoc, register_posthoc
from strategies.registry import UnknownNameError, before_first_lookup

#: Marks this package as imbench's own (the top-level name is generic).
IMBENCH_PACKAGE = True

_INFRASTRUCTURE = {"base", "models", "registry", "preprocessing", "plugins", "posthoc", "resampling"}


def _import_builtin_modules() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name in _INFRASTRUCTURE or info.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{__name__}.{info.name}")
        except Exception as exc:  # a broken module disables only itself
            disable(f"strategies.{info.name}", exc)


_import_builtin_modules()
before_first_lookup(load_external_plugins)

__all__ = ["MODELS", "PLUGIN_FAILURES", "POSTHOC", "STRATEGIES", "ModelSpec", "PostHoc", "Strategy", "TrainingContext",
           "UnknownNameError", "get_model", "get_strategy", "register_model", "register_posthoc", "register_strategy"]
