"""Random number generation: per-device generator state and the random operators.

Each device owns one generator (NumPy's ``Generator(PCG64)`` on the CPU, CuPy's ``RandomState`` on
a GPU, reached through ``device.xp``) and an engine variable for it. Every random op is an
:class:`~framework.nd._op.Op` whose task *writes* that variable, so the draws on one device happen
in the order the ops were issued, and it draws inside the task (asynchronously). Hence one seed
gives one sequence whatever the engine (threaded or naive) and whether ops ran inline or queued.

Seeding (``seed(s, device)``) is itself a task writing the generator's variable, so it takes
effect after the draws issued before it and before those issued after it. Each device's stream is
derived from ``(seed, device type, device id)`` with ``numpy.random.SeedSequence``, so devices are
independent and reproducible. As in MXNet, the initial global seed is 0: a fresh process draws the
same numbers every run until it is seeded.

Parameters known at the call (Python scalars, lists) are checked at the call (``ValueError``);
parameters held in framework arrays are checked in the task, and a bad value fails the op's output
(raised at the sync point) without poisoning the generator for later ops.
"""

from __future__ import annotations

import contextlib
import math
import operator
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from .. import dtype as _dt
from ..base import ShapeError
from ..device import Device, current_device, resolve
from ._array import _guard_write
from ._base import BaseArray, broadcast_shapes, execute
from ._create import array as _array
from ._create import to_device
from ._op import Op, apply, encode_attr, json_key, register

__all__ = [
    "seed", "sample", "DISTRIBUTIONS", "randint", "choice", "shuffle", "permutation",
    "multinomial", "multivariate_normal", "generator_state",
]

Shape = tuple[int, ...]
Specs = list[tuple[Shape, numpy.dtype]]

_F32 = numpy.dtype(numpy.float32)
_F64 = numpy.dtype(numpy.float64)
_I64 = numpy.dtype(numpy.int64)


# -- generator state ---------------------------------------------------------------------------
class _CupyGen:
    """CuPy's ``RandomState`` under the method names of NumPy's ``Generator`` that we use."""

    def __init__(self, rs: Any) -> None:
        self._rs = rs

    def random(self, size: Any, dtype: Any) -> Any:
        return self._rs.random_sample(size, dtype)

    def integers(self, low: Any, high: Any, size: Any, dtype: Any) -> Any:
        return self._rs.randint(low, high, size, dtype)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rs, name)


def _derive(seed: int, device: Device) -> numpy.random.SeedSequence:
    return numpy.random.SeedSequence([seed, device.device_typeid, device.device_id])


def _make_gen(device: Device, seed: int) -> Any:
    ss = _derive(seed, device)
    if device.device_type == "gpu":
        xp = device.xp
        with xp.cuda.Device(device.device_id):
            return _CupyGen(xp.random.RandomState(int(ss.generate_state(1, numpy.uint32)[0])))
    return numpy.random.Generator(numpy.random.PCG64(ss))


class _GenState:
    """One device's generator; ``token`` is the array-like whose variable orders its users."""

    __slots__ = ("device", "seed", "gen", "token")

    def __init__(self, device: Device, seed: int) -> None:
        self.device = device
        self.seed = seed
        self.gen: Any = None
        self.token = BaseArray._wrap(numpy.empty(()), device)

    def get(self) -> Any:
        """The generator (created on first use, on the task's thread)."""
        g = self.gen
        if g is None:
            g = self.gen = _make_gen(self.device, self.seed)
        return g


_lock = threading.Lock()
_global_seed = 0  # MXNet's resource manager starts with global seed 0
_states: dict[Device, _GenState] = {}


def generator_state(device: Device) -> _GenState:
    """The generator state of ``device`` (created with the current global seed)."""
    st = _states.get(device)
    if st is None:
        with _lock:
            st = _states.get(device)
            if st is None:
                st = _states[device] = _GenState(device, _global_seed)
    return st


