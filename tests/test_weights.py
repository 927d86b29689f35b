"""Weights that sum to zero (losses.md): an input error only where the weight sum is the denominator.

The lossctl and scikit-learn weighted mean ``sum(w*l)/sum(w)`` is undefined; ``--reduction sum`` and the
conventions that divide by the row count (Keras' ``sum_over_batch_size``, torch's ``weight=`` tensors) give 0,
as those libraries do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lossctl
from lossctl.aggregates import MEAN_OVER_ROWS
from lossctl.errors import ZeroWeightSum
from tests.golden import all_cases

SPECS = lossctl.list_losses()


def _plain_case(name: str, convention: str = "lossctl") -> dict[str, Any]:
    return next(c for c in all_cases() if c["loss"] == name and c["convention"] == convention)


def _arrays(case: dict[str, Any]) -> dict[str, Any]:
    """The case's inputs and its parameters, as keyword arguments of the loss."""
    return {role: np.asarray(values, dtype=np.float64) for role, values in case["inputs"].items()} | case["params"]


ROW_COUNT_CONVENTIONS = [
    (spec.name, convention)
    for spec in SPECS
    for convention, variant in spec.conventions.items()
    if variant.aggregate is not None and variant.aggregate.name == MEAN_OVER_ROWS.name
]


@pytest.mark.parametrize(("name", "convention"), ROW_COUNT_CONVENTIONS)
def test_conventions_dividing_by_the_row_count_give_0(name: str, convention: str) -> None:
    arrays = _arrays(_plain_case(name, convention))
    zeros = np.zeros(len(arrays[lossctl.get(name).role_names[0]]))
    spec = lossctl.get(name)
    assert spec(**arrays, sample_weight=zeros, convention=convention) == 0.0


def test_keras_divides_by_the_row_count_for_the_losses_keras_reports_0_for() -> None:
    # Keras reports 0 for all-zero weights for these (issue 14): each has a convention dividing by the rows.
    for name in ("mse", "mae", "mape", "msle", "hinge", "squared_hinge", "huber", "log_cosh", "kl_div"):
        assert (name, "keras") in ROW_COUNT_CONVENTIONS, name
    assert ("poisson_nll", "keras") in ROW_COUNT_CONVENTIONS
    assert ("bce", "torch") in ROW_COUNT_CONVENTIONS and ("bce_logits", "torch") in ROW_COUNT_CONVENTIONS


@pytest.mark.parametrize("name", [s.name for s in SPECS if s.per_row and s.aggregate.name == "mean"])
def test_the_weighted_mean_is_an_input_error_and_the_sum_is_0(name: str) -> None:
    spec = lossctl.get(name)
    arrays = _arrays(_plain_case(name))
    zeros = np.zeros(len(arrays[lossctl.get(name).role_names[0]]))
    # Named with the loss, as a Metric and lossctl.evaluate name it (lossctl.get's call named none).
    with pytest.raises(ZeroWeightSum, match=rf"^{name}: the sample weights sum to zero, so the weighted mean"):
        spec(**arrays, sample_weight=zeros)
    assert spec(**arrays, sample_weight=zeros, reduction="sum") == 0.0


@pytest.mark.parametrize(
    ("spec", "target", "weight", "reason"),
    [
        ("mse", [1.0, 2.0], [0.0, 0.0], "the sample weights sum to zero, so the weighted mean sum(w*l)/sum(w) is"),
        ("cross_entropy:ignore_index=1", [1, 1], None, "nothing to average: every row is ignored (ignore_index) or"),
    ],
)
def test_a_metric_with_nothing_to_average_names_its_loss(spec: str, target: list, weight, reason: str) -> None:
    # Metric.compute() said "the sample weights sum to zero, ..." naming no loss, where its other errors ("mse: no
    # rows") and lossctl.evaluate ("mse: the sample weights sum to zero") name it.
    metric = lossctl.Metric(spec)
    metric.update(target, [[0.5, 0.5], [0.2, 0.8]] if "cross" in spec else [0.0, 0.0], sample_weight=weight)
    with pytest.raises(ZeroWeightSum) as raised:
        metric.compute()
    assert str(raised.value).startswith(f"{metric.name}: {reason}")


