"""Labels as users have them: text class labels, a named positive class, booleans, query ids and groups of any type."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl

ANIMALS = "label,prob_cat,prob_dog,prob_eel\ncat,0.7,0.2,0.1\neel,0.1,0.1,0.8\ndog,0.3,0.6,0.1\ncat,0.5,0.25,0.25\n"
INDICES = "label,prob_cat,prob_dog,prob_eel\n0,0.7,0.2,0.1\n2,0.1,0.1,0.8\n1,0.3,0.6,0.1\n0,0.5,0.25,0.25\n"


def _value(run) -> float:
    assert run.code == 0, run.err
    return json.loads(run.out)["results"][0]["value"]


def test_text_class_labels_map_by_the_suffix_of_the_prediction_columns(cli, write) -> None:
    args = ["--pred", "prob_*", "--target", "label", "-l", "categorical_ce", "-f", "json"]
    run = cli("eval", write("a.csv", ANIMALS), *args)
    assert _value(run) == _value(cli("eval", write("i.csv", INDICES), *args))
    assert (
        "notice: categorical_ce: text labels matched to prediction columns by suffix (cat -> prob_cat, "
        "dog -> prob_dog, eel -> prob_eel); set --classes to choose\n" in run.err
    )


def test_each_model_maps_text_labels_by_its_own_columns_or_the_run_stops(cli, write) -> None:
    """One encoding of the label column serves every model: it took the first model's suffix order, so a second
    model listing its columns in another order was scored against the wrong classes (1.304 instead of 0.436)."""
    path = write("m.csv", "label,prob_cat,prob_dog,q_cat,q_dog\ncat,0.9,0.1,0.6,0.4\ndog,0.3,0.7,0.5,0.5\n")
    args = ["--target", "label", "-l", "categorical_ce", "-f", "json"]
    alone = {m: _value(cli("eval", path, "--pred", cols, *args)) for m, cols in (("p", "prob_*"), ("q", "q_*"))}
    assert alone["q"] == pytest.approx(-(np.log(0.6) + np.log(0.5)) / 2, rel=1e-12)
    run = cli("eval", path, "--model", "p=prob_*", "--model", "q=q_*", *args)
    assert {r["model"]: r["value"] for r in json.loads(run.out)["results"]} == alone
    crossed = cli("eval", path, "--model", "p=prob_cat,prob_dog", "--model", "q=q_dog,q_cat", *args)
    assert (crossed.code, crossed.out) == (3, "")
    assert crossed.err == (
        "error: column 'label' holds the text label 'cat' at row 0, which names prediction column 1 of one model "
        "(prob_cat) but column 2 of another (q_cat); the labels are read once for every model, so list each "
        "model's columns in the same class order\n"
    )
    unnamed = cli("eval", write("u.csv", "label,prob_cat,prob_dog,x0,x1\ncat,0.9,0.1,0.6,0.4\n"), "--model",
                  "p=prob_*", "--model", "x=x0,x1", *args)  # fmt: skip
    assert unnamed.code == 3 and "no prediction column (x0, x1) is named for it" in unnamed.err


def test_classes_give_the_order(cli, write) -> None:
    reordered = "label,p_0,p_1,p_2\ncat,0.7,0.2,0.1\neel,0.1,0.1,0.8\ndog,0.3,0.6,0.1\ncat,0.5,0.25,0.25\n"
    args = ["--pred", "p_*", "--target", "label", "-l", "categorical_ce", "-f", "json"]
    value = _value(cli("eval", write("a.csv", reordered), *args, "--classes", "cat,dog,eel"))
    indices = "label,p_0,p_1,p_2\n0,0.7,0.2,0.1\n2,0.1,0.1,0.8\n1,0.3,0.6,0.1\n0,0.5,0.25,0.25\n"
    assert value == _value(cli("eval", write("i.csv", indices), *args))
    run = cli("eval", write("b.csv", reordered), *args, "--classes", "cat,dog,fox")
    assert run.code == 3
    assert (
        run.err == "error: column 'label' holds the label 'eel' at row 1, which is not in --classes (cat, dog, fox)\n"
    )


def test_text_labels_that_match_no_column_name_classes(cli, write) -> None:
    text = "label,p_0,p_1\ncat,0.7,0.3\ndog,0.2,0.8\n"
    run = cli("eval", write("a.csv", text), "--pred", "p_*", "--target", "label", "-l", "categorical_ce")
    assert run.code == 3
    assert run.err == (
        "error: column 'label' holds the text label 'cat' at row 0, and no prediction column (p_0, p_1) is named for "
        "it (as prob_cat is for cat); give the class order with --classes A,B,C (class A is index 0, the first "
        "prediction column)\n"
    )


def test_a_label_names_a_column_after_a_separator(cli, write) -> None:
    # 'at' was matched to prob_cat (it ends with 'at'); 'a' beside prob_a and prob_aa matched both (an error).
    args = ["--pred", "prob_*", "--target", "label", "-l", "categorical_ce", "-f", "json"]
    run = cli("eval", write("at.csv", "label,prob_cat,prob_dog\ncat,0.7,0.3\nat,0.4,0.6\n"), *args)
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: column 'label' holds the text label 'at' at row 1, and no prediction column (prob_cat, prob_dog) is "
        "named for it (as prob_cat is for cat); give the class order with --classes A,B,C (class A is index 0, the "
        "first prediction column)\n"
    )
    run = cli("eval", write("a.csv", "label,prob_a,prob_aa\na,0.8,0.2\naa,0.4,0.6\n"), *args)
    assert _value(run) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2, rel=1e-12)
    assert "(a -> prob_a, aa -> prob_aa)" in run.err
    # Numbers as text name the column they end after a letter; '0' is not the end of logit10.
    lines = '{"label": "10", "logit0": 0.2, "logit10": 0.8}\n{"label": "0", "logit0": 0.6, "logit10": 0.4}\n'
    run = cli("eval", write("n.jsonl", lines), "--pred", "logit*", *args[2:])
    assert _value(run) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2, rel=1e-12)
    assert "(0 -> logit0, 10 -> logit10)" in run.err


def test_more_than_two_text_labels_against_one_prediction_column_get_advice_that_fits(cli, write) -> None:
    # Three labels against one prediction column advised --positive, which then failed with "more than two labels".
    path = write("k.csv", "pred,target\n0.2,cat\n0.7,dog\n0.1,bird\n0.3,cow\n")
    advice = (
        "holds more than two labels ('cat', 'dog', 'bird', ...) against one prediction column: a binary loss takes "
        "two labels (the positive one named with {}); several classes take one prediction column per class ({})"
    )
    for args in ((), ("-l", "bce")):
        run = cli("eval", path, *args)
        assert (run.code, run.out) == (3, "")
        flags = advice.format("--positive LABEL", "--pred 'prob_*'")
        assert run.err.splitlines()[-1] == f"error: column 'target' {flags}"
    with pytest.raises(lossctl.InputError) as raised:
        lossctl.evaluate(path, losses="brier")
    assert str(raised.value) == "column 'target' " + advice.format('positive="LABEL"', 'pred="prob_*"')


def test_positive_names_the_positive_class(cli, write) -> None:
    text = write("y.csv", "y,p\nyes,0.9\nno,0.2\nyes,0.6\n")
    numbers = write("n.csv", "y,p\n1,0.9\n0,0.2\n1,0.6\n")
    args = ["--target", "y", "--pred", "p", "-l", "bce,brier", "-f", "json"]
    assert _value(cli("eval", text, *args, "--positive", "yes")) == _value(cli("eval", numbers, *args))
    assert _value(cli("eval", numbers, *args, "--positive", "0")) == _value(
        cli("eval", write("f.csv", "y,p\n0,0.9\n1,0.2\n0,0.6\n"), *args)
    )
    run = cli("eval", text, *args)
    assert run.code == 3
    assert run.err == (
        "error: column 'y' holds text labels (the first, 'yes', at row 0); name the positive class with "
        "--positive LABEL\n"
    )
    run = cli("eval", write("t.csv", "y,p\nyes,0.9\nno,0.2\nmaybe,0.6\n"), *args, "--positive", "yes")
    assert run.code == 3
    assert run.err == (
        "error: column 'y' holds more than two labels ('yes', 'no', 'maybe' at row 2); a binary loss takes the "
        "--positive label and one other\n"
    )
    run = cli("eval", text, *args, "--positive", "Yes")  # a typo: two labels, neither of them the positive one
    assert run.code == 3
    assert run.err == (
        "error: column 'y' holds the labels 'yes' and 'no' at row 1, and neither is --positive 'Yes'; a binary loss "
        "takes the --positive label and one other\n"
    )


def test_positive_and_classes_enter_the_signature(cli, write) -> None:
    # --positive and --classes decide which label is 1 and which class is index 0: two runs on one file gave two
    # numbers under one signature, which is there to tell whether two numbers may be compared.
    def records(path: Path, *args: str) -> list[tuple[float, str]]:
        run = cli("eval", path, *args, "-f", "json")
        assert run.code == 0, run.err
        return [(r["value"], r["signature"]) for r in json.loads(run.out)["results"]]

    binary = write("b.csv", "y,p\nyes,0.9\nno,0.2\nyes,0.6\n")
    (yes, yes_signature), (no, no_signature) = (
        records(binary, "--target", "y", "--pred", "p", "-l", "bce", "--positive", label)[0] for label in ("yes", "no")
    )
    assert yes != no
    assert [yes_signature, no_signature] == [
        f"bce|eps={float(np.finfo(float).eps)!r}|label_smoothing=0.0|reduction=mean|positive={label}|convention=lossctl|"
        f"lossctl={lossctl.__version__}"
        for label in ("yes", "no")
    ]
    multi = write("m.csv", "label,p_0,p_1,p_2\ncat,0.7,0.2,0.1\neel,0.1,0.1,0.8\ndog,0.3,0.6,0.1\n")
    args = ["--pred", "p_*", "--target", "label", "-l", "categorical_ce,t=categorical_ce+brier_multiclass"]
    forward, backward = (records(multi, *args, "--classes", order) for order in ("cat,dog,eel", "eel,dog,cat"))
    assert [value for value, _ in forward] != [value for value, _ in backward]
    for (_, one), (_, other) in zip(forward, backward, strict=True):  # the composite's too
        assert "|classes=cat,dog,eel|convention=" in one and "|classes=eel,dog,cat|convention=" in other
    numbers = write("n.csv", "y,p\n1,0.9\n0,0.2\n")
    assert "positive" not in records(numbers, "--target", "y", "--pred", "p", "-l", "bce")[0][1]


def test_zero_one_on_one_column_reads_labels_as_the_binary_losses_beside_it(cli, write) -> None:
    """-l bce,zero_one on 0/1 labels was 'error: column 'y' is read both as class labels and as binary labels'
    (exit 2), and --positive with zero_one alone 'no selected binary loss reads labels' (exit 2)."""
    numbers = write("n.csv", "y,p\n1,0.9\n0,0.2\n0,0.6\n1,0.4\n")
    text = write("t.csv", "y,p\nyes,0.9\nno,0.2\nno,0.6\nyes,0.4\n")
    args = ["--pred", "p", "--target", "y", "-f", "json"]
    both = cli("eval", numbers, *args, "-l", "bce,zero_one")
    assert both.code == 0, both.err
    values = {r["loss"]: r["value"] for r in json.loads(both.out)["results"]}
    assert values == {"bce": _value(cli("eval", numbers, *args, "-l", "bce")), "zero_one": 0.5}
    assert _value(cli("eval", numbers, *args, "-l", "zero_one")) == 0.5
    for losses in ("zero_one", "zero_one,bce"):
        run = cli("eval", text, *args, "-l", losses, "--positive", "yes")
        assert run.code == 0, run.err
        assert {r["loss"]: r["value"] for r in json.loads(run.out)["results"]}["zero_one"] == 0.5
    # --classes still orders a one-column zero_one's labels (the second class is 1, as p >= 0.5 decides).
    assert _value(cli("eval", text, *args, "-l", "zero_one", "--classes", "no,yes")) == 0.5


def test_zero_one_refuses_a_probability_against_labels_other_than_0_and_1(cli, write) -> None:
    """Targets -1/1 against one probability column gave 0.625 where scikit-learn's zero_one_loss of the decided
    labels is 0.25: p >= 0.5 decides class 0 or 1, so every -1 row counted as a mistake, whatever its p (exit 0).
    It is now an input error naming --positive, which maps the labels (and then gives 0.25)."""
    data = write("pm.csv", "y,p\n-1,0.1\n1,0.8\n-1,0.3\n1,0.4\n-1,0.6\n1,0.9\n-1,0.2\n1,0.7\n")
    args = ["--pred", "p", "--target", "y", "-l", "zero_one", "-f", "json"]
    run = cli("eval", data, *args)
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: zero_one: column 'y' (target): expected labels 0 or 1 where pred is a probability (it decides "
        "class 0 or 1; --positive LABEL maps others), got -1 in 4 rows (first: row 0)\n"
    )
    assert _value(cli("eval", data, *args, "--positive", "1")) == 0.25
    # A one-column label prediction still reads any integer label.
    assert _value(cli("eval", write("l.csv", "y,p\n-1,-1\n1,-1\n"), *args)) == 0.5


def test_zero_one_matches_text_labels_without_classes(cli, write) -> None:
    """Predicted text labels against text targets needed --classes (exit 3, 'no prediction column (lab) is named for
    it'), though matching a label needs no class order; text labels beside numbers are refused naming both."""
    args = ["--pred", "lab", "--target", "y", "-l", "zero_one", "-f", "json"]
    text = write("z.csv", "y,lab\ncat,cat\ndog,cat\nbird,bird\neel,\nbird,dog\n")
    assert _value(cli("eval", text, *args, "--missing", "drop", "--chunk-rows", "2")) == pytest.approx(2 / 4)
    other = write("o.csv", "y,lab\ncat,dog\ndog,dog\nbird,cat\neel,eel\nbird,bird\n")
    run = cli("compare", text, other, *args, "--missing", "drop")
    assert run.code == 0, run.err
    (record,) = json.loads(run.out)["results"]
    assert (record["baseline"], record["candidate"]) == (pytest.approx(2 / 4), pytest.approx(2 / 4))
    models = write("m.csv", "y,a,b\ncat,cat,dog\ndog,cat,dog\n")
    run = cli("eval", models, "--model", "A=a", "--model", "B=b", "--target", "y", "-l", "zero_one", "-f", "json")
    assert [r["value"] for r in json.loads(run.out)["results"]] == [0.5, 0.5]
    fix = (
        "a predicted label matches a target of the same kind: write both as text labels or both as class indices, "
        "or give the class order with --classes A,B,C\n"
    )
    run = cli("eval", write("n.csv", "y,lab\n0,cat\n1,cat\n"), *args)
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: zero_one: column 'lab' holds the text label 'cat' at row 0 but column 'y' holds the number 0 at row 0; "
        + fix
    )
    run = cli("eval", write("p.csv", "y,lab\n1,1\ncat,0.7\n"), *args)  # the label cited is the first not a number
    assert run.code == 3 and run.err.startswith(
        "error: zero_one: column 'y' holds the text label 'cat' at row 1 but the number '1' at row 0;"
    )
    numbers = write("j.jsonl", '{"y": 1, "lab": "1"}\n{"y": 0, "lab": "1"}\n')  # text of numbers: numbers
    assert _value(cli("eval", numbers, *args)) == 0.5
    run = cli("eval", write("q.csv", "y,lab\ncat,0.7\ndog,0.2\n"), *args)
    assert run.code == 3 and run.err.startswith("error: zero_one: column 'y' holds the text label 'cat' at row 0 but")


