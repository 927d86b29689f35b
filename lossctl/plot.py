"""``--plot PATH.png|.svg``: the per-row loss distributions, per-group values with their intervals, and
compare's deltas, drawn with matplotlib (the optional extra ``lossctl[plot]``, imported only here)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from lossctl.errors import UsageError
from lossctl.report import AnyReport, CompareReport, Comparison, Result, group_text
from lossctl.tempfiles import scratch_directory, write_atomic
from lossctl.text import count, show_name

PLOT_EXTENSIONS = (".png", ".svg")
# A panel draws at most this many groups (eval) or deltas (compare): the ones furthest from the overall value, or the
# largest; 3,000 groups took matplotlib 17 s (eval) and 98 s (compare) to draw, as an unreadable row of labels.
PLOTTED = 30


def check_plot_path(path: str) -> None:
    if Path(path).suffix.lower() not in PLOT_EXTENSIONS:
        raise UsageError(f"--plot writes {' or '.join(PLOT_EXTENSIONS)} files, got '{show_name(path)}'")
    try:
        _matplotlib()
    except ImportError:
        raise UsageError("--plot needs matplotlib: install it with pip install 'lossctl[plot]'") from None


def _matplotlib() -> ModuleType:
    """matplotlib, drawing with Agg whatever the environment asks: ``MPLBACKEND`` chooses a backend for interactive
    windows, which a figure written to a file never needs, and one that matplotlib does not know (a typo, a name
    from another version) made its import raise, an internal error (exit 4) however valid the run. Its log records
    (a font cache being built) are not printed on stderr as lines of their own (a host's logging still gets
    them), and it keeps its configuration where it can (:func:`_config_folder`)."""
    if "matplotlib" not in sys.modules:
        logging.getLogger("matplotlib").addHandler(logging.NullHandler())  # not logging's last resort: stderr
        _config_folder()
    backend = os.environ.pop("MPLBACKEND", None)
    try:
        import matplotlib
    finally:
        if backend is not None:
            os.environ["MPLBACKEND"] = backend
    matplotlib.use("Agg")
    return matplotlib


def _config_folder() -> None:
    """Point matplotlib (``MPLCONFIGDIR``) at a scratch folder of lossctl's own
    (:func:`~lossctl.tempfiles.scratch_directory`) where it cannot write its own: with ``HOME`` a file or a
    read-only home it made one in the system's temporary folder, said so in two lines on stderr, and left it
    there, as its exit handler is skipped (``os._exit``). Its folders are ``MPLCONFIGDIR``, else on Linux and BSD
    ``matplotlib`` in ``XDG_CONFIG_HOME`` and ``XDG_CACHE_HOME`` (``~/.config``, ``~/.cache``), checked as
    matplotlib checks them; elsewhere its own choice stands."""
    given = os.environ.get("MPLCONFIGDIR")
    if not given and not sys.platform.startswith(("linux", "freebsd")):
        return
    try:
        folders = [Path(given)] if given else [
            Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config", "matplotlib"),
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "matplotlib"),
        ]  # fmt: skip
    except RuntimeError:  # no home directory
        folders = []
    if folders and all(_writable(folder) for folder in folders):
        return
    os.environ["MPLCONFIGDIR"] = str(scratch_directory("lossctl-matplotlib"))


def _writable(folder: Path) -> bool:
    """Whether matplotlib can keep its files in ``folder``: made if missing, a writable directory."""
    try:
        folder.resolve().mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK) and folder.is_dir()


def plot_report(report: AnyReport, path: str) -> None:
    """Draw the report's figure and write it to ``path`` atomically."""
    _matplotlib()
    import matplotlib.pyplot as plt

    panels = _panels(report)
    if not panels:
        raise UsageError("--plot: nothing to draw (no per-row losses, groups or comparisons)")
    figure, axes = plt.subplots(len(panels), 1, figsize=(9, 3.2 * len(panels)), squeeze=False)
    for axis, (draw, data) in zip(axes[:, 0], panels, strict=True):
        draw(axis, data)
    figure.suptitle(_title(report), fontsize=11)
    figure.tight_layout()
    suffix = Path(path).suffix.lower().lstrip(".")
    write_atomic(path, lambda tmp: _save(figure, tmp, suffix))
    plt.close(figure)


def _save(figure: Any, tmp: Path, suffix: str) -> None:
    """Write the figure through a file lossctl opens: given a name, Pillow opens it for reading too (``w+b``), which
    a named pipe cannot be."""
    with open(tmp, "wb") as file:
        figure.savefig(file, format=suffix, dpi=120)


def _title(report: AnyReport) -> str:
    if isinstance(report, CompareReport):
        base, cand = report.input["baseline"], report.input["candidate"]
        if "model" in base:  # models of one file: 'p.csv: B, C vs A', as the table's title
            return f"{base['path']}: {', '.join(cand['models'])} vs {base['model']}"
        return f"{cand['path']} vs {base['path']}"
    return f"{report.input['path']} ({count(report.input['rows_used'], 'row')})"


def _panels(report: AnyReport) -> list[tuple[Any, Any]]:
    if isinstance(report, CompareReport):
        return [(_draw_deltas, report.results)]
    results = report.results
    panels: list[tuple[Any, Any]] = []
    distributions = [r for r in results if r.group is None and r.distribution]
    if distributions:
        panels.append((_draw_distributions, distributions))
    if any(r.group for r in results):
        panels.append((_draw_groups, results))
    return panels


