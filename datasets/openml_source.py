"""OpenML: `openml:<id or name>`, `openml-task:<task id>`, `openml-suite:<suite id or alias>`.

Downloads go through the `openml` package (its server setting and its own cache apply). Each fetched
dataset is then kept in imbench's cache (`<cache>/openml/datasets/<id>/`: `data.parquet` with the
features and every target column as OpenML returns them, `meta.json` written last as the commit
marker); tasks keep `task.json` and their splits in `splits.npz` (no pickle). Later loads read only
these files: no network, no openml call, safe for many worker processes at once, and it works offline.
A corrupt or half-written cache file is a one-line error naming the folder to delete.

Names are stored by id (`openml:credit-g` → `openml:31`, the lookup remembered in `names.json`), so a
stored run never depends on what a name means on the server later. Options: `positive=` (a class or a
list of classes; without it a binary target uses its minority class and a multi-class target is an
error listing the classes with their counts) and `target=` (another column than the default target).
`openml-task:<id>` uses the task's dataset and target; with `cv = "task"` in a grid the name gets
`[cv=task]` and benchmarks/spec/cv.py uses the task's own train/test splits instead of imbench's folds.
Suites: the local curated files in `datasets/suites/openml_<alias>.toml` (e.g.
`openml-suite:imbalanced`), or OpenML benchmark suites by id or alias; a suite expands to its binary
datasets (`[tasks=true]`: to its tasks), multi-class members being left out with a notice.
"""
from __future__ import annotations

import logging
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imbench.datasets.base import Dataset, DatasetError
from imbench.datasets.cache import OFFLINE_ENV, cache_dir, offline, read_json, write_json_atomic, write_parquet_atomic
from imbench.datasets.cleaning import emit_notices
from imbench.datasets.names import format_name, parse_name
from imbench.datasets.parquet import read_parquet
from imbench.datasets.registry import register_source
from imbench.datasets.targets import binarize
from imbench.foundation.names import unknown_name_message

DATASET, TASK, SUITE = "openml", "openml-task", "openml-suite"
SUITES_DIR = Path(__file__).parent / "suites"
logger = logging.getLogger("imbench.datasets")


# --- cache layout -----------------------------------------------------------------------------

def openml_cache() -> Path:
    return cache_dir("openml")


def dataset_dir(did: int) -> Path:
    return openml_cache() / "datasets" / str(did)


def task_dir(tid: int) -> Path:
    return openml_cache() / "tasks" / str(tid)


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:240]


def _corrupt(name: str, folder: Path, exc: BaseException) -> DatasetError:
    return DatasetError(f"dataset {name!r}: the cached copy in {folder} is unreadable ({_one_line(exc)}); delete that "
                        "folder and load again with network access to re-fetch it")


def _require_online(name: str, what: Path) -> None:
    if offline():
        raise DatasetError(f"dataset {name!r} is not cached ({what} missing) and {OFFLINE_ENV} is set: fetch it "
                           "once with network access (`imbench fetch NAME`)")


def _remote_failure(name: str, exc: BaseException) -> DatasetError:
    import openml

    return DatasetError(f"dataset {name!r}: fetching from OpenML ({openml.config.server}) failed: {_one_line(exc)}; "
                        "check the network, or fetch it where OpenML is reachable (`imbench fetch NAME`) and copy "
                        f"{openml_cache()}")


# --- datasets ---------------------------------------------------------------------------------

