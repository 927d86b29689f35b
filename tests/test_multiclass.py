"""The multi-class losses: golden references, hand-computed values, chunk invariance of the whole-input
aggregates, domain, shape and parameter errors, and properties.

The golden cases come from tests/reference/generate_multiclass.py (torch, scikit-learn, scipy, and the Keras,
Lin et al., Cui et al., Hinton et al. and pytorch/examples formulas written out there); each must agree to 1e-9
relative (1e-12 absolute where the reference is 0).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossctl
from lossctl.aggregates import MEAN_OVER_ROWS
from lossctl.errors import DomainError, ExitCode, InputError, UsageError
from lossctl.stats import weighted_sums
from tests.golden import load_cases

CASES = load_cases("multiclass")
LN2 = math.log(2.0)
EPS = float(np.finfo(np.float64).eps)


def assert_close(actual: float, expected: float, rtol: float = 1e-9) -> None:
    if expected == 0.0:
        assert abs(actual) <= 1e-12, f"{actual!r} != 0"
    else:
        assert abs(actual - expected) <= rtol * abs(expected), f"{actual!r} != {expected!r}"


def inputs_of(case: dict[str, Any]) -> list[Any]:
    return [case["inputs"][role] for role in lossctl.get(case["loss"]).role_names]


def rows_of(contributions: np.ndarray) -> np.ndarray:
    """The per-row losses: with class weights or ignore_index, cross_entropy and nll contribute
    ``[loss, target's class weight, ignored]`` per row, the loss (torch's reduction='none') first."""
    return contributions[:, 0] if contributions.ndim == 2 else contributions


# --- golden references -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden_value(case: dict[str, Any]) -> None:
    value = lossctl.get(case["loss"])(
        *inputs_of(case),
        sample_weight=case["sample_weight"],
        reduction=case["reduction"],
        convention=case["convention"],
        **case["params"],
    )
    assert_close(value, case["expected"])


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["expected_per_sample"] is not None], ids=lambda case: case["id"]
)
def test_golden_per_sample(case: dict[str, Any]) -> None:
    spec = lossctl.get(case["loss"])
    rows = rows_of(spec.per_sample(*inputs_of(case), convention=case["convention"], **case["params"]))
    assert len(rows) == len(case["expected_per_sample"])
    for actual, expected in zip(rows, case["expected_per_sample"], strict=True):
        assert_close(float(actual), expected)


def test_every_loss_and_convention_has_a_golden_case() -> None:
    covered = {(lossctl.get(case["loss"]).name, case["convention"]) for case in CASES}
    missing = [
        (spec.name, convention)
        for spec in lossctl.list_losses("multiclass")
        for convention in ("lossctl", *spec.conventions)
        if (spec.name, convention) not in covered
    ]
    assert missing == []


def test_registry_entries() -> None:
    for alias, name in (
        ("ce", "cross_entropy"),
        ("softmax_ce", "cross_entropy"),
        ("multi_log_loss", "categorical_ce"),
        ("kd", "distillation"),
        ("vae", "elbo"),
    ):
        assert lossctl.get(alias) is lossctl.get(name)
    expected = {
        "cross_entropy": {"torch", "keras"},
        "nll": {"torch"},
        "categorical_ce": {"sklearn", "keras"},
        "multiclass_hinge": {"sklearn"},
        "multi_margin": {"torch"},
        "kl_div": {"torch", "keras"},
        "categorical_hinge": {"keras"},
        "brier_multiclass": {"sklearn"},
        "zero_one": {"sklearn"},
    }
    for spec in lossctl.list_losses("multiclass"):
        assert set(spec.conventions) == expected.get(spec.name, set()), spec.name
        assert spec.summary and spec.formula and spec.follows and spec.when, spec.name
        assert "Example" in spec.doc, spec.name
        if "keras" in spec.conventions:
            assert spec.conventions["keras"].aggregate.name == MEAN_OVER_ROWS.name
    assert lossctl.get("distillation").role_names == ("teacher", "pred")
    assert lossctl.get("elbo").role_names == ("target", "pred", "mu", "logvar")
    assert lossctl.get("class_balanced").aggregate.rows is not None  # per-row values only with counts=
    assert lossctl.get("cross_entropy").per_row


# --- hand-computed values ----------------------------------------------------------------------------------------

LOG3 = math.log(3.0)
HAND = [
    # rows: -log(1/2) = ln 2; x = [1e4, -1e4] with y = 1 costs exactly 2e4 (log-sum-exp is 1e4)
    ("cross_entropy", ([0, 1], [[0, 0], [1e4, -1e4]]), {}, (LN2 + 2e4) / 2),
    # class weights [1, 3]: (1 ln 2 + 3 * 2e4) / (1 + 3)
    ("cross_entropy", ([0, 1], [[0, 0], [1e4, -1e4]]), {"class_weight": (1.0, 3.0)}, (LN2 + 6e4) / 4),
    # x = [0, ln 3]: p = [1/4, 3/4]; smoothing 0.2 makes the target [0.1, 0.9]: -(0.1 ln 1/4 + 0.9 ln 3/4)
    ("cross_entropy", ([1], [[0, LOG3]]), {"label_smoothing": 0.2}, -(0.1 * math.log(0.25) + 0.9 * math.log(0.75))),
    # the same as a soft target [0, 1]
    (
        "cross_entropy",
        ([[0, 1]], [[0, LOG3]]),
        {"label_smoothing": 0.2},
        -(0.1 * math.log(0.25) + 0.9 * math.log(0.75)),
    ),
    # soft target [1/2, 1/2] on p = [1/4, 3/4]: -(ln 1/4 + ln 3/4) / 2
    ("cross_entropy", ([[0.5, 0.5]], [[0, LOG3]]), {}, -(math.log(0.25) + math.log(0.75)) / 2),
    # soft targets with class weights [2, 4] divide by the rows, not the weights: -(2 * 0.5 ln 1/4 + 4 * 0.5 ln 3/4)
    (
        "cross_entropy",
        ([[0.5, 0.5]], [[0, LOG3]]),
        {"class_weight": (2.0, 4.0)},
        -(math.log(0.25) + 2 * math.log(0.75)),
    ),
    # balanced, y = [0, 0, 0, 1]: n / (K n_c) = [4/6, 2]; rows [ln 2] * 3 and -ln 3/4:
    # (3 * 2/3 ln 2 + 2 ln 4/3) / (3 * 2/3 + 2) = (ln 2 + ln 4/3) / 2, the mean of the per-class means
    (
        "cross_entropy",
        ([0, 0, 0, 1], [[0, 0], [0, 0], [0, 0], [0, LOG3]]),
        {"class_weight": "balanced"},
        (LN2 + math.log(4 / 3)) / 2,
    ),
    # ignore_index: the middle row counts nowhere; (ln 2 + ln 4/3) / 2
    (
        "cross_entropy",
        ([0, -100, 1], [[0, 0], [5, -5], [0, LOG3]]),
        {"ignore_index": -100},
        (LN2 + math.log(4 / 3)) / 2,
    ),
    # -ln 0.5 and -ln 0.2, class weights [1, 3]: (ln 2 + 3 ln 5) / 4
    (
        "nll",
        ([0, 1], [[math.log(0.5), math.log(0.5)], [math.log(0.8), math.log(0.2)]]),
        {"class_weight": (1.0, 3.0)},
        (LN2 + 3 * math.log(5)) / 4,
    ),
    # -ln 0.5 and -ln 0.8
    ("categorical_ce", ([0, 2], [[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]), {}, (LN2 - math.log(0.8)) / 2),
    # p_y = 0 is clipped to eps = 2^-52: 52 ln 2
    ("categorical_ce", ([1], [[1.0, 0.0]]), {}, 52 * LN2),
    # margins x_y - max other: 2 - 0.5 = 1.5 (row 0), 0.5 - 1 = -0.5 (row 1): rows [0, 1.5]
    ("multiclass_hinge", ([0, 2], [[2, 0.5, -1], [1, 0, 0.5]]), {}, 0.75),
    # violations max(0, 1 - 1 + 0.5) = 0.5 and max(0, 1 - 1 - 1) = 0, over K = 3
    ("multi_margin", ([0], [[1, 0.5, -1]]), {}, 0.5 / 3),
    ("multi_margin", ([0], [[1, 0.5, -1]]), {"p": 2}, 0.25 / 3),
    ("multi_margin", ([0], [[1, 0.5, -1]]), {"class_weight": (3.0, 1.0, 1.0)}, 0.5),
    # 0.5 ln(0.5 / 0.25) + 0.5 ln(0.5 / 0.75)
    ("kl_div", ([[0.5, 0.5]], [[0.25, 0.75]]), {}, 0.5 * LN2 + 0.5 * math.log(2 / 3)),
    # the same from the logits [0, ln 3]
    ("kl_div", ([[0.5, 0.5]], [[0, LOG3]]), {"from_logits": True}, 0.5 * LN2 + 0.5 * math.log(2 / 3)),
    # 0 ln 0 = 0: a one-hot target costs -ln p_y
    ("kl_div", ([[0.0, 1.0]], [[0.25, 0.75]]), {}, -math.log(0.75)),
    # disjoint supports: m = [1/2, 1/2], JS = (ln 2 + ln 2) / 2
    ("js_div", ([[1, 0]], [[0, 1]]), {}, LN2),
    # p_y = 1/2: (1/2)^2 ln 2
    ("focal_multiclass", ([0], [[0, 0]]), {}, 0.25 * LN2),
    # alpha [3, 1]: 3 * 0.25 ln 2
    ("focal_multiclass", ([0], [[0, 0]]), {"alpha": (3.0, 1.0)}, 0.75 * LN2),
    # beta = 0.5, counts [1, 2]: raw (1 - b) / (1 - b^n) = [1, 2/3], normalised to sum 2: [6/5, 4/5];
    # rows ln 2 (class 0) and ln 4/3 (class 1)
    (
        "class_balanced",
        ([0, 1], [[0, 0], [0, LOG3]]),
        {"beta": 0.5, "counts": (1.0, 2.0)},
        (1.2 * LN2 + 0.8 * math.log(4 / 3)) / 2,
    ),
    # counts from the data, y = [0, 0, 1]: n = [2, 1], beta = 0.5: raw [2/3, 1] -> [4/5, 6/5]; rows ln 2
    ("class_balanced", ([0, 0, 1], [[0, 0]] * 3), {"beta": 0.5}, (0.8 + 0.8 + 1.2) * LN2 / 3),
    # a subnormal count (or sample weight) makes 1 / (1 - beta^n) overflow, which read as 'the result is not a
    # finite number': normalised, the weights are [2, 0 (a subnormal)], and the row of class 0 costs 2 ln 2
    ("class_balanced", ([0, 1], [[0, 0], [0, LOG3]]), {"counts": (5e-324, 1.0)}, LN2),
    ("class_balanced", ([0, 1], [[0, 0], [0, LOG3]]), {"counts": (1e-300, 1e-300)}, (LN2 + math.log(4 / 3)) / 2),
    # base bce_logits: x = 0 costs ln 2 for either class; beta = 0 weighs both classes 1
    ("class_balanced", ([0, 1], [0.0, 0.0]), {"beta": 0.0, "base": "bce_logits"}, LN2),
    # q = [1/4, 3/4], p = [1/2, 1/2]: 1/4 ln(1/2) + 3/4 ln(3/2) = 0.75 ln 3 - ln 2
    ("distillation", ([[0, LOG3]], [[0, 0]]), {"temperature": 1.0}, 0.75 * LOG3 - LN2),
    # T = 2 on logits [0, 2 ln 3]: the same distributions, times T^2 = 4
    ("distillation", ([[0, 2 * LOG3]], [[0, 0]]), {"temperature": 2.0}, 4 * (0.75 * LOG3 - LN2)),
    # bce at p = 1/2 over D = 2 columns: 2 ln 2; KL of N(1, e) from N(0, 1): 0.5 (1 + e - 1 - 1)
    ("elbo", ([[1, 0]], [[0.5, 0.5]], [[1.0]], [[1.0]]), {}, 2 * LN2 + 0.5 * (math.e - 1)),
    # mse recon 0.25 + 0.25; beta = 2 doubles the KL 0.5 mu^2 = 0.5
    ("elbo", ([[1, 0]], [[0.5, 0.5]], [[1.0]], [[0.0]]), {"recon": "mse", "beta": 2.0}, 0.5 + 1.0),
]


def test_class_balanced_with_a_subnormal_sample_weight_is_finite() -> None:
    # The class counts are sample-weighted: a weight of 1e-310 gave 1 / (1 - beta^n) = inf, and the error 'the
    # result is not a finite number (a float64 overflow)'. n_0 = 1e-310, n_1 = 2: the weights are 2 / (1 + r) and
    # 2 r / (1 + r), r = (1 - beta^n_0) / (1 - beta^2) with 1 - beta^n_0 = n_0 (-log beta).
    beta = 0.9999
    r = 1e-310 * -math.log(beta) / -math.expm1(2 * math.log(beta))
    expected = (1e-310 * 2 / (1 + r) * LN2 + 2 * (2 * r / (1 + r)) * math.log(4 / 3)) / (2 + 1e-310)
    value = lossctl.get("class_balanced")([0, 1, 1], [[0, 0], [0, LOG3], [0, LOG3]], sample_weight=[1e-310, 1, 1])
    assert_close(value, expected, rtol=1e-9)


@pytest.mark.parametrize(("loss", "inputs", "params", "expected"), HAND, ids=[h[0] for h in HAND])
def test_hand_computed(loss: str, inputs: tuple[Any, ...], params: dict[str, Any], expected: float) -> None:
    assert_close(lossctl.get(loss)(*inputs, **params), expected, rtol=1e-14)


def test_confident_rows_keep_their_digits() -> None:
    # x = [40, 0], y = 0: the loss is log1p(e^-40) = 4.248e-18, which log(sum exp) rounds to 0.
    s = math.exp(-40.0)
    assert_close(lossctl.get("cross_entropy")([0], [[40.0, 0.0]]), math.log1p(s), rtol=1e-15)
    # focal: (1 - p)^2 = (s / (1 + s))^2 times log1p(s), about e^-120
    assert_close(lossctl.get("focal_multiclass")([0], [[40.0, 0.0]]), (s / (1 + s)) ** 2 * math.log1p(s), 1e-14)
    # the wrong class of an exact 1e4 gap costs exactly 1e4 + log1p(e^-1e4) = 1e4
    assert lossctl.get("cross_entropy")([1], [[1e4, 0.0]]) == 1e4


def test_conventions_by_hand() -> None:
    # Keras renormalises [0.2, 0.2] to [0.5, 0.5]: ln 2; lossctl rejects a row summing to 0.4.
    assert_close(lossctl.get("categorical_ce")([0], [[0.2, 0.2]], convention="keras"), LN2, 1e-15)
    # Keras clips p = 0 to 1e-7: -ln 1e-7 = 7 ln 10 (lossctl and sklearn clip to 2^-52)
    assert_close(lossctl.get("categorical_ce")([1], [[1.0, 0.0]], convention="keras"), 7 * math.log(10), 1e-12)
    assert_close(lossctl.get("categorical_ce")([1], [[1.0, 0.0]], convention="sklearn"), 52 * LN2, 1e-15)
    # Keras KL clips y = 0 to 1e-7: ln 2 + 1e-7 ln(1e-7 / 0.5)
    keras_kl = lossctl.get("kl_div")([[1.0, 0.0]], [[0.5, 0.5]], convention="keras")
    assert_close(keras_kl, LN2 + 1e-7 * math.log(1e-7 / 0.5), 1e-14)
    # ... and p = 0 where y = 0 is fine for both; where y > 0 only Keras accepts it: 1 * ln(1 / 1e-7) + ...
    keras_zero = lossctl.get("kl_div")([[0.0, 1.0]], [[1.0, 0.0]], convention="keras")
    assert_close(keras_zero, math.log(1 / 1e-7) + 1e-7 * math.log(1e-7), 1e-14)
    # Keras' weighted mean divides by the rows: (3 ln 2 + 1 ln 2) / 2
    value = lossctl.get("categorical_ce")([0, 1], [[0.5, 0.5]] * 2, sample_weight=[3, 1], convention="keras")
    assert_close(value, 2 * LN2, 1e-15)


def test_categorical_ce_keras_takes_rows_of_any_scale(cli, write) -> None:
    # Keras divides each row by its sum before clipping, so [2, 3, 5] is [0.2, 0.3, 0.5]; the keras convention
    # refused values above 1 ("expected probabilities in [0, 1], got 2", exit 3) where Keras reports a number.
    # KERAS_BACKEND=torch, keras 3.15.1, float64:
    # keras.losses.SparseCategoricalCrossentropy()([0, 1], [[2., 3, 5], [1, 1, 1]]) == (ln 5 + ln 3) / 2
    expected = (math.log(5) + math.log(3)) / 2
    loss = lossctl.get("categorical_ce")
    assert_close(loss([0, 1], [[2.0, 3.0, 5.0], [1.0, 1.0, 1.0]], convention="keras"), expected, 1e-15)
    # the proportions of values near float64's largest, whose sum overflows: -ln(1/3)
    assert_close(loss([0], [[1e308, 1e308, 1e308]], convention="keras"), math.log(3), 1e-15)
    path = write("scores.csv", "y,a,b,c\n0,2,3,5\n1,1,1,1\n")
    run = cli("eval", path, "-l", "categorical_ce", "--pred", "a,b,c", "--target", "y", "-f", "json", "--convention",
              "keras")  # fmt: skip
    assert run.code == 0, run.err
    assert_close(json.loads(run.out)["results"][0]["value"], expected, 1e-15)
    # a negative value or a row summing to 0 is still an input error (Keras would give a NaN or a clipped guess)
    path = write("bad.csv", "y,a,b\n0,-1,2\n")
    run = cli("eval", path, "-l", "categorical_ce", "--pred", "a,b", "--target", "y", "--convention", "keras")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: categorical_ce: columns 'a', 'b' (pred): expected values >= 0, got -1 in 1 row (first: row 0)\n"
    )
    with pytest.raises(InputError, match="rows with a positive sum"):
        loss([0], [[0.0, 0.0]], convention="keras")


@pytest.mark.parametrize(
    ("losses", "pred", "target", "convention"),
    [
        (("ce", "nll", "ce:class_weight=1,2", "focal_multiclass", "focal_multiclass:gamma=1"), "a,b",
         "y", "lossctl"),
        (("ce", "nll"), "a,b", "y", "torch"),
        (("ce",), "a,b", "ta,tb", "keras"),
        (("asymmetric:clip=0",), "la,lb", "ta,tb", "lossctl"),
        (("bce",), "pa", "ta", "torch"),
    ],
)  # fmt: skip
def test_a_perfect_row_is_zero_not_minus_zero(cli, write, tmp_path, losses, pred, target, convention) -> None:
    # -log p at p = 1 was written -log_p, which is -0.0: --per-sample wrote "-0" for every perfect row (and the
    # table's max column printed -0) under ce, nll, focal_multiclass, class_balanced, asymmetric and torch's bce.
    path = write("perfect.csv", "a,b,y,ta,tb,pa,la,lb\n0,-1e4,0,1,0,1,1e4,-1e4\n-1e4,0,1,0,1,0,-1e4,1e4\n")
    rows = tmp_path / "rows.jsonl"
    chosen = [arg for loss in losses for arg in ("-l", loss)]
    run = cli("eval", path, *chosen, "--pred", pred, "--target", target, "--convention", convention,
              "--per-sample", rows, "-q", "-f", "json")  # fmt: skip
    assert run.code == 0, run.err
    assert [r["value"] for r in json.loads(run.out)["results"]] == [0.0] * len(losses)
    records = [json.loads(line) for line in rows.read_text().splitlines()]
    values = [value for record in records for key, value in record.items() if key != "row"]
    assert len(values) == 2 * len(losses)
    assert all(value == 0.0 and math.copysign(1.0, value) == 1.0 for value in values), records
    # the table's quantile columns are read from the same rows
    run = cli("eval", path, *chosen, "--pred", pred, "--target", target, "--convention", convention, "-q")
    assert "-0" not in run.out


def _contributions(target: list[float], pred: list[list[float]], **params: Any) -> np.ndarray:
    spec = lossctl.get("cross_entropy")
    arrays = {"target": np.asarray(target, dtype=float), "pred": np.asarray(pred, dtype=float)}
    return spec.contributions(arrays, spec.resolve_params(params))


def notices_of(spec: lossctl.LossSpec, stats: np.ndarray, params: dict[str, Any]) -> list[str]:
    return [str(notice) for notice in spec.aggregate.notices(stats, params)]


def test_ignored_rows_are_reported() -> None:
    spec = lossctl.get("cross_entropy")
    target, pred = [0, -100, 1, -100], [[0, 0], [5, -5], [0, LOG3], [1, 1]]
    stats = weighted_sums(_contributions(target, pred, ignore_index=-100), None)
    assert notices_of(spec, stats, {"ignore_index": -100, "class_weight": None}) == [
        "2 rows ignored (ignore_index=-100)"
    ]
    weighted = weighted_sums(_contributions(target, pred, ignore_index=-100), np.array([1.0, 0.5, 1.0, 2.0]))
    assert notices_of(spec, weighted, {"ignore_index": -100, "class_weight": None}) == [
        "rows carrying 2.5 of the total sample weight 4.5 ignored (ignore_index=-100)"
    ]
    none_ignored = weighted_sums(_contributions([0, 1], pred[:2:1], ignore_index=-100), None)
    assert notices_of(spec, none_ignored, {"ignore_index": -100, "class_weight": None}) == []


def test_every_row_ignored_is_an_input_error() -> None:
    with pytest.raises(InputError, match="nothing to average: every row is ignored"):
        lossctl.get("cross_entropy")([-100, -100], [[0, 0], [1, 2]], ignore_index=-100)
    assert lossctl.get("cross_entropy")([-100], [[0, 0]], ignore_index=-100, reduction="sum") == 0.0


def test_class_weight_from_the_command_line() -> None:
    param = lossctl.get("cross_entropy").param("class_weight")
    assert param.parse("1,2,0.5") == (1.0, 2.0, 0.5)
    assert param.parse("balanced") == "balanced"
    assert param.parse("none") is None
    assert lossctl.get("cross_entropy")([0, 1], [[0, 0], [0, 0]], class_weight=param.parse("1,3")) == pytest.approx(LN2)


# --- chunk invariance of the whole-input aggregates --------------------------------------------------------------

CHUNKED = [
    ("cross_entropy", {}),
    ("cross_entropy", {"class_weight": (1.0, 2.0, 0.5, 4.0)}),
    ("cross_entropy", {"class_weight": "balanced", "label_smoothing": 0.1}),
    ("cross_entropy", {"class_weight": "balanced", "ignore_index": -100}),
    ("cross_entropy", {"ignore_index": -100, "label_smoothing": 0.2, "class_weight": (1.0, 2.0, 0.5, 4.0)}),
    ("nll", {"class_weight": "balanced"}),
    ("class_balanced", {"beta": 0.99}),
    ("class_balanced", {"beta": 0.9, "base": "focal_multiclass"}),
    ("class_balanced", {"beta": 0.999, "counts": (10.0, 5.0, 0.0, 1.0)}),
]


def chunk_data(loss: str, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 2.0, (40, 4))
    y = rng.choice(4, size=40, p=[0.6, 0.25, 0.1, 0.05]).astype(np.float64)
    y[:4] = [0, 1, 2, 3]
    if params.get("ignore_index") is not None:
        y[rng.choice(40, 6, replace=False)] = -100
    if loss == "nll":
        x = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    return y, x, rng.uniform(0.0, 2.0, 40)


@pytest.mark.parametrize(("loss", "params"), CHUNKED, ids=[f"{c[0]}-{'-'.join(c[1])}" for c in CHUNKED])
@pytest.mark.parametrize("cut", [1, 13, 39])
@pytest.mark.parametrize("weighted", [False, True])
def test_chunks_merge_to_the_whole(loss: str, params: dict[str, Any], cut: int, weighted: bool) -> None:
    spec = lossctl.get(loss)
    y, x, w = chunk_data(loss, params)
    weight = w if weighted else None
    resolved = spec.resolve_params(params)
    for reduction in spec.aggregate.reductions:
        whole = spec(y, x, sample_weight=weight, reduction=reduction, **params)
        merged = sum(
            weighted_sums(spec.func(y[part], x[part], **resolved), None if weight is None else weight[part])
            for part in (slice(0, cut), slice(cut, None))
        )
        assert_close(spec.aggregate.finalize(merged, reduction, resolved), whole, rtol=1e-12)


# --- domain, shape and parameter errors -----------------------------------------------------------------------------


def domain_message(role: str, expected: str, bad: float, count: int, first: int) -> str:
    rows = "row" if count == 1 else "rows"
    return f"'{role}': expected {expected}, got {bad:g} in {count} {rows} (first: row {first})"


INDICES_K3 = "class indices, integers in 0..2 (K = 3 classes)"
ROW_SUMS = "row sums of 1 (within 1e-06)"
PROBABILITY_ROWS = 'rows of probabilities summing to 1 within 0.0001 (convention="keras" divides each row by its sum)'
# brier_multiclass has no keras convention: its message does not send the user to one (it did)
PROBABILITY_ROWS_NO_KERAS = "rows of probabilities summing to 1 within 0.0001"
PROBABILITIES = "probabilities in [0, 1]"
X3 = [[0.0, 1.0, 2.0]] * 3

DOMAIN = [
    ("cross_entropy", ([0, 1.5, 2], X3), {}, "target", INDICES_K3, 1.5, 1, 1),
    ("cross_entropy", ([0, 3, -1], X3), {}, "target", INDICES_K3, 3, 2, 1),
    ("cross_entropy", ([0, -100, 5], X3), {"ignore_index": -100}, "target", INDICES_K3, 5, 1, 2),
    ("cross_entropy", ([[0.5, 0.4, 0.0]], [[0, 0, 0]]), {}, "target", ROW_SUMS, 0.9, 1, 0),
    ("cross_entropy", ([[1.5, -0.5, 0.0]], [[0, 0, 0]]), {}, "target", PROBABILITIES, 1.5, 1, 0),
    ("nll", ([0, 1], [[-0.1, -2.0], [0.5, -1.0]]), {}, "pred", "log-probabilities <= 0", 0.5, 1, 1),
    ("categorical_ce", ([0, 1], [[0.5, 0.5], [0.5, 0.4]]), {}, "pred", PROBABILITY_ROWS, 0.9, 1, 1),
    ("categorical_ce", ([0, 1], [[0.5, 0.5], [0.5, 0.49989]]), {}, "pred", PROBABILITY_ROWS, 0.99989, 1, 1),
    ("brier_multiclass", ([0, 1], [[0.5, 0.5], [0.5, 0.4]]), {}, "pred", PROBABILITY_ROWS_NO_KERAS, 0.9, 1, 1),
    (
        "kl_div",
        ([[0.0, 0.5]], [[0.5, 0.5]]),
        {"log_target": True},
        "target",
        "log-probabilities <= 0 (log_target)",
        0.5,
        1,
        0,
    ),
    ("categorical_ce", ([0], [[1.2, -0.2]]), {}, "pred", PROBABILITIES, 1.2, 1, 0),
    (
        "categorical_ce",
        ([0, 2], [[0.5, 0.5], [0.5, 0.5]]),
        {},
        "target",
        "class indices, integers in 0..1 (K = 2 classes)",
        2,
        1,
        1,
    ),
    (
        "multiclass_hinge",
        ([0.5], [[0.0, 1.0]]),
        {},
        "target",
        "class indices, integers in 0..1 (K = 2 classes)",
        0.5,
        1,
        0,
    ),
    ("multi_margin", ([4], X3[:1]), {}, "target", INDICES_K3, 4, 1, 0),
    (
        "kl_div",
        ([[0.5, 0.5]], [[1.0, 0.0]]),
        {},
        "pred",
        "probabilities > 0 where the target is > 0 (KL is infinite there)",
        0,
        1,
        0,
    ),
    ("kl_div", ([[0.5, 0.6]], [[0.5, 0.5]]), {}, "target", ROW_SUMS, 1.1, 1, 0),
    ("js_div", ([[0.5, 0.5]], [[-0.5, 1.5]]), {}, "pred", PROBABILITIES, -0.5, 1, 0),
    ("focal_multiclass", ([0, 1, 3], X3), {}, "target", INDICES_K3, 3, 1, 2),
    ("class_balanced", ([0, 2], [0.0, 1.0]), {"base": "bce_logits"}, "target", "labels 0 or 1", 2, 1, 1),
    ("class_balanced", ([0, 2.5, 1], X3), {}, "target", INDICES_K3, 2.5, 1, 1),
]


@pytest.mark.parametrize(
    ("loss", "inputs", "params", "role", "expected", "bad", "count", "first"), DOMAIN, ids=[d[0] for d in DOMAIN]
)
def test_values_outside_the_domain_are_input_errors(
    loss: str,
    inputs: tuple[Any, ...],
    params: dict[str, Any],
    role: str,
    expected: str,
    bad: float,
    count: int,
    first: int,
) -> None:
    spec = lossctl.get(loss)
    with pytest.raises(DomainError) as error:
        spec(*inputs, **params)
    assert str(error.value) == domain_message(role, expected, bad, count, first)
    assert error.value.exit_code == ExitCode.INPUT


def test_elbo_domain() -> None:
    elbo = lossctl.get("elbo")
    with pytest.raises(DomainError) as error:
        elbo([[1, 0]], [[0.5, 0.5]], [[0.0]], [[800.0]])
    assert str(error.value) == domain_message("logvar", "log-variances <= 709.783 (exp overflows float64)", 800, 1, 0)
    with pytest.raises(DomainError, match=re.escape("'pred': expected probabilities in [0, 1], got 1.5")):
        elbo([[1, 0]], [[1.5, 0.5]], [[0.0]], [[0.0]])
    # mse reconstructions take any real values
    assert elbo([[1, 0]], [[1.5, -3.0]], [[0.0]], [[0.0]], recon="mse") == pytest.approx(0.25 + 9.0)


SHAPES = [
    (
        "cross_entropy",
        ([[0.5, 0.5]], [[0, 0, 0]]),
        {},
        "'target' has 2 columns but 'pred' has 3: both need one column per class (or per component), in the same order",
    ),
    (
        "cross_entropy",
        ([0, 1], [[0, 0, 0]] * 2),
        {"class_weight": (1.0, 2.0)},
        "parameter 'class_weight' has 2 values but 'pred' has 3 columns: give one per class",
    ),
    (
        "cross_entropy",
        ([0], [[0.5]]),
        {},
        "'pred' has 1 column; a multi-class loss needs one column per class (K >= 2); for one logit or probability "
        "per row use a binary loss (bce_logits, bce)",
    ),
    (
        "focal_multiclass",
        ([0], [[0, 0]]),
        {"alpha": (1.0, 2.0, 3.0)},
        "parameter 'alpha' has 3 values but 'pred' has 2 columns: give one per class",
    ),
    (
        "distillation",
        ([[0, 0, 0]], [[0, 0]]),
        {},
        "'teacher' has 3 columns but 'pred' has 2: both need one column per class (or per component), in the same "
        "order",
    ),
    (
        "class_balanced",
        ([0], [[0, 0]]),
        {"base": "bce_logits"},
        "'pred' has 2 columns; class_balanced with base=bce_logits takes one logit per row",
    ),
    (
        "class_balanced",
        ([0], [0.0]),
        {},
        "'pred' has one column; class_balanced with base=cross_entropy needs one logit column per class (use "
        "base=bce_logits for one logit per row)",
    ),
    (
        "class_balanced",
        ([0], [[0, 0]]),
        {"counts": (1.0, 2.0, 3.0)},
        "parameter 'counts' has 3 values but there are 2 classes: give one per class",
    ),
]


@pytest.mark.parametrize(("loss", "inputs", "params", "message"), SHAPES, ids=[s[0] for s in SHAPES])
def test_shape_errors(loss: str, inputs: tuple[Any, ...], params: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as error:
        lossctl.get(loss)(*inputs, **params)
    assert not isinstance(error.value, DomainError)
    assert str(error.value) == message


def test_elbo_latent_widths_must_match() -> None:
    with pytest.raises(InputError, match=re.escape("'mu' has 2 columns but 'logvar' has 1")):
        lossctl.get("elbo")([[1, 0]], [[0.5, 0.5]], [[0.0, 1.0]], [[0.0]])


USAGE = [
    ("cross_entropy", {"label_smoothing": 1.0}, "cross_entropy: parameter 'label_smoothing' must be in [0, 1), got 1"),
    (
        "cross_entropy",
        {"class_weight": "inverse"},
        "cross_entropy: parameter 'class_weight' must be a comma-separated list of numbers >= 0 or 'balanced', "
        "got 'inverse'",
    ),
    (
        "cross_entropy",
        {"class_weight": (1.0, -2.0)},
        "cross_entropy: parameter 'class_weight' must be a comma-separated list of numbers >= 0 or 'balanced', got -2",
    ),
    ("cross_entropy", {"ignore_index": 1.5}, "cross_entropy: parameter 'ignore_index' must be an integer, got 1.5"),
    ("multi_margin", {"p": 3}, "multi_margin: parameter 'p' must be in [1, 2], got 3"),
    (
        "multi_margin",
        {"class_weight": "balanced"},
        "multi_margin: parameter 'class_weight' must be a comma-separated list of numbers >= 0, got 'balanced'",
    ),
    ("focal_multiclass", {"gamma": -1.0}, "focal_multiclass: parameter 'gamma' must be >= 0, got -1"),
    ("class_balanced", {"beta": 1.0}, "class_balanced: parameter 'beta' must be in [0, 1), got 1"),
    (
        "class_balanced",
        {"base": "mse"},
        "class_balanced: parameter 'base' must be one of cross_entropy, focal_multiclass, bce_logits, got 'mse'",
    ),
    ("class_balanced", {"counts": (0.0, 0.0)}, "class_balanced: parameter 'counts' needs at least one count > 0"),
    ("distillation", {"temperature": 0.0}, "distillation: parameter 'temperature' must be > 0, got 0"),
    ("elbo", {"recon": "l1"}, "elbo: parameter 'recon' must be one of bce, mse, got 'l1'"),
    ("kl_div", {"from_logits": "yes"}, "kl_div: parameter 'from_logits' must be true or false, got the text 'yes'"),
]

USAGE_INPUTS = {
    "cross_entropy": ([0, 1], [[0, 0], [1, 1]]),
    "multi_margin": ([0, 1], [[0, 0], [1, 1]]),
    "focal_multiclass": ([0, 1], [[0, 0], [1, 1]]),
    "class_balanced": ([0, 1], [[0, 0], [1, 1]]),
    "distillation": ([[0, 0]], [[1, 1]]),
    "elbo": ([[1, 0]], [[0.5, 0.5]], [[0.0]], [[0.0]]),
    "kl_div": ([[0.5, 0.5]], [[0.5, 0.5]]),
}


@pytest.mark.parametrize(("loss", "params", "message"), USAGE, ids=[u[0] for u in USAGE])
def test_parameter_errors(loss: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as error:
        lossctl.get(loss)(*USAGE_INPUTS[loss], **params)
    assert str(error.value) == message
    assert error.value.exit_code == ExitCode.USAGE


def test_a_list_parameter_takes_the_comma_separated_text_its_message_asks_for() -> None:
    # class_weight="1,2" was "parameter 'class_weight' must be a comma-separated list of numbers >= 0 or
    # 'balanced', got '1,2'": the text the message asks for, which -l and params= take, refused from Python.
    y, x = [0, 1, 1], [[0.2, 0.3], [1.0, 2.0], [0.5, -1.0]]
    weighted = lossctl.get("cross_entropy")(y, x, class_weight=[1.0, 2.0])
    assert lossctl.get("cross_entropy")(y, x, class_weight=" 1, 2") == weighted
    assert lossctl.get("cross_entropy:class_weight=1,2")(y, x) == weighted
    assert lossctl.get("cross_entropy")(y, x, class_weight="BALANCED") == lossctl.get("ce:class_weight=balanced")(y, x)
    counts = lossctl.get("class_balanced")(y, x, counts=(3.0, 1.0))
    assert lossctl.get("class_balanced")(y, x, counts="3,1") == counts


def test_usage_errors_of_combinations() -> None:
    with pytest.raises(UsageError, match=re.escape("parameter 'ignore_index' applies to class-index targets only")):
        lossctl.get("cross_entropy")([[0.5, 0.5]], [[0, 0]], ignore_index=-100)
    message = (
        "loss 'kl_div' with convention keras takes no parameter 'from_logits' (Keras' KLDivergence takes "
        'probabilities only); drop from_logits or use convention="lossctl" or convention="torch"'
    )
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        lossctl.get("kl_div")([[0.5, 0.5]], [[0, 0]], from_logits=True, convention="keras")


CLASS_BALANCED_NO_ROWS = (
    "without counts= weighs each row by class weights fixed by the class counts of the whole input, known only once "
    "it is read: give the counts (counts=N0,N1,...) for per-row values"
)


def test_class_balanced_per_sample_with_counts_is_each_rows_weighted_loss() -> None:
    """losses.md defines class_balanced per row, w_{y_i} · base_i; with counts= the class weights are known up front:
    per_sample() was refused as "an aggregate". Without counts the whole input fixes them: refused, saying why."""
    y, x = [0, 1, 1, 2, 0], np.array([[1.0, 0, 0], [0, 2, 1], [1, 1, 0], [0, 0, 3], [2, 1, 0]])
    spec, counts, weight = lossctl.get("class_balanced"), (10.0, 5.0, 1.0), [1.0, 2.0, 3.0, 0.5, 1.0]
    share = (1 - 0.9) / (1 - 0.9 ** np.array(counts))
    expected = (3 * share / share.sum())[y] * lossctl.get("cross_entropy").per_sample(y, x)
    rows = spec.per_sample(y, x, counts=counts, beta=0.9)
    np.testing.assert_allclose(rows, expected, rtol=1e-12)
    value = spec(y, x, counts=counts, beta=0.9, sample_weight=weight)
    assert value == pytest.approx(np.average(rows, weights=weight), rel=1e-12)
    with pytest.raises(UsageError, match="^" + re.escape(f"loss 'class_balanced' {CLASS_BALANCED_NO_ROWS}") + "$"):
        spec.per_sample(y, x)


def test_cli_class_balanced_per_sample_needs_counts(cli, write, tmp_path) -> None:
    path = write("p.csv", "y,a,b,w\n0,2,1,1\n1,0,1,3\n1,1,0,0.5\n")
    out = tmp_path / "rows.csv"
    args = ["eval", path, "--pred", "a,b", "--target", "y", "--weight", "w", "--per-sample", out]
    run = cli(*args, "-l", "class_balanced:counts=4,2", "-f", "json", "-q")
    assert run.code == 0, run.err
    value = json.loads(run.out)["results"][0]["value"]
    rows = np.loadtxt(out, delimiter=",", skiprows=1)[:, 1]
    assert value == pytest.approx(np.average(rows, weights=[1, 3, 0.5]), rel=1e-12)
    out.unlink()
    run = cli(*args, "-l", "class_balanced")
    assert run.code == ExitCode.USAGE and not out.exists()
    assert run.err == (
        "error: --per-sample: none of the selected losses has per-row values: "
        f"class_balanced {CLASS_BALANCED_NO_ROWS}\n"
    )


@pytest.mark.parametrize(
    ("loss", "convention", "has"),
    [
        ("nll", "keras", "lossctl, torch"),
        ("categorical_ce", "torch", "lossctl, sklearn, keras"),
        ("js_div", "sklearn", "lossctl"),
        ("focal_multiclass", "torch", "lossctl"),
        ("distillation", "torch", "lossctl"),
        ("kl_div", "sklearn", "lossctl, torch, keras"),
    ],
)
def test_a_library_without_the_loss_has_no_convention(loss: str, convention: str, has: str) -> None:
    message = f"loss '{loss}' has no '{convention}' convention; it has: {has}"
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        lossctl.get(loss).aggregate_for(convention)


def test_cross_entropy_keras_divides_by_the_row_count(cli, write) -> None:
    # Keras CategoricalCrossentropy(from_logits=True): rows [log 2, 2e4]; weights [1, 3] give (log 2 + 6e4) / 2
    # (sum_over_batch_size), where lossctl's weighted mean divides by 4.
    path = write("k.csv", "x0,x1,y,w\n0,0,0,1\n1e4,-1e4,1,3\n")
    values = {}
    for convention in ("keras", "lossctl"):
        run = cli("eval", path, "--pred", "x*", "--target", "y", "--weight", "w", "-l", "ce", "--convention",
                  convention, "-f", "json", "-q")  # fmt: skip
        assert run.code == 0, run.err
        result = json.loads(run.out)["results"][0]
        values[convention] = result["value"]
        assert f"|convention={convention}|" in result["signature"]
    assert values == {"keras": pytest.approx((LN2 + 6e4) / 2, rel=1e-15), "lossctl": pytest.approx((LN2 + 6e4) / 4)}
    run = cli("eval", path, "--pred", "x*", "--target", "y", "-l", "ce:class_weight=1,2", "--convention", "keras")
    assert run.code == 2 and run.out == ""
    assert run.err == (
        "error: loss 'cross_entropy' with convention keras takes no parameter 'class_weight' "
        "(CategoricalCrossentropy has no class weights); drop class_weight or use --convention lossctl or torch\n"
    )


def test_keras_convention_defaults() -> None:
    assert lossctl.get("categorical_ce").resolve_params({}, "keras")["eps"] == 1e-7
    assert lossctl.get("categorical_ce").resolve_params({}, "lossctl")["eps"] == EPS


# --- numerical stability ------------------------------------------------------------------------------------------

EXTREME_X = [[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [1e-300, 0.0, -1e-300]]
EXTREME = [
    ("cross_entropy", ([0, 0, 2], EXTREME_X), {"label_smoothing": 0.1, "class_weight": "balanced"}),
    ("focal_multiclass", ([0, 0, 2], EXTREME_X), {"gamma": 0.5}),
    ("multi_margin", ([0, 0, 2], EXTREME_X), {"p": 2}),
    ("kl_div", ([[1, 0, 0], [0.5, 0.5, 0], [0, 0, 1]], EXTREME_X), {"from_logits": True}),
    ("distillation", (EXTREME_X, EXTREME_X[::-1]), {"temperature": 0.1}),
    ("class_balanced", ([0, 1], [1e4, -1e4]), {"base": "bce_logits"}),
    ("categorical_ce", ([0, 1], [[1.0, 0.0], [1.0, 0.0]]), {}),
    ("js_div", ([[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [0, 1, 0]]), {}),
    ("elbo", ([[1, 0]], [[0.0, 1.0]], [[1e150]], [[709.0]]), {}),
]


@pytest.mark.parametrize(("loss", "inputs", "params"), EXTREME, ids=[x[0] for x in EXTREME])
def test_extreme_inputs_are_finite_without_warnings(loss: str, inputs: tuple[Any, ...], params: dict[str, Any]) -> None:
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value = lossctl.get(loss)(*inputs, **params)
    assert math.isfinite(value) and value >= 0


# --- properties ---------------------------------------------------------------------------------------------------

logit = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@st.composite
def classified(draw: Any, k_min: int = 2, k_max: int = 6) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 20))
    k = draw(st.integers(k_min, k_max))
    x = draw(arrays(np.float64, (n, k), elements=logit))
    y = draw(arrays(np.float64, n, elements=st.integers(0, k - 1).map(float)))
    return y, x


@given(classified(), st.floats(0.0, 0.99))
@settings(max_examples=150, deadline=None)
def test_one_hot_targets_equal_class_indices(data: tuple[np.ndarray, np.ndarray], smoothing: float) -> None:
    y, x = data
    ce = lossctl.get("cross_entropy")
    one_hot = np.eye(x.shape[1])[y.astype(int)]
    hard = ce.per_sample(y, x, label_smoothing=smoothing)
    soft = ce.per_sample(one_hot, x, label_smoothing=smoothing)
    np.testing.assert_allclose(hard, soft, rtol=1e-12, atol=1e-12)


@given(classified())
@settings(max_examples=150, deadline=None)
def test_losses_of_logits_are_finite_and_ordered(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, x = data
    ce = lossctl.get("cross_entropy").per_sample(y, x)
    focal = lossctl.get("focal_multiclass").per_sample(y, x)
    assert np.all(np.isfinite(ce)) and np.all(ce >= 0)
    assert np.all(focal <= ce) and np.all(focal >= 0)
    np.testing.assert_array_equal(lossctl.get("focal_multiclass").per_sample(y, x, gamma=0.0), ce)
    hinge = lossctl.get("multiclass_hinge").per_sample(y, x)
    margin = lossctl.get("multi_margin").per_sample(y, x)
    # every violating class counts in multi_margin, only the worst one in the Crammer-Singer hinge
    assert np.all(x.shape[1] * margin >= hinge * (1 - 1e-12))


@given(classified(k_max=4), st.floats(-50.0, 50.0))
@settings(max_examples=100, deadline=None)
def test_cross_entropy_ignores_a_shift_of_the_logits(data: tuple[np.ndarray, np.ndarray], shift: float) -> None:
    y, x = data
    x = np.clip(x, -100.0, 100.0)
    ce = lossctl.get("cross_entropy")
    np.testing.assert_allclose(ce.per_sample(y, x + shift), ce.per_sample(y, x), rtol=1e-9, atol=1e-11)


@st.composite
def distributions(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    n, k = draw(st.integers(1, 10)), draw(st.integers(2, 5))
    raw = draw(arrays(np.float64, (2, n, k), elements=st.floats(0.0, 1.0)))
    raw[:, :, 0] += 1e-3
    return raw[0] / raw[0].sum(axis=1, keepdims=True), raw[1] / raw[1].sum(axis=1, keepdims=True)


@given(distributions())
@settings(max_examples=150, deadline=None)
def test_js_is_symmetric_and_bounded(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = data
    js = lossctl.get("js_div")
    rows = js.per_sample(y, p)
    np.testing.assert_allclose(rows, js.per_sample(p, y), rtol=1e-12, atol=1e-15)
    assert np.all(rows >= 0.0) and np.all(rows <= LN2 * (1 + 1e-15))


@pytest.mark.parametrize(
    ("y", "p", "expected"),
    [
        # d = 2^-53: JS = d ln 2 / 2 + d^2 / 8 + O(d^3); the two logs of class 0 cancel to first order
        ([[1.0, 0.0]], [[1.0 - 2.0**-53, 2.0**-53]], 2.0**-54 * LN2),
        # the same d = 2^-52 spread over two empty classes: each adds (d / 2) ln 2 / 2
        ([[1.0, 0.0, 0.0]], [[1.0 - 2.0**-52, 2.0**-53, 2.0**-53]], 2.0**-53 * LN2),
    ],
)
def test_js_of_nearly_equal_distributions_is_accurate_and_not_negative(
    y: list[list[float]], p: list[list[float]], expected: float
) -> None:
    js = lossctl.get("js_div")
    for a, b in ((y, p), (p, y)):
        assert_close(js(a, b), expected, rtol=1e-12)


@given(distributions(), st.floats(0.5, 5.0))
@settings(max_examples=100, deadline=None)
def test_kl_is_cross_entropy_minus_entropy(data: tuple[np.ndarray, np.ndarray], scale: float) -> None:
    y, p = data
    x = scale * np.log(p + 1e-3)
    entropy = -np.sum(np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0), axis=1)
    kl = lossctl.get("kl_div").per_sample(y, x, from_logits=True)
    np.testing.assert_allclose(kl, lossctl.get("cross_entropy").per_sample(y, x) - entropy, rtol=1e-9, atol=1e-12)


@given(classified(), st.floats(0.25, 8.0))
@settings(max_examples=100, deadline=None)
def test_distillation_is_scaled_kl_of_softened_logits(data: tuple[np.ndarray, np.ndarray], temperature: float) -> None:
    _, x = data
    teacher = np.roll(x, 1, axis=1)
    q = np.exp(teacher / temperature - np.max(teacher / temperature, axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)
    kd = lossctl.get("distillation").per_sample(teacher, x, temperature=temperature)
    kl = lossctl.get("kl_div").per_sample(q, x / temperature, from_logits=True)
    np.testing.assert_allclose(kd, temperature**2 * kl, rtol=1e-6, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), min_size=1, max_size=12).filter(
        lambda rows: any(w for _, w in rows)
    ),
    st.sampled_from(
        [
            ("cross_entropy", {"class_weight": "balanced"}),
            ("cross_entropy", {"class_weight": (1.0, 2.0, 3.0), "label_smoothing": 0.1}),
            ("class_balanced", {"beta": 0.9}),
            ("class_balanced", {"beta": 0.5, "base": "focal_multiclass"}),
        ]
    ),
)
def test_integer_weights_repeat_rows(rows: list[tuple[int, int]], case: tuple[str, dict[str, Any]]) -> None:
    # Counts for balanced and class_balanced weights are sample-weighted, so a weight of 2 is the row twice.
    loss, params = case
    y = np.array([c for c, _ in rows], dtype=np.float64)
    w = np.array([weight for _, weight in rows], dtype=np.float64)
    x = np.random.default_rng(len(rows)).normal(0.0, 2.0, (len(rows), 3))
    repeated = np.repeat(np.arange(len(rows)), w.astype(int))
    spec = lossctl.get(loss)
    assert_close(spec(y, x, sample_weight=w, **params), spec(y[repeated], x[repeated], **params), rtol=1e-12)


@pytest.mark.parametrize(
    ("convention", "eps", "library"), [("lossctl", "2.22045e-16", "scikit-learn"), ("keras", "1e-07", "Keras")]
)
def test_clipped_probability_rows_are_counted(cli, write, convention: str, eps: str, library: str) -> None:
    path = write("p.csv", "y,p0,p1\n0,1,0\n1,0.5,0.5\n1,0.3,0.7\n")
    run = cli("eval", path, "--pred", "p0,p1", "--target", "y", "-l", "categorical_ce", "--convention", convention)
    notice = f"notice: categorical_ce: 1 row had a probability within eps = {eps} of 0 or 1, clipped (as {library})"
    assert run.code == 0 and notice in run.err.splitlines()


@pytest.mark.parametrize(
    ("losses", "message"),
    [
        (
            "ce,kl_div",
            "kl_div: 'target' has 1 column but 'pred' has 3: both need one column per class (or per component), "
            "in the same order",
        ),
        (
            "ce:class_weight=1,2,nll:class_weight=1,2,3",
            "cross_entropy:class_weight=1,2: parameter 'class_weight' has 2 values but 'pred' has 3 columns: "
            "give one per class",
        ),
        (
            "ce,focal_multiclass:alpha=1",
            "focal_multiclass:alpha=1: parameter 'alpha' has 1 value but 'pred' has 3 columns: give one per class",
        ),
        (
            "ce:label_smoothing=0.1,ce:ignore_index=1",
            "cross_entropy:ignore_index=1: parameter 'ignore_index' applies to class-index targets only; 'target' "
            "has 3 columns (a distribution per row): drop ignore_index",
        ),
    ],
)
def test_a_loss_refusing_its_inputs_is_named_among_several(cli, write, losses: str, message: str) -> None:
    # With several losses selected, "error: 'target' has 1 columns but 'pred' has 3" did not say which loss
    # refused the input (kl_div, not cross_entropy): a loss's own input and parameter errors now start with its label.
    data = write("m.csv", "x0,x1,x2,y,d0,d1,d2\n-2,0.5,1,0,0.2,0.3,0.5\n0.1,-1.5,-0.3,1,1,0,0\n")
    target = "d0,d1,d2" if "ignore_index" in losses else "y"
    run = cli("eval", data, "--pred", "x0,x1,x2", "--target", target, "-l", losses)
    assert (run.code, run.out) == (ExitCode.USAGE if "ignore_index" in losses else ExitCode.INPUT, "")
    assert run.err == f"error: {message}\n"


def test_elbo_counts_the_probabilities_its_bce_clips(cli, write) -> None:
    # elbo's bce reconstruction clipped p = 0 or 1 to the float64 eps without a word, while bce counted such rows.
    path = write("v.csv", "p0,p1,t0,t1,mu,lv\n0,1,1,1,0.1,-0.2\n0.6,0.4,1,0,-0.3,0.1\n")
    roles = ("--col", "pred=p0,p1", "--col", "target=t0,t1", "--col", "mu=mu", "--col", "logvar=lv")
    run = cli("eval", path, *roles, "-l", "elbo", "-f", "csv")
    assert run.code == 0
    assert run.err == "notice: elbo: 1 row had a probability within eps = 2.22045e-16 of 0 or 1, clipped (as bce)\n"
    run = cli("eval", path, *roles, "-l", "elbo:recon=mse", "-f", "csv")
    assert (run.code, run.err) == (0, "")


def test_compare_of_a_glob_that_matches_other_columns_in_the_candidate(cli: Any, write: Any) -> None:
    """`compare --pred 'l_*'` read the baseline's matches (l_0, l_1) from both files: a candidate whose glob
    matches l_0, l_1, l_2 was scored on two of its three logits without a word (exit 0). Now an input error naming
    both lists and the fix; files whose globs match alike compare as two evals."""
    base = write("base.csv", "y,l_0,l_1\n0,2.0,1.0\n1,0.5,1.5\n")
    cand = write("cand.csv", "y,l_0,l_1,l_2\n0,1.0,1.0,3.0\n1,0.0,2.0,0.0\n")
    run = cli("compare", base, cand, "-l", "cross_entropy", "--pred", "l_*", "--target", "y")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: --pred l_* matches 2 columns in {base} (l_0, l_1) but 3 columns in {cand} (l_0, l_1, l_2); "
        "compare reads the same columns from both files: name them (--pred l_0,l_1)\n"
    )
    same = write("same.csv", "y,l_0,l_1\n0,1.0,1.0\n1,0.0,2.0\n")
    run = cli("compare", base, same, "-l", "cross_entropy", "--pred", "l_*", "--target", "y", "-f", "json")
    assert run.code == 0, run.err
    [record] = json.loads(run.out)["results"]
    expected = [np.mean([np.log1p(np.exp(-1.0)), np.log1p(np.exp(-1.0))]), np.log(2.0) / 2 + np.log1p(np.exp(-2.0)) / 2]
    assert (record["baseline"], record["candidate"]) == pytest.approx(expected, rel=1e-12)
