"""The command line contract of cli.md: options, JSON schema, formats, gating, exit codes."""

from __future__ import annotations

import contextlib
import csv
import ctypes
import io
import json
import math
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl

Y = np.array([0.5, 2.5, 1.0, 2.0])
P = np.array([1.0, 2.0, 0.0, 4.0])
W = np.array([1.0, 2.0, 1.0, 0.5])


def results(run) -> dict[str, float]:
    return {r["loss"] if not r["params"] else r["signature"]: r["value"] for r in json.loads(run.out)["results"]}


def test_json_follows_the_schema_field_by_field(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "huber,mse", "--format", "json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert list(doc) == ["schema", "lossctl", "input", "columns", "results", "groups", "checks"]
    assert doc["schema"] == 1 and doc["lossctl"] == lossctl.__version__
    assert doc["input"] == {"path": str(regression_csv), "rows": 4, "rows_used": 4, "rows_dropped": 0}
    assert list(doc["columns"].items()) == [("pred", ["pred"]), ("target", ["target"])]  # as docs/cli.md's example
    assert doc["groups"] is None and doc["checks"] == []
    huber, mse = doc["results"]
    assert list(huber) == ["loss", "params", "reduction", "value", "n", "model", "group", "ci", "signature"]
    assert huber["params"] == {"delta": 1.0} and huber["reduction"] == "mean" and huber["n"] == 4
    assert huber["group"] is None and huber["ci"] is None
    assert huber["signature"] == f"huber|delta=1.0|reduction=mean|convention=lossctl|lossctl={lossctl.__version__}"
    r = np.abs(P - Y)
    assert huber["value"] == pytest.approx(np.mean(np.where(r <= 1, 0.5 * r**2, r - 0.5)), rel=1e-12)
    assert mse["value"] == pytest.approx(np.mean((P - Y) ** 2), rel=1e-12)
    assert mse["params"] == {"multioutput": None}


def test_json_puts_one_field_and_one_record_per_line(cli, regression_csv: Path) -> None:
    """The layout of cli.md's example (written by the C encoder, line by line): each top-level field on a line of
    its own, each result record on one line, and the document parses to the report's object."""
    run = cli("eval", regression_csv, "-l", "huber,mse", "--by", "target", "--fail-if", "mse>100", "-f", "json")
    doc = json.loads(run.out)
    lines = run.out.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and run.out.endswith("}\n")
    records = [json.loads(line.strip().rstrip(",")) for line in lines if line.startswith("    {")]
    assert records == doc["results"] + doc["checks"] and len(doc["results"]) == 2 + 2 * 4
    fields = [line for line in lines if line.startswith('  "')]
    assert [line.split('"')[1] for line in fields] == list(doc) and fields[0] == '  "schema": 1,'


def test_more_records_than_one_write_batch_make_one_document(cli, tmp_path: Path) -> None:
    """Standard output is written a batch of records at a time (report._WRITE_BATCH): with more records than a
    batch, the JSON is still the report's document record for record, and the CSV has each record's row once,
    in order, with the values written exactly."""
    import pyarrow as pa

    from lossctl.report import _WRITE_BATCH

    groups = _WRITE_BATCH // 2 + 7  # two losses: one batch and a part, besides the overall results
    rng = np.random.default_rng(3)
    g = np.arange(3 * groups) % groups
    path = tmp_path / "many.parquet"
    pq.write_table(pa.table({"y": rng.normal(size=len(g)), "p": rng.normal(size=len(g)), "g": g}), path)
    args = (path, "--target", "y", "--pred", "p", "-l", "mse,mae", "--by", "g")
    report = lossctl.evaluate(str(path), losses=["mse", "mae"], target="y", pred="p", by=["g"])
    assert len(report.results) == 2 * (groups + 1) > _WRITE_BATCH
    assert json.loads(cli("eval", *args, "-f", "json").out) == report.to_dict()
    rows = list(csv.reader(io.StringIO(cli("eval", *args, "-f", "csv").out)))
    assert rows[0] == ["loss", "params", "reduction", "value", "n", "ci_low", "ci_high", "g"]
    expected = [[r.loss, str(r.n), str(None if r.group is None else r.group["g"])] for r in report.results]
    assert [[row[0], row[4], row[7] or "None"] for row in rows[1:]] == expected
    assert [float(row[3]) for row in rows[1:]] == [r.value for r in report.results]


def _awkward_groups(tmp_path: Path) -> Path:
    """Rows with keys JSON and CSV must write with care: quotes, commas, a line break, an empty text, dates,
    booleans, missing values; two prediction columns for models."""
    import datetime

    import pyarrow as pa

    rng = np.random.default_rng(11)
    texts = ["", "a,b", '"q"', "line\nbreak", " padded ", None, "plain"]
    rows = 70
    table = pa.table(
        {
            "y": rng.normal(size=rows),
            "p1": rng.normal(size=rows),
            "p2": rng.normal(size=rows),
            "text": pa.array([texts[i % len(texts)] for i in range(rows)]),
            "day": pa.array([datetime.date(2026, 1, 1 + i % 3) for i in range(rows)]),
            "flag": pa.array([i % 2 == 0 for i in range(rows)]),
        }
    )
    pq.write_table(table, tmp_path / "awkward.parquet")
    return tmp_path / "awkward.parquet"


@pytest.mark.parametrize(
    "options",
    [
        {"by": ["text"], "losses": ["mse", "huber:delta=0.5", "total=0.5*mse+mae"]},
        {"by": ["day", "flag"], "losses": ["mse", "mae"], "ci": 0.9},
        {"by": ["text"], "losses": ["mse"], "bootstrap": 20, "models": {"a,b": "p1", "c": "p2"}},
        {"by": [], "losses": ["mse", "mae"], "models": {"m1": "p1", "m2": "p2"}, "ci": 0.8},
    ],
)
def test_records_are_written_as_the_encoders_write_them(tmp_path: Path, options: dict) -> None:
    """JSON and CSV put each record together from text made once per loss and per group (report._record_lines,
    report._result_csv_lines): every line equals what ``json`` makes of the record's dict, and the CSV equals
    what ``csv`` makes of the table's rows (booleans and lists in group columns as format_value writes them, an
    empty text key quoted, ``""``)."""
    from lossctl.report import format_value, table_rows, to_csv, to_json

    kwargs = {"pred": "p1"} if "models" not in options else {}
    report = lossctl.evaluate(str(_awkward_groups(tmp_path)), target="y", **kwargs, **options)
    encode = json.JSONEncoder(allow_nan=False).encode
    lines = to_json(report).splitlines()
    records = [line.strip().removesuffix(",") for line in lines if line.startswith("    {")]
    assert records == [encode(r.to_dict()) for r in report.results] + [encode(c.to_dict()) for c in report.checks]
    assert json.loads(to_json(report)) == report._document([r.to_dict() for r in report.results])
    header, rows = table_rows(report)
    first_group = len(header) - len(report.by)
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(header)
    empty = "<the empty text>"  # csv quotes no cell it need not
    for row in rows:
        cells = [format_value(v) if i >= first_group and isinstance(v, bool) else v for i, v in enumerate(row)]
        writer.writerow([empty if i >= first_group and v == "" else v for i, v in enumerate(cells)])
    assert to_csv(report) == expected.getvalue().replace(empty, '""')


def test_guessed_columns_are_reported_on_stderr(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "mae")
    assert "using column 'pred' as pred" in run.err and "using column 'target' as target" in run.err
    assert cli("eval", regression_csv, "-l", "mae", "--quiet").err == ""


def test_a_guess_never_takes_a_column_bound_to_another_role(cli, write) -> None:
    # --pred label beside the target guess 'label' evaluated the column against itself: mse 0, exit 0.
    path = write("p.csv", "label,x,truth\n0.1,0,1\n0.9,1,0\n")
    run = cli("eval", path, "-l", "mse", "--pred", "label", "-f", "json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["columns"] == {"pred": ["label"], "target": ["truth"]}
    assert doc["results"][0]["value"] == pytest.approx((0.9**2 + 0.9**2) / 2)
    assert "notice: using column 'truth' as target (guessed from its name; set it with --target)\n" in run.err
    run = cli("eval", write("q.csv", "label,x\n0.1,0\n0.9,1\n"), "-l", "mse", "--pred", "label")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: no column for role 'target': its default column 'label' is bound to pred; "
        "choose one with --target COLUMN\n"
    )


def test_a_glob_skips_the_columns_bound_to_other_roles(cli, write) -> None:
    # --pred 'y*' took y_true too (3 outputs, one the target itself); 'p_*' took the weight p_w as a class.
    run = cli("eval", write("y.csv", "y_pred_a,y_pred_b,y_true\n0.1,0.2,0\n0.5,0.4,1\n"), "-l", "mse",
              "--pred", "y*", "--target", "y_true", "-f", "json")  # fmt: skip
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["columns"] == {"pred": ["y_pred_a", "y_pred_b"], "target": ["y_true"]}
    assert doc["results"][0]["value"] == pytest.approx((0.01 + 0.04 + 0.25 + 0.36) / 4)
    path = write("w.csv", "p_a,p_b,p_w,y\n0.2,0.8,1,1\n0.6,0.4,2,0\n")
    run = cli("eval", path, "-l", "categorical_ce", "--pred", "p_*", "--target", "y", "--weight", "p_w", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(-(np.log(0.8) + 2 * np.log(0.6)) / 3)
    run = cli("eval", path, "-l", "mse", "--pred", "p_w*", "--target", "y", "--weight", "p_w")
    assert (run.code, run.err) == (2, "error: 'p_w*' matches only columns bound to other roles\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pred", "p*", "--target", "p*"], "column 'pa' is bound to two roles, target and pred (--target p*, "
         "--pred p*)"),
        (["--pred", "pa", "--target", "pa"], "column 'pa' is bound to two roles, target and pred (--target pa, "
         "--pred pa)"),
        (["--pred", "pb", "--col", "target=pa,pb"],
         "column 'pb' is bound to two roles, target and pred (--target pa,pb, --pred pb)"),
        (["--model", "a=pa", "--target", "pa"],
         "column 'pa' is bound to two roles, target and the pred of model 'a' (--target pa, --model a=pa)"),
    ],
)  # fmt: skip
def test_a_column_bound_to_two_roles_is_a_usage_error(cli, write, args, message) -> None:
    # Before, overlapping globs (or one name twice) scored a column against itself without a word (mse 0, exit 0).
    run = cli("eval", write("g.csv", "pa,pb,y\n0.1,0.2,1\n"), "-l", "mse", *args)
    assert (run.code, run.out) == (2, "")
    assert run.err == f"error: {message}; bind each column to one role\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--model", "a=target"], {"a": 3.305}),
        (["--model", "a=target", "--model", "b=pa"], {"a": 3.305, "b": 0.09}),
        (["--pred", "pa", "--weight", "target"], {None: 0.09}),
    ],
)
def test_a_target_guess_skips_the_columns_a_model_or_the_weight_binds(cli, write, args, expected) -> None:
    # Before, the guess took 'target', bound by --model a=target: a usage error (exit 2), though 'y' was there to
    # take; and beside --weight target it took the weight column as the target too.
    run = cli("eval", write("g.csv", "pa,target,y\n0.1,1,0.4\n0.2,3,0.5\n"), "-l", "mse", "-f", "json", *args)
    assert run.code == 0, run.err
    assert "notice: using column 'y' as target (guessed from its name; set it with --target)" in run.err
    values = {r["model"]: r["value"] for r in json.loads(run.out)["results"]}
    assert values == pytest.approx(expected)


