"""``compare`` of two Parquet files: columns stored in the same bytes are equal without decoding (io/stored.py);
any other difference leaves them to the row-by-row checks, which still catch every differing row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.errors import InputError
from lossctl.io import open_input
from lossctl.io.stored import same_stored_columns

N = 3_000


def _tables(seed: int = 0) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=N)
    shared = {"id": np.arange(N), "y_true": y, "region": [f"r{i % 4}" for i in range(N)]}
    baseline = pa.table({**shared, "y_pred": y + rng.normal(0, 0.5, N)})
    candidate = pa.table({**shared, "y_pred": y + rng.normal(0, 0.4, N)})
    return baseline, candidate


def _write(table: pa.Table, path: Path, **options: object) -> Path:
    pq.write_table(table, path, row_group_size=700, **options)  # type: ignore[arg-type]
    return path


def _same(a: Path, b: Path, names: list[str]) -> list[str]:
    return same_stored_columns(open_input(str(a)), open_input(str(b)), names)


def test_columns_written_alike_are_found_equal_and_others_not(tmp_path: Path) -> None:
    baseline, candidate = _tables()
    a, b = _write(baseline, tmp_path / "a.parquet"), _write(candidate, tmp_path / "b.parquet")
    assert _same(a, b, ["id", "y_true", "region", "y_pred"]) == ["id", "y_true", "region"]
    changed = candidate.set_column(1, "y_true", pa.array(np.r_[baseline["y_true"].to_numpy()[:-1], 7.0]))
    assert _same(a, _write(changed, tmp_path / "c.parquet"), ["id", "y_true"]) == ["id"]  # one value in 3,000
    other_codec = _write(candidate, tmp_path / "d.parquet", compression="zstd")
    assert _same(a, other_codec, ["id", "y_true"]) == []  # equal values, other bytes: left to the row checks
    other_groups = tmp_path / "e.parquet"
    pq.write_table(candidate, other_groups, row_group_size=1000)
    assert _same(a, other_groups, ["id", "y_true"]) == []


def test_datasets_of_several_files_compare_file_by_file(tmp_path: Path) -> None:
    baseline, candidate = _tables()
    for name, table in (("a", baseline), ("b", candidate)):
        (tmp_path / name).mkdir()
        for part in range(3):
            _write(table.slice(part * 1000, 1000), tmp_path / name / f"part-{part}.parquet")
    assert same_stored_columns(
        open_input(str(tmp_path / "a")), open_input(str(tmp_path / "b")), ["id", "y_true", "y_pred"]
    ) == ["id", "y_true"]


def test_a_nested_column_is_left_to_the_row_checks(tmp_path: Path) -> None:
    table = pa.table({"v": pa.array([[1.0, 2.0]] * 10), "y": np.arange(10.0)})
    a, b = _write(table, tmp_path / "a.parquet"), _write(table, tmp_path / "b.parquet")
    assert _same(a, b, ["v", "y"]) == ["y"]


@pytest.mark.parametrize("codec", ["snappy", "zstd"])
def test_compare_gives_the_same_numbers_with_and_without_the_shortcut(tmp_path: Path, codec: str) -> None:
    """With the candidate written alike (targets and ids skipped) or with another codec (both decoded and checked
    row by row), every value and interval is the same."""
    baseline, candidate = _tables(3)
    a = _write(baseline, tmp_path / "a.parquet")
    b = _write(candidate, tmp_path / "b.parquet", compression=codec)
    report = lossctl.compare(a, b, losses="mse,mae", bootstrap=30, seed=2, chunk_rows=500)
    reference = lossctl.compare(tmp_path / "a.parquet", b, losses="mse,mae", bootstrap=30, seed=2, chunk_rows=500,
                                on="id")  # fmt: skip
    for record, expected in zip(report.results, reference.results, strict=True):
        assert (record.baseline, record.candidate) == pytest.approx((expected.baseline, expected.candidate), rel=1e-12)
        assert record.ci == pytest.approx(expected.ci, rel=1e-12)


@pytest.mark.parametrize(
    ("column", "rows", "message"),
    [
        ("y_true", [2_345], r"the targets differ: column 'y_true' .* at row 2345"),  # one target moved by 1
        ("id", [10, 11], r"'id'.* row 10"),  # two ids swapped: the rows are not aligned
    ],
)
def test_a_column_that_differs_in_a_row_is_still_an_error(
    tmp_path: Path, column: str, rows: list[int], message: str
) -> None:
    baseline, candidate = _tables()
    values = candidate[column].to_numpy().copy()
    values[rows] = values[rows[::-1]] + (1 if len(rows) == 1 else 0)
    a = _write(baseline, tmp_path / "a.parquet")
    b = _write(
        candidate.set_column(candidate.schema.get_field_index(column), column, pa.array(values)), tmp_path / "b.parquet"
    )
    with pytest.raises(InputError, match=message):
        lossctl.compare(a, b, losses="mse")


def test_a_later_file_without_the_column_is_named_by_the_reader(tmp_path: Path) -> None:
    baseline, candidate = _tables()
    for name, table in (("a", baseline), ("b", candidate)):
        (tmp_path / name).mkdir()
        _write(table.slice(0, 1000), tmp_path / name / "part-0.parquet")
        _write(table.slice(1000).drop_columns(["id"]), tmp_path / name / "part-1.parquet")
    assert same_stored_columns(open_input(str(tmp_path / "a")), open_input(str(tmp_path / "b")), ["id"]) == []
    with pytest.raises(InputError, match=r"part-1\.parquet lacks the column 'id' that .*part-0\.parquet has"):
        lossctl.compare(tmp_path / "a", tmp_path / "b", losses="mse")
