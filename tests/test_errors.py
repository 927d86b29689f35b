"""The bad-input catalogue: each case through the real CLI boundary gives the documented exit
status, one ``error:`` line naming the problem, no traceback, no ``--output`` or ``--per-sample`` file,
and leaves its input files as they were.

Then the inputs that look odd but must succeed (BOM, CRLF, quoted numbers, unicode names), and
regression tests for the bugs this catalogue and the fuzzers found.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lossctl

GOOD = "id,pred,target\n1,0.5,1.0\n2,1.5,2.0\n3,2.0,2.0\n"
# A gzip CSV file cut in the middle of its compressed data: its end is met in its first bytes (SHORT_GZIP) or while
# parsing it, past the bytes read to recognise it (LONG_GZIP).
SHORT_GZIP = gzip.compress(b"y_true,y_pred\n" + b"1,2\n" * 2000)[:20]
LONG_GZIP = gzip.compress(b"y_true,y_pred\n" + b"".join(b"%d,%d.5\n" % (i, i * 7 % 13) for i in range(3000)))
LONG_GZIP = LONG_GZIP[: len(LONG_GZIP) // 2]
CUT_SHORT = "its compressed data ends unfinished, so it was cut short (did the program writing it fail?)"
# A gzip CSV file one bit of whose compressed data changed: its checksum no longer matches.
CORRUPT_GZIP = bytearray(gzip.compress(b"y_true,y_pred\n" + b"1,2\n" * 20))
CORRUPT_GZIP[-6] ^= 1

# (id, files {name: text or bytes}, args (FILE = first file), exit status, the error message after 'error: ')
CASES: list[tuple[str, dict[str, str | bytes], list[str], int, str]] = [
    ("missing file", {}, ["eval", "nope.csv", "-l", "mse"], 3, "file 'nope.csv' not found"),
    (
        "unknown extension holding a ZIP",
        {"p.txt": b"PK\x03\x04..."},
        ["eval", "p.txt", "-l", "mse"],
        3,
        "cannot read 'p.txt': it is a ZIP archive (an .xlsx workbook?); export it as CSV or Parquet",
    ),
    ("empty file", {"p.csv": ""}, ["eval", "p.csv", "-l", "mse"], 3, "'p.csv' is empty"),
    (
        "a JSON array named .jsonl",
        {"p.jsonl": '[{"pred": 1, "target": 2}]\n'},
        ["eval", "p.jsonl", "-l", "mse"],
        3,
        "cannot read 'p.jsonl': JSON Lines needs one object per line; line 1 (row 0; 0-based) holds an array",
    ),
    (
        # pyarrow's words were passed on: 'Column(/pred) changed from number to string'.
        "a JSON Lines key whose value changes kind",
        {"p.jsonl": '{"pred": 1, "target": 2}\n{"pred": "2.5", "target": 2}\n'},
        ["eval", "p.jsonl", "-l", "mse"],
        3,
        "cannot read 'p.jsonl' as JSON Lines: line 2 (row 1; 0-based): 'pred' holds a string where an earlier line "
        "holds a number; write its values the same way on every line",
    ),
    (
        # pyarrow's path for an array's items was passed on: "'p/[]' holds a number where ... holds a string".
        "a JSON Lines vector whose items change kind",
        {"p.jsonl": '{"p": ["0.2", "0.8"], "t": 1}\n{"p": [0.1, 0.9], "t": 1}\n'},
        ["eval", "p.jsonl", "-l", "categorical_ce", "--pred", "p", "--target", "t"],
        3,
        "cannot read 'p.jsonl' as JSON Lines: line 2 (row 1; 0-based): 'p' holds an array of numbers where an earlier "
        "line holds an array of strings; write its values the same way on every line",
    ),
    (
        "a JSON Lines vector of vectors whose items change kind",
        {"p.jsonl": '{"p": [[1], [2]], "t": 1}\n{"p": [[1], ["x"]], "t": 1}\n'},
        ["eval", "p.jsonl", "-l", "categorical_ce", "--pred", "p", "--target", "t"],
        3,
        "cannot read 'p.jsonl' as JSON Lines: line 2 (row 1; 0-based): 'p' holds an array of arrays of strings where "
        "an earlier line holds an array of arrays of numbers; write its values the same way on every line",
    ),
    (
        # It was "column 'target' is not numeric: it has type struct<a: int64>", naming no row.
        "a JSON Lines object where a number is expected",
        {"p.jsonl": '{"pred": 1, "target": null}\n{"pred": 2, "target": {"a": 1}}\n'},
        ["eval", "p.jsonl", "-l", "mse", "--missing", "drop"],
        3,
        "column 'target' holds nested values (struct<a: int64>), not numbers (the first at row 1; 0-based)",
    ),
    (
        "a JSON Lines key given twice in a line",
        {"p.jsonl": '{"pred": 1, "target": 2, "pred": 3}\n'},
        ["eval", "p.jsonl", "-l", "mse"],
        3,
        "cannot read 'p.jsonl' as JSON Lines: line 1 (row 0; 0-based): the key 'pred' appears twice in the line",
    ),
    (
        "a bare number in JSON Lines",
        {"p.jsonl": '{"pred": 1, "target": 2}\n5\n'},
        ["eval", "p.jsonl", "-l", "mse"],
        3,
        "cannot read 'p.jsonl': JSON Lines needs one object per line; line 2 (row 1; 0-based) holds a number",
    ),
    (
        "standard input as the predictions and --targets",
        {},
        ["eval", "-", "--targets", "-", "--on", "id", "-l", "mse"],
        2,
        "standard input (-) is given as the predictions and as --targets; it can be read only once",
    ),
    (
        "standard input as the predictions and as /dev/stdin for --targets",
        {},
        ["eval", "-", "--targets", "/dev/stdin", "--on", "id", "-l", "mse"],
        2,
        "standard input (-) is given as the predictions and as --targets; it can be read only once",
    ),
    (
        "Latin-1 text in a CSV group column",
        {"p.csv": b"pred,target,city\n1,2,Malm\xf6\n1,1,M\xe1laga\n"},
        ["eval", "p.csv", "-l", "mse", "--by", "city"],
        3,
        "cannot read 'p.csv' as CSV: line 2 (row 0; 0-based): column 'city' is not UTF-8 text; convert the file to "
        "UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)",
    ),
    (
        "Latin-1 text in JSON Lines",
        {"p.jsonl": b'{"pred": 1, "target": 2, "city": "Oslo"}\n{"pred": 1, "target": 1, "city": "Malm\xf6"}\n'},
        ["eval", "p.jsonl", "-l", "mse", "--by", "city"],
        3,
        "cannot read 'p.jsonl' as JSON Lines: line 2 (row 1; 0-based): column 'city' is not UTF-8 text; convert the "
        "file to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)",
    ),
    (
        "Latin-1 text in a CSV header line",
        {"p.csv": b"pred,target,caf\xe9\n1,2,3\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "cannot read 'p.csv' as CSV: line 1 (the header line) is not UTF-8 text; convert the file to UTF-8 (e.g. "
        "iconv -f LATIN1 -t UTF-8)",
    ),
    (
        "Latin-1 text in a JSON Lines key",
        {"p.jsonl": b'{"pred": 1, "target": 2}\n{"pred": 1, "target": 1, "caf\xe9": 3}\n'},
        ["eval", "p.jsonl", "-l", "mse"],
        3,
        "cannot read 'p.jsonl' as JSON Lines: line 2 is not UTF-8 text; convert the file to UTF-8 (e.g. iconv -f "
        "LATIN1 -t UTF-8)",
    ),
    (
        "standard input twice among several inputs",
        {"p.csv": GOOD},
        ["eval", "-", "p.csv", "/dev/stdin", "-l", "mse"],
        2,
        "standard input (-) is given more than once among the inputs; it can be read only once",
    ),
    (
        "standard input as the baseline and the candidate",
        {},
        ["compare", "-", "-", "-l", "mse"],
        2,
        "standard input (-) is given as the baseline and as the candidate; it can be read only once",
    ),
    (
        "binary data",
        {"g": bytes(range(256)) * 8},
        ["eval", "g", "-l", "mse"],
        3,
        "cannot read 'g': it is not CSV, TSV, JSON Lines, Parquet or Arrow (binary data)",
    ),
    (
        "binary data without a NUL, gzipped, named .csv.gz",
        {"g.csv.gz": gzip.compress(bytes(range(1, 256)) * 8)},
        ["eval", "g.csv.gz", "-l", "mse"],
        3,
        "cannot read 'g.csv.gz': it is not CSV, TSV, JSON Lines, Parquet or Arrow (binary data)",
    ),
    (
        "UTF-16 CSV",
        {"p.csv": "pred,target\n1,2\n".encode("utf-16")},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "cannot read 'p.csv': it is UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8, or save it as 'CSV UTF-8')",
    ),
    (
        "UTF-16 CSV without a byte order mark",
        {"p.csv": "pred,target\n1,2\n".encode("utf-16-le")},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "cannot read 'p.csv': it is UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8, or save it as 'CSV UTF-8')",
    ),
    (
        # Recognised as delimited text: a usage error naming a column '[{"pred": 1' (exit 2).
        "a JSON array file",
        {"p.json": '[\n  {"pred": 1, "target": 2},\n  {"pred": 2, "target": 2}\n]\n'},
        ["eval", "p.json", "-l", "mse"],
        3,
        "cannot read 'p.json': it is a JSON array; lossctl reads JSON Lines, one object per line (convert it with "
        "jq -c '.[]')",
    ),
    (
        # Every other byte a NUL is how UTF-16 looks, and NULs alone (a file of zeros, /dev/zero) were called UTF-16.
        "a file of NUL bytes",
        {"p.csv": bytes(100)},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "cannot read 'p.csv': it is not CSV, TSV, JSON Lines, Parquet or Arrow (binary data)",
    ),
    (
        # A TSV holding commas is one column named 'id,pred,target': the error did not say why.
        "a TSV holding commas",
        {"p.tsv": "id,pred,target\n1,1,2\n"},
        ["eval", "p.tsv", "-l", "mse"],
        2,
        "no column for role 'target': none of the columns (id,pred,target) is named target, y_true, label, y, actual, "
        "truth; choose one with --target COLUMN; 'p.tsv' seems delimited by ',' (its header line has no tab); read it "
        "with --delimiter ',' or --input-format csv",
    ),
    (
        "a TSV holding semicolons, columns named",
        {"p.tsv": "id;pred;target\n1;1;2\n"},
        ["eval", "p.tsv", "-l", "mse", "--pred", "pred", "--target", "target"],
        3,
        "column 'target' not found in p.tsv; columns are: id;pred;target; did you mean 'id;pred;target'? 'p.tsv' seems "
        "delimited by ';' (its header line has no tab); read it with --delimiter ';' or --input-format csv",
    ),
    (
        "a --delimiter that is not the file's",
        {"p.csv": "id|pred|target\n1|1|2\n"},
        ["eval", "p.csv", "-l", "mse", "--delimiter", ";"],
        2,
        "no column for role 'target': none of the columns (id|pred|target) is named target, y_true, label, y, actual, "
        "truth; choose one with --target COLUMN; 'p.csv' seems delimited by '|' (its header line has no ';'); read it "
        "with --delimiter '|'",
    ),
    (
        "Parquet named .csv",
        {"p.csv": b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00PAR1"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "cannot read 'p.csv' as CSV: it is a Parquet file; give --input-format parquet or name it .parquet",
    ),
    (
        "Arrow named .jsonl",
        {"p.jsonl": b"ARROW1\x00\x00\xff\xff\xff\xff"},
        ["eval", "p.jsonl", "-l", "mse"],
        3,
        "cannot read 'p.jsonl' as JSON Lines: it is an Arrow IPC file; give --input-format arrow or name it .arrow",
    ),
    (
        "compressed four times over",
        {"p": gzip.compress(gzip.compress(gzip.compress(gzip.compress(b"pred,target\n1,2\n"))))},
        ["eval", "p", "-l", "mse"],
        3,
        "cannot read 'p': it is compressed more than 3 times over; decompress it first",
    ),
    ("header only", {"p.csv": "pred,target\n"}, ["eval", "p.csv", "-l", "mse"], 3, "'p.csv' has no rows"),
    (
        "header only, compared",
        {"p.csv": "pred,target\n"},
        ["compare", "p.csv", "p.csv", "-l", "mse"],
        3,
        "'p.csv' has no rows",
    ),
    (  # the first chunk is read for the task: it said "column 'candidate:prob'", an internal name
        "a candidate's text in the first chunk, without --loss",
        {"a.csv": "prob,target\n0.3,1\n0.2,0\n", "b.csv": "prob,target\noops,1\n0.2,0\n"},
        ["compare", "a.csv", "b.csv"],
        3,
        "column 'prob' in b.csv is not numeric: 'oops' at row 0",
    ),
    (
        "a missing value in the second of several PATHs",
        {"a.csv": "pred,target\n1,2\n3,4\n", "b.csv": "pred,target\n1,2\n,4\n"},
        ["eval", "a.csv", "b.csv", "-l", "mse"],
        3,
        "column 'pred' has 1 missing value (row 3; 0-based); use --missing drop to drop those rows; row 3 is in "
        "'b.csv'",
    ),
    (
        "missing column",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--pred", "y_pred", "-l", "mse"],
        3,
        "column 'y_pred' not found in p.csv; columns are: id, pred, target; did you mean 'pred'?",
    ),
    (
        "unknown loss",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "msee"],
        2,
        "unknown loss 'msee'; did you mean mse, rmse, msle? (run 'lossctl list' to see every loss)",
    ),
    (
        "unknown parameter",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber:alpha=2"],
        2,
        "loss 'huber' has no parameter 'alpha'; its parameters: delta",
    ),
    (
        "an integer parameter beyond float64",  # an internal error (OverflowError) before
        {"p.csv": "a,b,target\n1,2,0\n"},
        ["eval", "p.csv", "--pred", "a,b", "-l", "ce:ignore_index=1" + "0" * 400],
        2,
        "cross_entropy: parameter 'ignore_index' must be an integer within ±2^53, got a number of 401 digits",
    ),
    (
        "an integer parameter that is not whole",  # 'must be a number (in [1, 2]), got '1.5'' before
        {"p.csv": "a,b,target\n1,2,0\n"},
        ["eval", "p.csv", "--pred", "a,b", "-l", "multi_margin:p=1.5"],
        2,
        "multi_margin: parameter 'p' must be an integer, got 1.5",
    ),
    (
        "invalid parameter value",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber:delta=0"],
        2,
        "huber: parameter 'delta' must be > 0, got 0",
    ),
    (
        "non-numeric parameter",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "quantile:q=high"],
        2,
        "quantile: parameter 'q' must be a number (in (0, 1)), got 'high'",
    ),
    (
        "parameter outside its interval",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "quantile", "--param", "q=1"],
        2,
        "quantile: parameter 'q' must be in (0, 1), got 1",
    ),
    (
        "--param for losses without parameters",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "smape,log_cosh", "--param", "delta=2"],
        2,
        "--param delta=2: no selected loss has a parameter 'delta'; they have no parameters",
    ),
    (
        "--param for no selected loss",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--param", "delta=2"],
        2,
        "--param delta=2: no selected loss has a parameter 'delta'; their parameters: multioutput",
    ),
    (
        "empty cells",
        {"p.csv": "pred,target\n1,\n2,3\n,4\n5,\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'target' has 2 missing values (rows 0, 3; 0-based); column 'pred' has 1 missing value (row 2; 0-based); use --missing drop to drop those rows",
    ),
    (
        "NaN cells",
        {"p.csv": "pred,target\nNaN,1\n2,3\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' has 1 missing value (row 0; 0-based); use --missing drop to drop those rows",
    ),
    (
        "missing spellings in a column read as text",  # 'None' made the column text: 'NA' was 'not numeric'
        {"p.csv": "pred,target\n0.5,1\nNA,1\nnull,0\nNone,1\n<NA>,0\n0.25,1\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' has 4 missing values (rows 1, 2, 3, 4; 0-based); use --missing drop to drop those rows",
    ),
    (
        "all rows dropped",
        {"p.csv": "pred,target\n1,\n,3\n"},
        ["eval", "p.csv", "-l", "mse", "--missing", "drop"],
        3,
        "all 2 rows were dropped for missing values (1 in column 'target', 1 in column 'pred'): nothing left to evaluate",
    ),
    (
        "infinite value",
        {"p.csv": "pred,target\ninf,1\n2,3\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' has 1 infinite value (row 0; 0-based)",
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
        "bce: column 'prob' (pred): expected probabilities in [0, 1] (for logits, use bce_logits), got 1.3 in 1 row (first: row 1)",
    ),
    (
        "negative probability for brier",
        {"p.csv": "prob,label\n-0.2,0\n0.3,1\n"},
        ["eval", "p.csv", "-l", "brier"],
        3,
        "brier: column 'prob' (pred): expected probabilities in [0, 1], got -0.2 in 1 row (first: row 0)",
    ),
    (
        "msle at -1",
        {"p.csv": "pred,target\n-1,2\n1,3\n"},
        ["eval", "p.csv", "-l", "msle"],
        3,
        "msle: column 'pred' (pred): expected values > -1, got -1 in 1 row (first: row 0)",
    ),
    (
        "hinge labels",
        {"p.csv": "score,label\n0.3,0\n0.2,2\n"},
        ["eval", "p.csv", "-l", "hinge"],
        3,
        "hinge: column 'label' (target): expected labels all in {0, 1} or all in {-1, 1}, got 2 in 1 row (first: row 1)",
    ),
    (
        "hinge mixed label sets",
        {"p.csv": "score,label\n0.3,0\n0.2,-1\n0.5,1\n"},
        ["eval", "p.csv", "-l", "hinge"],
        3,
        "hinge: column 'label' (target): expected labels all in {0, 1} or all in {-1, 1}, got -1 in 1 row (first: row 1)",
    ),
    (
        "poisson_deviance needs p > 0",
        {"p.csv": "pred,target\n0,1\n1,1\n"},
        ["eval", "p.csv", "-l", "poisson_deviance"],
        3,
        "poisson_deviance: column 'pred' (pred): expected values > 0, got 0 in 1 row (first: row 0)",
    ),
    (
        "negative variance",
        {"p.csv": "pred,target,v\n1,2,-1\n1,1,1\n"},
        ["eval", "p.csv", "-l", "gaussian_nll", "--col", "var=v"],
        3,
        "gaussian_nll: column 'v' (var): expected values >= 0, got -1 in 1 row (first: row 0)",
    ),
    (
        "role not bound",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "gaussian_nll"],
        2,
        "role 'var' of gaussian_nll is not bound; bind it with --col var=COLUMN",
    ),
    (
        "role of two losses not bound",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "ranknet,listnet"],
        2,
        "role 'qid' of ranknet, listnet is not bound; bind it with --col qid=COLUMN",
    ),
    (
        "several columns for a one-value role",  # was exit 3 once read, though the options alone say it
        {"p.csv": "pred,target,q1,q2\n1,2,1,1\n"},
        ["eval", "p.csv", "-l", "ranknet", "--col", "qid=q1,q2"],
        2,
        "--col qid=q1,q2 names 2 columns (q1, q2), but the role 'qid' of ranknet takes one value per row; name one "
        "column",
    ),
    (
        "several columns for a model's one-value pred",
        {"p.csv": "a,b,target,q\n1,2,1,1\n"},
        ["eval", "p.csv", "-l", "ranknet", "--model", "m=a,b", "--col", "qid=q"],
        2,
        "--model m=a,b names 2 columns (a, b), but the role 'pred' of ranknet takes one value per row; name one column",
    ),
    (
        "no default column",
        {"p.csv": "a,b\n1,2\n"},
        ["eval", "p.csv", "-l", "mse"],
        2,
        "no column for role 'target': none of the columns (a, b) is named target, y_true, label, y, actual, truth; choose one with --target COLUMN",
    ),
    (
        "mismatched row counts",
        {"p.csv": "pred\n1\n2\n3\n", "t.csv": "target\n1\n2\n"},
        ["eval", "p.csv", "--targets", "t.csv", "-l", "mse"],
        3,
        "p.csv has 3 rows but t.csv has 2; rows are aligned by order, so the counts must match (or use --on KEY)",
    ),
    (
        "duplicate join keys",
        {"p.csv": "id,pred\n1,1\n2,2\n", "t.csv": "id,target\n1,1\n1,2\n2,2\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--on", "id", "-l", "mse"],
        3,
        "key column 'id' has 1 duplicate value in t.csv (first: 1 at row 1); each row needs a distinct key",
    ),
    (
        "missing join keys",
        {"p.csv": "id,pred\n1,1\n2,2\n3,3\n", "t.csv": "id,target\n1,1\n2,2\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--on", "id", "-l", "mse"],
        3,
        "p.csv: 1 row has a key 'id' that is not in t.csv (first: 3 at row 2); to leave such rows out, use --missing "
        "drop",
    ),
    (
        "target rows without a prediction",
        {"p.csv": "id,pred\n1,1\n2,2\n", "t.csv": "id,target\n1,1\n2,2\n4,9\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--on", "id", "-l", "mse"],
        3,
        "t.csv: 1 row has a key 'id' that is not in p.csv (first: 4 at row 2); to leave such rows out, use --missing "
        "drop",
    ),
    (
        "--targets file without a target column",
        {"p.csv": "id,pred,target\n1,1,100\n", "t.csv": "id,foo\n1,1\n"},
        ["eval", "p.csv", "--targets", "t.csv", "-l", "mse"],
        3,
        "no column for role 'target' in t.csv: none of its columns (id, foo) is named target, y_true, label, y, "
        "actual, truth; choose one with --target COLUMN (with --targets, the target is read from t.csv only)",
    ),
    (
        "--target not in the --targets file",
        {"p.csv": "id,pred,lbl\n1,1,1\n", "t.csv": "id,foo\n1,1\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--target", "lbl", "-l", "mse"],
        3,
        "column 'lbl' not found in t.csv; columns are: id, foo",
    ),
    (
        "column in neither file",
        {"p.csv": "id,pred\n1,1\n", "t.csv": "id,target\n1,1\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--weight", "w", "-l", "mse"],
        3,
        "column 'w' not found in p.csv (columns: id, pred) or t.csv (columns: id, target)",
    ),
    (
        "join key not in file",
        {"p.csv": "id,pred\n1,1\n", "t.csv": "key,target\n1,1\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--on", "id", "-l", "mse"],
        3,
        "column 'id' not found in t.csv; columns are: key, target",
    ),
    (
        "corrupt parquet",
        {"p.parquet": b"PAR1 this is not parquet PAR1"},
        ["eval", "p.parquet", "-l", "mse"],
        3,
        "cannot read 'p.parquet' as Parquet: Parquet file size is 29 bytes, smaller than the size reported by footer's (544499061bytes)",
    ),
    (
        # It was "unknown loss '0.5*mse+0.5*mae'", as README writes composites NAME=FORMULA.
        "a composite without a name",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "0.5*mse+0.5*mae"],
        2,
        "the composite '0.5*mse+0.5*mae' needs a name, to report and gate it by: --loss 'total=0.5*mse+0.5*mae'",
    ),
    (
        "a weighted loss without a name",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "2*mse"],
        2,
        "the composite '2*mse' needs a name, to report and gate it by: --loss 'total=2*mse'",
    ),
    (
        "bad --fail-if",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse=>1"],
        2,
        "cannot parse --fail-if 'mse=>1'; expected LOSS[@MODEL] OP NUMBER with OP one of > >= < <=, e.g. 'mse>0.25'",
    ),
    (
        "--fail-if threshold not a number",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse>x"],
        2,
        "--fail-if 'mse>x': 'x' is not a number",
    ),
    (
        "--fail-if threshold with a digit separator",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse>1_0"],
        2,
        "--fail-if 'mse>1_0': '1_0' is not a number",
    ),
    (
        "parameter with a digit separator",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber:delta=1_0"],
        2,
        "huber: parameter 'delta' must be a number (> 0), got '1_0'",
    ),
    (
        "parameter in digits of another script",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber:delta=\u0662"],
        2,
        "huber: parameter 'delta' must be a number (> 0), got '\u0662'",
    ),
    (
        "--bootstrap 1e3",  # it said only "is not a valid int"
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--bootstrap", "1e3"],
        2,
        "Invalid value for '--bootstrap': '1e3' is not a valid int; give 1000.",
    ),
    (
        "--seed 1e30",  # exactly, not float64's 1000000000000000019884624838656
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--seed", "1e30"],
        2,
        "Invalid value for '--seed': '1e30' is not a valid int; give 1000000000000000000000000000000.",
    ),
    (
        "integer option with a digit separator",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--chunk-rows", "1_000"],
        2,
        "Invalid value for '--chunk-rows': '1_000' is not a valid int.",
    ),
    (
        "seed in digits of another script",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--bootstrap", "10", "--seed", "\u0663"],
        2,
        "Invalid value for '--seed': '\u0663' is not a valid int.",
    ),
    (
        "confidence level with a digit separator",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--ci", "0.9_5"],
        2,
        "Invalid value for '--ci': '0.9_5' is not a valid float.",
    ),
    (
        "a parameter with no loss name",  # "unknown loss ''" before
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", ":delta=2"],
        2,
        "no loss name in ':delta=2'; expected NAME[:KEY=VALUE...], e.g. huber:delta=2",
    ),
    (
        "--param LOSS.KEY with no loss",  # "unknown loss ''" before
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber", "--param", ".delta=2"],
        2,
        "expected [LOSS.]KEY=VALUE in --param, got '.delta=2'",
    ),
    (
        "--param LOSS.KEY with no key",  # "loss 'huber' has no parameter ''" before
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber", "--param", "huber.=2"],
        2,
        "expected [LOSS.]KEY=VALUE in --param, got 'huber.=2'",
    ),
    (
        "--param LOSS.KEY with two dots",  # "unknown loss 'huber.delta'; did you mean huber?" before
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber", "--param", "huber.delta.x=2"],
        2,
        "expected [LOSS.]KEY=VALUE in --param, got 'huber.delta.x=2'",
    ),
    (
        "--param LOSS.KEY with a doubled dot",  # "unknown loss 'huber.'; did you mean huber?" before
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber", "--param", "huber..delta=2"],
        2,
        "expected [LOSS.]KEY=VALUE in --param, got 'huber..delta=2'",
    ),
    (
        "parameter in full-width digits",  # read as 2 by Python's float before
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber:delta=\uff12"],
        2,
        "huber: parameter 'delta' must be a number (> 0), got '\uff12'",
    ),
    (
        "--fail-if-worse with a digit separator",  # read as 10 before, as --fail-if's threshold no longer was
        {"b.csv": GOOD, "c.csv": GOOD},
        ["compare", "b.csv", "c.csv", "-l", "mse", "--fail-if-worse", "1_0"],
        2,
        "Invalid value for '--fail-if-worse': '1_0' is not a percentage (e.g. 1 or 1%).",
    ),
    (
        "--bootstrap in Arabic-Indic digits",  # read as 10 before
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--bootstrap", "\u0661\u0660"],
        2,
        "Invalid value for '--bootstrap': '\u0661\u0660' is not a valid int.",
    ),
    (
        "unknown option",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--bogus"],
        2,
        "No such option: --bogus (Possible options: --loss)",
    ),
    (
        "unknown format",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--format", "xml"],
        2,
        "Invalid value for '--format' / '-f': 'xml' is not one of 'table', 'json', 'csv', 'markdown'.",
    ),
    ("unknown command", {}, ["evaluate"], 2, "No such command 'evaluate'. Did you mean 'eval'?"),
    (
        "output path ending in a slash",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "-o", "r.json/"],
        2,
        "output path 'r.json/' ends with '/', so it names a directory; give a file name",
    ),
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
        "loss 'smape' has no 'torch' convention; it has: lossctl",
    ),
    (
        "negative weights",
        {"p.csv": "pred,target,w\n1,2,1\n1,1,-2\n"},
        ["eval", "p.csv", "-l", "mse", "--weight", "w"],
        3,
        "column 'w' has 1 negative weight (row 1; 0-based); sample weights must be >= 0",
    ),
    (
        "all-zero weights",
        {"p.csv": "pred,target,w\n1,2,0\n1,1,0\n"},
        ["eval", "p.csv", "-l", "mse", "--weight", "w"],
        3,
        "mse: the sample weights sum to zero, so the weighted mean sum(w*l)/sum(w) is undefined (--reduction sum gives 0)",
    ),
    (
        "all-zero weights, a loss without a sum",
        {"p.csv": "pred,target,w\n1,2,0\n1,1,0\n"},
        ["eval", "p.csv", "-l", "rmse", "--weight", "w"],
        3,
        "rmse: the sample weights sum to zero, so the weighted mean sum(w*l)/sum(w) is undefined",
    ),
    (
        "overflow",
        {"p.csv": "pred,target\n1e308,-1e308\n1,1\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "mse: the loss overflows float64 at row 0 (1 value); rescale the inputs",
    ),
    (
        "output is the input",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "-o", "p.csv"],
        2,
        "refusing to overwrite the input file 'p.csv' with --output",
    ),
    (
        "output directory missing",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "-o", "no/such/dir/r.json"],
        3,
        "cannot write 'no/such/dir/r.json': directory 'no/such/dir' does not exist",
    ),
    (
        "output extension unknown",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "-o", "r.xml"],
        2,
        "cannot tell the format of 'r.xml' from its extension; use one of .json, .csv, .md, .parquet, or give "
        "--format json, csv or markdown",
    ),
    (
        "plugin raising on import",
        {"p.csv": GOOD, "bad_plugin.py": "raise RuntimeError('boom')\n"},
        ["eval", "p.csv", "-l", "mse", "--plugin", "bad_plugin.py"],
        2,
        "plugin 'bad_plugin.py' failed to load: RuntimeError: boom",
    ),
    ("unknown describe", {}, ["describe", "nope"], 2, "unknown loss 'nope' (run 'lossctl list' to see every loss)"),
    (
        "unknown task",
        {},
        ["list", "--task", "vision"],
        2,
        "--task 'vision' is not a task; tasks: regression, binary, multiclass, multilabel, segmentation, detection, representation, ranking",
    ),
    (
        # it named no close task, as an unknown loss or column does
        "misspelt task",
        {},
        ["list", "--task", "Regresion"],
        2,
        "--task 'Regresion' is not a task; tasks: regression, binary, multiclass, multilabel, segmentation, detection, "
        "representation, ranking; did you mean 'regression'?",
    ),
    (
        # it said "unknown task ''", naming no option, where eval's empty values name theirs
        "empty task",
        {},
        ["list", "--task", ""],
        2,
        "--task needs a task name, got ''; tasks: regression, binary, multiclass, multilabel, segmentation, detection, "
        "representation, ranking",
    ),
    # --- reading files ---------------------------------------------------------------------------------
    (
        "duplicate column names",
        {"p.csv": "pred,target,pred\n1,2,3\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' appears more than once in 'p.csv'; column names must be unique",
    ),
    (
        "duplicate unicode column names",
        {"p.csv": "ŷ,y,ŷ\n1,2,3\n"},
        ["eval", "p.csv", "--pred", "ŷ", "-l", "mse"],
        3,
        "column 'ŷ' appears more than once in 'p.csv'; column names must be unique",
    ),
    (
        "all-empty column",
        {"p.csv": "pred,target\n,1\n,2\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' has 2 missing values (rows 0, 1; 0-based); use --missing drop to drop those rows",
    ),
    (
        "all-empty column dropped",
        {"p.csv": "pred,target\n,1\n,2\n"},
        ["eval", "p.csv", "-l", "mse", "--missing", "drop"],
        3,
        "all 2 rows were dropped for missing values (2 in column 'pred'): nothing left to evaluate",
    ),
    (
        "header line empty",
        {"p.csv": "\npred,target\n1,2\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "the first line of 'p.csv' is empty; expected a header line of column names",
    ),
    (
        # The header was its first line only: column 'y' (the quote dropped), then 'true",pred' read as a data row.
        "a quoted newline inside the header",
        {"p.csv": '"y\ntrue",pred\n1,2\n'},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "cannot read 'p.csv' as CSV: line 1 (the header line) has a quoted column name that goes on over the next "
        "line; write every column name on the header line",
    ),
    (
        "carriage return inside the header",
        {"p.csv": b"pred,target\rx\n1,2\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "cannot read 'p.csv' as CSV: line 1 holds a carriage return (\\r) that does not end it; end lines with LF or CRLF",
    ),
    (
        "row with too many fields",
        {"p.csv": "pred,target\n1,2\n3,4,5\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "cannot read 'p.csv' as CSV: line 3 (row 1; 0-based): Expected 2 columns, got 3: 3,4,5",
    ),
    (
        # In a comma-separated file decimal commas are quoted ("1,5"), which was refused with --decimal , (exit 2):
        # the error without it advised --decimal , and the one with it --delimiter, a dead end. An unquoted one
        # splits its row.
        "decimal comma with a comma delimiter, unquoted",
        {"p.csv": "pred,target\n1,5,2\n"},
        ["eval", "p.csv", "--decimal", ",", "-l", "mse"],
        3,
        "cannot read 'p.csv' as CSV: line 2 (row 0; 0-based): Expected 2 columns, got 3: 1,5,2",
    ),
    (
        "delimiter of two characters",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--delimiter", ";;", "-l", "mse"],
        2,
        "--delimiter takes one ASCII character (or 'tab'), got ';;'",
    ),
    (
        "delimiter outside ASCII",
        {"p.csv": "pred\u00e9target\n1\u00e92\n"},
        ["eval", "p.csv", "--delimiter", "\u00e9", "-l", "mse"],
        2,
        "--delimiter takes one ASCII character (or 'tab'), got '\u00e9'",
    ),
    (
        "delimiter that is the quote",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--delimiter", '"', "-l", "mse"],
        2,
        "--delimiter cannot be a quote or a line end, got '\"'",
    ),
    (
        "decimal comma unset",
        {"p.csv": "pred;target\n1,5;2\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' is not numeric: '1,5' at row 0; if ',' is its decimal point, give --decimal ,",
    ),
    (
        "decimal comma given, a word further on",
        {"p.csv": "pred;target\n1,5;0,5\n3;abc\n"},
        ["eval", "p.csv", "--decimal", ",", "-l", "mse"],
        3,
        "column 'target' is not numeric: 'abc' at row 1",
    ),
    (
        "decimal comma given, a decimal point further on",
        {"p.csv": "pred;target\n1,5;2\n2.5;3\n"},
        ["eval", "p.csv", "--decimal", ",", "-l", "mse"],
        3,
        "column 'pred' mixes decimal points: '1,5' at row 0 and '2.5' at row 1; write every number with the same one",
    ),
    (
        "delimiter given for JSON Lines",
        {"p.jsonl": '{"pred": 1, "target": 2}\n'},
        ["eval", "p.jsonl", "--delimiter", ";", "-l", "mse"],
        2,
        "--delimiter applies to CSV and TSV input only, and p.jsonl is JSON Lines",
    ),
    (
        "decimal comma given for JSON Lines",
        {"p.jsonl": '{"pred": "1,5", "target": 2}\n', "t.jsonl": '{"target": 2}\n'},
        ["eval", "p.jsonl", "--targets", "t.jsonl", "--target", "target", "--decimal", ",", "-l", "mse"],
        2,
        "--decimal , applies to CSV and TSV input only, and p.jsonl is JSON Lines, t.jsonl is JSON Lines",
    ),
    (
        # An explicit '.' was accepted (the default's value), while ',' was refused: any --decimal given is.
        "decimal point given for JSON Lines",
        {"p.jsonl": '{"pred": 1, "target": 2}\n'},
        ["eval", "p.jsonl", "--decimal", ".", "-l", "mse"],
        2,
        "--decimal . applies to CSV and TSV input only, and p.jsonl is JSON Lines",
    ),
    (
        "decimal comma given, JSON Lines text with one",
        {"p.csv": "id;pred\n1;1,5\n", "t.jsonl": '{"id": 1, "target": "2,5"}\n'},
        ["eval", "p.csv", "--targets", "t.jsonl", "--on", "id", "--decimal", ",", "-l", "mse"],
        3,
        "column 'target' of t.jsonl is not numeric: '2,5' at row 0; --decimal , reads a decimal comma only in a CSV "
        "or TSV column whose other cells are numbers written the same way (never in JSON Lines text) (rows are "
        "numbered as in p.csv, to which --on joins them)",
    ),
    (
        "decimal point, a decimal comma in a later chunk",
        {"p.csv": "pred;target\n1.5;2\n2;3\n2,5;3\n"},
        ["eval", "p.csv", "-l", "mse", "--chunk-rows", "2"],
        3,
        "column 'pred' mixes decimal points: '1.5' at row 0 and '2,5' at row 2; write every number with the same one",
    ),
    (
        # The point of the first chunk was refused at once, where one chunk of all the rows says they mix.
        "decimal comma given, a decimal point in an earlier chunk",
        {"p.csv": "pred;target\n1.5;2\n2;3\n2,5;3\n"},
        ["eval", "p.csv", "-l", "mse", "--chunk-rows", "2", "--decimal", ","],
        3,
        "column 'pred' mixes decimal points: '1.5' at row 0 and '2,5' at row 2; write every number with the same one",
    ),
    (
        # With --decimal , a column of numbers all written with a '.' was read with '.' as the decimal point:
        # '1.500' (a thousand and five hundred to whoever wrote it so) was 1.5, and mse 2.125 instead of an error.
        "decimal comma given, a thousands separator",
        {"p.csv": "pred;target\n1.500;2\n3;5\n"},
        ["eval", "p.csv", "--decimal", ",", "-l", "mse"],
        3,
        "column 'pred' is not numeric with --decimal ,: '1.500' at row 0 holds a '.'; thousands separators are not "
        "read (remove them), and every number must use the decimal comma",
    ),
    (
        "decimal comma given, a thousands separator and a decimal comma",
        {"p.csv": "pred;target\n2;2\n1.000,5;5\n"},
        ["eval", "p.csv", "--decimal", ",", "-l", "mse"],
        3,
        "column 'pred' is not numeric with --decimal ,: '1.000,5' at row 1 holds a '.'; thousands separators are not "
        "read (remove them), and every number must use the decimal comma",
    ),
    (
        "decimal point, a decimal comma further on",
        {"p.csv": "pred\ttarget\n1.5\t2\n2,5\t3\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' mixes decimal points: '1.5' at row 0 and '2,5' at row 1; write every number with the same one",
    ),
    (
        "digits of another script",
        {"p.csv": "pred,target\n1,2\n\u0661\u0662,3\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' is not numeric: '\u0661\u0662' at row 1",
    ),
    (
        # pyarrow reads hexadecimal in a column of integers: 0x10 was 16, 0xFFFFFFFFFFFFFFFF was -1.
        "hexadecimal integer",
        {"p.csv": "pred,target\n1,2\n0x10,3\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'pred' is not numeric: '0x10' at row 1",
    ),
    (
        "hexadecimal integer that wraps around",
        {"p.csv": "pred,target\n1,2\n2, 0XFFFFFFFFFFFFFFFF\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "column 'target' is not numeric: '0XFFFFFFFFFFFFFFFF' at row 1",
    ),
    (
        "unknown --input-format",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--input-format", "xlsx", "-l", "mse"],
        2,
        "Invalid value for '--input-format': 'xlsx' is not one of 'csv', 'tsv', 'parquet', 'arrow', 'jsonl'.",
    ),
    (
        "JSON Lines with a malformed line",
        {"p.jsonl": '{"pred": 1, "target": 2}\n{"pred": 1, "target":\n'},
        ["eval", "p.jsonl", "-l", "mse"],
        3,
        "cannot read 'p.jsonl' as JSON Lines: line 2 (row 1; 0-based): Invalid value.",
    ),
    (
        "Parquet file that is CSV",
        {"p.parquet": GOOD},
        ["eval", "p.parquet", "-l", "mse"],
        3,
        # "Parquet magic bytes not found in footer. Either the file is corrupted or this is not a parquet file." before
        "cannot read 'p.parquet' as Parquet: it is not a Parquet file but delimited text; give --input-format csv or "
        "name it .csv",
    ),
    (
        "Arrow file that is CSV",
        {"p.arrow": GOOD},
        ["eval", "p.arrow", "-l", "mse"],
        3,
        "cannot read 'p.arrow' as Arrow IPC: it is not an Arrow IPC file or stream but delimited text; give "
        "--input-format csv or name it .csv",
    ),
    (
        "compressed Parquet",
        {"p.parquet.gz": b"\x1f\x8b"},
        ["eval", "p.parquet.gz", "-l", "mse"],
        3,
        f"cannot read 'p.parquet.gz': {CUT_SHORT}",
    ),
    (
        "gzip CSV cut short in its first bytes",  # "cannot read 'c.csv.gz' as CSV: Truncated compressed stream" before
        {"c.csv.gz": SHORT_GZIP},
        ["eval", "c.csv.gz", "-l", "mse"],
        3,
        f"cannot read 'c.csv.gz': {CUT_SHORT}",
    ),
    (
        "gzip CSV cut short past its first bytes",
        {"c.csv.gz": LONG_GZIP},
        ["eval", "c.csv.gz", "-l", "mse"],
        3,
        f"cannot read 'c.csv.gz': {CUT_SHORT}",
    ),
    (
        "gzip CSV whose compressed data is corrupt",  # "cannot read 'c.csv.gz' as CSV: zlib inflate failed: ..." before
        {"c.csv.gz": bytes(CORRUPT_GZIP)},
        ["eval", "c.csv.gz", "-l", "mse"],
        3,
        "cannot read 'c.csv.gz': its compressed data is corrupt (zlib inflate failed: incorrect data check)",
    ),
    (
        "gzip file of no format cut short",  # "cannot read 'c.gz': Truncated compressed stream" before
        {"c.gz": SHORT_GZIP},
        ["eval", "c.gz", "-l", "mse"],
        3,
        f"cannot read 'c.gz': {CUT_SHORT}",
    ),
    (
        "gzip CSV that is not gzip",
        {"p.csv.gz": GOOD},
        ["eval", "p.csv.gz", "-l", "mse"],
        3,
        # "cannot read 'p.csv.gz' as CSV: zlib inflate failed: incorrect header check" before
        "cannot read 'p.csv.gz': its .gz extension says gzip-compressed, but it is delimited text; remove .gz from its "
        "name",
    ),
    (
        "gzip file of no format that is not gzip",  # read as the CSV it holds, without a word, before
        {"p.gz": GOOD},
        ["eval", "p.gz", "-l", "mse"],
        3,
        "cannot read 'p.gz': its .gz extension says gzip-compressed, but it is delimited text; remove .gz from its name",
    ),
    (
        "bzip2 CSV that is zstd",  # "bz2 decompress failed: data is not bz2-compressed (no magic header)" before
        {"p.csv.bz2": b"\x28\xb5\x2f\xfd" + bytes(8)},
        ["eval", "p.csv.bz2", "-l", "mse"],
        3,
        "cannot read 'p.csv.bz2': its .bz2 extension says bz2-compressed, but it is zstd-compressed data; name it .zst "
        "instead of .bz2",
    ),
    (
        "zstd JSON Lines that is a Parquet file",  # "ZSTD decompress failed: Unknown frame descriptor" before
        {"p.jsonl.zst": b"PAR1" + bytes(8)},
        ["eval", "p.jsonl.zst", "-l", "mse"],
        3,
        "cannot read 'p.jsonl.zst': its .zst extension says zstd-compressed, but it is a Parquet file; remove .zst "
        "from its name",
    ),
    (
        "Parquet file that is gzip-compressed",  # Parquet's "magic bytes not found in footer" before
        {"p.parquet": b"\x1f\x8b" + bytes(8)},
        ["eval", "p.parquet", "-l", "mse"],
        3,
        "cannot read 'p.parquet' as Parquet: it is not a Parquet file but gzip-compressed data; end its name with .gz",
    ),
    (
        "CSV file that is gzip-compressed",  # "it is not CSV, TSV, JSON Lines, Parquet or Arrow (binary data)" before
        {"p.csv": b"\x1f\x8b" + bytes(8)},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "cannot read 'p.csv' as CSV: it is gzip-compressed; end its name with .gz",
    ),
    (
        "JSON Lines read as Parquet",  # "magic bytes not found in footer" before
        {"p.jsonl": '{"pred": 1, "target": 2}\n'},
        ["eval", "p.jsonl", "--input-format", "parquet", "-l", "mse"],
        3,
        "cannot read 'p.jsonl' as Parquet: it is not a Parquet file but JSON Lines text; give --input-format jsonl "
        "or name it .jsonl",
    ),
    (
        "directory without Parquet files",
        {"d/notes.txt": "hello\n"},
        ["eval", "d", "-l", "mse"],
        3,
        "directory 'd' has no Parquet files (*.parquet, *.pq)",
    ),
    ("glob matching nothing", {}, ["eval", "runs/*.parquet", "-l", "mse"], 3, "no files match 'runs/*.parquet'"),
    (
        "glob matching a CSV file",
        {"p.csv": GOOD},
        ["eval", "p.*", "-l", "mse"],
        3,
        "'p.*' matches 'p.csv', which is not a Parquet file; a glob is read as one Parquet dataset",
    ),
    (
        "--targets file missing",
        {"p.csv": "id,pred\n1,1\n"},
        ["eval", "p.csv", "--targets", "labels.csv", "-l", "mse"],
        3,
        "file 'labels.csv' not found",
    ),
    (
        "--on without --targets",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--on", "id", "-l", "mse"],
        2,
        "--on needs --targets: it names the key column shared by both files",
    ),
    (
        # It was ignored: the models of one file were compared row by row, the key unused and unchecked.
        "compare of models with --on without --targets",
        {"p.csv": "id,a,b,target\n1,1,2,1\n2,2,2,2\n"},
        ["compare", "p.csv", "--model", "A=a", "--model", "B=b", "--on", "id", "-l", "mse"],
        2,
        "--on needs --targets or a candidate file: it names the key column shared by two files, and the models of "
        "one file are compared row by row",
    ),
    (
        "join key with a missing value",
        {"p.csv": "id,pred\n1,1\n,2\n", "t.csv": "id,target\n1,1\n2,2\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--on", "id", "-l", "mse"],
        3,
        "key column 'id' has 1 missing value in p.csv (first: row 1); to leave such rows out, use --missing drop",
    ),
    (
        "join keys of different types",
        {"p.csv": "id,pred\n2024-01-02,1\n", "t.csv": "id,target\n1.5,1\n"},
        ["eval", "p.csv", "--targets", "t.csv", "--on", "id", "-l", "mse"],
        3,
        "key column 'id' is date32[day] in p.csv but double in t.csv; the keys cannot be matched: write them with "
        "one type in both files (integers or text)",
    ),
    # --- columns and roles -----------------------------------------------------------------------------
    (
        "--by column missing",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--by", "segment"],
        3,
        "column 'segment' not found in p.csv; columns are: id, pred, target",
    ),
    (
        "--by column given twice",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--by", "id", "--by", "i*"],
        2,
        "--by names the column 'id' twice; give each --by column once",
    ),
    (
        # A usage error, found before any reading: the missing file was reported instead (exit 3).
        "--by column given twice, the file missing",
        {},
        ["eval", "gone.csv", "-l", "mse", "--by", "id", "--by", "id"],
        2,
        "--by names the column 'id' twice; give each --by column once",
    ),
    (
        # As the --by case above: the missing file was reported (exit 3), not the command line.
        "compare without a candidate, the file missing",
        {},
        ["compare", "gone.csv", "-l", "mse"],
        2,
        "compare needs a CANDIDATE file, or two or more --model columns of one file to compare",
    ),
    (
        "compare of two files with --model, the files missing",
        {},
        ["compare", "gone.csv", "gone2.csv", "--model", "A=a", "-l", "mse"],
        2,
        "--model compares models held in one file: give one PATH, or two files without --model",
    ),
    (
        # An input without columns: a role was 'not found among the columns ()', a usage error (exit 2).
        "an input without columns",
        {"p.jsonl": "{}\n{}\n"},
        ["eval", "p.jsonl", "-l", "mse"],
        3,
        "p.jsonl has no columns: nothing to evaluate",
    ),
    (
        "a candidate without columns",
        {"p.csv": GOOD, "c.jsonl": "{}\n{}\n"},
        ["compare", "p.csv", "c.jsonl", "-l", "mse"],
        3,
        "column 'pred' not found in c.jsonl, which has no columns ('pred' is the pred guessed from its name in p.csv; "
        "compare reads both files by the same column names)",
    ),
    (
        "--weight column missing",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--weight", "w"],
        3,
        "column 'w' not found in p.csv; columns are: id, pred, target",
    ),
    (
        "--weight column of text",
        {"p.csv": "pred,target,w\n1,2,high\n"},
        ["eval", "p.csv", "-l", "mse", "--weight", "w"],
        3,
        "column 'w' is not numeric: 'high' at row 0",
    ),
    (
        "negative weight in a later chunk",
        {"p.csv": "pred,target,w\n1,2,1\n1,2,1\n1,2,1\n1,1,-0.5\n"},
        ["eval", "p.csv", "-l", "mse", "--weight", "w", "--chunk-rows", "2"],
        3,
        "column 'w' has 1 negative weight (row 3; 0-based); sample weights must be >= 0",
    ),
    (
        "negative weights in several chunks",  # counted in the first chunk holding one only: '1 negative weight'
        {"p.csv": "pred,target,w\n1,2,1\n1,2,-1\n1,2,1\n1,1,-0.5\n1,1,-2\n"},
        ["eval", "p.csv", "-l", "mse", "--weight", "w", "--chunk-rows", "2"],
        3,
        "column 'w' has 3 negative weights (rows 1, 3, 4; 0-based); sample weights must be >= 0",
    ),
    (
        "glob matching no column",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--pred", "logit_*", "-l", "cross_entropy"],
        3,
        "no column matches 'logit_*' in p.csv; columns are: id, pred, target",
    ),
    (
        "column named twice",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--pred", "pred,pred", "-l", "mse"],
        2,
        "column 'pred' is named twice in 'pred,pred'",
    ),
    (
        "malformed --col",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--col", "var"],
        2,
        "--col expects ROLE=COLSPEC, got 'var'",
    ),
    (
        "--col for a role no loss reads",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--col", "var=id"],
        2,
        "--col var=id: no selected loss reads the role 'var' (they read target, pred)",
    ),
    (
        "--col for a misspelt role",  # had no 'did you mean', unlike a misspelt loss or column
        {"p.jsonl": '{"a": [1, 2], "b": [1, 3], "c": [2, 2]}\n'},
        ["eval", "p.jsonl", "-l", "triplet", "--col", "anchr=a", "--col", "positive=b", "--col", "negative=c"],
        2,
        "--col anchr=a: no selected loss reads the role 'anchr' (they read anchor, positive, negative); "
        "did you mean 'anchor'?",
    ),
    (
        "multi-column role left to a guess",  # the scalar 'pred' was taken for K logits (exit 3 on its shape)
        {"p.csv": "pred,target,logit_0,logit_1\n0.5,1,2,1\n"},
        ["eval", "p.csv", "-l", "cross_entropy"],
        2,
        "role 'pred' of cross_entropy takes several columns and has no default; name them with --pred COLSPEC "
        "(a list a,b,c, a glob such as 'pred_*', or one list column)",
    ),
    (
        "multi-column target of a gated loss left to a guess",
        {"p.csv": "pred,target\n0.5,1\n"},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "giou>1"],
        2,
        "role 'target' of giou takes several columns and has no default; name them with --target COLSPEC "
        "(a list a,b,c, a glob such as 'target_*', or one list column)",
    ),
    (
        "--target for a loss without a target",  # was '--col target=...: ...', an option the user did not give
        {"p.jsonl": '{"a": [1, 2], "b": [1, 3], "c": [2, 2], "y": 1}\n'},
        ["eval", "p.jsonl", "-l", "triplet", "--target", "y"],
        2,
        "--target y: no selected loss reads the role 'target' (they read anchor, positive, negative)",
    ),
    (
        "--col pred= beside --model",  # was '--col pred=...: no selected loss reads the role 'pred''
        {"p.csv": "a,p,target\n1,2,3\n"},
        ["eval", "p.csv", "-l", "mse", "--model", "m=a", "--col", "pred=p"],
        2,
        "--model and --col pred=... exclude each other: --model binds each model's predictions",
    ),
    (
        "list column of text",
        {"p.jsonl": '{"pred": ["a", "b"], "target": [0, 1]}\n'},
        ["eval", "p.jsonl", "-l", "dice"],
        3,
        "column 'pred' has a value that is not a number in the list at row 0: 'a'",
    ),
    (
        "ragged list column",
        {"p.jsonl": '{"pred": [0.1, 0.9], "target": [0, 1]}\n{"pred": [0.5], "target": [0, 1]}\n'},
        ["eval", "p.jsonl", "-l", "dice"],
        3,
        "column 'pred' holds vectors of different lengths: row 0 has 2 values but row 1 has 1",
    ),
    (
        "ragged list column across chunks",  # each chunk was scored with its own K: exit 0 and a mixed value
        {"p.csv": 'pred,target\n"[0.1,0.9]",1\n,0\n"[0.2,0.3,0.5]",0\n'},
        ["eval", "p.csv", "-l", "categorical_ce", "--pred", "pred", "--chunk-rows", "1", "--missing", "drop"],
        3,
        "column 'pred' holds vectors of different lengths: row 0 has 2 values but row 2 has 3",
    ),
    # The CSV form of a vector: exit 3 naming the column today; the precise messages wait for the engine to
    # parse JSON-array cells of a one-column binding (test_json_array_cells_* below, BUG).
    (
        "ragged JSON arrays in CSV cells",
        {"p.csv": 'pred,label\n"[1,2,3]",0\n"[1,2]",1\n'},
        ["eval", "p.csv", "-l", "cross_entropy", "--pred", "pred", "--target", "label"],
        3,
        "column 'pred' holds vectors of different lengths: row 0 has 3 values but row 1 has 2",
    ),
    (
        "invalid JSON array in a CSV cell",
        {"p.csv": 'pred,label\n"[1,2,3]",0\n"[1,2",1\n'},
        ["eval", "p.csv", "-l", "cross_entropy", "--pred", "pred", "--target", "label"],
        3,
        "column 'pred' has an invalid JSON array at row 1: '[1,2'",
    ),
    # --- values outside a loss's domain ----------------------------------------------------------------
    (
        "square overflows float64",
        {"p.csv": "pred,target\n1e308,0\n1,1\n"},
        ["eval", "p.csv", "-l", "mse"],
        3,
        "mse: the loss overflows float64 at row 0 (1 value); rescale the inputs",
    ),
    (
        "class index out of range",
        {"p.csv": "logit_0,logit_1,logit_2,label\n1,2,3,0\n1,2,3,3\n"},
        ["eval", "p.csv", "-l", "cross_entropy", "--pred", "logit_*", "--target", "label"],
        3,
        "cross_entropy: column 'label' (target): expected class indices, integers in 0..2 (K = 3 classes), got 3 in 1 row (first: row 1)",
    ),
    (
        "negative class index",
        {"p.csv": "logit_0,logit_1,label\n1,2,0\n1,2,-1\n"},
        ["eval", "p.csv", "-l", "cross_entropy", "--pred", "logit_*", "--target", "label"],
        3,
        "cross_entropy: column 'label' (target): expected class indices, integers in 0..1 (K = 2 classes), got -1 in 1 row (first: row 1)",
    ),
    (
        "boxes with x2 < x1",
        {"p.csv": "p_1,p_2,p_3,p_4,t_1,t_2,t_3,t_4\n0,0,1,1,0,0,1,1\n2,0,1,1,0,0,1,1\n"},
        ["eval", "p.csv", "-l", "giou", "--pred", "p_*", "--target", "t_*"],
        3,
        "giou: columns 'p_1', 'p_2', 'p_3', 'p_4' (pred): expected box widths x2 - x1 and heights y2 - y1 >= 0, got -1 in 1 row (first: row 1)",
    ),
    (
        "boxes with the wrong number of columns",
        {"p.csv": "p_1,p_2,p_3,t_1,t_2,t_3\n0,0,1,0,0,1\n"},
        ["eval", "p.csv", "-l", "giou", "--pred", "p_*", "--target", "t_*"],
        3,
        "giou: 'pred' must hold 4 values per row (x1, y1, x2, y2), got 3",
    ),
    (
        "probabilities not summing to 1",
        {"p.csv": "p_0,p_1,label\n0.5,0.4,0\n0.5,0.5,1\n"},
        ["eval", "p.csv", "-l", "categorical_ce", "--pred", "p_*", "--target", "label"],
        3,
        "categorical_ce: columns 'p_0', 'p_1' (pred): expected rows of probabilities summing to 1 within 0.0001 (--convention keras divides each row by its sum), got 0.9 in 1 row (first: row 0)",
    ),
    (
        # with --bootstrap, chunks are computed on the engine's worker threads (where there are 2 cores or more)
        "probabilities not summing to 1, with --bootstrap",
        {"p.csv": "p_0,p_1,label\n0.5,0.4,0\n0.5,0.5,1\n"},
        ["eval", "p.csv", "-l", "categorical_ce", "--pred", "p_*", "--target", "label", "--bootstrap", "20"],
        3,
        "categorical_ce: columns 'p_0', 'p_1' (pred): expected rows of probabilities summing to 1 within 0.0001 (--convention keras divides each row by its sum), got 0.9 in 1 row (first: row 0)",
    ),
    # --- options -------------------------------------------------------------------------------------
    (
        "--chunk-rows 0",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--chunk-rows", "0"],
        2,
        "--chunk-rows must be at least 1, got 0",
    ),
    (
        "--bootstrap 1",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--bootstrap", "1"],
        2,
        "--bootstrap needs at least 2 replicates, got 1",
    ),
    (
        "--bootstrap -5",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--bootstrap", "-5"],
        2,
        "--bootstrap needs at least 2 replicates, got -5",
    ),
    (
        "--ci 1.5",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--bootstrap", "10", "--ci", "1.5"],
        2,
        "--ci must be in (0, 1), e.g. 0.95, got 1.5",
    ),
    (
        "--ci 0",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--ci", "0"],
        2,
        "--ci must be in (0, 1), e.g. 0.95, got 0",  # as typed, not Python's 0.0
    ),
    (
        "--ci as a percent",  # it said only "must be in (0, 1)"
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--ci", "99.9"],
        2,
        "--ci must be in (0, 1), e.g. 0.95, got 99.9; a percent? give --ci 0.999",
    ),
    (
        "--ci with a percent sign",  # it said "'95%' is not a valid float."
        {"p.csv": GOOD},
        ["compare", "p.csv", "p.csv", "-l", "mse", "--ci", "95%"],
        2,
        "Invalid value for '--ci': '95%' is a percent; LEVEL is a fraction: give --ci 0.95",
    ),
    (
        "--ci that rounds to 1",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--ci", "0.9999999999999999999"],
        2,
        "--ci must be in (0, 1), e.g. 0.95, got 0.9999999999999999999",  # as typed: it said 'got 1'
    ),
    (
        "--ci that rounds to 0",
        {"p.csv": GOOD},
        ["compare", "p.csv", "p.csv", "-l", "mse", "--ci", " 1e-400"],
        2,
        "--ci must be in (0, 1), e.g. 0.95, got 1e-400",  # it said 'got 0'
    ),
    (
        "--ci not a number",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--ci", "high"],
        2,
        "Invalid value for '--ci': 'high' is not a valid float.",
    ),
    (
        "unknown --missing",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--missing", "fill"],
        2,
        "Invalid value for '--missing': 'fill' is not one of 'error', 'drop'.",
    ),
    (
        "unknown --reduction",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--reduction", "median"],
        2,
        "Invalid value for '--reduction': 'median' is not one of 'mean', 'sum'.",
    ),
    # -l mse, and -l '' said "empty loss name in 'mse,'" and "... in ''", naming no option
    ("empty loss name", {"p.csv": GOOD}, ["eval", "p.csv", "-l", "mse,"], 2, "empty loss name in '-l mse,'"),
    ("empty -l", {"p.csv": GOOD}, ["eval", "p.csv", "-l", ""], 2, "--loss needs a loss name, got ''"),
    ("empty describe", {}, ["describe", " "], 2, "describe needs a loss name, got ' '; 'lossctl list' lists them"),
    ("empty name in describe", {}, ["describe", "mse,"], 2, "empty loss name in 'mse,'"),
    (
        "empty value in a list parameter",  # it said "empty loss name"
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "ce:class_weight=1,,2"],
        2,
        "the class_weight list in 'ce:class_weight=1,,2' has an empty value (two commas in a row)",
    ),
    (
        "--param without =",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber", "--param", "delta"],
        2,
        "expected KEY=VALUE in --param, got 'delta'",
    ),
    (
        "--param for a loss not selected",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--param", "huber.delta=2"],
        2,
        "--param huber.delta=2: loss 'huber' is not selected (add it with -l huber)",
    ),
    (
        "infinite parameter",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber:delta=inf"],
        2,
        "huber: parameter 'delta' must be finite, got inf",
    ),
    (
        "parameter beyond float64",  # said "got inf", which was not typed
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber:delta=1e400"],
        2,
        "huber: parameter 'delta' must be finite, got 1e400 (beyond float64)",
    ),
    (
        "list parameter beyond float64",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "ce:class_weight=1,-1e999"],
        2,
        "cross_entropy: parameter 'class_weight' must be finite, got -1e999 (beyond float64)",
    ),
    (
        "--fail-if without operator",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse"],
        2,
        "cannot parse --fail-if 'mse'; expected LOSS[@MODEL] OP NUMBER with OP one of > >= < <=, e.g. 'mse>0.25'",
    ),
    (
        "--fail-if without number",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse>"],
        2,
        "cannot parse --fail-if 'mse>'; expected LOSS[@MODEL] OP NUMBER with OP one of > >= < <=, e.g. 'mse>0.25'",
    ),
    (
        "--fail-if without loss",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", ">0.5"],
        2,
        "cannot parse --fail-if '>0.5'; expected LOSS[@MODEL] OP NUMBER with OP one of > >= < <=, e.g. 'mse>0.25'",
    ),
    (
        "--fail-if with ==",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse==0.5"],
        2,
        "cannot parse --fail-if 'mse==0.5'; expected LOSS[@MODEL] OP NUMBER with OP one of > >= < <=, e.g. 'mse>0.25'",
    ),
    (
        "--fail-if with two operators",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse>1>2"],
        2,
        "cannot parse --fail-if 'mse>1>2'; expected LOSS[@MODEL] OP NUMBER with OP one of > >= < <=, e.g. 'mse>0.25'",
    ),
    (
        "--fail-if with a unicode operator",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse≥1"],
        2,
        "cannot parse --fail-if 'mse≥1'; expected LOSS[@MODEL] OP NUMBER with OP one of > >= < <=, e.g. 'mse>0.25'",
    ),
    (
        "--fail-if with a NaN threshold",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse>nan"],
        2,
        "--fail-if 'mse>nan': the threshold must be finite",
    ),
    (
        "--fail-if with a decimal comma",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse>0,5"],
        2,
        "--fail-if 'mse>0,5': '0,5' is not a number",
    ),
    (
        "--fail-if on an unknown loss",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mes>1"],
        2,
        "--fail-if 'mes>1': unknown loss 'mes'; did you mean mse, mae? (run 'lossctl list' to see every loss)",
    ),
    (
        "--fail-if with a bad parameter",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "huber", "--fail-if", "huber:delta=-1>1"],
        2,
        "--fail-if 'huber:delta=-1>1': huber: parameter 'delta' must be > 0, got -1",
    ),
    # --- output files ----------------------------------------------------------------------------------
    (
        "output is the input by another path",
        {"p.csv": GOOD},
        ["eval", "./p.csv", "-l", "mse", "-o", "p.csv"],
        2,
        "refusing to overwrite the input file './p.csv' with --output",
    ),
    (
        "output is the targets file",
        {"p.csv": "pred\n1\n", "t.csv": "target\n2\n"},
        ["eval", "p.csv", "--targets", "t.csv", "-l", "mse", "-o", "t.csv"],
        2,
        "refusing to overwrite the input file 't.csv' with --output",
    ),
    (
        "output under a regular file",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "-o", "p.csv/out.json"],
        3,
        "cannot write 'p.csv/out.json': 'p.csv' is not a directory",
    ),
    (
        "output is a directory",
        {"p.csv": GOOD, "res.json/keep": ""},
        ["eval", "p.csv", "-l", "mse", "-o", "res.json"],
        2,
        "output path 'res.json' is a directory",
    ),
    (
        "--per-sample with a bad extension",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--per-sample", "rows.txt"],
        2,
        "cannot tell the format of 'rows.txt' from its extension; --per-sample writes .parquet, .pq, .csv, .jsonl, .ndjson",
    ),
    (
        "--per-sample to a device",  # it said what rows.txt does, though a device has no other name to give
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--per-sample", "/dev/null"],
        2,
        "cannot tell the format of '/dev/null' from its extension; --per-sample writes .parquet, .pq, .csv, .jsonl, "
        ".ndjson (of a device or pipe too): leave out --per-sample to write no per-row losses, or write to a named "
        "pipe with an extension (mkfifo rows.csv)",
    ),
    (
        "--per-sample into a missing directory",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--per-sample", "no/such/dir/rows.csv"],
        3,
        "cannot write 'no/such/dir/rows.csv': directory 'no/such/dir' does not exist",
    ),
    (
        "--per-sample under a regular file",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--per-sample", "p.csv/rows.csv"],
        3,
        "cannot write 'p.csv/rows.csv': 'p.csv' is not a directory",
    ),
    (
        "--per-sample is the input",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--per-sample", "p.csv"],
        2,
        "refusing to overwrite the input file 'p.csv' with --per-sample",
    ),
    (
        "--per-sample of an aggregate",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "rmse", "--per-sample", "rows.csv"],
        2,
        "--per-sample: none of the selected losses has per-row values: rmse is the root of a mean over the whole "
        "input, with no per-row values (the loss under the root, mse for rmse and msle for rmsle, has them)",
    ),
    (
        "--plot with a bad extension",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--plot", "p.pdf"],
        2,
        "--plot writes .png or .svg files, got 'p.pdf'",
    ),
    # An empty --classes (an unset shell variable) was taken as no --classes at all, by every command.
    (
        "--classes empty",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--classes", ""],
        2,
        "--classes takes distinct class labels A,B,C, got ''",
    ),
    (
        "--classes empty, suggested",
        {"p.csv": GOOD},
        ["suggest", "p.csv", "--classes", ""],
        2,
        "--classes takes distinct class labels A,B,C, got ''",
    ),
    # The plot's path was checked for its extension alone: it overwrote an input (exit 0), and a folder named like a
    # figure failed only when the outputs were published, after the results were printed.
    (
        "--plot is the input",
        {"p.svg": GOOD},
        ["eval", "p.svg", "--input-format", "csv", "-l", "mse", "--plot", "p.svg"],
        2,
        "refusing to overwrite the input file 'p.svg' with --plot",
    ),
    (
        "--plot is a directory",
        {"p.csv": GOOD, "f.png/kept": ""},
        ["eval", "p.csv", "-l", "mse", "--plot", "f.png"],
        2,
        "output path 'f.png' is a directory",
    ),
    (
        "--plot into a missing folder",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--plot", "nowhere/f.png"],
        3,
        "cannot write 'nowhere/f.png': directory 'nowhere' does not exist",
    ),
    # --- plugins ---------------------------------------------------------------------------------------
    (
        "plugin with a syntax error",
        {"p.csv": GOOD, "syntax_error_plugin.py": "def loss(:\n"},
        ["eval", "p.csv", "-l", "mse", "--plugin", "syntax_error_plugin.py"],
        2,
        "plugin 'syntax_error_plugin.py' failed to load: SyntaxError: invalid syntax (syntax_error_plugin.py, line 1)",
    ),
    (
        "plugin file missing",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--plugin", "missing_plugin.py"],
        2,
        "plugin file 'missing_plugin.py' not found",
    ),
    (
        "plugin module missing",
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--plugin", "no_such_lossctl_plugin"],
        2,
        "plugin 'no_such_lossctl_plugin' failed to load: ModuleNotFoundError: No module named 'no_such_lossctl_plugin'",
    ),
    # --- compare ---------------------------------------------------------------------------------------
    (
        "compare with mismatched row counts",
        {"b.csv": "pred,target\n1,2\n2,2\n", "c.csv": "pred,target\n1,2\n"},
        ["compare", "b.csv", "c.csv", "-l", "mse"],
        3,
        "b.csv has 2 rows but c.csv has 1; rows are aligned by order, so the counts must match (or use --on KEY)",
    ),
    (
        "compare with a candidate missing the pred column",
        {"b.csv": "pred,target\n1,2\n2,2\n", "c.csv": "yhat2,target\n1,2\n2,2\n"},
        ["compare", "b.csv", "c.csv", "-l", "mse"],
        3,
        "column 'pred' not found in c.csv; columns are: yhat2, target ('pred' is the pred guessed from its name in "
        "b.csv; compare reads both files by the same column names)",
    ),
    (
        "compare --significant without --bootstrap or --ci",
        {"b.csv": GOOD, "c.csv": GOOD},
        ["compare", "b.csv", "c.csv", "-l", "mse", "--fail-if-worse", "5", "--significant"],
        2,
        "--significant needs an interval of the deltas: add --bootstrap N (the paired bootstrap) or --ci LEVEL (the "
        "normal approximation)",
    ),
    (
        "compare --fail-if-worse negative",
        {"b.csv": GOOD, "c.csv": GOOD},
        ["compare", "b.csv", "c.csv", "-l", "mse", "--fail-if-worse", "-1"],
        2,
        "--fail-if-worse takes a percentage >= 0, got -1",  # as typed, not Python's -1.0
    ),
    # --pred '' (often an unset shell variable) said "empty column name in ''", which named no option
    (
        "empty --pred",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--pred", "", "-l", "mse"],
        2,
        "--pred needs a column name, got ''",
    ),
    (
        "blank --target",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--target", " ", "-l", "mse"],
        2,
        "--target needs a column name, got ' '",
    ),
    (
        "empty --weight",
        {"p.csv": GOOD},
        ["eval", "p.csv", "--weight", "", "-l", "mse"],
        2,
        "--weight needs a column name, got ''",
    ),
    (
        "empty --by",
        {"b.csv": GOOD, "c.csv": GOOD},
        ["compare", "b.csv", "c.csv", "--by", ""],
        2,
        "--by needs a column name, got ''",
    ),
    (
        "empty suggest --pred",
        {"p.csv": GOOD},
        ["suggest", "p.csv", "--pred", ""],
        2,
        "--pred needs a column name, got ''",
    ),
    (
        "--fail-if threshold that rounds to 0",  # read as 0: mse<1e-400 passed an mse of 0, which is below 1e-400
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse<1e-400"],
        2,
        "--fail-if 'mse<1e-400': the threshold 1e-400 rounds to 0 in float64; write 0 if 0 is meant",
    ),
    (
        "--fail-if threshold beyond float64",  # it said "must be finite" of a number typed finite
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--fail-if", "mse>1e400"],
        2,
        "--fail-if 'mse>1e400': the threshold must be finite, got 1e400 (beyond float64)",
    ),
    (
        "--fail-if-worse that rounds to 0",
        {"b.csv": GOOD, "c.csv": GOOD},
        ["compare", "b.csv", "c.csv", "-l", "mse", "--fail-if-worse", "1e-400%"],
        2,
        "Invalid value for '--fail-if-worse': '1e-400%' rounds to 0 in float64; write 0 if 0 is meant.",
    ),
    (
        "--per-sample -",  # it said "cannot tell the format of '-' from its extension"
        {"p.csv": GOOD},
        ["eval", "p.csv", "-l", "mse", "--per-sample", "-"],
        2,
        "--per-sample writes a file, not standard output ('-'): give a name ending in .parquet, .pq, .csv, .jsonl, "
        ".ndjson",
    ),
    (
        "empty --model",  # was "empty column name in ''", which named no option
        {"p.csv": GOOD},
        ["eval", "p.csv", "--model", "", "-l", "mse"],
        2,
        "--model expects NAME=COLSPEC or a glob of columns, got ''",
    ),
    (
        "compare --fail-if-worse beyond float64",
        {"b.csv": GOOD, "c.csv": GOOD},
        ["compare", "b.csv", "c.csv", "-l", "mse", "--fail-if-worse", "1e400"],
        2,
        "Invalid value for '--fail-if-worse': '1e400' is not a finite percentage (e.g. 1 or 1%).",  # "got inf" before
    ),
    (
        "compare --fail-if-worse inf",
        {"b.csv": GOOD, "c.csv": GOOD},
        ["compare", "b.csv", "c.csv", "-l", "mse", "--fail-if-worse", "inf%"],
        2,
        "Invalid value for '--fail-if-worse': 'inf%' is not a finite percentage (e.g. 1 or 1%).",
    ),
    (
        "compare output is the candidate",
        {"b.csv": GOOD, "c.csv": GOOD},
        ["compare", "b.csv", "c.csv", "-l", "mse", "-o", "c.csv"],
        2,
        "refusing to overwrite the input file 'c.csv' with --output",
    ),
    (
        "compare with a missing candidate",
        {"b.csv": GOOD},
        ["compare", "b.csv", "c.csv", "-l", "mse"],
        3,
        "file 'c.csv' not found",
    ),
]


def _make_files(root: Path, files: dict[str, str | bytes]) -> dict[Path, bytes]:
    """Write the case's files (``d/name`` makes the directory ``d``) and return their contents."""
    written = {}
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode()
        path.write_bytes(data)
        written[path] = data
    return written