@pytest.mark.parametrize(
    ("args", "holder"),
    [
        (["--model", "a=y"], "the pred of model 'a' (--model a=y)"),
        (["--pred", "pa", "--weight", "y"], "the sample weight"),
        (["--pred", "pa", "--col", "weight=y"], "the sample weight"),
    ],
)
def test_a_guess_with_its_only_column_held_names_what_holds_it(cli, write, args, holder) -> None:
    run = cli("eval", write("g.csv", "pa,pb,y\n0.1,0.2,1\n"), "-l", "mse", *args)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"error: no column for role 'target': its default column 'y' is bound to {holder}; "
        "choose one with --target COLUMN\n"
    )


def test_weights_give_a_weighted_mean_and_enter_the_signature(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "mse", "--weight", "w", "-f", "json")
    doc = json.loads(run.out)
    assert doc["results"][0]["value"] == pytest.approx(np.sum(W * (P - Y) ** 2) / W.sum(), rel=1e-12)
    assert "|weight=w|" in doc["results"][0]["signature"]
    assert doc["columns"]["weight"] == ["w"]


def test_reduction_sum(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "mae", "--reduction", "sum", "-f", "json")
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(np.abs(P - Y).sum())


def test_loss_lists_inline_params_and_the_same_loss_twice(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "mse,mae", "-l", "quantile:q=0.1", "-l", "quantile:q=0.9", "-f", "json")
    doc = json.loads(run.out)
    assert [(r["loss"], r["params"]) for r in doc["results"]] == [
        ("mse", {"multioutput": None}),
        ("mae", {"multioutput": None}),
        ("quantile", {"q": 0.1, "multioutput": None}),
        ("quantile", {"q": 0.9, "multioutput": None}),
    ]
    d = Y - P
    for record, q in zip(doc["results"][2:], (0.1, 0.9), strict=True):
        assert record["value"] == pytest.approx(np.mean(np.maximum(q * d, (q - 1) * d)), rel=1e-12)


def test_param_scoping_and_precedence(cli, regression_csv: Path) -> None:
    run = cli(
        "eval", regression_csv, "-l", "huber,smooth_l1", "-l", "huber:delta=3", "--param", "delta=2",
        "--param", "smooth_l1.beta=0.5", "-f", "json",
    )  # fmt: skip
    doc = json.loads(run.out)
    assert [r["params"] for r in doc["results"]] == [{"delta": 2.0}, {"beta": 0.5}, {"delta": 3.0}]


def test_aliases_are_case_insensitive(cli, regression_csv: Path) -> None:
    doc = json.loads(cli("eval", regression_csv, "-l", "L2,Pinball", "-f", "json").out)
    assert [r["loss"] for r in doc["results"]] == ["mse", "quantile"]


