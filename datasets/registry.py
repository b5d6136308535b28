"""Dataset name resolution: bundled names first, then registered sources by scheme (`scheme:rest`).

Sources beyond the bundle (OpenML, imbalanced-learn, scikit-learn, synthetic, user files) register a
loader for their scheme with `register_source`, plus optional hooks: `canonical` (the one stable
spelling of a name, e.g. `openml:credit-g` → `openml:31`), `names` (what globs and listings can
enumerate), `catalogue` (metadata without loading, e.g. from a cache or the source's documentation)
and `expand` (a name that stands for several datasets, e.g. a suite). A name without a known scheme
gets the closest valid names in its error.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from imbench.datasets.base import Dataset, DatasetError, describe, validate
from imbench.datasets.bundled import load_bundled, manifest
from imbench.datasets.cleaning import clean, emit_notices, quiet_notices
from imbench.datasets.names import NameSyntaxError
from imbench.datasets.selection import Selection
from imbench.foundation.names import NameConflictError, describe_source, unknown_name_message

from pathlib import Path

SourceLoader = Callable[[str], Dataset]
SOURCES: dict[str, SourceLoader] = {}


@dataclass(frozen=True)
class Source:
    """A registered source and its optional hooks (see the module docstring)."""

    scheme: str
    load: SourceLoader
    canonical: Callable[[str], str] | None = None
    names: Callable[[], list[str]] | None = None
    catalogue: Callable[[str], dict[str, Any] | None] | None = None
    expand: Callable[[str], list[str] | None] | None = None
    #: The local files a dataset's content is read from (so its fingerprint can be reused while their
    #: size and modification time are unchanged, datasets/fingerprint.py); missing files: not cached.
    files: Callable[[str], list[Path]] | None = None
    #: Whether a dataset of this source must be downloaded before it can be read.
    downloads: bool = False


SOURCE_SPECS: dict[str, Source] = {}


def register_source(scheme: str, *, canonical: Callable[[str], str] | None = None,
                    names: Callable[[], list[str]] | None = None,
                    catalogue: Callable[[str], dict[str, Any] | None] | None = None,
                    expand: Callable[[str], list[str] | None] | None = None,
                    files: Callable[[str], list[Path]] | None = None, downloads: bool = False
                    ) -> Callable[[SourceLoader], SourceLoader]:
    """Decorator: `@register_source("synthetic")` handles every name `synthetic...`.

    A scheme belongs to the module that registered it first (like every registry, see
    foundation/names.py): another module registering it is refused; the same one again replaces it."""
    def decorate(loader: SourceLoader) -> SourceLoader:
        known = SOURCE_SPECS.get(scheme)
        source = str(getattr(loader, "__module__", "?"))
        if known is not None and known.load.__module__ != source:
            raise NameConflictError(f"dataset source {scheme!r} from {describe_source(source)} would replace the one "
                                    f"from {describe_source(known.load.__module__)}: register it under another scheme")
        if any(name.startswith(f"{scheme}:") for name in manifest()):
            raise NameConflictError(f"dataset source {scheme!r} from {describe_source(source)} would shadow the "
                                    f"bundled `{scheme}:` datasets (module datasets.bundled): register it under "
                                    "another scheme")
        SOURCES[scheme] = loader
        SOURCE_SPECS[scheme] = Source(scheme, loader, canonical, names, catalogue, expand, files, downloads)
        return loader
    return decorate


def scheme_of(name: str) -> str:
    return name.split(":", 1)[0].split("[", 1)[0].strip()


def source_of(name: str) -> str:
    """The `source` a dataset's metadata will carry: the bundle's origin (keel, uci, nasa, ...) or the
    scheme's family (`openml-task:59` → openml)."""
    bundled = manifest().get(name)
    return bundled["source"] if bundled else scheme_of(name).split("-", 1)[0]


def _unknown(name: str) -> DatasetError:
    scheme = scheme_of(name)
    if ":" in name and scheme not in SOURCE_SPECS and not any(n.startswith(f"{scheme}:") for n in manifest()):
        schemes = sorted(SOURCE_SPECS) + sorted({n.split(":", 1)[0] for n in manifest()})
        return DatasetError(unknown_name_message("dataset source", scheme, schemes))
    return DatasetError(unknown_name_message("dataset", name, sorted(set(manifest()) | set(enumerable_names()))))


