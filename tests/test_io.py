"""Tests of the input layer: readers by format, column specs, conversion to NumPy and the targets join."""

from __future__ import annotations

import bz2
import decimal
import gzip
import io
import json
import math
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from lossctl.errors import InputError, UsageError
from lossctl.io import (
    DEFAULT_NAMES,
    attach_targets,
    guess_column,
    open_input,
    readers,
    resolve_colspec,
    streams,
    to_float64,
    to_float64_matrix,
)

SIMPLE = {"id": [1, 2, 3], "pred": [0.5, 1.5, 2.5], "target": [1.0, 2.0, 3.0]}
SIMPLE_CSV = b"id,pred,target\n1,0.5,1.0\n2,1.5,2.0\n3,2.5,3.0\n"


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def write_parquet(path: Path, columns: dict[str, list[object]], **options: object) -> str:
    pq.write_table(pa.table(columns), path, **options)
    return str(path)


def message(error: pytest.ExceptionInfo[BaseException]) -> str:
    return str(error.value)


# --- readers: formats -------------------------------------------------------------------------------


def test_csv_columns_come_from_the_header_and_read_returns_only_the_asked_columns(tmp_path: Path) -> None:
    source = open_input(write(tmp_path / "preds.csv", SIMPLE_CSV))
    assert (source.format, source.columns, source.num_rows) == ("csv", ["id", "pred", "target"], None)
    table = source.read(["target", "pred"])
    assert table.column_names == ["target", "pred"]
    assert table.to_pydict() == {"target": SIMPLE["target"], "pred": SIMPLE["pred"]}


def test_read_asks_each_column_once(tmp_path: Path) -> None:
    source = open_input(write(tmp_path / "preds.csv", SIMPLE_CSV))
    assert source.read(["pred", "pred", "id"]).column_names == ["pred", "id"]


def test_tsv(tmp_path: Path) -> None:
    source = open_input(write(tmp_path / "preds.tsv", b"id\tpred\n1\t0.5\n2\t1.5\n"))
    assert source.format == "tsv"
    assert source.read(["pred"]).column("pred").to_pylist() == [0.5, 1.5]


def zstd_compress(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


def pzstd_compress(data: bytes) -> bytes:
    """As pzstd (and the seekable zstd format) write it: a skippable frame, magic 0x184D2A50, before the data."""
    return b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + (68).to_bytes(4, "little") + zstd_compress(data)


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("preds.csv.gz", gzip.compress),
        ("preds.CSV.GZ", gzip.compress),
        ("preds.csv.bz2", bz2.compress),
        ("preds.csv.zst", zstd_compress),
        ("preds.csv.zst", pzstd_compress),
    ],
)
def test_compressed_csv(tmp_path: Path, name: str, compress: Callable[[bytes], bytes]) -> None:
    source = open_input(write(tmp_path / name, compress(SIMPLE_CSV)))
    assert source.format == "csv"
    assert source.columns == ["id", "pred", "target"]
    assert source.read(["pred"]).column("pred").to_pylist() == SIMPLE["pred"]


@pytest.mark.parametrize(
    ("name", "compress"),
    [("preds.parquet.gz", gzip.compress), ("preds.arrow.bz2", bz2.compress), ("preds.feather.zst", zstd_compress)],
)
def test_compressed_parquet_and_arrow_files_are_read_as_their_streams(
    tmp_path: Path, name: str, compress: Callable[[bytes], bytes]
) -> None:
    """As ``zcat preds.parquet.gz | lossctl eval -`` reads them: the name gives the format and the compression."""
    raw = tmp_path / "raw"
    if ".parquet" in name:
        write_parquet(raw, SIMPLE)
    else:
        feather.write_feather(pa.table(SIMPLE), raw)
    source = open_input(write(tmp_path / name, compress(raw.read_bytes())))
    assert source.columns == ["id", "pred", "target"]
    assert source.read(["pred"]).column("pred").to_pylist() == SIMPLE["pred"]
    with pytest.raises(InputError) as error:
        open_input(write(tmp_path / "text.parquet.gz", gzip.compress(SIMPLE_CSV))).read(["pred"])
    assert message(error).startswith(f"cannot read '{tmp_path / 'text.parquet.gz'}' as Parquet: ")


def test_a_compressed_file_named_as_plain_text_is_refused_whatever_its_name_is_made_of(tmp_path: Path) -> None:
    """gzip bytes in a file named .csv are refused (its name says plain CSV, docs/cli.md); one whose name is not
    UTF-8 (read as a stream: pyarrow opens files by UTF-8 names only) was decompressed and read."""
    for name in ("g.csv", os.fsdecode(b"\xff.csv")):
        with pytest.raises(InputError) as error:
            open_input(write(tmp_path / name, gzip.compress(SIMPLE_CSV))).read(["pred"])
        assert message(error).endswith(" as CSV: it is gzip-compressed; end its name with .gz")
    source = open_input(write(tmp_path / os.fsdecode(b"\xfe.csv.gz"), gzip.compress(SIMPLE_CSV)))
    assert source.read(["pred"]).column("pred").to_pylist() == SIMPLE["pred"]


def test_extension_is_case_insensitive(tmp_path: Path) -> None:
    assert open_input(write(tmp_path / "PREDS.CSV", SIMPLE_CSV)).format == "csv"
    assert open_input(write_parquet(tmp_path / "x.PQ", SIMPLE)).format == "parquet"


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", b"\xef\xbb\xbfpred,target\r\n0.5,1\r\n1.5,0\r\n")
    source = open_input(path)
    assert source.columns == ["pred", "target"]
    table = source.read(["pred", "target"])
    assert table.column("pred").to_pylist() == [0.5, 1.5]
    assert table.column("target").to_pylist() == [1, 0]


def test_quoted_numbers_are_numeric_and_empty_cells_are_null(tmp_path: Path) -> None:
    path = write(tmp_path / "q.csv", b'pred,group\n"1.5",a\n,\n"2",NA\n')
    table = open_input(path).read(["pred", "group"])
    assert pa.types.is_floating(table.column("pred").type)
    assert table.column("pred").to_pylist() == [1.5, None, 2.0]
    # An empty text cell is missing too, but "NA" in a text column is a value (a group called NA).
    assert table.column("group").to_pylist() == ["a", None, "NA"]


def test_na_is_a_key_in_text_and_missing_in_numbers(cli, tmp_path: Path) -> None:
    """A query id column of NA only (or NA only within one chunk) was nulls to pyarrow, "missing values", while NA
    beside other text was a query called NA: it is a key either way, and missing in a column of numbers or booleans,
    and where a role reads numbers."""
    alone = write(tmp_path / "alone.csv", b"q,relevance,score\nNA,1,.5\nNA,0,.2\nN/A,1,.7\nN/A,0,.1\n")
    beside = write(tmp_path / "beside.csv", b"q,relevance,score\nNA,1,.5\nNA,0,.2\nx,1,.7\nx,0,.1\n")
    values: list[float] = []
    for path in (alone, beside):
        for chunk in ("2", "1000"):  # the first chunk holds NA only, then NA beside x
            run = cli("eval", path, "--pred", "score", "--target", "relevance", "--col", "qid=q", "-l", "ranknet",
                      "--chunk-rows", chunk, "-f", "csv", "-q")  # fmt: skip
            assert (run.code, run.err) == (0, ""), (path, chunk)
            values.append(float(run.out.splitlines()[1].split(",")[3]))
    assert values == pytest.approx([values[0]] * 4, rel=1e-12)  # two queries of two documents in both files
    numbers = write(tmp_path / "n.csv", b"pred,target\n1,NA\n2,3\nN/A,1\n")
    run = cli("eval", numbers, "-l", "mse")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: column 'target' has 1 missing value (row 0; 0-based); column 'pred' has 1 missing value (row 2; "
        "0-based); use --missing drop to drop those rows\n"
    )
    alone = write(tmp_path / "a.csv", b"pred,target\n1,NA\n2,NA\n")
    run = cli("eval", alone, "-l", "mse")
    assert (run.code, run.err) == (3, "error: column 'target' has 2 missing values (rows 0, 1; 0-based); use "
                                      "--missing drop to drop those rows\n")  # fmt: skip
    flags = write(tmp_path / "b.csv", b"pred,target\n0.2,true\n0.7,false\n0.5,NA\n")  # booleans: NA is missing
    run = cli("eval", flags, "-l", "bce", "--missing", "drop", "-f", "csv", "-q")
    assert (run.code, run.err) == (0, "")
    assert run.out.splitlines()[1].split(",")[3:5] == ["1.4067053583800182", "2"]


def test_csv_with_header_only_has_no_rows(tmp_path: Path) -> None:
    source = open_input(write(tmp_path / "h.csv", b"pred,target\n"))
    assert source.read(["pred"]).num_rows == 0
    assert list(source.batches(["pred"], 10)) == []


def test_jsonl_keys_are_gathered_beyond_the_first_line(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", b'{"pred": 1, "target": 0}\n\n{"pred": 0.5, "target": 1, "w": 2}\n')
    source = open_input(path)
    assert (source.format, source.columns) == ("jsonl", ["pred", "target", "w"])
    table = source.read(["w", "pred"])
    assert table.to_pydict() == {"w": [None, 2], "pred": [1.0, 0.5]}


def test_ndjson_gz_with_list_values(tmp_path: Path) -> None:
    path = write(tmp_path / "p.ndjson.gz", gzip.compress(b'{"emb": [1, 2]}\n{"emb": [3, 4.5]}\n'))
    table = open_input(path).read(["emb"])
    assert pa.types.is_list(table.column("emb").type)
    matrix, missing = to_float64_matrix(table.column("emb"), ["emb"])
    assert matrix.tolist() == [[1.0, 2.0], [3.0, 4.5]]
    assert missing is None


def test_parquet_metadata_and_only_needed_columns(tmp_path: Path) -> None:
    source = open_input(write_parquet(tmp_path / "p.parquet", SIMPLE))
    assert (source.format, source.columns, source.num_rows) == ("parquet", ["id", "pred", "target"], 3)
    table = source.read(["target", "id"])
    assert table.column_names == ["target", "id"]
    assert table.column("id").to_pylist() == [1, 2, 3]


def test_parquet_batches_follow_file_order_across_row_groups(tmp_path: Path) -> None:
    values = list(range(25))
    source = open_input(write_parquet(tmp_path / "p.parquet", {"x": values, "y": values}, row_group_size=10))
    batches = list(source.batches(["y"], 7))
    assert all(batch.num_rows <= 7 for batch in batches)
    assert all(batch.schema.names == ["y"] for batch in batches)
    assert [v for batch in batches for v in batch.column(0).to_pylist()] == values


def test_batches_check_chunk_rows_and_columns_before_iterating(tmp_path: Path) -> None:
    source = open_input(write_parquet(tmp_path / "p.parquet", SIMPLE))
    with pytest.raises(UsageError) as error:
        source.batches(["pred"], 0)
    assert message(error) == "chunk_rows must be at least 1, got 0"
    with pytest.raises(InputError) as error:
        source.batches(["y_pred"], 10)
    assert message(error).startswith("column 'y_pred' not found in")


@pytest.mark.parametrize("name", ["p.feather", "p.arrow", "p.ipc"])
def test_arrow_ipc_file(tmp_path: Path, name: str) -> None:
    path = str(tmp_path / name)
    feather.write_feather(pa.table(SIMPLE), path, chunksize=2)
    source = open_input(path)
    assert (source.format, source.columns, source.num_rows) == ("arrow", ["id", "pred", "target"], 3)
    assert source.read(["target", "pred"]).column_names == ["target", "pred"]
    batches = list(source.batches(["pred"], 1))
    assert [batch.num_rows for batch in batches] == [1, 1, 1]
    assert [batch.column(0)[0].as_py() for batch in batches] == SIMPLE["pred"]


def test_arrow_ipc_stream(tmp_path: Path) -> None:
    path = str(tmp_path / "p.arrow")
    table = pa.table(SIMPLE)
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    source = open_input(path)
    assert source.num_rows is None
    assert source.read(["pred"]).column("pred").to_pylist() == SIMPLE["pred"]
    assert [b.num_rows for b in source.batches(["id"], 2)] == [2, 1]


@pytest.mark.parametrize("file_format", [False, True], ids=["stream", "file"])
@pytest.mark.parametrize("name", ["p.arrow", "-"])
def test_arrow_ipc_cut_between_two_batches_is_an_error(tmp_path: Path, name: str, file_format: bool) -> None:
    """pyarrow ends an IPC stream at the end of its bytes as at its end-of-stream marker: a stream cut short between
    two record batches (its writer failed) read as the rows before the cut, with no word (exit 0). An IPC file cut
    anywhere lacks its footer, which is said rather than pyarrow's "Not an Arrow file"."""
    import lossctl

    table = pa.table(SIMPLE)
    sink = pa.BufferOutputStream()
    writer = (pa.ipc.new_file if file_format else pa.ipc.new_stream)(sink, table.schema)
    writer.write_table(table.slice(0, 2))
    cut = sink.tell()
    writer.write_table(table.slice(2))
    writer.close()
    data = sink.getvalue().to_pybytes()[:cut]
    if name == "-":
        source: object = io.BytesIO(data)
        expected = "cannot read the stream as Arrow IPC: it ends after 2 rows without the end-of-stream marker"
    else:  # a file is read by its footer, of which pyarrow said "Not an Arrow file" when it was cut off
        source = write(tmp_path / name, data)
        missing = "its footer" if file_format else "the end-of-stream marker"
        expected = f"cannot read '{source}' as Arrow IPC: it ends without {missing}"
    with pytest.raises(InputError) as error:
        lossctl.evaluate(source, losses="mse", pred="pred", target="target")
    assert message(error) == f"{expected}, so it was cut short (did the program writing it fail?)"
    whole = sink.getvalue().to_pybytes()  # the whole stream, marker and all, is read
    source = io.BytesIO(whole) if name == "-" else write(tmp_path / name, whole)
    assert lossctl.evaluate(source, losses="mse", pred="pred", target="target").results[0].n == 3


@pytest.mark.parametrize("name", ["p.arrow", "-"])
def test_an_arrow_ipc_file_in_the_format_before_arrow_0_15_is_read(tmp_path: Path, name: str) -> None:
    """Its stream ends with 4 zero bytes, not the continuation marker and 0: through standard input, where the
    file is read as its stream, it was "cut short"."""
    import lossctl

    table = pa.table(SIMPLE)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema, options=pa.ipc.IpcWriteOptions(use_legacy_format=True)) as writer:
        writer.write_table(table)
    data = sink.getvalue().to_pybytes()
    source: object = io.BytesIO(data) if name == "-" else write(tmp_path / name, data)
    assert lossctl.evaluate(source, losses="mse", pred="pred", target="target").results[0].value == pytest.approx(0.25)


@pytest.mark.parametrize("keep", [12, -100, -3], ids=["after-the-header", "in-the-batches", "in-the-footer"])
def test_an_arrow_ipc_file_cut_anywhere_says_so(cli, tmp_path: Path, keep: int) -> None:
    path = tmp_path / "p.arrow"
    feather.write_feather(pa.table(SIMPLE), path, chunksize=2)
    path.write_bytes(path.read_bytes()[:keep])
    run = cli("eval", path, "-l", "mse")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: cannot read '{path}' as Arrow IPC: it ends without its footer, so it was cut short (did the program "
        "writing it fail?)\n"
    )