def _check_seed(value: Any) -> int:
    if value is None:
        return int(numpy.random.SeedSequence().entropy) % (1 << 63)  # type: ignore[arg-type]
    if isinstance(value, (bool, numpy.bool_)) or not isinstance(value, (int, numpy.integer)):
        raise TypeError(f"seed: seed must be an integer, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"seed: seed must be non-negative, got {value}")
    return int(value)


def _reseed(st: _GenState, value: int) -> None:
    def run() -> None:
        st.seed = value
        st.gen = None

    execute("random.seed", run, (), (), mutated=(st.token,))


def seed(seed: Any, device: Any = "all") -> None:
    """Seed the generator of ``device``, or of every device when ``device='all'``.

    The seed is applied in order with the draws (a task on each generator's variable). Devices
    first used later start from the last ``'all'`` seed.
    """
    global _global_seed
    value = _check_seed(seed)
    if device is None or (isinstance(device, str) and device == "all"):
        with _lock:
            _global_seed = value
            states = list(_states.values())
        for st in states:
            _reseed(st, value)
        return
    _reseed(generator_state(resolve(device)), value)


def _on(device: Device) -> Any:
    if device.device_type == "gpu":
        return device.xp.cuda.Device(device.device_id)
    return contextlib.nullcontext()


# -- argument handling ---------------------------------------------------------------------------
def _size(size: Any, op: str) -> Shape | None:
    if size is None:
        return None
    if isinstance(size, (int, numpy.integer)) and not isinstance(size, bool):
        size = (size,)
    try:
        out = tuple(operator.index(s) for s in size)
    except TypeError:
        raise TypeError(f"{op}: size must be None, an int or a tuple of ints, got "
                        f"{size!r}") from None
    if any(s < 0 for s in out):
        raise ValueError(f"{op}: negative dimensions are not allowed, got size={out}")
    return out


def _float_dtype(dtype: Any, op: str) -> numpy.dtype:
    dt = _dt.normalize(dtype) or _F32
    if dt.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating type (float16, float32 or float64), "
                        f"got {dt}")
    return dt


def _work(dt: numpy.dtype) -> numpy.dtype:
    """The dtype draws are made in: float32 or float64 (float16 is drawn as float32)."""
    return dt if dt in (_F32, _F64) else _F32


_CHECKS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "ge0": (lambda v: v < 0, "must be non-negative"),
    "gt0": (lambda v: v <= 0, "must be positive"),
    "prob": (lambda v: (v < 0) | (v > 1), "must be in [0, 1]"),
}


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (int, float, numpy.integer, numpy.floating, numpy.bool_)) and not \
        isinstance(v, numpy.ndarray)


def _device_for(values: Sequence[Any], device: Any, ctx: Any) -> Device:
    if device is not None or ctx is not None:
        return resolve(device, ctx)
    for v in values:
        if isinstance(v, BaseArray):
            return v._device
    return current_device()


def _as_param(value: Any, name: str, op: str, check: str | None, dev: Device) -> Any:
    """A scalar (checked now) or an array on ``dev`` (host data is checked now)."""
    if isinstance(value, BaseArray):
        return value if value._device == dev else to_device(value, dev)
    if _is_scalar(value):
        v = value.item() if isinstance(value, numpy.generic) else value
        if check is not None and _CHECKS[check][0](v):
            raise ValueError(f"{op}: {name} {_CHECKS[check][1]}, got {v}")
        return float(v)
    if isinstance(value, (list, tuple, numpy.ndarray)):
        try:
            host = numpy.asarray(value, dtype=numpy.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{op}: {name} must be a number or an array of numbers, got "
                            f"{value!r}") from None
        if check is not None and bool(numpy.any(_CHECKS[check][0](host))):
            raise ValueError(f"{op}: {name} {_CHECKS[check][1]}, got {value!r}")
        return _array(host, device=dev)
    raise TypeError(f"{op}: {name} must be a number or an array, got {type(value).__name__}")


