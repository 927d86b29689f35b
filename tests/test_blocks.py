"""A chunk's losses summed block by block (``engine._Worker._sums_in_blocks``): the same values and errors as whole
chunks (the path taken when per-row losses are kept, e.g. ``per_sample``) and as independent references."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.defaults import LOSS_BLOCK_ROWS, default_chunk_rows

# Two chunks of two bound columns, the first cut into several blocks.
ROWS = default_chunk_rows(2) + 40_000
TEN = ["mse", "rmse", "mae", "huber", "smooth_l1", "log_cosh", "quantile", "mape", "smape", "msle"]


def _columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    y = rng.uniform(0.1, 3.0, ROWS)
    return {"target": y, "pred": np.abs(y + rng.normal(0.0, 0.7, ROWS)), "w": rng.uniform(0.1, 2.0, ROWS)}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    columns = _columns()
    path = tmp_path_factory.mktemp("blocks") / "d.parquet"
    pq.write_table(pa.table(columns), path)
    return path, columns


def test_the_chunks_are_cut_into_several_blocks() -> None:
    assert ROWS > default_chunk_rows(2) > 2 * LOSS_BLOCK_ROWS


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_blocked_sums_equal_each_loss_on_the_whole_arrays(data, weighted: bool) -> None:
    path, c = data
    report = lossctl.evaluate(str(path), losses=TEN, weight="w" if weighted else None)
    for result in report.results:
        expected = lossctl.get(result.loss)(c["target"], c["pred"], sample_weight=c["w"] if weighted else None)
        assert result.value == pytest.approx(expected, rel=1e-13), result.loss


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_blocked_sums_equal_whole_chunks(data, tmp_path: Path, weighted: bool) -> None:
    """Writing the per-row losses makes the engine compute whole chunks: the values agree to rounding."""
    path, _ = data
    options = {"losses": TEN, "weight": "w" if weighted else None}
    blocked = lossctl.evaluate(str(path), **options)
    whole = lossctl.evaluate(str(path), per_sample=tmp_path / "rows.parquet", **options)
    assert [(r.loss, r.n) for r in blocked.results] == [(r.loss, r.n) for r in whole.results]
    for b, w in zip(blocked.results, whole.results, strict=True):
        assert b.value == pytest.approx(w.value, rel=1e-14, abs=0.0), b.loss


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_normal_intervals_merged_over_blocks_equal_whole_chunks_and_the_direct_formula(
    data, tmp_path: Path, weighted: bool
) -> None:
    """``--ci``'s moments are taken block by block and merged (Chan et al.); the intervals equal those of whole
    chunks (``per_sample``) and, for mae, the standard error of the mean (ratio estimator when weighted)."""
    path, c = data
    options = {"losses": ["mae", "mse", "huber"], "weight": "w" if weighted else None, "ci": 0.95}
    blocked = lossctl.evaluate(str(path), **options)
    whole = lossctl.evaluate(str(path), per_sample=tmp_path / "rows.parquet", **options)
    for b, w in zip(blocked.results, whole.results, strict=True):
        assert [b.ci["low"], b.ci["high"]] == pytest.approx([w.ci["low"], w.ci["high"]], rel=1e-12), b.loss
    losses, weight = np.abs(c["pred"] - c["target"]), c["w"] if weighted else np.ones(ROWS)
    mean = np.sum(weight * losses) / np.sum(weight)
    se = np.sqrt(ROWS / (ROWS - 1) * np.sum((weight * (losses - mean)) ** 2)) / np.sum(weight)
    z = 1.959963984540054
    mae = blocked.results[0]
    assert [mae.ci["low"], mae.ci["high"]] == pytest.approx([mean - z * se, mean + z * se], rel=1e-12)


def test_a_domain_error_counts_the_chunk_not_the_block(tmp_path: Path, cli) -> None:
    """Bad values in two blocks of one chunk are counted together, the first named by its file row."""
    columns = _columns()
    columns["pred"][[10, LOSS_BLOCK_ROWS * 3 + 1]] = -2.0
    pq.write_table(pa.table(columns), tmp_path / "bad.parquet")
    run = cli("eval", tmp_path / "bad.parquet", "-l", "mse,msle")
    assert run.code == 3
    expected = "error: msle: column 'pred' (pred): expected values > -1, got -2 in 2 rows (first: row 10)"
    assert run.err.strip() == expected


def test_an_overflow_in_a_later_block_names_its_row(tmp_path: Path, cli) -> None:
    columns = _columns()
    row = LOSS_BLOCK_ROWS * 2 + 17
    columns["pred"][row] = 1e300
    pq.write_table(pa.table(columns), tmp_path / "big.parquet")
    run = cli("eval", tmp_path / "big.parquet", "-l", "mae,mse")
    assert run.code == 3
    assert run.err.strip() == f"error: mse: the loss overflows float64 at row {row} (1 value); rescale the inputs"


def test_values_whose_squares_overflow_are_read_as_they_are(write, cli) -> None:
    """The reader's finiteness test squares the values; past 1e154 it tests them one by one, so they are neither
    missing nor infinite."""
    path = write("huge.csv", "target,pred\n1e200,1.5e200\n-3e200,-3e200\n")
    run = cli("eval", path, "-l", "mae", "-f", "json", "-q")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(0.25e200, rel=1e-15)
