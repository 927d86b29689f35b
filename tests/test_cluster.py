"""``--engine dask`` and remote input against real servers: moto's S3 server on 127.0.0.1 and a
``distributed.LocalCluster`` of 2 worker processes (docs/cli.md, "Beyond one machine").

Every test reads a partitioned dataset of 200,000 rows in Hive layout (``region=eu/``, ``region=us/``; five files
of several row groups) from the S3 server with the Dask engine, and the same files from the local disk with the
local engine: values and intervals must agree to 1e-12 relative. These tests need the extras
``lossctl[cloud,dask]`` and moto (``make extras``, which ``.ci/run`` runs); they are skipped only without them.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

import lossctl

pytest.importorskip("distributed", reason="needs the extra lossctl[dask]")
pytest.importorskip("s3fs", reason="needs the extra lossctl[cloud]")
pytest.importorskip("moto", reason="needs moto[server] (make extras)")

ROWS = 200_000
FILES = {"region=eu": 3, "region=us": 2}
BUCKET = "preds"
RTOL = 1e-12


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for port {port} exited at start-up")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no server answered on port {port}")


@contextmanager
def _web_server(directory: Path) -> Iterator[int]:
    """A web server on 127.0.0.1 (Python's http.server) serving ``directory``, for https:// inputs; yields its port."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """moto's S3 server on a free port of 127.0.0.1; its address and test credentials are put in this process's
    environment (which the Dask workers and the lossctl subprocesses inherit) for the module's duration."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_EC2_METADATA_DISABLED": "true",  # never ask an instance-metadata address for credentials
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        _wait_for(port, server)
        yield env
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.terminate()
        server.wait(timeout=10)


def _table(rng: np.random.Generator, rows: int, noise: float) -> pa.Table:
    """Columns for every loss family; ``noise`` scales the prediction errors (a candidate model uses less)."""
    y = rng.gamma(2.0, 10.0, rows)
    label = rng.integers(0, 2, rows)
    logits = rng.normal(size=(rows, 3))
    cls = rng.integers(0, 3, rows)
    x1, y1 = rng.uniform(0, 50, rows), rng.uniform(0, 50, rows)
    w, h = rng.uniform(5, 20, rows), rng.uniform(5, 20, rows)
    query = rng.normal(size=(rows, 4))
    return pa.table(
        {
            "seg": rng.choice(["a", "b", "c"], rows),
            "w": rng.uniform(0.5, 2.0, rows),
            "y_true": y,
            "y_pred": y + noise * rng.standard_t(3, rows),
            "label": label,
            "prob": np.clip(0.5 + noise * 0.04 * (label - 0.5) + rng.normal(0, 0.2, rows), 0.01, 0.99),
            "logit": rng.normal(size=rows) + noise * 0.1 * (2 * label - 1),
            "cls": cls,
            **{f"logit_{k}": logits[:, k] + noise * 0.2 * (cls == k) for k in range(3)},
            **{f"tag_{k}": (logits[:, k] + rng.normal(size=rows) > 0).astype(np.int64) for k in range(3)},
            **_boxes(rng, x1, y1, w, h, noise * 0.05),
            "query": pa.FixedSizeListArray.from_arrays(pa.array(query.reshape(-1)), 4),
            "document": pa.FixedSizeListArray.from_arrays(
                pa.array((query + noise * 0.1 * rng.normal(size=(rows, 4))).reshape(-1)), 4
            ),
            "qid": np.arange(rows) // 8,
            "relevance": rng.integers(0, 4, rows),
        }
    )


def _boxes(
    rng: np.random.Generator, x1: np.ndarray, y1: np.ndarray, w: np.ndarray, h: np.ndarray, noise: float
) -> dict[str, np.ndarray]:
    """Target boxes and predicted boxes off by ``noise`` per coordinate (widths stay positive)."""
    target = {"tx1": x1, "ty1": y1, "tx2": x1 + w, "ty2": y1 + h}
    return target | {"p" + name[1:]: values + rng.normal(0, noise, len(values)) for name, values in target.items()}


def _write(root: Path, noise: float) -> None:
    rng = np.random.default_rng(0)
    rows_per_file = ROWS // sum(FILES.values())
    for directory, count in FILES.items():
        (root / directory).mkdir(parents=True)
        for k in range(count):
            table = _table(rng, rows_per_file, noise)
            pq.write_table(table, root / directory / f"part-{k}.parquet", row_group_size=15_000)


@pytest.fixture(scope="module")
def data(s3: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The baseline and candidate datasets, on the local disk and in the S3 bucket."""
    import s3fs

    root = tmp_path_factory.mktemp("datasets")
    fs = s3fs.S3FileSystem()
    fs.mkdir(BUCKET)
    paths = {}
    for name, noise in (("baseline", 10.0), ("candidate", 8.0)):
        _write(root / name, noise)
        fs.put(str(root / name), f"{BUCKET}/{name}", recursive=True)
        paths[name] = str(root / name)
        paths[f"s3_{name}"] = f"s3://{BUCKET}/{name}"
    return paths


@pytest.fixture(scope="module")
def scheduler(s3: dict[str, str]) -> Iterator[str]:
    """A LocalCluster of 2 worker processes, shared by the module's tests; they inherit the S3 settings."""
    import distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield str(cluster.scheduler_address)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-300)


def assert_same(local: dict[str, Any], remote: dict[str, Any]) -> None:
    """Two reports' ``to_dict()`` agree: the same records, in the same order, equal to 1e-12 relative."""
    key = "results"
    assert len(local[key]) == len(remote[key])
    for ours, theirs in zip(local[key], remote[key], strict=True):
        assert (ours["loss"], ours.get("group"), ours.get("model")) == (
            theirs["loss"],
            theirs.get("group"),
            theirs.get("model"),
        )
        for field in ("value", "baseline", "candidate", "delta"):
            if field in ours:
                assert _close(ours[field], theirs[field]), (ours["loss"], field, ours[field], theirs[field])
        assert ours["n"] == theirs["n"]
        assert (ours["ci"] is None) == (theirs["ci"] is None)
        if ours["ci"] is not None:
            for end in ("low", "high"):
                assert _close(ours["ci"][end], theirs["ci"][end]), (ours["loss"], end)
    assert [c["passed"] for c in local["checks"]] == [c["passed"] for c in remote["checks"]]
    if local.get("groups"):
        for ours, theirs in zip(local["groups"]["gaps"], remote["groups"]["gaps"], strict=True):
            assert _close(ours["gap"], theirs["gap"]) and ours["worst_group"] == theirs["worst_group"]


FAMILIES = {
    "regression": dict(losses="mse,rmse,mae,huber:delta=5,quantile:q=0.9,log_cosh", weight="w", by=["region", "seg"]),
    "binary": dict(losses="bce,brier,focal", pred="prob", target="label", by="region"),
    "logits": dict(losses="bce_logits,hinge", pred="logit", target="label"),
    "multiclass": dict(losses="ce,focal_multiclass,ce:label_smoothing=0.1", pred="logit_*", target="cls"),
    "multilabel": dict(losses="bce_logits,hamming:threshold=0", pred="logit_*", target="tag_*"),
    "segmentation": dict(losses="dice,jaccard", pred="prob", target="label"),
    "detection": dict(losses="giou,ciou", pred="px1,py1,px2,py2", target="tx1,ty1,tx2,ty2"),
    "embedding": dict(losses="info_nce:batch_size=96", cols={"query": "query", "positive": "document"}),
    "ranking": dict(losses="ranknet", pred="y_pred", target="relevance", cols={"qid": "qid"}),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_equals_the_local_engine(family: str, data: dict[str, str], scheduler: str) -> None:
    options: dict[str, Any] = dict(FAMILIES[family])
    local = lossctl.evaluate(data["baseline"], **options)
    remote = lossctl.evaluate(data["s3_baseline"], engine="dask", scheduler=scheduler, **options)
    assert_same(local.to_dict(), remote.to_dict())
    split = [notice for notice in remote.notices if notice.startswith('engine="dask"')]
    if family == "ranking":  # a query's rows must be scored together: evaluated as one part, and said so
        assert split == ['engine="dask": evaluated in this process, as one part (ranknet needs every row in one part)']
    else:
        assert split == [f'engine="dask": {len(_splits(data))} tasks on 2 workers']


def _splits(data: dict[str, str]) -> list[tuple[int, int]]:
    from lossctl.io.dataset import dataset_of

    dataset = dataset_of(data["baseline"])
    assert dataset is not None
    return dataset.splits(1 << 21)


def test_partition_keys_are_columns_and_files_become_tasks(data: dict[str, str]) -> None:
    from lossctl.io.dataset import dataset_of

    dataset = dataset_of(data["s3_baseline"])
    assert dataset is not None
    assert dataset.partition_keys == ["region"]
    assert dataset.num_rows == ROWS
    assert len(dataset.splits(1 << 21)) == 5  # one task per file: 40,000 rows in three row groups each
    assert len(dataset.splits(15_000)) == 15  # one per row group
    assert [stop - start for start, stop in dataset.splits(15_000, multiple=96)][:3] == [14976, 14976, 9984]


def test_bootstrap_groups_and_gates_equal_the_local_engine(data: dict[str, str], scheduler: str) -> None:
    options: dict[str, Any] = dict(
        losses="mse,mae,rmse", by="region", bootstrap=20, seed=7, fail_if=["mse>100", "mae<1"], distributions=True
    )
    local = lossctl.evaluate(data["baseline"], **options)
    remote = lossctl.evaluate(data["s3_baseline"], engine="dask", scheduler=scheduler, **options)
    assert_same(local.to_dict(), remote.to_dict())
    assert not remote.passed and [c.passed for c in remote.checks] == [False, True]
    for ours, theirs in zip(local.results, remote.results, strict=True):
        if ours.distribution:  # the table's quantiles come from the same sampled rows
            assert theirs.distribution is not None
            assert [ours.distribution[q] for q in ("p50", "p90", "p99", "max")] == [
                theirs.distribution[q] for q in ("p50", "p90", "p99", "max")
            ]


def _worker_settings() -> tuple[str, int, str | None, str]:
    import warnings

    import pyarrow as pa

    shown = f"{warnings.showwarning.__module__}.{warnings.showwarning.__qualname__}"
    return pa.default_memory_pool().backend_name, pa.cpu_count(), os.environ.get("OMP_NUM_THREADS"), shown


def test_a_joined_clusters_workers_run_tasks_as_lossctls_own_and_keep_their_warnings(
    data: dict[str, str], scheduler: str
) -> None:
    """A worker that runs lossctl's tasks gets lossctl's Arrow pool and Arrow's thread pool over every core, as the
    command line has them (README: without them a joined 1-worker run took 1.7 times as long), and keeps them; its
    ``warnings.showwarning``, replaced by lossctl's router of the tasks' warnings while they run, is put back."""
    import distributed

    with distributed.Client(scheduler, set_as_default=False) as client:
        with distributed.get_task_stream(client=client) as stream:
            lossctl.evaluate(data["baseline"], losses="mse", engine="dask", scheduler=scheduler)
        workers = {task["worker"] for task in stream.data if str(task["key"]).startswith("lossctl-part-")}
        after = client.run(_worker_settings, workers=list(workers))
    assert workers
    for pool, threads, omp, shown in after.values():
        assert (threads, omp, shown) == (len(os.sched_getaffinity(0)), "1", "warnings.showwarning")
        with contextlib.suppress(NotImplementedError):  # a pyarrow built without jemalloc keeps its default pool
            assert pool == pa.jemalloc_memory_pool().backend_name


RECORDING = """
import os
import numpy as np
import pyarrow as pa
from lossctl import register_loss


@register_loss("recording", task="regression", summary="s", formula="f")
def recording(target, pred):
    with open({path!r}, "w") as file:
        file.write(f"{{pa.default_memory_pool().backend_name}} {{pa.cpu_count()}} {{os.environ['OMP_NUM_THREADS']}}")
    return np.abs(pred - target)
"""


def test_the_local_clusters_tasks_decode_with_arrows_own_thread_pool(tmp_path: Path) -> None:
    """Dask starts its workers with OMP_NUM_THREADS=1, which Arrow reads as its pool's size; the workers of the
    local cluster lossctl starts get the pool back to their cores, as Arrow would size it anywhere else, and
    lossctl's allocators, as the command line has them."""
    seen = tmp_path / "seen"
    plugin = tmp_path / "recording.py"
    plugin.write_text(RECORDING.format(path=str(seen)))
    (tmp_path / "ds").mkdir()
    for part in range(2):  # two files: tasks on the cluster
        pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [0.0, 4.0]}), tmp_path / "ds" / f"{part}.parquet")
    run = _cli("eval", str(tmp_path / "ds"), "-l", "recording", "--plugin", str(plugin), "-q", "--engine", "dask",
               "--workers", "1")  # fmt: skip
    assert run.returncode == 0, run.stderr
    pool, threads, omp = seen.read_text().split()
    assert (int(threads), omp) == (len(os.sched_getaffinity(0)), "1")
    with contextlib.suppress(NotImplementedError):  # a pyarrow built without jemalloc keeps its default pool
        assert pool == pa.jemalloc_memory_pool().backend_name


