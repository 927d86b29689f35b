"""Writes the bundled sample files (fixed seed, so the files are reproducible byte for byte).

    python sample_data/make_samples.py

- regression.csv: house-price-like regression with an ``id``, a ``segment`` and a few outliers;
- binary.parquet: a churn-like binary classifier's probabilities and logits;
- predictions.csv + targets.csv: the same ids in different orders, for ``--targets --on id``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent


def regression(rng: np.random.Generator, n: int = 500) -> pa.Table:
    segment = rng.choice(["north", "south", "east", "west"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    scale = np.where(segment == "west", 3.0, 1.0)  # one segment the model serves worse
    y_true = np.round(rng.gamma(4.0, 50.0, size=n), 2)
    y_pred = y_true + rng.normal(0.0, 12.0, size=n) * scale
    outliers = rng.choice(n, size=5, replace=False)
    y_pred[outliers] += rng.choice([-1, 1], size=5) * rng.uniform(150, 300, size=5)
    return pa.table(
        {
            "id": np.arange(1, n + 1),
            "segment": segment,
            "y_true": y_true,
            "y_pred": np.round(y_pred, 3),
        }
    )


def binary(rng: np.random.Generator, n: int = 800) -> pa.Table:
    plan = rng.choice(["basic", "pro"], size=n, p=[0.7, 0.3])
    logit_true = rng.normal(-1.2, 1.5, size=n) + np.where(plan == "pro", -0.8, 0.0)
    label = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit_true))).astype(np.int64)
    logit = logit_true + rng.normal(0.0, 0.7, size=n)
    return pa.table(
        {
            "customer": np.arange(10_000, 10_000 + n),
            "plan": plan,
            "label": label,
            "prob": np.round(1 / (1 + np.exp(-logit)), 6),
            "logit": np.round(logit, 6),
        }
    )


def write_csv(table: pa.Table, name: str) -> None:
    # The csv module, not pyarrow's writer: it quotes only what needs quotes, as people write CSV.
    with open(HERE / name, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows(zip(*(column.to_pylist() for column in table.columns), strict=True))


def main() -> None:
    rng = np.random.default_rng(20261129)
    reg = regression(rng)
    write_csv(reg, "regression.csv")
    pq.write_table(binary(rng), HERE / "binary.parquet")
    order = rng.permutation(reg.num_rows)
    write_csv(reg.select(["id", "y_pred"]), "predictions.csv")
    write_csv(reg.select(["id", "y_true"]).take(order), "targets.csv")


if __name__ == "__main__":
    main()