def test_from_python_the_message_offers_the_sum_reduction_as_python_writes_it(zero_weights: Path) -> None:
    # From the Python API the message said "(--reduction sum gives 0)", the command line's spelling.
    metric = lossctl.Metric("mse")
    metric.update([1.0, 2.0], [1.0, 3.0], sample_weight=[0.0, 0.0])
    calls = [
        lambda: lossctl.get("mse")([1.0, 2.0], [1.0, 3.0], sample_weight=[0.0, 0.0]),
        metric.compute,
        lambda: lossctl.evaluate(zero_weights, losses="mse", weight="w", by="g"),
        lambda: lossctl.compare(zero_weights, zero_weights, losses="mse", weight="w", by="g"),
    ]
    for call in calls:
        with pytest.raises(ZeroWeightSum) as raised:
            call()
        assert str(raised.value).endswith('is undefined (reduction="sum" gives 0)'), str(raised.value)
        assert "--reduction" not in str(raised.value)
    assert str(raised.value).startswith("mse in group g=a: the sample weights sum to zero")


@pytest.fixture
def zero_weights(write) -> Path:
    return write("w.csv", "pred,target,w,g\n1,2,0,a\n1,1,0,a\n3,1,1,b\n")


def _values(run) -> dict[tuple[str, str | None], float]:
    doc = json.loads(run.out)
    return {(r["loss"], r["group"]["g"] if r["group"] else None): r["value"] for r in doc["results"]}


def test_cli_keras_convention_reports_0_for_a_zero_weight_group(cli, zero_weights: Path) -> None:
    run = cli("eval", zero_weights, "-l", "mse,huber", "--weight", "w", "--by", "g", "--convention", "keras", "-f",
              "json", "-q")  # fmt: skip
    assert run.code == 0, run.err
    values = _values(run)
    assert values[("mse", "a")] == 0.0 and values[("huber", "a")] == 0.0
    assert values[("mse", None)] == pytest.approx(4.0 / 3.0)


def test_cli_sum_reports_0_and_the_mean_names_the_group(cli, zero_weights: Path) -> None:
    run = cli("eval", zero_weights, "-l", "mse", "--weight", "w", "--by", "g", "--reduction", "sum", "-f", "json")
    assert run.code == 0 and _values(run)[("mse", "a")] == 0.0
    run = cli("eval", zero_weights, "-l", "mse", "--weight", "w", "--by", "g", "-o", "out.json")
    assert run.code == 3 and run.out == ""
    assert run.err == (
        "error: mse in group g=a: the sample weights sum to zero, so the weighted mean sum(w*l)/sum(w) is "
        "undefined (--reduction sum gives 0)\n"
    )


def test_cli_torch_weight_convention_reports_0(cli, write) -> None:
    path = write("b.csv", "pred,target,w\n0.2,1,0\n0.9,0,0\n")
    run = cli("eval", path, "-l", "bce,bce_logits", "--weight", "w", "--convention", "torch", "-f", "json", "-q")
    assert run.code == 0, run.err
    assert all(r["value"] == 0.0 for r in json.loads(run.out)["results"])


