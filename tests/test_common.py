"""Generic properties run over every registered loss (after scikit-learn's ``metrics/tests/test_common.py``).

Each loss is exercised on the inputs of its own golden cases (``tests/reference/golden``), so a new
loss is covered by adding its golden cases; the completeness tests fail until it is classified here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.describe import describe
from lossctl.errors import DomainError, InputError
from lossctl.stats import weighted_sums
from tests.golden import all_cases

# The catalogue of losses.md: canonical name -> aliases.
CATALOGUE = {
    "mse": ("l2", "mean_squared_error"), "rmse": (), "mae": ("l1",), "huber": (), "smooth_l1": (), "log_cosh": (),
    "quantile": ("pinball",), "mape": (), "smape": (), "msle": (), "rmsle": (), "poisson_nll": (),
    "poisson_deviance": (), "tweedie_deviance": (), "gaussian_nll": (),
    "bce": ("log_loss", "binary_cross_entropy"), "bce_logits": (), "brier": (), "hinge": (), "squared_hinge": (),
    "focal": (),
    "cross_entropy": ("ce", "softmax_ce"), "nll": (), "categorical_ce": ("multi_log_loss",), "multiclass_hinge": (),
    "multi_margin": (), "kl_div": (), "js_div": (), "focal_multiclass": (), "class_balanced": (),
    "distillation": ("kd",), "elbo": ("vae",),
    "dice": (), "jaccard": ("iou", "soft_iou"), "tversky": (), "focal_tversky": (),
    "box_iou": (), "giou": (), "diou": (), "ciou": (),
    "contrastive": (), "triplet": (), "cosine_embedding": (), "info_nce": (), "nt_xent": (), "clip": (),
    "margin_ranking": (), "ranknet": ("pairwise_logistic",), "listnet": (),
}  # fmt: skip

SPECS = lossctl.list_losses()
NAMES = [spec.name for spec in SPECS]
CASES = all_cases()


def _base_case(name: str) -> dict[str, Any] | None:
    """The loss's first plain golden case: lossctl convention, unweighted, mean, at least 4 rows."""
    for case in CASES:
        rows = len(next(iter(case["inputs"].values())))
        if (case["loss"] == name and case["convention"] == "lossctl" and case["sample_weight"] is None
                and case["reduction"] == "mean" and rows >= 4):  # fmt: skip
            return case
    return None


def _arrays(case: dict[str, Any]) -> dict[str, np.ndarray]:
    return {role: np.asarray(values, dtype=np.float64) for role, values in case["inputs"].items()}


def _value(spec: lossctl.LossSpec, arrays: dict[str, np.ndarray], params: dict[str, Any], **kwargs: Any) -> float:
    return spec(**arrays, **params, **kwargs)


def _close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


# Losses whose value depends on the order of the rows: batches are cut in file order.
ORDER_DEPENDENT = {"info_nce", "nt_xent", "clip"}
# Losses whose rows interact (batches, query pairs), so a repeated or dropped row is not a reweighted one.
ROWS_INTERACT = ORDER_DEPENDENT | {"ranknet", "listnet"}


def _base(name: str) -> tuple[lossctl.LossSpec, dict[str, np.ndarray], dict[str, Any]]:
    case = _base_case(name)
    if case is None:
        pytest.fail(f"loss '{name}' has no plain golden case (lossctl convention, unweighted, mean, >= 4 rows)")
    return lossctl.get(name), _arrays(case), case["params"]


def test_the_catalogue_is_registered_with_its_aliases() -> None:
    registered = {spec.name: set(spec.aliases) for spec in SPECS}
    missing = sorted(set(CATALOGUE) - set(registered))
    assert not missing, f"losses of losses.md not registered: {missing}"
    for name, aliases in CATALOGUE.items():
        assert set(aliases) <= registered[name], name


def test_every_loss_has_golden_cases() -> None:
    covered = {case["loss"] for case in CASES}
    assert set(NAMES) <= covered, sorted(set(NAMES) - covered)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['loss']}-{c['id']}" for c in CASES])
def test_golden_reference(case: dict[str, Any]) -> None:
    spec = lossctl.get(case["loss"])
    weight = None if case["sample_weight"] is None else np.asarray(case["sample_weight"])
    value = spec(**_arrays(case), **case["params"], sample_weight=weight, reduction=case["reduction"],
                 convention=case["convention"])  # fmt: skip
    expected = case["expected"]
    assert math.isfinite(value)
    assert abs(value - expected) <= 1e-9 * abs(expected) or (expected == 0 and abs(value) <= 1e-12), (value, expected)


