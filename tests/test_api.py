"""The Python API of docs/cli.md ("Python API"): every kind of data in, typed reports out, streaming Metrics."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import inspect
import io
import json
import os
import pickle
import re
import subprocess
import sys
import typing
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.errors import spelled_as_flags
from lossctl.options import Options

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "regression.csv"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE)


@pytest.fixture(scope="module")
def expected(frame: pd.DataFrame) -> float:
    """The mse of the sample file, computed with plain NumPy."""
    return float(np.mean((frame["y_pred"].to_numpy() - frame["y_true"].to_numpy()) ** 2))


def _as_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


DATA_KINDS = {
    "str path": lambda frame, tmp: str(SAMPLE),
    "Path": lambda frame, tmp: SAMPLE,
    "pandas": lambda frame, tmp: frame,
    "polars": lambda frame, tmp: pl.from_pandas(frame),
    "polars lazy": lambda frame, tmp: pl.from_pandas(frame).lazy(),
    "arrow table": lambda frame, tmp: _as_table(frame),
    "record batch": lambda frame, tmp: _as_table(frame).combine_chunks().to_batches()[0],
    "batch reader": lambda frame, tmp: pa.RecordBatchReader.from_batches(
        _as_table(frame).schema, _as_table(frame).to_batches(max_chunksize=64)
    ),
    "dataset": lambda frame, tmp: ds.dataset(_parquet(frame, tmp)),
    "dict of arrays": lambda frame, tmp: {c: frame[c].to_numpy() for c in frame.columns},
    "dict of lists": lambda frame, tmp: {c: frame[c].tolist() for c in frame.columns},
    "binary stream": lambda frame, tmp: open(SAMPLE, "rb"),  # noqa: SIM115 (read to the end by evaluate)
}


def _parquet(frame: pd.DataFrame, tmp: Path) -> Path:
    pq.write_table(_as_table(frame), tmp / "r.parquet")
    return tmp / "r.parquet"


@pytest.mark.parametrize("kind", DATA_KINDS)
def test_every_kind_of_data_gives_the_files_number(kind: str, frame, expected, tmp_path: Path) -> None:
    data = DATA_KINDS[kind](frame, tmp_path)
    report = lossctl.evaluate(data, losses="mse,mae", by="segment")
    assert report["mse"] == pytest.approx(expected, rel=1e-15)
    west = frame[frame["segment"] == "west"]
    assert report.value("mae", group={"segment": "west"}) == pytest.approx(
        np.mean(np.abs(west["y_pred"] - west["y_true"])), rel=1e-14
    )


def test_arrays_take_the_scikit_learn_names(frame, expected) -> None:
    report = lossctl.evaluate(y_true=frame["y_true"], y_pred=frame["y_pred"].to_numpy(), losses=["mse"])
    assert report["mse"] == pytest.approx(expected, rel=1e-15)
    assert report.columns == {"target": ["y_true"], "pred": ["y_pred"]}
    w = np.arange(len(frame), dtype=float)
    weighted = lossctl.evaluate(y_true=frame["y_true"], y_pred=frame["y_pred"], sample_weight=w, losses="mae")
    residual = np.abs(frame["y_pred"] - frame["y_true"]).to_numpy()
    assert weighted["mae"] == pytest.approx(np.sum(w * residual) / np.sum(w), rel=1e-14)


def test_several_paths_are_one_dataset(expected, tmp_path: Path) -> None:
    report = lossctl.evaluate([SAMPLE, str(SAMPLE)], losses="mse")
    assert report.input["rows"] == 1000 and report["mse"] == pytest.approx(expected, rel=1e-14)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(lossctl.InputError, match="must have the same columns"):
        lossctl.evaluate([SAMPLE, other], losses="mse")


def test_two_dimensional_arrays_are_vector_roles() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 4))
    labels = rng.integers(0, 4, size=50)
    report = lossctl.evaluate({"label": labels, "logits": logits}, losses="ce", target="label", pred="logits")
    assert report["cross_entropy"] == pytest.approx(lossctl.get("ce")(labels, logits), rel=1e-14)


def _merged_into_itself() -> None:
    # metric.merge(metric) doubled its rows (and its value under reduction="sum") without a word.
    metric = lossctl.Metric("mae")
    metric.update([0.0, 1.0], [1.0, 1.0])
    metric.merge(metric)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: lossctl.evaluate(), lossctl.UsageError, "no data"),
        # "cannot evaluate a int": the value, then its type, as for lossctl.get(3)
        (
            lambda: lossctl.evaluate(42, losses="mse"),
            lossctl.UsageError,
            r"^cannot evaluate 42 \(int\): give a path, several paths, a pandas or polars DataFrame, a pyarrow Table",
        ),
        (
            lambda: lossctl.evaluate(object(), losses="mse"),
            lossctl.UsageError,
            r"^cannot evaluate <object .* \(object\): ",
        ),
        (lambda: lossctl.evaluate(y_true=[1.0]), lossctl.UsageError, "arrays need both y_true= and y_pred="),
        (lambda: lossctl.evaluate(SAMPLE, y_true=[1.0], y_pred=[1.0]), lossctl.UsageError, "not both"),
        (
            lambda: lossctl.evaluate(y_true=[1.0, 2.0], y_pred=[1.0]),
            lossctl.InputError,
            r"inconsistent numbers of samples: \[2, 1\]",
        ),
        (lambda: lossctl.evaluate(SAMPLE, losses="mse", pred="nope"), lossctl.InputError, "column 'nope' not found"),
        (  # a ragged list of lists was NumPy's bare ValueError ("inhomogeneous shape")
            lambda: lossctl.evaluate(
                {"y": [0, 1], "logits": [[1.0, 2.0], [3.0]]}, losses="ce", target="y", pred="logits"
            ),
            lossctl.InputError,
            r"^column 'logits' holds vectors of different lengths: row 0 has 2 values but row 1 has 1$",
        ),
        (
            lambda: lossctl.evaluate({"y": [0, 1], "logits": [1.0, [3.0]]}, losses="ce", target="y", pred="logits"),
            lossctl.InputError,
            r"^'logits' mixes values of different kinds \(numbers, lists, text\)$",
        ),
        (  # was pyarrow's ArrowNotImplementedError "Unsupported numpy type 15"
            lambda: lossctl.evaluate(y_true=np.array([1 + 1j, 2]), y_pred=[1.0, 2.0], losses="mse"),
            lossctl.InputError,
            r"^'y_true' must be a 1-D array or a 2-D array \(rows x values\) of numbers or labels, got values of type "
            "complex128$",
        ),
        (
            lambda: lossctl.evaluate(y_true=np.float64(1.0), y_pred=np.float64(2.0), losses="mse"),
            lossctl.InputError,
            r"^'y_true' must be a 1-D array .*, got shape \(\)$",
        ),
        (lambda: lossctl.evaluate(SAMPLE, losses="msee"), lossctl.UsageError, "did you mean mse"),
        # Options were named as command-line flags ("--reduction must be", "use --missing drop"): from Python they are
        # the keywords, as written in the call.
        (
            lambda: lossctl.evaluate(SAMPLE, losses=["mse"], reduction="median"),
            lossctl.UsageError,
            r"^reduction must be one of mean, sum, got 'median'$",
        ),
        (
            lambda: lossctl.evaluate(SAMPLE, losses=["mse"], ci=1.0),
            lossctl.UsageError,
            r"^ci must be in \(0, 1\), e\.g\. 0\.95, got 1$",
        ),
        (
            lambda: lossctl.evaluate(y_true=[1, float("nan")], y_pred=[1, 2], losses="mse"),
            lossctl.InputError,
            r"^column 'y_true' has 1 missing value \(row 1; 0-based\); use missing=\"drop\" to drop those rows$",
        ),
        (
            lambda: lossctl.evaluate(y_true=["a", "b"], y_pred=[0.1, 0.2], losses="bce"),
            lossctl.InputError,
            r"^column 'y_true' holds text labels \(the first, 'a', at row 0\); name the positive class with "
            r"positive=\"LABEL\"$",
        ),
        (
            lambda: lossctl.evaluate(y_true=["a", "b"], y_pred=[[0.1, 0.9], [0.2, 0.8]], losses="ce"),
            lossctl.InputError,
            r"; give the class order with classes=\"A,B,C\" \(class A is index 0, the first prediction column\)$",
        ),
        (
            lambda: lossctl.evaluate(SAMPLE, losses="mse", on="id"),
            lossctl.UsageError,
            r"^on needs targets: it names the key column shared by both files$",
        ),
        # An integer percent too large for a float escaped as Python's OverflowError (not a LossctlError)
        (
            lambda: lossctl.compare(SAMPLE, SAMPLE, losses="mse", fail_if_worse=10**400),
            lossctl.UsageError,
            r"^fail_if_worse takes a finite number, got 1000.*000$",
        ),
        (lambda: lossctl.evaluate(SAMPLE, losses=123), lossctl.UsageError, "^losses takes a string or a list of str"),
        # a dict gave its keys alone: params={"delta": 2} said "expected KEY=VALUE in --param, got 'delta'"
        (
            lambda: lossctl.evaluate(SAMPLE, losses="huber", params={"delta": 2}),
            lossctl.UsageError,
            r"^params takes a string or a list of strings, got dict \{'delta': 2\}$",
        ),
        # bytes gave their integers, and no message named the keyword: "expected strings, got int 109"
        (
            lambda: lossctl.evaluate(SAMPLE, losses="mse", fail_if=b"mse>1"),
            lossctl.UsageError,
            r"^fail_if takes a string or a list of strings, got bytes b'mse>1'$",
        ),
        (
            lambda: lossctl.compare(SAMPLE, SAMPLE, losses="mse", fail_if=["mse>1", 2]),
            lossctl.UsageError,
            r"^fail_if takes strings, got int 2$",
        ),
        (lambda: lossctl.Metric("mse").merge(3), lossctl.UsageError, "a Metric merges another Metric, not int"),
        (lambda: lossctl.get(3), lossctl.UsageError, r"a loss is named by a string .*, got 3 \(int\)$"),
        (lambda: lossctl.Metric(None), lossctl.UsageError, r"a loss is named by a string .*, got None \(NoneType\)$"),
        (_merged_into_itself, lossctl.UsageError, r"^a Metric cannot be merged into itself \(mae\): its rows"),
        # Dates, durations and complex numbers were read as their ticks or real parts (mse 2.5e30, a ComplexWarning).
        (
            lambda: lossctl.Metric("mse").update(pd.to_datetime(pd.Series(["2020-01-01", "2020-01-02"])), [1.0, 3.0]),
            lossctl.InputError,
            r"^'target' must be numeric, got values of type datetime64\[",
        ),
        (
            lambda: lossctl.get("mse")([1.0, 2.0], pa.array([1, 2], type=pa.timestamp("s"))),
            lossctl.InputError,
            r"^column 'pred' is not numeric: it has type timestamp\[s\]$",
        ),
        (
            lambda: lossctl.Metric("mae").update(np.array([1 + 1j, 2]), [1.0, 2.0]),
            lossctl.InputError,
            r"^'target' must be numeric, got values of type complex128$",
        ),
        (
            lambda: lossctl.Metric("ce").update([0, 1], pa.array([[2.0, 0.0, 0.0], [0.0, 2.0]])),
            lossctl.InputError,
            r"^column 'pred' holds vectors of different lengths: row 0 has 3 values but row 1 has 2$",
        ),
        # The first array's rows of different lengths were NumPy's bare "setting an array element with a sequence".
        (
            lambda: lossctl.Metric("mse").update([[1.0], [1.0, 2.0]], [1.0, 2.0]),
            lossctl.InputError,
            r"^column 'target' holds vectors of different lengths: row 0 has 1 value",
        ),
        # A polars query was an AttributeError ("'LazyFrame' object has no attribute 'to_numpy'"), not a ValueError.
        (
            lambda: lossctl.evaluate(y_true=pl.LazyFrame({"y": [1.0]}), y_pred=[1.0], losses="mse"),
            lossctl.InputError,
            r"^'y_true' is a polars LazyFrame, which holds no values until it is computed; give its \.collect\(\) \(a ",
        ),
        (
            lambda: lossctl.Metric("mse").update([1.0], pl.col("p")),
            lossctl.InputError,
            r"^'pred' is a polars Expr, which holds no values until it is computed; give the Series it selects$",
        ),
        # Two losses were a bare ValueError ("too many values to unpack (expected 1)").
        (
            lambda: lossctl.Metric("mse,mae"),
            lossctl.UsageError,
            r"^Metric takes one loss, not the list 'mse,mae': use one Metric per loss$",
        ),
        (lambda: lossctl.evaluate(SAMPLE, bootstrap="10"), lossctl.UsageError, r"bootstrap takes an integer, got '10'"),
        (lambda: lossctl.evaluate(SAMPLE, seed=1.5), lossctl.UsageError, r"seed takes an integer, got 1.5 \(float\)"),
        (lambda: lossctl.evaluate(SAMPLE, ci="0.9"), lossctl.UsageError, "ci takes a number, got '0.9'"),
        # None for an option with a value by default was a TypeError ("'<' not supported between ... 'NoneType'"),
        # and a choice given None said "got 'None'", as if the text 'None' had been given.
        (lambda: lossctl.evaluate(SAMPLE, bootstrap=None), lossctl.UsageError, r"^bootstrap takes an integer, got Non"),
        (lambda: lossctl.compare(SAMPLE, SAMPLE, seed=None), lossctl.UsageError, r"^seed takes an integer, got None$"),
        (
            lambda: lossctl.evaluate(SAMPLE, convention=None),
            lossctl.UsageError,
            r"^convention must be one of lossctl, torch, keras, sklearn, got None \(NoneType\)$",
        ),
        # These were AttributeErrors ('int' object has no attribute 'split') and a bare ValueError.
        (lambda: lossctl.evaluate(SAMPLE, pred=1), lossctl.UsageError, r"^pred takes a string, got 1 \(int\)$"),
        (lambda: lossctl.compare(SAMPLE, SAMPLE, target=["y"]), lossctl.UsageError, r"^target takes a string, got \["),
        (lambda: lossctl.evaluate(SAMPLE, cols=["var"]), lossctl.UsageError, r"^cols takes a mapping of roles to col"),
        (
            lambda: lossctl.evaluate(SAMPLE, cols={"var": 2}),
            lossctl.UsageError,
            r"^cols takes roles and columns as str",
        ),
        # A list of columns was written into the spec ("A=['a', 'b']"): "no column matches '['a''" (InputError).
        (
            lambda: lossctl.compare({"y": [0.0], "a": [1.0], "b": [2.0]}, models={"A": ["a"], "B": "b"}, target="y"),
            lossctl.UsageError,
            r"^models takes model names and columns as strings, e.g. \{'old': 'pred_v1', 'new': 'p_\*'\} \(several "
            r"columns as 'a,b,c'\); got \{'A': \['a'\], 'B': 'b'\}$",
        ),
        # A set was read as one object: "'y_true' must be a 1-D array or ..., got shape ()".
        (
            lambda: lossctl.evaluate(y_true={0.0, 1.0}, y_pred=[0.0, 1.0]),
            lossctl.InputError,
            r"^'y_true' is a set, which has no order, so its values cannot be paired with rows; give a list or an arr",
        ),
        (
            lambda: lossctl.get("mse")([0.0, 1.0], frozenset([0.0, 1.0])),
            lossctl.InputError,
            r"^'pred' is a frozenset, ",
        ),
        (
            lambda: lossctl.Metric("mae").update([0.0], [1.0], sample_weight={1.0}),
            lossctl.InputError,
            "'sample_weight' is",
        ),
        # A generator or another iterator was one object too: "'y_true' must be a 1-D array ..., got shape ()".
        (
            lambda: lossctl.evaluate(y_true=(x for x in [0.0, 1.0]), y_pred=[0.0, 1.0]),
            lossctl.InputError,
            r"^'y_true' is a generator, which has no length and can be read only once; give a list or an array$",
        ),
        (
            lambda: lossctl.Metric("mae").update([0.0], iter([1.0])),
            lossctl.InputError,
            r"^'pred' is an iterator \(list_iterator\), which has no length and can be read only once; give a list ",
        ),
        (
            lambda: lossctl.Metric("mae").update([0.0], [1.0], sample_weight=map(float, [1])),
            lossctl.InputError,
            r"^'sample_weight' is an iterator \(map\), ",
        ),
        (lambda: lossctl.get("mse")((x for x in [0.0]), [1.0]), lossctl.InputError, r"^'target' is a generator, "),
        # A column named beside the array of its role was "column 'x' not found in arrays; columns are: ...".
        (
            lambda: lossctl.evaluate(y_true=[0.0, 1.0], y_pred=[0.0, 1.0], pred="x"),
            lossctl.UsageError,
            r"^pred= names columns of data, and y_pred= gives that role as an array: give one of them$",
        ),
        # Beside y_pred=, models= was refused as "models and pred exclude each other", and cols= as "role 'pred' is
        # bound twice: by pred and by cols": keywords the caller did not give.
        (
            lambda: lossctl.evaluate(y_true=[0.0, 1.0], y_pred=[0.0, 1.0], models=["a=y_pred"]),
            lossctl.UsageError,
            r"^models= names columns of data, and y_pred= gives that role as an array: give one of them$",
        ),
        # targets= beside y_true= silently won: the y_true array was not used.
        (
            lambda: lossctl.evaluate(y_true=[0.0, 1.0], y_pred=[0.0, 1.0], targets={"y_true": [5.0, 5.0]}),
            lossctl.UsageError,
            r"^targets= takes the target from a second input, and y_true= gives that role as an array: give one ",
        ),
        (
            lambda: lossctl.evaluate(y_true=[0.0, 1.0], y_pred=[0.0, 1.0], cols={"target": "t"}),
            lossctl.UsageError,
            r'^cols=\{"target": \.\.\.\} names columns of data, and y_true= gives that role as an array: give one ',
        ),
        # A dict was one object too ("..., got shape ()"), or "'pred' must be numeric".
        (
            lambda: lossctl.evaluate(y_true=[0, 1], y_pred={"a": 1}),
            lossctl.InputError,
            r"^'y_pred' is a dict, not an array of values; give a list or an array \(a dict of named columns is data: "
            r"evaluate\(data, pred=COLUMN, target=COLUMN\)\)$",
        ),
        (lambda: lossctl.get("mse")([0.0, 1.0], {"a": 1}), lossctl.InputError, r"^'pred' is a dict, not an array"),
        # A path keyword given a number was os.fspath's bare TypeError; a yes/no keyword given "no" was taken as
        # True (truthy), so significant="no" gated on the intervals and distributions="no" computed them.
        (
            lambda: lossctl.evaluate(SAMPLE, per_sample=3),
            lossctl.UsageError,
            r"^per_sample takes a file path \(str or os.PathLike\), got int$",
        ),
        (
            lambda: lossctl.compare(SAMPLE, SAMPLE, targets=[1]),
            lossctl.UsageError,
            r"^targets takes a path, several paths, a pandas or polars DataFrame, .*, or a dict of arrays; got \[1\] "
            r"\(list\)$",
        ),
        (
            lambda: lossctl.compare(SAMPLE, SAMPLE, bootstrap=10, significant="no"),
            lossctl.UsageError,
            r"^significant takes True or False, got 'no' \(str\)$",
        ),
        (lambda: lossctl.evaluate(SAMPLE, distributions="no"), lossctl.UsageError, r"^distributions takes True or F"),
        # A bare TypeError ('int' object is not callable) once the first chunk was read.
        (
            lambda: lossctl.evaluate(SAMPLE, progress=3),
            lossctl.UsageError,
            r"^progress takes a function or None, got 3 ",
        ),
        (
            lambda: lossctl.evaluate(SAMPLE, notify="x"),
            lossctl.UsageError,
            r"^notify takes a function or None, got 'x' ",
        ),
        # decimal="." (the default's value) was accepted for data in memory, while decimal="," was refused.
        (
            lambda: lossctl.evaluate({"pred": [1.0], "target": [0.5]}, losses="mse", decimal="."),
            lossctl.UsageError,
            r"^decimal=\"\.\" applies to CSV and TSV input only, and the input is in memory \(",
        ),
        # A row's overflow was "the result is not a finite number (a float64 overflow)", without the row.
        (
            lambda: lossctl.get("mse")([1e200], [0.0]),
            lossctl.InputError,
            r"^mse: the loss overflows float64 at row 0 \(1 value\); rescale the inputs$",
        ),
        (
            lambda: lossctl.get("mse").per_sample([1, 1e200], [0, 0]),
            lossctl.InputError,
            r"^mse: the loss overflows float64 at row 1 \(1 value\); rescale the inputs$",
        ),
        # Weights whose sum overflows: sum(w l) / inf was returned as 0.0 (the command line's error).
        (
            lambda: lossctl.get("mse")([0, 0], [0.3, 0.7], sample_weight=[1e308, 1e308]),
            lossctl.InputError,
            r"^mse: the sum of the sample weights overflows float64; use smaller weights \(dividing every weight ",
        ),
    ],
)
def test_errors_are_value_errors_with_the_clis_messages_in_pythons_words(call, error, message: str) -> None:
    with warnings.catch_warnings(), pytest.raises(error, match=message) as raised:
        warnings.simplefilter("error")  # the error alone: no NumPy RuntimeWarning ("overflow encountered") first
        call()
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, lossctl.LossctlError)


_SCORES = {"pred": [0.5, -2.0, 1.0], "target": [-1, 1, 1]}  # binary scores: no default loss has a torch convention


@pytest.mark.parametrize(
    ("call", "python", "command_line"),
    [
        (
            lambda: lossctl.evaluate(SAMPLE, losses="mse", chunk_rows=0),
            "chunk_rows must be at least 1, got 0",
            "--chunk-rows must be at least 1, got 0",
        ),
        (
            lambda: lossctl.evaluate(SAMPLE, losses="mse", bootstrap=-1),
            "bootstrap needs at least 2 replicates, got -1",
            "--bootstrap needs at least 2 replicates, got -1",
        ),
        (
            lambda: lossctl.evaluate(SAMPLE, losses="mse", seed=-1),
            "seed must be between 0 and 2^64 - 1, got -1",
            "--seed must be between 0 and 2^64 - 1, got -1",
        ),
        (
            lambda: lossctl.evaluate(SAMPLE, losses="mse", by=["a", "a"]),
            "by names the column 'a' twice; give each by column once",
            "--by names the column 'a' twice; give each --by column once",
        ),
        (
            lambda: lossctl.compare(SAMPLE, SAMPLE, losses="mse", ci=1.5),
            "ci must be in (0, 1), e.g. 0.95, got 1.5",
            "--ci must be in (0, 1), e.g. 0.95, got 1.5",
        ),
        (
            lambda: lossctl.evaluate(SAMPLE, losses="mse", ci=95),
            "ci must be in (0, 1), e.g. 0.95, got 95; a percent? give ci=0.95",
            "--ci must be in (0, 1), e.g. 0.95, got 95; a percent? give --ci 0.95",
        ),
        (
            lambda: lossctl.compare(SAMPLE, SAMPLE, losses="mse", significant=True),
            "significant needs an interval of the deltas: add bootstrap=N (the paired bootstrap) or ci=LEVEL (the "
            "normal approximation)",
            "--significant needs an interval of the deltas: add --bootstrap N (the paired bootstrap) or --ci LEVEL "
            "(the normal approximation)",
        ),
        (
            lambda: lossctl.evaluate(SAMPLE, losses="mse", weight="w", cols={"weight": "w"}),
            'the sample weight is bound twice: by weight and by cols={"weight": ...}',
            "the sample weight is bound twice: by --weight and by --col weight=...",
        ),
        (
            lambda: lossctl.evaluate(SAMPLE, losses="huber", params=["huber.delta=1", "huber.delta=2"]),
            'params="huber.delta=2": huber.delta is given twice',
            "--param huber.delta=2: huber.delta is given twice",
        ),
        (
            lambda: lossctl.evaluate(SAMPLE, losses="mse", params="huber.delta=2"),
            "params=\"huber.delta=2\": loss 'huber' is not selected (add 'huber' to losses)",
            "--param huber.delta=2: loss 'huber' is not selected (add it with -l huber)",
        ),
        (
            lambda: lossctl.evaluate(_SCORES, convention="torch"),
            "no losses given, and the options leave none of the default losses of binary (scores, -1/1 labels) "
            "(hinge: no torch convention; squared_hinge: no torch convention); name the losses with losses",
            "no --loss given, and the options leave none of the default losses of binary (scores, -1/1 labels) "
            "(hinge: no torch convention; squared_hinge: no torch convention); name the losses with --loss",
        ),
    ],
)
def test_messages_name_options_as_python_keywords_and_as_flags_on_the_command_line(
    call, python: str, command_line: str
) -> None:
    """Messages name options as the caller spells them: ``chunk_rows`` in a Python call, ``--chunk-rows`` in the
    command the CLI runs (under :func:`lossctl.errors.spelled_as_flags`)."""
    with pytest.raises(lossctl.UsageError) as raised:
        call()
    assert str(raised.value) == python
    with spelled_as_flags(), pytest.raises(lossctl.UsageError) as raised:
        call()
    assert str(raised.value) == command_line


def test_the_signatures_list_every_option_with_the_options_defaults() -> None:
    defaults = {
        f.name: f.default for f in dataclasses.fields(Options) if f.init and f.default is not dataclasses.MISSING
    }
    for function in (lossctl.evaluate, lossctl.compare):
        parameters = inspect.signature(function).parameters
        assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        for name, parameter in parameters.items():
            if name in defaults and parameter.default is not inspect.Parameter.empty:
                assert parameter.default == defaults[name] or (parameter.default in ((), None)), name
        # The return types were imported for the type checker only: NameError: name 'Report' is not defined.
        hints = typing.get_type_hints(function)
        assert set(hints) == {*parameters, "return"} and hints["return"].__name__.endswith("Report")
        assert inspect.signature(function, eval_str=True).parameters["bootstrap"].annotation is int


def test_every_option_of_the_command_line_is_a_keyword_as_the_readme_maps_it() -> None:
    import typer

    from lossctl.cli import app

    renamed = {"loss": "losses", "param": "params", "col": "cols", "model": "models"}  # README, "Python API"
    output_only = {"output_format", "output", "plot", "plugin", "quiet", "debug"}
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for command, function, data in (("eval", lossctl.evaluate, {"paths"}), ("compare", lossctl.compare, set())):
        keywords = inspect.signature(function).parameters
        options = {renamed.get(p.name, p.name) for p in commands[command].params} - output_only - data
        assert options <= set(keywords), options - set(keywords)


def test_an_empty_list_of_losses_is_refused_as_an_empty_loss_name_is() -> None:
    # losses=[] (a list filtered down to nothing) silently evaluated the default losses: mse, rmse, mae, huber.
    for call in (lossctl.evaluate, lambda data, **kw: lossctl.compare(data, data, **kw)):
        with pytest.raises(lossctl.UsageError, match=r"^losses is empty: name at least one loss, or leave losses out"):
            call(SAMPLE, losses=[])
    assert [r.label for r in lossctl.evaluate(SAMPLE, losses=None)] == ["mse", "rmse", "mae", "huber"]


def test_positive_takes_a_number_or_a_boolean_as_the_command_line_writes_it() -> None:
    # positive=1 was an AttributeError ('int' object has no attribute 'strip').
    y, p = [0, 1, 1], [0.2, 0.6, 0.9]
    expected = lossctl.evaluate(y_true=y, y_pred=p, losses="bce", positive="1")["bce"]
    assert lossctl.evaluate(y_true=y, y_pred=p, losses="bce", positive=1)["bce"] == expected
    assert lossctl.evaluate(y_true=y, y_pred=p, losses="bce", positive=np.int64(1))["bce"] == expected
    flags = [False, True, True]
    assert lossctl.evaluate(y_true=flags, y_pred=p, losses="bce", positive=True)["bce"] == expected
    assert lossctl.evaluate(y_true=y, y_pred=p, losses="bce", positive=0)["bce"] != expected


def test_classes_take_numbers_and_booleans_as_the_command_line_writes_them() -> None:
    # classes=[1, 0] was refused: "expected strings, got int 1".
    data = {"y": [0, 1, 1, 0], "p1": [0.2, 0.7, 0.6, 0.1], "p0": [0.8, 0.3, 0.4, 0.9]}
    run = {"losses": "ce", "target": "y", "cols": {"pred": "p1,p0"}}
    expected = lossctl.evaluate(data, classes="1,0", **run)["ce"]
    assert expected != lossctl.evaluate(data, **run)["ce"]  # without classes, p1 is class 0
    for classes in ([1, 0], np.array([1, 0]), (np.int64(1), np.uint8(0)), ["1", 0]):
        assert lossctl.evaluate(data, classes=classes, **run)["ce"] == expected
    flags = data | {"y": [False, True, True, False]}
    assert lossctl.evaluate(flags, classes=[True, False], **run)["ce"] == expected
    report = lossctl.compare(data, data, classes=[1, 0], **run)
    assert report["ce"].baseline == expected
    with pytest.raises(lossctl.UsageError, match=r"^classes takes distinct class labels A,B,C, got '1,1'$"):
        lossctl.evaluate(data, classes=[1, np.int64(1)], **run)


def test_a_set_where_an_order_matters_is_refused() -> None:
    # classes={"cat", "dog"} took the set's order, which changes with PYTHONHASHSEED: categorical_ce was 0.364 in
    # one process and 1.243 in the next; losses= and by= sets reordered the results from run to run.
    data = {"y": ["cat", "dog", "cat"], "p_a": [0.8, 0.3, 0.6], "p_b": [0.2, 0.7, 0.4]}
    run = {"losses": "categorical_ce", "pred": "p_a,p_b", "target": "y"}
    assert lossctl.evaluate(data, classes=["cat", "dog"], **run)["categorical_ce"] == pytest.approx(0.3635480396729776)
    message = (
        r"^\w+ takes a string or a list of strings, got a (frozen)?set .*: a set has no order, and the order given"
    )
    for given in ({"classes": {"cat", "dog"}}, {"classes": frozenset(["cat", "dog"])}, {"by": {"y"}}):
        with pytest.raises(lossctl.UsageError, match=message):
            lossctl.evaluate(data, **(run | given))
    with pytest.raises(lossctl.UsageError, match=message):
        lossctl.compare(data, data, target="y", pred="p_a", losses={"mse", "mae"})


def test_get_takes_the_spec_strings_of_dash_l() -> None:
    y, p = np.array([0.0, 0.0]), np.array([0.5, 4.0])
    huber2 = lossctl.get("huber:delta=2")
    assert huber2(y, p) == lossctl.get("huber")(y, p, delta=2.0) == pytest.approx((0.125 + 6.0) / 2)
    assert huber2(y, p, delta=1.0) == lossctl.get("huber")(y, p)  # a keyword still wins
    assert lossctl.get("HUBER").name == "huber" and lossctl.get("l2").name == "mse"
    with pytest.raises(lossctl.UsageError, match="has no parameter 'beta'"):
        lossctl.get("huber:beta=2")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # Several losses were "unknown loss 'mse,mae'; did you mean smape, mse, mae?".
        (
            lambda: lossctl.get("mse,mae"),
            r"^get takes one loss, not the list 'mse,mae': lossctl\.evaluate\(data, losses='mse,mae'\) computes each$",
        ),
        (lambda: lossctl.get("total=mse+mae"), r"^get takes one loss, not the composite 'total=mse\+mae': lossctl\."),
        # Without its NAME= a composite was "unknown loss '0.5*mse+0.5*mae'".
        (
            lambda: lossctl.get("0.5*mse+0.5*mae"),
            r"^get takes one loss, not the composite '0\.5\*mse\+0\.5\*mae': lossctl\.evaluate\(data, "
            r"losses='total=0\.5\*mse\+0\.5\*mae'\) computes it$",
        ),
        (lambda: lossctl.Metric("mse+mae"), r"^Metric takes one loss, not the composite 'mse\+mae': use one Metric"),
        (
            lambda: lossctl.evaluate(SAMPLE, losses="mse+huber:delta=2"),
            r"^the composite 'mse\+huber:delta=2' needs a name, to report and gate it by: "
            r"losses='total=mse\+huber:delta=2'$",
        ),
        # torch's reduction="none" was "loss 'mse' supports only reduction mean, sum", naming no way to the rows.
        (
            lambda: lossctl.get("mse")([0.0], [1.0], reduction="none"),
            r'^reduction="none" is not a reduction lossctl takes: loss\.per_sample\(target, pred\) gives the per-row ',
        ),
        (lambda: lossctl.Metric("mae", reduction="none"), r"metric\.per_sample\(y_true, y_pred\) gives one batch's"),
        (lambda: lossctl.evaluate(SAMPLE, reduction="none"), r"takes: per_sample=PATH writes the per-row losses$"),
        # A Metric's setting or the CLI's --weight given to update() was "loss 'mse' has no role 'reduction'".
        (
            lambda: lossctl.Metric("mse").update([0.0], [1.0], reduction="sum"),
            r"^reduction is a setting of the Metric, fixed when it is made \(Metric\('mse', reduction=\.\.\.\)\); ",
        ),
        (
            lambda: lossctl.Metric("mse").update([0.0], [1.0], weight=[2.0]),
            r"^update\(\) takes the sample weights as sample_weight=, not weight=$",
        ),
        # Any other value did not say what it got.
        (lambda: lossctl.get("mse")([0.0], [1.0], reduction=1), r"^reduction must be one of mean, sum, got 1 \(int\)$"),
    ],
)
def test_one_loss_and_per_row_calls_are_pointed_to(call, message) -> None:
    with pytest.raises(lossctl.UsageError, match=message):
        call()
    assert lossctl.get("ce:class_weight=1,2").preset == {"class_weight": (1.0, 2.0)}  # a list value is one loss


def test_report_lookups(frame) -> None:
    report = lossctl.evaluate(frame, losses="huber:delta=1,huber:delta=5,mse", fail_if="mse>1000")
    direct = lossctl.get("huber")(frame["y_true"], frame["y_pred"], delta=5.0)
    assert report["huber:delta=5"] == report.value("huber:delta=5.0") == pytest.approx(direct, rel=1e-14)
    with pytest.raises(lossctl.UsageError, match=r"'huber' names several results \(huber:delta=1, huber:delta=5\)"):
        report["huber"]
    with pytest.raises(lossctl.UsageError, match="no result for 'mae'; the results are: huber:delta=1"):
        report["mae"]
    assert report["mean_squared_error"] == report["mse"]  # an alias names the loss too
    assert report.passed and report.checks[0].value == report["mse"]
    # Iterating gives the records; it was "a result is named by its loss ...; got 0 (int)" (Python tried report[0]).
    assert list(report) == report.results and [r.label for r in report] == ["huber:delta=1", "huber:delta=5", "mse"]
    grouped = lossctl.evaluate(frame, losses="mse", by="segment")
    with pytest.raises(lossctl.UsageError, match=r"group= takes the by= columns and their values"):
        grouped.value("mse", group="west")
    with pytest.raises(lossctl.UsageError, match=r"no group \{'segment': 'nowhere'\} in this report; its groups are: "):
        grouped.value("mse", group={"segment": "nowhere"})
    # A group of other columns listed the groups as if its values were wrong; a non-string name was an AttributeError.
    with pytest.raises(
        lossctl.UsageError, match=r"^group= takes the by= columns \(segment\) and their values; got \{'seg"
    ):
        grouped.value("mse", group={"seg": "west"})
    with pytest.raises(
        lossctl.UsageError, match=r"^group= takes the by= columns \(segment\) and their values; got \{\}$"
    ):
        grouped.value("mse", group={})
    with pytest.raises(lossctl.UsageError, match=r"^this report has no groups \(evaluated without by=\); got group="):
        report.value("mse", group={"segment": "west"})
    for key in (0, None, ("mse", "west")):
        with pytest.raises(lossctl.UsageError, match=r"^a result is named by its loss, a string such as 'mse' or 'hub"):
            grouped[key]  # type: ignore[index]
    failing = lossctl.evaluate(frame, losses="mse", fail_if="mse>1")
    assert not failing.passed


def test_to_dict_is_the_clis_json_and_to_pandas_its_csv(cli, frame) -> None:
    args = ["-l", "mse,mae", "--by", "segment", "--bootstrap", "20", "--seed", "3"]
    report = lossctl.evaluate(SAMPLE, losses="mse,mae", by="segment", bootstrap=20, seed=3)
    run = cli("eval", SAMPLE, *args, "-f", "json", "-q")
    assert json.loads(run.out) == json.loads(json.dumps(report.to_dict()))
    table = report.to_pandas()
    csv = pd.read_csv(__import__("io").StringIO(cli("eval", SAMPLE, *args, "-f", "csv", "-q").out))
    assert (
        list(table.columns)
        == list(csv.columns)
        == [*("loss", "params", "reduction", "value", "n", "ci_low", "ci_high", "segment")]
    )
    np.testing.assert_allclose(table["value"], csv["value"], rtol=1e-15)
    assert table["ci_low"].dtype == float and table["n"].tolist() == csv["n"].tolist()


def test_to_dict_is_the_callers_own_copy() -> None:
    # to_dict() handed out the report's own input, params and group keys: editing the document changed the report.
    report = lossctl.evaluate(SAMPLE, losses="mse,huber:delta=2", by="segment", fail_if="mse>1")
    before = report.to_dict()
    edited = report.to_dict()
    edited["input"]["rows"] = 0
    edited["results"][1]["group"]["segment"] = "zzz"
    edited["results"][0]["params"]["extra"] = 1
    edited["checks"][0]["params"]["extra"] = 1
    edited["groups"]["by"].append("other")
    assert report.to_dict() == before and report.input["rows"] == 500
    assert report.value("mse", group={"segment": "north"}) == before["results"][1]["value"]
    # So was a record's: editing results[6].to_dict()["params"] changed the parameters of every huber record.
    comparison = lossctl.compare(SAMPLE, SAMPLE, losses="huber:delta=2", by="segment", ci=0.9)
    for record in (*report.results, *report.checks, *comparison.results):
        edited = record.to_dict()
        for part in ("params", "group", "ci"):
            if edited.get(part):
                edited[part].clear()
    assert report.to_dict() == before and comparison.results[1].group == {"segment": "north"}
    assert comparison.results[0].params == {"delta": 2.0} and comparison.results[0].ci["level"] == 0.9


def test_a_file_opened_in_text_mode_is_read_as_one_opened_in_binary_mode(tmp_path: Path) -> None:
    # open(path) (Python's default text mode) and io.StringIO were a bare TypeError ("sequence item 0: expected a
    # bytes-like object, str found"); open(path, "rb") worked.
    expected = lossctl.evaluate(SAMPLE, losses="mse", by="segment").to_dict()["results"]
    with open(SAMPLE, encoding="utf-8") as text:
        assert lossctl.evaluate(text, losses="mse", by="segment").to_dict()["results"] == expected
    csv_text = io.StringIO(Path(SAMPLE).read_text(encoding="utf-8"))
    assert lossctl.evaluate(csv_text, losses="mse", by="segment").to_dict()["results"] == expected
    # input_format= with an open stream was refused: "input_format applies to files and streams, not to in-memory
    # data"; `lossctl eval - --input-format csv` takes it.
    semicolons = io.BytesIO(b"y_true;y_pred\n1,5;2\n2;3\n")
    assert lossctl.evaluate(semicolons, losses="mse", input_format="csv", delimiter=";", decimal=",")["mse"] == 0.625
    (tmp_path / "t.parquet").write_bytes(b"PAR1\xff\xfe" + bytes(64))
    with open(tmp_path / "t.parquet", encoding="utf-8") as binary, pytest.raises(lossctl.InputError) as raised:
        lossctl.evaluate(binary, losses="mse")
    assert str(raised.value).startswith("cannot read the text stream: its bytes are not utf-8 text (invalid start")


def test_integers_beyond_64_bits_read_as_the_command_line_reads_them(tmp_path: Path) -> None:
    # A list or a pandas object column holding 2**64 or 10**400 was a bare OverflowError ("Python int too large to
    # convert to C long"); the CLI reads such a CSV cell as a number (10**400 an infinite one) and a key as text.
    (tmp_path / "big.csv").write_text(f"y_true,y_pred,g\n{2**64},1,{2**64}\n2,3,{2**64 + 1}\n", encoding="utf-8")
    expected = lossctl.evaluate(tmp_path / "big.csv", losses="mse", by="g").to_dict()["results"]
    data = {"y_true": [2**64, 2], "y_pred": [1.0, 3.0], "g": [2**64, 2**64 + 1]}
    assert lossctl.evaluate(data, losses="mse", by="g").to_dict()["results"] == expected
    frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in data.items()})
    assert lossctl.evaluate(frame, losses="mse", by="g").to_dict()["results"] == expected
    assert lossctl.get("mse")(data["y_true"], data["y_pred"]) == expected[0]["value"]
    # Keys past int64 beside small ones were made floats by NumPy: 2**63 and 2**63 + 1 were one group, of n=2.
    (tmp_path / "u64.csv").write_text(f"y_true,y_pred,g\n1,0.5,{2**63}\n2,1,{2**63 + 1}\n3,2,1\n", encoding="utf-8")
    expected = lossctl.evaluate(tmp_path / "u64.csv", losses="mse", by="g").to_dict()["results"]
    keys = {"y_true": [1, 2, 3], "y_pred": [0.5, 1, 2], "g": [2**63, 2**63 + 1, 1]}
    assert lossctl.evaluate(keys, losses="mse", by="g").to_dict()["results"] == expected and len(expected) == 4
    for call in (
        lambda: lossctl.evaluate(y_true=[10**400, 2], y_pred=[1.0, 3.0], losses="mse"),
        lambda: lossctl.get("mse")([10**400, 2], [1.0, 3.0]),
    ):
        with pytest.raises(lossctl.InputError, match=r"infinite value"):
            call()


def test_to_pandas_gives_a_boolean_key_the_nullable_boolean_dtype() -> None:
    # It was an object column of True, False and None, where an integer key is Int64.
    data = {"y_true": [1.0, 3.0, 2.0], "y_pred": [1.0, 2.0, 4.0], "flag": [True, False, True]}
    table = lossctl.evaluate(data, losses="mse", by="flag").to_pandas()
    assert str(table["flag"].dtype) == "boolean" and table["flag"].tolist() == [pd.NA, True, False]
    assert table["value"].tolist() == [5 / 3, 2.0, 1.0]


def test_to_pandas_keeps_integer_keys_past_2_to_the_53_exact() -> None:
    # The overall row's missing key made the column float64: the key 2^53 + 1 came back as 2^53.
    data = {"y_true": [1.0, 3.0, 2.0], "y_pred": [1.0, 2.0, 4.0], "k": [2**53 + 1, -(2**63), 2**53 + 1]}
    table = lossctl.evaluate(data, losses="mse", by="k").to_pandas()
    assert str(table["k"].dtype) == "Int64" and table["k"].tolist() == [pd.NA, 2**53 + 1, -(2**63)]
    unsigned = pa.table({"y_true": [1.0, 3.0], "y_pred": [1.0, 2.0], "k": pa.array([2**64 - 1, 0], pa.uint64())})
    table = lossctl.evaluate(unsigned, losses="mse", by="k").to_pandas()
    assert str(table["k"].dtype) == "UInt64" and table["k"].tolist() == [pd.NA, 2**64 - 1, 0]


def test_compare_returns_a_compare_report(frame) -> None:
    better = frame.assign(y_pred=frame["y_true"] + (frame["y_pred"] - frame["y_true"]) / 2)
    report = lossctl.compare(frame, better, losses=["mse", "mae"], bootstrap=50, fail_if_worse=1)
    assert isinstance(report, lossctl.CompareReport)
    assert report["mae"].verdict == "better" and report.value("mae") == pytest.approx(-report["mae"].baseline / 2)
    assert report.passed and report.checks[0].threshold == 0.01
    assert list(report.to_pandas().columns[:5]) == ["loss", "params", "reduction", "baseline", "candidate"]
    worse = lossctl.compare(better, frame, losses="mae", fail_if_worse=1)
    assert not worse.passed and worse.checks[0].value == pytest.approx(1.0)  # +100%, as a fraction


def test_an_unnamed_pandas_index_is_row_labels_and_a_named_one_a_column() -> None:
    # Two filtered frames kept their labels as a column '__index_level_0__', which compare found differing: "rows are
    # aligned by order and these are not the same rows; align them by key with on="__index_level_0__"".
    data = pd.DataFrame({"target": [1.0, 2.0, 3.0, 4.0], "pred": [1.0, 2.5, 3.0, 5.0], "id": [7, 8, 9, 10]})
    baseline, candidate = data.iloc[[1, 3]], data.assign(pred=data["target"]).iloc[[1, 3]].reset_index(drop=True)
    report = lossctl.compare(baseline, candidate, losses="mse", pred="pred", target="target")
    assert report["mse"].baseline == pytest.approx((0.25 + 1.0) / 2) and report["mse"].candidate == 0.0
    assert lossctl.evaluate(baseline, losses="mse").to_dict()["columns"] == {"pred": ["pred"], "target": ["target"]}
    named = lossctl.evaluate(data.set_index("id"), losses="mse", by="id")  # a named index is data
    assert [r.group for r in named.results[1:]] == [{"id": 7}, {"id": 8}, {"id": 9}, {"id": 10}]


def test_an_index_level_named_as_a_column_is_that_column_or_an_error() -> None:
    # Both became Arrow columns named 'target' and the column won, silently: with the index holding other values,
    # which one was meant is a guess (mse 0.5 here; 12.5 with the index), as pandas' own groupby says.
    data = pd.DataFrame({"target": [1.0, 2.0], "pred": [1.0, 3.0], "g": ["a", "b"]})
    with pytest.raises(
        lossctl.InputError,
        match=r"^'target' is both an index level and a column of the pandas DataFrame, holding different values; "
        r"drop the index \(df\.reset_index\(drop=True\)\) or rename one$",
    ):
        lossctl.evaluate(data.set_axis(pd.Index([5.0, 6.0], name="target")), losses="mse")
    copied = data.set_index(["g", "target"], drop=False)  # the same values: nothing to choose between
    report = lossctl.evaluate(copied, losses="mse", by="g")
    assert report["mse"] == 0.5 and [r.group for r in report.results[1:]] == [{"g": "a"}, {"g": "b"}]


def test_an_index_named_by_a_number_is_a_column_without_a_warning() -> None:
    # pyarrow printed "UserWarning: The DataFrame has non-str index name `[0]` which will be converted to string
    # and not roundtrip correctly." on stderr; columns named by numbers were already read as their text.
    data = pd.DataFrame({"target": [1.0, 2.0], "pred": [1.0, 3.0]}).set_axis(pd.Index([5, 6], name=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = lossctl.evaluate(data, losses="mse", by="0")
    assert [r.group for r in report.results[1:]] == [{"0": 5}, {"0": 6}]


def test_compare_names_two_inputs_of_one_kind_by_their_side() -> None:
    # Two DataFrames are both 'pandas DataFrame': messages said "... is 0.0 in pandas DataFrame but 1.0 in pandas
    # DataFrame"; they name the baseline and the candidate, and input.path keeps the plain name.
    base = pd.DataFrame({"target": [0.0, 1.0, 2.0, 3.0], "pred": [0.0, 1.0, 2.0, 4.0]})
    cases = [
        (base.assign(target=[1.0, 1.0, 2.0, 3.0]), r"^the targets differ: column 'target' is 0\.0 in the baseline \("
         r"pandas DataFrame\) but 1\.0 in the candidate \(pandas DataFrame\) at row 0; "),
        (base.head(3), r"^the baseline \(pandas DataFrame\) has 4 rows but the candidate \(pandas DataFrame\) has 3; "),
        (base.rename(columns={"pred": "p"}), r"^column 'pred' not found in the candidate \(pandas DataFrame\); "),
    ]  # fmt: skip
    for candidate, message in cases:
        with pytest.raises(lossctl.InputError, match=message):
            lossctl.compare(base, candidate, losses="mse")
    keyed = base.assign(id=[1, 2, 3, 4])
    with pytest.raises(lossctl.InputError, match=r"^the targets differ: column 'target' is 0\.0 in the baseline \(pan"):
        lossctl.compare(keyed, keyed.assign(target=[1.0, 1, 2, 3]), losses="mse", on="id")  # joined by key
    with pytest.raises(lossctl.InputError, match=r"^column 'id' is 1 in the baseline \(pandas DataFrame\) but 2 in th"):
        lossctl.compare(keyed, keyed.assign(id=[2, 1, 3, 4]), losses="mse")  # a likely key, rows in another order
    # The --on key missing on one side: "column 'id' not found in pandas DataFrame" did not say which.
    for baseline, candidate, side in [(keyed, base, "candidate"), (base, keyed, "baseline")]:
        with pytest.raises(lossctl.InputError, match=rf"^column 'id' not found in the {side} \(pandas DataFrame\); "):
            lossctl.compare(baseline, candidate, losses="mse", on="id")
    info = lossctl.compare(base, base, losses="mse").to_dict()["input"]
    assert info["baseline"]["path"] == info["candidate"]["path"] == "pandas DataFrame"
    with pytest.raises(lossctl.InputError, match=r"^Arrow table has 4 rows but pandas DataFrame has 3; "):
        lossctl.compare(pa.Table.from_pandas(base), base.head(3), losses="mse")


def test_compare_refuses_one_reader_as_both_inputs() -> None:
    # The candidate found the reader consumed: 'Arrow record batch reader has 4 rows but ... has 0'.
    table = pa.table({"target": [0.0, 1.0], "pred": [0.5, 1.0]})
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    with pytest.raises(lossctl.UsageError, match=r"^the baseline and the candidate are the same RecordBatchReader, wh"):
        lossctl.compare(reader, reader, losses="mse")


def test_a_reader_evaluated_twice_says_it_was_read() -> None:
    # The second call found the reader exhausted and said "'Arrow record batch reader' has no rows".
    table = pa.table({"target": [0.0, 1.0], "pred": [0.5, 1.0]})
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    assert lossctl.evaluate(reader, losses="mse")["mse"] == 0.125
    message = r"^Arrow record batch reader was already read: a RecordBatchReader can be read only once; give a new"
    with pytest.raises(lossctl.UsageError, match=message):
        lossctl.evaluate(reader, losses="mse")
    with pytest.raises(lossctl.UsageError, match=message):
        lossctl.compare(table, reader, losses="mse")


def test_a_metric_over_four_pieces_equals_one_pass(frame) -> None:
    y, p = frame["y_true"].to_numpy(), frame["y_pred"].to_numpy()
    w = np.linspace(0.1, 2.0, len(y))
    for spec, convention in [("huber:delta=2", "lossctl"), ("rmse", "lossctl"), ("mse", "keras"), ("mape", "sklearn")]:
        whole = lossctl.Metric(spec, convention=convention)
        whole.update(y, p, sample_weight=w)
        pieces = [lossctl.Metric(spec, convention=convention) for _ in range(4)]
        for piece, rows in zip(pieces, np.array_split(np.arange(len(y)), 4), strict=True):
            piece.update(y[rows], p[rows], sample_weight=w[rows])
        merged = pieces[0]
        for other in pieces[1:]:
            merged.merge(other)
        assert merged.compute() == pytest.approx(whole.compute(), rel=1e-12)
        assert merged.rows == len(y)
        direct = lossctl.get(spec)(y, p, sample_weight=w, convention=convention)
        assert whole.compute() == pytest.approx(direct, rel=1e-12)


def test_a_pickled_metric_merged_in_another_process_gives_the_clis_number(cli, frame) -> None:
    y, p = frame["y_true"].to_numpy(), frame["y_pred"].to_numpy()
    first, second = lossctl.Metric("huber:delta=2"), lossctl.Metric("huber:delta=2")
    first.update(y[:200], p[:200])
    second.update(y[200:], p[200:])
    assert len(pickle.dumps(first)) < 1000  # statistics, not rows
    code = (
        "import pickle, sys; first, second = pickle.load(sys.stdin.buffer); "
        "first.merge(second); print(repr(first.compute()))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps((first, second)), capture_output=True, check=True
    )
    expected = json.loads(cli("eval", SAMPLE, "-l", "huber:delta=2", "-f", "json", "-q").out)["results"][0]["value"]
    assert float(run.stdout) == pytest.approx(expected, rel=1e-12)


def test_a_metric_pickled_by_another_lossctl_version_is_refused() -> None:
    # The state was not versioned: another version's statistics, laid out otherwise, merged into wrong numbers.
    metric = lossctl.Metric("mse")
    metric.update([0.0, 1.0], [1.0, 1.0])
    state = pickle.dumps(metric)
    assert pickle.loads(state).compute() == 0.5
    other = state.replace(lossctl.__version__.encode(), b"0.0.9")
    assert other != state
    with pytest.raises(lossctl.UsageError, match=r"^this Metric was pickled by lossctl 0\.0\.9, and this is lossctl "):
        pickle.loads(other)


def _partial_states(spec: str, batches: list[pa.RecordBatch], roles: dict[str, str]) -> list[bytes]:
    """README "Beyond one machine": what ``df.mapInArrow`` (or a Ray task) runs on one partition, in a fresh
    interpreter: a Metric per partition, updated per Arrow batch, pickled back to the driver."""
    metric = lossctl.Metric(spec)
    for batch in batches:
        metric.update(**{role: batch.column(column) for role, column in roles.items()})
    return [pickle.dumps(metric)]


_STREAMED = {  # spec -> the roles update() takes, from the columns of one Arrow batch
    "huber:delta=2": {"y_true": "y", "y_pred": "p", "sample_weight": "w"},
    "rmse": {"y_true": "y", "y_pred": "p", "sample_weight": "w"},
    "mae": {"y_true": "y", "y_pred": "p"},
    "cross_entropy": {"y_true": "label", "y_pred": "logits", "sample_weight": "w"},  # a Spark array<double> column
}


def test_metrics_of_partitions_in_other_processes_merge_to_the_whole_inputs_value() -> None:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    rng = np.random.default_rng(0)
    rows = 2_000
    logits = pa.array(list(rng.normal(size=(rows, 3))), type=pa.list_(pa.float64()))
    table = pa.table(
        {
            "y": rng.normal(size=rows),
            "p": rng.normal(size=rows) * 3,
            "w": rng.random(rows),
            "label": rng.integers(0, 3, rows),
            "logits": logits,
        }
    )
    partitions = [table.slice(start, 250).to_batches(max_chunksize=100) for start in range(0, rows, 250)]
    partitions.append(table.slice(0, 0).to_batches())  # an empty partition
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        for spec, roles in _STREAMED.items():
            states = [
                state
                for states in pool.map(_partial_states, [spec] * len(partitions), partitions, [roles] * len(partitions))
                for state in states
            ]
            parts = [pickle.loads(state) for state in states]
            total = lossctl.Metric(spec)
            for part in parts:
                total.merge(part)
            backwards = lossctl.Metric(spec)
            for part in reversed([pickle.loads(state) for state in states]):
                backwards.merge(part)
            weight = roles.get("sample_weight")
            report = lossctl.evaluate(table, losses=spec, target=roles["y_true"], pred=roles["y_pred"], weight=weight)
            expected = report.results[0].value
            assert total.rows == backwards.rows == rows
            assert total.compute() == pytest.approx(expected, rel=1e-12, abs=0)
            assert backwards.compute() == pytest.approx(total.compute(), rel=1e-12, abs=0)


def test_threads_making_their_first_calls_at_once_all_find_the_registry() -> None:
    # The registry was marked loaded before it was filled: of eight threads whose first call came at once, seven
    # raised "unknown loss 'mse'" while the first was still importing the built-in losses.
    code = (
        "import threading, lossctl\n"
        "barrier, values = threading.Barrier(8), []\n"
        "def run():\n"
        "    barrier.wait()\n"
        "    values.append(lossctl.get('mse')([0.0, 1.0], [1.0, 3.0]))\n"
        "threads = [threading.Thread(target=run) for _ in range(8)]\n"
        "[thread.start() for thread in threads]\n"
        "[thread.join() for thread in threads]\n"
        "print(values)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (run.returncode, run.stderr, run.stdout) == (0, "", f"{[2.5] * 8}\n")


def test_threads_evaluating_at_once_get_one_threads_numbers_and_leave_blas_as_it_was() -> None:
    # Each evaluation set OpenBLAS to one thread and restored what it found; two running at once, the second found
    # the first's 1 and restored that, so the host program's matrix products stayed on one thread afterwards.
    code = (
        "import threading, numpy as np, lossctl\n"
        "from lossctl.threads import _openblas\n"
        "rng = np.random.default_rng(0)\n"
        "inputs = [(rng.normal(size=500), rng.normal(size=500)) for _ in range(4)]\n"
        "def one(i):\n"
        "    y, p = inputs[i % 4]\n"
        "    return lossctl.evaluate(y_true=y, y_pred=p, losses='mse,huber', bootstrap=20, seed=i % 4).to_dict()\n"
        "alone = [one(i) for i in range(4)]\n"
        "before = _openblas()[1]()\n"
        "barrier, seen = threading.Barrier(4), {}\n"
        "def run(k):\n"
        "    barrier.wait()\n"
        "    seen[k] = [one(i) == alone[i % 4] for i in range(k, k + 4)]\n"
        "threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]\n"
        "[thread.start() for thread in threads]\n"
        "[thread.join() for thread in threads]\n"
        "print(before > 1, _openblas()[1]() == before, all(all(v) for v in seen.values()), len(seen))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "OPENBLAS_NUM_THREADS"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)
    assert (run.returncode, run.stderr) == (0, "")
    if run.stdout.startswith("False"):
        pytest.skip("OpenBLAS runs one thread here (one core)")
    assert run.stdout == "True True True 4\n"


def test_a_host_threads_failure_while_a_custom_loss_runs_is_the_hosts_not_the_losss() -> None:
    # While a registered loss ran, a failure of any thread of the process was taken for the loss's: the program's
    # own thread that raised meanwhile lost its traceback, and the loss's call raised "loss 'slow' (module
    # '__main__') failed: RuntimeError: the host program fails" instead of returning its value.
    code = (
        "import threading, lossctl\n"
        "started = threading.Event()\n"
        "def host():\n"
        "    started.wait(10)\n"
        "    raise RuntimeError('the host program fails')\n"
        "thread = threading.Thread(target=host)\n"
        "thread.start()\n"
        "@lossctl.register_loss('slow', task='regression', summary='Squared error.', formula='l = (p - y)^2')\n"
        "def slow(target, pred):\n"
        "    started.set()\n"
        "    thread.join(10)\n"
        "    return (pred - target) ** 2\n"
        "print(lossctl.get('slow')([0.0, 1.0], [1.0, 1.0]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (0, "0.5\n"), run.stderr
    assert "Traceback" in run.stderr and run.stderr.endswith("RuntimeError: the host program fails\n")


def test_a_metric_of_a_loss_from_a_module_unpickles_in_a_fresh_process(tmp_path: Path) -> None:
    # A Metric pickles its loss by name, and a fresh process (a spawned pool's worker, a Spark or Ray task) had never
    # imported the module that registers it: "unknown loss 'cubic'", where the loss itself (lossctl.get) unpickled.
    (tmp_path / "team_losses.py").write_text(
        "import numpy as np\nfrom lossctl import register_loss\n"
        "@register_loss('cubic', task='regression', summary='Cubed error.', formula='l = |p - y|^3')\n"
        "def cubic(target, pred):\n    return np.abs(pred - target) ** 3\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    pickled = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pickle, sys, lossctl, team_losses\nm = lossctl.Metric('cubic')\n"
            "m.update([0.0, 1.0], [2.0, 1.0])\nsys.stdout.buffer.write(pickle.dumps(m))",
        ],
        capture_output=True,
        env=environment,
        check=True,
    ).stdout
    unpickle = "import pickle, sys\nm = pickle.load(sys.stdin.buffer)\nm.update([0.0], [1.0])\nprint(m.compute())"
    run = subprocess.run([sys.executable, "-c", unpickle], input=pickled, capture_output=True, env=environment)
    assert (run.returncode, run.stdout, run.stderr) == (0, b"3.0\n", b"")
    elsewhere = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}  # where the module is not installed
    run = subprocess.run([sys.executable, "-c", unpickle], input=pickled, capture_output=True, env=elsewhere)
    assert run.returncode == 1
    assert (
        run.stderr.decode()
        .splitlines()[-1]
        .endswith(
            "the Metric was pickled where module 'team_losses' registered the loss, and it cannot be imported here "
            "(ModuleNotFoundError: No module named 'team_losses')"
        )
    )


def test_writing_an_output_leaves_the_programs_umask_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A new output's permissions were found by setting the umask to 0 and back (os.umask), so a file another thread
    # of the program created meanwhile was world-writable. The umask is read from /proc instead.
    umask = os.umask(0o022)
    os.umask(umask)

    def changed(mask: int) -> int:
        raise AssertionError(f"os.umask({mask:o}) called")

    monkeypatch.setattr(os, "umask", changed)
    lossctl.evaluate(y_true=[0.0, 1.0], y_pred=[1.0, 1.0], losses="mse", per_sample=tmp_path / "rows.csv")
    assert (tmp_path / "rows.csv").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_metric_of_a_loss_without_targets_asks_for_its_arrays_by_name() -> None:
    # update(a, b) binds scikit-learn's y_true and y_pred; for triplet or distillation it said only "loss 'triplet'
    # has no role 'target'", about an array the caller never called a target.
    with pytest.raises(lossctl.UsageError) as error:
        lossctl.Metric("triplet").update(np.eye(3), np.eye(3))
    assert str(error.value) == (
        "loss 'triplet' takes no y_true (it has no role 'target'); give its arrays by name: anchor=..., positive=..., "
        "negative=..."
    )
    metric = lossctl.Metric("distillation")
    metric.update(teacher=np.eye(2), y_pred=np.eye(2))
    assert metric.rows == 2


def test_every_registry_entry_pickles_for_a_process_pool() -> None:
    # pickle.dumps(lossctl.get("huber")) raised PicklingError ("Can't pickle <function <lambda>>", for 29 of the
    # built-in losses), so a ProcessPoolExecutor or multiprocessing.Pool could not be handed a loss.
    for spec in lossctl.list_losses():
        assert pickle.loads(pickle.dumps(spec)) is spec
    huber = pickle.loads(pickle.dumps(lossctl.get("huber:delta=2")))
    assert (huber.preset, huber([0.0], [3.0])) == ({"delta": 2.0}, 4.0)


def test_a_metric_survives_pickle_cloudpickle_and_deepcopy_before_and_after_updates() -> None:
    cloudpickle = pytest.importorskip("cloudpickle")
    for dumps, loads in [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)]:
        fresh = loads(dumps(lossctl.Metric("huber:delta=2", reduction="sum")))
        assert (fresh.name, fresh.reduction, fresh.rows, fresh.state) == ("huber:delta=2", "sum", 0, None)
        fresh.update([0.0, 1.0], [3.0, 1.0])
        shipped = loads(dumps(fresh))
        shipped.update([2.0], [2.5])
        assert (fresh.compute(), shipped.compute(), shipped.rows) == (4.0, 4.125, 3)
    original = lossctl.Metric("mse")
    original.update([1.0, 2.0], [1.0, 3.0])
    for duplicate in (copy.deepcopy(original), copy.copy(original)):
        duplicate.update([0.0], [5.0])
        assert (original.compute(), original.rows, duplicate.compute(), duplicate.rows) == (0.5, 2, 26 / 3, 3)


def test_metric_per_sample_state_and_rules() -> None:
    metric = lossctl.Metric("mae")
    np.testing.assert_array_equal(metric.per_sample([0.0, 1.0], [1.0, 3.0]), [1.0, 2.0])
    assert metric.state is None and metric.rows == 0
    with pytest.raises(lossctl.InputError, match="no rows"):
        metric.compute()
    metric.update([], [])  # an empty partition adds nothing
    assert metric.state is None and metric.rows == 0
    metric.update([0.0, 1.0], [1.0, 3.0])
    np.testing.assert_array_equal(metric.state, [3.0, 2.0, 2.0])  # [sum(w*l), sum(w), n]
    with pytest.raises(lossctl.UsageError, match="cannot merge a Metric of mse into one of mae"):
        metric.merge(lossctl.Metric("mse"))
    with pytest.raises(lossctl.UsageError, match="cannot merge a Metric of huber:delta=2 into one of huber: they"):
        lossctl.Metric("huber").merge(lossctl.Metric("huber:delta=2"))
    # The same loss spelled with its default was "cannot merge a Metric of huber:delta=1 into one of huber".
    spelled = lossctl.Metric("huber:delta=1")
    spelled.update([0.0, 1.0], [1.0, 3.0])
    plain = lossctl.Metric("Huber")
    plain.merge(spelled)
    assert plain.compute() == lossctl.get("huber")([0.0, 1.0], [1.0, 3.0]) and plain.rows == 2
    # The same loss under another convention or reduction said "a Metric of mae into one of mae: they differ".
    with pytest.raises(lossctl.UsageError) as error:
        metric.merge(lossctl.Metric("mae", convention="keras"))
    assert str(error.value) == "cannot merge a Metric of mae with convention=keras into one with convention=lossctl"
    with pytest.raises(lossctl.UsageError) as error:
        metric.merge(lossctl.Metric("mae", reduction="sum"))
    assert str(error.value) == "cannot merge a Metric of mae with reduction=sum into one with reduction=mean"
    with pytest.raises(
        lossctl.InputError,
        match=r"probabilities in \[0, 1\] \(for logits, use bce_logits\), got 1.5 in 1 row \(first: row 3\)",
    ):
        bce = lossctl.Metric("bce")
        bce.update([0.0, 1.0, 1.0], [0.5, 0.5, 0.5])
        bce.update([1.0], [1.5])
    batch = lossctl.Metric("info_nce:batch_size=4")
    rng = np.random.default_rng(0)
    batch.update(query=rng.normal(size=(6, 3)), positive=rng.normal(size=(6, 3)))
    with pytest.raises(lossctl.UsageError, match="only the last update may hold a partial batch"):
        batch.update(query=rng.normal(size=(4, 3)), positive=rng.normal(size=(4, 3)))
    with pytest.raises(lossctl.UsageError, match=r"^info_nce:batch_size=4: an update of 1 row after one whose"):
        batch.update(query=rng.normal(size=(1, 3)), positive=rng.normal(size=(1, 3)))  # was "1 rows"
    # Merged after a partial batch, the rows were batched as no file in that order would be, without a word: the
    # value differed from evaluate() on the rows in order (10.49 against 10.80 for info_nce below).
    query, positive = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    parts = [lossctl.Metric("info_nce:batch_size=4") for _ in range(3)]
    for part, rows in zip(parts, [slice(0, 8), slice(8, 18), slice(18, 20)], strict=True):
        part.update(query=query[rows], positive=positive[rows])
    parts[0].merge(parts[1])  # 10 rows: a partial batch, which only the last Metric merged may hold
    with pytest.raises(
        lossctl.UsageError,
        match=r"^info_nce:batch_size=4: cannot merge a Metric of 2 rows into one of 18, not a multiple of "
        r"batch_size=4; only the last Metric merged may hold a partial batch$",
    ):
        parts[0].merge(parts[2])
    assert parts[0].rows == 18
    data = {"q0": query[:18, 0], "q1": query[:18, 1], "q2": query[:18, 2]}
    data |= {"p0": positive[:18, 0], "p1": positive[:18, 1], "p2": positive[:18, 2]}
    report = lossctl.evaluate(data, losses="info_nce:batch_size=4", cols={"query": "q0,q1,q2", "positive": "p0,p1,p2"})
    assert parts[0].compute() == pytest.approx(report["info_nce"], rel=1e-12)
    ranking = lossctl.Metric("ranknet")
    ranking.update([1.0, 0.0], [0.3, 0.1], qid=[7, 7])
    with pytest.raises(lossctl.UsageError, match="query 7 appeared in an earlier update"):
        ranking.update([1.0, 0.0], [0.3, 0.1], qid=[7, 8])
    # A query split between two workers was merged without a word, and its pairs across the split were lost.
    other = lossctl.Metric("ranknet")
    other.update([0.0, 1.0], [0.3, 0.1], qid=[8, 7])
    with pytest.raises(lossctl.UsageError, match=r"^ranknet: query 7 has rows in both Metrics merged; each query"):
        ranking.merge(other)
    assert ranking.rows == 2
    metric.reset()
    assert metric.rows == 0 and metric.state is None


def test_a_metric_takes_vectors_as_arrow_polars_and_pandas_hold_them() -> None:
    # "'pred' must be numeric": a Spark array<double> column reaches mapInArrow as an Arrow list array.
    labels, logits = [0, 2, 1], [[2.0, 0.0, 0.0], [0.0, 1.0, 3.0], [0.5, 0.5, 0.0]]
    expected = lossctl.get("cross_entropy")(labels, np.array(logits))
    for vectors in [
        pa.array(logits),
        pa.array(logits, type=pa.list_(pa.float32(), 3)),
        pa.chunked_array([logits[:1], logits[1:]]),
        pl.Series(logits),
        pd.Series([np.array(row) for row in logits]),
        # An Arrow extension array (a tensor column) was "'pred' is not numeric: it has type extension<...>".
        pa.ExtensionArray.from_storage(
            pa.fixed_shape_tensor(pa.float64(), [3]), pa.FixedSizeListArray.from_arrays(pa.array(np.ravel(logits)), 3)
        ),
    ]:
        metric = lossctl.Metric("cross_entropy")
        metric.update(pa.array(labels), vectors)
        assert metric.compute() == pytest.approx(expected, rel=1e-15)
        assert lossctl.get("cross_entropy")(labels, vectors) == pytest.approx(expected, rel=1e-15)


def test_query_ids_of_any_type_in_a_metric_and_a_losss_call() -> None:
    # Text ids were "'qid' must be numeric" (docs/cli.md: query ids may be any type), and integer ids above 2**53
    # were read as floats, so that queries 2**53 and 2**53 + 1 were one.
    y, p = [1.0, 0.0, 1.0, 0.0], [0.3, 0.1, 0.1, 0.3]
    expected = lossctl.get("ranknet")(y, p, qid=[1, 1, 2, 2])
    for ids in (
        ["a", "a", "b", "b"],
        pa.array(["a", "a", "b", "b"]),
        pl.Series(["a", "a", "b", "b"]),
        [2**53] * 2 + [2**53 + 1] * 2,
    ):
        assert lossctl.get("ranknet")(y, p, qid=ids) == expected
    metric = lossctl.Metric("ranknet")
    metric.update(y[:2], p[:2], qid=pa.array(["a", "a"]))
    with pytest.raises(lossctl.UsageError, match=r"^ranknet: query 'a' appeared in an earlier update; "):
        metric.update(y[2:], p[2:], qid=["b", "a"])
    metric.update(y[2:], p[2:], qid=["b", "b"])  # codes restart in each update: 'b' is not 'a'
    assert metric.compute() == expected
    with pytest.raises(lossctl.InputError, match=r"^'qid' has missing values in 1 row \(first: row 1\)$"):
        lossctl.Metric("ranknet").update(y[:2], p[:2], qid=["a", None])


def test_a_metrics_query_ids_are_of_one_kind_across_updates_and_merges() -> None:
    # The number 1 in one update and the text '1' in the next were two queries, scored without a word, where one
    # array of both is refused ("'qid' mixes values of different kinds").
    y, p = [1.0, 0.0], [0.3, 0.1]
    with pytest.raises(lossctl.InputError, match=r"^'qid' mixes values of different kinds"):
        lossctl.get("ranknet")(y * 2, p * 2, qid=np.array([1, 1, "1", "1"], dtype=object))
    metric = lossctl.Metric("ranknet")
    metric.update(y, p, qid=[1, 1])
    message = r"^ranknet: 'qid' mixes values of different kinds: text here, numbers in earlier updates$"
    with pytest.raises(lossctl.InputError, match=message):
        metric.update(y, p, qid=["1", "1"])
    assert metric.rows == 2
    metric.update(y, p, qid=[2.5, 2.5])  # integers and floats are numbers alike
    other = lossctl.Metric("ranknet")
    other.update(y, p, qid=["a", "a"])
    message = r"^ranknet: 'qid' mixes values of different kinds: text in the Metric merged, numbers in this one$"
    with pytest.raises(lossctl.InputError, match=message):
        metric.merge(other)
    assert metric.compute() == lossctl.get("ranknet")(y * 2, p * 2, qid=[1, 1, 2, 2])


@pytest.mark.parametrize(
    ("ids", "kind"), [([{"q": 1}, {"q": 1}], r"struct<q: int64>"), ([{1}, {1}], r"list<item: int64>")]
)
def test_nested_query_ids_are_refused_in_a_metric_and_a_losss_call(ids: list[object], kind: str) -> None:
    # A dict per row: Metric.update raised a bare "TypeError: unhashable type: 'dict'", and the loss's call scored
    # it ("ranknet: no pair of documents ..."), where the command line refuses a qid column of structs or lists.
    message = rf"^'qid' holds nested values \({kind}\), not one query id per row; give query ids as text, "
    with pytest.raises(lossctl.InputError, match=message):
        lossctl.Metric("ranknet").update([1.0, 0.0], [0.3, 0.1], qid=ids)
    with pytest.raises(lossctl.InputError, match=message):
        lossctl.get("ranknet")([1.0, 0.0], [0.3, 0.1], qid=ids)


def test_numpy_months_and_long_doubles_are_keys_and_query_ids() -> None:
    # Arrow refuses these NumPy types: evaluate(by=) and a qid raised a bare ArrowNotImplementedError ("Unsupported
    # datetime64 time unit", "Unsupported numpy type 13"), a traceback. Months are read as their first day.
    months = np.array(["2020-01", "2020-01", "2020-02", "2020-02"], dtype="datetime64[M]")
    y, p = [1.0, 0.0, 1.0, 0.0], [0.3, 0.1, 0.1, 0.3]
    data = {"y": y, "p": p, "month": months, "level": months.astype(np.int64).astype(np.longdouble)}
    for key, names in [("month", ["2020-01-01", "2020-02-01"]), ("level", [600.0, 601.0])]:
        table = lossctl.evaluate(data, losses="mae", target="y", pred="p", by=key).to_pandas()
        assert table[key].tolist()[1:] == names and table["value"].tolist() == pytest.approx([0.5, 0.4, 0.6])
    expected = lossctl.get("ranknet")(y, p, qid=[1, 1, 2, 2])
    assert lossctl.get("ranknet")(y, p, qid=months) == expected
    metric = lossctl.Metric("ranknet")
    metric.update(y[:2], p[:2], qid=months[:2])
    with pytest.raises(lossctl.UsageError, match=r"^ranknet: query .* appeared in an earlier update"):
        metric.update(y[:2], p[:2], qid=months[:2])
    metric.update(y[2:], p[2:], qid=months[2:])
    assert metric.compute() == expected
    levels = lossctl.Metric("ranknet")
    levels.update(y[:2], p[:2], qid=data["level"][:2])
    levels.update(y[2:], p[2:], qid=data["level"][2:])
    assert levels.compute() == expected
    with pytest.raises(lossctl.InputError, match=r"^'qid' holds times in ps, finer than Arrow's nanoseconds"):
        lossctl.get("ranknet")(y, p, qid=np.array([1, 1, 2, 2], dtype="datetime64[ps]"))


def test_a_metric_takes_an_array_given_as_none_as_missing() -> None:
    # y_pred=None was "missing: pred", but var=None or qid=None was read as an array: "'var' must be a 1-D array or
    # a 2-D array (rows x values), got shape ()".
    for spec, arrays, role in [("gaussian_nll", {"var": None}, "var"), ("ranknet", {"qid": None}, "qid")]:
        metric = lossctl.Metric(spec)
        message = rf"^loss '{spec}' needs the arrays target, pred, {role}; missing: {role}$"
        with pytest.raises(lossctl.UsageError, match=message):
            metric.update([1.0, 0.0], [0.5, 0.5], **arrays)
    with pytest.raises(lossctl.UsageError, match=r"^loss 'gaussian_nll' needs the arrays target, pred, var; missing"):
        lossctl.Metric("gaussian_nll").per_sample([1.0, 0.0], [0.5, 0.5], var=None)


def test_a_losses_call_takes_an_array_given_as_none_as_missing() -> None:
    # get('mse')([1.0], None) and get('gaussian_nll')(y, p, var=None) said "'pred' must be a 1-D array or a 2-D
    # array (rows x values), got shape ()", where Metric.update calls a None role a missing array.
    cases = [("mse", ([1.0], None), {}, "pred"), ("mse", (None, [1.0]), {}, "target")]
    cases += [
        ("gaussian_nll", ([1.0], [1.0]), {"var": None}, "var"),
        ("ranknet", ([1.0], [1.0]), {"qid": None}, "qid"),
    ]
    for name, arrays, roles, role in cases:
        loss = lossctl.get(name)
        for call in (loss, loss.per_sample) if name != "ranknet" else (loss,):
            with pytest.raises(lossctl.UsageError, match=rf"^loss '{name}' needs the arrays .*; missing: {role}$"):
                call(*arrays, **roles)


def test_a_metrics_repr_shows_every_setting() -> None:
    # The reduction was left out: a sum Metric and a mean one, whose values differ, showed the same repr.
    metric = lossctl.Metric("huber:delta=2", convention="torch", reduction="sum")
    metric.update([0.0, 1.0], [1.0, 1.0])
    assert repr(metric) == "Metric('huber:delta=2', convention='torch', reduction='sum', rows=2)"
    assert repr(lossctl.Metric("mse")) == "Metric('mse', convention='lossctl', reduction='mean', rows=0)"


def test_a_metric_numbers_rows_from_its_first_update() -> None:
    # A domain error said row 3 (the stream's row) but a missing value in the same row said row 0 (the batch's).
    metric = lossctl.Metric("bce")
    metric.update([0.0, 1.0, 1.0], [0.5, 0.5, 0.5])
    with pytest.raises(lossctl.InputError, match=r"^'pred' has missing \(NaN\) values in 1 row \(first: row 4\)$"):
        metric.update([1.0, 0.0], [0.5, np.nan])
    with pytest.raises(lossctl.InputError, match=r"^'sample_weight' has infinite values in 1 row \(first: row 3\)$"):
        metric.update([1.0], [0.5], sample_weight=[np.inf])
    # A domain error named a column, "bce: column 'pred' (pred): ...", where a loss's call says "'pred': ...".
    message = "'pred': expected probabilities in [0, 1] (for logits, use bce_logits), got 1.5 in 1 row (first: row"
    with pytest.raises(lossctl.InputError, match=rf"^{re.escape(message)} 3\)$"):
        metric.update([1.0], [1.5])
    with pytest.raises(lossctl.InputError, match=rf"^{re.escape(message)} 0\)$"):
        lossctl.get("bce")([1.0], [1.5])
    ranking = lossctl.Metric("ranknet")
    ranking.update([1.0, 0.0], [0.3, 0.1], qid=["a", "a"])
    with pytest.raises(lossctl.InputError, match=r"^'qid' has missing values in 1 row \(first: row 3\)$"):
        ranking.update([1.0, 0.0], [0.3, 0.1], qid=["b", None])


def test_text_numbers_in_a_list_are_read_as_a_columns_text() -> None:
    # A list or NumPy array of text went through Python's float(), which takes '1_000' (1000) and full-width digits,
    # where the same text in a pyarrow array, a dict given to evaluate or a CSV file is "not numeric".
    for values in (["1_000", "0"], np.array(["1_000", "0"]), pa.array(["1_000", "0"])):
        with pytest.raises(lossctl.InputError, match=r"^column 'target' is not numeric: '1_000' at row 0$"):
            lossctl.get("mse")(values, [0.0, 0.0])
        with pytest.raises(lossctl.InputError, match=r"^column 'target' is not numeric: '1_000' at row 0$"):
            lossctl.Metric("mse").update(values, [0.0, 0.0])
    assert lossctl.get("mse")(["1e3", " 2 ", "-0"], [0.0, 0.0, 0.0]) == pytest.approx((1e6 + 4) / 3)


def test_a_metric_numbers_rows_read_as_a_column_from_its_first_update() -> None:
    # Values read through Arrow (text, vectors held one per row) were numbered from the batch: 'x' at row 1, where a
    # missing value in the same row said row 3.
    metric = lossctl.Metric("cross_entropy")
    metric.update([0, 1], [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(lossctl.InputError, match=r"^column 'target' is not numeric: 'x' at row 3$"):
        metric.update(["1", "x"], [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(lossctl.InputError, match=r"^column 'sample_weight' is not numeric: 'x' at row 3$"):
        metric.update([0, 1], [[1.0, 0.0], [0.0, 1.0]], sample_weight=pa.array(["1", "x"]))
    with pytest.raises(lossctl.InputError, match=r"^column 'pred' holds vectors of different lengths: row 2 .* row 3"):
        metric.update([0, 1], [[1.0, 0.0], [1.0]])
    with pytest.raises(lossctl.InputError, match=r"^column 'pred' has an invalid JSON array at row 3: '\[1.0, x\]'$"):
        metric.update([0, 1], ["[1.0, 0.0]", "[1.0, x]"])
    assert metric.rows == 2 and metric.compute() == pytest.approx(0.31326168751822286, rel=1e-12)


_ROWS = "the sum of its rows overflows float64; rescale the inputs"
_WEIGHTS = "the sum of the sample weights overflows float64; use smaller weights (dividing every weight by one factor"


@pytest.mark.parametrize(
    ("y_pred", "sample_weight", "message"),
    [
        # the loss of a row overflows: the update says which, as the command line does
        ([0.0, 1e200], None, "the loss overflows float64 at row 1 (1 value); rescale the inputs"),
        ([1e154] * 3, None, _ROWS),  # each row's is finite, their sum overflows ("overflow encountered in reduce")
        ([1e154] * 3, [1.0, 1.0, 1.0], _ROWS),  # the weighted sum overflows
        ([0.0, 1.0], [1e308, 1e308], _WEIGHTS),  # the weights' own sum overflows
    ],
)
def test_a_metric_that_overflows_says_so_as_a_losss_call_does_without_numpy_warnings(
    y_pred: list[float], sample_weight: list[float] | None, message: str
) -> None:
    # Three messages for one overflow: Metric.compute said "the result is not a finite number (a float64 overflow)"
    # for them all, a loss's call "the sum of its rows overflows" (or the same "not a finite number", without the row
    # the command line names), and the command line "the loss overflows float64 at row 1".
    y_true = [0.0] * len(y_pred)
    metric = lossctl.Metric("mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from the running sums fails the test
        with pytest.raises(lossctl.InputError) as error:
            metric.update(y_true, y_pred, sample_weight=sample_weight)
            metric.compute()
    assert str(error.value).startswith(f"mse: {message}")
    with pytest.raises(lossctl.InputError) as error:
        lossctl.get("mse")(y_true, y_pred, sample_weight=sample_weight)
    assert str(error.value).startswith(f"mse: {message}")
    data = {"target": y_true, "pred": y_pred, "w": sample_weight or [1.0] * len(y_pred)}
    with pytest.raises(lossctl.InputError) as error:
        lossctl.evaluate(data, losses="mse", weight="w" if sample_weight else None)
    assert str(error.value).startswith(f"mse: {message}")


@pytest.mark.parametrize(
    ("spec", "arrays", "message"),
    [
        (
            "contrastive:margin=1e300",
            {"anchor": np.ones((2, 2)), "other": np.zeros((2, 2)), "target": [0.0, 0.0]},
            "the loss overflows float64 at row 0 (2 values); margin=1e+300 is too large for float64 arithmetic: use a "
            "smaller margin",
        ),
        (
            "mse",
            {"y_true": [0.0, 0.0, 0.0], "y_pred": [1e154, 1e154, 1e154]},
            "the sum of its rows overflows float64; rescale the inputs",
        ),
    ],
)
def test_a_metric_that_overflows_says_what_to_change_as_a_losss_call_does(
    spec: str, arrays: dict[str, object], message: str
) -> None:
    # Metric.compute said "the result is not a finite number (every weight 0, or a float64 overflow)": weights of 0
    # are another error (ZeroWeightSum), and the parameter to change was not named as lossctl.get(spec)(...) names it.
    metric = lossctl.Metric(spec)
    with pytest.raises(lossctl.InputError) as error:
        metric.update(**arrays)  # a row's overflow is found here
        metric.compute()
    assert str(error.value) == f"{metric.name}: {message}"
    with pytest.raises(lossctl.InputError, match=re.escape(message)):
        lossctl.get(spec)(**arrays)


def test_a_metric_of_one_value_per_output_is_refused_when_made() -> None:
    # It was accepted, and compute() then spoke of compare, composites and checks.
    with pytest.raises(lossctl.UsageError, match=r"^Metric\('mse:multioutput=raw'\) computes one value, and "):
        lossctl.Metric("mse:multioutput=raw")
    metric = lossctl.Metric("mse:multioutput=uniform")
    metric.update(np.ones((3, 2)), np.zeros((3, 2)))
    assert metric.compute() == 1.0


def test_a_metrics_rows_keep_their_shape_across_updates_and_merges() -> None:
    # 3 classes then 4 were averaged together without a word; with multioutput=uniform a bare NumPy ValueError
    # ("operands could not be broadcast together with shapes (5,) (6,)"), in update() and in merge().
    classes = lossctl.Metric("cross_entropy")
    classes.update([0, 1], np.eye(3)[:2])
    with pytest.raises(
        lossctl.InputError,
        match=r"^cross_entropy: 'pred' holds 4 values per row here but holds 3 values per row in earlier updates$",
    ):
        classes.update([0, 1], np.eye(4)[:2])
    assert classes.rows == 2
    outputs = [lossctl.Metric("mse:multioutput=uniform") for _ in range(2)]
    outputs[0].update(np.ones((2, 2)), np.zeros((2, 2)))
    outputs[1].update(np.ones((2, 3)), np.zeros((2, 3)))
    with pytest.raises(lossctl.InputError, match=r"'target' holds 3 values per row in the Metric merged but holds 2 "):
        outputs[0].merge(outputs[1])
    scalar = lossctl.Metric("mse")
    scalar.update([1.0], [2.0])
    with pytest.raises(lossctl.InputError, match=r"^mse: 'target' holds 2 values per row here but is a 1-D array in"):
        scalar.update(np.ones((1, 2)), np.ones((1, 2)))
    fresh = lossctl.Metric("mse:multioutput=uniform")
    fresh.merge(outputs[1])
    fresh.update(np.ones((1, 3)), np.ones((1, 3)))
    assert fresh.rows == 3
    fresh.reset()
    fresh.update(np.ones((1, 2)), np.ones((1, 2)))  # a new epoch may have other outputs


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        # A parameter given to update() was ignored without a word (huber with delta=1, not 3: 1.25, not 2.25).
        (
            lambda metric: metric.update([1.0, 2.0], [1.0, 5.0], delta=3.0),
            lossctl.UsageError,
            r"^'delta' is a parameter of huber, fixed when the Metric is made \(Metric\('huber:delta=...'\)\); "
            r"update\(\) and per_sample\(\) take its arrays: target, pred$",
        ),
        # A role the loss lacks was called a parameter ("loss 'huber' has no parameter 'qid'; its parameters: delta").
        (
            lambda metric: metric.update([1.0], [1.0], qid=[1]),
            lossctl.UsageError,
            r"^loss 'huber' has no role 'qid'; its roles: target, pred$",
        ),
        # A misspelt keyword was named without the one meant.
        (
            lambda metric: metric.update([1.0], [1.0], sample_weights=[1.0]),
            lossctl.UsageError,
            r"^loss 'huber' has no role 'sample_weights'; its roles: target, pred; did you mean 'sample_weight'\?$",
        ),
        (lambda metric: metric.update([1.0], y_prd=[1.0]), lossctl.UsageError, r"; did you mean 'y_pred'\?$"),
        # per_sample() was told the keyword update() takes, which it then refused ("per_sample() takes no
        # sample_weight=").
        (
            lambda metric: metric.per_sample([1.0], [1.0], sample_weights=[1.0]),
            lossctl.UsageError,
            r"^loss 'huber' has no role 'sample_weights'; its roles: target, pred$",
        ),
        # An empty batch skipped every check: a wrong role, a missing one, weights for rows it does not have.
        (lambda metric: metric.update([], [], qid=[]), lossctl.UsageError, r"^loss 'huber' has no role 'qid'"),
        (lambda metric: metric.update([]), lossctl.UsageError, r"^loss 'huber' needs the arrays target, pred; missing"),
        (
            lambda metric: metric.update([], [], sample_weight=[1.0]),
            lossctl.InputError,
            r"^sample_weight must have one value per row",
        ),
        # ... and took what is not an array as an empty batch when it was empty: a dict, a set, text.
        (lambda metric: metric.update({}, {}), lossctl.InputError, r"^'target' is a dict, not an array of values; "),
        (lambda metric: metric.update([], set()), lossctl.InputError, r"^'pred' is a set, which has no order, "),
        (lambda metric: metric.update("", ""), lossctl.InputError, r"^'target' must be a 1-D array or a 2-D array "),
    ],
)
def test_metric_update_takes_the_losss_arrays_and_nothing_else(call, error, message: str) -> None:
    metric = lossctl.Metric("huber")
    with pytest.raises(error, match=message):
        call(metric)
    assert metric.rows == 0 and metric.state is None
    metric.update([], [], sample_weight=[])  # an empty partition still adds nothing
    assert metric.rows == 0


_REGRESSION = ["eval", "sample_data/regression.csv", "-l", "mse", "-f", "json"]
_BINARY = ["eval", "sample_data/binary.parquet", "-q"]


@pytest.mark.parametrize(
    "args",
    [
        _REGRESSION,
        [*_REGRESSION, "--by", "id"],
        [*_REGRESSION, "--by", "segment"],
        [*_BINARY, "-f", "csv", "--by", "plan"],
        [*_BINARY, "--per-sample", "rows.parquet"],
        ["eval", "sample_data/segmentation.parquet", "-l", "dice", "--target", "mask", "--pred", "prob", "-q"],
        [*_BINARY, "-l", "bce", "--target", "plan", "--positive", "pro", "--pred", "prob"],
    ],
)
def test_eval_does_not_import_pandas(args: list[str], tmp_path: Path) -> None:
    """pandas costs 0.2 s to import; Arrow's ``to_numpy`` and ``pa.array`` of NumPy import it (lossctl.arrow)."""
    args = [str(ROOT / a) if a.startswith("sample_data/") else a for a in args]
    code = f"import sys; from lossctl.cli import main; main({args!r}); print('pandas' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.stdout.strip().splitlines()[-1] == "False", run.stderr


