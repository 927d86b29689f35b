"""``--by`` at speed: group codes across chunks, sums over rows sorted by group, memory-bounded group counts."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import lossctl
from tests.limits import address_space, run_limited


def _file(tmp_path: Path, keys: pa.Array, seed: int = 0) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = len(keys)
    y, p, w = rng.normal(size=n), rng.normal(size=n), rng.uniform(0.1, 2.0, n)
    pq.write_table(pa.table({"k": keys, "target": y, "pred": p, "w": w}), tmp_path / "d.parquet")
    return tmp_path / "d.parquet", y, p, w


def _keys(kind: str, rng: np.random.Generator, n: int) -> pa.Array:
    v = rng.integers(0, 300, n)
    return {
        "int": pa.array(v * 1_000_003),
        "text": pa.array([f"segment {x}" for x in v]),
        "date": pa.array([datetime.date(2000, 1, 1) + datetime.timedelta(days=int(x)) for x in v]),
        "bool with nulls": pa.array([None if x % 3 == 0 else bool(x % 2) for x in v]),
        "float": pa.array(v / 7),
    }[kind]


@pytest.mark.parametrize("kind", ["int", "text", "date", "bool with nulls", "float"])
@pytest.mark.parametrize("chunk_rows", [7, 97, None])
def test_group_values_equal_evaluating_each_group_alone(tmp_path: Path, kind: str, chunk_rows: int | None) -> None:
    keys = _keys(kind, np.random.default_rng(3), 3000)
    path, y, p, w = _file(tmp_path, keys)
    report = lossctl.evaluate(str(path), losses=["mse", "rmse"], weight="w", by=["k"], chunk_rows=chunk_rows)
    labels = [k.isoformat() if isinstance(k, datetime.date) else k for k in keys.to_pylist()]  # as JSON has them
    assert [r.group["k"] for r in report.results if r.group and r.loss == "mse"] == list(dict.fromkeys(labels))
    for result in report.results:
        rows = np.ones(len(y), bool) if result.group is None else np.array([k == result.group["k"] for k in labels])
        if result.group is not None and result.group["k"] is None:
            rows = np.array([k is None for k in labels])
        assert result.n == rows.sum()
        expected = lossctl.get(result.loss)(y[rows], p[rows], sample_weight=w[rows])
        assert result.value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("groups", "rows"),
    [(100, 40_000), (5_000, 20_000)],
    ids=["long runs: rows sorted by group in blocks", "short runs: one table per chunk"],
)
@pytest.mark.parametrize("chunk_rows", [4096, None])
def test_many_groups_equal_a_groupby(tmp_path: Path, groups: int, rows: int, chunk_rows: int | None) -> None:
    """Past the few-groups table, each chunk's group sums take one of two paths (engine._Worker._by_group): rows
    sorted by group within blocks when some group has more than a short run of rows, one table of all the chunk's
    rows when none has. Both give pandas' weighted group means to 1e-12."""
    import pandas as pd

    keys = pa.array(np.random.default_rng(5).integers(0, groups, rows))
    path, y, p, w = _file(tmp_path, keys)
    report = lossctl.evaluate(str(path), losses=["mse", "mae"], weight="w", by=["k"], chunk_rows=chunk_rows)
    frame = pd.DataFrame({"k": keys.to_numpy(), "se": w * (p - y) ** 2, "ae": w * np.abs(p - y), "w": w})
    sums = frame.groupby("k").sum()
    expected = {"mse": sums["se"] / sums["w"], "mae": sums["ae"] / sums["w"]}
    results = [r for r in report.results if r.group is not None]
    assert len(results) == 2 * frame["k"].nunique()
    for result in results:
        assert result.value == pytest.approx(expected[result.loss][result.group["k"]], rel=1e-12)


