"""The execution layer: turns CellTasks into CellResults, in any order, on some backend.

Kept small and swappable on purpose (DESIGN, "Faults"): the runner only needs an iterator of results.

- `loky` (default): a process pool with at most two cells in flight per worker (the second one
  waits in the queue), so the layer always knows which cells may be running; each cell notes when it
  really starts. A cell past its time limit — even inside native code — gets a
  `timeout` row and the pool is killed and replaced; a cell that kills its worker gets a `crashed` row
  (the in-flight cells of a broken pool are re-run one at a time to find which one it was).
  Written here because joblib's `Parallel` cannot stop one task or say which task killed a worker.
- `sequential`: in this process (for debugging; no time limit, no crash isolation).
- `dask`: the same tasks on a Dask cluster through joblib's Dask backend; the client keeps writing
  the store and workers only compute.
"""
from __future__ import annotations

import os
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from concurrent.futures import FIRST_COMPLETED, Future, wait

from joblib import Parallel, delayed, parallel_config
from joblib.externals.loky import ProcessPoolExecutor
from joblib.externals.loky.process_executor import BrokenProcessPool

from benchmarks.fit_cell import CellTask, failed_result, run_cell
from benchmarks.store import CellResult

BACKENDS = ("loky", "dask", "sequential")
#: Worker environment: one BLAS/OpenMP thread per fit, parallelism is across cells.
WORKER_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
POLL_SECONDS = 0.2


class BackendError(RuntimeError):
    """A backend that cannot be used here (missing extra, unreachable scheduler)."""


def execute(tasks: Sequence[CellTask], n_jobs: int = 1, backend: str = "loky", scheduler: str | None = None,
            timeout: float | None = None) -> Iterator[CellResult]:
    """Yield one CellResult per task as each finishes."""
    if backend == "sequential":
        yield from (run_cell(task) for task in tasks)
    elif backend == "loky":
        yield from LocalPool(n_jobs, timeout).run(tasks)
    elif backend == "dask":
        yield from _execute_dask(tasks, n_jobs, scheduler)
    else:
        raise BackendError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")


def _run_marked(task: CellTask, marker: str) -> CellResult:
    """Worker side: note when the cell really starts (after worker start-up), then run it."""
    with open(marker, "w") as handle:
        handle.write(repr(time.time()))
    return run_cell(task)


def _started_at(marker: Path) -> float | None:
    try:
        return float(marker.read_text())
    except (OSError, ValueError):
        return None  # not started yet (the worker may still be importing)


class LocalPool:
    """Loky worker processes with per-cell time limits and crash isolation."""

    def __init__(self, n_jobs: int, timeout: float | None) -> None:
        self.n_jobs = max(1, n_jobs)
        self.timeout = timeout
        self.executor: ProcessPoolExecutor | None = None
        self.markers = Path(tempfile.mkdtemp(prefix="imbench-cells-"))

    def _fresh_executor(self, workers: int) -> ProcessPoolExecutor:
        self._kill()
        env = {**WORKER_ENV, **{k: v for k, v in os.environ.items() if k.startswith("IMBENCH_")}}
        self.executor = ProcessPoolExecutor(max_workers=workers, env=env)
        return self.executor

    def _kill(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, kill_workers=True)
            self.executor = None

    def run(self, tasks: Sequence[CellTask]) -> Iterator[CellResult]:
        try:
            queue = deque(tasks)
            while queue:
                suspects = yield from self._run_until_crash(queue, self.n_jobs)
                # The pool broke: run each cell that was in flight alone to find the one that crashes.
                for task in suspects:
                    yield from self._run_until_crash(deque([task]), 1, crashing=task)
        finally:
            self._kill()
            for marker in self.markers.glob("*"):
                marker.unlink(missing_ok=True)
            self.markers.rmdir()

    def _run_until_crash(self, queue: deque[CellTask], workers: int,
                         crashing: CellTask | None = None) -> Iterator[CellResult]:
        """Run tasks from `queue` until it is empty (returns []) or the pool breaks (returns the suspects)."""
        executor = self._fresh_executor(workers)
        running: dict[Future, tuple[CellTask, Path]] = {}
        # Two cells per worker in flight, so a worker never waits for the client to store a result;
        # time limits still count from each cell's own start (its marker), not from submission.
        in_flight = workers if crashing is not None else 2 * workers
        while queue or running:
            while queue and len(running) < in_flight:
                task = queue.popleft()
                marker = self.markers / task.cell.key
                marker.unlink(missing_ok=True)
                running[executor.submit(_run_marked, task, str(marker))] = (task, marker)
            done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            broken: list[CellTask] = []
            for future in done:
                task, _marker = running.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool as exc:
                    broken.append(task)
                    reason = f"the worker process died: {exc}".splitlines()[0]
            if broken:
                if crashing is not None:
                    yield failed_result(crashing, "crashed", reason)
                    return []
                return broken + [t for t, _ in running.values()]
            if self.timeout is not None:
                now = time.time()
                starts = {f: _started_at(marker) for f, (_, marker) in running.items()}
                late = [f for f, start in starts.items() if start is not None and now - start > self.timeout]
                if late:
                    for future in late:
                        task, _ = running.pop(future)
                        yield failed_result(task, "timeout", f"cell exceeded its time limit of {self.timeout:g} s")
                    queue.extendleft(reversed([t for t, _ in running.values()]))
                    executor = self._fresh_executor(workers)  # stops the late workers, even in native code
                    running.clear()
        return []


def _execute_dask(tasks: Sequence[CellTask], n_jobs: int, scheduler: str | None) -> Iterator[CellResult]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise BackendError("the dask backend needs the optional extra: pip install 'imbench[dask]'") from None
    try:
        client = Client(scheduler, timeout="10s") if scheduler else Client(
            n_workers=max(n_jobs, 1), threads_per_worker=1, processes=True, dashboard_address=None)
    except (OSError, TimeoutError) as exc:
        raise BackendError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from None
    try:
        with parallel_config(backend="dask"):
            yield from Parallel(n_jobs=-1, return_as="generator_unordered", batch_size=1)(
                delayed(run_cell)(t) for t in tasks)
    finally:
        client.close()