def test_numeric_options_take_numpy_scalars() -> None:
    """A NumPy integer or float is a number (numbers.Integral, numbers.Real), as the values a script computes."""
    plain = lossctl.evaluate(SAMPLE, losses="mse", bootstrap=20, ci=0.9, chunk_rows=7)
    scalars = lossctl.evaluate(SAMPLE, losses="mse", bootstrap=np.int64(20), ci=np.float32(0.9), chunk_rows=np.int32(7))
    assert scalars.results[0].ci is not None and scalars.results[0].value == plain.results[0].value
    assert json.loads(json.dumps(scalars.to_dict()))["results"][0]["ci"]["level"] == pytest.approx(0.9, rel=1e-7)


def test_pandas_object_columns_of_mixed_types_read_as_their_text(tmp_path: Path) -> None:
    # Arrow refused them: a bare pyarrow ArrowTypeError ("Expected bytes, got a 'int' object").
    frame = pd.DataFrame({"target": ["1", 2, 3.5], "pred": [1.0, 2.5, 3.0], "g": ["a", 1, None]})
    report = lossctl.evaluate(frame, losses="mae", by="g")
    frame.to_csv(tmp_path / "mixed.csv", index=False)
    assert (
        report.to_dict()["results"]
        == lossctl.evaluate(tmp_path / "mixed.csv", losses="mae", by="g").to_dict()["results"]
    )
    assert report.value("mae", group={"g": "1"}) == 0.5 and report.value("mae", group={"g": None}) == 0.5
    arrays = lossctl.evaluate(y_true=pd.Series(["1", 2, 3.5]), y_pred=[1.0, 2.5, 3.0], losses="mae")
    assert arrays["mae"] == report["mae"] == pytest.approx(1 / 3)


