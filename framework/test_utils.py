"""Test helpers with MXNet's names (``mxnet.test_utils``): comparisons with per-dtype tolerances,
random inputs, default devices, environment scoping and finite-difference gradient checks.

This is the top layer: it may import any framework module and none may import it.

>>> from framework import np
>>> from framework.test_utils import assert_almost_equal
>>> assert_almost_equal(np.array([1.0, 2.0]), [1.00001, 2.0])   # float32: rtol 1e-4, atol 1e-3

Differences from MXNet, on purpose:

- ``check_numeric_gradient`` takes a Python callable ``f(*arrays)`` instead of a Symbol, and the
  analytic gradient comes from ``grad=`` or, once it exists, ``framework.autograd``.
- ``rand_ndarray`` supports only ``stype='default'`` (there are no sparse arrays).
- ``set_default_device`` sets the process-wide default, not a thread-local one.
- An ``assert_almost_equal`` failure counts every mismatching element exactly.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import math
import numbers
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy

from . import np as _mxnp
from .device import Device, current_device, num_gpus, resolve
from .device import set_default_device as _set_process_default_device
from .dtype import default_float
from .nd._base import BaseArray

__all__ = [
    "default_dtype", "default_rtols", "default_atols", "default_numeric_eps", "effective_dtype",
    "get_tolerance", "get_tols", "get_rtol", "get_atol",
    "almost_equal", "assert_almost_equal", "assert_allclose", "almost_equal_ignore_nan",
    "assert_almost_equal_ignore_nan", "find_max_violation", "same", "assert_exception",
    "random_arrays", "rand_shape_2d", "rand_shape_3d", "rand_shape_nd", "rand_ndarray",
    "default_device", "set_default_device", "default_context", "set_default_context",
    "list_gpus", "use_np", "use_np_shape", "use_np_array", "environment", "collapse_sum_like",
    "numeric_grad", "check_numeric_gradient",
]

ArrayLike = Any  # a framework array, a NumPy array, a Python number or a nested list
Tol = float | Mapping[Any, float] | None
_T = TypeVar("_T")


# -- dtypes and tolerances ------------------------------------------------------------------------
def default_dtype() -> type:
    """The default floating type of test data (``numpy.float32``, as in MXNet)."""
    return default_float().type


def _tol_table(f16: float, f32: float, f64: float) -> dict[numpy.dtype, float]:
    """Tolerances per dtype: complex types take their parts' float type, integers and bools 0."""
    table: dict[numpy.dtype, float] = {
        numpy.dtype(numpy.float16): f16, numpy.dtype(numpy.float32): f32,
        numpy.dtype(numpy.float64): f64, numpy.dtype(numpy.complex64): f32,
        numpy.dtype(numpy.complex128): f64,
    }
    for name in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64"):
        table[numpy.dtype(name)] = 0.0
    return table


def default_rtols() -> dict[numpy.dtype, float]:
    """Default relative tolerance per dtype (MXNet's values; integers and bools compare exactly)."""
    return _tol_table(1e-2, 1e-4, 1e-5)


def default_atols() -> dict[numpy.dtype, float]:
    """Default absolute tolerance per dtype (MXNet's values; integers and bools compare exactly)."""
    return _tol_table(1e-1, 1e-3, 1e-20)


def default_numeric_eps() -> dict[numpy.dtype, float]:
    """Default finite-difference step per dtype (powers of two, so ``x +- eps`` is exact)."""
    return {numpy.dtype(numpy.float16): 2.0 ** -6, numpy.dtype(numpy.float32): 2.0 ** -9,
            numpy.dtype(numpy.float64): 2.0 ** -14}


def _dtype_of(dat: ArrayLike) -> numpy.dtype:
    dt = getattr(dat, "dtype", None)
    if dt is None:
        return numpy.asarray(dat).dtype
    return numpy.dtype(dt)