def resolve_name(name: str) -> str:
    """The canonical name: a bare bundled name ('yeast4') becomes 'keel:yeast4' when unambiguous;
    source names get their source's canonical spelling (options in a fixed order, names → ids)."""
    name = name.strip()
    bundled = manifest()
    if name in bundled:
        return name
    if ":" not in name and "[" not in name:
        matches = [full for full in bundled if full.split(":", 1)[1] == name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise DatasetError(f"dataset name {name!r} is ambiguous: use one of {matches}")
    spec = SOURCE_SPECS.get(scheme_of(name))
    if spec is None:
        raise _unknown(name)
    try:
        return spec.canonical(name) if spec.canonical else name
    except NameSyntaxError as exc:
        raise DatasetError(str(exc)) from None


def enumerable_names() -> list[str]:
    """Names the sources can list without a network call (for globs and `imbench list datasets`)."""
    out: list[str] = []
    for spec in SOURCE_SPECS.values():
        if spec.names:
            out.extend(spec.names())
    return out


def is_pattern(name: str) -> bool:
    return any(ch in name for ch in "*?") and "[" not in name


def expand_one(pattern: str) -> list[str]:
    """One grid entry → canonical names (a glob or a suite may give several)."""
    pattern = pattern.strip()
    if is_pattern(pattern):
        candidates = list(manifest()) + [n for n in enumerable_names() if n not in manifest()]
        hits = sorted(n for n in candidates if fnmatch.fnmatchcase(n, pattern) or fnmatchcase_bare(n, pattern))
        if not hits:
            raise DatasetError(f"dataset pattern {pattern!r} matches no dataset (see `imbench list datasets`)")
        return hits
    spec = SOURCE_SPECS.get(scheme_of(pattern))
    if spec is not None and spec.expand is not None:
        try:
            members = spec.expand(pattern)
        except NameSyntaxError as exc:
            raise DatasetError(str(exc)) from None
        if members is not None:
            return [resolve_name(m) for m in members]
    return [resolve_name(pattern)]


def expand_names(patterns: list[str]) -> list[str]:
    """Names, glob patterns (e.g. 'keel:yeast*') and suites → canonical names, in the order given."""
    out: list[str] = []
    for pattern in patterns:
        out.extend(n for n in expand_one(pattern) if n not in out)
    return out


def fnmatchcase_bare(full: str, pattern: str) -> bool:
    return ":" not in pattern and ":" in full and fnmatch.fnmatchcase(full.split(":", 1)[1], pattern)


def load_raw(canonical: str) -> Dataset:
    """The dataset as its source gives it (before the cleaning rules)."""
    if canonical in manifest():
        return load_bundled(canonical)
    spec = SOURCE_SPECS.get(scheme_of(canonical))
    if spec is None:
        raise _unknown(canonical)
    try:
        return spec.load(canonical)
    except NameSyntaxError as exc:
        raise DatasetError(str(exc)) from None


def load_dataset(name: str) -> Dataset:
    """Load, clean and validate a dataset by (possibly bare) name; metadata computed from the data."""
    canonical = resolve_name(name)
    dataset = load_raw(canonical)
    dataset.name = canonical
    dataset, notices = clean(dataset)
    dataset = validate(dataset)
    extras = {k: v for k, v in dataset.meta.items() if k not in {"n", "d", "n_pos", "ir", "n_categorical",
                                                                 "missing_rate"}}
    extras.setdefault("source", source_of(canonical))
    extras.setdefault("data", "bundled" if canonical in manifest() else "loaded")
    dataset.meta = describe(dataset.X, dataset.y, dataset.categorical, **extras)
    if notices:
        dataset.meta["notices"] = notices
    emit_notices(canonical, notices)
    _META_MEMO[canonical] = dict(dataset.meta)
    return dataset


_META_MEMO: dict[str, dict[str, Any]] = {}
META_COLUMNS = ["n", "d", "n_pos", "ir", "n_categorical", "missing_rate"]


def dataset_meta(name: str, load: bool = True) -> dict[str, Any]:
    """Metadata without loading where possible (manifest, caches, catalogues); else by loading.

    With `load=False` a dataset that would have to be downloaded or read returns only what is known
    without it (possibly just its source)."""
    canonical = resolve_name(name)
    if canonical in _META_MEMO:
        return _META_MEMO[canonical]
    if canonical in manifest():
        entry = manifest()[canonical]
        return {"source": entry["source"], "n": entry["n"], "d": entry["d"], "n_pos": entry["n_pos"],
                "ir": entry["ir"], "n_categorical": len(entry["categorical"]), "missing_rate": entry["missing_rate"],
                "data": "bundled"}
    spec = SOURCE_SPECS[scheme_of(canonical)]
    known = spec.catalogue(canonical) if spec.catalogue else None
    if known is not None:
        return {"source": spec.scheme, **known}
    if not load:
        return {"source": spec.scheme}
    return load_dataset(canonical).meta


def list_datasets(patterns: list[str] | None = None, selection: Selection | None = None,
                  load: bool = True) -> pd.DataFrame:
    """One row per dataset with its metadata: the given names/patterns, or everything enumerable
    (bundled, cached and catalogued), filtered by `selection`."""
    names = expand_names(patterns) if patterns else list(manifest()) + [n for n in enumerable_names()
                                                                      if n not in manifest()]
    selection = selection or Selection()
    with quiet_notices():
        rows = _listing_rows(names, selection, load)
    columns = ["name", "source", *META_COLUMNS, "data"]
    return pd.DataFrame(rows, columns=columns)


def _listing_rows(names: list[str], selection: Selection, load: bool) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        if selection.sources and source_of(name) not in selection.sources:
            continue  # decided from the name alone: nothing loaded for other sources
        meta = dataset_meta(name, load=load)
        if selection.matches(meta):
            rows.append({"name": name, **{k: meta.get(k) for k in ["source", *META_COLUMNS]},
                         "data": meta.get("data", "loaded")})
    return rows