def test_notices_name_the_keyword_that_sets_a_guess(tmp_path: Path) -> None:
    # From Python they said "set it with pred" and "set it with delimiter", naming no keyword to pass.
    (tmp_path / "semi.csv").write_text("truth;pred\n1;2\n")
    (tmp_path / "t.csv").write_text("target\n1\n")
    report = lossctl.evaluate(tmp_path / "semi.csv", losses="mse")
    assert report.notices == [
        f"reading '{tmp_path / 'semi.csv'}' with the delimiter ';' (found in its header line; set it with delimiter=)",
        "using column 'truth' as target (guessed from its name; set it with target=)",
        "using column 'pred' as pred (guessed from its name; set it with pred=)",
    ]
    joined = lossctl.evaluate({"pred": [2.0]}, targets=tmp_path / "t.csv", losses="mse", pred="pred")
    assert joined.notices[-1] == (
        f"using column 'target' of {tmp_path / 't.csv'} as target (guessed from its name; set it with target=)"
    )


def test_dataframes_given_as_arrays_are_one_vector_per_row() -> None:
    # evaluate(y_true=df[["a", "b"]], ...) was a bare AttributeError ("'DataFrame' object has no attribute 'dtype'"),
    # a polars DataFrame a bare ArrowInvalid; get() and Metric took them.
    y = pd.DataFrame({"a": [1.0, 3.0, 5.0], "b": [2.0, 4.0, 6.0]})
    p = pd.DataFrame({"a": [1.5, 3.0, 5.0], "b": [2.0, 5.0, 6.0]})
    expected = lossctl.get("mse")(y.to_numpy(), p.to_numpy())
    assert expected == pytest.approx(np.mean((y.to_numpy() - p.to_numpy()) ** 2), rel=1e-15)
    for true, pred in ((y, p), (pl.from_pandas(y), pl.from_pandas(p))):
        assert lossctl.evaluate(y_true=true, y_pred=pred, losses="mse")["mse"] == expected
        assert lossctl.evaluate({"y": true, "pred": pred}, losses="mse")["mse"] == expected
    probs = pd.DataFrame({"p0": [0.9, 0.2], "p1": [0.1, 0.8]})
    report = lossctl.evaluate(y_true=pd.Series([0, 1]), y_pred=probs, losses="cross_entropy")
    assert report["cross_entropy"] == lossctl.get("cross_entropy")([0, 1], probs.to_numpy())
    gaps = y.astype("Float64").where(y > 1)  # pd.NA in row 0
    assert lossctl.evaluate(y_true=gaps, y_pred=p, losses="mse", missing="drop").input["rows_dropped"] == 1
    with pytest.raises(lossctl.InputError, match=r"^column 'y_true' has 1 missing value \(row 0; 0-based\)"):
        lossctl.evaluate(y_true=gaps, y_pred=p, losses="mse")
    with pytest.raises(lossctl.InputError, match=r"^'y_true' is a DataFrame whose columns are not all numbers; "):
        lossctl.evaluate(y_true=pd.DataFrame({"a": ["x", "y"]}), y_pred=[[1.0], [2.0]], losses="mse")


