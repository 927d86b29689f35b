"""Mathematical properties of the losses, checked on random inputs (hypothesis) through the public API.

Each property relates a loss to another loss or to a closed form (losses.md): Huber is bounded by half
the square and turns into MAE, focal without focusing is BCE, a distribution is at distance 0 from
itself, and so on. Inputs are NumPy arrays, target first (``lossctl.get(name)(target, pred, ...)``).
A loss that is not registered (yet) makes its test skip, not fail.

The profile is fixed and bounded like the fuzzers' (100 examples, derandomized, no example database):
about 3 s. Tolerances are stated per property: a few ulps, or the bound the formula itself gives.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lossctl

settings.register_profile("lossctl-properties", max_examples=100, deadline=None, derandomize=True, database=None)
PROPERTIES = settings.get_profile("lossctl-properties")

REGISTERED = {spec.name for spec in lossctl.list_losses()}
LN2 = math.log(2.0)
# A few units in the last place of a subnormal result (r² of |r| < 1e-154), where relative precision ends.
SUBNORMAL = 4 * 5e-324


def loss(name: str) -> lossctl.LossSpec:
    if name not in REGISTERED:
        pytest.fail(f"loss '{name}' is not registered: the property names an unknown loss")
    return lossctl.get(name)


def finite(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


pairs = st.integers(1, 20).flatmap(lambda n: st.tuples(*(hnp.arrays(np.float64, n, elements=finite(-1e3, 1e3)),) * 2))
scales = st.one_of(finite(1e-3, 1e3), st.sampled_from([1e-6, 1.0, 1e6]))


def _close(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-300) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# --- regression --------------------------------------------------------------------------------------


@PROPERTIES
@given(pair=pairs, delta=scales)
def test_huber_is_at_most_half_the_square(pair, delta: float) -> None:
    target, pred = pair
    per_row = loss("huber").per_sample(target, pred, delta=delta)
    half_square = 0.5 * (pred - target) ** 2
    assert np.all(per_row <= half_square * (1 + 1e-15) + SUBNORMAL)


@PROPERTIES
@given(pair=pairs, delta=scales)
def test_huber_over_delta_becomes_mae_minus_half_delta(pair, delta: float) -> None:
    """Beyond ``delta``, ``huber/delta = |r| - delta/2`` (the MAE shape); everywhere within ``delta/2`` of ``|r|``."""
    target, pred = pair
    r = np.abs(pred - target)
    scaled = loss("huber").per_sample(target, pred, delta=delta) / delta
    outside = r > delta
    rounding = 4 * np.finfo(float).eps * r  # of |r| - delta/2, absolute: relative to delta it can be large
    np.testing.assert_allclose(scaled[outside], r[outside] - delta / 2, rtol=1e-12, atol=1e-300)
    assert np.all(np.abs(scaled - r) <= delta / 2 * (1 + 1e-12) + rounding)


@PROPERTIES
@given(r=finite(1.0, 1e6), delta=st.sampled_from([1e-3, 1e-6, 1e-9]))
def test_huber_over_delta_tends_to_mae(r: float, delta: float) -> None:
    """For ``|r| >> delta``, ``huber/delta`` and ``mae`` agree to ``delta / (2 |r|)`` relative."""
    target, pred = np.array([0.0]), np.array([r])
    value = loss("huber")(target, pred, delta=delta) / delta
    mae = loss("mae")(target, pred)
    assert abs(value - mae) / mae <= delta / (2 * r) + 4 * np.finfo(float).eps


@PROPERTIES
@given(pair=pairs, beta=scales)
def test_smooth_l1_with_beta_delta_is_huber_over_delta(pair, beta: float) -> None:
    target, pred = pair
    smooth = loss("smooth_l1").per_sample(target, pred, beta=beta)
    huber = loss("huber").per_sample(target, pred, delta=beta) / beta
    np.testing.assert_allclose(smooth, huber, rtol=1e-12, atol=1e-300)


@PROPERTIES
@given(pair=pairs)
def test_quantile_at_the_median_is_half_the_mae(pair) -> None:
    target, pred = pair
    assert _close(loss("quantile")(target, pred, q=0.5), loss("mae")(target, pred) / 2)


@PROPERTIES
@given(pair=pairs)
def test_rmse_is_the_root_of_mse(pair) -> None:
    target, pred = pair
    assert _close(loss("rmse")(target, pred), math.sqrt(loss("mse")(target, pred)))


@PROPERTIES
@given(r=st.one_of(finite(-1e-2, 1e-2), st.sampled_from([1e-300, 5e-324, 1e-8, -1e-150])))
def test_log_cosh_of_small_r_is_between_its_taylor_bounds(r: float) -> None:
    """``r²/2 - r⁴/12 <= log cosh r <= r²/2`` (alternating Taylor series), to rounding."""
    value = loss("log_cosh").per_sample(np.array([0.0]), np.array([r]))[0]
    upper = r * r / 2
    lower = upper - r**4 / 12
    assert lower * (1 - 4e-16) - SUBNORMAL <= value <= upper * (1 + 4e-16) + SUBNORMAL


@PROPERTIES
@given(r=st.one_of(finite(-1e300, 1e300), finite(-50, 50), st.sampled_from([0.0, 1e-300, 710.0, -1e4, 1e154])))
def test_log_cosh_is_between_abs_minus_log2_and_abs(r: float) -> None:
    value = loss("log_cosh").per_sample(np.array([0.0]), np.array([r]))[0]
    assert math.isfinite(value)
    slack = 4e-16 * abs(r)
    assert abs(r) - LN2 - slack <= value <= abs(r) + slack


# --- binary ------------------------------------------------------------------------------------------

logits = st.integers(1, 20).flatmap(
    lambda n: st.tuples(
        hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0])),
        hnp.arrays(np.float64, n, elements=finite(-30, 30)),
    )
)


@PROPERTIES
@given(data=logits, alpha=st.sampled_from([-1.0, -0.5, -1e-9]))
def test_focal_without_focusing_or_balance_is_bce_logits(data, alpha: float) -> None:
    target, x = data
    focal = loss("focal").per_sample(target, x, gamma=0.0, alpha=alpha)
    np.testing.assert_allclose(focal, loss("bce_logits").per_sample(target, x), rtol=1e-12, atol=1e-300)


@PROPERTIES
@given(
    data=st.integers(1, 20).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, n, elements=st.one_of(st.sampled_from([0.0, 1.0]), finite(0, 1))),
            hnp.arrays(np.float64, n, elements=finite(-10, 10)),
        )
    )
)
def test_bce_of_sigmoid_is_bce_logits(data) -> None:
    """For moderate logits ``bce(y, sigmoid(x)) = bce_logits(y, x)``; only the rounding of ``sigmoid`` differs."""
    target, x = data
    p = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(
        loss("bce").per_sample(target, p), loss("bce_logits").per_sample(target, x), rtol=1e-9, atol=1e-12
    )


# --- multi-class -------------------------------------------------------------------------------------


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@st.composite
def class_logits(draw: st.DrawFn, low: float = -50, high: float = 50) -> tuple[np.ndarray, np.ndarray]:
    rows, classes = draw(st.integers(1, 12)), draw(st.integers(2, 6))
    x = draw(hnp.arrays(np.float64, (rows, classes), elements=finite(low, high)))
    y = draw(hnp.arrays(np.float64, rows, elements=st.integers(0, classes - 1).map(float)))
    return y, x


@PROPERTIES
@given(data=class_logits())
def test_cross_entropy_without_smoothing_is_plain_cross_entropy(data) -> None:
    target, x = data
    plain = -_log_softmax(x)[np.arange(len(target)), target.astype(int)]
    ce = loss("cross_entropy")
    np.testing.assert_allclose(ce.per_sample(target, x, label_smoothing=0.0), plain, rtol=1e-12, atol=1e-12)
    assert _close(ce(target, x, label_smoothing=0.0), ce(target, x))
    assert _close(ce(target, x), float(np.mean(plain)), rel=1e-12, abs_=1e-12)


@st.composite
def distributions(draw: st.DrawFn, rows: int | None = None, classes: int | None = None) -> np.ndarray:
    rows = rows or draw(st.integers(1, 10))
    classes = classes or draw(st.integers(2, 6))
    weights = draw(hnp.arrays(np.float64, (rows, classes), elements=st.one_of(st.just(0.0), finite(1e-3, 1e3))))
    weights[weights.sum(axis=1) == 0, 0] = 1.0
    return weights / weights.sum(axis=1, keepdims=True)


@PROPERTIES
@given(p=distributions())
def test_kl_divergence_of_a_distribution_with_itself_is_zero(p: np.ndarray) -> None:
    assert abs(loss("kl_div")(p, p)) <= 1e-15


@PROPERTIES
@given(
    shape=st.tuples(st.integers(1, 10), st.integers(2, 6)).flatmap(
        lambda s: st.tuples(distributions(*s), distributions(*s))
    )
)
def test_js_divergence_is_symmetric_and_at_most_ln2(shape) -> None:
    p, q = shape
    js = loss("js_div")
    forward, backward = js.per_sample(p, q), js.per_sample(q, p)
    np.testing.assert_allclose(forward, backward, rtol=1e-12, atol=1e-15)
    assert np.all(forward >= 0.0) and np.all(forward <= LN2 * (1 + 1e-12))
    assert abs(js(p, p)) <= 1e-15


# --- segmentation, detection, representation --------------------------------------------------------

masks = st.tuples(st.integers(1, 8), st.integers(1, 16)).flatmap(
    lambda s: hnp.arrays(np.float64, s, elements=st.sampled_from([0.0, 1.0]))
)


@PROPERTIES
@given(mask=masks)
def test_dice_of_a_mask_with_itself_is_zero(mask: np.ndarray) -> None:
    """Per-sample (one row of a 2-D mask each) and whole-input (a 1-D mask): empty masks are perfect matches."""
    dice = loss("dice")
    assert dice(mask, mask, smooth=0.0) == 0.0
    assert all(dice(row[None, :], row[None, :], smooth=0.0) == 0.0 for row in mask)
    assert dice(mask.reshape(-1), mask.reshape(-1), smooth=0.0) == 0.0


@st.composite
def boxes(draw: st.DrawFn) -> np.ndarray:
    rows = draw(st.integers(1, 10))
    corner = draw(hnp.arrays(np.float64, (rows, 2), elements=finite(-1e3, 1e3)))
    size = draw(hnp.arrays(np.float64, (rows, 2), elements=finite(1e-2, 1e3)))
    return np.hstack([corner, corner + size])


@PROPERTIES
@given(box=boxes())
def test_giou_of_identical_boxes_is_zero(box: np.ndarray) -> None:
    """``1 - GIoU = 1 - inter / (union + eps)``: zero up to ``eps / union``."""
    area = (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])
    per_row = loss("giou").per_sample(box, box)
    assert np.all(per_row >= 0)
    assert np.all(per_row <= 1e-7 / area + 1e-12)
    assert np.all(loss("giou").per_sample(box, box, eps=1e-300) <= 1e-12)


@PROPERTIES
@given(
    data=st.tuples(st.integers(1, 8), st.integers(1, 6)).flatmap(
        lambda s: st.tuples(*(hnp.arrays(np.float64, s, elements=finite(-1e3, 1e3)),) * 3)
    ),
    margin=finite(1e-6, 10),
    p=st.sampled_from([1.0, 2.0, 3.0]),
    swap=st.booleans(),
)
def test_triplet_is_never_negative(data, margin: float, p: float, swap: bool) -> None:
    anchor, positive, negative = data
    per_row = loss("triplet").per_sample(anchor, positive, negative, margin=margin, p=p, swap=swap)
    assert np.all(per_row >= 0)