class _RandomOp(Op):
    """Common part of random ops: the generator state, the output shape, deferred checks."""

    state: _GenState
    bad: str | None = None

    def checked(self, out: Any, inputs: Sequence[BaseArray]) -> Any:
        """Issue the check task that fails ``out`` when the draw task found bad parameters.

        It is a separate task writing only ``out``: an error raised inside the draw task would be
        stored on the generator's variable too and fail every later draw on the device.
        """
        if not inputs:
            return out
        op = self

        def run() -> None:
            if op.bad is not None:
                raise ValueError(op.bad)

        execute(self.name, run, (), (out,))
        return out

    def replay(self, inputs: Sequence[BaseArray]) -> Any:
        """Draw again (an op rebuilt from a graph file: on its generator's device)."""
        st = self.state
        mutated = (inputs[0], st.token) if isinstance(self, Shuffle) else (st.token,)
        return apply(self, inputs, device=st.device, mutated=mutated)

    def to_json(self) -> dict[str, Any]:
        """The attributes without the generator state: the device names it instead."""
        attrs = {k: encode_attr(v, self, k) for k, v in vars(self).items()
                 if k not in ("state", "bad")}
        attrs["device"] = str(self.state.device)
        return {"op": json_key(self), "attrs": attrs}

    @classmethod
    def from_json(cls, data: dict[str, Any], device: Device | None = None) -> Op:
        attrs = dict(data.get("attrs", {}))
        dev = device if device is not None else resolve(attrs.pop("device", None))
        attrs.pop("device", None)
        op = super().from_json({"attrs": attrs})
        op.state = generator_state(dev)  # type: ignore[attr-defined]
        return op


def _out_shape(op: str, shapes: Sequence[Shape], size: Shape | None,
               batch: Shape | None = None) -> Shape:
    b: Shape = ()
    for s in shapes:
        b = broadcast_shapes(b, s, op)
    if batch is not None:
        return batch + b
    if size is None:
        return b
    try:
        ok = broadcast_shapes(b, size, op) == size
    except ShapeError:
        ok = False
    if not ok:
        raise ShapeError(f"{op}: parameters of shape {b} cannot be broadcast to size={size}")
    return size


# -- elementwise distributions -------------------------------------------------------------------
# DISTRIBUTIONS: name -> (((param name, check), ...), draw(gen, xp, shape, work dtype, *params))
_Draw = Callable[..., Any]


def _d_normal(g: Any, xp: Any, shape: Shape, dt: Any, loc: Any, scale: Any) -> Any:
    return loc + scale * g.standard_normal(shape, dt)


def _d_uniform(g: Any, xp: Any, shape: Shape, dt: Any, low: Any, high: Any) -> Any:
    return low + (high - low) * g.random(shape, dt)


def _d_lognormal(g: Any, xp: Any, shape: Shape, dt: Any, mean: Any, sigma: Any) -> Any:
    return xp.exp(mean + sigma * g.standard_normal(shape, dt))


def _d_exponential(g: Any, xp: Any, shape: Shape, dt: Any, scale: Any) -> Any:
    return scale * g.standard_exponential(shape, dt)


def _d_gamma(g: Any, xp: Any, shape: Shape, dt: Any, k: Any, scale: Any) -> Any:
    return scale * g.standard_gamma(k, shape, dt)


def _d_bernoulli(g: Any, xp: Any, shape: Shape, dt: Any, prob: Any) -> Any:
    return g.random(shape, _F64) < prob


def _d_bernoulli_logit(g: Any, xp: Any, shape: Shape, dt: Any, logit: Any) -> Any:
    prob = 1.0 / (1.0 + xp.exp(-xp.asarray(logit, dtype=_F64)))
    return g.random(shape, _F64) < prob


def _native(method: str) -> _Draw:
    """A distribution drawn by the generator's own method (same name on NumPy and CuPy)."""

    def draw(g: Any, xp: Any, shape: Shape, dt: Any, *params: Any) -> Any:
        return getattr(g, method)(*params, size=shape)

    draw.__name__ = f"_d_{method}"
    return draw


