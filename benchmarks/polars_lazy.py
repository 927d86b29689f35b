"""The same losses as polars lazy expressions over ``scan_parquet`` / ``scan_csv``.

    python benchmarks/polars_lazy.py {regression,binary,multiclass} PATH

Prints the losses as JSON (mse, mae, huber with delta 1; bce with p clipped as scikit-learn; softmax
cross-entropy of logit_0..logit_9 against target).
"""

import json
import sys

import polars as pl

EPS = 2.220446049250313e-16  # float64 machine epsilon, scikit-learn's log_loss clip


def scan(path: str) -> pl.LazyFrame:
    return pl.scan_csv(path) if path.endswith(".csv") else pl.scan_parquet(path)


def regression(frame: pl.LazyFrame) -> pl.LazyFrame:
    r = pl.col("y_pred") - pl.col("y_true")
    a = r.abs()
    return frame.select(
        mse=(r * r).mean(),
        mae=a.mean(),
        huber=pl.when(a <= 1.0).then(0.5 * r * r).otherwise(a - 0.5).mean(),
    )


def binary(frame: pl.LazyFrame) -> pl.LazyFrame:
    y, p = pl.col("label"), pl.col("prob")
    ll = y * p.clip(EPS, 1 - EPS).log() + (1 - y) * (1 - p).clip(EPS, 1 - EPS).log()
    return frame.select(bce=-ll.mean())


def multiclass(frame: pl.LazyFrame) -> pl.LazyFrame:
    logits = [pl.col(f"logit_{k}") for k in range(10)]
    m = pl.max_horizontal(logits)
    lse = m + pl.sum_horizontal([(z - m).exp() for z in logits]).log()
    picked = pl.coalesce([pl.when(pl.col("target") == k).then(z) for k, z in enumerate(logits)])
    return frame.select(cross_entropy=(lse - picked).mean())


if __name__ == "__main__":
    task, path = sys.argv[1:3]
    query = {"regression": regression, "binary": binary, "multiclass": multiclass}[task](scan(path))
    print(json.dumps(query.collect().row(0, named=True)))