def test_default_regression_losses(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-f", "json")
    assert [r["loss"] for r in json.loads(run.out)["results"]] == ["mse", "rmse", "mae", "huber"]
    assert "regression" in run.err


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_default_losses_notice_names_the_losses_only_a_fail_if_names(cli, regression_csv: Path, command) -> None:
    """log_cosh, evaluated and reported for --fail-if, was left out of 'evaluating mse, rmse, mae, huber'."""
    inputs = [regression_csv] * (2 if command == "compare" else 1)
    run = cli(command, *inputs, "--fail-if", "log_cosh>1e9", "--fail-if", "mse>1e9", "--reduction", "sum", "-f", "json")
    assert run.code == 0, run.err
    assert [r["loss"] for r in json.loads(run.out)["results"]] == ["mse", "mae", "huber", "log_cosh"]
    assert (
        "notice: no --loss given: the data looks like regression; evaluating mse, mae, huber, and log_cosh for "
        "--fail-if (left out rmse: only the mean reduction)\n" in run.err
    )


def test_default_binary_losses_follow_the_prediction_space(cli, write) -> None:
    probs = write("p.csv", "label,prob\n0,0.2\n1,0.7\n1,0.9\n")
    logits = write("l.csv", "label,logit\n0,-2\n1,0.5\n1,3\n")
    assert [r["loss"] for r in json.loads(cli("eval", probs, "-f", "json").out)["results"]] == ["bce", "brier"]
    assert [r["loss"] for r in json.loads(cli("eval", logits, "-f", "json").out)["results"]] == ["bce_logits", "hinge"]


def test_a_model_missing_throughout_takes_the_other_models_task(cli, write) -> None:
    # Model b with no prediction at all was 'regression' beside a's binary: 'the models' data look like different
    # tasks', exit 2, though every row is dropped for every model (a missing value in any model's column drops it).
    data = write("m.csv", "target,a,b\n0,0.2,\n1,0.8,\n")
    run = cli("eval", data, "--model", "a", "--model", "b", "--missing", "drop", "-f", "json")
    assert (run.code, run.err) == (
        3,
        "error: all 2 rows were dropped for missing values (2 in column 'b'): nothing left to evaluate\n",
    )


def test_the_rows_read_to_tell_the_task_by_are_bounded(cli, write, monkeypatch) -> None:
    # Under --missing drop the chunks without a complete row are held until one tells the task: a prediction column
    # missing throughout held the whole input in memory. Past TASK_LOOKAHEAD_ROWS rows it is a usage error naming
    # the fix; the whole input read without one is the pass's 'all rows were dropped', as before.
    monkeypatch.setattr("lossctl.evaluation.TASK_LOOKAHEAD_ROWS", 6)
    data = write("late.csv", "target,pred\n" + "1,\n" * 6 + "1,0.5\n0,0.2\n")
    run = cli("eval", data, "--missing", "drop", "--chunk-rows", "2", "-f", "json")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: no --loss given, and none of the first 6 rows has every bound value to tell the task by (--missing "
        "drop drops them); name the losses with --loss\n"
    )
    run = cli("eval", data, "--missing", "drop", "--chunk-rows", "4", "-f", "json")  # found in the second chunk
    assert run.code == 0, run.err
    assert "the data looks like binary (probabilities)" in run.err
    empty = write("empty.csv", "target,pred\n" + "1,\n" * 4)
    run = cli("eval", empty, "--missing", "drop", "--chunk-rows", "2", "-f", "json")
    assert (run.code, run.err) == (
        3,
        "error: all 4 rows were dropped for missing values (4 in column 'pred'): nothing left to evaluate\n",
    )


def test_compare_says_the_column_the_candidate_lacks_was_guessed(cli, write) -> None:
    # The baseline's guessed 'yhat' is read from the candidate too; the guess's notice is not printed when the run
    # fails, so 'column 'yhat' not found in b.csv' named a column the user never gave.
    base = write("a.csv", "y_true,yhat\n1,0.2\n0,0.4\n")
    other = write("b.csv", "y_true,pred\n1,0.3\n0,0.1\n")
    run = cli("compare", base, other, "-f", "json")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: column 'yhat' not found in {other}; columns are: y_true, pred ('yhat' is the pred guessed from its "
        f"name in {base}; compare reads both files by the same column names)\n"
    )
    run = cli("compare", base, other, "--pred", "yhat", "-f", "json")  # named: as before
    assert run.err == f"error: column 'yhat' not found in {other}; columns are: y_true, pred\n"


def test_positive_or_classes_make_the_target_labels_without_loss(cli, write) -> None:
    # Labels 1 and 2 with --positive 2 (or classes 1, 2, 3 with --classes) looked like regression without --loss,
    # and the run stopped on '--positive names the positive class of a binary loss: no selected binary loss reads
    # labels', exit 2, though the option says the target holds classes.
    binary = write("b.csv", "pred,target\n0.2,1\n0.7,2\n0.9,2\n")
    run = cli("eval", binary, "--positive", "2", "-f", "json")
    assert run.code == 0, run.err
    results = json.loads(run.out)["results"]
    assert [r["loss"] for r in results] == ["bce", "brier"]
    assert results[1]["value"] == pytest.approx((0.2**2 + 0.3**2 + 0.1**2) / 3)
    classes = write("m.csv", "target,p_0,p_1,p_2\n1,0.7,0.2,0.1\n3,0.1,0.1,0.8\n2,0.3,0.4,0.3\n")
    run = cli("eval", classes, "--pred", "p_*", "--classes", "1,2,3", "-f", "json")
    assert run.code == 0, run.err
    results = json.loads(run.out)["results"]
    assert [r["loss"] for r in results] == ["categorical_ce", "brier_multiclass", "zero_one"]
    assert results[0]["value"] == pytest.approx(-(np.log(0.7) + np.log(0.8) + np.log(0.4)) / 3)
    assert cli("eval", binary, "-f", "json").err.endswith("looks like regression; evaluating mse, rmse, mae, huber\n")


def test_a_target_of_numbers_written_as_text_is_regression_data(cli, write) -> None:
    # JSON Lines with quoted numbers ("1.5"), which -l mse reads as numbers: without --loss the target was taken for
    # class labels, binary, and the run stopped on 'holds text labels ...; name the positive class with --positive'.
    data = write("q.jsonl", '{"pred": 0.2, "target": "1.5"}\n{"pred": 0.6, "target": "0"}\n')
    run = cli("eval", data, "-f", "json")
    assert run.code == 0, run.err
    results = json.loads(run.out)["results"]
    assert [r["loss"] for r in results] == ["mse", "rmse", "mae", "huber"]
    assert results[0]["value"] == pytest.approx((1.3**2 + 0.6**2) / 2)
    assert "the data looks like regression; evaluating mse, rmse, mae, huber\n" in run.err
    # Text labels, numbers or not, stay labels of a classification task.
    for labels in (("1", "0"), ("cat", "dog")):
        text = write("t.jsonl", "".join(f'{{"pred": 0.5, "target": "{label}"}}\n' for label in labels))
        run = cli("eval", text, "-f", "json")
        assert (run.code, run.out) == (3, "")
        assert run.err.endswith(f"holds text labels (the first, '{labels[0]}', at row 0); name the positive class "
                                "with --positive LABEL\n")  # fmt: skip


@pytest.mark.parametrize("command", ["eval", "compare"])
@pytest.mark.parametrize(("negative", "positive"), [("0", "1"), ("a", "b")])
def test_the_task_is_not_decided_on_a_chunk_that_missing_drop_empties(cli, write, command, negative, positive) -> None:
    # A first chunk whose every row --missing drop drops has nothing to tell the task by: it was taken for
    # regression, so binary data got mse, rmse, mae, huber under --chunk-rows 4 and bce, brier by default.
    rows = [f"{negative},"] * 3 + [",0.5"] + [f"{negative},0.2", f"{positive},0.9", f"{positive},0.6"]
    data = write("late.csv", "target,pred\n" + "\n".join(rows) + "\n")
    labels = ["--positive", "b"] if positive == "b" else []
    inputs = [data] * (2 if command == "compare" else 1)
    for chunk in ("4", "2", "1000"):
        run = cli(command, *inputs, "--missing", "drop", "--chunk-rows", chunk, *labels, "-f", "json")
        assert run.code == 0, run.err
        results = json.loads(run.out)["results"]
        assert [r["loss"] for r in results] == ["bce", "brier"]
        # (0.2^2 + 0.1^2 + 0.4^2) / 3 with the 0/1 labels 0, 1, 1
        assert results[1].get("value", results[1].get("baseline")) == pytest.approx(0.07)
        assert "the data looks like binary (probabilities); evaluating bce, brier\n" in run.err


def test_default_losses_leave_out_those_the_options_rule_out(cli, regression_csv: Path, write) -> None:
    # The user named no loss: rmse under --reduction sum, or huber under --convention sklearn, was a usage error.
    run = cli("eval", regression_csv, "--reduction", "sum", "-f", "json")
    assert run.code == 0
    assert [r["loss"] for r in json.loads(run.out)["results"]] == ["mse", "mae", "huber"]
    assert "evaluating mse, mae, huber (left out rmse: only the mean reduction)\n" in run.err
    run = cli("compare", regression_csv, regression_csv, "--convention", "sklearn", "-f", "json")
    assert run.code == 0
    assert [r["loss"] for r in json.loads(run.out)["results"]] == ["mse", "rmse", "mae"]
    assert "evaluating mse, rmse, mae (left out huber: no sklearn convention)\n" in run.err
    scores = write("s.csv", "pred,target\n0.5,-1\n-2,1\n1,1\n")
    run = cli("eval", scores, "--convention", "torch", "-o", scores.parent / "out.json")
    assert (run.code, run.out) == (2, "")
    assert run.err.endswith(
        "error: no --loss given, and the options leave none of the default losses of binary (scores, -1/1 labels) "
        "(hinge: no torch convention; squared_hinge: no torch convention); name the losses with --loss\n"
    )
    assert not (scores.parent / "out.json").exists()


def test_default_multilabel_losses_leave_out_those_sklearn_takes_on_one_label(cli, write) -> None:
    # bce's sklearn convention takes one label column (log_loss reads K columns as one-hot classes): on
    # multi-label data with no --loss, eval and compare stopped at exit 2 on bce, a loss the user had not asked for.
    data = write("ml.csv", "a,b,pa,pb\n0,1,0.5,0.2\n1,1,1,0.4\n")
    for command in (("eval", data), ("compare", data, data)):
        run = cli(*command, "--pred", "pa,pb", "--target", "a,b", "--convention", "sklearn", "-f", "json")
        assert run.code == 0, run.err
        # sklearn.metrics.hamming_loss([[0, 1], [1, 1]], [[1, 0], [1, 0]]) == 0.75
        (result,) = json.loads(run.out)["results"]
        assert (result["loss"], result.get("value", result.get("baseline"))) == ("hamming", 0.75)
        assert "evaluating hamming (left out bce: one label column under the sklearn convention)\n" in run.err
    run = cli("eval", data, "--pred", "pa,pb", "--target", "a,b", "--convention", "sklearn", "-l", "bce")
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith("error: loss 'bce' with convention sklearn takes one label column")


def test_fail_if_exits_1_and_still_prints(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "mse", "--fail-if", "mse>0.5", "--fail-if", "mse<0.1", "-f", "json")
    assert run.code == 1
    doc = json.loads(run.out)
    value = doc["results"][0]["value"]
    assert doc["checks"] == [
        {"expr": "mse>0.5", "loss": "mse", "params": {"multioutput": None}, "value": value, "passed": False},
        {"expr": "mse<0.1", "loss": "mse", "params": {"multioutput": None}, "value": value, "passed": True},
    ]
    assert cli("eval", regression_csv, "-l", "mse", "--fail-if", "mse > 100").code == 0


@pytest.mark.parametrize("where", [["-f", "json"], ["-f", "csv"], ["-o", "r.json"], ["-o", "r.md"]])
def test_a_failed_check_is_named_on_stderr_when_stdout_has_no_check_line(
    cli, regression_csv: Path, tmp_path: Path, monkeypatch, where: list[str]
) -> None:
    # With -o or a machine format the run exited 1 without a word on which gate failed (CI logs showed only the
    # status); the table and Markdown on stdout have their check lines.
    monkeypatch.chdir(tmp_path)
    args = ["eval", regression_csv, "-l", "mse,mae", "--fail-if", "mse>0.5", "--fail-if", "mae>100", *where]
    run = cli(*args)
    value = lossctl.evaluate(str(regression_csv), losses="mse")["mse"]
    assert run.code == 1
    assert run.err.splitlines()[-1] == f"notice: check mse>0.5 FAILED: mse = {value!r}"
    assert "mae>100" not in run.err  # it passed
    assert cli(*args, "-q").err == ""  # --quiet: the exit status alone
    assert "FAILED" not in cli("eval", regression_csv, "-l", "mse", "--fail-if", "mse>0.5", "-f", "markdown").err


def test_fail_if_on_a_loss_with_parameters_and_one_not_selected(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "quantile:q=0.1,quantile:q=0.9", "--fail-if", "quantile:q=0.9>=0.0",
              "--fail-if", "mae>100", "-f", "json")  # fmt: skip
    doc = json.loads(run.out)
    assert run.code == 1
    assert [c["passed"] for c in doc["checks"]] == [False, True]
    assert doc["checks"][0]["value"] == doc["results"][1]["value"]
    assert doc["results"][-1]["loss"] == "mae"


@pytest.mark.parametrize("gate", ["mae:multioutput=raw>1", "mae : multioutput = raw > 1", "mae:multioutput=RAW>1"])
def test_fail_if_on_a_raw_loss_not_selected_is_a_usage_error(cli, write, gate: str) -> None:
    # A gated loss not selected with multioutput=raw spelled otherwise than 'multioutput=raw' (spaces, case) was
    # added as one result per output, and the gate then found no overall value: internal error (StopIteration), 4.
    data = write("two.csv", "p1,p2,y1,y2\n1,2,1,1\n3,4,2,5\n")
    output = data.with_suffix(".json")
    run = cli("eval", data, "--pred", "p1,p2", "--target", "y1,y2", "-l", "mse", "--fail-if", gate, "-o", output)
    assert (run.code, run.out) == (2, "")
    assert run.err.startswith(f"error: --fail-if '{gate}': the loss has one value per output (multioutput=raw) and a")
    assert run.err.endswith(" -l mae:multioutput=uniform --fail-if 'mae:multioutput=uniform>1.0'\n")
    assert not output.exists()


def test_check_lines_and_records_name_the_parameters(cli, regression_csv: Path) -> None:
    # Two huber checks were "huber = ..." lines and {"loss": "huber"} records: they could not be told apart.
    args = ["eval", regression_csv, "-l", "huber:delta=2", "-l", "huber:delta=3", "--fail-if", "huber:delta=2>1",
            "--fail-if", "huber:delta=3 > 0", "-q"]  # fmt: skip
    run = cli(*args)
    assert run.code == 1
    two, three = (lossctl.evaluate(regression_csv, losses=[f"huber:delta={d}"])["huber"] for d in (2, 3))
    assert run.out.endswith(
        f"check huber:delta=2>1: huber:delta=2 = {two!r} passed\n"
        f"check huber:delta=3 > 0: huber:delta=3 = {three!r} FAILED\n"
    )
    doc = json.loads(cli(*args, "-f", "json").out)
    assert [(c["loss"], c["params"]) for c in doc["checks"]] == [("huber", {"delta": 2.0}), ("huber", {"delta": 3.0})]
    markdown = cli(*args, "-f", "markdown").out
    assert f"- check `huber:delta=3 > 0`: huber:delta=3 = {three!r} (FAILED)\n" in markdown


def test_a_markdown_check_line_keeps_backquotes_and_asterisks_of_a_model_name(cli, write) -> None:
    # A model named a`b ended the line's code span early, and *x* showed as an italic x.
    path = write("m.csv", "y,p,q\n1,1.5,1\n2,2,2\n")
    args = ["eval", path, "--target", "y", "--model", "a`b=p", "--model", "*x*=q", "-l", "mae", "-q", "-f", "markdown"]
    run = cli(*args, "--fail-if", "mae@a`b>0.1", "--fail-if", "mae@*x*>0.1")
    assert run.code == 1
    assert run.out.endswith(
        "\n- check ``mae@a`b>0.1``: mae@a\\`b = 0.25 (FAILED)\n\n- check `mae@*x*>0.1`: mae@\\*x\\* = 0.0 (passed)\n"
    )


def test_a_check_line_shows_the_value_on_the_side_of_the_threshold_its_verdict_says(
    cli, write: Callable[[str, str], Path]
) -> None:
    # The table's check line rounded the value as its cells are (6 digits): 'mse>=X' with X just above the value
    # read 'mse = <a number above X> passed'. It now writes the digits its verdict needs.
    regression_csv = write("p.csv", "pred,target\n0.1,0.4\n0.2,0.9\n1.3,0.0\n")
    value = lossctl.evaluate(str(regression_csv), losses="mse")["mse"]
    assert repr(value) == "0.7566666666666667"
    just_below, just_above = value * (1 - 1e-9), value * (1 + 1e-9)
    assert f"{just_below:.6g}" == f"{value:.6g}" == f"{just_above:.6g}"  # rounded, the three look alike
    run = cli("eval", regression_csv, "-l", "mse", "--fail-if", f"mse>{just_below!r}",
              "--fail-if", f"mse>={just_above!r}", "-q")  # fmt: skip
    assert run.code == 1
    assert run.out.splitlines()[-2:] == [
        f"check mse>{just_below!r}: mse = 0.756667 FAILED",  # above just_below at 6 digits already
        f"check mse>={just_above!r}: mse = 0.756666667 passed",  # below just_above from 9 digits on
    ]


def test_a_check_line_in_exponent_form_has_every_digit_its_verdict_needs(
    cli, write: Callable[[str, str], Path]
) -> None:
    # At 17 digits the exponent form had 16: the float after 1e-05 read 1.000000000000000e-05, the check
    # 'mae>1e-05' of it 'mae = 1.000000000000000e-05 FAILED'; two models' values of that size read alike.
    above = math.nextafter(1e-05, 1.0)
    run = cli("eval", write("p.csv", f"pred,target\n{above!r},0\n"), "-l", "mae", "--fail-if", "mae>1e-05", "-q")
    assert run.code == 1
    assert run.out.splitlines()[-1] == f"check mae>1e-05: mae = {above!r} FAILED"
    models = write("m.csv", f"a,b,target\n1e-05,{above!r},0\n")
    run = cli("eval", models, "-l", "mae", "--model", "a=a", "--model", "b=b", "--target", "target", "-q")
    assert "│ 1.0000000000000001e-05 │ 1.0000000000000003e-05 │" in run.out, run.out  # 17 digits, not repr


def test_lines_of_the_table_output_are_never_broken(regression_csv: Path, tmp_path: Path) -> None:
    # Piped, rich broke every line at 80 columns: a long check became "check huber:... = " and, on the next line,
    # "0.6875 FAILED", so `| grep FAILED` lost the check's name; a long file name broke the title line.
    path = tmp_path / f"{'predictions_' * 8}.csv"
    path.write_text(regression_csv.read_text())
    check = "huber:delta=2.123456789 >= 0.00000000000000001"
    command = [sys.executable, "-m", "lossctl", "eval", str(path), "-l", "huber:delta=2.123456789", "--by", "segment"]
    run = subprocess.run([*command, "--fail-if", check, "-q"], capture_output=True, text=True,
                         env=dict(os.environ, COLUMNS="80"))  # fmt: skip
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"{path}  4 rows  pred=pred  target=target")
    assert [line for line in lines if "FAILED" in line] == [f"check {check}: huber:delta=2.123456789 = 0.6875 FAILED"]
    assert lines[-2] == "gap huber:delta=2.123456789: 0.75 (worst group: segment=b)"