def _destinations(args: list[str]) -> list[str]:
    """The paths a run may write: the values of -o/--output, --per-sample and --plot."""
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in ("-o", "--output", "--per-sample", "--plot")]


def check_failure(run, root: Path, args: list[str], inputs: dict[Path, bytes], code: int, message: str) -> None:
    """The contract of a failed run: status, one ``error:`` line (plus at most a hint), no file written."""
    assert run.code == code, run.err
    lines = run.err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and len(lines) - lines.index(errors[0]) <= 2, run.err
    assert not message or errors[0] == f"error: {message}", errors[0]
    assert "Traceback" not in run.err
    assert run.out == ""
    for destination in _destinations(args):
        path = root / destination
        assert path in inputs or not path.is_file(), f"{destination} was written by a failed run"
    for path, data in inputs.items():
        assert path.read_bytes() == data, f"{path.name} was modified"
    assert not [p.name for p in root.rglob("*.tmp")], "temporary files left behind"


def _with_output(args: list[str]) -> list[str]:
    if "-o" in args or "--output" in args or args[0] not in ("eval", "compare"):
        return args
    return [*args, "-o", "out.json"]


@pytest.mark.parametrize(("files", "args", "code", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(cli, tmp_path: Path, monkeypatch, files, args, code, message) -> None:
    monkeypatch.chdir(tmp_path)
    inputs = _make_files(tmp_path, files)
    args = _with_output(args)
    check_failure(cli(*args), tmp_path, args, inputs, code, message)


# Every failing ``eval`` case again with a --per-sample file, which must not exist afterwards. The error may
# change (an aggregate loss has no per-row values: that usage error comes first), the contract may not.
# Plugin cases are left out: a plugin file is imported once per process.
PER_SAMPLE_CASES = [c for c in CASES if c[2][0] == "eval" and "--per-sample" not in c[2] and "--plugin" not in c[2]]


def _aggregates_only(args: list[str]) -> bool:
    """Whether every loss the command line names with -l is an aggregate (no per-row values)."""
    from lossctl.params import split_loss_tokens

    try:
        tokens = split_loss_tokens(args[i + 1] for i, arg in enumerate(args) if arg in ("-l", "--loss"))
        specs = [lossctl.get(token.split(":")[0]) for token in tokens]
    except lossctl.UsageError:
        return False
    return bool(specs) and all(not spec.per_row for spec in specs)


@pytest.mark.parametrize(
    ("files", "args", "code"), [c[1:4] for c in PER_SAMPLE_CASES], ids=[c[0] for c in PER_SAMPLE_CASES]
)
def test_bad_input_leaves_no_per_sample_file(cli, tmp_path: Path, monkeypatch, files, args, code) -> None:
    monkeypatch.chdir(tmp_path)
    inputs = _make_files(tmp_path, files)
    args = _with_output([*args, "--per-sample", "rows.csv"])
    # A loss with no per-row values whatever its binding (rmse): that usage error comes before the input is read.
    check_failure(cli(*args), tmp_path, args, inputs, 2 if _aggregates_only(args) else code, "")


def test_the_catalogue_is_long_enough() -> None:
    assert len(CASES) >= 70
    assert len({case[0] for case in CASES}) == len(CASES), "case ids must be unique"


def test_missing_drop_reports_the_dropped_rows(cli, write) -> None:
    path = write("p.csv", "pred,target\n1,\n2,3\n,4\n5,6\n")
    run = cli("eval", path, "-l", "mse", "--missing", "drop", "-f", "json")
    doc = json.loads(run.out)
    assert doc["input"] == {"path": str(path), "rows": 4, "rows_used": 2, "rows_dropped": 2}
    assert doc["results"][0]["value"] == pytest.approx(((2 - 3) ** 2 + (5 - 6) ** 2) / 2)
    assert doc["results"][0]["n"] == 2
    assert (
        "notice: dropped 2 of 4 rows with missing values (--missing drop): 1 in column 'target', 1 in column 'pred'\n"
        in run.err
    )


def test_missing_values_are_told_in_column_order_whatever_the_chunks(cli, write) -> None:
    # 'pred' is missing first (row 0), in the first chunk of one row: the columns are named in the binding's
    # order (target, then pred) all the same, as with one chunk.
    path = write("p.csv", "pred,target\n,1\n2,3\n3,\n5,6\n")
    for chunk_rows in ("1", "2", "100"):
        run = cli("eval", path, "-l", "mse", "--chunk-rows", chunk_rows)
        assert (run.code, run.out) == (3, "")
        assert run.err == (
            "error: column 'target' has 1 missing value (row 2; 0-based); column 'pred' has 1 missing value (row 0; "
            "0-based); use --missing drop to drop those rows\n"
        )
        run = cli("eval", path, "-l", "mse", "--missing", "drop", "--chunk-rows", chunk_rows, "-f", "json")
        assert run.code == 0
        assert (
            "notice: dropped 2 of 4 rows with missing values (--missing drop): 1 in column 'target', 1 in column "
            "'pred'\n" in run.err
        )


def test_missing_drop_drops_every_spelling_of_a_missing_value(cli, write) -> None:
    # Each column holds a text cell (None, n/a) that pyarrow does not read as null, so it is read as text.
    path = write("p.csv", "pred,target\n1,\nNone,3\nNA,4\n5,6\nnan,1\n2,n/a\n3,null\n7,8\n")
    run = cli("eval", path, "-l", "mse", "--missing", "drop", "-f", "json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["input"] == {"path": str(path), "rows": 8, "rows_used": 2, "rows_dropped": 6}
    assert doc["results"][0]["value"] == pytest.approx(1.0)


def test_missing_drop_leaves_out_the_weights_of_the_rows_it_drops(cli, write) -> None:
    # A negative weight counts only in a row that is evaluated, in every chunk.
    path = write("p.csv", "pred,target,w\n0.1,0,1\n,1,-1\n0.3,0,1\n0.5,1,-2\n0.5,,-3\n")
    for chunk_rows in ("1", "100"):
        run = cli("eval", path, "-l", "mse", "--weight", "w", "--missing", "drop", "--chunk-rows", chunk_rows)
        assert (run.code, run.out) == (3, "")
        assert run.err == "error: column 'w' has 1 negative weight (row 3; 0-based); sample weights must be >= 0\n"


def test_domain_error_rows_count_from_the_file_start(cli, write) -> None:
    rows = "".join(f"0.5,{i % 2}\n" for i in range(10)) + "1.5,1\n"
    path = write("p.csv", "prob,label\n" + rows)
    run = cli("eval", path, "-l", "bce", "--chunk-rows", "3")
    assert run.code == 3 and "(first: row 10)" in run.err


@pytest.mark.parametrize("extra", [[], ["--by", "g", "--bootstrap", "5"], ["--per-sample", "ps.csv"]])
def test_domain_errors_count_the_whole_input_whatever_the_chunks(cli, write, tmp_path, monkeypatch, extra) -> None:
    # The count was the first failing chunk's ("in 1 row" with --chunk-rows 1), and a missing or infinite value
    # in a later chunk was not told; both are now as with one chunk.
    monkeypatch.chdir(tmp_path)
    bad = write("p.csv", "p,y,g\n1.5,1,a\n0.5,0,b\n1.2,1,a\n0.3,1,b\n1.7,0,a\n")
    missing = write("m.csv", "p,y,g\n1.5,1,a\n0.5,0,b\n0.2,1,a\n,1,b\n0.7,0,a\n")
    for chunk_rows in ("1", "2", "100"):
        run = cli("eval", bad, "-l", "mae,bce", "--pred", "p", "--target", "y", "--chunk-rows", chunk_rows, *extra)
        assert (run.code, run.out) == (3, "")
        assert run.err == (
            "error: bce: column 'p' (pred): expected probabilities in [0, 1] (for logits, use bce_logits), got 1.5 "
            "in 3 rows (first: row 0)\n"
        )
        run = cli("eval", missing, "-l", "bce", "--pred", "p", "--target", "y", "--chunk-rows", chunk_rows, *extra)
        assert (run.code, run.out) == (3, "")
        assert run.err.startswith("error: column 'p' has 1 missing value (row 3; 0-based)")
        assert not Path("ps.csv").exists()


def test_a_domain_error_is_the_first_jobs_whatever_the_chunks(cli, write) -> None:
    # Model B's column fails in the first chunk, A's in a later one: one chunk tells A's (the first job), counted
    # over the whole input; with chunks of one row B's was told, and a later job's rows were not all counted.
    first_a = write("a.csv", "a,b,y\n0.5,1.5,1\n0.5,0.5,0\n1.2,0.5,1\n0.3,1.1,1\n1.7,0.2,0\n")
    only_b = write("b.csv", "a,b,y\n0.5,1.5,1\n0.5,0.5,0\n0.2,0.5,1\n0.3,1.1,1\n0.7,0.2,0\n")
    for chunk_rows in ("1", "2", "100"):
        args = ["--model", "A=a", "--model", "B=b", "--target", "y", "-l", "brier", "--chunk-rows", chunk_rows]
        run = cli("eval", first_a, *args)
        assert (run.code, run.err) == (
            3,
            "error: brier: column 'a' (pred): expected probabilities in [0, 1], got 1.2 in 2 rows (first: row 2)\n",
        )
        run = cli("eval", only_b, *args)
        assert (run.code, run.err) == (
            3,
            "error: brier: column 'b' (pred): expected probabilities in [0, 1], got 1.5 in 2 rows (first: row 0)\n",
        )


@pytest.mark.parametrize(
    ("data", "fault"),
    [
        (SHORT_GZIP, CUT_SHORT),
        (LONG_GZIP, CUT_SHORT),
        (bytes(CORRUPT_GZIP), "its compressed data is corrupt (zlib inflate failed: incorrect data check)"),
    ],
    ids=["cut in its first bytes", "cut past them", "corrupt"],
)
@pytest.mark.parametrize("how", ["redirect", "pipe"])
def test_a_compressed_input_at_fault_says_so_through_standard_input(
    tmp_path: Path, data: bytes, fault: str, how: str
) -> None:
    """'cannot read standard input: Truncated compressed stream' (or '... as CSV: ...', past the first bytes) before,
    where the file said 'cannot read 'c.csv.gz' as CSV: ...': now the same words as a file's, nothing written."""
    path = tmp_path / "c.csv.gz"
    path.write_bytes(data)
    command = [sys.executable, "-m", "lossctl", "eval", "-", "-l", "mse", "-o", str(tmp_path / "out.json")]
    root = Path(__file__).parents[1]
    if how == "redirect":
        with path.open("rb") as stdin:
            run = subprocess.run(command, stdin=stdin, capture_output=True, cwd=root)
    else:
        run = subprocess.run(command, input=data, capture_output=True, cwd=root)
    assert (run.returncode, run.stdout) == (3, b"")
    assert run.stderr.decode() == f"error: cannot read standard input: {fault}\n"
    assert not (tmp_path / "out.json").exists()


def test_gzip_csv_is_read(cli, tmp_path: Path) -> None:
    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress(GOOD.encode()))
    run = cli("eval", path, "-l", "mae", "-f", "json")
    assert run.code == 0 and json.loads(run.out)["results"][0]["value"] == pytest.approx(1 / 3)


def test_internal_errors_ask_for_a_report(cli, regression_csv: Path, monkeypatch) -> None:
    import lossctl.execution

    def broken(*args, **kwargs):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(lossctl.execution, "run", broken)
    run = cli("eval", regression_csv, "-l", "mse")
    assert run.code == 4
    assert run.err.startswith("error: internal error (ZeroDivisionError: oops); this is a bug in lossctl")


# --- inputs that must succeed --------------------------------------------------------------------------


def _value(run) -> float:
    assert run.code == 0, run.err
    return json.loads(run.out)["results"][0]["value"]


def test_bom_and_crlf_csv_is_read(cli, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"\xef\xbb\xbfpred,target\r\n1,2\r\n3,3\r\n")
    run = cli("eval", path, "-l", "mse", "-f", "json")
    assert _value(run) == 0.5
    assert json.loads(run.out)["columns"] == {"target": ["target"], "pred": ["pred"]}


def test_bom_and_crlf_gzip_tsv_is_read(cli, tmp_path: Path) -> None:
    path = tmp_path / "p.tsv.gz"
    path.write_bytes(gzip.compress(b"\xef\xbb\xbfpred\ttarget\r\n1\t2\r\n3\t3\r\n"))
    assert _value(cli("eval", path, "-l", "mse", "-f", "json")) == 0.5


def test_quoted_numbers_are_numbers(cli, write) -> None:
    path = write("p.csv", 'pred,target\n"1.5"," 2 "\n"3",3\n"-0.5","1e0"\n')
    assert _value(cli("eval", path, "-l", "mse", "-f", "json")) == pytest.approx((0.25 + 0 + 2.25) / 3, rel=1e-15)


def test_unicode_column_names(cli, write) -> None:
    path = write("p.csv", "ŷ,y₀,größe\n1,2,a\n3,3,b\n")
    run = cli("eval", path, "--pred", "ŷ", "--target", "y₀", "-l", "mse", "--by", "größe", "-f", "json")
    assert _value(run) == 0.5
    document = json.loads(run.out)
    assert document["columns"] == {"pred": ["ŷ"], "target": ["y₀"]}
    assert [r["group"] for r in document["results"]] == [None, {"größe": "a"}, {"größe": "b"}]


def test_quoted_column_names_with_commas_and_spaces(cli, write) -> None:
    path = write("p.csv", '"pred, v2","the target"\n1,2\n3,3\n')
    assert _value(cli("eval", path, "--pred", "pred*", "--target", "the target", "-l", "mse", "-f", "json")) == 0.5


def test_failed_check_still_writes_the_output(cli, tmp_path: Path, regression_csv: Path) -> None:
    """Exit 1 is not a failure of the run: the results and the per-sample file are written."""
    output, rows = tmp_path / "r.json", tmp_path / "rows.csv"
    run = cli("eval", regression_csv, "-l", "mse", "--fail-if", "mse>0.1", "-o", output, "--per-sample", rows)
    assert run.code == 1, run.err
    assert json.loads(output.read_text())["checks"][0]["passed"] is False
    assert next(csv.reader(rows.read_text().splitlines())) == ["row", "mse"]


# --- Bugs these tests found (fixed): each stays as a regression test --------------------------------------


def _dataset(root: Path) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "d").mkdir()
    parts = [root / "d" / "a.parquet", root / "d" / "b.parquet"]
    for part in parts:
        pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [1.0, 3.0]}), part)
    return parts


