"""``--targets --on``: the predictions are streamed past an index of the targets (lossctl/io/align.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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
        per_sample=str(per_row), missing="drop",
    )  # fmt: skip
    r = np.array(list(residuals.values()))
    assert [res.value for res in report.results] == pytest.approx([np.mean(r**2), np.mean(np.abs(r))], rel=1e-13)
    rows = pq.read_table(per_row).to_pydict()
    assert rows["id"] == keys.tolist()  # the predictions' order
    assert rows["mae"] == pytest.approx(np.abs(r).tolist(), rel=1e-15)
    held = pq.read_table(targets).column("id").to_pylist()
    first = next(row for row, key in enumerate(held) if key not in residuals)  # named by its key and its row
    unused = f"{targets}: 37 rows have a key 'id' that is not in {preds} (first: {held[first]!r} at row {first})"
    assert f'{unused}: dropped (missing="drop")' in report.notices
    assert report.input["rows_dropped"] == 0  # rows of the predictions file only


DISTINCT = "; each row needs a distinct key"
DROP = "; to leave such rows out, use --missing drop"


@pytest.mark.parametrize(
    ("pred_ids", "target_ids", "message"),
    [
        ([1, 2, 3, 2, 9, 3], [1, 2, 3], "key column 'id' has 2 duplicate values in {p} (first: 2 at row 3)" + DISTINCT),
        ([1, 5, 2, 6], [1, 2], "{p}: 2 rows have a key 'id' that is not in {t} (first: 5 at row 1)" + DROP),
        ([1, 2], [1, 2, 2, 1], "key column 'id' has 2 duplicate values in {t} (first: 2 at row 2)" + DISTINCT),
        (["a", "b", "a"], ["a", "b"], "key column 'id' has 1 duplicate value in {p} (first: 'a' at row 2)" + DISTINCT),
        ([1, None, 2, None], [1, 2], "key column 'id' has 2 missing values in {p} (first: row 1)" + DROP),
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


# Alignment that cannot silently go wrong (the first example: the same ids in another order, no --on).


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def reversed_files(tmp_path: Path) -> tuple[Path, Path]:
    preds = _csv(tmp_path / "preds.csv", "id,pred\n1,1.0\n2,2.0\n3,3.0\n4,4.0\n")
    targets = _csv(tmp_path / "targets.csv", "id,target\n4,8.0\n3,1.0\n2,0.0\n1,3.0\n")
    return preds, targets


def test_a_shared_id_in_another_order_without_on_is_an_error_naming_the_fix(
    cli: Any, tmp_path: Path, reversed_files: tuple[Path, Path]
) -> None:
    preds, targets = reversed_files
    out = tmp_path / "out.json"
    run = cli("eval", preds, "--targets", targets, "-l", "mse", "-o", out)
    assert run.code == 3 and not out.exists() and run.out == ""
    assert run.err == (
        f"error: column 'id' is 1 in {preds} but 4 in {targets} at row 0: rows are aligned by order and these "
        "are not the same rows; align them by key with --on id\n"
    )
    keyed = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mse", "-f", "json")
    assert json.loads(keyed.out)["results"][0]["value"] == pytest.approx(np.mean([2.0**2, 2.0**2, 2.0**2, 4.0**2]))


def test_columns_of_a_repeated_name_are_left_out_of_the_order_check(cli: Any, tmp_path: Path) -> None:
    """Both files as pandas writes a two-level unnamed index (',,id,...'): the two '' columns are no key to check."""
    (tmp_path / "p.csv").write_text(",,id,pred\na,x,1,2\nb,y,2,3\n")
    (tmp_path / "t.csv").write_text(",,id,target\nc,z,1,1\nd,w,2,2\n")
    run = cli("eval", tmp_path / "p.csv", "--targets", tmp_path / "t.csv", "-l", "mse", "-f", "json", "-q")
    assert (run.code, run.err) == (0, "")
    assert json.loads(run.out)["results"][0]["value"] == 1.0


def test_the_order_check_names_the_first_differing_row_of_any_chunk(cli: Any, tmp_path: Path) -> None:
    ids = [f"u{i}" for i in range(10)]
    preds = _csv(tmp_path / "p.csv", "user,pred\n" + "".join(f"{u},0.5\n" for u in ids))
    swapped = [*ids[:7], ids[8], ids[7], ids[9]]
    targets = _csv(tmp_path / "t.csv", "user,target\n" + "".join(f"{u},1\n" for u in swapped))
    run = cli("eval", preds, "--targets", targets, "-l", "mse", "--chunk-rows", "3")
    assert run.code == 3
    assert run.err.startswith(f"error: column 'user' is 'u7' in {preds} but 'u8' in {targets} at row 7: ")


def test_equal_shared_ids_and_shared_float_columns_pass_the_order_check(cli: Any, tmp_path: Path) -> None:
    """Only integer and text columns are likely keys: a float column both files hold may differ."""
    preds = _csv(tmp_path / "p.csv", "id,score,pred\n7,0.1,1\n8,0.2,2\n")
    targets = _csv(tmp_path / "t.csv", "id,score,target\n7,0.9,0\n8,0.8,0\n")
    run = cli("eval", preds, "--targets", targets, "-l", "mse", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(2.5)


def test_vector_columns_of_json_arrays_in_csv_are_no_likely_key(cli: Any, tmp_path: Path) -> None:
    """A CSV column of JSON arrays is a vector column (a Parquet list column, no key): two models' masks or
    embeddings that differ were 'rows are aligned by order and these are not the same rows; ... --on pmask'
    (exit 3) in compare and eval --targets; text keys that start with '[' but are no JSON array stay keys."""
    base = _csv(tmp_path / "b.csv", 'id,p,y,pmask\n1,0.2,0,"[0.1, 0.2]"\n2,0.7,1,"[0.3, 0.4]"\n')
    cand = _csv(tmp_path / "c.csv", 'id,p,y,pmask\n1,0.4,0,"[0.9, 0.8]"\n2,0.6,1,"[0.7, 0.6]"\n')
    run = cli("compare", base, cand, "-l", "brier", "--pred", "p", "--target", "y", "-f", "json")
    assert run.code == 0, run.err
    [record] = json.loads(run.out)["results"]
    assert (record["baseline"], record["candidate"]) == pytest.approx((0.065, 0.16), rel=1e-12)
    run = cli("eval", base, "--targets", cand, "-l", "brier", "--pred", "p", "--target", "y", "-f", "json")
    assert run.code == 0, run.err
    labels = _csv(tmp_path / "l.csv", "tag,p,y\n[CLS],0.2,0\n")
    other = _csv(tmp_path / "o.csv", "tag,p,y\n[SEP],0.4,0\n")
    run = cli("compare", labels, other, "-l", "brier", "--pred", "p", "--target", "y")
    assert run.code == 3 and run.err.startswith("error: column 'tag' is '[CLS]' in ")


def test_different_row_counts_name_the_shared_key_as_the_fix(cli: Any, tmp_path: Path) -> None:
    preds = _csv(tmp_path / "p.csv", "id,pred\n1,1\n2,2\n3,3\n")
    targets = _csv(tmp_path / "t.csv", "id,target\n1,1\n2,2\n")
    run = cli("eval", preds, "--targets", targets, "-l", "mse")
    assert run.err == (
        f"error: {preds} has 3 rows but {targets} has 2; rows are aligned by order, so the counts must match "
        "(or use --on id)\n"
    )


def test_rows_past_the_other_files_end_are_dropped_and_counted_with_missing_drop(cli: Any, tmp_path: Path) -> None:
    preds = _csv(tmp_path / "p.csv", "pred\n1\n2\n3\n")
    targets = _csv(tmp_path / "t.csv", "target\n0\n0\n")
    run = cli("eval", preds, "--targets", targets, "-l", "mse", "--missing", "drop", "-f", "json")
    doc = json.loads(run.out)
    assert doc["results"][0]["value"] == pytest.approx(2.5)
    assert (doc["input"]["rows"], doc["input"]["rows_used"], doc["input"]["rows_dropped"]) == (3, 2, 1)
    assert f"notice: {preds}: 1 row past the 2 rows of {targets} has no target: dropped (--missing drop)\n" in run.err
    fewer = cli("eval", targets, "--pred", "target", "--targets", preds, "--target", "pred", "-l", "mse",
                "--missing", "drop", "-f", "json")  # fmt: skip
    assert json.loads(fewer.out)["results"][0]["value"] == pytest.approx(2.5)
    assert (
        f"notice: {preds}: 1 row past the 2 rows of {targets} has no prediction: dropped (--missing drop)\n"
        in fewer.err
    )


def test_on_left_equals_right_joins_differently_named_keys(cli: Any, tmp_path: Path) -> None:
    preds = _csv(tmp_path / "p.csv", "sample,pred\n3,1\n1,2\n2,5\n")
    targets = _csv(tmp_path / "t.csv", "SampleID,target\n1,2\n2,4\n3,4\n9,0\n")
    per_row = tmp_path / "rows.csv"
    run = cli("eval", preds, "--targets", targets, "--on", "sample=SampleID", "-l", "mae", "--per-sample", per_row,
              "-f", "json", "--missing", "drop")  # fmt: skip
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx((3 + 0 + 1) / 3)
    assert per_row.read_text().splitlines() == ['"sample","mae"', "3,3", "1,0", "2,1"]
    assert (
        f"notice: {targets}: 1 row has a key 'SampleID' that is not in {preds} (first: 9 at row 3): dropped " in run.err
    )
    wrong = cli("eval", preds, "--targets", targets, "--on", "sample=Sample", "-l", "mae")
    assert wrong.code == 3 and wrong.err.startswith(f"error: column 'Sample' not found in {targets}")


def test_on_names_a_key_column_with_spaces_as_written_and_the_hint_quotes_it(cli: Any, tmp_path: Path) -> None:
    """--on stripped its names: a key column ' id ' could not be named ("column 'id' not found ...; did you mean
    ' id '?"), and the order check's fix read '--on  id ', which the shell splits."""
    preds = _csv(tmp_path / "p.csv", " id ,pred\n1,1.5\n2,2\n3,2\n")
    targets = _csv(tmp_path / "t.csv", " id ,target\n3,3\n1,1\n2,2\n")
    unkeyed = cli("eval", preds, "--targets", targets, "-l", "mse")
    assert unkeyed.code == 3 and unkeyed.err.endswith("align them by key with --on ' id '\n")
    keyed = cli("eval", preds, "--targets", targets, "--on", " id ", "-l", "mse", "-f", "json")
    assert keyed.code == 0 and json.loads(keyed.out)["results"][0]["value"] == pytest.approx((0.25 + 0 + 1) / 3)
    pair = cli("eval", preds, "--targets", targets, "--on", " id = id ", "-l", "mse", "-f", "json")
    assert pair.code == 0 and json.loads(pair.out)["results"][0]["value"] == pytest.approx((0.25 + 0 + 1) / 3)


@pytest.fixture
def regions(tmp_path: Path) -> tuple[Path, Path]:
    """The same ids in two regions: only the pair (region, id) identifies a row."""
    pq.write_table(
        pa.table({"region": ["eu", "us", "eu", "us", "eu"], "id": [1, 1, 2, 7, 3], "pred": [1.0, 2.0, 3.0, 4.0, 5.0]}),
        tmp_path / "p.parquet",
    )
    pq.write_table(
        pa.table({"id": [7.0, 1.0, 3.0, 1.0, 2.0, 2.0], "region": ["us", "us", "eu", "eu", "eu", "us"],
                  "target": [4.0, 1.0, 5.5, 1.0, 2.0, 9.0]}),
        tmp_path / "t.parquet",
    )  # fmt: skip
    return tmp_path / "p.parquet", tmp_path / "t.parquet"


@pytest.mark.parametrize("chunk_rows", [1, 2, None])
def test_a_composite_key_equals_pandas_merge(
    tmp_path: Path, regions: tuple[Path, Path], chunk_rows: int | None
) -> None:
    import pandas as pd

    preds, targets = regions
    per_row = tmp_path / "rows.parquet"
    report = lossctl.evaluate(preds, targets=targets, on=["region", "id"], losses="mse", per_sample=per_row,
                              chunk_rows=chunk_rows, missing="drop")  # fmt: skip
    merged = pd.read_parquet(preds).merge(pd.read_parquet(targets), on=["region", "id"], how="left")
    assert report.value("mse") == pytest.approx(float(np.mean((merged["pred"] - merged["target"]) ** 2)), rel=1e-15)
    rows = pq.read_table(per_row).to_pydict()
    assert rows["region"] == ["eu", "us", "eu", "us", "eu"] and rows["id"] == [1, 1, 2, 7, 3]
    assert rows["mse"] == pytest.approx(((merged["pred"] - merged["target"]) ** 2).tolist())
    assert (
        f"{targets}: 1 row has a key (region, id) that is not in {preds} (first: ('us', 2.0) at row 5): dropped "
        '(missing="drop")' in (report.notices)
    )


def test_composite_key_errors_name_every_column_and_the_first_value(cli: Any, tmp_path: Path) -> None:
    preds = _csv(tmp_path / "p.csv", "region,id,pred\neu,1,1\nus,1,2\nus,2,3\neu,5,4\n")
    targets = _csv(tmp_path / "t.csv", "region,id,target\neu,1,1\nus,1,2\nus,2,3\n")
    on = ("--on", "region", "--on", "id")
    run = cli("eval", preds, "--targets", targets, *on, "-l", "mse")
    assert (
        run.err
        == f"error: {preds}: 1 row has a key (region, id) that is not in {targets} (first: ('eu', 5) at row 3){DROP}\n"
    )
    repeated = _csv(tmp_path / "r.csv", "region,id,target\neu,1,1\nus,1,2\neu,1,3\n")
    run = cli("eval", preds, "--targets", repeated, *on, "-l", "mse")
    assert run.err == (
        f"error: key (region, id) has 1 duplicate value in {repeated} (first: ('eu', 1) at row 2); "
        "each row needs a distinct key\n"
    )


def test_unmatched_rows_are_dropped_counted_and_reported_with_missing_drop(cli: Any, tmp_path: Path) -> None:
    """A missing key claims nothing: the later row with key 0 (the fingerprint of a null) still finds its target."""
    preds = _csv(tmp_path / "p.csv", "id,pred\n5,1\n,7\n9,3\n0,4\n")
    targets = _csv(tmp_path / "t.csv", "id,target\n0,4\n5,0\n")
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mse", "--missing", "drop", "-f", "json")
    doc = json.loads(run.out)
    assert doc["results"][0]["value"] == pytest.approx(0.5)
    assert (doc["input"]["rows_used"], doc["input"]["rows_dropped"]) == (2, 2)
    assert (
        f"notice: {preds}: 1 row has a key 'id' that is not in {targets} (first: 9 at row 2); {preds}: 1 row has no "
        "key (first: row 1): dropped (--missing drop)\n"
    ) in run.err
    strict = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mse")
    assert strict.code == 3
    assert strict.err == f"error: key column 'id' has 1 missing value in {preds} (first: row 1){DROP}\n"


def test_the_prediction_is_guessed_in_the_predictions_file_before_the_targets_file(cli: Any, tmp_path: Path) -> None:
    """A ``pred`` column of the targets file beat the predictions' ``yhat`` (earlier among the default names): the
    wrong model was scored, 3.67 for 0.5, and the notice did not say from which file."""
    preds = _csv(tmp_path / "p.csv", "id,yhat\n1,0.5\n2,1.5\n3,2\n")
    targets = _csv(tmp_path / "t.csv", "id,target,pred\n3,3,0\n1,1,0\n2,1,0\n")
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mse", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(0.5)
    assert "notice: using column 'yhat' as pred (guessed from its name; set it with --pred)\n" in run.err
    assert lossctl.evaluate(preds, targets=targets, on="id", losses="mse")["mse"] == pytest.approx(0.5)
    no_pred = _csv(tmp_path / "n.csv", "id,other\n1,0.5\n2,1.5\n3,2\n")  # then the targets file's, named so
    run = cli("eval", no_pred, "--targets", targets, "--on", "id", "-l", "mse", "-f", "json")
    assert run.code == 0 and json.loads(run.out)["results"][0]["value"] == pytest.approx(11 / 3)
    assert f"notice: using column 'pred' of {targets} as pred (guessed from its name; set it with --pred)\n" in run.err


def test_a_date_key_matches_the_same_date_written_by_another_format(cli: Any, tmp_path: Path) -> None:
    """CSV reads 2024-01-03 as a date, JSON Lines as a timestamp, Parquet may hold the text: 'key column 'day' is
    date32[day] in p.csv but timestamp[s] in t.jsonl; the keys cannot be matched' before."""
    preds = _csv(tmp_path / "p.csv", "day,pred\n2024-01-01,0.5\n2024-01-02,1.5\n2024-01-03,2\n")
    rows = [("2024-01-03", 3), ("2024-01-01", 1), ("2024-01-02", 1)]
    stamps = _csv(tmp_path / "t.jsonl", "".join(json.dumps({"day": d, "target": t}) + "\n" for d, t in rows))
    texts = tmp_path / "t.parquet"
    pq.write_table(pa.table({"day": [d for d, _ in rows], "target": [float(t) for _, t in rows]}), texts)
    for targets in (stamps, texts):
        run = cli("eval", preds, "--targets", targets, "--on", "day", "-l", "mse", "-f", "json")
        assert run.code == 0, run.err
        assert json.loads(run.out)["results"][0]["value"] == pytest.approx(0.5)
    run = cli("eval", stamps, "--targets", preds, "--on", "day", "-l", "mse", "--pred", "target", "--target", "pred")
    assert run.code == 0, run.err
    late = _csv(tmp_path / "late.jsonl", json.dumps({"day": "2024-01-03T10:00:00", "target": 3}) + "\n")
    run = cli("eval", preds, "--targets", late, "--on", "day", "-l", "mse", "--missing", "drop")
    assert run.code == 3 and "all 3 rows were dropped for having no partner" in run.err  # 10:00 is not the day


def test_timestamp_keys_of_two_time_zones_match_as_the_same_instants(cli: Any, tmp_path: Path) -> None:
    """Predictions at timestamp[us, UTC], targets at timestamp[ms, Europe/Paris]: 'key column 'ts' is
    timestamp[us, tz=UTC] in p.parquet but timestamp[ms, tz=Europe/Paris] in t.parquet; the keys cannot be matched'
    (exit 3) before, while --by joins such keys as instants in UTC; now 01:00+01:00 matches 00:00Z."""
    hours = pa.array([0, 1, 2], pa.int64())
    utc = pc.multiply(hours, 3_600_000_000).cast(pa.timestamp("us", "UTC"))
    pq.write_table(pa.table({"ts": utc, "pred": [1.0, 2.0, 3.0]}), tmp_path / "p.parquet")
    paris = pc.multiply(hours[::-1], 3_600_000).cast(pa.timestamp("ms", "Europe/Paris"))
    pq.write_table(pa.table({"ts": paris, "target": [3.0, 2.0, 1.5]}), tmp_path / "t.parquet")
    preds, targets = tmp_path / "p.parquet", tmp_path / "t.parquet"
    run = cli("eval", preds, "--targets", targets, "--on", "ts", "-l", "mse", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(0.25 / 3)  # only 00:00Z is 1.5, not 1
    local = tmp_path / "l.parquet"  # a local time is no instant: still refused
    pq.write_table(pa.table({"ts": paris.cast(pa.timestamp("ms")), "target": [3.0, 2.0, 1.5]}), local)
    run = cli("eval", preds, "--targets", local, "--on", "ts", "-l", "mse")
    assert run.code == 3 and run.err.startswith("error: key column 'ts' is timestamp[us, tz=UTC]")
    assert run.err.count("\n") == 1


def test_int64_and_uint64_keys_match_by_value_past_2_to_the_63(cli: Any, tmp_path: Path) -> None:
    """An int64 key beside a uint64 one was compared as int64 (Arrow's widening): a uint64 id past 2^63 in the targets
    was 'internal error (ArrowInvalid: Integer value 18446744073709551615 not in range ...)' (exit 4); the order check
    compared them as doubles, an internal error past 2^53. Now they are compared by their text form, exactly."""
    big = 2**60
    pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "pred": [1.0, 2.0, 3.0]}), tmp_path / "p.parquet")
    ids = pa.array([3, 2, 1, 2**64 - 1], pa.uint64())
    pq.write_table(pa.table({"id": ids, "target": [1.0, 2.0, 3.0, 4.0]}), tmp_path / "t.parquet")
    preds, targets = tmp_path / "p.parquet", tmp_path / "t.parquet"
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mse", "--missing", "drop", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(8 / 3)
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mse")
    assert run.code == 3
    assert run.err.startswith(
        f"error: {targets}: 1 row has a key 'id' that is not in {preds} (first: '18446744073709551615'"
    )
    pq.write_table(pa.table({"id": pa.array([big + 1, big + 2], pa.int64()), "pred": [1.0, 2.0]}), preds)
    pq.write_table(pa.table({"id": pa.array([big + 1, big + 2], pa.uint64()), "target": [1.0, 2.0]}), targets)
    run = cli("eval", preds, "--targets", targets, "-l", "mse", "-f", "json")  # aligned by order: checked
    assert run.code == 0 and json.loads(run.out)["results"][0]["value"] == 0, run.err
    pq.write_table(pa.table({"id": pa.array([big + 1, big + 3], pa.uint64()), "target": [1.0, 2.0]}), targets)
    run = cli("eval", preds, "--targets", targets, "-l", "mse")
    assert run.code == 3
    assert run.err == (
        f"error: column 'id' is {big + 2} in {preds} but {big + 3} in {targets} at row 1: rows are aligned by order "
        "and these are not the same rows; align them by key with --on id\n"
    )