@pytest.mark.parametrize("command", ["evaluate", "compare"])
def test_a_by_column_does_not_change_the_batches_the_engine_reads(tmp_path: Path, monkeypatch, command: str) -> None:
    """The reader's batches are sized as the engine's chunks, by the columns the losses read (``compare``: both
    files' columns): a ``--by`` column read beside them must not change their size, or every chunk is copied
    together from pieces."""
    import lossctl.defaults
    import lossctl.engine as engine

    monkeypatch.setattr(lossctl.defaults, "DEFAULT_CHUNK_VALUES", 1 << 14)  # 8,192 rows of two columns
    arrived: list[tuple[int, int | None]] = []
    original = engine.rechunk

    def recording(batches, rows, bound=None):
        def tap():
            for batch in batches:
                arrived.append((batch.num_rows, rows))
                yield batch

        return original(tap(), rows, bound)

    monkeypatch.setattr(engine, "rechunk", recording)
    path, *_ = _file(tmp_path, _keys("text", np.random.default_rng(6), 30_000))
    if command == "evaluate":
        report = lossctl.evaluate(str(path), losses=["mse", "mae"], by=["k"])
        rows = 8192
    else:  # the candidate: the same file with other predictions
        table = pq.read_table(path)
        pq.write_table(table.set_column(2, "pred", pa.array(np.zeros(table.num_rows))), tmp_path / "c.parquet")
        report = lossctl.compare(str(path), str(tmp_path / "c.parquet"), losses=["mse"], by=["k"])
        rows = (1 << 14) // 3  # target, and both files' predictions
    assert report.results[0].n == 30_000 and len(arrived) == -(-30_000 // rows)
    assert all(size == chunk == rows for size, chunk in arrived[:-1])


def test_groups_recombine_into_the_overall_value(tmp_path: Path) -> None:
    path, *_ = _file(tmp_path, _keys("int", np.random.default_rng(4), 5000))
    report = lossctl.evaluate(str(path), losses=["mae"], by=["k"], chunk_rows=333)
    overall, *groups = report.results
    assert sum(r.value * r.n for r in groups) / overall.n == pytest.approx(overall.value, rel=1e-13)


@pytest.mark.parametrize("chunk_rows", [7, 16, None])
def test_groups_of_equal_values_name_the_first_group_as_worst_at_any_chunking(
    tmp_path: Path, chunk_rows: int | None
) -> None:
    # Groups a and b hold the same residuals in opposite orders: their values are equal but round differently with
    # the chunking, and the worst group of mae was b at --chunk-rows 7 and None, a at 16.
    residuals = np.random.default_rng(1).uniform(0, 1, 50)
    pred = np.column_stack([residuals, residuals[::-1]]).ravel()
    table = pa.table({"target": np.zeros(100), "pred": pred, "g": ["a", "b"] * 50})
    pq.write_table(table, tmp_path / "t.parquet")
    report = lossctl.evaluate(str(tmp_path / "t.parquet"), losses="mse,mae,huber", by="g", chunk_rows=chunk_rows)
    gaps = report.to_dict()["groups"]["gaps"]
    assert [g["worst_group"] for g in gaps] == [{"g": "a"}] * 3
    assert all(g["gap"] <= 1e-15 for g in gaps)


@pytest.mark.parametrize(
    ("extra", "fix"),
    [
        ([], "group by a column with fewer values"),
        (["--bootstrap", "1000"], "drop --bootstrap or group by fewer values"),
    ],
    ids=["groups", "groups x replicates"],
)
def test_more_groups_than_memory_holds_stop_early_with_an_input_error(
    tmp_path: Path, extra: list[str], fix: str
) -> None:
    """Every key distinct (and, with the bootstrap, 1000 replicates each) with 300 MB of address space above
    what the command takes on a tiny input: the run stops on the first chunks that pass the limit, with the
    one-line error cli.md asks for."""
    options = ["-l", "mse", "--by", "k", "--chunk-rows", "50000", *extra]
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    base = address_space(["eval", str(_file(tiny, pa.array(np.arange(10)))[0]), *options, "-o", str(tiny / "o.json")])
    path, *_ = _file(tmp_path, pa.array(np.arange(400_000)))
    out = tmp_path / "o.json"
    run = run_limited(["eval", str(path), *options, "-o", str(out)], base + 300 * 2**20)
    assert run.returncode == 3, run.stderr
    assert run.stderr.startswith("error: --by k: more than ") and run.stderr.count("\n") == 1, run.stderr
    assert fix in run.stderr and "GB of memory available" in run.stderr
    assert not out.exists()


def test_a_group_whose_rows_are_all_ignored_is_named_with_its_loss(cli, write) -> None:
    path = write("mc.csv", "l0,l1,l2,label\n1,2,0.5,0\n0.1,0.2,3,2\n2,1,0,-100\n0,0,0,1\n")
    run = cli("eval", path, "--pred", "l0,l1,l2", "--target", "label", "-l", "ce:ignore_index=-100", "--by", "label")
    assert (run.code, run.err) == (
        3,
        "error: cross_entropy:ignore_index=-100 in group label=-100: nothing to average: every row is ignored "
        "(ignore_index) or has a class weight or sample weight of 0 (--reduction sum gives 0)\n",
    )


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        (
            "qid,relevance,score,g\n1,0,0.5,a\n1,1,0.2,a\n2,1,0.3,b\n2,1,0.1,b\n",
            ["--pred", "score", "--target", "relevance", "--col", "qid=qid", "-l", "ranknet"],
            "ranknet in group g=b: no pair of documents with different relevance in any query",
        ),
        (
            "label,p0,p1,w,g\n0,0.2,0.8,1,a\n1,0.3,0.7,1,a\n1,0.5,0.5,0,b\n",
            ["--pred", "p0,p1", "--target", "label", "--weight", "w", "-l", "class_balanced"],
            "class_balanced in group g=b: the sample weights sum to zero, so the weighted mean sum(w*l)/sum(w) is "
            "undefined (--reduction sum gives 0)",
        ),
    ],
    ids=["ranknet", "class_balanced"],
)
def test_a_group_without_a_value_is_named_whatever_the_loss(cli, write, text: str, args: list, message: str) -> None:
    # Only the losses raising ZeroWeightSum had their group named: ranknet said 'no pair ... in any query' of a run
    # whose overall value had pairs, class_balanced 'the sample weights sum to 0', neither naming the group.
    run = cli("eval", write("p.csv", text), *args, "--by", "g")
    assert (run.code, run.out, run.err) == (3, "", f"error: {message}\n")


