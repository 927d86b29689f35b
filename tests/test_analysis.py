"""Groups and gaps, per-sample files, bootstrap intervals and compare (issue: analysis for people and CI)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl import compare
from lossctl.comparison import verdict


def write_regression(path: Path, n: int = 300, seed: int = 0, noise: float = 1.0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n)
    y = rng.normal(size=n)
    p = y + rng.normal(size=n) * noise * np.where(group == "c", 3.0, 1.0)
    w = rng.uniform(0.5, 2.0, size=n)
    pq.write_table(pa.table({"id": np.arange(n) * 10, "g": group, "target": y, "pred": p, "w": w}), path)
    return group, y, p, w


def test_group_values_equal_evaluating_each_group_alone(tmp_path: Path) -> None:
    group, y, p, w = write_regression(tmp_path / "d.parquet")
    report = lossctl.evaluate(
        str(tmp_path / "d.parquet"), losses=["mse", "huber:delta=0.5", "rmse"], weight="w", by=["g"]
    )
    for result in report.results:
        rows = np.ones(len(y), bool) if result.group is None else group == result.group["g"]
        spec = lossctl.get(result.loss)
        expected = spec(y[rows], p[rows], sample_weight=w[rows], **result.params)
        assert result.value == pytest.approx(expected, rel=1e-12)
        assert result.n == rows.sum()
    gaps = {g["loss"]: g for g in report.groups["gaps"]}
    mse = {r.group["g"]: r.value for r in report.results if r.loss == "mse" and r.group}
    assert gaps["mse"]["gap"] == pytest.approx(max(mse.values()) - min(mse.values()))
    assert gaps["mse"]["worst_group"] == {"g": max(mse, key=mse.get)} == {"g": "c"}


def test_groups_by_two_columns_and_json_layout(cli, write) -> None:
    path = write("p.csv", "pred,target,a,b\n1,0,x,1\n2,0,x,2\n3,0,y,1\n5,0,x,1\n")
    doc = json.loads(cli("eval", path, "-l", "mae", "--by", "a", "--by", "b", "-f", "json").out)
    groups = [(r["group"], r["value"], r["n"]) for r in doc["results"]]
    assert groups == [
        (None, 2.75, 4),
        ({"a": "x", "b": 1}, 3.0, 2),
        ({"a": "x", "b": 2}, 2.0, 1),
        ({"a": "y", "b": 1}, 3.0, 1),
    ]
    assert doc["groups"] == {
        "by": ["a", "b"],
        "gaps": [{"loss": "mae", "params": {"multioutput": None}, "gap": 1.0, "worst_group": {"a": "x", "b": 1}}],
    }


def test_missing_by_column_is_an_input_error(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "mse", "--by", "region")
    assert run.code == 3 and "column 'region' not found" in run.err


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_per_sample_file_holds_each_rows_loss(tmp_path: Path, suffix: str) -> None:
    _, y, p, _ = write_regression(tmp_path / "d.parquet", n=50)
    out = tmp_path / f"rows{suffix}"
    lossctl.evaluate(
        str(tmp_path / "d.parquet"), losses=["mse", "rmse", "quantile:q=0.9"], per_sample=str(out), chunk_rows=7
    )
    if suffix == ".parquet":
        table = pq.read_table(out).to_pydict()
    elif suffix == ".csv":
        rows = list(csv.DictReader(out.open()))
        table = {key: [float(r[key]) for r in rows] for key in rows[0]}
    else:
        records = [json.loads(line) for line in out.read_text().splitlines()]
        table = {key: [r[key] for r in records] for key in records[0]}
    assert list(table) == ["row", "mse", "quantile:q=0.9"]  # rmse is an aggregate: no per-row values
    assert table["row"] == list(range(50))
    np.testing.assert_allclose(table["mse"], lossctl.get("mse").per_sample(y, p), rtol=1e-15)
    np.testing.assert_allclose(table["quantile:q=0.9"], lossctl.get("quantile").per_sample(y, p, q=0.9), rtol=1e-15)


def test_per_sample_uses_the_join_key_and_skips_dropped_rows(cli, write, tmp_path: Path) -> None:
    preds = write("p.csv", "id,pred\n7,1\n3,\n5,4\n")
    targets = write("t.csv", "id,target\n5,2\n3,1\n7,0\n")
    out = tmp_path / "rows.csv"
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mae", "--missing", "drop", "--per-sample", out)
    assert run.code == 0, run.err
    assert out.read_text().replace('"', "").splitlines() == ["id,mae", "7,1", "5,2"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_key_named_as_a_loss_keeps_its_column(cli, write, tmp_path: Path, suffix: str) -> None:
    # --on mse with -l mse wrote one 'mse' column: the key's values were lost under the losses'.
    preds, targets = write("p.csv", "mse,pred\n7,1\n5,4\n"), write("t.csv", "mse,target\n5,2\n7,0\n")
    out = tmp_path / f"rows{suffix}"
    assert cli("eval", preds, "--targets", targets, "--on", "mse", "-l", "mse", "--per-sample", out).code == 0
    table = pq.read_table(out) if suffix == ".parquet" else pacsv.read_csv(out)
    assert table.to_pydict() == {"mse": [7, 5], "mse#2": [1.0, 4.0]}


def test_per_sample_json_lines_write_date_and_timestamp_keys_as_iso_text(cli, tmp_path: Path) -> None:
    # A date or timestamp --on key made --per-sample rows.jsonl an internal error ('Object of type date is not
    # JSON serializable'); the keys are written as the JSON report writes group keys.
    import datetime

    import pyarrow as pa

    day = [datetime.date(2026, 1, 2), datetime.date(2026, 1, 1)]
    at = [datetime.datetime(2026, 1, 1, 12, 30), datetime.datetime(2026, 1, 1, 0, 0, 5)]
    pq.write_table(pa.table({"day": day, "at": at, "pred": [1.0, 4.0]}), tmp_path / "p.parquet")
    pq.write_table(pa.table({"day": day[::-1], "at": at[::-1], "target": [2.0, 2.0]}), tmp_path / "t.parquet")
    out = tmp_path / "rows.jsonl"
    run = cli("eval", tmp_path / "p.parquet", "--targets", tmp_path / "t.parquet", "--on", "day", "--on", "at",
              "-l", "mae", "--per-sample", out, "-q")  # fmt: skip
    assert run.code == 0, run.err
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"day": "2026-01-02", "at": "2026-01-01T12:30:00", "mae": 1.0},
        {"day": "2026-01-01", "at": "2026-01-01T00:00:05", "mae": 2.0},
    ]


def test_failed_run_leaves_no_per_sample_file(cli, write, tmp_path: Path) -> None:
    path = write("p.csv", "prob,label\n0.5,1\n1.5,0\n")
    out = tmp_path / "rows.parquet"
    assert cli("eval", path, "-l", "bce", "--per-sample", out).code == 3
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_bootstrap_interval_contains_the_estimate_and_narrows(tmp_path: Path) -> None:
    widths = []
    for n in (200, 5000):
        write_regression(tmp_path / f"d{n}.parquet", n=n)
        report = lossctl.evaluate(str(tmp_path / f"d{n}.parquet"), losses=["mae"], bootstrap=300, seed=3)
        (result,) = report.results
        assert result.ci["low"] < result.value < result.ci["high"] and result.ci["level"] == 0.95
        widths.append(result.ci["high"] - result.ci["low"])
    assert widths[1] < widths[0] / 3


def test_bootstrap_is_reproducible_and_independent_of_chunking(tmp_path: Path) -> None:
    write_regression(tmp_path / "d.parquet", n=120)
    path = str(tmp_path / "d.parquet")

    def ci(**kwargs: object) -> list[float]:
        report = lossctl.evaluate(path, losses=["mse", "rmse"], weight="w", by=["g"], bootstrap=50, **kwargs)
        return [bound for r in report.results for bound in (r.ci["low"], r.ci["high"])]

    whole = ci(seed=11)
    assert ci(seed=11, chunk_rows=1) == pytest.approx(whole, rel=1e-12)
    assert ci(seed=11, chunk_rows=17) == pytest.approx(whole, rel=1e-12)
    assert ci(seed=12) != whole


def test_compare_clearly_better_candidate(tmp_path: Path, cli) -> None:
    write_regression(tmp_path / "base.parquet", n=400, noise=1.0)
    write_regression(tmp_path / "cand.parquet", n=400, noise=0.5)
    report = compare(
        str(tmp_path / "base.parquet"), str(tmp_path / "cand.parquet"), losses=["mse", "mae"], bootstrap=200
    )
    for c in report.results:
        assert c.delta < 0 and c.verdict == "better" and c.ci["high"] < 0
        assert c.relative_delta == pytest.approx(c.delta / c.baseline)
    worse = cli("compare", tmp_path / "cand.parquet", tmp_path / "base.parquet", "-l", "mse", "--bootstrap", "200",
                "--fail-if-worse", "0", "--significant", "-f", "json")  # fmt: skip
    assert worse.code == 1
    doc = json.loads(worse.out)
    assert doc["results"][0]["verdict"] == "worse" and doc["checks"][0]["passed"] is False
    assert set(doc["input"]) == {"baseline", "candidate"}
    assert list(doc) == ["schema", "lossctl", "input", "columns", "results", "groups", "checks"]


def test_compare_identical_files_is_a_zero_delta(tmp_path: Path, cli) -> None:
    write_regression(tmp_path / "a.parquet")
    run = cli("compare", tmp_path / "a.parquet", tmp_path / "a.parquet", "-l", "mse,huber", "--bootstrap", "50",
              "--fail-if-worse", "0", "--significant", "-f", "json")  # fmt: skip
    assert run.code == 0, run.err
    for record in json.loads(run.out)["results"]:
        assert record["delta"] == 0 and record["verdict"] == "same" and record["ci"]["low"] == record["ci"]["high"] == 0


def test_identical_values_of_a_negative_loss_are_a_relative_delta_of_plus_zero(cli, write) -> None:
    # 0 / -3.11 is -0.0: the same file against itself read "+0" beside "-0.00%", and -0.0 in JSON and CSV.
    data = write("nll.csv", "y,pred\n5,5\n6,6\n4,4\n")
    args = ["compare", data, data, "--target", "y", "-l", "poisson_nll", "-q"]
    (record,) = json.loads(cli(*args, "-f", "json").out)["results"]
    assert record["baseline"] < 0 and (record["delta"], record["verdict"]) == (0, "same")
    assert str(record["relative_delta"]) == "0.0"
    assert cli(*args, "-f", "csv").out.splitlines()[1].endswith(",0.0,0.0,,,same,3")
    assert "│    +0 │   +0.00% │ same" in cli(*args).out


def test_a_fail_if_worse_threshold_is_written_as_the_fraction_of_the_percent_given(cli, write) -> None:
    # The threshold was PCT / 100, rounded twice: --fail-if-worse 0.7 wrote "threshold": 0.006999999999999999 and
    # 1.1 wrote 0.011000000000000001, where the user compares with 0.007 and 0.011.
    base, cand = write("base.csv", "y,pred\n0,1000\n"), write("cand.csv", "y,pred\n0,1007\n")
    for percent, threshold, passed in [("0.7", 0.007, True), ("1.1", 0.011, True), ("0.07", 0.0007, False)]:
        args = ["compare", base, cand, "--target", "y", "-l", "mae", "--fail-if-worse", percent, "-q"]
        (check,) = json.loads(cli(*args, "-f", "json").out)["checks"]
        assert (repr(check["threshold"]), check["value"], check["passed"]) == (repr(threshold), 0.007, passed)
    assert cli(*args).out.splitlines()[-1] == "check mae worse by > 0.07%: mae = +0.70% FAILED"


def test_relative_deltas_too_large_or_too_small_for_two_decimals_are_shown_in_exponent_form(cli, write) -> None:
    # A relative delta of 1e300 was written as its 300 digits, "+99999999999999988595...408.00%", in the table, the
    # check line, the Markdown check and the notice; one of 2.4e-6 read "+0.00%" beside the verdict "worse".
    small, large = write("small.csv", "y,pred\n0,1e-150\n"), write("large.csv", "y,pred\n0,1e150\n")
    args = ["compare", small, large, "--target", "y", "-l", "mae", "--fail-if-worse", "1"]
    run = cli(*args, "-q")
    assert run.code == 1
    assert "│ +1e+150 │ +1.00e+302% │ worse" in run.out
    assert "check mae worse by > 1%: mae = +1.00e+302% FAILED" in run.out
    assert "- check `mae worse by > 1%`: mae = +1.00e+302% (FAILED)" in cli(*args, "-q", "-f", "markdown").out
    assert "notice: check mae worse by > 1% FAILED: mae = +1.00e+302%\n" in cli(*args, "-f", "json").err
    close = write("close.csv", "y,a,b\n0,0.1234561,0.1234564\n")
    run = cli("compare", close, "--model", "a=a", "--model", "b=b", "--target", "y", "-l", "mae", "-q",
              "--fail-if-worse", "1")  # fmt: skip
    assert "│ +3e-07 │ +2.43e-04% │ worse" in run.out
    assert "check mae worse by > 1%: mae@b = +2.43e-04% passed" in run.out


def test_compare_aligns_by_key(tmp_path: Path, write) -> None:
    base = write("b.csv", "id,pred,target\n1,1,0\n2,2,0\n3,3,0\n")
    cand = write("c.csv", "id,pred\n3,0\n1,0\n2,1\n")
    (result,) = compare(str(base), str(cand), losses=["mae"], on="id").results
    assert (result.baseline, result.candidate, result.delta) == (2.0, pytest.approx(1 / 3), pytest.approx(-5 / 3))


def test_significant_needs_an_interval(cli, regression_csv: Path) -> None:
    run = cli("compare", regression_csv, regression_csv, "-l", "mse", "--significant")
    assert run.code == 2 and "--significant needs an interval of the deltas: add --bootstrap N" in run.err


def test_verdict_rules() -> None:
    assert verdict(1.0, 1e-13, None) == "same"
    assert verdict(1.0, 0.1, None) == "worse" and verdict(1.0, -0.1, None) == "better"
    assert verdict(1.0, 0.1, {"low": -0.01, "high": 0.2, "level": 0.95}) == "same"


def test_composite_is_the_weighted_sum_of_its_parts_everywhere(tmp_path: Path, cli) -> None:
    write_regression(tmp_path / "d.parquet")
    path = tmp_path / "d.parquet"
    run = cli("eval", path, "-l", "total=0.7*mse+0.3*huber:delta=2", "--by", "g", "--bootstrap", "40",
              "--fail-if", "total>100", "-f", "json")  # fmt: skip
    doc = json.loads(run.out)
    assert run.code == 0, run.err
    by_key = {(r["loss"], json.dumps(r["group"])): r for r in doc["results"]}
    for key in [json.dumps(None)] + [json.dumps({"g": g}) for g in ("a", "b", "c")]:
        mse, huber, total = by_key[("mse", key)], by_key[("huber", key)], by_key[("total", key)]
        assert total["value"] == pytest.approx(0.7 * mse["value"] + 0.3 * huber["value"], rel=1e-14)
        assert total["ci"]["low"] < total["value"] < total["ci"]["high"]
    assert by_key[("total", "null")]["params"] == {"formula": "0.7*mse+0.3*huber:delta=2"}
    assert doc["checks"][0]["loss"] == "total" and doc["checks"][0]["passed"] is True
    assert any(g["loss"] == "total" for g in doc["groups"]["gaps"])
