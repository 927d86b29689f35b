"""Fuzzing the command line: whatever the input file and the options, ``lossctl eval`` keeps its contract.

The contract (cli.md, "CI gating and exit codes"): the exit status is 0, 1, 2 or 3 -- never 4, which
means a bug --; there is no traceback; a failure prints one ``error:`` line (and at most one hint
line after it); and a failed run leaves no ``--output`` or ``--per-sample`` file behind.

The profile is fixed and bounded (``derandomize=True``: the same examples on every run, no example
database), so that CI stays fast and a failure reproduces: 60 examples per test, under 15 s for the
module on one core. ``LOSSCTL_FUZZ_EXAMPLES=2000`` explores further locally (3.5 min; clean but for the
known bugs below).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lossctl

settings.register_profile(
    "lossctl-fuzz",
    max_examples=int(os.environ.get("LOSSCTL_FUZZ_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Applied per test rather than loaded globally, so that other modules keep their own settings.
FUZZ = settings.get_profile("lossctl-fuzz")

NAMES = sorted({name for spec in lossctl.list_losses() for name in (spec.name, *spec.aliases)})
_counter = itertools.count()


class Workspace:
    """A fresh directory per example (``tmp_path`` is per test, and a test runs many examples)."""

    def __init__(self, root: Path) -> None:
        self.dir = root / f"ex{next(_counter)}"
        self.dir.mkdir()
        self.output = self.dir / "out.json"
        self.per_sample = self.dir / "rows.csv"

    def file(self, name: str, content: bytes) -> Path:
        path = self.dir / name
        path.write_bytes(content)
        return path

    def clean(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def check_contract(run, ws: Workspace, *, per_sample: bool = False, output: bool = True) -> None:
    """The exit status, stderr and files of one run keep cli.md's contract."""
    assert run.code in (0, 1, 2, 3), f"exit {run.code}\n{run.err}"
    assert "Traceback" not in run.err, run.err
    # Lines as a terminal shows them: split at LF only (a column name may hold \x1e, a line end to splitlines).
    lines = [line for line in run.err.rstrip("\n").split("\n") if line]
    if run.code in (2, 3):
        errors = [i for i, line in enumerate(lines) if line.startswith("error:")]
        assert len(errors) == 1, run.err
        assert len(lines) - errors[0] <= 2, run.err
        assert all(line.startswith(("notice:", "warning:")) for line in lines[: errors[0]]), run.err
        assert not ws.output.exists(), run.err
        assert run.out == ""
        assert not ws.per_sample.exists(), run.err
    else:
        assert all(line.startswith(("notice:", "warning:")) for line in lines), run.err
        if output:
            document = json.loads(ws.output.read_text(encoding="utf-8"))
            assert document["results"], document
            assert all(math.isfinite(result["value"]) for result in document["results"])
        else:
            assert run.out
        if per_sample:
            assert ws.per_sample.exists()
    leftovers = [p.name for p in ws.dir.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers, leftovers


def _eval(cli: Callable, ws: Workspace, path: Path, *args: str, per_sample: bool = False, output: bool = True):
    """Run ``lossctl eval`` with ``-o`` (JSON file) or, with ``output=False``, the table on stdout."""
    extra = ["--per-sample", str(ws.per_sample)] if per_sample else []
    extra += ["-o", str(ws.output)] if output else []
    run = cli("eval", str(path), *args, *extra)
    check_contract(run, ws, per_sample=per_sample, output=output)
    return run


# --- cells, names and files ------------------------------------------------------------------------

SPECIAL_CELLS = [
    "", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-Infinity", "1e308", "-1e308", "1.8e308",
    "1e-320", "5e-324", "-0", "+3", "0x10", "1_000", "1,5", "NA", "null", "None", "true", "false", " 1.5 ",
    "1e", "--1", ".", "[1,2]", "[]", "[1,", '"2"', "\u00a0", "٣", "1e-5", "0", "1", "-1", "0.5", "2",
]  # fmt: skip

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-10, max_value=10, allow_nan=False).map(lambda x: f"{x:.6g}"),
    st.integers(-3, 3).map(str),
)
cells = st.one_of(numbers, numbers, st.sampled_from(SPECIAL_CELLS), st.text(max_size=6))
column_names = st.one_of(
    st.sampled_from(["pred", "target", "y_pred", "y_true", "score", "label", "prob", "w", "id", "g"]),
    st.text(max_size=8),
    st.sampled_from(["", " ", "a,b", 'a"b', "ŷ", "y₀", "p red", "PRED", "Target", "logit_1", "logit_10"]),
)


