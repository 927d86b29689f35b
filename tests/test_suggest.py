"""``lossctl suggest`` on synthetic data with the property each rule looks for built in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.suggest import advise

rng = np.random.default_rng(0)


def losses(advice) -> list[str]:
    return [s.loss for s in advice.suggestions]


def test_rare_positives_get_focal_and_pos_weight() -> None:
    y = (rng.uniform(size=5000) < 0.03).astype(float)
    x = rng.normal(size=5000) * 2 - 3
    advice = advise(y, x)
    assert advice.task == "binary" and abs(advice.facts["positive_rate"] - 0.03) < 0.01
    assert losses(advice)[0] == "bce_logits" and "focal" in losses(advice)
    weighted = next(s for s in advice.suggestions if s.params.get("pos_weight"))
    assert weighted.params["pos_weight"] == float(f"{(1 - y.mean()) / y.mean():.4g}")  # 4 significant digits
    assert "3.0% of rows are positive" in weighted.reason or "% of rows are positive" in weighted.reason


def test_balanced_probabilities_get_log_loss_and_brier() -> None:
    y = (rng.uniform(size=1000) < 0.5).astype(float)
    advice = advise(y, rng.uniform(size=1000))
    assert losses(advice) == ["bce", "brier"]


def test_heavy_tails_get_huber_with_a_robust_delta() -> None:
    y = rng.normal(size=4000)
    residual = rng.standard_t(df=1.5, size=4000)
    advice = advise(y, y + residual)
    huber = advice.suggestions[0]
    assert huber.loss == "huber" and advice.facts["outlier_share"] > 0.01
    mad = np.median(np.abs(residual - np.median(residual)))
    assert huber.params["delta"] == float(f"{1.345 * 1.4826 * mad:.4g}")


def test_fitted_parameters_of_tiny_scales_keep_their_digits(cli, write) -> None:
    """A fitted parameter was rounded to 6 decimals before its 4 significant digits: residuals on a 1e-8 scale gave
    'huber:delta=0.0', which eval refuses (delta must be > 0, exit 2), and 1 negative in 40,000 rows gave
    'bce_logits:pos_weight=0.0' (positives weighted out). Both now keep 4 significant digits."""
    y = np.linspace(-1.0, 1.0, 200)
    p = y + np.sin(np.arange(200)) * 1e-8
    p[:10] += 1.0
    path = write("tiny.csv", "y_true,y_pred\n" + "".join(f"{a:.17g},{b:.17g}\n" for a, b in zip(y, p, strict=True)))
    run = cli("suggest", path, "-f", "json", "-q")
    huber = json.loads(run.out)["suggestions"][0]
    assert huber["loss"] == "huber" and 1e-9 < huber["params"]["delta"] < 1e-7
    assert cli("eval", path, "-l", huber["spec"], "-q").code == 0
    labels = np.ones(40_000)
    labels[0] = 0.0
    weighted = [s for s in advise(labels, np.linspace(-3.0, 3.0, 40_000)).suggestions if "pos_weight" in s.params]
    assert [s.params["pos_weight"] for s in weighted] == [float(f"{1 / 39_999:.4g}")]


def test_light_tails_get_mse() -> None:
    y = rng.normal(size=4000)
    assert losses(advise(y, y + rng.normal(size=4000) * 0.1))[:2] == ["mse", "rmse"]


def test_counts_get_poisson_and_zero_inflation_gets_tweedie() -> None:
    y = rng.poisson(3.0, size=3000).astype(float)
    advice = advise(y, np.full(3000, 3.0))
    assert advice.task == "regression (counts)" and "poisson_deviance" in losses(advice)
    zero_inflated = np.where(rng.uniform(size=3000) < 0.5, 0.0, y)
    assert "tweedie_deviance" in losses(advise(zero_inflated, np.full(3000, 1.5)))


def test_imbalanced_multiclass_logits_get_balanced_weights() -> None:
    y = rng.choice(4, size=3000, p=[0.85, 0.1, 0.04, 0.01]).astype(float)
    logits = rng.normal(size=(3000, 4))
    advice = advise(y, logits)
    assert advice.task == "multiclass" and advice.facts["classes"] == 4
    assert any(s.params.get("class_weight") == "balanced" for s in advice.suggestions)


def test_cli_json(cli, tmp_path: Path) -> None:
    y = rng.normal(size=200)
    pq.write_table(pa.table({"target": y, "pred": y + rng.normal(size=200) * 0.1}), tmp_path / "d.parquet")
    run = cli("suggest", tmp_path / "d.parquet", "-f", "json")
    doc = json.loads(run.out)
    assert run.code == 0 and doc["task"] == "regression" and doc["suggestions"][0]["loss"] == "mse"
    assert all(s["reason"] for s in doc["suggestions"])


def test_multilabel_logits_with_sparse_labels_get_asl() -> None:
    y = (rng.uniform(size=(2000, 6)) < 0.05).astype(float)
    x = rng.normal(size=(2000, 6)) - 2.0
    advice = advise(y, x)
    assert advice.task == "multilabel" and advice.facts["labels"] == 6 and advice.facts["pred"] == "logits"
    assert losses(advice) == ["multilabel_soft_margin", "hamming", "multilabel_margin", "asymmetric", "focal"]
    assert next(s for s in advice.suggestions if s.loss == "hamming").params == {"threshold": 0.0}
    assert abs(advice.facts["positive_share"] - 0.05) < 0.01


def test_multilabel_probabilities_get_bce_and_hamming(cli, tmp_path: Path) -> None:
    y = (rng.uniform(size=(300, 3)) < 0.4).astype(float)
    p = rng.uniform(size=(300, 3))
    assert losses(advise(y, p)) == ["bce", "hamming"]
    columns = {f"y{k}": y[:, k] for k in range(3)} | {f"p{k}": p[:, k] for k in range(3)}
    pq.write_table(pa.table(columns), tmp_path / "m.parquet")
    run = cli("suggest", tmp_path / "m.parquet", "--target", "y0,y1,y2", "--pred", "p0,p1,p2", "-f", "json")
    doc = json.loads(run.out)
    assert (
        run.code == 0 and doc["task"] == "multilabel" and [s["loss"] for s in doc["suggestions"]] == ["bce", "hamming"]
    )


def test_rows_of_mask_sized_probabilities_also_get_dice_and_jaccard(cli) -> None:
    """sample_data/segmentation.parquet (40 masks of 64 pixels) was advised bce and hamming only, never a
    segmentation loss; rows of 16 or more 0/1 values now also get dice and jaccard, which eval runs on them."""
    path = Path(__file__).parent.parent / "sample_data" / "segmentation.parquet"
    run = cli("suggest", path, "--pred", "prob", "--target", "mask", "-f", "json", "-q")
    suggestions = json.loads(run.out)["suggestions"]
    assert (run.code, [s["loss"] for s in suggestions]) == (0, ["bce", "hamming", "dice", "jaccard"])
    assert suggestions[2]["reason"].startswith("64 0/1 values per row: if each row is one sample's mask")
    for suggestion in suggestions:
        assert cli("eval", path, "--pred", "prob", "--target", "mask", "-l", suggestion["spec"], "-q").code == 0


def test_multi_output_counts_rows_not_elements(cli, write) -> None:
    """'rows=40' was printed for 20 rows of 2 outputs: the row count was the pooled elements' (N·K)."""
    lines = "".join(f"{k / 4},{k / 2},{k / 3 - 1},{k / 5 + 0.5}\n" for k in range(20))
    data = write("m.csv", "p0,p1,t0,t1\n" + lines)
    run = cli("suggest", data, "--pred", "p0,p1", "--target", "t0,t1", "-f", "json")
    doc = json.loads(run.out)
    assert run.code == 0 and doc["task"] == "multi-output regression"
    assert doc["facts"]["rows"] == 20 and doc["facts"]["outputs"] == 2
    assert "outputs=2  rows=20  " in cli("suggest", data, "--pred", "p0,p1", "--target", "t0,t1", "-q").out


