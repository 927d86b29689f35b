"""Several models side by side, compare grown up, and no silent wrong number (issue: several models)."""

from __future__ import annotations

import csv
import io
import json
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "sample_data" / "models.csv"


def _json(run) -> dict:
    assert run.code in (0, 1), run.err
    return json.loads(run.out)


def test_several_pred_columns_are_one_multi_output_prediction_and_the_notice_names_model(cli) -> None:
    run = cli("eval", MODELS, "--pred", "model_a,model_b", "--target", "y_true", "-l", "mse", "-f", "json")
    frame = np.genfromtxt(MODELS, delimiter=",", names=True, dtype=None, encoding="utf-8")
    pooled = np.mean(np.concatenate([frame["model_a"] - frame["y_true"], frame["model_b"] - frame["y_true"]]) ** 2)
    assert _json(run)["results"][0]["value"] == pytest.approx(pooled, rel=1e-12)
    assert (
        "notice: the 2 columns model_a, model_b are evaluated as one multi-output prediction, each against "
        "'y_true' (mse); to compare them as models, use --model\n" in run.err
    )


def test_compare_tells_that_several_pred_columns_are_one_multi_output_prediction(cli, write) -> None:
    # eval said so, compare did not (two files or --model alike).
    data = write("m.csv", "a,b,c,t\n0.1,0.2,0.3,1\n0.3,0.1,0.2,0\n")
    run = cli("compare", data, data, "-l", "mse", "--pred", "a,b", "--target", "t", "-f", "csv")
    assert run.code == 0
    assert run.err == (
        "notice: the 2 columns a, b are evaluated as one multi-output prediction, each against 't' (mse); to compare "
        "them as models, use --model\n"
    )
    run = cli("compare", data, "-l", "mse", "--model", "A=a,b", "--model", "B=c", "--target", "t", "-f", "csv")
    assert run.code == 0
    assert run.err == (
        "notice: the 2 columns a, b of model 'A' are evaluated as one multi-output prediction, each against 't' "
        "(mse); to compare them as models, give each column its own --model NAME=COLUMN\n"
    )


def test_a_list_pred_column_against_one_target_is_a_multi_output_prediction_with_a_notice(cli, write) -> None:
    # Before, the list was broadcast against the target without a word (several named columns had the notice).
    data = write("l.jsonl", '{"p":[0.1,0.2],"q":[1.0,2.0],"t":1}\n{"p":[0.5,1.0],"q":[1.0,1.0],"t":0}\n')
    run = cli("eval", data, "-l", "mse,mae", "--pred", "p", "--target", "t", "-f", "json")
    assert _json(run)["results"][0]["value"] == pytest.approx((0.81 + 0.64 + 0.25 + 1.0) / 4, rel=1e-12)
    assert run.err == (
        "notice: the list column 'p' holds 2 values per row, evaluated as one multi-output prediction, each against "
        "'t' (mse, mae)\n"
    )
    run = cli("eval", data, "-l", "mse", "--model", "a=p", "--target", "t", "-f", "json")
    assert run.err == (
        "notice: the list column 'p' of model 'a' holds 2 values per row, evaluated as one multi-output prediction, "
        "each against 't' (mse)\n"
    )
    assert cli("eval", data, "-l", "mse", "--pred", "p", "--target", "q", "-f", "json").err == ""  # K against K


def test_a_model_named_by_its_column_is_not_guessed_as_the_target(cli, write) -> None:
    # '--model y' names the column y as a model, as '--model y=y' does: the target guess took y all the same and the
    # run stopped on "--model 'y' matches only columns bound to other roles", blaming the user's own option.
    data = write("m.csv", "label,y,a\n1,0.3,0.2\n0,0.6,0.4\n")
    run = cli("eval", data, "--model", "y", "--model", "a", "-l", "mse", "-f", "json")
    assert run.code == 0, run.err
    assert [r["value"] for r in _json(run)["results"]] == pytest.approx([(0.7**2 + 0.6**2) / 2, (0.8**2 + 0.4**2) / 2])
    assert "using column 'label' as target (guessed from its name; set it with --target)\n" in run.err
    lone = write("y.csv", "y,a\n1,0.2\n0,0.4\n")
    run = cli("eval", lone, "--model", "y", "--model", "a", "-l", "mse")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: no column for role 'target': its default column 'y' is bound to the pred of model 'y' (--model y); "
        "choose one with --target COLUMN\n"
    )


def test_outputs_of_different_lengths_name_the_columns_of_the_model_or_file_at_fault(cli, write) -> None:
    """The error named the roles only ("'target' 2, 'pred' 3 values per row"): with several models, or two files
    compared, it did not say whose prediction had the wrong number of outputs."""
    data = write("m.csv", "t0,t1,a0,a1,b0,b1,b2\n1,2,1,2,1,2,3\n0,1,0,1,0,1,2\n")
    for command in ("eval", "compare"):
        run = cli(command, data, "-l", "mse:multioutput=raw", "--target", "t0,t1", "--model", "A=a0,a1", "--model",
                  "B=b*")  # fmt: skip
        assert run.code == 3 and run.out == ""
        assert run.err == (
            "error: loss 'mse': the roles hold vectors of different lengths: 'target' 2 values per row "
            "('t0', 't1'), 'pred' 3 ('b0', 'b1', 'b2')\n"
        )
    base = write("a.jsonl", '{"p":[1,2],"t":[1,1]}\n{"p":[0,2],"t":[0,1]}\n')
    cand = write("b.jsonl", '{"p":[1,2,3],"t":[1,1]}\n{"p":[0,2,3],"t":[0,1]}\n')
    run = cli("compare", base, cand, "-l", "mse,mae", "--target", "t", "--pred", "p")
    assert run.code == 3 and run.err == (
        "error: loss 'mse': the roles hold vectors of different lengths: 'target' 2 values per row ('t'), "
        f"'pred' 3 ('p' in {cand})\n"
    )
    with pytest.raises(lossctl.InputError) as raised:  # from Python: the roles; whole after pickling (Dask)
        lossctl.get("mse")(np.zeros((2, 2)), np.zeros((2, 3)))
    message = "loss 'mse': the roles hold vectors of different lengths: 'target' 2 values per row, 'pred' 3"
    assert str(raised.value) == str(pickle.loads(pickle.dumps(raised.value))) == message


def test_compare_drop_notice_names_the_file_of_each_column_alike(cli, write) -> None:
    """Missing values inside list columns of both files: the notice said "1 in column 'p', 1 in column 'p' in
    b.jsonl", the baseline's column named as if it were the only 'p'."""
    base = write("a.jsonl", '{"p":[1,2],"t":[1,1]}\n{"p":[1,null],"t":[1,1]}\n{"p":[0.5,0.5],"t":[0,0]}\n')
    cand = write("b.jsonl", '{"p":[1,1],"t":[1,1]}\n{"p":[1,3],"t":[1,1]}\n{"p":[null,0.5],"t":[0,0]}\n')
    run = cli("compare", base, cand, "-l", "mse:multioutput=raw", "--pred", "p", "--target", "t", "--missing", "drop",
              "-f", "csv")  # fmt: skip
    assert run.code == 0
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert [(r["loss"], float(r["baseline"]), float(r["candidate"]), r["n"]) for r in rows] == [
        ("mse[0]", 0.0, 0.0, "1"),
        ("mse[1]", 1.0, 0.0, "1"),
    ]
    assert run.err.startswith(
        f"notice: dropped 2 of 3 rows with missing values (--missing drop): 1 in column 'p' in {base}, 1 in column "
        f"'p' in {cand}; "
    )


def test_columns_against_a_list_column_of_as_many_values_get_no_multi_output_notice(cli, write) -> None:
    """K columns against a list column of K values are K against K, but the notice said each column was scored
    against the list ("the 2 columns p0, p1 ... each against 'T'"; "... against the one prediction 'P' ... give the
    prediction as many columns"): it was told from the column counts, before the list's width was known."""
    data = write("l.jsonl", '{"p0":1,"p1":2,"T":[1,1],"P":[1,2],"t0":1,"t1":1,"q":3}\n'
                            '{"p0":3,"p1":4,"T":[3,3],"P":[3,4],"t0":3,"t1":3,"q":1}\n')  # fmt: skip
    for command, files in (("eval", [data]), ("compare", [data, data])):
        for pred, target in (("p0,p1", "T"), ("P", "t0,t1")):
            run = cli(command, *files, "-l", "mse", "--pred", pred, "--target", target, "-f", "csv")
            assert run.code == 0 and run.err == ""
            record = next(csv.DictReader(io.StringIO(run.out)))
            assert float(record["value" if command == "eval" else "baseline"]) == 0.5
        run = cli(command, *files, "-l", "mse", "--pred", "p0,p1", "--target", "q", "--seed", "3", "-f", "csv")
        assert run.err == (  # one scalar target: still told, in its place before the other notices
            "notice: the 2 columns p0, p1 are evaluated as one multi-output prediction, each against 'q' (mse); to "
            "compare them as models, use --model\nnotice: --seed has no effect without --bootstrap (it seeds the "
            "resampling)\n"
        )


