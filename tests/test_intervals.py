"""Intervals: the Poisson bootstrap against a direct resampling with the same counts, and ``--ci`` without
``--bootstrap`` (the delta method) against the textbook formulas."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.bootstrap import BLOCK_ROWS, poisson_counts, replicate_sums
from lossctl.engine import Job, Options, Plan, run
from lossctl.params import build_requests


def _data(tmp_path: Path, n: int = 400, seed: int = 0) -> tuple[Path, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    columns = {
        "target": rng.normal(size=n),
        "pred": rng.normal(size=n) * 2,
        "w": rng.uniform(0.2, 3.0, n),
        "g": rng.choice(np.array(["a", "b", "c"]), n),
    }
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table(columns), path)
    return path, columns


def _percentiles(values: np.ndarray, level: float = 0.95) -> list[float]:
    return np.quantile(values, [(1 - level) / 2, (1 + level) / 2]).tolist()


@pytest.mark.parametrize("loss", ["mse", "rmse", "huber:delta=0.5"])
def test_bootstrap_equals_a_direct_resampling_with_the_same_counts(tmp_path: Path, loss: str) -> None:
    path, data = _data(tmp_path)
    y, p, w, g = data["target"], data["pred"], data["w"], data["g"]
    report = lossctl.evaluate(str(path), losses=[loss], weight="w", by=["g"], bootstrap=60, seed=9)
    counts = poisson_counts(np.arange(len(y)), 60, seed=9)
    spec, params = lossctl.get(loss.split(":")[0]), ({"delta": 0.5} if "delta" in loss else {})
    for result in report.results:
        rows = np.ones(len(y), bool) if result.group is None else g == result.group["g"]
        direct = [spec(y[rows], p[rows], sample_weight=w[rows] * counts[rows, b], **params) for b in range(60)]
        assert [result.ci["low"], result.ci["high"]] == pytest.approx(_percentiles(np.array(direct)), rel=1e-12)


@pytest.mark.parametrize("weight", [None, "w"])
def test_a_replicate_that_drew_no_row_is_left_out_not_a_perfect_score(cli: Any, write: Any, weight: str | None) -> None:
    # dice with smooth=1 scores empty sums 0 (a perfect score): group a's replicates that drew neither of its rows
    # (or, weighted, only its row of weight 0) counted as 0, and its 95% interval was [0, 0.678], not [0.364, 0.710].
    rows = "y,pred,w,g\n1,0.2,1,a\n0,0.7,1,a\n1,0.5,0,a\n1,0.6,1,b\n0,0.4,1,b\n"
    path = write("p.csv", rows if weight else rows.replace("1,0.5,0,a\n", ""))
    args = ["--target", "y", "--pred", "pred", "-l", "dice", "--by", "g", "--bootstrap", "1000", "--seed", "2"]
    run = cli("eval", path, *args, *(["--weight", weight] if weight else []), "-q", "-f", "json")
    assert run.code == 0, run.err
    counts = poisson_counts(np.arange(2), 1000, seed=2)
    y, p = np.array([1.0, 0.0]), np.array([0.2, 0.7])
    drawn = counts.sum(axis=0) > 0
    values = 1 - (2 * counts.T @ (p * y) + 1) / (counts.T @ (p + y) + 1)
    ci = next(r["ci"] for r in json.loads(run.out)["results"] if r["group"] == {"g": "a"})
    assert [ci["low"], ci["high"]] == pytest.approx(_percentiles(values[drawn]), rel=1e-12)
    assert ci["low"] > 0.3


def test_intervals_of_a_sum_hold_the_row_count_fixed(write: Any, tmp_path: Path) -> None:
    # The bootstrap's replicates of a sum had sum(k) ~ Poisson(n) rows: losses 1, 2, 3, 4, 6 (sum 16) gave the 90%
    # interval [4, 31], twice as wide as the normal approximation's and a resampling of 5 rows' [10, 23].
    path = write("p.csv", "target,pred\n0,1\n0,2\n0,3\n0,4\n0,6\n")
    normal = lossctl.evaluate(str(path), losses=["mae"], reduction="sum", ci=0.9).results[0]
    half = NormalDist().inv_cdf(0.95) * np.sqrt(5 * 14.8 / 4)  # n Var(l): 5 rows, sum of squared deviations 14.8
    assert [normal.ci["low"], normal.ci["high"]] == pytest.approx([16 - half, 16 + half], rel=1e-12)
    summed = lossctl.evaluate(str(path), losses=["mae"], reduction="sum", bootstrap=2000, ci=0.9, seed=1).results[0]
    mean = lossctl.evaluate(str(path), losses=["mae"], bootstrap=2000, ci=0.9, seed=1).results[0]
    assert [summed.ci["low"], summed.ci["high"]] == pytest.approx([5 * mean.ci["low"], 5 * mean.ci["high"]], rel=1e-12)
    # On 400 weighted rows in 3 groups: each replicate is n times its mean (a resampling of n rows, weights and
    # all), and the bootstrap's interval is about as wide as the normal approximation's.
    path, data = _data(tmp_path)
    y, p, w, g = data["target"], data["pred"], data["w"], data["g"]
    report = lossctl.evaluate(str(path), losses=["mse"], weight="w", by=["g"], reduction="sum", bootstrap=300, seed=9)
    counts = poisson_counts(np.arange(len(y)), 300, seed=9)
    for result in report.results:
        rows = np.ones(len(y), bool) if result.group is None else g == result.group["g"]
        terms, k = w[rows] * (p[rows] - y[rows]) ** 2, counts[rows]
        direct = rows.sum() * (k.T @ terms) / k.sum(axis=0)
        assert [result.ci["low"], result.ci["high"]] == pytest.approx(_percentiles(direct), rel=1e-12)
        normal_width = 2 * NormalDist().inv_cdf(0.975) * np.sqrt(rows.sum()) * terms.std(ddof=1)
        assert result.ci["high"] - result.ci["low"] == pytest.approx(normal_width, rel=0.2)


def test_bootstrap_counts_are_poisson_and_keyed_by_row() -> None:
    rows = np.arange(3 * BLOCK_ROWS + 17)
    counts = poisson_counts(rows, 40, seed=1)
    assert abs(counts.mean() - 1) < 0.01 and abs(counts.var() - 1) < 0.02
    picked = np.array([5, BLOCK_ROWS - 1, BLOCK_ROWS, 2 * BLOCK_ROWS + 3])
    np.testing.assert_array_equal(poisson_counts(picked, 40, seed=1), counts[picked])
    assert not np.array_equal(poisson_counts(picked, 40, seed=2), counts[picked])


@pytest.mark.parametrize("gaps", [True, False])
@pytest.mark.parametrize("groups", [None, 3, 100, 5000])
def test_replicate_sums_are_the_counts_times_the_rows(groups: int | None, gaps: bool) -> None:
    """K^T V, and per group, equal the product of the counts drawn row by row: rows over three blocks with gaps (as
    after --missing drop) or every row from the middle of a block on (the draws sliced, not copied), 300 replicates
    so that a block takes several steps. The groups take each way of adding: a product per group (3), sorted runs
    (100: about 9 rows per group in a step), row by row (5000: most groups have at most one row in a step, some have
    two or three)."""
    rng = np.random.default_rng(3)
    if gaps:
        rows = np.sort(rng.choice(3 * BLOCK_ROWS, size=2 * BLOCK_ROWS, replace=False)) + 5 * BLOCK_ROWS
    else:
        rows = np.arange(2 * BLOCK_ROWS) + 5 * BLOCK_ROWS + 17
    values = np.asfortranarray(rng.normal(size=(len(rows), 4)))
    codes = rng.integers(0, groups, len(rows)) if groups else None
    total, grouped = replicate_sums(values, rows, codes, 300, seed=4)
    counts = poisson_counts(rows, 300, seed=4)
    scale = 1e-13 * (counts.T @ np.abs(values)).max()  # sums of signed terms: to the size of the terms, not of the sum
    np.testing.assert_allclose(total, counts.T @ values, rtol=1e-12, atol=scale)
    if codes is None:
        assert grouped is None
        return
    assert grouped is not None
    present, sums = grouped
    assert present.tolist() == sorted(set(codes.tolist()))
    for code, group_sums in zip(present.tolist(), sums, strict=True):
        expected = counts[codes == code].T @ values[codes == code]
        np.testing.assert_allclose(group_sums, expected, rtol=1e-12, atol=scale)


@pytest.mark.parametrize("chunk_rows", [1, 999, BLOCK_ROWS - 1, BLOCK_ROWS + 5])
def test_bootstrap_intervals_do_not_depend_on_the_chunking(tmp_path: Path, chunk_rows: int) -> None:
    path, _ = _data(tmp_path, n=2 * BLOCK_ROWS + 100 if chunk_rows > 1 else 300)

    def bounds(**kwargs: Any) -> list[float]:
        report = lossctl.evaluate(str(path), losses=["mse", "rmse"], weight="w", by=["g"], bootstrap=30, **kwargs)
        return [bound for r in report.results for bound in (r.ci["low"], r.ci["high"])]

    assert bounds(chunk_rows=chunk_rows) == pytest.approx(bounds(), rel=1e-12)


def test_group_replicates_recombine_into_the_overall_replicates() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    batch = pa.record_batch({"t": rng.normal(size=n), "p": rng.normal(size=n), "g": rng.integers(0, 7, n)})
    jobs = [Job(r, {"target": ["t"], "pred": ["p"]}) for r in build_requests(["mse", "mae"])]
    outcome = run(iter([batch]), Plan(jobs, by=["g"], bootstrap=25, seed=3), Options(chunk_rows=700))
    assert outcome.replicates is not None and outcome.group_replicates is not None
    for j in range(2):
        np.testing.assert_allclose(outcome.group_replicates[j].sum(axis=0), outcome.replicates[j], rtol=1e-12)
        np.testing.assert_allclose(outcome.group_stats[j].sum(axis=0), outcome.stats[j], rtol=1e-12)


# --- --ci without --bootstrap ---------------------------------------------------------------------------------


def _normal(center: float, se: float, level: float = 0.95) -> list[float]:
    z = NormalDist().inv_cdf((1 + level) / 2)
    return [center - z * se, center + z * se]


def test_normal_interval_of_a_mean_is_the_standard_error_of_the_mean(tmp_path: Path) -> None:
    path, data = _data(tmp_path)
    r = data["pred"] - data["target"]
    report = lossctl.evaluate(str(path), losses=["mae", "total=0.5*mae+0.5*mse"], ci=0.9)
    rows = {"mae": np.abs(r), "mse": r**2, "total": 0.5 * np.abs(r) + 0.5 * r**2}
    assert [result.loss for result in report.results] == list(rows)
    for result in report.results:
        per_row = rows[result.loss]
        expected = _normal(per_row.mean(), per_row.std(ddof=1) / np.sqrt(len(r)), 0.9)
        assert [result.ci["low"], result.ci["high"]] == pytest.approx(expected, rel=1e-9)
        assert result.ci["level"] == 0.9


def test_normal_interval_of_a_weighted_mean_and_of_a_root(tmp_path: Path) -> None:
    """The ratio estimator's standard error for sum(w l)/sum(w); the delta method for rmse's root."""
    path, data = _data(tmp_path)
    squared, w = (data["pred"] - data["target"]) ** 2, data["w"]
    n, mean = len(w), np.sum(w * squared) / np.sum(w)
    se = np.sqrt(n / (n - 1) * np.sum((w * (squared - mean)) ** 2)) / np.sum(w)
    report = lossctl.evaluate(str(path), losses=["mse", "rmse"], weight="w", ci=0.95)
    mse, rmse = report.results
    assert [mse.ci["low"], mse.ci["high"]] == pytest.approx(_normal(mean, se), rel=1e-12)
    assert [rmse.ci["low"], rmse.ci["high"]] == pytest.approx(
        _normal(np.sqrt(mean), se / (2 * np.sqrt(mean))), rel=1e-12
    )


@pytest.mark.parametrize("chunk_rows", [1, 7, 128])
def test_normal_intervals_do_not_depend_on_the_chunking(tmp_path: Path, chunk_rows: int) -> None:
    path, _ = _data(tmp_path)

    def bounds(**kwargs: Any) -> list[float]:
        report = lossctl.evaluate(str(path), losses=["mse", "rmse"], weight="w", by=["g"], ci=0.95, **kwargs)
        return [bound for r in report.results for bound in (r.ci["low"], r.ci["high"])]

    assert bounds(chunk_rows=chunk_rows) == pytest.approx(bounds(), rel=1e-12)


@pytest.mark.parametrize("chunk_rows", [1, 7, 64])
def test_normal_intervals_of_aggregates_do_not_depend_on_the_last_bits_of_the_sums(
    tmp_path: Path, chunk_rows: int
) -> None:
    """The gradient of the finalizer (numerical) amplified the sums' rounding, which the chunking moves: a weighted
    cross-entropy's bounds moved by 4e-12 relative between --chunk-rows 1 and one chunk."""
    rng = np.random.default_rng(5)
    n = 300
    columns = {f"logit_{k}": rng.normal(size=n) for k in range(4)}
    columns |= {"y": rng.integers(0, 4, n), "w": rng.uniform(0.1, 2, n), "g": rng.choice(np.array(["a", "b"]), n)}
    path = tmp_path / "mc.parquet"
    pq.write_table(pa.table(columns), path)

    def bounds(**kwargs: Any) -> list[float]:
        report = lossctl.evaluate(
            str(path), losses=["cross_entropy", "focal_multiclass"], pred="logit_*", target="y", weight="w",
            by=["g"], ci=0.9, **kwargs,
        )  # fmt: skip
        return [bound for r in report.results for bound in (r.ci["low"], r.ci["high"])]

    assert bounds(chunk_rows=chunk_rows) == pytest.approx(bounds(), rel=1e-12)


