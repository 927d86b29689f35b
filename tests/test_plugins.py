"""Custom losses: ``--plugin FILE.py`` for one run, and the ``lossctl.losses`` entry-point group of an
installed package. A registered custom loss is listed, described, evaluated, streamed and gated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = '''
import numpy as np
from lossctl import Param, register_loss


@register_loss(
    "{name}",
    task="regression",
    summary="Cubed absolute error (a test plugin).",
    formula="l = |p - y|^power",
    params=(Param("power", 3.0, "the exponent", minimum=1.0),),
)
def cubed(target: np.ndarray, pred: np.ndarray, *, power: float) -> np.ndarray:
    """``|p - y|^power`` per row."""
    return np.abs(pred - target) ** power
'''

DATA = "pred,target\n1,0\n0,2\n3,3\n"  # |r| = 1, 2, 0: mean of cubes = 3


def test_plugin_file_for_one_run(write, tmp_path: Path) -> None:
    # In a subprocess: a plugin registers into the process's registry, which other tests must not see.
    plugin = write("my_losses.py", PLUGIN.format(name="file_cubed"))
    data = write("p.csv", DATA)
    run = _lossctl(None, "eval", str(data), "-l", "file_cubed", "--plugin", str(plugin), "--chunk-rows", "1",
                   "--fail-if", "file_cubed>2", "-f", "json")  # fmt: skip
    doc = json.loads(run.stdout)
    assert run.returncode == 1 and doc["results"][0]["value"] == 3.0 and doc["results"][0]["params"] == {"power": 3.0}
    assert doc["checks"][0]["passed"] is False
    listed = json.loads(_lossctl(None, "list", "--plugin", str(plugin), "-f", "json").stdout)
    assert "file_cubed" in [entry["name"] for entry in listed]
    described = _lossctl(None, "describe", "FILE_Cubed", "--plugin", str(plugin)).stdout  # any case, as -l
    assert "the exponent" in described
    # it said the definition was in docs/losses.md, which holds only the built-in losses
    assert f"  lossctl: the definition above (plugin '{plugin}')\n" in described
    assert "file_cubed" not in _lossctl(None, "list").stdout


def _install(site: Path, package: str, body: str) -> None:
    """Lay out an installed distribution (package + dist-info with an entry point), as pip would."""
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text(body)
    info = site / f"{package}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[lossctl.losses]\n{package} = {package}\n")


def _lossctl(site: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(site)) if site else None
    return subprocess.run([sys.executable, "-m", "lossctl", *args], capture_output=True, text=True, env=env)


def test_entry_point_plugin_is_a_first_class_loss(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _install(site, "lossctl_demo_plugin", PLUGIN.format(name="demo_cubed"))
    data = tmp_path / "p.csv"
    data.write_text(DATA)
    run = _lossctl(site, "eval", str(data), "-l", "demo_cubed:power=2", "--chunk-rows", "2", "-f", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["results"][0]["value"] == pytest.approx(5 / 3)
    assert "demo_cubed" in _lossctl(site, "list").stdout


@pytest.mark.parametrize(
    ("module", "source", "warning"),
    [
        (
            "lossctl_broken_plugin",
            "raise RuntimeError('boom')\n",
            "warning: plugin 'lossctl_broken_plugin' (lossctl_broken_plugin) failed to load: RuntimeError: boom",
        ),
        # Not only Exception: a plugin's own BaseException subclass at import was a traceback and exit 1.
        (
            "lossctl_base_plugin",
            "class Boom(BaseException):\n    pass\n\n\nraise Boom('no GPU')\n",
            "warning: plugin 'lossctl_base_plugin' (lossctl_base_plugin) failed to load: Boom: no GPU",
        ),
        # Its words were given alone ('failed to load: ' for a bare ImportError), and an exception whose __str__
        # raised ended lossctl with an internal error (exit 4) instead of a warning.
        (
            "lossctl_unshown_plugin",
            "class Unshown(Exception):\n    def __str__(self):\n        raise RuntimeError('no words')\n\n\n"
            "raise Unshown()\n",
            "warning: plugin 'lossctl_unshown_plugin' (lossctl_unshown_plugin) failed to load: Unshown",
        ),
    ],
    ids=["exception", "base-exception", "unshowable-exception"],
)
def test_a_broken_entry_point_warns_and_the_tool_still_works(
    tmp_path: Path, module: str, source: str, warning: str
) -> None:
    site = tmp_path / "site"
    _install(site, module, source)
    data = tmp_path / "p.csv"
    data.write_text(DATA)
    run = _lossctl(site, "eval", str(data), "-l", "mae", "-f", "json")
    assert run.returncode == 0 and json.loads(run.stdout)["results"][0]["value"] == 1.0, run.stderr
    assert warning in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("name", "task", "message"),
    [
        ("my-loss", "regression", "loss name 'my-loss' is not a name: letters, digits and '_', not starting with "
         "a digit"),
        ("cubed", "weird", "unknown task 'weird'; tasks: regression, binary, multiclass, multilabel, segmentation, "
         "detection, representation, ranking"),
    ],
)  # fmt: skip
def test_a_plugin_loss_lossctl_could_not_name_fails_to_load(write, name: str, task: str, message: str) -> None:
    """'my-loss' registered, but '--fail-if my-loss>1' could not be parsed; an unknown task was listed as a Python
    tuple ('tasks: ('regression', ...)')."""
    plugin = write("bad_name.py", PLUGIN.format(name=name).replace('task="regression"', f'task="{task}"'))
    data = write("p.csv", DATA)
    run = _lossctl(None, "eval", str(data), "-l", "mse", "--plugin", str(plugin))
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == f"error: plugin '{plugin}' failed to load: ValueError: {message}\n"


def test_a_plugins_words_reach_the_terminal_escaped(write) -> None:
    # cli.md: what the table shows never sends control characters to the terminal; a plugin's summary, formula and
    # docs are shown escaped by list and describe alike, and rich markup in them is shown as written.
    body = PLUGIN.format(name="odd_cubed").replace(
        '"Cubed absolute error (a test plugin)."', '"Cubed \\x1b[31mred\\x1b[0m [bold]error[/bold]."'
    )
    body = body.replace('"l = |p - y|^power"', '"l = |p - y|\\x07^power"').replace(
        '"the exponent"', '"the \\x1b[2Jexponent"'
    )
    plugin = write("odd_losses.py", body.replace('"""``|p - y|^power`` per row."""', '"""Per row.\\x1b]0;x\\x07"""'))
    listed = _lossctl(None, "list", "--plugin", str(plugin), "--task", "regression")
    assert listed.returncode == 0, listed.stderr
    assert "\x1b" not in listed.stdout and "\\x1b[31mred\\x1b[0m" in listed.stdout  # the summary folds at 80
    assert "[bold]error[/bold]." in listed.stdout
    described = _lossctl(None, "describe", "odd_cubed", "--plugin", str(plugin))
    assert described.returncode == 0, described.stderr
    assert not any(c in described.stdout for c in "\x1b\x07\r")
    assert "odd_cubed: Cubed \\x1b[31mred\\x1b[0m [bold]error[/bold]." in described.stdout
    assert "formula:   l = |p - y|\\x07^power" in described.stdout and "the \\x1b[2Jexponent" in described.stdout


SIGNED = '''
import numpy as np
from lossctl import register_loss


@register_loss("signed", task="regression", summary="The prediction itself (a test plugin).", formula="l = p")
def signed(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``p`` per row: a loss that takes both signs."""
    return pred + 0 * target