def effective_dtype(dat: ArrayLike) -> numpy.dtype:
    """The dtype whose precision ``dat`` really has.

    The dtype itself, except float32 on a GPU where CuPy runs matrix products in TF32
    (``CUPY_TF32=1``): that has float16's mantissa, so float16 tolerances apply (as in MXNet).
    """
    dt = _dtype_of(dat)
    dev = getattr(dat, "device", None)
    on_gpu = isinstance(dev, Device) and dev.device_type == "gpu"
    if dt == numpy.float32 and on_gpu and os.environ.get("CUPY_TF32", "0") == "1":
        return numpy.dtype(numpy.float16)
    return dt


def _lookup(table: Mapping[Any, float], dt: numpy.dtype) -> float | None:
    for key, value in table.items():
        if numpy.dtype(key) == dt:
            return float(value)
    return None


def get_tolerance(dat: ArrayLike, tol: Tol, default_tol: Mapping[numpy.dtype, float]) -> float:
    """The tolerance for comparing ``dat``: ``tol`` if it is a number, else the entry for
    ``dat``'s effective dtype in the dict ``tol`` or, failing that, in ``default_tol``."""
    if isinstance(tol, numbers.Number):
        return float(tol)  # type: ignore[arg-type]
    dt = effective_dtype(dat)
    if isinstance(tol, Mapping):
        found = _lookup(tol, dt)
        if found is not None:
            return found
    found = _lookup(default_tol, dt)
    if found is not None:
        return found
    if dt.kind in "biu":
        return 0.0
    # an unlisted floating dtype: the tolerance of the float type of the same width or wider
    width = dt.itemsize if dt.kind == "f" else dt.itemsize // 2
    wider = numpy.dtype(numpy.float64) if width >= 8 else numpy.dtype(numpy.float32)
    return _lookup(default_tol, wider) or 0.0


def get_tols(x: ArrayLike, y: ArrayLike, rtol: Tol, atol: Tol) -> tuple[float, float]:
    """``(rtol, atol)`` for comparing ``x`` with ``y``: the looser of the two data's tolerances."""
    rt = max(get_tolerance(x, rtol, default_rtols()), get_tolerance(y, rtol, default_rtols()))
    at = max(get_tolerance(x, atol, default_atols()), get_tolerance(y, atol, default_atols()))
    return rt, at


def get_rtol(rtol: float | None = None, dtype: Any = numpy.float64) -> float:
    """``rtol``, or the default relative tolerance of ``dtype`` when it is None."""
    if rtol is not None:
        return float(rtol)
    return get_tolerance(numpy.zeros((), dtype), None, default_rtols())


def get_atol(atol: float | None = None, dtype: Any = numpy.float64) -> float:
    """``atol``, or the default absolute tolerance of ``dtype`` when it is None."""
    if atol is not None:
        return float(atol)
    return get_tolerance(numpy.zeros((), dtype), None, default_atols())


# -- comparisons ----------------------------------------------------------------------------------
def _to_numpy(x: ArrayLike) -> numpy.ndarray:
    """A host NumPy array with the values of ``x`` (waits for a framework array)."""
    if isinstance(x, numpy.ndarray):
        return x
    if isinstance(x, BaseArray) or hasattr(x, "asnumpy"):
        return x.asnumpy()
    if isinstance(x, (list, tuple)) and any(isinstance(e, BaseArray) for e in x):
        return numpy.asarray([_to_numpy(e) for e in x])
    return numpy.asarray(x)


def _comparable(a: numpy.ndarray) -> numpy.ndarray:
    # NumPy cannot subtract bools; compare them as small integers
    return a.astype(numpy.int8) if a.dtype.kind == "b" else a


def _broadcast_pair(a: numpy.ndarray, b: numpy.ndarray,
                    use_broadcast: bool) -> tuple[numpy.ndarray, numpy.ndarray] | None:
    """``a`` and ``b`` with one shape, or None when the shapes may not be compared."""
    if a.shape == b.shape:
        return a, b
    if not use_broadcast:
        return None
    try:
        return tuple(numpy.broadcast_arrays(a, b))  # type: ignore[return-value]
    except ValueError:
        return None


