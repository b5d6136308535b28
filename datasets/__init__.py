"""Dataset registry, loaders and the bundled collection (imbench's own `datasets`, not Hugging Face's)."""
from __future__ import annotations

from datasets.base import Dataset, DatasetError, describe, validate
from datasets.fingerprint import DatasetIdentity, dataset_identities, fingerprint
from datasets.registry import (SOURCES, dataset_meta, expand_names, list_datasets, load_dataset, register_source,
                               resolve_name)

# Sources beyond the bundle register their name schemes on import.
from datasets import files, imblearn_source, openml_source, sklearn_source, synthetic  # noqa: E402,F401

#: Marks this package as imbench's own: the CLI refuses to run if `import datasets` finds another one.
IMBENCH_PACKAGE = True

__all__ = ["SOURCES", "Dataset", "DatasetError", "DatasetIdentity", "dataset_identities", "dataset_meta", "describe",
           "expand_names", "fingerprint", "list_datasets", "load_dataset", "register_source", "resolve_name",
           "validate"]
