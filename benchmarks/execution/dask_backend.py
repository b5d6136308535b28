"""The Dask backend: the same cells on a Dask cluster, with the local backend's guarantees.

Workers must be managed by nannies (`dask worker` starts them so; `LocalCluster(processes=True)` too),
which restart a worker process that dies. The client submits the cells in the runner's order, keeps
one per worker thread in flight (so a worker that dies takes no waiting cell with it), and every
POLL_SECONDS asks each worker which cells it is running, since when and with how much memory:
- a cell past its time limit is cancelled and its worker killed through its nanny (SIGKILL works
  inside native code); the nanny starts a new worker and the scheduler re-runs the other cells that
  were waiting there; the cell is stored as `timeout`;
- a cell past the per-cell memory limit (`--memory`; needs one thread per worker, as the limit is
  checked on the worker's memory) is stopped the same way and stored as `oom`;
- a cell that kills its worker is re-run by the scheduler on another worker until it has killed
  `distributed.scheduler.allowed-failures` + 1 workers (default 4); then it is stored as `crashed`,
  with the exit code or signal the nanny logged, or as `oom` when the nanny's own memory limit
  stopped the worker. A cell the scheduler gives up on that was never seen running (it was waiting on
  a worker that another cell killed) is submitted once more instead. A worker killed from outside
  costs its cells one retry, nothing more.
Datasets are loaded once per worker process (benchmarks/execution/fit_cell.py caches them by name), so every
worker must be able to load them: see docs/cluster.md.
"""
from __future__ import annotations

import os
import re
import signal
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from imbench.benchmarks.execution.derive import one_line
from imbench.benchmarks.execution.fit_cell import CellTask, failed_result, oom_result, run_cell
from imbench.benchmarks.execution.backends import BackendError
from imbench.benchmarks.store.results import CellResult

#: How often the client asks the workers what they run.
POLL_SECONDS = 0.5
#: How long to wait for a scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = "10s"
MiB = 2**20

# --- worker side -------------------------------------------------------------------------------------

#: Cells running in this worker process: key → time.monotonic() at start.
_RUNNING: dict[str, float] = {}


def run_on_worker(task: CellTask) -> CellResult:
    """Run one cell, noting while it runs so the client can see it."""
    _RUNNING[task.cell.key] = time.monotonic()
    try:
        return run_cell(task)
    finally:
        _RUNNING.pop(task.cell.key, None)


def worker_state() -> dict[str, Any]:
    """What the client polls: this worker's pid, its cells with their seconds so far, its memory."""
    import psutil

    from imbench.benchmarks.execution.worker import private_memory

    now = time.monotonic()
    return {"pid": os.getpid(), "running": {key: now - start for key, start in list(_RUNNING.items())},
            "memory": private_memory(psutil.Process())}


def kill_worker_process(dask_worker: Any) -> int | None:
    """Nanny side: SIGKILL the nanny's worker process (the nanny then starts a new one)."""
    pid = dask_worker.pid
    if pid:
        os.kill(pid, signal.SIGKILL)
    return pid


# --- client side -------------------------------------------------------------------------------------

def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:

        raise BackendError("the dask backend needs the optional extra: pip install 'imbench[dask]'") from None
    return distributed


def check_scheduler(scheduler: str) -> None:
    """Connect to the scheduler once and let go: an unreachable address is one line before the run
    creates or writes anything."""
    runner = DaskRunner(scheduler)
    client, _ = runner._connect()
    client.close()


class DaskRunner:
    """Run cells on a Dask cluster (at `scheduler`, or a LocalCluster of `n_jobs` workers)."""

    def __init__(self, scheduler: str | None, n_jobs: int = 1, timeout: float | None = None,
                 memory_mb: float | None = None) -> None:
        self.scheduler = scheduler
        self.n_jobs = max(1, n_jobs)
        self.timeout = timeout
        self.memory_mb = memory_mb

    def _connect(self) -> tuple[Any, Any]:

        distributed = _import_distributed()
        if self.scheduler is None:
            cluster = distributed.LocalCluster(n_workers=self.n_jobs, threads_per_worker=1, processes=True,
                                               host="127.0.0.1", dashboard_address=None)
            return distributed.Client(cluster), cluster
        try:
            return distributed.Client(self.scheduler, timeout=CONNECT_TIMEOUT), None
        except (OSError, TimeoutError) as exc:
            raise BackendError(f"cannot reach the Dask scheduler {self.scheduler!r}: {one_line(exc)}") from None

    def run(self, tasks: Sequence[CellTask]) -> Iterator[CellResult]:
        if not tasks:
            return
        client, cluster = self._connect()
        try:
            yield from _ClusterRun(client, self.timeout, self.memory_mb, self.n_jobs).run(tasks)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


