"""What people look at: per-row quantiles and histograms in the table, and --plot figures."""

from __future__ import annotations

import builtins
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.distribution import QUANTILES, SAMPLE_SIZE, Sample, quantiles, row_keys, sparkline


@pytest.fixture
def data(tmp_path: Path) -> tuple[str, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    y = rng.normal(size=2000)
    p = y + rng.standard_t(2, size=2000)
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"target": y, "pred": p, "g": rng.choice(["a", "b"], size=2000)}), path)
    return str(path), y, p


def test_table_quantiles_are_exact_below_the_sample_size(data) -> None:
    path, y, p = data
    (result,) = lossctl.evaluate(path, losses=["mae"], distributions=True).results
    errors = np.abs(p - y)
    summary = result.distribution
    assert [summary["p50"], summary["p90"], summary["p99"]] == pytest.approx(np.quantile(errors, [0.5, 0.9, 0.99]))
    assert summary["max"] == errors.max() and summary["rows"] == 2000
    assert sum(summary["histogram"]) == 2000


@pytest.mark.parametrize("chunk_rows", [7_001, None])  # None: chunks of several 65,536-row blocks
def test_table_quantiles_come_from_the_rows_with_the_smallest_keys(tmp_path: Path, chunk_rows: int | None) -> None:
    rows = 200_000
    rng = np.random.default_rng(8)
    y, p = rng.normal(size=rows), rng.normal(size=rows) * 3
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"target": y, "pred": p}), path)
    report = lossctl.evaluate(str(path), losses=["mae", "huber", "rmse"], distributions=True, chunk_rows=chunk_rows)
    chosen = np.argsort(row_keys(np.arange(rows)))[:SAMPLE_SIZE]
    r = np.abs(p - y)
    for result, losses in zip(report.results[:2], (r, np.where(r <= 1, 0.5 * r * r, r - 0.5)), strict=True):
        summary = result.distribution
        expected = np.quantile(losses[chosen], QUANTILES)
        assert [summary["p50"], summary["p90"], summary["p99"]] == pytest.approx(expected, rel=1e-15)
        assert summary["max"] == losses.max() and summary["rows"] == rows and summary["sampled"] == SAMPLE_SIZE
    assert report.results[2].distribution is None  # rmse has no per-row losses


def test_the_sample_does_not_depend_on_chunking() -> None:
    rows = np.arange(3 * SAMPLE_SIZE)
    values = np.sin(rows.astype(float))
    whole, chunked = Sample(), Sample()
    whole.add(values, row_keys(rows))
    for start in range(0, len(rows), 7919):
        chunk = rows[start : start + 7919]
        chunked.add(values[chunk], row_keys(chunk))
    kept_whole, kept_chunked = whole.summary()["values"], chunked.summary()["values"]
    assert len(kept_whole) == SAMPLE_SIZE
    assert np.array_equal(np.sort(kept_whole), np.sort(kept_chunked))
    assert abs(np.quantile(kept_whole, 0.5) - np.quantile(values, 0.5)) < 0.02


def test_row_keys_of_rows_with_gaps_are_those_of_the_same_rows_without() -> None:
    every = row_keys(np.arange(9, 70))
    some = np.array([9, 10, 13, 14, 15, 40, 69])  # a chunk whose other rows were dropped
    assert np.array_equal(row_keys(some), every[some - 9])
    assert np.array_equal(row_keys(np.arange(13, 16)), every[4:7])  # a run starting inside a Philox step
    assert len(np.unique(every)) == len(every)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 100, 101, SAMPLE_SIZE])
def test_quantiles_are_numpys_bit_for_bit(size: int) -> None:
    rng = np.random.default_rng(size)
    for scale in (1e-300, 1.0, 1e300):
        values = rng.standard_t(2, size=size) * scale
        for levels in (QUANTILES, (0.0, 1.0, float(rng.random()), 0.25)):
            assert quantiles(values, levels) == np.quantile(values, levels).tolist()
    ties = np.round(rng.normal(size=size))
    assert quantiles(ties, QUANTILES) == np.quantile(ties, QUANTILES).tolist()


def test_sparkline_shows_every_nonempty_bin() -> None:
    assert sparkline([100, 0, 1, 25]) == "█ ▁▄"


