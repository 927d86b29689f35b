"""Hive-partitioned directories, the engine options and the optional extras, without the extras installed.

The S3 and Dask tests against real servers are in tests/test_cluster.py; these run in every install.
"""

from __future__ import annotations

import datetime
import decimal
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.errors import InputError, UsageError


@pytest.fixture
def hive(tmp_path: Path) -> Path:
    """``region=eu`` (two files) and ``region=us`` (one), and a ``year=`` level of integers."""
    rng = np.random.default_rng(0)
    for region, files in (("eu", 2), ("us", 1)):
        for k in range(files):
            directory = tmp_path / "preds" / f"region={region}" / f"year={2023 + k}"
            directory.mkdir(parents=True)
            y = rng.normal(size=100)
            table = pa.table({"y_true": y, "y_pred": y + (1.0 if region == "eu" else 2.0)})
            pq.write_table(table, directory / "part-0.parquet", row_group_size=40)
    (tmp_path / "preds" / "_SUCCESS").write_text("")
    return tmp_path / "preds"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lossctl", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_partition_keys_are_columns_usable_in_by(hive: Path) -> None:
    report = lossctl.evaluate(hive, losses="mae", by=["region", "year"])
    groups = [(r.group, r.value, r.n) for r in report.results]
    assert groups[0] == (None, pytest.approx(4 / 3), 300)
    assert groups[1:] == [
        ({"region": "eu", "year": 2023}, pytest.approx(1.0), 100),
        ({"region": "eu", "year": 2024}, pytest.approx(1.0), 100),
        ({"region": "us", "year": 2023}, pytest.approx(2.0), 100),
    ]


def test_partition_keys_bind_roles_and_typed_as_integers(hive: Path) -> None:
    from lossctl.io.dataset import dataset_of

    dataset = dataset_of(str(hive))
    assert dataset is not None
    assert dataset.columns == ["y_true", "y_pred", "region", "year"]
    table = dataset.read(["region", "year"])
    assert table.schema.field("year").type == pa.int64() and table.schema.field("region").type == pa.string()
    # a partition column is a column like any other: here the "prediction" is the year
    rows = dataset.read(["y_true", "year"])
    expected = np.mean(np.abs(rows.column("year").to_numpy() - rows.column("y_true").to_numpy()))
    assert lossctl.evaluate(hive, losses="mae", pred="year", target="y_true")["mae"] == pytest.approx(expected, 1e-15)


def test_a_partition_value_with_a_leading_zero_stays_text(tmp_path: Path) -> None:
    """zip=01234 and zip=1234 were both read as the integer 1234: two partitions merged into one group, and the
    group named by a value no folder has."""
    for folder, error in (("zip=01234", 1.0), ("zip=1234", 2.0), ("zip=0", 3.0)):
        (tmp_path / folder).mkdir()
        pq.write_table(pa.table({"y_true": [0.0, 0.0], "y_pred": [error, error]}), tmp_path / folder / "p.parquet")
    report = lossctl.evaluate(tmp_path, losses="mae", by="zip")
    assert [(r.group, r.value) for r in report.results[1:]] == [
        ({"zip": "0"}, 3.0),
        ({"zip": "01234"}, 1.0),
        ({"zip": "1234"}, 2.0),
    ]


def test_a_column_named_like_a_partition_key_must_hold_the_folders_value(tmp_path: Path) -> None:
    """A file's own 'region' column won over its folder region=eu without a word: rows in region=eu/ were grouped
    as 'us'. Agreeing values are read as before; a disagreement is an input error naming the file and the row."""
    for folder, values in (("region=eu", ["eu"] * 4), ("region=us", ["us", "us", "us", "eu", "us"])):
        (tmp_path / folder).mkdir()
        table = pa.table({"y_true": [0.0] * len(values), "y_pred": [1.0] * len(values), "region": values})
        pq.write_table(table, tmp_path / folder / "p.parquet", row_group_size=2)
    name = tmp_path / "region=us" / "p.parquet"
    with pytest.raises(InputError) as error:
        lossctl.evaluate(tmp_path, losses="mae", by="region")
    assert str(error.value) == (
        f"column 'region' of '{name}' differs from its folder region=us in 1 row (first: row 7, 'eu'); a column "
        "named like a partition key must hold the folder's value: rename the column or move the file"
    )
    assert lossctl.evaluate(tmp_path, losses="mae")["mae"] == 1.0  # the column unused: nothing to compare
    pq.write_table(pa.table({"y_true": [0.0], "y_pred": [1.0], "region": ["us"]}), name)
    report = lossctl.evaluate(tmp_path, losses="mae", by="region")
    assert [(r.group, r.n) for r in report.results[1:]] == [({"region": "eu"}, 4), ({"region": "us"}, 1)]


def test_a_partition_column_only_a_later_file_holds_is_checked_too(tmp_path: Path) -> None:
    """Where the first file lacked the key's column, a later file's own column was not read at all: its rows were
    grouped by their folder without a word, whatever the column said. It is checked as when every file has it."""
    for folder, table in (
        ("zip=4", pa.table({"y_true": [0.0, 0.0], "y_pred": [1.0, 2.0]})),
        ("zip=5", pa.table({"y_true": [0.0, 0.0], "y_pred": [1.0, 1.0], "zip": [5, 6]})),
    ):
        (tmp_path / folder).mkdir()
        pq.write_table(table, tmp_path / folder / "p.parquet")
    name = tmp_path / "zip=5" / "p.parquet"
    with pytest.raises(InputError) as error:
        lossctl.evaluate(tmp_path, losses="mae", by="zip")
    assert str(error.value) == (
        f"column 'zip' of '{name}' differs from its folder zip=5 in 1 row (first: row 3, 6); a column "
        "named like a partition key must hold the folder's value: rename the column or move the file"
    )
    pq.write_table(pa.table({"y_true": [0.0, 0.0], "y_pred": [1.0, 1.0], "zip": ["5", "5"]}), name)
    report = lossctl.evaluate(tmp_path, losses="mae", by="zip")
    assert [(r.group, r.n, r.value) for r in report.results[1:]] == [({"zip": 4}, 2, 1.5), ({"zip": 5}, 2, 1.0)]


@pytest.mark.parametrize("stray_first", [False, True])
def test_a_file_outside_the_partition_folders_is_an_input_error(tmp_path: Path, stray_first: bool) -> None:
    """ds/region=eu/a.parquet beside ds/b.parquet (or ds/a.parquet beside ds/region=eu/b.parquet): the file
    outside the folders was read with a null 'region' without a word, so --by region showed a group no folder
    names and the overall value mixed in a stray file. It is an input error naming both files, as in DuckDB."""
    names = ("a.parquet", "region=eu/b.parquet") if stray_first else ("region=eu/a.parquet", "b.parquet")
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"y_true": [0.0, 0.0], "y_pred": [1.0, 2.0]}), tmp_path / name)
    run = _cli("eval", str(tmp_path), "-l", "mae", "--by", "region", "-q")
    inside, outside = (tmp_path / name for name in sorted(names, key=lambda name: "region=" not in name))
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr == (
        f"error: '{inside}' is in a region=eu folder and '{outside}' is not: the files of a Hive dataset must be in "
        "folders of the same partition keys, which become columns: move the file that is out of place\n"
    )


def test_a_null_partition_keeps_an_integer_keys_type(tmp_path: Path) -> None:
    """year=2024 beside year=__HIVE_DEFAULT_PARTITION__: the null folder's column was string-typed, so joining it
    turned every year into text ('2024' in the JSON groups). The key stays int64 with a null, as in pyarrow.dataset,
    whether the null folder is read first or later; folders in another order give the same keys."""
    null = "__HIVE_DEFAULT_PARTITION__"
    folders = [f"region=a/year={null}", "region=b/year=2024", f"region=b/year={null}", "year=2025/region=c"]
    for k, folder in enumerate(folders):
        (tmp_path / folder).mkdir(parents=True)
        pq.write_table(pa.table({"y_true": [0.0], "y_pred": [float(k)]}), tmp_path / folder / "p.parquet")
    report = lossctl.evaluate(tmp_path, losses="mae", by=["region", "year"])
    assert [(r.group, r.value) for r in report.results[1:]] == [
        ({"region": "a", "year": None}, 0.0),
        ({"region": "b", "year": 2024}, 1.0),
        ({"region": "b", "year": None}, 2.0),
        ({"region": "c", "year": 2025}, 3.0),
    ]


def test_windows_read_exactly_their_rows(hive: Path) -> None:
    from lossctl.io.dataset import dataset_of

    dataset = dataset_of(str(hive))
    assert dataset is not None
    assert dataset.splits(1000) == [(0, 100), (100, 200), (200, 300)]  # a file per part
    assert dataset.splits(50) == [(0, 40), (40, 80), (80, 100), (100, 140), (140, 180), (180, 200), (200, 240),
                                  (240, 280), (280, 300)]  # fmt: skip
    whole = dataset.read(["y_pred", "region"])
    part = dataset.window(70, 230).read(["y_pred", "region"])
    assert part.equals(whole.slice(70, 160))


