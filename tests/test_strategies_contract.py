"""Contract tests over every registered strategy, model and post-hoc step: a plugin is tested for free.

The checks live in the package (`benchmarks.contract`), so `imbench check-plugins DIR` gives a plugin
author the same verdict; here they are parametrized over every registered name. Each strategy fits on
a tiny dataset (120 rows, 18 positives) with the cheapest model it supports; every model is `slow`.
"""
from __future__ import annotations

import pytest

from imbench.benchmarks import contract
from imbench.strategies import MODELS, POSTHOC, STRATEGIES

STRATEGY_NAMES = list(STRATEGIES)
ALL_PAIRS = [(s, m) for s in STRATEGY_NAMES for m in contract.models_of(s)]
STEP_EXAMPLES = [text for name in POSTHOC for text in contract.step_examples(name)]


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_declaration(name: str) -> None:
    contract.strategy_declaration(name)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_every_value_the_declarations_allow_fits(name: str) -> None:
    """Options, search-range ends and closed bounds build and fit (or are skipped saying why)."""
    contract.strategy_declared_values(name)


def test_the_declared_values_check_finds_a_range_the_library_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    """A declaration wider than what imbalanced-learn accepts (SMOTE's k_neighbors = 0) fails the check."""
    from imbench.foundation.params import IntUniform, Param
    from imbench.strategies import get_strategy

    smote = get_strategy("smote")
    wide = tuple(Param("k_neighbors", int, 5, low=0, search=IntUniform(0, 3), doc="too wide") if p.name == "k_neighbors"
                 else p for p in smote.parameters)
    monkeypatch.setattr(type(smote), "parameters", wide)
    with pytest.raises(contract.ContractFailure, match="`k_neighbors` = 0 is declared valid, but the fit failed"):
        contract.strategy_declared_values("smote")


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_fits_and_returns_probabilities(name: str) -> None:
    contract.strategy_fits(name)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "model"), ALL_PAIRS, ids=[f"{s}-{m}" for s, m in ALL_PAIRS])
def test_fits_every_supported_model(name: str, model: str) -> None:
    kind, fitted = contract.first_fit(name, model)
    contract.check_probabilities(fitted, kind)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_fitted_model_depends_on_training_rows_only(name: str) -> None:
    """Black-box proof that no test row reaches a strategy; the anti-pattern that resamples the whole
    dataset must be caught by the same check (the check fails loudly otherwise)."""
    contract.strategy_training_rows_only(name)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_same_seed_same_result(name: str) -> None:
    contract.strategy_same_seed(name)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_picklable(name: str) -> None:
    """Cells travel to worker processes and cluster nodes; estimators must survive pickling."""
    contract.strategy_pickles(name)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_cannot_apply_says_why_and_never_fails_otherwise(name: str) -> None:
    contract.strategy_says_why(name)


#: Fast models in the default suite; the tree ensembles' checks run with `make test-all`.
FAST_MODELS = ("logreg", "prior", "random")
MODEL_PARAMS = [pytest.param(name, marks=() if name in FAST_MODELS else pytest.mark.slow) for name in MODELS]


@pytest.mark.parametrize("name", MODEL_PARAMS)
def test_model_contract(name: str) -> None:
    for check in contract.MODEL_CHECKS.values():
        check(name)


def test_leaky_strategy_is_caught_by_the_training_rows_check() -> None:
    """The check itself must be able to fail: the declared anti-pattern sees test rows."""
    leaky = [name for name in STRATEGY_NAMES if contract.get_strategy(name).uses_full_dataset]
    assert leaky, "no anti-pattern strategy registered to prove the check works"
    assert contract.fitted_depends_on_test_rows(leaky[0], contract.cheapest(leaky[0]))


# --- post-hoc steps: every registered step, discovered from the registry --------------------------------

def test_every_step_has_contract_examples() -> None:
    names = {text.split(":")[0] for text in STEP_EXAMPLES}
    assert names == set(POSTHOC) - {"none"}, "a registered post-hoc step declares no example"


@pytest.mark.parametrize("text", STEP_EXAMPLES)
def test_posthoc_step_contract(text: str) -> None:
    contract.posthoc_step_contract(text)


@pytest.mark.parametrize("name", [name for name in POSTHOC if name != "none"])
def test_posthoc_applies_says_why(name: str) -> None:
    contract.posthoc_applies_says_why(name)
