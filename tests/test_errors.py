"""The bad-input catalogue: each case through the real CLI boundary gives the documented exit
status, one ``error:`` line naming the problem, no traceback, and no ``--output`` file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

GOOD = "id,pred,target\n1,0.5,1.0\n2,1.5,2.0\n3,2.0,2.0\n"

# (id, files {name: text or bytes}, args (FILE = first file), exit status, text the error must contain)
CASES: list[tuple[str, dict[str, str | bytes], list[str], int, str]] = [
    ("missing file", {}, ["eval", "nope.csv", "-l", "mse"], 3, "file 'nope.csv' not found"),
    ("unknown extension", {"p.txt": GOOD}, ["eval", "p.txt", "-l", "mse"], 3, "--input-format"),
    ("empty file", {"p.csv": ""}, ["eval", "p.csv", "-l", "mse"], 3, "is empty"),
    ("header only", {"p.csv": "pred,target\n"}, ["eval", "p.csv", "-l", "mse"], 3, "no rows"),
    (
        "missing column",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--pred", "y_pred", "-l", "mse"],
        3,
        "column 'y_pred' not found in p.csv; columns are: id, pred, target",
    ),
    ("unknown loss", {"p.csv": GOOD}, ["eval", "p.csv", "-l", "msee"], 2, "unknown loss 'msee'; did you mean mse"),
    (
        "unknown parameter",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber:alpha=2"],
        2,
        "loss 'huber' has no parameter 'alpha'; its parameters: delta",
    ),
    (
        "invalid parameter value",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber:delta=0"],
        2,
        "parameter 'delta' must be > 0, got 0",
    ),
    ("non-numeric parameter", {"p.csv": GOOD}, ["eval", "p.csv", "-l", "quantile:q=high"], 2, "must be a number"),
    (
        "parameter outside its interval",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "quantile", "--param", "q=1"],
        2,
        "parameter 'q' must be in (0, 1), got 1",
    ),
    (
        "--param for no selected loss",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--param", "delta=2"],
        2,
        "no selected loss has a parameter 'delta'",
    ),
    (
        "empty cells",
        {"p.csv": "pred,target\n1,\n2,3\n,4\n5,\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'target' has 2 missing values (rows 0, 3; 0-based); column 'pred' has 1 missing value (rows 2; 0-based); "
        "use --missing drop to drop those rows",
    ),
    (
        "NaN cells",
        {"p.csv": "pred,target\nNaN,1\n2,3\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' has 1 missing value (rows 0; 0-based)",
    ),
    (
        "all rows dropped",
        {"p.csv": "pred,target\n1,\n,3\n"},
        ["eval", "p.csv", "-l", "mse", "--missing", "drop"],
        3,
        "all 2 rows were dropped",
    ),
    (
        "infinite value",
        {"p.csv": "pred,target\ninf,1\n2,3\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' has 1 infinite value (rows 0; 0-based)",
    ),
    (
        "non-numeric text",
        {"p.csv": "pred,target\n1,2\nabc,3\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' is not numeric: 'abc' at row 1",
    ),
    (
        "probability above 1",
        {"p.csv": "prob,label\n0.2,0\n1.3,1\n"},
        ["eval", "p.csv", "-l", "bce"],
        3,
        "bce: column 'prob' (pred): expected probabilities in [0, 1], got 1.3 in 1 row (first: row 1)",
    ),
    (
        "negative probability for brier",
        {"p.csv": "prob,label\n-0.2,0\n0.3,1\n"},
        ["eval", "p.csv", "-l", "brier"],
        3,
        "expected probabilities in [0, 1]",
    ),
    ("msle at -1", {"p.csv": "pred,target\n-1,2\n1,3\n"}, ["eval", "p.csv", "-l", "msle"], 3, "msle: column 'pred'"),
    ("hinge labels", {"p.csv": "score,label\n0.3,0\n0.2,2\n"}, ["eval", "p.csv", "-l", "hinge"], 3, "hinge"),
    (
        "hinge mixed label sets",
        {"p.csv": "score,label\n0.3,0\n0.2,-1\n0.5,1\n"},
        ["eval", "p.csv", "-l", "hinge"],
        3,
        "hinge",
    ),
    (
        "poisson_deviance needs p > 0",
        {"p.csv": "pred,target\n0,1\n1,1\n"},
        ["eval", "p.csv", "-l", "poisson_deviance"],
        3,
        "poisson_deviance: column 'pred'",
    ),
    (
        "negative variance",
        {"p.csv": "pred,target,v\n1,2,-1\n1,1,1\n"},
        ["eval", "p.csv", "-l", "gaussian_nll", "--col", "var=v"],
        3,
        "gaussian_nll: column 'v' (var)",
    ),
    ("role not bound", {"p.csv": GOOD}, ["eval", "p.csv", "-l", "gaussian_nll"], 2, "--col var=COLUMN"),
    ("no default column", {"p.csv": "a,b\n1,2\n"}, ["eval", "p.csv", "-l", "mse"], 2, "choose one with --target"),
    (
        "mismatched row counts",
        {"p.csv": "pred\n1\n2\n3\n", "t.csv": "target\n1\n2\n"},
        ["eval", "p.csv", "--targets", "t.csv", "-l", "mse"],
        3,
        "p.csv has 3 rows but t.csv has 2",
    ),
    (
        "duplicate join keys",
        {"p.csv": "id,pred\n1,1\n2,2\n", "t.csv": "id,target\n1,1\n1,2\n2,2\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--on", "id", "-l", "mse"],
        3,
        "duplicate",
    ),
    (
        "missing join keys",
        {"p.csv": "id,pred\n1,1\n2,2\n3,3\n", "t.csv": "id,target\n1,1\n2,2\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--on", "id", "-l", "mse"],
        3,
        "3",
    ),
    (
        "join key not in file",
        {"p.csv": "id,pred\n1,1\n", "t.csv": "key,target\n1,1\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--on", "id", "-l", "mse"],
        3,
        "column 'id' not found in t.csv",
    ),
    (
        "corrupt parquet",
        {"p.parquet": b"PAR1 this is not parquet PAR1"},
        ["eval", "p.parquet", "-l", "mse"],
        3,
        "cannot read 'p.parquet' as Parquet",
    ),
    (
        "bad --fail-if",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse=>1"],
        2,
        "cannot parse --fail-if 'mse=>1'",
    ),
    (
        "--fail-if threshold not a number",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse>x"],
        2,
        "'x' is not a number",
    ),
    ("unknown option", {"p.csv": GOOD}, ["eval", "p.csv", "--bogus"], 2, "No such option: --bogus"),
    ("unknown format", {"p.csv": GOOD}, ["eval", "p.csv", "--format", "xml"], 2, "xml"),
    ("unknown command", {}, ["evaluate"], 2, "No such command"),
    (
        "aggregate with sum",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "rmse", "--reduction", "sum"],
        2,
        "loss 'rmse' is an aggregate: it has only the mean reduction",
    ),
    (
        "convention a loss lacks",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "smape", "--convention", "torch"],
        2,
        "loss 'smape' has no 'torch' convention",
    ),
    (
        "negative weights",
        {"p.csv": "pred,target,w\n1,2,1\n1,1,-2\n"},
        ["eval", "p.csv", "-l", "mse", "--weight", "w"],
        3,
        "column 'w' has 1 negative weights",
    ),
    (
        "all-zero weights",
        {"p.csv": "pred,target,w\n1,2,0\n1,1,0\n"},
        ["eval", "p.csv", "-l", "mse", "--weight", "w"],
        3,
        "sum to zero",
    ),
    ("overflow", {"p.csv": "pred,target\n1e308,-1e308\n1,1\n"}, ["eval", "p.csv", "-l", "mse"], 3, "overflows float64"),
    (
        "output is the input",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "-o", "p.csv"],
        2,
        "refusing to overwrite the input file",
    ),
    (
        "output directory missing",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "-o", "no/such/dir/r.json"],
        3,
        "does not exist",
    ),
    (
        "output extension unknown",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "-o", "r.xml"],
        2,
        "cannot tell the format of 'r.xml'",
    ),
    (
        "plugin raising on import",
        {"p.csv": GOOD, "bad_plugin.py": "raise RuntimeError('boom')\n"},
        ["eval", "p.csv", "-l", "mse", "--plugin", "bad_plugin.py"],
        2,
        "plugin 'bad_plugin.py' failed to load",
    ),
    ("unknown describe", {}, ["describe", "nope"], 2, "unknown loss 'nope'"),
    ("unknown task", {}, ["list", "--task", "vision"], 2, "unknown task 'vision'"),
]


@pytest.mark.parametrize(("files", "args", "code", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(cli, tmp_path: Path, monkeypatch, files, args, code, message) -> None:
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    output = tmp_path / "out.json"
    extra = [] if "-o" in args or args[0] != "eval" else ["-o", str(output)]
    run = cli(*args, *extra)
    assert run.code == code, run.err
    lines = run.err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and len(lines) - lines.index(errors[0]) <= 2, run.err
    assert message in errors[0], errors[0]
    assert "Traceback" not in run.err
    assert not output.exists()
    assert run.out == ""


def test_the_catalogue_is_long_enough() -> None:
    assert len(CASES) >= 40


def test_missing_drop_reports_the_dropped_rows(cli, write) -> None:
    path = write("p.csv", "pred,target\n1,\n2,3\n,4\n5,6\n")
    run = cli("eval", path, "-l", "mse", "--missing", "drop", "-f", "json")
    doc = json.loads(run.out)
    assert doc["input"] == {"path": str(path), "rows": 4, "rows_used": 2, "rows_dropped": 2}
    assert doc["results"][0]["value"] == pytest.approx(((2 - 3) ** 2 + (5 - 6) ** 2) / 2)
    assert doc["results"][0]["n"] == 2
    assert "dropped 2 of 4 rows" in run.err


def test_domain_error_rows_count_from_the_file_start(cli, write) -> None:
    rows = "".join(f"0.5,{i % 2}\n" for i in range(10)) + "1.5,1\n"
    path = write("p.csv", "prob,label\n" + rows)
    run = cli("eval", path, "-l", "bce", "--chunk-rows", "3")
    assert run.code == 3 and "(first: row 10)" in run.err


def test_gzip_csv_is_read(cli, tmp_path: Path) -> None:
    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress(GOOD.encode()))
    run = cli("eval", path, "-l", "mae", "-f", "json")
    assert run.code == 0 and json.loads(run.out)["results"][0]["value"] == pytest.approx(1 / 3)


def test_internal_errors_ask_for_a_report(cli, regression_csv: Path, monkeypatch) -> None:
    import lossctl.api

    def broken(*args, **kwargs):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(lossctl.api, "run", broken)
    run = cli("eval", regression_csv, "-l", "mse")
    assert run.code == 4
    assert run.err.startswith("error: internal error (ZeroDivisionError: oops); this is a bug in lossctl")