def test_engine_options_are_checked_before_any_reading(hive: Path) -> None:
    with pytest.raises(UsageError, match=r'^workers applies to the Dask engine: add engine="dask"$'):
        lossctl.evaluate(hive, losses="mae", workers=2)
    with pytest.raises(UsageError, match=r"^workers must be in \[1, 1024\], got 0$"):
        lossctl.evaluate(hive, losses="mae", engine="dask", workers=0)
    with pytest.raises(UsageError, match=r"^scheduler and workers exclude each other"):
        lossctl.evaluate(hive, losses="mae", engine="dask", workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(UsageError, match=r"^engine must be one of local, dask, got 'spark'$"):
        lossctl.evaluate(hive, losses="mae", engine="spark")
    run = _cli("eval", str(hive), "-l", "mae", "--scheduler", "tcp://127.0.0.1:8786")
    assert (run.returncode, run.stderr) == (2, "error: --scheduler applies to the Dask engine: add --engine dask\n")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("tcp://127.0.0.1:99999", "the port must be a number in [1, 65535], got '99999'"),
        ("tcp://127.0.0.1:abc", "the port must be a number in [1, 65535], got 'abc'"),
        ("tcp://10.0.0.5", "missing port number in 'tcp://10.0.0.5', e.g. tcp://10.0.0.5:8786"),
        (
            "http://10.0.0.5:8786",
            "unknown scheme 'http://'; a scheduler is joined over tcp://, tls://, ucx://, ws://, wss://",
        ),
        ("inproc://x", "unknown scheme 'inproc://'; a scheduler is joined over tcp://, tls://, ucx://, ws://, wss://"),
    ],
)
def test_a_malformed_scheduler_address_is_a_usage_error_at_once(hive: Path, address: str, reason: str) -> None:
    """Said before connecting (a port out of range made Dask wait its 30 s connect timeout, then exit 3), in the
    command line's words, naming where the address came from."""
    pytest.importorskip("distributed", reason="needs the extra lossctl[dask]")
    import os

    run = _cli("eval", str(hive), "-l", "mae", "--engine", "dask", "--scheduler", address)
    assert (run.returncode, run.stderr) == (
        2,
        f"error: --scheduler '{address}' is not a Dask scheduler address: {reason}\n",
    )
    env = {**os.environ, "DASK_SCHEDULER_ADDRESS": address}
    run = _cli("eval", str(hive), "-l", "mae", "--engine", "dask", env=env)
    assert (run.returncode, run.stderr) == (
        2,
        f"error: DASK_SCHEDULER_ADDRESS '{address}' is not a Dask scheduler address: {reason}\n",
    )


def test_a_scheduler_dask_cannot_connect_to_as_configured_is_one_line(hive: Path) -> None:
    """tls:// without Dask's TLS settings was an internal error (a TypeError inside distributed)."""
    pytest.importorskip("distributed", reason="needs the extra lossctl[dask]")
    run = _cli("eval", str(hive), "-l", "mae", "--engine", "dask", "--scheduler", "tls://127.0.0.1:8786")
    assert run.returncode == 3 and len(run.stderr.splitlines()) == 1, run.stderr
    assert run.stderr.startswith("error: cannot connect to the Dask scheduler at tls://127.0.0.1:8786 (TypeError: TLS")
    assert run.stderr.endswith("; check --scheduler or DASK_SCHEDULER_ADDRESS and Dask's configuration\n")


def _without(tmp_path: Path, *modules: str) -> dict[str, str]:
    """An environment where importing ``modules`` fails as it does when they are not installed."""
    import os

    shim = tmp_path / "shim"
    for module in modules:
        (shim / module).mkdir(parents=True)
        (shim / module / "__init__.py").write_text(f"raise ModuleNotFoundError(\"No module named '{module}'\")\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(shim), os.environ.get("PYTHONPATH", "")])}


def test_a_missing_extra_is_a_usage_error_naming_it(hive: Path, tmp_path: Path) -> None:
    env = _without(tmp_path, "distributed", "s3fs", "fsspec")
    run = _cli("eval", str(hive), "-l", "mae", "--engine", "dask", "--workers", "1", env=env)
    assert (run.returncode, run.stderr) == (
        2,
        "error: --engine dask needs the packages dask and distributed: pip install 'lossctl[dask]'\n",
    )
    run = _cli("eval", "s3://bucket/preds/", "-l", "mae", env=env)
    assert (run.returncode, run.stderr) == (
        2,
        "error: reading or writing s3:// paths needs the package 'fsspec': pip install 'lossctl[cloud]'\n",
    )


def test_the_dask_engine_is_checked_for_an_input_read_in_this_process(tmp_path: Path) -> None:
    """A CSV input is evaluated in this process, as one part: --engine dask without its packages, or with a
    malformed address, was still accepted (exit 0)."""
    data = tmp_path / "p.csv"
    data.write_text("pred,target\n1,2\n")
    run = _cli("eval", str(data), "-l", "mae", "--engine", "dask", env=_without(tmp_path, "distributed"))
    assert (run.returncode, run.stdout, run.stderr) == (
        2,
        "",
        "error: --engine dask needs the packages dask and distributed: pip install 'lossctl[dask]'\n",
    )
    pytest.importorskip("distributed", reason="needs the extra lossctl[dask]")
    run = _cli("eval", str(data), "-l", "mae", "--engine", "dask", "--scheduler", "10.0.0.5")
    assert (run.returncode, run.stdout, run.stderr) == (
        2,
        "",
        "error: --scheduler '10.0.0.5' is not a Dask scheduler address: missing port number in '10.0.0.5', "
        "e.g. tcp://10.0.0.5:8786\n",
    )


def test_the_local_engine_without_extras_is_unchanged(hive: Path, tmp_path: Path) -> None:
    env = _without(tmp_path, "distributed", "dask", "s3fs", "fsspec")
    run = _cli("eval", str(hive), "-l", "mae", "--by", "region", "-f", "json", "-q", env=env)
    assert run.returncode == 0, run.stderr
    assert [r["value"] for r in json.loads(run.stdout)["results"]] == pytest.approx([4 / 3, 1.0, 2.0])


def test_an_empty_partitioned_directory_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty" / "region=eu").mkdir(parents=True)
    with pytest.raises(InputError, match=r"^directory '.*empty' has no Parquet files \(\*\.parquet, \*\.pq\)$"):
        lossctl.evaluate(tmp_path / "empty", losses="mae")


@pytest.mark.parametrize("pattern", ["region=*/", "region=*", "region=*/year=*/", "*/*/*.parquet"])
def test_a_glob_of_partition_folders_or_files_exposes_the_keys(hive: Path, pattern: str) -> None:
    report = lossctl.evaluate(f"{hive}/{pattern}", losses="mae", by=["region", "year"])
    assert [(r.group, r.n) for r in report.results] == [
        (None, 300),
        ({"region": "eu", "year": 2023}, 100),
        ({"region": "eu", "year": 2024}, 100),
        ({"region": "us", "year": 2023}, 100),
    ]


def test_a_plain_directory_is_read_at_any_depth_in_sorted_order(tmp_path: Path) -> None:
    for name, value in (("b/x.parquet", 2.0), ("a/deeper/y.parquet", 1.0), ("c.parquet", 3.0), ("_tmp/z.parquet", 9.0)):
        (tmp_path / "nest" / name).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"pred": [value], "target": [0.0]}), tmp_path / "nest" / name)
    source = lossctl.io.sources.open_data(tmp_path / "nest")
    assert source.read(["pred"]).column("pred").to_pylist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("partitioned", [False, True])
def test_files_of_a_directory_that_are_not_parquet_are_named_as_left_out(
    hive: Path, tmp_path: Path, partitioned: bool
) -> None:
    directory = hive if partitioned else tmp_path / "plain"
    if not partitioned:
        directory.mkdir()
        pq.write_table(pa.table({"y_true": [1.0, 2.0], "y_pred": [1.5, 2.0]}), directory / "part-0.parquet")
    (directory / "notes.csv").write_text("y_true,y_pred\n1,100\n")  # not read: a directory is its Parquet files
    (directory / ".hidden.csv").write_text("")  # hidden and bookkeeping names are not data, and not named
    run = _cli("eval", str(directory), "-l", "mae", "--target", "y_true", "--pred", "y_pred", "-f", "json")
    assert run.returncode == 0, run.stderr
    assert run.stderr == (
        f"notice: '{directory}': 1 file that is not Parquet was left out ({directory / 'notes.csv'}); a directory "
        "is read as its Parquet files\n"
    )
    expected = lossctl.evaluate(directory, losses="mae", target="y_true", pred="y_pred")["mae"]
    assert json.loads(run.stdout)["results"][0]["value"] == expected


def test_a_url_lossctl_does_not_read_is_a_usage_error(tmp_path: Path) -> None:
    """Not 'file not found', as if the URL were a local name."""
    (tmp_path / "p.csv").write_text("id,pred\n1,2\n")
    for args in (
        ["hdfs://cluster/preds.parquet"],
        [str(tmp_path / "p.csv"), "--targets", "FTP://host/t.csv", "--on", "id"],
    ):
        url = args[0] if len(args) == 1 else args[2]
        run = _cli("eval", *args, "-l", "mse")
        assert (run.returncode, run.stderr) == (
            2,
            f"error: cannot read '{url}': lossctl reads local paths and s3://, gs://, az://, abfs:// and https:// "
            f"URLs, not {url.split('://')[0]}://\n",
        )