@pytest.mark.parametrize("weight", [None, "y_true"])
@pytest.mark.parametrize("key", ["segment", "id"])  # a few large groups; many groups of one row
def test_ci_leaves_every_groups_value_as_it_is(key: str, weight: str | None) -> None:
    # With --ci the group sums were taken in another order: sample_data's north mse was 128.40732351674646
    # with it and 128.4073235167465 without, under the same signature.
    models = Path(__file__).resolve().parents[1] / "sample_data" / "models.csv"

    def values(ci: float | None) -> list[float]:
        report = lossctl.evaluate(
            str(models), losses=["mse", "rmse"], pred="model_a", target="y_true", weight=weight, by=key, ci=ci
        )
        return [r.value for r in report.results]

    assert values(0.9) == values(None)


def test_group_intervals_are_each_groups_own(tmp_path: Path) -> None:
    path, data = _data(tmp_path)
    report = lossctl.evaluate(str(path), losses=["mae"], by=["g"], ci=0.95)
    for result in report.results[1:]:
        rows = np.abs(data["pred"] - data["target"])[data["g"] == result.group["g"]]
        expected = _normal(rows.mean(), rows.std(ddof=1) / np.sqrt(len(rows)))
        assert [result.ci["low"], result.ci["high"]] == pytest.approx(expected, rel=1e-9)


