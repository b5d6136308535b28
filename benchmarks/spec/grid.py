"""Grid files: a declarative run (datasets × models × strategies × CV) read from TOML and validated.

Every problem is reported as one line `file:line: what is wrong — how to fix it`, because a grid typo
found after an hour of fitting is the most expensive kind of typo.
"""
from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

from imbench.benchmarks.spec.grid_datasets import DatasetEntryError, grid_datasets
from imbench.benchmarks.spec.grid_name import RULE, grid_name
from imbench.benchmarks.spec.limits import parse_memory
from imbench.strategies import get_model, get_strategy
from imbench.foundation.params import InvalidParamsError
from imbench.foundation.plugins import load_external_plugins
from imbench.strategies.posthoc import POSTHOC, parse_posthoc
from imbench.foundation.metrics import MetricConfig
from imbench.foundation.names import UnknownNameError, unknown_name_message


class GridError(ValueError):
    """A grid file that cannot be run; the message starts with `file:line:`."""


TOP_KEYS = {"name", "description", "seed", "datasets", "select", "models", "strategies", "posthoc", "cv", "metrics",
            "limits"}
CV_KEYS = {"n_splits", "n_repeats", "inner_folds"}
METRIC_KEYS = {"recall_at_precision", "precision_at_recall", "ece_bins"}
LIMIT_KEYS = {"cell_timeout", "cell_memory"}


#: Inner folds stored when the grid has a post-hoc step that needs them and does not say how many.
DEFAULT_INNER_FOLDS = 3


@dataclass(frozen=True)
class StrategyConfig:
    """One point of a strategy's parameter grid: canonical parameters (defaults filled, numbers by
    their declared type) and the label tables show, `smote` or `smote[k_neighbors=3]`. A post-hoc
    step adds `+step` to the label of its derived results (`smote+threshold:f1`)."""

    name: str
    params: dict[str, Any]
    label: str
    family: str = "unknown"
    #: A deliberate mistake kept for demonstration (stored with each cell; analysis leaves it out).
    anti_pattern: bool = False


@dataclass(frozen=True)
class ModelConfig:
    """A model of the grid with its options (defaults filled): `lightgbm`, `lightgbm[small_sets=scale]`."""

    name: str
    options: dict[str, Any]
    label: str

    def entry(self, defaults: dict[str, Any] | None = None) -> str | dict[str, Any]:
        """How the grid file writes it: the name, or a table with the options that differ."""
        changed = {k: v for k, v in self.options.items() if defaults is None or defaults.get(k) != v}
        return {"name": self.name, **changed} if changed else self.name