def test_a_web_server_is_no_output(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("pred,target\n1,2\n")
    for option in ("-o", "--per-sample"):
        run = _cli("eval", str(tmp_path / "p.csv"), "-l", "mse", option, "https://example.com/out.csv")
        assert (run.returncode, run.stdout, run.stderr) == (
            2,
            "",
            "error: cannot write 'https://example.com/out.csv': lossctl writes to local paths and object stores "
            "(s3://, gs://, az://), not to web servers\n",
        )


def test_a_missing_store_package_is_named(tmp_path: Path) -> None:
    pytest.importorskip("fsspec", reason="needs fsspec (lossctl[cloud]) to find s3fs missing")
    run = _cli("eval", "s3://bucket/preds/", "-l", "mae", env=_without(tmp_path, "s3fs"))
    assert (run.returncode, run.stderr) == (
        2,
        "error: reading or writing s3:// paths needs the package 's3fs': pip install 'lossctl[cloud]'\n",
    )


def test_parts_merged_give_one_pass_outcome(tmp_path: Path) -> None:
    """Parts of a 300,000-row input run through the engine one by one (as Dask tasks do, here in this process),
    their sampled per-row losses trimmed as the client asks, merge into the outcome of one pass: the same
    statistics to 1e-12 and the same sampled rows, so the same quantiles."""
    from functools import partial

    from lossctl.cluster import run_part, sample_threshold, tasks_of
    from lossctl.engine import Plan, run
    from lossctl.evaluation import jobs_for, open_sources, part_batches
    from lossctl.io.dataset import dataset_of
    from lossctl.options import Options
    from lossctl.partials import merge_outcomes

    rng = np.random.default_rng(3)
    for k in range(3):
        y = rng.gamma(2.0, 1.0, 100_000)
        pq.write_table(
            pa.table({"y_true": y, "y_pred": y * rng.lognormal(0, 0.3, len(y)), "g": rng.integers(0, 5, len(y))}),
            tmp_path / f"part-{k}.parquet",
            row_group_size=30_000,
        )
    options = Options(losses=("mse", "mae"), by=("g",), bootstrap=5)
    opened = open_sources(str(tmp_path), options, ["target", "pred"], [])
    binding = opened.binding
    plan = Plan(jobs_for(list(options.requests), binding), None, binding.by, (), 5, 0, distributions=True)
    whole = run(opened.source.batches(binding.columns(), 65_536), plan, options)
    dataset = dataset_of(str(tmp_path))
    assert dataset is not None
    below = sample_threshold(300_000)
    assert below is not None
    batches_of = partial(part_batches, binding, binding.columns(), options)
    tasks = tasks_of(dataset.splits(30_000), 5)  # 12 parts in 5 tasks, some across two files
    assert [len(task) for task in tasks] == [2, 3, 2, 3, 2]
    parts = [run_part(task, [dataset, None], batches_of, plan, options, None, (), below)[0] for task in tasks]
    merged = merge_outcomes(parts, plan)
    assert merged.groups == whole.groups
    for j in range(len(plan.jobs)):
        np.testing.assert_allclose(merged.stats[j], whole.stats[j], rtol=1e-12)
        np.testing.assert_allclose(merged.replicates[j], whole.replicates[j], rtol=1e-12)
        np.testing.assert_allclose(merged.group_stats[j], whole.group_stats[j], rtol=1e-12)
        np.testing.assert_allclose(merged.group_replicates[j], whole.group_replicates[j], rtol=1e-12)
        ours, theirs = merged.samples[j], whole.samples[j]
        assert ours is not None and theirs is not None
        assert ours.summary()["p50"] == theirs.summary()["p50"] and ours.summary()["rows"] == 300_000
        assert sorted(ours.summary()["values"]) == sorted(theirs.summary()["values"])


def _two_files(root: Path, second: pa.Array) -> list[Path]:
    """``a.parquet`` with float64 predictions and ``b.parquet`` with ``second``: one dataset in two schemas."""
    root.mkdir()
    pq.write_table(pa.table({"pred": [1.5, 2.5], "target": [0.5, 1.0]}), root / "a.parquet")
    pq.write_table(pa.table({"pred": second, "target": [0.0, 1.0]}), root / "b.parquet")
    return [root / "a.parquet", root / "b.parquet"]


@pytest.mark.parametrize(
    "second", [pa.array([1, 2], pa.int64()), pa.array([1, 2], pa.float32()), pa.array([True, False])]
)
@pytest.mark.parametrize("how", ["paths", "directory", "glob"])
def test_files_of_one_dataset_with_different_numeric_types(tmp_path: Path, second: pa.Array, how: str) -> None:
    """Booleans are 1/0 (docs/cli.md) beside another file's floats too, not the text 'true' (exit 3)."""
    files = _two_files(tmp_path / "d", second)
    ways: dict[str, object] = {"paths": [str(f) for f in files], "directory": tmp_path / "d"}
    data = ways.get(how, str(tmp_path / "d" / "*.parquet"))
    report = lossctl.evaluate(data, losses="mse", pred="pred", target="target")
    assert report.results[0].value == pytest.approx((1 + 2.25 + 1 + 1) / 4)


@pytest.mark.parametrize("how", ["paths", "directory"])
def test_a_file_of_a_dataset_with_text_predictions_is_named(tmp_path: Path, how: str) -> None:
    files = _two_files(tmp_path / "d", pa.array(["x", "2.5"]))
    data: object = [str(f) for f in files] if how == "paths" else str(tmp_path / "d")
    with pytest.raises(InputError) as error:
        lossctl.evaluate(data, losses="mse", pred="pred", target="target")
    assert str(error.value) == (
        f"column 'pred' is not numeric in '{files[1]}': it has type string there but double in '{files[0]}'; "
        "the files of a dataset must agree"
    )


@pytest.mark.parametrize("formats", [("arrow", "arrow"), ("parquet", "arrow"), ("arrow", "parquet")])
def test_an_arrow_file_of_a_dataset_with_text_predictions_is_named(tmp_path: Path, formats: tuple[str, str]) -> None:
    """Arrow IPC declares its types as Parquet does, but only Parquet's were compared: an Arrow file of text numbers
    beside one of doubles was read as text, its numbers parsed (exit 0), where two Parquet files are an error."""
    import pyarrow.feather as feather

    tables = [pa.table({"pred": [1.0, 2.0], "target": [0.0, 1.0]}), pa.table({"pred": ["1", "2.5"], "target": [1, 2]})]
    files = [tmp_path / f"{name}.{fmt}" for name, fmt in zip("ab", formats, strict=True)]
    for table, file in zip(tables, files, strict=True):
        (pq.write_table if file.suffix == ".parquet" else feather.write_feather)(table, file)
    with pytest.raises(InputError) as error:
        lossctl.evaluate([str(f) for f in files], losses="mse", pred="pred", target="target")
    assert str(error.value) == (
        f"column 'pred' is not numeric in '{files[1]}': it has type string there but double in '{files[0]}'; "
        "the files of a dataset must agree"
    )


@pytest.mark.parametrize("null_first", [True, False])
def test_a_text_column_all_null_in_one_file_is_read_as_missing_values(tmp_path: Path, null_first: bool) -> None:
    """A text column with no value in one file (Arrow's null type: pandas' all-None column, a day without notes)
    was 'column 'g' is not numeric in ...: it has type string there but null' (exit 3) when used, e.g. in --by: an
    all-null column is missing values of any type, as it is beside numbers and within one file."""
    texts = pa.table({"pred": [1.0, 5.0], "target": [1.0, 2.0], "g": pa.array(["b", "c"])})
    nulls = pa.table({"pred": [1.0, 3.0], "target": [1.0, 2.0], "g": pa.array([None, None], pa.null())})
    tables = [nulls, texts] if null_first else [texts, nulls]
    (tmp_path / "d").mkdir()
    for name, table in zip("ab", tables, strict=True):
        pq.write_table(table, tmp_path / "d" / f"{name}.parquet")
    whole = pa.concat_tables([table.cast(texts.schema) for table in tables])
    pq.write_table(whole, tmp_path / "whole.parquet")
    report = lossctl.evaluate(str(tmp_path / "d"), losses="mse", by="g")
    expected = lossctl.evaluate(str(tmp_path / "whole.parquet"), losses="mse", by="g")
    assert [(r.group, r.value, r.n) for r in report.results] == [(r.group, r.value, r.n) for r in expected.results]
    assert report.value("mse", group={"g": None}) == 0.5


@pytest.mark.parametrize("layout", ["plain", "hive"])
def test_a_text_by_column_missing_from_a_later_file_is_named(tmp_path: Path, layout: str) -> None:
    """``--by`` reads a text column as a dictionary, which pyarrow's reader answered with a KeyError (exit 4)
    for a file without it."""
    root = tmp_path / "d"
    first, second = (root / "r=1", root / "r=2") if layout == "hive" else (root, root)
    first.mkdir(parents=True), second.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [1.0, 2.0], "extra": ["a", "b"]}), first / "a.parquet")
    pq.write_table(pa.table({"pred": [3.0], "target": [3.0]}), second / "b.parquet")
    run = _cli("eval", str(root), "-l", "mse", "--by", "extra")
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr == (
        f"error: {second / 'b.parquet'} lacks the column 'extra' that {first / 'a.parquet'} has: several inputs are "
        "read as one dataset and must have the same columns\n"
    )