def _fetch_dataset(did: int, name: str) -> None:
    """Download one dataset with the openml package and store it in imbench's cache."""
    import openml

    try:
        remote = openml.datasets.get_dataset(did, download_data=True, download_qualities=True,
                                             download_features_meta_data=True)
        frame, _, categorical_indicator, attributes = remote.get_data(dataset_format="dataframe")
    except Exception as exc:  # noqa: BLE001 - network, server and parse errors alike become one line
        raise _remote_failure(name, exc) from None
    frame = pd.DataFrame(frame)
    if any(isinstance(dtype, pd.SparseDtype) for dtype in frame.dtypes):
        frame = frame.sparse.to_dense()
    frame.columns = [str(c) for c in frame.columns]
    qualities = remote.qualities or {}
    meta = {
        "id": did, "name": remote.name, "version": remote.version,
        "default_target": remote.default_target_attribute,
        "categorical": [str(a) for a, is_cat in zip(attributes, categorical_indicator) if is_cat],
        "license": remote.licence, "url": f"https://www.openml.org/d/{did}", "format": remote.format,
        "server": openml.config.server, "rows": len(frame),
        "qualities": {k: qualities[k] for k in ("NumberOfClasses", "NumberOfInstances", "NumberOfFeatures",
                                               "MinorityClassSize", "MajorityClassSize") if k in qualities},
    }
    text = [c for c in frame.columns if frame[c].dtype == object]  # mixed objects cannot go to Parquet
    frame = frame.astype({c: "string" for c in text})
    folder = dataset_dir(did)
    try:
        write_parquet_atomic(frame, folder / "data.parquet")
        write_json_atomic(meta, folder / "meta.json")  # last: its presence means the copy is complete
    except Exception as exc:  # noqa: BLE001 - disk full, permissions, unconvertible columns
        raise DatasetError(f"dataset {name!r}: cannot store the fetched copy in {folder}: {_one_line(exc)}") from None


