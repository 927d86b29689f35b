"""The same losses as one DuckDB SQL query over the file.

    python benchmarks/duckdb_sql.py {regression,binary,multiclass} PATH
    python benchmarks/duckdb_sql.py join PREDICTIONS TARGETS

Prints the losses as JSON (mse, mae, huber with delta 1; bce with p clipped as scikit-learn; softmax
cross-entropy of logit_0..logit_9 against target). ``join`` computes mse, mae and huber of the predictions
joined with a targets file on ``id`` (lossctl's ``--targets TARGETS --on id``).
"""

import json
import sys

import duckdb

EPS = "2.220446049250313e-16"  # float64 machine epsilon, scikit-learn's log_loss clip

QUERIES = {
    "regression": """
        SELECT avg(r * r) AS mse,
               avg(abs(r)) AS mae,
               avg(CASE WHEN abs(r) <= 1.0 THEN 0.5 * r * r ELSE abs(r) - 0.5 END) AS huber
        FROM (SELECT y_pred - y_true AS r FROM {src})
    """,
    "binary": f"""
        SELECT -avg(label * ln(greatest(least(prob, 1 - {EPS}), {EPS}))
                    + (1 - label) * ln(greatest(least(1 - prob, 1 - {EPS}), {EPS}))) AS bce
        FROM {{src}}
    """,
    "multiclass": """
        SELECT avg(m + ln({sum_exp}) - CASE target {cases} END) AS cross_entropy
        FROM (SELECT *, greatest({logits}) AS m FROM {{src}})
    """.format(
        sum_exp=" + ".join(f"exp(logit_{k} - m)" for k in range(10)),
        cases=" ".join(f"WHEN {k} THEN logit_{k}" for k in range(10)),
        logits=", ".join(f"logit_{k}" for k in range(10)),
    ),
}


def source(path: str) -> str:
    return f"{'read_csv' if path.endswith('.csv') else 'read_parquet'}('{path}')"


if __name__ == "__main__":
    task, path = sys.argv[1:3]
    src = source(path)
    if task == "join":
        src = f"(SELECT y_pred, y_true FROM {src} JOIN {source(sys.argv[3])} USING (id))"
        task = "regression"
    connection = duckdb.connect()
    row = connection.execute(QUERIES[task].format(src=src)).fetchone()
    names = [column[0] for column in connection.description]
    print(json.dumps(dict(zip(names, row, strict=True))))