@pytest.mark.parametrize(("flag", "shown"), [("true", "true"), ("", "(missing)")])
def test_a_group_in_a_message_is_spelled_as_the_command_line_writes_it(cli, write, flag: str, shown: str) -> None:
    # The message printed Python's spelling of the key: 'in group ignored=True', 'in group ignored=None'.
    path = write("mc.csv", f"l0,l1,label,ignored\n1,2,0,false\n2,1,-100,{flag}\n0,1,1,false\n")
    run = cli("eval", path, "--pred", "l0,l1", "--target", "label", "-l", "ce:ignore_index=-100", "--by", "ignored")
    assert (run.code, run.out) == (3, "")
    assert run.err.startswith(f"error: cross_entropy:ignore_index=-100 in group ignored={shown}: nothing to average")


@pytest.mark.parametrize("by", [["tags"], ["g", "tags"]])
def test_a_by_column_of_lists_is_an_input_error(cli, tmp_path: Path, by: list[str]) -> None:
    # Arrow cannot dictionary-encode lists: an internal error (exit 4) with Arrow's words.
    path = tmp_path / "l.parquet"
    pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [1.0, 3.0], "g": ["a", "b"], "tags": [[1, 2], [1]]}), path)
    run = cli("eval", path, "-l", "mse", *[arg for column in by for arg in ("--by", column)], "-q")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        "error: column 'tags' (--by) holds nested values (list<element: int64>), not one key per row; group by a "
        "column of text, numbers, booleans or dates\n"
    )


def test_row_groups_with_different_dictionaries(tmp_path: Path) -> None:
    """Text keys read as dictionaries: each Parquet row group has its own, in its own order, and a batch's codes
    come from its own dictionary (the coder reuses the last dictionary's numbers only when it is the same)."""
    rng = np.random.default_rng(8)
    keys = np.concatenate([rng.choice(values, 1000) for values in (["a", "b"], ["c", "b", "a"], ["b", "d"])])
    path, y, p, w = _file(tmp_path, pa.array(keys))
    pq.write_table(pq.read_table(path), path, row_group_size=1000)
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    report = lossctl.evaluate(str(path), losses=["mae"], weight="w", by=["k"], chunk_rows=250)
    grouped = {r.group["k"]: r for r in report.results if r.group is not None}
    assert sorted(grouped) == ["a", "b", "c", "d"]
    for key, result in grouped.items():
        rows = keys == key
        assert result.n == rows.sum()
        assert result.value == pytest.approx(np.average(np.abs(p - y)[rows], weights=w[rows]), rel=1e-12)


@pytest.mark.parametrize("chunk_rows", ["1", "2", "100"])
def test_a_nan_key_is_a_missing_key_and_json_can_name_its_group(cli, tmp_path: Path, chunk_rows: str) -> None:
    # NaN is a missing value (docs/cli.md): it joins the null key's group; the JSON output once failed with an
    # internal error ("Out of range float values are not JSON compliant") on a group named by NaN.
    keys = pa.array([np.nan, 0.5, None, np.nan, 0.5], type=pa.float64(), from_pandas=False)
    pq.write_table(pa.table({"pred": [2.0, 1, 3, 4, 5], "target": [1.0] * 5, "g": keys}), tmp_path / "g.parquet")
    run = cli("eval", tmp_path / "g.parquet", "-l", "mse", "--by", "g", "--chunk-rows", chunk_rows, "-f", "json", "-q")
    assert run.code == 0, run.err
    groups = [(r["group"], r["n"], r["value"]) for r in json.loads(run.out)["results"]]
    assert groups == [(None, 5, 6.0), ({"g": None}, 3, (1 + 4 + 9) / 3), ({"g": 0.5}, 2, 8.0)]


@pytest.mark.parametrize("chunk_rows", ["1", "100"])
def test_half_float_keys_are_normalised_as_other_floats(cli, tmp_path: Path, chunk_rows: str) -> None:
    # A float16 key escaped the float keys' rules: the rows of 0.0 beside -0.0 were lost (groups -0.0 n=1 and NaN
    # n=1 of 3 rows), and JSON failed on the NaN group ('internal error (ValueError: Out of range float values...').
    keys = pa.array(np.array([-0.0, 0.0, np.nan, 1.5, 0.0], dtype=np.float16))
    feather.write_feather(pa.table({"pred": [2.0, 1, 3, 4, 5], "target": [1.0] * 5, "g": keys}), tmp_path / "g.arrow")
    run = cli("eval", tmp_path / "g.arrow", "-l", "mse", "--by", "g", "--chunk-rows", chunk_rows, "-f", "json", "-q")
    assert run.code == 0, run.err
    groups = [(r["group"], r["n"], r["value"]) for r in json.loads(run.out)["results"]]
    assert groups == [(None, 5, 6.0), ({"g": 0.0}, 3, (1 + 0 + 16) / 3), ({"g": None}, 1, 4.0), ({"g": 1.5}, 1, 9.0)]