def test_zero_one_reads_a_label_prediction_column_through_the_classes_too(cli, write) -> None:
    """--classes encoded the target's labels to indices but left a label prediction column as it was: y = 3, 1, 2, 1
    against predicted labels 3, 3, 2, 1 gave 0.5 (indices 0, 1, 2, 1 against labels 3, 3, 2, 1) where scikit-learn's
    zero_one_loss([3, 1, 2, 1], [3, 3, 2, 1]) is 0.25; text labels as predictions were 'not numeric' (exit 3)."""
    args = ["--pred", "p", "--target", "y", "-l", "zero_one", "-f", "json"]
    numbers = write("n.csv", "y,p\n3,3\n1,3\n2,2\n1,1\n")
    assert _value(cli("eval", numbers, *args, "--classes", "3,1,2")) == 0.25
    assert _value(cli("eval", numbers, *args)) == 0.25
    text = write("t.csv", "y,p\ncat,cat\ndog,cat\nemu,emu\ndog,dog\n")
    assert _value(cli("eval", text, *args, "--classes", "cat,dog,emu")) == 0.25
    unknown = cli("eval", write("u.csv", "y,p\ncat,cat\ndog,cow\n"), *args, "--classes", "cat,dog,emu")
    assert (unknown.code, unknown.err) == (
        3,
        "error: column 'p' holds the label 'cow' at row 1, which is not in --classes (cat, dog, emu)\n",
    )


