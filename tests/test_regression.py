"""Regression losses: the golden references, hand-computed values, domain and parameter errors, properties."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import lossctl
from lossctl.aggregates import MEAN_OVER_ROWS
from lossctl.errors import DomainError, ExitCode, InputError, UsageError
from tests.golden import load_cases

CASES = load_cases("regression")
RTOL = 1e-9


def assert_close(actual: float, expected: float) -> None:
    """Relative 1e-9; an expected 0 is compared absolutely (1e-9) since nothing is relative to 0."""
    if expected == 0.0:
        assert abs(actual) <= RTOL, f"{actual!r} != 0"
    else:
        assert abs(actual - expected) <= RTOL * abs(expected), f"{actual!r} != {expected!r}"


def arrays(case: dict[str, Any]) -> list[list[float]]:
    spec = lossctl.get(case["loss"])
    return [case["inputs"][role] for role in spec.role_names]


# --- golden references -------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden_value(case: dict[str, Any]) -> None:
    spec = lossctl.get(case["loss"])
    value = spec(
        *arrays(case),
        sample_weight=case["sample_weight"],
        reduction=case["reduction"],
        convention=case["convention"],
        **case["params"],
    )
    if isinstance(case["expected"], list):  # multioutput=raw: one value per output
        np.testing.assert_allclose(value, case["expected"], rtol=RTOL, atol=0.0)
    else:
        assert_close(value, case["expected"])


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["expected_per_sample"] is not None], ids=lambda case: case["id"]
)
def test_golden_per_sample(case: dict[str, Any]) -> None:
    rows = lossctl.get(case["loss"]).per_sample(*arrays(case), convention=case["convention"], **case["params"])
    assert len(rows) == len(case["expected_per_sample"])
    for actual, expected in zip(rows, case["expected_per_sample"], strict=True):
        assert_close(float(actual), expected)


def test_golden_covers_every_regression_loss_and_convention() -> None:
    covered = {(lossctl.get(c["loss"]).name, c["convention"]) for c in CASES}
    missing = [
        (spec.name, convention)
        for spec in lossctl.list_losses("regression")
        for convention in ("lossctl", *spec.conventions)
        if (spec.name, convention) not in covered
    ]
    assert missing == []


# --- hand-computed values ----------------------------------------------------------------------

E = math.e
HAND = [
    # (loss, arrays, params, expected); the derivation is in the comment above each.
    # |1| and |-3|: (1 + 3) / 2
    ("mae", ([0.0, 0.0], [1.0, -3.0]), {}, 2.0),
    # 0.5 * 0.5^2 = 0.125; 1 * (3 - 0.5) = 2.5; mean 1.3125
    ("huber", ([0.0, 0.0], [0.5, 3.0]), {"delta": 1.0}, 1.3125),
    # at |r| = delta = 2 both branches give 0.5 * 2^2 = 2 * (2 - 1) = 2
    ("huber", ([1.0, -1.0], [3.0, -3.0]), {"delta": 2.0}, 2.0),
    # 0.5 * 1 / 2 = 0.25; 4 - 0.5 * 2 = 3; mean 1.625
    ("smooth_l1", ([0.0, 0.0], [1.0, 4.0]), {"beta": 2.0}, 1.625),
    # beta = 0 is the absolute error: (1 + 3) / 2
    ("smooth_l1", ([0.0, 0.0], [1.0, -3.0]), {"beta": 0.0}, 2.0),
    # log cosh r = r^2/2 - r^4/12 + ...: for r = 1e-8 that is 5e-17 (next term 1e-33)
    ("log_cosh", ([0.0], [1e-8]), {}, 5e-17),
    # log cosh r = |r| - log 2 + log1p(exp(-2|r|)) and exp(-2e4) is 0 in float64
    ("log_cosh", ([0.0], [-1e4]), {}, 1e4 - math.log(2.0)),
    # q = 0.9: under-prediction by 1 costs 0.9, over-prediction by 1 costs 0.1; mean 0.5
    ("quantile", ([1.0, 1.0], [0.0, 2.0]), {"q": 0.9}, 0.5),
    # |2 - 1| / 2 = 0.5; |-4 + 5| / 4 = 0.25; mean 0.375
    ("mape", ([2.0, -4.0], [1.0, -5.0]), {}, 0.375),
    # y = 0 divides by float64 eps = 2^-52: 1 / 2^-52
    ("mape", ([0.0], [1.0]), {}, 2.0**52),
    # 2 * 2 / (1 + 3) = 1; 2 * 2 / (0 + 2) = 2; both 0 gives 0; mean 1
    ("smape", ([1.0, 0.0, 0.0], [3.0, 2.0, 0.0]), {}, 1.0),
    # near the float64 maximum 2 |p - y| and |y| + |p| overflow, the ratio does not: rows 2, 2 and 0
    ("smape", ([1e308, 1e308, 1.5e308], [-1e308, 0.0, 1.5e308]), {}, 4.0 / 3.0),
    # (log e - log 1)^2 = 1 and 0; mean 0.5
    ("msle", ([0.0, E - 1.0], [E - 1.0, E - 1.0]), {}, 0.5),
    # rows 1 and 9: sqrt((1 + 9) / 2)
    ("rmsle", ([0.0, 0.0], [E - 1.0, math.exp(3.0) - 1.0]), {}, math.sqrt(5.0)),
    # 1 - 2 log(1 + 1e-8) = 1 - 2 (1e-8 - 5e-17)
    ("poisson_nll", ([2.0], [1.0]), {}, 1.0 - 2e-8 + 1e-16),
    # exp(log 2) - 3 log 2
    ("poisson_nll", ([3.0], [math.log(2.0)]), {"log_input": True}, 2.0 - 3.0 * math.log(2.0)),
    # 2 - 2 log(2 + 1e-8) + (2 log 2 - 2 + 0.5 log(4 pi)) = 0.5 log(4 pi) - 2 * 5e-9
    ("poisson_nll", ([2.0], [2.0]), {"full": True}, 0.5 * math.log(4.0 * math.pi) - 1e-8),
    # 2 (0 - 0 + 1) = 2; 2 (2 log 2 - 2 + 1) = 4 log 2 - 2; mean 2 log 2
    ("poisson_deviance", ([0.0, 2.0], [1.0, 1.0]), {}, 2.0 * math.log(2.0)),
    # inverse Gaussian (y - p)^2 / (y p^2) = 1 / 4
    ("tweedie_deviance", ([1.0], [2.0]), {"power": 3.0}, 0.25),
    # gamma 2 (log(p / y) + y / p - 1) = 2 (1 + 1/e - 1)
    ("tweedie_deviance", ([1.0], [E]), {"power": 2.0}, 2.0 / E),
    # p / y = 1e600 overflows, its log does not: 2 (600 log 10 + 1e-600 - 1)
    ("tweedie_deviance", ([1e-300], [1e300]), {"power": 2.0}, 2.0 * (600.0 * math.log(10.0) - 1.0)),
    # power 1.5, y = 0: 2 p^0.5 / 0.5 = 4 sqrt(4)
    ("tweedie_deviance", ([0.0], [4.0]), {"power": 1.5}, 8.0),
    # p = y is 0 where y^(2-k) overflows (was 'not a finite number': the series' 0 times inf)
    ("tweedie_deviance", ([1e300], [1e300]), {"power": -1.0}, 0.0),
    ("tweedie_deviance", ([1e-300], [1e-300]), {"power": 5.0}, 0.0),
    # power -1, y = -1 < 0 counts as 0 in the first term: 2 (0 + 1 * 1 / 2 + 1 / 3) = 5 / 3
    ("tweedie_deviance", ([-1.0], [1.0]), {"power": -1.0}, 5.0 / 3.0),
    # 0.5 (log e + 2^2 / e)
    ("gaussian_nll", ([0.0], [2.0], [E]), {}, 0.5 * (1.0 + 4.0 / E)),
    # var 0 is floored at eps = 1e-6: 0.5 log 1e-6
    ("gaussian_nll", ([0.0], [0.0], [0.0]), {}, 0.5 * math.log(1e-6)),
    # var 1, r = 0: only the constant 0.5 log(2 pi)
    ("gaussian_nll", ([0.0], [0.0], [1.0]), {"full": True}, 0.5 * math.log(2.0 * math.pi)),
]


@pytest.mark.parametrize(("loss", "inputs", "params", "expected"), HAND, ids=[h[0] for h in HAND])
def test_hand_computed(loss: str, inputs: tuple[list[float], ...], params: dict[str, Any], expected: float) -> None:
    assert_close(lossctl.get(loss)(*inputs, **params), expected)


def test_conventions_by_hand() -> None:
    # Keras MAPE is a percentage: 100 * |2 - 1| / 2
    assert_close(lossctl.get("mape")([2.0], [1.0], convention="keras"), 50.0)
    # Keras floors both MSLE inputs at 1e-7, so -0.5 and 0 are the same point
    assert lossctl.get("msle")([-0.5], [0.0], convention="keras") == 0.0
    # Keras Poisson p - y log(p + 1e-7) at p = 0, y = 1
    assert_close(lossctl.get("poisson_nll")([1.0], [0.0], convention="keras"), -math.log(1e-7))
    # torch's default log_input=True: exp(0) - 2 * 0
    assert_close(lossctl.get("poisson_nll")([2.0], [0.0], convention="torch"), 1.0)
    # sklearn's mean_tweedie_deviance defaults to power 0 (squared error)
    assert_close(lossctl.get("tweedie_deviance")([0.0], [3.0], convention="sklearn"), 9.0)
    # Keras' weighted mean divides by the row count: (1 * 1 + 3 * 3) / 2, not / (1 + 3)
    assert_close(lossctl.get("mae")([0.0, 0.0], [1.0, 3.0], sample_weight=[1.0, 3.0], convention="keras"), 5.0)
    assert_close(lossctl.get("mae")([0.0, 0.0], [1.0, 3.0], sample_weight=[1.0, 3.0]), 2.5)
    assert_close(lossctl.get("mae")([0.0, 0.0], [1.0, 3.0], sample_weight=[1.0, 3.0], reduction="sum"), 10.0)


def test_aliases() -> None:
    assert lossctl.get("l1").name == "mae"
    assert lossctl.get("pinball").name == "quantile"


def test_convention_defaults() -> None:
    assert lossctl.get("poisson_nll").resolve_params({}, "torch")["log_input"] is True
    assert lossctl.get("poisson_nll").resolve_params({}, "keras")["eps"] == 1e-7
    assert lossctl.get("mape").resolve_params({}, "keras")["eps"] == 1e-7
    assert lossctl.get("tweedie_deviance").resolve_params({}, "sklearn")["power"] == 0.0
    assert lossctl.get("tweedie_deviance").resolve_params({}, "lossctl")["power"] == 1.5


# --- domain errors -----------------------------------------------------------------------------

DOMAIN = [
    ("msle", ([-1.0, 0.0], [0.0, 0.0]), {}, "'target': expected values > -1, got -1 in 1 row (first: row 0)"),
    ("msle", ([0.0, 0.0, 0.0], [0.0, -2.0, -1.5]), {}, "'pred': expected values > -1, got -2 in 2 rows (first: row 1)"),
    ("rmsle", ([0.0, -3.0], [0.0, 0.0]), {}, "'target': expected values > -1, got -3 in 1 row (first: row 1)"),
    ("poisson_nll", ([-1.0], [1.0]), {}, "'target': expected values >= 0, got -1 in 1 row (first: row 0)"),
    ("poisson_nll", ([1.0], [-0.5]), {}, "'pred': expected values >= 0, got -0.5 in 1 row (first: row 0)"),
    (
        "poisson_nll",
        ([1.0, 1.0], [0.0, 800.0]),
        {"log_input": True},
        "'pred': expected log-rates <= 709.783 (exp overflows float64), got 800 in 1 row (first: row 1)",
    ),
    ("poisson_deviance", ([-1.0], [1.0]), {}, "'target': expected values >= 0, got -1 in 1 row (first: row 0)"),
    ("poisson_deviance", ([1.0, 1.0], [1.0, 0.0]), {}, "'pred': expected values > 0, got 0 in 1 row (first: row 1)"),
    ("gaussian_nll", ([0.0], [0.0], [-0.1]), {}, "'var': expected values >= 0, got -0.1 in 1 row (first: row 0)"),
]


@pytest.mark.parametrize(("loss", "inputs", "params", "message"), DOMAIN, ids=[d[0] for d in DOMAIN])
def test_domain_error(loss: str, inputs: tuple[list[float], ...], params: dict[str, Any], message: str) -> None:
    with pytest.raises(DomainError) as error:
        lossctl.get(loss)(*inputs, **params)
    assert str(error.value) == message
    assert error.value.exit_code == ExitCode.INPUT


def test_poisson_nll_log_rates_may_be_negative() -> None:
    # exp(-1) - 0 * -1
    assert_close(lossctl.get("poisson_nll")([0.0], [-1.0], log_input=True), math.exp(-1.0))


# scikit-learn's mean_tweedie_deviance domain: (power, target, pred, offending role or None if valid)
TWEEDIE_DOMAIN = [
    (-1.0, -5.0, 1.0, None),
    (-1.0, 1.0, 0.0, "pred"),
    (0.0, -5.0, -3.0, None),
    (1.0, 0.0, 1.0, None),
    (1.0, -1.0, 1.0, "target"),
    (1.0, 1.0, 0.0, "pred"),
    (1.5, 0.0, 2.0, None),
    (1.5, -0.1, 2.0, "target"),
    (1.5, 1.0, -2.0, "pred"),
    (2.0, 0.0, 1.0, "target"),
    (2.0, 1.0, 0.0, "pred"),
    (3.0, 0.0, 1.0, "target"),
    (3.0, 2.0, -1.0, "pred"),
    (3.0, 2.0, 1.0, None),
]


@pytest.mark.parametrize(("power", "target", "pred", "bad_role"), TWEEDIE_DOMAIN)
def test_tweedie_domain_per_power(power: float, target: float, pred: float, bad_role: str | None) -> None:
    tweedie = lossctl.get("tweedie_deviance")
    if bad_role is None:
        assert math.isfinite(tweedie([target], [pred], power=power))
    else:
        with pytest.raises(DomainError) as error:
            tweedie([target], [pred], power=power)
        assert error.value.role == bad_role


def test_keras_msle_accepts_values_sklearn_rejects() -> None:
    # Keras clips instead of failing: log1p(1e-7) - log1p(3) for the pair (-5, 3)
    expected = (math.log1p(3.0) - math.log1p(1e-7)) ** 2
    assert_close(lossctl.get("msle")([-5.0], [3.0], convention="keras"), expected)
    with pytest.raises(DomainError):
        lossctl.get("msle")([-5.0], [3.0], convention="sklearn")


# --- parameter and usage errors ----------------------------------------------------------------

USAGE = [
    ("huber", {"delta": 0.0}, {}, "huber: parameter 'delta' must be > 0, got 0"),
    ("huber", {"delta": -1.0}, {}, "huber: parameter 'delta' must be > 0, got -1"),
    ("huber", {"beta": 1.0}, {}, "loss 'huber' has no parameter 'beta'; its parameters: delta; did you mean 'delta'?"),
    ("smooth_l1", {"beta": -0.5}, {}, "smooth_l1: parameter 'beta' must be >= 0, got -0.5"),
    ("quantile", {"q": 0.0}, {}, "quantile: parameter 'q' must be in (0, 1), got 0"),
    ("quantile", {"q": 1.0}, {}, "quantile: parameter 'q' must be in (0, 1), got 1"),
    ("quantile", {"q": 1.5}, {}, "quantile: parameter 'q' must be in (0, 1), got 1.5"),
    ("mape", {"eps": 0.0}, {}, "mape: parameter 'eps' must be > 0, got 0"),
    (
        "tweedie_deviance",
        {"power": 0.5},
        {},
        "tweedie_deviance: parameter 'power' must be <= 0 or >= 1, got 0.5",
    ),
    (
        "poisson_nll",
        {"log_input": "yes"},
        {},
        "poisson_nll: parameter 'log_input' must be true or false, got the text 'yes'",
    ),
    ("poisson_nll", {"eps": 0.0}, {}, "poisson_nll: parameter 'eps' must be > 0, got 0"),
    ("gaussian_nll", {"eps": -1.0}, {}, "gaussian_nll: parameter 'eps' must be > 0, got -1"),
    ("smape", {}, {"convention": "torch"}, "loss 'smape' has no 'torch' convention; it has: lossctl"),
    ("quantile", {}, {"convention": "keras"}, "loss 'quantile' has no 'keras' convention; it has: lossctl, sklearn"),
    (
        "gaussian_nll",
        {},
        {"convention": "sklearn"},
        "loss 'gaussian_nll' has no 'sklearn' convention; it has: lossctl, torch",
    ),
    ("rmsle", {}, {"reduction": "sum"}, "loss 'rmsle' is an aggregate: it has only the mean reduction"),
    (
        "poisson_nll",
        {"log_input": True},
        {"convention": "keras"},
        "loss 'poisson_nll' with convention keras takes no parameter 'log_input' (Keras' Poisson takes rates only); "
        'drop log_input or use convention="lossctl" or convention="torch"',
    ),
]


@pytest.mark.parametrize(("loss", "params", "options", "message"), USAGE, ids=[u[0] for u in USAGE])
def test_usage_error(loss: str, params: dict[str, Any], options: dict[str, Any], message: str) -> None:
    spec = lossctl.get(loss)
    inputs = [[1.0, 2.0]] * len(spec.roles)
    with pytest.raises(UsageError) as error:
        spec(*inputs, **options, **params)
    assert str(error.value) == message
    assert error.value.exit_code == ExitCode.USAGE


def test_aggregate_has_no_per_sample() -> None:
    with pytest.raises(UsageError) as error:
        lossctl.get("rmsle").per_sample([1.0], [1.0])
    assert str(error.value) == (  # why, and which loss has the rows (it was "is an aggregate: it has no per-row ...")
        "loss 'rmsle' is the root of a mean over the whole input, with no per-row values (the loss under the root, "
        "mse for rmse and msle for rmsle, has them)"
    )


def test_per_sample_of_multioutput_raw_has_a_column_per_output() -> None:
    # The call gave one value per output and per_sample each row's mean over the outputs, whose mean is neither.
    y_true, y_pred = [[1.0, 2.0], [2.0, 3.0], [3.0, 1.0]], [[1.5, 2.5], [2.0, 4.0], [2.0, 2.0]]
    mse = lossctl.get("mse")
    losses = mse.per_sample(y_true, y_pred, multioutput="raw")
    np.testing.assert_array_equal(losses, [[0.25, 0.25], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(losses.mean(axis=0), mse(y_true, y_pred, multioutput="raw"), rtol=1e-15)
    np.testing.assert_array_equal(mse.per_sample(y_true, y_pred), [0.25, 0.5, 1.0])  # pooled, as before


# --- metadata ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", lossctl.list_losses("regression"), ids=lambda spec: spec.name)
def test_metadata(spec: lossctl.LossSpec) -> None:
    assert spec.summary and spec.formula and spec.follows and spec.when
    assert "Example" in spec.doc, "the docstring gives a value to check by hand"
    assert set(spec.conventions) <= {"torch", "keras", "sklearn"}
    if "keras" in spec.conventions:
        assert spec.conventions["keras"].aggregate is MEAN_OVER_ROWS


# --- numerical stability: no warnings, no overflow, no NaN ---------------------------------------

EXTREME = [
    ("log_cosh", ([0.0] * 4, [1e-300, -1e-8, 1e6, -1e300]), {}),
    ("huber", ([0.0, 0.0], [1e6, -1e300]), {}),
    ("smooth_l1", ([0.0, 0.0], [1e6, -1e300]), {"beta": 0.0}),
    ("mape", ([0.0, 1e-300], [1.0, 0.0]), {}),
    ("smape", ([0.0, 0.0, -1e300], [0.0, 1e-320, 1e300]), {}),
    ("smape", ([1.7e308, -1.7e308, 1e308], [1.6e308, 1.7e308, 0.0]), {}),
    ("msle", ([0.0, -0.999999], [0.0, 1e300]), {}),
    ("poisson_nll", ([0.0, 3.0], [0.0, 0.0]), {}),
    ("poisson_nll", ([0.0, 3.0], [-745.0, 709.0]), {"log_input": True}),
    ("poisson_nll", ([0.0, 1.0, 1e300], [1.0, 1.0, 1.0]), {"full": True}),
    ("poisson_deviance", ([0.0, 1e300, 1e-300], [1e-300, 1e-300, 1e300]), {}),
    ("tweedie_deviance", ([0.0, 5.0], [1e-300, 1e-3]), {"power": 1.5}),
    ("tweedie_deviance", ([1e-300, 2.0], [1e300, 1.0]), {"power": 2.0}),
    ("gaussian_nll", ([0.0, 0.0], [0.0, 1.0], [0.0, 1e300]), {"full": True}),
]


@pytest.mark.parametrize(("loss", "inputs", "params"), EXTREME, ids=[x[0] for x in EXTREME])
def test_extreme_inputs_are_finite_without_warnings(
    loss: str, inputs: tuple[list[float], ...], params: dict[str, Any]
) -> None:
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        rows = lossctl.get(loss).per_sample(*inputs, **params)
    assert np.isfinite(rows).all()


# --- properties --------------------------------------------------------------------------------

values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
positive = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)
pairs = st.lists(st.tuples(values, values), min_size=1, max_size=20)
scale = st.floats(1e-3, 1e2)


def split(rows: list[tuple[float, ...]]) -> list[np.ndarray]:
    return [np.array(column) for column in zip(*rows, strict=True)]


def per_row(loss: str, *inputs: np.ndarray, **params: Any) -> np.ndarray:
    return lossctl.get(loss).per_sample(*inputs, **params)


@given(pairs, scale)
def test_huber_is_below_squared_and_absolute_error(rows: list[tuple[float, float]], delta: float) -> None:
    y, p = split(rows)
    r = np.abs(p - y)
    loss = per_row("huber", y, p, delta=delta)
    assert (loss >= 0).all()
    assert (loss <= 0.5 * r * r * (1 + 1e-15)).all()
    assert (loss <= delta * r * (1 + 1e-15)).all()


@given(pairs, scale)
def test_smooth_l1_is_huber_over_beta(rows: list[tuple[float, float]], beta: float) -> None:
    y, p = split(rows)
    np.testing.assert_allclose(
        per_row("smooth_l1", y, p, beta=beta), per_row("huber", y, p, delta=beta) / beta, rtol=1e-12, atol=1e-300
    )


@given(pairs)
def test_median_quantile_is_half_mae(rows: list[tuple[float, float]]) -> None:
    y, p = split(rows)
    np.testing.assert_array_equal(per_row("quantile", y, p, q=0.5), per_row("mae", y, p) / 2)


@given(pairs, st.floats(1e-6, 1 - 1e-6))
def test_quantile_weights_the_two_sides(rows: list[tuple[float, float]], q: float) -> None:
    y, p = split(rows)
    loss = per_row("quantile", y, p, q=q)
    np.testing.assert_allclose(loss, np.where(y >= p, q * (y - p), (1 - q) * (p - y)), rtol=1e-15, atol=0)


@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=20))
@example([2.9374812169771548e-161])  # the residual whose square halved rounds up, where 0.5 r r rounds down
def test_log_cosh_lies_between_its_asymptotes(residuals: list[float]) -> None:
    r = np.abs(np.array(residuals))
    loss = per_row("log_cosh", np.zeros_like(r), r)
    assert (loss >= np.maximum(r - math.log(2.0), 0.0) * (1 - 1e-15)).all()
    # Below 1e-154, r^2 / 2 is subnormal: r * r and 0.5 * r * r may round one subnormal step apart.
    tiny = np.finfo(float).smallest_subnormal
    assert (loss <= np.minimum(0.5 * r * r, r) * (1 + 1e-15) + tiny).all()
    np.testing.assert_array_equal(loss, per_row("log_cosh", np.zeros_like(r), -r))


@given(pairs)
def test_smape_is_symmetric_and_bounded(rows: list[tuple[float, float]]) -> None:
    y, p = split(rows)
    loss = per_row("smape", y, p)
    assert ((loss >= 0) & (loss <= 2)).all()
    np.testing.assert_array_equal(loss, per_row("smape", p, y))


@given(st.lists(st.tuples(st.floats(-0.99, 1e6), st.floats(-0.99, 1e6)), min_size=1, max_size=20))
def test_msle_is_symmetric_and_rmsle_its_root(rows: list[tuple[float, float]]) -> None:
    y, p = split(rows)
    np.testing.assert_array_equal(per_row("msle", y, p), per_row("msle", p, y))
    assert_close(lossctl.get("rmsle")(y, p), math.sqrt(lossctl.get("msle")(y, p)))


@given(st.lists(st.tuples(st.floats(0, 1e3), positive), min_size=1, max_size=20))
def test_tweedie_special_powers(rows: list[tuple[float, float]]) -> None:
    y, p = split(rows)
    np.testing.assert_array_equal(per_row("tweedie_deviance", y, p, power=0.0), per_row("mse", y, p))
    np.testing.assert_array_equal(per_row("tweedie_deviance", y, p, power=1.0), per_row("poisson_deviance", y, p))


@given(st.lists(positive, min_size=1, max_size=20), st.sampled_from([-1.0, 0.0, 1.0, 1.5, 2.0, 3.0]))
def test_tweedie_is_zero_at_a_perfect_prediction(targets: list[float], power: float) -> None:
    # sklearn's form cancels there: y = p = 7 gave -1.8e-15 at power 1.2, a negative deviance.
    y = np.array(targets)
    assert (per_row("tweedie_deviance", y, y, power=power) == 0.0).all()


@pytest.mark.parametrize("power", [-1.0, 1.0, 1.2, 1.5, 2.0, 3.0, 10.0])
def test_tweedie_near_a_perfect_prediction_keeps_its_digits(power: float) -> None:
    # sklearn's three terms cancel to ~1e-16 of y^(2-k): at p = y (1 + 2^-20) that was 1e-4 relative, or negative.
    # The inverse Gaussian (k = 3) is (y - p)^2 / (y p^2); the others against the series of 2 y^(2-k) h(log(p/y)),
    # h(L) = (e^(bL) - 1 - bL) / b - (e^(aL) - 1 - aL) / a, a = 1 - k, b = 2 - k, to its L^4 term (L^5 is 1e-32).
    y, p = 7.0, 7.0 * (1.0 + 2.0**-20)
    a, b, log_ratio = 1.0 - power, 2.0 - power, math.log1p(2.0**-20)
    h = sum(log_ratio**n * (b ** (n - 1) - a ** (n - 1)) / math.factorial(n) for n in (2, 3, 4))
    expected = (y - p) ** 2 / (y * p * p) if power == 3.0 else 2.0 * y ** (2.0 - power) * h
    value = lossctl.get("tweedie_deviance")([y], [p], power=power)
    assert abs(value - expected) <= 1e-13 * expected, (value, expected)
    if power == 1.0:  # Poisson: y log(y/p) - y + p cancelled as well
        assert lossctl.get("poisson_deviance")([y], [p]) == value


@given(st.lists(st.tuples(st.floats(0, 1e3), positive), min_size=1, max_size=20))
def test_poisson_deviance_is_non_negative(rows: list[tuple[float, float]]) -> None:
    y, p = split(rows)
    assert (per_row("poisson_deviance", y, p) >= 0.0).all()
    # p = y (1 - 1e-12) gave -1.8e-12 at y = 1e4 (the terms cancel)
    y = np.array([1e4, 7.0, 0.3])
    assert (per_row("poisson_deviance", y, y * (1.0 - 1e-12)) >= 0.0).all()


@given(pairs)
def test_gaussian_nll_with_unit_variance_is_half_squared_error(rows: list[tuple[float, float]]) -> None:
    y, p = split(rows)
    ones = np.ones_like(y)
    np.testing.assert_allclose(per_row("gaussian_nll", y, p, ones), 0.5 * (p - y) ** 2, rtol=1e-15)
    np.testing.assert_allclose(
        per_row("gaussian_nll", y, p, ones, full=True) - per_row("gaussian_nll", y, p, ones),
        0.5 * math.log(2 * math.pi),
        rtol=1e-9,
    )


@given(st.lists(st.tuples(values, values), min_size=1, max_size=20))
def test_keras_mape_is_percent_mape_with_eps_1e7(rows: list[tuple[float, float]]) -> None:
    y, p = split(rows)
    keras = lossctl.get("mape").per_sample(y, p, convention="keras")
    np.testing.assert_allclose(keras, 100 * per_row("mape", y, p, eps=1e-7), rtol=1e-15)


@settings(max_examples=50)
@given(
    st.lists(st.tuples(values, values, st.integers(0, 3)), min_size=1, max_size=10).filter(
        lambda rows: any(w for _, _, w in rows)
    ),
    st.sampled_from(["mae", "huber", "smooth_l1", "log_cosh", "quantile", "smape"]),
)
def test_integer_weights_repeat_rows(rows: list[tuple[float, float, int]], loss: str) -> None:
    y, p, w = split(rows)
    repeated = np.repeat(np.arange(len(y)), w.astype(int))
    spec = lossctl.get(loss)
    assert_close(spec(y, p, sample_weight=w), spec(y[repeated], p[repeated]))


@pytest.mark.parametrize(
    ("target", "pred", "beta", "expected"),
    [
        # torch.nn.functional.smooth_l1_loss (2.13, float64) on each case; every one is in the linear branch,
        # |r| - beta/2, where the product of |r| and beta overflowed or lost digits to underflow.
        ([1e307], [0.0], 100.0, 1e307),
        ([1e200], [0.0], 1e150, 1e200),
        ([1e-150], [0.0], 1e-200, 1e-150),
        ([1e-300, 0.0, -1e-300], [0.0, 1e-300, 2e-300], 1e-300, 1.1666666666666668e-300),
        ([1e-160], [0.0], 5e-161, 7.5e-161),
    ],
)
def test_smooth_l1_at_the_ends_of_float64(target: list[float], pred: list[float], beta: float, expected: float) -> None:
    assert lossctl.get("smooth_l1")(target, pred, beta=beta) == pytest.approx(expected, rel=1e-15)


def test_ten_losses_computed_on_two_threads_equal_each_loss_alone(tmp_path: Path) -> None:
    """From eight losses per chunk the engine computes chunks on two threads side by side; merged in file order,
    every value and every per-row loss is bit for bit the one-thread run's (each loss alone runs on one)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(8)
    y = rng.uniform(0.1, 5.0, 20_000)
    p = y + rng.normal(0, 1, len(y)).clip(-0.09, None)
    pacsv.write_csv(pa.table({"y_true": y, "y_pred": p, "w": rng.uniform(0.5, 2, len(y))}), tmp_path / "d.csv")
    ten = ["mse", "rmse", "mae", "huber", "smooth_l1", "log_cosh", "quantile", "mape", "smape", "msle"]
    together = lossctl.evaluate(
        tmp_path / "d.csv", losses=ten, weight="w", chunk_rows=1_000, per_sample=tmp_path / "all.csv"
    )
    rows = pacsv.read_csv(tmp_path / "all.csv")
    for loss in ten:
        per_row = loss != "rmse"  # an aggregate has no per-row column
        alone = lossctl.evaluate(
            tmp_path / "d.csv",
            losses=[loss],
            weight="w",
            chunk_rows=1_000,
            per_sample=tmp_path / f"{loss}.csv" if per_row else None,
        )
        assert together[loss] == alone[loss]
        if per_row:
            assert rows.column(loss).equals(pacsv.read_csv(tmp_path / f"{loss}.csv").column(loss))