@pytest.mark.parametrize("layout", ["plain", "hive", "glob"])
def test_a_column_only_a_later_file_has_is_an_error_not_left_out(tmp_path: Path, layout: str) -> None:
    """The columns of a folder or glob were the first file's: a model only a later file has was left out of
    ``--model 'm*'`` unseen (exit 0), where the same files given as several paths are an error; now the same error."""
    root = tmp_path / "d"
    first, second = (root / "r=1", root / "r=2") if layout == "hive" else (root, root)
    first.mkdir(parents=True), second.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"target": [1.0, 2.0], "m1": [1.0, 2.5]}), first / "a.parquet")
    pq.write_table(pa.table({"target": [1.0, 2.0], "m1": [1.0, 2.5], "m2": [9.0, 9.0]}), second / "b.parquet")
    path = str(root / "*.parquet") if layout == "glob" else str(root)
    run = _cli("eval", path, "-l", "mse", "--model", "m*", "--target", "target", "-q")
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr == (
        f"error: {second / 'b.parquet'} has the column 'm2' that {first / 'a.parquet'} has not: several inputs are "
        "read as one dataset and must have the same columns\n"
    )


def test_parts_whose_list_columns_differ_in_width_do_not_merge(tmp_path: Path) -> None:
    """Each Dask task checks its own part's widths: a list column of K = 2 in one file and 3 in the next was
    merged into one value (exit 0); the merge checks them as the local engine checks its chunks."""
    from lossctl.engine import Plan, run
    from lossctl.evaluation import jobs_for, open_sources
    from lossctl.options import Options
    from lossctl.partials import merge_outcomes

    pq.write_table(pa.table({"p": [[0.2, 0.8], [0.6, 0.4]], "y": [1, 0]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"p": [[0.2, 0.7, 0.1]], "y": [1]}), tmp_path / "b.parquet")
    options = Options(losses=("categorical_ce",), pred="p", target="y")
    parts, first = [], 0
    for name in ("a.parquet", "b.parquet"):
        opened = open_sources(str(tmp_path / name), options, ["target", "pred"], [])
        plan = Plan(jobs_for(list(options.requests), opened.binding), None, [], (), 0, 0)
        batches = opened.source.batches(opened.binding.columns(), 65_536)
        parts.append(run(batches, plan, options, first_row=first, part=True))
        first += 2
    with pytest.raises(lossctl.InputError) as error:
        merge_outcomes(parts, plan)
    assert str(error.value) == "column 'p' holds vectors of different lengths: row 0 has 2 values but row 2 has 3"
    assert error.value.row == 2  # the row whose length differs, whose file is named


@pytest.mark.parametrize("chunk_rows", [2, 4, None])
def test_a_shorter_vector_is_cited_from_the_inputs_first_row_whatever_the_chunking(
    tmp_path: Path, chunk_rows: int | None
) -> None:
    """A list column whose row 5 is shorter: with 4-row chunks the error cited the chunk's first row ('row 4 has 2
    values but row 5 has 1'), so it changed with --chunk-rows and differed from a Dask task's; it cites row 0."""
    rows = [[1.0, 2.0]] * 5
    pq.write_table(pa.table({"y_true": [*rows, [1.0, 2.0]], "y_pred": [*rows, [1.0]]}), tmp_path / "rag.parquet")
    with pytest.raises(InputError) as error:
        lossctl.evaluate(str(tmp_path / "rag.parquet"), losses="mse", chunk_rows=chunk_rows)
    assert str(error.value) == "column 'y_pred' holds vectors of different lengths: row 0 has 2 values but row 5 has 1"


def test_errors_about_rows_of_several_text_files_name_the_file(tmp_path: Path, cli: Any) -> None:
    """Several CSV PATHs (their rows counted as they are read), a directory among them, compare and suggest:
    the error names the file holding the first row it cites, rows numbered in the whole input. A single file's
    message is as it was."""
    for name, cells in (("a", "0.1,0.2"), ("b", "0.3,oops"), ("c", "-1,0.4")):
        (tmp_path / f"{name}.csv").write_text("prob,target\n" + "".join(f"{p},1\n" for p in cells.split(",")))
    parquet = tmp_path / "more"
    parquet.mkdir()
    for name, probs in (("x", [0.1, 0.2, 0.3]), ("y", [0.4, -2.0, 0.5])):
        pq.write_table(pa.table({"prob": probs, "target": [1, 1, 1]}), parquet / f"{name}.parquet")
    a, b, c = (str(tmp_path / f"{name}.csv") for name in "abc")
    not_numeric = "error: column 'prob' is not numeric: 'oops' at row 3"
    domain = "error: bce: column 'prob' (pred): expected probabilities in [0, 1] (for logits, use bce_logits), got -1"
    for args, expected in (
        ([a, b, c], f"{not_numeric}; row 3 is in '{b}'\n"),
        ([a, c], f"{domain} in 1 row (first: row 2); row 2 is in '{c}'\n"),
        (
            [a, str(parquet)],
            f"{domain.replace('-1', '-2')} in 1 row (first: row 6); row 6 is in '{parquet}/y.parquet'\n",
        ),
        ([c], f"{domain} in 1 row (first: row 0)\n"),
    ):
        run = cli("eval", *args, "-l", "bce", "-q")
        assert (run.code, run.out, run.err) == (3, "", expected), args
    run = cli("eval", b, a, "-q")  # no --loss: the first chunk is read for the task, and refused there
    assert (run.code, run.out, run.err) == (3, "", f"{not_numeric.replace('row 3', 'row 1')}; row 1 is in '{b}'\n")
    run = cli("suggest", a, b)
    assert (run.code, run.out, run.err) == (3, "", f"{not_numeric}; row 3 is in '{b}'\n")
    run = cli("compare", a, c, "-l", "bce", "-q")
    in_c = domain.replace("'prob'", f"'prob' in {c}")
    assert (run.code, run.out, run.err) == (3, "", f"{in_c} in 1 row (first: row 0)\n")
    run = cli("compare", str(parquet), str(parquet), "-l", "bce", "-q")
    assert run.code == 3 and run.err.endswith(f"(first: row 4); row 4 is in '{parquet}/y.parquet'\n"), run.err


def test_a_reader_error_in_a_later_path_numbers_rows_in_the_whole_input(tmp_path: Path, cli: Any) -> None:
    """A line of the second of several PATHs that cannot be read: its row is the whole input's, as every message's
    and the ``row`` column's of --per-sample (it was the file's own row, 1, which the first file also has)."""
    first, bad_line, not_utf8 = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    first.write_text("prob,target\n0.1,1\n0.2,0\n0.3,1\n")
    bad_line.write_text("prob,target\n0.3,1\n0.2,0,5\n")
    not_utf8.write_bytes(b"prob,target\n0.3,1\n\xff\xfe,0\n")
    for later, problem in (
        (bad_line, "Expected 2 columns, got 3: 0.2,0,5"),
        (not_utf8, "column 'prob' is not UTF-8 text; convert the file to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8)"),
    ):
        run = cli("eval", first, later, "-l", "mse", "-q")
        expected = f"error: cannot read '{later}' as CSV: line 3 (row 4; 0-based): {problem}\n"
        assert (run.code, run.out, run.err) == (3, "", expected)
        run = cli("eval", later, "-l", "mse", "-q")
        assert run.err == expected.replace("row 4", "row 1")


def test_key_errors_of_several_prediction_files_name_the_file(tmp_path: Path, cli: Any) -> None:
    """--targets: a missing, repeated or unmatched key of the predictions, or rows aligned by order that differ,
    name the predictions' file of the row; a targets file's row (its own numbering) names none."""
    preds = tmp_path / "preds"
    preds.mkdir()
    pq.write_table(pa.table({"id": [1, 2, 3], "prob": [0.1, 0.2, 0.3]}), preds / "a.parquet")
    targets = tmp_path / "targets.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3, 4, 8, 6], "target": [0, 1, 0, 1, 0, 1]}), targets)
    in_b = f"row 4 is in '{preds}/b.parquet'"
    drop = "to leave such rows out, use --missing drop"
    for ids, on, expected in (
        ([4, None, 6], True, f"key column 'id' has 1 missing value in {preds} (first: row 4); {drop}; {in_b}"),
        ([4, 2, 6], True, f"key column 'id' has 1 duplicate value in {preds} (first: 2 at row 4); each row needs a "
                          f"distinct key; {in_b}"),
        ([9, 8, 6], True, f"{preds}: 1 row has a key 'id' that is not in {targets} (first: 9 at row 3); {drop}; "
                          f"row 3 is in '{preds}/b.parquet'"),
        ([4, 6], True, f"{targets}: 1 row has a key 'id' that is not in {preds} (first: 8 at row 4); {drop}"),
        ([4, 5, 6], False, f"column 'id' is 5 in {preds} but 8 in {targets} at row 4: rows are aligned by order and "
                           f"these are not the same rows; align them by key with --on id; {in_b}"),
    ):  # fmt: skip
        pq.write_table(pa.table({"id": pa.array(ids, pa.int64()), "prob": [0.5] * len(ids)}), preds / "b.parquet")
        run = cli("eval", preds, "--targets", targets, *(["--on", "id"] if on else []), "-l", "bce", "-q")
        assert (run.code, run.out, run.err) == (3, "", f"error: {expected}\n"), ids


