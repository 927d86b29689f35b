"""Generate the benchmark inputs under benchmarks/data/ (fixed seeds; a file that exists is kept).

    python benchmarks/gen_data.py [--data DIR] [--scale S]

Every file is written to a temporary name and renamed when complete, so an interrupted run never leaves a
truncated file that a later run would take as cached. Large files are generated and written in chunks of
1M rows: the 50M-row CSV is never held in memory.

Regression values are positive (y_true = 0.5 + Gamma(2, 1.5), y_pred = y_true * LogNormal(0, 0.3)), so that
every regression loss is defined (msle needs values > -1, mape targets away from 0), and rounded to 6 decimals,
so the CSV (which holds each value's shortest representation) and the Parquet file hold the same numbers.
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CHUNK = 1_000_000
N_CLASSES = 10

# name -> (rows at scale 1, generator, format, seed)
FILES = {
    "regression_10m.parquet": (10_000_000, "regression", "parquet", 1),
    "regression_10m.csv": (10_000_000, "regression", "csv", 1),  # same seed: the same rows as the Parquet file
    "binary_10m.parquet": (10_000_000, "binary", "parquet", 2),
    "multiclass_1m.parquet": (1_000_000, "multiclass", "parquet", 3),
    "regression_50m.csv": (50_000_000, "regression", "csv", 4),
    "regression_1k.csv": (1_000, "regression", "csv", 5),
    "groups_10m.parquet": (10_000_000, "groups", "parquet", 1),  # seed 1: regression_10m's rows plus group keys
    "join_preds_20m.parquet": (20_000_000, "join_preds", "parquet", 6),
    "join_targets_20m.parquet": (20_000_000, "join_targets", "parquet", 6),  # same seed: the same ids and values
    "ranking_10m.parquet": (10_000_000, "ranking", "parquet", 7),
    "models_10m.parquet": (10_000_000, "models", "parquet", 8),
    "models_targets_10m.parquet": (10_000_000, "models_targets", "parquet", 8),  # same seed: the same rows
    "models_targets_shuffled_10m.parquet": (10_000_000, "models_targets_shuffled", "parquet", 8),
    "compare_baseline_20m.parquet": (20_000_000, "compare_baseline", "parquet", 9),
    "compare_candidate_20m.parquet": (20_000_000, "compare_candidate", "parquet", 9),  # same seed: same targets
}


def regression(rng: np.random.Generator, start: int, n: int) -> pa.RecordBatch:
    y_true = np.round(0.5 + rng.gamma(2.0, 1.5, n), 6)
    y_pred = np.round(y_true * rng.lognormal(0.0, 0.3, n), 6)
    return pa.record_batch({"id": np.arange(start, start + n, dtype=np.int64), "y_true": y_true, "y_pred": y_pred})


def binary(rng: np.random.Generator, start: int, n: int) -> pa.RecordBatch:
    score = rng.normal(0.0, 2.0, n)
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-score))).astype(np.int64)
    prob = 1.0 / (1.0 + np.exp(-(score + rng.normal(0.0, 1.0, n))))
    return pa.record_batch({"label": label, "prob": prob})


def multiclass(rng: np.random.Generator, start: int, n: int) -> pa.RecordBatch:
    target = rng.integers(0, N_CLASSES, n, dtype=np.int64)
    logits = rng.normal(0.0, 1.0, (n, N_CLASSES))
    logits[np.arange(n), target] += 1.5
    columns = {"target": target} | {f"logit_{k}": np.ascontiguousarray(logits[:, k]) for k in range(N_CLASSES)}
    return pa.record_batch(columns)


def groups(rng: np.random.Generator, start: int, n: int) -> pa.RecordBatch:
    """regression_10m's rows (same seed, same draws first) plus three group keys: 10 segment names,
    10,000 integer ids and 1,000,000 integer ids, all uniform."""
    batch = regression(rng, start, n)
    segment = pa.array(rng.integers(0, 10, n)).cast(pa.string())
    names = pa.compute.binary_join_element_wise("segment_", segment, "")
    return pa.record_batch(
        {
            "y_true": batch.column("y_true"),
            "y_pred": batch.column("y_pred"),
            "g10": names,
            "g10k": rng.integers(0, 10_000, n),
            "g1m": rng.integers(0, 1_000_000, n),
        }
    )


@functools.cache
def _join_rows(rows: int, seed: int) -> tuple[np.ndarray, ...]:
    """Both files of the join: ids 0..rows-1 in two independent random orders, values keyed by id."""
    rng = np.random.default_rng(seed)
    y_true = np.round(0.5 + rng.gamma(2.0, 1.5, rows), 6)
    y_pred = np.round(y_true * rng.lognormal(0.0, 0.3, rows), 6)
    return rng.permutation(rows), rng.permutation(rows), y_true, y_pred


def join_preds(rows: int, seed: int, start: int, n: int) -> pa.RecordBatch:
    ids, _, _, y_pred = _join_rows(rows, seed)
    part = ids[start : start + n]
    return pa.record_batch({"id": part, "y_pred": y_pred[part]})


def join_targets(rows: int, seed: int, start: int, n: int) -> pa.RecordBatch:
    _, ids, y_true, _ = _join_rows(rows, seed)
    part = ids[start : start + n]
    return pa.record_batch({"id": part, "y_true": y_true[part]})


@functools.cache
def _ranking_rows(rows: int, seed: int) -> tuple[np.ndarray, ...]:
    """Queries of 2 to 98 documents (50 on average) stored contiguously, relevance 0-4 from a noisy score."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 99, rows // 2 + 2)
    qid = np.repeat(np.arange(len(sizes)), sizes)[:rows]
    quality = rng.normal(size=rows)
    relevance = np.clip(np.round(quality + 2 + rng.normal(0, 0.7, rows)), 0, 4).astype(np.int64)
    return qid, quality + rng.normal(0, 1.0, rows), relevance