@pytest.mark.parametrize("chunk_rows", ["1", "100"])
def test_minus_zero_is_the_key_zero(cli, tmp_path: Path, chunk_rows: str) -> None:
    # Arrow's dictionary of [0.0, -0.0, 0.0] held both zeros, which got one group number: the group was summed once,
    # from one of the two entries' rows, so '0.0' had n=1 and the groups no longer recombined into the overall value.
    table = pa.table({"pred": [2.0, 1, 3, 4], "target": [1.0] * 4, "g": [0.0, -0.0, 0.0, 1.0]})
    pq.write_table(table, tmp_path / "g.pq")
    run = cli("eval", tmp_path / "g.pq", "-l", "mse", "--by", "g", "--chunk-rows", chunk_rows, "-f", "json", "-q")
    assert run.code == 0, run.err
    groups = [(r["group"], r["n"], r["value"]) for r in json.loads(run.out)["results"]]
    assert groups == [(None, 4, 14 / 4), ({"g": 0.0}, 3, 5 / 3), ({"g": 1.0}, 1, 9.0)]


@pytest.mark.parametrize("by", [["g"], ["g", "target"]])
def test_a_dictionary_that_holds_a_value_twice(cli, tmp_path: Path, by: list[str]) -> None:
    # An Arrow file's dictionary ['a', 'a', 'b'] (legal; a writer may emit one): the rows of the second 'a' entry
    # overwrote those of the first, and the group 'b' was labelled 'a'.
    keys = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0, 2], pa.int32()), pa.array(["a", "a", "b"]))
    table = pa.table({"pred": [2.0, 1, 3, 4], "target": [1.0] * 4, "g": keys})
    with pa.ipc.new_file(tmp_path / "g.arrow", table.schema) as writer:
        writer.write_table(table)
    args = [arg for column in by for arg in ("--by", column)]
    run = cli("eval", tmp_path / "g.arrow", "-l", "mse", *args, "-f", "json", "-q")
    assert run.code == 0, run.err
    groups = [(r["group"] and r["group"]["g"], r["n"], r["value"]) for r in json.loads(run.out)["results"]]
    assert groups == [(None, 4, 14 / 4), ("a", 3, 5 / 3), ("b", 1, 9.0)]


def test_a_hexadecimal_key_keeps_its_spelling(cli, write) -> None:
    # pyarrow reads 0x10 in a CSV column of integers as 16: the group 0x10 was reported as 16, one group with the key
    # 16 written in decimal, and 0xFFFFFFFFFFFFFFFF was the group -1.
    path = write("g.csv", "pred,target,g\n2,1,0x10\n1,1,16\n3,1,0xFFFFFFFFFFFFFFFF\n")
    run = cli("eval", path, "-l", "mse", "--by", "g", "-f", "json", "-q")
    assert run.code == 0, run.err
    groups = [(r["group"], r["n"]) for r in json.loads(run.out)["results"]]
    assert groups == [(None, 3), ({"g": "0x10"}, 1), ({"g": "16"}, 1), ({"g": "0xFFFFFFFFFFFFFFFF"}, 1)]


def test_the_table_names_missing_and_boolean_keys_as_the_command_line_does(cli, write) -> None:
    run = cli("eval", write("g.csv", "pred,target,g\n2,1,true\n1,1,\n3,1,false\n"), "-l", "mse", "--by", "g", "-q")
    rows = [line.split("│")[1:4] for line in run.out.splitlines() if line.startswith("│")]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["mse", "all", "3"],
        ["mse", "true", "1"],
        ["mse", "(missing)", "1"],
        ["mse", "false", "1"],
    ]
    assert "(worst group: g=false)" in run.out


def test_a_group_keyed_all_is_told_from_the_overall_row_in_the_table(cli, write) -> None:
    # The overall row's cell reads all: a group keyed "all" showed a second "all" row, told apart only by a dim style.
    for args in (["-l", "mse"], ["--model", "A=pred", "-l", "mse"]):
        run = cli(
            "eval", write("g.csv", "pred,target,g\n2,1,all\n1,1,b\n"), "--target", "target", *args, "--by", "g", "-q"
        )
        rows = [line.split("│")[1:3] for line in run.out.splitlines() if line.startswith("│")]
        assert [[cell.strip() for cell in row] for row in rows] == [["mse", "all"], ["mse", '"all"'], ["mse", "b"]]


def test_groups_told_apart_only_by_an_invisible_character_are_told_apart(cli, write) -> None:
    # 'a' and 'a' with a zero-width space, a byte order mark, a soft hyphen or a word joiner read as five groups 'a',
    # each cell's border a column off (rich counted a cell the terminal does not show), and so did the errors.
    keys = ["a", "a\u200b", "a\ufeff", "a\xad", "a\u2060", "a\u200d", "a\U000e0041"]
    data = write("g.csv", "pred,target,g\n" + "".join(f"{i},0,{key}\n" for i, key in enumerate(keys)))
    run = cli("eval", data, "-l", "mae", "--by", "g", "-q")
    rows = [line.split("│")[2].strip() for line in run.out.splitlines() if line.startswith("│")]
    assert rows == ["all", "a", "a\\u200b", "a\\ufeff", "a\\xad", "a\\u2060", "a\\u200d", "a\\U000e0041"]
    assert len({len(line) for line in run.out.splitlines() if line.startswith("│")}) == 1  # the borders line up
    assert "(worst group: g=a\\U000e0041)" in run.out
    markdown = cli("eval", data, "-l", "mae", "--by", "g", "-q", "-f", "markdown").out
    assert "| a\\u200b |" in markdown
    run = cli("eval", data, "-l", "mae", "--by", "g\u200b", "-q")
    assert run.code == 3 and run.err.startswith("error: column 'g\\u200b' not found in ")


