"""Worker side of the local pool (benchmarks/execution/local_pool.py): a loop that runs the cells it is sent.

Each worker
- says when a cell starts (the client's time limit counts from there, not from when it was queued)
  and sends its result back; it writes nothing itself;
- reads its inbox in a thread, so the client can queue the next cell while this one runs;
- ends when its client is gone, however the client died: its inbox closes (end of file), and a watch
  thread checks every WATCH_SECONDS that the client process (pid and start time) still exists — a
  parent-death signal would not do, since it follows the thread that started the worker, not the
  process;
- ignores Ctrl-C (SIGINT reaches the whole process group): the client decides what stops.
"""
from __future__ import annotations

import os
import queue
import signal
import threading
from multiprocessing.connection import Connection
from typing import Any

WATCH_SECONDS = 0.5
#: Growth of a worker's memory after which freed memory is handed back to the system after a cell.
RELEASE_ABOVE = 128 * 2**20


def private_memory(process: Any) -> int:
    """Resident memory of a psutil.Process not shared through files or shared memory (bytes): what the
    per-cell memory limit counts (the mapped dataset and library code are shared by all workers)."""
    info = process.memory_info()
    return max(0, info.rss - getattr(info, "shared", 0))


def _client_alive(pid: int, started: float) -> bool:
    import psutil

    try:
        return abs(psutil.Process(pid).create_time() - started) < 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _watch_client(pid: int, started: float) -> None:
    stop = threading.Event()
    while not stop.wait(WATCH_SECONDS):
        if not _client_alive(pid, started):
            os._exit(0)


def _receive(conn: Connection, inbox: "queue.SimpleQueue[Any]") -> None:
    while True:
        try:
            inbox.put(conn.recv())
        except (EOFError, OSError):
            os._exit(0)  # the client closed its end or died: nothing more to do


def serve(conn: Connection, client_pid: int, client_started: float, env: dict[str, str],
          shared_files: dict[str, str]) -> None:
    """Run the cells sent on `conn` until told to stop (None) or the client is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in [k for k in os.environ if k.startswith("IMBENCH_") and k not in env]:
        del os.environ[name]  # the fork server's environment may be older than the client's
    os.environ.update(env)
    threading.Thread(target=_watch_client, args=(client_pid, client_started), daemon=True).start()
    import psutil

    from imbench.benchmarks.execution.fit_cell import run_cell, use_shared_files
    from imbench.benchmarks.execution.shared_data import release_memory

    use_shared_files(shared_files)
    me = psutil.Process()
    baseline = private_memory(me)
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_receive, args=(conn, inbox), daemon=True).start()
    while (task := inbox.get()) is not None:
        conn.send(("start", task.cell.key))
        conn.send(("done", run_cell(task)))
        if private_memory(me) > baseline + RELEASE_ABOVE:
            release_memory()  # after a large cell, so the freed memory is not held while others run