def test_the_tasks_notice_counts_in_words(scheduler: str, tmp_path: Path) -> None:
    """One file is one task: the notice said '1 tasks on 2 workers'."""
    pq.write_table(pa.table({"y_true": [1.0, 2.0], "y_pred": [1.5, 2.0]}), tmp_path / "one.parquet")
    report = lossctl.evaluate(str(tmp_path / "one.parquet"), losses="mae", engine="dask", scheduler=scheduler)
    assert report["mae"] == 0.25
    assert 'engine="dask": 1 task on 2 workers' in report.notices


def test_a_loss_left_out_of_per_sample_is_told_over_several_tasks(scheduler: str, tmp_path: Path) -> None:
    """dice over scalar columns beside mse, over three files: the local engine tells that dice is left out of the
    --per-sample file; on Dask each task's sink told nothing, and a run in one part named its staging file."""
    root = tmp_path / "ds"
    root.mkdir()
    for name in "abc":
        pq.write_table(pa.table({"y": [1.0, 0.0], "p": [0.75, 0.5]}), root / f"{name}.parquet")
    pa.csv.write_csv(pa.table({"y": [1.0, 0.0], "p": [0.75, 0.5]}), tmp_path / "one.csv")
    args = ["--pred", "p", "--target", "y", "-l", "dice", "-l", "mse", "-f", "json"]
    dask = ["--engine", "dask", "--scheduler", scheduler]
    left_out = (
        "notice: --per-sample: dice over scalar columns (one pixel per row) scores the whole input as one sample, "
        "with no per-row values; bind pred and target to list columns or 2-D arrays (one sample per row) for a loss "
        "per row; left out of {}\n"
    )
    local = _cli("eval", str(root), *args, "--per-sample", str(tmp_path / "local.parquet"))
    assert local.returncode == 0 and local.stderr == left_out.format(tmp_path / "local.parquet")
    for given, tasks in ((root, "3 tasks on 2 workers"), (tmp_path / "one.csv", "evaluated in this process")):
        rows = tmp_path / f"{given.name}.rows.parquet"
        remote = _cli("eval", str(given), *args, "--per-sample", str(rows), *dask)
        assert remote.returncode == 0 and tasks in remote.stderr
        assert [line for line in remote.stderr.splitlines(True) if "--engine dask" not in line] == [
            left_out.format(rows)
        ]
        assert pq.read_table(rows).column_names == ["row", "mse"]


def test_compare_equals_the_local_engine(data: dict[str, str], scheduler: str) -> None:
    options: dict[str, Any] = dict(losses="mse,mae,huber", bootstrap=30, seed=1, fail_if_worse=1.0)
    local = lossctl.compare(data["baseline"], data["candidate"], **options)
    remote = lossctl.compare(data["s3_baseline"], data["s3_candidate"], engine="dask", scheduler=scheduler, **options)
    assert_same(local.to_dict(), remote.to_dict())
    assert remote["mse"].verdict == "better"


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lossctl", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def test_cli_per_sample_dataset_and_remote_output(data: dict[str, str], scheduler: str, tmp_path: Path) -> None:
    """--per-sample writes one file per task into a Parquet dataset, and -o uploads the report, both to S3."""
    import s3fs

    args = ["-l", "mae,huber", "--by", "region", "-f", "json", "-q"]
    local = _cli("eval", data["baseline"], *args, "--per-sample", str(tmp_path / "rows.parquet"))
    assert local.returncode == 0, local.stderr
    out = f"s3://{BUCKET}/out"
    remote = _cli(
        "eval", data["s3_baseline"], *args, "--engine", "dask", "--scheduler", scheduler,
        "--per-sample", f"{out}/rows.parquet", "-o", f"{out}/report.json",
    )  # fmt: skip
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == ""
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    assert sorted(fs.ls(f"{BUCKET}/out")) == [f"{BUCKET}/out/report.json", f"{BUCKET}/out/rows.parquet"]
    parts = sorted(fs.ls(f"{BUCKET}/out/rows.parquet"))
    assert [p.rsplit("/", 1)[1] for p in parts] == [f"part-{i:05d}.parquet" for i in range(5)]
    ours = pq.read_table(tmp_path / "rows.parquet")
    theirs = pa.concat_tables([pq.read_table(fs.open(p)) for p in parts])
    assert theirs.column_names == ["row", "mae", "huber"]
    assert theirs.column("row").to_pylist() == list(range(ROWS))
    np.testing.assert_allclose(theirs.column("huber").to_numpy(), ours.column("huber").to_numpy(), rtol=RTOL)
    assert_same(json.loads(local.stdout), json.loads(fs.cat(f"{BUCKET}/out/report.json")))


def test_cli_workers_start_a_local_cluster_and_gates_exit_1(data: dict[str, str]) -> None:
    args = ["-l", "mse,mae", "--fail-if", "mae>1", "-f", "json", "-q"]
    local = _cli("eval", data["baseline"], *args)
    remote = _cli("eval", data["s3_baseline"], *args, "--engine", "dask", "--workers", "2")
    assert (local.returncode, remote.returncode) == (1, 1), remote.stderr
    assert remote.stderr == ""
    assert_same(json.loads(local.stdout), json.loads(remote.stdout))


def test_a_worker_killed_mid_run_does_not_change_the_result(data: dict[str, str], s3: dict[str, str]) -> None:
    """One of two worker processes is killed once the first task has finished: Dask reruns its tasks on the
    nanny's new worker and the numbers are those of the local engine."""
    import distributed

    options: dict[str, Any] = dict(losses="mse,mae,huber", bootstrap=200, seed=3)
    local = lossctl.evaluate(data["baseline"], **options)
    started = threading.Event()
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = list(client.run(os.getpid).values())
        result: dict[str, Any] = {}

        def evaluate() -> None:
            result["report"] = lossctl.evaluate(
                data["s3_baseline"],
                engine="dask",
                scheduler=cluster.scheduler_address,
                progress=lambda rows, total: started.set(),
                **options,
            )

        thread = threading.Thread(target=evaluate)
        thread.start()
        assert started.wait(timeout=120), "no task finished"
        os.kill(pids[0], signal.SIGKILL)
        thread.join(timeout=300)
        assert "report" in result
        assert list(client.run(os.getpid).values()) != pids  # the nanny started a new worker
        assert client.run_on_scheduler(_rerun_parts) >= 1  # a part was processing on the killed worker, and ran again
    assert_same(local.to_dict(), result["report"].to_dict())


def _rerun_parts(dask_scheduler: Any) -> int:
    """How many times a lossctl task went from processing back to waiting or released (its worker was lost)."""
    return sum(
        1
        for key, start, finish, *_ in dask_scheduler.transition_log
        if str(key).startswith("lossctl-part") and start == "processing" and finish in ("waiting", "released")
    )


def _bad_copy(data: dict[str, str], tmp_path: Path) -> tuple[Path, str, str]:
    """The baseline with two missing predictions in region=us/part-1.parquet, the dataset's last file: on the local
    disk, in the bucket, and the error, but for the file it names (the dataset's path, then
    ``/region=us/part-1.parquet'``)."""
    import s3fs

    table = pq.read_table(Path(data["baseline"]) / "region=us" / "part-1.parquet")
    values = table.column("y_pred").to_numpy().copy()
    values[[5, 9]] = np.nan
    bad = tmp_path / "bad"
    for directory, count in FILES.items():
        (bad / directory).mkdir(parents=True)
        for k in range(count):
            source = Path(data["baseline"]) / directory / f"part-{k}.parquet"
            (bad / directory / source.name).write_bytes(source.read_bytes())
    pq.write_table(table.set_column(table.column_names.index("y_pred"), "y_pred", pa.array(values)),
                   bad / "region=us" / "part-1.parquet", row_group_size=15_000)  # fmt: skip
    key = f"{BUCKET}/{tmp_path.name}"  # each test its own: a second put into the same key would nest the folder
    s3fs.S3FileSystem(skip_instance_cache=True).put(str(bad), key, recursive=True)
    first = 4 * ROWS // 5  # the file's first row in the dataset
    message = (
        f"column 'y_pred' has 2 missing values (rows {first + 5}, {first + 9}; 0-based); "
        f"use --missing drop to drop those rows; row {first + 5} is in '"
    )
    return bad, f"s3://{key}", message


def test_bad_data_in_one_file_is_the_local_error(data: dict[str, str], scheduler: str, tmp_path: Path) -> None:
    """The error names the file holding the first bad row, the local one or the object in the bucket, in either
    engine (it named none: a dataset's row 160005 had to be found by counting the files' rows)."""
    bad, url, message = _bad_copy(data, tmp_path)
    for path in (str(bad), url):
        expected = f"error: {message}{path}/region=us/part-1.parquet'\n"
        local = _cli("eval", path, "-l", "mse", "-q")
        remote = _cli("eval", path, "-l", "mse", "-q", "--engine", "dask", "--scheduler", scheduler)
        assert (local.returncode, local.stderr) == (3, expected)
        assert (remote.returncode, remote.stdout, remote.stderr) == (3, "", expected)


