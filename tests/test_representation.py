"""The representation-learning losses: golden references, hand-computed values, batches and chunks, domain,
shape and parameter errors, and properties.

The golden cases come from tests/reference/generate_representation.py (torch float64: TripletMarginLoss,
CosineEmbeddingLoss, and F.cross_entropy on the similarity matrices of InfoNCE, NT-Xent and CLIP written out
batch by batch); each must agree to 1e-9 relative.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossctl
from lossctl.aggregates import MEAN
from lossctl.errors import DomainError, InputError, UsageError
from lossctl.losses.representation import BATCH_MEAN
from lossctl.stats import weighted_sums
from tests.golden import load_cases

CASES = load_cases("representation")
BATCH_LOSSES = ("info_nce", "nt_xent", "clip")
RTOL = 1e-9
I2 = np.eye(2)


def assert_close(actual: float, expected: float) -> None:
    """1e-9 relative; an expected 0 is compared absolutely (1e-12)."""
    if expected == 0.0:
        assert abs(actual) <= 1e-12, f"{actual!r} != 0"
    else:
        assert abs(actual - expected) <= RTOL * abs(expected), f"{actual!r} != {expected!r}"


def role_arrays(case: dict[str, Any]) -> list[Any]:
    return [case["inputs"][role] for role in lossctl.get(case["loss"]).role_names]


# --- golden references -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden(case: dict[str, Any]) -> None:
    spec = lossctl.get(case["loss"])
    value = spec(
        *role_arrays(case),
        sample_weight=case["sample_weight"],
        reduction=case["reduction"],
        convention=case["convention"],
        **case["params"],
    )
    assert_close(value, case["expected"])
    rows = spec.per_sample(*role_arrays(case), convention=case["convention"], **case["params"])
    assert len(rows) == len(case["expected_per_sample"])
    for actual, expected in zip(rows, case["expected_per_sample"], strict=True):
        assert_close(float(actual), expected)


def test_every_loss_and_convention_has_a_golden_case() -> None:
    covered = {(lossctl.get(case["loss"]).name, case["convention"]) for case in CASES}
    for spec in lossctl.list_losses("representation"):
        for convention in ("lossctl", *spec.conventions):
            assert (spec.name, convention) in covered, f"no golden case for {spec.name} --convention {convention}"


def test_the_representation_losses_are_registered() -> None:
    roles = {
        "contrastive": (("anchor", "vector"), ("other", "vector"), ("target", "scalar")),
        "triplet": (("anchor", "vector"), ("positive", "vector"), ("negative", "vector")),
        "cosine_embedding": (("anchor", "vector"), ("other", "vector"), ("target", "scalar")),
        "info_nce": (("query", "vector"), ("positive", "vector")),
        "nt_xent": (("anchor", "vector"), ("positive", "vector")),
        "clip": (("anchor", "vector"), ("positive", "vector")),
    }
    conventions = {"triplet": {"torch"}, "cosine_embedding": {"torch"}}
    for name, expected_roles in roles.items():
        spec = lossctl.get(name)
        assert tuple((role.name, role.shape) for role in spec.roles) == expected_roles, name
        assert set(spec.conventions) == conventions.get(name, set()), name
        assert spec.doc and "Example" in spec.doc, name
        assert spec.per_row, name
        batch = name in BATCH_LOSSES
        assert spec.batch_param == ("batch_size" if batch else None), name
        assert spec.aggregate is (BATCH_MEAN if batch else MEAN), name
        assert not spec.whole_input, name
    assert BATCH_MEAN.reductions == ("mean",)


# --- hand-computed values ----------------------------------------------------------------------------------------


def test_contrastive_by_hand() -> None:
    # d = [5, 1]; similar: 0.5 * 25 = 12.5; dissimilar with margin 2: 0.5 * (2 - 1)^2 = 0.5; mean 6.5.
    anchor, other = [[0.0, 0.0], [0.0, 0.0]], [[3.0, 4.0], [0.6, 0.8]]
    rows = lossctl.get("contrastive").per_sample(anchor, other, [1, 0], margin=2.0)
    np.testing.assert_allclose(rows, [12.5, 0.5], rtol=1e-15)
    assert lossctl.get("contrastive")(anchor, other, [1, 0], margin=2.0) == pytest.approx(6.5, rel=1e-15)
    # Zero distance: a similar pair costs 0, a dissimilar one 0.5 margin^2 = 0.5 (default margin 1).
    same = [[1.0, 2.0], [1.0, 2.0]]
    np.testing.assert_array_equal(lossctl.get("contrastive").per_sample(same, same, [1, 0]), [0.0, 0.5])


def test_triplet_by_hand() -> None:
    triplet = lossctl.get("triplet")
    # eps = 0: d(a, p) = 5, d(a, n) = 10 -> max(5 - 10 + 1, 0) = 0; n = (0, 1): max(5 - 1 + 1, 0) = 5.
    rows = triplet.per_sample([[0.0, 0.0]] * 2, [[3.0, 4.0]] * 2, [[6.0, 8.0], [0.0, 1.0]], eps=0.0)
    np.testing.assert_array_equal(rows, [0.0, 5.0])
    # swap: d(a, p) = 3, d(a, n) = 4, d(p, n) = 1: without swap max(3 - 4 + 1, 0) = 0; with it 3 - 1 + 1 = 3.
    a, p, n = [[0.0, 0.0]], [[3.0, 0.0]], [[4.0, 0.0]]
    assert triplet(a, p, n, eps=0.0) == 0.0
    assert triplet(a, p, n, eps=0.0, swap=True) == 3.0
    # p = 1: d(a, p) = |1| + |1| = 2, d(a, n) = 3; margin 2 gives 2 - 3 + 2 = 1.
    assert triplet(a, [[1.0, 1.0]], [[3.0, 0.0]], eps=0.0, p=1.0, margin=2.0) == 1.0
    # a = p = n: both distances are ||eps||_2 = eps sqrt(D), so the loss is exactly the margin.
    same = [[0.5, -1.0, 2.0]]
    assert triplet(same, same, same, margin=0.75) == 0.75


def test_triplet_eps_enters_inside_the_norm_as_torch() -> None:
    # torch's d(u, v) = ||u - v + eps||: d(a, p) = ||(1 + 0.5, 0 + 0.5)|| = sqrt(2.5) and d(a, n) = ||(0.5, 0.5)||
    # = sqrt(0.5), not ||u - v|| + eps; with margin 1: sqrt(2.5) - sqrt(0.5) + 1.
    value = lossctl.get("triplet")([[1.0, 0.0]], [[0.0, 0.0]], [[1.0, 0.0]], eps=0.5)
    assert value == pytest.approx(math.sqrt(2.5) - math.sqrt(0.5) + 1.0, rel=1e-15)


def test_cosine_embedding_by_hand() -> None:
    cosine = lossctl.get("cosine_embedding")
    # cos = 0 and 1 / sqrt 2: rows 1 - 0 = 1 and max(0, 0.7071 - 0) = 0.7071.
    rows = cosine.per_sample([[1.0, 0.0], [1.0, 0.0]], [[0.0, 2.0], [1.0, 1.0]], [1, -1])
    np.testing.assert_allclose(rows, [1.0, math.sqrt(0.5)], rtol=1e-12)
    # A zero embedding has cos = 0 / sqrt(e^2) = 0: a similar pair costs 1, a dissimilar one max(0, 0 - m).
    zero = [[0.0, 0.0]] * 2
    np.testing.assert_array_equal(cosine.per_sample(zero, zero, [1, -1], margin=-0.5), [1.0, 0.5])
    # Opposite vectors: cos = -1 (up to e / |a|^2 = 1e-12 / 25): a similar pair costs 2.
    assert cosine([[3.0, 4.0]], [[-3.0, -4.0]], [1]) == pytest.approx(2.0, rel=1e-12)


def test_cosine_embedding_adds_torch_float32_epsilon_to_the_squared_norms() -> None:
    # a = b = (1e-7, 1e-7, 1e-7, 1e-7, 1e-7): |a|^2 = 5e-14, and torch's EPSILON is float32(1e-12) =
    # 9.99999996e-13, so cos = 5e-14 / (5e-14 + 9.99999996e-13) and the similar pair costs 1 - cos.
    eps = float(np.float32(1e-12))
    tiny = [[1e-7] * 5]
    value = lossctl.get("cosine_embedding")(tiny, tiny, [1])
    assert value == pytest.approx(1.0 - 5e-14 / (5e-14 + eps), rel=1e-12)


def test_cosine_embedding_of_embeddings_whose_squared_norm_overflows() -> None:
    # |a|^2 = 2e400 overflowed: cos = 1 / inf = 0 and the similar pair cost 1 (torch's number too), not 1 - 1/sqrt 2;
    # with the dot product overflowing as well, inf / inf made the loss an 'overflow' error.
    cosine = lossctl.get("cosine_embedding")
    huge = [[1e200, 1e200], [1e200, 1e200], [1e200, 1e200], [1e308, -1e308]]
    other = [[1.0, 0.0], [1e200, 0.0], [0.0, 0.0], [1e308, 1e308]]
    rows = cosine.per_sample(huge, other, [1, 1, 1, -1], margin=-0.5)
    np.testing.assert_allclose(rows, [1.0 - math.sqrt(0.5), 1.0 - math.sqrt(0.5), 1.0, 0.5], rtol=1e-15)
    # parallel rows of 1e100 (s1 s2 overflows: sqrt(s1) sqrt(s2)) and 1e155 (normalised) round cos to 1 + 2^-52
    same = [[1e100, 1e100, 1e100], [1e155, 1e155, 1e155]]
    rows = cosine.per_sample(same, same, [1, 1])
    assert (rows >= 0.0).all() and (rows <= 2.3e-16).all(), rows


def test_norms_of_embeddings_whose_sum_of_squares_overflows() -> None:
    # The L2 norm of [1e200, 1e200] is 1.4e200, but sqrt(sum of squares) overflowed: triplet failed with 'the loss
    # overflows float64' (torch gives nan), and the batch losses normalised such a row to the zero vector (as torch
    # F.normalize does), which changed every similarity it enters; normalising is scale-free.
    a, p, n = [[1e200, 1e200]], [[1e200, -1e200]], [[0.0, 1e200]]
    # d(a, p) = ||(1e-6, 2e200)|| = 2e200, d(a, n) = ||(1e200, 1e-6)|| = 1e200: 2e200 - 1e200 + 1
    assert lossctl.get("triplet")(a, p, n) == pytest.approx(1e200, rel=1e-15)
    assert lossctl.get("triplet")(a, p, n, p=3.0) == pytest.approx(1e200, rel=1e-15)
    huge, plain, keys = [[1e200, 1e200], [1.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]], [[1.0, 1.0], [0.0, 1.0]]
    for loss in ("info_nce", "nt_xent", "clip"):
        spec = lossctl.get(loss)
        np.testing.assert_allclose(spec.per_sample(huge, keys), spec.per_sample(plain, keys), rtol=1e-14)


def test_batch_losses_by_hand() -> None:
    # q = k = I, T = 1: each row has logits (1, 0), its own key first: -log(e / (e + 1)) = log(1 + e^-1).
    one_direction = math.log1p(math.exp(-1.0))
    for loss in ("info_nce", "clip"):
        np.testing.assert_allclose(lossctl.get(loss).per_sample(I2, I2, temperature=1.0), [one_direction] * 2)
    # NT-Xent: view a_1 sees (a_2, p_1, p_2) with logits (0, 1, 0): -log(e / (e + 2)) = log(e + 2) - 1.
    np.testing.assert_allclose(
        lossctl.get("nt_xent").per_sample(I2, I2, temperature=1.0), [math.log(math.e + 2) - 1] * 2
    )
    # Batches of 2 over 3 rows: rows 0 and 1 as above, row 2 alone in its batch costs 0; mean (2 / 3) log(1 + e^-1).
    rows3 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    for loss in BATCH_LOSSES:
        values = lossctl.get(loss).per_sample(rows3, rows3, temperature=1.0, batch_size=2)
        assert values[2] == 0.0, loss
        assert lossctl.get(loss)(rows3, rows3, temperature=1.0, batch_size=2) == pytest.approx(values[:2].sum() / 3)
    assert lossctl.get("info_nce")(rows3, rows3, temperature=1.0, batch_size=2) == pytest.approx(2 / 3 * one_direction)


@pytest.mark.parametrize("loss", BATCH_LOSSES)
def test_batch_size_1_costs_nothing(loss: str) -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    np.testing.assert_array_equal(lossctl.get(loss).per_sample(x, y, batch_size=1), np.zeros(7))


def test_confident_rows_keep_their_digits() -> None:
    # T = 0.01: the own key leads by 100, so the loss is log1p(e^-100) = 3.7e-44 (NT-Xent: two other views,
    # log1p(2 e^-100)); a log of a sum rounding to 1 would give 0. T = 1e-3: e^-1000 underflows, exactly 0.
    tiny = math.log1p(math.exp(-100.0))
    for loss in ("info_nce", "clip"):
        np.testing.assert_allclose(lossctl.get(loss).per_sample(I2, I2, temperature=0.01), [tiny] * 2, rtol=1e-14)
    nt_xent = lossctl.get("nt_xent").per_sample(I2, I2, temperature=0.01)
    np.testing.assert_allclose(nt_xent, [math.log1p(2 * math.exp(-100.0))] * 2, rtol=1e-14)
    for loss in BATCH_LOSSES:
        np.testing.assert_array_equal(lossctl.get(loss).per_sample(I2, I2, temperature=1e-3), [0.0, 0.0])


def test_wrong_matches_at_a_tiny_temperature_are_exact() -> None:
    # q = I, k = the rows swapped, T = 1e-4: each row's own key has logit 0 and the other 1e4, so the loss
    # is 1e4 + log1p(e^-1e4) = 1e4 exactly, without overflow.
    swapped = I2[::-1]
    for loss in ("info_nce", "clip"):
        np.testing.assert_array_equal(lossctl.get(loss).per_sample(I2, swapped, temperature=1e-4), [1e4, 1e4])


def test_zero_embeddings_are_normalised_to_zero_as_torch() -> None:
    # F.normalize divides by max(||v||, 1e-12): a zero row stays zero, with logit 0 to every key. With q_2 = 0
    # and k = I at T = 1, row 2's logits are (0, 0): log 2; row 1's are (1, 0): log(1 + e^-1).
    query = np.array([[1.0, 0.0], [0.0, 0.0]])
    rows = lossctl.get("info_nce").per_sample(query, I2, temperature=1.0)
    np.testing.assert_allclose(rows, [math.log1p(math.exp(-1.0)), math.log(2.0)], rtol=1e-15)


# --- batches and chunks ------------------------------------------------------------------------------------------


def chunk_stats(loss: str, parts: list[slice], x: np.ndarray, y: np.ndarray, w: np.ndarray, params: dict) -> Any:
    spec = lossctl.get(loss)
    resolved = spec.resolve_params(params)
    return sum(weighted_sums(spec.func(x[part], y[part], **resolved), w[part]) for part in parts), resolved


@pytest.mark.parametrize("loss", BATCH_LOSSES)
def test_chunks_cut_at_batch_boundaries_add_up_to_the_whole(loss: str) -> None:
    # The engine hands a batch loss chunks of a multiple of batch_size rows; adding their statistics and
    # finalizing once must give the value of the whole input.
    rng = np.random.default_rng(11)
    x, y, w = rng.normal(size=(23, 4)), rng.normal(size=(23, 4)), rng.uniform(0.1, 2.0, 23)
    params = {"batch_size": 5, "temperature": 0.3}
    whole = lossctl.get(loss)(x, y, sample_weight=w, **params)
    stats, resolved = chunk_stats(loss, [slice(0, 10), slice(10, 15), slice(15, 23)], x, y, w, params)
    assert BATCH_MEAN.finalize(stats, "mean", resolved) == pytest.approx(whole, rel=1e-14)
    # Cut inside a batch, the batches (and so the negatives) change: the value is not the same.
    stats, resolved = chunk_stats(loss, [slice(0, 7), slice(7, 23)], x, y, w, params)
    assert BATCH_MEAN.finalize(stats, "mean", resolved) != pytest.approx(whole, rel=1e-6)


@pytest.mark.parametrize("loss", BATCH_LOSSES)
def test_large_batches_are_computed_in_blocks(loss: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # With a block of 16 logits the similarity matrices are built a few rows at a time: same values.
    from lossctl.losses import representation

    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(19, 3)), rng.normal(size=(19, 3))
    expected = lossctl.get(loss).per_sample(x, y, batch_size=8, temperature=0.2)
    monkeypatch.setattr(representation, "_BLOCK", 16)
    np.testing.assert_allclose(lossctl.get(loss).per_sample(x, y, batch_size=8, temperature=0.2), expected, rtol=1e-13)


@pytest.mark.parametrize("loss", BATCH_LOSSES)
def test_each_batch_is_evaluated_on_its_own(loss: str) -> None:
    rng = np.random.default_rng(13)
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
    rows = lossctl.get(loss).per_sample(x, y, batch_size=4, temperature=0.4)
    for part in (slice(0, 4), slice(4, 8), slice(8, 10)):
        alone = lossctl.get(loss).per_sample(x[part], y[part], batch_size=256, temperature=0.4)
        np.testing.assert_allclose(rows[part], alone, rtol=1e-14)


# --- domain, shape and parameter errors --------------------------------------------------------------------------


def domain_message(expected: str, bad: float, count: int, first: int) -> str:
    rows = "row" if count == 1 else "rows"
    return f"'target': expected {expected}, got {bad:g} in {count} {rows} (first: row {first})"


@pytest.mark.parametrize(
    ("loss", "target", "expected", "bad", "count", "first"),
    [
        ("contrastive", [1, 2, 0, 2], "labels 0 or 1", 2, 2, 1),
        ("contrastive", [1, -1, 0, 1], "labels 0 or 1", -1, 1, 1),
        ("cosine_embedding", [1, -1, 0, 1], "labels 1 or -1", 0, 1, 2),
        ("cosine_embedding", [0.5, 1, -1, 1], "labels 1 or -1", 0.5, 1, 0),
    ],
)
def test_labels_outside_the_domain(
    loss: str, target: list[float], expected: str, bad: float, count: int, first: int
) -> None:
    spec = lossctl.get(loss)
    embeddings = np.ones((4, 2))
    message = domain_message(expected, bad, count, first)
    for convention in ("lossctl", *spec.conventions):
        with pytest.raises(DomainError, match=f"^{re.escape(message)}$"):
            spec(embeddings, embeddings, target, convention=convention)


@pytest.mark.parametrize(
    ("loss", "widths", "message"),
    [
        ("contrastive", (3, 2), "contrastive: 'anchor' has 3 columns but 'other' has 2"),
        ("cosine_embedding", (2, 5), "cosine_embedding: 'anchor' has 2 columns but 'other' has 5"),
        ("triplet", (4, 4, 3), "triplet: 'anchor' has 4 columns but 'negative' has 3"),
        ("info_nce", (4, 3), "info_nce: 'query' has 4 columns but 'positive' has 3"),
        ("nt_xent", (2, 3), "nt_xent: 'anchor' has 2 columns but 'positive' has 3"),
        ("clip", (8, 6), "clip: 'anchor' has 8 columns but 'positive' has 6"),
        ("cosine_embedding", (1, 2), "cosine_embedding: 'anchor' has 1 column but 'other' has 2"),  # was "1 columns"
    ],
)
def test_embeddings_of_different_widths(loss: str, widths: tuple[int, ...], message: str) -> None:
    spec = lossctl.get(loss)
    arrays_ = [np.ones((3, width)) for width in widths]
    if spec.role_names[-1] == "target":
        arrays_.append(np.ones(3))
    full = message + "; the embeddings must have the same width"
    with pytest.raises(InputError, match=f"^{re.escape(full)}$"):
        spec(*arrays_)


def test_embeddings_without_columns() -> None:
    # as every vector role with no values (the first role checked is named)
    message = "'query' holds empty vectors (row 0 has no values); a vector needs at least one value"
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        lossctl.get("info_nce")(np.zeros((3, 0)), np.zeros((3, 0)))


def test_an_embedding_role_needs_a_matrix() -> None:
    with pytest.raises(InputError, match=re.escape("'anchor' must be a 2-D array (rows x values), got shape (3,)")):
        lossctl.get("contrastive")([1.0, 2.0, 3.0], np.ones((3, 1)), [1, 0, 1])


@pytest.mark.parametrize(
    ("loss", "params", "message"),
    [
        ("info_nce", {"temperature": 0.0}, "info_nce: parameter 'temperature' must be > 0, got 0"),
        ("clip", {"temperature": -0.1}, "clip: parameter 'temperature' must be > 0, got -0.1"),
        ("nt_xent", {"batch_size": 0}, "nt_xent: parameter 'batch_size' must be >= 1, got 0"),
        ("info_nce", {"batch_size": 2.5}, "info_nce: parameter 'batch_size' must be an integer, got 2.5"),
        ("triplet", {"margin": 0.0}, "triplet: parameter 'margin' must be > 0, got 0"),
        ("triplet", {"p": -1.0}, "triplet: parameter 'p' must be > 0, got -1"),
        ("triplet", {"eps": -1e-6}, "triplet: parameter 'eps' must be >= 0, got -1e-06"),
        ("triplet", {"swap": "yes"}, "triplet: parameter 'swap' must be true or false, got the text 'yes'"),
        ("cosine_embedding", {"margin": 1.5}, "cosine_embedding: parameter 'margin' must be in [-1, 1], got 1.5"),
        ("contrastive", {"margin": -1.0}, "contrastive: parameter 'margin' must be >= 0, got -1"),
        ("clip", {"margin": 1.0}, "loss 'clip' has no parameter 'margin'; its parameters: temperature, batch_size"),
    ],
)
def test_parameter_errors(loss: str, params: dict[str, Any], message: str) -> None:
    spec = lossctl.get(loss)
    arrays_ = [np.ones((2, 2)) for _ in spec.roles]
    if spec.role_names[-1] == "target":
        arrays_[-1] = np.ones(2)
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        spec(*arrays_, **params)


@pytest.mark.parametrize("loss", BATCH_LOSSES)
def test_batch_losses_have_only_the_mean_and_no_library_convention(loss: str) -> None:
    with pytest.raises(UsageError, match=f"^loss '{loss}' has only the mean reduction$"):
        lossctl.get(loss)(I2, I2, reduction="sum")
    with pytest.raises(UsageError, match=f"^loss '{loss}' has no 'torch' convention; it has: lossctl$"):
        lossctl.get(loss)(I2, I2, convention="torch")


def test_batch_size_parses_as_an_integer() -> None:
    param = lossctl.get("info_nce").param("batch_size")
    assert param.parse("64") == 64 and isinstance(param.parse("64"), int)
    assert param.parse("64.0") == 64 and isinstance(param.parse("64.0"), int)
    with pytest.raises(UsageError, match=re.escape("parameter 'batch_size' must be an integer, got 6.5")):
        param.parse("6.5")


# --- properties --------------------------------------------------------------------------------------------------

finite = st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False)


@st.composite
def pairs(draw: Any, width: int = 3) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 12))
    x = draw(arrays(np.float64, (n, width), elements=finite))
    y = draw(arrays(np.float64, (n, width), elements=finite))
    return x, y


@given(pairs(), st.integers(1, 6), st.floats(0.05, 5.0))
@settings(max_examples=100, deadline=None)
def test_clip_is_symmetric_in_its_two_roles(data: tuple, batch_size: int, temperature: float) -> None:
    x, y = data
    clip = lossctl.get("clip")
    forward = clip.per_sample(x, y, batch_size=batch_size, temperature=temperature)
    np.testing.assert_allclose(
        forward, clip.per_sample(y, x, batch_size=batch_size, temperature=temperature), rtol=1e-12, atol=1e-15
    )


@given(pairs(), st.integers(1, 6), st.floats(0.05, 5.0))
@settings(max_examples=100, deadline=None)
def test_batch_losses_are_finite_non_negative_and_bounded(data: tuple, batch_size: int, temperature: float) -> None:
    x, y = data
    for loss, candidates in (("info_nce", batch_size), ("clip", batch_size), ("nt_xent", 2 * batch_size - 1)):
        rows = lossctl.get(loss).per_sample(x, y, batch_size=batch_size, temperature=temperature)
        assert np.all(np.isfinite(rows)) and np.all(rows >= 0), loss
        assert np.all(rows <= 2 / temperature + math.log(candidates) + 1e-9), loss


@given(pairs(), st.integers(1, 5), arrays(np.float64, 12, elements=st.floats(0.01, 1e3)))
@settings(max_examples=100, deadline=None)
def test_batch_losses_ignore_the_length_of_the_embeddings(data: tuple, batch_size: int, scale: np.ndarray) -> None:
    x, y = data
    keep = (np.linalg.norm(x, axis=1) > 1e-6) & (np.linalg.norm(y, axis=1) > 1e-6)
    x, y = x[keep], y[keep]
    if len(x) == 0:
        return
    for loss in BATCH_LOSSES:
        spec = lossctl.get(loss)
        rows = spec.per_sample(x, y, batch_size=batch_size, temperature=0.5)
        scaled = spec.per_sample(x * scale[: len(x), None], y, batch_size=batch_size, temperature=0.5)
        np.testing.assert_allclose(scaled, rows, rtol=1e-9, atol=1e-12, err_msg=loss)


@given(pairs(width=4), st.floats(0.1, 3.0), st.floats(0.0, 1e-3), st.sampled_from([1.0, 2.0, 3.0]))
@settings(max_examples=100, deadline=None)
def test_triplet_swap_never_lowers_the_loss(data: tuple, margin: float, eps: float, p: float) -> None:
    anchor, positive = data
    negative = anchor[::-1] + 1.0
    triplet = lossctl.get("triplet")
    plain = triplet.per_sample(anchor, positive, negative, margin=margin, eps=eps, p=p)
    swapped = triplet.per_sample(anchor, positive, negative, margin=margin, eps=eps, p=p, swap=True)
    assert np.all(swapped >= plain) and np.all(plain >= 0)


@given(pairs(), st.floats(-1.0, 1.0))
@settings(max_examples=100, deadline=None)
def test_pair_losses_are_bounded(data: tuple, margin: float) -> None:
    x, y = data
    labels01 = (np.arange(len(x)) % 2).astype(np.float64)
    cosine = lossctl.get("cosine_embedding").per_sample(x, y, 2 * labels01 - 1, margin=margin)
    # 1 - cos may round to -2.2e-16 for parallel vectors, as in torch (the same operations, unclamped).
    assert np.all(cosine >= -1e-15) and np.all(cosine <= 2 + 1e-12)
    contrastive = lossctl.get("contrastive").per_sample(x, y, labels01, margin=abs(margin))
    assert np.all(contrastive[labels01 == 0] <= 0.5 * margin**2 + 1e-12) and np.all(contrastive >= 0)


def test_compare_of_two_files_for_a_loss_without_a_pred_role(cli: Any, write: Any) -> None:
    """compare of two files with `-l triplet` (roles anchor, positive, negative) demanded a 'pred' column
    (exit 2 'no column for role pred'); each side is now eval's value, and the delta theirs."""
    rows = [([0, 0], [1, 0], [3, 0]), ([1, 1], [1, 2], [1, 1.5])]
    other = [([0, 0], [0.5, 0], [0.2, 0]), ([1, 1], [1, 1.2], [4, 1])]
    header = "a,pos,neg\n"
    base = write("base.csv", header + "".join(f'"{a}","{p}","{n}"\n' for a, p, n in rows))
    cand = write("cand.csv", header + "".join(f'"{a}","{p}","{n}"\n' for a, p, n in other))
    roles = ["-l", "triplet", "--col", "anchor=a", "--col", "positive=pos", "--col", "negative=neg", "-f", "json"]
    run = cli("compare", base, cand, *roles)
    assert run.code == 0, run.err
    [record] = json.loads(run.out)["results"]
    values = [json.loads(cli("eval", path, *roles).out)["results"][0]["value"] for path in (base, cand)]
    assert [record["baseline"], record["candidate"]] == pytest.approx(values, rel=1e-12)
    assert record["delta"] == pytest.approx(values[1] - values[0], rel=1e-12)
    assert record["verdict"] == ("worse" if values[1] > values[0] else "better")