def test_table_output_shows_quantiles_and_histogram(cli, data, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "130")
    run = cli("eval", data[0], "-l", "mse,rmse")
    assert all(name in run.out for name in ("p50", "p90", "p99", "max"))
    assert any(bar in run.out for bar in "▁▂▃▄▅▆▇█")


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_is_written(cli, data, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"figure{suffix}"
    run = cli("eval", data[0], "-l", "mse,mae", "--by", "g", "--bootstrap", "50", "--plot", out, "-q")
    assert run.code == 0, run.err
    start = out.read_bytes()[:64]
    assert start.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in out.read_bytes()[:2000] or b"<?xml" in start


def test_plot_needs_a_known_extension_and_matplotlib(cli, data, tmp_path: Path, monkeypatch) -> None:
    run = cli("eval", data[0], "-l", "mse", "--plot", tmp_path / "f.pdf")
    assert run.code == 2 and "--plot writes .png or .svg" in run.err
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    run = cli("eval", data[0], "-l", "mse", "--plot", tmp_path / "f.png")
    assert run.code == 2 and "pip install 'lossctl[plot]'" in run.err
    assert not (tmp_path / "f.png").exists()


def test_narrow_terminals_never_cut_the_values(cli, data, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    run = cli("eval", data[0], "-l", "mse,huber:delta=0.5,quantile:q=0.9", "-q")
    (result,) = lossctl.evaluate(data[0], losses=["mse"]).results
    assert f"{result.value:.6g}" in run.out and "…" not in run.out and "p99" not in run.out


@pytest.mark.parametrize("columns", ["60", "30"])
def test_narrow_terminals_never_cut_groups_counts_or_intervals(cli, monkeypatch, columns: str) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    args = [
        str(Path(__file__).parent.parent / "sample_data" / "regression.csv"),
        "-l",
        "mse,huber:delta=5",
        "--by",
        "segment",
        "--ci",
        "0.95",
        "-q",
    ]
    run = cli("eval", *args)
    report = lossctl.evaluate(args[0], losses=["mse", "huber:delta=5"], by="segment", ci=0.95)
    assert run.code == 0 and "…" not in run.out
    for result in report.results:
        assert f"{result.ci['high']:.6g}" in run.out and f" {result.n} " in run.out


def test_compare_plot_names_each_delta_s_model_and_group(cli, tmp_path: Path) -> None:
    """The deltas of several models and groups were all labelled with the loss alone ('mse' eight times), and the
    title of models of one file was 'p.csv vs p.csv'. Matplotlib's SVG keeps each text as a comment."""
    data = tmp_path / "p.csv"
    data.write_text("y,a,b,c,g\n1,1.5,1,0,x\n2,2,2.5,1,y\n3,3.5,3,2,x\n4,4,4,5,y\n")
    out = tmp_path / "f.svg"
    args = ["--target", "y", "--model", "A=a", "--model", "B=b", "--model", "C=c", "--by", "g", "-l", "mse"]
    run = cli("compare", data, *args, "--plot", out, "-q")
    assert run.code == 0, run.err
    texts = re.findall(r"<!-- (.*?) -->", out.read_text())
    labels = ["mse@B", "mse@B g=x", "mse@B g=y", "mse@C", "mse@C g=x", "mse@C g=y"]
    assert [t for t in texts if t.startswith("mse")] == labels
    assert f"{data}: B, C vs A" in texts


def test_a_plot_of_many_groups_draws_the_furthest_and_says_so(cli, tmp_path: Path) -> None:
    """3,000 groups took matplotlib 17 s (eval) and 98 s (compare) to draw, as a row of unreadable labels; a panel
    now draws plot.PLOTTED groups (the furthest from the overall value) or deltas (the overall ones, then the
    largest), and its title says how many of how many."""
    from lossctl.plot import PLOTTED, furthest_groups, largest_deltas
    from lossctl.report import group_text

    rows = 40 * PLOTTED
    data = tmp_path / "g.csv"
    data.write_text("g,pred,target\n" + "".join(f"{i},{(i % 7) / 10 + i / rows},0\n" for i in range(rows)))
    report = lossctl.evaluate(str(data), losses="mse,mae", by="g")
    groups, total = furthest_groups(report.results, PLOTTED)
    assert total == rows and len(groups) == PLOTTED
    overall = {r.label: r.value for r in report.results if r.group is None}
    distance = {
        group_text(r.group): abs(r.value / overall[r.label] - 1) for r in report.results if r.group and r.loss == "mse"
    }
    assert min(distance[g] for g in groups) >= sorted(distance.values())[-PLOTTED]  # mse's furthest are among them
    assert groups == sorted(groups, key=lambda text: int(text.removeprefix("g=")))  # in the report's order
    out = tmp_path / "f.svg"
    run = cli("eval", data, "-l", "mse,mae", "--by", "g", "--plot", out, "-q", "-f", "json")
    assert run.code == 0, run.err
    assert f"the {PLOTTED} of {rows:,} groups furthest from the overall value" in out.read_text()
    other = tmp_path / "h.csv"
    other.write_text("g,pred,target\n" + "".join(f"{i},{(i % 7) / 10 + (i % 13) / rows},0\n" for i in range(rows)))
    compared = lossctl.compare(str(data), str(other), losses="mse", by="g")
    drawn = largest_deltas(compared.results, PLOTTED)
    assert len(drawn) == PLOTTED and drawn[0].group is None
    sizes = sorted(abs(c.delta / (abs(c.baseline) or 1)) for c in compared.results if c.group is not None)
    assert min(abs(c.delta / (abs(c.baseline) or 1)) for c in drawn[1:]) >= sizes[-(PLOTTED - 1)]


def test_the_furthest_groups_of_several_models_are_measured_from_each_model_s_overall_value(tmp_path: Path) -> None:
    """Measured from one overall value per loss, model A's groups (values about 100 times smaller than B's) were all
    'far' from B's overall value, and the groups drawn were chosen by that, not by how each model's groups differ."""
    from lossctl.plot import furthest_groups
    from lossctl.report import group_text

    rng = np.random.default_rng(3)
    rows, groups = 2000, 50
    g = np.arange(rows) % groups
    y = np.zeros(rows)
    a = rng.normal(0.0, 0.1, rows) * (1 + (g == 7))  # group 7 is A's outlier
    b = rng.normal(0.0, 1.0, rows) * (1 + (g == 11))  # group 11 is B's
    report = lossctl.evaluate({"g": g, "y": y, "a": a, "b": b}, target="y", models=["A=a", "B=b"], by="g", losses="mse")
    chosen, total = furthest_groups(report.results, 2)
    assert total == groups
    assert chosen == [group_text({"g": 7}), group_text({"g": 11})]


@pytest.mark.parametrize("columns", ["20", "40", "0"])
def test_narrow_terminals_never_cut_list_or_suggest(cli, monkeypatch, columns: str) -> None:
    """list and suggest cut loss names, aliases, parameters and suggested specs to 'hub…' in a narrow terminal
    (suggest's reasons had no width left at all); COLUMNS=0 printed nothing at all, and no title line for eval."""
    monkeypatch.setenv("COLUMNS", columns)
    listed = cli("list")
    assert listed.code == 0 and "…" not in listed.out
    for spec in lossctl.list_losses():
        assert f" {spec.name} " in listed.out and all(f"= {alias} " in listed.out for alias in spec.aliases)
        assert all(f" {param.name}=" in listed.out for param in spec.params)
    data = str(Path(__file__).parent.parent / "sample_data" / "regression.csv")
    advice = cli("suggest", data, "-q")
    assert advice.code == 0 and "…" not in advice.out and " huber:delta=16.73 " in advice.out
    assert "outliers" in advice.out and "task: regression" in advice.out
    run = cli("eval", data, "-l", "mse", "-q")
    assert run.code == 0 and run.out.startswith(f"{data}  500 rows")


@pytest.mark.parametrize("backend", ["bogus", "TkAgg"])
def test_plot_draws_whatever_backend_the_environment_names(tmp_path: Path, backend: str) -> None:
    """MPLBACKEND=bogus (a typo, a name from another matplotlib) made matplotlib's import raise: 'internal error
    (ValueError: Key backend: 'bogus' is not a valid value ...)', exit 4. A figure written to a file needs none."""
    data = Path(__file__).parent.parent / "sample_data" / "regression.csv"
    out = tmp_path / "f.svg"
    args = ["eval", data, "-l", "mae", "--plot", out, "-f", "json", "-q"]
    run = subprocess.run([sys.executable, "-m", "lossctl", *map(str, args)], capture_output=True, text=True,
                         env=dict(os.environ, MPLBACKEND=backend), timeout=60)  # fmt: skip
    assert (run.returncode, run.stderr) == (0, "")
    assert json.loads(run.stdout)["results"][0]["loss"] == "mae" and out.read_text().startswith("<?xml")