def test_a_task_of_several_files_gives_the_local_error(
    data: dict[str, str], scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one task per worker thread, the last task holds region=us/part-0 and part-1; its error is the local
    engine's, as when every file is a task."""
    from lossctl import cluster

    monkeypatch.setattr(cluster, "TASKS_PER_THREAD", 1)
    _, url, message = _bad_copy(data, tmp_path)
    with pytest.raises(lossctl.InputError) as error:
        lossctl.evaluate(url, losses="mse", engine="dask", scheduler=scheduler)
    spelled = message.replace("--missing drop", 'missing="drop"')  # spelled as its caller does
    assert str(error.value) == f"{spelled}{url}/region=us/part-1.parquet'"
    report = lossctl.evaluate(data["s3_baseline"], losses="mse", engine="dask", scheduler=scheduler)
    assert 'engine="dask": 2 tasks on 2 workers' in report.notices


def _bad_files(root: Path) -> Path:
    """Three files, of which the second and third hold values outside bce's domain, missing values and negative
    weights."""
    nan = float("nan")
    columns = {
        "a": {"prob": [0.2, 0.5, 0.7, 0.1], "label": [0, 1, 1, 0], "w": [1.0, 1.0, 1.0, 1.0]},
        "b": {"prob": [0.2, -1.0, 0.7, -1.0], "label": [0, 1, 1, 0], "w": [1.0, -1.0, 1.0, 1.0]},
        "c": {"prob": [1.5, nan, 0.7, -2.0], "label": [0, 1, 1, 0], "w": [1.0, 1.0, -2.0, 1.0]},
    }
    root.mkdir()
    for name, table in columns.items():
        pq.write_table(pa.table(table), root / f"{name}.parquet")
    return root


def test_errors_over_several_tasks_are_the_local_engines(tmp_path: Path) -> None:
    """A value outside a loss's domain in two of three files: the Dask engine told the first failing task's count
    and rows ("got -1 in 2 rows (first: row 5) (in .../b.parquet)"); it now merges every task's, as the local engine
    merges its chunks' ("in 4 rows")."""
    root = _bad_files(tmp_path / "ds")
    local = _cli("eval", str(root), "-l", "bce", "--missing", "drop", "-q")
    remote = _cli("eval", str(root), "-l", "bce", "--missing", "drop", "-q", "--engine", "dask", "--workers", "2")
    expected = (
        "error: bce: column 'prob' (pred): expected probabilities in [0, 1] (for logits, use bce_logits), "
        f"got -1 in 4 rows (first: row 5); row 5 is in '{root}/b.parquet'\n"
    )
    assert (local.returncode, local.stdout, local.stderr) == (3, "", expected)
    assert (remote.returncode, remote.stdout, remote.stderr) == (3, "", expected)


WARNING = """
import warnings
import numpy as np
from lossctl import register_loss


@register_loss("warning", task="regression", summary="Absolute error; warns.", formula="|p-y|")
def warning(target, pred):
    warnings.warn(f"{len(pred) % 1} looks odd")
    return np.abs(pred - target)
"""


@pytest.mark.parametrize("more", [[], ["--bootstrap", "20", "--seed", "1"]], ids=["pass", "bootstrap"])
def test_a_warning_raised_in_tasks_is_the_local_engines_one_line(tmp_path: Path, more: list[str]) -> None:
    """A plugin loss's warning: the local engine shows 'warning: 0 looks odd' once; a local cluster's workers
    printed Python's own '<dynamic-code>:9: UserWarning: 0 looks odd' once per task (and a running cluster's kept
    it in their logs). The tasks now send their warnings to the client, which shows them as the local engine does,
    also those raised in the engine's worker threads (--bootstrap computes the chunks there), which the worker still
    printed itself."""
    plugin = tmp_path / "warning.py"
    plugin.write_text(WARNING)
    root = _bad_files(tmp_path / "ds")
    args = [
        "eval",
        str(root),
        "-l",
        "warning",
        "--plugin",
        str(plugin),
        "--pred",
        "label",
        "--target",
        "w",
        "-q",
        *more,
    ]
    local = _cli(*args, "-f", "csv")
    remote = _cli(*args, "-f", "csv", "--engine", "dask", "--workers", "2")
    assert (local.returncode, local.stderr) == (0, "warning: 0 looks odd\n")
    assert (remote.returncode, remote.stdout, remote.stderr) == (0, local.stdout, local.stderr)


def test_missing_values_and_negative_weights_over_several_tasks_are_counted_whole(
    scheduler: str, tmp_path: Path
) -> None:
    root = _bad_files(tmp_path / "ds")
    for options, message in (
        ({}, "column 'prob' has 1 missing value (row 9; 0-based); use missing=\"drop\" to drop those rows; "
             f"row 9 is in '{root}/c.parquet'"),
        ({"weight": "w", "missing": "drop"}, "column 'w' has 2 negative weights (rows 5, 10; 0-based); "
                                             f"sample weights must be >= 0; row 5 is in '{root}/b.parquet'"),
    ):  # fmt: skip
        for engine in ({}, {"engine": "dask", "scheduler": scheduler}):
            with pytest.raises(lossctl.InputError) as error:
                lossctl.evaluate(str(root), losses="bce", **options, **engine)
            assert str(error.value) == message, engine


PICKY = """
import numpy as np
from lossctl import InputError, register_loss


@register_loss("picky", task="regression", summary="Absolute error; refuses 7.", formula="|p-y|")
def picky(target, pred):
    if (pred == 7).any():
        raise InputError("picky: 7 is not allowed")
    return np.abs(pred - target)
"""


def test_missing_values_before_a_plugins_error_are_told_as_the_local_engine_does(
    scheduler: str, tmp_path: Path
) -> None:
    """Missing values in the first file, a plugin loss's own error on the second: the local engine tells the
    missing values (it computes no loss after the first bad chunk); the Dask engine told the plugin's error. A
    plugin's error with no refusal before it is still told by both."""
    plugin = tmp_path / "picky.py"
    plugin.write_text(PICKY)
    missing = "error: column 'pred' has 1 missing value (row 1; 0-based); use --missing drop to drop those rows"
    for name, first in (("missing", [0.3, None]), ("picky", [0.3, 0.2])):
        root = tmp_path / name
        root.mkdir()
        picky = f"error: loss 'picky' (plugin '{plugin}'): picky: 7 is not allowed\n"
        expected = f"{missing}; row 1 is in '{root}/a.parquet'\n" if name == "missing" else picky
        pq.write_table(pa.table({"pred": first, "target": [1.0, 2.0]}), root / "a.parquet")
        pq.write_table(pa.table({"pred": [7.0, 0.1], "target": [1.0, 2.0]}), root / "b.parquet")
        args = ["eval", str(root), "-l", "picky", "--plugin", str(plugin), "-q"]
        for chunk in (["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--chunk-rows", "4"], []):
            local = _cli(*args, *chunk)
            assert (local.returncode, local.stdout, local.stderr) == (3, "", expected), chunk
        remote = _cli(*args, "--engine", "dask", "--scheduler", scheduler)
        assert (remote.returncode, remote.stdout, remote.stderr) == (3, "", expected)


def test_labels_are_read_over_every_task_as_one_pass_reads_them(scheduler: str, tmp_path: Path) -> None:
    """Each task encoded its labels alone: 'cat', 'dog' in one file and 'cat', 'bird' in another gave a value (exit
    0, 'dog' and 'bird' both read as 0) where the local engine refuses a third label; the notices of the labels
    (a --positive that never appears, text labels matched by suffix) were lost. The client now replays each
    task's labels in input order."""
    files = {
        "three": ({"target": ["cat", "dog"]}, {"target": ["cat", "bird"]}),
        "none": ({"target": ["dog", "dog"]}, {"target": ["dog", "dog"]}),
    }
    for name, tables in files.items():
        (tmp_path / name).mkdir()
        for k, table in enumerate(tables):
            pq.write_table(pa.table({"pred": [0.3, 0.2], **table}), tmp_path / name / f"{k}.parquet")
    args = ["-l", "bce", "--positive", "cat", "-f", "csv"]
    three = (
        "error: column 'target' holds more than two labels ('cat', 'dog', 'bird' at row 3); a binary loss takes "
        f"the --positive label and one other; row 3 is in '{tmp_path}/three/1.parquet'\n"
    )
    never = "notice: bce: --positive 'cat' never appears in column 'target': its one label 'dog' is the negative class"
    for chunk in (["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--chunk-rows", "4"], []):
        local = _cli("eval", str(tmp_path / "three"), *args, "-q", *chunk)
        assert (local.returncode, local.stdout, local.stderr) == (3, "", three)
    remote = _cli("eval", str(tmp_path / "three"), *args, "-q", "--engine", "dask", "--scheduler", scheduler)
    assert (remote.returncode, remote.stdout, remote.stderr) == (3, "", three)
    local = _cli("eval", str(tmp_path / "none"), *args)
    remote = _cli("eval", str(tmp_path / "none"), *args, "--engine", "dask", "--scheduler", scheduler)
    assert (remote.returncode, remote.stdout) == (0, local.stdout)
    assert never in local.stderr and never in remote.stderr


def test_text_labels_in_one_task_and_numbers_in_another_are_refused_as_locally(scheduler: str, tmp_path: Path) -> None:
    """zero_one's target of text labels in one file and of numbers in another: each Dask task met one kind and
    the run gave a value (exit 0) where the local engine refuses the column; the client now merges the kinds the
    tasks met, in input order."""
    for name, kind in zip("abc", ("0", "cat", "1"), strict=True):
        pq.write_table(pa.table({"target": [kind, kind], "lab": ["1", "1"]}), tmp_path / f"{name}.parquet")
    args = ["eval", str(tmp_path), "-l", "zero_one", "--pred", "lab", "-q", "-f", "csv"]
    expected = (
        "error: zero_one: column 'target' holds the text label 'cat' at row 2 but the number "
        "'0' at row 0; a predicted label matches a target of the same kind: write both as text labels or both as "
        f"class indices, or give the class order with --classes A,B,C; row 0 is in '{tmp_path}/a.parquet'\n"
    )
    for chunk in (["--chunk-rows", "1"], ["--chunk-rows", "7"], []):
        local = _cli(*args, *chunk)
        assert (local.returncode, local.stdout, local.stderr) == (3, "", expected), chunk
    remote = _cli(*args, "--engine", "dask", "--scheduler", scheduler)
    assert (remote.returncode, remote.stdout, remote.stderr) == (3, "", expected)
    # The labels of a task whose target is missing were met in 'lab': named so, not as the target's
    (tmp_path / "b.parquet").unlink()
    missing = pa.array([None, None], pa.string())
    pq.write_table(pa.table({"target": missing, "lab": ["cat", "dog"]}), tmp_path / "b.parquet")
    expected = expected.replace(
        "column 'target' holds the text label 'cat' at row 2 but the number",
        "column 'lab' holds the text label 'cat' at row 2 but column 'target' holds the number",
    )
    for engine in ([], ["--engine", "dask", "--scheduler", scheduler]):
        run = _cli(*args, "--missing", "drop", *engine)
        assert (run.returncode, run.stdout, run.stderr) == (3, "", expected), engine


def test_notices_about_what_the_values_look_like_are_the_local_engines(scheduler: str, tmp_path: Path) -> None:
    """Probabilities given to bce_logits, and a list column of 2 values per row against one target, over three
    files: the local engine tells both, Dask told neither (its tasks' chunks were not watched, nor a run in one part);
    a later file with a logit (3.0) tells none on either engine."""
    looking, logit, lists = tmp_path / "looking", tmp_path / "logit", tmp_path / "lists"
    for root in (looking, logit, lists):
        root.mkdir()
        for name in "abc":
            later = 3.0 if root == logit and name == "b" else 0.5
            table = pa.table({"y_true": [0.0, 1.0], "y_pred": [0.25, later]})
            if root == lists:
                table = pa.table({"y_true": [1.0, 2.0], "y_pred": [[1.0, 2.0], [2.0, 3.0]]})
            pq.write_table(table, root / f"{name}.parquet")
    pa.csv.write_csv(pq.read_table(looking), tmp_path / "looking.csv")
    probabilities = (
        "notice: bce_logits: the predictions in 'y_pred' look like probabilities (every value is in [0, 1]), but "
        "bce_logits takes logits; for probabilities use bce\n"
    )
    multi = (
        "notice: the list column 'y_pred' holds 2 values per row, evaluated as one multi-output prediction, each "
        "against 'y_true' (mse)\n"
    )
    for given, loss, told in (
        (looking, "bce_logits", probabilities),
        (tmp_path / "looking.csv", "bce_logits", probabilities),
        (logit, "bce_logits", ""),
        (lists, "mse", multi),
    ):
        args = ["eval", str(given), "-l", loss, "--pred", "y_pred", "--target", "y_true", "-f", "json"]
        local = _cli(*args)
        remote = _cli(*args, "--engine", "dask", "--scheduler", scheduler)
        assert (local.returncode, local.stderr) == (0, told)
        assert remote.returncode == 0
        assert "".join(line for line in remote.stderr.splitlines(True) if "--engine dask" not in line) == told


def test_vectors_of_another_length_in_a_later_file_name_that_file(scheduler: str, tmp_path: Path) -> None:
    """A JSON-array text column whose second file holds plain numbers (a Dask task reads them as numbers), or a list
    column one of whose later rows is shorter: the error cited the first row ('row 0 has 3 values but row 3 has 1')
    and named its file, which is not at fault; both engines now name the file of the row whose length differs.

    A list column shorter in a later file, from a later row of it or from its first: Dask cited the task's first row
    ('row 3 has 3 values but row 4 has 2'), or told the task's own error ("loss 'mse': the roles hold vectors of
    different lengths ('target' 3, 'pred' 2 values per row)", no row, no file); both now give the local error."""
    texts, lists, narrower = tmp_path / "texts", tmp_path / "lists", tmp_path / "narrower"
    seconds = {texts: ["0.5"] * 3, lists: [[1.0, 2.0, 2.0], [1.0, 2.0], [1.0, 2.0]], narrower: [[1.0, 2.0]] * 3}
    for root, later in seconds.items():
        root.mkdir()
        first = ["[1, 2, 2]"] * 3 if root == texts else [[1.0, 2.0, 2.0]] * 3
        target = ["[1, 2, 3]"] * 3 if root == texts else [[1.0, 2.0, 3.0]] * 3
        for name, pred in (("a", first), ("b", later)):
            pq.write_table(pa.table({"y_true": target, "y_pred": pred}), root / f"{name}.parquet")
    ragged = "column 'y_pred' holds vectors of different lengths: row 0 has 3 values but row {} has 2"
    for root, local, row in (
        (texts, "column 'y_pred' has an invalid JSON array at row 3: '0.5'", 3),
        (lists, ragged.format(4), 4),
        (narrower, ragged.format(3), 3),
    ):
        run = _cli("eval", str(root), "-l", "mse", "-q")
        in_file = f"; row {row} is in '{root}/b.parquet'\n"
        assert (run.returncode, run.stdout, run.stderr) == (3, "", f"error: {local}{in_file}")
        run = _cli("eval", str(root), "-l", "mse", "-q", "--engine", "dask", "--scheduler", scheduler)
        if root != texts:
            assert (run.returncode, run.stdout, run.stderr) == (3, "", f"error: {local}{in_file}")
            continue
        assert (run.returncode, run.stdout) == (3, "")
        assert run.stderr == f"error: {ragged.format(3)[:-1]}1{in_file}"


def test_hinge_label_sets_of_different_tasks_name_the_column_and_rows(scheduler: str, tmp_path: Path) -> None:
    """0/1 labels in one file and -1/1 in the next said "hinge: the target column: ... but the input has both 0 and
    -1 labels (in different chunks)" on Dask, without column or row, and a label of weight 0 escaped it; the client
    now checks the tasks' labels as the local engine checks its chunks'."""
    for k, labels in enumerate(([0.0, 1.0], [-1.0, 1.0], [1.0, -1.0])):
        table = pa.table({"pred": [0.3, 0.2], "target": labels, "w": [0.0, 1.0]})
        pq.write_table(table, tmp_path / f"{k}.parquet")
    expected = (
        "error: {loss}: column 'target' (target): expected labels all in {{0, 1}} or all in {{-1, 1}}, got -1 in 2 "
        f"rows (first: row 2); row 2 is in '{tmp_path}/1.parquet'\n"
    )
    for weight in ([], ["--weight", "w"]):
        args = ["eval", str(tmp_path), "-l", "hinge,squared_hinge", *weight, "-q"]
        for chunk in (["--chunk-rows", "1"], ["--chunk-rows", "2"], ["--chunk-rows", "4"], []):
            local = _cli(*args, *chunk)  # 4: a chunk holding both sets, which counted "in 1 row"
            assert (local.returncode, local.stdout, local.stderr) == (3, "", expected.format(loss="hinge")), chunk
        remote = _cli(*args, "--engine", "dask", "--scheduler", scheduler)
        assert (remote.returncode, remote.stdout, remote.stderr) == (3, "", expected.format(loss="hinge"))


_SETS = "expected labels all in {0, 1} or all in {-1, 1}"


def test_a_refused_task_is_judged_after_the_label_set_of_the_tasks_before(scheduler: str, tmp_path: Path) -> None:
    """A task refused alone was judged without the earlier tasks' labels: a file of -1, 0, -1 after a file of 0
    said "got 0 in 1 row (first: row 3)" on Dask (the file's own first set, -1), where the local engine keeps the
    0 seen first and refuses the -1 rows; and a task refused by bce did not hand its 0 labels on, so a later file's
    -1 escaped hinge and bce's refusal was told instead of hinge's (the first job)."""
    files = {  # (pred, target) per file
        "both": (([0.25, 0.25], [0.0, 1.0]), ([0.25, 0.25, 0.25], [-1.0, 0.0, -1.0])),
        "handed": (([0.25, 0.25], [1.0, 1.0]), ([1.5, 0.25], [0.0, 1.0]), ([0.25, 0.25], [-1.0, 1.0])),
    }
    expected = {
        "both": "-1 in 2 rows (first: row 2); row 2 is in '{}/both/1.parquet'",
        "handed": "-1 in 1 row (first: row 4); row 4 is in '{}/handed/2.parquet'",
    }
    for name, tables in files.items():
        (tmp_path / name).mkdir()
        for k, (pred, target) in enumerate(tables):
            pq.write_table(pa.table({"pred": pred, "target": target}), tmp_path / name / f"{k}.parquet")
        error = f"error: hinge: column 'target' (target): {_SETS}, got {expected[name].format(tmp_path)}\n"
        args = ["eval", str(tmp_path / name), "-l", "hinge,bce", "-q"]
        for chunk in (["--chunk-rows", "1"], []):
            local = _cli(*args, *chunk)
            assert (local.returncode, local.stdout, local.stderr) == (3, "", error), chunk
        remote = _cli(*args, "--engine", "dask", "--scheduler", scheduler)
        assert (remote.returncode, remote.stdout, remote.stderr) == (3, "", error)


def test_decimal_marks_of_different_tasks_mix_as_in_one_pass(scheduler: str, tmp_path: Path) -> None:
    """Text numbers with decimal points in one file and commas in the next: each task judged its file alone, so the
    Dask engine said "'0,5' at row 0 ... is not numeric" (a file of commas) or "mixes ... '0,5' at row 2 and '0.1'
    at row 3" (the second file alone) where the local engine says the column mixes the first point and the first
    comma of the whole input; the client now merges the tasks' marks in input order, as the chunks' are."""
    files = {"points": (["0.5", "0.25"], ["0,5", "0.1"]), "commas": (["0,5", "0,25"], ["0,5", "0.1"])}
    expected = {
        "points": "'0.5' at row 0 and '0,5' at row 2; write every number with the same one; row 0 is in",
        "commas": "'0,5' at row 0 and '0.1' at row 3; write every number with the same one; row 0 is in",
    }
    for name, texts in files.items():
        (tmp_path / name).mkdir()
        for k, pred in enumerate(texts):
            pq.write_table(pa.table({"pred": pred, "target": [0.0, 1.0]}), tmp_path / name / f"{k}.parquet")
        error = f"error: column 'pred' mixes decimal points: {expected[name]} '{tmp_path}/{name}/0.parquet'\n"
        args = ["eval", str(tmp_path / name), "-l", "mse", "-q"]
        for chunk in (["--chunk-rows", "1"], []):
            local = _cli(*args, *chunk)
            assert (local.returncode, local.stdout, local.stderr) == (3, "", error), chunk
        remote = _cli(*args, "--engine", "dask", "--scheduler", scheduler)
        assert (remote.returncode, remote.stdout, remote.stderr) == (3, "", error)


@pytest.mark.parametrize("form", ["directory", "glob", "paths"])
def test_errors_about_rows_of_several_files_name_the_file_in_either_engine(
    form: str, scheduler: str, tmp_path: Path
) -> None:
    """A dataset of three files given as a directory, a glob or three PATHs: an error citing rows names the file
    holding the first row it cites, in the same words in either engine; rows stay numbered in the whole input.
    Neither engine named the file: row 9 of the dataset had to be found by counting the files' rows."""
    root = _bad_files(tmp_path / "ds")
    given, options, expected = {
        "directory": (
            [str(root)],
            ["-l", "bce", "--missing", "drop"],
            "bce: column 'prob' (pred): expected probabilities in [0, 1] (for logits, use bce_logits), got -1 in 4 "
            f"rows (first: row 5); row 5 is in '{root}/b.parquet'",
        ),
        "glob": (
            [f"{root}/*.parquet"],
            ["-l", "bce"],
            "column 'prob' has 1 missing value (row 9; 0-based); use --missing drop to drop those rows; row 9 is in "
            f"'{root}/c.parquet'",
        ),
        "paths": (
            [str(root / f"{name}.parquet") for name in "abc"],
            ["-l", "bce", "--weight", "w", "--missing", "drop"],
            f"column 'w' has 2 negative weights (rows 5, 10; 0-based); sample weights must be >= 0; row 5 is in "
            f"'{root}/b.parquet'",
        ),
    }[form]
    local = _cli("eval", *given, *options, "-q")
    remote = _cli("eval", *given, *options, "-q", "--engine", "dask", "--scheduler", scheduler)
    assert (local.returncode, local.stdout, local.stderr) == (3, "", f"error: {expected}\n")
    assert (remote.returncode, remote.stdout, remote.stderr) == (3, "", f"error: {expected}\n")


def test_an_unreachable_scheduler_is_one_line(data: dict[str, str]) -> None:
    port = _free_port()
    result = _cli(
        "eval", data["baseline"], "-l", "mse", "--engine", "dask", "--scheduler", f"tcp://127.0.0.1:{port}",
        env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
    )  # fmt: skip
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} ("
    )
    assert lines[0].endswith("); check --scheduler or DASK_SCHEDULER_ADDRESS")