def cached_dataset(did: int, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The cached frame and metadata of dataset `did`, fetched first if needed."""
    folder = dataset_dir(did)
    if not (folder / "meta.json").is_file():
        _require_online(name, folder / "meta.json")
        _fetch_dataset(did, name)
    try:
        meta = read_json(folder / "meta.json")
        frame = read_parquet(folder / "data.parquet")
    except Exception as exc:  # noqa: BLE001
        raise _corrupt(name, folder, exc) from None
    if len(frame) != meta.get("rows", len(frame)):
        raise _corrupt(name, folder, ValueError(f"{len(frame)} rows, expected {meta['rows']}"))
    return frame, meta


def _names_index() -> dict[str, int]:
    path = openml_cache() / "names.json"
    try:
        return {str(k): int(v) for k, v in read_json(path).items()} if path.is_file() else {}
    except Exception:  # noqa: BLE001 - a broken index is only a lost shortcut
        return {}


def dataset_id(ref: str, name: str) -> int:
    """An OpenML dataset id from an id or a name (name lookups are remembered for offline use)."""
    if ref.isdigit():
        return int(ref)
    if not ref:
        raise DatasetError(f"dataset {name!r}: write openml:<dataset id or name>")
    index = _names_index()
    if ref in index:
        return index[ref]
    _require_online(name, openml_cache() / "names.json")
    import openml

    try:
        found = openml.datasets.list_datasets(data_name=ref, status="active", output_format="dataframe")
    except Exception as exc:  # noqa: BLE001
        if "No results" in str(exc) or type(exc).__name__ == "OpenMLServerNoResult":
            found = pd.DataFrame()
        else:
            raise _remote_failure(name, exc) from None
    if found is None or len(found) == 0:
        raise DatasetError(f"dataset {name!r}: OpenML has no active dataset named {ref!r}; use its id "
                           "(openml:<id>, see https://www.openml.org/search?type=data)")
    did = int(found["did"].min())
    write_json_atomic({**index, ref: did}, openml_cache() / "names.json")
    return did


def _check_options(name: str, options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise DatasetError(f"dataset {name!r}: {unknown_name_message('option', unknown[0], list(allowed))}")


def _positive_option(values: list[str] | None) -> str | list[str] | None:
    if not values:
        return None
    values = sorted(set(values))
    return values[0] if len(values) == 1 else values


def canonical_dataset(name: str) -> str:
    parsed = parse_name(name)
    _check_options(name, parsed.options, ("positive", "target"))
    did = dataset_id(parsed.body, name)
    target = parsed.options.get("target")
    return format_name(DATASET, str(did), {"target": target, "positive": _positive_option(
        parsed.option_list("positive"))}, order=("target", "positive"))


def _binary_task(frame: pd.DataFrame, meta: dict[str, Any], target: str | None, positive: list[str] | None,
                 name: str, categorical: list[str]) -> Dataset:
    target = target or meta.get("default_target")
    if not target or "," in str(target):
        raise DatasetError(f"dataset {name!r}: no single default target ({target!r}); choose one with target=COLUMN")
    if target not in frame.columns:
        raise DatasetError(f"dataset {name!r}: {unknown_name_message('target column', target, list(frame.columns))}")
    y, chosen = binarize(frame[target], positive, name, default="minority", target_name=target)
    X = frame.drop(columns=[target])
    return Dataset(name=name, X=X, y=y, categorical=[c for c in categorical if c != target and c in X.columns],
                   meta={"source": DATASET, "positive": chosen, "target": target, "data": "cached",
                         "origin": f"OpenML dataset {meta['id']} ({meta.get('name')} v{meta.get('version')}) "
                                   f"{meta.get('url', '')}", "license": meta.get("license") or "see OpenML"})


def load_dataset_name(name: str) -> Dataset:
    parsed = parse_name(canonical_dataset(name))
    frame, meta = cached_dataset(int(parsed.body), name)
    return _binary_task(frame, meta, parsed.options.get("target"), parsed.option_list("positive"), name,
                        list(meta.get("categorical", [])))


def cached_dataset_names() -> list[str]:
    root = openml_cache() / "datasets"
    if not root.is_dir():
        return []
    return [f"{DATASET}:{p.name}" for p in sorted(root.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0)
            if p.name.isdigit() and (p / "meta.json").is_file()]


def dataset_catalogue(name: str) -> dict[str, Any] | None:
    """Documented metadata (curated suite) while a dataset is not cached; None (= load it) once it is."""
    parsed = parse_name(name)
    if not parsed.body.isdigit() or (dataset_dir(int(parsed.body)) / "meta.json").is_file():
        return None
    entry = curated_entries().get(int(parsed.body))
    if entry is None or parsed.options.get("target"):
        return {"n": None, "d": None, "n_pos": None, "ir": None, "n_categorical": None, "missing_rate": None,
                "data": "download"}
    return {"n": entry.get("n"), "d": entry.get("d"), "n_pos": None, "ir": entry.get("ir"), "n_categorical": None,
            "missing_rate": None, "data": "download"}


# --- tasks ------------------------------------------------------------------------------------

def _fetch_task(tid: int, name: str) -> None:
    import openml
    from openml.tasks import TaskType

    try:
        task = openml.tasks.get_task(tid, download_splits=True, download_data=True, download_qualities=True,
                                     download_features_meta_data=True)
    except Exception as exc:  # noqa: BLE001
        raise _remote_failure(name, exc) from None
    if task.task_type_id != TaskType.SUPERVISED_CLASSIFICATION:
        raise DatasetError(f"dataset {name!r}: task {tid} is a {task.task_type} task; imbench needs a supervised "
                           "classification task")
    try:
        repeats, folds, samples = task.get_split_dimensions()
        arrays = {}
        for repeat in range(repeats):
            for fold in range(folds):
                train, test = task.get_train_test_split_indices(fold=fold, repeat=repeat, sample=0)
                arrays[f"train_{repeat}_{fold}"] = np.asarray(train, dtype=np.int64)
                arrays[f"test_{repeat}_{fold}"] = np.asarray(test, dtype=np.int64)
    except Exception as exc:  # noqa: BLE001
        raise _remote_failure(name, exc) from None
    cached_dataset(int(task.dataset_id), f"{DATASET}:{task.dataset_id}")
    folder = task_dir(tid)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".splits.tmp.npz"
    np.savez(tmp, **arrays)
    tmp.replace(folder / "splits.npz")
    procedure = task.estimation_procedure or {}
    write_json_atomic({"id": tid, "dataset_id": int(task.dataset_id), "target": task.target_name,
                       "estimation_procedure": procedure.get("type"), "parameters": procedure.get("parameters"),
                       "repeats": repeats, "folds": folds, "samples": samples,
                       "url": f"https://www.openml.org/t/{tid}"}, folder / "task.json")


def cached_task(tid: int, name: str) -> dict[str, Any]:
    folder = task_dir(tid)
    if not (folder / "task.json").is_file():
        _require_online(name, folder / "task.json")
        _fetch_task(tid, name)
    try:
        return read_json(folder / "task.json")
    except Exception as exc:  # noqa: BLE001
        raise _corrupt(name, folder, exc) from None


def _task_id(name: str) -> int:
    parsed = parse_name(name)
    if not parsed.body.isdigit():
        raise DatasetError(f"dataset {name!r}: write openml-task:<task id> (a number)")
    return int(parsed.body)


def canonical_task(name: str) -> str:
    parsed = parse_name(name)
    _check_options(name, parsed.options, ("positive", "cv"))
    cv = parsed.options.get("cv")
    if cv is not None and cv != "task":
        raise DatasetError(f"dataset {name!r}: the only cv option is cv=task (the task's own splits)")
    return format_name(TASK, str(_task_id(name)), {"positive": _positive_option(parsed.option_list("positive")),
                                                   "cv": cv}, order=("positive", "cv"))


def load_task_name(name: str) -> Dataset:
    parsed = parse_name(canonical_task(name))
    info = cached_task(_task_id(name), name)
    frame, meta = cached_dataset(int(info["dataset_id"]), name)
    dataset = _binary_task(frame, meta, info["target"], parsed.option_list("positive"), name,
                           list(meta.get("categorical", [])))
    dataset.meta.update({"origin": f"OpenML task {info['id']} on {dataset.meta['origin']}",
                         "task": {k: info[k] for k in ("id", "estimation_procedure", "repeats", "folds")}})
    return dataset


def uses_task_splits(name: str) -> bool:
    return name.startswith(f"{TASK}:") and parse_name(name).options.get("cv") == "task"


def with_task_splits(name: str) -> str:
    """`openml-task:59` → `openml-task:59[cv=task]` (the name of the same data on the task's splits)."""
    parsed = parse_name(name)
    return canonical_task(format_name(TASK, parsed.body, {**parsed.options, "cv": "task"}))


def task_shape(name: str) -> tuple[int, int]:
    """(repeats, folds) of a task's estimation procedure."""
    info = cached_task(_task_id(name), name)
    return int(info["repeats"]), int(info["folds"])


@lru_cache(maxsize=16)
def task_split(name: str, repeat: int, fold: int) -> tuple[np.ndarray, np.ndarray]:
    """The task's (train, test) row indices for one repeat and fold, from the cache."""
    folder = task_dir(_task_id(name))
    cached_task(_task_id(name), name)
    try:
        with np.load(folder / "splits.npz", allow_pickle=False) as splits:
            return splits[f"train_{repeat}_{fold}"], splits[f"test_{repeat}_{fold}"]
    except KeyError:
        raise DatasetError(f"dataset {name!r}: the task has no split for repeat {repeat}, fold {fold}") from None
    except Exception as exc:  # noqa: BLE001
        raise _corrupt(name, folder, exc) from None


# --- suites -----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def local_suites() -> dict[str, dict[str, Any]]:
    """Curated suite files by alias (`openml_imbalanced.toml` → `imbalanced`)."""
    suites = {}
    for path in sorted(SUITES_DIR.glob("openml_*.toml")):
        suites[path.stem.removeprefix("openml_")] = tomllib.loads(path.read_text())
    return suites


@lru_cache(maxsize=1)
def curated_entries() -> dict[int, dict[str, Any]]:
    return {int(e["id"]): e for suite in local_suites().values() for e in suite.get("datasets", [])}


def _remote_suite(key: str, name: str) -> dict[str, Any]:
    """A suite from the OpenML server (cached as JSON): its binary datasets and tasks."""
    path = openml_cache() / "suites" / f"{key}.json"
    if path.is_file():
        try:
            return read_json(path)
        except Exception as exc:  # noqa: BLE001
            raise _corrupt(name, path.parent, exc) from None
    _require_online(name, path)
    import openml

    try:
        suite = openml.study.get_suite(int(key) if key.isdigit() else key)
        listing = openml.datasets.list_datasets(data_id=list(suite.data or []), output_format="dataframe")
        tasks = openml.tasks.list_tasks(task_id=list(suite.tasks or []), output_format="dataframe") \
            if suite.tasks else pd.DataFrame()
    except Exception as exc:  # noqa: BLE001
        raise _remote_failure(name, exc) from None
    classes = {int(r.did): int(float(getattr(r, "NumberOfClasses", 2) or 2)) for r in listing.itertuples()}
    payload = {"id": suite.id, "alias": suite.alias, "name": suite.name, "data": [int(d) for d in suite.data or []],
               "classes": {str(k): v for k, v in classes.items()},
               "tasks": {str(int(r.tid)): int(r.did) for r in tasks.itertuples()} if len(tasks) else {}}
    write_json_atomic(payload, path)
    return payload


def expand_suite(name: str) -> list[str]:
    parsed = parse_name(name)
    _check_options(name, parsed.options, ("tasks",))
    as_tasks = str(parsed.options.get("tasks", "false")).lower() in {"true", "1", "yes"}
    key = parsed.body
    if key in local_suites() or key.removeprefix("openml_") in local_suites():
        suite = local_suites()[key.removeprefix("openml_")]
        if as_tasks:
            raise DatasetError(f"dataset {name!r}: the curated suite {key!r} lists datasets, not tasks")
        return [format_name(DATASET, str(e["id"]), {"positive": e.get("positive")}) for e in suite["datasets"]]
    if not key:
        raise DatasetError(f"dataset {name!r}: write openml-suite:<suite id or alias>; local suites: "
                           f"{sorted(local_suites())}")
    suite = _remote_suite(key, name)
    classes = {int(k): v for k, v in suite["classes"].items()}
    multi = sorted(d for d, n in classes.items() if n != 2)
    if multi:
        emit_notices(name, [f"left out {len(multi)} multi-class datasets (declare a positive class to use one, "
                            f"e.g. openml:{multi[0]}[positive=...]): {multi[:20]}"])
    if as_tasks:
        return [f"{TASK}:{tid}" for tid, did in suite["tasks"].items() if classes.get(int(did), 2) == 2]
    return [f"{DATASET}:{did}" for did in suite["data"] if classes.get(did, 2) == 2]


def suite_names() -> list[str]:
    """Curated suite members (listable before download) and every cached dataset."""
    names = [f"{DATASET}:{e['id']}" + (f"[positive={e['positive']}]" if e.get("positive") else "")
             for suite in local_suites().values() for e in suite.get("datasets", [])]
    return names + [n for n in cached_dataset_names() if n not in names]


def _not_loadable(name: str) -> Dataset:
    raise DatasetError(f"{name!r} names a suite, not a dataset: list it in a grid's datasets (it expands to its "
                       "members) or see `imbench list datasets openml-suite:...`")


def dataset_files(name: str) -> list[Path]:
    folder = dataset_dir(int(parse_name(canonical_dataset(name)).body))
    return [folder / "data.parquet", folder / "meta.json"]


register_source(DATASET, canonical=canonical_dataset, names=suite_names, catalogue=dataset_catalogue,
                files=dataset_files, downloads=True)(load_dataset_name)
register_source(TASK, canonical=canonical_task, downloads=True)(load_task_name)
register_source(SUITE, expand=expand_suite)(_not_loadable)
