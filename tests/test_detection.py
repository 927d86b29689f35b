"""The detection (box) losses: golden references, hand-computed values, edges, errors and properties.

The golden cases come from tests/reference/generate_detection.py (torchvision's generalized_box_iou_loss,
distance_box_iou_loss and complete_box_iou_loss written out from their sources in torch float64); each must
agree to 1e-9 relative.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lossctl
from lossctl.errors import DomainError, ExitCode, InputError, UsageError
from tests.golden import load_cases

CASES = load_cases("detection")
DETECTION = ("box_iou", "giou", "diou", "ciou")
EPS = 1e-7


def assert_close(actual: float, expected: float) -> None:
    """1e-9 relative; an expected 0 is compared absolutely (1e-12)."""
    if expected == 0.0:
        assert abs(actual) <= 1e-12, f"{actual!r} != 0"
    else:
        assert abs(actual - expected) <= 1e-9 * abs(expected), f"{actual!r} != {expected!r}"


def rows(loss: str, target: Any, pred: Any, **params: Any) -> np.ndarray:
    return lossctl.get(loss).per_sample(target, pred, **params)


# --- golden references -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden(case: dict[str, Any]) -> None:
    spec = lossctl.get(case["loss"])
    arrays = [case["inputs"][role] for role in spec.role_names]
    options = {"convention": case["convention"], **case["params"]}
    value = spec(*arrays, sample_weight=case["sample_weight"], reduction=case["reduction"], **options)
    assert_close(value, case["expected"])
    per_row = spec.per_sample(*arrays, **options)
    assert len(per_row) == len(case["expected_per_sample"])
    for actual, expected in zip(per_row, case["expected_per_sample"], strict=True):
        assert_close(float(actual), expected)


def test_every_loss_and_convention_has_a_golden_case() -> None:
    covered = {(lossctl.get(case["loss"]).name, case["convention"]) for case in CASES}
    for spec in lossctl.list_losses("detection"):
        for convention in ("lossctl", *spec.conventions):
            assert (spec.name, convention) in covered, f"no golden case for {spec.name} --convention {convention}"


# --- registration --------------------------------------------------------------------------------------------------


def test_the_detection_losses_are_registered() -> None:
    for name in DETECTION:
        spec = lossctl.get(name)
        assert set(spec.conventions) == (set() if name == "box_iou" else {"torch"}), name
        assert spec.doc and "Example" in spec.doc, name
        assert spec.summary and spec.formula and spec.follows and spec.when, name
        assert [(r.name, r.shape) for r in spec.roles] == [("target", "vector"), ("pred", "vector")], name
        assert [p.name for p in spec.params] == ["eps"] and spec.param("eps").default == EPS, name
        assert spec.per_row and spec.aggregate.reductions == ("mean", "sum"), name


# --- hand-computed values ------------------------------------------------------------------------------------------

HAND = [
    # inter 1 (the square [1, 2]^2), union 4 + 4 - 1 = 7
    ("box_iou", [0, 0, 2, 2], [1, 1, 3, 3], 1 - 1 / (7 + EPS)),
    # disjoint unit squares 1 apart: iou 0, enclosing box 3 x 1 of which 1 is empty: 1 + 1 / (3 + eps)
    ("giou", [0, 0, 1, 1], [2, 0, 3, 1], 1 + 1 / (3 + EPS)),
    # the same pair: centres 2 apart, enclosing diagonal^2 = 9 + 1: 1 + 4 / (10 + eps)
    ("diou", [0, 0, 1, 1], [2, 0, 3, 1], 1 + 4 / (10 + EPS)),
    # a 2 x 1 target and the unit square in its left half: iou 1 / (2 + eps), rho^2 = 0.25, c^2 = 5,
    # v = (4 / pi^2)(atan 2 - atan 1)^2, alpha = v / (1 - iou + v + eps)
    (
        "ciou",
        [0, 0, 2, 1],
        [0, 0, 1, 1],
        (lambda iou, v: 1 - iou + 0.25 / (5 + EPS) + v / (1 - iou + v + EPS) * v)(
            1 / (2 + EPS), 4 / math.pi**2 * (math.atan(2.0) - math.atan(1.0)) ** 2
        ),
    ),
    # one box inside the other, same centre: giou = box_iou (the enclosing box is the outer one): 1 - 4 / (16 + eps)
    ("giou", [0, 0, 4, 4], [1, 1, 3, 3], 1 - 4 / (16 + EPS)),
    ("diou", [0, 0, 4, 4], [1, 1, 3, 3], 1 - 4 / (16 + EPS)),
    # touching along an edge: torchvision counts no intersection, union 2, enclosing box 2 x 1 with nothing empty
    ("giou", [0, 0, 1, 1], [1, 0, 2, 1], 1.0),
]


@pytest.mark.parametrize(("loss", "target", "pred", "expected"), HAND, ids=[h[0] for h in HAND])
def test_hand_computed(loss: str, target: list[float], pred: list[float], expected: float) -> None:
    assert_close(lossctl.get(loss)([target], [pred]), expected)


@pytest.mark.parametrize("loss", DETECTION)
def test_identical_boxes_cost_eps_over_the_area(loss: str) -> None:
    # iou = A / (A + eps), every penalty is 0: 1 - A / (A + eps) for a 2 x 5 box
    box = [[1.0, 1.0, 3.0, 6.0]]
    assert_close(lossctl.get(loss)(box, box), 1 - 10 / (10 + EPS))


@pytest.mark.parametrize("loss", ["box_iou", "giou", "diou"])
def test_zero_area_boxes_are_finite(loss: str) -> None:
    # a point and a segment: no intersection or union, so iou = 0 / (0 + eps) = 0
    point, segment = [[1.0, 1.0, 1.0, 1.0]], [[0.0, 0.0, 2.0, 0.0]]
    assert lossctl.get(loss)(point, point) == 1.0
    assert math.isfinite(lossctl.get(loss)(segment, point))


def test_ciou_takes_a_zero_height_as_a_right_angle() -> None:
    # a flat pred under a unit-square target: atan(1 / 1) vs atan(2 / 0) = pi / 2, so v = (4 / pi^2)(pi / 4)^2 = 1/4
    target, pred = [[0.0, 0.0, 1.0, 1.0]], [[0.0, 0.0, 2.0, 0.0]]
    iou = 0 / (2 + EPS)
    diou = 1 - iou + (0.5**2 + 0.5**2) / (2**2 + 1**2 + EPS)
    assert_close(lossctl.get("ciou")(target, pred), diou + 0.25 / (1 - iou + 0.25 + EPS) * 0.25)


def test_ciou_passes_eps_to_alpha_only() -> None:
    # torchvision's complete_box_iou_loss keeps _diou_iou_loss's eps = 1e-7: with eps = 0.5, only alpha changes
    target, pred = [[0.0, 0.0, 2.0, 1.0]], [[0.0, 0.0, 1.0, 1.0]]
    iou = 1 / (2 + EPS)
    v = 4 / math.pi**2 * (math.atan(2.0) - math.atan(1.0)) ** 2
    expected = 1 - iou + 0.25 / (5 + EPS) + v / (1 - iou + v + 0.5) * v
    assert_close(lossctl.get("ciou")(target, pred, eps=0.5), expected)
    assert_close(lossctl.get("diou")(target, pred, eps=0.5), 1 - 1 / 2.5 + 0.25 / 5.5)


def test_weights_and_sum() -> None:
    target = [[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]]
    pred = [[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 1.0, 1.0]]
    first, second = 1 - 1 / (7 + EPS), 1 - 1 / (1 + EPS)
    assert_close(lossctl.get("box_iou")(target, pred, sample_weight=[3.0, 1.0]), (3 * first + second) / 4)
    assert_close(lossctl.get("box_iou")(target, pred, sample_weight=[3.0, 1.0], reduction="sum"), 3 * first + second)


# --- errors --------------------------------------------------------------------------------------------------------

SIZES = "box widths x2 - x1 and heights y2 - y1 >= 0"


@pytest.mark.parametrize("loss", DETECTION)
def test_inverted_boxes_are_input_errors(loss: str) -> None:
    good = [0.0, 0.0, 1.0, 1.0]
    with pytest.raises(DomainError) as error:
        lossctl.get(loss)([good, good, good], [good, [2.0, 0.0, 1.0, 1.0], [0.0, 3.0, 4.0, 0.5]])
    assert str(error.value) == f"'pred': expected {SIZES}, got -1 in 2 rows (first: row 1)"
    assert error.value.exit_code == ExitCode.INPUT
    with pytest.raises(DomainError) as error:
        lossctl.get(loss)([good, [0.0, 3.0, 4.0, 0.5]], [good, good])
    assert str(error.value) == f"'target': expected {SIZES}, got -2.5 in 1 row (first: row 1)"


@pytest.mark.parametrize("role", ["pred", "target"])
def test_ciou_rejects_point_boxes(role: str) -> None:
    boxes = {"target": [[0.0, 0.0, 1.0, 1.0]] * 3, "pred": [[0.0, 0.0, 1.0, 1.0]] * 3}
    boxes[role] = [[0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0], [0.0, 0.0, 1.0, 0.0]]
    with pytest.raises(DomainError) as error:
        lossctl.get("ciou")(**boxes)
    assert str(error.value) == (
        f"'{role}': expected boxes with a width or height > 0 (ciou: a point's aspect ratio is 0/0), got 0 "
        "in 1 row (first: row 1)"
    )


@pytest.mark.parametrize(("width", "role"), [(3, "pred"), (5, "target")])
def test_boxes_need_4_values(width: int, role: str) -> None:
    boxes = {"target": [[0.0, 0.0, 1.0, 1.0]], "pred": [[0.0, 0.0, 1.0, 1.0]]}
    boxes[role] = [[0.0] * width]
    with pytest.raises(InputError) as error:
        lossctl.get("giou")(**boxes)
    assert str(error.value) == f"'{role}' must hold 4 values per row (x1, y1, x2, y2), got {width}"
    assert not isinstance(error.value, DomainError)


def test_a_scalar_column_is_not_a_box() -> None:
    # The engine hands a vector role bound to one scalar column over as a 1-D array.
    with pytest.raises(InputError) as error:
        lossctl.get("box_iou").func(np.zeros((2, 4)), np.zeros(2), eps=EPS)
    assert str(error.value) == "'pred' must hold 4 values per row (x1, y1, x2, y2), got 1"


def test_parameter_errors() -> None:
    box = [[0.0, 0.0, 1.0, 1.0]]
    with pytest.raises(UsageError) as error:
        lossctl.get("giou")(box, box, eps=0.0)
    assert str(error.value) == "giou: parameter 'eps' must be > 0, got 0"
    with pytest.raises(UsageError) as error:
        lossctl.get("box_iou")(box, box, convention="torch")
    assert str(error.value) == "loss 'box_iou' has no 'torch' convention; it has: lossctl"
    with pytest.raises(UsageError) as error:
        lossctl.get("ciou")(box, box, convention="keras")
    assert str(error.value) == "loss 'ciou' has no 'keras' convention; it has: lossctl, torch"


# --- through the command line -------------------------------------------------------------------------------------


def test_cli_binds_four_columns_per_box(cli: Callable[..., Any], write: Callable[[str, str], Path]) -> None:
    path = write("boxes.csv", "x1,y1,x2,y2,a1,b1,a2,b2\n0,0,2,2,1,1,3,3\n0,0,1,1,2,0,3,1\n")
    boxes = ("--col", "target=x1,y1,x2,y2", "--col", "pred=a1,b1,a2,b2")
    run = cli("eval", path, "-l", "box_iou", *boxes, "--format", "json")
    assert run.code == 0, run.err
    # rows 1 - 1 / (7 + eps) and 1 - 0
    assert_close(json.loads(run.out)["results"][0]["value"], (1 - 1 / (7 + EPS) + 1) / 2)
    run = cli("eval", path, "-l", "giou", "--col", "target=x1,y1,x2,y2", "--col", "pred=a1,b1,a2")
    assert run.code == ExitCode.INPUT
    assert "'pred' must hold 4 values per row (x1, y1, x2, y2), got 3" in run.err
    bad = write("bad.csv", "x1,y1,x2,y2,a1,b1,a2,b2\n0,0,2,2,1,1,3,3\n0,0,1,1,3,0,2,1\n")
    run = cli("eval", bad, "-l", "giou", *boxes)
    assert run.code == ExitCode.INPUT
    assert "expected box widths x2 - x1 and heights y2 - y1 >= 0, got -1 in 1 row (first: row 1)" in run.err


# --- properties ----------------------------------------------------------------------------------------------------

coordinate = st.floats(-1e3, 1e3, allow_nan=False)
size = st.floats(0.01, 1e3)


@st.composite
def box_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 10))

    def boxes() -> np.ndarray:
        corners = np.array(draw(st.lists(st.tuples(coordinate, coordinate), min_size=n, max_size=n)))
        sizes = np.array(draw(st.lists(st.tuples(size, size), min_size=n, max_size=n)))
        return np.hstack([corners, corners + sizes])

    return boxes(), boxes()


@given(box_pairs())
def test_the_losses_are_ordered_and_bounded(pair: tuple[np.ndarray, np.ndarray]) -> None:
    target, pred = pair
    iou, giou, diou, ciou = (rows(loss, target, pred) for loss in DETECTION)
    slack = 1e-12
    assert ((iou >= -slack) & (iou <= 1 + slack)).all()
    assert ((giou >= iou - slack) & (giou < 2)).all()
    assert ((diou >= iou - slack) & (diou < 2)).all()
    assert ((ciou >= diou - 1e-9) & (ciou < 3)).all()


@given(box_pairs())
def test_the_losses_are_symmetric(pair: tuple[np.ndarray, np.ndarray]) -> None:
    target, pred = pair
    for loss in DETECTION:
        np.testing.assert_allclose(rows(loss, target, pred), rows(loss, pred, target), rtol=1e-12, atol=1e-15)


@given(box_pairs(), st.floats(-1e3, 1e3), st.floats(-1e3, 1e3))
def test_the_losses_are_translation_invariant(pair: tuple[np.ndarray, np.ndarray], dx: float, dy: float) -> None:
    target, pred = pair
    shift = np.array([dx, dy, dx, dy])
    for loss in DETECTION:
        np.testing.assert_allclose(rows(loss, target + shift, pred + shift), rows(loss, target, pred), atol=1e-9)


@given(box_pairs())
def test_disjoint_boxes_have_iou_loss_1(pair: tuple[np.ndarray, np.ndarray]) -> None:
    target, pred = pair
    # move every pred box to the right of its target
    pred = pred + np.repeat(target[:, 2:3] - pred[:, 0:1] + 1.0, 4, axis=1) * np.array([1, 0, 1, 0])
    np.testing.assert_array_equal(rows("box_iou", target, pred), 1.0)
    assert (rows("giou", target, pred) > 1.0).all()