@pytest.mark.parametrize(
    ("source", "option", "destination"),
    [("d", "-o", "d/a.parquet"), ("d/*.parquet", "-o", "d/b.parquet"), ("d", "--per-sample", "d/b.parquet")],
)
def test_output_into_a_dataset_input_is_refused(cli, tmp_path, monkeypatch, source, option, destination) -> None:
    monkeypatch.chdir(tmp_path)
    parts = _dataset(tmp_path)
    before = [part.read_bytes() for part in parts]
    run = cli("eval", source, "-l", "mse", option, destination)
    assert [part.read_bytes() for part in parts] == before, "an input file was overwritten"
    assert run.code == 2 and "refusing to overwrite the input file" in run.err


def test_output_inside_a_folder_an_input_glob_matches_is_refused(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _dataset(tmp_path)
    run = cli("eval", "d*/", "-l", "mse", "--per-sample", "d/rows.parquet")
    check_failure(run, tmp_path, [], {}, 2, "")
    assert (
        "output 'd/rows.parquet' matches the input pattern 'd*/'" in run.err
        and not (tmp_path / "d/rows.parquet").exists()
    )


def test_output_and_per_sample_on_one_path_are_refused(cli, tmp_path: Path, regression_csv: Path) -> None:
    path = tmp_path / "r.csv"
    run = cli("eval", regression_csv, "-l", "mse", "-o", path, "--per-sample", path)
    assert run.code == 2 and run.err.startswith("error:") and not path.exists()


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_bootstrap_without_a_usable_replicate(cli, write, command: str) -> None:
    """Two rows and two replicates that both draw each 0 times (seed 154): every replicate value is 0/0."""
    path = write("p.csv", "pred,target\n1,2\n2,4\n")
    files = [path] if command == "eval" else [path, write("c.csv", "pred,target\n1.5,2\n2,4\n")]
    run = cli(command, *files, "-l", "mse", "--bootstrap", "2", "--seed", "154", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["ci"] is None
    label = "mse" if command == "eval" else "mse delta"
    assert (
        f"notice: {label}: no confidence interval for the overall value: no bootstrap replicate has a value "
        "(each drew too few of its rows)" in run.err
    )


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        ("pred,target\n1e308,0\n1e308,0\n", [], "mae: the sum of its rows overflows float64; rescale the inputs"),
        ("pred,target,w\n0,1e227,1e82\n", ["--weight", "w"], "mae: the sum of its rows overflows float64"),
        (
            "pred,target,g,w\n1,2,a,0\n1,3,b,1\n",
            ["--weight", "w", "--by", "g"],
            "mae in group g=a: the sample weights sum to zero",
        ),
    ],
    ids=["sum", "weighted", "zero-weight group"],
)
def test_an_overflowing_sum_prints_one_error_line(cli, write, text: str, args: list[str], expected: str) -> None:
    run = cli("eval", write("p.csv", text), "-l", "mae", "-q", "-f", "json", *args)
    assert run.code == 3
    assert run.err.startswith(f"error: {expected}") and len(run.err.strip().splitlines()) == 1, run.err


