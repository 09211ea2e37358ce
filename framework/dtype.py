"""Dtype normalisation and MXNet's promotion rules (API.md §2 items 1-2).

- float32 is the default floating type: Python lists and scalars become float32.
- A Python scalar never changes an array's dtype (``int32_arr * 2.5`` is int32), except that
  true division and float-valued math on integers give the default float type.
- Mixing an integer (or bool) array with a floating array gives the floating array's type
  (``float32 + int32 -> float32``); otherwise NumPy's promotion applies.
"""

from __future__ import annotations

from typing import Any

import numpy

__all__ = [
    "DTypeLike", "default_float", "normalize", "binary_result", "scalar_result",
    "float_result", "is_float", "is_int", "is_bool", "SUPPORTED",
]

DTypeLike = Any

_DEFAULT_FLOAT = numpy.dtype(numpy.float32)

#: dtypes arrays may have (MXNet's list, plus the 2.0 unsigned ones)
SUPPORTED = frozenset(numpy.dtype(t) for t in (
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
    "uint32", "uint64", "bool", "complex64", "complex128"))

_CACHE: dict[Any, numpy.dtype] = {}


def default_float() -> numpy.dtype:
    """The default floating dtype (float32)."""
    return _DEFAULT_FLOAT


def normalize(dtype: DTypeLike, arg: str = "dtype") -> numpy.dtype | None:
    """Turn any dtype spelling into a ``numpy.dtype``; ``None`` stays ``None``."""
    if dtype is None:
        return None
    try:
        return _CACHE[dtype]
    except (KeyError, TypeError):
        pass
    try:
        dt = numpy.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{arg}: {dtype!r} is not a valid dtype") from exc
    if dt not in SUPPORTED:
        raise TypeError(f"{arg}: dtype {dt} is not supported; expected one of "
                        f"{sorted(str(d) for d in SUPPORTED)}")
    try:
        _CACHE[dtype] = dt
    except TypeError:
        pass
    return dt


def is_float(dt: numpy.dtype) -> bool:
    return dt.kind in "fc"


def is_int(dt: numpy.dtype) -> bool:
    return dt.kind in "iu"


def is_bool(dt: numpy.dtype) -> bool:
    return dt.kind == "b"


def binary_result(a: numpy.dtype, b: numpy.dtype) -> numpy.dtype:
    """Result dtype of an op between two arrays."""
    if a is b or a == b:
        return a
    fa, fb = a.kind in "fc", b.kind in "fc"
    if fa and not fb:
        return a
    if fb and not fa:
        return b
    return numpy.promote_types(a, b)


def scalar_result(a: numpy.dtype, scalar: Any) -> numpy.dtype:
    """Result dtype of an op between an array of dtype ``a`` and a Python scalar.

    The array's dtype wins (MXNet), except for bool arrays, which take the scalar's kind:
    ``bool + 1 -> int64``, ``bool * 0.5 -> float32``.
    """
    if a.kind != "b" or isinstance(scalar, (bool, numpy.bool_)):
        return a
    if isinstance(scalar, (int, numpy.integer)):
        return numpy.dtype(numpy.int64)
    return _DEFAULT_FLOAT


def float_result(a: numpy.dtype) -> numpy.dtype:
    """Result dtype of float-valued math (exp, sqrt, true division) on dtype ``a``."""
    return a if a.kind in "fc" else _DEFAULT_FLOAT