def test_a_target_key_its_common_type_cannot_hold_is_an_input_error(cli: Any, tmp_path: Path) -> None:
    """A float key in the predictions beside an int64 key past 2^53 in the targets was 'internal error (ArrowInvalid:
    Integer value 1152921504606846977 not in range: ...)' (exit 4), as the same key in the predictions was not."""
    preds, targets = tmp_path / "p.parquet", tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [1.0, 2.0], "pred": [1.0, 2.0]}), preds)
    pq.write_table(pa.table({"id": pa.array([1, 2, 2**60 + 1]), "target": [1.0, 2.0, 3.0]}), targets)
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mse", "--missing", "drop")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: key column 'id' in {targets}: Integer value 1152921504606846977 not in range: -9007199254740992 to "
        "9007199254740992\n"
    )


def test_a_bad_target_under_on_names_the_targets_file_and_how_rows_are_numbered(cli: Any, tmp_path: Path) -> None:
    """A missing or out-of-domain value in the targets file was 'column 'target' has 1 missing value (row 1;
    0-based)': row 1 of the predictions it joins to, while the bad cell is row 0 of t.csv, which was not named."""
    preds = _csv(tmp_path / "p.csv", "id,pred\n1,1\n2,2\n")
    missing = _csv(tmp_path / "t.csv", "id,target\n2,\n1,1\n")
    run = cli("eval", preds, "--targets", missing, "--on", "id", "-l", "mse", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: column 'target' of {missing} has 1 missing value (row 1; 0-based); use --missing drop to drop those "
        f"rows (rows are numbered as in {preds}, to which --on joins them)\n"
    )
    negative = _csv(tmp_path / "n.csv", "id,target\n2,-5\n1,1\n")
    run = cli("eval", preds, "--targets", negative, "--on", "id", "-l", "msle", "-q")
    assert run.code == 3 and run.err.startswith(f"error: msle: column 'target' of {negative} (target): expected")
    assert run.err.endswith(f"(rows are numbered as in {preds}, to which --on joins them)\n")
    bad_pred = _csv(tmp_path / "q.csv", "id,pred\n1,\n2,2\n")  # the predictions' own rows: as they were
    run = cli("eval", bad_pred, "--targets", _csv(tmp_path / "u.csv", "id,target\n2,1\n1,1\n"), "--on", "id", "-q")
    assert run.err.startswith("error: column 'pred' has 1 missing value (row 0; 0-based)") and "numbered" not in run.err


