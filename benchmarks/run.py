"""Run lossctl's benchmark suite and write benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py [--only 1,2,...] [--runs N] [--runs-large N] [--runs-startup N]
                                       [--scale S] [--output PATH] [--wait-idle SECONDS]

Generates the inputs (cached, fixed seeds: gen_data.py), then times whole processes: every tool of a scenario
runs once untimed (warm-up: page cache, bytecode), then ``--runs`` rounds of every tool back to back, so the tools
of one scenario share the machine's state. Per process it records the wall time (from spawn to exit) and the peak
RSS (``ru_maxrss`` of that one child, from ``os.wait4``). Every tool's values are checked against lossctl's to
1e-9 relative, and lossctl's 50M-row CSV values against a streamed reference to 1e-12: a mismatch is printed
loudly, marked in RESULTS.md, and makes this script exit with status 1.

This script imports only the standard library, on purpose: on Linux a child's ``ru_maxrss`` starts from the
parent's own peak RSS (the high-water mark carries over exec), so the parent must stay small; RESULTS.md states
this floor. Run it with the Python of lossctl's environment (the venv's), which must also hold the packages of
the ``bench`` extra: pandas, polars, duckdb, scikit-learn (and scipy, which scikit-learn brings).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
LOSSCTL = str(Path(PY).parent / "lossctl")
TOLERANCE = 1e-9  # every tool against lossctl
REFERENCE_TOLERANCE = 1e-12  # lossctl against the streamed reference (scenario 6)
TEN = "mse,rmse,mae,huber,smooth_l1,log_cosh,quantile,mape,smape,msle"
MB = 1e6
BUSY = 0.25  # cores used by other processes when a scenario starts: above this, RESULTS.md flags it
# Every child runs from compiled bytecode, as an installed tool does. An environment that sets
# PYTHONDONTWRITEBYTECODE would otherwise recompile lossctl's (editable, source-tree) modules in every process,
# about 45 ms each time; the bytecode goes under data/ (gitignored), never into the source tree.
PYCACHE = HERE / "data" / "pycache"
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
    "PYTHONPYCACHEPREFIX": str(PYCACHE)
}


# --- measuring --------------------------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    rss: int  # bytes
    values: dict[str, float] | None
    error: str | None = None


def measure(cmd: list[str], timeout: float = 3600.0, output: bool = True, stdin: Path | None = None) -> Run:
    """Run ``cmd`` once: wall time from spawn to exit, peak RSS of that process, its JSON output parsed.

    ``output=False`` discards the output unread: reading millions of result rows would raise this process's
    peak RSS, and with it the floor of every later child's (module docstring). ``stdin``: a file fed to the
    child through a pipe (not a redirection, which would hand it a seekable file), 1 MB at a time.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        stdout_file = out if output else subprocess.DEVNULL
        stdin_pipe = subprocess.PIPE if stdin is not None else subprocess.DEVNULL
        process = subprocess.Popen(cmd, stdout=stdout_file, stderr=err, stdin=stdin_pipe, env=CHILD_ENV)
        if stdin is not None:
            threading.Thread(target=feed, args=(stdin, process.stdin), daemon=True).start()
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not the cumulative RUSAGE_CHILDREN
        timer.cancel()
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    rss = usage.ru_maxrss * 1024  # KiB on Linux
    if process.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-5:])
        return Run(wall, rss, None, f"exit status {process.returncode}: {tail}")
    try:
        return Run(wall, rss, parse(stdout))
    except ValueError as error:
        return Run(wall, rss, None, f"unreadable output ({error}): {stdout[:200]!r}")


def feed(path: Path, pipe: IO[bytes]) -> None:
    """Write ``path`` into ``pipe`` in 1 MB blocks (this process stays small), then close it."""
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    with contextlib.suppress(BrokenPipeError):  # the child ended early (an error): measure() reports its status
        try:
            with open(path, "rb", buffering=0) as f:
                while size := f.readinto(buffer):
                    pipe.write(view[:size])
        finally:
            pipe.close()


def parse(stdout: str) -> dict[str, float]:
    """lossctl's JSON report (``compare``'s: the baseline's values) or a competitor's flat ``{"loss": value}``;
    empty for outputs without values."""
    if not stdout.strip().startswith("{"):
        return {}
    data = json.loads(stdout)
    if "results" in data:  # the overall values (not the groups')
        field = "baseline" if "baseline" in data["input"] else "value"
        return {result["loss"]: float(result[field]) for result in data["results"] if result["group"] is None}
    return {name: float(value) for name, value in data.items()}


