"""Parsing of loss selections, parameters and --fail-if expressions."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import lossctl
from lossctl.errors import UsageError, spelled_as_flags
from lossctl.params import build_requests, parse_fail_if, select_losses, split_loss_tokens


def test_split_keeps_list_values_together() -> None:
    assert split_loss_tokens(["mse,mae", "huber:delta=2"]) == ["mse", "mae", "huber:delta=2"]
    assert split_loss_tokens(["ce:class_weight=1,2,0.5,mse"]) == ["ce:class_weight=1,2,0.5", "mse"]
    # A weighted part after a loss without parameters, or in the next -l, was glued to it: "unknown loss 'mae,2*mse'".
    assert split_loss_tokens(["mae,2*mse", "ce:class_weight=1", "2*mse"]) == [
        "mae",
        "2*mse",
        "ce:class_weight=1",
        "2*mse",
    ]
    with pytest.raises(UsageError, match="empty loss name"):
        split_loss_tokens(["mse,,mae"])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "ce:class_weight=1,,2",
            "the class_weight list in 'ce:class_weight=1,,2' has an empty value (two commas in a row)",
        ),
        (
            "ce:class_weight=1, ,nan",
            "the class_weight list in 'ce:class_weight=1, ,nan' has an empty value (two commas ",
        ),
        (
            "ce:class_weight=1,2,",
            "the class_weight list in 'ce:class_weight=1,2,' has an empty value (a comma at its end)",
        ),
        (
            "ce:class_weight=1,2,,mse",
            "the class_weight list in 'ce:class_weight=1,2,,mse' has an empty value (a comma at ",
        ),
        ("huber:delta=2,,mse", "empty loss name in 'huber:delta=2,,mse'"),
        (",mse", "empty loss name in ',mse'"),
    ],
)
def test_an_empty_value_in_a_list_parameter_is_named_as_one(option: str, message: str) -> None:
    # -l 'ce:class_weight=1,,2' said "empty loss name": the comma split took the gap for a missing loss.
    with pytest.raises(UsageError) as raised:
        build_requests([option])
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize("item", ["nan", "Inf", "infinity"])
def test_a_list_item_that_is_not_finite_is_refused_by_its_parameter(item: str) -> None:
    # ce:class_weight=1,nan,2 said "unknown loss 'nan,2'": the comma split took the word for a loss name.
    spec = f"ce:class_weight=1,{item},2"
    assert split_loss_tokens([spec, "mse,inf"]) == [spec, "mse", "inf"]
    message = f"^cross_entropy: parameter 'class_weight' must be finite, got {item.lower()[:3]}$"
    with pytest.raises(UsageError, match=message):
        build_requests([spec])


def test_a_word_of_a_list_parameter_beside_numbers_is_refused_by_its_parameter(cli) -> None:
    # ce:class_weight=1,2,balanced said "unknown loss 'balanced'; did you mean class_balanced?": the comma split took
    # the parameter's word for a loss name. A loss after the list (mse) or an unknown word (msee) stays a loss.
    assert split_loss_tokens(["ce:class_weight=1,2,Balanced,mse", "t=0.5*ce:class_weight=1,balanced+mae"]) == [
        "ce:class_weight=1,2,Balanced",
        "mse",
        "t=0.5*ce:class_weight=1,balanced+mae",
    ]
    assert split_loss_tokens(["ce:class_weight=1,2,msee", "ce:label_smoothing=0.1,balanced"]) == [
        "ce:class_weight=1,2",
        "msee",
        "ce:label_smoothing=0.1",
        "balanced",
    ]
    expected = "cross_entropy: parameter 'class_weight' is either a list of numbers or 'balanced' alone, got "
    for losses, given in [
        (["-l", "ce:class_weight=1,2,balanced"], "'1,2,balanced'"),
        (["-l", "ce:class_weight=balanced,1"], "'balanced,1'"),
        (["-l", "t=0.5*ce:class_weight=1,balanced+mse"], "'1,balanced'"),
        (["-l", "ce", "--param", "class_weight=1,BALANCED"], "'1,BALANCED'"),
    ]:
        run = cli("eval", "unread.csv", *losses)
        assert (run.code, run.out, run.err) == (2, "", f"error: {expected}{given}\n")


def test_inline_parameters_are_typed_and_validated() -> None:
    (request,) = build_requests(["quantile:q=0.9"])
    assert request.params == {"q": 0.9, "multioutput": None} and request.label == "quantile:q=0.9"
    (request,) = build_requests(["poisson_nll:log_input=true:full=yes"])
    assert request.params["log_input"] is True and request.params["full"] is True
    with pytest.raises(UsageError, match="must be true or false"):
        build_requests(["poisson_nll:full=maybe"])
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        build_requests(["huber:delta"])
    with pytest.raises(UsageError, match="must be finite"):
        build_requests(["huber:delta=inf"])


def test_a_list_parameter_is_labelled_as_it_is_written() -> None:
    # The label names results, gaps and checks: it must read back as a spec, not as a tuple "(1.0, 2.5)".
    (request,) = build_requests(["cross_entropy:class_weight=1,2.5"])
    assert request.params["class_weight"] == (1.0, 2.5)
    assert request.label == "cross_entropy:class_weight=1,2.5"
    (again,) = build_requests([request.label])
    assert again.params == request.params


@pytest.mark.parametrize(
    ("spec", "label"),
    [("quantile:q=0.1000001", "quantile:q=0.1000001"), ("huber:delta=1234567.5", "huber:delta=1234567.5"),
     ("huber:delta=2.0", "huber:delta=2"), ("huber:delta=1e20", "huber:delta=1e+20")],
)  # fmt: skip
def test_a_number_is_labelled_in_full(spec: str, label: str) -> None:
    # Rounded to 6 digits, quantile:q=0.1 and q=0.1000001 had one label, and huber:delta=1.23457e+06 read back wrong.
    requests = build_requests(["quantile:q=0.1", spec])
    assert requests[-1].label == label != requests[0].label
    (again,) = build_requests([label])
    assert again.params == requests[-1].params


@pytest.mark.parametrize(
    ("spec", "message"),
    [("quantile:q=1.0000001", "quantile: parameter 'q' must be in (0, 1), got 1.0000001"),
     ("tweedie_deviance:power=0.9999999",
      "tweedie_deviance: parameter 'power' must be <= 0 or >= 1, got 0.9999999")],
)  # fmt: skip
def test_a_value_out_of_range_is_quoted_in_full(spec: str, message: str) -> None:
    # Rounded, the message read "must be in (0, 1), got 1": a value that looks valid.
    with pytest.raises(UsageError) as error:
        build_requests([spec])
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("spec", "message"),
    [("tweedie_deviance:power=1e-400",
      "tweedie_deviance: parameter 'power' must be <= 0 or >= 1, got 1e-400 (which float64 rounds to 0; "
      "write 0 if 0 is meant)"),
     ("quantile:q=0.5e-400",
      "quantile: parameter 'q' must be in (0, 1), got 0.5e-400 (which float64 rounds to 0; write 0 if 0 is meant)"),
     ("cross_entropy:class_weight=1,1e-999",
      "cross_entropy: parameter 'class_weight' must be a comma-separated list of numbers >= 0 or 'balanced', "
      "got 1e-999 (which float64 rounds to 0; write 0 if 0 is meant)")],
)  # fmt: skip
def test_a_value_that_underflows_is_refused_not_read_as_zero(cli, regression_csv, spec: str, message: str) -> None:
    # tweedie_deviance:power=1e-400, a power scikit-learn refuses (0 < power < 1), was evaluated as power 0 (the
    # squared error), and quantile:q=1e-400 said "got 0", a value that was not typed.
    run = cli("eval", regression_csv, "-l", spec)
    assert (run.code, run.out, run.err) == (2, "", f"error: {message}\n")


@pytest.mark.parametrize("spec", ["smooth_l1:beta=-0", "smooth_l1:beta=-0.0", "tweedie_deviance:power=-0e5"])
def test_a_negative_zero_is_zero(cli, regression_csv, spec: str) -> None:
    # beta=-0 was kept as -0.0: the result read "beta=-0.0" and its signature differed from beta=0's, for the same
    # number.
    name = spec.partition(":")[0]
    key = spec.partition(":")[2].partition("=")[0]
    (request,) = build_requests([spec])
    assert math.copysign(1.0, request.params[key]) == 1.0
    assert request.label == f"{name}:{key}=0"
    runs = [cli("eval", regression_csv, "-l", given, "--format", "json") for given in (spec, f"{name}:{key}=0")]
    assert [run.code for run in runs] == [0, 0]
    negative, positive = (json.loads(run.out)["results"][0] for run in runs)
    assert negative["params"][key] == 0.0
    assert negative["signature"] == positive["signature"]


def test_an_integer_parameter_may_be_written_as_a_whole_float() -> None:
    # The command line refused multi_margin:p=2.0 and info_nce:batch_size=1e3 ("must be a number"), which the
    # Python API takes; from Python, p=float('inf') raised a bare OverflowError and nan a bare ValueError.
    assert build_requests(["multi_margin:p=2.0"])[0].params["p"] == 2
    assert build_requests(["info_nce:batch_size=1e3"])[0].params["batch_size"] == 1000
    with pytest.raises(UsageError, match=r"^info_nce: parameter 'batch_size' must be an integer \(>= 1\), got 'x'$"):
        build_requests(["info_nce:batch_size=x"])
    p = lossctl.get("multi_margin").param("p")
    for value, message in [(math.inf, "must be finite, got inf"), (math.nan, "must be finite, got nan"),
                           (np.float64(1.5), "must be an integer, got 1.5"), (10**400, "within ±2^53")]:  # fmt: skip
        with pytest.raises(UsageError, match=re.escape(message)):
            p.validate(value)


def test_spaces_around_the_dot_of_a_scoped_param_are_dropped() -> None:
    # "--param 'huber. delta=2'" said "loss 'huber' has no parameter ' delta'".
    assert [r.params for r in build_requests(["huber"], ["huber. delta=2"])] == [{"delta": 2.0}]


def test_scoped_param_needs_the_loss_selected() -> None:
    with pytest.raises(UsageError, match="loss 'huber' is not selected"):
        build_requests(["mse"], ["huber.delta=2"])


def test_param_reaches_a_loss_only_a_fail_if_selects(cli, regression_csv) -> None:
    # A loss named by --fail-if alone is evaluated and reported, yet '-l mse --fail-if huber>1 --param
    # huber.delta=2' said "loss 'huber' is not selected", and --param delta=2 "no selected loss has a parameter".
    for param in ("huber.delta=2", "delta=2"):
        run = cli("eval", regression_csv, "-l", "mse", "--fail-if", "huber>0.5", "--param", param, "-f", "json", "-q")
        assert (run.code, run.err) == (1, "")
        document = json.loads(run.out)
        assert [(r["loss"], r["params"].get("delta")) for r in document["results"]] == [("mse", None), ("huber", 2.0)]
        assert document["results"][1]["value"] == pytest.approx(0.6875)  # residuals .5 .5 1 2: 0.5 r^2 within delta 2
        assert [(c["loss"], c["params"]["delta"], c["passed"]) for c in document["checks"]] == [("huber", 2.0, False)]
    run = cli("compare", regression_csv, regression_csv, "-l", "mse", "--fail-if", "huber>9", "--param", "delta=2")
    assert run.code == 0, run.err
    report = lossctl.evaluate(regression_csv, losses="mse", fail_if=["huber>0.5"], params=["huber.delta=2"])
    assert report.value("huber:delta=2") == pytest.approx(0.6875)
    inline = cli("eval", regression_csv, "-l", "mse", "--fail-if", "huber:delta=3>1", "--param", "huber.delta=2")
    refused = "error: --param huber.delta=2: every selected loss with 'delta' sets it inline\n"
    assert (inline.code, inline.err) == (2, refused)
    python = r'^params="HUBER.delta=2": every selected loss with \'delta\' sets it inline$'
    with pytest.raises(UsageError, match=python):
        lossctl.evaluate(regression_csv, losses="huber:delta=3", params=["HUBER.delta=2"])


def test_precedence_and_parameters_that_would_be_ignored() -> None:
    # Inline wins over --param LOSS.KEY, which wins over --param KEY ...
    low, plain = build_requests(["quantile:q=0.1", "quantile"], ["quantile.q=0.5"])
    assert (low.params["q"], plain.params["q"]) == (0.1, 0.5)
    huber, smooth = build_requests(["huber", "smooth_l1"], ["smooth_l1.beta=3", "delta=4"])
    assert (huber.params["delta"], smooth.params["beta"]) == (4.0, 3.0)
    # ... but a --param that no loss takes (each sets it inline) or a key given twice is refused, never ignored
    # (worded here as the command line words it; test_api checks the Python spelling, params="..."), the option
    # shown as given (it was "--param delta=...").
    cases = {
        "--param quantile.q=0.5: every selected loss with 'q' sets it inline": (["quantile:q=0.1"], ["quantile.q=0.5"]),
        "--param delta=3: every selected loss with 'delta' sets it inline": (["huber:delta=2"], ["delta=3"]),
        "--param delta=3: every selected loss with 'delta' sets it inline or with --param LOSS.delta": (
            ["huber"],
            ["huber.delta=2", "delta=3"],
        ),
        "--param delta=2: 'delta' is given twice": (["huber"], ["delta=1", "delta=2"]),
        "--param huber.delta=2: huber.delta is given twice": (["huber"], ["huber.delta=1", "huber.delta=2"]),
        "'-l huber:delta=1:delta=2' gives 'delta' twice": (["huber:delta=1:delta=2"], []),
    }
    for message, (losses, params) in cases.items():
        with spelled_as_flags(), pytest.raises(UsageError) as error:
            build_requests(losses, params)
        assert str(error.value) == message


def test_convention_defaults_apply_unless_given() -> None:
    (torch,) = build_requests(["poisson_nll"], convention="torch")
    assert torch.params["log_input"] is True
    (given,) = build_requests(["poisson_nll:log_input=false"], convention="torch")
    assert given.params["log_input"] is False


@pytest.mark.parametrize(
    ("expr", "loss", "op", "threshold"),
    [
        ("mse>0.25", "mse", ">", 0.25),
        (" mae <= 3 ", "mae", "<=", 3.0),
        ("quantile:q=0.9>=3", "quantile:q=0.9", ">=", 3.0),
    ],
)
def test_fail_if_grammar(expr: str, loss: str, op: str, threshold: float) -> None:
    gate = parse_fail_if(expr)
    assert (gate.loss, gate.op, gate.threshold) == (loss, op, threshold)


@pytest.mark.parametrize("expr", ["mse@B>0.1", "mse @ B > 0.1", "mse @B>0.1", " mse@ B >0.1"])
def test_fail_if_accepts_spaces_around_the_model(expr: str) -> None:
    gate = parse_fail_if(expr)
    assert (gate.loss, gate.model, gate.op, gate.threshold) == ("mse", "B", ">", 0.1)


def test_fail_if_takes_a_loss_spaced_as_l_takes_it(cli, regression_csv) -> None:
    # -l 'quantile: q = 0.9' was taken, and --fail-if 'quantile: q = 0.9 > 1' was "cannot parse".
    gate = parse_fail_if("quantile : q = 0.9 >= 3")
    assert (gate.loss, gate.op, gate.threshold) == ("quantile : q = 0.9", ">=", 3.0)
    run = cli("eval", regression_csv, "-l", "quantile: q = 0.9", "--fail-if", "quantile: q = 0.9 > 0", "-f", "json")
    assert run.code == 1
    assert [(c["loss"], c["params"]["q"]) for c in json.loads(run.out)["checks"]] == [("quantile", 0.9)]


@pytest.mark.parametrize("expr", ["mse @ > 0.1", "@ B > 0.1"])
def test_fail_if_rejects_an_empty_loss_or_model_around_the_at(expr: str) -> None:
    with pytest.raises(UsageError):
        parse_fail_if(expr)


def test_fail_if_semantics() -> None:
    gate = parse_fail_if("mse>=0.5")
    assert gate.holds(0.5) and not gate.holds(0.49)


@pytest.mark.parametrize(
    "expr", ["mse", "mse>", ">1", "mse==1", "mse>1e999", "__import__('os')>1", "mse :> 1", "quantile:q=0 .9>1"]
)
def test_fail_if_rejects(expr: str) -> None:
    with pytest.raises(UsageError):
        parse_fail_if(expr)


def test_an_error_in_a_fail_if_loss_quotes_the_fail_if(cli, regression_csv) -> None:
    # --fail-if 'huber:delta=1:delta=2>1' said "'-l huber:delta=1:delta=2' gives 'delta' twice": an option never
    # typed; every error in a gate's loss now quotes the gate, with or without -l, and so does the Python API.
    cases = {
        "huber:delta=1:delta=2>1": "'huber:delta=1:delta=2' gives 'delta' twice",
        "quantile:q=2>=1": "quantile: parameter 'q' must be in (0, 1), got 2",
        "huber:nope=1 < 2": "loss 'huber' has no parameter 'nope'; its parameters: delta",
    }
    for expr, message in cases.items():
        for losses in ([], ["-l", "mse"]):
            run = cli("eval", regression_csv, *losses, "--fail-if", expr)
            assert (run.code, run.out, run.err) == (2, "", f"error: --fail-if '{expr}': {message}\n")
    with pytest.raises(UsageError) as raised:
        lossctl.evaluate({"pred": [1.0], "target": [2.0]}, losses="mse", fail_if="huber:delta=1:delta=2>1")
    assert str(raised.value) == "fail_if 'huber:delta=1:delta=2>1': 'huber:delta=1:delta=2' gives 'delta' twice"


def test_composite_grammar() -> None:
    from lossctl.params import parse_composite

    composite = parse_composite("total=0.7*mse+0.3*huber:delta=2+mae")
    assert composite.name == "total" and composite.formula == "0.7*mse+0.3*huber:delta=2+mae"
    assert [(w, r.spec.name, r.params) for w, r in composite.terms] == [
        (0.7, "mse", {"multioutput": None}),
        (0.3, "huber", {"delta": 2.0}),
        (1.0, "mae", {"multioutput": None}),
    ]
    assert parse_composite("t=1e3*mse").terms[0][0] == 1000.0
    assert parse_composite("t=0e-400*mse").terms[0][0] == 0.0  # a 0 typed as 0 (1e-400 is refused)


def test_a_number_with_an_exponent_sign_in_a_composite(cli, write) -> None:
    # The '+' of 1e+3 was read as the next part: "huber: parameter 'delta' must be a number (> 0), got '1e'".
    path = write("z.csv", "target,pred\n0,1500\n0,1\n")
    losses = ["-l", "t=0.5*huber:delta=1e+3+0.5*mae", "-l", "t2=2E+1*mse+1.5e+0*huber:delta=.5e+1"]
    run = cli("eval", path, *losses, "-f", "json", "-q")
    assert run.code == 0, run.err
    values = {r["loss"]: (r["params"], r["value"]) for r in json.loads(run.out)["results"]}
    huber = (1000 * (1500 - 500) + 0.5) / 2
    assert values["t"] == ({"formula": "0.5*huber:delta=1000+0.5*mae"}, pytest.approx(0.5 * huber + 0.5 * 750.5))
    huber5 = (5 * (1500 - 2.5) + 0.5) / 2
    assert values["t2"] == (
        {"formula": "20*mse+1.5*huber:delta=5"},
        pytest.approx(20 * (1500**2 + 1) / 2 + 1.5 * huber5),
    )
    run = cli("eval", path, "-l", "0.5*huber:delta=1e+3+0.5*mae")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: the composite '0.5*huber:delta=1e+3+0.5*mae' needs a name, to report and gate it by: "
        "--loss 'total=0.5*huber:delta=1e+3+0.5*mae'\n"
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("total=0.5*nope+mse", "unknown loss 'nope'"),
        ("mse=0.5*mae+mse", "already a loss name"),
        ("total=0.5*huber:alpha=1+mse", "has no parameter 'alpha'"),
        ("total=__import__('os')*mse+mae", "cannot parse"),
        ("total=mse+", r"^the composite 'total=mse\+' has an empty part; expected NAME=W\*LOSS\+W\*LOSS \(weights opt"),
        ("total=", r"^the composite 'total=' has an empty part; expected NAME=W\*LOSS"),
        ("total=msee", r"^unknown loss 'msee'; did you mean mse"),
        # a negative weight said "without an exponent sign", a subtraction "unknown loss 'mse-0.5\*mae'"
        (
            "total=-0.5*mse",
            r"^cannot parse '-0.5\*mse' in the composite 'total=-0.5\*mse'; each part is W\*LOSS with W a number >= 0,",
        ),
        ("total=0.5*mse-0.5*mae", r"^cannot parse '0.5\*mse-0.5\*mae' .* added with '\+'$"),
        ("total=mse*2", r"^cannot parse 'mse\*2' in the composite"),
        # Before, a weight beyond float64 was taken as inf: an input error (exit 3) after the whole input was read,
        # 'the weighted sum overflows float64', even where the part's value was 0 (inf * 0).
        ("total=1e400*mse+mae", r"^the weight 1e400 in the composite 'total=1e400\*mse\+mae' is beyond float64$"),
        # a weight float64 rounds to 0 was taken as 0, silently (its part left out of the sum)
        (
            "total=1e-400*mse+mae",
            r"^the weight 1e-400 in the composite 'total=1e-400\*mse\+mae' rounds to 0 in float64; write 0 if 0 is",
        ),
    ],
)
def test_composite_errors(token: str, message: str) -> None:
    from lossctl.params import select_losses

    with pytest.raises(UsageError, match=message):
        select_losses([token])


def test_a_composite_weight_beyond_float64_is_a_usage_error(cli, write) -> None:
    # Before: exit 3 'the weighted sum overflows float64' once the input was read, where mse is 0 too (inf * 0).
    path = write("z.csv", "target,pred\n1,1\n2,2\n")
    run = cli("eval", path, "-l", "t=1e400*mse+mae")
    assert (run.code, run.out) == (2, "")
    assert run.err == "error: the weight 1e400 in the composite 't=1e400*mse+mae' is beyond float64\n"
    run = cli("eval", path, "-l", "t=1e200*mse", "-l", "t2=1e200*t+mae")
    assert (run.code, run.out) == (2, "")
    assert run.err == "error: the weights of '1e200*t' in the composite 't2=1e200*t+mae' multiply beyond float64\n"


def test_composite_parts_share_selected_results() -> None:
    from lossctl.params import select_losses

    requests, (composite,) = select_losses(["mse", "total=0.5*mse+0.5*mae"])
    assert [r.spec.name for r in requests] == ["mse", "mae"]
    assert composite.terms[0][1] is requests[0]


def test_param_options_reach_the_parts_of_a_composite() -> None:
    requests, (total,) = select_losses(["total=0.5*huber+0.5*mae"], ["huber.delta=2"])
    assert [(r.name, r.params.get("delta")) for r in requests] == [("huber", 2.0), ("mae", None)]
    assert total.terms[0][1].params["delta"] == 2.0
    _, (composite,) = select_losses(["mse", "t=0.5*quantile+0.5*mae"], ["q=0.9"])
    assert composite.terms[0][1].params["q"] == 0.9
    with pytest.raises(UsageError, match="every selected loss with 'delta' sets it inline"):
        select_losses(["t=0.5*huber:delta=3+0.5*mae"], ["delta=2"])


def test_a_composite_of_one_term_is_a_composite(cli) -> None:
    # -l total=mse said "unknown loss 'total=mse'" while total=1*mse and total=mse+mae were taken: weights are
    # optional, and a weighted sum of one loss is a composite like any other (gated, reported beside its part).
    from pathlib import Path

    data = Path(__file__).parent.parent / "sample_data" / "regression.csv"
    run = cli("eval", data, "-l", "total=huber:delta=2", "-f", "csv", "--fail-if", "total>1e9", "-q")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert [line.split(",")[:2] for line in lines[1:]] == [["huber", "delta=2.0"], ["total", "formula=huber:delta=2"]]
    assert lines[1].split(",")[3] == lines[2].split(",")[3]


def test_a_composite_may_name_another_composite(cli, write) -> None:
    # A part naming a composite said "unknown loss 'total'; did you mean focal?": it stands for that composite's
    # parts, weights multiplied, defined before or after it; the formula and signature write the parts out.
    data = write("m.csv", "pred,target\n1,2\n2,2.5\n3,1\n")
    for losses in (["-l", "total=mse+mae", "-l", "t2=0.5*total+mse"], ["-l", "t2=0.5*TOTAL+mse,total=mse+mae"]):
        run = cli("eval", data, *losses, "-f", "json", "-q")
        assert run.code == 0, run.err
        records = {r["loss"]: r for r in json.loads(run.out)["results"]}
        assert records["t2"]["params"] == {"formula": "0.5*mse+0.5*mae+mse"}
        assert records["t2"]["value"] == pytest.approx(0.5 * (1.75 + 7 / 6) + 1.75, rel=1e-12)
        assert records["t2"]["signature"].startswith(
            "t2=0.5*mse:multioutput=none+0.5*mae:multioutput=none+1.0*mse:multioutput=none|"
        )
    # A composite's signature wrote 't=1e+20*mse...+1e-05*huber:delta=1e+20': a '+' that reads as the next part,
    # where its formula (docs/losses.md: numbers in a composite have no exponent sign) writes 1e20.
    run = cli("eval", data, "-l", "t=1e20*mse+1e-5*huber:delta=1e20", "-f", "json", "-q")
    total = json.loads(run.out)["results"][-1]
    assert total["params"] == {"formula": "1e20*mse+1e-05*huber:delta=1e20"}
    assert total["signature"].startswith("t=1e20*mse:multioutput=none+1e-05*huber:delta=1e20|reduction=mean|")
    for losses, message in [
        (
            ["a=b+mse", "b=a+mae"],
            "error: the composites refer to each other in a cycle (a -> b -> a); a part must be a loss",
        ),
        (["a=mse+a"], "error: the composites refer to each other in a cycle (a -> a); a part must be a loss"),
        (
            ["t=mse+mae", "t2=t:delta=2"],
            "error: 't:delta=2' in the composite 't2=t:delta=2': 't' is a composite loss, with no parameters of its "
            "own; set its parts' parameters where it is defined",
        ),
    ]:
        run = cli("eval", data, "-l", ",".join(losses))
        assert (run.code, run.out, run.err) == (2, "", message + "\n")


def test_a_composite_that_overflows_is_an_input_error(cli) -> None:
    from pathlib import Path

    data = Path(__file__).parent.parent / "sample_data" / "regression.csv"
    for output in ("json", "csv"):
        run = cli("eval", data, "-l", "t=1e308*mse", "-f", output)
        assert (run.code, run.out) == (3, "")
        last = run.err.splitlines()[-1]
        assert last == "error: t: the weighted sum overflows float64; use smaller weights or rescale"


@pytest.mark.parametrize(
    ("losses", "params"),
    [
        (["total=mse+mae"], ["multioutput=raw"]),
        (["total=mse+mae"], ["mse.multioutput=raw"]),
        (["mse", "total=mse+mae"], ["multioutput=raw"]),
        (["total=mse:multioutput=raw+mae"], []),
    ],
)
def test_a_composite_part_with_one_value_per_output_is_a_usage_error(cli, losses, params) -> None:
    # --param multioutput=raw reached a composite's part unchecked (only inline raw was refused): the composite
    # then found no single value to add up, an internal error (StopIteration); now exit 2 naming the part.
    from pathlib import Path

    data = Path(__file__).parent.parent / "sample_data" / "regression.csv"
    options = [arg for loss in losses for arg in ("-l", loss)] + [arg for p in params for arg in ("--param", p)]
    run = cli("eval", data, *options)
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "error: 'mse:multioutput=raw' in the composite 'total' has one value per output (multioutput=raw); "
        "use multioutput=uniform or leave it unset\n"
    )


def test_list_and_describe_word_the_tweedie_powers_that_are_refused(cli) -> None:
    # 'lossctl list' and 'describe' showed power's domain as "any finite float", while 0 < power < 1 was refused.
    run = cli("list", "--task", "regression", "--format", "json")
    (power,) = [p for e in json.loads(run.out) if e["name"] == "tweedie_deviance" for p in e["params"]]
    assert power["domain"] == "<= 0 or >= 1"
    run = cli("describe", "tweedie_deviance")
    assert "  power (float, default 1.5, <= 0 or >= 1)\n" in run.out
    for power_value in ("0.5", "1e-300"):
        run = cli("eval", "-", "-l", f"tweedie_deviance:power={power_value}")
        assert (run.code, run.err) == (
            2,
            f"error: tweedie_deviance: parameter 'power' must be <= 0 or >= 1, got {power_value}\n",
        )


def test_composite_names_in_fail_if_are_matched_as_loss_names(cli) -> None:
    # Loss names ignore case, composite names did not: --fail-if 'TOTAL>1' said "unknown loss 'TOTAL'; did you
    # mean focal?", 'total:q=1>1' "unknown loss 'total'", and -l Total=mse,total=mae made two composites that a
    # gate could not tell apart.
    from pathlib import Path

    data = Path(__file__).parent.parent / "sample_data" / "regression.csv"
    run = cli("eval", data, "-l", "total=mse+mae", "--fail-if", "TOTAL>1", "-f", "json", "-q")
    assert run.code == 1
    assert [(c["loss"], c["passed"]) for c in json.loads(run.out)["checks"]] == [("total", False)]
    for gate, message in [
        ("totl>1", "--fail-if 'totl>1': unknown loss 'totl'; did you mean the composite total?"),
        (
            "total:q=1>1",
            "--fail-if 'total:q=1>1': 'total' is a composite loss, with no parameters of its own; "
            "gate it as total OP NUMBER",
        ),
    ]:
        run = cli("eval", data, "-l", "total=mse+mae", "--fail-if", gate)
        assert (run.code, run.out, run.err) == (2, "", f"error: {message}\n")
    run = cli("eval", data, "-l", "Total=mse,total=mae")
    assert (run.code, run.err) == (2, "error: two composite losses are named 'total'\n")


def test_param_naming_a_composite_says_it_has_no_parameters() -> None:
    # --param total.delta=2 said "unknown loss 'total'; did you mean focal?" though total was the composite asked.
    message = (
        "params=\"TOTAL.delta=2\": 'total' is a composite loss, with no parameters of its own; set its part's with "
        'params="huber.delta=..."'
    )
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        select_losses(["total=0.5*huber+0.5*mae"], ["TOTAL.delta=2"])


def test_a_composites_formula_records_its_parts_as_used(cli) -> None:
    # The formula was the text as typed: with --param delta=3 it read '0.5*huber+quantile' though huber used
    # delta 3 and quantile q 0.9, and spacing or '1e3' were copied as typed; now the parts as used, re-usable in -l.
    from pathlib import Path

    data = Path(__file__).parent.parent / "sample_data" / "regression.csv"
    params = ("--param", "delta=3", "--param", "q=0.9")
    run = cli("eval", data, "-l", "total = 0.5 * huber + 1e3*quantile", *params, "-f", "json")
    assert run.code == 0, run.err
    (total,) = [r for r in json.loads(run.out)["results"] if r["loss"] == "total"]
    assert total["params"] == {"formula": "0.5*huber:delta=3+1000*quantile:q=0.9"}
    again = cli("eval", data, "-l", "total=" + total["params"]["formula"], "-f", "json")
    values = [r["value"] for r in json.loads(run.out)["results"]]
    assert [r["value"] for r in json.loads(again.out)["results"]] == values
    run = cli("eval", data, "-l", "total=1e20*huber:delta=1e20", "-f", "json")
    assert json.loads(run.out)["results"][-1]["params"] == {"formula": "1e20*huber:delta=1e20"}


@pytest.mark.parametrize(
    ("option", "hint"),
    [
        ("mse mae", "; separate losses with a comma: -l mse,mae"),
        ("huber delta=2", "; parameters follow the name after ':', e.g. huber:delta=2"),
        ("quantile(q=0.9)", "; parameters follow the name after ':', e.g. quantile:q=0.9"),
        ("msee", "; did you mean mse, rmse, msle?"),
    ],
)
def test_an_unknown_loss_says_how_it_was_likely_meant(option: str, hint: str) -> None:
    # -l 'mse mae' and -l 'huber delta=2' said "unknown loss 'mse mae'" with no hint of the list or parameter syntax.
    with pytest.raises(UsageError) as raised:
        build_requests([option])
    assert str(raised.value) == f"unknown loss '{option}'{hint} (run 'lossctl list' to see every loss)"


def test_the_same_composite_twice_is_one_result() -> None:
    # -l total=mse+mae -l total=1*mse+mae said "two composite losses are named 'total'", while -l mse -l mse is one
    # result; a different sum under the same name is still refused.
    requests, composites = select_losses(["total=mse+mae", "TOTAL=1*mse+mae"])
    assert [r.name for r in requests] == ["mse", "mae"] and [c.formula for c in composites] == ["mse+mae"]
    with pytest.raises(UsageError, match=r"^two composite losses are named 'TOTAL'$"):
        select_losses(["total=mse+mae", "TOTAL=mae+2*mse"])


@pytest.mark.parametrize(
    ("loss", "convention", "message"),
    [
        ("hinge:margin=2", "sklearn", "loss 'hinge' with convention sklearn takes no parameter 'margin' "
         "(hinge_loss fixes the margin at 1); drop margin or use --convention lossctl"),
        ("hinge:margin=2", "keras", "loss 'hinge' with convention keras takes no parameter 'margin' "
         "(Keras' Hinge fixes the margin at 1); drop margin or use --convention lossctl"),
        ("squared_hinge:margin=0.5", "keras", "loss 'squared_hinge' with convention keras takes no parameter "
         "'margin' (Keras' SquaredHinge fixes the margin at 1); drop margin or use --convention lossctl"),
        ("bce_logits:pos_weight=2", "keras", "loss 'bce_logits' with convention keras takes no parameter "
         "'pos_weight' (BinaryCrossentropy has no pos_weight); drop pos_weight or use --convention lossctl or torch"),
        ("bce_logits:label_smoothing=0.1", "torch", "loss 'bce_logits' with convention torch takes no parameter "
         "'label_smoothing' (BCEWithLogitsLoss has no label smoothing); drop label_smoothing or use --convention "
         "lossctl or keras"),
        ("mape:eps=0.5", "keras", "loss 'mape' with convention keras takes no parameter 'eps' (Keras fixes it at "
         "1e-7, keras.backend.epsilon()); drop eps or use --convention lossctl"),
        ("mape:eps=0.5", "sklearn", "loss 'mape' with convention sklearn takes no parameter 'eps' "
         "(mean_absolute_percentage_error fixes it at the float64 machine epsilon); drop eps or use --convention "
         "lossctl"),
        ("bce:label_smoothing=0.1", "torch", "loss 'bce' with convention torch takes no parameter 'label_smoothing' "
         "(BCELoss has no label smoothing); drop label_smoothing or use --convention lossctl or keras"),
        ("bce:eps=1e-3", "keras", "loss 'bce' with convention keras takes no parameter 'eps' (Keras clips at 1e-7, "
         "keras.backend.epsilon()); drop eps or use --convention lossctl"),
        ("bce:label_smoothing=0.1", "sklearn", "loss 'bce' with convention sklearn takes no parameter "
         "'label_smoothing' (log_loss has no label smoothing); drop label_smoothing or use --convention lossctl or "
         "keras"),
        ("focal:from_logits=false", "torch", "loss 'focal' with convention torch takes no parameter 'from_logits' "
         "(sigmoid_focal_loss takes logits only); drop from_logits or use --convention lossctl or keras"),
        ("poisson_nll:eps=0.1", "keras", "loss 'poisson_nll' with convention keras takes no parameter 'eps' "
         "(Keras fixes it at 1e-7, keras.backend.epsilon()); drop eps or use --convention lossctl or torch"),
    ],
)  # fmt: skip
def test_a_parameter_the_conventions_library_lacks_is_a_usage_error(cli, write, loss, convention, message) -> None:
    # Before, hinge:margin=2 under sklearn, mape:eps=0.5 under keras... gave numbers no library reports (exit 0).
    data = write("d.csv", "p,y\n0.9,1\n0.2,0\n")
    run = cli("eval", data, "--pred", "p", "--target", "y", "-l", loss, "--convention", convention)
    assert (run.code, run.out, run.err) == (2, "", f"error: {message}\n")


def test_a_lacking_parameter_at_the_librarys_value_is_accepted_and_reported(cli, write) -> None:
    data = write("d.csv", "p,y\n0.9,1\n0.2,0\n")
    run = cli("eval", data, "--pred", "p", "--target", "y", "-l", "hinge:margin=1", "--convention", "keras", "-f",
              "json")  # fmt: skip
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["params"] == {"margin": 1.0}
    # torch's BCELoss does not clip: eps has no effect there, and the record says so with null (was 2.2e-16).
    run = cli("eval", data, "--pred", "p", "--target", "y", "-l", "bce", "--convention", "torch", "-f", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["results"][0]["params"] == {"eps": None, "label_smoothing": 0.0}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-l", "focal:gama=2"], "loss 'focal' has no parameter 'gama'; its parameters: alpha, gamma, from_logits; "
         "did you mean 'gamma'?"),
        (["-l", "focal:Gamma=2"], "loss 'focal' has no parameter 'Gamma'; its parameters: alpha, gamma, from_logits; "
         "did you mean 'gamma'?"),
        (["-l", "focal", "--param", "gama=2"], "--param gama=2: no selected loss has a parameter 'gama'; their "
         "parameters: alpha, gamma, from_logits; did you mean 'gamma'?"),
        (["-l", "focal:from_logits=true:alpha=0.3", "--param", "focal.alfa=2"], "loss 'focal' has no parameter "
         "'alfa'; its parameters: alpha, gamma, from_logits; did you mean 'alpha'?"),
        (["-l", "bce_logits:margin=1"], "loss 'bce_logits' has no parameter 'margin'; its parameters: pos_weight, "
         "label_smoothing"),
        (["-l", "mse:multioutput=unifrom"], "mse: parameter 'multioutput' must be one of uniform, raw, got "
         "'unifrom'; did you mean 'uniform'?"),
        (["-l", "cross_entropy:class_weight=balance"], "cross_entropy: parameter 'class_weight' must be a "
         "comma-separated list of numbers >= 0 or 'balanced', got 'balance'; did you mean 'balanced'?"),
    ],
)  # fmt: skip
def test_a_misspelt_parameter_or_value_gets_a_did_you_mean(cli, write, args, message) -> None:
    # Before, only the list of valid names: no 'did you mean', unlike a misspelt loss or column.
    run = cli("eval", write("b.csv", "target,pred\n1,0.5\n0,-1\n"), *args)
    assert (run.code, run.out, run.err) == (2, "", f"error: {message}\n")


def test_param_reaches_the_default_losses(cli, regression_csv) -> None:
    # Without --loss, '--param huber.delta=2' said "--param needs losses to apply to: name them with --loss", though
    # the inferred defaults include huber: the defaults are the selected losses, which --param reaches.
    for param in ("huber.delta=2", "delta=2"):
        run = cli("eval", regression_csv, "--param", param, "-f", "json")
        assert run.code == 0, run.err
        assert "evaluating mse, rmse, mae, huber:delta=2\n" in run.err
        huber = json.loads(run.out)["results"][-1]
        assert (huber["loss"], huber["params"]["delta"], huber["value"]) == ("huber", 2.0, pytest.approx(0.6875))
    assert lossctl.evaluate(regression_csv, params="huber.delta=2").value("huber:delta=2") == pytest.approx(0.6875)
    run = cli("eval", regression_csv, "--param", "bce.eps=0.1")
    assert run.code == 2
    assert run.err.splitlines()[-1] == (
        "error: --param bce.eps=0.1: loss 'bce' is not selected (add it with -l bce); without --loss the selected "
        "losses are the defaults of regression: mse, rmse, mae, huber"
    )
    with pytest.raises(UsageError, match=r"no selected loss has a parameter 'q'.*defaults of regression: mse, rmse"):
        lossctl.evaluate(regression_csv, params="q=0.9")
    # A --param not written KEY=VALUE is refused as such before any reading, with or without --loss.
    for args in ((), ("-l", "mse")):
        run = cli("eval", regression_csv.parent / "missing.csv", *args, "--param", "delta")
        assert (run.code, run.err) == (2, "error: expected KEY=VALUE in --param, got 'delta'\n")