def test_an_overflow_caused_by_a_parameter_names_the_parameter(cli, write) -> None:
    # contrastive:margin=1e300 and hinge:margin=1e308 said "rescale the inputs", which cannot help: the parameter's
    # magnitude is beyond what float64 arithmetic holds (its square, or its sum over the rows).
    pairs = write("c.csv", "a0,a1,o0,o1,y\n0,0,1,1,0\n0,0,0.5,0.5,1\n")
    roles = ["--col", "anchor=a*", "--col", "other=o*", "--col", "target=y"]
    run = cli("eval", pairs, *roles, "-l", "contrastive:margin=1e300")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: contrastive:margin=1e+300: the loss overflows float64 at row 0 (1 value); margin=1e+300 is too "
        "large for float64 arithmetic: use a smaller margin\n"
    )
    scores = write("s.csv", "pred,target\n0,1\n0,0\n")
    run = cli("eval", scores, "-l", "hinge:margin=1e308")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: hinge:margin=1e+308: the sum of its rows overflows float64; margin=1e+308 is too large for float64 "
        "arithmetic: use a smaller margin\n"
    )
    with pytest.raises(  # the command line's message (was "the result is not a finite number (a float64 overflow)")
        lossctl.InputError,
        match=r"^hinge: the sum of its rows overflows float64; margin=1e\+308 is too large .*margin$",
    ):
        lossctl.get("hinge")([1.0, 0.0], [0.0, 0.0], margin=1e308)
    # an overflow of the inputs' making, beside a parameter of ordinary size, still says to rescale them
    run = cli("eval", write("p.csv", "pred,target\n1e308,0\n"), "-l", "huber:delta=2", "-q")
    assert run.err == "error: huber:delta=2: the loss overflows float64 at row 0 (1 value); rescale the inputs\n"