def _quote(text: str, delimiter: str, quote: str) -> str:
    if quote and (delimiter in text or quote in text or "\n" in text or "\r" in text or not text):
        return quote + text.replace(quote, quote * 2) + quote
    return text


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A CSV-like file: random header (sometimes duplicated or unicode names), cells, delimiter, BOM, CRLF."""
    width = draw(st.integers(1, 4))
    if draw(st.booleans()):
        names = ["pred", "target", *draw(st.lists(column_names, max_size=2))][:width]
    else:
        names = draw(st.lists(column_names, min_size=width, max_size=width))
    delimiter = draw(st.sampled_from([",", ",", ",", ";", "\t", "|"]))
    quote = draw(st.sampled_from(['"', '"', "'", ""]))  # pyarrow quotes with " only: ' is a plain character
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    rows = draw(st.lists(st.lists(cells, min_size=width, max_size=width), max_size=6))
    if rows and draw(st.booleans()):
        rows[-1] = rows[-1][: draw(st.integers(0, width))]  # a short (ragged) last row
    lines = [delimiter.join(_quote(n, delimiter, quote) for n in names)]
    lines += [delimiter.join(_quote(c, delimiter, quote) for c in row) for row in rows]
    text = newline.join(lines) + draw(st.sampled_from([newline, ""]))
    data = text.encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data, names


@FUZZ
@given(data=st.binary(max_size=200), header=st.sampled_from([b"", b"pred,target\n", b"\xef\xbb\xbfpred,target\r\n"]))
def test_random_bytes(cli, tmp_path: Path, data: bytes, header: bytes) -> None:
    ws = Workspace(tmp_path)
    path = ws.file("p.csv", header + data)
    _eval(cli, ws, path, "-l", "mse")
    ws.clean()


@FUZZ
@given(
    data=st.binary(max_size=120),
    extension=st.sampled_from([".tsv", ".jsonl", ".parquet", ".arrow", ".csv.gz", ".ndjson", ".feather"]),
)
def test_random_bytes_in_other_formats(cli, tmp_path: Path, data: bytes, extension: str) -> None:
    ws = Workspace(tmp_path)
    path = ws.file("p" + extension, data)
    _eval(cli, ws, path, "-l", "mae")
    ws.clean()


@FUZZ
@given(
    file=csv_files(),
    loss=st.sampled_from(["mse", "mae,huber", "rmse", "bce", "hinge", "log_cosh,quantile"]),
    missing=st.sampled_from(["error", "drop"]),
    per_sample=st.booleans(),
    chunk_rows=st.sampled_from(["1", "2", "1000"]),
    output=st.booleans(),
)
def test_random_csv(
    cli, tmp_path: Path, file, loss: str, missing: str, per_sample: bool, chunk_rows: str, output: bool
) -> None:
    ws = Workspace(tmp_path)
    data, _ = file
    path = ws.file("p.csv", data)
    if loss == "rmse":
        per_sample = False  # an aggregate has no per-row values: a usage error, tested in test_errors.py
    args = ["-l", loss, "--missing", missing, "--chunk-rows", chunk_rows]
    _eval(cli, ws, path, *args, per_sample=per_sample, output=output)
    ws.clean()


@FUZZ
@given(file=csv_files(), picks=st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 4)))
def test_random_column_binding(cli, tmp_path: Path, file, picks: tuple[int, int, int]) -> None:
    """Unicode, empty, quoted or duplicated names bound with --pred, --target, --weight and --by."""
    ws = Workspace(tmp_path)
    data, names = file
    path = ws.file("p.csv", data)
    pred, target, extra = (names[i % len(names)] for i in picks)
    args = ["-l", "mse", "--pred", pred, "--target", target]
    if picks[2] == 4:
        args += ["--by", extra]
    elif picks[2] % 2:
        args += ["--weight", extra]
    _eval(cli, ws, path, *args)
    ws.clean()


def typed_text(max_size: int) -> st.SearchStrategy[str]:
    """Text a user could type as an argument; control characters are test_control_characters_stay_on_one_line's."""
    return st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=max_size)


GOOD = (
    b"id,pred,target,prob,label,w,g\n1,0.5,1.0,0.2,0,1,a\n2,1.5,2.0,0.7,1,2,b\n3,2.0,2.0,0.9,1,0.5,a\n"
    b"4,-1,0.5,0.4,0,1,b\n"
)

