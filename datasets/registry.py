"""Dataset name resolution: bundled names first, then registered sources by scheme (`scheme:rest`).

Sources beyond the bundle (OpenML, synthetic, user files, ...) register a loader for their scheme with
`register_source`; a name without a known scheme gets the closest valid names in its error.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Callable

import pandas as pd

from datasets.base import Dataset, DatasetError, validate
from datasets.bundled import load_bundled, manifest
from strategies.registry import unknown_name_message

SourceLoader = Callable[[str], Dataset]
SOURCES: dict[str, SourceLoader] = {}


def register_source(scheme: str) -> Callable[[SourceLoader], SourceLoader]:
    """Decorator: `@register_source("synthetic")` handles every name `synthetic...`."""
    def decorate(loader: SourceLoader) -> SourceLoader:
        SOURCES[scheme] = loader
        return loader
    return decorate


def resolve_name(name: str) -> str:
    """The canonical name: a bare bundled name ('yeast4') becomes 'keel:yeast4' when unambiguous."""
    bundled = manifest()
    if name in bundled:
        return name
    if ":" not in name and "[" not in name:
        matches = [full for full in bundled if full.split(":", 1)[1] == name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise DatasetError(f"dataset name {name!r} is ambiguous: use one of {matches}")
    if _scheme(name) in SOURCES:
        return name
    raise DatasetError(unknown_name_message("dataset", name, sorted(bundled)))


def expand_names(patterns: list[str]) -> list[str]:
    """Names and glob patterns (e.g. 'keel:yeast*') → canonical names, in the order given."""
    out: list[str] = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?") and "[" not in pattern:
            hits = sorted(n for n in manifest() if fnmatch.fnmatchcase(n, pattern)
                          or fnmatchcase_bare(n, pattern))
            if not hits:
                raise DatasetError(f"dataset pattern {pattern!r} matches no bundled dataset "
                                   "(see `imbench list datasets`)")
            out.extend(h for h in hits if h not in out)
        else:
            name = resolve_name(pattern)
            if name not in out:
                out.append(name)
    return out


def fnmatchcase_bare(full: str, pattern: str) -> bool:
    return ":" not in pattern and fnmatch.fnmatchcase(full.split(":", 1)[1], pattern)


def _scheme(name: str) -> str:
    return name.split(":", 1)[0].split("[", 1)[0]


def load_dataset(name: str) -> Dataset:
    """Load and validate a dataset by (possibly bare) name."""
    canonical = resolve_name(name)
    if canonical in manifest():
        dataset = load_bundled(canonical)
    else:
        dataset = SOURCES[_scheme(canonical)](canonical)
    return validate(dataset)


def list_datasets() -> pd.DataFrame:
    """One row per bundled dataset with its metadata, from the manifest (no data loaded)."""
    rows = [{"name": name, "source": e["source"], "n": e["n"], "d": e["d"], "n_pos": e["n_pos"], "ir": e["ir"],
             "n_categorical": len(e["categorical"]), "missing_rate": e["missing_rate"]}
            for name, e in manifest().items()]
    columns = ["name", "source", "n", "d", "n_pos", "ir", "n_categorical", "missing_rate"]
    return pd.DataFrame(rows, columns=columns)
