"""Selecting datasets by metadata: source, imbalance ratio, rows and features (inclusive ranges).

Shared by grid files (`[select]`) and `imbench list datasets --ir 10:200`, so a selection that a listing
shows is exactly what a grid with the same filters runs.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from imbench.datasets.base import DatasetError

Range = tuple[float, float]
ANY: Range = (-math.inf, math.inf)


class SelectionError(DatasetError):
    """A malformed range or filter (a user error: one line, exit code 2); `key` names the filter."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def parse_range(text: str, what: str) -> Range:
    """'10:200' → (10, 200); open ends allowed: '10:' and ':200'; a single number means exactly that."""
    text = str(text).strip()
    low, sep, high = text.partition(":")
    try:
        lo = float(low) if low.strip() else -math.inf
        hi = (float(high) if high.strip() else math.inf) if sep else lo
    except ValueError:
        raise SelectionError(f"{what} range {text!r} must look like LOW:HIGH (e.g. 10:200, 10: or :200)",
                             what) from None
    return _checked((lo, hi), what)


def range_value(value: Any, what: str) -> Range:
    """A range from a grid file: [low, high] (either may be omitted as \"\"), or 'LOW:HIGH'."""
    if isinstance(value, str):
        return parse_range(value, what)
    if isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                              for v in value):
        return _checked((float(value[0]), float(value[1])), what)
    raise SelectionError(f"`{what}` must be [low, high] (e.g. [10, 200]) or \"low:high\", got {value!r}", what)


def _checked(bounds: Range, what: str) -> Range:
    if bounds[0] > bounds[1]:
        raise SelectionError(f"{what} range {bounds[0]:g}:{bounds[1]:g} is empty (low > high)", what)
    return bounds


@dataclass(frozen=True)
class Selection:
    """Keep datasets whose source and metadata fall in every given range (bounds inclusive)."""

    sources: tuple[str, ...] = ()
    ir: Range = ANY
    rows: Range = ANY
    d: Range = ANY

    @property
    def active(self) -> bool:
        return bool(self.sources) or any(r != ANY for r in (self.ir, self.rows, self.d))

    def matches(self, meta: Mapping[str, Any]) -> bool:
        if self.sources and meta.get("source") not in self.sources:
            return False
        for key, (lo, hi) in (("ir", self.ir), ("n", self.rows), ("d", self.d)):
            if (lo, hi) == ANY:
                continue
            value = meta.get(key)
            if value is None or (isinstance(value, float) and math.isnan(value)) or not lo <= float(value) <= hi:
                return False
        return True

    def describe(self) -> str:
        parts = [f"source in {list(self.sources)}"] if self.sources else []
        for label, (lo, hi) in (("IR", self.ir), ("rows", self.rows), ("features", self.d)):
            if (lo, hi) != ANY:
                parts.append(f"{label} {'' if lo == -math.inf else f'{lo:g}'}:{'' if hi == math.inf else f'{hi:g}'}")
        return ", ".join(parts)


SELECT_KEYS = ("source", "ir", "rows", "min_rows", "max_rows", "d", "min_d", "max_d")


def selection_from_table(table: Mapping[str, Any]) -> Selection:
    """A grid's `[select]` table: source, ir, rows, d as ranges; min_/max_rows and min_/max_d as shorthands."""
    unknown = [k for k in table if k not in SELECT_KEYS]
    if unknown:
        raise SelectionError(f"unknown key in [select] {unknown[0]!r}: valid keys are {', '.join(SELECT_KEYS)}",
                             unknown[0])
    sources = table.get("source", ())
    sources = (sources,) if isinstance(sources, str) else tuple(sources)
    if not all(isinstance(s, str) for s in sources):
        raise SelectionError(f"`source` must be a name or a list of names, got {table.get('source')!r}", "source")

    def bounded(key: str, low_key: str, high_key: str) -> Range:
        lo, hi = range_value(table[key], key) if key in table else ANY
        for bound_key, index in ((low_key, 0), (high_key, 1)):
            if bound_key in table:
                value = table[bound_key]
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise SelectionError(f"`{bound_key}` must be a number, got {value!r}", bound_key)
                lo, hi = (max(lo, float(value)), hi) if index == 0 else (lo, min(hi, float(value)))
        return _checked((lo, hi), key)

    ir = range_value(table["ir"], "ir") if "ir" in table else ANY
    return Selection(sources=sources, ir=ir, rows=bounded("rows", "min_rows", "max_rows"),
                     d=bounded("d", "min_d", "max_d"))