def _close_mask(a: numpy.ndarray, b: numpy.ndarray, rtol: float, atol: float,
                equal_nan: bool) -> numpy.ndarray:
    # |a - b| <= atol + rtol * |b|, infinities equal only to themselves (numpy.isclose)
    return numpy.isclose(_comparable(a), _comparable(b), rtol=rtol, atol=atol,
                         equal_nan=equal_nan)


def almost_equal(a: ArrayLike, b: ArrayLike, rtol: Tol = None, atol: Tol = None,
                 equal_nan: bool = False, use_broadcast: bool = True) -> bool:
    """Whether ``|a - b| <= atol + rtol * |b|`` everywhere.

    ``rtol``/``atol`` left as None take the defaults of the inputs' dtypes (the looser of the
    two); a dict maps dtypes to tolerances. Shapes that differ must broadcast, and must be equal
    when ``use_broadcast=False``; otherwise the result is False.
    """
    rt, at = get_tols(a, b, rtol, atol)
    pair = _broadcast_pair(_to_numpy(a), _to_numpy(b), use_broadcast)
    if pair is None:
        return False
    return bool(_close_mask(pair[0], pair[1], rt, at, equal_nan).all())


def find_max_violation(a: ArrayLike, b: ArrayLike, rtol: Tol = None,
                       atol: Tol = None) -> tuple[tuple[int, ...], float]:
    """Index and size of the worst violation, measured as ``|a - b| / (atol + rtol * |b|)``
    (above 1 means out of tolerance; an infinity or NaN mismatch counts as ``inf``)."""
    rt, at = get_tols(a, b, rtol, atol)
    an, bn = numpy.broadcast_arrays(_to_numpy(a), _to_numpy(b))
    err = _violation(an, bn, rt, at, ~_close_mask(an, bn, rt, at, False))
    if err.size == 0:
        return (), 0.0
    flat = int(numpy.argmax(err))
    return tuple(int(i) for i in numpy.unravel_index(flat, err.shape)), float(err.ravel()[flat])


def _wide(a: numpy.ndarray) -> numpy.ndarray:
    """``a`` as float64 (complex128 for complex data), for error arithmetic."""
    return _comparable(a).astype(numpy.complex128 if a.dtype.kind == "c" else numpy.float64)


def _violation(a: numpy.ndarray, b: numpy.ndarray, rtol: float, atol: float,
               bad: numpy.ndarray) -> numpy.ndarray:
    """``|a - b| / (atol + rtol * |b|)``, above 1 exactly where ``bad`` (``inf`` for an
    infinity or NaN mismatch)."""
    a64, b64 = _wide(a), _wide(b)
    with numpy.errstate(all="ignore"):
        diff = numpy.where(a64 == b64, 0.0, numpy.abs(a64 - b64))
        err = numpy.where(diff == 0, 0.0, diff / (atol + rtol * numpy.abs(b64)))
    err = numpy.where(numpy.isfinite(err), err, numpy.inf)
    return numpy.where(bad, numpy.maximum(err, numpy.nextafter(1.0, 2.0)), numpy.minimum(err, 1.0))


def _fmt(v: Any) -> str:
    return numpy.array2string(numpy.asarray(v), precision=8, floatmode="maxprec_equal")