def test_each_output_of_multioutput_raw_has_its_own_normal_interval(cli: Any, tmp_path: Path) -> None:
    # --ci without --bootstrap on a multioutput=raw loss was a usage error ("no interval per output"), while
    # docs/cli.md gives --ci to every value. Output k's interval is that of its column evaluated alone.
    path, _ = _data(tmp_path)
    pq.write_table(pq.read_table(path).append_column("pred2", pa.array(np.linspace(-1, 1, 400))), path)
    common = [path, "--target", "target", "--by", "g", "--ci", "0.9", "-f", "json", "-q"]
    run = cli("eval", *common, "--pred", "pred,pred2", "-l", "mse:multioutput=raw,rmse:multioutput=raw")
    assert run.code == 0, run.err
    outputs = [(r["loss"], r["group"], r["ci"]) for r in json.loads(run.out)["results"]]
    alone = []
    for k, column in enumerate(["pred", "pred2"]):
        for r in json.loads(cli("eval", *common, "--pred", column, "-l", "mse,rmse").out)["results"]:
            alone.append((f"{r['loss']}[{k}]", r["group"], r["ci"]))
    order = {name: i for i, name in enumerate(["mse[0]", "mse[1]", "rmse[0]", "rmse[1]"])}
    alone.sort(key=lambda record: order[record[0]])  # stable: each loss's groups keep their order
    assert [(name, group) for name, group, _ in outputs] == [(name, group) for name, group, _ in alone]
    for (_, _, ci), (_, _, expected) in zip(outputs, alone, strict=True):
        assert [ci["low"], ci["high"], ci["level"]] == pytest.approx([expected["low"], expected["high"], 0.9], rel=1e-9)
    args = ["compare", path, "--model", "a=pred,pred2", "--model", "b=pred2,pred", *common[1:], "-l"]
    paired = json.loads(cli(*args, "mse:multioutput=raw").out)["results"]
    swapped = json.loads(cli("compare", path, "--model", "a=pred", "--model", "b=pred2", *common[1:], "-l", "mse").out)
    assert [r["ci"]["low"] for r in paired if r["loss"] == "mse[0]"] == pytest.approx(
        [r["ci"]["low"] for r in swapped["results"]], rel=1e-9
    )


def test_no_interval_is_null_and_a_notice_says_why(cli: Any, write: Any) -> None:
    path = write("p.csv", "pred,target,g\n1,1,a\n2,2,a\n5,3,b\n")
    run = cli("eval", path, "-l", "rmse,mae", "--by", "g", "--ci", "0.9", "-f", "json")
    assert run.code == 0, run.err
    records = {(r["loss"], json.dumps(r["group"])): r["ci"] for r in json.loads(run.out)["results"]}
    assert records[("mae", '{"g": "b"}')] is None and records[("rmse", '{"g": "b"}')] is None  # one row
    assert records[("mae", "null")]["level"] == 0.9
    assert run.err.splitlines()[2:] == [
        "notice: rmse: no confidence interval for 1 group (first: g=b): fewer than 2 rows",
        "notice: mae: no confidence interval for 1 group (first: g=b): fewer than 2 rows",
    ]


@pytest.mark.parametrize("weight", [None, "w"])
def test_a_root_at_0_of_rows_all_alike_has_the_interval_0_0(cli: Any, write: Any, weight: str | None) -> None:
    # Residuals all 0: the root's slope at 0 is infinite, but its statistic sum(w r^2) is 0 in every row, so the
    # delta method's variance is 0 (as every bootstrap replicate, and mse's [0, 0]). rmse's ci was null, with the
    # notice "the value has no finite derivative in its statistics".
    path = write("p.csv", "pred,target,w,g\n1,1,1,a\n2,2,3,a\n3,3,0.5,b\n4,5,1,b\n")
    options = ["--weight", weight] if weight else []
    run = cli("eval", path, "-l", "rmse,rmsle", "--by", "g", "--ci", "0.9", "-f", "json", "-q", *options)
    assert run.code == 0, run.err
    records = {(r["loss"], json.dumps(r["group"])): r for r in json.loads(run.out)["results"]}
    for loss in ("rmse", "rmsle"):
        assert records[(loss, '{"g": "a"}')]["value"] == 0.0
        assert records[(loss, '{"g": "a"}')]["ci"] == {"low": 0.0, "high": 0.0, "level": 0.9}
        assert records[(loss, '{"g": "b"}')]["ci"]["low"] < records[(loss, '{"g": "b"}')]["value"]
    bootstrap = cli("eval", path, "-l", "rmse", "--by", "g", "--ci", "0.9", "--bootstrap", "20", "-f", "json", "-q")
    assert json.loads(bootstrap.out)["results"][1]["ci"] == {"low": 0.0, "high": 0.0, "level": 0.9}


@pytest.mark.parametrize("chunk_rows", ["1", "7", "1000"])
def test_statistics_that_vary_together_have_the_interval_v_v(cli: Any, write: Any, chunk_rows: str) -> None:
    # Equal residuals under varying weights, queries of ranknet's equal pairs, a model against itself: the statistics
    # vary but the value does not, so the delta method's g^T Cov g is 0 up to rounding. Its square root gave
    # mse [0.0899999997875, 0.0900000002125] at --chunk-rows 1 but [0.09, 0.09] at 7, ranknet 0.85435524 -+ 1.4e-8,
    # compare's delta -+ 1.5e-19 (the bootstrap: [v, v] each).
    rng = np.random.default_rng(0)
    target, weight = rng.normal(size=300), rng.uniform(0.1, 5.0, 300)
    rows = "".join(f"{t!r},{t + 0.3!r},{w!r}\n" for t, w in zip(target.tolist(), weight.tolist(), strict=True))
    path = write("p.csv", "target,pred,w\n" + rows)
    options = ["-l", "mse,mae,rmse", "--weight", "w", "--ci", "0.95", "--chunk-rows", chunk_rows, "-f", "json"]
    for done in (cli("eval", path, *options), cli("compare", path, path, *options)):
        assert done.code == 0, done.err
        for record in json.loads(done.out)["results"]:
            value = record["delta"] if "delta" in record else record["value"]
            assert record["ci"] == {"low": value, "high": value, "level": 0.95}
    # one pair in query 1, two of the same cost in query 2: (l, 1) and (2 l, 2)
    ranking = write("r.csv", "pred,target,qid\n0.3,1,1\n0.6,0,1\n0.3,1,2\n0.6,0,2\n0.6,0,2\n")
    done = cli("eval", ranking, "-l", "ranknet", "--col", "qid=qid", "--ci", "0.95", "-f", "json")
    assert done.code == 0, done.err
    record = json.loads(done.out)["results"][0]
    assert record["value"] == pytest.approx(np.log1p(np.exp(0.3)), rel=1e-12)
    assert record["ci"] == {"low": record["value"], "high": record["value"], "level": 0.95}