def test_a_positive_label_that_never_appears_is_a_notice(cli, write) -> None:
    # Before, every row became negative without a word.
    data = write("o.csv", "p,y\n0.9,yes\n0.2,yes\n")
    args = ["--pred", "p", "--target", "y", "--positive", "no"]
    run = cli("eval", data, *args, "-l", "bce", "-f", "json")
    assert run.code == 0
    assert _value(run) == pytest.approx(-(np.log(0.1) + np.log(0.8)) / 2, rel=1e-12)
    notice = (
        "notice: bce: --positive 'no' never appears in column 'y': its one label 'yes' is the negative class, so "
        "every row is 0\n"
    )
    assert run.err == notice
    assert cli("eval", data, *args, "-l", "bce", "-q").err == ""
    run = cli("suggest", data, *args)
    assert run.code == 0 and notice.replace("bce:", "suggest:") in run.err


def test_positive_on_a_boolean_column_takes_true_false_or_1_0(cli, write, tmp_path: Path) -> None:
    path = tmp_path / "b.parquet"
    pq.write_table(pa.table({"y": [True, False, True], "p": [0.9, 0.2, 0.6]}), path)
    args = ["--target", "y", "--pred", "p", "-l", "bce", "-f", "json"]
    plain = _value(cli("eval", path, *args))
    assert (
        _value(cli("eval", path, *args, "--positive", "1"))
        == plain
        == _value(cli("eval", path, *args, "--positive", "true"))
    )
    assert _value(cli("eval", path, *args, "--positive", "0")) == _value(
        cli("eval", path, *args, "--positive", "False")
    )
    assert _value(cli("eval", path, *args, "--positive", "0")) != plain


