"""`imbench run --backend sequential` runs its cells in the imbench process itself (for debugging:
pdb, prints). A cell that kills that process (`os._exit`, a crash in native code) would end the run
without a word, so the command runs in a child process with the same arguments and terminal, and this
process only waits: if a cell killed the child, one line says which cell and how, exit code 2. Ctrl-C
reaches the child directly (same process group); SIGTERM is passed on to it.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from imbench.benchmarks.execution.run_folder import CURRENT_CELL_ENV

#: The command line as given (set by imbench.cli.main), to start the child with.
ARGV: list[str] = []
#: Exit codes that mean the child ended on its own terms (imbench's own, Ctrl-C, SIGTERM).
OWN_EXITS = (0, 1, 2, 130, 143)


def supervise() -> None:
    """In the child (or when the command line is unknown), return at once; else run the child and exit."""
    if os.environ.get(CURRENT_CELL_ENV) or not ARGV:
        return
    handle, note = tempfile.mkstemp(prefix="imbench-cell-")
    os.close(handle)
    env = {**os.environ, CURRENT_CELL_ENV: note}
    try:
        child = subprocess.Popen([sys.executable, "-m", "imbench.cli", *ARGV], env=env)
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child gets Ctrl-C and decides
        previous_term = signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
        try:
            code = child.wait()
        finally:
            signal.signal(signal.SIGINT, previous_int)
            signal.signal(signal.SIGTERM, previous_term)
        cell = Path(note).read_text().strip()
    finally:
        Path(note).unlink(missing_ok=True)
    if cell and code not in (0, 130, 143):
        how = f"was killed by signal {-code} ({_signal_name(-code)})" if code < 0 else f"exited with code {code}"
        print(f"imbench: error: the run process {how} while fitting {cell}; the cells finished before it are stored "
              "(--backend local runs each cell in a worker and stores such a cell as `crashed`)", file=sys.stderr)
        sys.exit(2)
    sys.exit(code if code >= 0 else 128 - code)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"
