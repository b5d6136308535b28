"""`imbench fetch`: download datasets into the cache now, so later runs (and workers) work offline."""
from __future__ import annotations

import click


@click.command("fetch")
@click.argument("names", nargs=-1, required=True)
def fetch_command(names: tuple[str, ...]) -> None:
    """Fetch and cache NAMES (names, globs or suites, e.g. openml-suite:imbalanced, imblearn:*) and show
    their metadata; cached datasets load without network afterwards (see IMBENCH_OFFLINE)."""
    import pandas as pd

    from benchmarks.cli import console
    from benchmarks.tables import rich_table
    from datasets import expand_names, load_dataset

    rows = []
    for name in expand_names(list(names)):
        meta = load_dataset(name).meta
        rows.append({"name": name, **{k: meta.get(k) for k in ("n", "d", "n_pos", "ir", "n_categorical",
                                                                "missing_rate")}, "notices": len(meta.get("notices", []))})
    console.print(rich_table(pd.DataFrame(rows), title=f"{len(rows)} datasets ready", digits=2))


COMMANDS = [fetch_command]