@dataclass
class GridSpec:
    """A validated run: everything needed to enumerate its cells."""

    name: str
    path: Path | None
    seed: int
    datasets: list[str]
    models: list[ModelConfig]
    strategies: list[StrategyConfig]
    #: Post-hoc steps (canonical text), each derived from every strategy point's stored predictions
    #: where it can apply; ["none"] by default.
    posthoc: list[str] = field(default_factory=lambda: ["none"])
    n_splits: int = 5
    n_repeats: int = 2
    #: k > 1: every cell also fits an inner stratified k-fold on its training fold and stores those
    #: models' predictions (post-hoc steps, stress and budget analysis choose on them). Defaults to
    #: DEFAULT_INNER_FOLDS when a post-hoc step needs them, else 0.
    inner_folds: int = 0
    metrics: MetricConfig = field(default_factory=MetricConfig)
    description: str = ""
    #: Seconds a cell may run before it is stopped and stored as `timeout` (None: no limit).
    cell_timeout: float | None = None
    #: MiB a cell's worker may hold before the cell is stopped and stored as `oom` (None: no limit).
    cell_memory: float | None = None
    #: `cv = "task"`: OpenML tasks' own splits instead of imbench's folds (benchmarks/spec/grid_datasets.py).
    task_splits: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The canonical, JSON-able spec stored with the run (and compared on resume)."""
        return {
            "name": self.name, "seed": self.seed, "datasets": self.datasets,
            "models": [m.entry(get_model(m.name).resolve_options({})) for m in self.models],
            "strategies": [{"name": s.name, "params": s.params, "label": s.label} for s in self.strategies],
            "posthoc": list(self.posthoc),
            "cv": {"n_splits": self.n_splits, "n_repeats": self.n_repeats, "inner_folds": self.inner_folds,
                   **({"splits": "task"} if self.task_splits else {})},
            "metrics": {"recall_at_precision": list(self.metrics.recall_at_precision),
                        "precision_at_recall": list(self.metrics.precision_at_recall),
                        "ece_bins": self.metrics.ece_bins},
        }


def strategy_label(name: str, params: dict[str, Any], defaults: dict[str, Any]) -> str:
    """`smote` for default parameters, `smote[k_neighbors=3]` when some differ (numbers as written
    shortest: 0.5, 20, 1e-06)."""
    changed = {k: v for k, v in sorted(params.items())
               if defaults.get(k) != v or type(defaults.get(k)) is not type(v)}  # True is not the default 1
    if not changed:
        return name
    return f"{name}[{','.join(f'{k}={_shown(v)}' for k, v in changed.items())}]"


def _shown(value: Any) -> str:
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:g}" if float(f"{value:g}") == value else repr(value)
    return str(value)


def _name_and_axes(entry: Any, kind: str) -> tuple[str, dict[str, list[Any]]]:
    """`"smote"` or `{name = "smote", k_neighbors = [3, 5]}` → (name, {parameter: values to expand})."""
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        axes = {k: v if isinstance(v, list) else [v] for k, v in entry.items() if k != "name"}
        empty = next((k for k, v in axes.items() if not v), None)
        if empty is not None:
            raise InvalidParamsError(f"{kind} {entry['name']!r}: `{empty} = []` lists no value (give one value or "
                                     "a list of values to expand)")
        return entry["name"], axes
    raise InvalidParamsError(f"a {kind} must be a name or a table with `name = ...`, got {entry!r}")


T = TypeVar("T", ModelConfig, StrategyConfig)


def _expand_axis(entries: list[Any], expand: Callable[[Any], list[T]], kind: str, text: str, path: str) -> list[T]:
    """Every entry of the models or strategies axis as grid points; a mistake or a point listed twice
    is a `file:line` GridError."""
    points: list[T] = []
    for entry in entries:
        try:
            points.extend(expand(entry))
        except (UnknownNameError, InvalidParamsError) as exc:
            name = entry if isinstance(entry, str) else entry.get("name") if isinstance(entry, dict) else None
            line = _line_of(text, str(name)) if name else _line_of(text, "models" if kind == "model" else "strategies")
            raise GridError(f"{path}:{line}: {exc}") from None
    labels = [point.label for point in points]
    if len(set(labels)) != len(labels):
        duplicate = next(label for label in labels if labels.count(label) > 1)
        raise GridError(f"{path}:{_line_of(text, duplicate.split('[')[0])}: {kind} {duplicate!r} is listed twice")
    return points


def expand_strategy(entry: Any) -> list[StrategyConfig]:
    """A strategy entry — `"smote"` or `{name = "smote", k_neighbors = [3, 5]}` — as grid points."""
    name, axes = _name_and_axes(entry, "strategy")
    strategy = get_strategy(name)
    strategy.check_names(axes)  # unknown parameter names fail here, even with an empty axis
    points = []
    for values in itertools.product(*axes.values()):
        params = strategy.resolve_params(dict(zip(axes, values)))
        points.append(StrategyConfig(name, params, strategy_label(name, params, strategy.defaults), strategy.family,
                                     strategy.anti_pattern))
    return points


def expand_model(entry: Any) -> list[ModelConfig]:
    """A model entry — `"lightgbm"` or `{name = "lightgbm", small_sets = "scale"}` (lists expand) — as
    grid points with every option filled."""
    name, axes = _name_and_axes(entry, "model")
    spec = get_model(name)
    points = []
    for values in itertools.product(*axes.values()):
        try:
            options = spec.resolve_options(dict(zip(axes, values)))
        except ValueError as exc:
            raise InvalidParamsError(str(exc)) from None
        defaults = spec.resolve_options({})
        points.append(ModelConfig(name, options, strategy_label(name, options, defaults)))
    return points


def expand_posthoc(entries: Any, text: str, path: str) -> list[str]:
    """The `posthoc` axis as canonical step texts (default ["none"]); mistakes are file:line errors."""
    if entries is None:
        return ["none"]
    if not isinstance(entries, list) or not entries:
        raise GridError(f"{path}:{_line_of(text, 'posthoc')}: `posthoc` must be a non-empty list such as "
                        "[\"none\", \"threshold:f1\", \"calibrate:isotonic\"]")
    steps: list[str] = []
    for entry in entries:
        try:
            step = parse_posthoc(entry).text
        except (UnknownNameError, InvalidParamsError) as exc:
            where = _line_of(text, entry) if isinstance(entry, str) else _line_of(text, "posthoc")
            raise GridError(f"{path}:{where}: {exc}") from None
        if step in steps:
            raise GridError(f"{path}:{_line_of(text, str(entry))}: posthoc step {step!r} is listed twice")
        steps.append(step)
    return steps


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first `needle` (a key or a quoted value) in the file, or 1 if not found."""
    pattern = re.compile(rf"(^|[\s\[{{,]){re.escape(needle)}\s*=|\"{re.escape(needle)}\"|'{re.escape(needle)}'")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line.split("#", 1)[0]):
            return number
    return 1