def test_a_batch_of_more_rows_than_memory_holds_is_an_input_error(cli, write, monkeypatch) -> None:
    # -l clip:batch_size=9007199254740992 (or batch sizes whose least common multiple is huge) read the whole
    # input as one chunk, without a bound: on a large input, a MemoryError or the OOM killer. With 200 kB of memory
    # available (a chunk may hold 25 kB of rows), 3,000 rows of 8 doubles are more than a batch may hold.
    rows = np.random.default_rng(0).normal(size=(3000, 8))
    text = "q0,q1,q2,q3,k0,k1,k2,k3\n" + "".join(",".join(map(str, row)) + "\n" for row in rows)
    path = write("e.csv", text)
    roles = ["--col", "anchor=q*", "--col", "positive=k*", "--chunk-rows", "100", "-q"]
    fine = cli("eval", path, *roles, "-l", "clip:batch_size=9007199254740992,nt_xent:batch_size=63")
    assert fine.code == 0, fine.err
    monkeypatch.setattr("lossctl.memory.available_bytes", lambda: 200_000)
    run = cli("eval", path, *roles, "-l", "clip:batch_size=9007199254740992")
    assert (run.code, run.out) == (3, "")
    assert re.fullmatch(
        r"error: clip:batch_size=9007199254740992: a batch's rows are held at once, and the [\d,]+ rows read so "
        r"far are more than the 0\.0 GB of memory available holds; use a smaller batch_size\n",
        run.err,
    ), run.err
    run = cli("eval", path, *roles, "-l", "clip:batch_size=64,nt_xent:batch_size=63")
    assert (run.code, run.out) == (3, "")
    assert re.fullmatch(
        r"error: clip:batch_size=64, nt_xent:batch_size=63: read together, their batches need chunks of 4,032 "
        r"rows \(the least common multiple of their sizes\), and the [\d,]+ rows read so far are more than the 0\.0 "
        r"GB of memory available holds; evaluate them in separate runs, or choose sizes that divide one another\n",
        run.err,
    ), run.err
    # chunks of --chunk-rows (batches that fit in them) are not bounded by a batch
    assert cli("eval", path, *roles, "-l", "clip:batch_size=50,nt_xent:batch_size=25").code == 0