@pytest.mark.parametrize("name", NAMES)
def test_describe_names_every_parameter(name: str) -> None:
    page = describe(name)
    spec = lossctl.get(name)
    for param in spec.params:
        assert f"\n  {param.name} (" in page, param.name
    assert spec.formula in page and spec.follows in page and "when to use it" in page
    assert len(spec.when) > 40 and len(spec.doc) > 40


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ORDER_DEPENDENT])
def test_row_permutation_invariance(name: str) -> None:
    spec, arrays, params = _base(name)
    order = np.random.default_rng(0).permutation(len(next(iter(arrays.values()))))
    permuted = {role: array[order] for role, array in arrays.items()}
    assert _close(_value(spec, arrays, params), _value(spec, permuted, params), 1e-11)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ROWS_INTERACT])
def test_integer_weights_equal_repeated_rows(name: str) -> None:
    spec, arrays, params = _base(name)
    rows = len(next(iter(arrays.values())))
    counts = np.random.default_rng(1).integers(1, 4, size=rows)
    repeated = {role: np.repeat(array, counts, axis=0) for role, array in arrays.items()}
    weighted = _value(spec, arrays, params, sample_weight=counts.astype(float))
    assert _close(weighted, _value(spec, repeated, params), 1e-11)


# Losses where scaling every weight changes the value: whole-input segmentation adds ``smooth`` to weighted
# pixel sums, and class_balanced's effective numbers (1 - beta^n_c) use weighted class counts.
SCALE_DEPENDENT = {"dice", "jaccard", "tversky", "focal_tversky", "class_balanced"}


@pytest.mark.parametrize("name", [n for n in NAMES if n not in SCALE_DEPENDENT])
def test_equal_weights_equal_no_weights(name: str) -> None:
    spec, arrays, params = _base(name)
    rows = len(next(iter(arrays.values())))
    assert _close(_value(spec, arrays, params, sample_weight=np.full(rows, 2.5)), _value(spec, arrays, params), 1e-11)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ROWS_INTERACT])
def test_zero_weight_equals_a_dropped_row(name: str) -> None:
    spec, arrays, params = _base(name)
    rows = len(next(iter(arrays.values())))
    weight = np.ones(rows)
    weight[1] = 0.0
    kept = {role: np.delete(array, 1, axis=0) for role, array in arrays.items()}
    assert _close(_value(spec, arrays, params, sample_weight=weight), _value(spec, kept, params), 1e-11)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ROWS_INTERACT])
def test_group_statistics_recombine_to_the_overall(name: str) -> None:
    spec, arrays, params = _base(name)
    contributions = spec.contributions(arrays, spec.resolve_params(params))
    halves = np.arange(len(contributions)) % 2 == 0
    merged = weighted_sums(contributions[halves], None) + weighted_sums(contributions[~halves], None)
    np.testing.assert_allclose(merged, weighted_sums(contributions, None), rtol=1e-12, atol=1e-300)


def _write_file(path: Path, arrays: dict[str, np.ndarray]) -> None:
    columns = {}
    for role, array in arrays.items():
        if array.ndim == 2:
            columns[role] = pa.FixedSizeListArray.from_arrays(pa.array(array.reshape(-1)), array.shape[1])
        else:
            columns[role] = pa.array(array)
    pq.write_table(pa.table(columns), path)


def _evaluate(path: Path, name: str, arrays: dict[str, np.ndarray], params: dict[str, Any], **kwargs: Any) -> float:
    spec = lossctl.get(name)
    cols = {role: role for role in spec.role_names if role not in ("pred", "target")}
    inline = "".join(f":{k}={_text(v)}" for k, v in params.items())
    report = lossctl.evaluate(str(path), losses=[name + inline], pred="pred" if "pred" in arrays else None,
                              target="target" if "target" in arrays else None, cols=cols, **kwargs)  # fmt: skip
    return report.results[0].value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value)


@pytest.mark.parametrize("name", NAMES)
def test_chunk_size_invariance_through_files(name: str, tmp_path: Path) -> None:
    spec, arrays, params = _base(name)
    _write_file(tmp_path / "d.parquet", arrays)
    expected = _value(spec, arrays, params)
    for chunk_rows in (1, 7, 1000):
        value = _evaluate(tmp_path / "d.parquet", name, arrays, params, chunk_rows=chunk_rows)
        assert _close(value, expected, 1e-12), (chunk_rows, value, expected)


@pytest.mark.parametrize("name", NAMES)
def test_float32_inputs_give_the_float64_answer(name: str) -> None:
    spec, arrays, params = _base(name)
    narrowed = {role: array.astype(np.float32) for role, array in arrays.items()}
    try:
        value32 = _value(spec, narrowed, params)
    except (DomainError, InputError):
        pytest.skip("rounding to float32 leaves the loss's domain (e.g. rows no longer summing to 1)")
    widened = {role: array.astype(np.float64) for role, array in narrowed.items()}
    assert value32 == _value(spec, widened, params)  # computed in float64 whatever the input dtype
    assert _close(value32, _value(spec, arrays, params), 1e-3)


