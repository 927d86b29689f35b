"""What a user would write with pandas and NumPy: read with pandas, compute with NumPy.

    python benchmarks/pandas_numpy.py {regression,binary,multiclass,ten} PATH

Prints the losses as JSON. ``regression``: mse, mae, huber (delta 1); ``binary``: bce (log loss, p clipped to
[eps, 1 - eps] as scikit-learn); ``multiclass``: softmax cross-entropy of logit_0..logit_9 against target;
``ten``: the ten regression losses of scenario 5 with lossctl's default parameters.
"""

import json
import sys

import numpy as np
import pandas as pd

EPS = np.finfo(np.float64).eps


def read(path: str, columns: list[str]) -> pd.DataFrame:
    if path.endswith(".csv"):
        return pd.read_csv(path, usecols=columns)
    return pd.read_parquet(path, columns=columns)


def regression(path: str) -> dict[str, float]:
    df = read(path, ["y_true", "y_pred"])
    r = df["y_pred"].to_numpy() - df["y_true"].to_numpy()
    a = np.abs(r)
    return {
        "mse": np.mean(r**2),
        "mae": np.mean(a),
        "huber": np.mean(np.where(a <= 1.0, 0.5 * r**2, a - 0.5)),
    }


def ten(path: str) -> dict[str, float]:
    df = read(path, ["y_true", "y_pred"])
    y = df["y_true"].to_numpy()
    p = df["y_pred"].to_numpy()
    r = p - y
    a = np.abs(r)
    return {
        "mse": np.mean(r**2),
        "rmse": np.sqrt(np.mean(r**2)),
        "mae": np.mean(a),
        "huber": np.mean(np.where(a <= 1.0, 0.5 * r**2, a - 0.5)),
        "smooth_l1": np.mean(np.where(a < 1.0, 0.5 * r**2, a - 0.5)),
        "log_cosh": np.mean(np.logaddexp(r, -r) - np.log(2.0)),
        "quantile": np.mean(np.maximum(0.5 * (y - p), (0.5 - 1.0) * (y - p))),
        "mape": np.mean(a / np.maximum(np.abs(y), EPS)),
        "smape": np.mean(2.0 * a / (np.abs(y) + np.abs(p))),
        "msle": np.mean((np.log1p(p) - np.log1p(y)) ** 2),
    }


def binary(path: str) -> dict[str, float]:
    df = read(path, ["label", "prob"])
    y = df["label"].to_numpy()
    p = df["prob"].to_numpy()
    ll = y * np.log(np.clip(p, EPS, 1 - EPS)) + (1 - y) * np.log(np.clip(1 - p, EPS, 1 - EPS))
    return {"bce": -np.mean(ll)}


def multiclass(path: str) -> dict[str, float]:
    logits = [f"logit_{k}" for k in range(10)]
    df = read(path, ["target", *logits])
    z = df[logits].to_numpy()
    t = df["target"].to_numpy()
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    return {"cross_entropy": np.mean(lse - z[np.arange(len(t)), t])}


if __name__ == "__main__":
    task, path = sys.argv[1:3]
    result = {"regression": regression, "ten": ten, "binary": binary, "multiclass": multiclass}[task](path)
    print(json.dumps({name: float(value) for name, value in result.items()}))