def relative(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def warm_cache(path: Path) -> None:
    """Read a file once so every tool finds it in the page cache (bounded buffer: this process stays small)."""
    buffer = bytearray(1 << 20)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buffer):
            pass


# --- scenarios --------------------------------------------------------------------------------------------------


@dataclass
class Tool:
    name: str
    cmd: list[str]
    check: bool = True  # compare its values with the scenario's reference tool
    stdin: Path | None = None  # a file piped to the tool's standard input


@dataclass
class Outcome:
    tool: Tool
    runs: list[Run] = field(default_factory=list)
    worst: float = 0.0  # largest relative difference to the reference tool over every run
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok_runs(self) -> list[Run]:
        return [run for run in self.runs if run.error is None]

    @property
    def wall(self) -> float:
        return statistics.median(run.wall for run in self.ok_runs) if self.ok_runs else math.nan

    @property
    def rss(self) -> float:
        return statistics.median(run.rss for run in self.ok_runs) if self.ok_runs else math.nan

    @property
    def spread(self) -> tuple[float, float]:
        walls = [run.wall for run in self.ok_runs] or [math.nan]
        return min(walls), max(walls)


@dataclass
class Scenario:
    key: str
    title: str
    data: list[Path]
    tools: list[Tool]
    runs: int
    reference: str = "lossctl"  # the tool every other is checked against
    note: str = ""
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)


def competitor(script: str, task: str, path: Path, name: str) -> Tool:
    return Tool(name, [PY, str(HERE / f"{script}.py"), task, str(path)])


def lossctl(path: Path, *args: str, name: str = "lossctl", output: str = "json", check: bool = True) -> Tool:
    return Tool(name, [LOSSCTL, "eval", str(path), *args, "--format", output, "-q"], check=check and output == "json")


