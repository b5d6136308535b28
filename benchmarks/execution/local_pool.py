"""The local backend: worker processes with per-cell time and memory limits and crash isolation.

Written on multiprocessing rather than on joblib/loky because the runner needs what those pools do not
give: stop one cell (even inside native code) without losing the others in flight, know which cell
killed a worker and how (exit code or signal), and watch each cell's memory. Here each worker has its
own pipe, so the client always knows which cell runs where:

- two cells in flight per worker (the second waits in the worker's inbox), so a worker never waits for
  the client to store a result; a cell's time limit counts from its own start;
- a cell past its time limit is stopped by killing its worker (SIGKILL works inside native code) and
  stored as `timeout`; the cell waiting behind it is re-queued and a new worker takes over;
- a cell whose worker dies is stored as `crashed`, saying the exit code or the signal;
- a cell whose worker's memory (resident, not counting shared pages: the mapped dataset and library
  code are shared by every worker) goes past the per-cell limit is stopped and stored as `oom` with
  the limit and the peak seen; a worker that dies after its sampled memory reached the limit (a native
  library that aborts when an allocation fails) is `oom` too.

Workers are forked from a fork server (multiprocessing's `forkserver`) that has imported the fitting
code once, so starting or replacing a worker takes milliseconds, not seconds of imports, and the
imported libraries' memory is shared between workers. Workers end when the client dies (see
benchmarks/execution/worker.py); the fork server ends with it too.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

import psutil

from imbench.benchmarks.execution.fit_cell import CellTask, failed_result, oom_result
from imbench.benchmarks.execution.backends import BackendError
from imbench.benchmarks.store.results import CellResult
from imbench.benchmarks.execution.worker import private_memory, serve

#: Worker environment: one BLAS/OpenMP thread per fit, parallelism is across cells.
WORKER_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
#: Cells sent to a worker before it finished the first (the rest wait in the client's queue).
PER_WORKER = 2
POLL_SECONDS = 0.2
#: How often each worker's memory is sampled when a per-cell memory limit is set.
MEMORY_SAMPLE_SECONDS = 0.1
MiB = 2**20
#: Workers that may die before any cell ever started before the backend is declared broken.
MAX_DEATHS_BEFORE_START = 3
_PRELOAD = ["imbench.benchmarks.execution.fit_cell"]


def exit_reason(exitcode: int | None) -> str:
    """How a worker process ended, for a `crashed` row: an exit code or a signal (and which)."""
    if exitcode is None:
        return "the worker process died"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        hint = "; the kernel's out-of-memory killer sends it" if -exitcode == signal.SIGKILL else ""
        return f"the worker process was killed by signal {-exitcode} ({name}{hint})"
    return f"the worker process exited with code {exitcode}"


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    from multiprocessing import forkserver

    # The fork server imports the fitting code once; give it the one-thread environment while it starts
    # (the BLAS thread pools read it at import).
    saved = {k: os.environ.get(k) for k in WORKER_ENV}
    os.environ.update(WORKER_ENV)
    try:
        forkserver.ensure_running()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return context


@dataclass
class Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    ps: psutil.Process
    #: Cells sent and not finished, in order; the first runs once `started` is set.
    sent: deque[CellTask] = field(default_factory=deque)
    started: float | None = None
    peak: int = 0

    def kill(self) -> None:
        try:
            self.process.kill()
        except (OSError, ValueError):
            pass
        self.process.join(5)
        self.conn.close()


class LocalPool:
    """Run cells in `n_jobs` worker processes, yielding each CellResult as it finishes."""

    def __init__(self, n_jobs: int, timeout: float | None = None, memory_mb: float | None = None,
                 shared_files: dict[str, str] | None = None) -> None:
        self.n_jobs = max(1, n_jobs)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.shared_files = shared_files or {}
        self.workers: list[Worker] = []
        self._last_sample = 0.0
        self.started_any = False
        self.deaths_before_start = 0

    def _start_worker(self) -> Worker:
        context = _context()
        parent_end, child_end = context.Pipe()
        me = psutil.Process()
        env = {**WORKER_ENV, **{k: v for k, v in os.environ.items() if k.startswith("IMBENCH_")}}
        process = context.Process(target=serve, args=(child_end, me.pid, me.create_time(), env, self.shared_files),
                                  daemon=True, name="imbench-worker")
        process.start()
        child_end.close()
        worker = Worker(process, parent_end, psutil.Process(process.pid))
        self.workers.append(worker)
        return worker

    def _retire(self, worker: Worker, queue: deque[CellTask], kill: bool = True) -> None:
        """Drop a worker (killing it if asked) and put the cells still waiting in it back in front of the queue."""
        if kill:
            worker.kill()
        self.workers.remove(worker)
        queue.extendleft(reversed(worker.sent))
        worker.sent.clear()

    def run(self, tasks: Sequence[CellTask]) -> Iterator[CellResult]:
        queue = deque(tasks)
        try:
            while queue or any(w.sent for w in self.workers):
                while queue and len(self.workers) < self.n_jobs:
                    self._start_worker()
                for worker in self.workers:
                    while queue and len(worker.sent) < PER_WORKER:
                        task = queue.popleft()
                        worker.sent.append(task)
                        try:
                            worker.conn.send(task)
                        except OSError:
                            break  # it died: its sentinel says so below
                busy = [w for w in self.workers if w.sent]
                poll = POLL_SECONDS if self.memory_mb is None else MEMORY_SAMPLE_SECONDS
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=poll))
                for worker in busy:
                    if worker.conn in ready or worker.process.sentinel in ready:
                        yield from self._read(worker, queue)
                yield from self._enforce_limits(queue)
        finally:
            self.close()

    def _read(self, worker: Worker, queue: deque[CellTask]) -> Iterator[CellResult]:
        """Take every message the worker sent; if it has died, the cell it was running is the cause."""
        try:
            while worker.conn.poll():
                kind, payload = worker.conn.recv()
                if kind == "start":
                    worker.started, worker.peak = time.monotonic(), 0
                    self.started_any = True
                else:
                    worker.sent.popleft()
                    worker.started = None
                    yield payload
        except (EOFError, OSError):
            pass  # a message cut short by the worker's death
        if worker.process.is_alive():
            return
        worker.process.join()
        reason = exit_reason(worker.process.exitcode)
        if worker.started is None:  # died before starting a cell (killed while idle, or cannot start)
            self._retire(worker, queue, kill=False)
            worker.conn.close()
            self.deaths_before_start += 1
            if self.deaths_before_start >= MAX_DEATHS_BEFORE_START and not self.started_any:

                raise BackendError(f"local workers die before running any cell: {reason}")
            return
        if worker.sent:
            task = worker.sent.popleft()
            if self.memory_mb is not None and worker.peak >= self.memory_mb * MiB:
                yield self._oom(task, worker.peak, f"{reason} after reaching")
            else:
                yield failed_result(task, "crashed", reason)
        self._retire(worker, queue, kill=False)
        worker.conn.close()

    def _oom(self, task: CellTask, peak: int, what: str = "used") -> CellResult:
        assert self.memory_mb is not None
        return oom_result(task, self.memory_mb, f"{what} {peak / MiB:,.0f} MiB, over the cell memory limit of "
                                                f"{self.memory_mb:,.0f} MiB", peak)

    def _enforce_limits(self, queue: deque[CellTask]) -> Iterator[CellResult]:
        now = time.monotonic()
        sample = self.memory_mb is not None and now - self._last_sample >= MEMORY_SAMPLE_SECONDS
        if sample:
            self._last_sample = now
        for worker in list(self.workers):
            if not worker.sent:
                continue
            if self.timeout is not None and worker.started is not None and now - worker.started > self.timeout:
                task = worker.sent.popleft()
                self._retire(worker, queue)
                yield failed_result(task, "timeout", f"cell exceeded its time limit of {self.timeout:g} s")
                continue
            if sample:
                try:
                    worker.peak = max(worker.peak, private_memory(worker.ps))
                except psutil.Error:
                    continue  # it is exiting; _read sees it
                assert self.memory_mb is not None
                if worker.peak > self.memory_mb * MiB:
                    task = worker.sent.popleft()
                    self._retire(worker, queue)
                    yield self._oom(task, worker.peak)

    def close(self) -> None:
        """Stop every worker: idle ones are told to exit, busy ones are killed."""
        for worker in self.workers:
            if worker.sent:
                worker.kill()
                continue
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in self.workers:
            worker.process.join(2)
            if worker.process.is_alive():
                worker.kill()
            worker.conn.close()
        self.workers.clear()
