"""The `imbench` command line, one module per command group:

- running (`imbench.cli_run`): list, run, export, fetch;
- analysis (`imbench.cli_analysis`): leaderboard, plot, report, leakage;
- prior shift (`imbench.cli_shift`): stress, calibration, budget;
- planning and stores (`imbench.cli_store`): plan, merge, check;
- run against run (`imbench.cli_compare`): compare;
- plugin authors (`imbench.cli_plugins`): check-plugins.

User mistakes (unknown names, bad grid files, missing results) print one line and exit with code 2;
`--debug` shows the traceback instead.
"""
from __future__ import annotations

import os
import signal
import sys

import click

from imbench import cli_analysis, cli_compare, cli_plugins, cli_run, cli_shift, cli_store
from imbench.errors import store_corruption, user_errors
from imbench.tables import make_console

err_console = make_console(stderr=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="imbench", prog_name="imbench", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
def cli(debug: bool) -> None:
    """imbench — compare training strategies for imbalanced binary classification."""


for _group in (cli_run, cli_store, cli_analysis, cli_shift, cli_compare, cli_plugins):
    for _command in _group.COMMANDS:
        cli.add_command(_command)


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: what runs stops, what finished is kept, workers are stopped."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def _quiet_broken_pipe() -> None:
    """Point stdout at /dev/null, so flushing it at exit does not raise (and print) again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors → one line on stderr and exit code 2; Ctrl-C → exit 130,
    SIGTERM → exit 143, after the same clean-up."""
    from imbench.foundation.notices import hold_notices
    from imbench import sequential

    args = list(sys.argv[1:] if argv is None else argv)
    sequential.ARGV = args
    debug = "--debug" in args
    signal.signal(signal.SIGTERM, _terminate)
    try:
        with hold_notices():  # dataset notices print after the checks pass, never before an error line
            cli.main(args=args, prog_name="imbench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # click's own (missing argument, unknown option): one line too
        if debug:
            raise
        command = exc.ctx.command_path if exc.ctx is not None else "imbench"
        print(f"imbench: error: {exc.format_message()} (see '{command} --help')", file=sys.stderr)
        sys.exit(2)
    except click.ClickException as exc:
        if debug:
            raise
        exc.show()
        sys.exit(2)
    except BrokenPipeError:  # the reader went away (`imbench leaderboard ... | head`): as other tools, quietly
        _quiet_broken_pipe()
        sys.exit(141)  # 128 + SIGPIPE, what the shell reports for a tool killed by the closed pipe
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        terminated = isinstance(exc, Terminated) or isinstance(exc.__context__, Terminated)
        how = "stopped by SIGTERM" if terminated else "interrupted"
        print(f"imbench: {how} (a run keeps its finished cells: the same command resumes)", file=sys.stderr)
        sys.exit(143 if terminated else 130)
    except Exception as exc:
        corrupt = store_corruption(exc)
        if debug or not (corrupt or isinstance(exc, user_errors())):
            raise
        message = corrupt or (str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        print(f"imbench: error: {message}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