@pytest.mark.parametrize("method", [["--ci", "0.95"], ["--bootstrap", "50"]])
def test_a_ranking_loss_with_one_query_holding_a_pair_has_no_interval(cli: Any, write: Any, method: list[str]) -> None:
    # ranknet's observations are the queries with a pair: query 2's tied relevances make none, so the value is
    # query 1's alone, and both methods gave the zero-width [v, v] where one row gets ci null ("fewer than 2 rows").
    path = write("r.csv", "pred,other,target,qid,g\n0.3,0.1,1,1,a\n0.6,0.2,0,1,a\n0.2,0.5,2,2,b\n0.1,0.3,2,2,b\n"
                 "0.5,0.5,1,3,b\n0.2,0.9,0,3,b\n")  # fmt: skip
    run = cli("eval", path, "-l", "ranknet,listnet", "--col", "qid=qid", "--pred", "pred", "--by", "g", *method,
              "-f", "json")  # fmt: skip
    assert run.code == 0, run.err
    records = {(r["loss"], json.dumps(r["group"])): r for r in json.loads(run.out)["results"]}
    assert records["ranknet", "null"]["ci"]["low"] < records["ranknet", "null"]["value"] < records["ranknet", "null"][
        "ci"]["high"]  # fmt: skip
    assert records["ranknet", '{"g": "a"}']["ci"] is None and records["ranknet", '{"g": "b"}']["ci"] is None
    assert records["listnet", '{"g": "b"}']["ci"] is not None  # listnet scores query 2 too: 2 queries in b
    assert "notice: ranknet: no confidence interval for 2 groups (first: g=a): fewer than 2 queries with a pair" in (
        run.err.splitlines()
    )
    # compare: the paired delta of one query with a pair against another model's
    run = cli("compare", path, "-l", "ranknet", "--col", "qid=qid", "--model", "a=pred", "--model", "b=other",
              "--by", "g", *method, "-f", "json")  # fmt: skip
    assert run.code == 0, run.err
    cis = {json.dumps(r["group"]): r["ci"] for r in json.loads(run.out)["results"]}
    assert cis['{"g": "a"}'] is None and cis['{"g": "b"}'] is None and cis["null"] is not None


def test_a_variance_that_overflows_gives_no_interval_not_nan(cli: Any, write: Any) -> None:
    # Finite losses of 2e160 have squares beyond float64: the interval would be nan - nan (JSON cannot hold it).
    path = write("p.csv", "pred,target,g\n1e160,-1e160,a\n0,1,a\n3,4,b\n5,5,b\n")
    run = cli("eval", path, "-l", "mae", "--by", "g", "--ci", "0.95", "-f", "json")
    assert run.code == 0, run.err
    records = {json.dumps(r["group"]): r for r in json.loads(run.out)["results"]}
    assert records["null"]["value"] == 5e159 and records["null"]["ci"] is None
    assert records['{"g": "a"}']["ci"] is None
    assert records['{"g": "b"}']["ci"]["low"] < 0.5 < records['{"g": "b"}']["ci"]["high"]
    assert run.err.splitlines()[2:] == [
        "notice: mae: no confidence interval for the overall value and 1 group (first: g=a): the squares of the "
        "losses or weights are beyond float64's range (rescale the inputs, or use --bootstrap)"
    ]


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_a_bootstrap_whose_replicate_sums_overflow_gives_no_interval(cli: Any, write: Any, command: str) -> None:
    # Losses of 6e307: a replicate that draws 3 or more rows sums beyond float64. Those replicates were left out, so
    # the interval came from the replicates that drew few rows: eval [5e307, 6e307], compare [-1e307, 0] (verdict
    # 'same') with no notice.
    path = write("p.csv", "y,pred\n0,6e307\n0,6e307\n0,5e307\n")
    files = [path] if command == "eval" else [path, write("c.csv", "y,pred\n0,5e307\n0,6e307\n0,5e307\n")]
    run = cli(command, *files, "--target", "y", "--pred", "pred", "-l", "mae", "--bootstrap", "50", "-f", "json")
    assert run.code == 0, run.err
    record = json.loads(run.out)["results"][0]
    assert record["ci"] is None and record.get("verdict", "better") == "better"
    label = "mae" if command == "eval" else "mae delta"
    assert run.err.splitlines()[-1:] == [
        f"notice: {label}: no confidence interval for the overall value: the sums of a bootstrap replicate overflow "
        "float64 (rescale the inputs)"
    ]


def test_a_normal_interval_of_one_row_with_weight_is_null(cli: Any, write: Any) -> None:
    # Rows of weight 0 add nothing: with one weighted row the value is that row's loss, and the interval came out
    # [value, value] (its variance computed as 0), as if one observation had no uncertainty.
    path = write("p.csv", "y,pred,w,g\n1,1.5,1,a\n2,2,0,a\n3,2,2,b\n4,6,1,b\n5,5,1,b\n")
    run = cli("eval", path, "--target", "y", "--pred", "pred", "--weight", "w", "-l", "mse,rmse", "--by", "g",
              "--ci", "0.9", "-f", "json")  # fmt: skip
    assert run.code == 0, run.err
    records = {(r["loss"], json.dumps(r["group"])): r["ci"] for r in json.loads(run.out)["results"]}
    assert records[("mse", '{"g": "a"}')] is None and records[("rmse", '{"g": "a"}')] is None
    assert records[("mse", '{"g": "b"}')]["low"] < records[("mse", '{"g": "b"}')]["high"]
    assert records[("mse", "null")]["low"] < records[("mse", "null")]["high"]
    assert run.err.splitlines() == [
        "notice: mse: no confidence interval for 1 group (first: g=a): fewer than 2 rows with a nonzero weight",
        "notice: rmse: no confidence interval for 1 group (first: g=a): fewer than 2 rows with a nonzero weight",
    ]
    run = cli("compare", path, path, "--target", "y", "--pred", "pred", "--weight", "w", "-l", "mse", "--by", "g",
              "--ci", "0.9", "-q", "-f", "json")  # fmt: skip
    cis = {json.dumps(r["group"]): r["ci"] for r in json.loads(run.out)["results"]}
    assert cis['{"g": "a"}'] is None and cis["null"] is not None


def test_ci_defaults_to_no_interval_without_bootstrap(tmp_path: Path) -> None:
    path, _ = _data(tmp_path)
    assert lossctl.evaluate(str(path), losses=["mse"]).results[0].ci is None
    with_bootstrap = lossctl.evaluate(str(path), losses=["mse"], bootstrap=20)
    assert with_bootstrap.results[0].ci["level"] == 0.95


def test_a_bootstrap_of_one_row_has_no_interval(cli: Any, write: Any) -> None:
    path = write("p.csv", "y_true,y_pred,g\n1,2,a\n2,2.5,a\n3,5,b\n")
    run = cli("eval", path, "-l", "mse", "--by", "g", "--bootstrap", "200", "-f", "json")
    assert run.code == 0, run.err
    records = {json.dumps(r["group"]): r["ci"] for r in json.loads(run.out)["results"]}
    assert records['{"g": "b"}'] is None  # resampling one row always gives that row: not an interval
    assert records['{"g": "a"}']["low"] < records['{"g": "a"}']["high"]
    assert "notice: mse: no confidence interval for 1 group (first: g=b): fewer than 2 rows" in run.err.splitlines()


