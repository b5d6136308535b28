"""Grid files: valid grids expand as documented; every mistake is one line with file:line and a hint."""
from __future__ import annotations

from pathlib import Path

import pytest

from imbench.benchmarks.spec.cells import enumerate_cells
from imbench.benchmarks.spec.grid import GridError, load_grid, parse_grid

GOOD = """\
name = "t"
seed = 3
datasets = ["keel:yeast4", "glass1"]
models = ["logreg"]
strategies = ["none", {name = "smote", k_neighbors = [3, 5]}]

[cv]
n_splits = 3
n_repeats = 2
"""


def test_good_grid_expands() -> None:
    grid = parse_grid(GOOD, "g.toml")
    assert grid.datasets == ["keel:yeast4", "keel:glass1"]  # bare bundled names are resolved
    assert [s.label for s in grid.strategies] == ["none", "smote[k_neighbors=3]", "smote"]
    assert grid.strategies[1].params == {"few_positives": "skip", "k_neighbors": 3, "sampling_ratio": 1.0}
    cells = enumerate_cells(grid).cells
    assert len(cells) == 2 * 1 * 3 * 3 * 2
    assert len({c.key for c in cells}) == len(cells)
    assert len({c.seed for c in cells}) == len(cells)


def _keys(text: str) -> set[str]:
    return {c.key for c in enumerate_cells(parse_grid(text)).cells}


def test_keys_depend_on_spec_not_on_grid_order() -> None:
    a = _keys(GOOD)
    assert _keys(GOOD.replace('["keel:yeast4", "glass1"]', '["glass1", "keel:yeast4"]')) == a
    assert not a & _keys(GOOD.replace("seed = 3", "seed = 4"))


@pytest.mark.parametrize(("one", "other"), [
    ('{name = "smote", k_neighbors = [3, 5]}', '{name = "smote", k_neighbors = [3.0, 5.0]}'),
    ('"random-under"', '{name = "random-under", sampling_ratio = 1}'),
    ('"random-under"', '{name = "random-under", sampling_ratio = 1.0}'),
    ('"smote"', '{name = "smote", few_positives = "skip", sampling_ratio = 1, k_neighbors = 5}'),
    ('{name = "class-weight", ratio = 20}', '{name = "class-weight", ratio = 20.0}'),
])
def test_one_effective_parameter_set_is_one_key_and_one_label(one: str, other: str) -> None:
    """Numbers by value in their declared type, defaults filled, key order ignored."""
    first, second = GOOD.replace('{name = "smote", k_neighbors = [3, 5]}', one), \
        GOOD.replace('{name = "smote", k_neighbors = [3, 5]}', other)
    assert _keys(first) == _keys(second)
    assert [s.label for s in parse_grid(first).strategies] == [s.label for s in parse_grid(second).strategies]


def test_a_boolean_is_not_a_number_and_numbers_take_their_declared_type() -> None:
    """`True` stays distinct from `1` (and is refused for an integer), `1.0` is the integer 1, and `1`
    the number 1.0: one effective parameter set, one canonical form."""
    from imbench.foundation.params import InvalidParamsError
    from imbench.strategies import get_strategy

    strategy = get_strategy("smote")
    with pytest.raises(InvalidParamsError, match=r"`k_neighbors` must be an integer ≥ 1, got true"):
        strategy.resolve_params({"k_neighbors": True})
    assert strategy.resolve_params({"k_neighbors": 1.0})["k_neighbors"] == 1
    assert type(strategy.resolve_params({"k_neighbors": 1.0})["k_neighbors"]) is int
    assert strategy.resolve_params({"sampling_ratio": 1}) == strategy.resolve_params({}) == strategy.defaults
    assert type(strategy.resolve_params({"sampling_ratio": 1})["sampling_ratio"]) is float


