"""Reading Parquet files (user files, the bundle, OpenML's cache) without holding the data several times."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd


def read_parquet(path: Path) -> pd.DataFrame:
    """`pd.read_parquet(path)`, holding about the data once rather than two to three times.

    pandas reads the whole Arrow table, then converts it and gathers the float64 columns into one
    block: Arrow's copy, the converted columns and the block exist at once (1 GB of data peaks at
    about 2.8 GB). When the float64 columns come first and the file stores no index, they are read
    one at a time straight into that block; other columns are read the usual way. The frame equals
    pandas' (tests/test_sources_files.py); any other file is read by pandas."""
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    schema = source.schema_arrow
    floats = [field.name for field in schema if str(field.type) == "double"]
    names = list(schema.names)
    pandas_meta = json.loads((schema.metadata or {}).get(b"pandas", b"{}"))
    default_index = all(isinstance(index, dict) and index.get("kind") == "range" and index.get("start") == 0
                        and index.get("step") == 1 and index.get("name") is None
                        for index in pandas_meta.get("index_columns", []))
    if len(floats) < 2 or names[:len(floats)] != floats or len(set(names)) != len(names) or not default_index \
            or any(index.get("name") is not None for index in pandas_meta.get("column_indexes", [])) \
            or any(column.get("pandas_type") != "float64" for column in pandas_meta.get("columns", [])[:len(floats)]):
        return pd.read_parquet(path)
    block = np.empty((source.metadata.num_rows, len(floats)), order="F")
    for j, name in enumerate(floats):
        block[:, j] = source.read(columns=[name]).column(0).to_numpy()
    frame = pd.DataFrame(block, columns=pd.Index(floats), copy=False)
    rest = names[len(floats):]
    if not rest:
        return frame
    return pd.concat([frame, pd.read_parquet(path, columns=rest)], axis=1)