@pytest.mark.parametrize("chunk_rows", ["1", "1000"])
def test_a_bootstrap_of_one_row_with_weight_has_no_interval(cli: Any, write: Any, chunk_rows: str) -> None:
    # Rows of weight 0 add nothing to a replicate: the others resampled, every replicate held the one weighted
    # row's loss, and the interval was [value, value].
    path = write("p.csv", "y,pred,w,g\n1,1.5,1,a\n2,2,0,a\n3,2,2,b\n4,6,1,b\n5,5,0,b\n")
    args = ["--target", "y", "--pred", "pred", "--weight", "w", "-l", "mse", "--by", "g", "--bootstrap", "200"]
    run = cli("eval", path, *args, "--chunk-rows", chunk_rows, "-f", "json")
    assert run.code == 0, run.err
    records = {json.dumps(r["group"]): r["ci"] for r in json.loads(run.out)["results"]}
    assert records['{"g": "a"}'] is None
    assert records['{"g": "b"}']["low"] < records['{"g": "b"}']["high"]
    assert records["null"]["low"] < records["null"]["high"]
    assert run.err.splitlines() == [
        "notice: mse: no confidence interval for 1 group (first: g=a): fewer than 2 rows with a nonzero weight",
        "notice: mse: bootstrap replicates that drew none of the rows with a nonzero weight have no value and are "
        "left out of the interval: 7 of 200 for the overall value and 28 of 200 in group g=b",
    ]
    compared = cli("compare", path, path, *args, "--chunk-rows", chunk_rows, "-q", "-f", "json")
    cis = {json.dumps(r["group"]): r["ci"] for r in json.loads(compared.out)["results"]}
    assert cis['{"g": "a"}'] is None and cis["null"] is not None
    alone = write("one.csv", "y,pred,w\n1,1.5,0\n2,2,3\n3,2,0\n")
    run = cli("eval", alone, *args[:-4], "--bootstrap", "200", "-f", "json")
    assert json.loads(run.out)["results"][0]["ci"] is None
    assert run.err.splitlines() == [
        "notice: mse: no confidence interval for the overall value: fewer than 2 rows with a nonzero weight"
    ]


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_under_keras_rows_of_weight_0_are_observations_in_both_intervals(cli: Any, write: Any, command: str) -> None:
    # Keras' mean is sum(w*l)/n over every row. A group of one nonzero weight among 4 rows had ci null ("fewer than
    # 2 rows with a nonzero weight") where sd(w*l)/sqrt(n) over its 4 rows gives one, and a group of weights 0 only
    # had [0, 0] under --ci but null under --bootstrap.
    path = write("g.csv", "y,pred,w,g\n1,2,1,a\n2,4,0,a\n3,3,0,a\n1,1,0,a\n5,2,1,b\n2,2,1,b\n0,0,0,c\n1,0,0,c\n")
    files = [path] * (1 if command == "eval" else 2)
    args = ["--target", "y", "--pred", "pred", "--weight", "w", "-l", "mse", "--by", "g", "--convention", "keras"]
    normal = cli(command, *files, *args, "--ci", "0.9", "-f", "json")
    assert (normal.code, normal.err) == (0, "")
    cis = {json.dumps(r["group"]): r["ci"] for r in json.loads(normal.out)["results"]}
    if command == "eval":
        products = np.array([1.0, 0.0, 0.0, 0.0])  # w * l of group a's rows
        half = NormalDist().inv_cdf(0.95) * products.std(ddof=1) / 2
        assert [cis['{"g": "a"}']["low"], cis['{"g": "a"}']["high"]] == pytest.approx([0.25 - half, 0.25 + half])
        assert (cis['{"g": "c"}']["low"], cis['{"g": "c"}']["high"]) == (0.0, 0.0)
    else:  # a model against itself: deltas of 0
        assert all(ci is not None and ci["low"] == ci["high"] == 0 for ci in cis.values())
    boot = cli(command, *files, *args, "--bootstrap", "200", "--seed", "1", "-f", "json")
    assert boot.code == 0, boot.err
    cis = {json.dumps(r["group"]): r["ci"] for r in json.loads(boot.out)["results"]}
    assert all(ci is not None for ci in cis.values()), boot.err
    if command == "eval":
        assert cis['{"g": "a"}']["low"] == 0.0 < cis['{"g": "a"}']["high"]  # replicates of row 0 drawn 0, 1, 2... times
        assert (cis['{"g": "c"}']["low"], cis['{"g": "c"}']["high"]) == (0.0, 0.0)
    assert "with a nonzero weight" not in boot.err


def test_a_weighted_sum_counts_rows_of_weight_0_as_observations_in_both_intervals(cli: Any, write: Any) -> None:
    # --reduction sum's sum(w*l) does not divide by the weight sum either: a group of one nonzero weight among 4 rows
    # had ci null ("fewer than 2 rows with a nonzero weight") where n * var(w*l) over its 4 rows gives one, and a
    # group of weights 0 only [0, 0] under --ci but null under --bootstrap.
    path = write("g.csv", "y,pred,w,g\n1,2,1,a\n2,4,0,a\n3,3,0,a\n1,1,0,a\n5,2,1,b\n2,2,1,b\n0,0,0,c\n1,0,0,c\n")
    args = ["--target", "y", "--pred", "pred", "--weight", "w", "-l", "mse", "--by", "g", "--reduction", "sum"]
    normal = cli("eval", path, *args, "--ci", "0.9", "-f", "json")
    assert (normal.code, normal.err) == (0, "")
    cis = {json.dumps(r["group"]): r["ci"] for r in json.loads(normal.out)["results"]}
    half = NormalDist().inv_cdf(0.95) * np.sqrt(4 * np.var([1.0, 0.0, 0.0, 0.0], ddof=1))
    assert [cis['{"g": "a"}']["low"], cis['{"g": "a"}']["high"]] == pytest.approx([1 - half, 1 + half])
    boot = cli("eval", path, *args, "--bootstrap", "200", "--seed", "1", "-f", "json")
    assert boot.code == 0, boot.err
    cis = {json.dumps(r["group"]): r["ci"] for r in json.loads(boot.out)["results"]}
    assert cis['{"g": "a"}']["low"] == 0.0 < cis['{"g": "a"}']["high"]
    assert (cis['{"g": "c"}']["low"], cis['{"g": "c"}']["high"]) == (0.0, 0.0)
    assert "with a nonzero weight" not in boot.err


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_replicates_left_out_of_a_bootstrap_interval_are_counted_in_a_notice(
    cli: Any, write: Any, command: str
) -> None:
    # 3 weighted rows among 33: a replicate drawing none of the 3 has the value 0/0, and such replicates were left
    # out of the percentile interval without a word (a notice came only when every replicate was).
    rows = "".join(f"{i % 5},{i % 3},0,{'ab'[i % 2]}\n" for i in range(30))
    text = "y,pred,w,g\n1,2,1,a\n2,4,2,a\n3,3,1,b\n" + rows
    files = [write("p.csv", text)] * (1 if command == "eval" else 2)
    args = ["--target", "y", "--pred", "pred", "--weight", "w", "-l", "mse,mae", "--bootstrap", "200", "--seed", "3"]
    run = cli(command, *files, *args, "-f", "json")
    assert run.code == 0, run.err
    expected = []
    for loss in ("mse", "mae"):
        label = loss if command == "eval" else f"{loss} delta"
        # The replicates of no weighted row: those drawing rows 0, 1 and 2 0 times each
        left_out = int((poisson_counts(np.arange(3), 200, 3) == 0).all(axis=0).sum())
        assert 0 < left_out < 200
        expected.append(
            f"notice: {label}: bootstrap replicates that drew none of the rows with a nonzero weight have no value "
            f"and are left out of the interval: {left_out} of 200 for the overall value"
        )
    assert run.err.splitlines() == expected
    assert all(record["ci"] is not None for record in json.loads(run.out)["results"])


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_a_group_no_replicate_drew_has_a_null_interval_and_a_notice(cli: Any, write: Any, command: str) -> None:
    # Seed 60 draws rows 4 and 5 (group c) 0 times in both replicates: its replicate values are all 0/0, and its
    # ci was null with no notice saying why (the overall value's notice covered only the overall value).
    assert not poisson_counts(np.arange(6), 2, 60)[4:].any()
    path = write("p.csv", "y,pred,g\n1,2,a\n2,2,a\n3,5,a\n4,3,b\n5,9,c\n6,9,c\n")
    files = (
        [path]
        if command == "eval"
        else [path, write("c.csv", "y,pred,g\n1,2,a\n2,2.5,a\n3,5,a\n4,3,b\n5,9,c\n6,8,c\n")]
    )
    args = ["--target", "y", "--pred", "pred", "-l", "mse", "--by", "g", "--bootstrap", "2", "--seed", "60"]
    run = cli(command, *files, *args, "-f", "json")
    assert run.code == 0, run.err
    cis = {json.dumps(r["group"]): r["ci"] for r in json.loads(run.out)["results"]}
    assert cis['{"g": "c"}'] is None and cis['{"g": "a"}'] is not None
    label = "mse" if command == "eval" else "mse delta"
    assert run.err.splitlines() == [
        f"notice: {label}: no confidence interval for 1 group (first: g=b): fewer than 2 rows",
        f"notice: {label}: no confidence interval for 1 group (first: g=c): no bootstrap replicate has a value "
        "(each drew too few of its rows)",
    ]