def _check_keys(table: dict[str, Any], allowed: set[str], where: str, text: str, path: str) -> None:
    for key in table:
        if key not in allowed:
            raise GridError(f"{path}:{_line_of(text, key)}: {unknown_name_message(f'key in {where}', key, sorted(allowed))}")


def _float_list(value: Any, key: str, text: str, path: str) -> tuple[float, ...]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, (int, float)) and 0 < v <= 1 for v in values):
        raise GridError(f"{path}:{_line_of(text, key)}: `{key}` must be a list of numbers in (0, 1], got {value!r}")
    return tuple(float(v) for v in values)


def _positive_int(value: Any, key: str, minimum: int, text: str, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise GridError(f"{path}:{_line_of(text, key)}: `{key}` must be an integer ≥ {minimum}, got {value!r}")
    return value


def _inner_folds(value: Any, posthoc: list[str], text: str, path: str) -> int:
    """`inner_folds` as given (0 or k ≥ 2), else DEFAULT_INNER_FOLDS when a post-hoc step needs them."""
    needed = any(POSTHOC.get(parse_posthoc(step).step).needs_inner for step in posthoc)
    if value is None:
        return DEFAULT_INNER_FOLDS if needed else 0
    if value == 0 and not isinstance(value, bool):
        if needed:
            raise GridError(f"{path}:{_line_of(text, 'inner_folds')}: the posthoc steps need inner folds: set "
                            f"`inner_folds` to 2 or more (or leave it out for {DEFAULT_INNER_FOLDS})")
        return 0
    return _positive_int(value, "inner_folds", 2, text, path)


def _timeout(value: Any, text: str, path: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise GridError(f"{path}:{_line_of(text, 'cell_timeout')}: `cell_timeout` must be a positive number of "
                        f"seconds, got {value!r}")
    return float(value)


def _grid_name(raw: dict[str, Any], default_name: str, text: str, path: str) -> str:
    """The grid's `name` as a plain name (benchmarks/spec/grid_name.py): it names the results folder, so
    `../x`, `/tmp/x` or `a/b` would write outside `results/`."""
    name = grid_name(raw, default_name)
    if name is None:
        raise GridError(f"{path}:{_line_of(text, 'name')}: grid `name` {raw['name']!r} is not a plain name: {RULE}")
    return name


def _memory(value: Any, text: str, path: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_memory(value)
    except ValueError as exc:
        raise GridError(f"{path}:{_line_of(text, 'cell_memory')}: `cell_memory`: {exc}") from None


def parse_grid(text: str, path: str = "<grid>", default_name: str = "grid") -> GridSpec:
    """Validate grid TOML text into a GridSpec (names resolved, nothing loaded or fitted)."""
    load_external_plugins()  # entry-point and IMBENCH_PLUGINS plugins may add dataset sources too
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = match.group(1) if match else "1"
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise GridError(f"{path}:{line}: malformed TOML: {message}") from None
    _check_keys(raw, TOP_KEYS, "grid", text, path)
    name = _grid_name(raw, default_name, text, path)
    for required in ("datasets", "models", "strategies"):
        value = raw.get(required)
        if not isinstance(value, list) or not value:
            raise GridError(f"{path}:{_line_of(text, required)}: `{required}` must be a non-empty list")
    cv = raw.get("cv", {})
    task_splits = cv == "task"
    if not isinstance(cv, dict) and not task_splits:
        raise GridError(f"{path}:{_line_of(text, 'cv')}: `cv` must be a [cv] table or \"task\" (OpenML task splits)")
    cv = {} if task_splits else cv
    metrics = raw.get("metrics", {})
    limits = raw.get("limits", {})
    _check_keys(cv, CV_KEYS, "[cv]", text, path)
    _check_keys(limits, LIMIT_KEYS, "[limits]", text, path)
    _check_keys(metrics, METRIC_KEYS, "[metrics]", text, path)

    n_splits = _positive_int(cv.get("n_splits", 5), "n_splits", 2, text, path)
    n_repeats = _positive_int(cv.get("n_repeats", 2), "n_repeats", 1, text, path)
    try:
        chosen = grid_datasets(raw["datasets"], raw.get("select"), n_splits, task_splits,
                               Path(path).parent if path != "<grid>" else None)
    except DatasetEntryError as exc:
        line = _line_of(text, exc.needle) if exc.needle else 1
        if exc.needle in ("select", "datasets") and f"[{exc.needle}]" in text:
            line = text[:text.index(f"[{exc.needle}]")].count("\n") + 1
        raise GridError(f"{path}:{line}: {exc}") from None
    datasets = chosen.names
    if chosen.task_shape is not None:
        n_repeats, n_splits = chosen.task_shape
    models = _expand_axis(raw["models"], expand_model, "model", text, path)
    strategies = _expand_axis(raw["strategies"], expand_strategy, "strategy", text, path)
    posthoc = expand_posthoc(raw.get("posthoc"), text, path)
    seed = raw.get("seed", 0)
    return GridSpec(
        name=name,
        path=Path(path) if path != "<grid>" else None,
        seed=_positive_int(seed, "seed", 0, text, path),
        datasets=datasets,
        models=models,
        strategies=strategies,
        posthoc=posthoc,
        n_splits=n_splits,
        n_repeats=n_repeats,
        task_splits=task_splits,
        inner_folds=_inner_folds(cv.get("inner_folds"), posthoc, text, path),
        metrics=MetricConfig(
            recall_at_precision=_float_list(metrics.get("recall_at_precision", [0.8, 0.9]), "recall_at_precision",
                                            text, path),
            precision_at_recall=_float_list(metrics.get("precision_at_recall", [0.8]), "precision_at_recall",
                                            text, path),
            ece_bins=_positive_int(metrics.get("ece_bins", 10), "ece_bins", 2, text, path),
        ),
        description=str(raw.get("description", "")),
        cell_timeout=_timeout(limits.get("cell_timeout"), text, path),
        cell_memory=_memory(limits.get("cell_memory"), text, path),
    )


def load_grid(path: str | Path) -> GridSpec:
    """Read and validate a grid file; a missing, unreadable or non-UTF-8 file is a GridError too."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a grid file" if path.is_dir() else "grid file not found"
        raise GridError(f"{path}: {what} (the bundled grids are in benchmarks/*.toml)")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise GridError(f"{path}:{line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the grid file as "
                        "UTF-8") from None
    except OSError as exc:
        raise GridError(f"{path}: cannot read the grid file ({exc.strerror or exc})") from None
    return parse_grid(text, str(path), default_name=path.stem)


def grid_from_spec(spec: dict[str, Any]) -> GridSpec:
    """The GridSpec of a stored spec (`GridSpec.to_dict()` of an earlier run), with the registries of
    this process: its datasets are taken as stored (canonical names, not checked or loaded)."""
    cv = spec.get("cv") or {}
    metrics = spec.get("metrics") or {}
    models = [point for entry in spec.get("models", []) for point in expand_model(entry)]
    strategies = []
    for entry in spec.get("strategies", []):
        strategy = get_strategy(entry["name"])
        strategies.append(StrategyConfig(entry["name"], dict(entry["params"]), entry["label"], strategy.family,
                                         strategy.anti_pattern))
    return GridSpec(
        name=str(spec.get("name", "grid")), path=None, seed=int(spec.get("seed", 0)),
        datasets=list(spec.get("datasets", [])), models=models, strategies=strategies,
        posthoc=list(spec.get("posthoc") or ["none"]), n_splits=int(cv.get("n_splits", 5)),
        n_repeats=int(cv.get("n_repeats", 2)), inner_folds=int(cv.get("inner_folds", 0) or 0),
        metrics=MetricConfig(recall_at_precision=tuple(metrics.get("recall_at_precision", (0.8, 0.9))),
                             precision_at_recall=tuple(metrics.get("precision_at_recall", (0.8,))),
                             ece_bins=int(metrics.get("ece_bins", 10))),
        task_splits=cv.get("splits") == "task")