@pytest.mark.parametrize("name", NAMES)
def test_integer_columns_are_accepted(name: str, tmp_path: Path) -> None:
    spec, arrays, params = _base(name)
    integral = {role: array for role, array in arrays.items() if np.array_equal(array, np.round(array))}
    if not integral:
        pytest.skip("no integer-valued input in the base case")
    as_ints = {role: (array.astype(np.int64) if role in integral else array) for role, array in arrays.items()}
    _write_file(tmp_path / "d.parquet", as_ints)
    assert _close(_evaluate(tmp_path / "d.parquet", name, arrays, params), _value(spec, arrays, params), 1e-12)


def _set(role: str, value: float, column: int = 0):
    """A domain violation: row 1 of ``role`` (its ``column`` for vector roles) set to ``value``."""

    def apply(arrays: dict[str, np.ndarray]) -> None:
        array = arrays[role]
        if array.ndim == 2:
            array[1, column] = value
        else:
            array[1] = value

    return apply


def _out_of_range_class(arrays: dict[str, np.ndarray]) -> None:
    arrays["target"][1] = arrays["pred"].shape[1]


def _row_not_summing_to_one(arrays: dict[str, np.ndarray]) -> None:
    arrays["pred"][1, 0] += 0.5


def _inverted_box(arrays: dict[str, np.ndarray]) -> None:
    arrays["pred"][1, 2] = arrays["pred"][1, 0] - 1.0


# How to push each loss out of its domain (losses.md: "Inputs outside the domain are an input error (exit 3)").
DOMAIN_VIOLATIONS = {
    "msle": _set("pred", -1.5), "rmsle": _set("pred", -1.5), "poisson_nll": _set("target", -1.0),
    "poisson_deviance": _set("pred", 0.0), "tweedie_deviance": _set("pred", -1.0), "gaussian_nll": _set("var", -1.0),
    "bce": _set("pred", 1.5), "bce_logits": _set("target", 1.5), "brier": _set("target", 0.5),
    "hinge": _set("target", 2.0), "squared_hinge": _set("target", 2.0), "focal": _set("target", 1.5),
    "cross_entropy": _out_of_range_class, "nll": _out_of_range_class, "categorical_ce": _row_not_summing_to_one,
    "multiclass_hinge": _out_of_range_class, "multi_margin": _out_of_range_class, "kl_div": _set("pred", -0.1),
    "js_div": _set("pred", -0.1), "focal_multiclass": _out_of_range_class, "class_balanced": _out_of_range_class,
    "elbo": _set("pred", 1.5),
    "dice": _set("pred", 1.5), "jaccard": _set("pred", 1.5), "tversky": _set("pred", 1.5),
    "focal_tversky": _set("pred", 1.5),
    "box_iou": _inverted_box, "giou": _inverted_box, "diou": _inverted_box, "ciou": _inverted_box,
    "contrastive": _set("target", 2.0), "cosine_embedding": _set("target", 0.0), "margin_ranking": _set("target", 0.0),
}  # fmt: skip
# Losses defined for every finite input.
NO_DOMAIN = {"mse", "rmse", "mae", "huber", "smooth_l1", "log_cosh", "quantile", "mape", "smape", "distillation",
             "triplet", "info_nce", "nt_xent", "clip", "ranknet", "listnet"}  # fmt: skip


# Parameters under which the violation applies (tweedie's base case has power 0: the normal deviance, any input).
DOMAIN_PARAMS = {"tweedie_deviance": {"power": 1.5}}


def test_every_loss_has_its_domain_classified() -> None:
    unclassified = set(NAMES) - set(DOMAIN_VIOLATIONS) - NO_DOMAIN
    assert not unclassified, f"classify the domain of {sorted(unclassified)} in DOMAIN_VIOLATIONS or NO_DOMAIN"


@pytest.mark.parametrize("name", sorted(DOMAIN_VIOLATIONS))
def test_domain_violations_exit_3_through_the_cli(name: str, tmp_path: Path, cli) -> None:
    spec, arrays, params = _base(name)
    params = DOMAIN_PARAMS.get(name, params)
    arrays = {role: array.copy() for role, array in arrays.items()}
    DOMAIN_VIOLATIONS[name](arrays)
    _write_file(tmp_path / "d.parquet", arrays)
    args = ["eval", tmp_path / "d.parquet", "-l", name + "".join(f":{k}={_text(v)}" for k, v in params.items())]
    for role in spec.role_names:
        args += [f"--{role}", role] if role in ("pred", "target") else ["--col", f"{role}={role}"]
    run = cli(*args, "-o", tmp_path / "out.json")
    assert run.code == 3, run.err
    assert run.err.startswith("error: ") and "Traceback" not in run.err
    assert not (tmp_path / "out.json").exists()