@pytest.mark.parametrize("name", ["p.arrow", "p", "-"])
@pytest.mark.parametrize("keep", [6, 7, 40, -10], ids=["ARROW1", "ARROW1-NUL", "in-the-schema", "in-a-batch"])
def test_an_arrow_ipc_file_cut_in_its_first_bytes_or_read_as_a_stream_says_so(
    tmp_path: Path, name: str, keep: int
) -> None:
    """A file of 'ARROW1' alone (cut in the magic's padding) was 'not an Arrow IPC file or stream but delimited
    text', and read as a CSV without a name saying so (a column 'ARROW1'); through standard input an IPC file or
    stream cut in a message was pyarrow's 'Expected to read 168 metadata bytes, but only read 29'. Each is now cut
    short, as a file cut elsewhere is."""
    import lossctl

    table = pa.table(SIMPLE)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
        batch_end = sink.tell()
    data = sink.getvalue().to_pybytes()[: keep if keep > 0 else batch_end + keep]  # -10: 10 bytes before its end
    if name == "-":
        source: object = io.BytesIO(data)
        rows = " after 0 rows" if keep < 0 else ""
        expected = f"cannot read the stream as Arrow IPC: it ends{rows} without the end-of-stream marker"
    else:
        source = write(tmp_path / name, data)
        expected = f"cannot read '{source}' as Arrow IPC: it ends without its footer"
    with pytest.raises(InputError) as error:
        lossctl.evaluate(source, losses="mse", pred="pred", target="target")
    assert message(error) == f"{expected}, so it was cut short (did the program writing it fail?)"
    with pytest.raises(InputError, match=r"^column 'target' not found in the stream; columns are: ARROW1$"):
        lossctl.evaluate(io.BytesIO(b"ARROW1\n1\n"), losses="mse", pred="pred", target="target")


@pytest.mark.parametrize("file_format", [False, True], ids=["stream", "file"])
@pytest.mark.parametrize("name", ["p.arrow", "-"])
@pytest.mark.parametrize(
    ("corrupt", "problem"),
    [
        ("buffer", "Buffer #1 too small in array of type double and length 3"),
        ("message", "Invalid flatbuffers message"),
    ],
)
def test_a_corrupt_arrow_ipc_record_batch_is_an_input_error(
    tmp_path: Path, name: str, file_format: bool, corrupt: str, problem: str
) -> None:
    """A record batch whose values buffer is shorter than its rows need (its length in the message zeroed) was read
    unchecked by pyarrow, and failed as an internal error (exit 4, "ValueError: buffer is smaller than requested
    size") where NumPy read it. An IPC file whose batch message is not a flatbuffer failed so too (exit 4,
    "OSError: Invalid flatbuffers message."), as its rows were counted outside the reading's error handling."""
    import lossctl

    table = pa.table({"pred": [1.0, 2.0, 3.0], "target": [0.0, 0.0, 1.0]})
    sink = pa.BufferOutputStream()
    with (pa.ipc.new_file if file_format else pa.ipc.new_stream)(sink, table.schema) as writer:
        writer.write_table(table)
    data = bytearray(sink.getvalue().to_pybytes())
    schema_end = (8 if file_format else 0) + table.schema.serialize().size  # after ARROW1 and its padding
    if corrupt == "buffer":  # the 'pred' values buffer's length, the first such in the batch message
        at = data.find((3 * 8).to_bytes(8, "little"))
        data[at : at + 8] = bytes(8)
    else:  # the batch message's flatbuffer root offset, after its continuation marker and length
        data[schema_end + 8 : schema_end + 12] = b"\xff" * 4
    source: object = io.BytesIO(bytes(data)) if name == "-" else write(tmp_path / name, bytes(data))
    label = "the stream" if name == "-" else f"'{source}'"
    with pytest.raises(InputError) as error:
        lossctl.evaluate(source, losses="mse", pred="pred", target="target")
    assert message(error).startswith(f"cannot read {label} as Arrow IPC: ") and problem in message(error)


@pytest.mark.parametrize("name", ["p.arrow", "-"])
def test_an_arrow_ipc_column_name_not_utf8_is_an_input_error(cli, tmp_path: Path, name: str) -> None:
    """A column name whose bytes are not UTF-8 (a corrupt file) failed as an internal error (exit 4,
    UnicodeDecodeError) where pyarrow decoded the schema's names."""
    import lossctl

    table = pa.table({"pred": [1.0, 2.0], "target": [0.0, 1.0], "zzzz": [1, 2]})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue().to_pybytes().replace(b"zzzz", b"\xff\xfezz")  # the schema, and its copy in the footer
    expected = "as Arrow IPC: a column name is not UTF-8 text; is the file corrupt?"
    if name == "-":
        with pytest.raises(InputError) as error:
            lossctl.evaluate(io.BytesIO(data), losses="mse", pred="pred", target="target")
        assert message(error) == f"cannot read the stream {expected}"
        return
    path = write(tmp_path / name, data)
    run = cli("eval", path, "-l", "mse")
    assert (run.code, run.out, run.err) == (3, "", f"error: cannot read '{path}' {expected}\n")


@pytest.mark.parametrize("name", ["p.arrow", "-"])
@pytest.mark.parametrize("offset", [255, 2**31 - 1])
def test_an_arrow_ipc_text_column_with_offsets_past_its_values_is_an_input_error(
    tmp_path: Path, name: str, offset: int
) -> None:
    """A text column whose offsets point past its values (a corrupt file) was taken for text that is not UTF-8 and
    its values read to find the row: an internal error (exit 4, "SystemError: Negative size passed to
    PyBytes_FromStringAndSize"), or the process killed by SIGSEGV with nothing said. A subprocess, for the crash."""
    import numpy as np

    offsets = pa.py_buffer(np.array([0, 1, offset, 4], np.int32).tobytes())
    groups = pa.Array.from_buffers(pa.string(), 3, [None, offsets, pa.py_buffer(b"abba")])
    path = tmp_path / "p.arrow"
    feather.write_feather(pa.table({"pred": [1.0, 2.0, 3.0], "target": [0.0, 0.0, 1.0], "g": groups}), path)
    args = ["eval", str(path) if name != "-" else "-", "-l", "mse", "--by", "g"]
    with open(path, "rb") as stdin:
        run = subprocess.run([sys.executable, "-m", "lossctl", *args], stdin=stdin, capture_output=True, text=True)
    label = "standard input" if name == "-" else str(path)
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr == (
        f"error: column 'g' of {label} is corrupt (Offset invariant failure: offset for slot 2 out of bounds: "
        f"{offset} > 4); is the file damaged?\n"
    )


@pytest.mark.parametrize("name", ["p.arrow", "-"])
@pytest.mark.parametrize("index", [5, -1])
@pytest.mark.parametrize("column", ["target", "g"])
def test_an_arrow_ipc_dictionary_index_beyond_its_dictionary_is_an_input_error(
    cli, tmp_path: Path, name: str, index: int, column: str
) -> None:
    """A dictionary-encoded column of numbers whose index is beyond its dictionary (a corrupt file) failed as an
    internal error (exit 4, 'ArrowIndexError: Index 5 out of bounds') where it was decoded; a negative index in a
    --by key took the dictionary's last value (exit 0: a row of group 10 counted in group 20)."""
    import lossctl

    broken = pa.DictionaryArray.from_arrays(pa.array([0, index, 1, 1], pa.int32()), pa.array([10, 20]), safe=False)
    columns = {"pred": pa.array([1.0, 2.0, 3.0, 4.0]), "target": pa.array([0, 1, 1, 0]), "g": pa.array([1, 1, 2, 2])}
    columns[column] = broken
    path = tmp_path / "p.arrow"
    feather.write_feather(pa.table(columns), path)
    problem = (
        f"column '{column}' is corrupt (Dictionary indices invalid: Value at position 1 out of bounds: {index} "
        "(should be in [0, 1])); is the file damaged?"
    )
    if name == "-":
        with pytest.raises(InputError) as error:
            lossctl.evaluate(io.BytesIO(path.read_bytes()), losses="mse", pred="pred", target="target", by="g")
        assert message(error) == f"cannot read the stream as Arrow IPC: {problem}"
        return
    run = cli("eval", path, "-l", "mse", "--by", "g")
    assert (run.code, run.out, run.err) == (3, "", f"error: cannot read '{path}' as Arrow IPC: {problem}\n")


@pytest.mark.parametrize(
    ("name", "second"),  # a file must end with the marker: one ending otherwise is cut short (an earlier test)
    [("p.arrows", "stream"), ("-", "stream"), ("-", "file"), ("-", "junk")],
)
def test_two_arrow_ipc_streams_joined_are_refused_not_read_as_the_first(
    cli, tmp_path: Path, name: str, second: str
) -> None:
    """pyarrow stops at a stream's end-of-stream marker: 'cat a.arrows b.arrows | lossctl eval -' read a's rows
    only (exit 0, b's rows lost without a word), as did such a file. An IPC file read as its stream still ends with
    its footer, which is read."""
    import lossctl

    def ipc(new: Callable[..., pa.ipc.RecordBatchStreamWriter], legacy: bool = False) -> bytes:
        sink = pa.BufferOutputStream()
        with new(sink, table.schema, options=pa.ipc.IpcWriteOptions(use_legacy_format=legacy)) as writer:
            writer.write_table(table)
        return sink.getvalue().to_pybytes()

    table = pa.table({"pred": [1.0, 2.0, 3.0], "target": [0.0, 0.0, 1.0]})
    after = {"stream": ipc(pa.ipc.new_stream), "file": ipc(pa.ipc.new_file), "junk": b"\x00"}[second]
    data = ipc(pa.ipc.new_stream) + after
    problem = (
        "as Arrow IPC: it goes on after its end-of-stream marker (after 3 rows); are several streams joined (cat a "
        "b)? give each file as a PATH"
    )
    if name == "-":
        with pytest.raises(InputError) as error:
            lossctl.evaluate(io.BytesIO(data), losses="mse", pred="pred", target="target")
        assert message(error) == f"cannot read the stream {problem}"
        for whole in (ipc(pa.ipc.new_file), ipc(pa.ipc.new_file, legacy=True)):  # a file's footer belongs there
            assert lossctl.evaluate(io.BytesIO(whole), losses="mse", pred="pred", target="target").results[0].n == 3
        return
    path = write(tmp_path / name, data)
    run = cli("eval", path, "--input-format", "arrow", "-l", "mse")
    assert (run.code, run.out, run.err) == (3, "", f"error: cannot read '{path}' {problem}\n")