def ranking(rows: int, seed: int, start: int, n: int) -> pa.RecordBatch:
    qid, score, relevance = _ranking_rows(rows, seed)
    part = slice(start, start + n)
    return pa.record_batch({"qid": qid[part], "score": score[part], "relevance": relevance[part]})


@functools.cache
def _models_rows(rows: int, seed: int) -> dict[str, np.ndarray]:
    """Five models' predictions of one target, each row keyed by ``id`` and one of 4 text ``region`` values (the
    same ids in every region: only the pair identifies a row), and a random order of the rows."""
    rng = np.random.default_rng(seed)
    y_true = np.round(0.5 + rng.gamma(2.0, 1.5, rows), 6)
    models = {f"m{k}": np.round(y_true * rng.lognormal(0.0, 0.1 * k, rows), 6) for k in range(1, 6)}
    region = np.array(["north", "south", "east", "west"])[np.arange(rows) % 4]
    return {"id": np.arange(rows) // 4, "region": region, "y_true": y_true, **models, "order": rng.permutation(rows)}


def models(rows: int, seed: int, start: int, n: int) -> pa.RecordBatch:
    data = _models_rows(rows, seed)
    return pa.record_batch({name: data[name][start : start + n] for name in data if name != "order"})


def models_targets(rows: int, seed: int, start: int, n: int) -> pa.RecordBatch:
    data = _models_rows(rows, seed)
    return pa.record_batch({name: data[name][start : start + n] for name in ("id", "region", "y_true")})


def models_targets_shuffled(rows: int, seed: int, start: int, n: int) -> pa.RecordBatch:
    data = _models_rows(rows, seed)
    part = data["order"][start : start + n]
    return pa.record_batch({name: data[name][part] for name in ("id", "region", "y_true")})


def _compare_rows(seed: int, start: int, n: int, spread: float) -> pa.RecordBatch:
    """Rows of one model's predictions for ``compare``: the targets depend only on the seed and the row, so two
    files with one seed hold the same targets row for row; the predictions' noise depends on ``spread`` too."""
    y_true = np.round(0.5 + np.random.default_rng([seed, start]).gamma(2.0, 1.5, n), 6)
    noise = np.random.default_rng([seed, start, round(spread * 100)]).lognormal(0.0, spread, n)
    return pa.record_batch(
        {"id": np.arange(start, start + n, dtype=np.int64), "y_true": y_true, "y_pred": np.round(y_true * noise, 6)}
    )


def compare_baseline(rows: int, seed: int, start: int, n: int) -> pa.RecordBatch:
    return _compare_rows(seed, start, n, 0.3)


def compare_candidate(rows: int, seed: int, start: int, n: int) -> pa.RecordBatch:
    return _compare_rows(seed, start, n, 0.25)


# Generators given the whole file's rows and seed: row chunks cut from arrays made once for the file (shuffled
# ids, queries), or seeded by row (compare's files).
WHOLE: dict[str, Callable[[int, int, int, int], pa.RecordBatch]] = {
    "join_preds": join_preds,
    "join_targets": join_targets,
    "ranking": ranking,
    "models": models,
    "models_targets": models_targets,
    "models_targets_shuffled": models_targets_shuffled,
    "compare_baseline": compare_baseline,
    "compare_candidate": compare_candidate,
}

GENERATORS: dict[str, Callable[[np.random.Generator, int, int], pa.RecordBatch]] = {
    "regression": regression,
    "binary": binary,
    "multiclass": multiclass,
    "groups": groups,
}


def batches(kind: str, rows: int, seed: int) -> Iterator[pa.RecordBatch]:
    rng = np.random.default_rng(seed)
    for start in range(0, rows, CHUNK):
        if kind in WHOLE:
            yield WHOLE[kind](rows, seed, start, min(CHUNK, rows - start))
        else:
            yield GENERATORS[kind](rng, start, min(CHUNK, rows - start))


def write(path: Path, rows: int, kind: str, fmt: str, seed: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    first = next(batches(kind, rows, seed))
    if fmt == "parquet":
        with pq.ParquetWriter(tmp, first.schema) as writer:
            for batch in batches(kind, rows, seed):
                writer.write_batch(batch, row_group_size=CHUNK)
    else:
        options = pacsv.WriteOptions(quoting_header="none")
        with pacsv.CSVWriter(tmp, first.schema, write_options=options) as writer:
            for batch in batches(kind, rows, seed):
                writer.write_batch(batch)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--scale", type=float, default=1.0, help="row-count multiplier (smoke tests)")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    for name, (rows, kind, fmt, seed) in FILES.items():
        path = args.data / name
        if path.exists():
            continue
        n = rows if name.endswith("_1k.csv") else max(1000, int(rows * args.scale))
        print(f"generating {path} ({n:,} rows)", flush=True)
        write(path, n, kind, fmt, seed)
    twice = args.data / "groups_20m"  # the 10M-row groups file twice: a dataset with the same groups, twice the rows
    if not twice.exists():
        twice.mkdir()
        for part in ("part-0.parquet", "part-1.parquet"):
            (twice / part).symlink_to(Path("..") / "groups_10m.parquet")


if __name__ == "__main__":
    main()