def _two_models(tmp_path: Path, n: int = 300) -> tuple[Path, Path, dict[str, np.ndarray]]:
    rng = np.random.default_rng(5)
    y = rng.normal(size=n)
    base, cand = y + rng.normal(size=n), y + 0.8 * rng.normal(size=n)
    g = rng.choice(np.array(["a", "b"]), n)
    pq.write_table(pa.table({"target": y, "pred": base, "g": g}), tmp_path / "base.parquet")
    pq.write_table(pa.table({"target": y, "pred": cand, "g": g}), tmp_path / "cand.parquet")
    return tmp_path / "base.parquet", tmp_path / "cand.parquet", {"y": y, "base": base, "cand": cand, "g": g}


def _mean_interval(values: np.ndarray, level: float) -> list[float]:
    """The mean of ``values`` -+ z times its standard error."""
    return _normal(values.mean(), values.std(ddof=1) / np.sqrt(len(values)), level)


@pytest.mark.parametrize("chunk_rows", [None, 7])
def test_compare_ci_without_bootstrap_is_the_paired_normal_interval(tmp_path: Path, chunk_rows: int | None) -> None:
    base, cand, d = _two_models(tmp_path)
    report = lossctl.compare(base, cand, losses="mse,mae,rmse", by="g", ci=0.9, chunk_rows=chunk_rows)
    e_base, e_cand = d["base"] - d["y"], d["cand"] - d["y"]
    for result in report.results:
        rows = np.ones(len(d["y"]), bool) if result.group is None else d["g"] == result.group["g"]
        b, c = e_base[rows], e_cand[rows]
        if result.loss == "mse":  # the standard error of the mean of the per-row differences
            expected = _mean_interval(c**2 - b**2, 0.9)
        elif result.loss == "mae":
            expected = _mean_interval(np.abs(c) - np.abs(b), 0.9)
        else:  # the delta method: sqrt(mean) linearised, d sqrt(m) = dm / (2 sqrt(m)), per model
            rmse_b, rmse_c = np.sqrt(np.mean(b**2)), np.sqrt(np.mean(c**2))
            linear = _mean_interval(c**2 / (2 * rmse_c) - b**2 / (2 * rmse_b), 0.9)
            centre = (linear[0] + linear[1]) / 2
            expected = [bound - centre + (rmse_c - rmse_b) for bound in linear]
        assert [result.ci["low"], result.ci["high"]] == pytest.approx(expected, rel=1e-6), result.label
        assert result.ci["level"] == 0.9
        assert result.verdict == "better"  # by the 1e-12 rule: only the bootstrap's interval sets the verdict


def test_compare_ci_without_bootstrap_in_csv_and_significant(cli, tmp_path: Path) -> None:
    base, cand, _ = _two_models(tmp_path)
    run = cli("compare", base, cand, "-l", "mse", "--ci", "0.9", "-f", "csv")
    assert run.code == 0 and run.out.splitlines()[1].split(",")[7:9] != ["", ""]
    # The normal interval is a paired interval too: --significant takes it.
    worse = cli("compare", cand, base, "-l", "mse", "--ci", "0.95", "--fail-if-worse", "0", "--significant",
                "-f", "json")  # fmt: skip
    doc = json.loads(worse.out)
    assert worse.code == 1 and doc["results"][0]["ci"]["low"] > 0 and doc["checks"][0]["passed"] is False
    # Below 2 rows there is no interval, and a notice says why.
    (tmp_path / "one.csv").write_text("target,pred\n1,2\n")
    run = cli("compare", tmp_path / "one.csv", tmp_path / "one.csv", "-l", "mse", "--ci", "0.9", "-f", "json")
    assert json.loads(run.out)["results"][0]["ci"] is None
    assert "notice: mse delta: no confidence interval for the overall value: fewer than 2 rows\n" in run.err


@pytest.mark.parametrize("interval", [["--ci", "0.9"], ["--bootstrap", "50"]])
def test_a_significant_gate_without_an_interval_says_why_it_passed(cli, write, interval: list[str]) -> None:
    # One row has no interval of the delta: a candidate worse by 800% passed 'worse by > 1% (significant)', exit 0,
    # with a record (and, under --quiet, a line) that gave no reason: {"value": 8.0, "threshold": 0.01, "passed": true}.
    base, worse = write("b.csv", "target,pred\n0,1\n"), write("c.csv", "target,pred\n0,3\n")
    args = ["compare", base, worse, "-l", "mse", *interval, "--fail-if-worse", "1", "--significant", "-q"]
    run = cli(*args, "-f", "json")
    (check,) = json.loads(run.out)["checks"]
    assert run.code == 0 and (check["value"], check["passed"]) == (8.0, True)
    assert check["note"] == "the delta has no interval: not counted as significant"
    assert cli(*args).out.endswith(
        "check mse worse by > 1% (significant): mse = +800.00% (the delta has no interval: not counted as "
        "significant) passed\n"
    )
    assert "note" not in json.loads(cli(*args[:-2], "-q", "-f", "json").out)["checks"][0]  # not significant: no note
    zero = write("z.csv", "target,pred\n0,0\n")  # over a baseline of 0 the note says both
    (check,) = json.loads(cli("compare", zero, *args[2:], "-f", "json").out)["checks"]
    assert (check["value"], check["passed"]) == (None, True)
    assert check["note"] == (
        "the baseline is 0: worse by an unbounded percent; the delta has no interval: not counted as significant"
    )