def test_a_weight_column_is_one_number_per_row(cli, write, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "lists.parquet"
    pq.write_table(pa.table({"logits": [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], "label": [0, 1]}), path)
    run = cli("eval", path, "--pred", "logits", "--target", "label", "--weight", "logits", "-l", "ce")
    assert (run.code, run.err.strip()) == (
        3,
        "error: column 'logits' holds several values per row; a sample weight is one number per row",
    )


def test_a_label_column_weighs_rows_by_its_numbers_never_by_its_recoded_labels(cli, write) -> None:
    text = write("text.csv", "p,churned\n0.9,yes\n0.2,no\n0.4,no\n")
    run = cli(
        "eval", text, "--pred", "p", "--target", "churned", "--positive", "yes", "--weight", "churned", "-l", "bce"
    )
    assert (run.code, run.err.strip()) == (3, "error: column 'churned' is not numeric: 'yes' at row 0")
    recoded = write("recoded.csv", "p,c\n0.9,2\n0.2,1\n0.4,1\n")
    run = cli("eval", recoded, "--pred", "p", "--target", "c", "--positive", "2", "--weight", "c", "-l", "bce")
    assert run.code == 3 and "is both the labels (recoded by --positive or --classes) and the sample weight" in run.err
    same = write("same.csv", "p,c\n0.9,1\n0.2,0\n0.4,0\n")  # 0/1 labels that are their own weights: rows 2, 3 weigh 0
    run = cli("eval", same, "--pred", "p", "--target", "c", "--weight", "c", "-l", "bce", "-f", "json")
    assert run.code == 0 and json.loads(run.out)["results"][0]["value"] == pytest.approx(-np.log(0.9))


@pytest.mark.parametrize("call", ["loss", "metric", "evaluate"])
def test_negative_sample_weights_are_an_input_error_in_every_api(call: str) -> None:
    # As the CLI's --weight: a negative weight makes the weighted mean meaningless (mse of -0.5 here).
    y, p, w = [1.0, 2.0], [2.0, 2.0], [-1.0, 3.0]
    with pytest.raises(lossctl.InputError, match=r"sample.weight"):
        if call == "loss":
            lossctl.get("mse")(y, p, sample_weight=w)
        elif call == "metric":
            lossctl.Metric("mse").update(y, p, sample_weight=w)
        else:
            lossctl.evaluate(y_true=y, y_pred=p, sample_weight=w, losses="mse")


@pytest.mark.parametrize("call", ["loss", "metric", "evaluate"])
def test_a_column_vector_of_weights_is_one_weight_per_row_and_a_single_number_is_refused(call: str) -> None:
    # A (3, 1) sample_weight was refused ("holds several values per row", "must be a 1-D array"), where
    # scikit-learn takes a column vector as one value per row; 2.0 got "a 1-D array or a 2-D array ... of labels".
    pd = pytest.importorskip("pandas")
    y, p = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0])

    def value(w: Any) -> float:
        if call == "loss":
            return lossctl.get("mse")(y, p, sample_weight=w)
        if call == "metric":
            metric = lossctl.Metric("mse")
            metric.update(y, p, sample_weight=w)
            return metric.compute()
        return lossctl.evaluate(y_true=y, y_pred=p, sample_weight=w, losses="mse")["mse"]

    expected = (0.25 + 0.0 + 1.0) / 4
    for column in (np.array([[1.0], [2.0], [1.0]]), [[1], [2], [1]], pd.DataFrame({"w": [1.0, 2.0, 1.0]})):
        assert value(column) == pytest.approx(expected)
    for single in (2.0, np.float64(2.0), np.array(2.0)):
        with pytest.raises(lossctl.InputError) as error:
            value(single)
        assert str(error.value) == (
            "sample_weight takes one weight per row (an array as long as y_true), got the single value 2.0"
        )


def test_col_weight_binds_the_sample_weight_as_weight_does(cli, regression_csv: Path) -> None:
    # --weight is a shortcut for the weight role: --col weight=w was 'no selected loss reads the role' (exit 2).
    args = ["eval", regression_csv, "-l", "mse", "-f", "json", "-q"]
    by_col, by_option = cli(*args, "--col", "weight=w"), cli(*args, "--weight", "w")
    assert by_col.code == 0, by_col.err
    assert json.loads(by_col.out) == json.loads(by_option.out)
    assert json.loads(by_col.out)["columns"]["weight"] == ["w"]
    run = cli(*args, "--col", "weight=w", "--weight", "w")
    assert (run.code, run.err) == (2, "error: the sample weight is bound twice: by --weight and by --col weight=...\n")
    report = lossctl.evaluate(regression_csv, losses="mse", cols={"weight": "w"})
    assert report["mse"] == json.loads(by_option.out)["results"][0]["value"]


