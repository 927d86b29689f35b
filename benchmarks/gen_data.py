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
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
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


GENERATORS: dict[str, Callable[[np.random.Generator, int, int], pa.RecordBatch]] = {
    "regression": regression,
    "binary": binary,
    "multiclass": multiclass,
}


def batches(kind: str, rows: int, seed: int) -> Iterator[pa.RecordBatch]:
    rng = np.random.default_rng(seed)
    for start in range(0, rows, CHUNK):
        yield GENERATORS[kind](rng, start, min(CHUNK, rows - start))


def write(path: Path, rows: int, kind: str, fmt: str, seed: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    first = next(batches(kind, min(rows, CHUNK), seed))
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


if __name__ == "__main__":
    main()