@pytest.mark.parametrize("text", ["pred,target\n0,1e227\n", "pred,target\n0,1e300\n0,1e300\n"])
def test_table_of_equal_huge_losses(cli, write, text: str) -> None:
    run = cli("eval", write("p.csv", text), "-l", "mae", "-q")
    assert run.code == 0, run.err


def test_per_sample_file_absent_when_the_result_overflows(cli, tmp_path: Path, write) -> None:
    rows = tmp_path / "rows.csv"
    run = cli("eval", write("p.csv", "pred,target\n1e308,0\n1e308,0\n"), "-l", "mae", "--per-sample", rows)
    assert run.code == 3 and "overflows float64" in run.err
    assert not rows.exists()


@pytest.mark.parametrize(
    ("name", "text", "pred"),
    [
        ("p.csv", "e_0,e_1,label\n0.2,0.9,1\n0.5,0.1,0\n", "e_*"),
        ("p.jsonl", '{"e": [0.2, 0.9], "label": 1}\n{"e": [0.5, 0.1], "label": 0}\n', "e"),
    ],
    ids=["two columns", "list column"],
)
def test_vector_bound_to_a_scalar_role(cli, write, name: str, text: str, pred: str) -> None:
    """bce reads one probability per row, or K per row against K multi-label targets: never the first of two."""
    run = cli("eval", write(name, text), "-l", "bce", "--pred", pred, "--target", "label", "-f", "json")
    assert run.code == 3, f"exit {run.code}: {run.out[:300]}"
    assert run.err == (
        "error: bce: 'target' has one value per row but 'pred' has 2 values: multi-label losses take one 0/1 target "
        "column per prediction column; to score each prediction column as a model, use --model NAME=COLUMN\n"
    )


