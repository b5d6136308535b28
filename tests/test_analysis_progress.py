"""Long analyses report their stages (foundation/progress.py); the CLI shows them as bars on a terminal."""
from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from imbench.analysis.calibration import run_calibration
from imbench.analysis.folds import load_folds
from imbench.analysis.stress import run_stress
from perf.fake_store import write_fake_store
from imbench.foundation.progress import EVERY, listening, stage, steps
from imbench.progress import AnalysisProgress


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def begin(self, label: str, total: int | None) -> None:
        self.events.append(("begin", (label, total)))

    def advance(self, steps: int = 1) -> None:
        self.events.append(("advance", steps))


def test_steps_reports_every_item_once_and_nothing_without_a_listener() -> None:
    items = list(range(2 * EVERY + 7))
    assert list(steps(items, len(items), "work")) == items  # no listener: the items as they are
    recorder = Recorder()
    with listening(recorder):
        assert list(steps(iter(items), len(items), "work")) == items
        stage("next")
    assert recorder.events[0] == ("begin", ("work", len(items)))
    assert sum(n for kind, n in recorder.events if kind == "advance") == len(items)
    assert recorder.events[-1] == ("begin", ("next", None))
    assert list(steps(items, len(items), "after")) == items and len(recorder.events) == 5  # listening ended


def test_stress_and_calibration_report_one_step_per_fold(tmp_path: Path) -> None:
    store = write_fake_store(tmp_path / "store", n_datasets=3, n_strategies=3, n_models=1, n_folds=4, failure_rate=0.0)
    recorder = Recorder()
    with listening(recorder):
        folds = len(load_folds(store).folds)
        run_stress(store)
        run_calibration(store)
    stages = [payload for kind, payload in recorder.events if kind == "begin"]
    assert stages == [("reading predictions", None), ("prior-shift stress", folds), ("calibration", folds)]
    assert sum(n for kind, n in recorder.events if kind == "advance") == 2 * folds == 2 * 3 * 3 * 4


def test_bars_are_drawn_on_a_terminal_only(tmp_path: Path) -> None:
    def shown(terminal: bool) -> str:
        out = io.StringIO()
        with AnalysisProgress(Console(file=out, force_terminal=terminal, width=80)).shown():
            for _ in steps(range(120), 120, "prior-shift stress"):
                pass
        return out.getvalue()

    assert "prior-shift stress" in shown(True) and "120/120" in shown(True)
    assert shown(False) == ""