@pytest.mark.parametrize(
    ("check", "values", "bad"),
    [
        ("greater_than", [np.nan, 0.5, -2.0, -1.0], (-2.0, 2, 2)),
        ("at_least", [0.5, np.nan, -0.5], (-0.5, 1, 2)),
        ("at_most", [np.nan, 1.5, 0.5], (1.5, 1, 1)),
        ("probabilities", [0.5, np.nan, 1.2, -0.1], (1.2, 2, 2)),
        ("soft_labels", [np.nan, -0.1], (-0.1, 1, 1)),
    ],
)
def test_domain_checks_find_bad_values_beside_a_nan(check: str, values: list[float], bad: tuple) -> None:
    """The checks first look at the extremes only (one pass, no mask); a NaN makes an extreme NaN, and the
    row-by-row mask then finds the bad values as before (bad value, count, first row)."""
    from lossctl.losses import _checks

    function = getattr(_checks, check)
    args = {"greater_than": (-1.0, "pred"), "at_least": (0.0, "pred"), "at_most": (1.0, "pred")}.get(check, ())
    with pytest.raises(DomainError) as raised:
        function(np.array(values), *args)
    assert (raised.value.bad_value, raised.value.count, raised.value.first_row) == bad
    function(np.array([0.5, 0.75]), *args)  # within: no error
    function(np.array([np.nan, 0.5]), *args)  # a NaN alone is not a domain error (missing values are found before)


