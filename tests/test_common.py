"""Generic properties run over every registered loss (after scikit-learn's ``metrics/tests/test_common.py``).

Each loss is exercised on the inputs of its own golden cases (``tests/reference/golden``), so a new
loss is covered by adding its golden cases. What sets a loss apart is declared with it in
``register_loss`` and read here: its domain (an example ``Violation``, or none when every finite input is
valid, which ``test_losses_without_a_domain_take_any_finite_input`` checks), whether scaling the weights
keeps its value (``weights_scale``) and whether its rows interact (``batch_param``, ``whole_input``).
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
from lossctl.registry import Violation
from lossctl.stats import weighted_sums
from tests.golden import all_cases

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


# Losses whose rows interact (batches, query pairs): a repeated or dropped row is not a reweighted one.
ROWS_INDEPENDENT = [spec.name for spec in SPECS if not spec.rows_interact]


def _base(name: str) -> tuple[lossctl.LossSpec, dict[str, np.ndarray], dict[str, Any]]:
    case = _base_case(name)
    if case is None:
        pytest.fail(f"loss '{name}' has no plain golden case (lossctl convention, unweighted, mean, >= 4 rows)")
    return lossctl.get(name), _arrays(case), case["params"]


@pytest.mark.parametrize("name", NAMES)
def test_names_and_aliases_resolve_to_their_loss(name: str) -> None:
    spec = lossctl.get(name)
    assert lossctl.get(name.upper()) is spec
    for alias in spec.aliases:
        assert lossctl.get(alias) is spec


@pytest.mark.parametrize("name", [spec.name for spec in SPECS if {"target", "pred"} <= set(spec.role_names)])
def test_arrays_given_positionally_are_the_target_then_the_prediction(name: str) -> None:
    # lossctl.get(NAME)(y_true, y_pred, ...), as scikit-learn: a loss taking the scores first (ranknet, listnet did)
    # silently computes another number from the same call. margin_ranking keeps torch's (x1, x2, y): its target
    # comes last, after both scores.
    roles = lossctl.get(name).role_names
    if name == "margin_ranking":
        assert roles == ("pred", "other", "target")
    else:
        assert roles.index("target") < roles.index("pred"), roles


def test_every_loss_has_golden_cases() -> None:
    covered = {case["loss"] for case in CASES}
    assert set(NAMES) <= covered, sorted(set(NAMES) - covered)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['loss']}-{c['id']}" for c in CASES])
def test_golden_reference(case: dict[str, Any]) -> None:
    spec = lossctl.get(case["loss"])
    weight = None if case["sample_weight"] is None else np.asarray(case["sample_weight"])
    value = spec(**_arrays(case), **case["params"], sample_weight=weight, reduction=case["reduction"],
                 convention=case["convention"])  # fmt: skip
    expected = np.asarray(case["expected"])  # one value, or one per output (multioutput=raw)
    assert np.shape(value) == expected.shape and np.isfinite(value).all()
    np.testing.assert_allclose(value, expected, rtol=1e-9, atol=0.0 if expected.all() else 1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_describe_names_every_parameter(name: str) -> None:
    page = describe(name)
    spec = lossctl.get(name)
    for param in spec.params:
        assert f"\n  {param.name} (" in page, param.name
    assert spec.formula in page and spec.follows in page and "when to use it" in page
    assert len(spec.when) > 40 and len(spec.doc) > 40


@pytest.mark.parametrize("name", [spec.name for spec in SPECS if not spec.order_dependent])
def test_row_permutation_invariance(name: str) -> None:
    spec, arrays, params = _base(name)
    order = np.random.default_rng(0).permutation(len(next(iter(arrays.values()))))
    permuted = {role: array[order] for role, array in arrays.items()}
    assert _close(_value(spec, arrays, params), _value(spec, permuted, params), 1e-11)


@pytest.mark.parametrize("name", ROWS_INDEPENDENT)
def test_integer_weights_equal_repeated_rows(name: str) -> None:
    spec, arrays, params = _base(name)
    rows = len(next(iter(arrays.values())))
    counts = np.random.default_rng(1).integers(1, 4, size=rows)
    repeated = {role: np.repeat(array, counts, axis=0) for role, array in arrays.items()}
    weighted = _value(spec, arrays, params, sample_weight=counts.astype(float))
    assert _close(weighted, _value(spec, repeated, params), 1e-11)


@pytest.mark.parametrize("name", [spec.name for spec in SPECS if spec.weights_scale])
def test_equal_weights_equal_no_weights(name: str) -> None:
    spec, arrays, params = _base(name)
    rows = len(next(iter(arrays.values())))
    assert _close(_value(spec, arrays, params, sample_weight=np.full(rows, 2.5)), _value(spec, arrays, params), 1e-11)


@pytest.mark.parametrize("name", ROWS_INDEPENDENT)
def test_zero_weight_equals_a_dropped_row(name: str) -> None:
    spec, arrays, params = _base(name)
    rows = len(next(iter(arrays.values())))
    weight = np.ones(rows)
    weight[1] = 0.0
    kept = {role: np.delete(array, 1, axis=0) for role, array in arrays.items()}
    assert _close(_value(spec, arrays, params, sample_weight=weight), _value(spec, kept, params), 1e-11)


@pytest.mark.parametrize("name", ROWS_INDEPENDENT)
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


def _violate(arrays: dict[str, np.ndarray], violation: Violation) -> None:
    """Apply the loss's declared violation to row 1."""
    array = arrays[violation.role]
    index = (1, violation.column) if array.ndim == 2 else (1,)
    array[index] = array[index] + violation.value if violation.add else violation.value


DECLARED = [spec.name for spec in SPECS if spec.violation is not None]


@pytest.mark.parametrize("name", [spec.name for spec in SPECS if spec.violation is None])
def test_losses_without_a_domain_take_any_finite_input(name: str) -> None:
    """A loss declaring no violation must evaluate its base case moved to large negative and positive values
    (an affine map keeps equal values equal, e.g. query ids): a loss with a domain that forgot to declare it
    fails here."""
    spec, arrays, params = _base(name)
    wide = {role: array * 1e3 - 5e2 for role, array in arrays.items()}
    assert math.isfinite(_value(spec, wide, params))


@pytest.mark.parametrize("name", DECLARED)
def test_domain_violations_exit_3_through_the_cli(name: str, tmp_path: Path, cli) -> None:
    spec, arrays, params = _base(name)
    violation = spec.violation
    assert violation is not None
    params = dict(violation.params) or params
    arrays = {role: array.copy() for role, array in arrays.items()}
    _violate(arrays, violation)
    _write_file(tmp_path / "d.parquet", arrays)
    args = ["eval", tmp_path / "d.parquet", "-l", name + "".join(f":{k}={_text(v)}" for k, v in params.items())]
    for role in spec.role_names:
        args += [f"--{role}", role] if role in ("pred", "target") else ["--col", f"{role}={role}"]
    run = cli(*args, "-o", tmp_path / "out.json")
    assert run.code == 3, run.err
    assert run.err.startswith("error: ") and "Traceback" not in run.err
    assert not (tmp_path / "out.json").exists()