def test_polars_128_bit_integers_are_read_by_get_as_evaluate_reads_them() -> None:
    # get() passed them to NumPy, which has no 128-bit integers: polars' InvalidOperationError, where evaluate() read
    # the column through Arrow as its text.
    big = pl.Series([2**100, 1], dtype=pl.Int128)
    expected = lossctl.evaluate(pl.DataFrame({"pred": [1.0, 1.0], "target": big}), losses="mae")["mae"]
    assert expected == (2**100 - 1) / 2
    for kind in (pl.Int128, pl.UInt128):
        assert lossctl.get("mae")(pl.Series([1.0, 1.0]), pl.Series([2**100, 1], dtype=kind)) == expected
    # query ids past float64's precision stay two queries (as floats, one query of four rows: 1.3435...)
    target, pred = pl.Series([1.0, 0.0, 1.0, 0.0]), pl.Series([1.0, 0.0, 0.5, 0.2])
    qid = pl.Series([2**100, 2**100 + 1, 2**100, 2**100 + 1], dtype=pl.Int128)
    assert lossctl.get("listnet")(target, pred, qid=qid) == lossctl.get("listnet")(target, pred, qid=[1, 2, 1, 2])


def test_masked_values_of_a_numpy_masked_array_are_missing() -> None:
    # np.asarray drops the mask: the value under it was used as data, so mae([1, --, 3], [1, 3, 5]) was 1.0 where
    # the masked row is missing (an error, or dropped with missing="drop").
    y, p = np.ma.masked_array([1.0, 2.0, 3.0], [False, True, False]), [1.0, 3.0, 5.0]
    message = r"^column 'y_true' has 1 missing value \(row 1; 0-based\); use missing=\"drop\" to drop those rows$"
    with pytest.raises(lossctl.InputError, match=message):
        lossctl.evaluate(y_true=y, y_pred=p, losses="mae")
    dropped = lossctl.evaluate(y_true=y, y_pred=p, losses="mae", missing="drop")
    assert dropped["mae"] == 1.0 and dropped.input["rows_dropped"] == 1
    assert lossctl.evaluate({"y": y, "pred": p}, losses="mae", missing="drop")["mae"] == 1.0
    with pytest.raises(lossctl.InputError, match=r"^'target' has missing \(NaN\) values in 1 row \(first: row 1\)$"):
        lossctl.get("mae")(y, p)
    with pytest.raises(lossctl.InputError, match=r"^'target' has missing \(NaN\) values in 1 row \(first: row 1\)$"):
        lossctl.Metric("mae").update(y, p)
    labels = np.ma.masked_array(["a", "b", "a"], [False, True, False])
    report = lossctl.evaluate(y_true=labels, y_pred=[0.9, 0.1, 0.8], losses="bce", positive="a", missing="drop")
    assert report["bce"] == pytest.approx(-np.mean(np.log([0.9, 0.8])), rel=1e-12)
    classes = np.ma.masked_array([0, 1, 2], [False, False, True])
    report = lossctl.evaluate(y_true=classes, y_pred=np.eye(3), losses="cross_entropy", missing="drop")
    assert report.input["rows_dropped"] == 1
    with pytest.raises(lossctl.InputError, match=r"^'qid' has missing values in 1 row \(first: row 0\)$"):
        lossctl.get("ranknet")([1.0, 0.0], [0.5, 0.2], qid=np.ma.masked_array([1, 1], [True, False]))
    assert lossctl.get("mae")(np.ma.masked_array([1.0, 2.0]), [1.0, 3.0]) == 0.5  # nothing masked