loss_words = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from([n.upper() for n in NAMES[:10]]),
    typed_text(10),
    st.sampled_from(["", ",", "mse,", ",mae", "huber:", "huber:delta", "huber:delta=", ":delta=1", "0.5*mse",
                     "total=0.5*mse+0.5*mae", "quantile:q=0.1:q=0.9", "ce:class_weight=1,2", "mse:", "mse::"]),
)  # fmt: skip
param_values = st.one_of(
    st.sampled_from(["0", "1", "-1", "0.5", "2", "1e308", "1e-308", "nan", "inf", "-inf", "true", "none", "", "1,2",
                     "balanced", "x", "0x1", "1_0", " 3 ", "1e999"]),
    st.floats().map(repr),
    typed_text(5),
)  # fmt: skip
param_keys = st.one_of(
    st.sampled_from(["delta", "q", "beta", "eps", "margin", "gamma", "alpha", "huber.delta", "quantile.q", "nope.q",
                     "mse.delta", "label_smoothing", "power", "", ".", "a.b.c"]),
    typed_text(6),
)  # fmt: skip


@FUZZ
@given(
    losses=st.lists(loss_words, min_size=1, max_size=3),
    params=st.lists(st.tuples(param_keys, param_values), max_size=2),
    inline=st.lists(st.tuples(param_keys, param_values), max_size=2),
)
def test_random_losses_and_params(cli, tmp_path: Path, losses: list[str], params, inline) -> None:
    ws = Workspace(tmp_path)
    path = ws.file("p.csv", GOOD)
    args = []
    for i, name in enumerate(losses):
        suffix = "".join(f":{k}={v}" for k, v in inline) if i == 0 else ""
        args += ["-l", name + suffix]
    for key, value in params:
        args += ["--param", f"{key}={value}"]
    _eval(cli, ws, path, *args, "--pred", "prob", "--target", "label")
    ws.clean()


fail_if_exprs = st.one_of(
    st.builds(
        lambda loss, op, number, spaces: f"{loss}{spaces}{op}{spaces}{number}",
        st.sampled_from(["mse", "mae", "huber:delta=2", "quantile:q=0.9", "MSE", "l2", "nope", "", "mse:", "rmse"]),
        st.sampled_from([">", ">=", "<", "<=", "=", "==", "=>", "=<", "!=", "≥", "<>", ">>", ""]),
        st.one_of(st.floats().map(repr), st.sampled_from(["", "x", "1e", "0.5", "-1", "1,2", "1 2", "nan", "0x1"])),
        st.sampled_from(["", " ", "  "]),
    ),
    typed_text(12),
)


@FUZZ
@given(exprs=st.lists(fail_if_exprs, min_size=1, max_size=3))
def test_random_fail_if(cli, tmp_path: Path, exprs: list[str]) -> None:
    ws = Workspace(tmp_path)
    path = ws.file("p.csv", GOOD)
    args = ["-l", "mse,mae"]
    for expr in exprs:
        args += ["--fail-if", expr]
    run = _eval(cli, ws, path, *args)
    if run.code in (0, 1):
        checks = json.loads(ws.output.read_text(encoding="utf-8"))["checks"]
        assert len(checks) == len(exprs)
        assert (run.code == 1) == any(not check["passed"] for check in checks)
    ws.clean()


@FUZZ
@given(
    rows=st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=True, width=64),
            st.floats(allow_nan=True, allow_infinity=True, width=64),
            st.one_of(st.floats(min_value=-1, max_value=1e300), st.just(0.0)),
        ),
        min_size=1,
        max_size=6,
    ),
    loss=st.sampled_from(["mse", "mae", "huber", "log_cosh", "quantile", "mape", "smape", "msle", "poisson_nll",
                          "poisson_deviance", "tweedie_deviance", "bce", "bce_logits", "brier", "hinge", "focal"]),
    weighted=st.booleans(),
    reduction=st.sampled_from(["mean", "sum"]),
    output=st.booleans(),
)  # fmt: skip
def test_random_numbers(cli, tmp_path: Path, rows, loss: str, weighted: bool, reduction: str, output: bool) -> None:
    """Huge, tiny, infinite and NaN values through every scalar loss: an answer or an input error, never a crash."""
    ws = Workspace(tmp_path)
    text = "pred,target,w\n" + "".join(f"{p!r},{t!r},{w!r}\n" for p, t, w in rows)
    path = ws.file("p.csv", text.encode())
    args = ["-l", loss, "--reduction", reduction, *(["--weight", "w"] if weighted else [])]
    _eval(cli, ws, path, *args, "--missing", "drop", per_sample=True, output=output)
    ws.clean()