def scenarios(data: Path, args: argparse.Namespace) -> list[Scenario]:
    parquet, csv = data / "regression_10m.parquet", data / "regression_10m.csv"
    binary, multiclass = data / "binary_10m.parquet", data / "multiclass_1m.parquet"
    large, small = data / "regression_50m.csv", data / "regression_1k.csv"
    groups, groups_twice = data / "groups_10m.parquet", data / "groups_20m"
    join_preds, join_targets = data / "join_preds_20m.parquet", data / "join_targets_20m.parquet"
    ranking = data / "ranking_10m.parquet"
    models = data / "models_10m.parquet"
    in_order, shuffled = data / "models_targets_10m.parquet", data / "models_targets_shuffled_10m.parquet"
    baseline, candidate = data / "compare_baseline_20m.parquet", data / "compare_candidate_20m.parquet"
    compare = [LOSSCTL, "compare", str(baseline), str(candidate), "-l", "mse,mae,huber", "--format", "json", "-q"]
    piped = [LOSSCTL, "eval", "-", "-l", "mse,mae,huber", "--format", "json", "-q"]
    m1 = ["--pred", "m1", "--target", "y_true"]
    three = ["-l", "mse,mae,huber"]
    rank = ["--pred", "score", "--target", "relevance", "--col", "qid=qid"]

    def peers(task: str, path: Path) -> list[Tool]:
        return [
            competitor("pandas_numpy", task, path, "pandas+numpy"),
            competitor("pandas_sklearn", task, path, "pandas+sklearn"),
            competitor("polars_lazy", task, path, "polars lazy"),
            competitor("duckdb_sql", task, path, "duckdb"),
        ]

    return [
        Scenario("1", "10M-row Parquet: mse, mae, huber", [parquet],
                 [lossctl(parquet, *three), *peers("regression", parquet),
                  Tool("lossctl, default table", [LOSSCTL, "eval", str(parquet), *three, "-q"], check=False)],
                 args.runs,
                 note="The peers' rows are against lossctl's JSON output. `lossctl, default table` is what a "
                 "terminal shows without `--format`: the table adds the quantiles, maximum and histogram of each "
                 "loss's per-row values (a sample of 32,768 rows) and imports rich to draw it."),
        Scenario("2", "10M-row CSV: mse, mae, huber", [csv],
                 [lossctl(csv, *three), *peers("regression", csv)], args.runs),
        Scenario("3", "10M-row binary Parquet: bce (log loss)", [binary],
                 [lossctl(binary, "-l", "bce"), *peers("binary", binary)], args.runs),
        Scenario("4", "1M-row 10-class Parquet: softmax cross-entropy", [multiclass],
                 [lossctl(multiclass, "-l", "cross_entropy", "--pred", "logit_*", "--target", "target"),
                  *peers("multiclass", multiclass)], args.runs),
        Scenario("5", "10M-row Parquet: ten regression losses at once vs one", [parquet],
                 [lossctl(parquet, "-l", TEN, name="lossctl, 10 losses"),
                  lossctl(parquet, "-l", "mse", name="lossctl, mse only"),
                  competitor("pandas_numpy", "ten", parquet, "pandas+numpy, 10 losses")],
                 args.runs, reference="lossctl, 10 losses",
                 note=f"The ten losses: {TEN.replace(',', ', ')} (default parameters: huber delta 1, smooth_l1 "
                 "beta 1, quantile q 0.5, mape eps = float64 eps). Ratios are to `lossctl, 10 losses`."),
        Scenario("6", "50M-row CSV: peak memory and exactness", [large],
                 [lossctl(large, *three), competitor("polars_lazy", "regression", large, "polars lazy"),
                  competitor("duckdb_sql", "regression", large, "duckdb")], args.runs_large,
                 note="polars and DuckDB are context (no target). lossctl's values are also checked against "
                 "`reference_stream.py` (pandas chunks, exact `math.fsum` sums) to 1e-12 relative."),
        Scenario("7", "Start-up: whole process on tiny inputs", [small],
                 [Tool("python -c pass", [PY, "-c", "pass"], check=False),
                  Tool("lossctl --help", [LOSSCTL, "--help"], check=False),
                  lossctl(small, *three, name="lossctl eval 1k CSV (json)"),
                  Tool("lossctl eval 1k CSV (table)", [LOSSCTL, "eval", str(small), *three], check=False),
                  competitor("polars_lazy", "regression", small, "polars lazy, 1k CSV"),
                  competitor("duckdb_sql", "regression", small, "duckdb, 1k CSV")],
                 args.runs_startup, reference="lossctl eval 1k CSV (json)",
                 note="`python -c pass` is the interpreter's floor; ratios are to `lossctl eval 1k CSV (json)`."),
        Scenario("8", "10M-row Parquet: groups and normal intervals vs plain eval", [groups],
                 [lossctl(groups, *three),
                  lossctl(groups, *three, "--by", "g10", name="lossctl --by g10 (10 groups)"),
                  lossctl(groups, *three, "--by", "g10k", name="lossctl --by g10k (10,000 groups)"),
                  lossctl(groups, *three, "--ci", "0.95", name="lossctl --ci 0.95")],
                 args.runs,
                 note="`g10` holds 10 text values, `g10k` 10,000 integers, uniformly spread. Ratios are to plain "
                 "`lossctl` on the same file, run in the same rounds."),
        Scenario("9", "10M-row Parquet: bootstrap intervals vs plain eval", [groups],
                 [lossctl(groups, *three),
                  lossctl(groups, *three, "--bootstrap", "200", name="lossctl --bootstrap 200"),
                  lossctl(groups, *three, "--bootstrap", "1000", name="lossctl --bootstrap 1000")],
                 args.runs_large,
                 note="Every replicate's statistics come from counts keyed by row (bootstrap.py): 2*10^9 counts "
                 "for 200 replicates of 10M rows, 10^10 for 1000."),
        Scenario("10", "1M groups: memory bounded by the groups, not the rows", [groups],
                 [lossctl(groups, *three, "--by", "g1m", name="lossctl --by g1m, 10M rows", output="csv"),
                  lossctl(groups_twice, *three, "--by", "g1m", name="lossctl --by g1m, 20M rows", output="csv")],
                 args.runs_large, reference="lossctl --by g1m, 10M rows",
                 note="`g1m` holds 1,000,000 integers (about 10 rows each); the 20M-row input is the same file "
                 "twice (a directory of two links to it), so it has the same groups with twice the rows. CSV "
                 "output (3 million result rows)."),
        Scenario("11", "20M shuffled rows, targets in a second file joined on id: lossctl vs DuckDB",
                 [join_preds, join_targets],
                 [lossctl(join_preds, "--targets", str(join_targets), "--on", "id", *three),
                  Tool("duckdb", [PY, str(HERE / "duckdb_sql.py"), "join", str(join_preds), str(join_targets)])],
                 args.runs_large,
                 note="Both files hold ids 0..20M-1 in independent random orders; DuckDB runs the same join and "
                 "losses in SQL (`duckdb_sql.py join`)."),
        Scenario("12", "10M-row ranking file (queries of 2-98 documents, stored contiguously)", [ranking],
                 [lossctl(ranking, *rank, "-l", "listnet", name="lossctl listnet"),
                  lossctl(ranking, *rank, "-l", "ranknet", name="lossctl ranknet", check=False)],
                 args.runs_large, reference="lossctl listnet",
                 note="Streamed query by query (queries.py); the input held whole took 1.95 GB for ranknet and "
                 "1.6 GB for listnet before."),
        Scenario("13", "10M-row Parquet: five models in one pass vs one model", [models],
                 [lossctl(models, *three, *m1, name="lossctl, one model"),
                  lossctl(models, *three, "--model", "m*", "--target", "y_true", name="lossctl --model 'm*' (5)",
                          check=False)],
                 args.runs, reference="lossctl, one model",
                 note="Five prediction columns `m1`..`m5` of one target; the tests check that each model's values "
                 "equal a separate run."),
        Scenario("14", "10M-row Parquet: targets in a second file vs in the same file", [models, in_order, shuffled],
                 [lossctl(models, *three, *m1, name="lossctl, one file"),
                  lossctl(models, *three, *m1, "--targets", str(in_order), name="--targets, by order (checked)"),
                  lossctl(models, *three, *m1, "--targets", str(shuffled), "--on", "id", "--on", "region",
                          name="--targets shuffled --on id --on region")],
                 args.runs, reference="lossctl, one file",
                 note="Without `--on`, the integer `id` and the text `region` both files hold are compared row by "
                 "row (the order check); with `--on id --on region` the composite key is matched through an index "
                 "of the 10M target rows."),
        Scenario("15", "20M-row Parquet: compare two files in lockstep vs one eval", [baseline, candidate],
                 [lossctl(baseline, *three, name="lossctl eval (baseline)"),
                  Tool("lossctl compare", compare),
                  Tool("lossctl compare --bootstrap 200", [*compare, "--bootstrap", "200"])],
                 args.runs_large, reference="lossctl eval (baseline)",
                 note="Two files of the same 20M targets, row for row, with two models' predictions; `compare` "
                 "reads both in lockstep. Its values checked here are the baseline's, against `eval` of that file."),
        Scenario("16", "10M rows from standard input (a pipe) vs the file", [parquet, csv],
                 [lossctl(parquet, *three, name="lossctl, Parquet file"),
                  Tool("lossctl -, Parquet piped", piped, stdin=parquet),
                  lossctl(csv, *three, name="lossctl, CSV file"),
                  Tool("lossctl -, CSV piped", piped, stdin=csv)],
                 args.runs, reference="lossctl, Parquet file",
                 note="run.py writes the file into the child's standard input through a pipe (not a redirection, "
                 "which would give lossctl a seekable file). A Parquet stream has its footer at the end, so lossctl "
                 "copies it first, to memory (to a temporary file past a quarter of the memory available); CSV is "
                 "parsed as it arrives."),
    ]  # fmt: skip