DISTRIBUTIONS: dict[str, tuple[tuple[tuple[str, str | None], ...], _Draw]] = {
    "normal": ((("loc", None), ("scale", "ge0")), _d_normal),
    "uniform": ((("low", None), ("high", None)), _d_uniform),
    "lognormal": ((("mean", None), ("sigma", "ge0")), _d_lognormal),
    "exponential": ((("scale", "ge0"),), _d_exponential),
    "gamma": ((("shape", "ge0"), ("scale", "ge0")), _d_gamma),
    "beta": ((("a", "gt0"), ("b", "gt0")), _native("beta")),
    "chisquare": ((("df", "gt0"),), _native("chisquare")),
    "gumbel": ((("loc", None), ("scale", "ge0")), _native("gumbel")),
    "logistic": ((("loc", None), ("scale", "ge0")), _native("logistic")),
    "laplace": ((("loc", None), ("scale", "ge0")), _native("laplace")),
    "pareto": ((("a", "gt0"),), _native("pareto")),
    "power": ((("a", "gt0"),), _native("power")),
    "rayleigh": ((("scale", "ge0"),), _native("rayleigh")),
    "weibull": ((("a", "ge0"),), _native("weibull")),
    "f": ((("dfnum", "gt0"), ("dfden", "gt0")), _native("f")),
    "bernoulli": ((("prob", "prob"),), _d_bernoulli),
    "bernoulli_logit": ((("logit", None),), _d_bernoulli_logit),
}


@register("random.sample")
class Sample(_RandomOp):
    """Draws from one of :data:`DISTRIBUTIONS`; parameters are scalars or input arrays."""

    def __init__(self, dist: str, slots: list[tuple[str, Any]], size: Shape | None,
                 batch: Shape | None, dtype: numpy.dtype, state: _GenState) -> None:
        self.name = f"random.{dist}"  # type: ignore[misc]
        self.dist = dist
        self.slots = slots  # ("s", scalar) or ("a", index of the input array)
        self.size = size
        self.batch = batch
        self.dtype = dtype
        self.state = state
        self.shape: Shape = ()

    def infer(self, *arrays: BaseArray) -> Specs:
        self.shape = _out_shape(self.name, [a._shape for a in arrays], self.size, self.batch)
        return [(self.shape, self.dtype)]

    def forward(self, xp: Any, *bufs: Any) -> Any:
        spec, draw = DISTRIBUTIONS[self.dist]
        vals = [bufs[v] if kind == "a" else v for kind, v in self.slots]
        for (name, check), (kind, _), v in zip(spec, self.slots, vals):
            if kind == "a" and check is not None and bool(xp.any(_CHECKS[check][0](v))):
                self.bad = f"{self.name}: {name} {_CHECKS[check][1]} (found in the array)"
                return xp.zeros(self.shape, self.dtype)
        with _on(self.state.device):
            return draw(self.state.get(), xp, self.shape, _work(self.dtype), *vals)


def sample(dist: str, params: Sequence[Any], size: Any = None, dtype: Any = None,
           device: Any = None, ctx: Any = None, batch_shape: Any = None,
           any_dtype: bool = False) -> BaseArray:
    """Draw from distribution ``dist`` with ``params`` (in the order of :data:`DISTRIBUTIONS`).

    The output shape is ``size``, or the broadcast shape of the parameters when ``size`` is None,
    or ``batch_shape`` + that shape when ``batch_shape`` is given (npx's ``*_n`` variants).
    """
    spec, _ = DISTRIBUTIONS[dist]
    op = f"random.{dist}"
    shp = _size(size, op)
    batch = _size(batch_shape, op) if batch_shape is not None else None
    if any_dtype:
        dt = _dt.normalize(dtype) or _F32
    else:
        dt = _float_dtype(dtype, op)
    dev = _device_for(params, device, ctx)
    slots: list[tuple[str, Any]] = []
    arrays: list[BaseArray] = []
    for (name, check), value in zip(spec, params):
        p = _as_param(value, name, op, check, dev)
        if isinstance(p, BaseArray):
            slots.append(("a", len(arrays)))
            arrays.append(p)
        else:
            slots.append(("s", p))
    st = generator_state(dev)
    o = Sample(dist, slots, shp, batch, dt, st)
    return o.checked(apply(o, arrays, device=dev, mutated=(st.token,)), arrays)


