"""The segmentation losses: golden references, hand-computed values, the two input layouts (one sample per row
of vector columns, or the whole input as one sample), chunk invariance, notices, errors and properties.

The golden cases come from tests/reference/generate_segmentation.py (smp's DiceLoss / JaccardLoss / TverskyLoss
and Keras' dice / tversky written out from their sources); each must agree to 1e-9 relative.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossctl
from lossctl.errors import DomainError, ExitCode, InputError, UsageError
from lossctl.stats import weighted_sums
from tests.golden import load_cases

CASES = load_cases("segmentation")
SEGMENTATION = ("dice", "jaccard", "tversky", "focal_tversky")
TVERSKY = {"alpha": 0.3, "beta": 0.7}


def assert_close(actual: float, expected: float) -> None:
    """1e-9 relative; an expected 0 is compared absolutely (1e-12)."""
    if expected == 0.0:
        assert abs(actual) <= 1e-12, f"{actual!r} != 0"
    else:
        assert abs(actual - expected) <= 1e-9 * abs(expected), f"{actual!r} != {expected!r}"


def samples(loss: str, target: Any, pred: Any, **params: Any) -> np.ndarray:
    """The per-sample losses of vector columns: the first contribution column of the registered function."""
    spec = lossctl.get(loss)
    resolved = spec.resolve_params(params)
    return spec.func(np.asarray(target, float), np.asarray(pred, float), **resolved)[:, 0]


def finalize(loss: str, stats: np.ndarray, reduction: str = "mean", **params: Any) -> float:
    spec = lossctl.get(loss)
    return spec.aggregate.finalize(stats, reduction, spec.resolve_params(params))


def stats_of(loss: str, target: Any, pred: Any, weight: Any = None, **params: Any) -> np.ndarray:
    spec = lossctl.get(loss)
    contributions = spec.func(np.asarray(target, float), np.asarray(pred, float), **spec.resolve_params(params))
    return weighted_sums(contributions, None if weight is None else np.asarray(weight, float))


def notices(loss: str, stats: np.ndarray, **params: Any) -> list[str]:
    spec = lossctl.get(loss)
    return [str(notice) for notice in spec.aggregate.notices(stats, spec.resolve_params(params))]


# --- golden references -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden(case: dict[str, Any]) -> None:
    spec = lossctl.get(case["loss"])
    value = spec(
        *[case["inputs"][role] for role in spec.role_names],
        sample_weight=case["sample_weight"],
        reduction=case["reduction"],
        convention=case["convention"],
        **case["params"],
    )
    assert_close(value, case["expected"])


def test_every_loss_and_convention_has_a_golden_case() -> None:
    covered = {(lossctl.get(case["loss"]).name, case["convention"]) for case in CASES}
    for spec in lossctl.list_losses("segmentation"):
        for convention in ("lossctl", *spec.conventions):
            assert (spec.name, convention) in covered, f"no golden case for {spec.name} --convention {convention}"


def test_golden_cases_cover_both_layouts_weights_and_sum() -> None:
    for loss in SEGMENTATION:
        mine = [c for c in CASES if c["loss"] == loss and c["convention"] == "lossctl"]
        assert any(np.ndim(c["inputs"]["target"]) == 1 for c in mine), loss
        assert any(np.ndim(c["inputs"]["target"]) == 2 for c in mine), loss
        assert any(c["sample_weight"] for c in mine) and any(c["reduction"] == "sum" for c in mine), loss


# --- registration --------------------------------------------------------------------------------------------------


def test_the_segmentation_losses_are_registered() -> None:
    assert lossctl.get("iou") is lossctl.get("jaccard")
    assert lossctl.get("Soft_IoU") is lossctl.get("jaccard")
    expected = {"dice": {"keras"}, "jaccard": set(), "tversky": {"keras"}, "focal_tversky": set()}
    for name, conventions in expected.items():
        spec = lossctl.get(name)
        assert set(spec.conventions) == conventions, name
        assert spec.doc and "Example" in spec.doc, name
        assert spec.summary and spec.formula and spec.follows and spec.when, name
        assert [(r.name, r.shape) for r in spec.roles] == [("target", "any"), ("pred", "any")], name
        # a row of vector columns is a sample with its loss ([loss, nothing_to_score]); scalar columns have none
        assert spec.per_row and spec.aggregate.rows is not None, name
        assert not any(spec.aggregate_for(c).per_row for c in conventions), name  # Keras pools the whole input
        assert spec.aggregate.reductions == ("mean", "sum"), name
        assert not spec.whole_input and spec.batch_param is None, name


def test_each_loss_has_its_own_aggregate() -> None:
    aggregates = [lossctl.get(name).aggregate for name in SEGMENTATION]
    assert len({id(a) for a in aggregates}) == len(aggregates)


# --- hand-computed values ------------------------------------------------------------------------------------------

Y = [1.0, 1.0, 0.0, 0.0]
P = [1.0, 0.5, 0.5, 0.0]
# TP = 1 + 0.5 = 1.5, FP = 0.5, FN = 0.5, sum p = sum y = 2.
HAND = [
    # 1 - (2 * 1.5 + 1) / (2 + 2 + 1) = 1 - 4/5
    ("dice", {}, 0.2),
    # 1 - 3 / 4
    ("dice", {"smooth": 0.0}, 0.25),
    # 1 - (1.5 + 1) / (2 + 2 - 1.5 + 1) = 1 - 2.5 / 3.5
    ("jaccard", {}, 2.0 / 7.0),
    # 1 - 1.5 / 2.5
    ("jaccard", {"smooth": 0.0}, 0.4),
    # 1 - (1.5 + 1) / (1.5 + 0.3 * 0.5 + 0.7 * 0.5 + 1) = 1 - 2.5 / 3
    ("tversky", TVERSKY, 1.0 / 6.0),
    # alpha = beta = 0.5: 1 - (1.5 + 1) / (1.5 + 0.5 + 1) = 1 - (3 + 2) / (3 + 1 + 2), dice with smooth 2
    ("tversky", {}, 1.0 / 6.0),
    ("dice", {"smooth": 2.0}, 1.0 / 6.0),
    # 1 - 1.5 / (1.5 + 0.5) with alpha = 0, beta = 1 (the recall 0.75)
    ("tversky", {"alpha": 0.0, "beta": 1.0, "smooth": 0.0}, 0.25),
    # (1/6)^2
    ("focal_tversky", TVERSKY | {"gamma": 2.0}, 1.0 / 36.0),
    # (1 - 2.5 / 3)^0.5 = sqrt(1/6)
    ("focal_tversky", TVERSKY | {"gamma": 0.5}, (1.0 / 6.0) ** 0.5),
]


@pytest.mark.parametrize(("loss", "params", "expected"), HAND, ids=[f"{h[0]}-{h[1]}" for h in HAND])
def test_hand_computed(loss: str, params: dict[str, Any], expected: float) -> None:
    # Scalar columns: the 4 pixels are one sample; one row of vector columns is the same sample.
    assert_close(lossctl.get(loss)(Y, P, **params), expected)
    assert_close(lossctl.get(loss)([Y], [P], **params), expected)


def test_vector_columns_are_one_sample_per_row() -> None:
    # Row 2 misses the whole mask: TP = 0, FN = 2, so (0 + 2) / (0 + 2 + 1) = 2/3; row 1 is the 0.2 above.
    target, pred = [Y, Y], [P, [0.0] * 4]
    np.testing.assert_allclose(samples("dice", target, pred), [0.2, 2.0 / 3.0], rtol=1e-15)
    assert_close(lossctl.get("dice")(target, pred), (0.2 + 2.0 / 3.0) / 2)
    # weighted: (1 * 0.2 + 3 * 2/3) / 4, and the sum 0.2 + 2
    assert_close(lossctl.get("dice")(target, pred, sample_weight=[1.0, 3.0]), 2.2 / 4)
    assert_close(lossctl.get("dice")(target, pred, sample_weight=[1.0, 3.0], reduction="sum"), 2.2)


def test_scalar_columns_pool_the_pixels_into_one_sample() -> None:
    # The same 8 pixels as one sample: TP = 1.5, FP = 0.5, FN = 2.5, so (0.5 + 2.5) / (3 + 3 + 1) = 3/7,
    # not the mean of the per-row values.
    assert_close(lossctl.get("dice")(Y + Y, P + [0.0] * 4), 3.0 / 7.0)


def test_pixel_weights_weigh_the_sums() -> None:
    # A weight of 2 on pixel 2 (y = 1, p = 0.5) counts it twice: TP = 2, FP = 0.5, FN = 1, so 1.5 / (4 + 1.5 + 1).
    assert_close(lossctl.get("dice")(Y, P, sample_weight=[1.0, 2.0, 1.0, 1.0]), 1.5 / 6.5)
    assert_close(
        lossctl.get("dice")(Y, P, sample_weight=[1.0, 2.0, 1.0, 1.0]), lossctl.get("dice")([*Y, 1.0], [*P, 0.5])
    )


def test_near_perfect_predictions_keep_their_digits() -> None:
    # 1000 foreground pixels predicted 1 - 1e-12: FN = 1e-9, TP = 1000 - 1e-9; the loss FN / (2 TP + FN + 1) is
    # about 5e-13, which 1 - score would round to a multiple of 1.1e-16 (3e-4 relative error).
    target, pred = np.ones(1000), np.full(1000, 1.0 - 1e-12)
    p = Fraction(float(pred[0]))
    fn = 1000 * (1 - p)
    exact = fn / (2 * (1000 * p) + fn + 1)
    assert_close(lossctl.get("dice")(target, pred), float(exact))


def test_soft_targets_are_accepted() -> None:
    # y = [0.5], p = [0.5]: TP = 0.25, FP = FN = 0.25, so 0.5 / (0.5 + 0.5 + 1)
    assert_close(lossctl.get("dice")([0.5], [0.5]), 0.25)


# --- empty samples and notices -------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", SEGMENTATION)
def test_empty_prediction_and_target(loss: str) -> None:
    spec = lossctl.get(loss)
    empty = [0.0, 0.0, 0.0]
    # smooth = 1: s / s, a perfect score; smooth = 0: 0/0, counted as perfect
    assert spec(empty, empty) == 0.0
    assert spec(empty, empty, smooth=0.0) == 0.0
    assert spec([empty, [1.0, 0.0, 0.0]], [empty, [1.0, 0.0, 0.0]], smooth=0.0) == 0.0
    # An empty target with a false positive is not perfect: FP / FP = 1 with smooth = 0 (smp would report 0).
    assert spec(empty, [0.0, 0.5, 0.0], smooth=0.0) == 1.0


def test_notice_counts_empty_samples_with_smooth_0() -> None:
    target = [[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]
    pred = [[0.0, 0.0], [0.5, 0.0], [0.0, 0.0]]
    stats = stats_of("dice", target, pred, smooth=0.0)
    assert notices("dice", stats, smooth=0.0) == [
        "2 samples with empty prediction and target counted as perfect (loss 0; smooth=0)"
    ]
    one = stats_of("dice", target[:1], pred[:1], smooth=0.0)
    assert notices("dice", one, smooth=0.0) == [
        "1 sample with empty prediction and target counted as perfect (loss 0; smooth=0)"
    ]
    weighted = stats_of("dice", target, pred, weight=[0.5, 1.0, 2.0], smooth=0.0)
    assert notices("dice", weighted, smooth=0.0) == [
        "samples carrying 2.5 of the weight with empty prediction and target counted as perfect (loss 0; smooth=0)"
    ]
    # with smooth = 1 the empty samples score s / s = 1 by themselves: nothing to report
    assert notices("dice", stats_of("dice", target, pred)) == []


def test_notice_for_an_empty_whole_input() -> None:
    stats = stats_of("jaccard", [0.0] * 5, [0.0] * 5, smooth=0.0)
    assert notices("jaccard", stats, smooth=0.0) == [
        "1 sample with empty prediction and target counted as perfect (loss 0; smooth=0)"
    ]
    assert notices("jaccard", stats_of("jaccard", [0.0, 1.0], [0.0, 0.0], smooth=0.0), smooth=0.0) == []


def test_tversky_notice_names_what_is_empty() -> None:
    stats = stats_of("tversky", [[0.0]], [[0.0]], smooth=0.0)
    message = "1 sample with empty prediction and target counted as perfect (loss 0; smooth=0)"
    assert notices("tversky", stats, smooth=0.0) == [message]


@pytest.mark.parametrize("loss", ["tversky", "focal_tversky"])
def test_tversky_zero_over_zero_that_is_not_empty_is_a_miss(loss: str) -> None:
    # With smooth = 0 and alpha = 0 a prediction on an empty mask is 0/0 (its false positives weigh 0): it was
    # reported as a perfect score (loss 0, "nothing to score"); docs/losses.md makes only an empty prediction of
    # an empty mask perfect, and smp's clamp_min(eps) of the denominator scores it 0 (loss 1). So with beta = 0
    # for a mask predicted empty.
    spec = lossctl.get(loss)
    target, pred = [[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]], [[0.9, 0.2], [0.0, 0.0], [1.0, 0.0]]
    assert spec(target, pred, smooth=0.0, alpha=0.0) == pytest.approx(1 / 3, rel=1e-15)
    assert notices(loss, stats_of(loss, target, pred, smooth=0.0, alpha=0.0), smooth=0.0, alpha=0.0) == [
        "1 sample with empty prediction and target counted as perfect (loss 0; smooth=0)"
    ]
    assert spec([[1.0, 0.0]], [[0.0, 0.0]], smooth=0.0, beta=0.0) == 1.0
    assert spec([1.0, 0.0], [0.0, 0.0], smooth=0.0, beta=0.0) == 1.0  # the whole input as one sample
    assert spec([0.0, 0.0], [0.0, 0.0], smooth=0.0, beta=0.0) == 0.0
    assert spec([[0.0, 0.0]], [[5e-324, 0.0]], smooth=0.0, alpha=0.0) == 1.0  # subnormal sums too


# --- the two layouts through the statistics vector -----------------------------------------------------------------


@pytest.mark.parametrize("loss", SEGMENTATION)
def test_the_layouts_have_different_widths(loss: str) -> None:
    params = {"smooth": 0.0}
    zeros = np.zeros((3, 4))
    # whatever the values, scalar columns give [TP, FP, FN, sum w, n] and vector columns [loss, empty, sum w, n]
    assert len(stats_of(loss, zeros[0], zeros[0], **params)) == 5
    assert len(stats_of(loss, zeros, zeros, **params)) == 4
    assert len(stats_of(loss, zeros[:, :1], zeros[:, :1], **params)) == 4


@pytest.mark.parametrize("loss", SEGMENTATION)
@pytest.mark.parametrize("cut", [1, 7, 19])
def test_whole_input_is_chunk_invariant(loss: str, cut: int) -> None:
    rng = np.random.default_rng(cut)
    target = (rng.random(20) < 0.4).astype(float)
    pred = rng.random(20)
    weight = rng.uniform(0.0, 2.0, 20)
    params = {"dice": {}, "jaccard": {}, "tversky": TVERSKY, "focal_tversky": TVERSKY | {"gamma": 1.5}}[loss]
    for w in (None, weight):
        first = stats_of(loss, target[:cut], pred[:cut], None if w is None else w[:cut], **params)
        second = stats_of(loss, target[cut:], pred[cut:], None if w is None else w[cut:], **params)
        merged = finalize(loss, first + second, **params)
        assert_close(merged, lossctl.get(loss)(target, pred, sample_weight=w, **params))


@pytest.mark.parametrize("loss", SEGMENTATION)
def test_per_sample_layout_is_chunk_invariant(loss: str) -> None:
    rng = np.random.default_rng(5)
    target = (rng.random((9, 6)) < 0.4).astype(float)
    pred = rng.random((9, 6))
    weight = rng.uniform(0.0, 2.0, 9)
    stats = stats_of(loss, target[:4], pred[:4], weight[:4]) + stats_of(loss, target[4:], pred[4:], weight[4:])
    for reduction in ("mean", "sum"):
        expected = lossctl.get(loss)(target, pred, sample_weight=weight, reduction=reduction)
        assert_close(finalize(loss, stats, reduction), expected)


def test_the_whole_input_has_only_the_mean_reduction() -> None:
    with pytest.raises(UsageError) as error:
        lossctl.get("dice")(Y, P, reduction="sum")
    assert str(error.value) == (
        "loss 'dice' over scalar columns (one pixel per row) scores the whole input as one sample: it has only the "
        "mean reduction; use list columns for one sample per row"
    )
    assert error.value.exit_code == ExitCode.USAGE


ONE_SAMPLE = (
    "over scalar columns (one pixel per row) scores the whole input as one sample, with no per-row values; bind pred "
    "and target to list columns or 2-D arrays (one sample per row) for a loss per row"
)


@pytest.mark.parametrize("loss", SEGMENTATION)
def test_per_sample_gives_each_sample_of_vector_rows_its_loss(loss: str) -> None:
    """A row of vector columns is a sample with its own loss: per_sample() refused it as "an aggregate"."""
    target = np.array([Y, [0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    pred = np.array([P, [0.2, 0.9, 0.4, 0.7], [0.1, 0.0, 0.3, 0.0]])
    tp, fp, fn = (pred * target).sum(1), (pred * (1 - target)).sum(1), ((1 - pred) * target).sum(1)
    expected = {  # the formulas of docs/losses.md, sample by sample
        "dice": 1 - (2 * tp + 1) / (pred.sum(1) + target.sum(1) + 1),
        "jaccard": 1 - (tp + 1) / (pred.sum(1) + target.sum(1) - tp + 1),
        "tversky": 1 - (tp + 1) / (tp + 0.3 * fp + 0.7 * fn + 1),
        "focal_tversky": (1 - (tp + 1) / (tp + 0.3 * fp + 0.7 * fn + 1)) ** 2,
    }[loss]
    params = {"focal_tversky": {**TVERSKY, "gamma": 2.0}, "tversky": TVERSKY}.get(loss, {})
    spec = lossctl.get(loss)
    np.testing.assert_allclose(spec.per_sample(target, pred, **params), expected, rtol=1e-12)
    metric = lossctl.Metric(":".join([loss, *(f"{name}={value}" for name, value in params.items())]))
    np.testing.assert_allclose(metric.per_sample(target, pred), expected, rtol=1e-12)
    assert spec(target, pred, sample_weight=[1.0, 2.0, 3.0], **params) == pytest.approx(
        np.average(expected, weights=[1.0, 2.0, 3.0]), rel=1e-12
    )


def test_per_sample_of_scalar_columns_says_why_there_is_none() -> None:
    """One pixel per row makes the whole input one sample: no per-row value, and the error says what to give."""
    for per_sample in (lossctl.get("dice").per_sample, lossctl.Metric("dice").per_sample):
        with pytest.raises(UsageError) as error:
            per_sample(Y, P)
        assert str(error.value) == f"loss 'dice' {ONE_SAMPLE}"
    with pytest.raises(UsageError, match=r"^loss 'dice' pools every pixel of the input into one score under "):
        lossctl.get("dice").per_sample([Y], [P], convention="keras")


def test_contributions_are_column_major_for_pairwise_sums() -> None:
    # NumPy sums a column-major (rows x 3) array down each column pairwise; a row-major one row by row.
    contributions = lossctl.get("dice").func(np.zeros(10), np.zeros(10), smooth=1.0)
    assert contributions.shape == (10, 3) and contributions.flags["F_CONTIGUOUS"]
    rows = 1_000_003
    stats = stats_of("dice", np.ones(rows), np.full(rows, 0.1))
    assert stats[0] == pytest.approx(rows * 0.1, rel=1e-14)


# --- Keras ----------------------------------------------------------------------------------------------------------


def test_keras_dice_pools_every_pixel_and_has_no_smooth() -> None:
    # Keras: 1 - 2 * 1.5 / (2 + 2 + 1e-7), the same for the pixels as one row or as two rows of two
    expected = 1.0 - 3.0 / (4.0 + 1e-7)
    assert_close(lossctl.get("dice")(Y, P, convention="keras"), expected)
    assert_close(lossctl.get("dice")([Y[:2], Y[2:]], [P[:2], P[2:]], convention="keras"), expected)
    # an empty prediction and target: 1 - 0 / 1e-7
    assert lossctl.get("dice")([0.0], [0.0], convention="keras") == 1.0
    assert lossctl.get("dice").resolve_params({}, "keras")["smooth"] == 0.0


def test_keras_tversky_weighs_false_negatives_by_alpha() -> None:
    # Keras' alpha multiplies sum((1 - p) y): y = [1, 0], p = [0.5, 0.5]: TP = 0.5, FN = 0.5, FP = 0.5;
    # alpha = 0.2, beta = 0.8: 1 - 0.5 / (0.5 + 0.2 * 0.5 + 0.8 * 0.5 + 1e-7)
    keras = lossctl.get("tversky")([[1.0, 0.0]], [[0.5, 0.5]], alpha=0.2, beta=0.8, convention="keras")
    assert_close(keras, 1.0 - 0.5 / (1.0 + 1e-7))
    # with FN = 0 only the FP weight (Keras' beta) counts: y = [1, 0], p = [1, 0.5]
    keras = lossctl.get("tversky")([1.0, 0.0], [1.0, 0.5], alpha=0.2, beta=0.8, convention="keras")
    assert_close(keras, 1.0 - 1.0 / (1.0 + 0.8 * 0.5 + 1e-7))
    lossctl_value = lossctl.get("tversky")([1.0, 0.0], [1.0, 0.5], alpha=0.2, beta=0.8, smooth=0.0)
    assert_close(lossctl_value, 1.0 - 1.0 / (1.0 + 0.2 * 0.5))


@pytest.mark.parametrize(("loss", "params"), [("dice", {}), ("tversky", TVERSKY)])
def test_keras_sum_is_its_one_pooled_loss(loss: str, params: dict[str, float]) -> None:
    # Keras' reduce_values returns a scalar loss unreduced: Dice(reduction="sum") reports the mean's number.
    spec = lossctl.get(loss)
    for target, pred in ((Y, P), ([Y[:2], Y[2:]], [P[:2], P[2:]])):
        mean = spec(target, pred, convention="keras", **params)
        assert spec(target, pred, convention="keras", reduction="sum", **params) == mean
    metric = lossctl.Metric("dice", convention="keras", reduction="sum")
    metric.update(Y, P)
    assert_close(metric.compute(), 1.0 - 3.0 / (4.0 + 1e-7))


KERAS_WEIGHTS = (
    "takes no sample weights (Keras multiplies its one pooled, unweighted loss by the mean sample weight, or by their "
    "sum with reduction='sum', which lossctl's weighted sums cannot give)"
)


@pytest.mark.parametrize("loss", ["dice", "tversky"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_keras_refuses_sample_weights(loss: str, reduction: str) -> None:
    """Keras reports L * mean(w) (sum: L * sum(w)) of the unweighted pooled loss L: weights of 1 too are refused,
    as the refusal must not depend on the weights' values."""
    refused = f"loss '{loss}' with convention keras {KERAS_WEIGHTS}; drop sample_weight or use convention=\"lossctl\""
    for weight in ([1.0, 3.0, 2.0, 1.0], [1.0] * 4):
        with pytest.raises(UsageError) as error:
            lossctl.get(loss)(Y, P, sample_weight=weight, convention="keras", reduction=reduction)
        assert str(error.value) == refused
    metric = lossctl.Metric(loss, convention="keras", reduction=reduction)
    with pytest.raises(UsageError) as error:
        metric.update(Y, P, sample_weight=[1.0, 3.0, 2.0, 1.0])
    assert str(error.value) == refused
    assert metric.rows == 0
    with pytest.raises(UsageError) as error:
        lossctl.evaluate(y_true=Y, y_pred=P, sample_weight=[1.0, 3.0, 2.0, 1.0], losses=loss, convention="keras")
    assert str(error.value) == refused