def test_several_target_columns_against_one_pred_column_get_the_multi_output_notice(cli, write) -> None:
    # Before, one prediction was scored against each of several target columns (or a list target) without a word,
    # though several prediction columns against one target had the notice (docs/cli.md: a multi-column COLSPEC bound
    # to a role that takes one value per row).
    data = write("t.csv", "y1,y2,p,q\n1,2,1.5,1\n0,1,0.5,0\n")
    run = cli("eval", data, "-l", "mse,mae", "--target", "y1,y2", "--pred", "p", "-f", "json")
    assert [r["value"] for r in _json(run)["results"]] == pytest.approx([0.25, 0.5], rel=1e-12)
    assert run.err == (
        "notice: the 2 columns y1, y2 are evaluated as one multi-output target, each against the one prediction 'p' "
        "(mse, mae); to score one prediction column per target column, give the prediction as many columns\n"
    )
    run = cli("eval", data, "-l", "mse", "--target", "y1,y2", "--model", "a=p", "--model", "b=q", "-f", "json")
    assert [r["value"] for r in _json(run)["results"]] == pytest.approx([0.25, 0.5], rel=1e-12)
    assert "each against the one prediction 'p' of model 'a', 'q' of model 'b' (mse);" in run.err
    assert cli("eval", data, "-l", "mse", "--target", "y1,y2", "--pred", "p,q").err == ""  # K against K
    listed = write("t.jsonl", '{"t":[1,2],"p":1.5}\n{"t":[0,1],"p":0.5}\n')
    run = cli("eval", listed, "-l", "mse", "--target", "t", "--pred", "p", "-f", "json")
    assert _json(run)["results"][0]["value"] == pytest.approx(0.25, rel=1e-12)
    assert run.err == (
        "notice: the list column 't' holds 2 values per row, evaluated as one multi-output target, each against the "
        "one prediction 'p' (mse)\n"
    )


def test_model_glob_gives_one_result_per_model_equal_to_separate_runs(cli) -> None:
    doc = _json(cli("eval", MODELS, "--model", "model_*", "--target", "y_true", "-l", "mse,mae", "-f", "json"))
    assert [(r["loss"], r["model"]) for r in doc["results"]] == [
        (loss, model) for loss in ("mse", "mae") for model in ("model_a", "model_b", "model_c")
    ]
    assert doc["columns"]["models"] == {"model_a": ["model_a"], "model_b": ["model_b"], "model_c": ["model_c"]}
    for record in doc["results"]:
        alone = _json(cli("eval", MODELS, "--pred", record["model"], "--target", "y_true", "-l", record["loss"],
                          "-f", "json"))  # fmt: skip
        assert record["value"] == alone["results"][0]["value"]


def test_a_model_glob_skips_the_columns_bound_to_other_roles(cli, write) -> None:
    path = write("m.csv", "y_true,y_pred,y_alt,w\n1,2,1,1\n2,2,3,2\n")
    doc = _json(cli("eval", path, "--model", "y_*", "--target", "y_true", "--weight", "w", "-l", "mse", "-f", "json"))
    assert [r["model"] for r in doc["results"]] == ["y_alt", "y_pred"]  # not y_true scored against itself
    run = cli("eval", path, "--model", "w", "--target", "y_true", "--weight", "w", "-l", "mse")
    assert (run.code, run.err.strip()) == (2, "error: --model 'w' matches only columns bound to other roles")


def test_a_model_naming_a_column_with_an_equals_sign_is_that_column(cli, write) -> None:
    """``--model 'm=2'`` beside a column ``m=2`` was read as model 'm' of a column '2': "column '2' not found"
    (exit 3), the column it names unreachable but through a glob. ``NAME=COLSPEC`` still wins where it names one."""
    path = write("m.csv", "target,m=2,a\n1,1,2\n2,2,2\n3,3,3\n")
    doc = _json(cli("compare", path, "--model", "a", "--model", "m=2", "-l", "mse", "-f", "json"))
    assert doc["columns"]["models"] == {"a": ["a"], "m=2": ["m=2"]}
    assert [(r["model"], r["candidate"]) for r in doc["results"]] == [("m=2", 0.0)]
    named = _json(cli("compare", path, "--model", "a", "--model", "B=m=2", "-l", "mse", "-f", "json"))
    assert [(r["model"], r["candidate"]) for r in named["results"]] == [("B", 0.0)]
    both = write("both.csv", "target,m=2,a,2\n1,1,2,5\n2,2,2,5\n3,3,3,5\n")
    split = _json(cli("compare", both, "--model", "a", "--model", "m=2", "-l", "mse", "-f", "json"))
    assert split["columns"]["models"]["m"] == ["2"]  # a column '2' exists: NAME=COLSPEC, as documented


def test_a_model_glob_skips_the_on_key(cli, write) -> None:
    """``--model '*'`` with ``--on id`` made the key a model ("model": "id", its ids scored as predictions)."""
    preds = write("p.csv", "id,m1,m2\n3,2,2\n1,0.5,1\n2,1.5,1\n")
    by_id = write("t.csv", "id,target\n1,1\n2,1\n3,3\n")
    by_key = write("k.csv", "key,target\n1,1\n2,1\n3,3\n")
    for targets, on in ((by_id, "id"), (by_key, "id=key")):
        run = cli("eval", preds, "--model", "*", "--targets", targets, "--on", on, "-l", "mse", "-f", "json")
        assert [r["model"] for r in _json(run)["results"]] == ["m1", "m2"]
    report = lossctl.evaluate(preds, models="*", targets=by_id, on="id", losses="mse")
    assert report.models == ["m1", "m2"]


def test_named_models_in_csv_json_and_the_python_api(cli) -> None:
    run = cli("eval", MODELS, "--model", "a=model_a", "--model", "b=model_b", "--target", "y_true", "-l", "mae",
              "-f", "csv")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert [row["model"] for row in rows] == ["a", "b"]
    report = lossctl.evaluate(MODELS, models={"a": "model_a", "b": "model_b"}, target="y_true", losses="mae")
    assert report.models == ["a", "b"]
    assert report.value("mae", model="b") == pytest.approx(float(rows[1]["value"]), rel=1e-15)
    with pytest.raises(lossctl.UsageError, match=r"this report has models: a, b; pass model="):
        report["mae"]


def test_models_named_as_a_column_of_the_table_are_one_a_row(cli, write, monkeypatch) -> None:
    """Models named 'n' and 'params' stood side by side under the headers 'loss | g | n | n | params | params': two
    columns of each name, a count beside a value. Named so, the models are one a row, under a 'model' column."""
    monkeypatch.setenv("COLUMNS", "200")
    data = write("m.csv", "y,a,b,g\n1,1.5,1,u\n2,2,1,u\n3,2,1,v\n")
    run = cli("eval", data, "--target", "y", "--model", "n=a", "--model", "params=b", "--by", "g", "-l", "mse", "-q")
    header = next(line for line in run.out.splitlines() if "loss" in line)
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == ["loss", "g", "n", "model", "value", "params"]
    models = [line.split("│")[4].strip() for line in run.out.splitlines() if "│ mse" in line]
    assert models == ["n"] * 3 + ["params"] * 3
    side = cli("eval", data, "--target", "y", "--model", "A=a", "--model", "value=b", "-l", "mse", "-q")
    header = next(line for line in side.out.splitlines() if "loss" in line)
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == ["loss", "A", "value", "params"]


@pytest.mark.parametrize("columns", ["200", "30"])
def test_the_table_never_shows_two_different_values_as_one(cli, write, monkeypatch, columns: str) -> None:
    # Two models 3e-7 apart both read 0.123456, side by side and one model a row (a narrow terminal), and compare
    # showed a candidate equal to its baseline, "worse"; values that are the same keep the table's 6 digits.
    monkeypatch.setenv("COLUMNS", columns)
    data = write("m.csv", "y,a,b,c\n0,0.1234561,0.1234564,0.1234561\n")
    models = ["--model", "a=a", "--model", "b=b", "--model", "c=c"]
    out = cli("eval", data, "--target", "y", *models, "-l", "mae,mse", "-q").out
    assert out.count("0.1234561") == 2 and out.count("0.1234564") == 1 and "0.123456 " not in out
    assert out.count("0.0152414") == 2 and out.count("0.0152415") == 1  # 0.01524141 and 0.01524148
    out = cli("compare", data, "--model", "a=a", "--model", "b=b", "--target", "y", "-l", "mae", "-q").out
    assert "│ 0.1234561 │ 0.1234564 │ +3e-07 │" in out
    out = cli("compare", data, "--model", "a=a", "--model", "c=c", "--target", "y", "-l", "mae", "-q").out
    assert "│ 0.123456 │  0.123456 │    +0 │" in out


def test_checks_per_model_or_for_all(cli) -> None:
    args = ["eval", MODELS, "--model", "model_*", "--target", "y_true", "-l", "mse", "-f", "json"]
    doc = _json(cli(*args, "--fail-if", "mse>100", "--fail-if", "mse@model_b>100"))
    checks = [(c["expr"], c["model"], c["passed"]) for c in doc["checks"]]
    assert checks == [
        ("mse>100", "model_a", False),
        ("mse>100", "model_b", True),
        ("mse>100", "model_c", False),
        ("mse@model_b>100", "model_b", True),
    ]
    run = cli(*args, "--fail-if", "mse@model_z>1")
    assert run.code == 2
    assert (
        run.err
        == "error: --fail-if 'mse@model_z>1' names the model 'model_z'; the models are: model_a, model_b, model_c\n"
    )
    run = cli("eval", MODELS, "--pred", "model_a", "--target", "y_true", "-l", "mse", "--fail-if", "mse@a>1")
    assert (run.code, run.err) == (
        2,
        "error: --fail-if 'mse@a>1' names the model 'a'; the run has no models (name them with --model)\n",
    )
    run = cli("eval", MODELS, "--model", "model_a", "--pred", "model_b", "-l", "mse")
    assert run.code == 2 and run.err.startswith("error: --model and --pred exclude each other")