@pytest.mark.parametrize("rows", [2, 3])
def test_scalar_target_with_a_vector_pred(rows: int) -> None:
    """Either an input error or the row-wise answer (each row's target against each of its values)."""
    import numpy as np

    import lossctl.errors

    target = np.array([1.0, 0.0, 2.0][:rows])
    pred = np.array([[0.2, 0.9], [0.5, 0.1], [1.0, 1.0]][:rows])
    try:
        value = lossctl.get("mse")(target, pred)
    except lossctl.errors.InputError:
        return
    assert value == pytest.approx(np.mean((pred - target[:, None]) ** 2), rel=1e-12)


def test_json_array_cells_in_csv_are_vectors(cli, write) -> None:
    rows = [([0.1, 0.9], [0, 1]), ([0.5, 0.5], [0, 1])]
    csv_path = write("p.csv", "pred,target\n" + "".join(f'"{json.dumps(p)}","{json.dumps(t)}"\n' for p, t in rows))
    jsonl_path = write("p.jsonl", "".join(json.dumps({"pred": p, "target": t}) + "\n" for p, t in rows))
    expected = _value(cli("eval", jsonl_path, "-l", "dice", "-f", "json"))
    assert _value(cli("eval", csv_path, "-l", "dice", "-f", "json")) == expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ('"[1,2"', "column 'pred' has an invalid JSON array at row 1: '[1,2'"),
        ('"[1,2]"', "column 'pred' holds vectors of different lengths: row 0 has 3 values but row 1 has 2"),
        ('"[1,""x"",3]"', "column 'pred' has a value that is not a number in the JSON array at row 1"),
    ],
)
def test_json_array_cells_in_csv_errors(cli, write, cell: str, message: str) -> None:
    path = write("p.csv", f'pred,label\n"[1,2,3]",0\n{cell},1\n')
    run = cli("eval", path, "-l", "cross_entropy", "--pred", "pred", "--target", "label")
    assert run.code == 3 and message in run.err, run.err


def test_missing_values_in_several_columns_name_each_column(cli, write) -> None:
    # A vector role's columns were named as one column of their joined label: "column 'l_0,l_1,l_2' has 2 missing
    # values", and the --missing drop notice "2 in column 'l_0,l_1,l_2'"; no column has that name.
    path = write("p.csv", "y,l_0,l_1,l_2,w\n0,0.1,0.2,,1\n1,0.1,,0.3,\n0,0.1,0.2,0.3,1\n")
    run = cli("eval", path, "-l", "cross_entropy", "--pred", "l_*", "--target", "y", "--weight", "w")
    assert (run.code, run.err.strip()) == (
        3,
        "error: columns 'l_0', 'l_1', 'l_2' have missing values in 2 rows (rows 0, 1; 0-based); column 'w' has 1 "
        "missing value (row 1; 0-based); use --missing drop to drop those rows",
    )
    run = cli("eval", path, "-l", "cross_entropy", "--pred", "l_*", "--target", "y", "--missing", "drop", "-f", "csv")
    assert run.code == 0
    assert "dropped 2 of 3 rows with missing values (--missing drop): 2 in columns 'l_0', 'l_1', 'l_2'" in run.err


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_list_column_among_several_columns_is_named_the_same_in_csv(cli, write, tmp_path, suffix: str) -> None:
    # In CSV, a JSON-array column that a glob took beside numeric columns was "column 'lgL' is not numeric:
    # '[0.1, 0.9]' at row 0", where the Parquet list column says what is wrong.
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = write("p.csv", 'y,lg_0,lg_1,lgL\n0,0.1,0.9,"[0.1, 0.9]"\n1,0.2,0.8,"[0.2, 0.8]"\n')
    if suffix == ".parquet":
        table = pa.table({"y": [0, 1], "lg_0": [0.1, 0.2], "lg_1": [0.9, 0.8], "lgL": [[0.1, 0.9], [0.2, 0.8]]})
        pq.write_table(table, path := tmp_path / "p.parquet")
    run = cli("eval", path, "-l", "cross_entropy", "--pred", "lg*", "--target", "y")
    assert (run.code, run.err.strip()) == (
        3,
        "error: column 'lgL' is a list column; a vector is either one list column or several numeric columns",
    )


def test_json_array_cells_split_across_cells_are_refused(cli, write) -> None:
    # The cells were joined and parsed as one document: '[0.1' and '0.2],[0.3, 0.35]' made two well-formed arrays,
    # so rows 0 and 1 were scored with [0.1, 0.2] and [0.3, 0.35] (exit 0) and a malformed file went unnoticed.
    path = write("p.csv", 'pred,target\n"[0.1",0\n"0.2],[0.3, 0.35]",1\n"[0.4, 0.45]",0\n')
    run = cli("eval", path, "-l", "cross_entropy", "--pred", "pred", "--target", "target")
    assert run.code == 3, run.out
    assert run.err.strip() == "error: column 'pred' has an invalid JSON array at row 0: '[0.1'"


