"""Options several commands share: `-j/--jobs` (with -1 = every core), `--plugins`, `--rope`, `--costs`,
`--wide`, and the parsing of what they take."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from imbench.errors import UserError


class Jobs(click.ParamType):
    """A worker count: a positive integer, or -1 for every core of this machine (as joblib counts it)."""

    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a whole number (a positive count, or -1 for all cores)", param, ctx)
        if number == -1:
            return all_cores()
        if number < 1:
            self.fail(f"{number} is not a worker count: use a positive number, or -1 for all cores", param, ctx)
        return number


def all_cores() -> int:
    return max(1, os.cpu_count() or 1)


def jobs_option(default: int, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("-j", "--jobs", "n_jobs", default=default, show_default=True, type=Jobs(),
                        help=f"{help} -1 uses every core.")


def plugins_option(help: str = "Directory of plugin modules to load first; repeatable (a store is read without "
                              "them: it describes itself).") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--plugins", "plugin_dirs", multiple=True, type=click.Path(path_type=Path), help=help)


ROPE_OPTION = click.option(
    "--rope", type=float, default=None,
    help="Width of the region of practical equivalence of the Bayesian comparisons, in the metric's units "
         "[default: 0.01 for AP-like metrics, 0.005 for ece and brier].")
COSTS_OPTION = click.option(
    "--costs", default=None, metavar="fp=A,fn=B",
    help="Misclassification costs, e.g. fp=1,fn=20: adds the expected cost per case at the deployed threshold and "
         "at the cost-optimal threshold of calibrated probabilities, and a cost-curve figure.")
WIDE_OPTION = click.option("--wide", is_flag=True, help="Every column, however wide the terminal.")


def parse_costs(text: str | None) -> tuple[float, float] | None:
    """`fp=1,fn=20` → (1.0, 20.0); None when not given. Both costs must be given, finite and > 0."""
    if text is None:
        return None
    parts: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.strip().partition("=")
        key = key.strip().lower()
        if not sep or key not in ("fp", "fn"):
            raise UserError(f"--costs {text!r}: write it as fp=COST,fn=COST (e.g. fp=1,fn=20)")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not (number > 0 and number != float("inf")):
            raise UserError(f"--costs {text!r}: {key} must be a positive number, got {value.strip()!r}")
        parts[key] = number
    if set(parts) != {"fp", "fn"}:
        raise UserError(f"--costs {text!r}: give both, e.g. fp=1,fn=20")
    return parts["fp"], parts["fn"]
