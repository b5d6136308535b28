"""The real CLI entry point (`imbench.cli.main`) run in a forked copy of the test process.

A subprocess per case would spend seconds importing scikit-learn; a fork starts with every module
already imported and costs milliseconds, while keeping what a user sees: the exit code, everything
written on file descriptors 1 and 2 (captured in files, so rich and print both land there), a
traceback exactly when Python would print one (an uncaught exception exits 1), and no state leaking
back into the test process.
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli_forked(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
                   before: Callable[[], None] | None = None, timeout: float = 300) -> Outcome:
    """`imbench ARGS` in a fork; `before` runs in the child first (e.g. to plant a bug)."""
    import imbench.cli

    with tempfile.TemporaryDirectory(prefix="imbench-fork-") as folder:
        out_path, err_path = Path(folder, "out"), Path(folder, "err")
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(out, 1)
                os.dup2(err, 2)
                sys.stdout = open(1, "w", closefd=False)
                sys.stderr = open(2, "w", closefd=False)
                os.environ.update({"COLUMNS": "200", **(env or {})})
                if cwd is not None:
                    os.chdir(cwd)
                try:
                    if before is not None:
                        before()
                    imbench.cli.main(list(args))
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                except BaseException:  # noqa: BLE001 - what Python does with an uncaught exception
                    traceback.print_exc()
                    code = 1
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise TimeoutError(f"imbench {' '.join(args)} did not finish within {timeout} s")
            time.sleep(0.01)
        return Outcome(os.waitstatus_to_exitcode(status), out_path.read_text(), err_path.read_text())
