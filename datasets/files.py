"""User files: `file:/abs/data.csv[target=churned,positive=yes,categorical=[plan],drop=[customer_id]]`.

CSV (`.csv`, `.csv.gz`, `.tsv`) or Parquet (`.parquet`, `.pq`). Options:
- `target` (required): the label column;
- `positive`: the class(es) of interest; may be omitted only for a 0/1 or true/false target (then 1);
- `categorical=[...]`: columns to treat as categorical (text columns are detected anyway, see
  datasets/cleaning.py); `drop=[...]`: columns to ignore (identifiers, leaks).
In a grid file, paths are relative to the grid file; elsewhere, to the working directory. The
canonical name carries the absolute path so workers in other processes can load the file by name.
The file's sha256 is stored with the run's dataset metadata, so a changed file is noticed.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from imbench.datasets.base import Dataset, DatasetError
from imbench.datasets.names import format_name, parse_name
from imbench.datasets.parquet import read_parquet
from imbench.datasets.registry import register_source
from imbench.datasets.targets import binarize
from imbench.foundation.names import unknown_name_message

SCHEME = "file"
OPTIONS = ("target", "positive", "categorical", "drop")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: Strings read as missing in CSV files (besides pandas' defaults such as '', 'NA', 'NaN', 'null').
NA_VALUES = ["?", "-", "--", "n/a", "N/A", "na", "none", "None", "missing"]


def file_name(path: str | Path, base_dir: str | Path | None = None, **options: object) -> str:
    """The canonical name of a file dataset; a relative `path` is taken from `base_dir` (default: cwd)."""
    path = Path(path).expanduser()
    if not path.is_absolute():
        path = Path(base_dir or Path.cwd()) / path
    return canonical(format_name(SCHEME, str(path.resolve()), options))


def _list(value: str | list[str] | None) -> list[str] | None:
    if value is None:
        return None
    return value if isinstance(value, list) else [value]


def canonical(name: str) -> str:
    parsed = parse_name(name)
    unknown = [k for k in parsed.options if k not in OPTIONS]
    if unknown:
        raise DatasetError(f"dataset {name!r}: {unknown_name_message('file option', unknown[0], list(OPTIONS))}")
    if not parsed.body:
        raise DatasetError(f"dataset {name!r}: write file:PATH[target=...]")
    path = Path(parsed.body).expanduser()
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    target = parsed.options.get("target")
    if not isinstance(target, str) or not target:
        raise DatasetError(f"dataset {name!r}: say which column is the label with target=COLUMN")
    options = {"target": target, "positive": _sorted(_list(parsed.options.get("positive"))),
               "categorical": _sorted(_list(parsed.options.get("categorical"))),
               "drop": _sorted(_list(parsed.options.get("drop")))}
    positive = options["positive"]
    if positive is not None and len(positive) == 1:
        options["positive"] = positive[0]
    return format_name(SCHEME, str(path), options, order=OPTIONS)


def _sorted(values: list[str] | None) -> list[str] | None:
    return sorted(set(values)) if values else None


def read_table(path: Path, name: str) -> pd.DataFrame:
    if not path.is_file():
        raise DatasetError(f"dataset {name!r}: file not found: {path} (in a grid file, paths are relative to the "
                           "grid file)")
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".csv.gz") else path.suffix.lower()
    try:
        if suffix in PARQUET_SUFFIXES:
            return read_parquet(path)
        if suffix in CSV_SUFFIXES:
            sep = "\t" if suffix == ".tsv" else ","
            header = pd.read_csv(path, sep=sep, header=None, nrows=1, skipinitialspace=True).iloc[0].astype(str)
            duplicated = sorted(set(header[header.duplicated()]))
            if duplicated:  # pandas would rename them silently (`a.1`)
                raise DatasetError(f"dataset {name!r}: {path} has duplicate column names {', '.join(duplicated)}; "
                                   "rename them so each column has its own name")
            return pd.read_csv(path, sep=sep, na_values=NA_VALUES, skipinitialspace=True, low_memory=False)
    except DatasetError:
        raise
    except Exception as exc:  # noqa: BLE001 - parser errors become one line naming the file
        reason = " ".join(str(exc).split())[:200]
        raise DatasetError(f"dataset {name!r}: cannot read {path}: {type(exc).__name__}: {reason}") from None
    raise DatasetError(f"dataset {name!r}: unsupported file type {path.suffix!r}; use CSV ({', '.join(CSV_SUFFIXES)})"
                       f" or Parquet ({', '.join(PARQUET_SUFFIXES)})")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(name: str) -> Dataset:
    parsed = parse_name(canonical(name))
    path = Path(parsed.body)
    frame = read_table(path, name)
    frame.columns = [str(c) for c in frame.columns]
    target = str(parsed.options["target"])
    for key, columns in (("target", [target]), ("drop", parsed.option_list("drop") or []),
                         ("categorical", parsed.option_list("categorical") or [])):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DatasetError(f"dataset {name!r}: {unknown_name_message(f'{key} column', missing[0], list(frame.columns))}")
    y, positive = binarize(frame[target], parsed.option_list("positive"), name, default="one", target_name=target)
    X = frame.drop(columns=[target, *(parsed.option_list("drop") or [])])
    categorical = [c for c in parsed.option_list("categorical") or [] if c != target]
    meta = {"source": SCHEME, "origin": str(path), "sha256": sha256(path), "license": "user data", "data": "file",
            "positive": positive}
    return Dataset(name=name, X=X, y=y, categorical=categorical, meta=meta)


def files(name: str) -> list[Path]:
    return [Path(parse_name(canonical(name)).body)]


register_source(SCHEME, canonical=canonical, files=files)(load)