def test_cli_keras_refuses_weights_and_writes_nothing(
    cli: Callable[..., Any], write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    # Keras 3.15.1: Dice()(y, p, sample_weight=w) = 0.51429 = 0.25714 * mean(w); lossctl gave 0.35849 (weighted pixels)
    path = write("s.csv", "y,p,w\n1,0.9,1\n0,0.2,3\n1,0.4,2\n")
    out = tmp_path / "out.json"
    keras = ["--pred", "p", "--target", "y", "-l", "dice", "--convention", "keras"]
    refused = f"error: loss 'dice' with convention keras {KERAS_WEIGHTS}; drop --weight or use --convention lossctl\n"
    for reduction in ("mean", "sum"):
        run = cli("eval", path, *keras, "--weight", "w", "--reduction", reduction, "-o", out)
        assert (run.code, run.err) == (ExitCode.USAGE, refused)
        assert not out.exists()
    run = cli("eval", path, *keras, "--reduction", "sum", "-f", "json")
    assert run.code == 0
    assert_close(json.loads(run.out)["results"][0]["value"], 1.0 - 2.6 / (3.5 + 1e-7))


@pytest.mark.parametrize("loss", ["dice", "tversky"])
def test_keras_rejects_smooth(loss: str) -> None:
    with pytest.raises(UsageError) as error:
        lossctl.get(loss)(Y, P, convention="keras", smooth=1.0)
    assert str(error.value) == (
        f"loss '{loss}' with convention keras takes no parameter 'smooth' (Keras adds 1e-7, keras.backend.epsilon(), "
        'to the denominator instead); drop smooth or use convention="lossctl"'
    )


# --- errors --------------------------------------------------------------------------------------------------------

DOMAIN = [
    ("dice", ([0.0, 1.0], [0.5, 1.5]), "'pred': expected probabilities in [0, 1], got 1.5 in 1 row (first: row 1)"),
    (
        "jaccard",
        ([[0.0, 1.0], [0.0, 0.0]], [[-0.5, 0.0], [0.0, -1.0]]),
        "'pred': expected probabilities in [0, 1], got -0.5 in 2 rows (first: row 0)",
    ),
    ("tversky", ([0.0, 2.0], [0.5, 0.5]), "'target': expected labels in [0, 1], got 2 in 1 row (first: row 1)"),
    (
        "focal_tversky",
        ([[1.0, -1.0]], [[0.5, 0.5]]),
        "'target': expected labels in [0, 1], got -1 in 1 row (first: row 0)",
    ),
]


@pytest.mark.parametrize(("loss", "inputs", "message"), DOMAIN, ids=[d[0] for d in DOMAIN])
def test_values_outside_the_domain(loss: str, inputs: tuple[Any, Any], message: str) -> None:
    with pytest.raises(DomainError) as error:
        lossctl.get(loss)(*inputs)
    assert str(error.value) == message
    assert error.value.exit_code == ExitCode.INPUT


def test_keras_checks_the_domain_too() -> None:
    with pytest.raises(DomainError):
        lossctl.get("dice")([0.0], [1.5], convention="keras")


SHAPES = [
    (
        [0.0, 1.0],
        [[0.5], [0.5]],
        "'target' and 'pred' must have the same layout: 'target' is a scalar column (one pixel per row), "
        "'pred' is 1 values per row (one sample per row)",
    ),
    (
        [[0.0, 1.0, 1.0]],
        [[0.5, 0.5]],
        "'target' and 'pred' must have the same layout: 'target' is 3 values per row (one sample per row), "
        "'pred' is 2 values per row (one sample per row)",
    ),
]


@pytest.mark.parametrize(("target", "pred", "message"), SHAPES)
@pytest.mark.parametrize("convention", ["lossctl", "keras"])
def test_layouts_must_match(target: Any, pred: Any, message: str, convention: str) -> None:
    with pytest.raises(InputError) as error:
        lossctl.get("dice")(target, pred, convention=convention)
    assert str(error.value) == message
    assert not isinstance(error.value, DomainError)


USAGE = [
    ("dice", {"smooth": -1.0}, "dice: parameter 'smooth' must be >= 0, got -1"),
    ("tversky", {"alpha": -0.1}, "tversky: parameter 'alpha' must be >= 0, got -0.1"),
    ("tversky", {"beta": -2.0}, "tversky: parameter 'beta' must be >= 0, got -2"),
    ("focal_tversky", {"gamma": 0.0}, "focal_tversky: parameter 'gamma' must be > 0, got 0"),
    ("jaccard", {"alpha": 0.5}, "loss 'jaccard' has no parameter 'alpha'; its parameters: smooth"),
]


@pytest.mark.parametrize(("loss", "params", "message"), USAGE, ids=[u[2] for u in USAGE])
def test_parameter_errors(loss: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as error:
        lossctl.get(loss)(Y, P, **params)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("loss", "convention", "has"),
    [("dice", "torch", "lossctl, keras"), ("jaccard", "keras", "lossctl"), ("focal_tversky", "keras", "lossctl")],
)
def test_a_library_without_the_loss_has_no_convention(loss: str, convention: str, has: str) -> None:
    with pytest.raises(UsageError) as error:
        lossctl.get(loss)(Y, P, convention=convention)
    assert str(error.value) == f"loss '{loss}' has no '{convention}' convention; it has: {has}"


# --- through the command line -------------------------------------------------------------------------------------


def test_cli_list_columns_are_samples_and_empty_ones_are_noticed(
    cli: Callable[..., Any], write: Callable[[str, str], Path]
) -> None:
    path = write("masks.jsonl", '{"y": [1, 1, 0, 0], "p": [1, 0.5, 0.5, 0]}\n{"y": [0, 0, 0, 0], "p": [0, 0, 0, 0]}\n')
    run = cli("eval", path, "-l", "dice:smooth=0", "--pred", "p", "--target", "y", "--format", "json")
    assert run.code == 0, run.err
    # row 1: 1 - 3 / 4; row 2: 0/0, counted as perfect; mean (0.25 + 0) / 2
    assert json.loads(run.out)["results"][0]["value"] == 0.125
    assert "dice:smooth=0: 1 sample with empty prediction and target counted as perfect (loss 0; smooth=0)" in run.err


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_cli_per_sample_writes_each_samples_loss(cli: Callable[..., Any], tmp_path: Path, suffix: str) -> None:
    """--per-sample with dice on list columns was exit 2 "none of the selected losses (dice) has per-row values":
    each row's loss is written, and their weighted mean is the value reported (eval, --by, compare)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = np.array([Y, [0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]])
    pred = np.array([P, [0.2, 0.9, 0.4, 0.7], [0.1, 0.0, 0.3, 0.0], [0.6, 0.1, 0.0, 0.8]])
    weight, group = [1.0, 2.0, 0.5, 4.0], ["a", "b", "a", "b"]
    path = tmp_path / "masks.parquet"
    columns = {"y": list(target), "p": list(pred), "q": list(pred * 0.5), "w": weight, "g": group}
    pq.write_table(pa.table(columns), path)
    expected = lossctl.get("dice").per_sample(target, pred)
    np.testing.assert_allclose(expected[0], 0.2, rtol=1e-15)  # the example of dice's docstring
    out = tmp_path / f"rows{suffix}"
    run = cli("eval", path, "--pred", "p", "--target", "y", "-l", "dice", "-l", "mse", "--weight", "w", "--by", "g",
              "--per-sample", out, "-f", "json", "-q")  # fmt: skip
    assert run.code == 0, run.err
    rows = _read_rows(out)
    assert list(rows) == ["row", "dice", "mse"] and rows["row"].tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(rows["dice"], expected, rtol=1e-15)
    values = {(r["loss"], (r["group"] or {}).get("g")): r["value"] for r in json.loads(run.out)["results"]}
    assert values["dice", None] == pytest.approx(np.average(expected, weights=weight), rel=1e-12)
    in_a = np.array(group) == "a"
    assert values["dice", "a"] == pytest.approx(np.average(expected[in_a], weights=np.array(weight)[in_a]), rel=1e-12)
    run = cli("compare", path, "--model", "a=p", "--model", "b=q", "--target", "y", "-l", "dice", "--per-sample", out,
              "-q")  # fmt: skip
    assert run.code == 0, run.err
    rows = _read_rows(out)
    halved = lossctl.get("dice").per_sample(target, pred * 0.5)
    assert list(rows) == ["row", "dice@a", "dice@b", "dice:delta@b"]
    np.testing.assert_allclose(rows["dice:delta@b"], halved - expected, rtol=1e-12)


def _read_rows(path: Path) -> dict[str, np.ndarray]:
    """A --per-sample file's columns."""
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    read = {".csv": pacsv.read_csv, ".parquet": pq.read_table, ".jsonl": pajson.read_json}[path.suffix]
    return {name: np.asarray(column) for name, column in read(path).to_pydict().items()}


def test_cli_per_sample_of_scalar_columns_is_refused_or_left_out_with_the_reason(
    cli: Callable[..., Any], write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """One pixel per row: the whole input is one sample, with no per-row value. Alone, a usage error that says so
    (it was "none of the selected losses (dice) has per-row values"); beside mse, left out with a notice (there was
    none: the notice named only the losses that are aggregates whatever the binding)."""
    path = write("pixels.csv", "y,p\n1,1\n1,0.5\n0,0.5\n0,0\n")
    out = tmp_path / "rows.csv"
    run = cli("eval", path, "--pred", "p", "--target", "y", "-l", "dice", "--per-sample", out)
    assert run.code == ExitCode.USAGE and not out.exists()
    assert run.err == f"error: --per-sample: none of the selected losses has per-row values: dice {ONE_SAMPLE}\n"
    run = cli("eval", path, "--pred", "p", "--target", "y", "-l", "dice", "-l", "mse", "--per-sample", out)
    assert run.code == 0, run.err
    assert f"notice: --per-sample: dice {ONE_SAMPLE}; left out of {out}\n" in run.err
    assert list(_read_rows(out)) == ["row", "mse"]


def test_cli_scalar_columns_score_each_group_as_one_sample(
    cli: Callable[..., Any], write: Callable[[str, str], Path]
) -> None:
    path = write("pixels.csv", "y,p,g\n1,1,a\n1,0.5,a\n0,0.5,b\n0,0,b\n")
    run = cli("eval", path, "-l", "dice", "--pred", "p", "--target", "y", "--by", "g", "--format", "json")
    assert run.code == 0, run.err
    values = [result["value"] for result in json.loads(run.out)["results"]]
    # all: 0.2 (the example); a: TP = 1.5, FN = 0.5: 0.5 / (3 + 0.5 + 1); b: FP = 0.5: 0.5 / (0.5 + 1)
    np.testing.assert_allclose(values, [0.2, 1 / 9, 1 / 3], rtol=1e-15)
    run = cli("eval", path, "-l", "dice", "--pred", "p", "--target", "y", "--reduction", "sum")
    assert run.code == ExitCode.USAGE
    assert "loss 'dice' over scalar columns (one pixel per row) scores the whole input as one sample" in run.err


def test_cli_groups_of_scalar_columns_that_are_empty_samples_are_noticed(
    cli: Callable[..., Any], write: Callable[[str, str], Path]
) -> None:
    """Each --by group of scalar columns is one sample: an empty one (prediction and target all 0) with smooth=0 is
    counted as perfect and said so, as an empty whole input is (it was 0 with no notice), naming the groups (the
    first 20, then their number)."""
    path = write("pixels.csv", "pred,target,g,h\n0,0,a,x\n0.5,1,b,x\n0,0,b,y\n")
    run = cli("eval", path, "-l", "dice:smooth=0", "--by", "g", "--format", "json")
    assert run.code == 0, run.err
    assert [result["value"] for result in json.loads(run.out)["results"]] == [1 / 3, 0.0, 1 / 3]
    assert (
        "notice: dice:smooth=0: 1 group (g=a) with empty prediction and target counted as perfect (loss 0; smooth=0)\n"
        in run.err
    )
    run = cli("eval", path, "-l", "jaccard:smooth=0", "--by", "g", "--by", "h", "--format", "json")
    assert run.code == 0, run.err
    assert (
        "notice: jaccard:smooth=0: 2 groups (g=a, h=x; g=b, h=y) with empty prediction and target counted as perfect "
        "(loss 0; smooth=0)\n" in run.err
    )
    many = write("many.csv", "pred,target,g\n" + "".join(f"0,0,k{i:02}\n" for i in range(25)) + "0.5,1,z\n")
    run = cli("eval", many, "-l", "tversky:smooth=0", "--by", "g", "--format", "json")
    assert run.code == 0, run.err
    listed = ", ".join(f"g=k{i:02}" for i in range(20))
    counted = "with empty prediction and target counted as perfect (loss 0; smooth=0)"
    assert f"notice: tversky:smooth=0: 25 groups ({listed}, ... (25 groups)) {counted}\n" in run.err
    # smooth=1 (the default) scores an empty sample s / s by itself: nothing to say
    run = cli("eval", path, "-l", "dice", "--by", "g", "--format", "json")
    assert run.code == 0 and "counted as perfect" not in run.err


# --- properties ----------------------------------------------------------------------------------------------------

unit = st.floats(0.0, 1.0)
label = st.sampled_from([0.0, 1.0])
pixels = st.lists(st.tuples(label, unit), min_size=1, max_size=30)
smooth = st.sampled_from([0.0, 0.5, 1.0, 10.0])


def split(rows: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    target, pred = zip(*rows, strict=True)
    return np.array(target), np.array(pred)


@given(pixels, smooth, st.floats(0.0, 2.0), st.floats(0.0, 2.0))
def test_losses_lie_in_0_1(rows: list[tuple[float, float]], s: float, alpha: float, beta: float) -> None:
    y, p = split(rows)
    values = [
        lossctl.get("dice")(y, p, smooth=s),
        lossctl.get("jaccard")(y, p, smooth=s),
        lossctl.get("tversky")(y, p, alpha=alpha, beta=beta, smooth=s),
        lossctl.get("focal_tversky")(y, p, alpha=alpha, beta=beta, smooth=s, gamma=2.0),
    ]
    assert all(0.0 <= v <= 1.0 for v in values)


@given(pixels, smooth)
def test_tversky_contains_dice_and_jaccard(rows: list[tuple[float, float]], s: float) -> None:
    y, p = split(rows)
    tversky = lossctl.get("tversky")
    # (TP + s) / (TP + FP / 2 + FN / 2 + s) = (2 TP + 2 s) / (2 TP + FP + FN + 2 s): dice with smooth 2 s
    assert_close(tversky(y, p, smooth=s), lossctl.get("dice")(y, p, smooth=2 * s))
    assert_close(tversky(y, p, alpha=1.0, beta=1.0, smooth=s), lossctl.get("jaccard")(y, p, smooth=s))
    assert_close(lossctl.get("focal_tversky")(y, p, smooth=s, gamma=1.0), tversky(y, p, smooth=s))
    assert lossctl.get("jaccard")(y, p, smooth=s) >= lossctl.get("dice")(y, p, smooth=s)


@given(pixels, smooth, st.sampled_from(SEGMENTATION))
def test_one_row_of_vector_columns_is_the_whole_input(rows: list[tuple[float, float]], s: float, loss: str) -> None:
    y, p = split(rows)
    spec = lossctl.get(loss)
    assert spec([y], [p], smooth=s) == spec(y, p, smooth=s)


@given(pixels, st.randoms(use_true_random=False), st.sampled_from(SEGMENTATION))
def test_pixel_order_does_not_matter(rows: list[tuple[float, float]], random: Any, loss: str) -> None:
    y, p = split(rows)
    order = list(range(len(y)))
    random.shuffle(order)
    assert_close(lossctl.get(loss)(y[order], p[order]), lossctl.get(loss)(y, p))


@settings(max_examples=50)
@given(
    st.lists(st.tuples(label, unit, st.integers(0, 3)), min_size=1, max_size=15).filter(
        lambda rows: any(w for *_, w in rows)
    ),
    st.sampled_from(SEGMENTATION),
)
def test_integer_pixel_weights_repeat_pixels(rows: list[tuple[float, float, int]], loss: str) -> None:
    y, p, w = (np.array(column) for column in zip(*rows, strict=True))
    repeated = np.repeat(np.arange(len(y)), w.astype(int))
    spec = lossctl.get(loss)
    assert_close(spec(y, p, sample_weight=w), spec(y[repeated], p[repeated]))


@given(st.lists(st.lists(st.tuples(label, unit), min_size=4, max_size=4), min_size=2, max_size=8), st.data())
def test_chunks_merge_to_the_whole(rows: list[list[tuple[float, float]]], data: st.DataObject) -> None:
    target = np.array([[y for y, _ in row] for row in rows])
    pred = np.array([[p for _, p in row] for row in rows])
    cut = data.draw(st.integers(1, len(rows) - 1))
    for t, p in ((target, pred), (target.reshape(-1), pred.reshape(-1))):
        k = cut if t.ndim == 2 else cut * 4
        stats = stats_of("dice", t[:k], p[:k], smooth=0.0) + stats_of("dice", t[k:], p[k:], smooth=0.0)
        assert_close(finalize("dice", stats, smooth=0.0), lossctl.get("dice")(t, p, smooth=0.0))