def test_parquet_directory_is_one_dataset_in_sorted_file_order(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    write_parquet(folder / "part-1.parquet", {"x": [3, 4]})
    write_parquet(folder / "part-0.parquet", {"x": [1, 2]})
    write_parquet(folder / "part-2.pq", {"x": [5.5]})  # another type: widened when concatenated
    write(folder / "_SUCCESS", b"")
    source = open_input(str(folder))
    assert (source.format, source.columns, source.num_rows) == ("parquet", ["x"], 5)
    assert source.read(["x"]).column("x").to_pylist() == [1, 2, 3, 4, 5.5]
    assert [v for b in source.batches(["x"], 10) for v in b.column(0).to_pylist()] == [1, 2, 3, 4, 5.5]


def test_parquet_glob(tmp_path: Path) -> None:
    for index in range(3):
        write_parquet(tmp_path / f"p{index}.parquet", {"x": [index]})
    write(tmp_path / "other.csv", b"x\n9\n")
    source = open_input(str(tmp_path / "p*.parquet"))
    assert source.read(["x"]).column("x").to_pylist() == [0, 1, 2]


def test_a_glob_over_a_spark_folder_leaves_its_bookkeeping_out(cli, tmp_path: Path) -> None:
    """'out/*' failed on _SUCCESS ("matches 'out/_SUCCESS', which is not a Parquet file") and, without it, read the
    Parquet files of an attempt in _temporary/ too (rows counted twice), while 'out' leaves both out: so does a glob."""
    folder = tmp_path / "out"
    (folder / "_temporary" / "0").mkdir(parents=True)
    write_parquet(folder / "part-0.parquet", {"pred": [1.0, 2.0], "target": [0.0, 2.0]})
    write_parquet(folder / "_temporary" / "0" / "part-0.parquet", {"pred": [1.0, 2.0], "target": [0.0, 2.0]})
    write(folder / "_SUCCESS", b"")
    write(folder / ".part-0.parquet.crc", b"crc")
    for path in (folder / "*", folder, tmp_path / "*" / "*.parquet"):
        run = cli("eval", path, "-l", "mse", "-f", "csv", "-q")
        assert (run.code, run.err, run.out.splitlines()[1]) == (0, "", "mse,multioutput=none,mean,0.5,2,,"), path
    run = cli("eval", folder / "_*", "-l", "mse")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: '{folder / '_*'}' matches only names starting with _ or . ('{folder / '_SUCCESS'}', "
        f"'{folder / '_temporary'}'), which a dataset leaves out as bookkeeping, as in a folder; to read such a "
        "file, give it as a PATH\n"
    )


def test_a_recursive_glob_reads_each_file_once(tmp_path: Path) -> None:
    # 'out/**' matches the folder out/ (all its Parquet files) and each file again: every row was read twice.
    for day, values in ((0, [1, 2]), (1, [3])):
        (tmp_path / f"day={day}").mkdir()
        write_parquet(tmp_path / f"day={day}" / f"part-{day}.parquet", {"x": values})
    source = open_input(str(tmp_path / "**"))
    assert source.read(["x", "day"]).to_pydict() == {"x": [1, 2, 3], "day": [0, 0, 1]}


def test_dataset_file_missing_a_column_is_named(tmp_path: Path) -> None:
    write_parquet(tmp_path / "a.parquet", {"x": [1], "y": [1]})
    write_parquet(tmp_path / "b.parquet", {"x": [2]})
    source = open_input(str(tmp_path / "*.parquet"))
    with pytest.raises(InputError) as error:
        source.read(["y"])
    assert message(error) == (
        f"{tmp_path / 'b.parquet'} lacks the column 'y' that {tmp_path / 'a.parquet'} has: several inputs are read as "
        "one dataset and must have the same columns"
    )


def test_stdin_reads_csv_once(tmp_path: Path) -> None:
    stdin = io.BytesIO(SIMPLE_CSV)
    source = open_input("-", stdin=stdin)
    assert (source.path, source.format, source.columns) == ("-", "csv", ["id", "pred", "target"])
    assert source.read(["pred"]).column("pred").to_pylist() == SIMPLE["pred"]
    # Streamed, not kept in memory: a second read is an error, never silently empty.
    with pytest.raises(InputError) as error:
        source.read(["target"])
    assert message(error) == "standard input can be read only once"


def test_stdin_with_input_format_parquet(tmp_path: Path) -> None:
    sink = io.BytesIO()
    pq.write_table(pa.table(SIMPLE), sink)
    source = open_input("-", input_format="parquet", stdin=io.BytesIO(sink.getvalue()))
    assert (source.format, source.num_rows) == ("parquet", 3)
    assert source.read(["id"]).column("id").to_pylist() == [1, 2, 3]


def test_a_parquet_file_redirected_to_stdin_is_read_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``lossctl eval - < preds.parquet``: the file is read where it is, not copied first (as a pipe must be)."""
    path = tmp_path / "preds.parquet"
    pq.write_table(pa.table(SIMPLE), path)

    def no_copy(stream: object, label: str) -> None:
        raise AssertionError("copied")

    monkeypatch.setattr(streams, "spill", no_copy)
    with path.open("rb") as stdin:
        source = open_input("-", stdin=stdin)
        assert (source.path, source.format, source.num_rows) == ("-", "parquet", 3)
        assert source.read(["pred", "id"]).to_pydict() == {"pred": SIMPLE["pred"], "id": SIMPLE["id"]}
    with pytest.raises(AssertionError, match="copied"):  # a stream without a file behind it is copied
        open_input("-", stdin=io.BytesIO(path.read_bytes()))


def _numbered_parquet(rows: int) -> bytes:
    sink = io.BytesIO()
    values = np.arange(rows, dtype=np.float64)
    pq.write_table(pa.table({"target": values, "pred": values * 2}), sink, row_group_size=max(rows // 3, 1))
    return sink.getvalue()


def _spill_counting_files(monkeypatch: pytest.MonkeyPatch, share: float, data: bytes) -> tuple[bytes, list[Path]]:
    """What :func:`streams.spill` gives back for a stream of ``data``, and the temporary files it made."""
    from lossctl import tempfiles

    made: list[Path] = []
    create = tempfiles.create

    def counting(target: str | Path) -> Path:
        made.append(create(target))
        return made[-1]

    monkeypatch.setattr(tempfiles, "create", counting)
    monkeypatch.setattr(streams, "MEMORY_SHARE", share)
    copy = streams.spill(io.BytesIO(data), "standard input")
    return copy.read(), made


@pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="memory files are Linux's memfd_create")
def test_a_parquet_stream_is_copied_to_memory_without_a_temporary_file(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _numbered_parquet(30_000)
    copied, made = _spill_counting_files(monkeypatch, 0.25, data)
    assert copied == data and made == []


def test_a_parquet_stream_beyond_the_memory_share_moves_on_to_a_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its share of memory the copy continues in $TMPDIR, what is in memory first: the bytes are the stream's,
    the file is unlinked once open, and a folder that cannot take it is the input error saying what to do."""
    import tempfile

    data = _numbered_parquet(300_000)  # a few MB: more than one piece of the copy
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    copied, made = _spill_counting_files(monkeypatch, 1e-12, data)
    assert copied == data and len(made) == 1 and made[0].parent == tmp_path
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with pytest.raises(InputError) as error:
        streams.spill(io.BytesIO(data), "standard input")
    assert message(error).startswith(
        f"cannot read standard input: Parquet needs random access, so it is copied to {tmp_path / 'missing'} first"
    )
    assert message(error).endswith("save it to a file, or set TMPDIR to a folder with room")


def test_a_parquet_stream_moves_on_to_a_temporary_folder_whose_name_is_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A $TMPDIR from a Latin-1 system (its name held as surrogates) takes the copy: Arrow, which cannot encode the
    name, opens it by its descriptor (it raised UnicodeEncodeError, an internal error)."""
    import tempfile

    folder = os.fsdecode(os.fsencode(tmp_path) + b"/donn\xe9es")
    os.mkdir(folder)
    monkeypatch.setattr(tempfile, "tempdir", folder)
    data = _numbered_parquet(3_000)
    copied, made = _spill_counting_files(monkeypatch, 1e-12, data)
    assert copied == data and len(made) == 1 and os.listdir(folder) == []


def test_input_format_overrides_the_extension(tmp_path: Path) -> None:
    source = open_input(write(tmp_path / "preds.txt", b"a;b\n"), input_format="tsv")
    assert (source.format, source.columns) == ("tsv", ["a;b"])
    source = open_input(write(tmp_path / "preds.dat", SIMPLE_CSV), input_format="csv")
    assert source.columns == ["id", "pred", "target"]


@pytest.mark.parametrize("name", ["-", "preds.csv.gz"])
@pytest.mark.parametrize("data", [SIMPLE_CSV, b"PAR1" + bytes(64)], ids=["csv", "parquet"])
def test_input_format_arrow_of_other_bytes_says_so(tmp_path: Path, name: str, data: bytes) -> None:
    """A stream read as Arrow IPC that is no Arrow stream was refused with pyarrow's reading of its first bytes as
    a length: 'Expected to read 1952413986 metadata bytes, but only read 1151'."""
    label = "standard input" if name == "-" else f"'{tmp_path / name}'"
    with pytest.raises(InputError) as error:
        if name == "-":
            open_input("-", input_format="arrow", stdin=io.BytesIO(data))
        else:
            open_input(write(tmp_path / name, gzip.compress(data)), input_format="arrow")
    # Standard input has no name to change: only input_format is offered (it said "or name it .csv").
    named = "" if name == "-" else " or name it .csv"
    what = f'delimited text; give input_format="csv"{named}' if data == SIMPLE_CSV else "a Parquet file"
    assert message(error) == f"cannot read {label} as Arrow IPC: it is not an Arrow IPC file or stream but " + what + (
        f'; give input_format="parquet"{named.replace(".csv", ".parquet")}' if data != SIMPLE_CSV else ""
    )


@pytest.mark.parametrize("magic", [b"PAR1", b"ARROW1"])
@pytest.mark.parametrize("name", ["p.csv", "p", "p.csv.gz", "-"])
def test_text_that_starts_like_parquet_or_arrow_is_text(tmp_path: Path, magic: bytes, name: str) -> None:
    """A first column named ``PAR1x`` made a .csv 'a Parquet file' (and ``ARROW1x`` 'an Arrow IPC file'): a file
    ends with PAR1 too, an Arrow IPC file's ARROW1 is followed by zero padding. Through standard input the end is
    not known, so text said to be CSV is CSV."""
    data = magic + b"x,pred,target\n1,1,2\n"
    if name == "-":
        source = open_input("-", input_format="csv", stdin=io.BytesIO(data))
    else:
        source = open_input(write(tmp_path / name, gzip.compress(data) if name.endswith(".gz") else data))
    assert source.columns == [magic.decode() + "x", "pred", "target"]
    assert source.read(["target"]).column("target").to_pylist() == [2]


def test_text_that_starts_with_par1_through_stdin_says_what_it_is(tmp_path: Path) -> None:
    """Recognised from its first bytes as Parquet, it failed with pyarrow's 'Parquet magic bytes not found in footer.
    Either the file is corrupted or this is not a parquet file.'"""
    data = b"PAR1x,pred,target\n1,1,2\n"
    for label, opened, fix in [  # standard input has no name to change (it said "or name it .csv")
        ("standard input", lambda: open_input("-", stdin=io.BytesIO(data)), 'give input_format="csv"'),
        (
            f"'{tmp_path / 'p.parquet'}'",
            lambda: open_input(write(tmp_path / "p.parquet", data)),
            'give input_format="csv" or name it .csv',
        ),
    ]:
        with pytest.raises(InputError) as error:
            opened()
        assert message(error) == (
            f"cannot read {label} as Parquet: it is not a Parquet file but delimited text that starts with PAR1; {fix}"
        )


@pytest.mark.parametrize("how", ["file", "stdin", "folder", "hive", "csv"])
def test_a_parquet_file_cut_short_says_so(tmp_path: Path, how: str) -> None:
    """pyarrow's words were 'Parquet magic bytes not found in footer. Either the file is corrupted or this is not a
    parquet file.', where a cut Arrow IPC file said it was cut short."""
    sink = io.BytesIO()
    pq.write_table(pa.table(SIMPLE), sink)
    cut = sink.getvalue()[: 4 if how == "stdin" else -20]  # PAR1 alone is cut short too, not text
    folder = tmp_path / ("g=a" if how == "hive" else "parts")
    folder.mkdir()
    path = write(folder / ("p.csv" if how == "csv" else "p.parquet"), cut)
    with pytest.raises(InputError) as error:
        if how == "stdin":
            open_input("-", stdin=io.BytesIO(cut))
        else:
            open_input(str(tmp_path) if how == "hive" else str(folder) if how == "folder" else path)
    if how == "csv":  # binary: a Parquet file, cut or not
        assert message(error) == (
            f"cannot read '{path}' as CSV: it is a Parquet file; give input_format=\"parquet\" or name it .parquet"
        )
        return
    label = "standard input" if how == "stdin" else f"'{path}'"
    assert message(error) == (
        f"cannot read {label} as Parquet: it ends without its footer, so it was cut short (did the program writing it "
        "fail?)"
    )


def test_a_csv_larger_than_a_block_is_streamed_with_types_per_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "BLOCK_BYTES", 16)
    lines = [f"{i},{i}" for i in range(20)] + ["20,20.5", "21,x"]
    source = open_input(write(tmp_path / "big.csv", ("id,v\n" + "\n".join(lines) + "\n").encode()))
    batches = list(source.batches(["id"], 3))
    assert len(batches) > 3
    assert all(batch.num_rows <= 3 for batch in batches)
    assert [v for b in batches for v in b.column(0).to_pylist()] == list(range(22))
    # Integers, a decimal and text in different blocks: the whole column becomes text, and the
    # converter names the cell that is not a number, with its row in the file.
    column = source.read(["v"]).column("v")
    with pytest.raises(InputError) as error:
        to_float64(column, "v")
    assert message(error) == "column 'v' is not numeric: 'x' at row 21"


def _blocks_of_integers_then(last: str, name: str) -> bytes:
    """30 rows of integers then ``last``, as CSV or JSON Lines, gzipped for a ``.gz`` name."""
    pred, target = last.split(",")
    if name.endswith(".jsonl"):
        rows = [f'{{"pred": {i % 7}, "target": {i % 5}}}' for i in range(30)]
        text = "\n".join([*rows, f'{{"pred": {pred}, "target": {target}}}']) + "\n"
    else:
        text = "pred,target\n" + "".join(f"{i % 7},{i % 5}\n" for i in range(30)) + f"{last}\n"
    return gzip.compress(text.encode()) if name.endswith(".gz") else text.encode()


@pytest.mark.parametrize("name", ["p.csv", "p.csv.gz", "p.jsonl", "-"])
def test_a_column_turning_decimal_in_a_later_block_is_evaluated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import lossctl

    monkeypatch.setattr(readers, "BLOCK_BYTES", 64)  # integers in the first blocks, a decimal in the last
    data = _blocks_of_integers_then("0.5,1.5", name)
    source: object = io.BytesIO(data) if name == "-" else write(tmp_path / name, data)
    report = lossctl.evaluate(source, losses="mse", pred="pred", target="target")
    errors = [(i % 7 - i % 5) ** 2 for i in range(30)] + [1.0]
    assert report.results[0].value == pytest.approx(sum(errors) / 31)


def _notes_with_newlines(rows: int) -> tuple[bytes, float]:
    """A CSV whose last column holds quoted notes of two lines, and the mse of its pred and target columns."""
    text = "".join(f'{i % 7},{i % 3},"note {i}\nsecond line, with a comma"\n' for i in range(rows))
    pred, target = np.arange(rows) % 7, np.arange(rows) % 3
    return b"pred,target,note\n" + text.encode(), float(np.mean((pred - target) ** 2))


@pytest.mark.parametrize("name", ["p.csv", "p.csv.gz", "-"])
def test_a_quoted_value_holding_a_newline_is_not_cut_between_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import lossctl

    monkeypatch.setattr(readers, "BLOCK_BYTES", 64)  # every block would end inside a note
    data, expected = _notes_with_newlines(20)
    data = gzip.compress(data) if name.endswith(".gz") else data
    source: object = io.BytesIO(data) if name == "-" else write(tmp_path / name, data)
    report = lossctl.evaluate(source, losses="mse", pred="pred", target="target")
    assert (report.results[0].n, report.results[0].value) == (20, expected)


def test_quoted_newlines_in_a_csv_larger_than_pyarrows_chunks_are_read(tmp_path: Path) -> None:
    """pyarrow cuts a CSV at newlines into 1 MiB chunks for its threads and failed where a cut fell inside a note:
    'Expected 3 columns, got 2', or 'CSV parser got out of sync with chunker ... consider enabling the option
    'newlines_in_values'', an option of pyarrow, not of lossctl."""
    data, expected = _notes_with_newlines(40_000)
    path = write(tmp_path / "p.csv", data)
    args = ["eval", path, "-l", "mse", "--pred", "pred", "--target", "target", "--format", "json"]
    run = subprocess.run([sys.executable, "-m", "lossctl", *args], capture_output=True, text=True)
    assert (run.returncode, run.stderr) == (0, "")
    result = json.loads(run.stdout)["results"][0]
    assert (result["n"], result["value"]) == (40_000, pytest.approx(expected, rel=1e-12))


@pytest.mark.parametrize("row", [b"1" * (1 << 21), b"1,2," * (1 << 19)])
def test_a_wrong_csv_row_longer_than_pyarrows_block_is_named(cli, tmp_path: Path, row: bytes) -> None:
    """A row of the wrong width longer than pyarrow's 1 MiB block ended in pyarrow's words: "straddling object
    straddles two block boundaries (try to increase block size?)", without the line or what is wrong with it."""
    path = write(tmp_path / "p.csv", b"pred,target\n1,2\n" + row + b"\n3,4\n")
    run = cli("eval", path, "-l", "mse")
    fields = row.count(b",") + 1
    expected = f"error: cannot read '{path}' as CSV: line 3 (row 1; 0-based): Expected 2 columns, got {fields}: "
    assert (run.code, run.err.count("\n")) == (3, 1)
    assert run.err.startswith(expected)
    assert "straddl" not in run.err


@pytest.mark.parametrize("name", ["p.csv", "p.csv.gz", "-"])
def test_a_quoted_value_never_closed_is_an_error_not_rows_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """pyarrow reads a missing closing quote as a value running to the end of the input: the rows after it were
    read into one cell and gone without a word ("rows": 1 of 22). A quote inside an unquoted value opens nothing."""
    import lossctl

    monkeypatch.setattr(readers, "BLOCK_BYTES", 64)  # the quote opens in a later block
    data, _ = _notes_with_newlines(20)
    unclosed = data + b'0.1,0,"a\n0.5,1,b\n'
    for body in (unclosed, unclosed.removesuffix(b"\n")):
        given = gzip.compress(body) if name.endswith(".gz") else body
        source: object = io.BytesIO(given) if name == "-" else write(tmp_path / name, given)
        with pytest.raises(InputError) as error:
            lossctl.evaluate(source, losses="mse", pred="pred", target="target")
        assert str(error.value).endswith(
            "line 42 (row 20; 0-based) opens a quoted value that is never closed, so every later line would be read "
            'into it; close it with a " (a quote inside a quoted value is written "")'
        )
    stray = write(tmp_path / "stray.csv", data + b'0.1,0,5" screen\n0.5,1,b\n')
    report = lossctl.evaluate(stray, losses="mse", pred="pred", target="target")
    assert report.results[0].n == 22


def test_by_ids_beyond_int64_in_a_csv_stay_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A uint64 id beyond int64 (18446744073709551615) makes pyarrow read the column as floats, where ids from 2^53
    on round: 9007199254740993 and 9007199254740992 were one group of 2 rows without a word. The column is kept
    as text then, its earlier blocks of integers too (one group per id, whatever the blocks)."""
    import lossctl

    monkeypatch.setattr(readers, "BLOCK_BYTES", 64)  # the first blocks hold int64 ids only
    ids = [1, 2, 3, 4, 5, 6, 2**53 + 1, 2**53, 2**64 - 1, 2]
    text = "pred,target,g\n" + "".join(f"{i},0,{g}\n" for i, g in enumerate(ids))
    report = lossctl.evaluate(write(tmp_path / "p.csv", text.encode()), losses="mse", by="g")
    groups = {str(record.group["g"]): record.n for record in report.results if record.group is not None}
    assert groups == {str(g): 2 if g == 2 else 1 for g in ids}
    assert report.value("mse", group={"g": str(2**53 + 1)}) == 36.0
    floats = "pred,target,g\n0,0,1.5\n1,0,9007199254740993.0\n"  # written as floats: read as floats
    report = lossctl.evaluate(write(tmp_path / "f.csv", floats.encode()), losses="mse", by="g")
    assert [record.group for record in report.results[1:]] == [{"g": 1.5}, {"g": float(2**53)}]


def test_by_ids_beyond_int64_in_json_lines_stay_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a CSV: pyarrow's JSON reader makes a column of integers beyond int64 float64, so the ids 2^64 - 1 and
    2^64 - 2 were one group '1.8446744073709552e+19' of 2 rows, and the id 1 the group 1.0."""
    import lossctl

    monkeypatch.setattr(readers, "BLOCK_BYTES", 64)  # the first blocks hold int64 ids only
    ids = [1, 2, 3, 2**53 + 1, 2**53, 2**64 - 1, 2**64 - 2, 2]
    text = "".join(f'{{"pred": {i}, "target": 0, "g": {g}}}\n' for i, g in enumerate(ids))
    report = lossctl.evaluate(write(tmp_path / "p.jsonl", text.encode()), losses="mse", by="g")
    groups = {str(record.group["g"]): record.n for record in report.results if record.group is not None}
    assert groups == {str(g): 2 if g == 2 else 1 for g in ids}
    assert report.value("mse", group={"g": str(2**64 - 2)}) == 36.0


