"""The ranking losses: golden references, hand-computed values, queries, weights and chunks, domain and
parameter errors, and properties.

The golden cases come from tests/reference/generate_ranking.py (torch MarginRankingLoss in float64; ranknet
and listnet written out there as plain Python loops over pairs and queries); each must agree to 1e-9 relative.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossctl
from lossctl.aggregates import RATIO
from lossctl.errors import DomainError, InputError, UsageError
from lossctl.losses.ranking import PAIRS_RATIO
from lossctl.stats import weighted_sums
from tests.golden import load_cases

CASES = load_cases("ranking")
RTOL = 1e-9


def assert_close(actual: float, expected: float) -> None:
    """1e-9 relative; an expected 0 is compared absolutely (1e-12)."""
    if expected == 0.0:
        assert abs(actual) <= 1e-12, f"{actual!r} != 0"
    else:
        assert abs(actual - expected) <= RTOL * abs(expected), f"{actual!r} != {expected!r}"


def role_arrays(case: dict[str, Any]) -> list[Any]:
    return [case["inputs"][role] for role in lossctl.get(case["loss"]).role_names]


# --- golden references -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden(case: dict[str, Any]) -> None:
    spec = lossctl.get(case["loss"])
    value = spec(
        *role_arrays(case),
        sample_weight=case["sample_weight"],
        reduction=case["reduction"],
        convention=case["convention"],
        **case["params"],
    )
    assert_close(value, case["expected"])
    if case["expected_per_sample"] is not None:
        rows = spec.per_sample(*role_arrays(case), convention=case["convention"], **case["params"])
        assert len(rows) == len(case["expected_per_sample"])
        for actual, expected in zip(rows, case["expected_per_sample"], strict=True):
            assert_close(float(actual), expected)


def test_every_loss_and_convention_has_a_golden_case() -> None:
    covered = {(lossctl.get(case["loss"]).name, case["convention"]) for case in CASES}
    for spec in lossctl.list_losses("ranking"):
        for convention in ("lossctl", *spec.conventions):
            assert (spec.name, convention) in covered, f"no golden case for {spec.name} --convention {convention}"


def test_the_ranking_losses_are_registered() -> None:
    assert lossctl.get("pairwise_logistic") is lossctl.get("ranknet")
    margin_ranking = lossctl.get("margin_ranking")
    assert margin_ranking.role_names == ("pred", "other", "target")
    assert set(margin_ranking.conventions) == {"torch"}
    assert margin_ranking.per_row and not margin_ranking.whole_input
    for name in ("ranknet", "listnet"):
        spec = lossctl.get(name)
        assert spec.role_names == ("target", "pred", "qid"), name
        assert all(role.shape == "scalar" for role in spec.roles), name
        assert spec.whole_input and not spec.per_row, name
        assert spec.aggregate is (PAIRS_RATIO if name == "ranknet" else RATIO), name
        assert spec.pairwise == (name == "ranknet"), name
        assert spec.conventions == {}, name
    for spec in lossctl.list_losses("ranking"):
        assert spec.doc and "Example" in spec.doc, spec.name


# --- hand-computed values ----------------------------------------------------------------------------------------


def test_margin_ranking_by_hand() -> None:
    # y = 1: max(0, -(2 - 1) + 0) = 0; y = -1: max(0, (2 - 1) + 0) = 1; with margin 2: 1 and 3.
    margin_ranking = lossctl.get("margin_ranking")
    np.testing.assert_array_equal(margin_ranking.per_sample([2, 2], [1, 1], [1, -1]), [0.0, 1.0])
    assert margin_ranking([2, 2], [1, 1], [1, -1], margin=2.0) == 2.0
    # Scores of +-1e4 stay exact: -(1e4 - (-1e4)) * -1 = 2e4.
    assert margin_ranking([1e4], [-1e4], [-1]) == 2e4
    # margin 2, y = 1: rows max(0, 2 - 1) = 1 and max(0, 2 - 0.5) = 1.5; weighted sum 1 * 1 + 3 * 1.5 = 5.5.
    value = margin_ranking([1.0, 0.5], [0.0, 0.0], [1, 1], sample_weight=[1, 3], reduction="sum", margin=2.0)
    assert value == 5.5


def test_ranknet_by_hand() -> None:
    # One query, y = (2, 1, 1): pairs (0, 1) and (0, 2) (the tie 1 = 1 makes none), costing log(1 + e^-(2 - 1)) and
    # log(1 + e^-(2 - 0)); their mean is 0.220095.
    expected = (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(-2.0))) / 2
    assert lossctl.get("ranknet")([2, 1, 1], [2, 1, 0], [7, 7, 7]) == pytest.approx(expected, rel=1e-15)


def test_ranknet_pools_pairs_across_queries() -> None:
    # Query 1 has 3 pairs costing log 2 each (equal scores), query 2 one pair costing log(1 + e^-2): the mean
    # over the 4 pooled pairs, not the mean of the two query means.
    x, y, qid = [0, 0, 0, 5, 3], [3, 2, 1, 1, 0], [1, 1, 1, 2, 2]
    expected = (3 * math.log(2.0) + math.log1p(math.exp(-2.0))) / 4
    assert lossctl.get("ranknet")(y, x, qid) == pytest.approx(expected, rel=1e-15)


def test_ranknet_scores_of_1e4_are_exact() -> None:
    # The worse document scored 2e4 above the better one costs 2e4 + log1p(e^-2e4) = 2e4; the reverse e^-2e4 = 0.
    assert lossctl.get("ranknet")([1, 0], [-1e4, 1e4], [0, 0]) == 2e4
    assert lossctl.get("ranknet")([1, 0], [1e4, -1e4], [0, 0]) == 0.0


def test_listnet_by_hand() -> None:
    listnet = lossctl.get("listnet")
    # Equal relevances and scores: the cross-entropy of two uniform distributions, log 2.
    assert listnet([0, 0], [0, 0], [1, 1]) == pytest.approx(math.log(2.0), rel=1e-15)
    # softmax(1, 0) = (s, 1 - s), s = sigmoid(1): the entropy -(s log s + (1 - s) log(1 - s)) = 0.582203.
    s = 1 / (1 + math.exp(-1.0))
    assert listnet([1, 0], [1, 0], [1, 1]) == pytest.approx(-(s * math.log(s) + (1 - s) * math.log(1 - s)))
    # Two queries, the first costing log 2 and the second (one document) 0: the mean over queries is log 2 / 2.
    assert listnet([0, 0, 1], [0, 0, 4], [1, 1, 2]) == pytest.approx(math.log(2.0) / 2, rel=1e-15)
    # Scores (1e4, -1e4) with equal relevances: 0.5 (0 + log1p(e^-2e4)) + 0.5 (2e4 + ...) = 1e4 exactly.
    assert listnet([0, 0], [1e4, -1e4], [3, 3]) == 1e4


def test_queries_need_not_be_contiguous() -> None:
    x, y, qid = np.array([0.3, 1.2, -0.5, 2.0, 0.1]), np.array([1, 0, 2, 1, 0]), np.array([1, 2, 1, 2, 1])
    order = np.argsort(qid, kind="stable")
    for loss in ("ranknet", "listnet"):
        spec = lossctl.get(loss)
        assert spec(y, x, qid) == pytest.approx(spec(y[order], x[order], qid[order]), rel=1e-15), loss


def test_query_ids_are_compared_by_exact_value() -> None:
    # 0.0 and -0.0 are the same number, so one query; 1 and 1 + 2^-52 are two queries.
    listnet = lossctl.get("listnet")
    assert listnet([0, 0], [0, 0], [0.0, -0.0]) == pytest.approx(math.log(2.0), rel=1e-15)
    assert listnet([0, 0], [0, 0], [1.0, 1.0 + 2.0**-52]) == 0.0


def test_weights_of_pairs_and_queries() -> None:
    # ranknet: pair (0, 1) weighs (1 + 3) / 2 = 2 and costs log 2; pair (2, 3) weighs 1 and costs log(1 + e^-1).
    expected = (2 * math.log(2.0) + math.log1p(math.exp(-1.0))) / 3
    value = lossctl.get("ranknet")([1, 0, 1, 0], [0, 0, 1, 0], [1, 1, 2, 2], sample_weight=[1, 3, 1, 1])
    assert value == pytest.approx(expected, rel=1e-15)
    # listnet: query 1 (log 2) weighs (1 + 3) / 2 = 2, query 2 (one document, 0) weighs 5.
    value = lossctl.get("listnet")([0, 0, 1], [0, 0, 1], [1, 1, 2], sample_weight=[1, 3, 5])
    assert value == pytest.approx(2 * math.log(2.0) / 7, rel=1e-15)


def test_ranknet_spreads_pairs_over_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    from lossctl.losses import ranking

    rng = np.random.default_rng(3)
    x, y, qid = rng.normal(size=60), rng.integers(0, 4, 60).astype(float), rng.integers(0, 5, 60).astype(float)
    expected = lossctl.get("ranknet")(y, x, qid)
    monkeypatch.setattr(ranking, "_PAIR_BLOCK", 7)
    assert lossctl.get("ranknet")(y, x, qid) == pytest.approx(expected, rel=1e-13)


# --- chunks of whole queries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["ranknet", "listnet"])
def test_chunks_of_whole_queries_add_up_to_the_whole(loss: str) -> None:
    # A --by group made of whole queries is such a chunk: its statistics add up with the others'.
    rng = np.random.default_rng(4)
    qid = np.repeat([1.0, 2.0, 3.0, 4.0], [4, 6, 1, 5])
    x, y, w = rng.normal(size=16), rng.integers(0, 3, 16).astype(float), rng.uniform(0.5, 2.0, 16)
    spec = lossctl.get(loss)
    parts = [slice(0, 10), slice(10, 16)]
    stats = sum(weighted_sums(spec.func(y[p], x[p], qid[p]), w[p]) for p in parts)
    assert RATIO.finalize(stats, "mean", {}) == pytest.approx(spec(y, x, qid, sample_weight=w), rel=1e-14)


def test_ranking_losses_from_the_command_line(cli: Callable[..., Any], write: Callable[[str, str], Path]) -> None:
    # Queries interleaved in the file and read in chunks of 2 rows: the whole input is still seen at once.
    path = write("rank.csv", "score,rel,qid\n2,2,7\n0.5,1,8\n1,1,7\n0,0,8\n0,1,7\n")
    run = cli(
        "eval",
        path,
        "-l",
        "ranknet,listnet",
        "--pred",
        "score",
        "--target",
        "rel",
        "--col",
        "qid=qid",
        "--chunk-rows",
        "2",
        "--format",
        "json",
    )
    assert run.code == 0, run.err
    values = {result["loss"]: result["value"] for result in json.loads(run.out)["results"]}
    x, y, qid = [2, 0.5, 1, 0, 0], [2, 1, 1, 0, 1], [7, 8, 7, 8, 7]
    assert values["ranknet"] == pytest.approx(lossctl.get("ranknet")(y, x, qid), rel=1e-15)
    assert values["listnet"] == pytest.approx(lossctl.get("listnet")(y, x, qid), rel=1e-15)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_integer_query_ids_beyond_2_53_are_told_apart_in_files(
    cli: Callable[..., Any], tmp_path: Path, suffix: str
) -> None:
    # 2^53 and 2^53 + 1 are one float: read as floats, the two queries were one. Small ids in a later chunk
    # (--chunk-rows 2) must not meet the codes the large ones get either.
    big = 2**53
    qid = [big, big + 1, big, big + 1, 3, 3, 4, 4]
    x, y = [2.0, 0.5, 1.0, 0.0, 0.3, 0.1, 0.2, 0.9], [2, 1, 1, 0, 1, 0, 0, 1]
    path = tmp_path / f"rank{suffix}"
    table = pa.table({"score": x, "rel": y, "qid": pa.array(qid, pa.int64())})
    pq.write_table(table, path) if suffix == ".parquet" else path.write_text(
        "score,rel,qid\n" + "".join(f"{a},{b},{c}\n" for a, b, c in zip(x, y, qid, strict=True))
    )
    run = cli("eval", path, "-l", "ranknet,listnet", "--pred", "score", "--target", "rel", "--col", "qid=qid",
              "--chunk-rows", "2", "-f", "json")  # fmt: skip
    assert run.code == 0, run.err
    values = {result["loss"]: result["value"] for result in json.loads(run.out)["results"]}
    apart = [1, 2, 1, 2, 3, 3, 4, 4]
    assert values["ranknet"] == pytest.approx(lossctl.get("ranknet")(y, x, apart), rel=1e-15)
    assert values["listnet"] == pytest.approx(lossctl.get("listnet")(y, x, apart), rel=1e-15)


# --- domain, input and parameter errors --------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "bad", "count", "first"), [([1, 0, -1], 0, 1, 1), ([2, 1, 0.5], 2, 2, 0)])
def test_margin_ranking_labels(target: list[float], bad: float, count: int, first: int) -> None:
    rows = "row" if count == 1 else "rows"
    message = f"'target': expected labels 1 or -1, got {bad:g} in {count} {rows} (first: row {first})"
    spec = lossctl.get("margin_ranking")
    for convention in ("lossctl", "torch"):
        with pytest.raises(DomainError, match=f"^{re.escape(message)}$"):
            spec([1, 2, 3], [0, 0, 0], target, convention=convention)


@pytest.mark.parametrize(
    ("y", "qid"),
    [([1, 1, 1], [1, 1, 1]), ([2, 1, 0], [1, 2, 3]), ([0], [5])],
    ids=["ties", "one-document-queries", "one-row"],
)
def test_ranknet_without_any_pair_is_an_input_error(y: list[float], qid: list[float]) -> None:
    message = "ranknet: no pair of documents with different relevance in any query"
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        lossctl.get("ranknet")(y, [0.0] * len(y), qid)


@pytest.mark.parametrize("loss", ["ranknet", "listnet"])
def test_ranking_with_zero_weights_says_so(cli, write, loss: str) -> None:
    # listnet said "the result is not a finite number (a float64 overflow); rescale the inputs" (0/0) and ranknet
    # "no pair of documents with different relevance in any query", though the query holds one.
    path = write("z.csv", "qid,y,x,w\n1,0,0.5,0\n1,1,0.2,0\n")
    run = cli("eval", path, "--col", "qid=qid", "--target", "y", "--pred", "x", "--weight", "w", "-l", loss)
    assert (run.code, run.out) == (3, "")
    undefined = "the sample weights sum to zero, so the weighted mean sum(w*l)/sum(w) is undefined"
    assert run.err == f"error: {loss}: {undefined}\n"
    # a pair both of whose documents weigh 0 does not count; the other rows keep the weighted mean defined
    y, x, qid = [0.0, 1.0, 1.0], [0.5, 0.2, 0.1], [1.0, 1.0, 2.0]
    if loss == "ranknet":
        with pytest.raises(InputError, match=r"^ranknet: no pair of documents with different relevance and a sample "):
            lossctl.get(loss)(y, x, qid, sample_weight=[0.0, 0.0, 1.0])
    else:
        assert lossctl.get(loss)(y, x, qid, sample_weight=[0.0, 0.0, 1.0]) == 0.0


@pytest.mark.parametrize("loss", ["ranknet", "listnet"])
def test_ranking_aggregates_have_only_the_mean_and_no_rows(loss: str) -> None:
    spec = lossctl.get(loss)
    with pytest.raises(UsageError, match=f"^loss '{loss}' is an aggregate: it has only the mean reduction$"):
        spec([1, 0], [1, 0], [1, 1], reduction="sum")
    why = "averages over the pairs or queries it scores, not over rows, with no per-row values"  # not "an aggregate"
    with pytest.raises(UsageError, match=f"^loss '{loss}' {why}$"):
        spec.per_sample([1, 0], [1, 0], [1, 1])
    with pytest.raises(UsageError, match=f"^loss '{loss}' has no 'torch' convention; it has: lossctl$"):
        spec([1, 0], [1, 0], [1, 1], convention="torch")


def test_margin_ranking_parameter_errors() -> None:
    with pytest.raises(UsageError, match=r"^margin_ranking: parameter 'margin' must be finite, got inf$"):
        lossctl.get("margin_ranking")([1], [0], [1], margin=float("inf"))
    with pytest.raises(UsageError, match=r"^loss 'ranknet' has no parameter 'margin'; its parameters: none$"):
        lossctl.get("ranknet")([1, 0], [1, 0], [1, 1], margin=1.0)


# --- properties --------------------------------------------------------------------------------------------------

scores = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@st.composite
def ranked(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 25))
    x = np.array(draw(st.lists(scores, min_size=n, max_size=n)))
    y = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.float64)
    qid = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.float64)
    y[0], y[1], qid[1] = 1.0, 0.0, qid[0]  # at least one pair
    return x, y, qid


@given(ranked(), st.randoms())
@settings(max_examples=150, deadline=None)
def test_row_order_does_not_matter(data: tuple, random: Any) -> None:
    x, y, qid = data
    order = np.array(random.sample(range(len(x)), len(x)))
    for loss in ("ranknet", "listnet"):
        spec = lossctl.get(loss)
        assert spec(y[order], x[order], qid[order]) == pytest.approx(spec(y, x, qid), rel=1e-12), loss


@given(ranked(), st.lists(st.floats(-100, 100), min_size=4, max_size=4))
@settings(max_examples=150, deadline=None)
def test_only_score_differences_within_a_query_count(data: tuple, shifts: list[float]) -> None:
    x, y, qid = data
    x = np.clip(x, -5e3, 5e3)
    shifted = x + np.array(shifts)[qid.astype(int)]
    for loss in ("ranknet", "listnet"):
        spec = lossctl.get(loss)
        assert spec(y, shifted, qid) == pytest.approx(spec(y, x, qid), rel=1e-9, abs=1e-9), loss


@given(ranked(), st.integers(0, 3), st.integers(2, 4))
@settings(max_examples=150, deadline=None)
def test_a_query_weight_counts_like_copies_of_the_query(data: tuple, query: int, copies: int) -> None:
    # Weight k on every row of one query = k copies of that query under new ids (whole-number weights).
    x, y, qid = data
    rows = qid == query
    weight = np.where(rows, float(copies), 1.0)
    x_copies = np.concatenate([x, *[x[rows]] * (copies - 1)])
    y_copies = np.concatenate([y, *[y[rows]] * (copies - 1)])
    qid_copies = np.concatenate([qid, *[np.full(rows.sum(), 100.0 + k) for k in range(copies - 1)]])
    for loss in ("ranknet", "listnet"):
        spec = lossctl.get(loss)
        weighted = spec(y, x, qid, sample_weight=weight)
        assert weighted == pytest.approx(spec(y_copies, x_copies, qid_copies), rel=1e-12), loss


@given(ranked())
@settings(max_examples=150, deadline=None)
def test_listnet_is_at_least_the_relevance_entropy(data: tuple) -> None:
    # Per query, the cross-entropy H(softmax(y), softmax(x)) >= H(softmax(y)), with equality at x = y.
    x, y, qid = data
    listnet = lossctl.get("listnet")
    assert listnet(y, x, qid) >= listnet(y, y, qid) - 1e-12
    assert math.isfinite(lossctl.get("ranknet")(y, x, qid))


# --- streaming query by query ------------------------------------------------------------------------------------


def _ranking_file(tmp_path: Path, contiguous: bool) -> tuple[Path, dict[str, np.ndarray]]:
    rng = np.random.default_rng(8)
    sizes = rng.integers(1, 12, 60)
    qid = np.repeat(np.arange(60) * 3 + 100, sizes)
    if not contiguous:
        qid = rng.permutation(qid)
    data = {"qid": qid, "score": rng.normal(size=len(qid)), "rel": rng.integers(0, 4, len(qid)).astype(float)}
    pq.write_table(pa.table(data), tmp_path / "rank.parquet")
    return tmp_path / "rank.parquet", data


@pytest.mark.parametrize("chunk_rows", [1, 25, 100_000])
@pytest.mark.parametrize("contiguous", [True, False])
def test_ranking_streamed_equals_the_whole_input(tmp_path: Path, chunk_rows: int, contiguous: bool) -> None:
    """Contiguous queries stream query by query; otherwise the whole input is held, and a notice says so."""
    path, data = _ranking_file(tmp_path, contiguous)
    report = lossctl.evaluate(str(path), losses=["ranknet", "listnet"], pred="score", target="rel",
                              cols={"qid": "qid"}, chunk_rows=chunk_rows)  # fmt: skip
    for result in report.results:
        whole = lossctl.get(result.loss)(data["rel"], data["score"], data["qid"].astype(float))
        assert result.value == pytest.approx(whole, rel=1e-12), result.loss
    held = [notice for notice in report.notices if "not contiguous" in notice]
    assert bool(held) == (not contiguous)
    if held:
        qid = data["qid"].tolist()
        row = next(i for i in range(1, len(qid)) if qid[i] != qid[i - 1] and qid[i] in qid[:i])
        assert held == [
            f"ranknet, listnet: the rows of query {qid[row]} are not contiguous (it appears again at row {row}), so "
            "the whole input is held in memory; sort the file by 'qid' to stream it query by query"
        ]


def test_a_large_query_is_announced_before_its_chunk() -> None:
    from lossctl.queries import query_chunks

    qid = pa.array(["a"] * 3 + ["big"] * 50 + ["c"] * 4)
    batches = pa.table({"qid": qid, "x": np.arange(57)}).to_batches(max_chunksize=10)
    events: list[object] = []
    for chunk in query_chunks(batches, "qid", 20, lambda q, n: events.append((q, n)), threshold=1000):
        events.append(chunk.column("qid").to_pylist())
    assert events == [["a"] * 3, ("big", 50), ["big"] * 50, ["c"] * 4]  # 1225 pairs: announced, then computed


def test_a_large_query_is_announced_once_when_the_input_is_read_again(
    monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Any], tmp_path: Path
) -> None:
    """Queries streamed (and announced) before one turns out apart are read again, held: each large query was
    announced twice on stderr ('query 'big' has 6 documents, 15 pairs ...' two times)."""
    import lossctl.queries

    monkeypatch.setattr(lossctl.queries, "LARGE_QUERY_PAIRS", 10)
    big = [("big", i % 3, i / 10) for i in range(6)]
    after = [("c", 1, 0.2), ("c", 0, 0.3), ("d", 1, 0.1), ("d", 0, 0.4), ("a", 2, 0.9)]  # 'a' again at row 12
    rows = [("a", 1, 0.5), ("a", 0, 0.1), *big, *after]
    (tmp_path / "rk.csv").write_text("qid,rel,score\n" + "".join(f"{q},{r},{s}\n" for q, r, s in rows))
    args = ["--pred", "score", "--target", "rel", "--col", "qid=qid", "-l", "ranknet", "--chunk-rows", "2"]
    run = cli("eval", tmp_path / "rk.csv", *args, "-f", "csv")
    announced = "notice: ranknet: query 'big' has 6 documents, 15 pairs to compare: this takes a while\n"
    assert run.code == 0 and run.err.count(announced) == 1, run.err
    assert "the rows of query 'a' are not contiguous (it appears again at row 12)" in run.err
    told: list[str] = []
    lossctl.evaluate(tmp_path / "rk.csv", pred="score", target="rel", cols={"qid": "qid"}, losses="ranknet",
                     chunk_rows=2, notify=told.append)  # fmt: skip
    assert told == [announced[len("notice: ") : -1]]


def _ranking_text(contiguous: bool, fmt: str = "csv", queries: int = 40) -> bytes:
    """A small ranking input (string query ids, ties in relevance, one-document queries) as CSV or JSON Lines."""
    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 9, queries)
    qid = np.repeat([f"q{i}" for i in range(queries)], sizes)
    if not contiguous:
        qid = rng.permutation(qid)
    scores, relevances = rng.normal(size=len(qid)).round(4).tolist(), rng.integers(0, 3, len(qid)).tolist()
    rows = zip(qid.tolist(), scores, relevances, strict=True)
    if fmt == "jsonl":
        return "".join(json.dumps({"q": q, "score": x, "rel": y}) + "\n" for q, x, y in rows).encode()
    return ("q,score,rel\n" + "".join(f"{q},{x},{y}\n" for q, x, y in rows)).encode()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "arrow"])
@pytest.mark.parametrize("contiguous", [True, False])
def test_standard_input_streams_queries_as_a_file_does(tmp_path: Path, fmt: str, contiguous: bool) -> None:
    """Ranking losses over standard input held the whole input, whatever its layout ("standard input is read
    once, so the whole input is held in memory"), while a file streamed one query at a time. Now standard input
    streams too when each query's rows are contiguous, and otherwise holds the rows with the notice a file gets;
    the values are the file's."""
    text = _ranking_text(contiguous, "jsonl" if fmt == "jsonl" else "csv")
    path = tmp_path / f"rk.{fmt}"
    if fmt == "arrow":
        from pyarrow import csv as pcsv
        from pyarrow import feather

        feather.write_feather(pcsv.read_csv(pa.py_buffer(text)), path)
    else:
        path.write_bytes(text)
    args = ["--pred", "score", "--target", "rel", "--col", "qid=q", "-l", "ranknet,listnet", "--chunk-rows", "7"]
    piped = subprocess.run([sys.executable, "-m", "lossctl", "eval", "-", *args, "-f", "json"],
                           input=path.read_bytes(), capture_output=True)  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    from_file = lossctl.evaluate(path, losses=["ranknet", "listnet"], pred="score", target="rel", cols={"qid": "q"},
                                 chunk_rows=7)  # fmt: skip
    values = {r["loss"]: r["value"] for r in json.loads(piped.stdout)["results"]}
    assert len(values) == len(from_file.results) == 2
    for result in from_file.results:
        assert values[result.loss] == pytest.approx(result.value, rel=1e-12, abs=0)
    notices = [line for line in piped.stderr.decode().splitlines() if "held in memory" in line]
    assert notices == [f"notice: {notice}" for notice in from_file.notices if "held in memory" in notice]
    assert bool(notices) == (not contiguous)
    assert all("not contiguous" in line for line in notices)


def test_queries_apart_on_standard_input_are_held_not_read_twice(tmp_path: Path) -> None:
    text = "q,score,rel\nA,1,2\nB,0.1,1\nA,0.5,1\nB,0.3,0\nA,2,0\n"
    path = tmp_path / "rk.csv"
    path.write_text(text)
    args = ["--pred", "score", "--target", "rel", "--col", "qid=q", "-l", "listnet,ranknet", "-f", "json"]
    command = [sys.executable, "-m", "lossctl", "eval"]
    piped = subprocess.run([*command, "-", *args], input=text.encode(), capture_output=True, check=False)
    from_file = subprocess.run([*command, str(path), *args], capture_output=True, check=False)
    assert piped.returncode == 0, piped.stderr
    values = [r["value"] for r in json.loads(piped.stdout)["results"]]
    assert values == [r["value"] for r in json.loads(from_file.stdout)["results"]]
    assert b"listnet, ranknet: the rows of query 'A' are not contiguous (it appears again at row 2)" in piped.stderr


def _largest_chunk(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows of each chunk the engine evaluates, as it cuts them (spied on)."""
    import lossctl.engine

    sizes: list[int] = []
    cut = lossctl.engine.query_chunks

    def spied(*args: Any, **kwargs: Any) -> Any:
        for chunk in cut(*args, **kwargs):
            sizes.append(chunk.num_rows)
            yield chunk

    monkeypatch.setattr(lossctl.engine, "query_chunks", spied)
    return sizes


@pytest.mark.parametrize("kind", ["stream", "reader"])
def test_a_stream_holds_one_chunk_of_queries_at_a_time(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """A stream (standard input, a RecordBatchReader) whose queries are contiguous is evaluated in chunks of whole
    queries, never held whole; queries apart are held, and a reader read again was "already read" (a usage
    error) rather than evaluated."""
    import io

    from pyarrow import csv as pcsv

    for contiguous in (True, False):
        text = _ranking_text(contiguous, queries=300)
        data: Any = io.BytesIO(text)
        if kind == "reader":
            table = pcsv.read_csv(pa.py_buffer(text))
            data = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=50))
        sizes = _largest_chunk(monkeypatch)
        report = lossctl.evaluate(data, losses=["ranknet", "listnet"], pred="score", target="rel",
                                  cols={"qid": "q"}, chunk_rows=40)  # fmt: skip
        whole = pcsv.read_csv(pa.py_buffer(text))
        for result in report.results:
            expected = lossctl.get(result.loss)(*(whole.column(c).to_numpy() for c in ("rel", "score", "q")))
            assert result.value == pytest.approx(expected, rel=1e-12)
        rows = whole.num_rows
        if contiguous:
            assert sum(sizes) == rows and max(sizes) < 100, sizes  # 40 rows or more: a batch, a query's end
            assert not [n for n in report.notices if "held" in n]
        else:
            assert sizes[-1] == rows  # the pass run again holds every row
            assert [n for n in report.notices if "not contiguous" in n]


def test_rows_that_cannot_be_kept_are_an_input_error_only_when_queries_are_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Standard input's rows are kept in $TMPDIR as they pass, to be read again if a query's rows turn out apart;
    a folder that cannot take them is an input error saying so only then."""
    import io
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", "/nonexistent/lossctl")
    common = {"losses": ["ranknet"], "pred": "score", "target": "rel", "cols": {"qid": "q"}, "chunk_rows": 10}
    assert lossctl.evaluate(io.BytesIO(_ranking_text(True)), **common).results[0].value > 0
    with pytest.raises(InputError) as error:
        lossctl.evaluate(io.BytesIO(_ranking_text(False)), **common)
    assert re.fullmatch(
        r"ranknet: the rows of query 'q\d+' are not contiguous \(it appears again at row \d+\), and the stream "
        r"is read once: its rows could not be kept in /nonexistent/lossctl to be read again \(No such file or "
        r"directory\); sort it by 'q', or set TMPDIR to a writable folder with room",
        str(error.value),
    )


def test_queries_apart_with_targets_on_standard_input_are_held(tmp_path: Path) -> None:
    """The targets on standard input (--targets -) with query ids apart in the predictions file: the second pass
    read the targets again and ended in 'error: standard input can be read only once' (exit 3)."""
    rows = [("A", 1, 2), ("B", 0.1, 1), ("A", 0.5, 1), ("B", 0.3, 0), ("A", 2, 0)]
    (tmp_path / "preds.csv").write_text("q,score\n" + "".join(f"{q},{x}\n" for q, x, _ in rows))
    (tmp_path / "all.csv").write_text("q,score,rel\n" + "".join(f"{q},{x},{y}\n" for q, x, y in rows))
    targets = ("rel\n" + "".join(f"{y}\n" for *_, y in rows)).encode()
    args = ["--pred", "score", "--target", "rel", "--col", "qid=q", "-l", "ranknet,listnet", "-f", "json"]
    command = [sys.executable, "-m", "lossctl", "eval"]
    piped = subprocess.run([*command, str(tmp_path / "preds.csv"), "--targets", "-", *args], input=targets,
                           capture_output=True)  # fmt: skip
    whole = subprocess.run([*command, str(tmp_path / "all.csv"), *args], capture_output=True)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["results"] == json.loads(whole.stdout)["results"]


def test_a_large_query_on_standard_input_is_announced_before_its_work(tmp_path: Path) -> None:
    """The 10^8-pair notice, from standard input streamed query by query: told once, before the query's chunk is
    computed (the threshold lowered through the module, in a real process)."""
    rows = [("a", 1, 0.5), ("a", 0, 0.1), *[("big", i % 3, i / 10) for i in range(6)], ("c", 1, 0.2), ("c", 0, 0.3)]
    text = "qid,rel,score\n" + "".join(f"{q},{r},{s}\n" for q, r, s in rows)
    code = (
        "import sys, lossctl.queries, lossctl.cli; lossctl.queries.LARGE_QUERY_PAIRS = 10; "
        "sys.exit(lossctl.cli.main(sys.argv[1:]))"
    )
    args = ["eval", "-", "--pred", "score", "--target", "rel", "--col", "qid=qid", "-l", "ranknet", "--chunk-rows", "2"]
    run = subprocess.run([sys.executable, "-c", code, *args], input=text.encode(), capture_output=True)
    assert run.returncode == 0, run.stderr
    assert run.stderr.decode().splitlines() == [
        "notice: ranknet: query 'big' has 6 documents, 15 pairs to compare: this takes a while"
    ]


def test_standard_input_sorted_by_query_stays_in_bounded_memory(tmp_path: Path) -> None:
    """200,000 rows of 10-document queries through a pipe: sorted by query, the peak memory is that of a chunk;
    shuffled, the rows are held (and ranknet pairs all of them at once), a peak over 100 MB higher here."""
    rng = np.random.default_rng(1)
    n = 200_000
    qid = np.repeat(np.arange(n // 10), 10)
    lines = np.char.add(np.char.add(qid.astype(str), ","), rng.integers(0, 3, n).astype(str))
    lines = np.char.add(np.char.add(lines, ","), rng.integers(0, 9, n).astype(str))
    order = {"sorted": np.arange(n), "shuffled": rng.permutation(n)}
    measure = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdin=sys.stdin, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    args = ["-m", "lossctl", "eval", "-", "--pred", "score", "--target", "rel", "--col", "qid=qid", "-l", "ranknet"]
    peaks = {}
    for name, rows in order.items():
        text = ("qid,rel,score\n" + "\n".join(lines[rows].tolist()) + "\n").encode()
        run = subprocess.run([sys.executable, "-c", measure, sys.executable, *args, "--chunk-rows", "1000", "-q"],
                             input=text, capture_output=True, check=True)  # fmt: skip
        peaks[name] = int(run.stdout.decode().split()[-1])  # KiB
    assert peaks["sorted"] < peaks["shuffled"] - 50_000, peaks


def _reference_ranknet(y: np.ndarray, x: np.ndarray, qid: np.ndarray, w: np.ndarray) -> float:
    """Brute force: every pair (i, j) of a query with y_i > y_j, weighted by the mean of their weights."""
    total = count = 0.0
    for i in range(len(y)):
        for j in range(len(y)):
            if qid[i] == qid[j] and y[i] > y[j]:
                pair = (w[i] + w[j]) / 2
                total += pair * math.log1p(math.exp(-(x[i] - x[j])))
                count += pair
    return total / count


def _reference_listnet(y: np.ndarray, x: np.ndarray, qid: np.ndarray, w: np.ndarray) -> float:
    """Brute force: each query's cross-entropy of softmax(y) and softmax(x), weighted by its mean weight."""
    total = count = 0.0
    for query in np.unique(qid):
        rows = qid == query
        target = np.exp(y[rows]) / np.exp(y[rows]).sum()
        total += w[rows].mean() * -(target * np.log(np.exp(x[rows]) / np.exp(x[rows]).sum())).sum()
        count += w[rows].mean()
    return total / count


def _split_queries_file(tmp_path: Path, contiguous: bool) -> tuple[Path, dict[str, np.ndarray]]:
    """Queries of 2 to 7 documents whose 'kind' varies within the query, relevance ties and integer weights."""
    rng = np.random.default_rng(3)
    sizes = rng.integers(2, 8, 12)
    qid = np.repeat(np.arange(12) * 7 + 1, sizes)
    kind = rng.choice(np.array(["x", "y", "z"]), len(qid))
    kind[:6] = ["x", "x", "y", "y", "z", "z"]  # every kind has a pair in the first queries
    qid[:6] = [0, 0, 0, 0, 0, 0]
    order = np.arange(len(qid)) if contiguous else rng.permutation(len(qid))
    data = {
        "qid": qid[order],
        "kind": kind[order],
        "score": rng.normal(size=len(qid))[order],
        "rel": np.concatenate([[1, 0, 2, 0, 1, 0], rng.integers(0, 3, len(qid) - 6)]).astype(float)[order],
        "w": rng.integers(1, 4, len(qid)).astype(float)[order],
    }
    lines = [f"{q},{k},{float(s)!r},{r},{w}\n" for q, k, s, r, w in zip(*data.values(), strict=True)]
    (tmp_path / "split.csv").write_text("qid,kind,score,rel,w\n" + "".join(lines))
    return tmp_path / "split.csv", data


@pytest.mark.parametrize("chunk_rows", [1, 2, 7, None])
@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_a_by_group_splitting_queries_is_the_loss_of_its_rows_alone(
    tmp_path: Path, chunk_rows: int | None, contiguous: bool, weighted: bool
) -> None:
    """--by a column that varies within a query gave each group its documents' share of their queries' losses
    (ranknet: half of each pair with one document in the group), not the loss of the group's rows alone that
    docs/cli.md defines. Now a group's ranknet pairs two of its documents of one query, its listnet cuts each
    query to its documents in the group; the overall values are unchanged, and gap and worst group follow."""
    path, data = _split_queries_file(tmp_path, contiguous)
    told: list[str] = []
    report = lossctl.evaluate(str(path), losses=["ranknet", "listnet"], pred="score", target="rel",
                              weight="w" if weighted else None, cols={"qid": "qid"}, by=["kind"],
                              chunk_rows=chunk_rows, notify=told.append)  # fmt: skip
    y, x, qid, kind = data["rel"], data["score"], data["qid"].astype(float), data["kind"]
    w = data["w"] if weighted else np.ones(len(y))
    reference = {"ranknet": _reference_ranknet, "listnet": _reference_listnet}
    for result in report.results:
        rows = np.ones(len(y), bool) if result.group is None else kind == result.group["kind"]
        expected = reference[result.loss](y[rows], x[rows], qid[rows], w[rows])
        assert result.value == pytest.approx(expected, rel=1e-12), (result.loss, result.group)
        assert result.n == rows.sum()
    assert len(report.results) == 2 * 4
    for gap in report.groups["gaps"]:
        values = {r.group["kind"]: r.value for r in report.results if r.loss == gap["loss"] and r.group}
        worst = max(values, key=values.__getitem__)
        assert gap["worst_group"] == {"kind": worst}
        assert gap["gap"] == pytest.approx(values[worst] - min(values.values()), rel=1e-12)
    (notice,) = told
    found = re.fullmatch(
        r"ranknet, listnet: the documents of a query fall in several by groups \(row (\d+) and another row of "
        r"its query\), so a group's value is the loss of the group's rows alone, each query cut to its documents in "
        r"the group, and the groups do not recombine into the overall value",
        notice,
    )
    assert found is not None, notice
    row = int(found[1])
    assert ((qid == qid[row]) & (kind != kind[row])).any()


def test_split_groups_have_the_intervals_of_their_queries_cut(tmp_path: Path) -> None:
    """A group's bootstrap and normal intervals are those of the same rows with each query cut by group: the
    input whose query ids are (query, kind) draws the same rows, and its groups split no query."""
    path, _ = _split_queries_file(tmp_path, contiguous=True)
    cut = tmp_path / "cut.csv"
    lines = path.read_text().splitlines()
    cut.write_text("\n".join([lines[0], *(f"{q}-{k},{k},{rest}" for q, k, rest in
                                          (line.split(",", 2) for line in lines[1:]))]) + "\n")  # fmt: skip
    common = {"losses": ["ranknet", "listnet"], "pred": "score", "target": "rel", "weight": "w",
              "cols": {"qid": "qid"}, "by": ["kind"], "chunk_rows": 7}  # fmt: skip
    for extra in ({"bootstrap": 50, "seed": 4}, {"ci": 0.9}):
        split, whole = (lossctl.evaluate(str(p), **common, **extra).results for p in (path, cut))
        assert [r.group for r in split] == [r.group for r in whole]
        for a, b in zip(split, whole, strict=True):
            if a.group is None:
                assert a.value != pytest.approx(b.value)  # overall: the split file's queries are whole
                continue
            assert a.value == pytest.approx(b.value, rel=1e-12)
            assert a.ci is not None and b.ci is not None
            assert a.ci == pytest.approx(b.ci, rel=1e-9), (a.loss, a.group, extra)  # chunks cut elsewhere


def test_a_split_group_without_a_pair_is_named(cli: Callable[..., Any], tmp_path: Path) -> None:
    """A group whose rows hold no pair of one query (here each kind's documents are one per query) has no ranknet
    value: an input error naming the group (it was 'ranknet: no pair ... in any query' where the input has
    pairs); groups that hold whole queries say nothing of splits."""
    rows = "".join(f"{q},{r},{s},{g}\n" for q, r, s, g in [
        ("a", 2, 0.5, "x"), ("a", 0, 0.1, "y"), ("b", 1, 0.3, "x"), ("b", 0, 0.9, "x"), ("c", 1, 0.2, "y")
    ])  # fmt: skip
    (tmp_path / "rk.csv").write_text("qid,rel,score,kind\n" + rows)
    args = ["--pred", "score", "--target", "rel", "--col", "qid=qid", "-f", "csv"]
    run = cli("eval", tmp_path / "rk.csv", *args, "-l", "ranknet", "--by", "kind")
    assert run.code == 3
    message = "ranknet in group kind=y: no pair of documents with different relevance in any query"
    assert run.err.endswith(f"error: {message}\n")
    run = cli("eval", tmp_path / "rk.csv", *args, "-l", "listnet", "--by", "kind")
    assert run.code == 0 and run.err.count("several --by groups") == 1
    (tmp_path / "whole.csv").write_text("qid,rel,score,kind\na,2,0.5,x\na,0,0.1,x\nb,1,0.3,y\nb,0,0.9,y\n")
    run = cli("eval", tmp_path / "whole.csv", *args, "-l", "ranknet,listnet", "--by", "kind", "--chunk-rows", "1")
    assert run.code == 0 and "several --by groups" not in run.err


def test_compare_holds_queries_whose_rows_are_apart(cli: Callable[..., Any], tmp_path: Path) -> None:
    """compare on a ranking file whose queries are not contiguous was 'error: internal error
    (QueriesNotContiguous: query 'q1' appears again at row 3)', exit 4: only eval read the input again, held.
    Now compare does too, with eval's values and one notice naming each loss once (it read 'ranknet, ranknet,
    listnet, listnet' with two models)."""
    rows = [("q0", 2, 0.5, 0.1), ("q1", 1, 0.1, 0.4), ("q0", 0, 0.3, 0.2), ("q1", 0, 0.9, 0.3), ("q0", 1, 0.2, 0.9)]
    (tmp_path / "rk.csv").write_text("qid,rel,a,b\n" + "".join(f"{q},{r},{a},{b}\n" for q, r, a, b in rows))
    common = ["--target", "rel", "--col", "qid=qid", "-l", "ranknet,listnet", "--chunk-rows", "2"]
    run = cli("compare", tmp_path / "rk.csv", "--model", "A=a", "--model", "B=b", *common, "-f", "json")
    assert run.code == 0, run.err
    assert (
        "notice: ranknet, listnet: the rows of query 'q0' are not contiguous (it appears again at row 2), so the "
        "whole input is held in memory; sort the file by 'qid' to stream it query by query\n" in run.err
    )
    for record in json.loads(run.out)["results"]:
        for model, side in (("a", "baseline"), ("b", "candidate")):
            value = cli("eval", tmp_path / "rk.csv", "--pred", model, *common, "-q", "-f", "json").out
            expected = {r["loss"]: r["value"] for r in json.loads(value)["results"]}
            assert record[side] == pytest.approx(expected[record["loss"]], rel=1e-12)
    (tmp_path / "cand.csv").write_text((tmp_path / "rk.csv").read_text())
    run = cli("compare", tmp_path / "rk.csv", tmp_path / "cand.csv", "--pred", "a", *common, "-f", "csv")
    assert run.code == 0 and ",same," in run.out


def test_compare_refuses_a_candidate_whose_query_ids_differ(cli: Callable[..., Any], tmp_path: Path) -> None:
    """The query ids are read from the baseline for both models, as the targets are; a candidate file whose own
    'qid' column differed at every row (its rows in another order, queries renumbered) was compared silently
    (exit 0), each candidate score put in the baseline's queries. Now an input error naming the first row, as for
    targets, by order and by --on alike; equal query ids still compare."""
    base, cand = tmp_path / "a.csv", tmp_path / "b.csv"
    base.write_text("id,qid,rel,score\n0,1,2,0.5\n1,1,0,0.1\n2,2,1,0.3\n3,2,0,0.9\n")
    cand.write_text("id,qid,rel,score\n0,1,2,0.4\n1,1,0,0.2\n2,2,1,0.6\n3,2,0,0.1\n")
    common = ["--pred", "score", "--target", "rel", "--col", "qid=qid", "-l", "ranknet,listnet", "-f", "csv"]
    assert cli("compare", base, cand, *common).code == 0
    cand.write_text("id,qid,rel,score\n0,1,2,0.4\n1,1,0,0.2\n2,3,1,0.6\n3,3,0,0.1\n")
    for on in ([], ["--on", "id"]):
        run = cli("compare", base, cand, *common, *on)
        assert (run.code, run.out) == (3, "")
        where = f"2 in {base} but 3 in {cand} at row 2" if not on else f"2 in {base} at row 2 but 3 in {cand} at row 2"
        assert run.err == (
            f"error: the query ids differ: column 'qid' is {where}; both models must be scored on the same queries "
            "(give --targets FILE to take the query ids from one file)\n"
        )


def test_queries_apart_in_a_stream_among_several_inputs_are_held_not_read_twice(tmp_path: Path) -> None:
    """A stream given with other paths (``/dev/stdin``, ``<(...)``, a named pipe) left the dataset not marked as
    read once: rows of a query apart started a second pass, which ended in "'/dev/stdin' can be read only once"."""
    first, second = "q,score,rel\nA,1,2\nB,0.1,1\nA,0.5,1\n", "q,score,rel\nB,0.3,0\nC,2,0\nC,1,1\n"
    (tmp_path / "first.csv").write_text(first)
    (tmp_path / "second.csv").write_text(second)
    args = ["--pred", "score", "--target", "rel", "--col", "qid=q", "-l", "ranknet", "-f", "json"]
    command = [sys.executable, "-m", "lossctl", "eval"]
    piped = subprocess.run(
        [*command, "/dev/stdin", str(tmp_path / "second.csv"), *args], input=first.encode(), capture_output=True
    )
    files = subprocess.run([*command, str(tmp_path / "first.csv"), str(tmp_path / "second.csv"), *args],
                           capture_output=True)  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["results"][0]["value"] == json.loads(files.stdout)["results"][0]["value"]
    assert b"ranknet: the rows of query 'A' are not contiguous (it appears again at row 2)" in piped.stderr


@pytest.mark.parametrize("name", ["q.csv", "q.jsonl"])
def test_query_ids_beyond_int64_in_text_stay_apart(tmp_path: Path, name: str) -> None:
    """pyarrow reads integers beyond int64 in CSV or JSON Lines as float64, where 2^64 - 1 and 2^64 - 2 are one
    number: their two queries were ranked as one (listnet 1.506 instead of 0.813), as the --by keys no longer were.
    Query ids are key columns too."""
    rows = [(2**64 - 1, 1.0, 1.0), (2**64 - 1, 0.0, 0.0), (2**64 - 2, 0.0, 1.0), (2**64 - 2, 1.0, 0.0)]
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text("qid,pred,target\n" + "".join(f"{q},{p},{t}\n" for q, p, t in rows))
    else:
        path.write_text("".join(f'{{"qid": {q}, "pred": {p}, "target": {t}}}\n' for q, p, t in rows))
    apart = lossctl.evaluate(
        pa.table({"qid": ["a", "a", "b", "b"], "pred": [p for _, p, _ in rows], "target": [t for _, _, t in rows]}),
        losses=["listnet", "ranknet"],
        cols={"qid": "qid"},
    )
    report = lossctl.evaluate(str(path), losses=["listnet", "ranknet"], cols={"qid": "qid"})
    assert report["listnet"] == pytest.approx(apart["listnet"], rel=1e-12)
    assert report["ranknet"] == pytest.approx(apart["ranknet"], rel=1e-12)


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("inf.csv", "q,s,y\ninf,1,1\ninf,0,0\n1,0.5,1\n",
         "column 'q' (qid) holds the query id inf; infinite values are always an error"),
        ("nested.jsonl", '{"q": [1, 2], "s": 1, "y": 1}\n{"q": [1, 2], "s": 0, "y": 0}\n',
         "column 'q' (qid) holds nested values (list<item: int64>), not one query id per row; give query ids as text, "
         "numbers, booleans or dates"),
    ],
)  # fmt: skip
def test_a_query_id_that_is_no_key_is_named_as_a_query_id(
    cli: Callable[..., Any], write: Callable[[str, str], Path], name: str, text: str, said: str
) -> None:
    """An infinite or nested query id was refused as a --by key the run had none of: "column 'q' (--by) holds the key
    inf", "... not one key per row; group by a column of text, ...". Now named as the query id it is."""
    run = cli("eval", write(name, text), "--pred", "s", "--target", "y", "--col", "qid=q", "-l", "ranknet,listnet")
    assert (run.code, run.out, run.err) == (3, "", f"error: {said}\n")


@pytest.mark.parametrize("blank", ["", "NaN"])
@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 100])
def test_rows_without_a_query_id_dropped_leave_the_queries_contiguous(
    cli: Callable[..., Any], write: Callable[[str, str], Path], blank: str, chunk_rows: int
) -> None:
    """Rows with a missing query id dropped by --missing drop, here and there in a file sorted by query, made their
    'query missing' look apart: "the rows of query missing are not contiguous (it appears again at row 5), so the
    whole input is held in memory". They join no query: the file streams, a missing id inside a query's rows
    (7, -, 7) does not cut it in two, and the values are those of the rows kept."""
    rows = [("7", 1, 1), (blank, 0.5, 1), ("7", 0, 0), ("7", 0.7, 2), ("3", 0.5, 1), (blank, 0.3, 0), ("3", 0.2, 0),
            ("5", 1, 0), ("5", 2, 1), (blank, 0.1, 1)]  # fmt: skip
    path = write("rk.csv", "q,s,y\n" + "".join(f"{q},{s},{y}\n" for q, s, y in rows))
    args = ["--pred", "s", "--target", "y", "--col", "qid=q", "-l", "ranknet,listnet", "-f", "json"]
    run = cli("eval", path, *args, "--missing", "drop", "--chunk-rows", chunk_rows)
    assert run.code == 0 and "not contiguous" not in run.err, run.err
    kept = [row for row in rows if row[0] != blank]
    y, x, qid = (np.array([float(row[i]) for row in kept]) for i in (2, 1, 0))
    for record in json.loads(run.out)["results"]:
        assert record["value"] == pytest.approx(lossctl.get(record["loss"])(y, x, qid), rel=1e-12)
