"""scikit-learn's bundled datasets as one-vs-rest tasks (never a download)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits

from imbench.datasets import DatasetError, expand_names, load_dataset, resolve_name


def test_breast_cancer_defaults_to_malignant() -> None:
    dataset = load_dataset("sklearn:breast_cancer")
    assert dataset.n_pos == 212 and dataset.meta["positive"] == ["malignant"]
    np.testing.assert_array_equal(dataset.y, (load_breast_cancer().target == 0).astype(np.int8))
    assert resolve_name("sklearn:breast_cancer[positive=malignant]") == "sklearn:breast_cancer"


def test_one_vs_rest_by_code_or_name() -> None:
    digits = load_dataset("sklearn:digits[positive=0]")
    np.testing.assert_array_equal(digits.y, (load_digits().target == 0).astype(np.int8))
    assert resolve_name("sklearn:wine[positive=class_2]") == "sklearn:wine[positive=2]"
    assert load_dataset("sklearn:wine[positive=class_2]").n_pos == 48
    assert load_dataset("sklearn:iris[positive=[versicolor,setosa]]").name == "sklearn:iris[positive=[0,1]]"


def test_multiclass_without_positive_lists_the_classes() -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset("sklearn:iris")
    assert "3 classes and no positive class declared" in str(info.value)
    assert "0 ('setosa', 50 rows), 1 ('versicolor', 50 rows), 2 ('virginica', 50 rows)" in str(info.value)
    with pytest.raises(DatasetError, match="positive class '7' is not a class"):
        load_dataset("sklearn:wine[positive=7]")


def test_glob_enumerates_every_one_vs_rest_task() -> None:
    names = expand_names(["sklearn:*"])
    assert len(names) == 1 + 10 + 3 + 3
    assert "sklearn:digits[positive=9]" in names and "sklearn:breast_cancer" in names