@pytest.mark.parametrize("name", ["p.csv", "-"])
def test_a_word_in_a_later_block_is_named_with_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import lossctl

    monkeypatch.setattr(readers, "BLOCK_BYTES", 64)
    data = _blocks_of_integers_then("oops,1", name)
    source: object = io.BytesIO(data) if name == "-" else write(tmp_path / name, data)
    with pytest.raises(InputError) as error:
        lossctl.evaluate(source, losses="mse", pred="pred", target="target")
    assert message(error) == "column 'pred' is not numeric: 'oops' at row 30"


@pytest.mark.parametrize("name", ["p", "-"])
def test_compressed_inside_compressed_is_decompressed_again(tmp_path: Path, name: str) -> None:
    data = bz2.compress(gzip.compress(SIMPLE_CSV))
    source = open_input(name, stdin=io.BytesIO(data)) if name == "-" else open_input(write(tmp_path / name, data))
    assert source.read(["pred"]).column("pred").to_pylist() == SIMPLE["pred"]


def test_binary_standard_input_is_not_parsed_as_text() -> None:
    with pytest.raises(InputError) as error:
        open_input("-", stdin=io.BytesIO(bytes(range(256)) * 8))
    assert (
        message(error) == "cannot read standard input: it is not CSV, TSV, JSON Lines, Parquet or Arrow (binary data)"
    )


@pytest.mark.parametrize("name", ["p.csv", "p", "-"])
def test_a_header_starting_like_bzip2_is_text(tmp_path: Path, name: str) -> None:
    """bzip2's magic is "BZh": a CSV whose first column is named so was refused as "bz2-compressed" (exit 3)."""
    data = b"BZh9,pred,target\n1,0.5,1.0\n"
    source = open_input(name, stdin=io.BytesIO(data)) if name == "-" else open_input(write(tmp_path / name, data))
    assert (source.format, source.columns) == ("csv", ["BZh9", "pred", "target"])
    assert source.read(["pred"]).column("pred").to_pylist() == [0.5]


def test_latin1_and_control_free_text_is_still_text(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "ville,pred,target\nMontréal,1,2\n".encode("latin-1"))
    assert open_input(path).columns == ["ville", "pred", "target"]


# --- readers: errors --------------------------------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        open_input("nope/x.csv")
    assert message(error) == "file 'nope/x.csv' not found"


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", b"")
    with pytest.raises(InputError) as error:
        open_input(path)
    assert message(error) == f"'{path}' is empty"


def test_compressed_file_holding_nothing_is_empty(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv.gz", gzip.compress(b""))
    with pytest.raises(InputError) as error:
        open_input(path)
    assert message(error) == f"'{path}' is empty"


def test_empty_stdin() -> None:
    with pytest.raises(InputError) as error:
        open_input("-", stdin=io.BytesIO(b""))
    assert message(error) == "standard input is empty"


def _parquet_bytes() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(SIMPLE), sink)
    return sink.getvalue()


def _arrow_bytes(stream: bool) -> bytes:
    sink = pa.BufferOutputStream()
    table = pa.table(SIMPLE)
    with (pa.ipc.new_stream if stream else pa.ipc.new_file)(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=2)
    return sink.getvalue().to_pybytes()


JSONL = b"".join(b'{"id": %d, "pred": %r, "target": %r}\n' % row for row in zip(*SIMPLE.values(), strict=True))
# Contents recognised from their first bytes (cli.md, "Input"), by the format they must be read as.
CONTENTS = {
    "csv": SIMPLE_CSV,
    "csv, gzip": gzip.compress(SIMPLE_CSV),
    "csv, bzip2": bz2.compress(SIMPLE_CSV),
    "csv, zstd": zstd_compress(SIMPLE_CSV),
    "csv, pzstd": pzstd_compress(SIMPLE_CSV),
    "jsonl": JSONL,
    "jsonl, gzip": gzip.compress(JSONL),
    "parquet": _parquet_bytes(),
    "parquet, gzip": gzip.compress(_parquet_bytes()),
    "arrow": _arrow_bytes(stream=False),
    "arrow, zstd": zstd_compress(_arrow_bytes(stream=False)),
    "arrow stream": _arrow_bytes(stream=True),
}


@pytest.mark.parametrize("kind", CONTENTS)
@pytest.mark.parametrize("how", ["file without extension", "standard input"])
def test_an_unnamed_format_is_recognised_from_its_first_bytes(tmp_path: Path, kind: str, how: str) -> None:
    data = CONTENTS[kind]
    if how == "standard input":
        source = open_input("-", stdin=io.BytesIO(data))
    else:
        source = open_input(write(tmp_path / "predictions.out", data))
    assert (source.format, source.columns) == (kind.split(",")[0].split()[0], ["id", "pred", "target"])
    assert [v for b in source.batches(["pred"], 2) for v in b.column(0).to_pylist()] == SIMPLE["pred"]


def test_a_foreign_format_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "x.xlsx", b"PK\x03\x04 the rest of a workbook")
    with pytest.raises(InputError) as error:
        open_input(path)
    assert message(error) == (
        f"cannot read '{path}': it is a ZIP archive (an .xlsx workbook?); export it as CSV or Parquet"
    )


def test_unknown_input_format_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as error:
        open_input(write(tmp_path / "x.csv", SIMPLE_CSV), input_format="xls")
    assert message(error) == "unknown input format 'xls'; expected one of: csv, tsv, parquet, arrow, jsonl"


def test_directory_without_parquet_files(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", SIMPLE_CSV)
    with pytest.raises(InputError) as error:
        open_input(str(tmp_path))
    assert message(error) == f"directory '{tmp_path}' has no Parquet files (*.parquet, *.pq)"


def test_glob_matching_nothing(tmp_path: Path) -> None:
    pattern = str(tmp_path / "*.parquet")
    with pytest.raises(InputError) as error:
        open_input(pattern)
    assert message(error) == f"no files match '{pattern}'"


def test_a_missing_file_whose_name_reads_as_a_glob_is_not_found(tmp_path: Path) -> None:
    # 'run[1].csv' was "no files match": brackets and question marks occur in file names, so the file is not found
    for name in ("run[1].csv", "what?.csv", "dir[2]/preds.parquet"):
        with pytest.raises(InputError) as error:
            open_input(str(tmp_path / name))
        assert message(error) == f"file '{tmp_path / name}' not found (read as a glob, it matches nothing)"


def test_glob_matching_a_non_parquet_file(tmp_path: Path) -> None:
    write_parquet(tmp_path / "a.parquet", SIMPLE)
    write(tmp_path / "b.csv", SIMPLE_CSV)
    pattern = str(tmp_path / "*")
    with pytest.raises(InputError) as error:
        open_input(pattern)
    assert message(error) == (
        f"'{pattern}' matches '{tmp_path / 'b.csv'}', which is not a Parquet file; "
        "a glob is read as one Parquet dataset"
    )


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = write(tmp_path / "x.parquet", b"this is not parquet at all")
    with pytest.raises(InputError) as error:
        open_input(path)
    assert message(error).startswith(f"cannot read '{path}' as Parquet: ")
    assert "\n" not in message(error)


def test_truncated_parquet(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    write_parquet(good, SIMPLE)
    path = write(tmp_path / "x.parquet", good.read_bytes()[:-20])
    with pytest.raises(InputError) as error:
        open_input(path)
    assert message(error).startswith(f"cannot read '{path}' as Parquet: ")


@pytest.mark.parametrize("size", [0, 8000])
@pytest.mark.parametrize("how", ["read", "batches"])
def test_a_parquet_file_emptied_while_it_is_read(tmp_path: Path, size: int, how: str) -> None:
    """Rewritten in place after it was opened (emptied, or cut in its data): pyarrow's reader returned 0 or 800
    of the 1000 rows its footer lists, without an error, and the missing rows were silently left out."""
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"pred": np.arange(1000.0), "target": np.arange(1000.0)}), path, row_group_size=200)
    source = open_input(str(path))
    os.truncate(path, size)
    with pytest.raises(InputError) as error:
        if how == "read":
            source.read(["pred"])
        else:
            list(source.batches(["pred"], 100))
    assert message(error) == (
        f"'{path}' changed while it was read: it ended after {800 if size else 0} rows of the 1000 its footer lists "
        "(was another program rewriting it?); run again once it is written"
    )


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv.gz", b"\x1f\x8b but not really gzip")
    with pytest.raises(InputError) as error:
        open_input(path)
    corrupt = "its compressed data is corrupt (zlib inflate failed: unknown compression method)"
    assert message(error) == f"cannot read '{path}': {corrupt}"  # the compression's fault, not the CSV's


def test_not_an_arrow_file(tmp_path: Path) -> None:
    path = write(tmp_path / "x.feather", b"hello, world")
    with pytest.raises(InputError) as error:
        open_input(path)
    assert message(error) == (
        f"cannot read '{path}' as Arrow IPC: it is not an Arrow IPC file or stream but delimited text; give "
        'input_format="csv" or name it .csv'
    )


def test_feather_v1_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "x.feather", b"FEA1" + b"\0" * 32)
    with pytest.raises(InputError) as error:
        open_input(path)
    assert message(error) == (
        f"cannot read '{path}' as Arrow IPC: Feather version 1 is not supported; convert the file to Feather version 2"
    )


def test_csv_row_with_wrong_field_count_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", b"a,b\n1,2\n\n3,4,5\n")
    source = open_input(path)
    with pytest.raises(InputError) as error:
        source.read(["a"])
    assert message(error) == f"cannot read '{path}' as CSV: line 4 (row 1; 0-based): Expected 2 columns, got 3: 3,4,5"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_csv_error_line_counts_the_lines_of_quoted_values(tmp_path: Path, newline: str) -> None:
    """A record whose quoted value holds a newline spans two lines: the error names the line an editor shows."""
    text = newline.join(["a,b,note", '1,2,"two', 'lines"', "", "3,4,x", "5,6", ""])
    path = write(tmp_path / "x.csv", text.encode())
    with pytest.raises(InputError) as error:
        open_input(path).read(["a"])
    assert message(error) == f"cannot read '{path}' as CSV: line 6 (row 2; 0-based): Expected 3 columns, got 2: 5,6"


@pytest.mark.parametrize("name", ["x.csv", "x.csv.gz"])
def test_csv_error_line_counts_earlier_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(readers, "BLOCK_BYTES", 10)
    body = "".join(f"{i},{i}\n" for i in range(30)) + "\n7,8,9\n"
    data = ("a,b\n" + body).encode()
    path = write(tmp_path / name, gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(InputError) as error:
        list(open_input(path).batches(["a"], 100))
    assert message(error) == f"cannot read '{path}' as CSV: line 33 (row 30; 0-based): Expected 2 columns, got 3: 7,8,9"


@pytest.mark.parametrize("name", ["x.csv", "x.csv.gz", "-"])
@pytest.mark.parametrize("block_bytes", [1, 7, 64, 1 << 20])
def test_blocks_of_any_size_give_every_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, block_bytes: int
) -> None:
    monkeypatch.setattr(readers, "BLOCK_BYTES", block_bytes)
    rows = [f"{i},{'x' * (i % 23)}" for i in range(200)]
    data = ("a_rather_long_header_name,b\r\n" + "\r\n".join(rows)).encode()  # no newline at the end
    if name == "-":
        source = open_input(name, stdin=io.BytesIO(data))
    else:
        source = open_input(write(tmp_path / name, gzip.compress(data) if name.endswith(".gz") else data))
    assert source.columns == ["a_rather_long_header_name", "b"]
    values = [v for b in source.batches(["a_rather_long_header_name"], 50) for v in b.column(0).to_pylist()]
    assert values == list(range(200))


def test_jsonl_key_absent_from_a_whole_block_is_null_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "BLOCK_BYTES", 20)
    path = write(tmp_path / "p.jsonl", b'{"a": 1, "w": 2}\n{"a": 2}\n{"a": 3}\n{"a": 4, "w": 5}\n')
    table = open_input(path).read(["w", "a"])
    assert table.to_pydict() == {"w": [2, None, None, 5], "a": [1, 2, 3, 4]}


def test_jsonl_parse_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "x.jsonl", b'{"a": 1}\n\n{"a": 2\n')
    with pytest.raises(InputError) as error:
        open_input(path)
    assert message(error) == (
        f"cannot read '{path}' as JSON Lines: line 3 (row 1; 0-based): Missing a comma or '}}' after an object member."
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (b'null\n{"pred": 1, "target": 2}\n', "line 1 (row 0; 0-based)"),
        (b'null null\n{"pred": 1, "target": 2}\n', "line 1 (row 0; 0-based)"),
        (b'nullx\n{"pred": 1, "target": 2}\n', "line 1 (row 0; 0-based)"),
        (b'{"pred": 1, "target": 2}\n\r\n  null\r\n{"pred": 3, "target": 5}\n', "line 3 (row 1; 0-based)"),
    ],
)
def test_jsonl_null_line_is_not_an_object(tmp_path: Path, text: bytes, where: str) -> None:
    """A line 'null' first in a block killed the process (pyarrow's reader, SIGSEGV, nothing on stderr); later it
    was read as a row of missing values, which --missing drop dropped without a word. Run in a subprocess, as the
    crash would end the test session."""
    path = write(tmp_path / "p.jsonl", text)
    args = ["eval", path, "-l", "mse", "--missing", "drop"]
    run = subprocess.run([sys.executable, "-m", "lossctl", *args], capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr.splitlines()[-1] == (
        f"error: cannot read '{path}': JSON Lines needs one object per line; {where} holds null"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (b'{"pred": 1, "target": 1} {"pred": 2, "target": 3}\n{"pred": 1, "target": 2}\n', 1),
        (b'{"pred": 1, "target": 1}\n\n{"pred": 2, "target": 3} null\n \n', 3),  # blank lines beside it
        (b'{"pred": 1, "target": 1}\r\n  \r\n{"pred": 2, "target": 3}{"pred": 0, "target": 0}\r\n', 3),
    ],
)
def test_jsonl_two_values_on_one_line_are_refused(cli, tmp_path: Path, text: bytes, line: int) -> None:
    """pyarrow's reader reads two values on one line as two rows: a 2-line file was "rows": 3 (a trailing null a
    row of missing values, which --missing drop dropped without a word); JSON Lines is one object per line."""
    path = write(tmp_path / "p.jsonl", text)
    run = cli("eval", path, "-l", "mse", "--missing", "drop")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: cannot read '{path}': JSON Lines needs one object per line; line {line} holds more than one JSON "
        "value\n"
    )
    indented = write(tmp_path / "q.jsonl", b'{"pred": 1, "target": 1}\r\n\r\n  {"pred": 2, "target": 4}\r\n \n')
    assert json.loads(cli("eval", indented, "-l", "mse", "-f", "json").out)["input"]["rows"] == 2


@pytest.mark.parametrize(
    ("text", "where", "key", "number"),
    [
        (b'{"pred": 1e400, "target": 0}\n', "line 1 (row 0; 0-based)", "pred", "1e400"),
        (b'{"pred": 1, "target": 0}\n\n{"pred": 2, "target": -1E999}\n', "line 3 (row 1; 0-based)", "target", "-1E999"),
        (b'{"pred": "1e400", "m": {"a": [1, 2e999]}, "target": 0}\n', "line 1 (row 0; 0-based)", "m", "2e999"),
    ],
)
def test_jsonl_number_beyond_float64(cli, tmp_path: Path, text: bytes, where: str, key: str, number: str) -> None:
    """1e400 was pyarrow's "Number too big to be stored in double.", naming no key and saying nothing to do."""
    path = write(tmp_path / "p.jsonl", text)
    run = cli("eval", path, "-l", "mse")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: cannot read '{path}' as JSON Lines: {where}: '{key}' holds {number}, beyond float64; write a number "
        "of at most 1.8e308 in size\n"
    )