def test_rows_of_several_targets_files_name_the_targets_file(tmp_path: Path, cli: Any) -> None:
    """--targets given as several files: a missing or out-of-domain target, a key of the targets, or a likely key
    differing from the predictions' at a row named no file of the targets (or the predictions' file holding the
    same row number, for a value the targets give); they now name the targets' file holding the row (and both
    files, for rows aligned by order that differ)."""
    preds, targets = tmp_path / "preds", tmp_path / "targets"
    preds.mkdir(), targets.mkdir()
    for name, ids in (("a", [0, 1, 2]), ("b", [3, 4, 5])):
        pq.write_table(pa.table({"id": ids, "prob": [0.1, 0.2, 0.3]}), preds / f"{name}.parquet")
    first, second = preds / "a.parquet", preds / "b.parquet"
    pq.write_table(pa.table({"id": [0, 1, 2], "target": [0.0, 1.0, 0.0]}), targets / "a.parquet")
    in_b = f"row 4 is in '{targets}/b.parquet'"
    missing = "column 'target' has 1 missing value (row 4; 0-based); use --missing drop to drop those rows"
    for ids, values, on, expected in (
        ([3, 4, 5], [1.0, None, 0.0], False, f"{missing}; {in_b}"),
        ([3, 4, 5], [1.0, 7.0, 0.0], False, f"bce: column 'target' (target): expected labels in [0, 1], got 7 in 1 "
                                            f"row (first: row 4); {in_b}"),
        ([3, 9, 5], [1.0, 1.0, 0.0], False, f"column 'id' is 4 in {first}, {second} but 9 in {targets} at row 4: rows "
                                            f"are aligned by order and these are not the same rows; align them by key "
                                            f"with --on id; row 4 is in '{second}' and '{targets}/b.parquet'"),
        ([3, None, 5], [1.0, 1.0, 0.0], True, f"key column 'id' has 1 missing value in {targets} (first: row 4); to "
                                              f"leave such rows out, use --missing drop; {in_b}"),
    ):  # fmt: skip
        pq.write_table(pa.table({"id": pa.array(ids, pa.int64()), "target": values}), targets / "b.parquet")
        run = cli("eval", first, second, "--targets", targets, *(["--on", "id"] if on else []), "-l", "bce", "-q")
        assert (run.code, run.out, run.err) == (3, "", f"error: {expected}\n"), ids
    # compare: a key repeated in the candidate, joined by --on beside --targets, is the candidate's row, not theirs.
    pq.write_table(pa.table({"id": [3, 4, 5], "target": [1.0, 1.0, 0.0]}), targets / "b.parquet")
    candidate = tmp_path / "candidate"
    candidate.mkdir()
    pq.write_table(pa.table({"id": [0, 1, 2], "prob": [0.1, 0.2, 0.3]}), candidate / "a.parquet")
    pq.write_table(pa.table({"id": [3, 3, 5], "prob": [0.1, 0.2, 0.3]}), candidate / "b.parquet")
    run = cli("compare", preds, candidate, "--targets", targets, "--on", "id", "-l", "bce", "-q")
    assert run.err == (
        f"error: key column 'id' has 1 duplicate value in {candidate} (first: 3 at row 4); each row needs a distinct "
        f"key; row 4 is in '{candidate}/b.parquet'\n"
    )


def test_a_key_only_the_targets_or_the_candidate_holds_names_its_file(tmp_path: Path, cli: Any) -> None:
    """--on: a row of the targets (or of compare's candidate) whose key the predictions (the baseline) lack, in the
    second file of a directory, named no file; it now names the file holding the row, as the other key errors do."""
    preds, extra = tmp_path / "preds.csv", tmp_path / "extra"
    preds.write_text("id,pred,target\n" + "".join(f"{k},0.5,{k % 2}\n" for k in range(5)))
    extra.mkdir()
    for name, keys in (("a", [0, 1]), ("b", [2, 3, 4, 9])):
        table = {"id": keys, "pred": [0.5] * len(keys), "target": [k % 2 for k in keys]}
        pq.write_table(pa.table(table), extra / f"{name}.parquet")
    lacking = f"{extra}: 1 row has a key 'id' that is not in {preds} (first: 9 at row 5); to leave such rows out, use"
    expected = f"error: {lacking} --missing drop; row 5 is in '{extra}/b.parquet'\n"
    for command in (["eval", preds, "--targets", extra, "--pred", "pred"], ["compare", preds, extra]):
        run = cli(*command, "--on", "id", "-l", "mse", "-q")
        assert (run.code, run.out, run.err) == (3, "", expected)
    run = cli("compare", preds, extra, "--on", "id", "-l", "mse", "-q", "--missing", "drop", "-f", "json")
    assert run.code == 0 and json.loads(run.out)["input"]["candidate"]["rows_dropped"] == 1, run.err


def test_compare_in_lockstep_names_the_file_of_each_side_holding_the_row(tmp_path: Path, cli: Any) -> None:
    """compare of two directories read by row order: a likely key or a target differing at a row named only the
    baseline's file of the row ('row 4 is in pp/b.parquet'), not the candidate's; it now names both (one side's
    when the other is one file)."""
    ids = {"a": [0, 1, 2], "b": [3, 4, 5, 6, 7]}
    sides = {}
    for side, changed in (("pp", {}), ("ppk", {"id": 99}), ("ppt", {"target": 5.0})):
        sides[side] = tmp_path / side
        sides[side].mkdir()
        for name, keys in ids.items():
            table = {"id": list(keys), "pred": [0.5] * len(keys), "target": [float(k % 3) for k in keys]}
            if name == "b":
                for column, value in changed.items():
                    table[column][1] = value
            pq.write_table(pa.table(table), sides[side] / f"{name}.parquet")
    single = tmp_path / "one.parquet"
    pq.write_table(pa.table({"id": list(range(8)), "pred": [0.5] * 8, "target": [k % 3 for k in range(8)]}), single)
    pp, ppk, ppt = sides["pp"], sides["ppk"], sides["ppt"]
    order = "rows are aligned by order and these are not the same rows; align them by key with --on id"
    targets = "both models must be scored on the same truth (give --targets FILE to take the targets from one file)"
    for baseline, candidate, expected in (
        (pp, ppk, f"column 'id' is 4 in {pp} but 99 in {ppk} at row 4: {order}; row 4 is in '{pp}/b.parquet' and "
                  f"'{ppk}/b.parquet'"),
        (single, ppk, f"column 'id' is 4 in {single} but 99 in {ppk} at row 4: {order}; row 4 is in "
                      f"'{ppk}/b.parquet'"),
        (ppk, single, f"column 'id' is 99 in {ppk} but 4 in {single} at row 4: {order}; row 4 is in "
                      f"'{ppk}/b.parquet'"),
        (pp, ppt, f"the targets differ: column 'target' is 1.0 in {pp} but 5.0 in {ppt} at row 4; {targets}; row 4 "
                  f"is in '{pp}/b.parquet' and '{ppt}/b.parquet'"),
    ):  # fmt: skip
        run = cli("compare", baseline, candidate, "-l", "mse", "-q")
        assert (run.code, run.out, run.err) == (3, "", f"error: {expected}\n")
    per_sample = ["--per-sample", tmp_path / "s.csv"]
    run = cli("compare", pp, ppk, "-l", "mse", "-q", "--by", "id", "--bootstrap", "20", *per_sample)
    assert run.code == 3 and run.err.endswith(f"row 4 is in '{pp}/b.parquet' and '{ppk}/b.parquet'\n")
    assert not (tmp_path / "s.csv").exists()


def test_compare_joined_by_on_names_the_file_of_each_side_holding_its_row(tmp_path: Path, cli: Any) -> None:
    """compare --on id, a target differing between the sides: the message cites the baseline's row and the
    candidate's own row but named only the baseline's file ('row 5 is in 'pp/b.parquet''), and none for a candidate
    of several files; it now names each side's file of its own row."""
    pp, shuffled, single = tmp_path / "pp", tmp_path / "shuffled", tmp_path / "one.parquet"
    layouts = {pp: {"a": [0, 1, 2], "b": [3, 4, 5, 6, 7]}, shuffled: {"a": [7, 6, 5], "b": [4, 3, 2, 1, 0]}}
    for root, parts in layouts.items():
        root.mkdir()
        for name, keys in parts.items():
            target = [5.0 if root == shuffled and k == 5 else float(k % 3) for k in keys]
            table = pa.table({"id": keys, "pred": [0.5] * len(keys), "target": target})
            pq.write_table(table, root / f"{name}.parquet")
    pq.write_table(pa.table({"id": list(range(8)), "pred": [0.5] * 8, "target": [k % 3.0 for k in range(8)]}), single)
    targets = "both models must be scored on the same truth (give --targets FILE to take the targets from one file)"
    for baseline, candidate, rows, end in (
        (pp, shuffled, (5, 2), f"row 5 is in '{pp}/b.parquet' and row 2 is in '{shuffled}/a.parquet'"),
        (shuffled, pp, (2, 5), f"row 2 is in '{shuffled}/a.parquet' and row 5 is in '{pp}/b.parquet'"),
        (single, shuffled, (5, 2), f"row 2 is in '{shuffled}/a.parquet'"),
    ):
        ours, theirs = ("2.0", "5.0") if baseline != shuffled else ("5.0", "2.0")
        expected = (
            f"error: the targets differ: column 'target' is {ours} in {baseline} at row {rows[0]} but {theirs} in "
            f"{candidate} at row {rows[1]}; {targets}; {end}\n"
        )
        run = cli("compare", baseline, candidate, "--on", "id", "-l", "mse", "-q")
        assert (run.code, run.out, run.err) == (3, "", expected)