@pytest.mark.parametrize(
    ("check", "line"),
    [
        ("mse>0.25", "check mse>0.25: mse = 0.25000001 FAILED"),  # was "mse = 0.25 FAILED"
        ("mse<=0.25", "check mse<=0.25: mse = 0.25000001 passed"),  # was "mse = 0.25 passed"
        ("mse>=0.25", "check mse>=0.25: mse = 0.25 FAILED"),  # rounded where that reads as its verdict
        ("mse>0.2500000050000001", "check mse>0.2500000050000001: mse = 0.25 passed"),  # the threshold itself
    ],
)
def test_a_check_line_never_rounds_its_value_to_the_other_verdict(cli, write, check: str, line: str) -> None:
    data = write("edge.csv", "y,pred\n0,0.5\n0,0.50000001\n")  # mse 0.2500000050000001
    run = cli("eval", data, "--target", "y", "-l", "mse", "--fail-if", check, "-q")
    assert (run.code, run.out.splitlines()[-1]) == (0 if "passed" in line else 1, line)


def test_a_relative_check_line_never_rounds_a_failure_to_its_threshold(cli, write) -> None:
    # A candidate worse by 1.004% failed 'worse by > 1%' and its line read "mae = +1.00% FAILED".
    base, worse = write("b.csv", "y,pred\n0,1\n0,1\n"), write("c.csv", "y,pred\n0,1.01004\n0,1.01004\n")
    args = ["compare", base, worse, "--target", "y", "-l", "mae", "--fail-if-worse", "1"]
    assert cli(*args, "-q").out.endswith("\ncheck mae worse by > 1%: mae = +1.004% FAILED\n")
    assert cli(*args, "-q", "-f", "markdown").out.endswith("\n- check `mae worse by > 1%`: mae = +1.004% (FAILED)\n")
    run = cli(*args, "-f", "json")
    assert (run.code, run.err.splitlines()[-1]) == (1, "notice: check mae worse by > 1% FAILED: mae = +1.004%")
    # 1.01 over 1 is worse by exactly 1% (the 1e-12 rule), which passes: rounded, as the verdict reads
    same = write("d.csv", "y,pred\n0,1.01\n0,1.01\n")
    assert cli("compare", base, same, *args[3:], "-q").out.endswith("\ncheck mae worse by > 1%: mae = +1.00% passed\n")


def test_csv_and_markdown_formats(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "huber:delta=2,mse", "-f", "csv")
    lines = run.out.splitlines()
    assert lines[0] == "loss,params,reduction,value,n,ci_low,ci_high"
    assert lines[1].startswith("huber,delta=2.0,mean,") and lines[1].endswith(",4,,")
    md = cli("eval", regression_csv, "-l", "mse", "-f", "markdown").out
    assert md.splitlines()[0] == "| loss | params | reduction | value | n | ci_low | ci_high |"


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_a_carriage_return_in_a_key_or_a_column_name_is_quoted_in_csv(cli, tmp_path: Path, command: str) -> None:
    # Python's csv (before 3.13) quoted a cell holding '\n' but not one holding '\r': the key 'a\rb' and a --by
    # column 'g\rh' were written bare, and a CSV reader split their rows ("new-line character seen in unquoted field").
    import pyarrow as pa

    path = tmp_path / "cr.parquet"
    table = pa.table({"target": [1.0, 2.0, 3.0], "pred": [1.5, 2.0, 4.0], "g\rh": ["a\rb", "c\r\nd", "a\rb"]})
    pq.write_table(table, path)
    args = [path, path] if command == "compare" else [path]
    run = cli(command, *args, "-l", "mse", "--by", "g\rh", "-f", "csv", "-q")
    assert run.code == 0, run.err
    rows = list(csv.reader(io.StringIO(run.out, newline="")))
    assert rows[0][-1] == "g\rh"
    assert [row[-1] for row in rows[1:]] == ["", "a\rb", "c\r\nd"]
    assert run.out.count("\n") == len(rows) + 1  # each row ends in '\n'; the one in 'c\r\nd' is quoted
    assert "\r\n" not in run.out.replace("c\r\nd", "")


def test_a_by_column_named_as_a_result_column_is_written_as_its_group_field(cli, write, tmp_path: Path) -> None:
    # --by model with --model wrote two 'model' columns to CSV; Parquet kept one of them (the groups were lost) and
    # refused --by value (a text column typed float64); to_pandas() raised a bare ValueError.
    path = write("p.csv", "a,b,target,model,value\n1,2,1,x,p\n2,2,2,y,q\n3,1,1,x,p\n")
    args = ["eval", path, "-l", "mse", "--model", "A=a", "--model", "B=b", "--by", "model", "--by", "value", "-q"]
    header = "loss,params,reduction,value,n,ci_low,ci_high,model,group.model,group.value"
    run = cli(*args, "-f", "csv")
    lines = run.out.splitlines()
    assert (lines[0], lines[2], lines[3]) == (
        header,
        "mse,multioutput=none,mean,2.0,2,,,A,x,p",
        "mse,multioutput=none,mean,0.0,1,,,A,y,q",
    )
    assert cli(*args, "-o", tmp_path / "r.parquet").code == 0
    assert pq.read_table(tmp_path / "r.parquet").column("group.value").to_pylist()[:3] == [None, "p", "q"]
    report = lossctl.evaluate(path, losses="mse", models=["A=a", "B=b"], by=["model", "value"])
    assert list(report.to_pandas().columns) == header.split(",")
    compared = cli("compare", path, "-l", "mse", "--model", "A=a", "--model", "B=b", "--by", "model", "-f", "csv")
    assert compared.out.splitlines()[0].endswith(",verdict,n,model,group.model")


def test_a_by_column_named_as_another_ones_group_field_is_not_a_second_column_of_that_name(
    cli, write, tmp_path
) -> None:
    # --by loss --by group.loss wrote two 'group.loss' columns: Parquet kept one, and the groups of 'loss' were lost.
    path = write("p.csv", "pred,target,loss,group.loss\n1,2,a,q\n2,2,b,r\n")
    args = ["eval", path, "-l", "mse", "--by", "loss", "--by", "group.loss", "-q"]
    lines = cli(*args, "-f", "csv").out.splitlines()
    assert lines[0] == "loss,params,reduction,value,n,ci_low,ci_high,group.group.loss,group.loss"
    assert lines[2] == "mse,multioutput=none,mean,1.0,1,,,a,q"
    assert cli(*args, "-o", tmp_path / "r.parquet").code == 0
    table = pq.read_table(tmp_path / "r.parquet")
    assert (table.column("group.group.loss").to_pylist(), table.column("group.loss").to_pylist()) == (
        [None, "a", "b"],
        [None, "q", "r"],
    )


def test_table_is_the_default_format(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "mse")
    assert "mse" in run.out and f"{np.mean((P - Y) ** 2):.6g}" in run.out