def test_python_weight_errors_give_the_counts_and_the_first_row() -> None:
    # They said only 'sample_weight must be >= 0' and 'sample_weight must have one value per row'.
    y, p = [1.0, 2.0, 3.0], [2.0, 2.0, 2.0]
    with pytest.raises(lossctl.InputError) as error:
        lossctl.get("mse")(y, p, sample_weight=[1.0, -3.0, -2.0])
    assert str(error.value) == "sample_weight must be >= 0: it has negative values in 2 rows (first: -3 at row 1)"
    with pytest.raises(lossctl.InputError) as error:
        lossctl.get("mse")(y, p, sample_weight=[1.0, 1.0])
    assert str(error.value) == "sample_weight must have one value per row: it has 2 values for 3 rows"
    metric = lossctl.Metric("mse")
    metric.update(y, p)
    with pytest.raises(lossctl.InputError, match=r"in 1 row \(first: -1 at row 5\)$"):  # rows count across updates
        metric.update(y, p, sample_weight=[1.0, 1.0, -1.0])


@pytest.mark.parametrize(
    "name", [s.name for s in SPECS if s.aggregate.name in ("batch_mean", "class_weighted_mean", "class_balanced_mean")]
)
def test_zero_weights_offer_the_sum_reduction_only_to_a_loss_that_has_it(name: str) -> None:
    # The batch losses (info_nce, nt_xent, clip) said "(reduction="sum" gives 0)", a reduction they refuse;
    # cross_entropy and nll did not offer the sum they have, and without class weights or ignore_index blamed them;
    # class_balanced said "no class has a positive count (every sample weight is 0)", its sum too, not 0.
    spec = lossctl.get(name)
    arrays = _arrays(_plain_case(name))
    zeros = np.zeros(len(arrays[spec.role_names[0]]))
    with pytest.raises(ZeroWeightSum) as raised:
        spec(**arrays, sample_weight=zeros)
    summable = "sum" in spec.aggregate.reductions
    reason = "the sample weights sum to zero, so the weighted mean sum(w*l)/sum(w) is undefined"
    assert str(raised.value) == f"{name}: {reason}" + (' (reduction="sum" gives 0)' if summable else "")
    if summable:
        assert spec(**arrays, sample_weight=zeros, reduction="sum") == 0.0


def test_ci_with_weights_near_the_top_of_float64_is_a_notice_not_an_internal_error(cli, write) -> None:
    # Weights of 1e300 with --ci: the check for a single weighted row squared the mean weight in Python floats
    # (OverflowError, exit 4 "internal error"); the value is right, and the interval is a notice.
    path = write("big.csv", "pred,target,w,g\n1,2,1e300,a\n1,1,1e300,a\n3,1,1e300,b\n3,1,2e300,b\n")
    run = cli("eval", path, "-l", "mse", "--weight", "w", "--by", "g", "--ci", "0.9", "-f", "json")
    assert run.code == 0, run.err
    results = json.loads(run.out)["results"]
    assert [r["value"] for r in results] == pytest.approx([13 / 5, 0.5, 4.0]) and all(r["ci"] is None for r in results)
    assert "mse: no confidence interval for the overall value and 2 groups (first: g=a): the squares" in run.err


def test_ci_with_weights_whose_squares_underflow_is_a_notice_not_a_zero_width_interval(cli, write) -> None:
    # Weights of 1e-300 (and 1e300) have squares beyond float64: the cross-products of w*l came out 0 (the slopes,
    # with S_w^2, 0 too), so the interval was [value, value], as if the losses did not vary. mae's interval beside
    # a mse whose squares underflow stays, as it was.
    text = "pred,target,w\n1,2,{w}\n1,1,{w}\n3,1,{w}\n0,1,{w}\n"
    for w in ("1e-300", "1e300"):
        run = cli("eval", write("w.csv", text.format(w=w)), "-l", "mse,rmse", "--weight", "w", "--ci", "0.9", "-f",
                  "json")  # fmt: skip
        assert run.code == 0, run.err
        results = json.loads(run.out)["results"]
        assert [r["value"] for r in results] == pytest.approx([1.5, 1.5**0.5])
        assert [r["ci"] for r in results] == [None, None]
        assert "mse: no confidence interval for the overall value: the squares of the losses or weights" in run.err
    tiny = write("tiny.csv", "pred,target\n0,0\n0,0\n0,1e-90\n0,3e-90\n")
    run = cli("eval", tiny, "-l", "mse,mae", "--ci", "0.9", "-f", "json", "-q")
    mse, mae = json.loads(run.out)["results"]
    assert mse["ci"] is None and mae["ci"]["low"] < 1e-90 < mae["ci"]["high"]