'''


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["eval", "--pred", "a"], "signed: the gap between its groups overflows float64; rescale the inputs"),
        (
            ["compare", "--model", "a=a", "--model", "b=b"],
            "signed@b in group g=x: the delta candidate - baseline overflows float64; rescale the inputs",
        ),
    ],
    ids=["gap", "delta"],
)
def test_a_gap_or_a_delta_that_overflows_is_an_input_error(write, command: list[str], message: str) -> None:
    # Groups at -1e308 and 1e308: the gap, and compare's delta, were inf, which the JSON output failed on as an
    # internal error (exit 4) after half the document was on stdout, and the CSV output wrote as 'inf'.
    plugin = write("signed.py", SIGNED)
    data = write("p.csv", "y,a,b,g\n0,-1e308,1e308,x\n0,1e308,-1e308,z\n")
    for output in ("json", "csv"):
        run = _lossctl(None, command[0], str(data), *command[1:], "--target", "y", "-l", "signed", "--by", "g",
                       "--plugin", str(plugin), "-f", output, "-q")  # fmt: skip
        assert (run.returncode, run.stdout, run.stderr) == (3, "", f"error: {message}\n")


IN_PLACE = """
import numpy as np
from lossctl import register_loss


@register_loss("in_place", task="regression", summary="Absolute error, computed in place.", formula="l = |p - y|")
def in_place(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    pred -= target
    return np.abs(pred)
"""


def test_a_plugin_computing_in_place_changes_no_other_value(write) -> None:
    # The plugin got the arrays every loss reads: the losses after it read p - y as the prediction (mae 5/3 -> 25/6),
    # and from Python it overwrote the caller's array.
    plugin = write("in_place.py", IN_PLACE)
    data = write("p.csv", "pred,target,g\n1.5,0.5,a\n0.5,2.5,a\n3.5,5.5,b\n")  # r = 1, -2, -2 (floats: no copy)
    for by in ([], ["--by", "g"]):
        run = _lossctl(None, "eval", str(data), "-l", "in_place,mae,mse", *by, "--plugin", str(plugin), "-f", "json")
        assert run.returncode == 0, run.stderr
        values = {r["loss"]: r["value"] for r in json.loads(run.stdout)["results"] if r["group"] is None}
        assert values == {"in_place": pytest.approx(5 / 3), "mae": pytest.approx(5 / 3), "mse": 3.0}
    # From Python, the caller's own arrays are left as they were.
    script = f"import runpy, numpy as np, lossctl; runpy.run_path({str(plugin)!r}); p = np.array([1.0, 0.0, 3.0]); "
    script += "y = np.array([0.0, 2.0, 5.0]); print(lossctl.get('in_place')(y, p), p.tolist(), y.tolist())"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == "1.6666666666666667 [1.0, 0.0, 3.0] [0.0, 2.0, 5.0]\n"


NOT_FINITE = """
import numpy as np
from lossctl import register_loss


@register_loss("holed", task="regression", summary="Absolute error, NaN at rows 2 and 4.", formula="l = |p - y|")
def holed(target: np.ndarray, pred: np.ndarray) -> np.ndarray:
    out = np.abs(pred - target)
    out[2::2] = np.nan
    return out
"""


def test_a_plugin_returning_nan_is_named_from_python_too(write) -> None:
    # The command line named the plugin and the row; the library said "holed: the result is not a finite number (a
    # float64 overflow); rescale the inputs", and Metric.per_sample returned the NaN.
    plugin = write("holed.py", NOT_FINITE)
    script = f"""
import runpy, numpy as np, lossctl
runpy.run_path({str(plugin)!r})
loss, metric = lossctl.get("holed"), lossctl.Metric("holed")
metric.update(np.zeros(2), np.ones(2))
for call in (lambda: loss(np.zeros(5), np.ones(5)), lambda: loss.per_sample(np.zeros(5), np.ones(5)),
             lambda: metric.update(np.zeros(5), np.ones(5)), lambda: metric.per_sample(np.zeros(5), np.ones(5))):
    try:
        call()
    except lossctl.InputError as error:
        print(error)
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    origin = "module '<run_path>'"
    assert run.stdout.splitlines() == [
        f"loss 'holed' ({origin}) returned nan at row {row} (2 non-finite values); a loss must return finite numbers"
        for row in (2, 2, 4, 4)  # the metric's second batch starts at row 2
    ]


def test_a_plugin_path_that_is_a_directory_says_so(cli, write, tmp_path: Path) -> None:
    # It said "plugin file 'losses.py' not found", of a folder that is there.
    (tmp_path / "losses.py").mkdir()
    data = write("p.csv", DATA)
    run = cli("eval", data, "-l", "mse", "--plugin", tmp_path / "losses.py")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"error: plugin file '{tmp_path / 'losses.py'}' is a directory; --plugin takes FILE.py or an importable "
        "module (package.module)\n"
    )


@pytest.mark.parametrize("url", ["s3://bucket/losses.py", "https://example.com/losses.py", "S3://bucket/pkg"])
def test_a_plugin_url_is_refused_as_one_not_as_a_missing_file(cli, write, url: str) -> None:
    # It said "plugin file 's3://bucket/losses.py' not found" (so the object was looked for, and was missing), or
    # of a URL without .py that it is "neither a .py file nor a module name"; code is never fetched to be run.
    data = write("p.csv", DATA)
    run = cli("eval", data, "-l", "mse", "--plugin", url)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        f"error: plugin '{url}' is a URL: --plugin takes a local FILE.py or an importable module; download the "
        "file first\n"
    )


def test_a_plugin_name_too_long_says_so_once(cli, write) -> None:
    # It said "plugin 'a…a.py' failed to load: OSError: [Errno 36] File name too long: 'a…a.py'" (pathlib's is_dir
    # raises it), and the module name a…a the same of the file a…a.py it looked for beside.
    data = write("p.csv", DATA)
    name = "a" * 256
    run = cli("eval", data, "-l", "mse", "--plugin", f"{name}.py")
    assert (run.code, run.out) == (2, "")
    assert run.err == f"error: plugin file '{name}.py' cannot be read: File name too long\n"  # once, whole
    run = cli("eval", data, "-l", "mse", "--plugin", name)
    assert (run.code, run.out) == (2, "")
    assert run.err == f"error: plugin '{name}' failed to load: ModuleNotFoundError: No module named '{name}'\n"


def test_a_plugin_that_registers_no_loss_is_noted(cli, write) -> None:
    # It loaded without a word, and the loss the user meant to add was then an "unknown loss" with no hint why.
    plugin = write("no_losses.py", "def cubed(target, pred):\n    return (pred - target) ** 3\n")
    data = write("p.csv", DATA)
    run = cli("eval", data, "-l", "mse", "--plugin", plugin, "-f", "csv")
    assert run.code == 0, run.err
    notice = f"notice: plugin '{plugin}' registered no loss (a plugin calls lossctl.register_loss when imported)"
    assert run.err.splitlines()[0] == notice


def test_a_plugin_given_twice_is_loaded_and_noted_once(write, tmp_path) -> None:
    # '--plugin os.path --plugin os.path' printed the "registered no loss" notice twice; a file given twice, once
    # by another spelling of its path, is one plugin too: its code runs once.
    data = write("p.csv", DATA)
    plugin = write("counted.py", "import sys\nsys.stderr.write('ran\\n')\n")
    spelled = str(tmp_path / "." / "counted.py")
    run = _lossctl(None, "eval", str(data), "-l", "mae", "--plugin", "os.path", "--plugin", "os.path", "--plugin",
                   str(plugin), "--plugin", spelled, "--pred", "pred", "--target", "target", "-f", "csv")  # fmt: skip
    note = "registered no loss (a plugin calls lossctl.register_loss when imported)"
    assert run.returncode == 0
    assert run.stderr.splitlines() == ["notice: plugin 'os.path' " + note, "ran", f"notice: plugin '{plugin}' " + note]


def test_a_plugin_imported_already_that_registers_no_loss_is_noted_too(write) -> None:
    # A module imported already (os.path, json) was not run again and said nothing: --plugin os.path added no loss
    # without a word. A plugin's own losses are still counted when it is given twice.
    data = write("p.csv", DATA)
    notice = "notice: plugin 'os.path' registered no loss (a plugin calls lossctl.register_loss when imported)"
    run = _lossctl(None, "eval", str(data), "-l", "mae", "--plugin", "os.path", "--pred", "pred", "--target", "target")
    assert (run.returncode, run.stderr.splitlines()) == (0, [notice])
    plugin = write("my_losses.py", PLUGIN.format(name="twice_cubed"))
    run = _lossctl(None, "eval", str(data), "-l", "twice_cubed", "--plugin", str(plugin), "--plugin", str(plugin),
                   "--pred", "pred", "--target", "target", "-f", "json")  # fmt: skip
    assert (run.returncode, run.stderr) == (0, "")
    run = _lossctl(None, "eval", str(data), "-l", "mae", "--plugin", "lossctl.losses.regression", "-f", "json",
                   "--pred", "pred", "--target", "target")  # fmt: skip
    assert (run.returncode, run.stderr) == (0, "")


REFUSING = """
import lossctl
from lossctl import Param, register_loss


@register_loss("refusing", task="regression", summary="Refuses.", formula="l = ?",
               params=(Param("how", 0, "which error", kind="int"),))
def refusing(target, pred, *, how):
    raise (lossctl.UsageError if how == 0 else lossctl.InputError)("negative deltas are not supported")
"""


@pytest.mark.parametrize(("how", "code"), [(0, 2), (1, 3)])
def test_a_plugin_loss_raising_lossctls_errors_is_named(write, how: int, code: int) -> None:
    # lossctl.UsageError("...") raised by a plugin loss was "error: refusing:how=0: ...", naming no plugin, where every
    # other failure of a plugin loss names it. The error's class keeps its exit status.
    plugin = write("refusing.py", REFUSING)
    data = write("p.csv", DATA)
    run = _lossctl(None, "eval", str(data), "-l", f"refusing:how={how}", "--plugin", str(plugin), "-q")
    assert (run.returncode, run.stdout) == (code, "")
    assert run.stderr == f"error: loss 'refusing' (plugin '{plugin}'): negative deltas are not supported\n"


def test_a_plugin_file_whose_name_is_not_utf8(tmp_path: Path) -> None:
    """A plugin file named in other bytes (pertes_\xe9t\xe9.py from a Latin-1 system; Python holds them as
    surrogates) was "error: plugin '...' failed to load: UnicodeEncodeError: ...", exit 2, before its code ran: the
    module's name was hashed from the path encoded as UTF-8. The name's own bytes are hashed now."""
    plugin = tmp_path / os.fsdecode(b"pertes_\xe9t\xe9.py")
    plugin.write_text(PLUGIN.format(name="latin_cubed"))
    (tmp_path / "p.csv").write_text(DATA)
    data = str(tmp_path / "p.csv")
    run = _lossctl(None, "eval", data, "-l", "latin_cubed", "--plugin", str(plugin), "-f", "csv", "-q")
    assert (run.returncode, run.stdout.splitlines()[1:], run.stderr) == (0, ["latin_cubed,power=3.0,mean,3.0,3,,"], "")


HOSTED = """
import sys, threading
import numpy as np
import lossctl
from lossctl import register_loss

inside, printed = threading.Event(), threading.Event()


@register_loss("chatty", task="regression", summary="s", formula="f")
def chatty(target, pred):
    inside.set()
    assert printed.wait(10)
    print("plugin line")
    return np.abs(pred - target)


def host():
    inside.wait(10)
    print("host line", flush=True)
    printed.set()


thread = threading.Thread(target=host)
thread.start()
value = lossctl.evaluate(y_true=[0.0, 2.0], y_pred=[1.0, 0.0], losses="chatty")["chatty"]
thread.join()
print("value", value, sys.stdout is sys.__stdout__)
"""


def test_a_plugin_in_a_library_host_sends_only_its_own_prints_to_stderr(tmp_path: Path) -> None:
    """lossctl as a library pointed sys.stdout (and descriptor 1) at stderr for the whole process while a plugin
    loss ran: the host's other threads printed to stderr meanwhile. Only the threads running plugin code print
    to stderr now (docs/cli.md: nothing a plugin prints reaches stdout); the host's print where they did."""
    script = tmp_path / "host.py"
    script.write_text(HOSTED)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert (run.stdout, run.stderr) == ("host line\nvalue 1.5 True\n", "plugin line\n")


RETURNS = '''
import numpy as np
from lossctl import register_loss