# -- integers ------------------------------------------------------------------------------------
@register("random.randint")
class RandInt(_RandomOp):
    def __init__(self, low: int, high: int, size: Shape, dtype: numpy.dtype,
                 state: _GenState) -> None:
        self.low, self.high, self.size, self.dtype, self.state = low, high, size, dtype, state

    def infer(self) -> Specs:
        return [(self.size, self.dtype)]

    def forward(self, xp: Any) -> Any:
        dt = self.dtype if self.dtype.kind in "iu" else _I64
        with _on(self.state.device):
            return self.state.get().integers(self.low, self.high, self.size, dt)


def _int_value(v: Any, name: str) -> int:
    if isinstance(v, BaseArray):
        raise TypeError(f"randint: {name} must be a Python integer, got an array")
    if isinstance(v, (bool, numpy.bool_)):
        raise TypeError(f"randint: {name} must be an integer, got {v!r}")
    if isinstance(v, (int, numpy.integer)):
        return int(v)
    if isinstance(v, (float, numpy.floating)) and float(v).is_integer():
        return int(v)
    raise TypeError(f"randint: {name} must be an integer, got {v!r}")


def randint(low: Any, high: Any = None, size: Any = None, dtype: Any = None,
            device: Any = None, ctx: Any = None) -> BaseArray:
    """Integers in ``[low, high)`` (``[0, low)`` when ``high`` is None); int64 by default."""
    lo = _int_value(low, "low")
    if high is None:
        lo, hi = 0, lo
    else:
        hi = _int_value(high, "high")
    if lo >= hi:
        raise ValueError(f"randint: low >= high (low={lo}, high={hi})")
    dt = _dt.normalize(dtype) or _I64
    if dt.kind not in "iuf":
        raise TypeError(f"randint: dtype must be an integer or floating type, got {dt}")
    if dt.kind in "iu":
        info = numpy.iinfo(dt)
        if lo < info.min or hi - 1 > info.max:
            raise ValueError(f"randint: [{lo}, {hi}) is out of bounds for dtype {dt}")
    shp = _size(size, "randint") or ()
    dev = resolve(device, ctx)
    st = generator_state(dev)
    return apply(RandInt(lo, hi, shp, dt, st), (), device=dev, mutated=(st.token,))