def test_pandas_columns_arrow_cannot_hold_are_read_as_their_text() -> None:
    # A complex column, used or not, was a bare pyarrow ArrowNotImplementedError ("Unsupported numpy type 15"), a
    # sparse one a bare TypeError ("Sparse pandas data (column target) not supported").
    frame = pd.DataFrame(
        {"target": pd.arrays.SparseArray([1.0, 0.0, 0.0]), "pred": [1.0, 0.5, 0.0], "z": [1j, 2j, 3j]},
        index=pd.Index([1j, 2j, 3j]),
    )
    kept = frame.copy()
    assert lossctl.evaluate(frame, losses="mae")["mae"] == pytest.approx(0.5 / 3, rel=1e-15)
    pd.testing.assert_frame_equal(frame, kept)
    with pytest.raises(lossctl.InputError, match=r"^column 'z' is not numeric: '1j' at row 0$"):
        lossctl.evaluate(frame, losses="mae", pred="z")
    with pytest.raises(lossctl.InputError, match=r"^column 'y_true' is not numeric: '1j' at row 0$"):
        lossctl.evaluate(y_true=pd.Series([1j, 2]), y_pred=[1.0, 2.0], losses="mae")


def test_pandas_periods_and_intervals_are_keys_as_to_csv_writes_them(tmp_path: Path) -> None:
    # A period key was a bare ArrowNotImplementedError (no dictionary_encode for pandas' extension type), then its
    # ordinals (600 for 2020-01); an interval key was "holds nested values (struct<left, right>)".
    frame = pd.DataFrame(
        {
            "target": [1.0, 2.0, 3.0, 4.0],
            "pred": [1.5, 2.0, 3.0, 6.0],
            "month": pd.PeriodIndex(["2020-01", None, "2020-01", "2020-03"], freq="M"),
            "bin": pd.arrays.IntervalArray.from_breaks([0, 1, 2, 3, 4]),
        }
    )
    kept = frame.copy()
    report = lossctl.evaluate(frame, losses="mae", by=["month", "bin"])
    pd.testing.assert_frame_equal(frame, kept)
    frame.to_csv(tmp_path / "periods.csv", index=False)
    on_file = lossctl.evaluate(tmp_path / "periods.csv", losses="mae", by=["month", "bin"])
    assert report.to_dict()["results"] == on_file.to_dict()["results"]
    assert report.value("mae", group={"month": "2020-03", "bin": "(3, 4]"}) == 2.0
    assert report.value("mae", group={"month": None, "bin": "(1, 2]"}) == 0.0
    indexed = lossctl.evaluate(frame.set_index("month"), losses="mae", by="month")
    assert indexed.value("mae", group={"month": "2020-01"}) == 0.25
    arrays = lossctl.evaluate({"target": frame.target, "pred": frame.pred, "m": frame.month}, losses="mae", by="m")
    assert arrays.value("mae", group={"m": "2020-01"}) == 0.25