def test_a_very_long_group_value_is_cut_in_the_table_as_in_messages(cli, write) -> None:
    # A 5,000-character key made every line of the table 5,000 columns wide, its borders included; messages cut it.
    key = "x" * 2000 + "middle" + "z" * 2994
    run = cli("eval", write("g.csv", f"pred,target,g\n2,0,{key}\n1,0,b\n"), "-l", "mae", "--by", "g", "-q")
    shown = "x" * 40 + "...[4940 more characters]..." + "z" * 20
    assert f"│ {shown} │" in run.out and "middle" not in run.out
    assert max(map(len, run.out.splitlines())) < 200
    assert f"(worst group: g={'x' * 38}...[4942 more characters]...{'z' * 20})" in run.out


def test_a_group_column_named_as_a_table_column_is_headed_as_in_csv(cli, write) -> None:
    # --by value --by n headed the table "loss | value | n | n | value": a group column and the results' own under
    # one name; CSV and Markdown head them group.value and group.n, and so does the table now.
    data = write("g.csv", "target,pred,value,n\n0,1,a,x\n0,2,b,y\n")
    for args in (["--pred", "pred"], ["--model", "m=pred", "--model", "k=pred"], ["--model", "m=pred", "--ci", "0.9"]):
        run = cli("eval", data, "--target", "target", *args, "-l", "mae", "--by", "value", "--by", "n", "-q")
        header = next(line for line in run.out.splitlines() if line.startswith("┃"))
        assert [cell.strip() for cell in header.split("┃")[1:4]] == ["loss", "group.value", "group.n"], header
    run = cli("compare", data, data, "--target", "target", "--pred", "pred", "-l", "mae", "--by", "value", "-q")
    assert "┃ loss ┃ value ┃ baseline ┃" in run.out  # compare has no column of that name
    # compare's table heads its relative delta 'relative': --by relative headed two columns 'relative'.
    data = write("r.csv", "target,pred,relative\n0,1,a\n0,2,b\n")
    run = cli("compare", data, data, "--target", "target", "--pred", "pred", "-l", "mae", "--by", "relative", "-q")
    assert "┃ loss ┃ group.relative ┃ baseline ┃ candidate ┃ delta ┃ relative ┃ verdict ┃" in run.out
    assert cli("compare", data, data, "-l", "mae", "--by", "relative", "-q", "-f", "csv").out.startswith(
        "loss,params,reduction,baseline,candidate,delta,relative_delta,ci_low,ci_high,verdict,n,relative\n"
    )


def test_keys_with_space_at_either_end_are_quoted_in_the_table(cli, write) -> None:
    # 'a', 'a ' and 'a' with a no-break space read as three groups 'a', and a key of one space as an empty cell.
    data = write("g.csv", 'pred,target,g\n1,0,a\n5,0,"a "\n3,0," "\n4,0,"a\u00a0"\n2,0,a b\n')
    run = cli("eval", data, "-l", "mae", "--by", "g", "-q")
    rows = [line.split("│")[2].strip() for line in run.out.splitlines() if line.startswith("│")]
    assert rows == ["all", "a", '"a "', '" "', '"a\\xa0"', "a b"]
    assert '(worst group: g="a ")' in run.out
    # Markdown trims a cell's edges: there too 'a' and 'a ' were two cells 'a', and ' ' the overall result's.
    markdown = cli("eval", data, "-l", "mae", "--by", "g", "-q", "-f", "markdown").out.splitlines()
    cells = [line.rsplit(" | ", 1)[-1] for line in markdown[2:8]]
    assert cells == [" |", "a |", '"a " |', '" " |', '"a\\\\xa0" |', "a b |"]  # the backslash escaped


def test_markdown_gives_each_loss_its_gap_and_worst_group_as_the_table_does(cli, write) -> None:
    # --format markdown (and -o x.md) with --by wrote only the results: the gap and worst group of the table and
    # JSON were missing. They are a second table, each loss named by its full label (and model).
    path = write("g.csv", "a,b,target,g\n2,1,1,true\n1,3,1,\n3,1,1,false\n")
    shown = {None: "(missing)", False: "false", True: "true"}
    args = ["eval", path, "-l", "mse,huber:delta=5", "--model", "A=a", "--model", "B=b", "--by", "g", "-q"]
    lines = cli(*args, "-f", "markdown").out.split("\n\n")[1].splitlines()
    gaps = json.loads(cli(*args, "-f", "json").out)["groups"]["gaps"]
    labels = ["mse@A", "mse@B", "huber:delta=5@A", "huber:delta=5@B"]
    assert [gap["worst_group"]["g"] for gap in gaps] == [False, None, False, None]
    assert lines == ["| loss | gap | worst group |", "|---|---|---|"] + [
        f"| {label} | {gap['gap']!r} | g={shown[gap['worst_group']['g']]} |"
        for label, gap in zip(labels, gaps, strict=True)
    ]
    args = ["compare", path, "--model", "A=a", "--model", "B=b", "-l", "mse", "--by", "g", "-q"]
    (gap,) = json.loads(cli(*args, "-f", "json").out)["groups"]["gaps"]
    assert cli(*args, "-f", "markdown").out.split("\n\n")[1].splitlines() == [
        "| loss | gap of the deltas | worst group |",
        "|---|---|---|",
        f"| mse@B | {gap['gap']!r} | g={shown[gap['worst_group']['g']]} |",
    ]


