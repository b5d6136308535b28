"""Strategy, model and post-hoc registries; every module in this package registers itself on import.

The built-in families are imported here by name, so a renamed module fails loudly. Plugins are found
by convention (benchopt-style): any other module dropped into this folder is imported after them, and
the modules installed packages declare in the entry-point groups `imbench.strategies`, `imbench.models`
and `imbench.datasets` and the plugin directories in IMBENCH_PLUGINS follow before the first registry
lookup (foundation/plugins.py). A plugin module that fails to import disables only itself, with a
one-line warning.
"""
from __future__ import annotations

from imbench.foundation.namespace import refuse_bare_import

refuse_bare_import(__name__)

import importlib
import pkgutil

from imbench.foundation.names import UnknownNameError, before_first_lookup
from imbench.foundation.plugins import PLUGIN_FAILURES, disable, load_external_plugins
from imbench.strategies.base import STRATEGIES, Strategy, TrainingContext, get_strategy, register_strategy
from imbench.strategies.models import MODELS, ModelSpec, get_model, register_model
from imbench.strategies.posthoc import POSTHOC, PostHoc, register_posthoc


# The built-in families (each registers its strategies on import).
from imbench.strategies import baseline, chance, ensemble, focal, hybrid, leakage, oversampling, undersampling, weighting  # noqa: E402,F401

#: Modules of this package that are not drop-in plugins.
_OWN = {"base", "models", "preprocessing", "posthoc", "resampling", "baseline", "chance", "ensemble", "contract", "focal", "hybrid",
        "leakage", "oversampling", "undersampling", "weighting"}


def _import_dropin_modules() -> None:
    """Modules a user saved into this folder: imported by convention; a broken one disables itself."""
    for info in pkgutil.iter_modules(__path__):
        if info.name in _OWN or info.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{__name__}.{info.name}")
        except Exception as exc:  # a broken module disables only itself
            disable(f"imbench.strategies.{info.name}", exc)


_import_dropin_modules()
before_first_lookup(load_external_plugins)

__all__ = ["MODELS", "PLUGIN_FAILURES", "POSTHOC", "STRATEGIES", "ModelSpec", "PostHoc", "Strategy", "TrainingContext",
           "UnknownNameError", "get_model", "get_strategy", "register_model", "register_posthoc", "register_strategy"]
