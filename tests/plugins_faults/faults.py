"""Test plugin: strategies that fail in each way the runner must survive (loaded with --plugins)."""
from __future__ import annotations

import os
import time
from typing import Any

from sklearn.base import BaseEstimator, ClassifierMixin

from strategies import ModelSpec, Strategy, TrainingContext, register_strategy
from strategies.base import model_pipeline


class Faulty(ClassifierMixin, BaseEstimator):
    def __init__(self, how: str = "raise") -> None:
        self.how = how

    def fit(self, X: Any, y: Any) -> "Faulty":
        if self.how == "crash":
            os._exit(3)  # kills the worker process outright
        if self.how == "hang":
            time.sleep(3600)
        raise ValueError("deliberate failure in fit")


def _faulty(how: str) -> type[Strategy]:
    class FaultyStrategy(Strategy):
        name = f"test-{how}"
        family = "none"
        description = f"test only: {how}s during fit"

        def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
            return model_pipeline(model, ctx, Faulty(how))

    FaultyStrategy.__name__ = FaultyStrategy.__qualname__ = f"Faulty_{how}"
    return register_strategy(FaultyStrategy)


for _how in ("raise", "crash", "hang"):
    _faulty(_how)