def test_compare_names_the_file_of_the_first_row_a_message_of_both_sides_cites(tmp_path: Path, cli: Any) -> None:
    """compare read by row order, a value missing in each side: the message cites the baseline's row first, but the
    file named was the candidate's file of that row ('row 2 is in 'cand/a.parquet'', where nothing is missing), and
    none for a baseline of several files; now the baseline's file of its row, as for a baseline's value alone."""
    one, several = tmp_path / "one.csv", tmp_path / "several"
    one.write_text("pred,target\n" + "".join(f"{'' if k == 2 else 0.5},{k % 2}\n" for k in range(8)))
    several.mkdir()
    for name, rows in (("a", range(3)), ("b", range(3, 8))):
        pred = [None if k == 4 else 0.5 for k in rows]
        pq.write_table(pa.table({"pred": pred, "target": [k % 2 for k in rows]}), several / f"{name}.parquet")
    missing = "has 1 missing value (row {}; 0-based)"
    fix = "use --missing drop to drop those rows"
    for baseline, candidate, rows, end in (
        (one, several, (2, 4), ""),
        (several, one, (4, 2), f"; row 4 is in '{several}/b.parquet'"),
    ):
        run = cli("compare", baseline, candidate, "-l", "mse", "-q")
        expected = (
            f"error: column 'pred' in {baseline} {missing.format(rows[0])}; column 'pred' in {candidate} "
            f"{missing.format(rows[1])}; {fix}{end}\n"
        )
        assert (run.code, run.out, run.err) == (3, "", expected)


def test_text_not_utf8_in_a_file_of_a_directory_names_the_file(tmp_path: Path, cli: Any) -> None:
    """Parquet text that is not UTF-8 in the second file of a directory: the message named the directory only; it
    now names the file too. Given as PATHs, each file names itself, once."""
    root = tmp_path / "ds"
    root.mkdir()
    pq.write_table(pa.table({"prob": [0.1, 0.2], "target": [0, 1], "seg": ["a", "b"]}), root / "a.parquet")
    offsets = pa.py_buffer(np.array([0, 1, 3], dtype=np.int32).tobytes())
    seg = pa.Array.from_buffers(pa.string(), 2, [None, offsets, pa.py_buffer(b"x\xff\xfe")])
    pq.write_table(pa.table({"prob": [0.1, 0.2], "target": [0, 1], "seg": seg}), root / "b.parquet")
    problem = "holds text that is not UTF-8 (row 3; 0-based); write it as UTF-8 text, or as binary"
    run = cli("eval", root, "-l", "bce", "--by", "seg", "-q")
    assert (run.code, run.err) == (3, f"error: column 'seg' of {root} {problem}; row 3 is in '{root}/b.parquet'\n")
    run = cli("eval", root / "a.parquet", root / "b.parquet", "-l", "bce", "--by", "seg", "-q")
    assert (run.code, run.err) == (3, f"error: column 'seg' of {root}/b.parquet {problem}\n")


def _write_parquet(path: Path, table: pa.Table) -> None:
    """Written by Python's open: pyarrow's takes UTF-8 names only."""
    with open(path, "wb") as file:
        pq.write_table(table, file)


def test_a_dataset_whose_names_are_not_utf8(cli, tmp_path: Path) -> None:
    """A directory or glob whose name, or a file's or folder's name in it, is not UTF-8 (données/ from a Latin-1
    system; Python holds the bytes as surrogates) was 'error: internal error (UnicodeEncodeError ...)', exit 4:
    pyarrow opens files by UTF-8 names only. Now each file is opened by its descriptor; a partition value that is
    not UTF-8 cannot be an Arrow string, so using it as a column is an input error naming the folder."""
    latin = os.fsdecode(b"donn\xe9es")
    root = tmp_path / latin
    for folder, name, values in (("region=eu", f"{latin}.parquet", [1.0, 3.0]), ("region=us", "b.parquet", [5.0])):
        (root / folder).mkdir(parents=True)
        _write_parquet(root / folder / name, pa.table({"pred": values, "target": [0.0] * len(values)}))
    rows = (("3.0", 3, ""), ("2.0", 2, "eu"), ("5.0", 1, "us"))
    expected = "".join(f"mae,multioutput=none,mean,{value},{n},,,{region}\n" for value, n, region in rows)
    for path in (root, f"{root}/*/*.parquet", f"{tmp_path}/donn?es"):
        run = cli("eval", path, "-l", "mae", "--by", "region", "-f", "csv", "-q")
        assert (run.code, run.out.split("\n", 1)[1], run.err) == (0, expected, "")
    shown = cli("eval", root, "-l", "mae", "-q")
    assert shown.code == 0 and shown.out.startswith(f"{tmp_path}/donn\\udce9es  3 rows"), shown.err
    (root / "region=us").rename(root / os.fsdecode(b"region=s\xfcd"))
    run = cli("eval", root, "-l", "mae", "-f", "csv", "-q")  # the key is not used: read as before
    assert (run.code, run.out.splitlines()[1]) == (0, "mae,multioutput=none,mean,3.0,3,,"), run.err
    run = cli("eval", root, "-l", "mae", "--by", "region", "-q")
    assert (run.code, run.out, run.err) == (
        3,
        "",
        "error: the partition folder 'region=s\\udcfcd' has a name that is not UTF-8, so it cannot give the column "
        "'region'; rename the folder in UTF-8 (e.g. convmv -f latin1 -t utf8)\n",
    )


def test_the_dask_engine_reads_a_dataset_whose_name_is_not_utf8(tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="needs the extra lossctl[dask]")
    root = tmp_path / os.fsdecode(b"donn\xe9es")
    root.mkdir()
    _write_parquet(root / os.fsdecode(b"\xe9t\xe9.parquet"), pa.table({"pred": [1.0, 3.0], "target": [0.0, 0.0]}))
    rows = tmp_path / os.fsdecode(b"r\xe9s") / "rows.parquet"  # its files written by Arrow through Python files
    rows.parent.mkdir()
    args = ("-l", "mae", "-f", "csv", "-q", "--engine", "dask", "--workers", "1", "--per-sample", str(rows))
    run = _cli("eval", str(root), *args)
    assert (run.returncode, run.stdout.splitlines()[1:], run.stderr) == (0, ["mae,multioutput=none,mean,2.0,2,,"], "")
    part = rows / "part-00000.parquet"
    assert pq.read_table(io.BytesIO(part.read_bytes())).column("mae").to_pylist() == [1.0, 3.0]


@pytest.mark.parametrize("link", ["nowhere.parquet", "b.parquet"], ids=["broken", "a loop"])
def test_a_broken_link_among_a_datasets_files_is_named(cli, tmp_path: Path, link: str) -> None:
    """A link to nothing (or to itself) among a directory's Parquet files said "cannot read 'd': No such file or
    directory" (or 'Too many levels of symbolic links'), naming the folder; a glob left it out without a word,
    so its rows were lost silently. Both name the file now."""
    folder = tmp_path / "d"
    folder.mkdir()
    pq.write_table(pa.table({"pred": [1.0], "target": [0.0]}), folder / "a.parquet")
    (folder / "b.parquet").symlink_to(link)
    reason = "No such file or directory" if link != "b.parquet" else "Too many levels of symbolic links"
    for path in (folder, f"{folder}/*.parquet"):
        run = cli("eval", path, "-l", "mae", "-q")
        assert (run.code, run.out, run.err) == (3, "", f"error: cannot read '{folder / 'b.parquet'}': {reason}\n")


def _with_min_cut_short(path: Path) -> None:
    """Rewrite the footer of the Parquet file ``path``, whose column ``k`` is int64 with the smallest value 5 (its only
    statistics of those bytes), so that both of the statistics' copies of that minimum hold 2 bytes instead of 8."""
    data = path.read_bytes()
    size = int.from_bytes(data[-8:-4], "little")
    footer = data[-8 - size : -8]
    eight = bytes([8]) + (5).to_bytes(8, "little")
    assert footer.count(eight) == 2
    footer = footer.replace(eight, bytes([2]) + (5).to_bytes(2, "little"))
    path.write_bytes(data[: -8 - size] + footer + len(footer).to_bytes(4, "little") + b"PAR1")


@pytest.mark.parametrize("how", ["paths", "directory"])
def test_corrupt_statistics_of_an_integer_key_beside_a_double_one_are_an_input_error(tmp_path: Path, how: str) -> None:
    """An int64 key beside a double one is read as double when its values fit (:func:`lossctl.io.parts._fits`),
    which was judged from the row groups' statistics: pyarrow aborted the process on a minimum cut short
    ("terminate called after throwing an instance of 'parquet::ParquetException'", exit 134). The values are read
    from the column now, and a file that cannot be read is the usual input error naming it."""
    folder = tmp_path / "d"
    folder.mkdir()
    corrupt, other = folder / "a.parquet", folder / "b.parquet"
    pq.write_table(
        pa.table(
            {"k": pa.array([1234567, 7654321, 5], pa.int64()), "pred": [0.1, 0.2, 0.3], "target": [0.0, 1.0, 0.0]}
        ),
        corrupt,
    )
    pq.write_table(pa.table({"k": [1.5, 2.5], "pred": [0.1, 0.2], "target": [0.0, 1.0]}), other)
    paths = [str(corrupt), str(other)] if how == "paths" else [str(folder)]
    fine = _cli("eval", *paths, "--by", "k", "-l", "mse", "-f", "json", "-q")
    assert fine.returncode == 0, fine.stderr
    groups = sorted(r["group"]["k"] for r in json.loads(fine.stdout)["results"][1:])
    assert groups == [1.5, 2.5, 5.0, 1234567.0, 7654321.0]
    _with_min_cut_short(corrupt)
    run = _cli("eval", *paths, "--by", "k", "-l", "mse")
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr == f"error: cannot read '{corrupt}' as Parquet: Unexpected end of stream\n"


