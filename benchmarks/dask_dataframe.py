"""mse, mae and huber (delta = 1) of a partitioned Parquet dataset with dask.dataframe, on a running cluster.

    python benchmarks/dask_dataframe.py SCHEDULER_ADDRESS DATASET_DIR

The competitor of ``lossctl eval DATASET_DIR --engine dask --scheduler ADDRESS -l mse,mae,huber``
(benchmarks/cluster.py): the same two columns read by the same workers, the three means computed in one graph.
Prints the values as JSON.
"""

from __future__ import annotations

import json
import sys

import dask
import dask.dataframe as dd
from distributed import Client


def main() -> None:
    address, path = sys.argv[1], sys.argv[2]
    with Client(address):
        frame = dd.read_parquet(path, columns=["y_true", "y_pred"])
        residual = frame["y_pred"] - frame["y_true"]
        absolute = residual.abs()
        huber = (0.5 * residual * residual).where(absolute <= 1.0, absolute - 0.5)
        mse, mae, hub = dask.compute((residual * residual).mean(), absolute.mean(), huber.mean())
    print(json.dumps({"mse": float(mse), "mae": float(mae), "huber": float(hub)}))


if __name__ == "__main__":
    main()
