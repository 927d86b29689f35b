"""The binary-classification losses: golden references, hand-computed values, domain and parameter errors,
and properties.

The golden cases come from tests/reference/generate_binary.py (torch, scikit-learn, and the torchvision and
Keras formulas written out from their sources); each must agree to 1e-9 relative.
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
from lossctl.errors import DomainError, UsageError
from tests.golden import load_cases

CASES = load_cases("binary")
LN2 = math.log(2.0)
EPS = float(np.finfo(np.float64).eps)


def evaluate(case: dict[str, Any]) -> tuple[float, np.ndarray | None]:
    spec = lossctl.get(case["loss"])
    arrays_ = [case["inputs"][role] for role in spec.role_names]
    value = spec(
        *arrays_,
        sample_weight=case["sample_weight"],
        reduction=case["reduction"],
        convention=case["convention"],
        **case["params"],
    )
    rows = None
    if case["expected_per_sample"] is not None:
        rows = spec.per_sample(*arrays_, convention=case["convention"], **case["params"])
    return value, rows


# --- golden references -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden(case: dict[str, Any]) -> None:
    value, rows = evaluate(case)
    np.testing.assert_allclose(value, case["expected"], rtol=1e-9, atol=0, err_msg=case["reference"])
    if rows is not None:
        np.testing.assert_allclose(rows, case["expected_per_sample"], rtol=1e-9, atol=0, err_msg=case["reference"])


def test_every_loss_and_convention_has_a_golden_case() -> None:
    covered = {(lossctl.get(case["loss"]).name, case["convention"]) for case in CASES}
    for spec in lossctl.list_losses("binary"):
        for convention in ("lossctl", *spec.conventions):
            assert (spec.name, convention) in covered, f"no golden case for {spec.name} --convention {convention}"


def test_the_binary_losses_are_registered_with_their_aliases_and_conventions() -> None:
    assert lossctl.get("log_loss") is lossctl.get("bce")
    assert lossctl.get("Binary_Cross_Entropy") is lossctl.get("bce")
    expected = {
        "bce": {"sklearn", "torch", "keras"},
        "bce_logits": {"torch", "keras"},
        "brier": {"sklearn"},
        "hinge": {"sklearn", "keras"},
        "squared_hinge": {"keras"},
        "focal": {"torch", "keras"},
    }
    for name, conventions in expected.items():
        spec = lossctl.get(name)
        assert set(spec.conventions) == conventions, name
        assert spec.doc and "Example" in spec.doc, name
        assert spec.per_row, name


# --- hand-computed values ----------------------------------------------------------------------------------------


def test_bce_by_hand() -> None:
    # rows: -log 0.5 = ln 2 and -log(1 - 0.2) = ln 1.25; mean (ln 2 + ln 1.25) / 2 = 0.458145...
    assert lossctl.get("bce")([1, 0], [0.5, 0.2]) == pytest.approx((LN2 + math.log(1.25)) / 2, rel=1e-15)


def test_bce_clips_to_machine_epsilon_as_sklearn() -> None:
    rows = lossctl.get("bce").per_sample([1, 0, 0, 1], [0.0, 1.0, 0.0, 1.0])
    # A certain wrong answer costs -log(eps) = -log(2^-52) = 52 ln 2 = 36.04; a certain right one costs
    # -log(1 - eps), about eps, not 0 (sklearn clips both columns [1 - p, p] to [eps, 1 - eps]).
    np.testing.assert_allclose(rows, [52 * LN2, 52 * LN2, EPS, EPS], rtol=1e-15)


def test_bce_clips_one_minus_p_after_the_subtraction() -> None:
    # p = 1 - 2^-53 and y = 0: 1 - p = 2^-53 is clipped up to eps = 2^-52, so the loss is 52 ln 2, not 53 ln 2.
    assert lossctl.get("bce").per_sample([0], [1 - 2.0**-53])[0] == pytest.approx(52 * LN2, rel=1e-15)


def test_bce_conventions_by_hand() -> None:
    bce = lossctl.get("bce")
    # torch caps log(0) at -100; Keras clips p to 1e-7, so -log(1e-7) = 7 ln 10 = 16.118.
    assert bce([1], [0.0], convention="torch") == 100.0
    assert bce([1], [0.0], convention="keras") == pytest.approx(7 * math.log(10), rel=1e-12)
    assert bce([1], [0.0], convention="sklearn") == pytest.approx(52 * LN2, rel=1e-15)
    # Weighted means: w = [3, 1], rows [ln 2, ln 2]: lossctl/sklearn 4 ln 2 / 4; torch and Keras 4 ln 2 / 2.
    for convention, expected in (("lossctl", LN2), ("sklearn", LN2), ("torch", 2 * LN2), ("keras", 2 * LN2)):
        value = bce([1, 0], [0.5, 0.5], sample_weight=[3, 1], convention=convention)
        assert value == pytest.approx(expected, rel=1e-15), convention


def test_bce_label_smoothing_by_hand() -> None:
    # e = 0.2 turns y = 1 into 0.9: -(0.9 ln 0.9 + 0.1 ln 0.1) = 0.325083
    expected = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert lossctl.get("bce")([1], [0.9], label_smoothing=0.2) == pytest.approx(expected, rel=1e-14)
    # e = 1 makes every target 0.5: -ln(0.5) at p = 0.5 whatever the label.
    assert lossctl.get("bce")([0, 1], [0.5, 0.5], label_smoothing=1.0) == pytest.approx(LN2, rel=1e-15)


def test_bce_logits_by_hand() -> None:
    rows = lossctl.get("bce_logits").per_sample([1, 0, 1, 0, 1, 0], [0.0, 1e4, -1e4, -1e4, 1e4, 0.0])
    # x = 0: ln 2; confident wrong logits of 1e4 cost exactly 1e4; confident right ones exp(-1e4) = 0.
    np.testing.assert_array_equal(rows, [LN2, 1e4, 1e4, 0.0, 0.0, LN2])


def test_bce_logits_keeps_the_digits_of_tiny_losses() -> None:
    # y = 0, x = -40: the loss is log1p(exp(-40)) = 4.248e-18, which (1 - y) x - log_sigmoid(x) rounds to 0.
    assert lossctl.get("bce_logits").per_sample([0], [-40.0])[0] == pytest.approx(math.exp(-40), rel=1e-15)


def test_bce_logits_pos_weight_by_hand() -> None:
    # pos_weight multiplies the positive term only: y = 1, x = 0 gives 3 ln 2; y = 0, x = 0 stays ln 2;
    # y = 1, x = -1e4 gives 3e4.
    rows = lossctl.get("bce_logits").per_sample([1, 0, 1], [0.0, 0.0, -1e4], pos_weight=3.0)
    np.testing.assert_allclose(rows, [3 * LN2, LN2, 3e4], rtol=1e-15)


def test_brier_by_hand() -> None:
    # rows (0.9 - 1)^2 = 0.01 and 0.4^2 = 0.16: mean 0.085
    assert lossctl.get("brier")([1, 0], [0.9, 0.4]) == pytest.approx(0.085, rel=1e-14)


@pytest.mark.parametrize("labels", [[1, 0, 1], [1, -1, 1]], ids=["0/1", "-1/1"])
def test_hinge_by_hand(labels: list[int]) -> None:
    # t = [1, -1, 1], x = [2, 0.5, -1]: rows max(0, 1 - 2) = 0, 1 + 0.5 = 1.5, 1 + 1 = 2; mean 3.5 / 3
    assert lossctl.get("hinge")(labels, [2.0, 0.5, -1.0]) == pytest.approx(7 / 6, rel=1e-15)
    # margin 2: rows 0, 2.5, 3; mean 5.5 / 3
    assert lossctl.get("hinge")(labels, [2.0, 0.5, -1.0], margin=2.0) == pytest.approx(5.5 / 3, rel=1e-15)
    # squared: 0, 2.25, 4; mean 25 / 12
    assert lossctl.get("squared_hinge")(labels, [2.0, 0.5, -1.0]) == pytest.approx(25 / 12, rel=1e-15)


def test_hinge_single_class_column_is_the_positive_class() -> None:
    # All labels 1 read as t = +1 under both label sets: rows max(0, 1 - 0.5) = 0.5 and max(0, 1 + 1) = 2.
    np.testing.assert_array_equal(lossctl.get("hinge").per_sample([1, 1], [0.5, -1.0]), [0.5, 2.0])


def test_soft_margin_torch_takes_plus_minus_one_labels_only(cli, write) -> None:
    # torch.nn.SoftMarginLoss()(x, y) reads y as the sign itself: with y = [0, 1], x = [2, 3] torch reports
    # (log 2 + log1p(exp(-3))) / 2 = 0.37087, while --convention torch gave lossctl's 0 -> -1 number,
    # (log1p(exp(2)) + log1p(exp(-3))) / 2 = 1.0877..., a value torch never prints. It is now an input error.
    soft_margin = lossctl.get("soft_margin")
    assert soft_margin([0, 1], [2.0, 3.0]) == pytest.approx((math.log1p(math.exp(2)) + math.log1p(math.exp(-3))) / 2)
    # torch.nn.SoftMarginLoss()(torch.tensor([2., 3.]), torch.tensor([-1., 1.])) == 1.0877576813083574
    assert soft_margin([-1, 1], [2.0, 3.0], convention="torch") == pytest.approx(1.0877576813083574, rel=1e-15)
    with pytest.raises(DomainError, match=r"^'target': expected labels 1 or -1 \(torch's SoftMarginLoss"):
        soft_margin([0, 1], [2.0, 3.0], convention="torch")
    path = write("labels.csv", "y,x\n0,2\n1,3\n")
    run = cli("eval", path, "-l", "soft_margin", "--pred", "x", "--target", "y", "--convention", "torch")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: soft_margin: column 'y' (target): expected labels 1 or -1 (torch's SoftMarginLoss costs a 0 label "
        "log 2 whatever the score; --convention lossctl maps 0/1 labels to -1/1), got 0 in 1 row (first: row 0)\n"
    )


def test_focal_by_hand() -> None:
    # x = 0: p = 0.5 so p_t = 0.5, (1 - p_t)^2 = 0.25 and bce = ln 2; alpha_t = 0.25 for y = 1, 0.75 for y = 0.
    rows = lossctl.get("focal").per_sample([1, 0], [0.0, 0.0])
    np.testing.assert_allclose(rows, [0.25 * 0.25 * LN2, 0.75 * 0.25 * LN2], rtol=1e-15)
    # The same on probabilities p = 0.5.
    rows = lossctl.get("focal").per_sample([1, 0], [0.5, 0.5], from_logits=False)
    np.testing.assert_allclose(rows, [0.25 * 0.25 * LN2, 0.75 * 0.25 * LN2], rtol=1e-15)


def test_focal_keeps_the_digits_of_very_confident_rows() -> None:
    # y = 1, x = 40: 1 - p_t = sigmoid(-40) ~ e^-40 and bce ~ e^-40, so the loss is 0.25 e^-120. torchvision's
    # 1 - (p y + (1 - p)(1 - y)) rounds to 0 there; lossctl forms 1 - p_t without subtracting from 1.
    assert lossctl.get("focal").per_sample([1], [40.0])[0] == pytest.approx(0.25 * math.exp(-120), rel=1e-14)


def test_focal_keras_clips_after_the_sigmoid() -> None:
    # y = 0, x = 1e4: Keras takes sigmoid(x) = 1, clips it to 1 - 1e-7 and pays -log(1 - (1 - 1e-7)) = 16.1;
    # no alpha by default. lossctl pays the exact 1e4 times alpha_t = 0.75.
    focal = lossctl.get("focal")
    keras_value = focal([0], [1e4], convention="keras", from_logits=True)
    assert keras_value == pytest.approx(-math.log(1 - (1 - 1e-7)), rel=1e-15)
    assert focal([0], [1e4]) == 7500.0


def test_focal_keras_defaults_to_probabilities_without_alpha() -> None:
    # p = 0.5: (1 - p_t)^2 = 0.25 and bce = ln 2, with no alpha_t factor.
    assert lossctl.get("focal")([1], [0.5], convention="keras") == pytest.approx(0.25 * LN2, rel=1e-15)
    # An explicit alpha turns Keras' class balancing on.
    value = lossctl.get("focal")([1], [0.5], convention="keras", alpha=0.25)
    assert value == pytest.approx(0.25 * 0.25 * LN2, rel=1e-15)


# --- domain errors -----------------------------------------------------------------------------------------------


def domain_message(role: str, expected: str, bad: float, count: int, first: int) -> str:
    rows = "row" if count == 1 else "rows"
    return f"'{role}': expected {expected}, got {bad:g} in {count} {rows} (first: row {first})"


PROBABILITIES = "probabilities in [0, 1]"
BCE_PROBABILITIES = "probabilities in [0, 1] (for logits, use bce_logits)"
FOCAL_PROBABILITIES = "probabilities in [0, 1] (for logits, use focal:from_logits=true)"
SOFT_LABELS = "labels in [0, 1]"
SKLEARN_LABELS = (
    'labels 0 or 1 (sklearn\'s log_loss takes class labels, not soft targets; convention="lossctl" takes them)'
)


@pytest.mark.parametrize(
    ("loss", "target", "pred", "params", "role", "expected", "bad", "count", "first"),
    [
        ("bce", [0, 1, 1], [0.5, 1.3, 0.2], {}, "pred", BCE_PROBABILITIES, 1.3, 1, 1),
        ("bce", [0, 1, 1], [-0.1, 0.5, -2], {}, "pred", BCE_PROBABILITIES, -0.1, 2, 0),
        ("bce", [1.5, 0, 1], [0.5, 0.5, 0.5], {}, "target", SOFT_LABELS, 1.5, 1, 0),
        ("bce_logits", [0, -1, 1], [3.0, 0.0, -50.0], {}, "target", SOFT_LABELS, -1, 1, 1),
        ("brier", [0, 0.5, 1], [0.5, 0.5, 0.5], {}, "target", "labels 0 or 1", 0.5, 1, 1),
        ("brier", [0, 1, 1], [0.5, 0.5, 1.2], {}, "pred", PROBABILITIES, 1.2, 1, 2),
        ("focal", [0, 1], [0.5, 1.5], {"from_logits": False}, "pred", FOCAL_PROBABILITIES, 1.5, 1, 1),
        ("focal", [0, 1.2], [0.5, 1.5], {}, "target", SOFT_LABELS, 1.2, 1, 1),
    ],
)
def test_values_outside_the_domain_are_input_errors(
    loss: str,
    target: list[float],
    pred: list[float],
    params: dict[str, Any],
    role: str,
    expected: str,
    bad: float,
    count: int,
    first: int,
) -> None:
    spec = lossctl.get(loss)
    message = domain_message(role, expected, bad, count, first)
    # A convention whose library lacks one of the parameters refuses it (a usage error) before reading the data.
    usable = [c for c, v in spec.conventions.items() if not set(params) & set(v.lacks)]
    for convention in ("lossctl", *usable):
        # bce_logits has no sklearn convention: bce's advice under it leaves the convention (test below).
        advised = message.replace("bce_logits)", 'bce_logits with convention="lossctl")')
        # sklearn's log_loss takes 0/1 labels only (soft targets too are refused under it: test below).
        advised = advised.replace(SOFT_LABELS, SKLEARN_LABELS) if loss == "bce" else advised
        with pytest.raises(DomainError, match=f"^{re.escape(advised if convention == 'sklearn' else message)}$"):
            spec(target, pred, convention=convention, **params)


def test_bce_under_sklearn_advises_a_logits_loss_that_takes_the_run(cli, write) -> None:
    # bce --convention sklearn on logits said "for logits, use bce_logits", and following it was a second error:
    # "loss 'bce_logits' has no 'sklearn' convention".
    path = write("logits.csv", "pred,target\n-2,0\n0.5,1\n3,1\n-1,0\n")
    run = cli("eval", path, "-l", "bce", "--convention", "sklearn", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: bce: column 'pred' (pred): expected probabilities in [0, 1] (for logits, use bce_logits with "
        "--convention lossctl), got -2 in 3 rows (first: row 0)\n"
    )
    followed = cli("eval", path, "-l", "bce_logits", "--convention", "lossctl", "-q", "-f", "json")
    assert followed.code == 0, followed.err
    x, y = np.array([-2.0, 0.5, 3.0, -1.0]), np.array([0.0, 1.0, 1.0, 0.0])
    expected = np.mean(np.logaddexp(0.0, x) - x * y)
    assert json.loads(followed.out)["results"][0]["value"] == pytest.approx(expected, rel=1e-12)


def test_bce_and_categorical_ce_under_sklearn_refuse_soft_targets(cli, write) -> None:
    """--convention sklearn on soft targets gave a number (bce 0.5, exit 0) that scikit-learn 1.9.1's log_loss
    never reports: it refuses them ("continuous" targets, "Multioutput target data is not supported")."""
    soft = write("soft.csv", "p,y,p0,p1,y0,y1\n0.9,0.7,0.1,0.9,0.3,0.7\n0.2,1,0.8,0.2,0,1\n")
    run = cli("eval", soft, "--pred", "p", "--target", "y", "-l", "bce", "--convention", "sklearn", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: bce: column 'y' (target): expected labels 0 or 1 (sklearn's log_loss takes class labels, not soft "
        "targets; --convention lossctl takes them), got 0.7 in 1 row (first: row 0)\n"
    )
    args = ["--pred", "p0,p1", "--target", "y0,y1", "-l", "categorical_ce", "-q", "-f", "json"]
    run = cli("eval", soft, *args, "--convention", "sklearn")
    assert (run.code, run.out) == (3, "")
    assert "error: categorical_ce: columns 'y0', 'y1' (target): expected labels 0 or 1 (sklearn's log_loss" in run.err
    own = cli("eval", soft, *args)
    assert own.code == 0, own.err
    expected = -(0.3 * math.log(0.1) + 0.7 * math.log(0.9) + math.log(0.2)) / 2
    assert json.loads(own.out)["results"][0]["value"] == pytest.approx(expected, rel=1e-12)
    # One-hot rows are sklearn's class labels: the same number as the class indices.
    hard = write("hard.csv", "p0,p1,y0,y1\n0.1,0.9,0,1\n0.8,0.2,1,0\n")
    run = cli("eval", hard, *args, "--convention", "sklearn")
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(-math.log(0.9) / 2 - math.log(0.8) / 2)


def test_bce_accepts_soft_targets_and_probabilities_of_exactly_0_and_1() -> None:
    assert math.isfinite(lossctl.get("bce")([0.3, 0.7, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]))


def test_focal_keras_default_rejects_logits() -> None:
    with pytest.raises(
        DomainError,
        match=re.escape("'pred': expected probabilities in [0, 1] (for logits, use focal:from_logits=true), got 3"),
    ):
        lossctl.get("focal")([1], [3.0], convention="keras")


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize(
    ("target", "bad", "count", "first"),
    [
        ([1, 0, -1, 1], -1, 1, 2),  # row 1 (0) fixes the {0, 1} reading, so the -1 is the odd one
        ([-1, 1, 0, 0], 0, 2, 2),  # row 0 (-1) fixes the {-1, 1} reading
        ([1, 0, 2, 1], 2, 1, 2),
        ([0.5, 1, 0, 1], 0.5, 1, 0),
    ],
)
def test_hinge_label_sets(loss: str, target: list[float], bad: float, count: int, first: int) -> None:
    message = domain_message("target", "labels all in {0, 1} or all in {-1, 1}", bad, count, first)
    spec = lossctl.get(loss)
    for convention in ("lossctl", *spec.conventions):
        with pytest.raises(DomainError, match=f"^{re.escape(message)}$"):
            spec(target, [0.1] * len(target), convention=convention)


@pytest.mark.parametrize("target", [[1, 1, 1], [0, 0, 0], [-1, -1, -1], [0, 1, 1], [-1, 1, 1]])
def test_hinge_accepts_a_single_label_set(target: list[float]) -> None:
    assert math.isfinite(lossctl.get("hinge")(target, [0.5, -0.3, 2.0]))


# --- parameter errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "params", "message"),
    [
        ("bce", {"eps": 0.0}, "bce: parameter 'eps' must be in (0, 0.5), got 0"),
        ("bce", {"eps": 0.5}, "bce: parameter 'eps' must be in (0, 0.5), got 0.5"),
        ("bce", {"label_smoothing": 1.5}, "bce: parameter 'label_smoothing' must be in [0, 1], got 1.5"),
        (
            "bce_logits",
            {"label_smoothing": -0.1},
            "bce_logits: parameter 'label_smoothing' must be in [0, 1], got -0.1",
        ),
        ("bce_logits", {"pos_weight": -1.0}, "bce_logits: parameter 'pos_weight' must be >= 0, got -1"),
        ("focal", {"gamma": -0.5}, "focal: parameter 'gamma' must be >= 0, got -0.5"),
        ("focal", {"alpha": 1.5}, "focal: parameter 'alpha' must be <= 1, got 1.5"),
        ("focal", {"from_logits": "yes"}, "focal: parameter 'from_logits' must be true or false, got the text 'yes'"),
        ("hinge", {"margin": float("inf")}, "hinge: parameter 'margin' must be finite, got inf"),
        ("bce", {"margin": 1.0}, "loss 'bce' has no parameter 'margin'; its parameters: eps, label_smoothing"),
        ("brier", {"eps": 1e-7}, "loss 'brier' has no parameter 'eps'; its parameters: none"),
    ],
)
def test_parameter_errors(loss: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        lossctl.get(loss)([0, 1], [0.5, 0.5], **params)


def test_eps_with_the_torch_convention_is_a_usage_error() -> None:
    message = (
        "loss 'bce' with convention torch takes no parameter 'eps' (BCELoss does not clip p, it caps each log at "
        '-100); drop eps or use convention="lossctl"'
    )
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        lossctl.get("bce")([0, 1], [0.5, 0.5], convention="torch", eps=1e-7)


@pytest.mark.parametrize(
    ("loss", "convention", "has"),
    [
        ("bce_logits", "sklearn", "lossctl, torch, keras"),
        ("brier", "torch", "lossctl, sklearn"),
        ("brier", "keras", "lossctl, sklearn"),
        ("hinge", "torch", "lossctl, sklearn, keras"),
        ("squared_hinge", "sklearn", "lossctl, keras"),
        ("focal", "sklearn", "lossctl, torch, keras"),
    ],
)
def test_a_library_without_the_loss_has_no_convention(loss: str, convention: str, has: str) -> None:
    message = f"loss '{loss}' has no '{convention}' convention; it has: {has}"
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        lossctl.get(loss)([0, 1], [0.5, 0.5], convention=convention)


def test_command_line_parameter_values() -> None:
    focal = lossctl.get("focal")
    assert focal.param("from_logits").parse("false") is False
    assert focal.param("alpha").parse("-1") == -1.0
    with pytest.raises(UsageError, match=re.escape("parameter 'gamma' must be >= 0, got -1")):
        focal.param("gamma").parse("-1")


# --- properties --------------------------------------------------------------------------------------------------

unit = st.floats(0.0, 1.0)
logits = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@st.composite
def labelled(draw: Any, values: st.SearchStrategy[float], labels: st.SearchStrategy[float] = unit) -> tuple:
    n = draw(st.integers(1, 30))
    target = draw(arrays(np.float64, n, elements=labels))
    pred = draw(arrays(np.float64, n, elements=values))
    return target, pred


@given(labelled(logits))
@settings(max_examples=200, deadline=None)
def test_focal_with_gamma_0_and_no_alpha_is_bce_logits(data: tuple) -> None:
    target, x = data
    focal = lossctl.get("focal").per_sample(target, x, gamma=0.0, alpha=-1.0)
    np.testing.assert_allclose(focal, lossctl.get("bce_logits").per_sample(target, x), rtol=1e-15, atol=0)


@given(labelled(st.floats(-10.0, 10.0)))
@settings(max_examples=200, deadline=None)
def test_bce_logits_is_bce_of_the_sigmoid(data: tuple) -> None:
    # For moderate logits sigmoid(x) rounds harmlessly and stays inside [eps, 1 - eps].
    target, x = data
    from_probabilities = lossctl.get("bce").per_sample(target, 1.0 / (1.0 + np.exp(-x)))
    np.testing.assert_allclose(lossctl.get("bce_logits").per_sample(target, x), from_probabilities, rtol=1e-9)


@given(labelled(logits))
@settings(max_examples=200, deadline=None)
def test_bce_logits_is_finite_and_non_negative_for_every_logit(data: tuple) -> None:
    target, x = data
    for loss in ("bce_logits", "focal"):
        rows = lossctl.get(loss).per_sample(target, x)
        assert np.all(np.isfinite(rows)) and np.all(rows >= 0), loss
    rows = lossctl.get("bce_logits").per_sample(target, x, pos_weight=5.0, label_smoothing=0.1)
    assert np.all(np.isfinite(rows)) and np.all(rows >= 0)


@given(labelled(unit), st.floats(0.0, 1.0))
@settings(max_examples=200, deadline=None)
def test_label_smoothing(data: tuple, smoothing: float) -> None:
    target, p = data
    bce = lossctl.get("bce")
    np.testing.assert_array_equal(bce.per_sample(target, p, label_smoothing=0.0), bce.per_sample(target, p))
    np.testing.assert_allclose(
        bce.per_sample(target, p, label_smoothing=smoothing),
        bce.per_sample(target * (1 - smoothing) + smoothing / 2, p),
        rtol=1e-15,
    )
    logits_ = lossctl.get("bce_logits")
    np.testing.assert_array_equal(logits_.per_sample(target, p, label_smoothing=0.0), logits_.per_sample(target, p))


@given(labelled(logits, st.sampled_from([0.0, 1.0])), st.floats(-3.0, 3.0))
@settings(max_examples=200, deadline=None)
def test_hinge_reads_0_1_and_minus_1_1_labels_alike(data: tuple, margin: float) -> None:
    target, x = data
    hinge = lossctl.get("hinge")
    rows = hinge.per_sample(target, x, margin=margin)
    np.testing.assert_array_equal(rows, hinge.per_sample(2 * target - 1, x, margin=margin))
    np.testing.assert_allclose(lossctl.get("squared_hinge").per_sample(target, x, margin=margin), rows**2, rtol=1e-15)


def test_hinge_label_sets_mixed_across_chunks_name_the_column_and_rows(cli, write) -> None:
    # 0/1 labels in one chunk and -1/1 in another said "hinge: the target column: ... but the input has both 0 and -1
    # labels (in different chunks)", with no column or row; now the message one chunk gives, at any chunk size: the
    # set of the first row holding 0 or -1 is intended, the rows of the other set are counted and the first named.
    path = write("mix.csv", "score,label\n0.3,0\n0.2,1\n0.5,-1\n0.1,1\n0.4,-1\n0.6,0\n")
    expected = (
        "error: {loss}: column 'label' (target): expected labels all in {{0, 1}} or all in {{-1, 1}}, got -1 in 2 rows "
        "(first: row 2)\n"
    )
    for rows in ("1", "2", "3", "4", "6"):
        run = cli("eval", path, "--pred", "score", "-l", "mse,hinge,squared_hinge", "--chunk-rows", rows, "-q")
        assert (run.code, run.out, run.err) == (3, "", expected.format(loss="hinge"))
        run = cli("eval", path, "--pred", "score", "-l", "soft_margin", "--chunk-rows", rows, "-q")
        assert (run.code, run.err) == (3, expected.format(loss="soft_margin"))
    flipped = write("flip.csv", "score,label\n0.3,-1\n0.2,1\n0.5,0\n0.1,1\n")
    run = cli("eval", flipped, "--pred", "score", "-l", "hinge", "--chunk-rows", "2", "-q")
    assert run.err == (
        "error: hinge: column 'label' (target): expected labels all in {0, 1} or all in {-1, 1}, got 0 in 1 row "
        "(first: row 2)\n"
    )


@pytest.mark.parametrize("chunk", [["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--chunk-rows", "4"], []])
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "soft_margin"])
def test_a_zero_weight_does_not_hide_a_label_set(cli, write, chunk: list[str], loss: str) -> None:
    """The labels earlier chunks held were read from their weighted counts, so a 0 label of weight 0 in one chunk
    let a -1 label in a later one through: --chunk-rows 2 gave a value (exit 0), --chunk-rows 4 the error."""
    path = write("hw.csv", "pred,target,w\n0.3,0,0\n0.2,1,1\n0.5,-1,1\n0.1,1,1\n")
    run = cli("eval", path, "-l", loss, "--weight", "w", *chunk, "-q")
    assert (run.code, run.out, run.err) == (
        3,
        "",
        f"error: {loss}: column 'target' (target): expected labels all in {{0, 1}} or all in {{-1, 1}}, got -1 in "
        "1 row (first: row 2)\n",
    )


@pytest.mark.parametrize("chunk", [["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--chunk-rows", "4"], []])
def test_keras_hinge_label_sets_are_checked_across_chunks(cli, write, chunk: list[str]) -> None:
    """Under --convention keras (its mean over the rows) the label sets of different chunks were not compared:
    0 labels in one chunk and -1 in another gave a value (exit 0) with --chunk-rows 2, the error with 4."""
    path = write("hx.csv", "pred,target\n0.3,0\n0.2,1\n0.5,-1\n0.1,1\n")
    for loss in ("hinge", "squared_hinge"):
        run = cli("eval", path, "-l", loss, "--convention", "keras", *chunk, "-q")
        assert (run.code, run.out, run.err) == (
            3,
            "",
            f"error: {loss}: column 'target' (target): expected labels all in {{0, 1}} or all in {{-1, 1}}, got -1 "
            "in 1 row (first: row 2)\n",
        )


_SETS = "expected labels all in {0, 1} or all in {-1, 1}"


@pytest.mark.parametrize(
    "chunk", [["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--chunk-rows", "3"], ["--chunk-rows", "4"], []]
)
@pytest.mark.parametrize(
    ("text", "losses", "expected"),
    [
        # A chunk of -1 then 0 after a chunk of 0 was checked alone: --chunk-rows 2 said "got 0 ... row 3".
        (
            "0.3,0\n0.2,1\n0.5,-1\n0.1,0\n",
            "hinge",
            f"hinge: column 'target' (target): {_SETS}, got -1 in 1 row (first: row 2)",
        ),
        # The -1 rows after a refused chunk were not counted: --chunk-rows 4 said "in 1 row".
        (
            "0.3,0\n0.2,1\n0.5,-1\n0.1,1\n0.3,1\n0.2,-1\n",
            "hinge",
            f"hinge: column 'target' (target): {_SETS}, got -1 in 2 rows (first: row 2)",
        ),
        # A later job's refusal in the chunk that an earlier job refuses across chunks: --chunk-rows 2 named bce.
        (
            "0.3,0\n0.2,1\n0.5,-1\n1.5,1\n",
            "hinge,bce",
            f"hinge: column 'target' (target): {_SETS}, got -1 in 1 row (first: row 2)",
        ),
        # A value outside both sets and a -1 after 0, in a chunk after the 0: both counted, the first named.
        (
            "0.3,0\n0.2,1\n0.5,-1\n0.1,2\n0.4,0\n",
            "squared_hinge",
            f"squared_hinge: column 'target' (target): {_SETS}, got -1 in 2 rows (first: row 2)",
        ),
    ],
)
def test_a_refused_chunk_is_checked_with_the_label_set_of_the_rows_before(
    cli, write, chunk: list[str], text: str, losses: str, expected: str
) -> None:
    path = write("hm.csv", "pred,target\n" + text)
    run = cli("eval", path, "-l", losses, *chunk, "-q")
    assert (run.code, run.out, run.err) == (3, "", f"error: {expected}\n")


@pytest.mark.parametrize("chunk", [["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--chunk-rows", "3"], []])
@pytest.mark.parametrize(
    ("text", "value", "first"),
    [("1.5,1\n0.5,0\n0.3,2\n0.2,1\n", "1.5", 0), ("0.5,2\n0.5,0\n1.3,1\n0.2,1\n", "1.3", 2)],
)
def test_two_checks_of_one_loss_in_different_chunks_tell_the_one_one_chunk_tells(
    cli, write, chunk: list[str], text: str, value: str, first: int
) -> None:
    """bce checks its probabilities before its labels: one chunk tells a probability of 1.5 wherever a label of 2
    is. A label refused in a later chunk than the probability replaced it (--chunk-rows 1 and 2 said "expected
    labels in [0, 1], got 2"); the loss's first check is told whatever the chunks."""
    path = write("two.csv", "pred,target\n" + text)
    run = cli("eval", path, "-l", "bce", *chunk, "-q")
    assert (run.code, run.out, run.err) == (
        3,
        "",
        "error: bce: column 'pred' (pred): expected probabilities in [0, 1] (for logits, use bce_logits), "
        f"got {value} in 1 row (first: row {first})\n",
    )


def test_the_python_api_refuses_a_mix_of_label_sets_alone() -> None:
    with pytest.raises(DomainError, match=r"got 0 in 1 row \(first: row 1\)"):
        lossctl.get("hinge").per_sample([-1, 0, 1], [0.5, 0.2, 0.1])


def test_clipped_probabilities_are_counted_in_a_notice(cli, write) -> None:
    path = write("clip.csv", "prob,label\n0,0\n1,1\n0.5,1\n1,0\n")
    run = cli("eval", path, "-l", "bce", "-f", "json")
    assert run.code == 0 and "bce: 3 rows had a probability within eps = 2.22045e-16 of 0 or 1" in run.err
    assert "clipped" not in cli("eval", path, "-l", "bce", "--convention", "torch", "-f", "json").err


@pytest.mark.parametrize(
    ("convention", "notice"),
    [
        (
            "lossctl",
            "notice: bce: 2 rows had a probability within eps = 2.22045e-16 of 0 or 1, clipped (as scikit-learn)",
        ),
        ("keras", "notice: bce: 2 rows had a probability within eps = 1e-07 of 0 or 1, clipped (as Keras)"),
        ("torch", "notice: bce: 2 rows had a probability so near 0 or 1 that torch caps its log at -100"),
    ],
)
def test_clipped_probabilities_are_counted_under_every_convention(cli, write, convention: str, notice: str) -> None:
    path = write("p.csv", "label,prob\n1,0\n0,0.5\n1,1\n")
    run = cli("eval", path, "--pred", "prob", "--target", "label", "-l", "bce", "--convention", convention)
    assert run.code == 0 and notice in run.err.splitlines()


@pytest.mark.parametrize(
    ("loss", "convention", "notice"),
    [
        (
            "focal:from_logits=false",
            "lossctl",
            "notice: focal:from_logits=false: 2 rows had a probability within eps = 2.22045e-16 of 0 or 1, clipped "
            "(as bce)",
        ),
        (
            "focal:from_logits=false",
            "keras",
            "notice: focal:from_logits=false: 2 rows had a probability within eps = 1e-07 of 0 or 1, clipped "
            "(as Keras)",
        ),
        # Keras clips sigmoid(x) too: a logit of 40 has p = 1 - 4e-18
        (
            "focal:from_logits=true",
            "keras",
            "notice: focal:from_logits=true: 1 row had a probability within eps = 1e-07 of 0 or 1, clipped (as Keras)",
        ),
    ],
)
def test_focal_counts_its_clipped_probabilities(cli, write, loss: str, convention: str, notice: str) -> None:
    # focal clipped p = 0 or 1 (or Keras' sigmoid of a large logit) for its log without a word, while bce counted
    # the same rows in a notice (docs/cli.md: clipped probabilities are counted and reported as notices).
    column = "prob" if "false" in loss else "logit"
    path = write("p.csv", "label,prob,logit\n1,0,40\n0,0.5,-3\n1,1,0.5\n")
    run = cli("eval", path, "--pred", column, "--target", "label", "-l", loss, "--convention", convention, "-f", "csv")
    assert run.code == 0 and run.err.splitlines() == [notice]
    run = cli("eval", path, "--pred", "logit", "--target", "label", "-l", "focal", "-f", "csv")
    assert (run.code, run.err) == (0, "")  # from logits lossctl clips nothing