def test_decimal_keys_match_by_value_across_scales(cli: Any, tmp_path: Path) -> None:
    """A decimal --on key (decimal(38, 0) ids, prices) was exit 4: 'internal error (TypeError: no fingerprint for
    Arrow type decimal128(5, 2))'. Keys compare in their common decimal type (1.10 matches 1.100); a decimal
    against an integer key has no exact common type and is refused as other mismatched types are."""
    from decimal import Decimal

    def decimals(texts: list[str], scale: int) -> pa.Array:
        return pa.array([Decimal(t) for t in texts], pa.decimal128(scale + 3, scale))

    preds, targets, ints = tmp_path / "p.parquet", tmp_path / "t.parquet", tmp_path / "i.parquet"
    pq.write_table(pa.table({"d": decimals(["1.10", "2.20", "3.30"], 2), "pred": [1.0, 2.0, 3.0]}), preds)
    pq.write_table(pa.table({"d": decimals(["3.300", "1.100", "2.200"], 3), "target": [1.5, 2.0, 2.0]}), targets)
    pq.write_table(pa.table({"d": [3, 1, 2], "target": [1.5, 2.0, 2.0]}), ints)
    run = cli("eval", preds, "--targets", targets, "--on", "d", "-l", "mse", "-f", "json", "-q")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx((1.0 + 0.0 + 2.25) / 3, rel=1e-15)
    run = cli("eval", preds, "--targets", ints, "--on", "d", "-l", "mse", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: key column 'd' is decimal128(5, 2) in {preds} but int64 in {ints}; the keys cannot be matched: "
        "write them with one type in both files (integers or text)\n"
    )