def _mismatch_message(a: numpy.ndarray, b: numpy.ndarray, a_shape: tuple[int, ...],
                      b_shape: tuple[int, ...], rtol: float, atol: float,
                      names: Sequence[str], equal_nan: bool, mismatches: Sequence[int]) -> str:
    bad = ~_close_mask(a, b, rtol, atol, equal_nan)
    n_bad = int(bad.sum())
    na, nb = names[0], names[1]
    shape = (f"shape {a.shape}" if a_shape == b_shape else
             f"shapes {a_shape} and {b_shape}, broadcast to {a.shape}")
    lines = [
        f"{na} and {nb} are not almost equal: {n_bad} of {a.size} elements "
        f"({100.0 * n_bad / max(a.size, 1):.4g}%) differ by more than atol + rtol * |{nb}| "
        f"with rtol={rtol:g}, atol={atol:g} ({shape}; dtypes {a.dtype} and {b.dtype}).",
    ]
    n_show = min(n_bad, max(int(mismatches[0]), 0))
    if n_show:
        err = _violation(a, b, rtol, atol, bad)
        flat_bad = numpy.flatnonzero(bad)
        # worst first; the stable sort keeps equal errors in index order
        order = numpy.argsort(-err.ravel()[flat_bad], kind="stable")[:n_show]
        lines.append(f"Worst {n_show} mismatch(es), "
                     f"error = |{na} - {nb}| / (atol + rtol * |{nb}|):")
        a64, b64 = _wide(a), _wide(b)
        for rank, k in enumerate(order, 1):
            idx = tuple(int(i) for i in numpy.unravel_index(flat_bad[k], a.shape))
            with numpy.errstate(all="ignore"):
                diff = numpy.abs(a64[idx] - b64[idx])
            lines.append(f"  {rank:3d}: at {idx}: {na}={_fmt(a[idx])}, {nb}={_fmt(b[idx])}, "
                         f"|diff|={_fmt(diff)}, error {err[idx]:.4g}")
    with numpy.printoptions(threshold=20, edgeitems=3, precision=8):
        lines.append(f" {na}: {numpy.array2string(a)}")
        lines.append(f" {nb}: {numpy.array2string(b)}")
    return "\n".join(lines)


def assert_almost_equal(a: ArrayLike, b: ArrayLike, rtol: Tol = None, atol: Tol = None,
                        names: Sequence[str] = ("a", "b"), equal_nan: bool = False,
                        use_broadcast: bool = True,
                        mismatches: Sequence[int] = (10, 10)) -> None:
    """Raise AssertionError unless ``|a - b| <= atol + rtol * |b|`` everywhere.

    Tolerances left as None follow the dtypes (see :func:`almost_equal`). The message names the
    tolerances, how many elements fail, and the ``mismatches[0]`` worst ones with their index
    and values. ``mismatches[1]`` is accepted for MXNet code; the count here is always exact.
    """
    rt, at = get_tols(a, b, rtol, atol)
    an, bn = _to_numpy(a), _to_numpy(b)
    pair = _broadcast_pair(an, bn, use_broadcast)
    if pair is None:
        how = "are not equal" if not use_broadcast else "do not broadcast together"
        raise AssertionError(f"{names[0]}.shape = {an.shape} and {names[1]}.shape = {bn.shape} "
                             f"{how}")
    ab, bb = pair
    if _close_mask(ab, bb, rt, at, equal_nan).all():
        return
    raise AssertionError(_mismatch_message(ab, bb, an.shape, bn.shape, rt, at, names,
                                           equal_nan, mismatches))