_KEYS_ACROSS_FILES = {
    # int64 beside double is double (Arrow's and DuckDB's unified type): 1 prints as 1.0 in every file.
    "int64-and-double": ([1, 2], [1.0, 2.0], [("1.0", 2, 2.0), ("2.0", 2, 3.0)]),
    # an int64 beyond 2^53 no double holds: text, each id its own group (the double 2^53 too).
    "int64-beyond-2^53-and-double": (
        [2**53 + 1, 2**53],
        [float(2**53), 1.5],
        [
            ("9007199254740993", 1, 1.0),
            ("9007199254740992", 1, 2.0),
            ("9.007199254740992e+15", 1, 3.0),
            ("1.5", 1, 4.0),
        ],
    ),
    # a key that is text in one file and numbers in another is text in all, as beside a CSV.
    "string-and-int64": (["1", "2"], [1, 2], [("1", 2, 2.0), ("2", 2, 3.0)]),
    # a decimal beside int64 holds every int64 (Arrow's widened decimal(18, 0) refused to take any int64): one type.
    "decimal-and-int64": (
        pa.array([decimal.Decimal("1"), decimal.Decimal("2")], pa.decimal128(5, 0)),
        [1, 2],
        [("1", 2, 2.0), ("2", 2, 3.0)],
    ),
    # timestamps of two time zones are instants: the same instant is one group, in UTC.
    "timestamps-of-two-zones": (
        pa.array([datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)] * 2, pa.timestamp("us", "UTC")),
        pa.array([datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)] * 2, pa.timestamp("ms", "Europe/Paris")),
        [("2020-01-01T00:00:00+00:00", 4, 2.5)],
    ),
    # a date beside timestamps is its midnight (DuckDB's, and how --on matches them): one group, not two texts.
    "date-and-timestamp": (
        [datetime.date(1970, 1, 2), datetime.date(1970, 1, 3)],
        pa.array([datetime.datetime(1970, 1, 2), datetime.datetime(1970, 1, 3)], pa.timestamp("ms")),
        [("1970-01-02T00:00:00", 2, 2.0), ("1970-01-03T00:00:00", 2, 3.0)],
    ),
}


@pytest.mark.parametrize("case", list(_KEYS_ACROSS_FILES))
@pytest.mark.parametrize("how", ["paths", "directory", "arrow", "parquet-and-arrow"])
def test_a_by_key_typed_differently_by_the_files_of_a_dataset_is_one_type_at_any_chunk_size(
    cli, tmp_path: Path, case: str, how: str
) -> None:
    """The groups were those of whichever files one chunk mixed: int64 1 in one file and double 1.0 in another
    printed 1 at --chunk-rows 1 and 1.0 at 100; an id beyond 2^53 beside doubles made 3 groups at --chunk-rows 2
    and 4 in one chunk; a text key beside integers was "column 'g' is not numeric" in Parquet but text groups
    beside a CSV. The type is now the dataset's, fixed from the files' declared types before a row is read."""
    import pyarrow.feather as feather

    first, second, expected = _KEYS_ACROSS_FILES[case]
    (tmp_path / "d").mkdir()
    suffixes = {"arrow": ("arrow", "arrow"), "parquet-and-arrow": ("parquet", "arrow")}.get(how, ("parquet",) * 2)
    files = [tmp_path / "d" / f"{name}.{suffix}" for name, suffix in zip("ab", suffixes, strict=True)]
    for keys, pred, file in zip([first, second], [[1.0, 2.0], [3.0, 4.0]], files, strict=True):
        table = pa.table({"pred": pred, "target": [0.0, 0.0], "g": keys})
        (pq.write_table if file.suffix == ".parquet" else feather.write_feather)(table, file)
    data = [str(tmp_path / "d")] if how == "directory" else [str(f) for f in files]
    for chunk_rows in ("1", "2", "3", "1000"):
        run = cli("eval", *data, "-l", "mae", "--by", "g", "-f", "json", "-q", "--chunk-rows", chunk_rows)
        assert (run.code, run.err) == (0, "")
        results = json.loads(run.out)["results"][1:]
        assert [(str(r["group"]["g"]), r["n"], r["value"]) for r in results] == expected, chunk_rows


def test_a_by_key_typed_differently_by_the_files_groups_alike_on_the_dask_engine(tmp_path: Path) -> None:
    """The Dask engine reads each part with the whole dataset's type: int64 1 and double 1.0 print as 1.0."""
    pytest.importorskip("distributed", reason="needs the extra lossctl[dask]")
    (tmp_path / "d").mkdir()
    for name, keys in (("a", [1, 2]), ("b", [1.0, 2.0])):
        pq.write_table(
            pa.table({"pred": [1.0, 2.0], "target": [0.0, 0.0], "g": keys}), tmp_path / "d" / f"{name}.parquet"
        )
    args = ["eval", str(tmp_path / "d"), "-l", "mae", "--by", "g", "-f", "csv", "-q", "--chunk-rows", "1"]
    run = _cli(*args, "--engine", "dask", "--workers", "1")
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout.splitlines()[2:] == [
        "mae,multioutput=none,mean,1.0,2,,,1.0",
        "mae,multioutput=none,mean,2.0,2,,,2.0",
    ]


def test_a_prediction_column_of_text_beside_numbers_is_still_named(cli, tmp_path: Path) -> None:
    """Only a key may be text in one file and numbers in another: a prediction column so is the error it was."""
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    pq.write_table(pa.table({"pred": [1, 2], "target": [0.0, 0.0]}), files[0])
    pq.write_table(pa.table({"pred": ["1", "2"], "target": [0.0, 0.0]}), files[1])
    run = cli("eval", *files, "-l", "mae", "--chunk-rows", "1")
    assert (run.code, run.out) == (3, "")
    assert run.err == (
        f"error: column 'pred' is not numeric in '{files[1]}': it has type string there but int64 in '{files[0]}'; "
        "the files of a dataset must agree\n"
    )


@pytest.mark.parametrize(
    ("csv_keys", "parquet_keys", "expected"),
    [
        (["1", "2"], [1.0, 2.0], [({"g": 1.0}, 2, 2.0), ({"g": 2.0}, 2, 3.0)]),
        (["1", "x"], [1, 2], [({"g": "1"}, 2, 2.0), ({"g": "x"}, 1, 2.0), ({"g": "2"}, 1, 4.0)]),
        (
            ["1970-01-02", "1970-01-03"],
            [datetime.datetime(1970, 1, 2), datetime.datetime(1970, 1, 3)],
            [({"g": "1970-01-02T00:00:00"}, 2, 2.0), ({"g": "1970-01-03T00:00:00"}, 2, 3.0)],
        ),
    ],
    ids=["integers-beside-doubles", "text-beside-integers", "dates-beside-timestamps"],
)
@pytest.mark.parametrize("csv_first", [True, False])
def test_a_by_key_of_a_csv_beside_a_parquet_file_is_one_type_at_any_chunk_size(
    cli, tmp_path: Path, csv_keys: list[str], parquet_keys: list[Any], expected: list[Any], csv_first: bool
) -> None:
    """A CSV's types are inferred, so they meet a Parquet file's in the engine's grouping: integers 1, 2 in the CSV
    beside doubles printed 1 at --chunk-rows 1 (the first chunk's type) and 1.0 in one chunk. Now the joined
    type at every chunk size (doubles; text beside text)."""
    text = tmp_path / "a.csv"
    text.write_text("pred,target,g\n" + "".join(f"{p},0,{k}\n" for p, k in zip([1, 2], csv_keys, strict=True)))
    pq.write_table(pa.table({"pred": [3.0, 4.0], "target": [0.0, 0.0], "g": parquet_keys}), tmp_path / "b.parquet")
    files = [text, tmp_path / "b.parquet"] if csv_first else [tmp_path / "b.parquet", text]
    for chunk_rows in ("1", "2", "3", "1000"):
        run = cli("eval", *files, "-l", "mae", "--by", "g", "-f", "json", "-q", "--chunk-rows", chunk_rows)
        assert (run.code, run.err) == (0, "")
        results = json.loads(run.out)["results"][1:]
        got = sorted((json.dumps(r["group"]), r["n"], r["value"]) for r in results)  # 1.0 as 1.0, not 1
        assert got == sorted((json.dumps(group), n, value) for group, n, value in expected), chunk_rows


def test_a_likely_key_of_several_files_is_checked_in_each_files_own_type(cli, tmp_path: Path) -> None:
    """Only --by, qid and --on keys take the dataset's type: an 'id' column of integers in one predictions file and
    doubles in the next, aligned by order with targets sorted differently, is still checked where it is integers
    (read as doubles everywhere, it would be no likely key and the misaligned rows evaluated)."""
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "t.parquet"]
    pq.write_table(pa.table({"id": [1, 2], "pred": [1.0, 2.0]}), files[0])
    pq.write_table(pa.table({"id": [3.0, 4.0], "pred": [1.0, 2.0]}), files[1])
    pq.write_table(pa.table({"id": [2, 1, 3, 4], "target": [0.0, 0.0, 0.0, 0.0]}), files[2])
    for chunk_rows in ("1", "1000"):
        run = cli("eval", *files[:2], "--targets", files[2], "-l", "mae", "-q", "--chunk-rows", chunk_rows)
        assert (run.code, run.out) == (3, "")
        assert run.err.startswith(f"error: column 'id' is 1 in {files[0]}, {files[1]} but 2 in {files[2]} at row 0")