def test_markdown_tells_a_missing_key_from_the_overall_result(cli, write) -> None:
    # A group whose key is missing had empty key cells, as the overall result's row has: two rows read 'all', while
    # the gap table below named that group 'g=(missing)'. Its cells say (missing), as the rich table's do.
    path = write("g.csv", "pred,target,g,h\n2,1,a,1\n1,3,,2\n3,1,a,\n")
    lines = cli("eval", path, "-l", "mse", "--by", "g", "--by", "h", "-f", "markdown", "-q").out.splitlines()
    assert [line.split(" | ")[-2:] for line in lines[2:6]] == [
        ["", " |"],
        ["a", "1 |"],
        ["(missing)", "2 |"],
        ["a", "(missing) |"],
    ]


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_csv_tells_an_empty_text_key_from_a_missing_one(cli, tmp_path: Path, command: str) -> None:
    # The key '' and a missing key were both empty cells: two groups written alike. The empty text is quoted, as
    # PostgreSQL, DuckDB and polars write it and read it back as '' (an empty cell: null).
    path = tmp_path / "k.parquet"
    columns = {"k": ["", None, "a,b", ""], "pred": [1.0, 2.0, 3.0, 5.0], "other": [0.0] * 4, "target": [0.0] * 4}
    pq.write_table(pa.table(columns), path)
    models = ["--model", "A=pred", "--model", "B=other", "--target", "target"] if command == "compare" else []
    run = cli(command, path, *models, "-l", "mse", "--by", "k", "-f", "csv", "-q")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].endswith(",k")
    # The overall result, the key '' (rows 0 and 3), the missing key (row 1), 'a,b' (row 2).
    before = lines[0].count(",")  # the columns before k
    assert [line.split(",", before)[before] for line in lines[1:]] == ["", '""', "", '"a,b"']
    if command == "eval":
        values = [["9.75", "4"], ["13.0", "2"], ["4.0", "1"], ["9.0", "1"]]
        assert [line.split(",")[3:5] for line in lines[1:]] == values


def test_markdown_and_the_table_show_an_empty_text_key(cli, tmp_path: Path) -> None:
    # The key '' was an empty Markdown cell, as the overall result's row has, and 'worst group: k=' in gap lines.
    path = tmp_path / "k.parquet"
    pq.write_table(pa.table({"k": ["", None, "a", ""], "pred": [1.0, 2.0, 3.0, 5.0], "target": [0.0] * 4}), path)
    markdown = cli("eval", path, "-l", "mse", "--by", "k", "-f", "markdown", "-q").out.splitlines()
    assert [line.split(" | ")[-1] for line in markdown[2:6]] == [" |", '"" |', "(missing) |", "a |"]
    assert markdown[-1] == '| mse | 9.0 | k="" |'
    table = cli("eval", path, "-l", "mse", "--by", "k", "-q").out.splitlines()
    assert [line.split()[3] for line in table[4:8]] == ["all", '""', "(missing)", "a"]
    assert table[-1] == 'gap mse: 9 (worst group: k="")'


def test_an_infinite_key_is_an_input_error(cli, write) -> None:
    run = cli("eval", write("g.csv", "pred,target,g\n2,1,0.5\n1,1,inf\n"), "-l", "mse", "--by", "g", "-f", "json")
    assert (run.code, run.out, run.err.strip()) == (
        3,
        "",
        "error: column 'g' (--by) holds the key inf; infinite values are always an error",
    )