def test_integer_labels_beyond_2_53_are_told_apart(cli, write) -> None:
    # 2**53 + 1 equals 2**53 as a float: --positive 9007199254740993 made the 2**53 rows positive and its own negative.
    big = 2**53
    args = ["-l", "bce", "--target", "y", "--pred", "p", "-f", "json"]
    labels = write("big.csv", f"y,p\n{big},0.1\n{big + 1},0.5\n{big},0.2\n")
    small = write("small.csv", "y,p\n0,0.1\n1,0.5\n0,0.2\n")
    expected = _value(cli("eval", small, *args))
    assert _value(cli("eval", labels, *args, "--positive", str(big + 1))) == expected
    assert _value(cli("eval", labels, *args, "--positive", str(big))) == _value(
        cli("eval", small, *args, "--positive", "0")
    )
    arrays = lossctl.evaluate(
        y_true=np.array([big, big + 1, big], dtype=np.int64),
        y_pred=[0.1, 0.5, 0.2],
        losses="bce",
        positive=str(big + 1),
    )
    assert arrays["bce"] == expected
    classes = lossctl.evaluate(
        y_true=np.array([big + 1, big], dtype=np.int64),
        y_pred=[[0.9, 0.1], [0.2, 0.8]],
        losses="ce",
        classes=[str(big), str(big + 1)],
    )
    assert (
        classes["cross_entropy"]
        == lossctl.evaluate(y_true=[1, 0], y_pred=[[0.9, 0.1], [0.2, 0.8]], losses="ce")["cross_entropy"]
    )


def test_classes_must_name_one_class_per_prediction_column(cli, write, tmp_path: Path) -> None:
    path = write("an.csv", "animal,prob_cat,prob_dog\ncat,0.8,0.2\ndog,0.3,0.7\n")
    run = cli(
        "eval", path, "--pred", "prob_*", "--target", "animal", "-l", "categorical_ce", "--classes", "cat,dog,bird"
    )
    assert (run.code, run.err) == (
        2,
        "error: --classes names 3 classes but 'pred' has 2 columns (prob_cat, prob_dog): give one class per "
        "prediction column, in their order\n",
    )
    one = cli("eval", path, "--pred", "prob_*", "--target", "animal", "-l", "categorical_ce", "--classes", "cat")
    assert one.code == 2 and one.err.startswith("error: --classes names 1 class but 'pred' has 2 columns")
    # A list column's K is known once read: a third class without a column was accepted (exit 0, as K = 2).
    table = pa.table({"probs": pa.array([[0.8, 0.2], [0.3, 0.7]], pa.list_(pa.float64(), 2)), "animal": ["cat", "dog"]})
    listed = tmp_path / "l.parquet"
    pq.write_table(table, listed)
    args = ["--pred", "probs", "--target", "animal", "-l", "categorical_ce", "--classes", "cat,dog,bird"]
    run = cli("eval", listed, *args)
    assert (run.code, run.out, run.err) == (
        2,
        "",
        "error: --classes names 3 classes but 'pred' (probs) holds 2 values per row: give one class per prediction "
        "value, in their order\n",
    )


def test_boolean_labels_are_one_and_zero(tmp_path: Path) -> None:
    pq.write_table(pa.table({"y": [True, False, True], "p": [0.8, 0.3, 0.6]}), tmp_path / "b.parquet")
    report = lossctl.evaluate(tmp_path / "b.parquet", target="y", pred="p", losses="bce")
    assert report["bce"] == pytest.approx(lossctl.get("bce")([1.0, 0.0, 1.0], [0.8, 0.3, 0.6]), rel=1e-15)
    negated = lossctl.evaluate(tmp_path / "b.parquet", target="y", pred="p", losses="bce", positive="false")
    assert negated["bce"] == pytest.approx(lossctl.get("bce")([0.0, 1.0, 0.0], [0.8, 0.3, 0.6]), rel=1e-15)


@pytest.mark.parametrize(
    "qids",
    [
        ["a", "a", "b", "b", "b"],
        [10, 10, 3, 3, 3],
        [datetime.date(2024, 1, 1)] * 2 + [datetime.date(2024, 1, 2)] * 3,
    ],
    ids=["text", "integers", "dates"],
)
def test_query_ids_of_any_type(qids: list, tmp_path: Path) -> None:
    columns = {"q": qids, "rel": [1, 0, 2, 1, 0], "score": [0.3, 0.1, 0.5, 0.7, 0.2]}
    pq.write_table(pa.table(columns), tmp_path / "r.parquet")
    report = lossctl.evaluate(tmp_path / "r.parquet", pred="score", target="rel", cols={"qid": "q"},
                              losses="ranknet,listnet")  # fmt: skip
    numeric = lossctl.get("ranknet")(
        pred=columns["score"], target=np.array(columns["rel"], float), qid=np.array([0, 0, 1, 1, 1.0])
    )
    assert report["ranknet"] == pytest.approx(numeric, rel=1e-14)


