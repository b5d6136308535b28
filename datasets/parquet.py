"""Reading Parquet files (user files, the bundle, OpenML's cache) without holding the data several times."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Files whose float columns hold less than this are read by pandas (a column at a time costs a
#: little per column, and a small file's extra copies do not matter).
COLUMNWISE_ABOVE_BYTES = 16 * 2**20


def read_parquet(path: Path, above_bytes: int | None = None) -> pd.DataFrame:
    """`pd.read_parquet(path)`, holding about the data once rather than two to three times.

    pandas reads the whole Arrow table, then converts it and gathers the float64 columns into one
    block: Arrow's copy, the converted columns and the block exist at once (1 GB of data peaks at
    about 2.8 GB). When the float64 columns come first and the file stores no index, they are read
    one at a time straight into that block; other columns are read the usual way. The frame equals
    pandas' (tests/test_sources_files.py); any other file, and any smaller than `above_bytes`
    (COLUMNWISE_ABOVE_BYTES), is read by pandas."""
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    floats = _leading_floats(source, COLUMNWISE_ABOVE_BYTES if above_bytes is None else above_bytes)
    if floats is None:
        return pd.read_parquet(path)
    block = np.empty((source.metadata.num_rows, len(floats)), order="F")
    for j, name in enumerate(floats):
        block[:, j] = source.read(columns=[name]).column(0).to_numpy()
    frame = pd.DataFrame(block, columns=pd.Index(floats), copy=False)
    rest = list(source.schema_arrow.names[len(floats):])
    if not rest:
        return frame
    return pd.concat([frame, pd.read_parquet(path, columns=rest)], axis=1)


def _leading_floats(source: Any, limit: int) -> list[str] | None:
    """The float64 columns a file starts with, if they hold at least `limit` bytes and pandas would
    give them a default index and plain column labels; else None."""
    schema = source.schema_arrow
    names = list(schema.names)
    floats = [field.name for field in schema if str(field.type) == "double"]
    meta = json.loads((schema.metadata or {}).get(b"pandas", b"{}"))
    default_index = all(isinstance(index, dict) and index.get("kind") == "range" and index.get("start") == 0
                        and index.get("step") == 1 and index.get("name") is None
                        for index in meta.get("index_columns", []))
    plain_labels = all(index.get("name") is None for index in meta.get("column_indexes", []))
    as_floats = all(column.get("pandas_type") == "float64" for column in meta.get("columns", [])[:len(floats)])
    if source.metadata.num_rows * len(floats) * 8 < limit or len(floats) < 2 or names[:len(floats)] != floats \
            or len(set(names)) != len(names) or not (default_index and plain_labels and as_floats):
        return None
    return floats