_ELEMENTWISE = [
    *sorted(
        spec.name
        for spec in lossctl.list_losses("regression")
        if spec.role_names == ("target", "pred") and spec.origin is None and spec.per_row
    ),
    *("tweedie_deviance:power=1", "tweedie_deviance:power=1.5", "tweedie_deviance:power=2", "quantile:q=0.9"),
]


@pytest.mark.parametrize("loss", _ELEMENTWISE)
def test_a_column_against_a_vector_is_compared_with_each_element_of_its_row(loss: str) -> None:
    """A one-value-per-row target (or prediction) against K values per row is each row's value repeated K times
    (registry._row_aligned), whichever side holds the vectors; every elementwise loss, in-place code included."""
    rng = np.random.default_rng(6)
    column, vectors = rng.uniform(0.5, 3.0, 50), rng.uniform(0.5, 3.0, (50, 3))
    repeated = np.repeat(column[:, None], 3, axis=1)
    spec = lossctl.get(loss)
    assert spec(column, vectors) == pytest.approx(spec(repeated, vectors), rel=1e-15)
    assert spec(vectors, column) == pytest.approx(spec(vectors, repeated), rel=1e-15)


def test_gaussian_nll_refuses_several_variances_for_one_mean(cli, write) -> None:
    # var with K values per row beside one pred and one target was scored as the mean over the K variances
    # (exit 0, no notice); torch's GaussianNLLLoss refuses a variance wider than its input.
    message = (
        "loss 'gaussian_nll': 'var' holds 2 values per row but 'pred' and 'target' one each; give 'var' one value "
        "per row, or as many as the prediction"
    )
    with pytest.raises(InputError) as error:
        lossctl.get("gaussian_nll")([0.0, 1.0], [0.5, 0.5], [[1.0, 2.0], [1.0, 2.0]])
    assert str(error.value) == message
    path = write("v.csv", 'y,p,v0,v1,v\n0,0.5,1,2,"[1, 2]"\n1,0.5,1,2,"[1, 2]"\n')
    for var in ("v0,v1", "v"):
        run = cli("eval", path, "-l", "gaussian_nll", "--target", "y", "--pred", "p", "--col", f"var={var}")
        assert (run.code, run.err.strip()) == (3, f"error: {message}")
    # One variance per row beside K predictions (torch's homoscedastic case) is still each element's.
    assert lossctl.get("gaussian_nll")([0.0], [[1.0, 3.0]], [2.0]) == pytest.approx(
        0.5 * (math.log(2.0) + (1.0 + 9.0) / 2.0 / 2.0), rel=1e-12
    )