def test_groups_of_any_type_reach_json(cli, tmp_path: Path) -> None:
    table = pa.table(
        {
            "d": [datetime.date(2024, 1, 1), datetime.date(2024, 1, 2), None, datetime.date(2024, 1, 1)],
            "flag": [True, False, True, True],
            "n": [1, 2, 1, 3],
            "target": [1.0, 2.0, 3.0, 4.0],
            "pred": [1.5, 2.0, 2.0, 4.0],
        }
    )
    pq.write_table(table, tmp_path / "g.parquet")
    run = cli("eval", tmp_path / "g.parquet", "-l", "mae", "--by", "d", "--by", "flag", "-f", "json")
    assert run.code == 0, run.err
    groups = [r["group"] for r in json.loads(run.out)["results"] if r["group"]]
    assert {"d": "2024-01-01", "flag": True} in groups and {"d": None, "flag": True} in groups


def test_label_options_without_a_loss_that_reads_them(cli, write) -> None:
    path = write("p.csv", "y,p\n1,0.5\n")
    run = cli("eval", path, "--target", "y", "--pred", "p", "-l", "mse", "--classes", "a,b")
    assert run.code == 2
    assert run.err == "error: --classes gives the order of class labels: no selected multi-class loss reads them\n"


def test_default_losses_for_text_labels(cli, write) -> None:
    binary = write("churn.csv", "p,churned\n0.9,yes\n0.2,no\n0.4,no\n")
    run = cli("eval", binary, "--pred", "p", "--target", "churned", "--positive", "yes", "-f", "json")
    assert run.code == 0, run.err
    assert [r["loss"] for r in json.loads(run.out)["results"]] == ["bce", "brier"]
    assert _value(run) == pytest.approx(-(np.log(0.9) + np.log(0.8) + np.log(0.6)) / 3)
    classes = write("an.csv", "animal,prob_cat,prob_dog\ncat,0.8,0.2\ndog,0.3,0.7\n")
    run = cli("eval", classes, "--pred", "prob_*", "--target", "animal", "-f", "json")
    assert run.code == 0, run.err
    assert [r["loss"] for r in json.loads(run.out)["results"]] == ["categorical_ce", "brier_multiclass", "zero_one"]
    assert _value(run) == pytest.approx(-(np.log(0.8) + np.log(0.7)) / 2)


def test_labels_stored_as_bytes_are_their_text(cli, tmp_path: Path, write) -> None:
    """A Parquet BYTE_ARRAY column without its UTF-8 annotation (or NumPy ``S`` labels) was 'holds the label 'cat' at
    row 0, which is not in --classes (cat, dog, eel)', a --positive label matched no row, and numbers written as
    bytes were 'not numeric: it has type binary'."""
    labels = pa.array([b"cat", b"eel", b"dog", b"cat"], pa.binary())
    probs = {"prob_cat": [0.7, 0.1, 0.3, 0.5], "prob_dog": [0.2, 0.1, 0.6, 0.25], "prob_eel": [0.1, 0.8, 0.1, 0.25]}
    written = pa.array([b"0.5", b"0.25", b"1", b"0"], pa.large_binary())
    pq.write_table(pa.table({"label": labels, **probs, "p_text": written}), tmp_path / "bytes.parquet")
    text = write("a.csv", ANIMALS)
    for classes in ([], ["--classes", "cat,dog,eel"]):
        args = ["--pred", "prob_*", "--target", "label", "-l", "categorical_ce", *classes, "-f", "json"]
        assert _value(cli("eval", tmp_path / "bytes.parquet", *args)) == _value(cli("eval", text, *args))
    run = cli("eval", tmp_path / "bytes.parquet", "--pred", "p_text", "--target", "prob_cat", "-l", "mae", "-f", "json")
    assert _value(run) == pytest.approx(np.mean(np.abs(np.array([0.5, 0.25, 1, 0]) - probs["prob_cat"])), rel=1e-12)
    bce = lossctl.evaluate(
        y_true=np.array([b"cat", b"dog", b"cat"]), y_pred=[0.9, 0.2, 0.6], losses="bce", positive="cat"
    )
    assert bce["bce"] == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.6])), rel=1e-12)


def test_a_dictionary_of_numbers_holds_numbers_not_text_labels(cli, tmp_path: Path) -> None:
    """A pandas Categorical of 0/1 (an Arrow dictionary of integers) was "holds text labels ('0', '1'); name the
    positive class with --positive LABEL" for a binary loss, from a DataFrame and from its Parquet file."""
    indices = pa.array([1, 0, 1, 1], pa.int8())
    labels = pa.DictionaryArray.from_arrays(indices, pa.array([0, 1]))
    flags = pa.DictionaryArray.from_arrays(indices, pa.array([False, True]))
    table = pa.table({"y": labels, "flag": flags, "p": [0.8, 0.1, 0.7, 0.6]})
    pq.write_table(table, tmp_path / "cat.parquet")
    expected = -np.mean(np.log([0.8, 0.9, 0.7, 0.6]))
    for target in ("y", "flag"):
        run = cli("eval", tmp_path / "cat.parquet", "--target", target, "--pred", "p", "-l", "bce", "-f", "json")
        assert _value(run) == pytest.approx(expected, rel=1e-12)
        assert lossctl.evaluate(table, target=target, pred="p", losses="bce")["bce"] == pytest.approx(
            expected, rel=1e-12
        )
    report = lossctl.evaluate(table, target="y", pred="p")  # the task is inferred from the numbers: binary
    assert [result.loss for result in report.results][:1] == ["bce"]


@pytest.mark.parametrize("chunk", [["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--chunk-rows", "4"], []])
def test_text_labels_without_positive_are_told_alike_at_any_chunk_size(cli, write, chunk: list[str]) -> None:
    """The labels listed were the first chunk's: "('cat')" with --chunk-rows 1, "('cat', 'dog')" with 4; an
    all-missing first chunk listed "()". The message now names the first label and its row."""
    args = ["-l", "bce", "--target", "target", "--pred", "pred", *chunk]
    for text, row in (("0.3,cat\n0.2,cat\n0.5,dog\n0.1,dog\n", 0), ("0.3,\n0.2,cat\n0.5,dog\n0.1,dog\n", 1)):
        run = cli("eval", write("s.csv", "pred,target\n" + text), *args)
        assert (run.code, run.err) == (
            3,
            f"error: column 'target' holds text labels (the first, 'cat', at row {row}); name the positive class "
            "with --positive LABEL\n",
        )


