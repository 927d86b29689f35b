"""Reference values for scenario 6: mse, mae and huber (delta 1) of a large CSV, streamed in bounded memory.

    python benchmarks/reference_stream.py PATH

Independent of lossctl's reader: pandas' C parser in chunks of 1M rows (its parsing error is an ulp or so per
value at most, far below the 1e-12 checked), per-row losses in NumPy, each chunk summed exactly by ``math.fsum``
and the chunk sums added by ``math.fsum`` again, so the means are accurate to a few ulps. Prints JSON.
"""

import json
import math
import sys

import numpy as np
import pandas as pd

if __name__ == "__main__":
    sums: dict[str, list[float]] = {"mse": [], "mae": [], "huber": []}
    rows = 0
    chunks = pd.read_csv(sys.argv[1], usecols=["y_true", "y_pred"], chunksize=1 << 20)
    for chunk in chunks:
        r = chunk["y_pred"].to_numpy(np.float64) - chunk["y_true"].to_numpy(np.float64)
        a = np.abs(r)
        sums["mse"].append(math.fsum(r * r))
        sums["mae"].append(math.fsum(a))
        sums["huber"].append(math.fsum(np.where(a <= 1.0, 0.5 * r * r, a - 0.5)))
        rows += len(r)
    print(json.dumps({name: math.fsum(parts) / rows for name, parts in sums.items()} | {"rows": rows}))
