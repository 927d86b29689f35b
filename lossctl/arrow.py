"""NumPy arrays to Arrow and back without pandas, and small selections without ``pyarrow.compute``.

``pa.array`` and ``Array.to_numpy`` (and so ``np.asarray`` of an Arrow array) import pandas on their first
call when it is installed: 0.2 s of every run, more than the loss math of a 10M-row file. These build
arrays from their buffers instead. ``Array.take``, ``is_null`` and ``cast`` import ``pyarrow.compute``
(30 ms); a ``--by`` column of a few text values needs only a handful of values taken, done by slices.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_TYPES = {
    np.dtype(np.uint16): pa.uint16(),
    np.dtype(np.int32): pa.int32(),
    np.dtype(np.int64): pa.int64(),
    np.dtype(np.float64): pa.float64(),
}


def to_arrow(values: np.ndarray) -> pa.Array:
    """A 1-D NumPy array of uint16, int32, int64 or float64 as an Arrow array sharing its memory."""
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(_TYPES[values.dtype], len(values), [None, pa.py_buffer(values)])


def plain(data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """``data`` with each column as :func:`plain_column` makes it; data with no column to change as it is (its schema
    is looked at once per batch, no row is)."""
    if not any(_changed(kind) for kind in data.schema.types):
        return data
    columns = [plain_column(column) for column in data.columns]
    fields = [field.with_type(column.type) for field, column in zip(data.schema, columns, strict=True)]
    schema = pa.schema(fields, metadata=data.schema.metadata)
    if isinstance(data, pa.Table):
        return pa.Table.from_arrays(columns, schema=schema)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


# Binary layouts and the text layouts with the same buffers: bytes that are valid UTF-8 are read as that text.
_TEXT_OF_BYTES = {pa.binary(): pa.string(), pa.large_binary(): pa.large_string(), pa.binary_view(): pa.string_view()}
# View layouts (polars' text) and the offset layouts holding the same values, which the key index hashes.
_OFFSETS_OF_VIEWS = {pa.string_view(): pa.large_string(), pa.binary_view(): pa.large_binary()}


def _changed(kind: pa.DataType) -> bool:
    return (
        isinstance(kind, pa.BaseExtensionType)
        or kind in _TEXT_OF_BYTES
        or kind in _OFFSETS_OF_VIEWS
        or pa.types.is_list_view(kind)
        or pa.types.is_large_list_view(kind)
        or pa.types.is_run_end_encoded(kind)
        or pa.types.is_decimal32(kind)
        or pa.types.is_decimal64(kind)
    )


def plain_column(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A column in the types and layouts the readers, keys and converters know; any other column as it is.

    - A ``uuid`` is its canonical text (``00000000-0000-0000-0000-000000000001``), as Python's ``uuid`` writes it:
      its 16 bytes were keys of NUL and control characters in every output.
    - Another extension type (Arrow's ``json``, ``bool8``, ``fixed_shape_tensor``; pandas' ``period`` and
      ``interval``) is its storage (text, int8, a fixed-size list, ordinals, a struct), zero-copy, as a file read
      without the package that registered the type (pandas) shows it.
    - A list view is the list of the same values, a run-end encoded column its decoded values (both copy).
    - Bytes (a Parquet ``BYTE_ARRAY`` column without its UTF-8 annotation, NumPy ``S`` arrays) that are valid UTF-8
      are that text, zero-copy after one check of the bytes: as text they are class labels, a ``positive`` label
      and numbers written as text, which as bytes matched no label typed as text.
    - A ``string_view`` or ``binary_view`` column (polars' text) is the ``large_string`` or ``large_binary`` of the
      same values (a copy): keys are hashed from offsets (``--on`` refused the views as an internal error).
    - A ``decimal32`` or ``decimal64`` column is the ``decimal128`` of the same precision and scale (a copy): Arrow
      has no hash kernel for them (``--by``, ``qid`` and ``--on`` keys, labels), and no exact text for some."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    kind = column.type
    if isinstance(kind, pa.UuidType):
        chunks, kind = [_uuid_text(chunk.storage) for chunk in chunks], pa.string()
    if isinstance(kind, pa.BaseExtensionType):
        chunks, kind = [chunk.storage for chunk in chunks], kind.storage_type
    if pa.types.is_list_view(kind) or pa.types.is_large_list_view(kind):
        kind = (pa.large_list if pa.types.is_large_list_view(kind) else pa.list_)(kind.value_field)
        chunks = [_list_of_view(chunk, kind) for chunk in chunks]
    if pa.types.is_run_end_encoded(kind):
        import pyarrow.compute as pc

        chunks, kind = [pc.run_end_decode(chunk) for chunk in chunks], kind.value_type
    if pa.types.is_decimal32(kind) or pa.types.is_decimal64(kind):
        kind = pa.decimal128(kind.precision, kind.scale)
        chunks = [chunk.cast(kind) for chunk in chunks]
    text = _TEXT_OF_BYTES.get(kind)
    if text is not None:
        decoded = [_decoded(chunk, text) for chunk in chunks]
        if all(chunk is not None for chunk in decoded):
            chunks, kind = decoded, text
    offsets = _OFFSETS_OF_VIEWS.get(kind)
    if offsets is not None:
        chunks, kind = [chunk.cast(offsets) for chunk in chunks], offsets
    return pa.chunked_array(chunks, kind) if isinstance(column, pa.ChunkedArray) else chunks[0]


def _uuid_text(storage: pa.Array) -> pa.Array:
    """The 16-byte values of a ``uuid`` column's storage as their text, 8-4-4-4-12 lower-case hex digits."""
    rows = len(storage)
    raw = np.frombuffer(storage.buffers()[1], dtype=np.uint8, count=16 * rows, offset=16 * storage.offset)
    raw = raw.reshape(rows, 16)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    text = np.full((rows, 36), ord("-"), dtype=np.uint8)
    hexed = [place for place in range(36) if place not in (8, 13, 18, 23)]
    text[:, hexed[0::2]], text[:, hexed[1::2]] = digits[raw >> 4], digits[raw & 15]
    offsets = np.arange(rows + 1, dtype=np.int32) * 36
    nulls = missing(storage)
    validity = pa.py_buffer(np.packbits(~nulls, bitorder="little")) if nulls.any() else None
    return pa.Array.from_buffers(pa.string(), rows, [validity, pa.py_buffer(offsets), pa.py_buffer(text)])