@pytest.mark.parametrize("chunk_rows", [1, 2, 4, None])
def test_unused_categories_are_no_labels_and_labels_are_met_in_row_order(chunk_rows: int | None) -> None:
    """A pandas Categorical's unused category was read as a label: 'bird' made bce refuse "more than two labels
    ('cat', 'bird', 'dog' at row 0)" and categorical_ce "'bird' at row -1"; labels were met in category order, not
    row order ('bird' at row 2 reported as 'dog' at row 0)."""
    import pandas as pd

    categories = ["bird", "cat", "dog"]
    frame = pd.DataFrame(
        {"pred": [0.3, 0.2, 0.5, 0.1], "target": pd.Categorical(["dog", "cat", "dog", "cat"], categories)}
    )
    value = lossctl.evaluate(frame, losses="bce", positive="cat", chunk_rows=chunk_rows)["bce"]
    assert value == pytest.approx(-np.mean(np.log([0.7, 0.2, 0.5, 0.1])), rel=1e-12)
    scores = frame.assign(p_cat=frame["pred"], p_dog=1 - frame["pred"])
    ce = lossctl.evaluate(scores, pred="p_*", target="target", losses="categorical_ce", chunk_rows=chunk_rows)
    assert ce["categorical_ce"] == pytest.approx(value, rel=1e-12)
    frame["target"] = pd.Categorical(["dog", "cat", "bird", "cat"], categories)
    with pytest.raises(lossctl.InputError) as error:
        lossctl.evaluate(frame, losses="bce", positive="cat", chunk_rows=chunk_rows)
    assert str(error.value) == (
        "column 'target' holds more than two labels ('cat', 'dog', 'bird' at row 2); a binary loss takes the "
        "positive label and one other"
    )


def test_labels_that_start_with_a_bracket_are_labels_not_json_arrays(cli, write) -> None:
    # A text label column whose first label starts with '[' ('[low]', '[CLS]', an interval '[0, 10)') was read as
    # CSV JSON arrays: "column 'target' has an invalid JSON array at row 0: '[low]'", exit 3.
    path = write("l.csv", "target,p_0,p_1,qid\n[low],0.1,0.9,[q1]\n[high],0.8,0.2,[q1]\n[high],0.3,0.7,[q2]\n")
    classes = ("--classes", "[low],[high]")
    run = cli("eval", path, "-l", "ce", "--pred", "p_*", "--target", "target", *classes, "-f", "json")
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[[0, 1, 2], [0, 1, 1]])
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(expected, rel=1e-12)
    run = cli("eval", path, "-l", "bce", "--pred", "p_1", "--target", "target", "--positive", "[low]", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.3])), rel=1e-12)
    # A query id column too: its ids are keys.
    run = cli("eval", path, "-l", "ranknet", "--pred", "p_0", "--target", "p_1", "--col", "qid=qid", "-f", "json")
    assert run.code == 0, run.err


@pytest.mark.parametrize("chunk", [[], ["--chunk-rows", "1"]])
def test_a_label_that_is_the_ignore_index_is_ignored_beside_classes_and_text_labels(cli, write, chunk) -> None:
    # With --classes (or text labels), the padding label -100 of ignore_index=-100 was refused as "not in --classes".
    logits = [[2.0, 0.5, 0.1], [0.3, 0.3, 3.0], [0.2, 1.5, 0.4]]
    expected = (-np.log(np.exp(2.0) / np.exp(logits[0]).sum()) - np.log(np.exp(1.5) / np.exp(logits[2]).sum())) / 2
    labels = ("cat", "-100", "dog")
    rows = "".join(f"{label},{','.join(map(str, row))}\n" for label, row in zip(labels, logits, strict=True))
    text = write("t.csv", "label,p_cat,p_dog,p_eel\n" + rows)
    numbers = write("n.csv", "label,p_cat,p_dog,p_eel\n" + rows.replace("cat", "2").replace("dog", "1"))
    args = ["--pred", "p_*", "--target", "label", "-f", "json", *chunk]
    ignoring = ["-l", "ce:ignore_index=-100"]
    for path, classes in ((text, []), (text, ["--classes", "cat,dog,eel"]), (numbers, ["--classes", "2,1,0"])):
        run = cli("eval", path, *args, *ignoring, *classes)
        assert _value(run) == pytest.approx(expected, rel=1e-12)
        assert "notice: cross_entropy:ignore_index=-100: 1 row ignored (ignore_index=-100)\n" in run.err
    run = cli("eval", numbers, *args, *ignoring, "-l", "ce", "--classes", "2,1,0")  # ce's ignore_index is none
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: cross_entropy: column 'label' (target): expected class indices, integers in 0..2 (K = 3 classes), "
        "got -100 in 1 row (first: row 1)\n"
    )
    run = cli("eval", numbers, *args, "-l", "ce:ignore_index=-1", "--classes", "2,1,0")  # -100 is no class
    assert (run.code, run.out) == (3, "")
    assert run.err == "error: column 'label' holds the label -100 at row 1, which is not in --classes (2, 1, 0)\n"