@pytest.mark.parametrize(
    ("level", "header"),
    [
        ("0.999", "99.9% interval"),
        ("0.975", "97.5% interval"),
        ("0.9", "90% interval"),
        ("0.9999999", "99.99999% interval"),  # read '100% interval' (level * 100 to 6 digits)
        ("0.1", "10% interval"),
        ("1e-9", "0.0000001% interval"),
    ],
)
def test_the_tables_interval_header_gives_the_level_in_full(
    cli: Any, tmp_path: Path, monkeypatch: Any, level: str, header: str
) -> None:
    # The header rounded the level to a percent: --ci 0.999 read '100% interval', 0.975 '98% interval'; with models
    # side by side it said 'interval' without a level.
    monkeypatch.setenv("COLUMNS", "200")  # room for the models side by side
    path, _ = _data(tmp_path, n=20)
    run = cli("eval", path, "--target", "target", "--pred", "pred", "-l", "mse", "--ci", level, "-q")
    assert run.code == 0 and header in run.out.splitlines()[2], run.out
    run = cli(
        "eval", path, "--target", "target", "--model", "a=pred", "--model", "b=w", "-l", "mse", "--ci", level, "-q"
    )
    assert run.code == 0 and run.out.splitlines()[2].count(header) == 2, run.out


def test_a_notice_of_no_interval_spells_the_key_as_the_command_line_does(cli: Any, write: Any) -> None:
    # It printed Python's spelling: '(first: g=None, b=True)', where the tables and errors say g=(missing), b=true.
    path = write("p.csv", "pred,target,g,b\n1,2,,true\n2,2,a,false\n3,1,a,false\n")
    run = cli("eval", path, "-l", "mse", "--by", "g", "--by", "b", "--ci", "0.9", "-f", "csv")
    assert run.code == 0, run.err
    assert (
        run.err.splitlines()[-1]
        == "notice: mse: no confidence interval for 1 group (first: g=(missing), b=true): fewer than 2 rows"
    )


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_a_normal_interval_at_a_level_next_to_1(cli: Any, write: Any, command: str) -> None:
    """``--ci 0.9999999999999999`` is below 1, but ``(1 + level) / 2`` rounds to 1.0: the normal quantile of it
    ended the run as an internal error (exit 4, "StatisticsError: p must be in the range 0.0 < p < 1.0")."""
    path = write("p.csv", "pred,target\n1,1\n2,3\n3,5\n")
    level = "0.9999999999999999"
    files = [path, path] if command == "compare" else [path]
    run = cli(command, *files, "-l", "mse", "--ci", level, "--format", "json", "-q")
    assert (run.code, run.err) == (0, "")
    result = json.loads(run.out)["results"][0]
    if command == "compare":  # the deltas are all 0: an interval of width 0
        assert result["ci"] == {"low": 0.0, "high": 0.0, "level": float(level)}
        return
    z = -NormalDist().inv_cdf((1 - float(level)) / 2)  # 8.29
    se = np.std([0.0, 1.0, 4.0], ddof=1) / np.sqrt(3)
    expected = [5 / 3 - z * se, 5 / 3 + z * se]
    assert [result["ci"]["low"], result["ci"]["high"]] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("command", "label"), [("eval", "mse[{}]"), ("compare", "mse[{}] delta")])
def test_outputs_without_an_interval_share_one_notice(cli: Any, write: Any, command: str, label: str) -> None:
    """One row of 300 outputs under multioutput=raw printed 300 notices, one per output, where the groups of a
    --by share one ("for 300 groups (first: ...)")."""
    names = [f"p{k}" for k in range(300)] + [f"t{k}" for k in range(300)]
    path = write("p.csv", ",".join(names) + "\n" + ",".join(["1"] * 300 + ["2"] * 300) + "\n")
    files = [path, path] if command == "compare" else [path]
    args = ["-l", "mse:multioutput=raw,mae", "--pred", "p*", "--target", "t*", "--ci", "0.9", "-f", "csv"]
    run = cli(command, *files, *args)
    assert run.code == 0
    reason = "no confidence interval for the overall value: fewer than 2 rows"
    first, last = label.format(0), label.format(299)
    mae = "mae delta" if command == "compare" else "mae"
    expected = [f"notice: {first} to {last} (300 outputs): {reason}", f"notice: {mae}: {reason}"]
    assert run.err.splitlines() == expected


# --- ranking losses: the query is the unit ------------------------------------------------------------------------


def _queries_file(tmp_path: Path, contiguous: bool = True) -> tuple[Path, dict[str, np.ndarray]]:
    """14 queries of 1 to 5 documents, contiguous (else shuffled: the input is held); group k holds the one query
    133."""
    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 6, 14)
    qid = np.repeat(np.arange(14) * 10 + 3, sizes)
    qid = qid if contiguous else rng.permutation(qid)
    n = len(qid)
    kind = np.where(qid == 133, "k", np.where(qid % 20 == 3, "a", "b"))
    data = {"qid": qid, "rel": rng.integers(0, 3, n).astype(float), "score": rng.normal(size=n), "kind": kind}
    path = tmp_path / "rank.parquet"
    pq.write_table(pa.table(data), path)
    return path, data


