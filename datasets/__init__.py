"""Dataset registry, loaders and the bundled collection (imbench's own `datasets`, not Hugging Face's)."""
from __future__ import annotations

from imbench.foundation.namespace import refuse_bare_import

refuse_bare_import(__name__)

from imbench.datasets.base import Dataset, DatasetError, describe, validate
from imbench.datasets.fingerprint import DatasetIdentity, dataset_identities, fingerprint
from imbench.datasets.registry import (SOURCES, dataset_meta, expand_names, list_datasets, load_dataset, register_source,
                               resolve_name)

# Sources beyond the bundle register their name schemes on import.
from imbench.datasets import files, imblearn_source, openml_source, sklearn_source, synthetic  # noqa: E402,F401


__all__ = ["SOURCES", "Dataset", "DatasetError", "DatasetIdentity", "dataset_identities", "dataset_meta", "describe",
           "expand_names", "fingerprint", "list_datasets", "load_dataset", "register_source", "resolve_name",
           "validate"]