def test_model_options_are_part_of_the_cell() -> None:
    text = GOOD.replace('models = ["logreg"]', 'models = ["lightgbm", {name = "lightgbm", small_sets = "scale"}]')
    grid = parse_grid(text)
    assert [m.label for m in grid.models] == ["lightgbm", "lightgbm[small_sets=scale]"]
    assert len(_keys(text)) == 2 * len(_keys(GOOD))
    assert _keys(text.replace('"lightgbm", {', '{name = "lightgbm", small_sets = "keep"}, {')) == _keys(text)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('models = ["logreg"]', 'models = ["logreg"', "g.toml:5: malformed TOML"),
    ('models = ["logreg"]', 'modles = ["logreg"]', "g.toml:4: unknown key in grid 'modles': did you mean 'models'"),
    ('models = ["logreg"]', 'models = ["lightgmb"]', "g.toml:4: unknown model 'lightgmb': did you mean 'lightgbm'"),
    ('"none"', '"smoet"', "g.toml:5: unknown strategy 'smoet': did you mean 'smote'"),
    ("k_neighbors = [3, 5]", "k_neighbours = [3, 5]", "g.toml:5: unknown parameter of strategy 'smote' 'k_neighbours'"),
    ('"glass1"', '"glas1"', "g.toml:3: unknown dataset 'glas1': did you mean 'keel:glass1'"),
    ("n_splits = 3", "n_split = 3", "g.toml:8: unknown key in [cv] 'n_split': did you mean 'n_splits'"),
    ("n_splits = 3", "n_splits = 1", "g.toml:8: `n_splits` must be an integer ≥ 2"),
    ('"none", ', '"none", "none", ', "g.toml:5: strategy 'none' is listed twice"),
    ('models = ["logreg"]', 'models = [{name = "lightgbm", small_set = "scale"}]',
     "g.toml:4: unknown parameter of model 'lightgbm' 'small_set': did you mean 'small_sets'?"),
    ('models = ["logreg"]', 'models = [{name = "lightgbm", small_sets = "tiny"}]',
     "g.toml:4: lightgbm: `small_sets` must be one of 'keep', 'scale', got 'tiny'"),
])
def test_bad_grids_say_where_and_what(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    with pytest.raises(GridError) as info:
        parse_grid(GOOD.replace(old, new, 1), "g.toml")
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_missing_grid_file(tmp_path: Path) -> None:
    with pytest.raises(GridError, match="grid file not found"):
        load_grid(tmp_path / "nope.toml")


@pytest.mark.parametrize("grid_file", sorted((Path(__file__).parents[1] / "benchmarks").glob("*.toml")))
def test_shipped_grids_are_valid(grid_file: Path) -> None:
    grid = load_grid(grid_file)
    assert grid.datasets and grid.models and grid.strategies


def test_the_docs_parameter_table_is_the_declarations() -> None:
    """docs/strategies.md shows what `imbench list strategies --params --markdown` prints: one source."""
    from imbench.listing import parameters_markdown
    from tests.helpers import ROOT

    docs = (ROOT / "docs" / "strategies.md").read_text()
    shown = docs.split("tests/test_grid.py keeps it equal -->\n", 1)[1].split("\n<!-- parameters: end -->", 1)[0]
    assert shown.strip() == parameters_markdown().strip()


def test_list_params_shows_each_declared_parameter_with_its_rule_within_80_columns() -> None:
    from tests.helpers import run_cli

    out = run_cli("list", "strategies", "--params", columns=80)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    text = out.stdout
    assert "\nsmote\n  sampling_ratio = 1\n      a number in (0, 1]; tuned over uniform [0.1, 1]" in text
    assert "  k_neighbors = 5\n      an integer ≥ 1; tuned over integers 1…15" in text
    assert "\nthreshold\n  objective = f1\n      one of 'f1', 'precision', 'recall', 'alert', 'cost'" in text
    from imbench.strategies import STRATEGIES

    assert text.count(" = ") >= sum(len(s.parameters) for _, s in STRATEGIES.items())


def test_a_strategy_of_the_old_shape_is_refused_saying_how_to_declare_its_parameters() -> None:
    from imbench.strategies import Strategy, register_strategy

    class Old(Strategy):
        name = "old-shape"
        family = "none"
        defaults = {"ratio": 0.5}

    with pytest.raises(TypeError, match=r"strategy 'old-shape' declares `defaults`: declare its parameters as "
                                        r"`parameters = \(Param\("):
        register_strategy(Old)


def test_an_empty_parameter_list_is_an_error_not_a_strategy_silently_dropped() -> None:
    text = GOOD.replace('{name = "smote", k_neighbors = [3, 5]}', '{name = "smote", k_neighbors = []}')
    with pytest.raises(GridError, match=r"g.toml:\d+: strategy 'smote': `k_neighbors = \[\]` lists no value"):
        parse_grid(text, "g.toml")