def busy_cores(seconds: float = 2.0) -> float:
    """How many cores other processes keep busy, from /proc/stat over ``seconds`` while this script sleeps.

    Not the load average: right after a scenario that one still counts this suite's own processes.
    """

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
        return sum(ticks), ticks[3] + ticks[4]

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return (1.0 - (idle1 - idle0) / max(1, total1 - total0)) * cores


def wait_idle(limit: float) -> float:
    """Wait up to ``limit`` seconds for other processes to leave the CPUs idle; return their last busy cores."""
    deadline = time.monotonic() + limit
    busy = busy_cores()
    if limit > 0 and busy >= BUSY:
        print(f"other processes use {busy:.2f} cores; waiting up to {limit:.0f} s for them to finish...", flush=True)
    while busy >= BUSY and time.monotonic() < deadline:
        busy = busy_cores(5.0)
    return busy


def run_scenario(scenario: Scenario) -> None:
    print(f"\n== scenario {scenario.key}: {scenario.title} ({scenario.runs} runs + 1 warm-up)", flush=True)
    for path in scenario.data:
        warm_cache(path)
    scenario.outcomes = {tool.name: Outcome(tool) for tool in scenario.tools}
    for round_ in range(scenario.runs + 1):
        for tool in scenario.tools:
            run = measure(tool.cmd, output=tool.check, stdin=tool.stdin)
            if run.error:
                print(f"  !! {tool.name} failed: {run.error}", file=sys.stderr, flush=True)
            if round_ > 0 or run.error:
                scenario.outcomes[tool.name].runs.append(run)
            if round_ == 0:
                print(f"  warm-up {tool.name}: {run.wall:.3f} s, {run.rss / MB:.0f} MB", flush=True)
    reference = scenario.outcomes[scenario.reference].ok_runs
    expected = reference[0].values if reference else None
    for outcome in scenario.outcomes.values():
        if not outcome.tool.check or expected is None:
            continue
        for run in outcome.ok_runs:
            if not set(run.values or {}) & set(expected):
                outcome.mismatches.append(f"no value in common with {sorted(expected)}: {run.values}")
            for loss, value in (run.values or {}).items():
                if loss not in expected:
                    continue
                diff = relative(value, expected[loss])
                outcome.worst = max(outcome.worst, diff)
                if diff > TOLERANCE:
                    outcome.mismatches.append(f"{loss}: {value!r} vs {expected[loss]!r} ({diff:.2e})")
        for message in dict.fromkeys(outcome.mismatches):
            loud(f"scenario {scenario.key}: {outcome.tool.name} disagrees with {scenario.reference}: {message}")
    for outcome in scenario.outcomes.values():
        low, high = outcome.spread
        print(
            f"  {outcome.tool.name:32s} median {outcome.wall:7.3f} s  [{low:.3f}-{high:.3f}]  "
            f"RSS {outcome.rss / MB:6.0f} MB  max rel diff {outcome.worst:.1e}",
            flush=True,
        )


