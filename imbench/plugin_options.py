"""`--plugins DIR`: the plugin folders a command loads before it looks up any name."""
from __future__ import annotations

from pathlib import Path

from imbench.errors import UserError


def load_plugins(plugin_dirs: tuple[Path, ...]) -> None:
    """Import every plugin module of each folder here, and tell worker processes to do the same."""
    for directory in plugin_dirs:
        if not directory.is_dir():
            raise UserError(f"--plugins {directory}: not a directory")
    if plugin_dirs:
        from imbench.foundation.plugins import add_plugin_dirs

        add_plugin_dirs(plugin_dirs)