class _ClusterRun:
    def __init__(self, client: Any, timeout: float | None, memory_mb: float | None, n_jobs: int) -> None:
        self.client = client
        self.timeout = timeout
        self.memory_mb = memory_mb
        workers = client.scheduler_info().get("workers", {})
        threads = sum(int(w.get("nthreads", 1)) for w in workers.values()) or n_jobs
        if memory_mb is not None and any(int(w.get("nthreads", 1)) > 1 for w in workers.values()):

            raise BackendError("--memory on Dask needs one thread per worker (dask worker --nthreads 1): the "
                               "limit is checked on each worker's memory")
        self.capacity = threads
        self.live: dict[Any, CellTask] = {}
        self.by_key: dict[str, Any] = {}
        #: cell key → (worker address, worker pid) where it was last seen running.
        self.seen: dict[str, tuple[str, int]] = {}
        #: Cells submitted again after the scheduler gave up on them without their being seen running.
        self.resubmitted: set[str] = set()

    def run(self, tasks: Sequence[CellTask]) -> Iterator[CellResult]:
        distributed = _import_distributed()
        queue = deque(tasks)
        last_poll = time.monotonic()
        try:
            while queue or self.live:
                while queue and len(self.live) < self.capacity:
                    task = queue.popleft()
                    future = self.client.submit(run_on_worker, task, pure=False,
                                                key=f"imbench-cell-{task.cell.key}-{time.monotonic_ns()}")
                    self.live[future] = task
                    self.by_key[task.cell.key] = future
                try:
                    done, _ = distributed.wait(list(self.live), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                for future in done:
                    task = self._forget(future)
                    if future.status == "finished":
                        yield future.result()
                    elif future.status == "error":
                        failure = self._failure(task, future.exception())
                        if failure is None:
                            queue.appendleft(task)
                        else:
                            yield failure
                if time.monotonic() - last_poll >= POLL_SECONDS:
                    last_poll = time.monotonic()
                    yield from self._enforce_limits()
        finally:
            if self.live:
                self.client.cancel(list(self.live))

    def _forget(self, future: Any) -> CellTask:
        task = self.live.pop(future)
        self.by_key.pop(task.cell.key, None)
        return task

    def _enforce_limits(self) -> Iterator[CellResult]:
        if self.timeout is None and self.memory_mb is None:
            return
        states = self.client.run(worker_state, on_error="return")
        for address, state in states.items():
            if isinstance(state, BaseException):
                continue  # a worker being restarted
            for key, elapsed in state["running"].items():
                self.seen[key] = (address, state["pid"])
                future = self.by_key.get(key)
                if future is None:
                    continue
                if self.timeout is not None and elapsed > self.timeout:
                    task = self._stop(future, address)
                    yield failed_result(task, "timeout", f"cell exceeded its time limit of {self.timeout:g} s")
                elif self.memory_mb is not None and state["memory"] > self.memory_mb * MiB:
                    task = self._stop(future, address)
                    message = (f"used {state['memory'] / MiB:,.0f} MiB, over the cell memory limit of "
                               f"{self.memory_mb:,.0f} MiB")
                    yield oom_result(task, self.memory_mb, message, state["memory"])

    def _stop(self, future: Any, address: str) -> CellTask:
        """Cancel a running cell (so it is not re-run) and kill its worker through its nanny."""
        task = self._forget(future)
        self.client.cancel([future])
        self.client.run(kill_worker_process, workers=[address], nanny=True, on_error="return")
        return task

    def _failure(self, task: CellTask, exc: BaseException | None) -> CellResult | None:
        """The row of a cell whose future failed, or None to submit it again."""
        from distributed.scheduler import KilledWorker

        if not isinstance(exc, KilledWorker):
            return failed_result(task, "error", f"on the Dask worker: {one_line(exc)}")
        if task.cell.key not in self.seen and task.cell.key not in self.resubmitted:
            self.resubmitted.add(task.cell.key)
            return None
        last = exc.args[1] if len(exc.args) > 1 else None
        pid = getattr(last, "pid", None)
        if pid is None and task.cell.key in self.seen:
            pid = self.seen[task.cell.key][1]
        attempts = (exc.args[2] + 1) if len(exc.args) > 2 else "every"
        for _, event in self.client.get_events("worker-restart-memory"):
            if pid is not None and event.get("pid") == pid:
                limit = getattr(last, "memory_limit", 0) or 0
                return oom_result(task, limit / MiB if limit else None,
                            f"the nanny's memory limit ({limit / MiB:,.0f} MiB) stopped its worker at "
                            f"{event.get('rss', 0) / MiB:,.0f} MiB", event.get("rss", 0))
        return failed_result(task, "crashed", f"its worker died on each of {attempts} attempts; last: "
                                              f"{self._death_reason(pid)}")

    def _death_reason(self, pid: int | None) -> str:
        """How the worker with `pid` ended, from its nanny's log (an exit code or a signal)."""
        from imbench.benchmarks.execution.local_pool import exit_reason

        pattern = re.compile(rf"Worker process {pid} (exited with status (\d+)|was killed by signal (\d+))")
        for attempt in range(5 if pid is not None else 0):  # the nanny may log it a moment later
            try:
                logs = self.client.get_worker_logs(nanny=True)
            except Exception:  # logs are a courtesy; the row is stored either way
                logs = {}
            for records in logs.values():
                for _, message in records:
                    match = pattern.search(str(message))
                    if match:
                        code = int(match.group(2)) if match.group(2) else -int(match.group(3))
                        return exit_reason(code)
            time.sleep(0.2 * (attempt + 1))
        return "the worker process died (its nanny's log says how)"