# -- choice, permutations ------------------------------------------------------------------------
def _host_probs(p: Any, n: int, op: str, exact_sum: bool = True) -> numpy.ndarray:
    try:
        host = numpy.asarray(p, dtype=numpy.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: p must be a 1-D sequence of probabilities, got {p!r}") from None
    _check_probs(host, n, op, exact_sum, raise_now=True)
    return host


def _check_probs(p: Any, n: int, op: str, exact_sum: bool, raise_now: bool) -> str | None:
    """Validate probabilities (host or device array); raise or return the message."""
    msg = None
    if p.ndim != 1:
        msg = f"{op}: probabilities must be 1-dimensional, got shape {tuple(p.shape)}"
    elif p.shape[0] != n:
        msg = f"{op}: probabilities have length {p.shape[0]}, expected {n}"
    elif p.size and (bool((p < 0).any()) or not bool(p.max() <= 1 + 1e-6)):
        msg = f"{op}: probabilities must be in [0, 1]"
    else:
        total = float(p.sum()) if exact_sum else float(p[:-1].sum())
        if exact_sum and abs(total - 1.0) > 1e-5:
            msg = f"{op}: probabilities do not sum to 1 (sum is {total:.8g})"
        elif not exact_sum and total > 1.0 + 1e-5:
            msg = f"{op}: sum(pvals[:-1]) must be <= 1, got {total:.8g}"
    if msg is not None and raise_now:
        raise ValueError(msg)
    return msg


@register("random.choice")
class Choice(_RandomOp):
    def __init__(self, n: int, a_arr: bool, p_arr: bool, p_host: numpy.ndarray | None,
                 replace: bool, size: Shape, dtype: numpy.dtype, state: _GenState) -> None:
        self.n, self.a_arr, self.p_arr, self.p_host = n, a_arr, p_arr, p_host
        self.replace, self.size, self.dtype, self.state = replace, size, dtype, state

    def infer(self, *arrays: BaseArray) -> Specs:
        return [(self.size, self.dtype)]

    def forward(self, xp: Any, *bufs: Any) -> Any:
        a = bufs[0] if self.a_arr else None
        p = bufs[-1] if self.p_arr else self.p_host
        n, shape, k = self.n, self.size, math.prod(self.size)
        if p is not None:
            p = xp.asarray(p, dtype=_F64)
            if self.p_arr:
                self.bad = _check_probs(p, n, self.name, True, raise_now=False)
            if self.bad is None and not self.replace and int(xp.count_nonzero(p > 0)) < k:
                self.bad = f"{self.name}: fewer non-zero entries in p than size"
            if self.bad is not None:
                return xp.zeros(shape, self.dtype)
        with _on(self.state.device):
            g = self.state.get()
            if p is None:
                if self.replace:
                    idx = g.integers(0, n, shape, _I64)
                else:
                    idx = g.permutation(n)[:k].reshape(shape)
            elif self.replace:
                cdf = xp.cumsum(p)
                cdf /= cdf[-1]
                u = g.random(k, _F64)
                idx = xp.minimum(xp.searchsorted(cdf, u, side="right"), n - 1).reshape(shape)
            else:
                # weighted sampling without replacement: the k largest log(u)/p keys
                u = g.random(n, _F64)
                pos = p > 0
                keys = xp.where(pos, xp.log(u) / xp.where(pos, p, 1.0), -xp.inf)
                idx = xp.argsort(-keys)[:k].reshape(shape)
        return a[idx] if a is not None else idx


def choice(a: Any, size: Any = None, replace: bool = True, p: Any = None, device: Any = None,
           ctx: Any = None) -> BaseArray:
    """Random sample from ``arange(a)`` or the 1-D array ``a``."""
    op = "random.choice"
    shp = _size(size, op) or ()
    k = math.prod(shp)
    arrays: list[BaseArray] = []
    if isinstance(a, BaseArray) or isinstance(a, (list, tuple, numpy.ndarray)):
        arr = a if isinstance(a, BaseArray) else _array(a)
        if arr.ndim != 1:
            raise ValueError(f"{op}: a must be 1-dimensional, got shape {arr.shape}")
        n = arr.shape[0]
        dt = arr.dtype
        arrays.append(arr)
    elif isinstance(a, (int, numpy.integer)) and not isinstance(a, bool):
        n = int(a)
        dt = _I64
    else:
        raise TypeError(f"{op}: a must be an int or a 1-D array, got {type(a).__name__}")
    if n <= 0 and k > 0:
        raise ValueError(f"{op}: a must be a positive integer or a non-empty array")
    if not replace and k > n:
        raise ValueError(f"{op}: cannot take a larger sample ({k}) than the population ({n}) "
                         "when replace=False")
    a_arr = bool(arrays)
    p_host = None
    if p is not None:
        if isinstance(p, BaseArray):
            if p.ndim != 1 or p.shape[0] != n:
                raise ValueError(f"{op}: p must be 1-dimensional with length {n}, got shape "
                                 f"{p.shape}")
            arrays.append(p)
        else:
            p_host = _host_probs(p, n, op)
            if not replace and int(numpy.count_nonzero(p_host > 0)) < k:
                raise ValueError(f"{op}: fewer non-zero entries in p than size")
    dev = _device_for(arrays, device, ctx)
    arrays = [x if x._device == dev else to_device(x, dev) for x in arrays]
    st = generator_state(dev)
    o = Choice(n, a_arr, isinstance(p, BaseArray), p_host, bool(replace), shp, dt, st)
    return o.checked(apply(o, arrays, device=dev, mutated=(st.token,)),
                     arrays if o.p_arr else ())


@register("random.shuffle")
class Shuffle(_RandomOp):
    nout = 0  # writes its input in place

    def __init__(self, state: _GenState) -> None:
        self.state = state

    def infer(self, x: BaseArray) -> Specs:
        if x.ndim == 0:
            raise ValueError("random.shuffle: x must have at least one dimension")
        return []

    def forward(self, xp: Any, x: Any) -> Any:
        with _on(self.state.device):
            self.state.get().shuffle(x)
        return ()


def shuffle(x: BaseArray) -> None:
    """Shuffle ``x`` in place along its first axis (an asynchronous task writing ``x``)."""
    if not isinstance(x, BaseArray):
        raise TypeError(f"random.shuffle: x must be an ndarray, got {type(x).__name__}")
    _guard_write(x)
    st = generator_state(x._device)
    apply(Shuffle(st), (x,), device=x._device, mutated=(x, st.token))


@register("random.permutation")
class Permutation(_RandomOp):
    def __init__(self, n: int, state: _GenState) -> None:
        self.n, self.state = n, state

    def infer(self, *arrays: BaseArray) -> Specs:
        if arrays:
            x = arrays[0]
            if x.ndim == 0:
                raise ValueError("random.permutation: x must have at least one dimension")
            return [(x._shape, x._dtype)]
        return [((self.n,), _I64)]

    def forward(self, xp: Any, *bufs: Any) -> Any:
        with _on(self.state.device):
            g = self.state.get()
            if bufs:
                return bufs[0][g.permutation(bufs[0].shape[0])]
            return g.permutation(self.n)


def permutation(x: Any, device: Any = None, ctx: Any = None) -> BaseArray:
    """A permuted ``arange(x)`` (int64), or a shuffled copy of array ``x`` along axis 0."""
    if isinstance(x, BaseArray):
        dev = _device_for([x], device, ctx)
        x = x if x._device == dev else to_device(x, dev)
        st = generator_state(dev)
        return apply(Permutation(0, st), (x,), device=dev, mutated=(st.token,))
    if isinstance(x, (int, numpy.integer)) and not isinstance(x, bool):
        if x < 0:
            raise ValueError(f"random.permutation: x must be non-negative, got {x}")
        dev = resolve(device, ctx)
        st = generator_state(dev)
        return apply(Permutation(int(x), st), (), device=dev, mutated=(st.token,))
    raise TypeError(f"random.permutation: x must be an int or an ndarray, got "
                    f"{type(x).__name__}")


# -- multivariate ------------------------------------------------------------------------------
@register("random.multinomial")
class Multinomial(_RandomOp):
    def __init__(self, n: int, k: int, p_host: numpy.ndarray | None, size: Shape,
                 state: _GenState) -> None:
        self.n, self.k, self.p_host, self.size, self.state = n, k, p_host, size, state

    def infer(self, *arrays: BaseArray) -> Specs:
        return [(self.size + (self.k,), _I64)]

    def forward(self, xp: Any, *bufs: Any) -> Any:
        if bufs:
            buf = bufs[0]
            p = numpy.asarray(buf.get() if hasattr(buf, "get") else buf, dtype=numpy.float64)
            self.bad = _check_probs(p, self.k, self.name, False, raise_now=False)
            if self.bad is not None:
                return xp.zeros(self.size + (self.k,), _I64)
        else:
            p = self.p_host
        p = p.copy()
        p[-1] = max(0.0, 1.0 - float(p[:-1].sum()))
        out = xp.empty(self.size + (self.k,), _I64)
        with _on(self.state.device):
            g = self.state.get()
            left = xp.full(self.size, self.n, dtype=_I64)
            rest = 1.0
            # sequential conditional binomials: count_i ~ Bin(left, p_i / remaining mass)
            for i in range(self.k - 1):
                q = min(max(p[i] / rest, 0.0), 1.0) if rest > 0 else 0.0
                c = xp.asarray(g.binomial(left, q, self.size), dtype=_I64)
                out[..., i] = c
                left = left - c
                rest -= p[i]
            out[..., self.k - 1] = left
        return out


def multinomial(n: Any, pvals: Any, size: Any = None, device: Any = None,
                ctx: Any = None) -> BaseArray:
    """Counts of ``n`` trials over ``len(pvals)`` outcomes, shape ``size + (k,)``, int64.

    As in NumPy, the last probability takes whatever ``pvals[:-1]`` leaves.
    """
    op = "random.multinomial"
    if isinstance(n, (bool, numpy.bool_)) or not isinstance(n, (int, numpy.integer)):
        raise TypeError(f"{op}: n must be an integer, got {n!r}")
    if n < 0:
        raise ValueError(f"{op}: n must be non-negative, got {n}")
    shp = _size(size, op) or ()
    arrays: list[BaseArray] = []
    if isinstance(pvals, BaseArray):
        if pvals.ndim != 1:
            raise ValueError(f"{op}: pvals must be 1-dimensional, got shape {pvals.shape}")
        k = pvals.shape[0]
        arrays.append(pvals)
        p_host = None
    else:
        try:
            p_host = numpy.asarray(pvals, dtype=numpy.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{op}: pvals must be a sequence of probabilities") from None
        if p_host.ndim != 1:
            raise ValueError(f"{op}: pvals must be 1-dimensional, got shape {p_host.shape}")
        k = p_host.shape[0]
        _check_probs(p_host, k, op, False, raise_now=True)
    if k < 1:
        raise ValueError(f"{op}: pvals must not be empty")
    dev = _device_for(arrays, device, ctx)
    arrays = [x if x._device == dev else to_device(x, dev) for x in arrays]
    st = generator_state(dev)
    o = Multinomial(int(n), k, p_host, shp, st)
    return o.checked(apply(o, arrays, device=dev, mutated=(st.token,)), arrays)


@register("random.multivariate_normal")
class MultivariateNormal(_RandomOp):
    def __init__(self, size: Shape | None, dtype: numpy.dtype, check_valid: str, tol: float,
                 state: _GenState) -> None:
        self.size, self.dtype, self.state = size, dtype, state
        self.check_valid, self.tol = check_valid, tol
        self.base: Shape = ()

    def infer(self, mean: BaseArray, cov: BaseArray) -> Specs:
        op = "random.multivariate_normal"
        if mean.ndim < 1:
            raise ValueError(f"{op}: mean must be at least 1-dimensional")
        k = mean.shape[-1]
        if cov.ndim < 2 or cov.shape[-2:] != (k, k):
            raise ValueError(f"{op}: cov must have shape (..., {k}, {k}) to match mean of shape "
                             f"{mean.shape}, got {cov.shape}")
        self.base = _out_shape(op, [mean.shape[:-1], cov.shape[:-2]], self.size)
        return [(self.base + (k,), self.dtype)]

    def forward(self, xp: Any, mean: Any, cov: Any) -> Any:
        k = mean.shape[-1]
        w, v = xp.linalg.eigh(xp.asarray(cov, dtype=_F64))
        if self.check_valid != "ignore" and k:
            scale = max(float(xp.abs(w).max()), 1.0)
            if float(w.min()) < -self.tol * scale:
                msg = f"{self.name}: covariance is not symmetric positive-semidefinite"
                if self.check_valid == "raise":
                    self.bad = msg
                    return xp.zeros(self.base + (k,), self.dtype)
                warnings.warn(msg, RuntimeWarning, stacklevel=2)
        factor = v * xp.sqrt(xp.clip(w, 0, None))[..., None, :]
        with _on(self.state.device):
            z = self.state.get().standard_normal(self.base + (k,), _F64)
        return mean + xp.matmul(factor, z[..., None])[..., 0]


def multivariate_normal(mean: Any, cov: Any, size: Any = None, check_valid: str | None = None,
                        tol: float | None = None, dtype: Any = None, device: Any = None,
                        ctx: Any = None) -> BaseArray:
    """Multivariate normal draws of shape ``size + (k,)``; batched ``mean``/``cov`` broadcast.

    ``check_valid`` ('warn' by default, 'raise', 'ignore') applies to a covariance that is not
    positive semi-definite, checked in the task.
    """
    op = "random.multivariate_normal"
    cv = check_valid or "warn"
    if cv not in ("warn", "raise", "ignore"):
        raise ValueError(f"{op}: check_valid must be 'warn', 'raise' or 'ignore', got {cv!r}")
    shp = _size(size, op)
    dt = _float_dtype(dtype, op)
    dev = _device_for([mean, cov], device, ctx)
    params = []
    for name, value in (("mean", mean), ("cov", cov)):
        p = _as_param(value, name, op, None, dev)
        params.append(p if isinstance(p, BaseArray) else _array(p, device=dev))
    st = generator_state(dev)
    o = MultivariateNormal(shp, dt, cv, 1e-8 if tol is None else float(tol), st)
    return o.checked(apply(o, params, device=dev, mutated=(st.token,)), params)