@FUZZ
@given(
    bootstrap=st.sampled_from(["2", "3", "10"]),
    seed=st.integers(0, 50).map(str),
    rows=st.integers(1, 3),
    by=st.booleans(),
)
def test_random_bootstrap(cli, tmp_path: Path, bootstrap: str, seed: str, rows: int, by: bool) -> None:
    """Tiny inputs with few replicates: some replicates draw no row at all."""
    ws = Workspace(tmp_path)
    lines = GOOD.decode().splitlines()
    path = ws.file("p.csv", ("\n".join(lines[: rows + 1]) + "\n").encode())
    args = ["-l", "mse,rmse", "--bootstrap", bootstrap, "--seed", seed, *(["--by", "g"] if by else [])]
    _eval(cli, ws, path, *args)
    ws.clean()


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    """JSON Lines with numbers, strings, nulls, arrays (ragged or not), missing keys and broken lines."""
    scalar = st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-(2**70), 2**70),
        st.booleans(),
        st.none(),
        st.text(max_size=4),
        st.sampled_from(["1.5", "nan", "inf"]),
    )
    value = st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(st.text(max_size=2), scalar, max_size=1))
    keys = st.sampled_from(["pred", "target", "w", "x", ""])
    records = draw(st.lists(st.dictionaries(keys, value, max_size=4), max_size=5))
    lines = [json.dumps(record) for record in records]
    if lines and draw(st.booleans()):
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]
    return ("\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))).encode()


@FUZZ
@given(data=jsonl_files(), loss=st.sampled_from(["mse", "dice", "bce", "cross_entropy"]))
def test_random_jsonl(cli, tmp_path: Path, data: bytes, loss: str) -> None:
    ws = Workspace(tmp_path)
    path = ws.file("p.jsonl", data)
    _eval(cli, ws, path, "-l", loss, "--pred", "pred", "--target", "target")
    ws.clean()


SPECS = lossctl.list_losses()
EXTREMES = [0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, 1e300, -1e300, 1e4, -1e4, 0.999999, 1e-16, 5e-324, 40.0, -745.0, 710.0]


@st.composite
def bound_table(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """A loss from the registry, a CSV of random values, and ``--pred/--target/--col`` binding every role.

    Shapes follow the roles (one column for a scalar role, K columns for a vector role, Z for mu/logvar),
    so that the values, not the shapes, are what varies; shape mismatches are test_errors.py's
    ``test_shapes_of_bound_columns``.
    """
    spec = draw(st.sampled_from(SPECS))
    rows = draw(st.integers(1, 6))
    k = 4 if spec.task == "detection" else draw(st.integers(2, 4))
    z = draw(st.integers(1, 3))
    vectors_for_any = draw(st.booleans())
    value = st.one_of(
        st.sampled_from(EXTREMES), st.integers(-1, 3).map(float), finite_floats(0, 1), finite_floats(-1e3, 1e3)
    )
    header: list[str] = []
    columns: list[list[float]] = []
    args: list[str] = []
    for role in spec.role_names:
        shape = spec.role(role).shape
        vector = shape == "vector" or (shape == "any" and vectors_for_any)
        width = (z if role in ("mu", "logvar") else k) if vector else 1
        names = [f"{role}_{i}" for i in range(width)]
        for _ in names:
            values = st.integers(0, 2).map(float) if role == "qid" else value
            columns.append(draw(st.lists(values, min_size=rows, max_size=rows)))
        header += names
        spec_text = ",".join(names)
        args += [f"--{role}", spec_text] if role in ("pred", "target") else ["--col", f"{role}={spec_text}"]
    lines = [",".join(header)] + [",".join(repr(column[r]) for column in columns) for r in range(rows)]
    return spec.name, "\n".join(lines) + "\n", args


def finite_floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


@FUZZ
@given(
    table=bound_table(),
    options=st.lists(
        st.sampled_from([["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--reduction", "sum"], ["--missing", "drop"],
                         ["--convention", "torch"], ["--convention", "keras"], ["--convention", "sklearn"],
                         ["--bootstrap", "5", "--seed", "1"]]),
        max_size=3,
    ),
)  # fmt: skip
def test_every_loss_with_random_values(cli, tmp_path: Path, table, options: list[list[str]]) -> None:
    """Every registered loss: domain errors, overflow and conventions are exit 3 or 2, never a crash."""
    ws = Workspace(tmp_path)
    name, text, binding = table
    path = ws.file("p.csv", text.encode())
    _eval(cli, ws, path, "-l", name, *binding, *(arg for option in options for arg in option))
    ws.clean()