PROBLEMS: list[str] = []


def loud(message: str) -> None:
    PROBLEMS.append(message)
    print(f"\n{'!' * 100}\n!! MISMATCH: {message}\n{'!' * 100}\n", file=sys.stderr, flush=True)


def reference_values(path: Path) -> dict[str, float]:
    """The streamed reference of the 50M-row CSV, cached next to it (keyed by the file's size and mtime)."""
    stat = path.stat()
    cache = path.with_name(path.name + ".reference.json")
    key = f"{stat.st_size}:{stat.st_mtime_ns}"
    if cache.exists():
        cached = json.loads(cache.read_text())
        if cached.get("key") == key:
            return cached["values"]
    print(f"computing the streamed reference of {path} (once)", flush=True)
    run = measure([PY, str(HERE / "reference_stream.py"), str(path)])
    if run.error or run.values is None:
        raise SystemExit(f"reference_stream.py failed: {run.error}")
    print(f"  reference: {run.wall:.1f} s, {run.rss / MB:.0f} MB", flush=True)
    cache.write_text(json.dumps({"key": key, "values": run.values}))
    return run.values


def check_reference(scenario: Scenario) -> None:
    path = scenario.data[0]
    expected = reference_values(path)
    runs = scenario.outcomes["lossctl"].ok_runs
    worst = 0.0
    for run in runs:
        for loss in ("mse", "mae", "huber"):
            diff = relative((run.values or {}).get(loss, math.nan), expected[loss])
            worst = max(worst, diff) if not math.isnan(diff) else math.inf
            if not diff <= REFERENCE_TOLERANCE:
                loud(f"scenario 6: lossctl {loss} = {run.values} vs streamed reference {expected[loss]!r} ({diff:.2e})")
    scenario.extra["reference"] = expected
    scenario.extra["reference_worst"] = worst if runs else math.nan


# --- report -----------------------------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    probe = (
        "import importlib.metadata as m, json, sys\n"
        "names = ['lossctl', 'numpy', 'pyarrow', 'pandas', 'polars', 'duckdb', 'scikit-learn', 'scipy']\n"
        "out = {}\n"
        "for n in names:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: out[n] = 'not installed'\n"
        "out['python'] = sys.version.split()[0]\n"
        "print(json.dumps(out))\n"
    )
    info = json.loads(subprocess.run([PY, "-c", probe], capture_output=True, text=True, check=True).stdout)
    cpu = "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "lossctl"], capture_output=True)
    commit = git.stdout.strip() or "unknown"
    if git.returncode == 0 and dirty.returncode == 1:
        commit += " (lossctl/ has uncommitted changes)"
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "lossctl commit": commit,
        **info,
    }


def fmt_ratio(x: float) -> str:
    return "n/a" if math.isnan(x) or math.isinf(x) else f"{x:.2f}x"