def test_a_gate_naming_an_unknown_model_is_refused_before_the_input_is_read(cli, write) -> None:
    # The model was looked up once the whole input had been evaluated: a typo cost a full pass over the file, and a
    # bad cell in it was reported instead of the usage error. compare named the baseline as if it were unknown.
    path = write("m.csv", "a,b,target\n1,2,1\n2,2,2\nx,2,3\n")
    run = cli("eval", path, "--model", "A=a", "--model", "B=b", "-l", "mse", "--fail-if", "mse@C>1")
    assert (run.code, run.err) == (2, "error: --fail-if 'mse@C>1' names the model 'C'; the models are: A, B\n")
    run = cli("eval", path, "--pred", "a", "-l", "mse", "--fail-if", "mse@A>1")
    assert (run.code, run.err) == (
        2,
        "error: --fail-if 'mse@A>1' names the model 'A'; the run has no models (name them with --model)\n",
    )
    run = cli("compare", path, "--model", "A=a", "--model", "B=b", "-l", "mse", "--fail-if", "mse@A>1")
    assert (run.code, run.err) == (
        2,
        "error: --fail-if 'mse@A>1' names the baseline model 'A'; --fail-if gates the candidates: B\n",
    )
    run = cli("compare", path, path, "--pred", "a", "-l", "mse", "--fail-if", "mse@B>1")
    assert (run.code, run.err) == (
        2,
        "error: --fail-if 'mse@B>1' names the model 'B'; the run has no models (name them with --model)\n",
    )


def test_a_gate_naming_an_unknown_model_is_a_usage_error_before_the_file_is_opened(cli, tmp_path: Path) -> None:
    missing = tmp_path / "absent.csv"  # was "error: file ... not found" (exit 3): usage errors come first
    run = cli("eval", missing, "--model", "A=a", "-l", "mse", "--fail-if", "mse@B>1")
    assert (run.code, run.err) == (2, "error: --fail-if 'mse@B>1' names the model 'B'; the models are: A\n")
    run = cli("compare", missing, missing, "-l", "mse", "--fail-if", "mse@B>1")
    assert (run.code, run.err) == (
        2,
        "error: --fail-if 'mse@B>1' names the model 'B'; the run has no models (name them with --model)\n",
    )
    with pytest.raises(lossctl.UsageError, match=r"names the model 'B'; the models are: A$"):
        lossctl.evaluate(missing, models=["A=a"], losses="mse", fail_if="mse@B>1")
    run = cli("eval", missing, "--model", "a*", "-l", "mse", "--fail-if", "mse@B>1")  # a glob: known once read
    assert run.code == 3 and "not found" in run.err


