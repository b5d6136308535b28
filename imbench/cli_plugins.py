"""`imbench check-plugins DIR`: the contract checks (`benchmarks.contract`) on what a plugin folder
registers — strategies, models, post-hoc steps, dataset sources — one line per check; exit 0 when all
pass, 2 (naming the plugins that fail) otherwise."""
from __future__ import annotations

from pathlib import Path

import click

from imbench.errors import UserError
from imbench.tables import make_console

console = make_console()


@click.command("check-plugins", short_help="Run the plugin contract checks on a folder of plugin modules.")
@click.argument("plugin_dir", type=click.Path(path_type=Path))
def check_plugins_command(plugin_dir: Path) -> None:
    """Load every *.py in PLUGIN_DIR (as `--plugins` does) and run the contract checks on each strategy,
    model, post-hoc step and dataset source it registers: the checks the test suite runs on every
    built-in. Prints one line per check; exits with 2 when a plugin fails one."""
    if not plugin_dir.is_dir():
        raise UserError(f"{plugin_dir}: not a directory of plugin modules")
    from imbench.benchmarks.contract import registered, run_checks
    from imbench.foundation.plugins import PLUGIN_FAILURES, load_external_plugins, load_plugin_dirs

    load_external_plugins()
    before, failures_before = registered(), dict(PLUGIN_FAILURES)
    load_plugin_dirs([plugin_dir])
    after = registered()
    broken = {name: why for name, why in PLUGIN_FAILURES.items() if name not in failures_before}
    for name, why in broken.items():
        console.print(f"FAIL plugin {name}: does not import — {why}", highlight=False, markup=False, soft_wrap=True)
    added = {kind: sorted(after[kind] - before[kind]) for kind in after}
    if not any(added.values()) and not broken:
        raise UserError(f"{plugin_dir}: its modules register no strategy, model, post-hoc step or dataset source")
    results = run_checks(added)
    for result in results:
        console.print(result.line(), highlight=False, markup=False, soft_wrap=True)
    failed = sorted({f"{r.kind} {r.name}" for r in results if not r.ok} | {f"plugin {n}" for n in broken})
    passed = sum(r.ok for r in results)
    if failed:
        raise UserError(f"{len(results) - passed} of {len(results)} checks failed"
                        f"{' and ' + str(len(broken)) + ' modules did not import' if broken else ''}: {', '.join(failed)}")
    console.print(f"all {len(results)} checks passed: " + ", ".join(
        f"{len(names)} {kind}{'s' if len(names) > 1 else ''}" for kind, names in added.items() if names),
        highlight=False, markup=False)


COMMANDS = [check_plugins_command]