def test_a_key_read_as_integers_in_one_block_and_text_in_the_next_is_one_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV larger than a block: Arrow reads the key ``1`` as an integer in the blocks of digits only and as text
    in the block that also holds ``x``; the rows of ``1`` are one group, labelled as the file writes it."""
    from lossctl.io import readers

    monkeypatch.setattr(readers, "BLOCK_BYTES", 64)
    keys = ["1", "2"] * 20 + ["1", "x"]
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 9, len(keys)), rng.integers(0, 9, len(keys))
    lines = "".join(f"{k},{a},{b}\n" for k, a, b in zip(keys, y, p, strict=True))
    (tmp_path / "d.csv").write_text("k,target,pred\n" + lines)
    report = lossctl.evaluate(str(tmp_path / "d.csv"), losses="mse", by="k", chunk_rows=8)
    groups = [(r.group["k"], r.n, r.value) for r in report.results if r.group]
    expected = []
    for key in ("1", "2", "x"):
        rows = np.array(keys) == key
        expected.append((key, int(rows.sum()), pytest.approx(float(np.mean((y[rows] - p[rows]) ** 2)), rel=1e-12)))
    assert groups == expected


@pytest.mark.parametrize("kind", [pa.float64(), pa.float32()])
def test_negative_zero_is_the_key_zero(tmp_path: Path, kind: pa.DataType) -> None:
    """A CSV cell ``-0`` beside ``0``: Arrow's dictionary told them apart and the key table did not, so the group
    of 0 lost the rows of -0 (n=2 of 3)."""
    keys = pa.array([-0.0, 0.0, 0.0, 1.5, None], kind)
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"k": keys, "target": [2.0, 5, 5, 1, 0], "pred": [1.0, 3, 4, 1, 0]}), path)
    report = lossctl.evaluate(str(path), losses="mse", by="k")
    groups = [(r.group["k"], r.n, r.value) for r in report.results if r.group]
    assert groups == [(0.0, 3, 2.0), (1.5, 1, 0.0), (None, 1, 0.0)]
    assert not np.signbit(groups[0][0])


@pytest.mark.parametrize("kind", [pa.decimal32(5, 1), pa.decimal64(12, 1)], ids=str)
def test_decimal32_and_decimal64_keys_group_join_and_name_queries(cli, tmp_path: Path, kind: pa.DataType) -> None:
    """An Arrow file's decimal32 or decimal64 key was 'internal error (ArrowNotImplementedError: Function
    'dictionary_encode' has no kernel ...)', exit 4, in --by, --col qid= and --on: it is now its decimal128."""
    import decimal

    ids = pa.array([decimal.Decimal(t) for t in ("1.5", "2.5", "3.5", "4.5")], kind)
    queries = pa.array([decimal.Decimal(t) for t in ("1.5", "2.5", "1.5", "2.5")], kind)
    preds, targets = tmp_path / "p.arrow", tmp_path / "t.arrow"
    feather.write_feather(pa.table({"id": ids, "q": queries, "pred": [1.0, 2, 3, 4], "target": [1, 0, 0, 1]}), preds)
    feather.write_feather(pa.table({"id": ids.take([3, 2, 1, 0]), "target": [1.0, 2, 3, 5]}), targets)
    run = cli("eval", preds, "--targets", targets, "--on", "id", "-l", "mae", "--by", "q", "-f", "csv", "-q")
    assert run.code == 0, run.err
    assert [line.split(",")[3:] for line in run.out.splitlines()[1:]] == [
        ["2.25", "4", "", "", ""],
        ["2.5", "2", "", "", "1.5"],
        ["2.0", "2", "", "", "2.5"],
    ]
    ranked = cli("eval", preds, "--col", "qid=q", "-l", "listnet", "-f", "json", "-q")
    assert ranked.code == 0, ranked.err
    expected = lossctl.evaluate(
        pa.table({"q": [1, 2, 1, 2], "pred": [1.0, 2, 3, 4], "target": [1, 0, 0, 1]}),
        losses="listnet",
        cols={"qid": "q"},
    )
    assert json.loads(ranked.out)["results"][0]["value"] == expected.value("listnet")


def test_uuid_keys_are_their_text_in_every_output_and_join_text_ids(cli, tmp_path: Path) -> None:
    """An Arrow uuid key was its 16 bytes read as text: the CSV output held NUL characters, JSON '\\u0000...'."""
    import uuid

    ids = [uuid.UUID(int=1), uuid.UUID(int=2**128 - 1), uuid.UUID(int=1)]
    keys = pa.ExtensionArray.from_storage(pa.uuid(), pa.array([i.bytes for i in ids], pa.binary(16)))
    preds, targets = tmp_path / "p.arrow", tmp_path / "t.arrow"
    feather.write_feather(pa.table({"pred": [1.0, 2, 3], "target": [1.0] * 3, "u": keys}), preds)
    run = cli("eval", preds, "-l", "mse", "--by", "u", "-f", "csv", "-q")
    assert run.code == 0, run.err
    assert [line.split(",")[-1] for line in run.out.splitlines()[2:]] == [str(ids[0]), str(ids[1])]
    feather.write_feather(pa.table({"u": [str(ids[1]), str(ids[0]), None], "y": [2.0, 1.0, 3.0]}), targets)
    predictions = pa.table({"pred": [1.0, 2.0], "u": keys.slice(0, 2)})
    joined = lossctl.evaluate(predictions, targets=str(targets), on="u", target="y", losses="mse", missing="drop")
    assert (joined.value("mse"), joined.results[0].n) == (0.0, 2)


def test_binary_keys_that_are_not_utf8_stay_apart_in_every_output(cli, tmp_path: Path) -> None:
    """Keys of bytes were written decoded with U+FFFD for what is not UTF-8: b'\\xff' and b'\\xfe' were two groups
    shown alike ('\\ufffd') in JSON, CSV and the table; their bytes are now escaped, as Python writes them."""
    path = tmp_path / "p.parquet"
    keys = pa.array([b"\xff", b"\xfe", b"\xff", b"a"], pa.binary())
    pq.write_table(pa.table({"pred": [1.0, 2.0, 3.0, 4.0], "target": [1.0] * 4, "k": keys}), path)
    run = cli("eval", path, "-l", "mse", "--by", "k", "-f", "json", "-q")
    assert run.code == 0, run.err
    groups = [(r["group"], r["value"]) for r in json.loads(run.out)["results"][1:]]
    assert groups == [({"k": "\\xff"}, 2.0), ({"k": "\\xfe"}, 1.0), ({"k": "a"}, 9.0)]
    assert cli("eval", path, "-l", "mse", "--by", "k", "-f", "csv", "-q").out.splitlines()[2:] == [
        "mse,multioutput=none,mean,2.0,2,,,\\xff",
        "mse,multioutput=none,mean,1.0,1,,,\\xfe",
        "mse,multioutput=none,mean,9.0,1,,,a",
    ]
    report = lossctl.evaluate(str(path), losses="mse", by="k")
    assert (report.value("mse", group={"k": b"\xff"}), report.value("mse", group={"k": b"\xfe"})) == (2.0, 1.0)


