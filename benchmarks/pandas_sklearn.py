"""What a user would write with pandas and scikit-learn's metrics.

    python benchmarks/pandas_sklearn.py {regression,binary,multiclass} PATH

Prints the losses as JSON. scikit-learn has no Huber metric, so huber (delta 1) is a NumPy formula; the binary
log loss is ``log_loss(label, prob)`` and the 10-class one ``log_loss`` of the softmax of the logits.
"""

import json
import sys

import numpy as np
import pandas as pd
from scipy.special import softmax
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error


def read(path: str, columns: list[str]) -> pd.DataFrame:
    if path.endswith(".csv"):
        return pd.read_csv(path, usecols=columns)
    return pd.read_parquet(path, columns=columns)


def regression(path: str) -> dict[str, float]:
    df = read(path, ["y_true", "y_pred"])
    y, p = df["y_true"], df["y_pred"]
    a = np.abs(p.to_numpy() - y.to_numpy())
    return {
        "mse": mean_squared_error(y, p),
        "mae": mean_absolute_error(y, p),
        "huber": np.mean(np.where(a <= 1.0, 0.5 * a**2, a - 0.5)),
    }


def binary(path: str) -> dict[str, float]:
    df = read(path, ["label", "prob"])
    return {"bce": log_loss(df["label"], df["prob"])}


def multiclass(path: str) -> dict[str, float]:
    logits = [f"logit_{k}" for k in range(10)]
    df = read(path, ["target", *logits])
    return {"cross_entropy": log_loss(df["target"], softmax(df[logits].to_numpy(), axis=1), labels=range(10))}


if __name__ == "__main__":
    task, path = sys.argv[1:3]
    result = {"regression": regression, "binary": binary, "multiclass": multiclass}[task](path)
    print(json.dumps({name: float(value) for name, value in result.items()}))
