"""Name → object registries (models, strategies, post-hoc steps, dataset sources) and "did you mean".

A registry is a plain dict with a decorator and a lookup that answers a typo with the closest valid
names, because a grid that names `smoet` should fail in one readable line, not a KeyError.
"""
from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
#: Run once, before the first lookup in any registry (loads external plugins; see foundation/plugins.py).
_BEFORE_FIRST_LOOKUP: list[Callable[[], None]] = []


def before_first_lookup(hook: Callable[[], None]) -> None:
    _BEFORE_FIRST_LOOKUP.append(hook)


def _run_hooks() -> None:
    while _BEFORE_FIRST_LOOKUP:
        _BEFORE_FIRST_LOOKUP.pop(0)()


class UnknownNameError(LookupError):
    """A name that is not registered; the message lists the closest valid names."""


class NameConflictError(ValueError):
    """A registration that would replace a name another module registered (a plugin shadowing a
    built-in, or two plugins claiming one name)."""


def describe_source(module: str) -> str:
    """A registering module as a user recognises it: a plugin file's path, else the module name."""
    loaded = sys.modules.get(module)
    path = getattr(loaded, "__file__", None)
    if module.startswith("imbench_plugin_") and path:
        return f"plugin {path}"
    return f"module {module}"


def caller_module(depth: int = 2) -> str:
    """The module that called the function calling this (who registers a name)."""
    return str(sys._getframe(depth).f_globals.get("__name__", "?"))


def closest_names(name: str, choices: list[str], n: int = 3) -> list[str]:
    """The valid names a user most likely meant (difflib ratio, then prefix match)."""
    close = difflib.get_close_matches(name, choices, n=n, cutoff=0.5)
    if not close:
        stem = name.split(":")[-1].lower()[:4]
        close = [c for c in choices if stem and stem in c.lower()][:n]
    return close


def unknown_name_message(kind: str, name: str, choices: list[str]) -> str:
    close = closest_names(name, choices)
    if close:
        hint = f"did you mean {', '.join(repr(c) for c in close)}?"
    elif len(choices) <= 10:
        hint = f"valid: {', '.join(choices)}"
    elif kind in LISTABLE:
        hint = f"run `imbench list {LISTABLE[kind]}` to see the {len(choices)} valid names"
    else:
        hint = f"valid: {', '.join(choices[:10])} and {len(choices) - 10} more"
    return f"unknown {kind} {name!r}: {hint}"


#: Kinds of names `imbench list` shows, and the word it takes (hints never name a command that does not exist).
LISTABLE = {"dataset": "datasets", "model": "models", "strategy": "strategies"}


class Registry(Generic[T]):
    """Holds registered items by name, with the module that registered each.

    A name belongs to the module that registered it first: registering it again from another module
    (a plugin reusing `smote`) is refused, so a store never mixes two meanings of one name; the same
    module registering it again (imported anew in a worker) replaces it harmlessly."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._sources: dict[str, str] = {}

    def add(self, name: str, item: T, source: str | None = None) -> T:
        """Register `item` under `name`; `source` is the registering module (default: the item's)."""
        source = source or _module_of(item)
        known = self._sources.get(name)
        if known is not None and known != source:
            raise NameConflictError(f"{self.kind} {name!r} from {describe_source(source)} would replace the one from "
                                    f"{describe_source(known)}: register it under another name")
        self._items[name] = item
        self._sources[name] = source
        return item

    def source(self, name: str) -> str:
        """The module that registered `name`."""
        return self._sources[name]

    def get(self, name: str) -> T:
        _run_hooks()
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(unknown_name_message(self.kind, name, sorted(self._items))) from None

    def __contains__(self, name: object) -> bool:
        _run_hooks()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        _run_hooks()
        return iter(sorted(self._items))

    def __len__(self) -> int:
        _run_hooks()
        return len(self._items)

    def items(self) -> list[tuple[str, T]]:
        _run_hooks()
        return sorted(self._items.items())


def _module_of(item: Any) -> str:
    """Where a class (or an instance of a class) was defined."""
    owner = item if isinstance(item, type) else type(item)
    return str(getattr(owner, "__module__", "?"))