def _list_of_view(view: pa.Array, kind: pa.DataType) -> pa.Array:
    """A list view (each row's values anywhere in the child array) as the list array of ``kind`` holding the same
    rows, the child's values taken in row order: pyarrow's own cast (26.0) gives a list with invalid offsets."""
    large = pa.types.is_large_list(kind)
    dtype = np.int64 if large else np.int32
    nulls = missing(view)
    sizes = np.where(nulls, 0, integers(view.sizes)).astype(dtype)
    bounds = np.zeros(len(view) + 1, dtype=dtype)
    np.cumsum(sizes, out=bounds[1:])
    positions = np.arange(bounds[-1], dtype=dtype) + np.repeat(integers(view.offsets) - bounds[:-1], sizes)
    mask = pa.array(nulls) if nulls.any() else None
    lists = pa.LargeListArray if large else pa.ListArray
    return lists.from_arrays(to_arrow(bounds), take(view.values, positions), type=kind, mask=mask)


def _decoded(array: pa.Array, text: pa.DataType) -> pa.Array | None:
    """``array``'s bytes as text of type ``text``, or ``None`` when they are not UTF-8."""
    candidate = pa.Array.from_buffers(text, len(array), array.buffers(), array.null_count, array.offset)
    try:
        candidate.validate(full=True)
    except pa.ArrowInvalid:
        return None
    return candidate