def size(path: Path) -> str:
    n = path.stat().st_size
    return f"{n / MB:,.0f} MB" if n >= MB else f"{n / 1e3:,.0f} kB"


def scenario_table(scenario: Scenario) -> list[str]:
    base = scenario.outcomes[scenario.reference]
    lines = [
        f"### {scenario.key}. {scenario.title}",
        "",
        f"Input: {', '.join(f'`{p.name}` ({size(p)})' for p in scenario.data)}; {scenario.runs} timed runs per tool; "
        f"other processes used {scenario.extra['busy']:.2f} cores when it started.",
        "",
        "| tool | median wall | min-max | peak RSS | wall ÷ ref | RSS ÷ ref | values vs ref |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for outcome in scenario.outcomes.values():
        if not outcome.ok_runs:
            error = outcome.runs[-1].error if outcome.runs else "not run"
            lines.append(f"| {outcome.tool.name} | FAILED | | | | | {error.splitlines()[0]} |")
            continue
        low, high = outcome.spread
        if outcome is base:
            agree = "reference"
        elif not outcome.tool.check:
            agree = "—"
        elif outcome.mismatches:
            agree = f"**MISMATCH** ({outcome.worst:.1e})"
        else:
            agree = f"ok ({outcome.worst:.0e})" if outcome.worst else "ok (identical)"
        lines.append(
            f"| {outcome.tool.name} | {outcome.wall:.3f} s | {low:.3f}-{high:.3f} | {outcome.rss / MB:,.0f} MB "
            f"| {fmt_ratio(outcome.wall / base.wall)} | {fmt_ratio(outcome.rss / base.rss)} | {agree} |"
        )
    if scenario.note:
        lines += ["", scenario.note]
    if "reference" in scenario.extra:
        ref = scenario.extra["reference"]
        lines += [
            "",
            f"Streamed reference ({ref.get('rows', 0):,.0f} rows): "
            + ", ".join(f"{k} = {ref[k]!r}" for k in ("mse", "mae", "huber"))
            + f"; lossctl's largest relative difference over its runs: {scenario.extra['reference_worst']:.1e}.",
        ]
    return [*lines, ""]


def targets(done: dict[str, Scenario]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for every target of the issue whose scenario ran."""

    def o(key: str, name: str) -> Outcome | None:
        scenario = done.get(key)
        return scenario.outcomes.get(name) if scenario else None

    rows: list[tuple[str, str, bool | None]] = []

    def add(label: str, value: float, limit: float, unit: str, at_most: bool = True) -> None:
        met = None if math.isnan(value) else (value <= limit if at_most else value >= limit)
        shown = {"x": fmt_ratio(value), " MB": f"{value:,.0f} MB", " s": f"{value:.3f} s"}[unit]
        rows.append((label, shown, met))

    def ratio(key: str, a: str, b: str, what: str = "wall") -> float:
        x, y = o(key, a), o(key, b)
        return getattr(x, what) / getattr(y, what) if x and y and x.ok_runs and y.ok_runs else math.nan

    if "1" in done:
        add("Parquet 10M mse,mae,huber: lossctl ≤ 1.0x DuckDB wall", ratio("1", "lossctl", "duckdb"), 1.0, "x")
        add("Parquet 10M mse,mae,huber: lossctl ≤ 1.0x polars wall", ratio("1", "lossctl", "polars lazy"), 1.0, "x")
        lc, dk = o("1", "lossctl"), o("1", "duckdb")
        add("Parquet 10M mse,mae,huber: lossctl peak RSS ≤ DuckDB's", lc.rss / dk.rss, 1.0, "x")
    if "2" in done:
        add("CSV 10M mse,mae,huber: lossctl ≤ 1.0x polars wall", ratio("2", "lossctl", "polars lazy"), 1.0, "x")
    if "3" in done:
        add("binary log loss 10M: lossctl ≤ 1.0x DuckDB wall", ratio("3", "lossctl", "duckdb"), 1.0, "x")
    if "4" in done:
        add("10-class CE 1M: lossctl ≤ 1.0x polars wall", ratio("4", "lossctl", "polars lazy"), 1.0, "x")
    for key in ("1", "2", "3", "4"):
        if key in done:
            add(
                f"Scenario {key}: pandas+sklearn ≥ 5x lossctl wall ({done[key].title.split(':')[0]})",
                ratio(key, "pandas+sklearn", "lossctl"),
                5.0,
                "x",
                at_most=False,
            )
    if "13" in done:
        add("Five models ≤ 2x one model (lossctl)", ratio("13", "lossctl --model 'm*' (5)", "lossctl, one model"),
            2.0, "x")  # fmt: skip
    if "5" in done:
        add("Ten losses ≤ 1.5x one loss (lossctl)", ratio("5", "lossctl, 10 losses", "lossctl, mse only"), 1.5, "x")
    if "6" in done:
        add("50M CSV: lossctl peak RSS ≤ 300 MB", o("6", "lossctl").rss / MB, 300.0, " MB")
        worst = float(done["6"].extra.get("reference_worst", math.nan))
        rows.append(("50M CSV: values equal to the streamed reference to 1e-12", f"{worst:.1e}", worst <= 1e-12))
    if "8" in done:
        add("--by, 10 groups ≤ 1.3x plain eval (10M Parquet)", ratio("8", "lossctl --by g10 (10 groups)", "lossctl"),
            1.3, "x")  # fmt: skip
        add("--by, 10,000 groups ≤ 2x plain eval", ratio("8", "lossctl --by g10k (10,000 groups)", "lossctl"), 2.0, "x")
        add("--ci without --bootstrap ≤ 1.2x plain eval", ratio("8", "lossctl --ci 0.95", "lossctl"), 1.2, "x")
    if "9" in done:
        add("--bootstrap 200 ≤ 15x plain eval", ratio("9", "lossctl --bootstrap 200", "lossctl"), 15.0, "x")
        add("--bootstrap 1000 ≤ 60x plain eval", ratio("9", "lossctl --bootstrap 1000", "lossctl"), 60.0, "x")
    if "10" in done:
        growth = ratio("10", "lossctl --by g1m, 20M rows", "lossctl --by g1m, 10M rows", "rss")
        add("--by, 1M groups: peak RSS on 20M rows ≤ 1.1x on 10M rows (bounded by the groups)", growth, 1.1, "x")
    if "11" in done:
        add("--targets --on, 20M shuffled rows: wall ≤ 1.5x DuckDB", ratio("11", "lossctl", "duckdb"), 1.5, "x")
        add("--targets --on, 20M shuffled rows: peak RSS ≤ DuckDB's", ratio("11", "lossctl", "duckdb", "rss"), 1.0, "x")
    if "12" in done:
        add("ranknet, 10M rows streamed query by query: peak RSS ≤ 1 GB (held: 1.95 GB)",
            o("12", "lossctl ranknet").rss / MB, 1000.0, " MB")  # fmt: skip
    if "15" in done:
        add(
            "compare, 20M row-aligned rows: ≤ 2.2x one eval",
            ratio("15", "lossctl compare", "lossctl eval (baseline)"),
            2.2,
            "x",
        )
        add("compare, 20M rows: peak RSS ≤ 300 MB", o("15", "lossctl compare").rss / MB, 300.0, " MB")
        add(
            "compare --bootstrap 200 ≤ 10x plain compare",
            ratio("15", "lossctl compare --bootstrap 200", "lossctl compare"),
            10.0,
            "x",
        )
    if "16" in done:
        for kind in ("Parquet", "CSV"):
            add(
                f"standard input, {kind}: wall ≤ 1.1x the file",
                ratio("16", f"lossctl -, {kind} piped", f"lossctl, {kind} file"),
                1.1,
                "x",
            )
            add(
                f"standard input, {kind}: peak RSS ≤ 1.1x the file",
                ratio("16", f"lossctl -, {kind} piped", f"lossctl, {kind} file", "rss"),
                1.1,
                "x",
            )
    if "7" in done:
        add("`lossctl --help` ≤ 0.1 s", o("7", "lossctl --help").wall, 0.1, " s")
        add("`lossctl eval` 1k-row CSV ≤ 0.3 s (json)", o("7", "lossctl eval 1k CSV (json)").wall, 0.3, " s")
        add("`lossctl eval` 1k-row CSV ≤ 0.3 s (table)", o("7", "lossctl eval 1k CSV (table)").wall, 0.3, " s")
    agree = not PROBLEMS
    rows.append(
        ("All tools agree with lossctl to 1e-9 relative", "yes" if agree else f"{len(PROBLEMS)} mismatches", agree)
    )
    return rows


def write_results(path: Path, info: dict[str, str], done: dict[str, Scenario], args: argparse.Namespace) -> None:
    lines = [
        "# lossctl benchmark results",
        "",
        "Generated by `benchmarks/run.py` (see `benchmarks/README.md`); do not edit by hand. Whole processes, wall "
        "time from spawn to exit, medians; peak RSS is each process's own `ru_maxrss` (median over runs). "
        "`wall ÷ ref` > 1 means the tool is slower than the scenario's reference (lossctl).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info.items()),
        f"| command | `{' '.join(['python', 'benchmarks/run.py', *sys.argv[1:]])}` |",
        f"| RSS floor | {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB:.0f} MB "
        "(run.py's own peak: Linux carries it into each child's ru_maxrss, so no child can read lower) |",
        f"| bytecode | children run with `PYTHONPYCACHEPREFIX={PYCACHE.relative_to(ROOT)}` (compiled in the warm-up, "
        "as an installed tool is) |",
    ]
    if args.scale != 1.0:
        lines += ["", f"**Smoke run at scale {args.scale}: row counts are not the issue's; targets do not apply.**"]
    busiest = max((float(s.extra.get("busy", 0.0)) for s in done.values()), default=0.0)
    if busiest >= BUSY:
        lines += [
            "",
            f"**The machine was busy**: other processes used up to {busiest:.2f} of its {info['nproc']} cores when a "
            "scenario started, taking CPU from the multi-threaded tools and from lossctl's reader thread. Treat the "
            "ratios as rough and rerun on an idle machine (`--wait-idle`).",
        ]
    lines += ["", "## Targets", "", "| target | measured | met |", "|---|---:|---|"]
    for label, measured, met in targets(done):
        lines.append(f"| {label} | {measured} | {'yes' if met else 'n/a' if met is None else '**NO**'} |")
    lines += ["", "## Scenarios", ""]
    for scenario in done.values():
        lines += scenario_table(scenario)
    if PROBLEMS:
        lines += ["## Mismatches", "", *(f"- {p}" for p in PROBLEMS), ""]
    lines += kept_sections(path)
    path.write_text("\n".join(lines))


def kept_sections(path: Path) -> list[str]:
    """The sections other scripts write into the same file (benchmarks/cluster.py's), kept as they are."""
    from cluster import BEGIN, END

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN not in text or END not in text:
        return []
    return ["", text[text.index(BEGIN) : text.index(END) + len(END)], ""]


def dump_raw(path: Path, done: dict[str, Scenario]) -> None:
    raw = {
        key: {
            name: [{"wall": r.wall, "rss": r.rss, "values": r.values, "error": r.error} for r in outcome.runs]
            for name, outcome in scenario.outcomes.items()
        }
        for key, scenario in done.items()
    }
    path.write_text(json.dumps(raw, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(map(str, range(1, 17))), help="comma list of scenario numbers")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per tool, scenarios 1-5")
    parser.add_argument("--runs-large", type=int, default=3, help="timed runs per tool, scenario 6 (50M rows)")
    parser.add_argument("--runs-startup", type=int, default=10, help="timed runs per tool, scenario 7")
    parser.add_argument("--scale", type=float, default=1.0, help="row-count multiplier for smoke tests")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"before each scenario, wait up to this long for other processes to use less than {BUSY} cores",
    )
    args = parser.parse_args()
    data = HERE / "data" if args.scale == 1.0 else HERE / "data" / f"scale-{args.scale:g}"
    if not Path(LOSSCTL).exists():
        raise SystemExit(f"{LOSSCTL} not found: run this script with the Python of lossctl's environment")

    generate = [PY, str(HERE / "gen_data.py"), "--data", str(data), "--scale", str(args.scale)]
    subprocess.run(generate, check=True)
    info = machine_info()
    wanted = set(args.only.split(","))
    done: dict[str, Scenario] = {}
    for scenario in scenarios(data, args):
        if scenario.key not in wanted:
            continue
        scenario.extra["busy"] = wait_idle(args.wait_idle)
        run_scenario(scenario)
        if scenario.key == "6" and scenario.outcomes["lossctl"].ok_runs:
            check_reference(scenario)
        done[scenario.key] = scenario
        write_results(args.output, info, done, args)  # after every scenario: a partial run still leaves results
        dump_raw(data / "results.json", done)
    print(f"\nwrote {args.output}")
    failed = [o.tool.name for s in done.values() for o in s.outcomes.values() if any(r.error for r in o.runs)]
    for label, measured, met in targets(done):
        print(f"  {'ok ' if met else 'n/a' if met is None else 'NO '} {label}: {measured}")
    if PROBLEMS or failed:
        print(f"\n{len(PROBLEMS)} mismatches, failed tools: {failed or 'none'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