def _draw_distributions(axis: Any, results: list[Result]) -> None:
    """Per-row losses, one histogram line each, on a log x axis when they span orders of magnitude."""
    for result in results:
        values = np.asarray(result.distribution["values"])  # type: ignore[index]
        positive = values[values > 0]
        bins: Any
        spread = positive.size and positive.max() / max(positive.min(), 1e-300) > 1e3
        if spread:
            bins = np.logspace(np.log10(positive.min()), np.log10(positive.max()), 40)
            axis.set_xscale("log")
            values = positive
        else:
            bins = 40
        *_, patches = axis.hist(values, bins=bins, histtype="step", linewidth=1.5, label=result.label)
        axis.axvline(result.value, linestyle=":", linewidth=1.2, color=patches[0].get_edgecolor())
    axis.set_yscale("log")
    axis.set_xlabel("per-row loss (dotted: the reported mean)")
    axis.set_ylabel("rows")
    axis.set_title("per-row loss distribution", fontsize=10)
    axis.legend(fontsize=8)


def _draw_groups(axis: Any, results: list[Result]) -> None:
    """Each loss's group values relative to its overall value, with bootstrap intervals when present; of many
    groups, the :data:`PLOTTED` furthest from the overall value (:func:`furthest_groups`)."""
    losses = list(dict.fromkeys(r.label for r in results))
    offsets = np.linspace(-0.3, 0.3, len(losses)) if len(losses) > 1 else [0.0]
    groups, total = furthest_groups(results, PLOTTED)
    position = {group: x for x, group in enumerate(groups)}
    for label, offset in zip(losses, offsets, strict=True):
        rows = [r for r in results if r.label == label]
        overall = next(r for r in rows if r.group is None).value
        scale = abs(overall) or 1.0
        xs, ys, errors = [], [], []
        for r in rows:
            x = position.get(group_text(r.group)) if r.group else None
            if x is None:
                continue
            xs.append(x + offset)
            ys.append(r.value / scale)
            errors.append([(r.value - r.ci["low"]) / scale, (r.ci["high"] - r.value) / scale] if r.ci else [0, 0])
        axis.errorbar(xs, ys, yerr=np.array(errors).T, fmt="o", capsize=3, label=label)
    axis.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    axis.set_xticks(range(len(groups)), groups, fontsize=8)
    axis.set_ylabel("group value / overall value")
    shown = f"the {len(groups)} of {total:,} groups furthest from the overall value" if len(groups) < total else ""
    axis.set_title(f"per-group values (with intervals when --bootstrap){'; ' if shown else ''}{shown}", fontsize=10)
    axis.legend(fontsize=8)


def furthest_groups(results: list[Result], limit: int) -> tuple[list[str], int]:
    """The groups to draw, in the report's order, and how many there are: all of them up to ``limit``, else the
    ``limit`` whose value (of any loss and model) is furthest from that loss's overall value, relative to it."""
    overall = {(r.label, r.model): abs(r.value) or 1.0 for r in results if r.group is None}
    distance: dict[str, float] = {}
    for r in results:
        if r.group:
            group = group_text(r.group)
            relative = abs(r.value / overall[r.label, r.model] - 1.0)
            distance[group] = max(distance.get(group, 0.0), relative)
    if len(distance) <= limit:
        return list(distance), len(distance)
    kept = set(sorted(distance, key=lambda group: -distance[group])[:limit])
    return [group for group in distance if group in kept], len(distance)


def _draw_deltas(axis: Any, comparisons: list[Comparison]) -> None:
    """Relative deltas (candidate - baseline) / |baseline| with their paired intervals; left of 0 is better. Of
    many, the overall deltas and the largest of the groups', :data:`PLOTTED` in all (:func:`largest_deltas`)."""
    total = len(comparisons)
    comparisons = largest_deltas(comparisons, PLOTTED)
    labels = [_delta_label(c) for c in comparisons]
    colours = {"better": "tab:green", "worse": "tab:red", "same": "tab:grey"}
    for i, c in enumerate(comparisons):
        scale = abs(c.baseline) or 1.0
        error = [[(c.delta - c.ci["low"]) / scale], [(c.ci["high"] - c.delta) / scale]] if c.ci else None
        axis.errorbar(
            [c.delta / scale * 100],
            [i],
            xerr=None if error is None else np.array(error) * 100,
            fmt="o",
            capsize=4,
            color=colours[c.verdict],
        )
    axis.axvline(0.0, color="grey", linewidth=0.8)
    axis.set_yticks(range(len(labels)), labels)
    axis.invert_yaxis()  # the first result on top, as the table lists them
    axis.set_xlabel("candidate vs baseline, % of baseline (left is better)")
    shown = f"; the {len(comparisons)} largest of {total:,}" if len(comparisons) < total else ""
    axis.set_title(f"compare: deltas with paired intervals{shown}", fontsize=10)


def largest_deltas(comparisons: list[Comparison], limit: int) -> list[Comparison]:
    """The deltas to draw, in the report's order: all of them up to ``limit``, else every overall delta (a group of
    ``None``) and, of the groups' deltas, the largest relative to their baseline, ``limit`` in all (at least the
    overall ones)."""
    if len(comparisons) <= limit:
        return comparisons
    overall = [c for c in comparisons if c.group is None]
    grouped = [c for c in comparisons if c.group is not None]
    room = max(limit - len(overall), 0)
    kept = set(map(id, sorted(grouped, key=lambda c: -abs(c.delta / (abs(c.baseline) or 1.0)))[:room]))
    return [c for c in comparisons if c.group is None or id(c) in kept]


def _delta_label(comparison: Comparison) -> str:
    """A delta's tick label: the loss, its candidate model and its group (``mse@B g=x``), so that the deltas of
    several models and groups can be told apart."""
    label = comparison.label if comparison.model is None else f"{comparison.label}@{comparison.model}"
    return label if comparison.group is None else f"{label} {group_text(comparison.group)}"