def test_polars_columns_arrow_has_no_type_for_are_read_as_their_text() -> None:
    # An Int128 column, used or not, was a bare pyarrow ArrowInvalid ("Invalid or unsupported format string:
    # '_pli128'"), and a LazyFrame whose query fails a bare polars InvalidOperationError.
    frame = pl.DataFrame(
        {
            "target": [1.0, 2.0, 4.0],
            "pred": pl.Series([1, 3, 4], dtype=pl.Int128),
            "id": pl.Series([2**100, 2**100 + 1, 2**100], dtype=pl.Int128),
        }
    )
    report = lossctl.evaluate(frame, losses="mae", by="id")
    assert report["mae"] == pytest.approx(1 / 3)
    assert report.value("mae", group={"id": str(2**100 + 1)}) == 1.0
    assert lossctl.evaluate(frame.lazy(), losses="mae")["mae"] == report["mae"]
    failing = frame.lazy().with_columns(pl.lit("x").cast(pl.Float64, strict=True).alias("target"))
    with pytest.raises(lossctl.InputError, match=r"^the polars LazyFrame failed to collect: conversion from `str` "):
        lossctl.evaluate(failing, losses="mae")


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (
            ["target", "pred", "pred"],
            r"^column 'pred' appears more than once in pandas DataFrame; names must be unique$",
        ),
        (
            pd.MultiIndex.from_tuples([("a", "target"), ("a", "pred"), ("b", "pred")]),
            r"^the pandas DataFrame has MultiIndex columns; give it one level of string names \(e\.g\. df\.columns = ",
        ),
    ],
)
def test_pandas_column_names_must_each_name_one_column(columns, message: str) -> None:
    # Duplicates were pandas' bare ValueError; MultiIndex columns were named by their tuples' Python spelling.
    frame = pd.DataFrame([[0.0, 0.5, 1.0], [1.0, 1.0, 2.0]], columns=columns)
    with pytest.raises(lossctl.InputError, match=message):
        lossctl.evaluate(frame, losses="mse")


def test_yes_no_keywords_take_numpy_booleans() -> None:
    """A NumPy boolean (``np.bool_``, e.g. from a config array) is a yes/no keyword like Python's."""
    report = lossctl.evaluate(y_true=[0.0, 1.0], y_pred=[0.0, 3.0], losses="mse", distributions=np.True_)
    assert report["mse"] == 2.0
    baseline, candidate = {"y": [0.0, 1.0], "pred": [0.0, 3.0]}, {"y": [0.0, 1.0], "pred": [0.0, 1.0]}
    comparison = lossctl.compare(baseline, candidate, losses="mse", significant=np.False_)
    assert comparison["mse"].verdict == "better"


def test_a_missing_result_is_a_key_error_and_in_asks_whether_a_result_exists() -> None:
    """``report["mae"]`` for a loss not evaluated raised a UsageError that ``except KeyError`` (the mapping
    idiom) missed, and ``"mse" in report`` tried ``report[0]``: 'a result is named by its loss ... got 0 (int)'."""
    report = lossctl.evaluate(y_true=[0.0, 1.0, 2.0], y_pred=[0.5, 1.0, 3.0], losses="mse,huber:delta=2")
    with pytest.raises(KeyError) as caught:
        report["mae"]
    assert isinstance(caught.value, lossctl.UsageError) and isinstance(caught.value, ValueError)
    assert str(caught.value) == "no result for 'mae'; the results are: mse, huber:delta=2"  # not quoted as a key
    assert ("mse" in report, "l2" in report, "huber" in report, "mae" in report, 3 in report) == (
        True,
        True,
        True,
        False,
        False,
    )
    grouped = lossctl.evaluate({"y": [0.0, 1.0], "pred": [1.0, 1.0], "g": ["a", "b"]}, losses="mae", by="g")
    with pytest.raises(KeyError, match="no group"):
        grouped.value("mae", group={"g": "c"})
    comparison = lossctl.compare({"y": [0.0, 2.5], "pred": [1.0, 1.0]}, {"y": [0.0, 2.5], "pred": [0.0, 1.0]})
    assert "mse" in comparison and "mape" not in comparison
    with pytest.raises(KeyError, match="no result for 'mape'"):
        comparison["mape"]


def test_a_group_of_dates_is_looked_up_by_the_date() -> None:
    """A report holds a date key in ISO 8601 (as its JSON does), and group={"day": date(...)} or a pandas
    Timestamp found no group: 'no group {'day': datetime.date(2024, 1, 31)} in this report'."""
    days = [datetime.date(2024, 1, 31), datetime.date(2024, 2, 1), datetime.date(2024, 1, 31)]
    data = {"y_true": [1.0, 2.0, 3.0], "y_pred": [1.0, 1.0, 1.0], "day": days}
    report = lossctl.evaluate(data, losses="mae", by="day")
    assert report.value("mae", group={"day": datetime.date(2024, 1, 31)}) == 1.0
    assert report.value("mae", group={"day": "2024-01-31"}) == 1.0  # as the JSON writes it
    stamps = {**data, "day": pd.to_datetime(["2024-01-31", "2024-02-01", "2024-01-31"])}
    report = lossctl.evaluate(stamps, losses="mae", by="day")
    assert report.value("mae", group={"day": pd.Timestamp("2024-02-01")}) == 1.0


def test_a_group_is_looked_up_by_numpys_dates_and_durations() -> None:
    # report.value(group={"day": df["day"].values[1]}) was "no group {'day': np.datetime64('2020-01-02T03:04:05...')}".
    frame = pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0],
            "pred": [1.0, 3.0, 3.0],
            "day": pd.to_datetime(["2020-01-01 00:00:00", "2020-01-02 03:04:05", None]),
            "date": [datetime.date(2020, 1, 1), datetime.date(2020, 1, 2), datetime.date(2020, 1, 2)],
            "wait": pd.to_timedelta([1, 2, 3], unit="s"),
        }
    )
    for by, value, expected in (
        ("day", frame["day"].to_numpy()[1], 1.0),
        ("date", np.datetime64("2020-01-02"), 0.5),
        ("wait", frame["wait"].to_numpy()[1], 1.0),
    ):
        assert lossctl.evaluate(frame, losses="mse", by=by).value("mse", group={by: value}) == expected
    missing = lossctl.evaluate(frame, losses="mse", by="day").value("mse", group={"day": frame["day"].to_numpy()[2]})
    assert missing == 0.0  # NaT is the missing key


def test_the_missing_group_is_looked_up_by_the_key_pandas_gives_it() -> None:
    # df.groupby(col, dropna=False) names the missing group NaN (NaT for times), which equals nothing:
    # report.value(group={"g": nan}) was "no group {'g': nan} in this report; its groups are: ..., {'g': None}".
    frame = pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 4.0],
            "pred": [1.0, 3.0, 3.0, 5.0],
            "g": [1.0, np.nan, 2.0, np.nan],
            "s": ["a", None, "b", "a"],
            "day": pd.to_datetime(["2020-01-01", None, "2020-01-01", None]),
        }
    )
    for by in ("g", "s", "day"):
        report = lossctl.evaluate(frame, losses="mse", by=by)
        for key, rows in frame.groupby(by, dropna=False):
            assert report.value("mse", group={by: key}) == float(((rows["pred"] - rows["y"]) ** 2).mean())
        for missing in (None, float("nan"), np.float64("nan"), pd.NA, pd.NaT):
            assert report.value("mse", group={by: missing}) == 1.0


