"""Multi-label and the peers' parameters (issue 14): hand-computed values, the command line, notices and errors.

The golden references (torch, scikit-learn, the official ASL code, Keras) are checked for every case in
``test_common.py``; here each behaviour is pinned by a value worked out by hand or an exact message.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.errors import DomainError, InputError, UsageError

LN2 = math.log(2.0)


def test_multilabel_losses_by_hand() -> None:
    # torch's MultiLabelMarginLoss docstring example: labels 3 and 0 of x = [0.1, 0.2, 0.4, 0.8] give 0.85.
    assert lossctl.get("multilabel_margin")([[1, 0, 0, 1]], [[0.1, 0.2, 0.4, 0.8]]) == pytest.approx(0.85, rel=1e-15)
    # logits 0: each label costs log 2; weights [1, 3] over K = 2 labels: (1 + 3) log 2 / 2.
    soft_margin = lossctl.get("multilabel_soft_margin")
    assert soft_margin([[1, 0]], [[0.0, 0.0]], class_weight=[1, 3]) == pytest.approx(2 * LN2, rel=1e-15)
    # ASL at x = 0: the positive costs log 2; the negative p_m = 0.45 costs 0.45^4 (-log 0.55).
    expected = LN2 + 0.45**4 * -math.log(0.55)
    assert lossctl.get("asl")([[1, 0]], [[0.0, 0.0]]) == pytest.approx(expected, rel=1e-14)
    assert lossctl.get("hamming")([[1, 0, 1, 0]], [[0.9, 0.6, 0.2, 0.1]]) == 0.5


def test_asymmetric_without_focusing_or_clip_is_the_summed_bce() -> None:
    y = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    x = np.array([[2.0, -1.0, 0.5], [3.0, -4.0, -0.5]])
    asl = lossctl.get("asymmetric")(y, x, gamma_pos=0.0, gamma_neg=0.0, clip=0.0)
    assert asl == pytest.approx(3 * lossctl.get("bce_logits")(y, x), rel=1e-14)


def test_binary_losses_average_the_label_columns() -> None:
    y = np.array([[1.0, 0.0], [0.0, 0.0]])
    p = np.array([[0.5, 0.2], [0.2, 0.5]])
    rows = lossctl.get("bce").per_sample(y, p)
    np.testing.assert_allclose(rows, [(LN2 - math.log(0.8)) / 2, (-math.log(0.8) + LN2) / 2], rtol=1e-15)
    assert lossctl.get("brier")(y, p) == pytest.approx((0.25 + 0.04 + 0.04 + 0.25) / 4, rel=1e-15)
    # Keras' hinge maps 0/1 labels to -1/1 and averages the last axis: rows [(0 + 0.8)/2, (1.2 + 1.5)/2].
    x = np.array([[1.0, -0.2], [0.2, 0.5]])
    assert lossctl.get("hinge")(y, x) == pytest.approx((0.4 + 1.35) / 2, rel=1e-15)


def test_multilabel_columns_must_pair_up() -> None:
    with pytest.raises(InputError) as error:
        lossctl.get("bce")([[1, 0, 1]], [[0.5, 0.5]])
    assert str(error.value) == (
        "'target' has 3 values per row but 'pred' has 2 values: multi-label losses take one 0/1 target column "
        "per prediction column"
    )
    with pytest.raises(InputError, match=r"^'target' has 3 columns but 'pred' has 2: a multi-label loss"):
        lossctl.get("hamming")([[1, 0, 1]], [[0.5, 0.5]])
    # one column was "1 columns"
    with pytest.raises(InputError, match=r"^'target' has 1 column but 'pred' has 2: a multi-label loss"):
        lossctl.get("hamming")([[1]], [[0.5, 0.5]])
    with pytest.raises(DomainError) as domain:
        lossctl.get("multilabel_margin")([[1, 0.5]], [[0.5, 0.5]])
    assert str(domain.value) == "'target': expected labels 0 or 1, got 0.5 in 1 row (first: row 0)"


def test_peer_losses_by_hand() -> None:
    assert lossctl.get("soft_margin")([1, -1], [0.0, 1e4]) == pytest.approx((LN2 + 1e4) / 2, rel=1e-15)
    assert lossctl.get("soft_margin")([1, 0], [0.0, 1e4]) == pytest.approx((LN2 + 1e4) / 2, rel=1e-15)
    assert lossctl.get("hinge_embedding")([1, -1, -1], [0.3, 0.4, 2.0]) == pytest.approx(0.3, rel=1e-15)
    # Keras counts the true class's zeroed score in the max: all scores negative gives max(0, 1 - x_y).
    assert lossctl.get("categorical_hinge")([1], [[-1.0, -2.0, -3.0]]) == 3.0
    assert lossctl.get("categorical_hinge")([[0, 1, 0]], [[-1.0, -2.0, -3.0]]) == 3.0
    assert lossctl.get("multiclass_hinge")([1], [[-1.0, -2.0, -3.0]]) == 2.0
    assert lossctl.get("brier_multiclass")([0], [[0.5, 0.25, 0.25]]) == 0.375
    assert lossctl.get("zero_one")([0, 1, 1], [[2, 1], [0.2, 0.7], [3, -1]]) == pytest.approx(1 / 3)
    assert lossctl.get("zero_one")([0, 1, 2], [0.3, 0.5, 2.0]) == 0.0
    with pytest.raises(DomainError, match="expected labels 1 or -1, got 0"):
        lossctl.get("hinge_embedding")([1, 0], [0.3, 0.4])
    with pytest.raises(DomainError, match=r"expected probabilities in \[0, 1\] or integer labels, got 2.5"):
        lossctl.get("zero_one")([0, 2], [0.3, 2.5])
    # With K score columns the target is a class index in 0..K-1: 2 or -1 against 2 columns was counted 'wrong'.
    for label in (2, -1):
        with pytest.raises(DomainError, match=rf"integers in 0..1 \(K = 2 classes\), got {label} in 1 row"):
            lossctl.get("zero_one")([0, label], [[2, 1], [0.2, 0.7]])


def test_peer_parameters_by_hand() -> None:
    # categorical_ce with label smoothing 0.2 over K = 2: target [0.9, 0.1] against p = [0.5, 0.5] is log 2.
    assert lossctl.get("categorical_ce")([0], [[0.5, 0.5]], label_smoothing=0.2) == pytest.approx(LN2, rel=1e-15)
    # focal_multiclass with gamma 0 and smoothing is the smoothed cross-entropy.
    x = np.array([[1.0, -1.0, 0.5]])
    focal = lossctl.get("focal_multiclass")([0], x, gamma=0.0, label_smoothing=0.3)
    assert focal == pytest.approx(lossctl.get("cross_entropy")([0], x, label_smoothing=0.3), rel=1e-14)
    # log_target reads log-probabilities: the same divergence as the probabilities themselves.
    y, p = np.array([[0.2, 0.8]]), np.array([[0.5, 0.5]])
    kl = lossctl.get("kl_div")
    assert kl(np.log(y), p, log_target=True) == pytest.approx(kl(y, p), rel=1e-15)
    with pytest.raises(UsageError, match="Keras' KLDivergence takes target probabilities only"):
        kl(np.log(y), p, log_target=True, convention="keras")


def test_multioutput_uniform_raw_and_pooled() -> None:
    y = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 5.0]])
    p = np.array([[1.0, 1.0], [1.0, 3.0], [0.0, 1.0]])
    rmse = lossctl.get("rmse")
    roots = [math.sqrt(5 / 3), math.sqrt(17 / 3)]
    np.testing.assert_allclose(rmse(y, p, multioutput="raw"), roots, rtol=1e-15)
    assert rmse(y, p, multioutput="uniform") == pytest.approx(sum(roots) / 2, rel=1e-15)
    assert rmse(y, p) == pytest.approx(math.sqrt(22 / 6), rel=1e-15)  # pooled over the six elements
    mse = lossctl.get("mse")
    assert mse(y, p, multioutput="uniform") == pytest.approx(mse(y, p), rel=1e-15)


@pytest.fixture
def outputs(write) -> Path:
    return write("o.csv", "y1,y2,p1,p2,g\n0,1,1,1,a\n1,2,1,3,a\n2,5,0,1,b\n")


def test_cli_raw_reports_one_result_per_output(cli, outputs: Path) -> None:
    run = cli("eval", outputs, "--target", "y1,y2", "--pred", "p1,p2", "-l", "mse:multioutput=raw", "--by", "g",
              "-f", "json", "-q")  # fmt: skip
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    overall = [(r["loss"], r["value"]) for r in doc["results"] if r["group"] is None]
    assert overall == [("mse[0]", pytest.approx(5 / 3)), ("mse[1]", pytest.approx(17 / 3))]
    groups = {(r["loss"], r["group"]["g"]): r["value"] for r in doc["results"] if r["group"]}
    assert groups[("mse[1]", "a")] == pytest.approx(0.5) and groups[("mse[0]", "b")] == pytest.approx(4.0)
    signatures = [r["signature"] for r in doc["results"] if r["group"] is None]
    assert signatures[0].startswith("mse[0]|multioutput=raw|") and signatures[0] != signatures[1]
    assert [g["loss"] for g in doc["groups"]["gaps"]] == ["mse[0]", "mse[1]"]


def test_cli_raw_cannot_be_checked_or_summed(cli, outputs: Path) -> None:
    args = ("eval", outputs, "--target", "y1,y2", "--pred", "p1,p2")
    run = cli(*args, "-l", "mse:multioutput=raw", "--fail-if", "mse>1")
    assert run.code == 2
    assert run.err == (  # what to do instead, a command that works
        "error: --fail-if 'mse>1': the loss has one value per output (multioutput=raw) and a check gates one value; "
        "gate the outputs' mean: -l mse:multioutput=uniform --fail-if 'mse:multioutput=uniform>1.0'\n"
    )
    assert cli(*args, "-l", "mse:multioutput=uniform", "--fail-if", "mse:multioutput=uniform>1.0").code == 1
    # One output, named as its results are ('mse[0]'): was "cannot parse ...; expected LOSS[@MODEL] OP NUMBER"
    run = cli(*args, "-l", "mse:multioutput=raw", "--fail-if", "mse[0] >= 1")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: --fail-if 'mse[0] >= 1': a check gates a loss's one value, not one output of multioutput=raw; gate "
        "the outputs' mean: -l mse:multioutput=uniform --fail-if 'mse:multioutput=uniform>=1'\n"
    )
    run = cli(*args, "-l", "t=1*mse:multioutput=raw+1*mae")
    assert run.code == 2 and "has one value per output (multioutput=raw)" in run.err


def test_cli_multilabel_columns(cli, tmp_path: Path) -> None:
    y = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    x = np.array([[2.0, -1.0, 0.5], [3.0, -4.0, -0.5], [0.0, 1.0, -2.0]])
    table = pa.table({"y": pa.FixedSizeListArray.from_arrays(pa.array(y.ravel()), 3),
                      **{f"x{k}": x[:, k] for k in range(3)}})  # fmt: skip
    pq.write_table(table, tmp_path / "m.parquet")
    run = cli("eval", tmp_path / "m.parquet", "--target", "y", "--pred", "x*", "-l",
              "bce_logits,multilabel_soft_margin,hamming:threshold=0,asl", "-f", "json", "-q")  # fmt: skip
    assert run.code == 0, run.err
    values = {r["loss"]: r["value"] for r in json.loads(run.out)["results"]}
    assert values["bce_logits"] == pytest.approx(values["multilabel_soft_margin"], rel=1e-15)
    assert values["hamming"] == pytest.approx(2 / 9)
    assert values["asymmetric"] == pytest.approx(lossctl.get("asl")(y, x), rel=1e-15)


def test_cli_torch_sum_adds_every_label_and_output(cli, tmp_path: Path) -> None:
    # torch's reduction='sum' adds the N K element losses, K times the sum of the row means that lossctl and Keras
    # add: bce_logits of x = 0 is log 2 per element, so 2 rows of 3 labels give 6 log 2 (weights 1 and 3: 12 log 2).
    path = tmp_path / "k.csv"
    path.write_text("y0,y1,y2,x0,x1,x2,t0,t1,w\n1,0,1,0,0,0,1,3,1\n0,0,1,0,0,0,2,0,3\n")
    sums = {}
    for convention in ("torch", "keras", "lossctl"):
        run = cli("eval", path, "--target", "y*", "--pred", "x*", "-l", "bce_logits", "--reduction", "sum",
                  "--convention", convention, "-f", "json", "-q")  # fmt: skip
        assert run.code == 0, run.err
        sums[convention] = json.loads(run.out)["results"][0]["value"]
    assert sums["torch"] == pytest.approx(6 * LN2, rel=1e-15)
    assert sums["keras"] == sums["lossctl"] == pytest.approx(2 * LN2, rel=1e-15)
    per_sample = tmp_path / "rows.csv"
    run = cli("eval", path, "--target", "y*", "--pred", "x*", "--weight", "w", "-l", "bce_logits", "--reduction",
              "sum", "--convention", "torch", "--per-sample", per_sample, "-f", "json", "-q")  # fmt: skip
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(12 * LN2, rel=1e-15)
    rows = [line.split(",") for line in per_sample.read_text().splitlines()[1:]]
    assert [float(row[-1]) for row in rows] == pytest.approx([3 * LN2, 3 * LN2], rel=1e-15)
    # mse of the outputs (t0, t1) against (x0, x1) = (0, 0): elements 1, 9 and 4, 0; torch's sum is 14.
    run = cli("eval", path, "--target", "t0,t1", "--pred", "x0,x1", "-l", "mse", "--reduction", "sum",
              "--convention", "torch", "-f", "json", "-q")  # fmt: skip
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == 14.0
    assert lossctl.get("mse")([[1, 3], [2, 0]], [[0, 0], [0, 0]], reduction="sum", convention="torch") == 14.0
    assert lossctl.get("mse")([[1, 3], [2, 0]], [[0, 0], [0, 0]], reduction="sum", convention="keras") == 7.0
    metric = lossctl.Metric("mse", convention="torch", reduction="sum")
    metric.update([[1, 3], [2, 0]], [[0, 0], [0, 0]])
    assert metric.compute() == 14.0


@pytest.mark.parametrize(
    ("loss", "reads"),
    [
        ("bce", "log_loss reads K 0/1 columns as the one-hot classes of one label, categorical_ce's number"),
        (
            "brier",
            "brier_score_loss reads K 0/1 columns as the one-hot classes of one label, brier_multiclass's number",
        ),
        ("hinge", "hinge_loss refuses K columns"),
    ],
)
def test_sklearn_has_no_multilabel_form(cli, write, loss: str, reads: str) -> None:
    # sklearn's log_loss of these 2 label columns is 0.59 (rows renormalised as classes), not the labels' mean 0.39.
    path = write("m.csv", "y0,y1,p0,p1\n1,0,0.8,0.3\n0,1,0.2,0.7\n1,1,0.6,0.5\n")
    out = path.parent / "out.csv"
    run = cli("eval", path, "--target", "y0,y1", "--pred", "p0,p1", "-l", loss, "--convention", "sklearn", "-o", out)
    assert run.code == 2 and run.out == "" and not out.exists()
    assert run.err == (
        f"error: loss '{loss}' with convention sklearn takes one label column: sklearn's {reads}; without "
        "--convention sklearn the value is the mean over the N K labels\n"
    )
    run = cli("eval", path, "--target", "y0", "--pred", "p0", "-l", loss, "--convention", "sklearn", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(
        {"bce": -(math.log(0.8) + math.log(0.8) + math.log(0.6)) / 3, "brier": 0.08, "hinge": 0.6}[loss], rel=1e-15
    )


def test_cli_categorical_ce_six_decimals_and_beyond(cli, write) -> None:
    path = write("c.csv", "p0,p1,p2,y\n0.333333,0.333333,0.333333,0\n0.5,0.25,0.25,1\n0.2,0.2,0.6,2\n")
    run = cli("eval", path, "--pred", "p*", "--target", "y", "-l", "categorical_ce,brier_multiclass", "-f", "csv")
    assert run.code == 0, run.err
    notice = "1 row of pred: probabilities summing to 1 only within 0.0001 (off by more than 1e-06), used as given"
    assert run.err.splitlines() == [
        f"notice: categorical_ce: {notice}, not renormalised",
        f"notice: brier_multiclass: {notice}, not renormalised",
    ]
    bad = write("d.csv", "p0,p1,y\n0.5,0.5,0\n0.5,0.4998,1\n")
    run = cli("eval", bad, "--pred", "p*", "--target", "y", "-l", "categorical_ce")
    assert run.code == 3
    assert run.err == (
        "error: categorical_ce: columns 'p0', 'p1' (pred): expected rows of probabilities summing to 1 within "
        "0.0001 (--convention keras divides each row by its sum), got 0.9998 in 1 row (first: row 1)\n"
    )
    assert cli("eval", bad, "--pred", "p*", "--target", "y", "-l", "categorical_ce", "--convention", "keras").code == 0
    # brier_multiclass has no keras convention, so its message no longer sends the user to one (which was exit 2)
    run = cli("eval", bad, "--pred", "p*", "--target", "y", "-l", "brier_multiclass")
    assert (run.code, run.err) == (
        3,
        "error: brier_multiclass: columns 'p0', 'p1' (pred): expected rows of probabilities summing to 1 within "
        "0.0001, got 0.9998 in 1 row (first: row 1)\n",
    )


def test_keras_tversky_names_the_release_it_reproduces(cli, write) -> None:
    path = write("t.csv", "pred,target\n0.9,1\n0.2,0\n0.6,1\n")
    run = cli("eval", path, "-l", "tversky:alpha=0.3:beta=0.7", "--convention", "keras", "-f", "json", "-q")
    signature = json.loads(run.out)["results"][0]["signature"]
    assert "|convention=keras<=3.15.1|" in signature
    run = cli("eval", path, "-l", "dice", "--convention", "keras", "-f", "json", "-q")
    assert "|convention=keras|" in json.loads(run.out)["results"][0]["signature"]
    # A composite's number depends on the releases its parts reproduce too.
    run = cli("eval", path, "-l", "t=0.5*dice+0.5*tversky:alpha=0.3:beta=0.7", "--convention", "keras", "-f", "json")
    assert run.code == 0, run.err
    composite = json.loads(run.out)["results"][-1]
    assert composite["loss"] == "t" and "|convention=keras<=3.15.1|" in composite["signature"]
    run = cli("eval", path, "-l", "t=0.5*dice+0.5*mse", "--convention", "keras", "-f", "json")
    assert "|convention=keras|" in json.loads(run.out)["results"][-1]["signature"]
    page = cli("describe", "tversky").out
    assert "  keras (matches keras <=3.15.1): Keras Tversky as released up to Keras 3.15.1" in page
    assert "#23333, commit fa9afd5a" in page.replace("\n  ", " ")


def test_a_composite_signature_names_the_release_its_parts_reproduce(cli, write) -> None:
    # A composite with a keras tversky part was signed 'convention=keras' while its tversky part (and so the sum)
    # was 'keras<=3.15.1': two runs under different Keras releases would have shared a signature.
    path = write("t.csv", "pred,target\n0.9,1\n0.2,0\n0.6,1\n")
    run = cli("eval", path, "-l", "total=0.5*dice+0.5*tversky", "--convention", "keras", "-f", "json", "-q")
    (total,) = [r for r in json.loads(run.out)["results"] if r["loss"] == "total"]
    assert total["signature"].endswith("|reduction=mean|convention=keras<=3.15.1|lossctl=" + lossctl.__version__)
    run = cli("eval", path, "-l", "total=0.5*dice+0.5*mse", "--convention", "keras", "-f", "json", "-q")
    assert "|convention=keras|" in json.loads(run.out)["results"][-1]["signature"]


def test_list_shows_58_losses(cli) -> None:
    run = cli("list", "--format", "json")
    assert run.code == 0 and len(json.loads(run.out)) == 58
    assert {e["name"] for e in json.loads(run.out) if e["task"] == "multilabel"} == {
        "multilabel_soft_margin", "multilabel_margin", "asymmetric", "hamming"
    }  # fmt: skip


def test_every_multilabel_loss_and_convention_has_a_golden_case() -> None:
    from tests.golden import load_cases

    covered = {(lossctl.get(case["loss"]).name, case["convention"]) for case in load_cases("multilabel")}
    missing = [
        (spec.name, convention)
        for spec in lossctl.list_losses("multilabel")
        for convention in ("lossctl", *spec.conventions)
        if (spec.name, convention) not in covered
    ]
    assert missing == []


def test_zero_class_weights_give_0_as_torch() -> None:
    # torch's weight= multiplies each label's term and the row still divides by K: all-zero weights give 0.
    soft_margin = lossctl.get("multilabel_soft_margin")
    assert soft_margin([[1, 0], [0, 1]], [[0.3, -2.0], [1.0, 4.0]], class_weight=[0, 0], convention="torch") == 0.0