def test_a_hive_dataset_beside_a_file_joins_its_key_in_the_unified_type(cli, tmp_path: Path) -> None:
    """A Hive dataset given beside another file told no span of its integers, so int64 ids 1, 2 beside a file's
    doubles were read as text ('1'), where two plain files give 1.0."""
    (tmp_path / "h" / "r=1").mkdir(parents=True)
    pq.write_table(
        pa.table({"pred": [1.0, 2.0], "target": [0.0, 0.0], "g": [1, 2]}), tmp_path / "h" / "r=1" / "a.parquet"
    )
    other = pa.table({"pred": [3.0, 4.0], "target": [0.0, 0.0], "g": [1.0, 2.0], "r": [1, 1]})
    pq.write_table(other, tmp_path / "b.parquet")
    for chunk_rows in ("1", "1000"):
        run = cli("eval", tmp_path / "h", tmp_path / "b.parquet", "-l", "mae", "--by", "g", "-f", "csv", "-q",
                  "--chunk-rows", chunk_rows)  # fmt: skip
        assert (run.code, run.err) == (0, "")
        assert [line.rsplit(",", 1)[1] for line in run.out.splitlines()[2:]] == ["1.0", "2.0"], chunk_rows


@pytest.mark.parametrize("hive", [False, True])
def test_a_folder_beside_a_file_gives_every_files_key_type(cli, tmp_path: Path, hive: bool) -> None:
    """A folder given beside another file told the outer dataset only its first file's key type: int32 and text
    there beside a file's int64 made int64 the key's type, and the folder's 'x' was refused ("which the other files'
    int64 cannot hold"); as its files given one by one, the key is text."""
    folder = tmp_path / "d" / "r=1" if hive else tmp_path / "d"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"pred": [1.0], "target": [0.0], "g": pa.array([1], pa.int32())}), folder / "a.parquet")
    pq.write_table(pa.table({"pred": [2.0], "target": [0.0], "g": ["x"]}), folder / "b.parquet")
    other = {"pred": [3.0], "target": [0.0], "g": pa.array([3], pa.int64())}
    pq.write_table(pa.table({**other, "r": [1]} if hive else other), tmp_path / "c.parquet")
    for chunk_rows in ("1", "2", "1000"):
        run = cli("eval", tmp_path / "d", tmp_path / "c.parquet", "-l", "mae", "--by", "g", "-f", "json", "-q",
                  "--chunk-rows", chunk_rows)  # fmt: skip
        assert (run.code, run.err) == (0, ""), chunk_rows
        groups = {r["group"]["g"]: r["value"] for r in json.loads(run.out)["results"] if r["group"]}
        assert groups == {"1": 1.0, "x": 2.0, "3": 3.0}, chunk_rows


@pytest.mark.parametrize("how", ["paths", "directory", "arrow"])
def test_a_file_without_rows_does_not_decide_a_keys_type(cli, tmp_path: Path, how: str) -> None:
    """An empty file whose key column is typed text made every other file's integer ids text ('1'): its type holds
    no value, so the others' int64 stays the key's type (and the empty file is cast to it)."""
    import pyarrow.feather as feather

    (tmp_path / "d").mkdir()
    empty = pa.table(
        {"pred": pa.array([], pa.float64()), "target": pa.array([], pa.float64()), "g": pa.array([], pa.string())}
    )
    full = pa.table({"pred": [1.0, 2.0], "target": [0.0, 0.0], "g": [1, 2]})
    files = [tmp_path / "d" / "a.parquet", tmp_path / "d" / "b.parquet"]
    if how == "arrow":
        files[0] = tmp_path / "d" / "a.arrow"
        feather.write_feather(empty, files[0])
    else:
        pq.write_table(empty, files[0])
    pq.write_table(full, files[1])
    data = [tmp_path / "d"] if how == "directory" else files
    for chunk_rows in ("1", "2", "1000"):
        run = cli("eval", *data, "-l", "mae", "--by", "g", "-f", "json", "-q", "--chunk-rows", chunk_rows)
        assert (run.code, run.err) == (0, ""), chunk_rows
        results = json.loads(run.out)["results"][1:]
        assert [(r["group"], r["value"]) for r in results] == [({"g": 1}, 1.0), ({"g": 2}, 2.0)], chunk_rows


def test_per_sample_parquet_of_a_key_whose_type_changes_between_chunks(cli, tmp_path: Path) -> None:
    """Integer ids of a CSV file, then doubles of a Parquet file after it (types a CSV file infers: not fixed before
    reading), with --per-sample rows.parquet at a small --chunk-rows, were an internal error (Arrow's "Table schema
    does not match", exit 4); they are now cast to the first rows' type where they fit, else an input error saying
    what to do, and nothing is written."""
    (tmp_path / "a.csv").write_text("id,pred\n1,1\n2,2\n")
    (tmp_path / "t.csv").write_text("id,target\n1,0\n2,0\n3,0\n2.5,0\n")
    for ids in ([3.0], [2.5]):
        pq.write_table(pa.table({"id": ids, "pred": [3.0]}), tmp_path / "b.parquet")
        for chunk_rows in ("1", "2", "1000"):
            out = tmp_path / "rows.parquet"
            run = cli("eval", tmp_path / "a.csv", tmp_path / "b.parquet", "--targets", tmp_path / "t.csv", "--on",
                      "id", "-l", "mae", "-q", "--missing", "drop", "--per-sample", out,
                      "--chunk-rows", chunk_rows)  # fmt: skip
            if ids == [2.5] and chunk_rows != "1000":
                assert (run.code, run.out, out.exists()) == (3, "", False), chunk_rows
                assert run.err == (
                    f"error: cannot write '{out}': column 'id' is int64 in the first rows but double in later ones, "
                    "which int64 cannot hold; write --per-sample as JSON Lines (.jsonl), or give the column one type "
                    "in every input\n"
                )
                continue
            assert (run.code, run.err) == (0, ""), chunk_rows
            assert pq.read_table(out).column("mae").to_pylist() == [1.0, 2.0, 3.0], chunk_rows
            out.unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.parquet", "t.csv"]


@pytest.mark.parametrize("text_first", [True, False])
def test_lists_of_text_beside_lists_of_numbers_in_another_file(cli, tmp_path: Path, text_first: bool) -> None:
    """A Parquet list<string> of numbers in one file and list<double> in the next were read at --chunk-rows 1 but
    refused when one chunk joined them ("column 'p' has different types in different parts of the input"); they are
    now joined as lists of text, read as numbers as either file alone is."""
    text = pa.array([["0.1", "0.9"], ["0.8", "0.2"]], pa.list_(pa.string()))
    numbers = pa.array([[0.3, 0.7], [0.6, 0.4]], pa.list_(pa.float64()))
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    for file, lists in zip(files, [text, numbers] if text_first else [numbers, text], strict=True):
        pq.write_table(pa.table({"p": lists, "target": [1, 0]}), file)
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[[0, 1, 2, 3], [1, 0, 1, 0]])
    for chunk_rows in ("1", "3", "1000"):
        run = cli("eval", *files, "--pred", "p", "-l", "cross_entropy", "-f", "json", "-q", "--chunk-rows", chunk_rows)
        assert (run.code, run.err) == (0, ""), chunk_rows
        assert json.loads(run.out)["results"][0]["value"] == pytest.approx(expected), chunk_rows


@pytest.mark.parametrize("csv_first", [True, False])
def test_a_csv_files_vectors_beside_a_parquet_files_lists(cli, tmp_path: Path, csv_first: bool) -> None:
    """A CSV file's vectors (JSON arrays in cells) and a Parquet file's list column, given together, were read
    when each chunk held one file's rows but refused when a chunk joined them ("column 'p' has different types in
    different parts of the input: list<element: float>, string"); the lists now join the CSV's as JSON arrays."""
    (tmp_path / "a.csv").write_text('p,target\n"[0.1, 0.9]",1\n"[0.8, 0.2]",0\n')
    lists = pa.array([[0.3, 0.7], None, [0.6, 0.4]], pa.list_(pa.float32()))
    pq.write_table(pa.table({"p": lists, "target": [1, 1, 0]}), tmp_path / "b.parquet")
    files = [tmp_path / "a.csv", tmp_path / "b.parquet"][:: 1 if csv_first else -1]
    logits = np.array([[0.1, 0.9], [0.8, 0.2], np.float32([0.3, 0.7]), np.float32([0.6, 0.4])])
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[[0, 1, 2, 3], [1, 0, 1, 0]])
    for chunk_rows in ("1", "3", "1000"):
        run = cli("eval", *files, "--pred", "p", "-l", "cross_entropy", "-f", "json", "-q", "--missing", "drop",
                  "--chunk-rows", chunk_rows)  # fmt: skip
        assert (run.code, run.err) == (0, ""), chunk_rows
        result = json.loads(run.out)["results"][0]
        assert (result["n"], result["value"]) == (4, pytest.approx(expected, rel=1e-12)), chunk_rows
