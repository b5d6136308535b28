"""Test plugin: strategies that fail in each way the runner must survive (loaded with --plugins)."""
from __future__ import annotations

import os
import signal
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from imbench.strategies import ModelSpec, Strategy, TrainingContext, register_strategy
from imbench.strategies.base import model_pipeline

#: What the memory hogs allocate at most (they are stopped long before, under any test's limit).
HOG_BYTES = 3 * 2**29
STEP_BYTES = 64 * 2**20


def _hog_python() -> list[bytes]:
    """Grow by Python objects (each written, so resident) until stopped."""
    held = []
    while len(held) * STEP_BYTES < HOG_BYTES:
        held.append(b"x" * STEP_BYTES)
        time.sleep(0.02)
    return held


def _hog_numpy() -> np.ndarray:
    """One native allocation, filled by numpy's C loop (resident as it fills)."""
    return np.ones(HOG_BYTES // 8)


class Faulty(ClassifierMixin, BaseEstimator):
    def __init__(self, how: str = "raise") -> None:
        self.how = how

    def fit(self, X: Any, y: Any) -> "Faulty":
        if self.how == "crash":
            os._exit(3)  # kills the worker process outright
        if self.how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if self.how == "hang":
            time.sleep(3600)
        if self.how in ("oom-python", "oom-numpy"):
            self.held_ = _hog_python() if self.how == "oom-python" else _hog_numpy()
            time.sleep(3600)  # holds it: only the memory limit (or the time limit) ends this
        raise ValueError("deliberate failure in fit")


def _faulty(how: str) -> type[Strategy]:
    class FaultyStrategy(Strategy):
        name = f"test-{how}"
        family = "none"
        description = f"test only: {how} during fit"

        def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
            return model_pipeline(model, ctx, Faulty(how))

    FaultyStrategy.__name__ = FaultyStrategy.__qualname__ = f"Faulty_{how.replace('-', '_')}"
    return register_strategy(FaultyStrategy)


for _how in ("raise", "crash", "kill", "hang", "oom-python", "oom-numpy"):
    _faulty(_how)