def _query_losses(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each query's first row, listnet loss, ranknet loss total and ranknet pair count, by plain loops."""
    firsts, listnet, ranknet, pairs = [], [], [], []
    for q in dict.fromkeys(data["qid"].tolist()):
        rows = np.flatnonzero(data["qid"] == q)
        x, y = data["score"][rows], data["rel"][rows]
        firsts.append(rows[0])
        listnet.append(-np.sum(np.exp(y) / np.exp(y).sum() * (x - np.log(np.exp(x).sum()))))
        ordered = [(i, j) for i in range(len(x)) for j in range(len(x)) if y[i] > y[j]]
        ranknet.append(sum(np.log1p(np.exp(-(x[i] - x[j]))) for i, j in ordered))
        pairs.append(len(ordered))
    return np.array(firsts), np.array(listnet), np.array(ranknet), np.array(pairs, dtype=float)


@pytest.mark.parametrize("contiguous", [True, False])
def test_a_ranking_bootstrap_resamples_queries(tmp_path: Path, contiguous: bool) -> None:
    """One Poisson count per query, the count its first row has, applied to each of its rows: the replicate values
    are those of the queries resampled by hand with those counts, streamed or held (a count per row gave listnet on
    sample_data/ranking.csv [1.589, 1.734] for the queries' [1.491, 1.831])."""
    path, data = _queries_file(tmp_path, contiguous)
    firsts, listnet, ranknet, pairs = _query_losses(data)
    counts = poisson_counts(firsts, 80, seed=6)
    kinds = data["kind"][firsts]
    report = lossctl.evaluate(str(path), losses=["listnet", "ranknet"], pred="score", target="rel",
                              cols={"qid": "qid"}, by=["kind"], bootstrap=80, seed=6)  # fmt: skip
    for result in report.results:
        mine = np.ones(len(firsts), bool) if result.group is None else kinds == result.group["kind"]
        k = counts[mine]
        with np.errstate(invalid="ignore"):  # a replicate that drew none of the group's queries has no value
            if result.loss == "listnet":
                direct = (k.T @ listnet[mine]) / k.sum(axis=0)
            else:
                direct = (k.T @ ranknet[mine]) / (k.T @ pairs[mine])
        if mine.sum() < 2:  # group k, one query: every replicate holds it
            assert result.ci is None
            continue
        assert [result.ci["low"], result.ci["high"]] == pytest.approx(
            _percentiles(direct[np.isfinite(direct)]), rel=1e-12
        ), (result.loss, result.group)


def test_a_ranking_normal_interval_is_the_standard_error_over_queries(tmp_path: Path) -> None:
    """listnet's interval is the standard error of the mean of the query losses, ranknet's the ratio estimator's
    over the queries' loss totals and pair counts, and a per-row loss of the same run is clustered by query too."""
    path, data = _queries_file(tmp_path)
    firsts, listnet, ranknet, pairs = _query_losses(data)
    q = len(firsts)
    report = lossctl.evaluate(str(path), losses=["listnet", "ranknet", "mse"], pred="score", target="rel",
                              cols={"qid": "qid"}, ci=0.9)  # fmt: skip
    by_loss = {result.loss: result for result in report.results}
    ratio = ranknet.sum() / pairs.sum()
    squares = np.add.reduceat((data["score"] - data["rel"]) ** 2, firsts)
    sizes = np.diff(np.append(firsts, len(data["qid"])))
    mse = squares.sum() / sizes.sum()
    expected = {
        "listnet": _normal(listnet.mean(), listnet.std(ddof=1) / np.sqrt(q), 0.9),
        "ranknet": _normal(ratio, np.sqrt(q / (q - 1) * np.sum((ranknet - ratio * pairs) ** 2)) / pairs.sum(), 0.9),
        "mse": _normal(mse, np.sqrt(q / (q - 1) * np.sum((squares - mse * sizes) ** 2)) / sizes.sum(), 0.9),
    }
    for loss, bounds in expected.items():
        ci = by_loss[loss].ci
        assert ci is not None and [ci["low"], ci["high"]] == pytest.approx(bounds, rel=1e-9), loss


def test_ranking_intervals_do_not_depend_on_the_chunking_nor_on_the_files(tmp_path: Path) -> None:
    path, _ = _queries_file(tmp_path)
    table = pq.read_table(path)
    folder = tmp_path / "parts"
    folder.mkdir()
    pq.write_table(table.slice(0, 20), folder / "0.parquet")  # cuts a query: the files' rows are one input
    pq.write_table(table.slice(20), folder / "1.parquet")
    options = {"losses": ["listnet", "ranknet"], "pred": "score", "target": "rel", "cols": {"qid": "qid"},
               "by": ["kind"]}  # fmt: skip
    for interval in ({"bootstrap": 40, "seed": 2}, {"ci": 0.95}):

        def bounds(source: Path, interval: dict[str, Any] = interval, **kwargs: Any) -> list[Any]:
            report = lossctl.evaluate(str(source), **options, **interval, **kwargs)
            return [None if r.ci is None else (r.ci["low"], r.ci["high"]) for r in report.results]

        expected = bounds(path)
        assert sum(ci is not None for ci in expected) == 6  # all but group k's two
        for found in (bounds(path, chunk_rows=2), bounds(path, chunk_rows=3), bounds(folder)):
            assert found == [pytest.approx(ci, rel=1e-12) if ci else None for ci in expected]


@pytest.mark.parametrize("interval", [["--bootstrap", "50"], ["--ci", "0.9"]])
def test_a_group_of_one_query_has_no_interval(cli: Any, write: Any, interval: list[str]) -> None:
    """Group a holds one query of two documents: no interval and a notice, as a group of one row (the per-row
    draws gave it the zero-width [0.744, 0.744])."""
    rows = "1,1,0.5,a\n1,0,0.7,a\n2,1,0.2,b\n2,0,0.1,b\n2,2,0.3,b\n3,1,0.9,b\n3,0,0.1,b\n"
    path = write("q.csv", "qid,rel,score,g\n" + rows)
    args = ["--pred", "score", "--target", "rel", "--col", "qid=qid", "-l", "listnet", "--by", "g", "-f", "json"]
    run = cli("eval", path, *args, *interval)
    assert run.code == 0
    results = {(r["group"] or {}).get("g"): r["ci"] for r in json.loads(run.out)["results"]}
    assert results["a"] is None and results[None] is not None and results["b"] is not None
    first, *rest = run.err.splitlines()
    assert first == "notice: listnet: no confidence interval for 1 group (first: g=a): fewer than 2 queries"
    # with --bootstrap, replicates that drew neither of b's two queries (of the three overall) have no value
    left_out = (
        "notice: listnet: bootstrap replicates that drew none of the queries have no value and are left out of the "
        "interval: 6 of 50 for the overall value and 7 of 50 in group g=b"
    )
    assert rest == ([left_out] if "--bootstrap" in interval else [])


def test_normal_intervals_of_many_outputs_share_one_overall_covariance(cli, tmp_path: Path, monkeypatch) -> None:
    """multioutput=raw over K outputs made the overall (K+3) x (K+3) covariance once per output: K times, 7 s for
    1000 outputs of 5 rows. It is made once; the intervals are those of the covariance made per output."""
    from lossctl.engine import Outcome

    made = []
    covariance = Outcome.covariance
    monkeypatch.setattr(Outcome, "covariance", lambda self, *a, **k: made.append(a) or covariance(self, *a, **k))
    rng = np.random.default_rng(0)
    target, pred = rng.normal(size=(30, 40)), rng.normal(size=(30, 40))
    pq.write_table(pa.table({"p": list(pred), "t": list(target)}), tmp_path / "w.parquet")
    run = cli("eval", tmp_path / "w.parquet", "--pred", "p", "--target", "t", "-l", "mse:multioutput=raw",
              "--ci", "0.9", "-f", "json")  # fmt: skip
    results = json.loads(run.out)["results"]
    assert run.code == 0 and len(results) == 40 and len(made) == 1
    losses = (pred - target) ** 2
    half = NormalDist().inv_cdf(0.95) * losses.std(axis=0, ddof=1) / np.sqrt(30)
    assert [r["ci"]["low"] for r in results] == pytest.approx(losses.mean(axis=0) - half, rel=1e-9)
    assert [r["ci"]["high"] for r in results] == pytest.approx(losses.mean(axis=0) + half, rel=1e-9)


def test_the_table_never_shows_a_narrow_interval_as_one_number(cli: Any, tmp_path: Path) -> None:
    # The interval of a large, steady run read "0.5 - 0.5" (6 digits), and compare's delta interval "+1 - +1"
    # (4 digits) for one of 1 ± 1e-7: an interval of no width. Its bounds now get the digits that tell them apart
    # (here [0.49999987, 0.50000006] and [0.99999989, 1.00000008]).
    rng = np.random.default_rng(0)
    a = 0.5 + rng.normal(scale=1e-6, size=400)
    b = a + 1 + rng.normal(scale=1e-6, size=400)
    path = tmp_path / "narrow.parquet"
    pq.write_table(pa.table({"y": np.zeros(400), "a": a, "b": b}), path)
    run = cli("eval", path, "--target", "y", "--pred", "a", "-l", "mae", "--ci", "0.95", "-q")
    assert "│ 0.4999999 – 0.5000001 │" in run.out
    run = cli("compare", path, "--model", "a=a", "--model", "b=b", "--target", "y", "-l", "mae", "--ci", "0.95", "-q")
    assert "│ +0.9999999 – +1 │" in run.out