def test_the_tables_params_are_written_as_the_command_line_writes_them(cli, write, monkeypatch) -> None:
    # The params column printed Python's spelling: from_logits=False, class_weight=(1.0, 2.0, 0.5).
    monkeypatch.setenv("COLUMNS", "250")
    binary = write("b.csv", "pred,target\n0.2,0\n0.7,1\n0.9,1\n")
    assert "alpha=0.25 gamma=2 from_logits=false │" in cli("eval", binary, "-l", "focal:from_logits=false", "-q").out
    classes = write("c.csv", "a,b,c,target\n1,2,3,0\n0.5,0.1,2,2\n3,1,0,1\n")
    run = cli("eval", classes, "--pred", "a,b,c", "-l", "ce:class_weight=1,2,0.5", "--by", "target", "-q")
    assert run.out.count("label_smoothing=0 class_weight=1,2,0.5 │") == 4


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_output_dash_is_standard_output(cli, regression_csv: Path, tmp_path: Path, monkeypatch, command: str) -> None:
    # -o - wrote a file named '-' in the working directory; '-' is standard input for PATH, and stdout here.
    monkeypatch.chdir(tmp_path)
    inputs = [regression_csv] * (2 if command == "compare" else 1)
    run = cli(command, *inputs, "-l", "mse", "-o", "-", "-f", "csv", "-q")
    assert run.code == 0 and run.out == cli(command, *inputs, "-l", "mse", "-f", "csv", "-q").out
    assert run.out.startswith("loss,params,reduction,") and run.err == ""
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("suffix", [".json", ".csv", ".md", ".parquet"])
def test_output_file_follows_its_extension(cli, regression_csv: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"results{suffix}"
    run = cli("eval", regression_csv, "-l", "mse", "-o", out)
    assert run.code == 0 and run.out == ""
    expected = np.mean((P - Y) ** 2)
    if suffix == ".json":
        assert json.loads(out.read_text())["results"][0]["value"] == pytest.approx(expected)
    elif suffix == ".parquet":
        table = pq.read_table(out)
        assert table.column("value").to_pylist() == [pytest.approx(expected)]
        assert str(table.schema.field("ci_low").type) == "double"  # typed even when every interval is null
    else:
        assert repr(float(expected)) in out.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_integer_keys_past_int64_and_2_to_the_53_keep_their_type_and_value_in_parquet(cli, tmp_path: Path) -> None:
    # A uint64 key of 2^63 or more was an internal error (exit 4): Arrow inferred int64 from the Python ints.
    path, out = tmp_path / "k.parquet", tmp_path / "r.parquet"
    big, unsigned = [2**53 + 1, -(2**63), 2**53 + 1], pa.array([2**64 - 1, 2**63, 0], type=pa.uint64())
    pq.write_table(pa.table({"pred": [1.0, 2.0, 4.0], "target": [1.0, 3.0, 2.0], "big": big, "u": unsigned}), path)
    for key, kind, values in [("u", "uint64", [None, 2**64 - 1, 2**63, 0]), ("big", "int64", [None, *big[:2]])]:
        assert cli("eval", path, "-l", "mse", "--by", key, "-o", out, "-q").code == 0
        table = pq.read_table(out)
        assert (str(table.schema.field(key).type), table.column(key).to_pylist()) == (kind, values)


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_date_timestamp_and_decimal_keys_keep_their_type_in_parquet(cli, tmp_path: Path, command: str) -> None:
    # The Parquet output wrote keys as JSON does: a date key became text '2026-01-02', a decimal one a float.
    import datetime
    import decimal

    path, out = tmp_path / "k.parquet", tmp_path / "r.parquet"
    days = [datetime.date(2026, 1, 2), datetime.date(2026, 1, 1), datetime.date(2026, 1, 2)]
    times = [datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.timezone.utc)] * 3
    prices = pa.array([decimal.Decimal("1.10"), decimal.Decimal("2.25"), decimal.Decimal("1.10")], pa.decimal128(5, 2))
    data = {"pred": [1.0, 2.0, 4.0], "target": [1.0, 3.0, 2.0], "day": days, "at": times, "price": prices}
    pq.write_table(pa.table(data), path)
    args = [path, path] if command == "compare" else [path]
    keys = ["--by", "day", "--by", "at", "--by", "price"]
    assert cli(command, *args, "-l", "mse", *keys, "-o", out, "-q").code == 0
    table = pq.read_table(out)
    assert [str(table.schema.field(name).type) for name in ("day", "at", "price")] == [
        "date32[day]",
        "timestamp[us, tz=UTC]",
        "decimal128(3, 2)",
    ]
    assert table.column("day").to_pylist() == [None, days[0], days[1]]
    assert table.column("price").to_pylist() == [None, decimal.Decimal("1.10"), decimal.Decimal("2.25")]
    groups = [r["group"] for r in json.loads(cli(command, *args, "-l", "mse", *keys, "-f", "json").out)["results"]]
    assert groups[1] == {"day": "2026-01-02", "at": "2026-01-01T12:00:00+00:00", "price": 1.1}  # JSON as before


def test_nanosecond_timestamp_and_duration_keys_keep_their_nanoseconds_in_parquet(cli, tmp_path: Path) -> None:
    # Keys of timestamp[ns] (pandas' default) and duration[ns] were written to the Parquet output in microseconds:
    # the groups 00:00:00.000000001 and ...002 were both 00:00:00 there, and the durations 1 ns and 2 ns both 0.
    path, out = tmp_path / "k.parquet", tmp_path / "r.parquet"
    stamps = pa.array([1, 2, 1], pa.timestamp("ns", tz="Asia/Kolkata"))
    took = pa.array([1, 2, 1], pa.duration("ns"))
    data = {"pred": [1.0, 2.0, 4.0], "target": [1.0, 3.0, 2.0], "at": stamps, "took": took}
    pq.write_table(pa.table(data), path)
    assert cli("eval", path, "-l", "mse", "--by", "at", "--by", "took", "-o", out, "-q").code == 0
    table = pq.read_table(out)
    assert table.schema.field("at").type == stamps.type and table.schema.field("took").type == pa.duration("ns")
    assert table.column("at").cast(pa.int64()).to_pylist() == [None, 1, 2]
    assert table.column("took").cast(pa.int64()).to_pylist() == [None, 1, 2]


def test_nanosecond_times_of_day_stay_distinct_groups_in_every_output(cli, tmp_path: Path) -> None:
    # pyarrow's as_py cuts a time64[ns] value to the microsecond: the keys 1 ns and 2 ns were two groups shown
    # 00:00:00 in every format, written as time64[us] 0 to the Parquet output, and one time in --per-sample JSON Lines.
    path, out, rows = tmp_path / "t.parquet", tmp_path / "r.parquet", tmp_path / "rows.jsonl"
    times = pa.array([1, 2, 3000, 1], pa.time64("ns"))
    pq.write_table(pa.table({"pred": [1.0, 2.0, 4.0, 3.0], "target": [1.0, 1.0, 1.0, 1.0], "t": times}), path)
    shown = ["00:00:00.000000001", "00:00:00.000000002", "00:00:00.000003"]
    args = ["eval", path, "-l", "mae", "--by", "t", "-q"]
    document = json.loads(cli(*args, "-f", "json").out)
    assert [record["group"]["t"] for record in document["results"][1:]] == shown
    assert [record["value"] for record in document["results"][1:]] == [1.0, 1.0, 3.0]
    assert [line.rsplit(",", 1)[1] for line in cli(*args, "-f", "csv").out.splitlines()[2:]] == shown
    assert [line.rsplit(" | ", 1)[1] for line in cli(*args, "-f", "markdown").out.splitlines()[3:6]] == [
        f"{time} |" for time in shown
    ]
    assert all(f"│ mae  │ {time}" in cli(*args).out for time in shown)
    assert cli(*args, "-o", out).code == 0
    table = pq.read_table(out)
    assert table.schema.field("t").type == pa.time64("ns")
    assert table.column("t").cast(pa.int64()).to_pylist() == [None, 1, 2, 3000]
    assert cli("eval", path, "-l", "mae", "--on", "t", "--targets", path, "--per-sample", rows, "-q").code == 3
    unique = tmp_path / "u.parquet"
    pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [1.0, 1.0], "t": times[:2]}), unique)
    assert cli("eval", unique, "-l", "mae", "--on", "t", "--targets", unique, "--per-sample", rows, "-q").code == 0
    assert [json.loads(line)["t"] for line in rows.read_text().splitlines()] == shown[:2]


def test_decimal_ids_stay_distinct_groups_in_every_output(cli, tmp_path: Path) -> None:
    # Decimal keys were written as floats: the ids 12345678901234567890123 and ...124 (decimal(38, 0)) were two
    # groups that JSON, CSV and the table all showed as 1.2345678901234568e+22; a scale of 0 is now an integer.
    import decimal

    path = tmp_path / "d.parquet"
    ids = [decimal.Decimal("12345678901234567890123"), decimal.Decimal("12345678901234567890124")]
    pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [1.0, 1.0], "d": pa.array(ids, pa.decimal128(38, 0))}), path)
    args = ["eval", path, "-l", "mse", "--by", "d", "-q"]
    expected = [None, *map(int, ids)]
    assert [r["group"] and r["group"]["d"] for r in json.loads(cli(*args, "-f", "json").out)["results"]] == expected
    assert [line.split(",")[-1] for line in cli(*args, "-f", "csv").out.splitlines()[1:]] == ["", *map(str, ids)]
    assert all(str(i) in cli(*args).out for i in ids)
    frame = lossctl.evaluate(str(path), losses="mse", by=["d"]).to_pandas()  # past 64 bits: Python ints
    assert frame["d"].tolist() == expected


def test_decimal_keys_beyond_a_float_stay_distinct_and_exact_in_every_output(cli, tmp_path: Path) -> None:
    # A decimal key with a scale was written as a float: 123456789012345678.90 and ...678.80 (decimal(38, 2)) were
    # two groups that JSON, CSV and the table all showed as 1.2345678901234568e+17. A float that reads back as the
    # key is still a number (0.10 is 0.1); any other key is its exact text.
    import decimal

    path = tmp_path / "d.parquet"
    keys = [decimal.Decimal("123456789012345678.90"), decimal.Decimal("123456789012345678.80"), decimal.Decimal("0.10")]
    data = {"pred": [1.0, 2.0, 3.0], "target": [1.0, 1.0, 1.0], "k": pa.array(keys, pa.decimal128(38, 2))}
    pq.write_table(pa.table(data), path)
    args = ["eval", path, "-l", "mse", "--by", "k", "-q"]
    expected = [None, "123456789012345678.90", "123456789012345678.80", 0.1]
    assert [r["group"] and r["group"]["k"] for r in json.loads(cli(*args, "-f", "json").out)["results"]] == expected
    assert [line.split(",")[-1] for line in cli(*args, "-f", "csv").out.splitlines()[1:]] == ["", *expected[1:3], "0.1"]
    assert all(str(key) in cli(*args).out for key in keys[:2])
    assert lossctl.evaluate(str(path), losses="mse", by="k").value("mse", group={"k": keys[1]}) == 1.0