def fixed_width(array: pa.Array, dtype: np.dtype | type) -> np.ndarray:
    """The values buffer of a fixed-width array as NumPy ``dtype`` (zero-copy), whatever its nulls hold."""
    dtype = np.dtype(dtype)
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def integers(array: pa.Array) -> np.ndarray:
    """An integer or temporal Arrow array's values as NumPy integers of the same width and sign (zero-copy),
    whatever its nulls hold."""
    signed = not pa.types.is_unsigned_integer(array.type)
    return fixed_width(array, np.dtype(f"<{'i' if signed else 'u'}{array.type.bit_width // 8}"))


def value_offsets(array: pa.Array) -> np.ndarray:
    """The ``len + 1`` offsets of a string or binary array (large ones: int64) into its bytes, zero-copy."""
    wide = pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type)
    dtype = np.dtype(np.int64 if wide else np.int32)
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array) + 1, offset=array.offset * dtype.itemsize)


def booleans(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a NumPy bool array (nulls as False), from its bit-packed buffers."""
    window = slice(array.offset, array.offset + len(array))
    values = np.unpackbits(np.frombuffer(array.buffers()[1], dtype=np.uint8), bitorder="little")[window].astype(bool)
    if array.null_count:
        values &= np.unpackbits(np.frombuffer(array.buffers()[0], dtype=np.uint8), bitorder="little")[window] == 1
    return values


# Below this many pairs, values are compared as Python objects: importing pyarrow.compute costs 30 ms.
_COMPARED_IN_PYTHON = 4096
# Up to this many values are taken by slices (1.4 us each) rather than by pyarrow.compute's take.
_TAKEN_BY_SLICES = 1024


def missing(array: pa.Array) -> np.ndarray:
    """Whether each value of ``array`` is missing, from its validity bitmap."""
    if not array.null_count:
        return np.zeros(len(array), dtype=bool)
    validity = array.buffers()[0]
    if validity is None:  # the null type: every value is missing
        return np.ones(len(array), dtype=bool)
    window = slice(array.offset, array.offset + len(array))
    return np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[window] == 0


def blanks_to_nulls(array: pa.Array) -> pa.Array:
    """A string or large-string array with its empty strings made missing: a new validity bitmap over the same
    offsets and bytes (``pc.if_else`` with a scalar would import pyarrow.compute, and ``pa.scalar`` pandas)."""
    if not len(array):
        return array
    offsets = value_offsets(array)
    keep = (offsets[1:] != offsets[:-1]) & ~missing(array)
    if keep.all():
        return array
    valid = np.zeros(array.offset + len(array), dtype=bool)
    valid[array.offset :] = keep
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    buffers = array.buffers()
    return pa.Array.from_buffers(array.type, len(array), [validity, buffers[1], buffers[2]], offset=array.offset)


def nans_to_nulls(array: pa.Array) -> pa.Array:
    """A float32 or float64 array with its NaNs made missing: a new validity bitmap over the same values."""
    if not len(array):
        return array
    values = fixed_width(array, np.float32 if pa.types.is_float32(array.type) else np.float64)
    keep = ~np.isnan(values) & ~missing(array)
    if keep.all():
        return array
    valid = np.zeros(array.offset + len(array), dtype=bool)
    valid[array.offset :] = keep
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(array.type, len(array), [validity, array.buffers()[1]], offset=array.offset)


def take(array: pa.Array, positions: np.ndarray) -> pa.Array:
    """``array[positions]`` as Arrow (``positions``: a 1-D NumPy integer array)."""
    if len(positions) > _TAKEN_BY_SLICES:
        return array.take(to_arrow(positions.astype(np.int64, copy=False)))
    if not len(positions):
        return array.slice(0, 0)
    return pa.concat_arrays([array.slice(position, 1) for position in positions.tolist()])


def equal_values(left: pa.Array, right: pa.Array) -> np.ndarray:
    """Whether ``left[i] == right[i]`` for each ``i`` (two arrays of one type, no nulls)."""
    if len(left) <= _COMPARED_IN_PYTHON:
        return np.array([a == b for a, b in zip(left.to_pylist(), right.to_pylist(), strict=True)], dtype=bool)
    import pyarrow.compute as pc

    return booleans(pc.equal(left, right))