def test_a_by_or_weight_naming_several_columns_says_which_option_and_the_fix(cli, tmp_path: Path) -> None:
    """'--by segment,id' failed "'segment,id' names 2 columns; one column is expected here", naming neither the
    option nor the fix (--by is repeated, one column each)."""
    path = tmp_path / "g.csv"
    path.write_text("id,segment,y_true,y_pred,w_a,w_b\n1,a,1,2,1,1\n2,b,2,2,1,1\n")
    run = cli("eval", path, "-l", "mse", "--by", "segment,id", "-q")
    assert (run.code, run.out) == (2, "")
    assert run.err == "error: --by 'segment,id' names 2 columns (segment, id); give each column its own --by\n"
    run = cli("eval", path, "-l", "mse", "--weight", "w_*", "-q")
    assert run.code == 2
    assert run.err == "error: --weight 'w_*' names 2 columns (w_a, w_b); the sample weight is one column\n"
    with pytest.raises(lossctl.UsageError, match=r"^by 'segment,id' names 2 columns .*its own item of by$"):
        lossctl.evaluate(path, losses="mse", by=["segment,id"])


def test_a_table_of_many_groups_is_measured_once_per_column(cli, write, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table measured every cell three times through rich (for its widths, for the table's width, and again
    as rich laid it out): a --by of 20,000 groups took 24 s as a table (9 s now), 1.5 s as JSON. Each column's width
    is now found in one pass over its cells and given to rich, which measures no cell again; the table is unchanged."""
    from rich.measure import Measurement

    measured = []
    original = Measurement.get.__func__  # type: ignore[attr-defined]

    def counting(cls, console, options, renderable):
        measured.append(renderable)
        return original(cls, console, options, renderable)

    monkeypatch.setattr(Measurement, "get", classmethod(counting))
    rows = "".join(f"{k % 7 / 10},{k % 5 / 10},g{k}\n" for k in range(200))
    run = cli("eval", write("p.csv", "pred,target,g\n" + rows), "-l", "mse", "--by", "g", "-q")
    assert run.code == 0
    assert "│ mse  │ g199 │   1 │        0.01 │        │\n└──────┴──────┴─────┴─────────────┴────────┘\n" in run.out
    assert len(measured) < 100


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_a_group_whose_every_row_is_dropped_is_named(cli, write, command: str) -> None:
    """A --by group whose rows all had a missing value vanished from the results without a word."""
    path = write("m.csv", "y_true,y_pred,g\n1,1.5,a\n2,,b\n" + "".join(f"3,,k{i}\n" for i in range(7)))
    inputs = [path] * (2 if command == "compare" else 1)
    run = cli(command, *inputs, "-l", "mse", "--by", "g", "--missing", "drop", "-f", "json")
    assert run.code == 0, run.err
    assert [r["group"] for r in json.loads(run.out)["results"]] == [None, {"g": "a"}]
    assert "; 8 groups have no rows left, so they have no results: g=b; g=k0; g=k1; g=k2; g=k3 and 3 more\n" in run.err
    drop = ["-l", "mse", "--by", "g", "--missing", "drop"]
    run = cli("eval", write("one.csv", "y_true,y_pred,g\n1,1.5,a\n2,,b\n"), *drop)
    assert run.err.endswith(
        "notice: dropped 1 of 2 rows with missing values (--missing drop): 1 in column 'y_pred'; group g=b has no rows "
        "left, so it has no results\n"
    )
    run = cli("eval", write("all.csv", "y_true,y_pred,g\n1,1.5,a\n2,,a\n"), *drop)
    assert "no rows left" not in run.err


@pytest.mark.parametrize("command", ["eval", "compare"])
def test_rows_without_a_partner_make_no_group_of_a_key_from_the_targets(cli, write, command: str) -> None:
    """With --by on a column of the --targets file, a prediction without a target (its key is null there, unknown)
    was coded as a group of missing keys: the notice said 'group g=(missing) has no rows left' of data that has no
    missing key. A row without a partner is in no group: it is counted as such."""
    preds = write("p.csv", "id,y_pred\n1,1.5\n2,2.0\n3,0.5\n4,4.0\n")
    targets = write("t.csv", "id,y_true,g\n1,1.0,a\n2,2.5,b\n4,3.0,a\n")
    inputs = [preds] * (2 if command == "compare" else 1)
    args = [command, *inputs, "--targets", targets, "--on", "id", "-l", "mse", "--by", "g", "--missing", "drop"]
    run = cli(*args)
    assert run.code == 0, run.err
    assert "no rows left" not in run.err
    assert "dropped 1 of 4 rows without a partner in" in run.err
    run = cli(*args, "-f", "json", "-q")
    results = json.loads(run.out)["results"]
    assert [(r["group"], r["n"]) for r in results] == [(None, 3), ({"g": "a"}, 2), ({"g": "b"}, 1)]