def test_five_models_equal_five_separate_runs(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(size=2000)
    columns = {"y": y, **{f"m{k}": y + rng.normal(scale=k + 1, size=y.size) for k in range(5)}}
    pq.write_table(pa.table(columns), tmp_path / "m.parquet")
    together = lossctl.evaluate(tmp_path / "m.parquet", models="m*", target="y", losses="mse,huber", chunk_rows=300)
    for k in range(5):
        alone = lossctl.evaluate(tmp_path / "m.parquet", pred=f"m{k}", target="y", losses="mse,huber", chunk_rows=300)
        for loss in ("mse", "huber"):
            assert together.value(loss, model=f"m{k}") == alone[loss]


def test_compare_refuses_two_files_scored_on_different_targets(cli, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("y_true,y_pred\n1,1.5\n2,2.5\n3,2.0\n")
    (tmp_path / "b.csv").write_text("y_true,y_pred\n1,1.2\n102,2.4\n103,3.5\n")
    run = cli("compare", tmp_path / "a.csv", tmp_path / "b.csv", "-l", "mse")
    assert run.code == 3 and run.out == ""
    assert run.err == (
        f"error: the targets differ: column 'y_true' is 2 in {tmp_path / 'a.csv'} but 102 in {tmp_path / 'b.csv'} "
        "at row 1; both models must be scored on the same truth (give --targets FILE to take the targets from one "
        "file)\n"
    )
    (tmp_path / "c.csv").write_text("y_true,y_pred\n1,1.2\n,2.4\n3,3.5\n")  # a missing target, not Python's None
    run = cli("compare", tmp_path / "a.csv", tmp_path / "c.csv", "-l", "mse")
    assert run.code == 3 and f"is 2 in {tmp_path / 'a.csv'} but missing in {tmp_path / 'c.csv'} at row 1;" in run.err


def test_compare_refuses_models_of_different_widths(cli, tmp_path: Path) -> None:
    """A 3-class model beside a 4-class one (list columns of two files, or 3 columns beside 4 of one file) was
    compared without a word (exit 0), each side scored over a class set of its own."""
    base, cand, wide = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "m.csv"
    base.write_text('y,v\n0,"[1,0,0]"\n2,"[0,0,1]"\n')
    cand.write_text('y,v\n0,"[1,0,0,0]"\n2,"[0,0,1,0]"\n')
    wide.write_text("y,a0,a1,a2,b0,b1,b2,b3\n0,1,0,0,1,0,0,0\n2,0,0,1,0,0,1,0\n")
    fix = (
        "compare scores the models over the same targets, so each must give as many values per row (the same "
        "classes, labels or outputs)\n"
    )
    per_sample = tmp_path / "rows.csv"
    run = cli("compare", base, cand, "-l", "ce", "--pred", "v", "--target", "y", "--per-sample", per_sample)
    assert run.code == 3 and run.out == "" and not per_sample.exists()
    assert (
        run.err == f"error: the models' pred values per row differ: 'v' in {base} holds 3, 'v' in {cand} holds 4; {fix}"
    )
    run = cli("compare", wide, "--model", "A=a*", "--model", "B=b*", "-l", "ce", "--target", "y")
    assert run.code == 3 and run.err == (
        "error: the models' pred values per row differ: 'a0', 'a1', 'a2' of model 'A' hold 3, 'b0', 'b1', 'b2', 'b3' "
        f"of model 'B' hold 4; {fix}"
    )
    with pytest.raises(lossctl.InputError, match=r"holds 3, 'v' in .* holds 4;"):
        lossctl.compare(base, cand, losses="ce", pred="v", target="y")
    assert cli("compare", base, base, "-l", "ce", "--pred", "v", "--target", "y").code == 0


@pytest.mark.parametrize("on", [[], ["--on", "id"]])
def test_compare_refuses_a_candidate_file_holding_other_weights(cli, tmp_path: Path, on: list[str]) -> None:
    """The candidate's --weight column was ignored without a word: its value (0.06) was not eval's of its file
    (weights 5, 1: 0.13); weights are data like targets, taken from the baseline, so differing ones are refused."""
    base, cand, same, targets = (tmp_path / name for name in ("a.csv", "b.csv", "c.csv", "t.csv"))
    base.write_text("id,y,p,w\n0,0,0.2,1\n1,1,0.7,2\n")
    cand.write_text("id,y,p,w\n0,0,0.4,5\n1,1,0.9,1\n")
    same.write_text("id,y,p,w\n0,0,0.4,1\n1,1,0.9,2\n")
    targets.write_text("id,y\n0,0\n1,1\n")
    args = ["-l", "brier", "--pred", "p", "--target", "y", "--weight", "w", *on]
    for extra in ([], ["--targets", str(targets)]):
        run = cli("compare", base, cand, *args, *extra)
        assert run.code == 3 and run.out == ""
        where = f"1 in {base} at row 0 but 5 in {cand} at row 0" if on else f"1 in {base} but 5 in {cand} at row 0"
        assert run.err == (
            f"error: the weights differ: column 'w' is {where}; both models must be scored on the same weights "
            "(compare takes them from the baseline: give the candidate the same weights, or none)\n"
        )
    run = cli("compare", base, same, *args, "-f", "json")
    assert run.code == 0, run.err
    (record,) = _json(run)["results"]
    assert record["candidate"] == pytest.approx((0.4**2 * 1 + 0.1**2 * 2) / 3)
    unweighted = tmp_path / "u.csv"  # the weights in --targets only: named as that file's
    unweighted.write_text("id,y,p\n0,0,0.2\n1,1,0.7\n")
    targets.write_text("id,y,w\n0,0,1\n1,1,2\n")
    run = cli("compare", unweighted, cand, *args, "--targets", targets)
    assert run.code == 3 and f"error: the weights differ: column 'w' is 1 in {targets} " in run.err


def test_compare_on_a_key_names_each_file_s_own_row_of_a_differing_target(cli, tmp_path: Path) -> None:
    base, cand = tmp_path / "a.csv", tmp_path / "b.csv"
    base.write_text("id,y_true,y_pred\n1,1,1.5\n2,2,2.5\n3,3,2.0\n4,4,4.5\n")
    cand.write_text("id,y_true,y_pred\n4,4,4.2\n3,3,2.2\n2,2,2.4\n1,5,1.2\n")  # id 1: row 0 of a, row 3 of b
    for extra in ([], ["--missing", "drop"]):
        run = cli("compare", base, cand, "--on", "id", "-l", "mse", *extra)
        assert run.code == 3 and run.out == ""
        assert run.err == (
            f"error: the targets differ: column 'y_true' is 1 in {base} at row 0 but 5 in {cand} at row 3; both models "
            "must be scored on the same truth (give --targets FILE to take the targets from one file)\n"
        )
    with pytest.raises(lossctl.InputError, match=rf"is 1 in {base} at row 0 but 5 in {cand} at row 3;"):
        lossctl.compare(base, cand, on="id", losses="mse")


@pytest.mark.parametrize("on", [[], ["--on", "id"]])
def test_compare_targets_written_by_two_formats_are_the_same_truth(cli, tmp_path: Path, on: list[str]) -> None:
    base, cand, floats = tmp_path / "a.csv", tmp_path / "b.jsonl", tmp_path / "c.parquet"
    base.write_text("id,y_true,y_pred\n1,1,1.5\n2,2,2.5\n3,0.1,2.0\n")
    rows = [(1, "1", 1.2), (2, "2.0", 2.4), (3, "0.1", 2.1)]
    cand.write_text("".join(json.dumps({"id": i, "y_true": t, "y_pred": p}) + "\n" for i, t, p in rows))
    narrow = pa.array([1, 2, 0.1], pa.float32())  # Parquet's float32 0.1 is CSV's 0.1
    pq.write_table(pa.table({"id": [1, 2, 3], "y_true": narrow, "y_pred": [1.2, 2.4, 2.1]}), floats)
    for other in (cand, floats):
        run = cli("compare", base, other, "-l", "mse", "-f", "json", *on)
        assert run.code == 0, run.err
        assert _json(run)["results"][0]["candidate"] == pytest.approx((0.2**2 + 0.4**2 + 2.0**2) / 3)
        assert lossctl.compare(base, other, losses="mse", on=on[1:] or None)["mse"].candidate == pytest.approx(
            (0.2**2 + 0.4**2 + 2.0**2) / 3
        )
    cand.write_text(
        "".join(json.dumps({"id": i, "y_true": t, "y_pred": p}) + "\n" for i, t, p in [*rows[:2], (3, "x", 2)])
    )
    run = cli("compare", base, cand, "-l", "mse", *on)
    assert run.code == 3 and f"error: the targets differ: column 'y_true' is 0.1 in {base}" in run.err
    assert f"but 'x' in {cand} at row 2;" in run.err


def test_compare_models_named_baseline_and_candidate_keep_their_names(cli, tmp_path: Path) -> None:
    """A model named 'candidate' lost its name (\"model\": null, the two-file compare's) and a gate naming it was an
    internal error (StopIteration, exit 4)."""
    path = tmp_path / "m.csv"
    path.write_text("y,m1,m2\n1,0.5,1\n1,1.5,1\n3,2,3.5\n")
    run = cli("compare", path, "--model", "baseline=m1", "--model", "candidate=m2", "--target", "y", "-l", "mse",
              "--fail-if", "mse@candidate>0.01", "-f", "json")  # fmt: skip
    doc = _json(run)
    assert run.code == 1, run.err
    assert [r["model"] for r in doc["results"]] == ["candidate"]
    assert [(c["model"], c["passed"]) for c in doc["checks"]] == [("candidate", False)]
    report = lossctl.compare(path, models=["baseline=m1", "candidate=m2"], target="y", losses="mse")
    assert report.record("mse", model="candidate").candidate == pytest.approx(0.25 / 3)


def test_compare_models_of_one_file(cli, tmp_path: Path) -> None:
    per_sample = tmp_path / "rows.csv"
    run = cli("compare", MODELS, "--model", "model_*", "--target", "y_true", "-l", "mae", "--by", "segment",
              "--fail-if", "mae>11", "--per-sample", per_sample, "-f", "json")  # fmt: skip
    doc = _json(run)
    assert run.code == 1  # model_c's mae is above 11
    assert doc["input"]["baseline"]["model"] == "model_a" and doc["input"]["candidate"]["models"] == [
        "model_b",
        "model_c",
    ]
    overall = {r["model"]: r for r in doc["results"] if r["group"] is None}
    separate = {
        m: lossctl.evaluate(MODELS, pred=m, target="y_true", losses="mae")["mae"]
        for m in ("model_a", "model_b", "model_c")
    }
    for model in ("model_b", "model_c"):
        assert overall[model]["baseline"] == separate["model_a"] and overall[model]["candidate"] == separate[model]
        assert overall[model]["delta"] == pytest.approx(separate[model] - separate["model_a"], rel=1e-12)
    assert [(c["model"], c["passed"]) for c in doc["checks"]] == [("model_b", True), ("model_c", False)]
    deltas = {(r["model"], r["group"]["segment"]): r["delta"] for r in doc["results"] if r["group"]}
    gap = next(g for g in doc["groups"]["gaps"] if g["model"] == "model_b")
    of_b = [d for (m, _), d in deltas.items() if m == "model_b"]
    assert gap["gap"] == pytest.approx(max(of_b) - min(of_b), rel=1e-12)
    rows = list(csv.DictReader(per_sample.open()))
    assert list(rows[0]) == [
        "row",
        "mae@model_a",
        "mae@model_b",
        "mae@model_c",
        "mae:delta@model_b",
        "mae:delta@model_c",
    ]
    assert float(rows[0]["mae:delta@model_c"]) == pytest.approx(
        float(rows[0]["mae@model_c"]) - float(rows[0]["mae@model_a"])
    )


@pytest.mark.parametrize("chunk_rows", [1, 7, 500, None])
def test_compare_in_lockstep_equals_the_whole_files(chunk_rows: int | None) -> None:
    report = lossctl.compare(ROOT / "sample_data/regression.csv", ROOT / "sample_data/candidate.csv",
                             losses="mse,mae", bootstrap=50, seed=4, chunk_rows=chunk_rows)  # fmt: skip
    whole = lossctl.compare(ROOT / "sample_data/regression.csv", ROOT / "sample_data/candidate.csv",
                            losses="mse,mae", bootstrap=50, seed=4)  # fmt: skip
    for record, reference in zip(report.results, whole.results, strict=True):
        assert record.delta == pytest.approx(reference.delta, rel=1e-12)
        assert record.ci == pytest.approx(reference.ci, rel=1e-12)


def test_compare_row_counts_must_match(cli, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("y_true,y_pred\n1,1.5\n2,2.5\n3,2.0\n")
    (tmp_path / "b.csv").write_text("y_pred\n1.2\n2.4\n")
    run = cli("compare", tmp_path / "a.csv", tmp_path / "b.csv", "-l", "mse", "--chunk-rows", "1")
    assert run.code == 3
    assert run.err == (
        f"error: {tmp_path / 'a.csv'} has 3 rows but {tmp_path / 'b.csv'} has 2; rows are aligned by order, so the "
        "counts must match (or use --on KEY)\n"
    )


@pytest.mark.parametrize("chunk_rows", ["1", "100"])
def test_compare_row_counts_name_the_likely_key_both_files_hold(cli, tmp_path: Path, chunk_rows: str) -> None:
    (tmp_path / "a.csv").write_text("id,w,y_true,y_pred\n1,0.5,1,1.5\n2,0.5,2,2.5\n3,0.5,3,2.0\n")
    (tmp_path / "b.csv").write_text("id,w,y_true,y_pred\n1,0.5,1,1.2\n2,0.5,2,2.4\n")  # w: floats, not a key
    for first, second, counts in (("a.csv", "b.csv", "3 rows but {} has 2"), ("b.csv", "a.csv", "2 rows but {} has 3")):
        run = cli("compare", tmp_path / first, tmp_path / second, "-l", "mse", "--target", "y_true",
                  "--chunk-rows", chunk_rows)  # fmt: skip
        assert run.code == 3, run.err
        assert run.err == (
            f"error: {tmp_path / first} has {counts.format(tmp_path / second)}; rows are aligned by order, so the "
            "counts must match (or use --on id)\n"  # was --on KEY, where eval --targets said --on id
        )


def test_compare_by_order_weighs_rows_by_the_baseline_s_weights_never_taken_for_a_key(cli, tmp_path: Path) -> None:
    base, cand = tmp_path / "a.csv", tmp_path / "b.csv"
    base.write_text("w,y_true,y_pred\n1,1,2\n3,2,2\n")
    cand.write_text("w,y_true,y_pred\n1,1,1\n3,2,4\n")
    run = cli("compare", base, cand, "-l", "mse", "--weight", "w", "-f", "json")
    assert run.code == 0, run.err  # was: "align them by key with --on w" (exit 3)
    (record,) = _json(run)["results"]
    assert (record["baseline"], record["candidate"]) == (pytest.approx(1 / 4), pytest.approx(4 * 3 / 4))
    short = tmp_path / "c.csv"
    short.write_text("w,y_true,y_pred\n3,1,1\n")
    run = cli("compare", base, short, "-l", "mse", "--weight", "w")
    assert run.code == 3 and run.err == (
        f"error: {base} has 2 rows but {short} has 1; rows are aligned by order, so the counts must match "
        "(or use --on KEY)\n"
    )


def test_probability_rows_given_to_cross_entropy_get_a_notice(cli, tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"label": 0, "p": [0.7, 0.2, 0.1]}\n{"label": 2, "p": [0.1, 0.1, 0.8]}\n')
    run = cli("eval", path, "--pred", "p", "--target", "label", "-l", "ce", "-f", "json")
    assert run.code == 0
    assert (
        "notice: cross_entropy: the predictions in 'p' look like probabilities (every row sums to 1), but "
        "cross_entropy takes logits; for probabilities use categorical_ce\n" in run.err
    )
    logits = cli("eval", path, "--pred", "p", "--target", "label", "-l", "categorical_ce", "-f", "json")
    assert "look like probabilities" not in logits.err


@pytest.mark.parametrize(
    ("loss", "name", "data", "twin"),
    [
        ("ce", "p.jsonl", '{"label": 0, "p": [0.7, 0.3]}\n{"label": 1, "p": [0.1, 0.9]}\n', "categorical_ce"),
        ("focal", "b.csv", "p,label\n0.9,1\n0.2,0\n", "focal:from_logits=false"),
    ],
)
def test_the_loss_advised_for_probabilities_is_one_the_convention_has(cli, write, loss, name, data, twin) -> None:
    # Under torch the notice advised categorical_ce (no torch convention) and focal:from_logits=false (torchvision
    # takes logits only): both usage errors when followed.
    path = write(name, data)
    run = cli("eval", path, "-l", loss, "--pred", "p", "--target", "label", "-f", "json", "--convention", "torch")
    assert run.code == 0
    twin += " with --convention lossctl"
    assert f"takes logits; for probabilities use {twin}\n" in run.err


def test_multi_class_data_gets_default_losses(cli) -> None:
    run = cli("eval", ROOT / "sample_data/multiclass.parquet", "--pred", "logit_*", "--target", "label", "-f", "csv")
    assert run.code == 0
    assert (
        "notice: no --loss given: the data looks like multiclass (logits); evaluating cross_entropy, zero_one"
        in run.err
    )
    assert [row["loss"] for row in csv.DictReader(io.StringIO(run.out))] == ["cross_entropy", "zero_one"]


def test_an_output_format_contradicting_the_extension_is_a_usage_error(cli, tmp_path: Path) -> None:
    run = cli("eval", MODELS, "--pred", "model_a", "-l", "mse", "-o", tmp_path / "x.csv", "-f", "json")
    assert run.code == 2 and not (tmp_path / "x.csv").exists()
    assert run.err.startswith(f"error: --format json contradicts --output '{tmp_path / 'x.csv'}', which writes csv")
    # An explicit table (the default when no --format is given) contradicts a file's extension too.
    run = cli("eval", MODELS, "--pred", "model_a", "-l", "mse", "-o", tmp_path / "x.json", "--format", "table")
    assert run.code == 2 and not (tmp_path / "x.json").exists()
    assert run.err.startswith(f"error: --format table contradicts --output '{tmp_path / 'x.json'}', which writes json")
    assert cli("eval", MODELS, "--pred", "model_a", "-l", "mse", "-o", tmp_path / "x.json").code == 0


def test_an_unquoted_glob_is_several_paths(cli, tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("y_true,y_pred\n1,2\n3,3\n")
    run = cli("eval", tmp_path / "a.csv", tmp_path / "b.csv", "-l", "mse", "-f", "json")
    assert _json(run)["input"]["rows"] == 4 and _json(run)["results"][0]["value"] == 0.5


@pytest.mark.parametrize("loss", ["class_balanced:beta=0.99", "cross_entropy:class_weight=balanced"])
def test_whole_input_class_weights_hold_in_every_group(loss: str, tmp_path: Path) -> None:
    """A group's value keeps the class weights of the whole input, so the groups recombine into the overall value."""
    rng = np.random.default_rng(5)
    n = 400
    label = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    logits = rng.normal(size=(n, 3)) + 2.0 * np.eye(3)[label]
    group = rng.choice(["a", "b"], size=n)
    columns = {"label": label, "g": group, **{f"x{k}": logits[:, k] for k in range(3)}}
    pq.write_table(pa.table(columns), tmp_path / "c.parquet")
    report = lossctl.evaluate(tmp_path / "c.parquet", losses=loss, pred="x*", target="label", by="g")
    name = loss.split(":")[0]
    values = {r.group["g"]: r.value for r in report.results if r.group}
    if name == "class_balanced":
        counts = ",".join(str(int(c)) for c in np.bincount(label, minlength=3))
        for g, value in values.items():
            rows = group == g
            alone = lossctl.get(f"class_balanced:beta=0.99:counts={counts}")(label[rows], logits[rows])
            assert value == pytest.approx(alone, rel=1e-12)
        recombined = sum(values[g] * np.sum(group == g) for g in values) / n
    else:
        weights = n / (3 * np.bincount(label, minlength=3))
        denominators = {g: weights[label[group == g]].sum() for g in values}
        recombined = sum(values[g] * denominators[g] for g in values) / sum(denominators.values())
    assert report[name] == pytest.approx(recombined, rel=1e-12)


@pytest.mark.parametrize("extra", [[], ["--on", "id"], ["--chunk-rows", "1"]])
def test_compare_refuses_the_target_column_bound_as_the_prediction(cli, tmp_path: Path, extra: list[str]) -> None:
    # The candidate's y_true as both its prediction and the target was a KeyError (exit 4) once, then scored the
    # column against itself (0, exit 0): a column explicitly bound to two roles is a usage error.
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("id,y_true,y_pred\n0,1,1.5\n1,2,2\n2,3,2.5\n")
    run = cli("compare", tmp_path / "a.csv", tmp_path / "b.csv", "-l", "mse", "--pred", "y_true", "--target", "y_true",
              "-q", "-f", "json", *extra)  # fmt: skip
    message = (
        "column 'y_true' is bound to two roles, target and pred (--target y_true, --pred y_true); bind each column to "
        "one role"
    )
    assert (run.code, run.out, run.err) == (2, "", f"error: {message}\n")
    in_python = message.replace("--target y_true, --pred y_true", 'target="y_true", pred="y_true"')
    with pytest.raises(UsageError, match=re.escape(in_python)):
        lossctl.compare(tmp_path / "a.csv", tmp_path / "b.csv", losses="mse", pred="y_true", target="y_true")


def test_fail_if_worse_holds_the_relative_delta_and_a_negligible_delta_never_fails(cli, tmp_path: Path) -> None:
    exact, tiny, worse = (tmp_path / n for n in ("exact.csv", "tiny.csv", "worse.csv"))
    exact.write_text("y_true,y_pred\n1,1\n2,2\n")
    tiny.write_text("y_true,y_pred\n1,1.000001\n2,2\n")
    worse.write_text("y_true,y_pred\n1,1\n2,2.5\n")
    # A delta of 5e-13 over a baseline of 0 is `same`: it passes (it failed, with the absolute delta as "value").
    run = cli("compare", exact, tiny, "-l", "mse", "--fail-if-worse", "1", "-f", "json", "-q")
    doc = _json(run)
    assert run.code == 0 and doc["results"][0]["verdict"] == "same"
    head = {"expr": "mse worse by > 1%", "loss": "mse", "params": {"multioutput": None}, "value": None}
    assert doc["checks"] == [head | {"passed": True, "threshold": 0.01, "note": "the baseline is 0: negligible"}]
    # Worse than a baseline of 0 is worse by an unbounded percent: it fails, with no number to show.
    run = cli("compare", exact, worse, "-l", "mse", "--fail-if-worse", "1", "-f", "json", "-q")
    assert run.code == 1
    unbounded = "the baseline is 0: worse by an unbounded percent"
    assert _json(run)["checks"] == [head | {"passed": False, "threshold": 0.01, "note": unbounded}]
    run = cli("compare", exact, worse, "-l", "mse", "--fail-if-worse", "1", "-f", "markdown", "-q")
    assert "- check `mse worse by > 1%`: mse = null (the baseline is 0: worse by an unbounded percent) (FAILED)\n" in (
        run.out
    )


def test_a_relative_delta_that_overflows_is_null_in_every_format(cli, tmp_path: Path) -> None:
    # 1e150 over a baseline of 1e-300 is inf: JSON failed as an internal error (exit 4), CSV wrote `inf`.
    base, cand = tmp_path / "base.csv", tmp_path / "cand.csv"
    base.write_text("y_true,y_pred\n0,1e-300\n")
    cand.write_text("y_true,y_pred\n0,1e150\n")
    run = cli("compare", base, cand, "-l", "mae", "--fail-if-worse", "1", "-f", "json", "-q")
    assert run.code == 1, run.err
    doc = json.loads(run.out, parse_constant=lambda name: pytest.fail(f"JSON holds {name}"))
    assert [r["relative_delta"] for r in doc["results"]] == [None]
    note = "the baseline is 1e-300, too close to 0: worse by an unbounded percent"
    assert [(c["value"], c["passed"], c["note"]) for c in doc["checks"]] == [(None, False, note)]
    run = cli("compare", base, cand, "-l", "mae", "-f", "csv", "-q")
    assert run.code == 0 and run.out.splitlines()[1].split(",")[6] == "", run.out


@pytest.mark.parametrize("given", ["5%", "5", " 5 %"])
def test_fail_if_worse_takes_a_percent_sign(cli, tmp_path: Path, given: str) -> None:
    (tmp_path / "b.csv").write_text("y_true,y_pred\n1,1.25\n2,2\n3,2.5\n4,4.5\n")
    (tmp_path / "a.csv").write_text("y_true,y_pred\n1,1.5\n2,2\n3,2\n4,4.5\n")
    run = cli("compare", tmp_path / "b.csv", tmp_path / "a.csv", "-l", "mse", "--fail-if-worse", given, "-f", "json")
    [check] = _json(run)["checks"]
    assert run.code == 1 and check["expr"] == "mse worse by > 5%" and check["threshold"] == 0.05
    assert check["value"] == pytest.approx(5 / 3) and not check["passed"]
    run = cli("compare", tmp_path / "b.csv", tmp_path / "a.csv", "-l", "mse", "--fail-if-worse", "-0", "-f", "json")
    assert run.code == 1 and _json(run)["checks"][0]["expr"] == "mse worse by > 0%"  # not "-0%"


@pytest.mark.parametrize(("given", "shown"), [("1.0000001", "1.0000001"), ("1234567", "1234567"), ("0.5", "0.5")])
def test_a_fail_if_worse_check_names_the_threshold_as_given(cli, tmp_path: Path, given: str, shown: str) -> None:
    (tmp_path / "b.csv").write_text("y_true,y_pred\n1,1.25\n2,2\n")
    (tmp_path / "a.csv").write_text("y_true,y_pred\n1,1.5\n2,2\n")
    run = cli("compare", tmp_path / "b.csv", tmp_path / "a.csv", "-l", "mse", "--fail-if-worse", given, "-f", "json")
    assert _json(run)["checks"][0]["expr"] == f"mse worse by > {shown}%"  # 1% and 1.23457e+06% before


def test_fail_if_worse_check_lines_in_markdown_are_percents(cli, tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text("y_true,y_pred\n1,1.25\n2,2\n3,2.5\n4,4.5\n")
    (tmp_path / "a.csv").write_text("y_true,y_pred\n1,1.5\n2,2\n3,2\n4,4.5\n")
    run = cli("compare", tmp_path / "b.csv", tmp_path / "a.csv", "-l", "mse", "--fail-if-worse", "5", "-f",
              "markdown", "-q")  # fmt: skip
    assert run.code == 1
    assert run.out.endswith("\n- check `mse worse by > 5%`: mse = +166.67% (FAILED)\n")
    assert "1.6666666666666667 (FAILED)" not in run.out


def test_compare_missing_drop_drops_rows_without_a_partner_and_still_checks_the_targets(cli, tmp_path: Path) -> None:
    base, sub, null, other = (tmp_path / n for n in ("a.csv", "sub.csv", "null.csv", "other.csv"))
    base.write_text("id,y_true,y_pred\n0,1,1.5\n1,2,2\n2,3,2\n3,4,4.5\n")
    sub.write_text("id,y_true,y_pred\n0,1,1.25\n1,2,2\n3,4,4.5\n")
    null.write_text("id,y_true,y_pred\n0,1,1.25\n1,,2\n2,3,2.5\n3,4,4.5\n")
    other.write_text("id,y_true,y_pred\n0,1,1.25\n1,2,2\n3,5,4.5\n")
    # Row 2 (id 2) has no partner: dropped and counted, not "the targets differ: ... None" (exit 3).
    run = cli("compare", base, sub, "--on", "id", "--missing", "drop", "-l", "mse", "-f", "json")
    doc = _json(run)
    assert run.code == 0 and doc["input"]["baseline"]["rows_dropped"] == 1
    assert (
        f"notice: {base}: 1 row has a key 'id' that is not in {sub} (first: 2 at row 2): dropped (--missing drop)\n"
        in run.err
    )
    assert f"notice: dropped 1 of 4 rows without a partner in {sub} (--missing drop)\n" in run.err
    [result] = doc["results"]
    assert result["n"] == 3 and result["candidate"] == pytest.approx((0.25**2 + 0.5**2) / 3)
    # A missing candidate target contradicts nothing under --missing drop (the baseline's target is scored).
    for extra in ([], ["--on", "id"]):
        run = cli("compare", base, null, "--missing", "drop", "-l", "mse", "-f", "json", *extra)
        assert run.code == 0, run.err
    # Targets that truly differ are still an input error.
    run = cli("compare", base, other, "--on", "id", "--missing", "drop", "-l", "mse", "-f", "json")
    assert (
        run.code == 3
        and f"error: the targets differ: column 'y_true' is 4 in {base} at row 3 but 5 in {other}" in run.err
    )


def test_compare_a_missing_baseline_target_is_a_missing_value_not_differing_targets(cli, tmp_path: Path) -> None:
    """A missing baseline target beside the candidate's was "the targets differ" (exit 3) even under --missing drop,
    which takes the same row the other way round (candidate target missing); without it the message hid the fix."""
    base, cand = tmp_path / "a.csv", tmp_path / "b.csv"
    base.write_text("id,y_true,y_pred\n0,1,1.5\n1,,2\n2,3,2\n")
    cand.write_text("id,y_true,y_pred\n0,1,1.25\n1,2,2\n2,3,2.5\n")
    for extra in ([], ["--on", "id"]):
        run = cli("compare", base, cand, "--missing", "drop", "-l", "mse", "-f", "json", *extra)
        assert run.code == 0, run.err
        doc = _json(run)
        assert doc["input"]["baseline"]["rows_dropped"] == 1 and doc["input"]["candidate"]["rows_dropped"] == 1
        assert doc["results"][0]["baseline"] == pytest.approx((0.25 + 1) / 2)
        assert doc["results"][0]["candidate"] == pytest.approx((0.0625 + 0.25) / 2)
        run = cli("compare", base, cand, "-l", "mse", *extra)
        assert run.code == 3 and run.out == ""
        assert run.err.endswith(
            "error: column 'y_true' has 1 missing value (row 1; 0-based); use --missing drop to drop those rows\n"
        )


@pytest.mark.parametrize("on", [[], ["--on", "id"]])
def test_compare_a_nan_target_in_parquet_is_missing_not_a_differing_target(cli, tmp_path: Path, on: list[str]) -> None:
    """A NaN target (Parquet and Arrow store one apart from null; a loss reads it as missing) beside the other
    file's 2.0 was "the targets differ: ... is nan in a.parquet but 2.0 in b.parquet" (exit 3) even under
    --missing drop, in either file; null was not."""
    nan, full = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(pa.table({"id": [0, 1, 2], "y": [1.0, float("nan"), 3.0], "p": [1.5, 2.0, 3.0]}), nan)
    pq.write_table(pa.table({"id": [0, 1, 2], "y": [1.0, 2.0, 3.0], "p": [1.0, 2.5, 3.5]}), full)
    args = ["--target", "y", "--pred", "p", "-l", "mse", "-f", "json", *on]
    for base, cand in ((nan, full), (full, nan)):
        run = cli("compare", base, cand, *args, "--missing", "drop")
        assert run.code == 0, run.err
        doc = _json(run)
        assert doc["input"]["baseline"]["rows_used"] == (2 if base == nan else 3)
        [result] = doc["results"]
        rows = [0, 2] if base == nan else [0, 1, 2]
        base_sq = {0: 0.25, 1: 0.0, 2: 0.0} if base == nan else {0: 0.0, 1: 0.25, 2: 0.25}
        cand_sq = {0: 0.0, 1: 0.25, 2: 0.25} if base == nan else {0: 0.25, 1: 0.0, 2: 0.0}
        assert result["baseline"] == pytest.approx(sum(base_sq[r] for r in rows) / len(rows))
        assert result["candidate"] == pytest.approx(sum(cand_sq[r] for r in rows) / len(rows))
    run = cli("compare", nan, full, *args)
    assert (run.code, run.out) == (3, "")
    assert run.err.endswith(
        "error: column 'y' has 1 missing value (row 1; 0-based); use --missing drop to drop those rows\n"
    )


def test_without_loss_models_that_look_like_different_tasks_are_a_usage_error(cli, write) -> None:
    """The defaults came from the first model alone: probabilities first gave bce and an input error on the
    logits model, logits first ran bce_logits on the probabilities; the outcome hung on the order of --model."""
    path = write("m.csv", "y,pa,pb\n0,0.2,-1.5\n1,0.7,2.0\n0,0.4,0.3\n1,0.9,-0.2\n")
    for models in (["pa", "pb"], ["pb", "pa"]):
        run = cli("eval", path, "--model", models[0], "--model", models[1], "--target", "y", "-f", "csv")
        seen = {"pa": "pa: binary (probabilities)", "pb": "pb: binary (logits)"}
        assert (run.code, run.out) == (2, "")
        assert run.err == (
            f"error: no --loss given, and the models' data look like different tasks ({seen[models[0]]}, "
            f"{seen[models[1]]}); name the losses with --loss\n"
        )
    same = cli("eval", path, "--model", "a=pa", "--model", "b=pa", "--target", "y", "-f", "csv")
    assert same.code == 0 and "the data looks like binary (probabilities); evaluating bce, brier\n" in same.err


def test_compare_without_loss_uses_and_reports_the_task_defaults(cli, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("y_true,y_pred\n1,1.5\n2,2\n3,2\n4,4.5\n")
    (tmp_path / "b.csv").write_text("y_true,y_pred\n1,1.25\n2,2\n3,2.5\n4,4.5\n")
    run = cli("compare", tmp_path / "a.csv", tmp_path / "b.csv", "-f", "csv")
    assert run.code == 0, run.err
    assert "notice: no --loss given: the data looks like regression; evaluating mse, rmse, mae, huber\n" in run.err
    assert [row["loss"] for row in csv.DictReader(io.StringIO(run.out))] == ["mse", "rmse", "mae", "huber"]
    report = lossctl.compare(tmp_path / "a.csv", tmp_path / "b.csv")
    assert [r.loss for r in report.results] == ["mse", "rmse", "mae", "huber"]
    assert "no losses given: the data looks like regression; evaluating mse, rmse, mae, huber" in report.notices
    assert report["mse"].delta == pytest.approx(0.140625 - 0.375)


@pytest.mark.parametrize(("given", "starts"), [("json", "{\n"), ("csv", "loss,params"), ("markdown", "| loss |")])
def test_an_output_without_a_known_extension_is_written_in_an_explicit_format(
    cli, tmp_path: Path, given: str, starts: str
) -> None:
    out = tmp_path / "out_noext"
    run = cli("eval", MODELS, "--pred", "model_a", "-l", "mse", "-f", given, "-q", "-o", out)
    assert run.code == 0, run.err
    assert out.read_text().startswith(starts) and run.out == ""
    compared = tmp_path / "compared.v2"
    run = cli("compare", MODELS, "--model", "model_*", "--target", "y_true", "-l", "mse", "-f", given, "-q",
              "-o", compared)  # fmt: skip
    assert run.code == 0 and compared.read_text().startswith(starts)


@pytest.mark.parametrize("given", [[], ["-f", "table"]])
def test_an_output_without_a_known_extension_nor_a_file_format_is_a_usage_error(
    cli, tmp_path: Path, given: list[str]
) -> None:
    out = tmp_path / "out_noext"
    run = cli("eval", MODELS, "--pred", "model_a", "-l", "mse", "-o", out, *given)
    assert run.code == 2 and not out.exists()
    assert run.err == (
        f"error: cannot tell the format of '{out}' from its extension; use one of .json, .csv, .md, .parquet, or "
        "give --format json, csv or markdown\n"
    )


def test_fail_if_worse_at_exactly_the_threshold_passes(cli, tmp_path: Path) -> None:
    # 1.01 over 1.0 is worse by exactly 1%, but its floats give 0.010000000000000009 > 0.01: the gate failed.
    path = tmp_path / "m.csv"
    path.write_text("y,a,b,c\n0,1.0,1.01,1.0101\n0,1.0,1.01,1.0101\n")
    args = ["compare", path, "--model", "A=a", "--target", "y", "-l", "mae", "-f", "json", "-q"]
    run = cli(*args, "--model", "B=b", "--fail-if-worse", "1")
    [check] = _json(run)["checks"]
    assert (run.code, check["passed"], check["value"]) == (0, True, pytest.approx(0.01, rel=1e-12))
    run = cli(*args, "--model", "C=c", "--fail-if-worse", "1")  # 1.01% is more than 1%: it fails
    assert (run.code, _json(run)["checks"][0]["passed"]) == (1, False)
    report = lossctl.compare(path, models={"A": "a", "B": "b"}, target="y", losses="mae", fail_if_worse=1)
    assert report.passed


def test_a_relative_delta_beyond_float64_is_null_and_a_delta_beyond_it_an_input_error(cli, tmp_path: Path) -> None:
    # 1 over a subnormal baseline (5e-324) is inf: JSON refused it, half a document was on stdout, exit 4.
    path = tmp_path / "m.csv"
    path.write_text("y,a,b\n0,5e-324,1\n")
    run = cli("compare", path, "--model", "A=a", "--model", "B=b", "--target", "y", "-l", "mae", "--fail-if-worse",
              "5", "-f", "json")  # fmt: skip
    doc = _json(run)
    assert run.code == 1
    assert (doc["results"][0]["relative_delta"], doc["results"][0]["verdict"]) == (None, "worse")
    assert doc["checks"][0]["value"] is None and doc["checks"][0]["passed"] is False
    assert doc["checks"][0]["note"] == "the baseline is 5e-324, too close to 0: worse by an unbounded percent"
    assert (
        "notice: mae@B: relative_delta is null where the baseline is so close to 0 that delta / baseline is beyond "
        "float64\n" in run.err
    )
    plugin = tmp_path / "signed.py"
    plugin.write_text(
        "import numpy as np\nfrom lossctl import register_loss\n\n\n"
        '@register_loss("signed", task="regression", summary="p - y (a test plugin).", formula="l = p - y")\n'
        "def signed(target: np.ndarray, pred: np.ndarray) -> np.ndarray:\n    return pred - target\n"
    )
    path.write_text("y,a,b\n0,-1e308,1e308\n")
    # In a subprocess: a plugin registers into the process's registry, which other tests must not see.
    done = subprocess.run(
        [sys.executable, "-m", "lossctl", "compare", str(path), "--model", "A=a", "--model", "B=b", "--target", "y",
         "-l", "signed", "--plugin", str(plugin), "-f", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == "error: signed@B: the delta candidate - baseline overflows float64; rescale the inputs\n"


def test_compare_gives_no_bootstrap_interval_over_one_row(cli, tmp_path: Path) -> None:
    # One row resampled is always that row: its zero-width interval made every delta significant (exit 1 below).
    path = tmp_path / "m.csv"
    path.write_text("y,a,b,g\n0,1,2,a\n0,1,2.5,b\n0,2,1,b\n")
    args = ["compare", path, "--model", "A=a", "--model", "B=b", "--target", "y", "-l", "mae", "--bootstrap", "100"]
    run = cli(*args, "--by", "g", "-f", "json")
    by_group = {(r["group"] or {}).get("g"): r for r in _json(run)["results"]}
    assert (by_group["a"]["ci"], by_group["a"]["verdict"]) == (None, "worse")
    assert by_group["b"]["ci"] is not None
    assert "notice: mae delta@B: no confidence interval for 1 group (first: g=a): fewer than 2 rows\n" in run.err
    path.write_text("y,a,b\n0,1,2\n")
    run = cli(*args, "--fail-if-worse", "0", "--significant", "-f", "json")
    doc = _json(run)
    assert (run.code, doc["results"][0]["ci"], doc["checks"][0]["passed"]) == (0, None, True)
    assert "notice: mae delta@B: no confidence interval for the overall value: fewer than 2 rows\n" in run.err


def test_compare_reports_each_output_of_multioutput_raw(cli) -> None:
    # compare reported the pooled value of every output, labelled multioutput=raw, where eval reports mse[0], mse[1].
    args = ["--target", "y_true", "-l", "mse:multioutput=raw", "-f", "json", "-q"]
    doc = _json(cli("compare", MODELS, "--model", "P=model_a,model_b", "--model", "Q=model_b,model_c", *args))
    records = [(r["loss"], r["baseline"], r["candidate"]) for r in doc["results"]]
    alone = {m: lossctl.evaluate(MODELS, pred=f"model_{m}", target="y_true", losses="mse")["mse"] for m in "abc"}
    assert records == [("mse[0]", alone["a"], alone["b"]), ("mse[1]", alone["b"], alone["c"])]


def test_compare_names_a_candidate_column_as_the_user_knows_it(cli, tmp_path: Path) -> None:
    # Messages named the internal 'candidate:pred', a column no file has.
    base, bad = tmp_path / "a.csv", tmp_path / "b.csv"
    base.write_text("id,target,pred\n0,1,0.5\n1,0,0.2\n2,1,0.9\n")
    bad.write_text("id,target,pred\n0,1,0.5\n1,0,1.2\n2,1,0.9\n")
    run = cli("compare", base, bad, "-l", "bce", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: bce: column 'pred' in {bad} (pred): expected probabilities in [0, 1] (for logits, use bce_logits), "
        "got 1.2 in 1 row (first: row 1)\n"
    )
    # Joined by --on, the candidate's rows are named as its file numbers them: id 0 is row 0 of a.csv, row 2 of b.csv.
    bad.write_text("id,target,pred\n1,0,\n2,1,0.9\n0,1,inf\n")
    run = cli("compare", base, bad, "--on", "id", "-l", "bce", "-q")
    assert run.err == (
        f"error: column 'pred' in {bad} has 1 missing value (row 0; 0-based); use --missing drop to drop those rows\n"
    )  # was row 1 (a.csv's), '(rows are numbered as in a.csv, to which --on joins them)'
    run = cli("compare", base, bad, "--on", "id", "-l", "bce", "--missing", "drop")
    assert run.code == 3 and run.err.endswith(f"error: column 'pred' in {bad} has 1 infinite value (row 2; 0-based)\n")
    # Candidate rows the join leaves out (no partner, no key) keep the others' numbers.
    bad.write_text("id,target,pred\n7,1,0.5\n,1,0.5\n2,1,0.9\n0,1,1.5\n1,0,0.2\n")
    run = cli("compare", base, bad, "--on", "id", "-l", "bce", "--missing", "drop")
    assert run.code == 3 and run.err.endswith(
        f"error: bce: column 'pred' in {bad} (pred): expected probabilities in [0, 1] (for logits, use bce_logits), "
        "got 1.5 in 1 row (first: row 3)\n"
    )
    bad.write_text("id,target,pred\n2,1,0.9\n1,0,0.2\n0,1,x\n")
    run = cli("compare", base, bad, "--on", "id", "-l", "bce")
    assert run.err == f"error: column 'pred' in {bad} is not numeric: 'x' at row 2\n"
    with pytest.raises(lossctl.InputError, match=r"is not numeric: 'x' at row 2$"):
        lossctl.compare(base, bad, on="id", losses="bce")
    # A missing value in the baseline too: one message, in the baseline's rows, which says so; each file's 'pred' is
    # named as that file's (the baseline's was 'column 'pred'', which both files have).
    base.write_text("id,target,pred\n0,1,0.5\n1,0,\n2,1,0.9\n")
    bad.write_text("id,target,pred\n2,1,\n1,0,0.2\n0,1,0.5\n")
    run = cli("compare", base, bad, "--on", "id", "-l", "bce")
    assert run.err == (
        f"error: column 'pred' in {base} has 1 missing value (row 1; 0-based); column 'pred' in {bad} has 1 missing "
        f"value (row 2; 0-based); use --missing drop to drop those rows (rows are numbered as in {base}, to which --on "
        "joins them)\n"
    )
    base.write_text("id,target,pred\n0,1,0.5\n1,0,0.2\n2,1,0.9\n")
    bad.write_text("id,target,pred\n2,1,0.9\n1,0,\n0,1,0.5\n")
    run = cli("compare", base, bad, "--on", "id", "-l", "bce", "--missing", "drop")
    assert run.code == 0
    assert f"with missing values (--missing drop): 1 in column 'pred' in {bad}; a row with a missing" in run.err
    assert "candidate:" not in run.err


def test_compare_names_a_baseline_column_as_the_baseline_files(cli, tmp_path: Path) -> None:
    """An error about the baseline's prediction column said "column 'pred' has ...", which both files have, while
    the candidate's said "column 'pred' in b.csv"; the baseline's now names its file too."""
    base, good = tmp_path / "a.csv", tmp_path / "b.csv"
    base.write_text("id,target,pred\n0,1,0.5\n1,0,\n2,1,0.9\n")
    good.write_text("id,target,pred\n0,1,0.5\n1,0,0.2\n2,1,0.9\n")
    missing = (
        f"error: column 'pred' in {base} has 1 missing value (row 1; 0-based); use --missing drop to drop those rows\n"
    )
    for on in ([], ["--on", "id"]):
        run = cli("compare", base, good, *on, "-l", "bce", "--per-sample", tmp_path / "s.csv")
        assert (run.code, run.out, run.err) == (3, "", missing)
        assert not (tmp_path / "s.csv").exists()
    base.write_text("id,target,pred\n0,1,0.5\n1,0,1.5\n2,1,0.9\n")
    run = cli("compare", base, good, "-l", "bce", "-q")
    assert (run.code, run.err) == (
        3,
        f"error: bce: column 'pred' in {base} (pred): expected probabilities in [0, 1] (for logits, use bce_logits), "
        "got 1.5 in 1 row (first: row 1)\n",
    )


def test_missing_drop_says_a_row_missing_in_one_model_is_dropped_for_every_model(cli, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("target,m1,m2\n1,2,\n2,2,2\n3,3,4\n")
    every = (
        "; a row with a missing value in any model's column is dropped for every model, so the models are compared "
        "on the same rows\n"
    )
    run = cli("eval", path, "--model", "m*", "--target", "target", "-l", "mse", "--missing", "drop", "-f", "json")
    assert [(r["model"], r["value"], r["n"]) for r in _json(run)["results"]] == [("m1", 0.0, 2), ("m2", 0.5, 2)]
    assert f"notice: dropped 1 of 3 rows with missing values (--missing drop): 1 in column 'm2'{every}" in run.err
    run = cli("compare", path, "--model", "m*", "--target", "target", "-l", "mse", "--missing", "drop", "-f", "json")
    assert _json(run)["results"][0]["n"] == 2 and every in run.err
    base, cand = tmp_path / "a.csv", tmp_path / "b.csv"
    base.write_text("target,pred\n1,2\n2,2\n3,3\n")
    cand.write_text("target,pred\n1,\n2,2\n3,4\n")
    run = cli("compare", base, cand, "-l", "mse", "--missing", "drop", "-f", "json")
    assert _json(run)["results"][0]["n"] == 2
    assert f"1 in column 'pred' in {cand}{every}" in run.err
    # A missing target drops the row for every model without needing a word.
    run = cli("eval", path, "--model", "m1", "--target", "m2", "-l", "mse", "--missing", "drop")
    assert run.code == 0 and "1 in column 'm2'\n" in run.err


def test_compare_reports_what_each_model_s_loss_counted(cli, tmp_path: Path) -> None:
    # eval's notices of clipped probabilities (ignored rows, degenerate samples) were left out of compare's.
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("target,pred,other\n1,1,0.5\n0,0.2,0\n1,0,0.5\n")
    b.write_text("target,pred\n1,0.9\n0,0.2\n1,0.5\n")
    clipped = "within eps = 2.22045e-16 of 0 or 1, clipped (as scikit-learn)\n"
    run = cli("compare", a, b, "-l", "bce", "-f", "json")
    assert run.code == 0
    assert f"notice: bce in {a}: 2 rows had a probability {clipped}" in run.err and f"bce in {b}:" not in run.err
    run = cli("compare", a, "--model", "A=pred", "--model", "B=other", "-l", "bce", "-f", "json")
    # one line for the two models, each with its count
    assert f"notice: bce@A: 2 rows had a probability {clipped.strip()}; 1 row for model B\n" in run.err


def test_model_for_losses_without_a_pred_role_is_a_usage_error(cli, write) -> None:
    # Before, the model's column was never read and each model's result was the same number, labelled by the model
    # (exit 0); --pred for such a loss was already this usage error.
    rows = '{"a": [1, 0], "o": [1, 1], "target": 1, "x": 3}\n{"a": [0, 1], "o": [1, 0], "target": -1, "x": 1}\n'
    data = write("e.jsonl", rows)
    run = cli("eval", data, "-l", "cosine_embedding", "--col", "anchor=a", "--col", "other=o", "--model", "m=x")
    assert (run.code, run.out) == (2, "")
    assert run.err == "error: --model m=x: no selected loss reads the role 'pred' (they read anchor, other, target)\n"


def test_many_models_share_one_notice_per_loss(cli, write) -> None:
    """A --model glob of 300 probability columns under bce_logits printed 300 'look like probabilities' notices, and
    with --ci on one row 300 'no confidence interval' notices, one per model; now one line per loss each."""
    names = [f"m{k}" for k in range(300)]
    path = write("p.csv", ",".join([*names, "target"]) + "\n" + ",".join(["0.25"] * 300 + ["1"]) + "\n")
    run = cli("eval", path, "--model", "m*", "--target", "target", "-l", "bce_logits", "--ci", "0.9", "-f", "csv")
    assert run.code == 0
    listed = ", ".join(f"'m{k}'" for k in range(20)) + ", ... (300 columns)"
    assert run.err.splitlines() == [
        f"notice: bce_logits: the predictions in {listed} look like probabilities (every value is in [0, 1]), but "
        "bce_logits takes logits; for probabilities use bce",
        "notice: bce_logits@m0 to bce_logits@m299 (300 models): no confidence interval for the overall value: "
        "fewer than 2 rows",
    ]


def test_a_loss_notice_shared_by_models_is_one_line(cli, write) -> None:
    """bce's clipping notice was printed once per model: 300 lines for a --model glob of 300 columns. The same
    notice is now one line naming the other models, and the models whose numbers differ join it with theirs (they
    took a line each)."""
    names = [f"m{k}" for k in range(300)]
    rows = [",".join(["1"] * 300 + ["1"]), ",".join(["0"] * 299 + ["0.5", "0"])]
    path = write("p.csv", ",".join([*names, "target"]) + "\n" + "\n".join(rows) + "\n")
    run = cli("eval", path, "--model", "m*", "--target", "target", "-l", "bce", "-f", "csv")
    assert run.code == 0
    clipped = "had a probability within eps = 2.22045e-16 of 0 or 1, clipped (as scikit-learn)"
    others = ", ".join(f"m{k}" for k in range(1, 21)) + ", ... (298 models)"
    assert run.err.splitlines() == [
        f"notice: bce@m0: 2 rows {clipped}; the same for 298 more models ({others}); 1 row for model m299"
    ]


def test_a_loss_notice_whose_counts_differ_by_model_is_one_line(cli, write) -> None:
    """300 models that each clip a different number of rows: one line listing the first 20 others with their counts
    and how many models are left (it was 300 lines, one per model)."""
    models = 300
    names = [f"m{k}" for k in range(models)]
    # model k predicts 1 (clipped) on its first 300 - k rows, 0.5 on the others; m299 clips 1 row
    rows = [",".join(["1" if row < models - k else "0.5" for k in range(models)] + ["1"]) for row in range(models)]
    path = write("p.csv", ",".join([*names, "target"]) + "\n" + "\n".join(rows) + "\n")
    run = cli("eval", path, "--model", "m*", "--target", "target", "-l", "bce", "-f", "csv")
    assert run.code == 0
    clipped = "had a probability within eps = 2.22045e-16 of 0 or 1, clipped (as scikit-learn)"
    others = "".join(f"; {models - k} rows for model m{k}" for k in range(1, 21))
    assert run.err.splitlines() == [f"notice: bce@m0: 300 rows {clipped}{others}; ... (279 more models)"]


def test_comparing_two_files_of_20000_prediction_columns_binds_them_all() -> None:
    """compare looked each of the baseline's prediction columns up in the list of the candidate's columns (and so
    the targets and likely keys): two Parquet files of 10,000 logit columns took 6.7 s, 2 s of it there."""
    from types import SimpleNamespace

    from lossctl.binding import Binding
    from lossctl.comparison import _two_models

    names = [f"logit_{k}" for k in range(20_000)]
    candidate = SimpleNamespace(columns=[*names, "target"], name="b.parquet")
    baseline = SimpleNamespace(columns=candidate.columns, name="a.parquet")
    binding = Binding({"pred": names, "target": ["target"]})
    models = _two_models(binding, baseline, candidate, {"pred": "logit_*"}, ())  # type: ignore[arg-type]
    assert models.models["candidate"]["pred"][-1] == "candidate:logit_19999"