def test_json_array_cells_are_parsed_in_one_document(monkeypatch) -> None:
    """Well-formed cells (blank ones among them) take the fast path, not the cell-by-cell one."""
    import numpy as np
    import pyarrow as pa

    from lossctl.io import convert

    def refused(text: str, column: str, row: int) -> list[float]:
        raise AssertionError(f"cell {row} parsed on its own")

    monkeypatch.setattr(convert, "_json_row", refused)
    column = pa.chunked_array([pa.array(["[1, 2]", None, " [3,4] "]), pa.array(["", "[5, 6]"])])
    matrix, missing = convert.to_float64_matrix(column, ["pred"])
    assert np.array_equal(matrix, [[1, 2], [np.nan, np.nan], [3, 4], [np.nan, np.nan], [5, 6]], equal_nan=True)
    assert missing is not None and missing.tolist() == [False, True, False, True, False]


@pytest.mark.parametrize("chunk", ["1", "2", "100"])
@pytest.mark.parametrize("width", [1, 3])
def test_json_array_cells_in_csv_stay_arrays_in_every_chunk(cli, write, chunk: str, width: int) -> None:
    # A chunk whose first cell was a plain number was read as numbers: with --chunk-rows 2, rows 2 and 3 ('0.5',
    # '0.3') joined the 3-wide vectors of rows 0 and 1 (mse 0.758, exit 0), while one chunk said row 2 is no array.
    vector = json.dumps([0.1, 0.2, 0.7][:width])
    path = write("p.csv", f'pred,target\n"{vector}",0\n"{vector}",1\n0.5,0\n0.3,1\n')
    run = cli("eval", path, "-l", "mse", "--pred", "pred", "--target", "target", "--chunk-rows", chunk)
    assert run.code == 3, run.out
    assert run.err.strip() == "error: column 'pred' has an invalid JSON array at row 2: '0.5'"


def _text_not_utf8(values: list[bytes]) -> object:
    """A pyarrow string array holding the bytes as they are (pyarrow builds one without checking them)."""
    import pyarrow as pa

    raw = pa.array(values, pa.binary())
    return pa.Array.from_buffers(pa.string(), len(raw), raw.buffers())


@pytest.mark.parametrize(
    ("name", "args", "column", "row"),
    [
        ("p.parquet", ["-l", "mae", "--by", "city"], "city", 3),
        ("p.feather", ["-l", "mae", "--by", "city"], "city", 3),
        ("p.parquet", ["-l", "bce", "--target", "label", "--positive", "yes"], "label", 2),
    ],
)
def test_parquet_and_arrow_text_that_is_not_utf8(cli, tmp_path: Path, monkeypatch, name, args, column, row) -> None:
    """Parquet and Arrow declare text UTF-8, unchecked by pyarrow: a Latin-1 'caf\xe9' in a --by key, a label or
    a join key was an internal error (exit 4, UnicodeDecodeError) where the engine decoded it."""
    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    monkeypatch.chdir(tmp_path)
    batches = [
        {"pred": [0.2, 0.7], "target": [0.0, 1.0], "city": _text_not_utf8([b"a", b"b"]), "label": ["no", "yes"]},
        {
            "pred": [0.4, 0.9],
            "target": [1.0, 1.0],
            "city": _text_not_utf8([b"a", b"caf\xe9"]),
            "label": _text_not_utf8([b"caf\xe9", b"yes"]),
        },
    ]
    tables = [pa.table(batch) for batch in batches]
    if name.endswith(".parquet"):
        with pq.ParquetWriter(name, tables[0].schema) as writer:  # two row groups: rows are counted across them
            for table in tables:
                writer.write_table(table)
    else:
        feather.write_feather(pa.concat_tables(tables), name)
    inputs = {tmp_path / name: (tmp_path / name).read_bytes()}
    full = ["eval", name, *args, "-o", "out.json"]
    message = (
        f"column '{column}' of {name} holds text that is not UTF-8 (row {row}; 0-based); write it as UTF-8 text, or "
        "as binary"
    )
    check_failure(cli(*full), tmp_path, full, inputs, 3, message)


PLUGIN = """
import numpy as np
from lossctl import register_loss

@register_loss("{name}", task="regression", summary="s", formula="f", follows="-", properties=None, when="w")
def _loss(target, pred):
    return np.abs(target - pred)
"""


def test_two_plugin_files_with_the_same_name(tmp_path: Path, regression_csv: Path) -> None:
    # In a subprocess, as test_plugins.py does: a loaded plugin stays in the process's registry.
    for folder, name in (("one", "plugin_loss_one"), ("two", "plugin_loss_two")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same_stem_losses.py").write_text(PLUGIN.format(name=name))
    plugins = [arg for folder in ("one", "two") for arg in ("--plugin", str(tmp_path / folder / "same_stem_losses.py"))]
    command = [sys.executable, "-m", "lossctl", "eval", str(regression_csv), "-l", "plugin_loss_one,plugin_loss_two"]
    run = subprocess.run([*command, *plugins], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert run.returncode == 0, run.stderr


def test_a_failed_plugin_fails_again(cli, write, regression_csv: Path) -> None:
    plugin = write("fails_twice_plugin.py", "raise RuntimeError('boom')\n")
    first = cli("eval", regression_csv, "-l", "mse", "--plugin", plugin)
    second = cli("eval", regression_csv, "-l", "mse", "--plugin", plugin)
    assert first.code == 2 and second.code == 2, second.err


def test_output_under_a_regular_file_says_so(cli, regression_csv: Path) -> None:
    run = cli("eval", regression_csv, "-l", "mse", "-o", f"{regression_csv}/out.json")
    assert run.code == 3 and f"'{regression_csv}' is not a directory" in run.err, run.err


@pytest.mark.parametrize(
    "args",
    [
        ["-l", "mse"],  # the file's column names: "no column for role 'target': none of the columns (a<LF>b, ...)"
        ["-l", "mse", "--param", "0\n0=0"],
        ["-l", "ms\ne"],
        ["-l", "mse", "--fail-if", "ms\ne>1"],
    ],
    ids=["column names", "--param", "--loss", "--fail-if"],
)
def test_control_characters_stay_on_one_line(cli, write, args: list[str]) -> None:
    run = cli("eval", write("p.jsonl", '{"a\\nb": 1, "c\\u001b[31m": 2}\n'), *args)
    assert run.code == 2 and len(run.err.strip().split("\n")) == 1 and "\x1b" not in run.err, run.err


WIDE = (
    "c0,c1,c2,c3,c4,c5,c6,y\n0.1,0.2,0.3,0.4,0.5,0.6,0.7,1\n0.3,0.1,0.2,0.9,0.5,0.1,0.2,0\n"
    "0.2,0.2,0.2,0.2,0.2,0.2,0.2,1\n"
)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["-l", "mae", "--target", "c0,c1", "--pred", "c2,c3,c4"], 3),
        (["-l", "mse", "--target", "y", "--pred", "c0,c1"], 0),  # 3 rows, 2 values per row: rows != K
        (["-l", "gaussian_nll", "--target", "c0,c1", "--pred", "c2,c3", "--col", "var=c4,c5,c6"], 3),
        (["-l", "triplet", "--col", "anchor=c0,c1,c2", "--col", "positive=c3", "--col", "negative=c4,c5,c6"], 3),
        (["-l", "triplet", "--col", "anchor=c0", "--col", "positive=c1", "--col", "negative=c2"], 0),
        (["-l", "info_nce", "--col", "query=c0", "--col", "positive=c1"], 0),
    ],
    ids=["regression widths", "scalar target, vector pred", "variance width", "embedding widths", "1-D triplet",
         "1-D info_nce"],
)  # fmt: skip
def test_shapes_of_bound_columns(cli, write, args: list[str], code: int) -> None:
    run = cli("eval", write("p.csv", WIDE), *args, "-f", "json")
    assert run.code == code and "internal error" not in run.err, run.err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-l", "nll"], "nll: columns 'x_0', 'x_1', 'x_2', 'x_3', 'x_4', 'x_5', 'x_6', 'x_7', 'x_8', 'x_9', 'x_10', "),
        (["-l", "ranknet", "--col", "qid=qid"], "--pred x_* names 1000 columns (x_0, x_1, x_2, x_3, x_4, x_5, x_6, "),
    ],
)
def test_a_message_about_1000_columns_lists_20_of_them(cli, write, args: list[str], expected: str) -> None:
    """A message naming a role's columns named every one: 1,000 logit columns made a 15 kB error line."""
    header = ",".join(f"x_{k}" for k in range(1000))
    path = write("p.csv", f"{header},target,qid\n" + ",".join(["0.5"] * 1000) + ",1,0\n")
    run = cli("eval", path, *args, "--pred", "x_*", "--target", "target")
    assert run.code in (2, 3)
    assert run.err.startswith("error: " + expected)
    assert "x_19', ... (1000 columns)" in run.err or "x_19, ... (1000 columns)" in run.err
    assert "x_20" not in run.err and len(run.err) < 600
    assert run.err.count("\n") == 1


@pytest.mark.parametrize("loss", ["mse", "bce_logits", "cross_entropy", "asymmetric", "dice"])
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("p.csv", "pred,target\n,[]\n[],[]\n"),
        ("p.jsonl", '{"pred": null, "target": []}\n{"pred": [], "target": []}\n'),
    ],
)
def test_empty_vectors_are_an_input_error(cli, write, loss: str, name: str, text: str) -> None:
    """Vectors of no values ([] in every row) were scored: mse said "the loss overflows float64 ... rescale the
    inputs" after a "Mean of empty slice" warning, cross_entropy and bce_logits ended in an internal error (exit 4,
    "zero-size array to reduction operation minimum"), and asymmetric and dice reported 0."""
    run = cli("eval", write(name, text), "-l", loss, "--pred", "pred", "--target", "target")
    expected = "error: column 'target' holds empty vectors (row 0 has no values); a vector needs at least one value\n"
    assert (run.code, run.out, run.err) == (3, "", expected)


LONG = "c" * 100_000
SHORT_LONG = "c" * 40 + "...[99940 more characters]..." + "c" * 20  # LONG as messages quote it


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--pred", LONG + "x"], f"column '{'c' * 40}...[99941 more characters]...{'c' * 19}x' not found in "),
        (["--pred", LONG], f"column '{SHORT_LONG}' is not numeric: 'a' at row 0\n"),
        (["--pred", "pred", "--weight", LONG], f"column '{SHORT_LONG}' is not numeric: 'a' at row 0\n"),
        (["--pred", "pred", "--by", LONG + "x"], f"column '{'c' * 40}...[99941 more characters]...{'c' * 19}x' not"),
        (["--pred", "pred", "--by", LONG, "--by", LONG], f"--by names the column '{SHORT_LONG}' twice; give each "),
    ],
)
def test_a_100000_character_name_is_shortened_in_messages(
    cli, tmp_path: Path, suffix: str, args: list[str], expected: str
) -> None:
    """A message quoting a very long column name printed it whole, three times for a missing one ('not found',
    'columns are', 'did you mean'): a 300 kB error line. Now each quote is cut around the number left out, the
    same way in every message."""
    import pyarrow as pa
    import pyarrow.csv
    import pyarrow.parquet as pq

    table = pa.table({"pred": [0.5, 1.5], "target": [1.0, 2.0], LONG: ["a", "b"]})
    path = tmp_path / f"p{suffix}"
    if suffix == ".csv":
        pyarrow.csv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    run = cli("eval", path, "-l", "mse", "--target", "target", *args)
    assert run.code in (2, 3) and run.out == ""
    assert run.err.startswith("error: " + expected)
    assert run.err.count("\n") == 1 and len(run.err) < 600
    if "not found" in expected:
        assert f"columns are: pred, target, {SHORT_LONG}; did you mean '{SHORT_LONG}'?" in run.err


def test_a_long_value_a_long_loss_name_and_a_long_path_are_shortened(cli, write) -> None:
    """A 50,000-character cell was cut to its first 37 characters by the text reader's own rule, and a long loss
    name or path was printed whole; all three follow the one rule of the names."""
    path = write("p.csv", "pred,target\n0.5,1\n" + "9" * 50_000 + "x,2\n")
    run = cli("eval", path, "-l", "mse")
    assert (run.code, run.out) == (3, "")
    assert run.err.endswith(
        f"error: column 'pred' is not numeric: '{'9' * 40}...[49941 more characters]...{'9' * 19}x' at row 1\n"
    )
    run = cli("eval", path, "-l", LONG)
    assert (run.code, run.err) == (2, f"error: unknown loss '{SHORT_LONG}' (run 'lossctl list' to see every loss)\n")
    run = cli("eval", path.parent / LONG[:4000], "-l", "mse")
    assert run.code == 3 and run.err.count("\n") == 1 and len(run.err) < 300
    long_path = f"{path.parent}/{LONG[:4000]}"
    shown = f"{long_path[:40]}...[{len(long_path) - 60} more characters]...{'c' * 20}"
    assert run.err == f"error: cannot read '{shown}': File name too long\n"


def test_a_deep_path_of_a_few_hundred_characters_is_quoted_whole(cli, tmp_path: Path) -> None:
    """Names were cut beyond 100 characters, and so were real paths: 'file '/tmp/...[212 more characters]...x.csv'
    not found' hid the folder the user needed to see. Only what no real name reaches (over 1,000) is cut."""
    deep = tmp_path.joinpath(*["folder_of_predictions"] * 12, "preds.csv")
    run = cli("eval", deep, "-l", "mse")
    assert (run.code, run.err) == (3, f"error: file '{deep}' not found\n")


def test_a_missing_column_names_the_one_that_differs_in_spaces_or_unicode_form(cli, write) -> None:
    """A header in NFD ('pre' and a combining accent, as a macOS name is) against 'pré' typed in NFC was "column 'pré'
    not found ...; columns are: target, pré", two names that look alike and no hint; '--by g' beside a column ' g '
    had no hint either. The message now names the column, and the code points that tell them apart."""
    path = write("p.csv", "target,pre\u0301, g \n1,1,a\n2,2,b\n")
    run = cli("eval", path, "--pred", "pr\u00e9", "-l", "mse")
    assert (run.code, run.out) == (3, "")
    assert run.err.endswith("; did you mean 'pre\u0301', the same text in other Unicode code points, 'pre\\u0301'?\n")
    assert run.err.count("\n") == 1
    grouped = cli("eval", path, "--pred", "pre\u0301", "--by", "g", "-l", "mse")
    assert grouped.code == 3 and grouped.err.endswith("; did you mean ' g '?\n")