def test_suggest_writes_csv_and_specs_that_reproduce_the_params(cli) -> None:
    import csv
    import io
    import json
    from pathlib import Path

    data = Path(__file__).parent.parent / "sample_data" / "regression.csv"
    rows = list(csv.DictReader(io.StringIO(cli("suggest", data, "-f", "csv", "-q").out)))
    assert rows and {row["task"] for row in rows} == {"regression"} and rows[0]["spec"].startswith("huber:delta=")
    markdown = cli("suggest", data, "-f", "markdown", "-q").out.splitlines()
    assert markdown[:2] == ["| task | loss | spec | reason |", "|---|---|---|---|"]
    assert [line.strip("| ").split(" | ") for line in markdown[2:]] == [list(row.values()) for row in rows]
    for suggestion in json.loads(cli("suggest", data, "-f", "json", "-q").out)["suggestions"]:
        spec = lossctl.get(suggestion["spec"])  # the -l form gives exactly the suggested parameters
        assert {k: spec.preset[k] for k in suggestion["params"]} == suggestion["params"]


def test_a_file_without_rows_is_named(cli, tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("y_true,y_pred\n")
    run = cli("suggest", tmp_path / "h.csv")
    assert (run.code, run.out, run.err) == (3, "", f"error: '{tmp_path / 'h.csv'}' has no rows\n")


def test_decimal_comma_refuses_a_thousands_separator_as_eval_does(cli, tmp_path: Path) -> None:
    """With --decimal , suggest read '1.500' as 1.5 (its advice based on it) where eval refuses it."""
    (tmp_path / "p.csv").write_text("pred;target\n1,5;2\n2;1.500\n")
    for command in (["suggest"], ["eval", "-l", "mse"]):
        run = cli(*command, tmp_path / "p.csv", "--decimal", ",", "-q")
        assert (run.code, run.out) == (3, "")
        assert run.err == (
            "error: column 'target' is not numeric with --decimal ,: '1.500' at row 1 holds a '.'; thousands "
            "separators are not read (remove them), and every number must use the decimal comma\n"
        )


def test_missing_and_infinite_values_are_refused_or_dropped_as_eval_does(cli, tmp_path: Path) -> None:
    """suggest left out rows with missing or infinite values ('notice: left out 1 row ...', exit 0), so it advised
    on data that eval refuses: a missing value is now eval's error naming --missing drop, which suggest takes and
    which drops and counts those rows; an infinite value is always an error; nothing left is eval's error."""
    (tmp_path / "one.csv").write_text("pred,target\n0.2,1\n0.9,0\n0.4,\n")
    for command in ("suggest", "eval"):
        run = cli(command, tmp_path / "one.csv", "-q")
        assert (run.code, run.out) == (3, "")
        assert run.err == (
            "error: column 'target' has 1 missing value (row 2; 0-based); use --missing drop to drop those rows\n"
        )
    run = cli("suggest", tmp_path / "one.csv", "--missing", "drop", "-f", "json")
    assert run.code == 0 and json.loads(run.out)["facts"]["rows"] == 2
    assert "notice: dropped 1 of 3 rows with missing values (--missing drop)\n" in run.err
    (tmp_path / "inf.csv").write_text("pred,target\n0.2,1\ninf,0\n0.4,1\n")
    for missing in ("error", "drop"):
        run = cli("suggest", tmp_path / "inf.csv", "--missing", missing, "-q")
        assert (run.code, run.out) == (3, "")
        assert run.err == "error: column 'pred' has 1 infinite value (row 1; 0-based)\n"
    (tmp_path / "m.csv").write_text("pred,target\n,\n0.5,\n")
    run = cli("suggest", tmp_path / "m.csv", "--missing", "drop", "-q")
    assert (run.code, run.out, run.err) == (
        3,
        "",
        "error: all 2 rows were dropped for missing values: nothing left to evaluate\n",
    )


def test_suggest_takes_evals_targets_file_and_key(cli, tmp_path: Path) -> None:
    """suggest had no --targets nor --on ('No such option: --targets', exit 2): predictions and targets kept in two
    files could not be advised on. It now joins them as eval does, and refuses rows out of order as eval does."""
    (tmp_path / "p.csv").write_text("id,pred\n1,0.9\n2,0.2\n3,0.7\n4,0.1\n")
    (tmp_path / "t.csv").write_text("id,target\n4,0\n3,1\n2,0\n1,1\n")
    run = cli("suggest", tmp_path / "p.csv", "--targets", tmp_path / "t.csv", "--on", "id", "-f", "json", "-q")
    document = json.loads(run.out)
    assert (run.code, document["task"], document["facts"]["positive_rate"]) == (0, "binary", 0.5)
    assert document["input"] == {"path": str(tmp_path / "p.csv"), "targets": str(tmp_path / "t.csv")}
    assert [s["spec"] for s in document["suggestions"]] == ["bce", "brier"]
    run = cli("suggest", tmp_path / "p.csv", "--targets", tmp_path / "t.csv", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err.startswith("error: column 'id' is 1 in ") and run.err.endswith("align them by key with --on id\n")


def test_same_shaped_real_columns_are_multi_output_regression_or_boxes() -> None:
    """They were taken for multi-class, with class shares read from the target's column sums ('smallest -18.5%')."""
    rng = np.random.default_rng(0)
    target = rng.normal(size=(200, 3))
    advice = advise(target, target + rng.normal(0, 0.1, (200, 3)))
    assert advice.task == "multi-output regression" and advice.facts["outputs"] == 3
    assert [s.loss for s in advice.suggestions][:3] == ["mse", "rmse", "mae"]
    corner = rng.uniform(0, 50, (200, 2))
    boxes = np.hstack([corner, corner + rng.uniform(5, 20, (200, 2))])
    advice = advise(boxes, boxes + rng.normal(0, 0.5, (200, 4)) * [1, 1, 0, 0])
    assert advice.task == "detection" and [s.loss for s in advice.suggestions] == ["giou", "box_iou", "ciou"]


def test_several_target_columns_and_one_prediction_column_are_multi_output_regression(cli, write) -> None:
    """--target t0,t1 --pred p was 'error: internal error (ValueError: operands could not be broadcast together
    ...)', exit 4; eval scores each target column against the one prediction, and suggest now advises on that."""
    path = write("t.csv", "t0,t1,p\n1,3,2\n2,5,3\n4,4,4\n")
    run = cli("suggest", path, "--target", "t0,t1", "--pred", "p", "-f", "json", "-q")
    document = json.loads(run.out)
    assert (run.code, document["task"]) == (0, "multi-output regression (counts)")
    assert (document["facts"]["outputs"], document["facts"]["rows"]) == (2, 3)
    for suggestion in document["suggestions"]:
        assert cli("eval", path, "--target", "t0,t1", "--pred", "p", "-l", suggestion["spec"], "-q").code == 0


@pytest.mark.parametrize("target", [[0.0, 1.0, -1.0], [0.0, 1.0, 3.0], [0.5, 1.0, 2.0]])
def test_a_target_that_is_not_class_indices_for_several_columns_is_an_input_error(cli, tmp_path: Path, target) -> None:
    """A negative label was an internal error (np.bincount), a label beyond the columns or a float (several
    models' columns against one real target) was advised as multi-class."""
    rows = "".join(f"{i},{i + 1},{i + 2},{t}\n" for i, t in enumerate(target))
    (tmp_path / "p.csv").write_text("a,b,c,target\n" + rows)
    run = cli("suggest", tmp_path / "p.csv", "--pred", "a,b,c", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: cannot tell the task from 3 prediction columns and one target column: multi-class needs one target "
        "column of class indices 0 to 2, multi-label or multi-output as many target columns as prediction columns; "
        "for several models' columns, give one at a time with --pred\n"
    )


def test_a_list_target_beside_one_prediction_column_and_vectors_of_one_value(cli, tmp_path: Path) -> None:
    """A list target beside one prediction column was 'internal error (ValueError: operands could not be broadcast
    together with shapes (3,) (3,2))', exit 4 (now multi-output, as in eval); a list column of one value per
    row was read as a (rows x 1) column whose residuals against the other broadcast to rows x rows
    (residual_scale_mad=1.4826 for 0.7413)."""
    path = tmp_path / "p.parquet"
    data = {"pred": [1.0, 2.0, 3.5], "target": [1.0, 2.5, 3.0], "vec": pa.array([[0.1, 0.9], [0.5, 0.5], [0.2, 0.8]])}
    pq.write_table(pa.table({**data, "one": pa.array([[1.0], [2.0], [3.5]])}), path)
    run = cli("suggest", path, "--pred", "pred", "--target", "vec", "-f", "json", "-q")
    assert run.code == 0, run.err  # each of the list's values against the one prediction, as eval scores them
    assert json.loads(run.out)["facts"]["outputs"] == 2
    plain = json.loads(cli("suggest", path, "--pred", "pred", "--target", "target", "-f", "json", "-q").out)
    assert json.loads(cli("suggest", path, "--pred", "one", "--target", "target", "-f", "json", "-q").out) == plain


def test_the_table_writes_facts_as_the_command_line_does(cli, tmp_path: Path) -> None:
    """'counts=False' was Python's spelling."""
    (tmp_path / "p.csv").write_text("pred,target\n1.5,2.25\n2.5,2.0\n0.5,1.0\n")
    run = cli("suggest", tmp_path / "p.csv", "-q")
    assert run.code == 0 and "counts=false" in run.out and "False" not in run.out


def test_values_near_the_largest_float_give_numbers_or_null(cli, tmp_path: Path) -> None:
    """The skew's cubes overflowed: four NumPy warnings on stderr and 'NaN' in the JSON, which is not JSON."""
    (tmp_path / "p.csv").write_text("pred,target\n1e308,-1e308\n-1e308,1e308\n5,1e-300\n7,3\n")
    run = cli("suggest", tmp_path / "p.csv", "-q", "-f", "json")
    assert (run.code, run.err) == (0, "")
    facts = json.loads(run.out, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))["facts"]
    assert facts["target_skew"] == pytest.approx(0.0, abs=1e-12)
    assert facts["residual_scale_mad"] is None  # residuals of 2e308 are beyond float64


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_targets_of_one_sign_over_orders_of_magnitude_get_mape_whatever_the_sign(sign: float) -> None:
    """Negative targets from -1 to -1000 (costs, losses booked as negative amounts) were not offered mape: the
    span was read as max / min = -1 / -1000, under 10."""
    target = sign * np.geomspace(1.0, 1000.0, 200)
    advice = advise(target, target * rng.uniform(0.9, 1.1, 200))
    assert "mape" in losses(advice)
    assert "mape" not in losses(advise(np.linspace(-5.0, 5.0, 200), np.linspace(-5.0, 5.0, 200) + 0.1))


def _brute_force_pairs(qid: list[str], relevance: list[int]) -> int:
    return sum(qid[i] == qid[j] and relevance[i] > relevance[j] for i in range(len(qid)) for j in range(len(qid)))


def test_a_file_with_query_ids_is_advised_as_ranking(cli, tmp_path: Path) -> None:
    """A ranking file (qid, relevance, score) was advised as 'regression (counts)' with mse, rmse, mae, poisson:
    the query ids were not looked at. Now the task is ranking, with the queries, pairs and the queries that add
    no pair counted, and the advice names the option that binds the ids; eval takes the suggested losses."""
    local = np.random.default_rng(5)
    qid = [f"q{v}" for v in np.sort(local.integers(0, 12, 80))] + ["lone", "tied", "tied"]
    relevance = [int(v) for v in local.integers(0, 4, 80)] + [2, 1, 1]
    score = local.normal(size=len(qid)).round(4)
    rows = "".join(f"{q},{r},{s}\n" for q, r, s in zip(qid, relevance, score, strict=True))
    (tmp_path / "rank.csv").write_text("QID,target,pred\n" + rows)
    run = cli("suggest", tmp_path / "rank.csv", "-q", "-f", "json")
    assert run.code == 0, run.err
    document = json.loads(run.out)
    queries = len(set(qid))
    assert document["task"] == "ranking"
    facts = document["facts"]
    assert facts["queries"] == queries and facts["rows"] == len(qid)
    assert facts["pairs"] == _brute_force_pairs(qid, relevance)
    expected_without = sum(len({r for q2, r in zip(qid, relevance, strict=True) if q2 == q}) < 2 for q in set(qid))
    assert facts["queries_without_pairs"] == expected_without >= 2
    assert [s["loss"] for s in document["suggestions"]] == ["ranknet", "listnet"]
    assert "eval: --col qid=QID" in document["suggestions"][0]["reason"]
    assert f"over the {facts['pairs']} document pairs" in document["suggestions"][0]["reason"]
    run = cli("eval", tmp_path / "rank.csv", "-l", "ranknet,listnet", "--col", "qid=QID", "-q", "-f", "csv")
    assert run.code == 0, run.err


def test_queries_without_any_pair_get_listnet_only(cli, tmp_path: Path) -> None:
    """ranknet on a file without a pair is an input error, so it is not advised; listnet counts every query."""
    (tmp_path / "rank.csv").write_text("qid,target,pred\na,1,0.1\na,1,0.2\nb,2,0.3\n")
    run = cli("suggest", tmp_path / "rank.csv", "-q", "-f", "json")
    document = json.loads(run.out)
    assert (run.code, document["task"], document["facts"]["pairs"]) == (0, "ranking", 0)
    assert [s["loss"] for s in document["suggestions"]] == ["listnet"]
    assert "each of the 2 queries counts once" in document["suggestions"][0]["reason"]
    (tmp_path / "one.csv").write_text("qid,target,pred\na,1,0.1\na,0,0.2\n")
    run = cli("suggest", tmp_path / "one.csv", "-q", "-f", "csv")
    assert run.code == 0 and "the 1 query counts once" in run.out and "each of the 1 query" not in run.out
    assert "no query has two different relevances" in document["suggestions"][0]["reason"]


def test_text_labels_are_read_as_eval_reads_them(cli, tmp_path: Path) -> None:
    """Text labels were 'error: column 'target' is not numeric'. Two labels with one prediction column are binary,
    the last in sorted order positive (as scikit-learn), said in a notice that gives eval's --positive; labels that
    end the prediction columns' names are classes; three labels with one column are an input error."""
    (tmp_path / "bin.csv").write_text("target,pred\ncat,0.1\ndog,0.8\ndog,0.7\ncat,0.3\ndog,0.9\n,0.5\n")
    run = cli("suggest", tmp_path / "bin.csv", "-f", "json", "--missing", "drop")
    assert run.code == 0
    facts = json.loads(run.out)["facts"]
    assert (facts["labels"], facts["positive_label"], facts["positive_rate"]) == (["cat", "dog"], "dog", 0.6)
    assert (
        "notice: text labels in 'target': 'dog' taken as the positive class; eval needs --positive dog "
        "(or --positive cat to turn it round)\n" in run.err
    )
    assert cli("eval", tmp_path / "bin.csv", "-l", "bce", "--positive", "dog", "--missing", "drop", "-q").code == 0
    # -q silenced the only mention of --positive, and eval -l bce then failed: each reason now names it too
    run = cli("suggest", tmp_path / "bin.csv", "-f", "json", "--missing", "drop", "-q")
    reasons = [suggestion["reason"] for suggestion in json.loads(run.out)["suggestions"]]
    assert (run.code, run.err, len(reasons)) == (0, "", 2)
    assert (
        reasons[0]
        == "predictions are probabilities: log loss is the proper scoring rule for them (eval: --positive dog)"
    )
    assert all(reason.endswith(" (eval: --positive dog)") for reason in reasons)
    (tmp_path / "mc.csv").write_text("target,prob_cat,prob_dog,prob_emu\nemu,1,2,3\ncat,3,1,0\ndog,0,4,1\nemu,0,0,1\n")
    run = cli("suggest", tmp_path / "mc.csv", "--pred", "prob_*", "-f", "json")
    document = json.loads(run.out)
    assert (run.code, document["task"], document["facts"]["classes"]) == (0, "multiclass", 3)
    assert document["facts"]["smallest_class_share"] == 0.25 and document["facts"]["largest_class_share"] == 0.5
    assert "text labels matched to prediction columns by suffix" in run.err
    (tmp_path / "three.csv").write_text("target,pred\na,0.1\nb,0.8\nc,0.7\n")
    run = cli("suggest", tmp_path / "three.csv", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: column 'target' holds 3 labels ('a', 'b', 'c', ...) and there is one prediction column: a "
        "binary file has two labels; a multi-class one a prediction column per class (--pred 'prob_*')\n"
    )


def test_text_zeros_and_ones_are_labels_as_eval_s_binary_losses_read_them(cli, write) -> None:
    """JSON strings "1" and "0" were advised on as numbers (bce, no notice), but eval's bce refuses them as text
    labels that need --positive: suggest now reads them as eval does and gives the --positive that eval needs."""
    rows = [("1", 0.5), ("0", 0.2), ("1", 0.9)]
    path = write("s.jsonl", "".join(json.dumps({"target": t, "pred": p}) + "\n" for t, p in rows))
    run = cli("suggest", path, "-f", "json")
    document = json.loads(run.out)
    assert (run.code, document["task"], document["facts"]["positive_label"]) == (0, "binary", "1")
    assert "eval needs --positive 1 (or --positive 0 to turn it round)\n" in run.err
    assert cli("eval", path, "-l", "bce", "-q").code == 3
    for suggestion in document["suggestions"]:
        assert cli("eval", path, "-l", suggestion["spec"], "--positive", "1", "-q").code == 0
    numbers = write("r.jsonl", '{"target": "1", "pred": 2.5}\n{"target": "3", "pred": 0.2}\n')
    assert json.loads(cli("suggest", numbers, "-f", "json", "-q").out)["task"] == "regression (counts)"


def test_text_labels_in_the_table_are_text_not_markup(cli, tmp_path: Path) -> None:
    """A label is data: '[bold]yes' is shown as written, never read as rich markup."""
    (tmp_path / "bin.csv").write_text("target,pred\n[bold]yes,0.1\nno,0.8\n")
    run = cli("suggest", tmp_path / "bin.csv", "-q")
    assert run.code == 0 and "labels=[bold]yes,no" in run.out


def test_suggest_takes_evals_classes_and_positive(cli, tmp_path: Path) -> None:
    """Labels that match no prediction column's suffix were an error telling to 'give the class order with
    --classes', which suggest did not take ('No such option: --classes'); --positive chooses the positive class."""
    (tmp_path / "mc.csv").write_text("target,p_0,p_1\ncat,0.1,0.9\ndog,0.8,0.2\ndog,0.3,0.7\n")
    run = cli("suggest", tmp_path / "mc.csv", "--pred", "p_*", "-q")
    assert run.code == 3 and "give the class order with --classes A,B,C" in run.err
    run = cli("suggest", tmp_path / "mc.csv", "--pred", "p_*", "--classes", "cat,dog", "-q", "-f", "json")
    document = json.loads(run.out)
    assert all(suggestion["reason"].endswith(" (eval: --classes cat,dog)") for suggestion in document["suggestions"])
    assert (run.code, document["task"], document["facts"]["smallest_class_share"]) == (0, "multiclass", 1 / 3)
    run = cli("suggest", tmp_path / "mc.csv", "--pred", "p_0", "--positive", "cat", "-f", "json")
    facts = json.loads(run.out)["facts"]
    assert (run.code, facts["positive_rate"], facts["positive_label"]) == (0, 1 / 3, "cat")
    assert "taken as the positive class" not in run.err  # the user chose it
    (tmp_path / "n.csv").write_text("target,pred\n1,0.2\n2,0.9\n2,0.8\n")
    run = cli("suggest", tmp_path / "n.csv", "--positive", "2", "-q", "-f", "json")
    document = json.loads(run.out)
    assert (run.code, document["task"], document["facts"]["positive_rate"]) == (0, "binary", 2 / 3)


def test_positive_for_classes_and_classes_for_binary_labels_are_usage_errors_as_in_eval(cli, write) -> None:
    """--positive with several prediction columns was ignored, and --classes with one read as the binary order
    (bce suggested, exit 0), while eval refuses both (exit 2): suggest now refuses them too, saying which to give."""
    multiclass = write("mc.csv", "target,prob_cat,prob_dog\ncat,0.9,0.1\ndog,0.2,0.8\n")
    run = cli("suggest", multiclass, "--pred", "prob_*", "--positive", "cat")
    assert (run.code, run.out) == (2, "")
    assert run.err.endswith(
        "error: --positive names the positive class of binary labels, but each row has several prediction values "
        "(multi-class): give the class order with --classes A,B,C\n"
    )
    binary = write("b.csv", "target,pred\ncat,0.9\ndog,0.2\n")
    run = cli("suggest", binary, "--classes", "cat,dog")
    assert (run.code, run.out) == (2, "")
    assert run.err.endswith(
        "error: --classes gives the class order of several prediction columns, but there is one (binary): name the "
        "positive class with --positive LABEL\n"
    )
    assert cli("eval", binary, "--classes", "cat,dog", "-l", "bce").code == 2
    assert cli("eval", multiclass, "--pred", "prob_*", "--positive", "cat", "-l", "cross_entropy").code == 2


def test_suggest_reads_several_paths_as_one_dataset(cli, tmp_path: Path) -> None:
    """cli.md: several PATHs (a shell-expanded part-*.parquet) are read as one dataset. 'suggest part-*.csv' failed
    'Got unexpected extra argument(s)' (exit 2); its advice is now that of the files together, as eval reads them."""
    (tmp_path / "part-0.csv").write_text("target,pred\n1,0.2\n0,0.9\n")
    (tmp_path / "part-1.csv").write_text("target,pred\n0,0.1\n0,0.3\n")
    run = cli("suggest", tmp_path / "part-0.csv", tmp_path / "part-1.csv", "-q", "-f", "json")
    document = json.loads(run.out)
    assert (run.code, document["task"], document["facts"]["rows"], document["facts"]["positive_rate"]) == (
        0,
        "binary",
        4,
        0.25,
    )
    assert document["input"]["path"] == f"{tmp_path / 'part-0.csv'}, {tmp_path / 'part-1.csv'}"
    (tmp_path / "other.csv").write_text("y,p\n1,0.2\n")
    run = cli("suggest", tmp_path / "part-0.csv", tmp_path / "other.csv", "-q")
    assert run.code == 3 and run.err.startswith("error:") and "must have the same columns" in run.err


def test_probability_rows_within_eval_s_tolerance_are_probabilities(cli, write) -> None:
    """Three probabilities written with 5 decimals (0.33334 each) sum to 1 within 2e-5: eval reads them as
    probabilities (within 1e-4, in its task inference and categorical_ce), but suggest asked for 1e-5 (NumPy's
    allclose), called them 'logits' and advised cross_entropy, a softmax over probabilities. One tolerance now
    serves both."""
    rows = "".join(f"0.33334,0.33334,0.33334,{k % 3}\n" for k in range(6))
    run = cli("suggest", write("p.csv", "p_0,p_1,p_2,target\n" + rows), "--pred", "p_*", "-f", "json", "-q")
    assert run.code == 0
    advice = json.loads(run.out)
    assert advice["facts"]["pred"] == "probabilities"
    assert [s["loss"] for s in advice["suggestions"]] == ["categorical_ce"]
    assert cli("eval", write("p.csv", "p_0,p_1,p_2,target\n" + rows), "--pred", "p_*", "-q").code == 0


def test_query_ids_text_in_one_file_and_integers_in_another_are_read_as_eval_reads_them(cli, tmp_path: Path) -> None:
    """eval reads such query ids as text in every file (1 is '1'); suggest read them as a value column and
    refused: "column 'qid' is not numeric in 'b.parquet': ..." (exit 3)."""
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    pq.write_table(pa.table({"qid": [1, 1, 2], "target": [0, 1, 1], "pred": [0.1, 0.2, 0.3]}), files[0])
    pq.write_table(pa.table({"qid": ["2", "3"], "target": [0, 1], "pred": [0.1, 0.2]}), files[1])
    run = cli("suggest", *files, "-q", "-f", "json")
    assert (run.code, run.err) == (0, "")
    facts = json.loads(run.out)["facts"]
    assert (facts["queries"], facts["pairs"], facts["rows"]) == (3, 2, 5)


def test_csv_json_array_columns_are_vectors_as_in_eval(cli, tmp_path: Path) -> None:
    # A CSV column of JSON arrays was read as numbers: "column 'p' is not numeric: '[0.2, 0.7, 0.1]' at row 0" (and
    # a target of JSON arrays as text labels), while eval reads both as vectors (docs/cli.md, "Input").
    rows = [([0.2, 0.7, 0.1], [0, 1, 0]), ([0.6, 0.3, 0.9], [1, 0, 1]), ([0.1, 0.2, 0.8], [0, 0, 1])]
    (tmp_path / "m.csv").write_text("p,y\n" + "".join(f'"{json.dumps(p)}","{json.dumps(y)}"\n' for p, y in rows))
    columns = {"p": [f"p{k}" for k in range(3)], "y": [f"y{k}" for k in range(3)]}
    header = ",".join(columns["p"] + columns["y"])
    (tmp_path / "s.csv").write_text(header + "\n" + "".join(",".join(map(str, p + y)) + "\n" for p, y in rows))
    listed = cli("suggest", tmp_path / "m.csv", "--pred", "p", "--target", "y", "-f", "json", "-q")
    split = cli("suggest", tmp_path / "s.csv", "--pred", "p*", "--target", "y*", "-f", "json", "-q")
    assert listed.code == 0, listed.err
    assert json.loads(listed.out)["suggestions"] == json.loads(split.out)["suggestions"]
    assert json.loads(listed.out)["task"] == "multilabel"