@pytest.mark.parametrize(
    ("text", "where", "after"),
    [
        (b'{"a": 1}\n{"a": 2},\n', "line 2 (row 1; 0-based)", "',' at column 9"),
        (b'{"a": 1},\n{"a": 2}\n', "line 1 (row 0; 0-based)", "',' at column 9"),
        (b'{"a": 1}\n\n{"a": 2}}\n', "line 3 (row 1; 0-based)", "'}' at column 9"),
        (b'{"a": 1}\n   \n{"a": 2},\n', "line 3 (row 1; 0-based)", "',' at column 9"),  # white space: no row
    ],
)
def test_jsonl_line_going_on_after_its_object_is_named(tmp_path: Path, text: bytes, where: str, after: str) -> None:
    """A trailing comma was 'JSON parse error: The document is empty.', pyarrow's words, naming no line."""
    path = write(tmp_path / "x.jsonl", text)
    with pytest.raises(InputError) as error:
        open_input(path).read(["a"])
    assert message(error) == (
        f"cannot read '{path}' as JSON Lines: {where}: the line goes on after its JSON value ({after})"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b'{"pred": 1, "target": 0}\n   \n{"pred": "x", "target": 0}\n', "'pred' holds a string where an earlier"),
        (b'{"pred": 1, "target": 0}\n \t \n{"pred": 1, "pred": 2, "target": 0}\n', "the key 'pred' appears twice"),
        (b'{"pred": 1, "target": 0}\n  \n  \nnull\n', "holds null"),
    ],
)
def test_jsonl_lines_of_white_space_are_not_counted_as_rows(cli, tmp_path: Path, text: bytes, problem: str) -> None:
    """pyarrow skips a line of white space without a row, but the message counted it as one: the bad record was
    named 'line 3 (row 1)' for a file's line 4 (a duplicate key named line 2, the blank line itself)."""
    path = write(tmp_path / "p.jsonl", text)
    run = cli("eval", path, "-l", "mse")
    last = text.count(b"\n")
    assert (run.code, run.out) == (3, "")
    assert f"line {last} (row 1; 0-based)" in run.err and problem in run.err
    assert run.err.startswith("error: ") and run.err.count("\n") == 1


def test_several_paths_with_the_same_columns_in_another_order_are_one_dataset(cli, tmp_path: Path) -> None:
    """They were refused ('... has the columns target, pred but ... has pred, target'): columns are read by name."""
    first = write(tmp_path / "a.csv", b"pred,target\n1,2\n3,4\n")
    second = write(tmp_path / "b.jsonl", b'{"target": 2, "pred": 5}\n')
    pq.write_table(pa.table({"target": [4.0], "pred": [1.0]}), tmp_path / "c.parquet")
    run = cli("eval", first, second, tmp_path / "c.parquet", "-l", "mse", "-f", "csv", "-q")
    assert (run.code, run.err) == (0, "")
    assert run.out.splitlines()[1] == "mse,multioutput=none,mean,5.0,4,,"  # (1 + 1 + 9 + 9) / 4
    other = write(tmp_path / "d.csv", b"target,x\n1,2\n")
    run = cli("eval", first, other, "-l", "mse")
    assert (run.code, run.err) == (
        3,
        f"error: {other} has the column 'x' that {first} has not; {other} lacks the column 'pred' that {first} has: "
        "several inputs are read as one dataset and must have the same columns\n",
    )


def test_messages_about_an_input_of_many_paths_list_the_first_20(cli, tmp_path: Path) -> None:
    """An input of 2,000 PATHs was named in full, a line of tens of KB ('a.csv, b.csv, ... has 2000 rows but t.csv
    has 1'); messages cut the list as every other (text.listing), JSON's input.path keeps every path."""
    paths = [write(tmp_path / f"p{i:02d}.csv", b"pred,target\n1,2\n") for i in range(25)]
    targets = write(tmp_path / "t.csv", b"target\n2\n")
    shown = ", ".join(str(path) for path in paths[:20])
    run = cli("eval", *paths, "--targets", targets, "-l", "mse", "--pred", "pred")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: {shown}, ... (25 paths) has 25 rows but {targets} has 1; rows are aligned by order, so the counts "
        "must match (or use --on KEY)\n"
    )
    for i in range(25):
        pq.write_table(pa.table({"pred": [1.0], "target": [2.0]}), tmp_path / f"p{i:02d}.parquet")
    parquet = sorted(tmp_path.glob("p*.parquet"))
    run = cli("eval", *parquet, "-l", "mse", "--delimiter", ";")
    assert run.code == 2 and len(run.err.splitlines()) == 1
    assert run.err.endswith(f", {parquet[19]} is Parquet, ... (25 inputs)\n")
    run = cli("eval", *paths, "-l", "mse", "-f", "json", "-q")
    assert json.loads(run.out)["input"]["path"] == ", ".join(map(str, paths))


@pytest.mark.parametrize(
    ("ids", "other"),
    [
        (pa.array([2**53 + 1, 2**53]), pa.array([1.5])),
        (pa.array([2**64 - 1, 2**64 - 2], pa.uint64()), pa.array([-1])),
    ],
    ids=["int64-beyond-2^53-and-double", "uint64-beyond-int64-and-negative"],
)
def test_integers_no_common_type_holds_are_read_as_text_across_files(
    cli, tmp_path: Path, ids: pa.Array, other: pa.Array
) -> None:
    """Arrow widens int64 and double to double (uint64 and int64 to int64) but refuses to cast a value that does not
    fit: two Parquet files of such ids and values ended in 'internal error (ArrowInvalid: Integer value
    9007199254740993 not in range ...); this is a bug in lossctl' (exit 4). The column is read as text then, as a
    CSV's ids beyond 2^53 are: each id its own group, and values still numbers."""
    pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [0.0, 0.0], "g": ids}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"pred": [3.0], "target": [0.0], "g": other}), tmp_path / "b.parquet")
    run = cli("eval", tmp_path / "a.parquet", tmp_path / "b.parquet", "-l", "mae", "--by", "g", "-f", "json", "-q")
    assert (run.code, run.err) == (0, "")
    results = json.loads(run.out)["results"]
    assert [(r["group"], r["n"], r["value"]) for r in results[1:]] == [
        ({"g": str(ids[0])}, 1, 1.0),
        ({"g": str(ids[1])}, 1, 2.0),
        ({"g": str(other[0])}, 1, 3.0),
    ]
    run = cli("eval", tmp_path / "a.parquet", tmp_path / "b.parquet", "-l", "mae", "--pred", "g", "-f", "csv", "-q")
    fields = run.out.splitlines()[1].split(",")
    expected = np.mean(np.abs([float(v) for v in [*ids.to_pylist(), *other.to_pylist()]]))  # as float64 values
    assert (run.code, fields[4], float(fields[3])) == (0, "3", pytest.approx(expected, rel=1e-15))


def test_an_integer_beyond_2_53_then_a_decimal_in_a_later_csv_block_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same within one CSV: an int64 block holding 9007199254740993 and a later block of doubles could not be
    joined (an internal error, exit 4); in one block pyarrow reads the column as doubles."""
    import lossctl

    monkeypatch.setattr(readers, "BLOCK_BYTES", 64)  # the first blocks hold int64 values only
    text = "pred,target\n" + "".join(f"{2**53 + 1 if i == 0 else i},0\n" for i in range(20)) + "1.5,0\n"
    report = lossctl.evaluate(write(tmp_path / "p.csv", text.encode()), losses="mae")
    expected = np.mean([float(2**53 + 1), *range(1, 20), 1.5])
    assert (report.results[0].n, report.results[0].value) == (21, pytest.approx(expected, rel=1e-15))


def test_a_column_name_longer_than_the_csv_modules_field_limit_is_read(cli, tmp_path: Path) -> None:
    # It was "cannot read 'l.csv' as CSV: line 1: field larger than field limit (131072)", a limit of Python's csv
    # module (which parses the header line) the user cannot change; pyarrow reads the file.
    long = "a" * 200_000
    path = write(tmp_path / "l.csv", f"{long},target,pred\n1,2,3\n5,1,1\n".encode())
    assert open_input(str(path)).read([long, "pred"]).to_pydict() == {long: [1, 5], "pred": [3, 1]}
    run = cli("eval", path, "-l", "mse", "-f", "csv", "-q")
    assert (run.code, run.err, run.out.splitlines()[1]) == (0, "", "mse,multioutput=none,mean,0.5,2,,")


def test_an_empty_input_among_several_has_no_columns(cli, tmp_path: Path) -> None:
    """An empty JSON Lines file (or a CSV file without even a header line) among several inputs said only "is empty",
    while a CSV file with a header line only is 0 rows of the same columns: it is the input whose columns differ."""
    data = write(tmp_path / "two.csv", b"pred,target\n1,2\n3,3\n")
    header = write(tmp_path / "h.csv", b"pred,target\n")
    run = cli("eval", data, header, "-l", "mse", "-f", "csv", "-q")
    assert (run.code, run.out.splitlines()[1]) == (0, "mse,multioutput=none,mean,0.5,2,,")
    for empty in (
        write(tmp_path / "e.jsonl", b""),
        write(tmp_path / "b.jsonl", b"\n\n"),
        write(tmp_path / "e.csv", b""),
    ):
        for paths in ((empty, data), (data, empty)):
            run = cli("eval", *paths, "-l", "mse")
            assert (run.code, run.out) == (3, "")
            assert run.err == (
                f"error: '{empty}' is empty, so it has no columns: several inputs are read as one dataset and must "
                "have the same columns\n"
            )
    run = cli("eval", tmp_path / "e.jsonl", "-l", "mse")
    assert (run.code, run.err) == (3, f"error: '{tmp_path / 'e.jsonl'}' is empty\n")


@pytest.mark.parametrize("fmt", ["csv", "parquet", "arrow"])
def test_duplicate_column_names(tmp_path: Path, fmt: str) -> None:
    """A repeated name is refused when it is read; the input's other columns are read (a CSV that pandas wrote with
    an unnamed two-level index, ',,pred,target', was refused as a whole: "column '' appears more than once")."""
    names, values = ["", "", "pred", "target", "pred"], [["a"], ["b"], [1.0], [2.0], [3.0]]
    table = pa.Table.from_arrays([pa.array(column) for column in values], names=names)
    path = str(tmp_path / f"x.{fmt}")
    if fmt == "csv":
        write(tmp_path / "x.csv", b",,pred,target,pred\na,b,1,2,3\n")
    else:
        (pq.write_table if fmt == "parquet" else feather.write_feather)(table, path)
    source = open_input(path)
    assert source.columns == names
    assert source.read(["target"]).column("target").to_pylist() == [2]
    for column in ("pred", ""):
        with pytest.raises(InputError) as error:
            source.read([column, "target"])
        assert message(error) == f"column '{column}' appears more than once in '{path}'; column names must be unique"


@pytest.mark.parametrize(("args", "column"), [(["--pred", "p*"], "pred"), (["--model", "*", "--target", "y"], "x")])
def test_a_glob_over_a_repeated_column_name_is_the_duplicate_name_error(
    cli, tmp_path: Path, args: list[str], column: str
) -> None:
    """A glob matching a name the file repeats was "error: column 'x' is named twice in '*'" (exit 2), blaming a
    COLSPEC the user wrote once; it is the error a plain name gets: the file's names must be unique (exit 3)."""
    pq.write_table(pa.Table.from_arrays([pa.array([1.0, 2.0])] * 4, names=["y", "pred", "x", "x"]), tmp_path / "p.pq")
    pq.write_table(pa.Table.from_arrays([pa.array([1.0, 2.0])] * 3, names=["y", "pred", "pred"]), tmp_path / "d.pq")
    path = tmp_path / ("p.pq" if column == "x" else "d.pq")
    run = cli("eval", path, *args, "-l", "mse")
    assert (run.code, run.out) == (3, "")
    assert run.err == f"error: column '{column}' appears more than once in '{path}'; column names must be unique\n"


def test_read_of_an_unknown_column(tmp_path: Path) -> None:
    source = open_input(write(tmp_path / "preds.csv", SIMPLE_CSV))
    with pytest.raises(InputError) as error:
        source.read(["y_pred"])
    assert message(error) == (
        f"column 'y_pred' not found in {tmp_path / 'preds.csv'}; columns are: id, pred, target; did you mean 'pred'?"
    )


def test_permission_denied_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "x.csv", SIMPLE_CSV)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    # The tests may run as root, who can read anything: refuse the open instead of chmod-ing the file.
    monkeypatch.setattr(readers, "open", refuse, raising=False)
    with pytest.raises(InputError) as error:
        open_input(path)
    assert message(error) == f"cannot read '{path}': permission denied"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads unreadable files")
