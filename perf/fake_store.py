"""A fake but well-formed results store, written fast, for analysis speed tests and analysis unit tests.

Each (dataset, model, strategy) gets a latent quality; every cell's metrics and its test-fold
predictions are drawn from that quality (the metrics are *not* computed from the predictions —
scoring 100,000 cells properly would take minutes and is not what is being measured). Everything is
written through `Store.put`, exactly as the runner writes, so the analysis reads a real store.

Usage: python perf/fake_store.py OUT_DIR [--datasets 100 --strategies 25 --models 4 --folds 10]
"""
from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from imbench.benchmarks.store.results import CellResult
from imbench.benchmarks.store.writer import Store

#: Real strategy names with their families, and one of a family the analysis does not know.
BASE_STRATEGIES = ("class-weight", "random-under", "random-over", "smote", "retired-sampler")
FAMILY = {"none": "none", "class-weight": "weighting", "random-under": "undersampling", "random-over": "oversampling",
          "smote": "oversampling", "retired-sampler": "unknown"}
MODELS = ("logreg", "lightgbm", "xgboost", "random-forest", "svm", "knn")


def strategy_labels(n: int) -> list[tuple[str, str]]:
    """(strategy name, label) pairs: `none` first, then parameter variants of the base strategies."""
    out = [("none", "none")]
    i = 0
    while len(out) < n:
        name = BASE_STRATEGIES[i % len(BASE_STRATEGIES)]
        variant = i // len(BASE_STRATEGIES)
        out.append((name, name if variant == 0 else f"{name}[ratio={0.5 + 0.1 * variant:g}]"))
        i += 1
    return out


