"""Parameters declared once: name, type, default, allowed values and a search distribution.

Strategies, models and post-hoc steps each declare their parameters as a tuple of `Param`. Everything
else comes from those declarations: validation of a grid's values with one-line errors that state the
rule ("smote: `k_neighbors` must be an integer ≥ 1, got 0"), the canonical form a cell key hashes (a
number takes its declared type: `sampling_ratio = 1` is `1.0`, `k_neighbors = 5.0` is `5`; booleans
are never numbers), `imbench list strategies --params`, the parameter tables of docs/strategies.md,
and the distributions a tuned grid draws configurations from.

The allowed ranges are ours, checked against the wrapped libraries by the contract tests (every
declared bound builds and fits), rather than read from their private `_parameter_constraints`.
"""
from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from imbench.foundation.names import unknown_name_message


class InvalidParamsError(ValueError):
    """Parameters a strategy, model or post-hoc step does not declare, or values outside their rule."""


# --- search distributions --------------------------------------------------------------------------

@dataclass(frozen=True)
class Uniform:
    """A number drawn uniformly from [low, high] (`log`: uniformly in log space, for scales such as C)."""

    low: float
    high: float
    log: bool = False

    def sample(self, rng: random.Random) -> float:
        if self.log:
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return rng.uniform(self.low, self.high)

    def describe(self) -> str:
        return f"{'log-uniform' if self.log else 'uniform'} [{_number(self.low)}, {_number(self.high)}]"


@dataclass(frozen=True)
class IntUniform:
    """An integer drawn uniformly from low … high (`log`: uniformly in log space, for counts)."""

    low: int
    high: int
    log: bool = False

    def sample(self, rng: random.Random) -> int:
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
            return int(min(self.high, max(self.low, math.floor(value))))
        return rng.randint(self.low, self.high)

    def describe(self) -> str:
        return f"{'log-' if self.log else ''}integers {self.low}…{self.high}"


@dataclass(frozen=True)
class Choice:
    """One of `values`, each equally likely."""

    values: tuple[Any, ...]

    def sample(self, rng: random.Random) -> Any:
        return self.values[rng.randrange(len(self.values))]

    def describe(self) -> str:
        return "one of " + ", ".join(_shown(v) for v in self.values)


Distribution = Uniform | IntUniform | Choice


# --- declarations ----------------------------------------------------------------------------------

KINDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


@dataclass(frozen=True)
class Param:
    """One declared parameter.

    - `kind`: int, float, str or bool; numbers are canonicalised to it (an integer-valued float is an
      int for an int parameter; any number is a float for a float parameter).
    - `low` / `high`: bounds of a number (`low_open` / `high_open`: excluded);
    - `options`: the only values allowed (strings, or numbers of `kind`);
    - `also`: literal strings a number parameter also takes (`ratio = "balanced"` or a number);
    - `search`: what a tuned grid draws from (None: not tuned);
    - `doc`: one line for the tables.
    """

    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    options: tuple[Any, ...] | None = None
    also: tuple[str, ...] = ()
    search: Distribution | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TypeError(f"parameter {self.name!r}: kind must be one of int, float, str, bool, got {self.kind!r}")
        if self.default is not None:
            self.check(self.default, f"the default of `{self.name}`")  # a declaration is itself checked

    def rule(self) -> str:
        """What a value must be, as a phrase: "an integer ≥ 1", "a number in (0, 1]", "one of skip, shrink"."""
        if self.options is not None:
            return "one of " + ", ".join(_shown(v) for v in self.options)
        text = KINDS[self.kind]
        if self.kind in (int, float):
            text += _bounds(self)
        if self.also:
            text = " or ".join([*(repr(v) for v in self.also), text])
        return text

    def canonical(self, value: Any) -> Any:
        """The value in canonical form (numbers by declared type), without checking its rule."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        if self.kind is int:
            return int(value) if math.isfinite(value) and float(value).is_integer() else float(value)
        if self.kind is float or self.also:
            return float(value)
        return value

    def check(self, value: Any, owner: str) -> Any:
        """The canonical value, or InvalidParamsError "<owner>: `name` must be <rule>, got <value>"."""
        value = self.canonical(value)
        if not self._allowed(value):
            raise InvalidParamsError(f"{owner}: `{self.name}` must be {self.rule()}, got {_shown(value)}")
        return value

    def _allowed(self, value: Any) -> bool:
        if self.options is not None:
            return any(type(value) is type(option) and value == option for option in self.options)
        if isinstance(value, str) and value in self.also:
            return True
        if self.kind is bool:
            return isinstance(value, bool)
        if self.kind is str:
            return isinstance(value, str)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (self.high is not None and (value > self.high or (self.high_open and value == self.high)))

    def type_name(self) -> str:
        names = {int: "int", float: "float", str: "str", bool: "bool"}
        return " | ".join([*(repr(v) for v in self.also), names[self.kind]])


@dataclass(frozen=True)
class Requires:
    """A rule across parameters: when `param` is `value`, the others must be as `needs` says."""

    param: str
    value: Any
    needs: dict[str, Any] = field(default_factory=dict)
    why: str = ""

    def check(self, params: dict[str, Any], owner: str) -> None:
        if params.get(self.param) != self.value:
            return
        for key, wanted in self.needs.items():
            if params.get(key) != wanted:
                raise InvalidParamsError(f"{owner}: `{self.param}` = {_shown(self.value)} needs `{key}` = "
                                         f"{_shown(wanted)}, got {_shown(params.get(key))}"
                                         + (f" ({self.why})" if self.why else ""))

    def describe(self) -> str:
        needs = ", ".join(f"`{k}` = {_shown(v)}" for k, v in self.needs.items())
        return f"`{self.param}` = {_shown(self.value)} needs {needs}"


def defaults(declared: Sequence[Param]) -> dict[str, Any]:
    return {p.name: p.default for p in declared}


def check_names(declared: Sequence[Param], names: Any, owner: str) -> None:
    """InvalidParamsError naming the valid parameters for the first name not declared."""
    known = [p.name for p in declared]
    for key in names:
        if key not in known:
            raise InvalidParamsError(unknown_name_message(f"parameter of {owner}", key, sorted(known)) if known
                                     else f"{owner} takes no parameters (got {key!r})")


def resolve(declared: Sequence[Param], given: dict[str, Any] | None, owner: str, kind: str = "strategy",
            rules: Sequence[Requires] = ()) -> dict[str, Any]:
    """Defaults overlaid with `given`, each value checked and canonical, keys sorted; unknown names
    ("unknown parameter of strategy 'smote' ...") and values outside their rule ("smote: `k_neighbors`
    must be ...") are one-line InvalidParamsErrors."""
    given = dict(given or {})
    check_names(declared, given, f"{kind} {owner!r}")
    by_name = {p.name: p for p in declared}
    values = {key: by_name[key].check(given[key], owner) if key in given else by_name[key].default
              for key in sorted(by_name)}
    for rule in rules:
        rule.check(values, owner)
    return values


def _number(value: float) -> str:
    return f"{value:g}"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}" if float(f"{value:g}") == value else repr(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _bounds(param: Param) -> str:
    low, high = param.low, param.high
    if low is not None and high is not None:
        left, right = "(" if param.low_open else "[", ")" if param.high_open else "]"
        return f" in {left}{_number(low)}, {_number(high)}{right}"
    if low is not None:
        return f" {'>' if param.low_open else '≥'} {_number(low)}"
    if high is not None:
        return f" {'<' if param.high_open else '≤'} {_number(high)}"
    return ""