def test_an_array_given_twice_is_a_usage_error() -> None:
    """``loss(y, p, pred=q)`` and ``metric.update(y, p, target=t)`` silently took the keyword's array and dropped
    the positional one (Python itself says 'got multiple values for argument')."""
    with pytest.raises(lossctl.UsageError, match=r"^the array 'target' is given twice, as y_true and as target=$"):
        lossctl.Metric("mse").update([1.0], [2.0], target=[5.0])
    with pytest.raises(
        lossctl.UsageError,
        match=r"^loss 'mse': the array 'pred' is given twice, as positional array 2 \(target, pred\) and as pred=$",
    ):
        lossctl.get("mse")([1.0], [2.0], pred=[3.0])
    with pytest.raises(lossctl.UsageError, match=r"^loss 'margin_ranking': the array 'target' is given twice, as "):
        lossctl.get("margin_ranking").per_sample([1.0], [2.0], [1.0], target=[-1.0])
    assert lossctl.get("mse")([1.0], pred=[3.0]) == 4.0  # each array once, by position or by name


def test_a_loss_takes_scikit_learns_array_keywords() -> None:
    """``loss(y_true=y, y_pred=p)``, as scikit-learn's metrics, ``evaluate`` and ``Metric.update`` take them, was
    "loss 'huber' needs the arrays target, pred; missing: target, pred"."""
    y, p, w = [0.0, 1.0, 2.0], [0.5, 1.0, 5.0], [1.0, 2.0, 1.0]
    huber = lossctl.get("huber")
    assert huber(y_true=y, y_pred=p, delta=2.0, sample_weight=w) == huber(y, p, delta=2.0, sample_weight=w) == 1.03125
    assert huber.per_sample(y, y_pred=p, delta=2.0).tolist() == [0.125, 0.0, 4.0]
    assert lossctl.get("gaussian_nll")(y_true=y, y_pred=p, var=[1.0, 1.0, 1.0]) == lossctl.get("gaussian_nll")(
        y, p, [1.0, 1.0, 1.0]
    )
    with pytest.raises(
        lossctl.UsageError,
        match=r"^loss 'mse': the array 'target' is given twice, as positional array 1 \(target, pred\) and as y_true=$",
    ):
        lossctl.get("mse")([1.0], y_true=[2.0], y_pred=[1.0])
    with pytest.raises(
        lossctl.UsageError, match=r"^loss 'mse': the array 'pred' is given twice, as y_pred= and as pred=$"
    ):
        lossctl.get("mse")(y_true=[1.0], y_pred=[2.0], pred=[1.0])


def test_the_only_model_of_a_report_needs_no_model_argument() -> None:
    """compare(models={"A": ..., "B": ...}) has one candidate, yet report["mse"] was 'no result for 'mse' (this
    report has models: B; pass model=...)'; with several candidates the model must still be named."""
    data = {"y": [1.0, 2.5], "a": [1.0, 2.0], "b": [1.0, 3.0], "c": [0.0, 1.0]}
    pair = lossctl.compare(data, models={"A": "a", "B": "b"}, losses="mse", target="y")
    assert pair["mse"] is pair.record("mse", model="B") and pair.value("mse") == 0.0
    single = lossctl.evaluate(data, models={"A": "a"}, losses="mae", target="y")
    assert single["mae"] == 0.25
    three = lossctl.compare(data, models={"A": "a", "B": "b", "C": "c"}, losses="mse", target="y")
    with pytest.raises(KeyError, match=r"this report has models: B, C; pass model=\.\.\."):
        three["mse"]
    assert three.value("mse", model="C") == pytest.approx(1.5)
    # A model the report lacks was "no result for 'mse' for model 'Z'; the results are: mse": the models unnamed.
    with pytest.raises(KeyError, match=r"^no model 'Z' in this report; its models are: B, C$"):
        three.value("mse", model="Z")
    with pytest.raises(lossctl.UsageError, match=r"^this report has no models \(evaluated without models=\); got mod"):
        lossctl.evaluate(data, losses="mae", target="y", pred="a").value("mae", model="A")


def test_per_sample_refuses_weights_and_reductions_as_such() -> None:
    """per_sample(..., sample_weight=w) was "loss 'huber' has no parameter 'sample_weight'" (the Metric's: "no role
    'sample_weight'"), as if the loss lacked a parameter."""
    message = r"^per_sample\(\) takes no sample_weight=: it returns each row's loss, unweighted and unreduced "
    with pytest.raises(lossctl.UsageError, match=message):
        lossctl.get("huber").per_sample([1.0], [2.0], sample_weight=[1.0])
    with pytest.raises(lossctl.UsageError, match=message):
        lossctl.Metric("huber").per_sample([1.0], [2.0], sample_weight=[1.0])
    with pytest.raises(lossctl.UsageError, match=r"^per_sample\(\) takes no reduction=: "):
        lossctl.get("mse").per_sample([1.0], [2.0], reduction="sum")
    # sample_weight=None, no weights (scikit-learn's default, which a caller may pass everywhere), was refused too:
    # it is what per_sample gives, as a role given as None is a missing array.
    assert lossctl.get("huber").per_sample([1.0, 0.0], [2.0, 0.0], sample_weight=None).tolist() == [0.5, 0.0]
    assert lossctl.Metric("huber").per_sample([1.0, 0.0], [2.0, 0.0], sample_weight=None).tolist() == [0.5, 0.0]


def test_a_data_frame_where_a_file_path_is_expected_is_a_usage_error(tmp_path: Path) -> None:
    """``per_sample=`` takes a path: a DataFrame raised TypeError from os.fspath, not a LossctlError."""
    frame = pd.DataFrame({"id": [1, 2], "pred": [0.5, 1.5], "target": [1.0, 1.0]})
    with pytest.raises(lossctl.UsageError, match=r"^per_sample takes a file path \(str or os.PathLike\), got Table$"):
        lossctl.evaluate(frame, per_sample=pa.table(frame), losses="mse")


def test_targets_take_the_same_kinds_of_data_as_the_predictions(tmp_path: Path) -> None:
    """``targets=`` took a path only ("targets takes a file path (str or os.PathLike), got DataFrame") while the
    predictions may be any data of docs/cli.md's Python API: a DataFrame, an Arrow table or a dict of arrays is
    joined by ``on`` (or aligned by order) as a targets file is, and named apart from the predictions."""
    preds = pd.DataFrame({"id": [1, 2, 3], "pred": [0.5, 1.0, 3.0]})
    truth = {"id": [3, 1, 2], "y": [2.0, 0.0, 1.0]}
    expected = (0.25 + 0.0 + 1.0) / 3
    kinds = [pd.DataFrame(truth), pa.table(truth), pl.DataFrame(truth), truth]
    for targets in kinds:
        report = lossctl.evaluate(preds, targets=targets, on="id", losses="mse", pred="pred", target="y")
        assert report["mse"] == pytest.approx(expected, rel=1e-15)
    in_order = pd.DataFrame(truth).sort_values("id")
    assert lossctl.evaluate(preds, targets=in_order, losses="mse", pred="pred", target="y")["mse"] == pytest.approx(
        expected, rel=1e-15
    )
    report = lossctl.evaluate(preds, targets=pd.DataFrame(truth), on="id", losses="mse", pred="pred", target="y")
    assert report.to_dict()["input"]["targets"] == "the targets (pandas DataFrame)"
    with pytest.raises(lossctl.InputError, match=r"^column 'z' not found in the targets \(pandas DataFrame\); "):
        lossctl.evaluate(preds, targets=pd.DataFrame(truth), on="id", losses="mse", pred="pred", target="z")
    candidate = pd.DataFrame({"id": [1, 2, 3], "pred": [0.0, 1.0, 2.5]})
    options = {"on": "id", "losses": "mae", "pred": "pred", "target": "y"}
    compared = lossctl.compare(preds, candidate, targets=pa.table(truth), **options)
    assert compared["mae"].verdict == "better"
    with pytest.raises(lossctl.UsageError, match=r"^targets takes a path, .*; got 5 \(int\)$"):
        lossctl.evaluate(preds, targets=5, on="id", losses="mse", pred="pred", target="y")


def test_a_parameter_given_as_text_from_python_is_said_to_be_text() -> None:
    # get("poisson_nll")(..., log_input="true") said "must be true or false, got 'true'", which reads as its own
    # answer; Python values are not parsed as the command line's text is, so the message says what was given.
    with pytest.raises(
        lossctl.UsageError, match=r"^poisson_nll: parameter 'log_input' must be true or false, got the text 'true'$"
    ):
        lossctl.get("poisson_nll")([1.0], [0.5], log_input="true")
    with pytest.raises(
        lossctl.UsageError, match=r"^huber: parameter 'delta' must be a number \(> 0\), got the text '2'$"
    ):
        lossctl.get("huber")([1.0], [0.5], delta="2")
    assert lossctl.get("huber")([1.0], [0.5], delta=2) == 0.125


@pytest.mark.parametrize(
    ("loss", "params", "message"),
    [
        ("mse", {"multioutput": 1}, "mse: parameter 'multioutput' must be one of uniform, raw, got 1"),
        ("mse", {"multioutput": True}, "mse: parameter 'multioutput' must be one of uniform, raw, got True"),
        (
            "class_balanced",
            {"base": None},
            "class_balanced: parameter 'base' must be one of cross_entropy, focal_multiclass, bce_logits, got None",
        ),
        (
            "cross_entropy",
            {"class_weight": np.array(0.5)},
            "cross_entropy: parameter 'class_weight' must be a comma-separated list of numbers >= 0 or 'balanced', "
            "got array(0.5)",
        ),
    ],
)
def test_a_choice_or_list_parameter_given_another_python_type_is_a_usage_error(
    loss: str, params: dict[str, object], message: str
) -> None:
    # A number for a word (multioutput=1, base=None) was an AttributeError ('int' object has no attribute 'lower')
    # and a 0-d array for a per-class list a TypeError (iteration over a 0-d array): tracebacks, not UsageErrors.
    with pytest.raises(lossctl.UsageError, match=rf"^{re.escape(message)}$"):
        lossctl.get(loss)([0.0, 1.0], [[1.0, 2.0], [3.0, 1.0]], **params)


def test_a_word_parameter_takes_the_none_its_default_is_written_as() -> None:
    # describe shows "multioutput (choice, default none, ...)", the command line takes multioutput=none and the CSV
    # output writes it back, but get("mse")(..., multioutput="none") said "must be one of uniform, raw, got 'none'".
    y, p = np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([[1.0, 1.0], [2.0, 5.0]])
    assert lossctl.get("mse")(y, p, multioutput="none") == lossctl.get("mse")(y, p) == 1.25
    assert lossctl.get("mse")(y, p, multioutput="uniform") == 1.25
    with pytest.raises(lossctl.UsageError, match=r"^mse: parameter 'multioutput' must be one of uniform, raw, got "):
        lossctl.get("mse")(y, p, multioutput=np.array(["none", "raw"]))


def test_a_malformed_loss_spec_from_python_is_quoted_as_given(cli, regression_csv) -> None:
    # lossctl.get("huber:") said "expected KEY=VALUE in '-l huber:'": an option the Python caller never typed.
    with pytest.raises(lossctl.UsageError, match=r"^expected KEY=VALUE in 'huber:', got ''$"):
        lossctl.get("huber:")
    with pytest.raises(lossctl.UsageError, match=r"^'huber:delta=1:delta=2' gives 'delta' twice$"):
        lossctl.evaluate(y_true=[1.0], y_pred=[2.0], losses="huber:delta=1:delta=2")
    run = cli("eval", regression_csv, "-l", "huber:")
    assert (run.code, run.err) == (2, "error: expected KEY=VALUE in '-l huber:', got ''\n")


def test_a_per_class_list_may_be_any_one_dimensional_array_like() -> None:
    # As the arrays are: a polars Series or a pyarrow array was refused with its multi-line repr in the message
    # ("got shape: (2,)\nSeries: '' [f64]\n[...").
    expected = lossctl.get("cross_entropy")([0, 1], [[1.0, 2.0], [3.0, 1.0]], class_weight=(1.0, 2.0))
    arrays = (np.array([1.0, 2.0]), pd.Series([1.0, 2.0]), pl.Series([1.0, 2.0]), pa.array([1.0, 2.0]), range(1, 3))
    for weights in arrays:
        assert lossctl.get("cross_entropy")([0, 1], [[1.0, 2.0], [3.0, 1.0]], class_weight=weights) == expected


@pytest.mark.parametrize(
    ("weights", "given"),
    [(pl.DataFrame({"a": [1.0, 2.0]}), "shape: (2, 1)"), (np.ones((2, 2)), "array([[1., 1"), (10**400, "1000")],
    ids=["polars-frame", "2-d-array", "huge-int"],
)
def test_a_refused_per_class_list_is_quoted_on_one_line(weights: object, given: str) -> None:
    with pytest.raises(lossctl.UsageError) as error:
        lossctl.get("cross_entropy")([0, 1], [[1.0, 2.0], [3.0, 1.0]], class_weight=weights)
    message = str(error.value)
    assert message.startswith("cross_entropy: parameter 'class_weight' must be ")
    assert given in message and "\n" not in message and len(message) < 200


@pytest.mark.parametrize("loss", ["mse", "bce_logits", "cross_entropy", "asymmetric", "dice"])
def test_arrays_of_empty_vectors_are_an_input_error(loss: str) -> None:
    """A (rows, 0) array was scored (mse: "not a finite number (a float64 overflow)", asymmetric and dice: 0.0), and
    evaluate() let pyarrow's ArrowInvalid out ("list_size needs to be a strict positive integer")."""
    empty = np.zeros((2, 0))
    expected = "holds empty vectors (row 0 has no values); a vector needs at least one value"
    with pytest.raises(lossctl.InputError, match=rf"^'target' {re.escape(expected)}$"):
        lossctl.get(loss)(empty, empty)
    with pytest.raises(lossctl.InputError, match=rf"^'y_true' {re.escape(expected)}$"):
        lossctl.evaluate(y_true=empty, y_pred=empty, losses=[loss])
    metric = lossctl.Metric(loss)
    with pytest.raises(lossctl.InputError, match=re.escape(expected)):
        metric.update(empty, empty)


def test_signatures_spell_values_as_the_command_line_does() -> None:
    """A signature wrote Python reprs (``mse|multioutput=None|``, ``multioutput='raw'``, ``log_input=False``) while
    the CSV ``params`` column and the command line write ``none``, ``raw`` and ``false``: one spelling for both."""
    report = lossctl.evaluate(
        y_true=[1.0, 2.0], y_pred=[1.5, 2.0], losses="mse,poisson_nll,t=0.5*mse+0.5*mae,mae:multioutput=raw"
    )
    signatures = [record["signature"].split("|reduction=")[0] for record in report.to_dict()["results"]]
    assert signatures == [
        "mse|multioutput=none",
        "poisson_nll|log_input=false|full=false|eps=1e-08",
        "mae[0]|multioutput=raw",
        "mae|multioutput=none",
        "t=0.5*mse:multioutput=none+0.5*mae:multioutput=none",
    ]
    assert list(report.to_pandas()["params"])[:2] == ["multioutput=none", "log_input=false;full=false;eps=1e-08"]


def test_a_reduction_a_loss_lacks_is_one_message_in_the_cli_and_every_api(cli, write) -> None:
    # A loss call said "loss 'rmse' supports only reduction mean", the CLI and Metric "loss 'rmse' is an
    # aggregate: it has only the mean reduction": one rule, two wordings.
    said = "loss 'rmse' is an aggregate: it has only the mean reduction"
    for call in (
        lambda: lossctl.get("rmse")([1.0, 2.0], [1.0, 3.0], reduction="sum"),
        lambda: lossctl.Metric("rmse", reduction="sum"),
        lambda: lossctl.evaluate(y_true=[1.0, 2.0], y_pred=[1.0, 3.0], losses="rmse", reduction="sum"),
    ):
        with pytest.raises(lossctl.UsageError) as error:
            call()
        assert str(error.value) == said
    run = cli("eval", write("p.csv", "y_true,y_pred\n1,1\n2,3\n"), "-l", "rmse", "--reduction", "sum")
    assert (run.code, run.err) == (2, f"error: {said}\n")
    with pytest.raises(lossctl.UsageError, match=r"^loss 'info_nce' has only the mean reduction$"):  # per-row values
        lossctl.Metric("info_nce", reduction="sum")


def test_an_open_stream_is_named_the_stream_not_standard_input() -> None:
    # io.BytesIO(b"") was "standard input is empty", a Parquet stream read as CSV "cannot read standard input as
    # CSV", and input.path was "-": the stream is not standard input. The command line's '-' is unchanged.
    for data, said in (
        (b"", "the stream is empty"),
        (b"y_true,y_pred\n", "the stream has no rows"),
        (b"y_true,y_pred\n1,2\n", "column 'p' not found in the stream; columns are: y_true, y_pred"),
    ):
        with pytest.raises(lossctl.InputError) as error:
            lossctl.evaluate(io.BytesIO(data), losses="mse", pred="p" if data.count(b"\n") == 2 else None)
        assert str(error.value) == said
    sink = io.BytesIO()
    pq.write_table(pa.table({"y_true": [1.0], "y_pred": [2.0]}), sink)
    with pytest.raises(
        lossctl.InputError, match=r'^cannot read the stream as CSV: it is a Parquet file; give input_format="parquet"$'
    ):
        lossctl.evaluate(io.BytesIO(sink.getvalue()), losses="mse", input_format="csv")
    report = lossctl.evaluate(io.BytesIO(sink.getvalue()), losses="mse")
    assert (report.to_dict()["input"]["path"], report["mse"]) == ("<stream>", 1.0)
    report = lossctl.evaluate(io.StringIO("y_true,y_pred\n1,3\n"), losses="mse")
    assert (report.to_dict()["input"]["path"], report["mse"]) == ("<stream>", 4.0)
    run = subprocess.run(
        [sys.executable, "-m", "lossctl", "eval", "-", "-l", "mse"], input="", capture_output=True, text=True
    )
    assert (run.returncode, run.stderr) == (3, "error: standard input is empty\n")


