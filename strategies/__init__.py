"""Strategy and model registries; every module in this package registers itself on import.

Discovery is by convention (benchopt-style): importing `strategies` imports each module here, and a
module that fails to import disables only itself, with a one-line warning.
"""
from __future__ import annotations

import importlib
import pkgutil
import warnings

from strategies.base import STRATEGIES, Strategy, TrainingContext, get_strategy, register_strategy
from strategies.models import MODELS, ModelSpec, get_model, register_model
from strategies.registry import UnknownNameError

#: Marks this package as imbench's own (the top-level name is generic).
IMBENCH_PACKAGE = True

_INFRASTRUCTURE = {"base", "models", "registry", "preprocessing", "plugins"}
PLUGIN_FAILURES: dict[str, str] = {}


def _import_builtin_modules() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name in _INFRASTRUCTURE or info.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{__name__}.{info.name}")
        except Exception as exc:  # a broken plugin disables only itself
            PLUGIN_FAILURES[f"strategies.{info.name}"] = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"imbench: strategy module strategies.{info.name} disabled: {type(exc).__name__}: {exc}",
                          stacklevel=2)


_import_builtin_modules()

__all__ = ["MODELS", "STRATEGIES", "ModelSpec", "Strategy", "TrainingContext", "UnknownNameError",
           "get_model", "get_strategy", "register_model", "register_strategy"]