def test_permission_denied_on_a_real_file(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", SIMPLE_CSV)
    os.chmod(path, 0)
    with pytest.raises(InputError) as error:
        open_input(path)
    assert message(error) == f"cannot read '{path}': permission denied"


def test_importing_columns_does_not_import_pyarrow() -> None:
    code = (
        "import sys, lossctl.io.columns, lossctl.io; "
        "print(sorted(m for m in sys.modules if m.startswith(('pyarrow', 'pandas'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- columns ----------------------------------------------------------------------------------------


def test_default_names_are_the_documented_ones() -> None:
    assert DEFAULT_NAMES["pred"] == ("pred", "prediction", "y_pred", "yhat", "score", "prob", "logit")
    assert DEFAULT_NAMES["target"] == ("target", "y_true", "label", "y", "actual", "truth")


@pytest.mark.parametrize(
    ("role", "available", "expected"),
    [
        ("pred", ["id", "score", "yhat"], "yhat"),  # the name earlier in the list wins over column order
        ("pred", ["Y_PRED", "id"], "Y_PRED"),  # case-insensitive, the file's spelling is returned
        ("pred", ["PRED", "pred"], "PRED"),  # same name twice: the earlier column
        ("target", ["y", "label", "truth"], "label"),
        ("target", ["id", "value"], None),
        ("target", ["pred", " target"], " target"),  # a header written 'pred, target': no guess before
        ("weight", ["weight"], None),  # no default for other roles
    ],
)
def test_guess_column(role: str, available: list[str], expected: str | None) -> None:
    assert guess_column(role, available) == expected


def test_resolve_one_name_and_a_list() -> None:
    available = ["id", "x1", "y1", "x2", "y2"]
    assert resolve_colspec("x1", available, "p.csv") == ["x1"]
    assert resolve_colspec("y2, x1 ,y1", available, "p.csv") == ["y2", "x1", "y1"]


def test_glob_is_expanded_in_natural_order() -> None:
    available = ["id", "logit_10", "logit_2", "logit_1", "other"]
    assert resolve_colspec("logit_*", available, "p.csv") == ["logit_1", "logit_2", "logit_10"]
    assert resolve_colspec("logit_?", available, "p.csv") == ["logit_1", "logit_2"]
    assert resolve_colspec("id,logit_[12]", available, "p.csv") == ["id", "logit_1", "logit_2"]


def test_a_name_with_glob_characters_is_taken_literally_when_it_exists() -> None:
    assert resolve_colspec("p[0]", ["p[0]", "p0"], "p.csv") == ["p[0]"]


def test_a_name_with_a_comma_or_spaces_is_taken_literally_when_it_exists() -> None:
    """A quoted CSV header (``"t, arget"``) or one written ``pred, target``: the name the error suggests is one the
    COLSPEC accepts."""
    assert resolve_colspec("t, arget", ["my pred", "t, arget"], "p.csv") == ["t, arget"]
    assert resolve_colspec(" target", ["pred", " target"], "p.csv") == [" target"]
    assert resolve_colspec("pred, target", ["pred", " target"], "p.csv") == ["pred", " target"]
    assert resolve_colspec(" pred ,target ", ["pred", "target"], "p.csv") == ["pred", "target"]
    assert resolve_colspec("a,", ["a,", "b"], "p.csv") == ["a,"]
    for spec in ("", " "):  # a pandas index's empty name is no name to give
        with pytest.raises(UsageError):
            resolve_colspec(spec, ["", " ", "pred"], "p.csv")


def test_a_header_with_spaces_after_its_commas_names_its_columns_as_written(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", b'pred, target, w,"a, b"\n1, 2,1,x\n3, 5,1,x\n')
    args = ["--pred", "pred", "--target", " target", "--weight", " w", "--by", "a, b", "-l", "mse", "--format", "json"]
    run = subprocess.run([sys.executable, "-m", "lossctl", "eval", str(path), *args], capture_output=True, text=True)
    assert (run.returncode, run.stderr) == (0, "")
    results = json.loads(run.stdout)["results"]
    assert [(r["group"], r["value"]) for r in results] == [(None, 2.5), ({"a, b": "x"}, 2.5)]
    run = subprocess.run(
        [sys.executable, "-m", "lossctl", "eval", str(path), "-l", "mse", "--col", "target= target", "--quiet"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr


def test_missing_column_message_with_suggestion() -> None:
    with pytest.raises(InputError) as error:
        resolve_colspec("y_pred", ["id", "pred", "target"], "preds.csv")
    assert (
        message(error) == "column 'y_pred' not found in preds.csv; columns are: id, pred, target; did you mean 'pred'?"
    )


def test_missing_column_message_without_suggestion() -> None:
    with pytest.raises(InputError) as error:
        resolve_colspec("zzz", ["id", "pred", "target"], "preds.csv")
    assert message(error) == "column 'zzz' not found in preds.csv; columns are: id, pred, target"


def test_missing_column_suggests_another_case() -> None:
    with pytest.raises(InputError) as error:
        resolve_colspec("pred", ["ID", "PRED"], "p.csv")
    assert message(error).endswith("; did you mean 'PRED'?")


def test_long_column_lists_are_shortened() -> None:
    available = [f"c{i}" for i in range(30)]
    with pytest.raises(InputError) as error:
        resolve_colspec("zzz", available, "p.csv")
    assert message(error).endswith("c18, c19, ... (30 columns)")


def test_glob_matching_no_column() -> None:
    with pytest.raises(InputError) as error:
        resolve_colspec("logit_*", ["id", "pred"], "preds.csv")
    assert message(error) == "no column matches 'logit_*' in preds.csv; columns are: id, pred"


@pytest.mark.parametrize("spec", ["", "  ", "a,,b", "a,"])
def test_empty_spec_is_a_usage_error(spec: str) -> None:
    with pytest.raises(UsageError) as error:
        resolve_colspec(spec, ["a", "b"], "p.csv")
    assert message(error) == f"empty column name in '{spec}'; give a name, a comma-separated list of names or a glob"


def test_a_column_named_twice_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as error:
        resolve_colspec("x1,x*", ["x1", "x2"], "p.csv")
    assert message(error) == "column 'x1' is named twice in 'x1,x*'"


# --- convert ----------------------------------------------------------------------------------------


def test_float64_without_nulls_is_zero_copy() -> None:
    array = pa.array([0.5, 1.5, 2.5])
    values, missing = to_float64(array, "pred")
    assert values.dtype == np.float64
    assert values.ctypes.data == array.buffers()[1].address
    assert missing is None


def test_nulls_become_nan_and_are_masked() -> None:
    values, missing = to_float64(pa.array([1.0, None, float("nan"), 4.0]), "pred")
    assert np.isnan(values[1]) and np.isnan(values[2])
    assert values[[0, 3]].tolist() == [1.0, 4.0]
    assert missing is not None and missing.tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (pa.array([1, 2, None], pa.int32()), [1.0, 2.0, None]),
        (pa.array([True, False, None]), [1.0, 0.0, None]),
        (pa.array([0.5, None], pa.float32()), [0.5, None]),
        (pa.array([1, 1, 2], pa.uint8()).dictionary_encode(), [1.0, 1.0, 2.0]),
        (pa.nulls(2), [None, None]),
        (pa.array([" 1.5", "", None, "2e3", "nan"]), [1.5, None, None, 2000.0, None]),
    ],
)
def test_other_numeric_types_and_numeric_text(array: pa.Array, expected: list[float | None]) -> None:
    values, missing = to_float64(array, "x")
    assert values.dtype == np.float64
    assert [None if np.isnan(v) else v for v in values.tolist()] == expected
    assert (missing is None) == (None not in expected)


@pytest.mark.parametrize(
    "kind",
    [
        *(pa.decimal32(9, 4), pa.decimal64(18, 9), pa.decimal128(10, 2), pa.decimal128(38, 30)),
        *(pa.decimal256(76, 40), pa.decimal128(20, -5), pa.decimal64(15, 23), pa.decimal128(38, 0)),
    ],
    ids=str,
)
def test_decimals_are_the_double_nearest_their_value(kind: pa.DataType) -> None:
    # Arrow's cast scales in floating point: decimal(10, 2) 1.66 was 1.6600000000000001, not what '1.66' in a CSV is.
    rng = np.random.default_rng(kind.precision)
    digits = rng.integers(1, kind.precision + 1, 300)
    texts = [str(rng.integers(-(10 ** min(d, 18)) + 1, 10 ** min(d, 18))) + "7" * max(d - 18, 0) for d in digits]
    values = [decimal.Decimal(t).scaleb(-kind.scale) if i % 7 else None for i, t in enumerate(texts)]
    values[1] = decimal.Decimal(166).scaleb(-kind.scale)
    array = pa.array(values, kind).slice(1)
    got, missing = to_float64(array, "x")
    expected = [math.nan if v is None else float(v) for v in values[1:]]
    assert np.array_equal(got, expected, equal_nan=True) and missing is not None


def test_large_integers_round_instead_of_failing() -> None:
    values, _ = to_float64(pa.array([2**53 + 1]), "id")
    assert values[0] == float(2**53)


def test_chunked_array_is_converted_with_file_rows_in_messages() -> None:
    chunked = pa.chunked_array([pa.array([1.0, None]), pa.array([3.0, 4.0])])
    values, missing = to_float64(chunked, "pred")
    assert values[[0, 2, 3]].tolist() == [1.0, 3.0, 4.0]
    assert missing is not None and missing.tolist() == [False, True, False, False]
    with pytest.raises(InputError) as error:
        to_float64(pa.chunked_array([["1", "2"], ["3", "abc"]]), "y_pred", row_offset=100)
    assert message(error) == "column 'y_pred' is not numeric: 'abc' at row 103"


def test_non_numeric_text() -> None:
    with pytest.raises(InputError) as error:
        to_float64(pa.array(["1", "2", "3", "4", "abc"]), "y_pred")
    assert message(error) == "column 'y_pred' is not numeric: 'abc' at row 4"
    with pytest.raises(InputError) as error:
        to_float64(pa.array(["1_000"]), "y_pred")
    assert message(error) == "column 'y_pred' is not numeric: '1_000' at row 0"


def test_list_column_is_not_a_scalar() -> None:
    with pytest.raises(InputError) as error:
        to_float64(pa.array([[1.0, 2.0]]), "emb")
    assert message(error) == "column 'emb' is a list column; it can only be bound to a role that takes vectors"


def test_other_types_are_not_numeric() -> None:
    with pytest.raises(InputError) as error:
        to_float64(pa.array([b"x"]), "blob")
    assert message(error) == "column 'blob' is not numeric: it has type binary"


def test_matrix_from_stacked_columns_is_column_major() -> None:
    matrix, missing = to_float64_matrix(
        [pa.array([1.0, 2.0, 3.0]), pa.array([4, None, 6])], ["logit_1", "logit_2"], row_offset=0
    )
    assert matrix.shape == (3, 2)
    assert matrix.flags.f_contiguous
    assert matrix[:, 0].tolist() == [1.0, 2.0, 3.0]
    assert missing is not None and missing.tolist() == [False, True, False]


def test_matrix_from_one_numeric_column_has_one_column() -> None:
    matrix, missing = to_float64_matrix(pa.array([1.0, 2.0]), ["x"])
    assert matrix.shape == (2, 1)
    assert missing is None


@pytest.mark.parametrize(
    "kind",
    [
        pa.list_(pa.float64()),
        pa.list_(pa.int64(), 2),
        pa.large_list(pa.float32()),
        pa.list_view(pa.float64()),
        pa.large_list_view(pa.int64()),
    ],
)
def test_matrix_from_a_list_column(kind: pa.DataType) -> None:
    array = pa.array([[1, 2], None, [5, 6]], kind)
    matrix, missing = to_float64_matrix([array], ["emb"])
    assert matrix.shape == (3, 2)
    assert matrix[[0, 2]].tolist() == [[1.0, 2.0], [5.0, 6.0]]
    assert np.isnan(matrix[1]).all()
    assert missing is not None and missing.tolist() == [False, True, False]


@pytest.mark.parametrize("values", [pa.float64(), pa.string()], ids=str)
def test_a_list_of_dictionary_encoded_numbers_is_a_matrix(values: pa.DataType) -> None:
    # Lists of dictionary-encoded elements were 'is a list of dictionary<values=string, indices=int8, ordered=0>,
    # expected lists of numbers', though a dictionary-encoded scalar column of the same values is read as numbers.
    rows = [[0.25, 0.75], None, [1.5, None]]
    text = values == pa.string()
    cells = [None if row is None else [str(v) if text and v is not None else v for v in row] for row in rows]
    array = pa.array(cells, pa.list_(pa.dictionary(pa.int8(), values)))
    matrix, missing = to_float64_matrix([array], ["emb"])
    assert matrix[0].tolist() == [0.25, 0.75] and matrix[2, 0] == 1.5 and np.isnan(matrix[1]).all()
    assert missing is not None and missing.tolist() == [False, True, True]
    with pytest.raises(InputError, match=r"^column 'emb' is a list of dictionary<values=binary"):
        to_float64_matrix([pa.array([[b"\xff"]], pa.list_(pa.dictionary(pa.int8(), pa.binary())))], ["emb"])


def test_list_view_is_read_by_its_offsets_and_sizes(tmp_path: Path) -> None:
    """pyarrow's cast of a list view to a list makes up its offsets: a view's last row was read as empty, or with a
    negative length (-6 values), so a Feather file of list views failed as ragged."""
    views = pa.ListViewArray.from_arrays(
        pa.array([4, 0, 2], pa.int32()), pa.array([2, 2, 2], pa.int32()), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    )
    feather.write_feather(pa.table({"emb": views}), tmp_path / "v.feather")
    column = open_input(str(tmp_path / "v.feather")).read(["emb"]).column("emb")
    matrix, missing = to_float64_matrix(column, ["emb"])
    assert matrix.tolist() == [[5.0, 6.0], [1.0, 2.0], [3.0, 4.0]]
    assert missing is None


def test_matrix_from_a_chunked_list_column_with_a_null_inside() -> None:
    chunked = pa.chunked_array([pa.array([[1.0, 2.0]]), pa.array([[3.0, None]])])
    matrix, missing = to_float64_matrix(chunked, ["emb"])
    assert matrix[0].tolist() == [1.0, 2.0]
    assert missing is not None and missing.tolist() == [False, True]


def test_ragged_list_column() -> None:
    chunked = pa.chunked_array([pa.array([None, [1.0, 2.0]]), pa.array([[3.0, 4.0], [5.0]])])
    with pytest.raises(InputError) as error:
        to_float64_matrix(chunked, ["emb"], row_offset=10)
    assert message(error) == "column 'emb' holds vectors of different lengths: row 11 has 2 values but row 13 has 1"


def test_vector_widths_tell_a_part_read_as_numbers() -> None:
    """A part of the input (a Dask task's rows) whose first cell is a plain number reads the column as numbers: one
    value per row, which the other parts' 3-wide vectors refuse, where it was merged without a word."""
    from lossctl.io.convert import VectorWidths

    vectors, numbers = VectorWidths(), VectorWidths()
    vectors.saw(("emb",), np.ones((2, 3)), None, 0)
    numbers.saw(("emb",), np.array([np.nan, 0.5]), np.array([True, False]), 2)
    assert not numbers.holds_vectors(("emb",)) and vectors.holds_vectors(("emb",))
    with pytest.raises(InputError) as error:
        vectors.merge(numbers.first)
    assert message(error) == "column 'emb' holds vectors of different lengths: row 0 has 3 values but row 3 has 1"


def test_list_of_bytes_is_refused() -> None:
    with pytest.raises(InputError) as error:
        to_float64_matrix(pa.array([[b"a"]]), ["emb"])
    assert message(error) == "column 'emb' is a list of binary, expected lists of numbers"


@pytest.mark.parametrize("kind", [pa.list_(pa.string()), pa.large_list(pa.large_string()), pa.list_(pa.string(), 2)])
def test_list_of_text_holds_numbers_as_a_csv_json_array_does(kind: pa.DataType) -> None:
    """A list of text ("0.1" in JSON Lines' or Parquet's list<string>) was "a list of string, expected lists of
    numbers", where the same JSON array in a CSV cell, and a plain text column, are read as numbers."""
    array = pa.chunked_array([pa.array([["0.1", "0.9"], None], kind), pa.array([[" 1e-1 ", "NA"], ["2", "3"]], kind)])
    matrix, missing = to_float64_matrix(array, ["emb"])
    assert np.array_equal(matrix, [[0.1, 0.9], [np.nan, np.nan], [0.1, np.nan], [2.0, 3.0]], equal_nan=True)
    assert missing is not None and missing.tolist() == [False, True, True, False]
    csv_like, _ = to_float64_matrix(pa.array(['["0.1", "0.9"]']), ["emb"])
    assert np.array_equal(csv_like, matrix[:1])
    bad = pa.chunked_array([pa.array([["1", "2"]], kind), pa.array([None, ["3", "4"], ["5", "x"]], kind)])
    with pytest.raises(InputError) as error:
        to_float64_matrix(bad, ["emb"], row_offset=10)
    assert message(error) == "column 'emb' has a value that is not a number in the list at row 13: 'x'"
    assert error.value.row == 13


def test_a_list_of_text_reads_alike_in_every_format(cli, tmp_path: Path) -> None:
    """The JSON array ["0.1", "0.9"] was numbers in a CSV cell but refused in JSON Lines and in a Parquet
    list<string> ("is a list of string"); every format now reads it as the CSV does, at any chunk size."""
    rows = [(["0.1", "0.9"], 1), (["0.8", "0.2"], 0), (["0.3", "0.7"], 1)]
    (tmp_path / "p.csv").write_text(
        "pred,target\n" + "".join(f'"{json.dumps(p).replace(chr(34), 2 * chr(34))}",{t}\n' for p, t in rows)
    )
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"pred": p, "target": t}) + "\n" for p, t in rows))
    table = pa.table({"pred": pa.array([p for p, _ in rows], pa.list_(pa.string())), "target": [t for _, t in rows]})
    pq.write_table(table, tmp_path / "p.parquet")
    expected = np.mean(np.log1p(np.exp(-np.array([0.8, 0.6, 0.4]))))  # logits: -log softmax of the target's
    for name in ("p.csv", "p.jsonl", "p.parquet"):
        for chunk_rows in ("1", "2", "1000"):
            run = cli("eval", tmp_path / name, "-l", "cross_entropy", "--pred", "pred", "-f", "json", "-q",
                      "--chunk-rows", chunk_rows)  # fmt: skip
            assert (run.code, run.err) == (0, ""), (name, chunk_rows)
            assert json.loads(run.out)["results"][0]["value"] == pytest.approx(expected), (name, chunk_rows)
    pq.write_table(table.set_column(0, "pred", pa.array([["1", "0"], ["0", "1"], ["x", "1"]])), tmp_path / "b.parquet")
    for chunk_rows in ("1", "1000"):
        run = cli("eval", tmp_path / "b.parquet", "-l", "cross_entropy", "--pred", "pred", "--chunk-rows", chunk_rows)
        assert (run.code, run.out) == (3, "")
        assert run.err == "error: column 'pred' has a value that is not a number in the list at row 2: 'x'\n"