def test_a_prediction_column_both_files_hold_is_not_taken_for_a_key(cli: Any, tmp_path: Path) -> None:
    """Integer predictions in both files (the targets file's from another model) are values, not a likely key:
    'column 'pred' is 0 in p.csv but 1 in t.csv at row 0 ... align them by key with --on pred' before."""
    preds = _csv(tmp_path / "p.csv", "id,pred,w\n1,0,1\n2,1,2\n3,2,1\n")
    targets = _csv(tmp_path / "t.csv", "id,target,pred,w\n1,0,1,5\n2,1,1,5\n3,2,2,5\n")
    run = cli("eval", preds, "--targets", targets, "-l", "mse", "--pred", "pred", "--weight", "w", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == 0.0
    shuffled = _csv(tmp_path / "s.csv", "id,target,pred\n2,1,1\n1,0,1\n3,2,2\n")  # the id still checked
    run = cli("eval", preds, "--targets", shuffled, "-l", "mse", "--pred", "pred")
    assert run.code == 3 and f"column 'id' is 1 in {preds} but 2 in {shuffled} at row 0" in run.err


@pytest.mark.parametrize("on", [["--on", "id"], ["--on", "id", "--on", "g"]], ids=["key", "composite"])
def test_a_targets_file_of_no_rows_leaves_every_prediction_without_a_partner(
    cli: Any, tmp_path: Path, on: list[str]
) -> None:
    """A header without rows was an internal error (ValueError: need at least one array to concatenate, exit 4)."""
    preds = _csv(tmp_path / "p.csv", "id,g,target,pred\n1,a,1,0.5\n2,a,1,1.5\n3,b,3,2\n")
    empty = _csv(tmp_path / "t.csv", "id,g,target,pred\n")
    for command in (["eval", preds, "--targets", empty], ["compare", preds, empty]):
        run = cli(*command, *on, "-l", "mse", "--pred", "pred")
        assert run.code == 3 and run.err.startswith(f"error: {preds}: 3 rows have a key "), run.err
        assert run.err.endswith(DROP[2:] + "\n")
        run = cli(*command, *on, "-l", "mse", "--pred", "pred", "--missing", "drop")
        assert run.code == 3
        assert run.err == "error: all 3 rows were dropped for having no partner: nothing left to evaluate\n"


def test_with_missing_drop_a_repeated_key_is_named_not_a_missing_one(cli: Any, tmp_path: Path) -> None:
    """--missing drop drops rows without a key; the repeat it cannot drop was reported as 'has 1 missing value'."""
    preds = _csv(tmp_path / "p.csv", "id,pred\n1,0.5\n,1.5\n3,2\n3,2\n")
    targets = _csv(tmp_path / "t.csv", "id,target\n1,1\n2,1\n3,3\n")
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mse", "--missing", "drop")
    assert run.code == 3 and run.out == ""
    assert run.err == (
        f"error: key column 'id' has 1 duplicate value in {preds} (first: 3 at row 3); each row needs a distinct key\n"
    )


@pytest.mark.parametrize(
    ("on", "message"),
    [
        (["=id"], "--on expects a key column KEY or LEFT=RIGHT, got '=id'"),
        (["id="], "--on expects a key column KEY or LEFT=RIGHT, got 'id='"),
        (["id", "id"], "--on names the predictions column 'id' twice"),
        (["a=id", "b=id"], "--on names the targets column 'id' twice"),
    ],
)
def test_malformed_on_is_a_usage_error(
    cli: Any, reversed_files: tuple[Path, Path], on: list[str], message: str
) -> None:
    preds, targets = reversed_files
    run = cli("eval", preds, "--targets", targets, *[arg for key in on for arg in ("--on", key)], "-l", "mse")
    assert (run.code, run.err) == (2, f"error: {message}\n")


def test_compare_in_lockstep_checks_shared_ids_and_joins_renamed_keys(cli: Any, tmp_path: Path) -> None:
    base = _csv(tmp_path / "a.csv", "id,pred,target\n1,1,1\n2,2,2\n3,3,4\n")
    cand = _csv(tmp_path / "b.csv", "id,pred,target\n3,3.5,4\n1,1,1\n2,2,2\n")
    run = cli("compare", base, cand, "-l", "mae")
    assert run.code == 3
    assert run.err.startswith(f"error: column 'id' is 1 in {base} but 3 in {cand} at row 0: ")
    renamed = _csv(tmp_path / "c.csv", "key,pred,target\n3,3.5,4\n1,1,1\n2,2,2\n")
    doc = json.loads(cli("compare", base, renamed, "--on", "id=key", "-l", "mae", "-f", "json").out)
    assert (doc["results"][0]["baseline"], doc["results"][0]["candidate"]) == pytest.approx((1 / 3, 0.5 / 3))
    for args, named in [((base, renamed), renamed), ((renamed, base), renamed)]:  # the file that lacks the key
        run = cli("compare", *args, "--on", "id", "-l", "mae")
        assert (run.code, run.err) == (3, f"error: column 'id' not found in {named}; columns are: key, pred, target\n")


def test_compare_of_a_baseline_of_no_rows_names_the_likely_key_as_the_fix(cli: Any, tmp_path: Path) -> None:
    """A baseline of a header only against a candidate of rows, by order: the fix said '--on KEY' (the key's type was
    taken from the baseline's batches, of which there were none), where eval --targets says '--on id'."""
    base = _csv(tmp_path / "a.csv", "id,pred,target\n")
    cand = _csv(tmp_path / "b.csv", "id,pred,target\n1,1,1\n2,2,2\n")
    run = cli("compare", base, cand, "-l", "mae", "-q")
    assert (run.code, run.out, run.err) == (
        3,
        "",
        f"error: {base} has 0 rows but {cand} has 2; rows are aligned by order, so the counts must match (or use "
        "--on id)\n",
    )


def test_a_nan_key_is_a_missing_key(cli: Any, tmp_path: Path) -> None:
    """--on a float key column holding NaN: the NaN keys of the two files were joined to each other (a NaN matched
    a NaN), where a NaN is a missing value; now a row whose key is NaN has no key, as a null key: an error, or with
    --missing drop a row dropped and counted."""
    nan = float("nan")
    base, cand = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(pa.table({"id": [0.0, nan, 2.0, 3.0], "pred": [0.1, 0.2, 0.3, 0.4], "target": [0, 1, 0, 1]}), base)
    pq.write_table(pa.table({"id": [3.0, 2.0, nan, 0.0], "pred": [0.1, 0.2, 0.3, 0.4], "target": [1, 0, 1, 0]}), cand)
    drop = "to leave such rows out, use --missing drop"
    run = cli("compare", base, cand, "--on", "id", "-l", "mse", "-q")
    assert (run.code, run.out, run.err) == (
        3,
        "",
        f"error: key column 'id' has 1 missing value in {cand} (first: row 2); {drop}\n",
    )
    run = cli("eval", cand, "--targets", base, "--on", "id", "--pred", "pred", "-l", "mse", "-q")
    assert (run.code, run.err) == (3, f"error: key column 'id' has 1 missing value in {base} (first: row 1); {drop}\n")
    run = cli("compare", base, cand, "--on", "id", "-l", "mse", "--missing", "drop", "-f", "json")
    doc = json.loads(run.out)
    assert run.code == 0 and doc["input"]["baseline"]["rows_dropped"] == 1
    assert (doc["results"][0]["n"], doc["results"][0]["baseline"]) == (3, pytest.approx((0.01 + 0.09 + 0.36) / 3))
    assert f"{cand}: 1 row has no key (first: row 2): dropped (--missing drop)" in run.err


def test_compare_on_a_key_counts_each_files_own_rows(cli: Any, tmp_path: Path) -> None:
    # The candidate's input record repeated the baseline's counts: 6 rows read as 5, its unmatched row not dropped.
    base = _csv(tmp_path / "a.csv", "id,pred,target\n1,1,1\n2,2,2\n3,3,4\n4,4,4\n5,5,5\n7,0,3\n")
    cand = _csv(tmp_path / "b.csv", "id,pred,target\n5,5,5\n4,4.5,4\n3,3,4\n2,2,2\n1,1,1\n9,9,9\n8,1,1\n")
    run = cli("compare", base, cand, "--on", "id", "-l", "mae", "--missing", "drop", "-f", "json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["input"]["baseline"] | {"path": None} == {"path": None, "rows": 6, "rows_used": 5, "rows_dropped": 1}
    assert doc["input"]["candidate"] | {"path": None} == {"path": None, "rows": 7, "rows_used": 5, "rows_dropped": 2}
    assert (doc["results"][0]["baseline"], doc["results"][0]["candidate"]) == pytest.approx((0.2, 0.3))


@pytest.mark.parametrize(
    "second",
    [
        np.array([-3, 5, 2**40, -(2**40)] * 50),  # integers whose range times the first's passes 2^62: hashed
        np.array([0.5, -0.0, 1e300, -2.25] * 50),  # floats: hashed, matched on their exact values
        np.array(["x", "y", "", "ü"] * 50),  # text: positions among the targets' distinct values
    ],
    ids=["wide integers", "floats", "text"],
)
def test_composite_keys_of_every_type_match_pandas_merge(tmp_path: Path, second: np.ndarray) -> None:

    rng = np.random.default_rng(4)
    first = np.repeat(np.arange(50) * 2**30, 4)  # with the wide integers: a range product past 2^62
    order = rng.permutation(len(first))
    targets = pa.table({"a": first[order], "b": second[order], "target": rng.normal(size=len(first))})
    keep = rng.permutation(len(first))[:150]
    preds = pa.table({"a": first[keep], "b": second[keep], "pred": rng.normal(size=150)})
    pq.write_table(targets, tmp_path / "t.parquet")
    pq.write_table(preds, tmp_path / "p.parquet")
    report = lossctl.evaluate(tmp_path / "p.parquet", targets=tmp_path / "t.parquet", on=["a", "b"], losses="mae",
                              chunk_rows=40, missing="drop")  # fmt: skip
    merged = preds.to_pandas().merge(targets.to_pandas(), on=["a", "b"], how="left")
    assert merged["target"].notna().all()
    assert report.value("mae") == pytest.approx(float(np.mean(np.abs(merged["pred"] - merged["target"]))), rel=1e-14)
    outside = pa.table({"a": [first[0], first[0] + 1], "b": second[:2], "pred": [0.0, 0.0]})  # a value no target has
    pq.write_table(outside, tmp_path / "o.parquet")
    with pytest.raises(lossctl.InputError, match="1 row has a key \\(a, b\\) that is not in"):
        lossctl.evaluate(tmp_path / "o.parquet", targets=tmp_path / "t.parquet", on=["a", "b"], losses="mae")


# Regressions of the alignment audit (branch audit-align).


@pytest.fixture
def preds_csv(tmp_path: Path) -> Path:
    return _csv(tmp_path / "P.csv", "id,pred\n1,1.0\n2,2.0\n3,3.5\n")


def test_an_integer_id_and_a_text_id_are_compared_by_their_text_form(cli: Any, tmp_path: Path, preds_csv: Path) -> None:
    """JSON Lines writes ids as text: the order check was skipped for 1 against "3" (a wrong number, exit 0)."""
    shuffled = _csv(tmp_path / "T.jsonl", '{"id":"3","target":3.0}\n{"id":"1","target":1.5}\n{"id":"2","target":2.0}\n')
    run = cli("eval", preds_csv, "--targets", shuffled, "-l", "mse", "-f", "csv", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: column 'id' is 1 in {preds_csv} but '3' in {shuffled} at row 0: rows are aligned by order and these "
        "are not the same rows; align them by key with --on id\n"
    )
    keyed = cli("eval", preds_csv, "--targets", shuffled, "--on", "id", "-l", "mse", "-f", "json", "-q")
    assert keyed.code == 0, keyed.err
    assert json.loads(keyed.out)["results"][0]["value"] == pytest.approx(0.5 / 3)
    same = _csv(tmp_path / "S.jsonl", '{"id":"1","target":1.5}\n{"id":"2","target":2.0}\n{"id":"3","target":3.0}\n')
    ordered = cli("eval", preds_csv, "--targets", same, "-l", "mse", "-f", "json", "-q")
    assert ordered.code == 0, ordered.err
    assert json.loads(ordered.out)["results"][0]["value"] == pytest.approx(0.5 / 3)


def test_dictionary_encoded_keys_join_and_are_checked_by_their_values(cli: Any, tmp_path: Path) -> None:
    """A pandas Categorical key (a Parquet dictionary column) is compared by its values, with --on and without."""
    ids = pa.array(["a", "b", "c"]).dictionary_encode()
    pq.write_table(pa.table({"id": ids, "pred": [1.0, 2.0, 3.5]}), tmp_path / "p.parquet")
    targets = _csv(tmp_path / "t.csv", "id,target\nc,3\na,1.5\nb,2\n")
    run = cli("eval", tmp_path / "p.parquet", "--targets", targets, "--on", "id", "-l", "mse", "-f", "json", "-q")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx((0.25 + 0 + 0.25) / 3)
    pq.write_table(pa.table({"id": pa.array(["c", "a", "b"]).dictionary_encode(), "target": [3.0, 1.5, 2.0]}),
                   tmp_path / "t.parquet")  # fmt: skip
    unkeyed = cli("eval", tmp_path / "p.parquet", "--targets", tmp_path / "t.parquet", "-l", "mse")
    assert unkeyed.code == 3 and unkeyed.err.startswith(
        f"error: column 'id' is 'a' in {tmp_path / 'p.parquet'} but 'c'"
    )


def test_with_targets_the_target_comes_from_the_targets_file_only(cli: Any, tmp_path: Path) -> None:
    """The predictions' own target column was used when the targets file had none (a wrong number, exit 0)."""
    preds = _csv(tmp_path / "P.csv", "id,pred,target\n1,1.0,100\n2,2.0,100\n3,3.5,100\n")
    no_target = _csv(tmp_path / "T.csv", "id,foo\n1,1\n2,2\n3,3\n")
    run = cli("eval", preds, "--targets", no_target, "-l", "mse", "-f", "csv")
    assert (run.code, run.out) == (3, "")
    assert run.err.endswith(
        f"error: no column for role 'target' in {no_target}: none of its columns (id, foo) is named target, y_true, "
        f"label, y, actual, truth; choose one with --target COLUMN (with --targets, the target is read from "
        f"{no_target} only)\n"
    )
    named = cli("eval", preds, "--targets", no_target, "--target", "target", "-l", "mse")
    assert (named.code, named.err) == (3, f"error: column 'target' not found in {no_target}; columns are: id, foo\n")
    both = _csv(tmp_path / "B.csv", "id,target\n1,1.5\n2,2\n3,3\n")
    taken = cli("eval", preds, "--targets", both, "-l", "mse", "-f", "json")
    assert json.loads(taken.out)["results"][0]["value"] == pytest.approx(0.5 / 3)
    assert f"notice: using column 'target' of {both} as target (guessed from its name; set it with --target)\n" in (
        taken.err
    )
    other = cli("eval", preds, "--targets", both, "--pred", "lbl", "-l", "mse")
    assert other.err == (
        f"error: column 'lbl' not found in {preds} (columns: id, pred, target) or {both} (columns: id, target)\n"
    )


def test_with_targets_no_other_role_reads_the_target_column(cli: Any, tmp_path: Path) -> None:
    """A name is one column of the joined rows, and the target's is the targets file's: '--pred target' (the
    predictions' own stale 'target' column meant), '--model m=target' and a '--pred *' glob read the target itself
    and scored it against itself (mse 0, or pooled into a multi-output prediction), exit 0. They are now refused
    as a column bound to two roles, and a glob skips the target as it skips every bound column."""
    preds = _csv(tmp_path / "P.csv", "id,a,target\n1,1.0,100\n2,2.0,100\n")
    truth = _csv(tmp_path / "T.csv", "id,target\n1,1.5\n2,3\n")
    hint = f"(with --targets, column 'target' is read from {truth})"
    run = cli("eval", preds, "--targets", truth, "--pred", "target", "-l", "mse", "-q")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: column 'target' is bound to two roles, target and pred (target guessed from its name, --pred "
        f"target); bind each column to one role {hint}\n"
    )
    model = cli("eval", preds, "--targets", truth, "--model", "m=target", "--model", "a=a", "-l", "mse", "-q")
    assert (model.code, model.out) == (2, "")
    assert model.err == (
        "error: column 'target' is bound to two roles, target and the pred of model 'm' (target guessed from its "
        f"name, --model m=target); bind each column to one role {hint}\n"
    )
    glob = cli("eval", preds, "--targets", truth, "--on", "id", "--pred", "[at]*", "-l", "mse", "-f", "json", "-q")
    assert glob.code == 0
    assert json.loads(glob.out)["columns"]["pred"] == ["a"]
    assert json.loads(glob.out)["results"][0]["value"] == pytest.approx((0.5**2 + 1) / 2)


def test_a_glob_of_a_role_skips_the_on_keys(cli: Any, tmp_path: Path) -> None:
    """'--pred *' beside '--on id' took the key for a prediction column ('the 2 columns id, pred are evaluated as
    one multi-output prediction', a wrong number, exit 0), though '--model *' skipped it: the keys align the rows.
    A glob of a role now skips them too; naming the key is still taken at its word."""
    preds = _csv(tmp_path / "P.csv", "id,pred\n1,1.0\n2,2.0\n")
    truth = _csv(tmp_path / "T.csv", "key,target\n2,3\n1,1.5\n")
    run = cli("eval", preds, "--targets", truth, "--on", "id=key", "--pred", "*", "-l", "mse", "-f", "json")
    assert run.code == 0 and "multi-output" not in run.err
    assert json.loads(run.out)["columns"]["pred"] == ["pred"]
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx((0.5**2 + 1) / 2)
    named = cli("eval", preds, "--targets", truth, "--on", "id=key", "--pred", "id", "-l", "mse", "-f", "json", "-q")
    assert json.loads(named.out)["results"][0]["value"] == pytest.approx((0.5**2 + 1) / 2)


def test_a_guess_skips_the_on_keys_and_the_weight_in_both_files(cli: Any, tmp_path: Path) -> None:
    """A guess took the key: '--on pred' made the predictions' key 'pred' the guessed pred (bce_logits on the ids,
    exit 0), '--on label' made the targets' key 'label' the guessed target (internal error, exit 4), and the
    guessed target of the targets file could be the --weight column (a usage error without --targets)."""
    for key in ("pred", "label"):
        preds = _csv(tmp_path / "P.csv", f"{key},score\n1,0.2\n2,0.4\n")
        truth = _csv(tmp_path / "T.csv", f"{key},y\n2,0\n1,1\n")
        run = cli("eval", preds, "--targets", truth, "--on", key, "-f", "json")
        assert run.code == 0, run.err
        doc = json.loads(run.out)
        assert doc["columns"] == {"pred": ["score"], "target": ["y"]}
        assert [r["loss"] for r in doc["results"]] == ["bce", "brier"]
        assert doc["results"][1]["value"] == pytest.approx((0.8**2 + 0.4**2) / 2)
    preds, truth = _csv(tmp_path / "Q.csv", "id,score\n1,0.2\n"), _csv(tmp_path / "W.csv", "id,y\n1,3\n")
    run = cli("eval", preds, "--targets", truth, "--on", "id", "--weight", "y", "-l", "mse")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"error: no column for role 'target' in {truth}: its default column 'y' is bound to the sample weight; "
        "choose one with --target COLUMN\n"
    )
    preds, truth = _csv(tmp_path / "Q.csv", "label,score\n1,0.2\n"), _csv(tmp_path / "K.csv", "label,w\n1,3\n")
    run = cli("eval", preds, "--targets", truth, "--on", "label", "-l", "mse")
    assert (run.code, run.out) == (2, "")
    assert run.err.endswith("its default column 'label' is bound to the --on key; choose one with --target COLUMN\n")


def test_the_key_named_as_the_target_is_read_as_data(cli: Any, tmp_path: Path) -> None:
    """'--on id --target id' ended in 'error: internal error (KeyError: Field "id" exists 2 times in schema)', exit
    4: the targets' key was attached beside the predictions' own 'id'. Named, the key is taken at its word, as
    '--pred id' is: its values are the predictions' key's, which the join made equal."""
    preds = _csv(tmp_path / "P.csv", "id,score\n1,0.2\n2,0.4\n3,2.5\n")
    truth = _csv(tmp_path / "T.csv", "id,y\n3,0\n2,0\n1,1\n")
    for chunk in ("1", "100"):
        run = cli("eval", preds, "--targets", truth, "--on", "id", "--target", "id", "-l", "mse", "--chunk-rows", chunk,
                  "-f", "json")  # fmt: skip
        assert run.code == 0, run.err
        assert json.loads(run.out)["results"][0]["value"] == pytest.approx((0.8**2 + 1.6**2 + 0.5**2) / 3)


def test_target_rows_without_a_prediction_are_an_error_unless_missing_drop(
    cli: Any, tmp_path: Path, preds_csv: Path
) -> None:
    extra = _csv(tmp_path / "Tx.csv", "id,target\n1,1.5\n2,2\n3,3\n4,9\n")
    run = cli("eval", preds_csv, "--targets", extra, "--on", "id", "-l", "mse", "-f", "json", "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: {extra}: 1 row has a key 'id' that is not in {preds_csv} (first: 4 at row 3); to leave such rows "
        "out, use --missing drop\n"
    )
    dropped = cli("eval", preds_csv, "--targets", extra, "--on", "id", "-l", "mse", "-f", "json", "--missing", "drop")
    doc = json.loads(dropped.out)
    assert doc["results"][0]["value"] == pytest.approx(0.5 / 3)
    assert doc["input"]["rows_dropped"] == 0  # rows of the predictions file; the notice counts the targets'
    assert (
        f"notice: {extra}: 1 row has a key 'id' that is not in {preds_csv} (first: 4 at row 3): dropped " in dropped.err
    )


def test_missing_drop_drops_target_rows_without_a_key_and_their_predictions(
    cli: Any, tmp_path: Path, preds_csv: Path
) -> None:
    no_key = _csv(tmp_path / "Tnk.csv", "id,target\n1,1.5\n,2\n3,3\n")
    run = cli("eval", preds_csv, "--targets", no_key, "--on", "id", "--missing", "drop", "-l", "mse", "-f", "json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["results"][0]["value"] == pytest.approx((0.25 + 0.25) / 2)
    assert (doc["input"]["rows_used"], doc["input"]["rows_dropped"]) == (2, 1)
    assert f"notice: {no_key}: 1 row has no key (first: row 1): dropped (--missing drop)\n" in run.err
    assert f"notice: {preds_csv}: 1 row has a key 'id' that is not in {no_key} (first: 2 at row 1): dropped" in run.err
    strict = cli("eval", preds_csv, "--targets", no_key, "--on", "id", "-l", "mse")
    assert strict.err == f"error: key column 'id' has 1 missing value in {no_key} (first: row 1){DROP}\n"


@pytest.mark.parametrize("ids", [[1, 1, 3, 7], ["a", "a", "c", "g"], [10**12, 10**12, 3, 7]],
                         ids=["dense", "text", "hashed"])  # fmt: skip
def test_missing_drop_uses_no_row_of_a_key_the_targets_repeat(cli: Any, tmp_path: Path, ids: list[Any]) -> None:
    pq.write_table(pa.table({"id": [ids[0], ids[2], ids[3]], "pred": [1.0, 3.5, 7.0]}), tmp_path / "p.parquet")
    pq.write_table(pa.table({"id": ids, "target": [1.5, 0.0, 3.0, 7.0]}), tmp_path / "t.parquet")
    preds, targets = tmp_path / "p.parquet", tmp_path / "t.parquet"
    run = cli("eval", preds, "--targets", targets, "--on", "id", "--missing", "drop", "-l", "mse", "-f", "json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["results"][0]["value"] == pytest.approx(0.25 / 2)
    assert (doc["input"]["rows_used"], doc["input"]["rows_dropped"]) == (2, 1)
    assert (
        f"notice: {targets}: 2 rows have a key 'id' that another row has too (first: {ids[0]!r}): dropped, every row "
        "of such a key (--missing drop)\n"
    ) in run.err
    assert (
        f"notice: {preds}: 1 row has a key 'id' that {targets} repeats (first: {ids[0]!r} at row 0): dropped" in run.err
    )
    strict = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mse")
    assert strict.err == (
        f"error: key column 'id' has 1 duplicate value in {targets} (first: {ids[0]!r} at row 1){DISTINCT}\n"
    )


def test_standard_input_is_named_so_in_the_order_check(tmp_path: Path) -> None:
    import subprocess
    import sys

    targets = _csv(tmp_path / "t.csv", "id,target\n3,1.5\n2,2\n1,3\n")
    run = subprocess.run(
        [sys.executable, "-m", "lossctl", "eval", "-", "--targets", str(targets), "-l", "mse"],
        input=b"id,pred\n1,1.0\n2,2.0\n3,3.5\n", capture_output=True, check=False,
    )  # fmt: skip
    assert run.returncode == 3
    assert run.stderr.decode() == (
        f"error: column 'id' is 1 in standard input but 3 in {targets} at row 0: rows are aligned by order and these "
        "are not the same rows; align them by key with --on id\n"
    )


def test_key_values_in_messages_are_spelled_as_the_file_holds_them(cli: Any, tmp_path: Path) -> None:
    """Dates, times and booleans as the file writes them, a missing key as ``missing``: not Python's spelling
    (``datetime.date(2024, 1, 3)``, ``True``, ``None``)."""
    preds = _csv(tmp_path / "p.csv", "day,pred\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n")
    targets = _csv(tmp_path / "t.csv", "day,target\n2024-01-01,1\n2024-01-02,2\n2024-01-04,3\n")
    run = cli("eval", preds, "--targets", targets, "--on", "day", "-l", "mse")
    assert run.code == 3
    assert (
        run.err
        == f"error: {preds}: 1 row has a key 'day' that is not in {targets} (first: 2024-01-03 at row 2){DROP}\n"
    )
    run = cli("eval", targets, "--pred", "target", "--targets", preds, "--target", "pred", "--on", "day", "-l", "mse")
    assert (
        run.err
        == f"error: {targets}: 1 row has a key 'day' that is not in {preds} (first: 2024-01-04 at row 2){DROP}\n"
    )
    run = cli("eval", preds, "--targets", targets, "--on", "day", "-l", "mse", "--missing", "drop")
    assert f"notice: {targets}: 1 row has a key 'day' that is not in {preds} (first: 2024-01-04 at row 2)" in run.err
    at = _csv(tmp_path / "a.csv", "at,pred\n2024-01-01 10:00:00,1\n2024-01-02 10:00:00,2\n")
    stamps = _csv(tmp_path / "s.csv", "at,target\n2024-01-01 10:00:00,1\n2024-01-01 10:00:00,2\n")
    run = cli("eval", at, "--targets", stamps, "--on", "at", "-l", "mse")
    assert run.err == (
        f"error: key column 'at' has 1 duplicate value in {stamps} (first: 2024-01-01 10:00:00 at row 1){DISTINCT}\n"
    )
    flags = _csv(tmp_path / "f.csv", "flag,pred\ntrue,1\nfalse,2\n")
    flagged = _csv(tmp_path / "ft.csv", "flag,target\ntrue,1\ntrue,2\n")
    run = cli("eval", flags, "--targets", flagged, "--on", "flag", "-l", "mse")
    assert run.err == f"error: key column 'flag' has 1 duplicate value in {flagged} (first: true at row 1){DISTINCT}\n"
    ids = _csv(tmp_path / "i.csv", "id,pred\n1,1\n2,2\n")
    no_id = _csv(tmp_path / "n.csv", "id,target\n1,1\n,2\n")
    run = cli("eval", ids, "--targets", no_id, "-l", "mse")
    assert run.err.startswith(f"error: column 'id' is 2 in {ids} but missing in {no_id} at row 1: ")


def test_missing_drop_tells_rows_without_a_partner_from_rows_with_missing_values(cli: Any, tmp_path: Path) -> None:
    """Row 1 (id 2) has no target row and a missing prediction: it counts once, as without a partner. The notice
    said 'dropped 2 of 5 rows with missing values' although only one row had a missing value."""
    preds = _csv(tmp_path / "p.csv", "id,pred\n1,1\n2,\n3,3\n4,4\n5,5\n")
    targets = _csv(tmp_path / "t.csv", "id,target\n1,1.5\n3,2.5\n4,\n5,5.5\n6,1\n")
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mse", "--missing", "drop", "-f", "json")
    assert run.code == 0
    doc = json.loads(run.out)
    assert (doc["input"]["rows"], doc["input"]["rows_used"], doc["input"]["rows_dropped"]) == (5, 3, 2)
    assert (
        f"notice: dropped 2 of 5 rows (--missing drop): 1 without a partner in {targets}, 1 with missing values "
        "(1 in column 'target')\n"
    ) in run.err
    by_order = cli("eval", preds, "--targets", _csv(tmp_path / "t3.csv", "target\n1\n2\n3\n"), "-l", "mse",
                   "--pred", "pred", "--missing", "drop", "-f", "json")  # fmt: skip
    assert by_order.code == 0 and json.loads(by_order.out)["input"]["rows_dropped"] == 3
    assert (
        f"notice: dropped 3 of 5 rows (--missing drop): 2 without a partner in {tmp_path / 't3.csv'}, 1 with missing "
        "values (1 in column 'pred')\n"
    ) in by_order.err
    past_end = cli("eval", _csv(tmp_path / "p4.csv", "pred\n1\n2\n3\n4\n"), "--targets", tmp_path / "t3.csv",
                   "-l", "mse", "--missing", "drop", "-f", "json")  # fmt: skip
    assert f"notice: dropped 1 of 4 rows without a partner in {tmp_path / 't3.csv'} (--missing drop)\n" in past_end.err


def test_rows_all_dropped_say_why(cli: Any, tmp_path: Path) -> None:
    preds = _csv(tmp_path / "p.csv", "id,pred\n1,1\n2,\n3,3\n")
    nobody = _csv(tmp_path / "t.csv", "id,target\n7,1\n")
    run = cli("eval", preds, "--targets", nobody, "--on", "id", "-l", "mse", "--missing", "drop", "-q")
    assert (run.code, run.err) == (
        3,
        "error: all 3 rows were dropped for having no partner: nothing left to evaluate\n",
    )
    some = _csv(tmp_path / "t2.csv", "id,target\n2,1\n")
    run = cli("eval", preds, "--targets", some, "--on", "id", "-l", "mse", "--missing", "drop", "-q")
    assert (run.code, run.err) == (
        3,
        "error: all 3 rows were dropped, 2 for having no partner and 1 for missing values (1 in column 'pred'): "
        "nothing left to evaluate\n",
    )


def test_a_targets_key_named_unlike_the_predictions_key_can_be_read_as_data(cli: Any, tmp_path: Path) -> None:
    """--on id=tid with --by tid / --weight tid: the targets' key column holds values like any other column
    (it was released after indexing and the run ended in an internal KeyError)."""
    preds = _csv(tmp_path / "p.csv", "id,pred\n3,1\n1,2\n2,5\n4,0\n")
    targets = _csv(tmp_path / "t.csv", "tid,target\n1,2\n2,4\n3,4\n4,1\n")
    frame = pd.merge(pd.read_csv(preds), pd.read_csv(targets), left_on="id", right_on="tid")
    loss = (frame.pred - frame.target).abs()
    for chunk in ("1", "100"):
        run = cli("eval", preds, "--targets", targets, "--on", "id=tid", "-l", "mae", "--by", "tid", "--chunk-rows",
                  chunk, "-f", "json")  # fmt: skip
        assert run.code == 0, run.err
        results = json.loads(run.out)["results"]
        assert {r["group"]["tid"]: r["value"] for r in results[1:]} == dict(zip(frame.tid, loss, strict=True))
        weighted = cli("eval", preds, "--targets", targets, "--on", "id=tid", "-l", "mae", "--weight", "tid",
                       "--chunk-rows", chunk, "-f", "json")  # fmt: skip
        value = json.loads(weighted.out)["results"][0]["value"]
        assert value == pytest.approx((loss * frame.tid).sum() / frame.tid.sum(), rel=1e-12)


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_on_ids_beyond_int64_in_text_files_stay_exact(tmp_path: Path, suffix: str) -> None:
    """pyarrow reads a column of integers beyond int64 as floats, where 2^64 - 1 and 2^64 - 2 are one value: two
    target rows were "duplicate" keys, and a prediction joined the target of another id (mse 8.0, exit 0). Key
    columns are kept as text then, on both sides, so each id is its own."""

    def write(name: str, rows: list[dict[str, int]]) -> Path:
        path = tmp_path / f"{name}.{suffix}"
        if suffix == "csv":
            path.write_text(",".join(rows[0]) + "\n" + "".join(",".join(map(str, r.values())) + "\n" for r in rows))
        else:
            path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path

    ids = [2**64 - 1, 2**64 - 2, 2**53 + 1, 1]
    preds = write("p", [{"id": i, "y_pred": k} for k, i in enumerate(ids)])
    targets = write("t", [{"id": i, "y_true": k + 10 * (i == 2**53 + 1)} for k, i in reversed(list(enumerate(ids)))])
    report = lossctl.evaluate(str(preds), targets=str(targets), on="id", losses="mse")
    assert report["mse"] == 100 / 4  # only the 2^53 + 1 row is 10 off
    other = write("o", [{"id": 2**64 - 2, "y_true": 0}, {"id": 1, "y_true": 3}])
    only_first = write("q", [{"id": 2**64 - 1, "y_pred": 0}, {"id": 1, "y_pred": 3}])
    with pytest.raises(
        lossctl.InputError, match=f"1 row has a key 'id' that is not in .*first: '{2**64 - 1}' at row 0"
    ):
        lossctl.evaluate(str(only_first), targets=str(other), on="id", losses="mse")


def test_compare_on_ids_beyond_int64_matches_each_id(tmp_path: Path) -> None:
    """As for --targets: the candidate's ids 2^64 - 1 and 2^64 - 2 were one float, a "duplicate" key (exit 3)."""
    baseline, candidate = tmp_path / "b.csv", tmp_path / "c.csv"
    baseline.write_text(f"id,y_true,y_pred\n{2**64 - 1},1,1\n{2**64 - 2},2,2\n")
    candidate.write_text(f"id,y_true,y_pred\n{2**64 - 2},2,5\n{2**64 - 1},1,1\n")
    report = lossctl.compare(str(baseline), str(candidate), on="id", losses="mse")
    assert (report.results[0].baseline, report.results[0].candidate) == (0.0, 4.5)


@pytest.mark.parametrize("kind", [pa.string_view(), pa.binary_view()], ids=str)
def test_view_keys_join_as_their_values(cli: Any, tmp_path: Path, kind: pa.DataType) -> None:
    # An Arrow file's string_view (or binary_view) key was 'internal error (TypeError: no fingerprint for Arrow type
    # string_view)', exit 4: it is now joined as the same text (or bytes) in an offsets layout.
    import pyarrow.feather as feather

    def keys(values: list[bytes]) -> pa.Array:
        return pa.array(values if kind == pa.binary_view() else [v.decode() for v in values], kind)

    preds, targets = tmp_path / "p.arrow", tmp_path / "t.arrow"
    feather.write_feather(pa.table({"id": keys([b"a", b"bb", b"ccc"]), "pred": [1.0, 2.0, 3.0]}), preds)
    feather.write_feather(pa.table({"id": keys([b"ccc", b"a", b"bb"]), "target": [3.5, 1.0, 2.0]}), targets)
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mae", "-f", "json", "-q")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(0.5 / 3, rel=1e-15)
    if kind == pa.binary_view():  # bytes that are no text stay bytes, and join as bytes
        table = pa.table({"id": keys([b"x\xff", b"y"]), "pred": [1.0, 2.0]})
        targets_table = pa.table({"id": keys([b"y", b"x\xff"]), "target": [2.0, 3.0]})
        assert lossctl.evaluate(table, targets=targets_table, on="id", losses="mae").value("mae") == 1.0


@pytest.mark.parametrize("nested", ["preds", "targets"])
def test_a_key_of_lists_or_structs_is_an_input_error_naming_it(cli: Any, tmp_path: Path, nested: str) -> None:
    # A list or struct --on key was 'internal error (TypeError: no fingerprint for Arrow type list<item: int64>)'.
    ids = pa.array([1, 2]) if nested == "targets" else pa.array([[1], [2]])
    other = pa.array([{"a": 1}, {"a": 2}]) if nested == "targets" else pa.array([2, 1])
    preds, targets = tmp_path / "p.parquet", tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": ids, "pred": [1.0, 2.0]}), preds)
    pq.write_table(pa.table({"id": other, "target": [2.0, 1.0]}), targets)
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mae")
    kind, path = ("struct<a: int64>", targets) if nested == "targets" else ("list<element: int64>", preds)
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: key column 'id' holds nested values ({kind}) in {path}, not one key per row; join on a column of "
        "text, numbers, booleans or dates\n"
    )


def test_per_sample_csv_writes_keys_of_bytes_that_are_not_text(cli: Any, tmp_path: Path) -> None:
    # --per-sample rows.csv beside an --on key of bytes that are not UTF-8 was 'internal error (ArrowInvalid: Invalid
    # UTF8 payload)', exit 4, from Arrow's CSV writer; the key is now written as JSON Lines writes it (\xff).
    preds, targets, rows = tmp_path / "p.parquet", tmp_path / "t.parquet", tmp_path / "rows.csv"
    pq.write_table(pa.table({"id": pa.array([b"\xff", b"a"]), "pred": [1.0, 2.0]}), preds)
    pq.write_table(pa.table({"id": pa.array([b"a", b"\xff"]), "target": [2.5, 1.0]}), targets)
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mae", "--per-sample", rows, "-q")
    assert run.code == 0, run.err
    assert rows.read_text().splitlines() == ['"id","mae"', '"\\xff",0', '"a",0.5']
    jsonl = tmp_path / "rows.jsonl"
    assert cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mae", "--per-sample", jsonl, "-q").code == 0
    assert [json.loads(line)["id"] for line in jsonl.read_text().splitlines()] == ["\\xff", "a"]


def test_per_sample_csv_and_json_lines_write_a_duration_key_alike(cli: Any, tmp_path: Path) -> None:
    # A duration[ms] --on key was the count of milliseconds in rows.csv (1) and seconds in rows.jsonl (0.001), as
    # the results' JSON and CSV write a duration --by key: the CSV now writes seconds too.
    preds, targets = tmp_path / "p.parquet", tmp_path / "t.parquet"
    for unit in ("ms", "ns"):
        ids = pa.array([1, 2500, 2**53 + 1], pa.duration(unit))
        pq.write_table(pa.table({"id": ids, "pred": [1.0, 2.0, 3.0]}), preds)
        pq.write_table(pa.table({"id": ids.take([2, 0, 1]), "target": [3.5, 1.0, 1.0]}), targets)
        written = {}
        for name in ("rows.csv", "rows.jsonl"):
            args = ["eval", preds, "--targets", targets, "--on", "id", "-l", "mae", "--per-sample", tmp_path / name]
            assert cli(*args, "-q").code == 0
            written[name] = (tmp_path / name).read_text().splitlines()
        seconds = [1 / 10**3, 2.5, (2**53 + 1) / 10**3] if unit == "ms" else [1e-9, 2.5e-6, (2**53 + 1) / 10**9]
        assert [json.loads(line)["id"] for line in written["rows.jsonl"]] == seconds
        assert [float(line.split(",")[0]) for line in written["rows.csv"][1:]] == seconds
        by = json.loads(
            cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mae", "--by", "id", "-f", "json").out
        )
        assert [result["group"]["id"] for result in by["results"][1:]] == seconds


def test_per_sample_csv_and_json_lines_write_timestamp_and_time_keys_alike(cli: Any, tmp_path: Path) -> None:
    # A timestamp[ns, tz=UTC] --on key was 1970-01-01 00:00:00.000000001Z in rows.csv, and
    # 1970-01-01T00:00:00.000000001+00:00 in rows.jsonl and the results; a whole second of a time64 key was
    # 00:00:01.000000000 in the CSV, 00:00:01 in JSON. The CSV now writes them as JSON Lines and the results do.
    path = tmp_path / "p.parquet"
    keys = {
        "stamp": (pa.timestamp("ns", tz="UTC"), "1970-01-01T00:00:00.000000001+00:00", "1970-01-01T00:00:01+00:00"),
        "naive": (pa.timestamp("us"), "1970-01-01T00:00:00.000001", "1970-01-01T00:00:01"),
        "clock": (pa.time64("ns"), "00:00:00.000000001", "00:00:01"),
    }
    ticks = {"stamp": [1, 10**9], "naive": [1, 10**6], "clock": [1, 10**9]}
    columns = {name: pa.array(ticks[name], kind) for name, (kind, _, _) in keys.items()}
    pq.write_table(pa.table({**columns, "pred": [1.0, 2.0], "target": [1.0, 1.0]}), path)
    for name, (_, first, second) in keys.items():
        written = {}
        for output in ("rows.csv", "rows.jsonl"):
            args = ["eval", path, "--targets", path, "--on", name, "-l", "mae", "--per-sample", tmp_path / output]
            assert cli(*args, "-q").code == 0
            written[output] = (tmp_path / output).read_text().splitlines()
        assert [json.loads(line)[name] for line in written["rows.jsonl"]] == [first, second]
        assert written["rows.csv"] == [f'"{name}","mae"', f'"{first}",0', f'"{second}",1']
        by = json.loads(cli("eval", path, "-l", "mae", "--by", name, "-f", "json", "-q").out)
        assert [result["group"][name] for result in by["results"][1:]] == [first, second]


def test_rows_aligned_by_order_check_decimal_ids_of_scale_0(cli: Any, tmp_path: Path) -> None:
    # A decimal(38, 0) id (Spark's, an Oracle NUMBER) in both files was not checked row by row, as integer and text
    # ids are: targets in another order were silently paired with the wrong predictions (mae 0.667, exit 0).
    import decimal

    ids = pa.array([decimal.Decimal(t) for t in ("12345678901234567890123", "12345678901234567890124", "7")])
    ids = ids.cast(pa.decimal128(38, 0))
    preds, shuffled, same = tmp_path / "p.parquet", tmp_path / "t.parquet", tmp_path / "s.parquet"
    pq.write_table(pa.table({"id": ids, "pred": [1.0, 2.0, 3.0]}), preds)
    pq.write_table(pa.table({"id": ids.take([1, 0, 2]), "target": [2.0, 1.0, 3.0]}), shuffled)
    pq.write_table(pa.table({"id": ids.cast(pa.decimal128(30, 0)), "target": [1.0, 2.0, 3.0]}), same)
    run = cli("eval", preds, "--targets", shuffled, "-l", "mae")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: column 'id' is 12345678901234567890123 in {preds} but 12345678901234567890124 in {shuffled} at row 0: "
        "rows are aligned by order and these are not the same rows; align them by key with --on id\n"
    )
    assert json.loads(cli("eval", preds, "--targets", same, "-l", "mae", "-f", "json").out)["results"][0]["value"] == 0


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_a_comma_list_given_to_on_says_how_to_give_a_composite_key(cli, write, command: str) -> None:
    # --on id,g said "column 'id,g' not found in p.csv ...; did you mean 'id'?", as if one column were misspelled.
    preds = write("p.csv", "id,g,pred\n0,a,1\n1,b,2\n")
    targets = write("t.csv", "id,g,target\n1,b,2\n0,a,3\n")
    run = cli(command, preds, *([preds] if command == "compare" else []), "--targets", targets, "--on", "id, g")
    assert (run.code, run.out) == (2, "")
    assert run.err == "error: --on 'id, g' names 2 columns; a composite key is --on id --on g\n"
    with pytest.raises(lossctl.UsageError, match=r"^on 'id,g' names 2 columns; a composite key is on=\['id', 'g'\]$"):
        lossctl.evaluate(preds, targets=targets, on="id,g", losses="mse")
    joined = cli(command, preds, *([preds] if command == "compare" else []), "--targets", targets, "--on", "id",
                 "--on", "g", "-l", "mae", "-f", "csv", "-q")  # fmt: skip
    assert joined.code == 0 and ",1.0," in joined.out.splitlines()[1]
