"""Name → object registries (models, strategies, post-hoc steps, dataset sources) and "did you mean".

A registry is a plain dict with a decorator and a lookup that answers a typo with the closest valid
names, because a grid that names `smoet` should fail in one readable line, not a KeyError.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

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
    else:
        hint = f"run `imbench list {kind}s` to see the {len(choices)} valid names"
    return f"unknown {kind} {name!r}: {hint}"


class Registry(Generic[T]):
    """Holds registered items by name; later registrations of the same name replace earlier ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        self._items[name] = item
        return item

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