def test_missing_credentials_are_one_line_naming_the_variables(data: dict[str, str]) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent",
    }
    result = subprocess.run(
        [sys.executable, "-m", "lossctl", "eval", data["s3_baseline"], "-l", "mse"],
        capture_output=True,
        text=True,
        env={k: v for k, v in {**os.environ, **env}.items() if v},
        timeout=60,
    )
    assert result.returncode == 3
    assert result.stderr == (
        f"error: cannot read '{data['s3_baseline']}': no credentials (Unable to locate credentials); set "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, as for the aws command\n"
    )


def test_refused_credentials_are_one_line_naming_the_variables(s3: dict[str, str], tmp_path: Path) -> None:
    """A key the store does not know was 'cannot read ...: permission denied (The AWS Access Key Id you provided
    does not exist in our records.)', naming no variable to fix, as if the key lacked a permission; now the
    credentials are said to be refused, with the variables that give them, for inputs and outputs alike."""
    import urllib.request

    def authenticate(count: str) -> None:  # moto's switch: check credentials after `count` requests, or never
        url = f"{s3['AWS_ENDPOINT_URL']}/moto-api/reset-auth"
        urllib.request.urlopen(
            urllib.request.Request(url, count.encode(), {"Content-Type": "text/plain"}, method="POST"), timeout=10
        ).close()

    (tmp_path / "p.csv").write_text("y_true,y_pred\n1,2\n")
    authenticate("0")  # the fixture's key 'testing' is no user of moto's IAM: refused
    try:
        read = _cli("eval", "s3://refused/p.parquet", "-l", "mse", "-q")
        write = _cli("eval", str(tmp_path / "p.csv"), "-l", "mse", "-q", "-o", "s3://refused/out.json")
    finally:
        authenticate("inf")
    hint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, as for the aws command"
    reason = "the credentials were refused (The AWS Access Key Id you provided does not exist in our records.)"
    assert (read.returncode, read.stdout, read.stderr) == (
        3,
        "",
        f"error: cannot read 's3://refused/p.parquet': {reason}; {hint}\n",
    )
    assert (write.returncode, write.stdout, write.stderr) == (
        3,
        "",
        f"error: cannot write 's3://refused/out.json': {reason}; {hint}\n",
    )


def test_an_azure_path_without_an_account_is_one_line() -> None:
    """adlfs refuses to make its file system without an account: an input error naming the variables to set,
    read or written, not a bug."""
    pytest.importorskip("adlfs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    sample = str(Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv")
    for args, verb in ((["az://c/x.parquet"], "read"), ([sample, "-o", "az://c/out.json"], "write")):
        command = [sys.executable, "-m", "lossctl", "eval", *args, "-l", "mse", "-q"]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 3, result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(f"error: cannot {verb} 'az://c/")
        assert result.stderr.endswith(  # the credential to set, as for S3 and GCS
            "; set AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY, or AZURE_STORAGE_CONNECTION_STRING\n"
        )


def test_targets_aligned_by_order_are_split_too(data: dict[str, str], scheduler: str) -> None:
    """--targets aligned by row order: each task reads the same rows of both datasets."""
    options: dict[str, Any] = dict(losses="mse,mae", target="y_true", bootstrap=10, pred="y_pred")
    local = lossctl.evaluate(data["baseline"], targets=data["candidate"], **options)
    remote = lossctl.evaluate(
        data["s3_baseline"], targets=data["s3_candidate"], engine="dask", scheduler=scheduler, **options
    )
    assert_same(local.to_dict(), remote.to_dict())
    assert 'engine="dask": 5 tasks on 2 workers' in remote.notices