def assert_allclose(a: ArrayLike, b: ArrayLike, rtol: float = 1e-07, atol: float = 0,
                    equal_nan: bool = True) -> None:
    """:func:`assert_almost_equal` with NumPy's ``assert_allclose`` defaults."""
    assert_almost_equal(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _zero_nans(a: ArrayLike, b: ArrayLike) -> tuple[numpy.ndarray, numpy.ndarray]:
    an, bn = numpy.broadcast_arrays(_to_numpy(a), _to_numpy(b))
    an, bn = an.copy(), bn.copy()
    if an.dtype.kind in "fc" or bn.dtype.kind in "fc":
        nan = numpy.isnan(an) | numpy.isnan(bn)
        an[nan] = 0
        bn[nan] = 0
    return an, bn


def almost_equal_ignore_nan(a: ArrayLike, b: ArrayLike, rtol: Tol = None,
                            atol: Tol = None) -> bool:
    """:func:`almost_equal`, ignoring the positions where either side is NaN."""
    an, bn = _zero_nans(a, b)
    rt, at = get_tols(a, b, rtol, atol)
    return almost_equal(an, bn, rt, at)


def assert_almost_equal_ignore_nan(a: ArrayLike, b: ArrayLike, rtol: Tol = None,
                                   atol: Tol = None, names: Sequence[str] = ("a", "b")) -> None:
    """:func:`assert_almost_equal`, ignoring the positions where either side is NaN."""
    an, bn = _zero_nans(a, b)
    rt, at = get_tols(a, b, rtol, atol)
    assert_almost_equal(an, bn, rt, at, names=names)


def same(a: ArrayLike, b: ArrayLike) -> bool:
    """Exact equality: same shape and the same values (``numpy.array_equal``)."""
    return bool(numpy.array_equal(_to_numpy(a), _to_numpy(b)))


def assert_exception(f: Callable[..., Any], exception_type: type[BaseException] |
                     tuple[type[BaseException], ...], *args: Any, **kwargs: Any) -> BaseException:
    """Call ``f(*args, **kwargs)`` and return the ``exception_type`` it raises.

    Raises AssertionError when ``f`` returns normally; other exceptions propagate.
    """
    try:
        f(*args, **kwargs)
    except exception_type as exc:
        return exc
    expected = (exception_type.__name__ if isinstance(exception_type, type)
                else " or ".join(t.__name__ for t in exception_type))
    raise AssertionError(f"{getattr(f, '__name__', f)!s} did not raise {expected}")


# -- random data ----------------------------------------------------------------------------------
def random_arrays(*shapes: tuple[int, ...]) -> numpy.ndarray | list[numpy.ndarray]:
    """Standard-normal NumPy arrays of the default dtype, one per shape (one array for one shape).

    Drawn from NumPy's global generator, so ``numpy.random.seed`` makes them reproducible.
    """
    dt = default_dtype()
    arrays: list[numpy.ndarray] = [
        numpy.asarray(numpy.random.standard_normal(tuple(s))).astype(dt) for s in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def rand_shape_2d(dim0: int = 10, dim1: int = 10,
                  allow_zero_size: bool = False) -> tuple[int, int]:
    """A random 2-D shape with sizes in ``[1, dim]`` (``[0, dim]`` if ``allow_zero_size``)."""
    low = 0 if allow_zero_size else 1
    return (int(numpy.random.randint(low, dim0 + 1)), int(numpy.random.randint(low, dim1 + 1)))


def rand_shape_3d(dim0: int = 10, dim1: int = 10, dim2: int = 10,
                  allow_zero_size: bool = False) -> tuple[int, int, int]:
    """A random 3-D shape with sizes in ``[1, dim]`` (``[0, dim]`` if ``allow_zero_size``)."""
    low = 0 if allow_zero_size else 1
    return (int(numpy.random.randint(low, dim0 + 1)), int(numpy.random.randint(low, dim1 + 1)),
            int(numpy.random.randint(low, dim2 + 1)))


def rand_shape_nd(num_dim: int, dim: int = 10, allow_zero_size: bool = False) -> tuple[int, ...]:
    """A random ``num_dim``-D shape with sizes in ``[1, dim]`` (``[0, dim]`` if allowed)."""
    low = 0 if allow_zero_size else 1
    return tuple(int(s) for s in numpy.random.randint(low, dim + 1, size=num_dim))


def rand_ndarray(shape: int | Sequence[int], stype: str = "default", density: float | None = None,
                 dtype: Any = None, modifier_func: Callable[[Any], Any] | None = None,
                 shuffle_csr_indices: bool = False, distribution: str | None = None,
                 ctx: Device | str | None = None, device: Device | str | None = None) -> Any:
    """A framework array of standard-normal values (float32 unless ``dtype``) on ``device``
    (default: :func:`default_device`).

    Only ``stype='default'`` exists here; ``density``, ``distribution`` and
    ``shuffle_csr_indices`` only matter for sparse arrays and are ignored, as MXNet does for
    dense ones. ``modifier_func``, if given, is applied to each value.
    """
    if stype != "default":
        raise NotImplementedError(f"rand_ndarray: stype={stype!r} is not supported; the "
                                  "framework has no sparse arrays (use stype='default')")
    if isinstance(shape, (int, numpy.integer)):
        shape = (int(shape),)
    host = random_arrays(tuple(int(s) for s in shape))
    assert isinstance(host, numpy.ndarray)
    if modifier_func is not None:
        host = numpy.vectorize(modifier_func, otypes=[host.dtype])(host) if host.size else host
    dev = resolve(device, ctx)
    return _mxnp.array(host, dtype=default_dtype() if dtype is None else dtype, device=dev)


# -- devices --------------------------------------------------------------------------------------
def default_device() -> Device:
    """The device creation functions use now (``set_default_device`` or a ``with dev:``)."""
    return current_device()


def set_default_device(device: Device | str) -> None:
    """Make ``device`` the process-wide default of creation functions.

    GPU test suites call ``set_default_device(gpu(0))`` before running CPU test files.
    """
    _set_process_default_device(resolve(device))


def default_context() -> Device:
    """1.x spelling of :func:`default_device`."""
    return default_device()


def set_default_context(ctx: Device | str) -> None:
    """1.x spelling of :func:`set_default_device`."""
    set_default_device(ctx)


def list_gpus() -> list[int]:
    """Ids of the usable GPUs (empty without CuPy and CUDA)."""
    return list(range(num_gpus()))


# -- decorators and scopes ------------------------------------------------------------------------
def use_np(func: _T) -> _T:
    """Decorator for functions and classes in MXNet tests; NumPy semantics are always on here,
    so it returns ``func`` unchanged."""
    return func


use_np_shape = use_np
use_np_array = use_np


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@contextlib.contextmanager
def environment(*args: Any) -> Iterator[None]:
    """Set environment variables for the body of a ``with`` block, and restore them after, even
    when the body raises.

    ``environment('NAME', 'value')`` or ``environment({'A': '1', 'B': None})``; None unsets.
    Settings the framework reads only at import (e.g. the inline op size) do not change.
    """
    if len(args) == 2:
        variables = {args[0]: args[1]}
    elif len(args) == 1 and isinstance(args[0], Mapping):
        variables = dict(args[0])
    else:
        raise ValueError("environment: pass a name and a value, or one dict of name: value "
                         f"(value None unsets), got {len(args)} argument(s)")
    for name, value in variables.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"environment: variable names must be non-empty str, got {name!r}")
        if value is not None and not isinstance(value, (str, int, float)):
            raise TypeError(f"environment: the value of {name} must be a str or None, "
                            f"got {type(value).__name__}")
    saved = {name: os.environ.get(name) for name in variables}
    try:
        for name, value in variables.items():
            _set_env(name, None if value is None else str(value))
        yield
    finally:
        for name, value in saved.items():
            _set_env(name, value)


# -- shapes ---------------------------------------------------------------------------------------
def collapse_sum_like(a: ArrayLike, shape: Sequence[int]) -> Any:
    """Sum ``a`` over the axes along which ``shape`` was broadcast to ``a.shape``, giving an
    array of ``shape`` (the gradient of a broadcast). Framework arrays stay framework arrays on
    their device; anything else gives a NumPy array."""
    target = tuple(int(s) for s in shape)
    src = tuple(a.shape) if hasattr(a, "shape") else numpy.shape(a)
    lead = len(src) - len(target)
    if lead < 0 or any(t not in (1, s) for t, s in zip(target, src[lead:])):
        raise ValueError(f"collapse_sum_like: shape {target} does not broadcast to {src}")
    axes = tuple(range(lead)) + tuple(lead + i for i, (t, s) in
                                      enumerate(zip(target, src[lead:])) if t != s)
    if isinstance(a, BaseArray):
        if math.prod(target) == 0 or a.size == 0:
            return _mxnp.zeros(target, dtype=a.dtype, device=a.device)  # type: ignore[attr-defined]
        summed: Any = a.sum(axis=axes) if axes else a  # type: ignore[attr-defined]
        return summed.reshape(target)
    host = numpy.asarray(a)
    if math.prod(target) == 0 or host.size == 0:
        return numpy.zeros(target, dtype=host.dtype)
    return numpy.asarray(host.sum(axis=axes) if axes else host).reshape(target)


# -- gradients ------------------------------------------------------------------------------------
def _as_list(x: Any) -> list[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _input_device(inputs: Sequence[Any], device: Device | str | None,
                  ctx: Device | str | None) -> Device:
    if device is not None or ctx is not None:
        return resolve(device, ctx)
    for x in inputs:
        if isinstance(x, BaseArray):
            return x.device  # type: ignore[attr-defined,no-any-return]
    return current_device()


def _default_nodes(hosts: Sequence[numpy.ndarray], grad_nodes: Sequence[int] | None) -> list[int]:
    if grad_nodes is None:
        return [i for i, h in enumerate(hosts) if h.dtype.kind == "f"]
    nodes = [int(i) for i in grad_nodes]
    for i in nodes:
        if not 0 <= i < len(hosts):
            raise IndexError(f"grad_nodes: input {i} does not exist ({len(hosts)} inputs)")
    return nodes


def _outputs_host(out: Any) -> list[numpy.ndarray]:
    return [_to_numpy(o).astype(numpy.float64) for o in _as_list(out)]


def _heads_host(head_grad: Any, outs: Sequence[numpy.ndarray]) -> list[numpy.ndarray]:
    if head_grad is None:
        return [numpy.ones(o.shape) for o in outs]
    many = isinstance(head_grad, (list, tuple)) and all(
        isinstance(h, (BaseArray, numpy.ndarray)) for h in head_grad)
    heads = [_to_numpy(h).astype(numpy.float64) for h in (head_grad if many else [head_grad])]
    if len(heads) != len(outs):
        raise ValueError(f"head_grad: {len(heads)} head gradient(s) for {len(outs)} output(s)")
    out = []
    for i, (h, o) in enumerate(zip(heads, outs)):
        try:
            out.append(numpy.broadcast_to(h, o.shape))
        except ValueError:
            raise ValueError(f"head_grad: head {i} has shape {h.shape}, output {i} has shape "
                             f"{o.shape}") from None
    return out


def numeric_grad(f: Callable[..., Any], inputs: Any, head_grad: Any = None, eps: float = 1e-3,
                 grad_nodes: Sequence[int] | None = None, device: Device | str | None = None,
                 ctx: Device | str | None = None) -> list[numpy.ndarray | None]:
    """Central finite-difference gradients of ``sum(f(*inputs) * head_grad)``, in float64.

    ``inputs`` are framework or NumPy arrays (or one array). Each element of each input in
    ``grad_nodes`` (default: the floating inputs) is moved by ``+- eps/2`` (MXNet's convention)
    and ``f`` is called on float64 framework arrays on ``device`` (default: the first framework
    input's device, else the default device); the other inputs are passed unchanged. ``f`` may
    return one array or a list, with ``head_grad`` matching (default: ones). Returns one NumPy
    float64 array per input, None for inputs not differentiated. It calls ``f`` twice per
    element, so keep inputs small.
    """
    if eps <= 0:
        raise ValueError(f"numeric_grad: eps must be positive, got {eps}")
    raw = _as_list(inputs)
    dev = _input_device(raw, device, ctx)
    hosts = [_to_numpy(x) for x in raw]
    nodes = _default_nodes(hosts, grad_nodes)
    work = {i: hosts[i].astype(numpy.float64) for i in nodes}  # astype copies: inputs untouched
    args = [_mxnp.array(work[i], device=dev) if i in work else
            (x if isinstance(x, BaseArray) else _mxnp.array(hosts[i], device=dev))
            for i, x in enumerate(raw)]
    heads = _heads_host(head_grad, _outputs_host(f(*args)))

    def objective(i: int) -> float:
        args[i] = _mxnp.array(work[i], device=dev)
        outs = _outputs_host(f(*args))
        if [o.shape for o in outs] != [h.shape for h in heads]:
            raise ValueError("numeric_grad: f's output shapes changed when an input moved")
        return float(sum(numpy.sum(o * h) for o, h in zip(outs, heads)))

    grads: list[numpy.ndarray | None] = [None] * len(raw)
    for i in nodes:
        flat = work[i].reshape(-1)  # a view: perturbs work[i] in place
        g = numpy.zeros(flat.shape, numpy.float64)
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps / 2
            f_plus = objective(i)
            flat[k] = orig - eps / 2
            f_minus = objective(i)
            flat[k] = orig
            g[k] = (f_plus - f_minus) / eps
        args[i] = _mxnp.array(work[i], device=dev)
        grads[i] = g.reshape(work[i].shape)
    return grads


def _autograd_grads(f: Callable[..., Any], inputs: Sequence[Any], nodes: Sequence[int],
                    heads: Sequence[numpy.ndarray]) -> list[Any]:
    if importlib.util.find_spec(f"{__package__}.autograd") is None:
        raise RuntimeError("check_numeric_gradient: grad=None needs framework.autograd, which "
                           "does not exist yet; pass the analytic gradient as grad=[...] or "
                           "grad=callable(*inputs)")
    autograd = importlib.import_module(f"{__package__}.autograd")
    # copies, so that attaching gradients leaves the caller's arrays alone
    xs = [x.copy() for x in inputs]
    for i in nodes:
        xs[i].attach_grad()
    with autograd.record():
        outs = _as_list(f(*xs))
    head_arrays = [_mxnp.array(h, dtype=o.dtype, device=o.device) for h, o in zip(heads, outs)]
    autograd.backward(outs, head_arrays)
    return [xs[i].grad for i in nodes]


def check_numeric_gradient(f: Callable[..., Any], inputs: Any, grad: Any = None,
                           eps: float = 1e-3, rtol: float = 1e-2, atol: float | None = None,
                           head_grad: Any = None, grad_nodes: Sequence[int] | None = None,
                           device: Device | str | None = None, ctx: Device | str | None = None,
                           numeric_eps: float | None = None) -> None:
    """Compare an analytic gradient of ``sum(f(*inputs) * head_grad)`` with finite differences
    (:func:`numeric_grad`); raise AssertionError naming the input when they differ.

    ``grad`` is the analytic gradient: a list with one array per input in ``grad_nodes``
    (default: the floating inputs), or a callable returning that list, called as
    ``grad(*inputs)`` or, when ``head_grad`` is given, ``grad(*inputs, head_grad=head_grad)``.
    With ``grad=None`` it is computed with ``framework.autograd`` (when that exists), under a
    random head gradient unless one is given. ``head_grad`` otherwise defaults to ones.
    ``atol=None`` uses the analytic gradient's dtype default, at least 1e-6.
    """
    if numeric_eps is not None:
        eps = numeric_eps
    raw = _as_list(inputs)
    dev = _input_device(raw, device, ctx)
    nodes = _default_nodes([_to_numpy(x) for x in raw], grad_nodes)
    if not nodes:
        raise ValueError("check_numeric_gradient: no input to differentiate (none is floating; "
                         "pass grad_nodes=)")
    xs = [x if isinstance(x, BaseArray) else _mxnp.array(_to_numpy(x), device=dev) for x in raw]
    outs = _outputs_host(f(*xs))
    if grad is None and head_grad is None:
        rng = numpy.random.default_rng(int(numpy.random.randint(0, 2 ** 31)))
        heads = [rng.uniform(0.5, 1.5, o.shape) for o in outs]
    else:
        heads = _heads_host(head_grad, outs)

    if grad is None:
        analytic = _autograd_grads(f, xs, nodes, heads)
    elif callable(grad):
        analytic = _as_list(grad(*xs) if head_grad is None else grad(*xs, head_grad=head_grad))
    else:
        analytic = _as_list(grad)
    if len(analytic) != len(nodes):
        raise ValueError(f"check_numeric_gradient: {len(analytic)} analytic gradient(s) for "
                         f"{len(nodes)} input(s) to differentiate {nodes}")

    numeric = numeric_grad(f, raw, heads if len(heads) > 1 else heads[0], eps, nodes, dev)
    for i, g in zip(nodes, analytic):
        expected = numeric[i]
        assert expected is not None
        g_host = _to_numpy(g)
        if g_host.shape != expected.shape:
            raise AssertionError(f"check_numeric_gradient: the analytic gradient of input {i} "
                                 f"has shape {g_host.shape}, the input has {expected.shape}")
        tol_a = atol if atol is not None else max(get_atol(None, effective_dtype(g_host)), 1e-6)
        assert_almost_equal(g_host, expected, rtol=rtol, atol=tol_a,
                            names=(f"analytic_grad[{i}]", f"numeric_grad[{i}]"))
