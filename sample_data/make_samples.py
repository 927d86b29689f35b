"""Writes the bundled sample files (fixed seed, so the files are reproducible byte for byte).

    python sample_data/make_samples.py

- regression.csv: house-price-like regression with an ``id``, a ``segment`` and a few outliers;
- binary.parquet: a churn-like binary classifier's probabilities and logits;
- candidate.csv: regression.csv with every residual shrunk by 20% (a better model, for ``compare``);
- models.csv: three models' predictions of regression.csv's targets side by side (``--model``);
- predictions.csv + targets.csv: the same ids in different orders, for ``--targets --on id``;
- multiclass.parquet: a 5-class classifier's logits (logit_0..logit_4) and the label;
- segmentation.parquet: 40 small masks (64 pixels each) as list columns, probabilities and targets;
- boxes.csv: predicted and true boxes, 4 columns each (px1..py2, tx1..ty2);
- embeddings.parquet: paired query/document embeddings (list columns) for contrastive losses;
- ranking.csv: search results, several documents per query (qid), with graded relevance;
- partitioned/: regression.csv as a Hive-partitioned Parquet dataset, one directory per segment
  (``segment=north/part-0.parquet``...), for remote-style datasets and ``--engine dask``;
- multilabel.parquet: an image tagger's logits for 6 tags (logit_0..logit_5) and the 0/1 tags (tag_0..tag_5),
  with few tags per image (its own seed, so the files above do not change).
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


def candidate(reg: pa.Table) -> pa.Table:
    """The same rows with every residual shrunk by 20%: a better model of the same targets."""
    y_true, y_pred = reg.column("y_true").to_numpy(), reg.column("y_pred").to_numpy()
    return reg.set_column(3, "y_pred", pa.array(np.round(y_true + 0.8 * (y_pred - y_true), 3)))


def models(reg: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Three models of the same targets: one like regression.csv's, a sharper one, one biased upwards."""
    y_true = reg.column("y_true").to_numpy()
    noise = rng.normal(0.0, 12.0, size=len(y_true))
    columns = {
        "model_a": y_true + noise,
        "model_b": y_true + 0.7 * noise + rng.normal(0.0, 3.0, size=len(y_true)),
        "model_c": y_true + 8.0 + noise,
    }
    return (
        reg.select(["id", "segment", "y_true"])
        .append_column("model_a", pa.array(np.round(columns["model_a"], 3)))
        .append_column("model_b", pa.array(np.round(columns["model_b"], 3)))
        .append_column("model_c", pa.array(np.round(columns["model_c"], 3)))
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


def multiclass(rng: np.random.Generator, n: int = 600, classes: int = 5) -> pa.Table:
    label = rng.choice(classes, size=n, p=[0.4, 0.25, 0.2, 0.1, 0.05])
    logits = rng.normal(0.0, 1.0, size=(n, classes))
    logits[np.arange(n), label] += rng.uniform(0.5, 3.0, size=n)
    return pa.table({"label": label, **{f"logit_{k}": np.round(logits[:, k], 5) for k in range(classes)}})


def segmentation(rng: np.random.Generator, samples: int = 40, pixels: int = 64) -> pa.Table:
    truth = (rng.uniform(size=(samples, pixels)) < rng.uniform(0.05, 0.4, size=(samples, 1))).astype(np.float64)
    noise = rng.normal(0.0, 0.25, size=(samples, pixels))
    prob = np.clip(np.round(0.15 + 0.7 * truth + noise, 4), 0.0, 1.0)
    as_lists = {name: pa.array(list(values)) for name, values in (("mask", truth), ("prob", prob))}
    return pa.table({"image": np.arange(samples), **as_lists})


def boxes(rng: np.random.Generator, n: int = 200) -> pa.Table:
    x1, y1 = rng.uniform(0, 400, size=n), rng.uniform(0, 300, size=n)
    w, h = rng.uniform(20, 120, size=n), rng.uniform(20, 120, size=n)
    jitter = rng.normal(0.0, 8.0, size=(4, n))
    px1, py1 = x1 + jitter[0], y1 + jitter[1]
    px2, py2 = np.maximum(x1 + w + jitter[2], px1 + 1), np.maximum(y1 + h + jitter[3], py1 + 1)
    columns = {"px1": px1, "py1": py1, "px2": px2, "py2": py2, "tx1": x1, "ty1": y1, "tx2": x1 + w, "ty2": y1 + h}
    return pa.table({name: np.round(values, 2) for name, values in columns.items()})


def embeddings(rng: np.random.Generator, n: int = 256, width: int = 16) -> pa.Table:
    query = rng.normal(size=(n, width))
    document = query + rng.normal(0.0, 0.6, size=(n, width))
    return pa.table({"query": pa.array(list(np.round(query, 5))), "document": pa.array(list(np.round(document, 5)))})


def ranking(rng: np.random.Generator, queries: int = 30) -> pa.Table:
    qid, relevance, score = [], [], []
    for q in range(queries):
        docs = int(rng.integers(3, 12))
        graded = rng.choice([0, 1, 2, 3], size=docs, p=[0.5, 0.25, 0.15, 0.1])
        qid += [q] * docs
        relevance += graded.tolist()
        score += np.round(graded + rng.normal(0.0, 1.0, size=docs), 4).tolist()
    return pa.table({"qid": qid, "relevance": relevance, "score": score})


def multilabel(rng: np.random.Generator, n: int = 400, labels: int = 6) -> pa.Table:
    rates = np.array([0.25, 0.12, 0.06, 0.04, 0.02, 0.01])[:labels]
    tags = (rng.uniform(size=(n, labels)) < rates).astype(np.int64)
    logits = np.round(np.log(rates / (1 - rates)) + 2.5 * (tags - 0.3) + rng.normal(0.0, 1.2, (n, labels)), 4)
    columns = {f"logit_{k}": logits[:, k] for k in range(labels)} | {f"tag_{k}": tags[:, k] for k in range(labels)}
    return pa.table(columns)


def partitioned(reg: pa.Table) -> None:
    """regression.csv's rows in Hive layout: the ``segment`` column becomes the directories' key."""
    import pyarrow.compute as pc

    for segment in reg.column("segment").unique().to_pylist():
        directory = HERE / "partitioned" / f"segment={segment}"
        directory.mkdir(parents=True, exist_ok=True)
        rows = reg.filter(pc.equal(reg.column("segment"), segment)).drop_columns(["segment"])
        pq.write_table(rows, directory / "part-0.parquet", row_group_size=64)


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
    write_csv(candidate(reg), "candidate.csv")
    write_csv(models(reg, np.random.default_rng(20261206)), "models.csv")  # its own seed: the others are unchanged
    partitioned(reg)
    pq.write_table(binary(rng), HERE / "binary.parquet")
    order = rng.permutation(reg.num_rows)
    write_csv(reg.select(["id", "y_pred"]), "predictions.csv")
    write_csv(reg.select(["id", "y_true"]).take(order), "targets.csv")
    pq.write_table(multiclass(rng), HERE / "multiclass.parquet")
    pq.write_table(segmentation(rng), HERE / "segmentation.parquet")
    write_csv(boxes(rng), "boxes.csv")
    pq.write_table(embeddings(rng), HERE / "embeddings.parquet")
    write_csv(ranking(rng), "ranking.csv")
    pq.write_table(multilabel(np.random.default_rng(20261206)), HERE / "multilabel.parquet")


if __name__ == "__main__":
    main()
