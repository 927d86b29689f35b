"""``--targets --on``: the predictions are streamed past an index of the targets (lossctl/io/align.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from tests.limits import address_space, run_limited

KEYS = {
    "dense integers": lambda rng, n: rng.permutation(n) + 1000,
    "sparse integers": lambda rng, n: rng.permutation(n) * 7_919_000_003 - 2**40,
    "text": lambda rng, n: np.array([f"user-{i:07d}" for i in rng.permutation(n)]),
}


def _files(tmp_path: Path, keys: np.ndarray, extra: int = 0, seed: int = 0) -> tuple[Path, Path, dict[Any, float]]:
    """Predictions in one random order, targets (and ``extra`` unused rows) in another; the truth by key."""
    rng = np.random.default_rng(seed)
    n = len(keys)
    target = rng.normal(size=n + extra)
    target_keys = np.concatenate([keys, KEYS["dense integers"](rng, extra) + 10**12]) if extra else keys
    order = rng.permutation(n + extra)
    pq.write_table(pa.table({"id": target_keys[order], "target": target[order]}), tmp_path / "t.parquet")
    pred = rng.normal(size=n)
    pq.write_table(pa.table({"id": keys, "pred": pred}), tmp_path / "p.parquet")
    truth = dict(zip(target_keys[:n].tolist(), target[:n].tolist(), strict=True))
    residuals = {k: p - truth[k] for k, p in zip(keys.tolist(), pred, strict=True)}
    return tmp_path / "p.parquet", tmp_path / "t.parquet", residuals


@pytest.mark.parametrize("kind", list(KEYS))
@pytest.mark.parametrize("chunk_rows", [1, 333, None])
def test_the_streamed_join_equals_an_in_memory_join(tmp_path: Path, kind: str, chunk_rows: int | None) -> None:
    keys = KEYS[kind](np.random.default_rng(1), 2000)
    preds, targets, residuals = _files(tmp_path, keys, extra=37)
    per_row = tmp_path / "rows.parquet"
    report = lossctl.evaluate(
        str(preds), targets=str(targets), on="id", losses=["mse", "mae"], chunk_rows=chunk_rows,
        per_sample=str(per_row),
    )  # fmt: skip
    r = np.array(list(residuals.values()))
    assert [res.value for res in report.results] == pytest.approx([np.mean(r**2), np.mean(np.abs(r))], rel=1e-13)
    rows = pq.read_table(per_row).to_pydict()
    assert rows["id"] == keys.tolist()  # the predictions' order
    assert rows["mae"] == pytest.approx(np.abs(r).tolist(), rel=1e-15)
    assert f"{targets}: 37 rows have no prediction and were not used" in report.notices


DISTINCT = "; each row needs a distinct key"


@pytest.mark.parametrize(
    ("pred_ids", "target_ids", "message"),
    [
        ([1, 2, 3, 2, 9, 3], [1, 2, 3], "key column 'id' has 2 duplicate values in {p} (first: 2)" + DISTINCT),
        ([1, 5, 2, 6], [1, 2, 3], "{p}: 2 rows have a key 'id' that is not in {t} (first: 5)"),
        ([1, 2], [1, 2, 2, 1], "key column 'id' has 2 duplicate values in {t} (first: 2)" + DISTINCT),
        (["a", "b", "a"], ["a", "b"], "key column 'id' has 1 duplicate value in {p} (first: 'a')" + DISTINCT),
        ([1, None, 2, None], [1, 2], "key column 'id' has 2 missing values in {p} (first: row 1)"),
    ],
    ids=["repeated", "unmatched", "repeated targets", "repeated text", "missing"],
)
def test_key_errors_are_counted_over_the_whole_stream(
    cli: Any, tmp_path: Path, pred_ids: list[Any], target_ids: list[Any], message: str
) -> None:
    """Repeats and misses in different chunks (one row per chunk) are counted together, the first one named."""
    pq.write_table(pa.table({"id": pred_ids, "pred": np.zeros(len(pred_ids))}), tmp_path / "p.parquet")
    pq.write_table(pa.table({"id": target_ids, "target": np.ones(len(target_ids))}), tmp_path / "t.parquet")
    run = cli("eval", tmp_path / "p.parquet", "--targets", tmp_path / "t.parquet", "--on", "id", "-l", "mse",
              "--chunk-rows", "1", "-o", tmp_path / "out.json")  # fmt: skip
    assert run.code == 3 and not (tmp_path / "out.json").exists()
    expected = message.format(p=tmp_path / "p.parquet", t=tmp_path / "t.parquet")
    assert run.err == f"error: {expected}\n"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the address space from /proc")
def test_a_join_runs_in_a_proportionally_limited_address_space(tmp_path: Path) -> None:
    """20M shuffled rows must run under `ulimit -v 4G` (they crashed in pc.index_in); 1M rows get 1/20 of
    what 4 GB leaves above the address space of the same command on a tiny input."""
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    small_preds, small_targets, _ = _files(tiny, KEYS["dense integers"](np.random.default_rng(2), 100))
    out = tmp_path / "out.json"
    options = ["--on", "id", "-l", "mse", "-q", "-o", str(out)]
    base = address_space(["eval", str(small_preds), "--targets", str(small_targets), *options])
    preds, targets, residuals = _files(tmp_path, KEYS["dense integers"](np.random.default_rng(3), 1_000_000))
    run = run_limited(["eval", str(preds), "--targets", str(targets), *options], base + (4 * 2**30 - base) // 20)
    assert run.returncode == 0, run.stderr
    value = json.loads(out.read_text())["results"][0]["value"]
    assert value == pytest.approx(np.mean(np.array(list(residuals.values())) ** 2), rel=1e-12)