def test_a_failed_run_leaves_no_per_sample_dataset_and_a_rerun_replaces_it(
    data: dict[str, str], scheduler: str, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.parquet"
    common = ["-q", "--engine", "dask", "--scheduler", scheduler, "--per-sample", str(rows)]
    failed = _cli("eval", data["baseline"], "-l", "bce", "--pred", "y_pred", "--target", "label", *common)
    assert failed.returncode == 3 and failed.stderr.startswith("error: bce: column 'y_pred' (pred): expected prob")
    assert list(tmp_path.iterdir()) == []  # neither the dataset nor its staging directory
    for losses in ("mae", "mse"):
        run = _cli("eval", data["baseline"], "-l", losses, *common)
        assert run.returncode == 0, run.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["rows.parquet"]
    assert sorted(p.name for p in rows.iterdir()) == [f"part-{i:05d}.parquet" for i in range(5)]
    assert pq.read_table(rows).column_names == ["row", "mse"]  # the second run's


def test_compare_reruns_replace_their_per_sample_dataset(scheduler: str, tmp_path: Path) -> None:
    """compare, as eval, writes --per-sample as a dataset under the Dask engine, and a rerun replaces it: compare's
    second run was 'error: output path '.../rows.parquet' is a directory' (exit 2), checked as one file."""
    partitioned = str(Path(__file__).resolve().parent.parent / "sample_data" / "partitioned")
    rows = tmp_path / "rows.parquet"
    for losses in ("mae", "mse"):
        run = _cli(
            "compare", partitioned, partitioned, "-l", losses, "-q", "--per-sample", str(rows),
            "--engine", "dask", "--scheduler", scheduler,
        )  # fmt: skip
        assert (run.returncode, run.stderr) == (0, ""), run.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["rows.parquet"]
    assert "mse:delta@candidate" in pq.read_table(rows).column_names  # the second run's


def test_a_remote_output_that_is_a_directory_is_refused_as_a_local_one_is(s3: dict[str, str]) -> None:
    """An output URL with objects below it (the dataset a Dask run's --per-sample wrote) is a directory to every
    reader: an object put beside them was hidden (the next read gave the old dataset), where a local output that is
    a directory is a usage error."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("dirout")
    fs.pipe({"dirout/rows.parquet/part-00000.parquet": b"old", "dirout/report.json/part-0": b"old"})
    sample = str(Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv")
    for flag, url in (("--per-sample", "s3://dirout/rows.parquet"), ("-o", "s3://dirout/report.json")):
        run = _cli("eval", sample, "-l", "mse", "-q", flag, url)
        assert (run.returncode, run.stdout, run.stderr) == (2, "", f"error: output path '{url}' is a directory\n")
    assert fs.find("dirout") == ["dirout/report.json/part-0", "dirout/rows.parquet/part-00000.parquet"]


def test_a_remote_output_below_an_object_is_refused_as_a_local_one_below_a_file_is(
    s3: dict[str, str], tmp_path: Path
) -> None:
    """-o s3://b/p.parquet/report.json, below an object, was written (exit 0), and the object p.parquet then read
    as a directory: "error: directory 's3://b/p.parquet' has no Parquet files". A local output below a file is
    "cannot write ...: '.../p.parquet' is not a directory" (exit 3); so is the remote one now, writing nothing."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("above")
    fs.pipe("above/p.parquet", b"PAR1")
    (tmp_path / "p.csv").write_text("y_true,y_pred\n1,2\n")
    for flag, url in (("-o", "s3://above/p.parquet/report.json"), ("--per-sample", "s3://above/p.parquet/x/r.csv")):
        run = _cli("eval", str(tmp_path / "p.csv"), "-l", "mse", "-q", flag, url)
        assert (run.returncode, run.stdout, run.stderr) == (
            3,
            "",
            f"error: cannot write '{url}': 's3://above/p.parquet' is not a directory\n",
        )
    assert fs.find("above") == ["above/p.parquet"]


def test_a_failed_output_leaves_no_remote_per_sample_dataset(data: dict[str, str], scheduler: str) -> None:
    """The dataset in a bucket was published when the pass ended, before -o was written: a failed -o left it."""
    import s3fs

    out = f"s3://{BUCKET}/unpublished"
    run = _cli(
        "eval", data["s3_baseline"], "-l", "mae", "-q", "--engine", "dask", "--scheduler", scheduler,
        "--per-sample", f"{out}/rows.parquet", "-f", "json", "-o", "/dev/full",
    )  # fmt: skip
    assert (run.returncode, run.stdout, run.stderr) == (
        3,
        "",
        "error: cannot write '/dev/full': No space left on device\n",
    )
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    assert fs.find(out) == []  # neither the dataset nor its staged parts


FOLDER_IN_THE_WAY = """
import os
import numpy as np
from lossctl import register_loss


@register_loss("in_the_way", task="regression", summary="Squared error; a folder where -o goes.", formula="(p-y)^2")
def in_the_way(target, pred):
    os.makedirs(os.environ["IN_THE_WAY"], exist_ok=True)
    return (pred - target) ** 2
"""


def test_a_failed_local_output_leaves_no_uploaded_per_sample_file(s3: dict[str, str], tmp_path: Path) -> None:
    """The outputs are published together; the upload of --per-sample came before -o's rename, and a rename that
    failed (a folder now where -o goes) left the uploaded object behind in a failed run. Local renames now come
    first, and an upload done before a failure is deleted."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("take-back")
    plugin = tmp_path / "in_the_way.py"
    plugin.write_text(FOLDER_IN_THE_WAY)
    report = tmp_path / "report.json"
    sample = str(Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv")
    run = _cli(
        "eval", sample, "-l", "in_the_way", "--plugin", str(plugin), "-q", "-o", str(report),
        "--per-sample", "s3://take-back/rows.parquet", env={"IN_THE_WAY": str(report / "inner")},
    )  # fmt: skip
    assert (run.returncode, run.stdout, run.stderr) == (3, "", f"error: cannot write '{report}': Is a directory\n")
    assert fs.find("take-back") == []


BUCKET_GONE = """
import numpy as np
import s3fs
from lossctl import register_loss


@register_loss("bucket_gone", task="regression", summary="Squared error; removes the bucket.", formula="(p-y)^2")
def bucket_gone(target, pred):
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    if fs.exists({bucket!r}):
        fs.rm({bucket!r}, recursive=True)
    return (pred - target) ** 2
"""


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_a_per_sample_upload_that_fails_prints_no_results(s3: dict[str, str], tmp_path: Path, engine: str) -> None:
    """The bucket of --per-sample removed during the run, after the check that it exists: the results were printed
    on stdout, then the upload failed (exit 3). A failed run now prints the error alone, and leaves no object."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    bucket = f"gone-{engine}"
    fs.mkdir(bucket)
    plugin = tmp_path / "gone.py"
    plugin.write_text(BUCKET_GONE.format(bucket=bucket))
    pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [0.0, 1.0]}), tmp_path / "p.parquet")
    run = _cli(
        "eval", str(tmp_path / "p.parquet"), "-l", "bucket_gone", "--plugin", str(plugin), "-q", "-f", "csv",
        "--per-sample", f"s3://{bucket}/rows.parquet", "--engine", engine,
    )  # fmt: skip
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr.startswith(f"error: cannot write 's3://{bucket}/rows.parquet': ") and run.stderr.count("\n") == 1
    assert not fs.exists(bucket)