def test_positive_and_classes_beside_a_target_of_vectors_are_refused(cli, write, tmp_path: Path) -> None:
    # A list (or JSON-array) target bypassed the labels: --positive 0 or 7 and --classes c,b,a changed nothing and
    # said nothing (eval), and suggest stopped with an internal error (ArrowInvalid), as with K target columns.
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"y": [[0, 1, 0], [1, 0, 0]], "p": [[0.2, 0.5, 0.3], [0.5, 0.3, 0.2]]}), path)
    arrays = write("l.csv", 'y,p\n"[0,1,0]","[0.2,0.5,0.3]"\n"[1,0,0]","[0.5,0.3,0.2]"\n')
    held = "but the target column 'y' holds 3 values per row (a multi-label or one-hot target, read as numbers)"
    positive = f"error: --positive names the positive class of single labels, {held}: drop --positive\n"
    classes = f"error: --classes gives the order of class labels, {held}: drop --classes\n"
    for data in (path, arrays):
        for command, loss in (("eval", ["-l", "bce", "--chunk-rows", "1"]), ("suggest", [])):
            run = cli(command, data, "--target", "y", "--pred", "p", *loss, "--positive", "0")
            assert (run.code, run.out, run.err) == (2, "", positive)
        for command, loss in (("eval", ["-l", "categorical_ce"]), ("suggest", [])):
            run = cli(command, data, "--target", "y", "--pred", "p", *loss, "--classes", "c,b,a")
            assert (run.code, run.out, run.err) == (2, "", classes)
        assert _value(cli("eval", data, "--target", "y", "--pred", "p", "-l", "bce", "-f", "json")) == pytest.approx(
            -(np.log(0.8) + np.log(0.5) + np.log(0.7)) / 3, rel=1e-12
        )
    columns = write("k.csv", "y1,y2,p1,p2\n1,0,0.8,0.3\n0,1,0.3,0.2\n")
    run = cli("suggest", columns, "--target", "y1,y2", "--pred", "p1,p2", "--positive", "1")
    assert (run.code, run.err) == (
        2,
        "error: --positive names the positive class of single labels, but the target columns 'y1', 'y2' hold 2 "
        "values per row (a multi-label or one-hot target, read as numbers): drop --positive\n",
    )


@pytest.mark.parametrize("chunk", [[], ["--chunk-rows", "1"]])
def test_two_text_labels_that_name_one_prediction_column_are_an_error(cli, write, chunk) -> None:
    # 'cat' and 'prob_cat' both end prob_cat: both were read as class 0, two labels silently made one class.
    path = write("c.csv", "label,prob_cat,prob_dog\ncat,0.7,0.3\ndog,0.1,0.9\nprob_cat,0.4,0.6\n")
    args = ["--pred", "prob_*", "--target", "label", "-l", "categorical_ce", "-f", "json", *chunk]
    run = cli("eval", path, *args)
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: column 'label' holds the text labels 'cat' and 'prob_cat' (at row 2), and both name prediction "
        "column prob_cat; give the class order with --classes A,B,C (class A is index 0, the first prediction "
        "column)\n"
    )
    run = cli("eval", path, *args, "--classes", "cat,dog")
    assert run.err.startswith("error: column 'label' holds the label 'prob_cat' at row 2, which is not in --classes")


def test_a_number_that_classes_spells_twice_is_an_error(cli, write) -> None:
    # --classes 1,0,1.0 read the label 1 as class 0 and left class 2 unused without a word.
    numbers = write("n.csv", "label,p0,p1,p2\n1,0.7,0.2,0.1\n0,0.1,0.1,0.8\n")
    args = ["--pred", "p*", "--target", "label", "-l", "ce", "-f", "json"]
    run = cli("eval", numbers, *args, "--classes", "1,0,1.0")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: column 'label' holds the label 1 at row 0, which --classes names 2 times (1, 1.0); give each class "
        "once\n"
    )
    text = write("t.csv", 'label,p0,p1,p2\n"01",0.7,0.2,0.1\nx,0.1,0.1,0.8\n1,0.3,0.4,0.3\n')  # text: 01 is not 1
    indices = write("i.csv", "label,p0,p1,p2\n1,0.7,0.2,0.1\n2,0.1,0.1,0.8\n0,0.3,0.4,0.3\n")
    assert _value(cli("eval", text, *args, "--classes", "1,01,x")) == _value(cli("eval", indices, *args))


def test_a_boolean_label_is_the_number_1_or_0_however_written(cli, tmp_path: Path) -> None:
    # --positive 1.0 matched 1.0 in a float column but not true in a boolean one ("neither is --positive '1.0'").
    path = tmp_path / "b.parquet"
    pq.write_table(pa.table({"y": [True, False, True], "p": [0.9, 0.2, 0.6]}), path)
    args = ["--target", "y", "--pred", "p", "-l", "bce", "-f", "json"]
    plain = _value(cli("eval", path, *args))
    assert _value(cli("eval", path, *args, "--positive", "1.0")) == plain
    assert _value(cli("eval", path, *args, "--positive", "0.0")) == _value(cli("eval", path, *args, "--positive", "0"))
    run = cli("eval", path, *args, "--positive", "2")
    assert (run.code, run.out) == (3, "")
    assert run.err.startswith("error: column 'y' holds the labels true and false at row 1, and neither is --positive")


def test_a_decimal_label_is_its_value_whatever_its_scale(cli, tmp_path: Path) -> None:
    # A decimal(5, 2) target was compared as its text: --positive 1 was "neither is --positive '1'" for 1.00 and
    # 0.00, and --classes 0,1,2 refused the decimal(5, 1) label 0.0 ("which is not in --classes (0, 1, 2)").
    import decimal

    def decimals(values: list[str], kind: pa.DataType) -> pa.Array:
        return pa.array([decimal.Decimal(v) for v in values], kind)

    path = tmp_path / "d.parquet"
    probs = {"p0": [0.7, 0.1, 0.2], "p1": [0.2, 0.8, 0.1], "p2": [0.1, 0.1, 0.7]}
    binary = decimals(["1.00", "0.00", "1.00"], pa.decimal128(5, 2))
    classes = decimals(["0.0", "1.0", "2.0"], pa.decimal128(5, 1))
    pq.write_table(pa.table({"y": binary, "c": classes, "i": [0, 1, 2], "p": [0.9, 0.2, 0.6], **probs}), path)
    args = ["--target", "y", "--pred", "p", "-l", "bce", "-f", "json"]
    assert _value(cli("eval", path, *args, "--positive", "1")) == _value(cli("eval", path, *args))
    assert _value(cli("eval", path, *args, "--positive", "0.0")) == _value(cli("eval", path, *args, "--positive", "0"))
    multi = ["--pred", "p0,p1,p2", "-l", "cross_entropy", "-f", "json"]
    expected = _value(cli("eval", path, *multi, "--target", "i"))
    assert _value(cli("eval", path, *multi, "--target", "c", "--classes", "0,1,2")) == expected
    run = cli("eval", path, *args, "--positive", "2")
    assert (run.code, run.out) == (3, "")
    assert run.err.startswith("error: column 'y' holds the labels 1.00 and 0.00 at row 1, and neither is --positive")