def _key(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def write_fake_store(results_dir: str | Path, n_datasets: int = 100, n_strategies: int = 25, n_models: int = 4,
                     n_folds: int = 10, n_test: int = 40, seed: int = 0, failure_rate: float = 0.005,
                     strategies: list[tuple[str, str]] | None = None, dataset_names: list[str] | None = None) -> Path:
    """Write n_datasets × n_strategies × n_models × n_folds cells (one repeat) into `results_dir`.
    `strategies` ((name, label) pairs, `none` first) and `dataset_names` override the generated ones."""
    rng = np.random.default_rng(seed)
    results_dir = Path(results_dir)
    labels = strategies or strategy_labels(n_strategies)
    models = list(MODELS[:n_models])
    names = dataset_names or [f"fake:ds{i:03d}" for i in range(n_datasets)]
    n_datasets = len(names)
    ir = np.exp(rng.uniform(np.log(1.5), np.log(150), n_datasets))
    model_skill = dict(zip(models, rng.normal(0, 0.4, len(models))))
    strategy_effect = {label: (0.0 if label == "none" else rng.normal(0.05, 0.15)) for _, label in labels}
    calibration_shift = {label: (0.0 if name in ("none", "class-weight") else rng.uniform(0.5, 2.0))
                         for name, label in labels}
    with Store(results_dir) as store:
        store.conn.execute("PRAGMA synchronous=OFF")  # a throw-away store: no fsync per cell
        spec = {"name": results_dir.name, "seed": seed, "datasets": names, "models": models,
                "strategies": [{"name": n, "label": lab, "params": {}} for n, lab in labels],
                "cv": {"n_splits": n_folds, "n_repeats": 1, "inner_folds": 0},
                "metrics": {"recall_at_precision": [0.8, 0.9], "precision_at_recall": [0.8], "ece_bins": 10}}
        store.begin_run(spec, {"python": "fake", "platform": "fake", "packages": {}, "git_commit": None}, "fake", 0)
        store.set_meta("expected_cells", n_datasets * len(models) * len(labels) * n_folds)
        store.set_meta("expected_results", n_datasets * len(models) * len(labels) * n_folds)
        for d, name in enumerate(names):
            prevalence = 1 / (1 + ir[d])
            n_pos = max(n_folds, int(round(prevalence * n_test * n_folds)))
            store.put_dataset(name, _key(name), {"name": name, "n": n_test * n_folds, "d": 10, "n_pos": n_pos,
                                     "ir": round(float(ir[d]), 2), "missing_rate": 0.0, "source": "fake",
                                     "n_categorical": 0, "license": "synthetic", "origin": "perf/fake_store.py"})
            hardness = rng.normal(0, 0.5)
            y_fold = np.zeros(n_test, dtype=np.int8)
            y_fold[: max(1, n_pos // n_folds)] = 1
            for model in models:
                for strategy, label in labels:
                    quality = model_skill[model] + strategy_effect[label] - hardness + rng.normal(0, 0.1)
                    fails = label != "none" and rng.random() < failure_rate * n_folds
                    for fold in range(n_folds):
                        store.put(_fake_cell(rng, name, model, strategy, label, fold, quality, y_fold,
                                             calibration_shift[label], fails and fold == 0))
    return results_dir


def _fake_cell(rng: np.random.Generator, dataset: str, model: str, strategy: str, label: str, fold: int,
               quality: float, y: np.ndarray, shift: float, fail: bool) -> CellResult:
    key = _key(dataset, model, label, fold)
    common = dict(key=key, dataset=dataset, model=model, strategy=strategy, label=label,
                  params={}, repeat=0, fold=fold, family=FAMILY.get(strategy, "unknown"), fingerprint=_key(dataset),
                  anti_pattern=strategy == "leaky-smote")
    if fail:
        status = ("error", "timeout", "skipped")[int(rng.integers(3))]
        return CellResult(**common, status=status, message=f"fake {status}")
    signal = 1.5 + quality + rng.normal(0, 0.2)
    logits = (y - 0.5) * 2 * signal + rng.normal(0, 1, len(y)) - 2 + shift
    proba = 1 / (1 + np.exp(-logits))
    prevalence = float(y.mean())
    skill = 1 / (1 + np.exp(-(quality + rng.normal(0, 0.15))))
    ap = prevalence + (1 - prevalence) * skill
    ece = float(np.clip(0.02 + 0.05 * shift + rng.normal(0, 0.01), 0, 1))
    metrics = {"ap": ap, "prevalence": prevalence, "roc_auc": 0.5 + 0.5 * skill,
               "brier": float(np.clip(prevalence * (1 - skill) + ece / 2, 0, 1)), "log_loss": 0.1 + (1 - skill),
               "ece": ece, "calibration_intercept": -shift + rng.normal(0, 0.1), "calibration_slope": 1 / (1 + shift),
               "recall_at_precision0.8": skill ** 2, "recall_at_precision0.9": skill ** 3,
               "precision_at_recall0.8": skill ** 1.5, "f1@0.5": float(np.clip(skill - 0.1 * shift, 0, 1)),
               "mcc@0.5": skill - 0.2, "balanced_accuracy@0.5": 0.5 + 0.4 * skill, "precision@0.5": skill,
               "recall@0.5": skill, "alert_rate@0.5": prevalence}
    metrics.update({name.replace("@0.5", "@deployed"): value for name, value in list(metrics.items())
                    if name.endswith("@0.5")})
    return CellResult(**common, status="ok", metrics={k: float(v) for k, v in metrics.items()},
                      training_prior=prevalence, prior_rule="data",
                      fit_seconds=float(rng.lognormal(-3 + 0.5 * len(strategy) / 10, 0.3)),
                      predict_seconds=float(rng.lognormal(-5, 0.3)), row_index=np.arange(fold * len(y), (fold + 1) * len(y)),
                      y_true=y, proba=proba)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--datasets", type=int, default=100)
    parser.add_argument("--strategies", type=int, default=25)
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--folds", type=int, default=10)
    args = parser.parse_args()
    start = time.perf_counter()
    write_fake_store(args.out, args.datasets, args.strategies, args.models, args.folds)
    cells = args.datasets * args.strategies * args.models * args.folds
    print(f"wrote {cells:,} cells to {args.out} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