def test_list_column_among_several_columns_is_refused() -> None:
    with pytest.raises(InputError) as error:
        to_float64_matrix([pa.array([1.0]), pa.array([[1.0]])], ["a", "b"])
    assert message(error) == (
        "column 'b' is a list column; a vector is either one list column or several numeric columns"
    )


def test_matrix_from_json_array_cells(tmp_path: Path) -> None:
    path = write(tmp_path / "v.csv", b'id,emb\n1,"[0.5, 1]"\n2,\n3,"[2, null]"\n4," [3e1,4]"\n')
    column = open_input(path).read(["emb"]).column("emb")
    matrix, missing = to_float64_matrix(column, ["emb"])
    assert matrix.shape == (4, 2)
    assert matrix[[0, 3]].tolist() == [[0.5, 1.0], [30.0, 4.0]]
    assert missing is not None and missing.tolist() == [False, True, True, False]


def test_json_array_elements_are_read_like_scalar_columns() -> None:
    matrix, missing = to_float64_matrix(pa.array(['[true, "1.5"]', "[false, 2]"]), ["emb"])
    assert matrix.tolist() == [[1.0, 1.5], [0.0, 2.0]]
    assert missing is None
    matrix, missing = to_float64_matrix(pa.array(['[" 1.5 ", 2]', '["NA", 2]']), ["emb"])
    assert matrix[0].tolist() == [1.5, 2.0]
    assert missing is not None and missing.tolist() == [False, True]


@pytest.mark.parametrize("element", ['"1_0"', '"\u0661"', '"\uff11"'])
def test_json_array_text_elements_are_numbers_only_as_arrow_spells_them(element: str) -> None:
    """Python's float reads 1_0 as 10 and Arabic-Indic or full-width digits as digits: NumPy read every cell of
    a column this way when all of them parsed, so '["1_0", 0]' was 10 unless another cell was wrong."""
    with pytest.raises(InputError) as error:
        to_float64_matrix(pa.array([f"[{element}, 0]", "[1, 2]"]), ["emb"])
    assert message(error).startswith("column 'emb' has a value that is not a number in the JSON array at row 0: ")


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["[1, 2]", "[1, 2", "[3, 4]"], "column 'emb' has an invalid JSON array at row 6: '[1, 2'"),
        (["[1, 2]", "3"], "column 'emb' has an invalid JSON array at row 6: '3'"),
        (
            ["[1, 2]", '[1, "a"]'],
            "column 'emb' has a value that is not a number in the JSON array at row 6: '[1, \"a\"]'",
        ),
        (
            ["[1, 2]", "[1, [2]]"],
            "column 'emb' has a value that is not a number in the JSON array at row 6: '[1, [2]]'",
        ),
        (["[1, 2]", "[3]"], "column 'emb' holds vectors of different lengths: row 5 has 2 values but row 6 has 1"),
        # "row 5 has 1 values"
        (["[3]", "[1, 2]"], "column 'emb' holds vectors of different lengths: row 5 has 1 value but row 6 has 2"),
        (["[1, 2]", "1], [2"], "column 'emb' has an invalid JSON array at row 6: '1], [2'"),
    ],
)
def test_invalid_json_array_cells(cells: list[str], expected: str) -> None:
    with pytest.raises(InputError) as error:
        to_float64_matrix(pa.array(cells), ["emb"], row_offset=5)
    assert message(error) == expected


# --- align ------------------------------------------------------------------------------------------


def test_targets_by_row_order() -> None:
    preds = pa.table({"pred": [0.1, 0.2]})
    targets = pa.table({"target": [1, 0]})
    joined, notices = attach_targets(preds, targets, None, "preds.csv", "targets.csv")
    assert joined.column_names == ["pred", "target"]
    assert joined.column("target").to_pylist() == [1, 0]
    assert notices == []


def test_row_counts_must_match_without_a_key() -> None:
    preds = pa.table({"pred": np.zeros(1000)})
    targets = pa.table({"target": np.zeros(999)})
    with pytest.raises(InputError) as error:
        attach_targets(preds, targets, None, "preds.csv", "targets.csv")
    assert message(error) == (
        "preds.csv has 1000 rows but targets.csv has 999; rows are aligned by order, so the counts must match "
        '(or use on="KEY")'  # the caller's spelling: --on KEY from the command line
    )


def test_join_on_a_key_keeps_the_predictions_order_and_drops_unused_targets() -> None:
    preds = pa.table({"id": ["c", "a", "b"], "pred": [3.0, 1.0, 2.0]})
    targets = pa.table({"id": ["a", "x", "b", "c", "y", "z"], "target": [10, 0, 20, 30, 0, 0]})
    joined, notices = attach_targets(preds, targets, "id", "preds.csv", "targets.csv", drop=True)
    assert joined.column_names == ["id", "pred", "target"]
    assert joined.column("id").to_pylist() == ["c", "a", "b"]
    assert joined.column("target").to_pylist() == [30, 10, 20]
    assert notices == [
        "targets.csv: 3 rows have a key 'id' that is not in preds.csv (first: 'x' at row 1): dropped (missing=\"drop\")"
    ]


def test_unused_target_rows_are_an_error_without_missing_drop() -> None:
    preds = pa.table({"id": [1], "pred": [0.5]})
    targets = pa.table({"id": [1, 2], "target": [1, 0]})
    with pytest.raises(InputError) as error:
        attach_targets(preds, targets, "id", "p.csv", "t.csv")
    assert message(error) == (
        "t.csv: 1 row has a key 'id' that is not in p.csv (first: 2 at row 1); to leave such rows out, use "
        'missing="drop"'
    )
    _, notices = attach_targets(preds, targets, "id", "p.csv", "t.csv", drop=True)
    assert notices == [
        "t.csv: 1 row has a key 'id' that is not in p.csv (first: 2 at row 1): dropped (missing=\"drop\")"
    ]


def test_integer_and_float_keys_match() -> None:
    preds = pa.table({"id": pa.array([2, 1], pa.int64()), "pred": [0.2, 0.1]})
    targets = pa.table({"id": pa.array([1.0, 2.0]), "target": [1, 2]})
    joined, _ = attach_targets(preds, targets, "id", "p.csv", "t.csv")
    assert joined.column("target").to_pylist() == [2, 1]


def test_integer_and_text_keys_match_by_their_text_form() -> None:
    """JSON Lines often writes ids as text: ``1`` matches ``"1"``, but ``"01"`` is another id."""
    preds = pa.table({"id": [2, 1, 10], "pred": [0.5, 0.1, 0.7]})
    targets = pa.table({"id": ["1", "10", "2"], "target": [1, 10, 2]})
    joined, _ = attach_targets(preds, targets, "id", "p.csv", "t.jsonl")
    assert joined.column("target").to_pylist() == [2, 1, 10]
    leading_zero = pa.table({"id": ["01", "10", "2"], "target": [1, 10, 2]})
    with pytest.raises(InputError) as error:
        attach_targets(preds, leading_zero, "id", "p.csv", "t.jsonl")
    assert message(error) == (
        "p.csv: 1 row has a key 'id' that is not in t.jsonl (first: 1 at row 1); to leave such rows out, use "
        'missing="drop"'
    )


def test_number_and_other_keys_do_not_match_and_the_error_says_what_to_do() -> None:
    preds = pa.table({"id": [1.5], "pred": [0.5]})
    targets = pa.table({"id": ["1.5"], "target": [1]})
    with pytest.raises(InputError) as error:
        attach_targets(preds, targets, "id", "p.csv", "t.jsonl")
    assert message(error) == (
        "key column 'id' is double in p.csv but string in t.jsonl; the keys cannot be matched: write them with one "
        "type in both files (integers or text)"
    )


def test_key_missing_from_a_table() -> None:
    preds = pa.table({"id": [1], "pred": [0.5]})
    targets = pa.table({"key": [1], "target": [1]})
    with pytest.raises(InputError) as error:
        attach_targets(preds, targets, "id", "preds.csv", "targets.csv")
    assert message(error) == "column 'id' not found in targets.csv; columns are: key, target"


def test_duplicate_keys() -> None:
    preds = pa.table({"id": [1, 2, 3], "pred": [0.1, 0.2, 0.3]})
    targets = pa.table({"id": [5, 1, 2, 1, 3, 2, 1], "target": range(7)})
    with pytest.raises(InputError) as error:
        attach_targets(preds, targets, "id", "preds.csv", "targets.csv")
    assert message(error) == (
        "key column 'id' has 3 duplicate values in targets.csv (first: 1 at row 3); each row needs a distinct key"
    )
    with pytest.raises(InputError) as error:
        attach_targets(targets.rename_columns(["id", "pred"]), preds.select(["id"]), "id", "p.csv", "t.csv")
    assert message(error).startswith("key column 'id' has 3 duplicate values in p.csv (first: 1 at row 3)")


def test_predictions_without_target() -> None:
    preds = pa.table({"id": ["a", "q", "b", "r"], "pred": [0.1, 0.2, 0.3, 0.4]})
    targets = pa.table({"id": ["a", "b"], "target": [1, 0]})
    with pytest.raises(InputError) as error:
        attach_targets(preds, targets, "id", "preds.csv", "targets.csv")
    assert message(error) == (
        "preds.csv: 2 rows have a key 'id' that is not in targets.csv (first: 'q' at row 1); to leave such rows out, "
        'use missing="drop"'
    )


def test_null_keys() -> None:
    preds = pa.table({"id": [1, None, None], "pred": [0.1, 0.2, 0.3]})
    targets = pa.table({"id": [1, 2, 3], "target": [1, 0, 1]})
    with pytest.raises(InputError) as error:
        attach_targets(preds, targets, "id", "preds.csv", "targets.csv")
    assert message(error) == (
        "key column 'id' has 2 missing values in preds.csv (first: row 1); to leave such rows out, use missing=\"drop\""
    )


def test_a_column_read_from_both_files_is_a_usage_error() -> None:
    preds = pa.table({"id": [1], "value": [0.5]})
    targets = pa.table({"id": [1], "value": [1.0]})
    with pytest.raises(UsageError) as error:
        attach_targets(preds, targets, "id", "preds.csv", "targets.csv")
    assert message(error) == (
        "column 'value' is read from both preds.csv and targets.csv, so it is ambiguous; rename it in one of the files"
    )


def test_a_pipe_read_as_input_gets_a_wider_buffer() -> None:
    import fcntl

    limit = Path("/proc/sys/fs/pipe-max-size")
    if not limit.exists() or int(limit.read_text()) < 1 << 20:
        pytest.skip("this system does not let a process widen a pipe to 1 MiB")
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(read_end, "rb", buffering=0) as stream:
            before = fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ)
            streams.widen_pipe(stream)
            assert (before, fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ)) == (1 << 16, 1 << 20)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("size", [0, 1, (1 << 18) - 1, 1 << 18, (1 << 18) + 1, 3 * (1 << 18) + 5])
def test_line_count_of_a_block_equals_counting_newlines(size: int) -> None:
    """count_lines compares a block in pieces: every piece boundary, a last short piece and an empty block."""
    from lossctl.io.guards import count_lines

    rng = np.random.default_rng(size)
    block = rng.choice(np.frombuffer(b"0123456789,.\n", dtype=np.uint8), size).tobytes()
    assert count_lines(block) == block.count(b"\n")
    assert count_lines(pa.py_buffer(block)) == block.count(b"\n")


def test_a_staged_output_is_published_after_the_files_or_dropped_with_them(tmp_path: Path) -> None:
    """An output published by its own code (the Dask engine's --per-sample dataset in a bucket) joins the run's
    transaction: published after the files once every output is written, else aborted."""
    from lossctl import tempfiles

    calls: list[object] = []

    def staged() -> None:
        tempfiles.publish_staged(
            lambda: calls.append(("published", (tmp_path / "a.txt").exists())),
            lambda: calls.append("aborted"),
            lambda: calls.append("taken back"),
        )

    with tempfiles.transaction():
        staged()
        assert calls == []
        tempfiles.write_atomic(tmp_path / "a.txt", lambda path: path.write_text("x"))
    assert calls == [("published", True)]
    calls.clear()
    with pytest.raises(InputError, match=r"^cannot write "), tempfiles.transaction():
        staged()
        tempfiles.write_atomic(tmp_path / "gone" / "b.txt", lambda path: path.write_text("x"))
    assert calls == ["aborted"]


def test_standard_input_among_several_paths_is_one_of_the_dataset_parts(tmp_path: Path) -> None:
    """``lossctl eval a.csv -`` was a usage error ('cannot be read together with other inputs') although
    ``/dev/stdin`` in its place was read; ``-`` is now a part like any other, given once."""
    from lossctl.io.sources import open_data

    path = write(tmp_path / "first.csv", SIMPLE_CSV)
    piped = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": [4], "pred": [3.5], "target": [4.0]}), piped)
    source = open_data([path, "-"], stdin=io.BytesIO(piped.getvalue().to_pybytes()))
    assert source.read(["id", "pred"]).to_pydict() == {"id": [1, 2, 3, 4], "pred": [0.5, 1.5, 2.5, 3.5]}
    with pytest.raises(UsageError) as error:
        open_data(["-", path, "/dev/stdin"], stdin=io.BytesIO(SIMPLE_CSV))
    assert message(error) == "standard input (-) is given more than once among the inputs; it can be read only once"
    with pytest.raises(InputError) as error:  # named as every message names it, not '-'
        open_data([path, "-"], stdin=io.BytesIO(b"id,pred\n1,2\n"))
    assert message(error).startswith(f"standard input lacks the column 'target' that {path} has: ")


def test_quoted_decimal_commas_in_a_comma_separated_file(tmp_path: Path) -> None:
    """``"1,5"`` in a comma-separated file: without --decimal , the error advises it, and with it the values are
    read (it was a usage error, '--decimal , needs another delimiter than ','; give --delimiter')."""
    import lossctl

    path = write(tmp_path / "p.csv", b'pred,target\n"1,5",2\n"3","4,25"\n')
    with pytest.raises(InputError, match=r"if ',' is its decimal point, give decimal=\",\"$"):
        lossctl.evaluate(path, losses="mse", pred="pred", target="target")
    report = lossctl.evaluate(path, losses="mse", pred="pred", target="target", decimal=",")
    assert report["mse"] == ((1.5 - 2) ** 2 + (3 - 4.25) ** 2) / 2


_MIXED = "error: column 'pred' mixes decimal points: {} and {}; write every number with the same one\n"


@pytest.mark.parametrize(
    "chunk", [["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--chunk-rows", "3"], ["--chunk-rows", "4"], []]
)
@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        # A chunk of decimal commas alone was refused before a later chunk showed a point: --chunk-rows 1 said
        # "not numeric: '0,5' ... give --decimal ,", 2 said "mixes decimal points".
        ('"0,5",1\n0.25,0\n"0,75",1\n', [], _MIXED.format("'0,5' at row 0", "'0.25' at row 1")),
        ('"0,5",1\n0.25,0\n"0,75",1\n', ["--decimal", ","], _MIXED.format("'0,5' at row 0", "'0.25' at row 1")),
        # With --decimal , a chunk of points alone was refused at once ("holds a '.'").
        ('0.25,0\n"0,5",1\n"0,75",1\n', ["--decimal", ","], _MIXED.format("'0.25' at row 0", "'0,5' at row 1")),
        # A cell that is no number, in a later chunk: one chunk finds it before the marks.
        ('"0,5",1\n0.25,0\nabc,1\n', [], "error: column 'pred' is not numeric: 'abc' at row 2\n"),
        # Decimal commas alone, over several chunks: told after the last.
        (
            '"0,5",1\n1,0\n"0,75",1\n',
            [],
            "error: column 'pred' is not numeric: '0,5' at row 0; if ',' is its decimal point, give --decimal ,\n",
        ),
        # The target is read before the prediction: its error in a later chunk is the one one chunk tells.
        (
            'abc,1\n1,0\n1,"0,5"\n',
            [],
            "error: column 'target' is not numeric: '0,5' at row 2; if ',' is its decimal point, give --decimal ,\n",
        ),
    ],
)
def test_text_number_errors_do_not_depend_on_the_chunks(
    cli, tmp_path: Path, chunk: list[str], text: str, decimal: list[str], expected: str
) -> None:
    path = write(tmp_path / "dc.csv", ("pred,target\n" + text).encode())
    per_sample = tmp_path / "rows.csv"
    run = cli("eval", path, "-l", "mse", *decimal, *chunk, "--per-sample", per_sample, "-q")
    assert (run.code, run.out, run.err) == (3, "", expected)
    assert not per_sample.exists()