def test_an_object_whose_key_has_glob_characters_is_read_as_that_object(s3: dict[str, str]) -> None:
    """A key may hold '[' as a local file name may: 's3://.../a[1].parquet' was taken as a glob matching 'a1.parquet'
    and was 'no files match'; a local path with the same name is its file. A pattern naming no object is a glob."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("brackets")
    sample = Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv"
    table = pa.csv.read_csv(sample)
    fs.pipe("brackets/a[1].csv", sample.read_bytes())
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer)
    fs.pipe("brackets/b[1].parquet", buffer.getvalue().to_pybytes())
    expected = _cli("eval", str(sample), "-l", "mse", "-f", "csv", "-q")
    for url in ("s3://brackets/a[1].csv", "s3://brackets/b[1].parquet", "s3://brackets/b*"):
        run = _cli("eval", url, "-l", "mse", "-f", "csv", "-q")
        assert (run.returncode, run.stdout, run.stderr) == (0, expected.stdout, ""), url
    run = _cli("eval", "s3://brackets/b[2].parquet", "-l", "mse", "-q")
    message = "error: file 's3://brackets/b[2].parquet' not found (read as a glob, it matches nothing)\n"
    assert (run.returncode, run.stderr) == (3, message)


def test_an_object_named_as_a_folder_is_not_read_as_a_local_file_is_not(s3: dict[str, str], tmp_path: Path) -> None:
    """'s3://b/p.parquet/' (a folder's spelling) read the object p.parquet, and 's3://b/p.csv/' said it was 'not a
    Parquet file but delimited text; give --input-format csv or name it .csv'; 's3://b/gone/' was "file 's3://b/gone'
    not found", without its '/'. Now each is the local path's error: 'Not a directory', or the name as given."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("folders")
    (tmp_path / "p.csv").write_text("y_true,y_pred\n1,2\n")
    pq.write_table(pa.table({"y_true": [1.0], "y_pred": [2.0]}), tmp_path / "p.parquet")
    fs.put_file(str(tmp_path / "p.csv"), "folders/p.csv")
    fs.put_file(str(tmp_path / "p.parquet"), "folders/p.parquet")
    local = _cli("eval", f"{tmp_path}/p.parquet/", "-l", "mse", "-q")
    assert (local.returncode, local.stderr) == (3, f"error: cannot read '{tmp_path}/p.parquet/': Not a directory\n")
    for url in ("s3://folders/p.parquet/", "s3://folders/p.csv/"):
        run = _cli("eval", url, "-l", "mse", "-q")
        assert (run.returncode, run.stdout, run.stderr) == (3, "", f"error: cannot read '{url}': Not a directory\n")
    run = _cli("eval", "s3://folders/gone/", "-l", "mse", "-q")
    assert (run.returncode, run.stderr) == (3, "error: file 's3://folders/gone/' not found\n")


def test_a_compressed_object_named_as_plain_text_is_refused_as_a_local_file_is(
    s3: dict[str, str], tmp_path: Path
) -> None:
    """gzip bytes in an object named g.csv were decompressed and read (the compression taken from the bytes), where
    the same local file is refused: its name says plain CSV (docs/cli.md). Both now say to name it .gz; the object
    named g.csv.gz, and one without an extension, are read as the local files are."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("zipped")
    data = gzip.compress(b"y_true,y_pred\n1,2\n3,3\n")
    for name in ("g.csv", "g.csv.gz", "g", "g.jsonl"):
        (tmp_path / name).write_bytes(data)
        fs.pipe(f"zipped/{name}", data)
    for name, title in (("g.csv", "CSV"), ("g.jsonl", "JSON Lines")):
        for path in (str(tmp_path / name), f"s3://zipped/{name}"):
            run = _cli("eval", path, "-l", "mse", "-q")
            message = f"error: cannot read '{path}' as {title}: it is gzip-compressed; end its name with .gz\n"
            assert (run.returncode, run.stdout, run.stderr) == (3, "", message)
    for name in ("g.csv.gz", "g"):
        run = _cli("eval", f"s3://zipped/{name}", "-l", "mse", "-f", "csv", "-q")
        assert (run.returncode, run.stderr) == (0, "") and run.stdout.splitlines()[1].endswith(",0.5,2,,")


def test_an_invalid_bucket_name_says_why(s3: dict[str, str]) -> None:
    """botocore's 'Parameter validation failed:' puts its reason on the next line, which the one-line error left
    out: "cannot read 's3://bk*/p.parquet': Parameter validation failed:" said nothing of the bucket name."""
    run = _cli("eval", "s3://bk*/p.parquet", "-l", "mse", "-q")
    assert (run.returncode, run.stdout, run.stderr.count("\n")) == (3, "", 1)
    assert run.stderr.startswith(
        "error: cannot read 's3://bk*/p.parquet': Parameter validation failed: Invalid bucket name \"bk*\": "
    )


def test_a_remote_parquet_file_cut_short_says_so_as_a_local_one_does(s3: dict[str, str], tmp_path: Path) -> None:
    """A Parquet object cut short (alone, or in a directory) or text named .parquet was pyarrow's 'Parquet magic bytes
    not found in footer. Either the file is corrupted or this is not a parquet file.', where the local file says
    why; it now says the same remotely."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("cut")
    buffer = pa.BufferOutputStream()
    pq.write_table(pa.table({"y_true": [1.0, 2.0], "y_pred": [1.5, 2.0]}), buffer)
    whole = buffer.getvalue().to_pybytes()
    (tmp_path / "p.parquet").write_bytes(whole[: len(whole) // 2])
    for key, data in (("p.parquet", whole[: len(whole) // 2]), ("d/a.parquet", whole), ("d/b.parquet", whole[:40])):
        fs.pipe(f"cut/{key}", data)
    fs.pipe("cut/text.parquet", b"y_true,y_pred\n1,2\n")
    fs.pipe("cut/e/empty.parquet", b"")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "empty.parquet").write_bytes(b"")
    cut = "as Parquet: it ends without its footer, so it was cut short (did the program writing it fail?)"
    text = "as Parquet: it is not a Parquet file but delimited text; give --input-format csv or name it .csv"
    for path, expected in (
        (str(tmp_path / "p.parquet"), f"'{tmp_path}/p.parquet' {cut}"),
        ("s3://cut/p.parquet", f"'s3://cut/p.parquet' {cut}"),
        ("s3://cut/d", f"'s3://cut/d/b.parquet' {cut}"),
        ("s3://cut/text.parquet", f"'s3://cut/text.parquet' {text}"),
    ):
        run = _cli("eval", path, "-l", "mse", "-q")
        assert (run.returncode, run.stdout, run.stderr) == (3, "", f"error: cannot read {expected}\n"), path
    for path in (str(tmp_path / "e"), "s3://cut/e"):  # not 'it is not a Parquet file but delimited text'
        run = _cli("eval", path, "-l", "mse", "-q")
        assert (run.returncode, run.stdout, run.stderr) == (3, "", f"error: '{path}/empty.parquet' is empty\n")


STAGING_GONE = """
import glob, shutil
import numpy as np
from lossctl import register_loss


@register_loss("staging_gone", task="regression", summary="Squared error; removes the staged parts.", formula="(p-y)^2")
def staging_gone(target, pred):
    for staged in glob.glob({pattern!r}):
        shutil.rmtree(staged, ignore_errors=True)
    return (pred - target) ** 2
"""


def test_a_task_that_cannot_write_its_part_names_the_per_sample_path(scheduler: str, tmp_path: Path) -> None:
    """A task whose file of the --per-sample dataset could not be written reported the run's hidden staging name
    and an input file that was not at fault ("cannot write '.../.rows.parquet.x1y2.tmp/part-00000.parquet': ...
    (in .../part-0.parquet)"); it is now the local engine's message, naming the --per-sample path."""
    plugin = tmp_path / "gone.py"
    plugin.write_text(STAGING_GONE.format(pattern=str(tmp_path / ".rows.parquet.*")))
    partitioned = str(Path(__file__).resolve().parent.parent / "sample_data" / "partitioned")
    rows = tmp_path / "rows.parquet"
    run = _cli(
        "eval", partitioned, "-l", "staging_gone", "--plugin", str(plugin), "-q", "--per-sample", str(rows),
        "--engine", "dask", "--scheduler", scheduler,
    )  # fmt: skip
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr == f"error: cannot write '{rows}': No such file or directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone.py"]


def test_http_urls_are_read_like_files(tmp_path: Path) -> None:
    """An https:// (here http://, from a server on 127.0.0.1) CSV or Parquet file gives the local file's result."""
    root = Path(__file__).resolve().parent.parent / "sample_data"
    with _web_server(root) as port:
        for name, args in (("regression.csv", ["-l", "mse,mae"]), ("binary.parquet", ["-l", "bce", "--pred", "prob"])):
            local = _cli("eval", str(root / name), *args, "-f", "json", "-q")
            remote = _cli("eval", f"http://127.0.0.1:{port}/{name}", *args, "-f", "json", "-q")
            assert remote.returncode == 0, remote.stderr
            assert_same(json.loads(local.stdout), json.loads(remote.stdout))
        missing = _cli("eval", f"http://127.0.0.1:{port}/nothing.csv", "-l", "mse")
        assert (missing.returncode, missing.stderr) == (
            3,
            f"error: file 'http://127.0.0.1:{port}/nothing.csv' not found\n",
        )


def test_http_parquet_from_a_server_without_range_requests(tmp_path: Path) -> None:
    """Python's http.server ignores Range headers, and fsspec refuses a partial read it answers whole: a Parquet
    file larger than the first read was 'error: cannot read ...: The HTTP server doesn't appear to support range
    requests...' (exit 3); it is now read whole, as a remote CSV is."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=5000)
    pq.write_table(pa.table({"y_true": y, "y_pred": y + rng.normal(size=5000)}), tmp_path / "p.parquet")
    local = _cli("eval", str(tmp_path / "p.parquet"), "-l", "mse,mae", "-f", "json", "-q")
    with _web_server(tmp_path) as port:
        remote = _cli("eval", f"http://127.0.0.1:{port}/p.parquet", "-l", "mse,mae", "-f", "json", "-q")
    assert (remote.returncode, remote.stderr) == (0, "")
    assert_same(json.loads(local.stdout), json.loads(remote.stdout))


def test_http_compressed_csv_cut_short_says_so_as_a_local_file_does(tmp_path: Path) -> None:
    """A gzip CSV cut short said 'cannot read 'http://.../c.csv.gz': Truncated compressed stream' (the local file:
    '... as CSV: Truncated compressed stream'); now the same words as the local file's, exit 3, nothing written."""
    data = gzip.compress(b"y_true,y_pred\n" + b"1,2\n" * 2000)
    (tmp_path / "c.csv.gz").write_bytes(data[: len(data) // 2])
    fault = "its compressed data ends unfinished, so it was cut short (did the program writing it fail?)"
    local = _cli("eval", str(tmp_path / "c.csv.gz"), "-l", "mse", "-o", str(tmp_path / "out.json"))
    assert (local.returncode, local.stderr) == (3, f"error: cannot read '{tmp_path / 'c.csv.gz'}': {fault}\n")
    with _web_server(tmp_path) as port:
        url = f"http://127.0.0.1:{port}/c.csv.gz"
        remote = _cli("eval", url, "-l", "mse", "-o", str(tmp_path / "out.json"))
    assert (remote.returncode, remote.stdout, remote.stderr) == (3, "", f"error: cannot read '{url}': {fault}\n")
    assert not (tmp_path / "out.json").exists()


@contextmanager
def _faulty_web_server(directory: Path) -> Iterator[int]:
    """A web server on 127.0.0.1 in a thread: ``/500/NAME`` answers 500, ``/cut/NAME`` sends half of the file
    ``NAME`` of ``directory`` under its whole length and closes the connection; yields its port."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/500/"):
                self.send_error(500)
                return
            data = (directory / self.path.rsplit("/", 1)[-1]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(data[: len(data) // 2])
            self.close_connection = True

        do_HEAD = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_a_web_server_failing_or_closing_mid_file_is_one_line_exit_3(tmp_path: Path) -> None:
    """A 500 answer and a connection closed mid-body were aiohttp's exceptions, which were let through: 'error:
    internal error (ClientResponseError: 500, ...); this is a bug in lossctl', exit 4; now an input error naming
    the URL, exit 3, and no output file."""
    (tmp_path / "p.csv").write_text("y_true,y_pred\n" + "1,2\n" * 500)
    out = tmp_path / "out.json"
    with _faulty_web_server(tmp_path) as port:
        for path in ("500/p.parquet", "cut/p.csv"):
            url = f"http://127.0.0.1:{port}/{path}"
            run = _cli("eval", url, "-l", "mse", "-q", "-o", str(out))
            assert (run.returncode, run.stdout) == (3, ""), (path, run.stderr)
            assert run.stderr.startswith(f"error: cannot read '{url}': ") and run.stderr.count("\n") == 1, run.stderr
            assert "internal error" not in run.stderr
            reason = "the server answered HTTP 500 Internal Server Error" if path[0] == "5" else CLOSED
            assert run.stderr == f"error: cannot read '{url}': {reason}\n"
    assert not out.exists()


CLOSED = "the connection closed before the end of the file"


def test_an_s3_object_cut_mid_read_is_one_line_exit_3(s3: dict[str, str], tmp_path: Path) -> None:
    """A connection to S3 closed mid-object (here by a proxy in front of the S3 server, halving each object's body)
    was 'error: internal error (ClientPayloadError: ...)', exit 4; now one input error line, exit 3, no output."""
    import http.client
    import http.server

    import s3fs

    upstream = s3["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            connection = http.client.HTTPConnection("127.0.0.1", int(upstream))
            connection.request(self.command, self.path, self.rfile.read(length), dict(self.headers))
            answer = connection.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.end_headers()
            whole = self.command != "GET" or "list-type" in self.path  # object bodies are cut, listings are not
            self.wfile.write(data if whole else data[: len(data) // 2])
            self.close_connection = not whole

        do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    fs = s3fs.S3FileSystem()
    fs.mkdir("cut-mid-read")
    (tmp_path / "p.csv").write_text("y_true,y_pred\n" + "1,2\n" * 500)
    fs.put_file(str(tmp_path / "p.csv"), "cut-mid-read/p.csv")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proxied = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}"}
        out = tmp_path / "out.json"
        run = _cli("eval", "s3://cut-mid-read/p.csv", "-l", "mse", "-q", "-o", str(out), env=proxied)
    finally:
        server.shutdown()
        server.server_close()
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr == f"error: cannot read 's3://cut-mid-read/p.csv': {CLOSED}\n"
    assert not out.exists()


def test_http_hive_partition_keys_are_columns(tmp_path: Path) -> None:
    """A web server percent-encodes its links (python -m http.server lists region=eu/ as region%3Deu/): over
    http:// a Hive directory lost its keys ('error: column 'region' not found', exit 3); a value's own encoding
    (x%2Fy, a '/') is decoded as the local directory's is."""
    for region, rows in (("eu", [1.0, 2.0]), ("x%2Fy", [3.0])):
        (tmp_path / "ds" / f"region={region}").mkdir(parents=True)
        table = pa.table({"y_true": [0.0] * len(rows), "y_pred": rows})
        pq.write_table(table, tmp_path / "ds" / f"region={region}" / "part-0.parquet")
    args = ["-l", "mae", "--by", "region", "-f", "csv", "-q"]
    local = _cli("eval", str(tmp_path / "ds"), *args)
    assert local.stdout.splitlines()[-2:] == [
        "mae,multioutput=none,mean,1.5,2,,,eu",
        "mae,multioutput=none,mean,3.0,1,,,x/y",
    ]
    with _web_server(tmp_path) as port:
        for url in (f"http://127.0.0.1:{port}/ds/", f"http://127.0.0.1:{port}/ds/*/*.parquet"):
            remote = _cli("eval", url, *args)
            assert (remote.returncode, remote.stdout, remote.stderr) == (0, local.stdout, ""), url


def test_http_csv_is_read_with_the_delimited_text_options(tmp_path: Path) -> None:
    """--delimiter and --decimal reached local files only: a remote CSV was read with a sniffed delimiter and
    decimal points, so '1,5' was 'not numeric' although --decimal , was given."""
    (tmp_path / "p.csv").write_text("pred:target\n1,5:2\n")
    with _web_server(tmp_path) as port:
        url = f"http://127.0.0.1:{port}/p.csv"
        run = _cli("eval", url, "--delimiter", ":", "--decimal", ",", "-l", "mse", "-f", "json", "-q")
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["results"][0]["value"] == 0.25


def test_an_output_inside_an_input_is_a_usage_error_remotely_and_on_dask(
    data: dict[str, str], scheduler: str, tmp_path: Path
) -> None:
    """The Dask engine's --per-sample dataset inside the input directory, and an S3 output inside an S3 input (a
    prefix, a glob, the input itself), are refused before any work, as a local output inside a local input is."""
    import s3fs

    local, remote = data["baseline"], data["s3_baseline"]
    dask = ["--engine", "dask", "--scheduler", scheduler]
    cases = [
        ([local, "--per-sample", f"{local}/rows.parquet", *dask], f"output '{local}/rows.parquet' is inside the "
         f"input directory '{local}'"),
        ([remote, "--per-sample", f"{remote}/rows.parquet", *dask], f"output '{remote}/rows.parquet' is inside "
         f"the input directory '{remote}'"),
        ([f"{remote}/", "-o", f"{remote}/region=eu/report.json"], f"output '{remote}/region=eu/report.json' is "
         f"inside the input directory '{remote}/'"),
        ([f"{remote}/*/*.parquet", "--per-sample", f"{remote}/region=us/rows.parquet"], f"output "
         f"'{remote}/region=us/rows.parquet' matches the input pattern '{remote}/*/*.parquet'"),
    ]  # fmt: skip
    for args, message in cases:
        run = _cli("eval", *args, "-l", "mse", "-q")
        assert (run.returncode, run.stdout) == (2, ""), run.stderr
        assert run.stderr == (
            f"error: {message}: the next run over it would read the output as data; write it elsewhere\n"
        )
    csv = f"s3://{BUCKET}/own.csv"
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.put(str(Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv"), csv)
    run = _cli("eval", csv, "-l", "mse", "-q", "-o", csv)
    assert (run.returncode, run.stderr) == (2, f"error: refusing to overwrite the input '{csv}' with --output\n")
    assert sorted(p.name for p in Path(local).iterdir()) == ["region=eu", "region=us"]  # nothing written
    assert len(fs.find(remote)) == sum(FILES.values())


def test_an_output_inside_an_input_spelled_with_another_scheme_is_refused(s3: dict[str, str]) -> None:
    """S3:// and s3a:// name the same store as s3://: an output inside an input spelled with the other scheme was
    written into the input's prefix (exit 0); it is the usage error of any output inside an input."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("inside")
    cases = [
        ("S3://inside/data", "-o", "s3://inside/data/report.json", "is inside the input directory"),
        ("s3a://inside/data/", "--per-sample", "s3://inside/data/rows.parquet", "is inside the input directory"),
        ("s3://inside/data/*", "-o", "S3://inside/data/x/report.json", "matches the input pattern"),
    ]
    for given, flag, output, relation in cases:
        run = _cli("eval", given, "-l", "mse", "-q", flag, output)
        assert (run.returncode, run.stdout, run.stderr) == (
            2,
            "",
            f"error: output '{output}' {relation} '{given}': the next run over it would read the output as data; "
            "write it elsewhere\n",
        )
    assert fs.find("inside") == []


def test_a_url_scheme_in_capitals_is_the_same_store(data: dict[str, str]) -> None:
    """A URL's scheme is case-insensitive (RFC 3986): S3:// was 'Protocol not known: S3'."""
    local = lossctl.evaluate(data["baseline"], losses="mae", by="region")
    remote = lossctl.evaluate(data["s3_baseline"].replace("s3://", "S3://"), losses="mae", by="region")
    assert_same(local.to_dict(), remote.to_dict())


def test_output_and_per_sample_naming_one_object_or_file_are_refused_under_either_engine(
    s3: dict[str, str], tmp_path: Path
) -> None:
    """-o s3://b/x.parquet with --per-sample s3a://b/x.parquet (one object, two spellings) ran and the report
    replaced the rows; under --engine dask one file named twice was 'cannot write ...: Is a directory' (exit 3)
    after the whole run. Both are now the usage error the local engine gives one spelling, before any work."""
    import s3fs

    s3fs.S3FileSystem(skip_instance_cache=True).mkdir("twice")
    (tmp_path / "p.csv").write_text("y_true,y_pred\n1,2\n")
    same = tmp_path / "same.parquet"
    for output, per_sample, more in (
        ("s3://twice/x.parquet", "s3a://twice/x.parquet", []),
        ("S3://twice/x.parquet", "s3://twice/x.parquet", []),
        (str(same), str(same), ["--engine", "dask", "--workers", "1"]),
    ):
        run = _cli("eval", str(tmp_path / "p.csv"), "-l", "mse", "-q", "-o", output, "--per-sample", per_sample, *more)
        assert (run.returncode, run.stdout, run.stderr) == (
            2,
            "",
            f"error: --output and --per-sample both name '{output}'; give each its own file\n",
        )
    assert s3fs.S3FileSystem(skip_instance_cache=True).find("twice") == []
    assert not same.exists()


def test_an_output_to_a_missing_bucket_fails_before_any_work(data: dict[str, str], scheduler: str) -> None:
    """Checked before the run: the local engine printed its table and then failed at the upload ('file ... not
    found'), and the Dask engine's --per-sample reported an internal error."""
    sample = str(Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv")
    dask = ["--engine", "dask", "--scheduler", scheduler]
    for args in (
        [sample, "-o", "s3://no-such-bucket/report.json"],
        [sample, "--per-sample", "s3://no-such-bucket/rows.parquet"],
        [data["s3_baseline"], "--per-sample", "s3://no-such-bucket/rows.parquet", *dask],
    ):
        run = _cli("eval", *args, "-l", "mse", "-q")
        url = args[2]
        assert (run.returncode, run.stdout, run.stderr) == (
            3,
            "",
            f"error: cannot write '{url}': bucket 'no-such-bucket' does not exist\n",
        )


PLUGIN = """
import numpy as np
from lossctl import register_loss


@register_loss("{name}", task="regression", summary="Absolute error (a test plugin).", formula="l = |p - y|")
def absolute(target, pred):
    return np.abs(pred - target)
"""


def test_a_plugin_file_loss_runs_on_the_cluster(data: dict[str, str], scheduler: str, tmp_path: Path) -> None:
    """The Dask scheduler and workers cannot import the module lossctl makes from --plugin FILE.py: its loss
    travels inside the tasks (it was an internal error, 'Error during deserialization of the task graph')."""
    plugin = tmp_path / "my_losses.py"
    plugin.write_text(PLUGIN.format(name="plugin_abs"))
    args = ["eval", data["baseline"], "-l", "plugin_abs,mae", "--plugin", str(plugin), "-f", "json", "-q"]
    local = _cli(*args)
    remote = _cli(*args, "--engine", "dask", "--scheduler", scheduler)
    assert (local.returncode, remote.returncode) == (0, 0), remote.stderr
    values = [r["value"] for r in json.loads(remote.stdout)["results"]]
    assert values[0] == pytest.approx(values[1], rel=1e-12)
    assert_same(json.loads(local.stdout), json.loads(remote.stdout))
    # The plugin's loss alone: the options' loss requests were pickled naming the plugin's module, which the
    # scheduler cannot import ('Error during deserialization of the task graph'); with mae beside it they were
    # shipped by value only because mae's aggregate did not pickle.
    alone = _cli(*[arg if arg != "plugin_abs,mae" else "plugin_abs" for arg in args], "--engine", "dask",
                 "--scheduler", scheduler)  # fmt: skip
    assert alone.returncode == 0, alone.stderr
    assert json.loads(alone.stdout)["results"][0]["value"] == pytest.approx(values[0], rel=1e-12)


def test_a_plugin_file_loss_runs_on_a_cluster_in_another_process(tmp_path: Path) -> None:
    """A scheduler of its own process (as on a real cluster) unpickles the tasks' arguments: the reader and the
    options, pickled by plain pickle, named the --plugin FILE.py module, which only lossctl's process has ('the
    Dask cluster cannot load lossctl's tasks (No module named 'lossctl_plugin_...')', exit 3). With a built-in loss
    beside it (-l far_abs,mae) the run happened to pass."""
    plugin = tmp_path / "far_losses.py"
    plugin.write_text(PLUGIN.format(name="far_abs"))
    address = tmp_path / "address"
    cluster = subprocess.Popen(
        [sys.executable, "-c", "import distributed, pathlib, sys, time\n"
         "c = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=':0')\n"
         "pathlib.Path(sys.argv[1]).write_text(c.scheduler_address)\ntime.sleep(600)", str(address)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not address.exists() or not address.read_text():
            assert cluster.poll() is None and time.monotonic() < deadline, "the cluster did not start"
            time.sleep(0.1)
        partitioned = str(Path(__file__).resolve().parent.parent / "sample_data" / "partitioned")
        args = ["eval", partitioned, "-l", "far_abs", "--plugin", str(plugin), "-f", "json", "-q"]  # no built-in
        run = _cli(*args, "--engine", "dask", "--scheduler", address.read_text())
    finally:
        cluster.send_signal(signal.SIGINT)  # the cluster closes its workers
        cluster.wait(timeout=30)
    assert (run.returncode, run.stderr) == (0, ""), run.stderr
    assert_same(json.loads(_cli(*args).stdout), json.loads(run.stdout))


def test_what_a_plugin_module_prints_on_a_worker_reaches_stderr(tmp_path: Path) -> None:
    """A worker imports a --plugin MODULE again when it reads its first task, before lossctl's code runs there:
    the module's print at import went to the worker's stdout, lossctl's, ahead of the JSON document."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "chatty_losses.py").write_text("print('loading chatty_losses')\n" + PLUGIN.format(name="chatty_abs"))
    (tmp_path / "ds").mkdir()
    for part in range(2):  # two files: tasks on the cluster
        pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [0.0, 4.0]}), tmp_path / "ds" / f"{part}.parquet")
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    run = _cli("eval", str(tmp_path / "ds"), "-l", "chatty_abs", "--plugin", "chatty_losses", "-f", "json", "-q",
               "--engine", "dask", "--workers", "1", env={"PYTHONPATH": path})  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["results"][0]["value"] == 1.5
    assert run.stderr.count("loading chatty_losses") == 2  # lossctl's process, and the worker's


def test_a_plugin_loss_on_workers_of_a_run_with_stderr_closed(tmp_path: Path) -> None:
    """``2>&-``: lossctl held descriptor 2 with /dev/null, not inheritable, so the local cluster's workers started
    without one and the next pipe a worker opened took its number; a plugin loss writing to stdout there (which
    goes to stderr) failed the run: exit 3, 'failed: OSError: [Errno 9] Bad file descriptor'."""
    plugin = tmp_path / "chatty.py"
    chatty = "    import os\n    os.write(1, b'chatty\\n')\n    return"
    plugin.write_text(PLUGIN.format(name="chatty_abs").replace("    return", chatty))
    (tmp_path / "ds").mkdir()
    for part in range(2):  # two files: tasks on the cluster
        pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [0.0, 4.0]}), tmp_path / "ds" / f"{part}.parquet")
    command = shlex.join([sys.executable, "-m", "lossctl", "eval", str(tmp_path / "ds"), "-l", "chatty_abs",
                          "--plugin", str(plugin), "-f", "json", "--engine", "dask", "--workers", "1"])  # fmt: skip
    run = subprocess.run(command + " 2>&-", shell=True, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0
    assert json.loads(run.stdout)["results"][0]["value"] == 1.5


def test_a_cluster_without_an_installed_plugin_is_one_line(
    data: dict[str, str], scheduler: str, tmp_path: Path
) -> None:
    """An entry-point plugin installed here but not on the cluster: an input error saying what the cluster
    needs, not an internal error."""
    site = tmp_path / "site"
    (site / "lossctl_cluster_plugin").mkdir(parents=True)
    (site / "lossctl_cluster_plugin" / "__init__.py").write_text(PLUGIN.format(name="installed_abs"))
    info = site / "lossctl_cluster_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: lossctl_cluster_plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[lossctl.losses]\ncluster_plugin = lossctl_cluster_plugin\n")
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    run = _cli("eval", data["baseline"], "-l", "installed_abs", "-q", "--engine", "dask", "--scheduler", scheduler,
               env={"PYTHONPATH": path})  # fmt: skip
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr == (
        "error: the Dask cluster cannot load lossctl's tasks (No module named 'lossctl_cluster_plugin'); its "
        "scheduler and workers need the packages this process uses (lossctl, its extras, and the packages of "
        "installed plugins)\n"
    )


def test_a_signal_leaves_no_per_sample_staging_directory(tmp_path: Path) -> None:
    """SIGTERM while the Dask engine's --per-sample dataset is being written: its hidden staging directory was
    left behind. The loss waits for a file that never comes, so the signal arrives mid-run (a CSV input is
    evaluated in this process: no cluster is needed)."""
    plugin = tmp_path / "waiting.py"
    plugin.write_text(
        "import os, time\nimport numpy as np\nfrom lossctl import register_loss\n\n\n"
        '@register_loss("waiting", task="regression", summary="s", formula="f")\n'
        "def waiting(target, pred):\n"
        f"    while not os.path.exists({str(tmp_path / 'never')!r}):\n"
        "        time.sleep(0.02)\n"
        "    return np.abs(pred - target)\n"
    )
    data = tmp_path / "p.csv"
    data.write_text("pred,target\n1,2\n3,5\n")
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-m", "lossctl", "eval", str(data), "-l", "waiting", "--plugin", str(plugin),
               "--engine", "dask", "--per-sample", str(out / "rows.parquet"), "-q"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(out.iterdir()) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [p.name.startswith(".rows.parquet.") for p in out.iterdir()] == [True], process.poll()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert (process.returncode, stdout, stderr) == (143, "", "error: interrupted by SIGTERM\n")
    assert list(out.iterdir()) == []


def test_a_signal_while_a_worker_runs_a_plugin_loss_ends_the_worker(tmp_path: Path) -> None:
    """SIGTERM while a local cluster's worker runs a plugin loss: one line, and nothing left behind.

    While plugin code ran, os._exit raised instead of exiting in every thread of the worker, Dask's too: the thread
    that ends a worker whose parent is gone met the exception, so the worker ran on for 30 s, holding the run's
    stdout and stderr open and printing tracebacks. Then multiprocessing's resource tracker warned about "leaked
    semaphore objects" (two more lines), and Dask's scratch space stayed in $TMPDIR (its lock files after any run).
    """
    started, scratch = tmp_path / "started", tmp_path / "tmp"
    scratch.mkdir()
    plugin = tmp_path / "waiting.py"
    plugin.write_text(
        "import os, time\nimport numpy as np\nfrom lossctl import register_loss\n\n\n"
        '@register_loss("waiting", task="regression", summary="s", formula="f")\n'
        "def waiting(target, pred):\n"
        f"    if os.environ.get('WAIT'):\n        open({str(started)!r}, 'w').close()\n"
        "    while os.environ.get('WAIT'):\n"
        "        time.sleep(0.02)\n"
        "    return np.abs(pred - target)\n"
    )
    (tmp_path / "ds").mkdir()
    for part in range(2):  # two files: tasks on the cluster
        pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [0.0, 1.0]}), tmp_path / "ds" / f"{part}.parquet")
    command = [sys.executable, "-m", "lossctl", "eval", str(tmp_path / "ds"), "-l", "waiting", "--plugin", str(plugin),
               "--engine", "dask", "--workers", "1", "-q", "-f", "csv"]  # fmt: skip
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert (done.returncode, done.stderr, list(scratch.iterdir())) == (0, "", [])
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**env, "WAIT": "1"}
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert started.exists(), process.poll()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)  # until the worker and the resource tracker close stderr
    finally:
        process.kill()
        process.wait()
    assert (process.returncode, stdout, stderr) == (143, "", "error: interrupted by SIGTERM\n")
    assert list(scratch.iterdir()) == []


WAITING_ON_A_MARK = """
import os, time
import numpy as np
from lossctl import register_loss


@register_loss("waiting_on_a_mark", task="regression", summary="s", formula="f")
def waiting_on_a_mark(target, pred):
    if (pred == 99).any():  # the marked file's task waits for good
        open({started!r}, "w").close()
        while True:
            time.sleep(0.02)
    return np.abs(pred - target)
"""


def test_a_signal_leaves_no_remote_per_sample_parts(s3: dict[str, str], tmp_path: Path) -> None:
    """SIGTERM while a Dask run writes --per-sample into a bucket, after one task staged its part: the staged
    parts (.rows.parquet.<uuid>.tmp/part-NNNNN.parquet) were left in the bucket. The local cluster's workers are
    now ended and the staged parts removed before the process exits."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("signalled")
    started = tmp_path / "started"
    plugin = tmp_path / "waiting.py"
    plugin.write_text(WAITING_ON_A_MARK.format(started=str(started)))
    (tmp_path / "ds").mkdir()
    for name, pred in (("a", [1.0, 2.0]), ("b", [99.0, 2.0])):
        pq.write_table(pa.table({"pred": pred, "target": [0.0, 1.0]}), tmp_path / "ds" / f"{name}.parquet")
    command = [sys.executable, "-m", "lossctl", "eval", str(tmp_path / "ds"), "-l", "waiting_on_a_mark",
               "--plugin", str(plugin), "--engine", "dask", "--workers", "2", "-q",
               "--per-sample", "s3://signalled/rows.parquet"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            fs.invalidate_cache()
            if started.exists() and fs.find("signalled"):
                break
            time.sleep(0.1)
        assert [p.rsplit("/", 1)[1] for p in fs.find("signalled")] == ["part-00000.parquet"], process.poll()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert (process.returncode, stdout, stderr) == (143, "", "error: interrupted by SIGTERM\n")
    fs.invalidate_cache()
    assert fs.find("signalled") == []


HELD = """
import os, time
import numpy as np
from lossctl import register_loss


@register_loss("held", task="regression", summary="s", formula="f")
def held(target, pred):
    if (pred == 7).any():
        raise ValueError("seven")
    if (pred == 99).any():  # the marked file's task runs until the test lets it go
        open({started!r}, "w").close()
        while not os.path.exists({release!r}):
            time.sleep(0.02)
    return np.abs(pred - target)
"""


def _lossctl_tasks_running(dask_worker: Any) -> int:
    return sum(str(task.key).startswith("lossctl-part-") for task in dask_worker.state.all_running_tasks)


@pytest.mark.parametrize("end", ["signal", "error"])
def test_a_run_ended_early_on_a_joined_cluster_leaves_no_part_written_after_it(
    s3: dict[str, str], scheduler: str, tmp_path: Path, end: str
) -> None:
    """A run on a joined cluster ended by SIGTERM, or by a task's error, while another task ran in the user's
    worker: lossctl removed the staged --per-sample parts and exited, and the task, still running, uploaded its
    part afterwards (.rows.parquet.<uuid>.tmp/part-00001.parquet left in the bucket). Now the run's unfinished
    tasks are cancelled, and a cancelled task publishes no part."""
    import distributed
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    bucket = f"joined-{end}"
    fs.mkdir(bucket)
    started, release = tmp_path / "started", tmp_path / "release"
    plugin = tmp_path / "held.py"
    plugin.write_text(HELD.format(started=str(started), release=str(release)))
    (tmp_path / "ds").mkdir()
    first = [1.0, 2.0] if end == "signal" else [7.0, 2.0]
    for name, pred in (("a", first), ("b", [99.0, 2.0])):
        pq.write_table(pa.table({"pred": pred, "target": [0.0, 1.0]}), tmp_path / "ds" / f"{name}.parquet")
    command = [sys.executable, "-m", "lossctl", "eval", str(tmp_path / "ds"), "-l", "held", "--plugin", str(plugin),
               "--engine", "dask", "--scheduler", scheduler, "-q",
               "--per-sample", f"s3://{bucket}/rows.parquet"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if end == "signal":
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and process.poll() is None:
                fs.invalidate_cache()
                if started.exists() and fs.find(bucket):
                    break
                time.sleep(0.1)
            assert [p.rsplit("/", 1)[1] for p in fs.find(bucket)] == ["part-00000.parquet"], process.poll()
            process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        release.touch()  # the held task ends, in the user's worker
        process.kill()
        process.wait()
    if end == "signal":
        assert (process.returncode, stdout, stderr) == (143, "", "error: interrupted by SIGTERM\n")
    else:
        assert (process.returncode, stdout) == (3, "") and stderr.startswith("error: ") and "seven" in stderr
        assert started.exists()
    with distributed.Client(scheduler, set_as_default=False) as client:
        deadline = time.monotonic() + 30
        while any(client.run(_lossctl_tasks_running).values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(client.run(_lossctl_tasks_running).values())
    fs.invalidate_cache()
    assert fs.find(bucket) == []


def test_a_remote_output_naming_a_folder_or_a_bucket_is_a_usage_error(data: dict[str, str]) -> None:
    """As for a local path: 's3://b/dir/' was written as the object 's3://b/dir', and 's3://b' failed at the upload,
    after the run, with botocore's 'Parameter validation failed:'."""
    sample = str(Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv")
    for url, message in (
        (f"s3://{BUCKET}/reports/", f"output path 's3://{BUCKET}/reports/' ends with '/', so it names a directory; "
         "give a file name"),
        (f"s3://{BUCKET}", f"output 's3://{BUCKET}' names a bucket, not a file in it; give a name: "
         f"s3://{BUCKET}/NAME"),
    ):  # fmt: skip
        run = _cli("eval", sample, "-l", "mse", "-q", "-f", "json", "-o", url)
        assert (run.returncode, run.stdout, run.stderr) == (2, "", f"error: {message}\n")


def test_a_remote_folder_or_glob_of_csv_files_is_refused_as_a_local_one_is(data: dict[str, str]) -> None:
    """A folder of one CSV object was read as Parquet ('Parquet magic bytes not found'), of several 'no Parquet
    files under', and a glob matching CSV objects said 'no files match': now the local engine's messages."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.pipe(f"{BUCKET}/csv-one/a.csv", b"pred,target\n1,2\n")
    fs.pipe(f"{BUCKET}/csv-two/a.csv", b"pred,target\n1,2\n")
    fs.pipe(f"{BUCKET}/csv-two/b.csv", b"pred,target\n3,2\n")
    base = f"s3://{BUCKET}"
    for path, message in (
        (f"{base}/csv-one", f"directory '{base}/csv-one' has no Parquet files (*.parquet, *.pq)"),
        (f"{base}/csv-two/", f"directory '{base}/csv-two/' has no Parquet files (*.parquet, *.pq)"),
        (f"{base}/csv-two/*.csv", f"'{base}/csv-two/*.csv' matches '{base}/csv-two/a.csv', which is not a Parquet "
         "file; a glob is read as one Parquet dataset"),
    ):  # fmt: skip
        with pytest.raises(lossctl.InputError) as error:
            lossctl.evaluate(path, losses="mse")
        assert str(error.value) == message


def test_misaligned_rows_in_a_later_part_are_numbered_as_in_the_whole_input(
    data: dict[str, str], scheduler: str, tmp_path: Path
) -> None:
    """Files aligned by order whose likely key differs in the last file: the Dask engine named the row within its
    part (row 7), not in the input (row 160,007) as the local engine does. A --targets input, or a candidate, of
    several files names its file of the row too."""
    copy = tmp_path / "copy"
    for directory, count in FILES.items():
        (copy / directory).mkdir(parents=True)
        for k in range(count):
            name = f"{directory}/part-{k}.parquet"
            (copy / name).write_bytes((Path(data["baseline"]) / name).read_bytes())
    last = copy / "region=us" / "part-1.parquet"
    table = pq.read_table(last)
    qid = table.column("qid").to_numpy().copy()
    qid[7] += 1
    pq.write_table(table.set_column(table.column_names.index("qid"), "qid", pa.array(qid)), last, row_group_size=15_000)
    row = 4 * ROWS // 5 + 7
    message = (
        f"column 'qid' is {qid[7] - 1} in {data['baseline']} but {qid[7]} in {copy} at row {row}: rows are aligned "
        "by order and these are not the same rows; align them by key with --on qid; row "
        f"{row} is in '{data['baseline']}/region=us/part-1.parquet'"
    )
    dask = ["--engine", "dask", "--scheduler", scheduler]
    in_targets = f" and '{copy}/region=us/part-1.parquet'"
    for command, end in (
        (["eval", data["baseline"], "--targets", str(copy)], in_targets),
        (["compare", data["baseline"], str(copy)], in_targets),
    ):
        local = _cli(*command, "-l", "mse", "-q")
        remote = _cli(*command, "-l", "mse", "-q", *dask)
        assert (local.returncode, local.stderr) == (3, f"error: {message}{end}\n")
        assert (remote.returncode, remote.stderr) == (3, local.stderr)


def test_a_web_url_with_a_query_string_is_one_file() -> None:
    """A pre-signed URL (https://.../p.parquet?X-Amz-Signature=...): its '?' starts the query, not a glob, and the
    extension is read before it. A CSV was read as Parquet ('magic bytes not found')."""
    root = Path(__file__).resolve().parent.parent / "sample_data"
    with _web_server(root) as port:
        for name, losses in (("regression.csv", "mse"), ("binary.parquet", "brier")):
            local = lossctl.evaluate(root / name, losses=losses, pred="prob" if losses == "brier" else None)
            url = f"http://127.0.0.1:{port}/{name}?X-Amz-Signature=abc&X-Amz-Expires=60"
            remote = lossctl.evaluate(url, losses=losses, pred="prob" if losses == "brier" else None)
            assert_same(local.to_dict(), remote.to_dict())


def test_an_output_without_credentials_names_them_not_a_missing_bucket(data: dict[str, str]) -> None:
    """fsspec's exists() says False for any failed probe: a bucket that exists was reported missing."""
    sample = str(Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv")
    env = {**os.environ, "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"}
    env = {k: v for k, v in env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    url = f"s3://{BUCKET}/report.json"
    command = [sys.executable, "-m", "lossctl", "eval", sample, "-l", "mse", "-q", "-o", url]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr == (
        f"error: cannot write '{url}': no credentials (Unable to locate credentials); set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, as for the aws command\n"
    )


def test_an_s3_endpoint_that_never_answers_fails_in_about_a_minute(s3: dict[str, str]) -> None:
    """A server that accepts connections and never answers (a dead proxy): s3fs's 5 retries of botocore's 5
    attempts of a 15 s read held the run for 7 minutes before its one-line error."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)  # the kernel completes the connections; nothing ever reads them
        endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"
        start = time.monotonic()
        run = _cli("eval", f"s3://{BUCKET}/p.parquet", "-l", "mse", "-q", env={"AWS_ENDPOINT_URL": endpoint})
        elapsed = time.monotonic() - start
    assert (run.returncode, run.stdout) == (3, "")
    assert run.stderr.startswith(f"error: cannot read 's3://{BUCKET}/p.parquet': Read timeout on endpoint URL: ")
    assert elapsed < 90, elapsed


def _spelling_in_task(flags: bool, mine: str, other: str) -> tuple[str, str]:
    """A Dask task that spells options as ``flags`` says, once the other task set its own: how it spells them in
    its thread and in a reader thread it starts (:func:`lossctl.prefetch.prefetch`)."""
    from distributed import Event

    from lossctl.errors import option, spelled_as_flags
    from lossctl.prefetch import prefetch

    with spelled_as_flags(flags):
        Event(mine).set()
        assert Event(other).wait(30)
        return option("engine", "dask"), next(prefetch(option("engine", "dask") for _ in range(1)))


def test_two_tasks_on_one_worker_at_once_spell_options_each_as_its_own_run() -> None:
    """Whether an error says ``--engine dask`` or ``engine="dask"`` is a task's own: two tasks running at once in one
    worker's two threads, one for the command line and one for a library, each spell options as their run does,
    in the threads they start too, and leave the worker as it was (one variable for the process let the last task
    to start decide for both)."""
    import distributed

    from lossctl.errors import flags_spelled

    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        flags = client.submit(_spelling_in_task, True, "flags-ready", "keywords-ready", pure=False)
        keywords = client.submit(_spelling_in_task, False, "keywords-ready", "flags-ready", pure=False)
        assert flags.result(timeout=60) == ("--engine dask", "--engine dask")
        assert keywords.result(timeout=60) == ('engine="dask"', 'engine="dask"')
        assert client.run(flags_spelled) == {address: False for address in client.scheduler_info()["workers"]}


def test_a_plugin_file_run_leaves_cloudpickle_as_the_program_had_it(
    data: dict[str, str], scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library run on the Dask engine registers the --plugin FILE.py modules with cloudpickle to ship their losses
    by value, and unregisters them after the run (they stayed registered in the program's cloudpickle); a module
    the program had registered itself stays registered."""
    import cloudpickle

    from lossctl import registry
    from lossctl.plugins import load_plugin

    registry.ensure_loaded()  # the plugins' losses leave with the test: the later tests list the built-ins alone
    monkeypatch.setattr(registry, "_LOSSES", dict(registry._LOSSES))
    monkeypatch.setattr(registry, "_ALIASES", dict(registry._ALIASES))
    for name in ("kept_abs", "shipped_abs"):
        (tmp_path / f"{name}.py").write_text(PLUGIN.format(name=name))
        load_plugin(str(tmp_path / f"{name}.py"))
    kept, shipped = (
        next(module for key, module in sys.modules.items() if key.startswith(f"lossctl_plugin_{name}_"))
        for name in ("kept_abs", "shipped_abs")
    )
    cloudpickle.register_pickle_by_value(kept)
    try:
        report = lossctl.evaluate(data["baseline"], losses="kept_abs,shipped_abs", engine="dask", scheduler=scheduler)
        assert report["kept_abs"] == pytest.approx(report["shipped_abs"], rel=1e-12)
        registered = cloudpickle.list_registry_pickle_by_value()
        assert (kept.__name__ in registered, shipped.__name__ in registered) == (True, False)
    finally:
        cloudpickle.unregister_pickle_by_value(kept)


def test_a_local_cluster_that_cannot_start_is_one_input_error(tmp_path: Path) -> None:
    """With too few file descriptors (ulimit -n 20) the local cluster's worker cannot start: that was "error: internal
    error (RuntimeError: Nanny failed to start.)", exit 4, after an asyncio traceback ("Exception in callback ...
    Too many open files"); it is one line saying what failed and what to check, exit 3."""
    import resource

    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"pred": [0.1, 0.5], "target": [0.0, 1.0]}), path)
    limited = subprocess.run(
        [sys.executable, "-m", "lossctl", "eval", str(path), "-l", "mse", "-q", "--engine", "dask", "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (20, 20)),
    )
    assert (limited.returncode, limited.stdout) == (3, "")
    # (a machine that needs more descriptors to start Python may fail sooner, reading the file: exit 3 too)
    assert limited.stderr.startswith(
        ("error: cannot start a local Dask cluster of 1 worker process (", "error: cannot read")
    )
    assert "ulimit -n" in limited.stderr or "Too many open files" in limited.stderr
    assert limited.stderr.count("\n") == 1