class Unreadable:
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("no array")


class OnDevice:
    """As a CuPy array is: a shape, but no implicit conversion."""

    shape = (3,)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed")


class Value:
    def __float__(self):
        print("converting")
        raise RuntimeError("no float")


@register_loss("returns", task="regression", summary="Returns what the test asks.", formula="l = ?")
def returns(target: np.ndarray, pred: np.ndarray) -> object:
    """What ``{kind}`` makes."""
    return {result}
'''


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ("Unreadable()", "failed: RuntimeError: no array"),
        ("np.array([Value() for _ in pred], dtype=object)", "failed: RuntimeError: no float"),
    ],
    ids=["array-raises", "float-raises"],
)
def test_a_result_whose_own_code_fails_is_the_plugins_error(write, result: str, message: str) -> None:
    # Reading the result runs the plugin's code (its __array__, its values' __float__): an exception there was
    # "error: internal error (RuntimeError: no array); this is a bug in lossctl", exit 4, and what it printed
    # reached stdout.
    plugin = write("returns.py", RETURNS.replace("{result}", result))
    data = write("p.csv", DATA)
    run = _lossctl(None, "eval", str(data), "-l", "returns,mae", "--plugin", str(plugin), "-f", "json", "-q")
    assert (run.returncode, run.stdout) == (3, "")
    lines = run.stderr.splitlines()
    assert lines[-1] == f"error: loss 'returns' (plugin '{plugin}') {message}"
    assert lines[:-1] == (["converting"] if "Value" in result else [])


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ("OnDevice()", "returned a OnDevice that NumPy cannot read (TypeError: Implicit conversion to a NumPy array "
         "is not allowed)"),
        ("[[1.0, 2.0], [1.0], [3.0]]", "returned a list that NumPy cannot read (ValueError: setting an array element "
         "with a sequence. The requested array has an inhomogeneous shape after 1 dimensions. The detected shape was "
         "(3,) + inhomogeneous part.)"),
    ],
    ids=["device-array", "ragged-list"],
)  # fmt: skip
def test_a_result_numpy_cannot_read_says_so(write, result: str, message: str) -> None:
    # Both said "returned an array of shape (3,) for 3 rows" / "a list of 3 values for 3 rows; a loss returns one
    # value per row", the very shape it asks for.
    plugin = write("returns.py", RETURNS.replace("{result}", result))
    data = write("p.csv", DATA)
    run = _lossctl(None, "eval", str(data), "-l", "returns", "--plugin", str(plugin), "-q")
    assert (run.returncode, run.stdout) == (3, "")
    tail = "; a loss returns a NumPy array or a list, one value per row\n"
    assert run.stderr == f"error: loss 'returns' (plugin '{plugin}') {message}{tail}"


def test_a_wrong_length_result_counts_one_row_and_one_value_in_the_singular(write) -> None:
    # A one-row file said "returned a list of 1 values for 1 rows" (here 2 values), the fixed plural of a count.
    plugin = write("returns.py", RETURNS.replace("{result}", "[1.0] * (1 + len(pred) % 2)"))
    for rows, said in (("1,0\n", "a list of 2 values for 1 row"), ("1,0\n0,2\n", "a list of 1 value for 2 rows")):
        run = _lossctl(None, "eval", str(write("p.csv", "pred,target\n" + rows)), "-l", "returns", "--plugin",
                       str(plugin), "-q")  # fmt: skip
        assert (run.returncode, run.stdout) == (3, "")
        assert (
            run.stderr
            == f"error: loss 'returns' (plugin '{plugin}') returned {said}; a loss returns one value per row\n"
        )


def test_a_masked_result_is_not_read_as_its_hidden_values(write) -> None:
    # The masked values were read as the data under the mask (here the 1 of row 0), exit 0, as if given.
    result = "np.ma.masked_array(np.abs(pred - target), mask=[True, False, False])"
    plugin = write("returns.py", RETURNS.replace("{result}", result))
    data = write("p.csv", DATA)
    out = data.parent / "out.json"
    run = _lossctl(None, "eval", str(data), "-l", "returns", "--plugin", str(plugin), "-o", str(out), "-q")
    assert (run.returncode, run.stdout, out.exists()) == (3, "", False)
    assert run.stderr == (
        f"error: loss 'returns' (plugin '{plugin}') returned a masked array (1 masked value); a loss returns one "
        "real number per row\n"
    )


def test_a_plugin_changing_the_working_directory_moves_no_output(write, tmp_path: Path) -> None:
    # A plugin that called os.chdir (at import, or in its loss) had the relative -o and --per-sample files written
    # in the folder it went to, and a relative input after it read there.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    moving = PLUGIN.format(name="moving").replace(
        "    return", f"    import os\n    os.chdir({str(elsewhere)!r})\n    return"
    )
    write("moving.py", f"import os\nos.chdir({str(elsewhere)!r})\n{moving}")
    write("p.csv", DATA)
    args = ["eval", "p.csv", "-l", "moving,mae", "--plugin", "moving.py", "-o", "o.csv", "--per-sample", "r.csv", "-q"]
    run = subprocess.run([sys.executable, "-m", "lossctl", *args], cwd=tmp_path, capture_output=True, text=True)
    assert (run.returncode, run.stderr, sorted(p.name for p in elsewhere.iterdir())) == (0, "", [])
    assert (tmp_path / "o.csv").read_text().splitlines()[1:] == [
        "moving,power=3.0,mean,3.0,3,,",
        "mae,multioutput=none,mean,1.0,3,,",
    ]
    assert (tmp_path / "r.csv").read_text().splitlines()[1] == "0,1,1"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('task="regression",', 'task="regression", roles=(),', "loss 'cubed' has no roles; a loss reads at least "
         "one input (target, pred...)"),
        ("minimum=1.0", "minimum=4.0", "parameter 'power' must be >= 4, got 3 (its default)"),
        ('Param("power", 3.0', 'Param("power", float("nan")', "parameter 'power' must be finite, got nan (its "
         "default)"),
        ('Param("power"', 'Param("my-power"', "parameter name 'my-power' is not a name: letters, digits and '_', not "
         "starting with a digit"),
        ("minimum=1.0", "minimum=1.0), Param('power', 2.0, 'again'", "loss 'cubed' names 'power' twice among its "
         "roles and parameters"),
        ('task="regression",', 'task="regression", aggregate="sum",', "loss 'cubed': aggregate is one of lossctl's "
         "aggregates, got str"),
        ('summary="Cubed absolute error (a test plugin).",', "summary=None,", "loss 'cubed': summary is text, got "
         "NoneType"),
        ('task="regression",', 'task="regression", batch_param="size",', "loss 'cubed': batch_param 'size' is not "
         "one of its parameters of kind 'int' with minimum >= 1"),
        ('task="regression",', 'task="regression", properties="convex",', "loss 'cubed': properties is a "
         "lossctl.Properties, got str"),
    ],
    ids=["no-roles", "default-outside", "default-nan", "param-name", "param-twice", "aggregate", "summary",
         "batch-param", "properties"],
)  # fmt: skip
def test_a_declaration_lossctl_cannot_use_fails_to_load(write, old: str, new: str, message: str) -> None:
    """Each loaded, and failed at the first evaluation as the plugin loss's error (no roles: 'IndexError'), as a
    bug in lossctl (exit 4; a NaN default after half the JSON document was on stdout), or not at all (a default
    outside its own domain was used; 'my-power' could not be given)."""
    plugin = write("declared.py", PLUGIN.format(name="cubed").replace(old, new))
    data = write("p.csv", DATA)
    run = _lossctl(None, "eval", str(data), "-l", "mae,cubed", "--plugin", str(plugin), "-f", "json")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == f"error: plugin '{plugin}' failed to load: ValueError: {message}\n"


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("MSE", "taken by the built-in loss 'mse'"),
        ("l2", "an alias of the built-in loss 'mse'"),
        ("cubed", "taken by loss 'cubed' (plugin '{first}')"),
    ],
    ids=["built-in", "alias", "plugin"],
)
def test_a_plugin_taking_a_registered_name_says_whose_it_is(write, name: str, taken: str) -> None:
    # It said "loss name 'l2' (plugin ...) is already registered", leaving the user to find which loss has it.
    first = write("first.py", PLUGIN.format(name="cubed"))
    plugin = write("clash.py", PLUGIN.format(name=name))
    data = write("p.csv", DATA)
    run = _lossctl(None, "eval", str(data), "-l", "mae", "--plugin", str(first), "--plugin", str(plugin))
    assert (run.returncode, run.stdout) == (2, "")
    message = f"loss name '{name}' (plugin '{plugin}') is already {taken.format(first=first)}"
    assert run.stderr == f"error: {message}\n"


def test_a_plugin_replacing_stdin_or_stderr_takes_neither_from_lossctl(write) -> None:
    # A plugin that set sys.stderr (to silence itself) took lossctl's error line with it: exit 3 and nothing said.
    # One that set sys.stdin made input '-' a bug in lossctl ('_io.StringIO' object has no attribute 'buffer'), or
    # read the plugin's rows instead of the user's.
    body = "import io, sys\nsys.stderr = io.StringIO()\nsys.stdin = io.StringIO('pred,target\\n9,0\\n')\n"
    quiet = write("quiet.py", body)
    gone = quiet.parent / "gone.csv"
    run = _lossctl(None, "eval", str(gone), "-l", "mae", "--plugin", str(quiet), "-q")
    assert (run.returncode, run.stdout, run.stderr) == (3, "", f"error: file '{gone}' not found\n")
    args = ["eval", "-", "-l", "mae", "--plugin", str(quiet), "-q", "-f", "csv"]
    run = subprocess.run([sys.executable, "-m", "lossctl", *args], input=DATA, capture_output=True, text=True)
    assert (run.returncode, run.stdout.splitlines()[1:], run.stderr) == (0, ["mae,multioutput=none,mean,1.0,3,,"], "")
