"""The `datasets` of a grid file: names, globs, suites, file tables, `[select]` filters, `cv = "task"`.

Entries of `datasets = [...]`:
- a name or glob: `"keel:yeast*"`, `"imblearn:*"`, `"openml:31"`, `"synthetic[n=100000,prevalence=0.01]"`;
- a suite: `"openml-suite:imbalanced"` (expands to its members);
- a table with options: `{name = "openml:40975", positive = ["good", "vgood"]}`;
- a user file: `{file = "data/churn.csv", target = "churned", positive = "yes", categorical = ["plan"],
  drop = ["customer_id"]}` — the path is relative to the grid file and stored absolute.
`[select]` keeps the datasets whose metadata fall in every range (`source`, `ir`, `rows`, `d`,
`min_rows`/`max_rows`, `min_d`/`max_d`). A dataset named explicitly with fewer positives than CV
folds is an error; one brought in by a glob, suite or selection is left out with a notice.
With `cv = "task"` every dataset must be an OpenML task, and the run uses the tasks' own splits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imbench.datasets import DatasetError, dataset_meta
from imbench.datasets.cleaning import check_cv_positives, emit_notices
from imbench.datasets.files import file_name
from imbench.datasets.names import format_name, parse_name
from imbench.datasets.openml_source import TASK, task_shape, with_task_splits
from imbench.datasets.registry import expand_one, is_pattern, scheme_of, source_of
from imbench.datasets.selection import SelectionError, selection_from_table


class DatasetEntryError(ValueError):
    """A problem with one datasets entry; `needle` is the text to find its line in the grid file."""

    def __init__(self, message: str, needle: str | None = None) -> None:
        super().__init__(message)
        self.needle = needle


@dataclass
class GridDatasets:
    names: list[str]
    task_splits: bool = False
    #: (repeats, folds) of the tasks' splits when task_splits.
    task_shape: tuple[int, int] | None = None
    notices: list[str] = field(default_factory=list)


def _relative_file(name: str, base_dir: Path | None) -> str:
    """`file:data.csv[...]` written in a grid: the path is relative to the grid file."""
    parsed = parse_name(name)
    path = Path(parsed.body).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = (base_dir / path).resolve()
    return format_name(parsed.scheme, str(path), parsed.options)


def entry_name(entry: Any, base_dir: Path | None) -> str:
    """One datasets entry as a (not yet canonical) dataset name."""
    if isinstance(entry, str):
        return _relative_file(entry, base_dir) if scheme_of(entry) == "file" else entry
    if isinstance(entry, dict) and isinstance(entry.get("file"), str):
        options = {k: v for k, v in entry.items() if k != "file"}
        try:
            return file_name(entry["file"], base_dir, **options)
        except DatasetError as exc:
            raise DatasetEntryError(str(exc), entry["file"]) from None
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        parsed = parse_name(entry["name"])
        options = {**parsed.options, **{k: v for k, v in entry.items() if k != "name"}}
        name = format_name(parsed.scheme, parsed.body, options)
        return _relative_file(name, base_dir) if parsed.scheme == "file" else name
    raise DatasetEntryError("a datasets entry must be a name, {name = ..., options...} or {file = ..., target = ...}, "
                            f"got {entry!r}")


def _needle(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        return entry.get("file") or entry.get("name")
    return None


def grid_datasets(entries: list[Any], select: dict[str, Any] | None, n_splits: int, task_splits: bool,
                  base_dir: Path | None) -> GridDatasets:
    """Expand, filter and check a grid's datasets (see the module docstring)."""
    try:
        selection = selection_from_table(select or {})
    except SelectionError as exc:
        raise DatasetEntryError(str(exc), exc.key or "select") from None
    out = GridDatasets(names=[], task_splits=task_splits)
    for entry in entries:
        needle = _needle(entry)
        try:
            name = entry_name(entry, base_dir)
            members = expand_one(name)
            explicit = not is_pattern(name) and len(members) == 1 and not scheme_of(name).endswith("-suite")
            for member in members:
                if member in out.names:
                    continue
                if task_splits:
                    member = _task_member(member, needle)
                if selection.sources and source_of(member) not in selection.sources:
                    continue  # from the name alone: no metadata loaded for other sources
                if selection.active and not selection.matches(dataset_meta(member)):
                    continue
                if not task_splits and not _enough_positives(member, n_splits, explicit, out):
                    continue
                if member not in out.names:
                    out.names.append(member)
        except DatasetError as exc:
            raise DatasetEntryError(str(exc), needle) from None
    if not out.names:
        where = f" with [select] {selection.describe()}" if selection.active else ""
        raise DatasetEntryError(f"no dataset left{where}; see `imbench list datasets` for what is available",
                                "select" if selection.active else "datasets")
    if task_splits:
        shapes = {name: task_shape(name) for name in out.names}
        if len(set(shapes.values())) > 1:
            listed = ", ".join(f"{n}: {r}x{f}" for n, (r, f) in shapes.items())
            raise DatasetEntryError(f"cv = \"task\" needs tasks with the same repeats x folds; got {listed}", "cv")
        out.task_shape = next(iter(shapes.values()))
    emit_notices("grid", out.notices)
    return out


def _task_member(name: str, needle: str | None) -> str:
    if scheme_of(name) != TASK:
        raise DatasetEntryError(f"cv = \"task\" uses OpenML tasks' own splits, but {name!r} is not an OpenML task "
                                "(use openml-task:<id>, or drop cv = \"task\")", needle)
    return with_task_splits(name)


def _enough_positives(name: str, n_splits: int, explicit: bool, out: GridDatasets) -> bool:
    n_pos = dataset_meta(name).get("n_pos")
    if n_pos is None or n_pos >= n_splits:
        return True
    if explicit:
        check_cv_positives(name, int(n_pos), n_splits)
    out.notices.append(f"left out {name!r}: {n_pos} positives, fewer than the {n_splits} CV folds")
    return False