def test_an_empty_positive_label_is_a_usage_error(cli, write) -> None:
    # --positive "$POS" with POS unset: every row became the negative class, with only a notice.
    path = write("n.csv", "y,p\nno,0.9\nno,0.2\n")
    for empty in ("", " "):
        for command, loss in (("eval", ["-l", "bce"]), ("suggest", [])):
            run = cli(command, path, "--target", "y", "--pred", "p", *loss, "--positive", empty)
            assert (run.code, run.out, run.err) == (2, "", f"error: --positive needs a label, got {empty!r}\n")


@pytest.mark.parametrize("chunk_rows", [None, 1])
def test_nan_in_a_column_of_float_labels_is_missing_under_classes_and_positive(cli, tmp_path: Path, chunk_rows) -> None:
    # pandas writes a missing float as NaN: with --classes or --positive it was a label ("holds the label nan at
    # row 1, which is not in --classes"), even with --missing drop.
    chunk = ["--chunk-rows", str(chunk_rows)] if chunk_rows else []
    multi = tmp_path / "m.parquet"
    probs = {"p0": [0.7, 0.1, 0.3, 0.5], "p1": [0.2, 0.1, 0.6, 0.25], "p2": [0.1, 0.8, 0.1, 0.25]}
    pq.write_table(pa.table({"label": [2.0, float("nan"), 1.0, 0.0], **probs}), multi)
    args = ["--pred", "p*", "--target", "label", "-l", "categorical_ce", "-f", "json", *chunk]
    run = cli("eval", multi, *args, "--classes", "2,0,1")
    assert (run.code, run.out) == (3, "")
    assert (
        run.err == "error: column 'label' has 1 missing value (row 1; 0-based); use --missing drop to drop those rows\n"
    )
    run = cli("eval", multi, *args, "--classes", "2,0,1", "--missing", "drop")
    assert _value(run) == pytest.approx(-(np.log(0.7) + np.log(0.1) + np.log(0.25)) / 3, rel=1e-12)
    assert json.loads(run.out)["input"]["rows_dropped"] == 1
    binary = tmp_path / "b.parquet"
    pq.write_table(pa.table({"y": [1.0, float("nan"), 0.0], "p": [0.7, 0.1, 0.3]}), binary)
    args = ["--pred", "p", "--target", "y", "-l", "bce", "-f", "json", "--missing", "drop", *chunk]
    assert _value(cli("eval", binary, *args, "--positive", "0")) == pytest.approx(-np.log(0.3), rel=1e-12)
    run = cli("suggest", binary, "--pred", "p", "--target", "y", "--positive", "1")
    assert (run.code, run.err) == (
        3,
        "error: column 'y' has 1 missing value (row 1; 0-based); use --missing drop to drop those rows\n",
    )
    run = cli("suggest", binary, "--pred", "p", "--target", "y", "--positive", "1", "--missing", "drop")
    assert run.code == 0, run.err


def test_zero_one_reads_a_text_label_prediction_column_through_positive(cli, write) -> None:
    # --classes read the predicted labels as the target's, --positive did not: "column 'yhat' is not numeric: 'yes'".
    path = write("z.csv", "y,yhat\nyes,yes\nno,yes\nyes,no\nno,no\nno,no\n")
    args = ["--target", "y", "--pred", "yhat", "-l", "zero_one", "-f", "json"]
    assert _value(cli("eval", path, *args, "--positive", "yes")) == 0.4
    assert _value(cli("eval", path, *args, "--positive", "no")) == 0.4
    assert _value(cli("eval", path, *args, "--classes", "no,yes")) == 0.4
    run = cli("eval", write("m.csv", "y,yhat\nyes,yes\nno,maybe\n"), *args, "--positive", "yes")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: column 'yhat' holds more than two labels ('yes', 'no', 'maybe' at row 1); a binary loss takes the "
        "--positive label and one other\n"
    )
    probabilities = write("p.csv", "y,p\nyes,0.9\nno,0.2\nyes,0.4\n")  # numbers stay probabilities
    assert _value(cli("eval", probabilities, *args[:2], "--pred", "p", *args[4:], "--positive", "yes")) == 1 / 3


def test_text_labels_beside_numbers_in_one_column_are_refused_at_any_chunk_size(cli, write) -> None:
    """A column of 'cat', 'dog' and then '0', '1' was read as labels when one chunk held both (a value, exit 0)
    but refused with --chunk-rows 2 when the numbers came first in a chunk of their own: whether a text that
    spells a number was a label depended on the chunking. Now it is a number at any chunk size, so the column is
    refused, naming the first of each kind."""
    args = ["--pred", "lab", "--target", "y", "-l", "zero_one", "-f", "json"]
    fix = "a predicted label matches a target of the same kind"
    said = "column 'y' holds the text label 'cat' at row {} but the number '0' at row {}"
    for rows, expected in (
        ("0,1\n1,1\ncat,cat\ndog,cat\n", said.format(2, 0)),
        ("cat,cat\ndog,cat\n0,1\n1,1\n", said.format(0, 2)),
    ):
        path = write("mixed.csv", "y,lab\n" + rows)
        for chunk in (["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--chunk-rows", "7"], []):
            run = cli("eval", path, *args, *chunk)
            assert (run.code, run.out) == (3, ""), chunk
            assert run.err.startswith(f"error: zero_one: {expected}; {fix}"), (chunk, run.err)