def test_list_and_describe(cli) -> None:
    doc = json.loads(cli("list", "--format", "json").out)
    names = {entry["name"] for entry in doc}
    assert {"mse", "huber", "bce", "focal", "gaussian_nll"} <= names
    huber = next(e for e in doc if e["name"] == "huber")
    assert huber["params"][0]["name"] == "delta" and huber["params"][0]["default"] == 1.0
    regression = json.loads(cli("list", "--task", "binary", "--format", "json").out)
    assert {e["task"] for e in regression} == {"binary"}
    page = cli("describe", "Huber").out
    assert "delta" in page and "HuberLoss" in page and "when to use it" in page
    page = cli("describe", "focal").out  # defaults as the command line writes them, not Python's True and None
    assert "from_logits (bool, default true," in page
    assert "class_weight (floats, default none," in cli("describe", "cross_entropy").out


def test_version_and_python_m() -> None:
    run = subprocess.run([sys.executable, "-m", "lossctl", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == f"lossctl {lossctl.__version__}"


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_eval_and_compare_report_progress_to_the_bar(cli, tmp_path: Path, monkeypatch, command: str) -> None:
    """cli.md: files are read in chunks 'with a progress bar on stderr when stderr is a terminal'. compare never
    made one: a comparison of two large files was silent until it ended."""
    path = tmp_path / "p.csv"
    path.write_text("pred,target\n" + "".join(f"{i % 7},{i % 5}\n" for i in range(1000)))
    calls: list[tuple[int, int | None]] = []

    class Bar:
        def __call__(self, rows: int, total: int | None) -> None:
            calls.append((rows, total))

        def close(self) -> None:
            calls.append((-1, None))

    monkeypatch.setattr(lossctl.cli, "_progress_bar", lambda quiet: contextlib.closing(Bar()))
    run = cli(command, path, *([path] if command == "compare" else []), "-l", "mse", "--chunk-rows", "300", "-q")
    assert run.code == 0, run.err
    assert calls == [(300, None), (600, None), (900, None), (1000, None), (-1, None)]  # a CSV has no row count


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"], ["describe", "huber"]])
def test_stripped_docstrings_change_no_help_or_description(args: list[str]) -> None:
    """Under python -OO (PYTHONOPTIMIZE=2), which strips docstrings, 'lossctl --help' listed the commands with no
    description, each command's --help lost its first paragraph, and 'describe huber' its 'details:' (the formula,
    the domain and the hand-checked example): they came from docstrings. They are read from the source then."""
    plain, stripped = (
        subprocess.run([sys.executable, *flags, "-m", "lossctl", *args], capture_output=True, text=True, timeout=60)
        for flags in ([], ["-OO"])
    )
    assert plain.returncode == stripped.returncode == 0, stripped.stderr
    assert stripped.stdout == plain.stdout
    assert {"--help": "eval      Compute one", "eval": "Compute one", "describe": "details:"}[args[0]] in plain.stdout


def test_no_command_is_a_usage_error() -> None:
    """'lossctl' alone printed the --help text and exited 0, so that 'lossctl $COMMAND' with an unset variable
    passed in a script; a missing command is a usage error (exit 2) as in Click, ruff or jq, in one 'error:' line
    and the hint."""
    run = subprocess.run([sys.executable, "-m", "lossctl"], capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.splitlines() == ["error: Missing command.", "try 'lossctl --help' for help"]


@pytest.mark.parametrize("args", [["--help"], ["list"], ["eval", "--help"], ["describe", "mse"]])
def test_light_commands_do_not_import_pandas_or_pyarrow(args: list[str]) -> None:
    code = (
        f"import sys; from lossctl.cli import main; main({args!r}); "
        "heavy = [m for m in ('pandas', 'pyarrow') if m in sys.modules]; print(heavy)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="OpenBLAS starts one thread per core at most")
@pytest.mark.parametrize(("environment", "expected"), [({}, "1 False 0"), ({"OPENBLAS_NUM_THREADS": "2"}, "2 False 0"),
                                                       ({"NUMPY_MADVISE_HUGEPAGE": "1"}, "1 True 0"),
                                                       ({"MIMALLOC_ALLOW_THP": "1"}, "1 False 1")])  # fmt: skip
def test_the_command_sets_blas_threads_and_huge_pages_unless_told(environment: dict[str, str], expected: str) -> None:
    """OpenBLAS's idle threads spin at start-up, and NumPy's and mimalloc's huge pages stall (lossctl/__main__.py).
    NumPy's private setter returns the setting it replaces: the one made at import."""
    code = (
        "import os, lossctl.__main__, lossctl.threads, numpy; "
        "print(lossctl.threads._openblas()[1](), numpy._core.multiarray._set_madvise_hugepage(True), "
        "os.environ['MIMALLOC_ALLOW_THP'])"
    )
    names = ("OPENBLAS_NUM_THREADS", "NUMPY_MADVISE_HUGEPAGE", "MIMALLOC_ALLOW_THP")
    env = {k: v for k, v in os.environ.items() if k not in names} | environment
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert run.stdout.strip() == expected


def test_the_command_reads_into_arrows_jemalloc_pool_and_the_library_leaves_the_pool_alone(
    regression_csv: Path,
) -> None:
    """mimalloc's fresh pages cost up to 10x the kernel time of jemalloc's here (lossctl/memory.py)."""
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc pool")
    code = (
        "import sys, lossctl, pyarrow as pa; from lossctl.cli import main; "
        "print(pa.default_memory_pool().backend_name); "
        f"lossctl.evaluate({str(regression_csv)!r}, losses='mse', pred='pred', target='target'); "
        "print(pa.default_memory_pool().backend_name); "
        f"main(['eval', {str(regression_csv)!r}, '-l', 'mse', '-q']); print(pa.default_memory_pool().backend_name)"
    )
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    default, after_library, *_, after_command = run.stdout.split()
    assert default != "jemalloc" and after_library == default and after_command == "jemalloc"


@pytest.mark.skipif(not hasattr(ctypes.CDLL(None), "mallinfo2"), reason="needs glibc 2.33 or later")
def test_the_command_keeps_freed_memory_for_reuse_and_starts_no_process(regression_csv: Path) -> None:
    """glibc serves a block above its mmap threshold (32 MB at most unless told) with fresh pages each time;
    the command raises the threshold (lossctl/memory.py) without running a program to find libc."""
    code = f"""
import ctypes, sys
started = []
sys.addaudithook(lambda event, _: event in ("subprocess.Popen", "os.posix_spawn", "os.fork") and started.append(event))
from lossctl.cli import main
main(["eval", {str(regression_csv)!r}, "-l", "mse", "-q"])
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype, libc.malloc.restype, libc.malloc.argtypes = Info, ctypes.c_void_p, [ctypes.c_size_t]
before = libc.mallinfo2().hblks
libc.malloc(64 << 20)
print(libc.mallinfo2().hblks - before, started)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split("\n")[-2] == "0 []"


def test_api_evaluate_matches_the_cli(regression_csv: Path) -> None:
    report = lossctl.evaluate(str(regression_csv), losses=["mse", "huber:delta=2"], pred="pred", target="target")
    assert [r.loss for r in report.results] == ["mse", "huber"]
    assert report.results[0].value == pytest.approx(np.mean((P - Y) ** 2))
    assert lossctl.get("huber")(Y, P, delta=2.0) == pytest.approx(report.results[1].value, rel=1e-15)


def test_fail_if_naming_an_unknown_loss_is_a_usage_error(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "mse", "--fail-if", "nope>1")
    assert run.code == 2 and "unknown loss 'nope'" in run.err


@pytest.mark.parametrize("option", ["-o", "--per-sample", "--plot"])
def test_an_empty_file_name_is_a_usage_error(cli, regression_csv: Path, option: str) -> None:
    run = cli("eval", regression_csv, "-l", "mse", option, "")
    assert run.code == 2 and "needs a file name" in run.err and run.out == ""


def test_short_version_flag(cli) -> None:
    run = cli("-V")
    assert run.code == 0 and run.out == f"lossctl {lossctl.__version__}\n"


@pytest.mark.parametrize("command", ["eval", "compare", "list", "describe", "suggest"])
def test_every_command_help_ends_with_examples(cli, command: str) -> None:
    run = cli(command, "--help")
    assert run.code == 0
    tail = run.out.rstrip().split("Examples:")[-1].strip().splitlines()
    assert 2 <= len(tail) <= 3 and all(line.strip().startswith(f"$ lossctl {command}") for line in tail)
    # Each example runs as pasted: a glob the shell would expand (suggest's '--pred logit_*' was unquoted) is quoted.
    for line in tail:
        assert all(word[0] in "'\"" for word in shlex.split(line, posix=False) if "*" in word), line


def test_choices_are_case_insensitive_and_list_writes_csv(cli) -> None:
    as_json = json.loads(cli("list", "-f", "JSON").out)
    rows = list(csv.DictReader(io.StringIO(cli("list", "-f", "csv").out)))
    assert [row["name"] for row in rows] == [entry["name"] for entry in as_json]
    focal = next(row for row in rows if row["name"] == "focal")
    assert focal["roles"] == "target:any;pred:any"
    assert "alpha=0.25" in focal["params"] and "from_logits=true" in focal["params"]
    cross_entropy = next(row for row in rows if row["name"] == "cross_entropy")
    assert "class_weight=none" in cross_entropy["params"]


def test_list_writes_markdown_with_the_csv_rows(cli) -> None:
    """``--format markdown`` works for every command that writes a table (docs/cli.md, "Output")."""
    rows = list(csv.reader(io.StringIO(cli("list", "-f", "csv").out)))
    lines = cli("list", "--format", "markdown").out.splitlines()
    assert lines[1] == "|" + "---|" * len(rows[0])
    cells = [[cell.strip() for cell in line.strip("| ").split(" | ")] for line in [lines[0], *lines[2:]]]
    escaped = {"|": "\\|", "*": "\\*", "`": "\\`"}  # '** 2' in js_div's reference would show as bold
    assert cells == [["".join(escaped.get(c, c) for c in cell) for cell in row] for row in rows]


def test_markdown_cells_show_a_composites_formula_as_written(cli, regression_csv: Path) -> None:
    # 'formula=0.7*mse+0.3*mae' rendered as formula=0.7<em>mse+0.3</em>mae: '*' emphasises inside words.
    md = cli("eval", regression_csv, "-l", "total=0.7*mse+0.3*mae", "-f", "markdown").out
    assert "| total | formula=0.7\\*mse+0.3\\*mae | mean |" in md
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    assert "<td>formula=0.7*mse+0.3*mae</td>" in html


def test_describe_shows_the_parameters_of_a_spec_string(cli) -> None:
    """'huber:delta=2' was accepted and the page said nothing of delta=2."""
    page = cli("describe", "huber:delta=2").out
    assert "  delta = 2.0 (float, default 1.0, > 0)\n" in page
    assert "  alpha = 0.5 (float, default 0.25, <= 1)\n" in cli("describe", "focal:alpha=0.5").out
    assert "  delta (float, default 1.0, > 0)\n" in cli("describe", "huber").out


def test_describe_messages_quote_the_spec_not_a_flag(cli) -> None:
    """describe has no -l: 'mse:' was "expected KEY=VALUE in '-l mse:'"."""
    run = cli("describe", "mse:")
    assert (run.code, run.out, run.err) == (2, "", "error: expected KEY=VALUE in 'mse:', got ''\n")
    run = cli("describe", "huber:delta=1:delta=2")
    assert (run.code, run.err) == (2, "error: 'huber:delta=1:delta=2' gives 'delta' twice\n")


@pytest.mark.parametrize(
    ("loss", "refused", "args", "error"),
    [
        ("nll", "lossctl refuses one above 0", ["--pred", "p_*"], "expected log-probabilities <= 0, got 0.5"),
        ("kl_div", "lossctl refuses under this convention too rows", ["--target", "y_*", "--pred", "p_*"], "sums"),
        ("soft_margin", "lossctl refuses labels other than 1 and -1", ["--target", "y", "--pred", "p_0"], "got 0"),
        ("hinge_embedding", "lossctl refuses labels other than 1 and -1", ["--target", "y", "--pred", "p_0"], "0"),
    ],
)
def test_describe_says_what_the_torch_convention_refuses(cli, write, loss, refused, args, error) -> None:
    # nll's page said "torch does not check that its input holds log-probabilities", and soft_margin's and
    # kl_div's did not say that lossctl refuses, under --convention torch, inputs torch takes.
    page = " ".join(cli("describe", loss).out.split())
    torch = page[page.index(" torch: ") : page.index(" properties: ")]
    assert refused in torch and "does not check" not in torch
    data = write("d.csv", "y,y_0,y_1,p_0,p_1\n0,0.2,0.2,0.5,-0.2\n1,0.5,0.5,-0.1,-3\n")
    run = cli("eval", data, "-l", loss, *args, "--convention", "torch", "-q")
    assert run.code == 3 and run.err.startswith(f"error: {loss}: ") and error in run.err, run.err


def test_describe_takes_one_loss(cli) -> None:
    """A list as -l takes it was 'unknown loss 'mse,mae'; did you mean smape, mse, mae?'."""
    run = cli("describe", "mse,huber:delta=2")
    assert (run.code, run.out) == (2, "")
    assert (
        run.err == "error: describe takes one loss, got the list 'mse,huber:delta=2'; describe each loss on its own\n"
    )
    assert "  class_weight = 1.0,2.0,0.5 (floats" in cli("describe", "cross_entropy:class_weight=1,2,0.5").out
    # a composite was "unknown loss 'total=0.5*mse+mae' (run 'lossctl list' to see every loss)"
    run = cli("describe", "total=0.5*mse+mae")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: describe takes one loss, got the composite 'total=0.5*mse+mae'; describe each of its parts\n"
    )
    run = cli("describe", "0.5*mse+mae")  # without its name too
    assert (run.code, run.err) == (
        2,
        "error: describe takes one loss, got the composite '0.5*mse+mae'; describe each of its parts\n",
    )


def test_describe_wraps_at_the_terminal_width(cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")

    def advice(page: str) -> list[str]:
        return page.split("when to use it:\n")[1].split("\n\n")[0].splitlines()

    narrow = advice(cli("describe", "huber").out)
    assert max(len(line) for line in narrow) <= 60
    monkeypatch.setenv("COLUMNS", "120")
    wide = advice(cli("describe", "huber").out)
    assert max(len(line) for line in wide) > 60 and len(wide) < len(narrow)


def test_completion_installs_for_the_shell_named_and_completes_loss_names(tmp_path: Path) -> None:
    env = dict(os.environ, HOME=str(tmp_path), SHELL="/bin/bash")
    run = subprocess.run([sys.executable, "-m", "lossctl", "--install-completion", "zsh"], env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0 and run.stdout.startswith("zsh completion installed in ")
    assert (tmp_path / ".zfunc" / "_lossctl").is_file()
    env |= {"_LOSSCTL_COMPLETE": "complete_bash", "COMP_WORDS": "lossctl describe hu", "COMP_CWORD": "2"}
    done = subprocess.run([sys.executable, "-m", "lossctl"], env=env, capture_output=True, text=True)
    assert done.stdout.split() == ["huber"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_that_cannot_be_written_is_a_failed_write(tmp_path: Path, shell: str) -> None:
    """HOME a file (or unwritable, or on a full disk): 'error: internal error (FileExistsError ...)', exit 4."""
    home = tmp_path / "home"
    home.write_text("")
    env = dict(os.environ, HOME=str(home), SHELL="/bin/bash")
    run = subprocess.run([sys.executable, "-m", "lossctl", "--install-completion", shell], env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr.startswith(f"error: cannot write '{home}") and run.stderr.count("\n") == 1, run.stderr


def test_the_written_notice_counts_results_in_words(cli, tmp_path: Path, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "mse", "-o", tmp_path / "r.json")
    assert run.code == 0 and f"notice: wrote 1 result to {tmp_path / 'r.json'}\n" in run.err


def test_per_sample_takes_every_extension_that_names_its_formats_as_an_input(cli, regression_csv, tmp_path) -> None:
    # rows.pq and rows.ndjson were refused ('cannot tell the format'), though lossctl reads both by those names.
    for name in ("rows.pq", "rows.ndjson"):
        run = cli("eval", regression_csv, "-l", "mse", "--per-sample", tmp_path / name, "-f", "csv", "-q")
        assert run.code == 0, run.err
        again = cli("eval", tmp_path / name, "--pred", "mse", "--target", "row", "-l", "mae", "-f", "csv", "-q")
        assert again.code == 0 and again.out.splitlines()[1] == "mae,multioutput=none,mean,0.75,4,,", again.err


def test_options_without_effect_get_a_notice(cli, regression_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    run = cli("eval", regression_csv, "-l", "mse,rmse", "--per-sample", out, "--seed", "3", "-f", "json")
    assert run.code == 0
    assert "notice: --seed has no effect without --bootstrap (it seeds the resampling)" in run.err.splitlines()
    # rmse's reason was the generic "is an aggregate of the whole input", while -l rmse alone gave its own.
    rmse = (
        "rmse is the root of a mean over the whole input, with no per-row values (the loss under the root, mse for "
        "rmse and msle for rmsle, has them)"
    )
    assert f"notice: --per-sample: {rmse}; left out of {out}" in run.err.splitlines()
    alone = cli("eval", regression_csv, "-l", "rmse", "--per-sample", out)
    assert alone.code == 2
    assert alone.err == f"error: --per-sample: none of the selected losses has per-row values: {rmse}\n"
    # --significant qualifies --fail-if-worse: alone it gated nothing, without a word.
    run = cli("compare", regression_csv, regression_csv, "-l", "mse", "--bootstrap", "20", "--significant", "-f", "csv")
    assert run.code == 0, run.err
    assert (
        "notice: --significant has no effect without --fail-if-worse (it fails that gate only where it is significant)"
        in run.err.splitlines()
    )
    assert out.read_text().splitlines()[0] == '"row","mse"'


def test_output_and_per_sample_naming_one_file_by_a_symlink_is_a_usage_error(cli, regression_csv, tmp_path) -> None:
    """-o x.csv --per-sample link.csv (link.csv -> x.csv) wrote the per-row losses, then the results over them."""
    (tmp_path / "link.csv").symlink_to(tmp_path / "x.csv")
    args = [regression_csv, "-l", "mse", "-o", tmp_path / "x.csv", "--per-sample", tmp_path / "link.csv"]
    run = cli("eval", *args)
    assert (run.code, run.out) == (2, "")
    assert run.err == f"error: --output and --per-sample both name '{tmp_path / 'x.csv'}'; give each its own file\n"
    assert not (tmp_path / "x.csv").exists()


def test_per_sample_writes_a_composite_of_per_row_losses(cli, write, tmp_path: Path) -> None:
    # A composite of per-row losses has per-row values (its parts' weighted sum), averaged into its reported value;
    # it was left out of the file without a word. One with an aggregate part is left out with the notice.
    path = write("p.csv", "target,a,b,g\n1,1.5,1,x\n2,,2.5,x\n3,2,3,y\n4,4.5,6,y\n")
    out = tmp_path / "rows.jsonl"
    run = cli("eval", path, "-l", "t=0.5*mse+2*mae", "-l", "u=rmse+mae", "--model", "a=a", "--model", "b=b",
              "--by", "g", "--missing", "drop", "--per-sample", out, "-f", "json")  # fmt: skip
    assert run.code == 0, run.err
    assert (
        "notice: --per-sample: rmse is the root of a mean over the whole input, with no per-row values (the loss "
        "under the root, mse for rmse and msle for rmsle, has them); u adds up rmse, with no per-row values; left out "
        f"of {out}" in run.err.splitlines()
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert list(rows[0]) == ["row", "mse@a", "mse@b", "mae@a", "mae@b", "t@a", "t@b"]
    assert [row["row"] for row in rows] == [0, 2, 3]
    for row in rows:
        for model in "ab":
            assert row[f"t@{model}"] == 0.5 * row[f"mse@{model}"] + 2 * row[f"mae@{model}"]
    results = json.loads(run.out)["results"]
    for model in "ab":
        overall = next(r for r in results if (r["loss"], r["model"], r["group"]) == ("t", model, None))
        assert overall["value"] == pytest.approx(np.mean([row[f"t@{model}"] for row in rows]), rel=1e-15)
    compared = cli("compare", path, "-l", "t=0.5*mse+2*mae", "--model", "a=a", "--model", "b=b",
                   "--missing", "drop", "--per-sample", out, "-q")  # fmt: skip
    assert compared.code == 0, compared.err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [key for key in rows[0] if key.startswith("t")] == ["t@a", "t@b", "t:delta@b"]
    assert [row["t:delta@b"] for row in rows] == [row["t@b"] - row["t@a"] for row in rows]


def test_per_sample_writes_one_column_per_output_of_multioutput_raw(cli, write, tmp_path: Path) -> None:
    # A multioutput=raw loss reports mse[0], mse[1]; its per-sample file held one pooled column
    # 'mse:multioutput=raw' (the rows' mean over the outputs), named like no result. Each output's column now
    # averages to its result, with the deltas of compare split the same way.
    path = write("p.csv", "y1,y2,p1,p2\n1,2,1.5,2.5\n2,3,2,4\n3,1,2,2\n")
    out = tmp_path / "rows.parquet"
    run = cli("eval", path, "--pred", "p1,p2", "--target", "y1,y2", "-l", "mse:multioutput=raw,mae",
              "--per-sample", out, "-f", "json", "-q")  # fmt: skip
    assert run.code == 0, run.err
    table = pq.read_table(out).to_pydict()
    assert table == {"row": [0, 1, 2], "mse[0]": [0.25, 0.0, 1.0], "mse[1]": [0.25, 1.0, 1.0], "mae": [0.5, 0.5, 1.0]}
    values = {r["loss"]: r["value"] for r in json.loads(run.out)["results"]}
    assert values["mse[0]"] == pytest.approx(np.mean(table["mse[0]"]), rel=1e-15)
    assert values["mse[1]"] == pytest.approx(np.mean(table["mse[1]"]), rel=1e-15)
    compared = cli("compare", path, path, "--pred", "p1,p2", "--target", "y1,y2", "-l", "mse:multioutput=raw",
                   "--per-sample", tmp_path / "c.csv", "-q")  # fmt: skip
    assert compared.code == 0, compared.err
    assert (tmp_path / "c.csv").read_text().splitlines()[0] == (
        '"row","mse[0]@baseline","mse[1]@baseline","mse[0]@candidate","mse[1]@candidate",'
        '"mse[0]:delta@candidate","mse[1]:delta@candidate"'
    )


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["eval", "x.csv", "-l"], "try 'lossctl eval --help' for help"),  # Click names no command for this one
        (["compare", "a.csv", "b.csv", "--bogus"], "try 'lossctl compare --help' for help"),
        (["evaluate"], "try 'lossctl --help' for help"),
        (["help", "eval"], "try 'lossctl eval --help' for help"),  # as git help is typed; it said 'lossctl --help'
        (["help", "evl"], "try 'lossctl --help' for help"),
    ],
)
def test_a_usage_error_points_to_the_commands_help(cli, args: list[str], hint: str) -> None:
    run = cli(*args)
    assert run.code == 2 and run.err.splitlines()[-1] == hint


@pytest.mark.parametrize("where", ["lossctl.execution.run", "pyarrow.parquet.ParquetFile.iter_batches"])
def test_running_out_of_memory_is_an_input_error_saying_what_to_change(
    cli, tmp_path: Path, monkeypatch, where: str
) -> None:
    """A MemoryError (NumPy's, or pyarrow's ArrowMemoryError while reading) was "internal error ... this is a bug in
    lossctl", or "cannot read 'p.parquet' as Parquet: malloc of size 33554432 failed", blaming the file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [0.0, 2.0]}), path)

    def fail(*args: object, **kwargs: object) -> None:
        raise pa.ArrowMemoryError("malloc of size 33554432 failed")

    monkeypatch.setattr(where, fail)
    run = cli("eval", path, "-l", "mse", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: out of memory (malloc of size 33554432 failed); lower --chunk-rows or --bootstrap, group by fewer "
        "values, or run where more memory is available\n"
    )


def test_an_error_of_a_default_loss_says_it_was_chosen_from_the_first_rows(cli, write) -> None:
    # Without --loss, bce was chosen from the first chunk (probabilities); a later chunk's logits were an error about a
    # loss the user never named, and the notice that it was chosen is not printed when the run fails.
    rows = [f"{i % 2},0.{i}" for i in range(1, 5)] + [f"{i % 2},{i}.5" for i in range(4)]
    path = write("late.csv", "target,pred\n" + "\n".join(rows) + "\n")
    run = cli("eval", path, "--chunk-rows", "4", "-f", "csv")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: bce: column 'pred' (pred): expected probabilities in [0, 1] (for logits, use bce_logits), got 1.5 in "
        "3 rows (first: row 5) (bce was chosen without --loss: the first rows read look like binary (probabilities); "
        "name the losses with --loss)\n"
    )
    run = cli("eval", path, "--chunk-rows", "4", "-f", "csv", "-l", "bce")  # named: as before
    assert run.err.endswith("got 1.5 in 3 rows (first: row 5)\n")
    # compare chooses its losses the same way, and says so the same way (it did not).
    run = cli("compare", path, path, "--chunk-rows", "4", "-f", "csv")
    assert (run.code, run.out) == (3, "")
    assert run.err.endswith(
        "(bce was chosen without --loss: the first rows read look like binary (probabilities); name the losses with "
        "--loss)\n"
    )


def test_an_error_of_a_loss_a_check_names_is_not_said_to_be_chosen(cli, write) -> None:
    # Without --loss, a loss that only --fail-if names was named by the user: its error said "(bce was chosen without
    # --loss: the first rows read look like regression; ...)", as if lossctl had picked bce for regression data.
    path = write("reg.csv", "target,pred\n0.5,0.2\n2,3\n")
    run = cli("eval", path, "--fail-if", "bce>1", "-f", "csv")
    assert (run.code, run.out) == (3, "")
    assert run.err.endswith(
        "error: bce: column 'pred' (pred): expected probabilities in [0, 1] (for logits, use bce_logits), got 3 in 1 "
        "row (first: row 1)\n"
    )


@pytest.mark.parametrize(
    ("option", "name"),
    [("-o", "o.parquet"), ("-o", "o.json"), ("-o", "o.csv"), ("-o", "o.md"), ("--per-sample", "ps.parquet"),
     ("--per-sample", "ps.csv"), ("--per-sample", "ps.jsonl")],
)  # fmt: skip
def test_outputs_in_a_folder_whose_name_is_not_utf8(cli, regression_csv, tmp_path, option: str, name: str) -> None:
    """A folder named in other bytes (résultats/ from a Latin-1 system, held by Python as surrogates): a Parquet
    output, and a per-sample Parquet or CSV file, were 'error: internal error (UnicodeEncodeError ...)', exit 4,
    as Arrow's writers were given the name. They write through a Python file now, as the other formats did; each
    file is the one a UTF-8 folder gets."""
    written = []
    results = ["-f", "csv"] if option == "--per-sample" else []  # to stdout
    for folder in (tmp_path / "plain", tmp_path / os.fsdecode(b"r\xe9sultats")):
        folder.mkdir()
        run = cli("eval", regression_csv, "-l", "mae", "-q", option, folder / name, *results)
        assert (run.code, run.err, os.listdir(folder)) == (0, "", [name])
        written.append((folder / name).read_bytes())
    assert written[0] == written[1] and b"mae" in written[0]


def test_one_row_dropped_is_named_in_the_singular(cli, write) -> None:
    # 'all 1 rows were dropped for missing values'
    run = cli("eval", write("one.csv", "pred,target\n,1\n"), "-l", "mse", "--missing", "drop")
    assert (run.code, run.err) == (
        3,
        "error: the only row was dropped for missing values (1 in column 'pred'): nothing left to evaluate\n",
    )


def test_a_single_valued_option_given_twice_keeps_the_last_and_words_take_any_case(cli, regression_csv: Path) -> None:
    # README "Choose losses and parameters": the last of a repeated single-valued option wins, as in Click.
    run = cli("eval", regression_csv, "-ql", "MSE", "-f", "json", "--format", "CSV", "--target", "id", "--target",
              "target", "--reduction", "Sum", "--reduction", "MEAN")  # fmt: skip
    assert run.code == 0, run.err
    assert run.out.splitlines()[1].startswith("mse,multioutput=none,mean,1.375,4,")


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_reduction_none_on_the_command_line_points_to_per_sample(cli, regression_csv: Path, command: str) -> None:
    # Click's "Invalid value for '--reduction': 'none' is not one of 'mean', 'sum'" did not say where per-row losses
    # are; the message the Python API gives (check_reduction) is the command line's too, in any case.
    inputs = [regression_csv] * (2 if command == "compare" else 1)
    run = cli(command, *inputs, "-l", "mse", "--reduction", "None")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: --reduction none is not a reduction lossctl takes: --per-sample PATH writes the per-row losses\n"
    )
    assert "'bogus' is not one of 'mean', 'sum'" in cli("eval", regression_csv, "-l", "mse", "--reduction", "bogus").err
    assert "--reduction <mean|sum>" in cli("eval", "--help").out


def test_a_path_starting_with_a_dash_read_as_an_option_says_to_put_two_dashes(cli, tmp_path: Path, monkeypatch) -> None:
    # eval -p.csv said "No such option: -p" and "try 'lossctl eval --help'", which does not tell how to read the file.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-p.csv").write_text("pred,target\n1,2\n3,3\n")
    run = cli("eval", "-p.csv", "-l", "mse")
    assert run.code == 2 and run.out == ""
    assert run.err.splitlines() == [
        "error: No such option: -p",
        "to read the file '-p.csv', put -- before it: lossctl eval ... -- -p.csv",
    ]
    read = cli("eval", "-l", "mse", "-f", "csv", "-q", "--", "-p.csv")
    assert read.code == 0 and read.out.splitlines()[1].startswith("mse,multioutput=none,mean,0.5,2,")


@pytest.mark.parametrize("command", [["list", "-f", "csv"], ["describe", "mse"]])
def test_list_and_describe_take_quiet_and_debug_as_every_command_does(cli, command: list[str]) -> None:
    # list -q and describe mse --debug were "No such option": both load plugins, whose notices -q silences and
    # whose failures --debug traces, as under eval, compare and suggest.
    loud = cli(*command, "--plugin", "os.path")
    assert loud.code == 0 and loud.err.startswith("notice: plugin 'os.path' registered no loss"), loud.err
    quiet = cli(*command, "--plugin", "os.path", "-q", "--debug")
    assert (quiet.code, quiet.err, quiet.out) == (0, "", loud.out)
    failed = cli(*command, "--plugin", "no_such_plugin_module", "--debug")
    assert failed.code == 2 and "Traceback" in failed.err
    assert failed.err.splitlines()[-1].startswith("error: plugin 'no_such_plugin_module' failed to load")


@pytest.mark.parametrize("command", ["eval", "compare", "suggest"])
def test_help_says_what_an_option_left_out_means(cli, command: str) -> None:
    # --loss, --pred and --target said nothing of their defaults (the task's default losses, columns guessed by name).
    shown = " ".join(cli(command, "--help").out.split())
    for option in ("--pred COLSPEC", "--target COLSPEC", *(["-l, --loss LOSS"] if command != "suggest" else [])):
        described = shown.split(option, 1)[1].split(" --", 1)[0]
        assert "(default: " in described, (option, described)