@pytest.mark.parametrize("suffix", [".arrow", ".parquet"])
def test_columns_of_arrow_extension_types_are_read_as_their_storage(cli, tmp_path: Path, suffix: str) -> None:
    """A uuid or JSON key, a bool8 target and a fixed_shape_tensor of probabilities are their canonical text, text,
    0/1 and vectors; a --by on the uuid was an internal error (exit 4: no dictionary_encode for the extension)."""
    tensor = pa.fixed_shape_tensor(pa.float64(), [2])
    table = pa.table(
        {
            "id": pa.array([b"a" * 16, b"b" * 16, b"a" * 16], pa.uuid()),
            "tag": pa.array(['"x"', '"y"', '"y"'], pa.json_()),
            "y": pa.ExtensionArray.from_storage(pa.bool8(), pa.array([1, 0, 1], pa.int8())),
            "p": pa.array([0.8, 0.4, 0.5]),
            "probs": pa.ExtensionArray.from_storage(
                tensor, pa.FixedSizeListArray.from_arrays(pa.array([0.2, 0.8, 0.6, 0.4, 0.5, 0.5]), 2)
            ),
        }
    )
    path = tmp_path / f"ext{suffix}"
    (feather.write_feather if suffix == ".arrow" else pq.write_table)(table, path)
    bce = [-np.log(0.8), -np.log(0.6), -np.log(0.5)]
    run = cli("eval", path, "-l", "bce", "--target", "y", "--pred", "p", "--by", "id", "--by", "tag", "-f", "json")
    assert run.code == 0, run.err
    results = json.loads(run.out)["results"]
    a, b = (str(uuid.UUID(bytes=letter * 16)) for letter in (b"a", b"b"))  # 61616161-6161-...
    assert [r["group"] for r in results[1:]] == [
        {"id": a, "tag": '"x"'},
        {"id": b, "tag": '"y"'},
        {"id": a, "tag": '"y"'},
    ]
    assert results[0]["value"] == pytest.approx(np.mean(bce), rel=1e-12)
    run = cli("eval", path, "-l", "cross_entropy", "--target", "y", "--pred", "probs", "-f", "json")
    assert run.code == 0, run.err
    logits = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[[0, 1, 2], [1, 0, 1]])
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(expected, rel=1e-12)


def test_list_views_and_run_end_encoded_columns_are_read_as_their_values(cli, tmp_path: Path) -> None:
    """A list view column was 'holds vectors of different lengths: row 0 has 2 values but row 2 has -4' (its offsets
    and sizes read as a list's offsets), a run-end encoded one 'is not numeric: it has type run_end_encoded<...>'."""
    children = pa.array([0.5, 0.5, 9.0, 0.0, 1.0, 1.0, 0.0])  # rows out of order in the child array, one unused value
    view = pa.ListViewArray.from_arrays(pa.array([3, 5, 0], pa.int32()), pa.array([2, 2, 2], pa.int32()), children)
    table = pa.table({"y": [1, 0, 1], "logits": view, "p": pa.RunEndEncodedArray.from_arrays([2, 3], [0.5, 0.25])})
    feather.write_feather(table, tmp_path / "views.arrow", compression="uncompressed")
    logits = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[[0, 1, 2], [1, 0, 1]])
    run = cli(
        "eval", tmp_path / "views.arrow", "-l", "cross_entropy", "--target", "y", "--pred", "logits", "-f", "json"
    )
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(expected, rel=1e-12)
    run = cli("eval", tmp_path / "views.arrow", "-l", "bce", "--target", "y", "--pred", "p", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["value"] == pytest.approx(-np.mean(np.log([0.5, 0.5, 0.25])), rel=1e-12)


def test_streamed_blocks_are_in_memory_arrow_owns(tmp_path: Path) -> None:
    """A block over the reader's Python bytearray (pa.py_buffer) is freed under the GIL, which a threaded read_csv
    could do on one of Arrow's threads after it returned: a script whose last call read a CSV stream aborted at
    exit ("terminate called without an active exception", exit 134) about one run in five."""
    from lossctl.io.readers import _stream_blocks

    views: list[np.ndarray] = []

    class Recording(io.BytesIO):
        def readinto(self, buffer):  # type: ignore[override]
            views.append(np.frombuffer(buffer, dtype=np.uint8))
            return super().readinto(buffer)

    blocks = list(_stream_blocks(Recording(b"y,pred\n1,2\n3,4\n"), 1024, True, 1 << 20))
    assert [bytes(block) for _, block in blocks] == [b"1,2\n3,4\n"]
    for _, block in blocks:
        for view in views:
            assert not view.ctypes.data <= block.address < view.ctypes.data + max(len(view), 1)
    script = (
        "import io, lossctl\n"
        "lossctl.evaluate({'y': [1.0], 'pred': [2.0]}, losses='mse')\n"
        "print(lossctl.evaluate(io.BytesIO(b'y,pred\\n1,2\\n'), losses='mse')['mse'])\n"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
        for _ in range(6)
    ]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert (run.returncode, out, err) == (0, b"1.0\n", b"")


def test_a_json_lines_key_first_seen_after_the_first_mib_is_an_error_naming_it(cli, write, monkeypatch) -> None:
    # The columns are the keys of the first MiB of lines: a later key was dropped unseen, so a model that
    # '--model m_*' should have found was left out of the results (exit 0).
    from lossctl.io import readers

    monkeypatch.setattr(readers, "_JSON_HEAD_BYTES", 100)
    lines = ['{"m_a": 0.1, "target": 0.3}'] * 20 + ['{"m_a": 0.1, "target": 0.3, "seg": null}']
    lines += ['{"m_a": 0.1, "target": 0.3, "m_b": 5.0}', '{"m_a": 0.1, "target": 0.3, "m_b": 5.0, "seg": "b"}']
    path = write("late.jsonl", "\n".join(lines) + "\n")
    for option in (["--model", "m_*"], ["--pred", "m_a"]):
        run = cli("eval", path, "-l", "mse", "-q", *option)
        assert (run.code, run.out) == (3, "")
        assert run.err == (
            f"error: cannot read '{path}' as JSON Lines: line 22 (row 21; 0-based) has the key 'm_b', which no line of "
            "the first MiB has (the columns are the keys seen there); write it in an early line, even as null\n"
        )
    # A late key whose values are all null loses nothing: it is read as before.
    path = write("null.jsonl", "\n".join(lines[:21]) + "\n")
    assert cli("eval", path, "-l", "mse", "-q", "--pred", "m_a").code == 0


@pytest.mark.parametrize("extension", [".csv", ".csv.gz", ".parquet", ".arrow", ".jsonl"])
def test_a_file_whose_name_is_not_utf8(cli, tmp_path: Path, extension: str) -> None:
    """A name made of other bytes (données.csv from a Latin-1 system, held by Python as surrogates) made pyarrow's
    open raise UnicodeEncodeError, an internal error (exit 4); and the table's title wrote the surrogate to stdout
    (exit 4 again). Now the file is read by its descriptor, and the name is shown escaped."""
    table = pa.table({"pred": [1.0, 2.0, 4.0], "target": [1.0, 3.0, 1.0]})
    path = os.path.join(tmp_path, os.fsdecode(b"donn\xe9es" + extension.encode()))
    sink = io.BytesIO()
    if extension == ".parquet":
        pq.write_table(table, sink)
    elif extension == ".arrow":
        feather.write_feather(table, sink)
    else:
        text = (
            "pred,target\n1,1\n2,3\n4,1\n"
            if ".csv" in extension
            else "".join(json.dumps(row) + "\n" for row in table.to_pylist())
        )
        sink.write(gzip.compress(text.encode()) if extension.endswith(".gz") else text.encode())
    with open(path, "wb") as file:
        file.write(sink.getvalue())
    run = cli("eval", path, "-l", "mae", "-f", "csv")
    assert (run.code, run.out.splitlines()[1]) == (0, "mae,multioutput=none,mean,1.3333333333333333,3,,"), run.err
    shown = cli("eval", path, "-l", "mae")
    assert shown.code == 0 and shown.out.startswith(f"{tmp_path}/donn\\udce9es{extension}  3 rows"), shown.err


def test_some_of_20000_columns_are_read_in_the_order_asked(tmp_path: Path) -> None:
    """The columns to read were each looked up in the list of the file's columns: for the 10,000 logit columns of a
    cross_entropy 0.6 s of a 1.6 s run (quadratic: 2.4 s at 20,000), before any row was read."""
    names = [f"c{k}" for k in range(20_000)]
    text = ",".join(names) + "\n" + ",".join(["1"] * 20_000) + "\n"
    source = open_input(write(tmp_path / "wide.csv", text.encode()))
    assert source._wanted(names) == names


def test_5000_columns_of_parquet_are_all_read(tmp_path: Path) -> None:
    """Each column to read was looked up in the file's ``schema.names``, a new list at every call: 10,000 columns
    of a cross_entropy took 10 s to read one Parquet file (21 s for a folder of two), now 1.2 s."""
    names = [f"c{k}" for k in range(5000)]
    pq.write_table(pa.table({name: [1.0] for name in names}), tmp_path / "wide.parquet")
    source = open_input(str(tmp_path / "wide.parquet"))
    assert source.read(names).num_columns == 5000


def test_20000_columns_of_an_arrow_file_are_all_read(tmp_path: Path) -> None:
    """An Arrow file's columns were found with list.index, once per column read (and a JSON Lines block's keys looked
    up in a list): 20,000 columns took 2.5 s to read (3.6 s of JSON Lines), now 0.3 s (0.6 s); the limit leaves room
    for a loaded machine."""
    names = [f"c{k}" for k in range(20_000)]
    feather.write_feather(pa.table({column: [1.0] for column in names}), tmp_path / "wide.arrow")
    source = open_input(str(tmp_path / "wide.arrow"))
    assert source.read(names).num_columns == 20_000


@pytest.mark.parametrize("name", ["s3:preds.parquet", "file:preds.parquet", "gs:/preds.parquet", "hdfs:/d/p.parquet"])
def test_a_local_parquet_name_that_starts_like_a_url(cli, tmp_path: Path, monkeypatch, name: str) -> None:
    """A relative name such as s3:preds.parquet (a file, or a folder 'gs:' of a dataset) is a local file, as lossctl
    reads every other format; pyarrow took it for a URL: "cannot read 's3:preds.parquet' as Parquet: Missing bucket
    name in S3 URI", exit 3."""
    monkeypatch.chdir(tmp_path)
    os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
    pq.write_table(pa.table({"pred": [1.0, 2.0, 4.0], "target": [1.0, 3.0, 1.0]}), tmp_path / name)
    for path in (name, os.path.dirname(name)) if "/" in name else (name,):
        run = cli("eval", path, "-l", "mae", "-f", "csv", "-q")
        expected = ["mae,multioutput=none,mean,1.3333333333333333,3,,"]
        assert (run.code, run.out.splitlines()[1:], run.err) == (0, expected, "")


def test_a_chunk_whose_list_rows_are_all_null_is_dropped_as_missing(cli, tmp_path: Path) -> None:
    """A chunk of null list cells only (the first rows of a JSON Lines file, a Parquet file whose list column is
    all null) is a matrix of width 0, which the look at probabilities took the minimum of: an internal error at
    --chunk-rows 1 (exit 4) where one chunk dropped them."""
    (tmp_path / "p.jsonl").write_text(
        '{"p": null, "target": 1}\n{"p": [0.3, 0.7], "target": 1}\n{"p": [0.6, 0.4], "target": 0}\n'
    )
    expected = np.mean(np.log1p(np.exp(-np.array([0.4, 0.2]))))
    for chunk_rows in ("1", "2", "1000"):
        run = cli("eval", tmp_path / "p.jsonl", "--pred", "p", "-l", "cross_entropy", "--missing", "drop", "-f",
                  "json", "-q", "--chunk-rows", chunk_rows)  # fmt: skip
        assert (run.code, run.err) == (0, ""), chunk_rows
        result = json.loads(run.out)["results"][0]
        assert (result["n"], result["value"]) == (2, pytest.approx(expected)), chunk_rows


@pytest.mark.parametrize("again", ["p.csv", "./p.csv"])
def test_a_file_given_twice_among_the_inputs_is_noted(cli, tmp_path: Path, monkeypatch, again: str) -> None:
    # eval p.csv p.csv read its rows twice as one dataset, as given: n doubled and the intervals narrowed, without
    # a word (a shell glob never names a file twice; a user who did likely did not mean it).
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.csv").write_text("pred,target\n1,2\n3,3\n")
    run = cli("eval", "p.csv", again, "-l", "mse", "-f", "csv")
    also = "" if again == "p.csv" else " (as 'p.csv' and as './p.csv')"
    assert run.code == 0 and run.out.splitlines()[1].startswith("mse,multioutput=none,mean,0.5,4,")
    notice = f"notice: the file 'p.csv' is given twice among the inputs{also}: its rows are read twice, as given"
    assert run.err.splitlines()[0] == notice
    assert "twice" not in cli("eval", "p.csv", "-l", "mse").err


def test_files_given_twice_among_the_inputs_are_one_notice(cli, tmp_path: Path) -> None:
    # eval d/* d/* over 2,000 files wrote one notice per file, 2,000 lines; a file given 3 times was noted twice.
    paths = [tmp_path / f"p{i:02d}.csv" for i in range(25)]
    for path in paths:
        path.write_text("pred,target\n1,2\n")
    run = cli("eval", *paths, *paths, "-l", "mse", "-f", "csv")
    shown = ", ".join(f"'{path}'" for path in paths[:20])
    assert run.code == 0 and run.out.splitlines()[1].startswith("mse,multioutput=none,mean,1.0,50,")
    assert run.err.splitlines()[0] == (
        f"notice: the files {shown}, ... (25 files) are each given more than once among the inputs: their rows are "
        "read as often"
    )
    run = cli("eval", paths[0], paths[0], paths[0], "-l", "mse", "-f", "csv")
    assert run.err.splitlines()[0] == (
        f"notice: the file '{paths[0]}' is given 3 times among the inputs: its rows are read 3 times, as given"
    )


@pytest.mark.parametrize("writer", ["to_feather", "to_parquet"])
@pytest.mark.parametrize("option", ["--by", "--on"])
def test_a_pandas_range_index_is_named_as_the_files_index(cli, tmp_path: Path, writer: str, option: str) -> None:
    """df.set_index('id').to_feather(p) keeps a RangeIndex in the schema's pandas metadata only, which
    pd.read_feather restores as 'id': --by id / --on id said only "column 'id' not found", naming no reason."""
    import pandas as pd

    frame = pd.DataFrame({"id": pd.RangeIndex(3), "pred": [1.0, 2.0, 3.0], "target": [1.0, 2.0, 4.0]})
    path = tmp_path / f"p.{writer[3:]}"
    getattr(frame.set_index("id"), writer)(path)
    frame[["id", "target"]].to_csv(tmp_path / "t.csv", index=False)
    extra = ["--targets", str(tmp_path / "t.csv")] if option == "--on" else []
    run = cli("eval", path, "-l", "mse", option, "id", *extra)
    assert (run.code, run.out) == (3, "")
    assert run.err.splitlines()[-1] == (
        f"error: column 'id' not found in {path}; columns are: pred, target; 'id' is the file's pandas index (a "
        "RangeIndex), which pandas keeps in the file's metadata only, not as a column; write it as a column with "
        "df.reset_index() before saving"
    )