def test_one_stream_given_for_two_inputs_is_a_usage_error() -> None:
    # compare(s, s) read the stream as the baseline, then found it empty as the candidate: "the stream is empty".
    stream = io.BytesIO(b"y_true,y_pred\n1,2\n2,2\n")
    with pytest.raises(lossctl.UsageError) as error:
        lossctl.compare(stream, stream, losses="mse")
    assert str(error.value) == "the same stream is given as the baseline and as the candidate; it can be read only once"
    with pytest.raises(lossctl.UsageError, match=r"^the same stream is given as the predictions and as targets; "):
        lossctl.evaluate(stream, targets=stream, losses="mse")
    assert lossctl.compare(stream, io.BytesIO(b"y_true,y_pred\n1,2\n2,3\n"), losses="mse")["mse"].delta == 0.5


@pytest.mark.parametrize("suffix", [".json", ".csv", ".md", ".parquet"])
def test_write_is_byte_identical_to_the_command_lines_output_file(suffix: str, tmp_path: Path) -> None:
    # -o PATH had no Python equivalent: a notebook re-implemented the Markdown and Parquet writers.
    command = [sys.executable, "-m", "lossctl"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for kind, run, args in (
        ("eval", lambda: lossctl.evaluate(SAMPLE, losses="mse,mae", by="segment"), [SAMPLE, "--by", "segment"]),
        ("compare", lambda: lossctl.compare(SAMPLE, SAMPLE, losses="mse,mae"), [SAMPLE, SAMPLE]),
    ):
        cli_file, api_file = tmp_path / f"cli-{kind}{suffix}", tmp_path / f"api-{kind}{suffix}"
        done = subprocess.run([*command, kind, *map(str, args), "-l", "mse,mae", "-q", "-o", str(cli_file)], env=env)
        assert done.returncode == 0
        run().write(api_file)
        assert api_file.read_bytes() == cli_file.read_bytes()


def test_write_takes_a_format_for_a_name_without_extension_and_refuses_a_contradicting_one(tmp_path: Path) -> None:
    report = lossctl.evaluate(SAMPLE, losses="mse")
    report.write(tmp_path / "results", format="csv")
    assert (tmp_path / "results").read_text().startswith("loss,")
    with pytest.raises(lossctl.UsageError, match=r"^format=\"csv\" contradicts path '.*r\.json', which writes json"):
        report.write(tmp_path / "r.json", format="csv")
    with pytest.raises(lossctl.UsageError, match=r"^cannot tell the format of '.*r\.txt' .* or give format='json'"):
        report.write(tmp_path / "r.txt")
    with pytest.raises(lossctl.UsageError, match=r"^format takes one of json, csv, markdown, parquet"):
        report.write(tmp_path / "r", format="table")
    with pytest.raises(lossctl.UsageError, match=r"^path needs a file name"):
        report.write("")
    with pytest.raises(lossctl.InputError, match=r"^cannot write '.*missing/r\.json': directory"):
        report.write(tmp_path / "missing" / "r.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lossctl import report as formats

    def broken(report: object, path: Path) -> None:
        path.write_bytes(b"PAR1 partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(formats, "_write_parquet", broken)
    with pytest.raises(lossctl.InputError, match=r"^cannot write '.*r\.parquet'"):
        lossctl.evaluate(SAMPLE, losses="mse").write(tmp_path / "r.parquet")
    assert list(tmp_path.iterdir()) == []


def test_compare_takes_progress_and_notify_as_evaluate_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # compare() had neither: TypeError 'unexpected keyword argument', though the CLI's compare draws a progress bar.
    import lossctl.queries

    monkeypatch.setattr(lossctl.queries, "LARGE_QUERY_PAIRS", 10)
    rows = [("a", 1, 0.5), ("a", 0, 0.1), *[("big", i % 3, i / 10) for i in range(6)], ("c", 1, 0.2), ("c", 0, 0.3)]
    (tmp_path / "rk.csv").write_text("qid,rel,score\n" + "".join(f"{q},{r},{s}\n" for q, r, s in rows))
    told: list[str] = []
    seen: list[tuple[int, int | None]] = []
    report = lossctl.compare(tmp_path / "rk.csv", tmp_path / "rk.csv", pred="score", target="rel",
                             cols={"qid": "qid"}, losses="ranknet", chunk_rows=4,
                             progress=lambda rows, total: seen.append((rows, total)), notify=told.append)  # fmt: skip
    assert told == ["ranknet: query 'big' has 6 documents, 15 pairs to compare: this takes a while"]
    assert report["ranknet"].delta == 0.0 and not any("big" in notice for notice in report.notices)
    assert seen and seen[-1][0] == len(rows)  # a CSV file: the total is not known before reading it
    with pytest.raises(lossctl.UsageError, match=r"^progress takes a function or None, got 3 "):
        lossctl.compare(SAMPLE, SAMPLE, progress=3)
    with pytest.raises(lossctl.UsageError, match=r"^notify takes a function or None, got 'x' "):
        lossctl.compare(SAMPLE, SAMPLE, notify="x")


def test_type_hints_resolve_on_every_public_callable_without_numpy_at_import() -> None:
    # typing.get_type_hints(lossctl.get("mse").per_sample), of LossSpec's methods, register_loss and to_pandas
    # failed: NameError: name 'np' (or 'pd') is not defined, imported for the type checker only.
    script = """if True:
        import inspect, sys, typing
        import lossctl
        assert "numpy" not in sys.modules
        lossctl.LossSpec, lossctl.register_loss, lossctl.Report  # their modules too import neither
        assert "numpy" not in sys.modules and "pandas" not in sys.modules
        public = [getattr(lossctl, name) for name in lossctl.__all__ if name != "__version__"]
        callables = [lossctl.get("mse").__call__, lossctl.get("mse").per_sample, lossctl.Metric("mse").update]
        for value in public:
            callables.append(value)
            if inspect.isclass(value):
                for name in dir(value):  # inherited too: Report.to_pandas is _Report's
                    member = inspect.getattr_static(value, name)
                    member = member.fget if isinstance(member, property) else getattr(value, name)
                    if (not name.startswith("_") or name in ("__init__", "__call__")) and callable(member):
                        callables.append(member)
        hints = {getattr(f, "__qualname__", repr(f)): typing.get_type_hints(f) for f in callables}
        print(len(callables), hints["LossSpec.per_sample"]["return"].__module__, hints["_Report.to_pandas"]["return"])
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    count, module, frame = done.stdout.split(maxsplit=2)
    assert int(count) > 40 and module == "numpy" and frame.strip() == "<class 'pandas.DataFrame'>"


def _mypy_strict(tmp_path: Path, source: str) -> list[str]:
    """The lines ``mypy --strict`` prints for a user's file ``source`` importing this tree's lossctl as an
    installed package (``py.typed``): what a user's type checker says of their code."""
    pytest.importorskip("mypy")
    user = tmp_path / "user.py"
    user.write_text(source)
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache")]
    run = subprocess.run(
        [*command, "--ignore-missing-imports", "--no-error-summary", "user.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert not run.stderr, run.stderr
    return run.stdout.replace("builtins.", "").splitlines()  # mypy < 1.11 names float builtins.float


def test_a_misspelt_public_name_is_a_type_error_not_any(tmp_path: Path) -> None:
    # The lazy module __getattr__ (PEP 562) was visible to type checkers: every name of lossctl, a misspelt one
    # too, was Any, so lossctl.evalute(...) type-checked and failed only when run.
    lines = _mypy_strict(tmp_path, 'import lossctl\nreport = lossctl.evalute("x.csv")\nlossctl.Metric("mse")\n')
    assert lines == ['user.py:2: error: Module has no attribute "evalute"; maybe "evaluate"?  [attr-defined]']


def test_a_loss_called_on_arrays_is_typed_float_and_with_multioutput_raw_an_array(tmp_path: Path) -> None:
    # LossSpec.__call__ returned Any: round(lossctl.get("huber")(y, p), 6) and a typo on its result passed mypy.
    source = """import lossctl
huber = lossctl.get("huber:delta=2")
reveal_type(huber([0.0, 1.0], [0.5, 3.0], delta=1.0))
reveal_type(lossctl.get("mse")([[0.0, 1.0]], [[0.5, 3.0]], multioutput="raw"))
"""
    lines = _mypy_strict(tmp_path, source)
    assert len(lines) == 2 and lines[0] == 'user.py:3: note: Revealed type is "float"'
    assert lines[1].startswith('user.py:4: note: Revealed type is "numpy.ndarray[')
    huber = lossctl.get("huber:delta=2")
    assert huber([0.0, 1.0], [0.5, 3.0], delta=1.0) == 0.8125
    assert lossctl.get("mse")([[0.0, 1.0]], [[0.5, 3.0]], multioutput="raw").tolist() == [0.25, 4.0]


def test_progress_and_notify_take_functions_that_return_something(tmp_path: Path) -> None:
    # They were typed Callable[..., None]: a progress bar's update (returning a bool) or list.append-like callbacks
    # that return a value were mypy errors, though their result is ignored.
    source = """import lossctl
def advance(rows: int, total: int | None) -> bool:
    return True
def told(message: str) -> int:
    return 0
lossctl.evaluate(y_true=[0.0], y_pred=[1.0], progress=advance, notify=told)
lossctl.compare({"y": [0.0], "pred": [1.0]}, {"y": [0.0], "pred": [0.5]}, target="y", progress=advance, notify=told)
"""
    assert _mypy_strict(tmp_path, source) == []
    calls: list[tuple[int, int | None]] = []

    def advance(rows: int, total: int | None) -> bool:
        calls.append((rows, total))
        return True

    report = lossctl.evaluate(y_true=[0.0, 1.5], y_pred=[1.0, 1.5], losses="mse", progress=advance)
    assert report["mse"] == 0.5 and calls[-1] == (2, 2)


def test_the_list_keywords_that_take_none_are_typed_so(tmp_path: Path) -> None:
    # by=, fail_if=, params= and classes= take None as "not given" (as losses= and on= do), but were typed without
    # it: a user's `by: str | None` passed through was a mypy error on a call that works.
    source = """import lossctl
def run(by: str | None, gates: list[str] | None) -> float:
    data = {"y": [0.0, 1.5], "pred": [1.0, 1.5], "g": ["a", "b"]}
    other = {"y": [0.0, 1.5], "pred": [1.0, 1.0], "g": ["a", "b"]}
    lossctl.compare(data, other, target="y", by=by, fail_if=gates, params=None, classes=None)
    return lossctl.evaluate(data, target="y", losses="mse", by=by, fail_if=gates, params=None, classes=None)["mse"]
"""
    assert _mypy_strict(tmp_path, source) == []
    report = lossctl.evaluate(y_true=[0.0, 1.5], y_pred=[1.0, 1.5], losses="mse", by=None, fail_if=None, params=None)
    assert report["mse"] == 0.5 and report.by == [] and report.checks == []


def test_a_reports_check_records_have_a_public_type(tmp_path: Path) -> None:
    # report.checks held lossctl.report.Check, which lossctl did not export (as it does Result and Comparison):
    # a user's annotation lossctl.Check was a mypy error and an AttributeError.
    source = """import lossctl
def failing(checks: list[lossctl.Check]) -> list[str]:
    return [check.expr for check in checks if not check.passed]
print(failing(lossctl.evaluate(y_true=[0.0], y_pred=[1.0], losses="mse", fail_if="mse>0.5").checks))
"""
    assert _mypy_strict(tmp_path, source) == []
    report = lossctl.evaluate(y_true=[0.0], y_pred=[1.0], losses="mse", fail_if="mse>0.5")
    assert "Check" in lossctl.__all__ and type(report.checks[0]) is lossctl.Check and not report.checks[0].passed


def test_dir_and_help_of_a_fresh_import_list_the_whole_api() -> None:
    # The lazily imported names (PEP 562) were missing from dir(lossctl) until first used: tab completion did not
    # offer lossctl.evaluate, and help(lossctl) showed no function and no class but the errors.
    script = """if True:
        import pydoc, sys
        import lossctl
        missing = [name for name in lossctl.__all__ if name not in dir(lossctl)]
        print(missing, "numpy" in sys.modules)
        text = pydoc.render_doc(lossctl, renderer=pydoc.plaintext)
        print("evaluate(data" in text, "class Report" in text, "class Metric" in text)
    """
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[] False", "True True True"]


def test_an_evaluate_beside_a_command_line_run_in_another_thread_writes_its_per_sample_file(tmp_path: Path) -> None:
    # The outputs a command line run holds back until it ends (its transaction) were the process's: a host running
    # lossctl.cli.main in one thread (its input a pipe not yet written) and evaluate(per_sample=...) in another got
    # its report back with no per-sample file, published only when the command ended (or removed had it failed).
    fifo, samples = tmp_path / "in.csv", tmp_path / "rows.csv"
    os.mkfifo(fifo)
    code = (
        "import errno, os, threading, time, lossctl\n"
        "from lossctl.cli import main\n"
        f"fifo, samples = {str(fifo)!r}, {str(samples)!r}\n"
        "status = []\n"
        "command = threading.Thread(target=lambda: status.append(main(['eval', fifo, '-l', 'mse', '-q'])))\n"
        "command.start()\n"
        "while True:  # the command has opened its input (inside its run): a writer can open the pipe\n"
        "    try:\n"
        "        writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)\n"
        "        break\n"
        "    except OSError as error:\n"
        "        assert error.errno == errno.ENXIO\n"
        "        time.sleep(0.01)\n"
        "report = lossctl.evaluate(y_true=[1.0, 2.0], y_pred=[1.0, 4.0], losses='mse', per_sample=samples)\n"
        "print(report['mse'], os.path.exists(samples))\n"
        "os.set_blocking(writer, True)\n"
        "os.write(writer, b'y_true,y_pred\\n1,2\\n')\n"
        "os.close(writer)\n"
        "command.join()\n"
        "print(status)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stderr) == (0, "")
    lines = run.stdout.splitlines()
    assert lines[0] == "2.0 True" and lines[-1] == "[0]"
    assert samples.read_text().splitlines() == ['"row","mse"', "0,0", "1,4"]


def test_a_first_call_interrupted_while_the_losses_register_leaves_the_next_call_every_loss() -> None:
    # A Ctrl-C in a notebook during the first call, while the built-in losses registered, marked the registry
    # complete anyway: every later call in the process said "unknown loss 'mse'". The fifth loss registering
    # raises KeyboardInterrupt here, as a Ctrl-C at that moment does.
    code = (
        "import lossctl, lossctl.registry as registry\n"
        "real, calls = registry.add, []\n"
        "def add(spec):\n"
        "    calls.append(spec.name)\n"
        "    if len(calls) == 5:\n"
        "        raise KeyboardInterrupt\n"
        "    real(spec)\n"
        "registry.add = add\n"
        "try:\n"
        "    lossctl.evaluate(y_true=[0.0, 1.0], y_pred=[1.0, 3.0], losses='mse')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
        "registry.add = real\n"
        "print(lossctl.evaluate(y_true=[0.0, 1.0], y_pred=[1.0, 3.0], losses='mse')['mse'])\n"
        "print(len(lossctl.list_losses()))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    fresh = subprocess.run(
        [sys.executable, "-c", "import lossctl; print(len(lossctl.list_losses()))"], capture_output=True, text=True
    )
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout == f"interrupted\n2.5\n{fresh.stdout}"


def test_a_call_stopped_by_its_progress_callback_leaves_no_reader_thread_nor_open_input(tmp_path: Path) -> None:
    # A host cancelling a run from its progress callback while the last chunks waited for the engine: the reader
    # thread then waited forever to hand over the input's end, holding those chunks and the open file, one more
    # thread for every cancelled call.
    import threading
    import time

    path = tmp_path / "rows.parquet"
    pd.DataFrame({"y": np.ones(4000), "p": np.full(4000, 0.5)}).to_parquet(path, row_group_size=500)

    class Cancelled(Exception):
        pass

    def progress(rows: int, total: int | None) -> None:
        if rows >= 3000:  # two chunks left: the reader has read them by now, and waits to hand over the end
            time.sleep(0.3)
            raise Cancelled

    for _ in range(2):
        with pytest.raises(Cancelled):
            lossctl.evaluate(path, losses="mse", target="y", pred="p", chunk_rows=500, progress=progress)

    def leftovers() -> tuple[list[str], list[str]]:
        threads = [thread.name for thread in threading.enumerate() if thread.name.startswith("lossctl")]
        opened = []
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
                opened.append(os.readlink(f"/proc/self/fd/{fd}"))
        return threads, [name for name in opened if name == str(path)]

    deadline = time.monotonic() + 10  # a reader ends once its current hand-over gives up (0.1 s)
    while leftovers() != ([], []) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leftovers() == ([], [])
    assert lossctl.evaluate(path, losses="mse", target="y", pred="p", chunk_rows=500)["mse"] == 0.25


def test_a_reports_repr_is_short_whatever_its_groups() -> None:
    # The dataclass's repr listed every record with its signature: a report of 1000 groups printed 436 kB when a
    # notebook showed it.
    rows = 3000
    data = {"y": np.zeros(rows), "p": np.ones(rows), "g": np.arange(rows) % 1000}
    report = lossctl.evaluate(data, losses="mse,mae", target="y", pred="p", by="g", fail_if="mse>2")
    assert repr(report) == "Report({'mse': 1.0, 'mae': 1.0}, rows=3000, by=['g'], groups=1000, passed=True)"
    assert repr(lossctl.evaluate(y_true=[0.0, 2.0], y_pred=[1.0, 2.0], losses="mse,huber:delta=2")) == (
        "Report({'mse': 0.5, 'huber:delta=2': 0.25}, rows=2)"
    )
    a, b = {"y": [0.0, 2.0], "pred": [1.0, 2.0]}, {"y": [0.0, 2.0], "pred": [0.0, 2.0]}
    compared = lossctl.compare(a, b, losses="mae", target="y")
    assert repr(compared) == "CompareReport({'mae': 0.5 -> 0.0 (better)}, rows=2)"
    many = lossctl.evaluate(y_true=[0.0, 2.0], y_pred=[1.0, 2.0], losses="mse,mae,rmse,huber,log_cosh,msle,mape")
    assert repr(many).endswith(", ... (7 results)}, rows=2)") and len(repr(many)) < 200
    assert pickle.loads(pickle.dumps(report)) == report == copy.deepcopy(report)
