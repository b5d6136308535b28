"""Dataset registry, loaders and the bundled collection (imbench's own `datasets`, not Hugging Face's)."""
from __future__ import annotations

from datasets.base import Dataset, DatasetError, describe, validate
from datasets.registry import SOURCES, expand_names, list_datasets, load_dataset, register_source, resolve_name

#: Marks this package as imbench's own: the CLI refuses to run if `import datasets` finds another one.
IMBENCH_PACKAGE = True

__all__ = ["SOURCES", "Dataset", "DatasetError", "describe", "expand_names", "list_datasets", "load_dataset",
           "register_source", "resolve_name", "validate"]
