"""Weight initializers: MXNet's ``mx.init``/``mx.initializer`` (``framework.init`` is this module).

An initializer is called as ``init(desc, arr)``: ``desc`` is the parameter's name (an
:class:`InitDesc` or a plain string) and ``arr`` the framework array to fill in place. The base
class dispatches on the end of the name (API.md §2 item 18):

=====================================  ===================================
name ends with                          filled by
=====================================  ===================================
``weight``                              ``_init_weight`` (the subclass's rule)
``bias``                                ``_init_bias`` (zeros)
``gamma``                               ``_init_gamma`` (ones)
``beta``                                ``_init_beta`` (zeros)
``running_mean``/``moving_mean``        zeros (also ``moving_inv_var``, ``moving_avg``)
``running_var``/``moving_var``          ones
``min`` / ``max``                       zeros / ones (quantization ranges, as MXNet 2.0)
anything else                           ``_init_default``: a ``ValueError`` naming the parameter
=====================================  ===================================

An initializer attached to the parameter itself (``desc.attrs['__init__']``, e.g.
``bias_initializer='zeros'``) wins and is always applied through its ``_init_weight``.

Random initializers draw with ``framework.np.random`` on the array's device, so
``np.random.seed(n)`` makes them reproducible; the draws are asynchronous like any other op.
``Orthogonal`` and ``Bilinear`` compute on the host (an SVD, a closed form) and copy the result in.

>>> from framework import init, np
>>> w = np.zeros((2, 3))
>>> init.Constant(0.5)(init.InitDesc("dense.weight"), w)
>>> w
array([[0.5, 0.5, 0.5],
       [0.5, 0.5, 0.5]])
>>> init.Xavier(factor_type="in", magnitude=2.34).dumps()
'["xavier", {"rnd_type": "uniform", "factor_type": "in", "magnitude": 2.34}]'
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from . import np as _np
from . import npx as _npx
from .nd import _rnn as _rnn_op
from .nd._base import BaseArray

__all__ = [
    "InitDesc", "Initializer", "register", "alias", "create",
    "Load", "Mixed", "Zero", "One", "Constant", "Uniform", "Normal", "Orthogonal", "Xavier",
    "MSRAPrelu", "Bilinear", "LSTMBias", "FusedRNN", "RNNFused",
]

_REGISTRY: dict[str, type[Initializer]] = {}


class InitDesc(str):
    """A parameter name carrying how to initialize it.

    ``attrs`` may hold ``'__init__'``: an initializer (instance, registry name or ``dumps()``
    string) that overrides the one passed to ``initialize``. ``global_init`` is the initializer
    that composite initializers (``FusedRNN``, ``RNNFused``) fall back to.
    """

    attrs: dict[str, Any]
    global_init: Initializer | None

    def __new__(cls, name: str, attrs: dict[str, Any] | None = None,
                global_init: Initializer | None = None) -> InitDesc:
        ret = super().__new__(cls, name)
        ret.attrs = dict(attrs) if attrs else {}
        ret.global_init = global_init
        return ret


def _check_array(desc: str, arr: Any) -> None:
    if not isinstance(arr, BaseArray):
        raise TypeError(f"initializer for {str(desc)!r}: expected a framework array to fill in "
                        f"place, got {type(arr).__name__}")


def _float_dtype(arr: Any) -> str:
    return "float64" if arr.dtype == numpy.float64 else "float32"


def _fill_uniform(arr: Any, low: float, high: float) -> None:
    arr[...] = _np.random.uniform(low, high, size=arr.shape, dtype=_float_dtype(arr),
                                  device=arr.device)


def _fill_normal(arr: Any, loc: float, scale: float) -> None:
    arr[...] = _np.random.normal(loc, scale, size=arr.shape, dtype=_float_dtype(arr),
                                 device=arr.device)


def _json_default(obj: Any) -> Any:
    # Constant(numpy_array) and friends: store arrays as nested lists
    if isinstance(obj, (BaseArray, numpy.ndarray)):
        return numpy.asarray(obj).tolist()
    if isinstance(obj, numpy.generic):
        return obj.item()
    if isinstance(obj, Initializer):
        return json.loads(obj.dumps())
    raise TypeError(f"cannot serialize {type(obj).__name__} in an initializer's arguments")


class Initializer:
    """Base class: subclasses implement ``_init_weight(name, arr)`` and may override
    ``_init_bias``, ``_init_gamma``, ``_init_beta`` and ``_init_default``."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._verbose = False
        self._print_func: Callable[[Any], str] | None = None

    def set_verbosity(self, verbose: bool = False,
                      print_func: Callable[[Any], str] | None = None) -> Initializer:
        """Log (``logging.info``) a statistic of every array initialized; by default the root
        mean square ``norm(x)/sqrt(size)``. Returns ``self``."""
        self._verbose = verbose
        if print_func is None:
            def print_func(x: Any) -> str:
                host = numpy.asarray(x, dtype=numpy.float64)
                return str(float(numpy.linalg.norm(host) / math.sqrt(max(host.size, 1))))
        self._print_func = print_func
        return self

    def _verbose_print(self, desc: str, init: Any, arr: Any) -> None:
        if self._verbose and self._print_func is not None:
            logging.info("Initialized %s as %s: %s", desc, init, self._print_func(arr))

    def dumps(self) -> str:
        """The initializer as JSON, ``'["name", {kwargs}]'``; ``create`` reads it back.

        >>> Normal(0.5).dumps()
        '["normal", {"sigma": 0.5}]'
        """
        return json.dumps([self.__class__.__name__.lower(), self._kwargs], default=_json_default)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._kwargs.items())
        return f"{self.__class__.__name__}({args})"

    def __call__(self, desc: str, arr: Any) -> None:
        """Fill ``arr`` in place according to the name ``desc`` (see the module docstring)."""
        if not isinstance(desc, InitDesc):
            if not isinstance(desc, str):
                raise TypeError(f"initializer: the name must be a str or InitDesc, got "
                                f"{type(desc).__name__}")
            desc = InitDesc(desc)
        _check_array(desc, arr)
        if desc.global_init is None:
            desc.global_init = self
        own = desc.attrs.get("__init__", "")
        if own:
            # a parameter's own initializer applies whatever the parameter is called
            create(own)._init_weight(desc, arr)
            self._verbose_print(desc, own, arr)
            return
        self._init_by_name(desc, arr)

    def _init_by_name(self, desc: InitDesc, arr: Any) -> None:
        for suffixes, method, label in self._dispatch_table():
            if desc.endswith(suffixes):
                method(desc, arr)
                self._verbose_print(desc, label, arr)
                return
        self._init_default(desc, arr)

    def _dispatch_table(self) -> list[tuple[tuple[str, ...], Callable[[Any, Any], None], str]]:
        return [
            (("weight",), self._init_weight, "weight"),
            (("bias",), self._init_bias, "bias"),
            (("gamma",), self._init_gamma, "gamma"),
            (("beta",), self._init_beta, "beta"),
            (("running_mean", "moving_mean", "moving_inv_var", "moving_avg"), self._init_zero,
             "zeros"),
            (("running_var", "moving_var"), self._init_one, "ones"),
            (("min",), self._init_zero, "min"),
            (("max",), self._init_one, "max"),
        ]

    # -- the hooks subclasses override -------------------------------------------------------
    def _init_zero(self, _: Any, arr: Any) -> None:
        arr[...] = 0.0

    def _init_one(self, _: Any, arr: Any) -> None:
        arr[...] = 1.0

    def _init_bias(self, _: Any, arr: Any) -> None:
        arr[...] = 0.0

    def _init_gamma(self, _: Any, arr: Any) -> None:
        arr[...] = 1.0

    def _init_beta(self, _: Any, arr: Any) -> None:
        arr[...] = 0.0

    def _init_bilinear(self, _: Any, arr: Any) -> None:
        arr[...] = _bilinear_kernel(arr.shape, arr.dtype)

    def _init_weight(self, name: Any, arr: Any) -> None:
        raise NotImplementedError(f"{self.__class__.__name__} does not implement _init_weight "
                                  f"(needed for {str(name)!r})")

    def _init_default(self, name: Any, _: Any) -> None:
        raise ValueError(
            f"Unknown initialization pattern for parameter {str(name)!r}: an initializer only "
            "knows names ending in 'weight', 'bias' (0), 'gamma' (1), 'beta' (0), "
            "'running_mean'/'moving_mean' (0), 'running_var'/'moving_var' (1), 'min' (0) and "
            "'max' (1). Give this parameter its own initializer, e.g. "
            "Parameter(..., init=mx.init.Zero()).")


# -- registry -----------------------------------------------------------------------------------
def register(klass: type[Initializer]) -> type[Initializer]:
    """Class decorator: make ``klass`` creatable by its lower-cased name (``create('myinit')``).

    >>> @register
    ... class MyInit(Initializer):
    ...     def _init_weight(self, _, arr):
    ...         arr[:] = 0.1
    >>> create("myinit")
    MyInit()
    """
    if not (isinstance(klass, type) and issubclass(klass, Initializer)):
        raise TypeError(f"register: {klass!r} is not an Initializer subclass")
    _REGISTRY[klass.__name__.lower()] = klass
    return klass


def alias(*names: str) -> Callable[[type[Initializer]], type[Initializer]]:
    """Class decorator: also register ``klass`` under ``names``."""
    def deco(klass: type[Initializer]) -> type[Initializer]:
        for name in names:
            _REGISTRY[name.lower()] = klass
        return klass
    return deco


def create(init: Any = None, /, *args: Any, **kwargs: Any) -> Initializer:
    """An initializer from an instance (returned as is), a registry name (``'xavier'``), a
    ``dumps()`` string, a ``{'initializer': name, **kwargs}`` dict, or a subclass; other
    arguments go to the constructor. ``create(initializer='xavier')`` works too.

    >>> create('["xavier", {"magnitude": 2}]').magnitude
    2.0
    """
    if init is None:
        if "initializer" not in kwargs:
            raise TypeError("create: no initializer given")
        init = kwargs.pop("initializer")
    if isinstance(init, Initializer):
        if args or kwargs:
            raise TypeError(f"create: extra arguments given with the instance {init!r}")
        return init
    if isinstance(init, type) and issubclass(init, Initializer):
        return init(*args, **kwargs)
    if isinstance(init, dict):
        if args:
            raise TypeError("create: positional arguments given with a dict")
        spec = dict(init)
        spec.update(kwargs)
        name = spec.pop("initializer", None) or spec.pop("init", None) or spec.pop("name", None)
        return create(name, **spec)
    if not isinstance(init, str):
        raise TypeError(f"create: expected an Initializer, a name or a dumps() string, got "
                        f"{type(init).__name__}")
    text = init.strip()
    if text.startswith("["):
        if args or kwargs:
            raise TypeError("create: extra arguments given with a JSON description")
        try:
            name, params = json.loads(text)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"create: {init!r} is not an initializer description "
                             f"'[\"name\", {{...}}]' ({exc})") from None
        return create(name, **params)
    if text.startswith("{"):
        return create(json.loads(text), *args, **kwargs)
    klass = _REGISTRY.get(text.lower())
    if klass is None:
        raise ValueError(f"create: unknown initializer {init!r}; registered: "
                         f"{', '.join(sorted(_REGISTRY))}")
    return klass(*args, **kwargs)


# -- composite initializers ---------------------------------------------------------------------
class Load(Initializer):
    """Initialize from saved arrays (a file ``npx.load`` reads, or a dict name -> array);
    names missing there go to ``default_init``. ``arg:``/``aux:`` prefixes are dropped."""

    def __init__(self, param: Any, default_init: Any = None, verbose: bool = False) -> None:
        super().__init__()
        if isinstance(param, str):
            param = _npx.load(param)
        if not isinstance(param, dict):
            raise TypeError(f"Load: param must be a file name or a dict of arrays, got "
                            f"{type(param).__name__}")
        self.param: dict[str, Any] = {}
        for name, value in param.items():
            key = name[4:] if name.startswith(("arg:", "aux:")) else name
            self.param[key] = value
        self.default_init = create(default_init) if default_init is not None else None
        self.verbose = verbose

    def _init_weight(self, desc: Any, arr: Any) -> None:
        name = str(desc)
        if name in self.param:
            src = self.param[name]
            if tuple(src.shape) != tuple(arr.shape):
                raise ValueError(f"Load: parameter {name!r} cannot be initialized from the "
                                 f"loaded array: shape mismatch, target {tuple(arr.shape)} vs "
                                 f"loaded {tuple(src.shape)}")
            arr[...] = src.as_in_context(arr.device) if isinstance(src, BaseArray) else src
            if self.verbose:
                logging.info("Initialized %s by loading", name)
            return
        if self.default_init is None:
            raise ValueError(f"Load: cannot initialize {name!r}: not found in the loaded "
                             "parameters and no default_init was given")
        glob = desc.global_init if isinstance(desc, InitDesc) else None
        self.default_init(InitDesc(name, global_init=glob), arr)
        if self.verbose:
            logging.info("Initialized %s by default", name)

    def _init_by_name(self, desc: InitDesc, arr: Any) -> None:
        self._init_weight(desc, arr)

    def dumps(self) -> str:
        raise TypeError("Load holds arrays and cannot be serialized with dumps()")


class Mixed(Initializer):
    """Pick an initializer by the first regular expression (``re.match``) the name matches.

    >>> init = Mixed(["bias", ".*"], [Zero(), Uniform(0.1)])
    """

    def __init__(self, patterns: Sequence[str], initializers: Sequence[Any]) -> None:
        super().__init__()
        if len(patterns) != len(initializers):
            raise ValueError(f"Mixed: {len(patterns)} patterns but {len(initializers)} "
                             "initializers")
        self.map = [(re.compile(p), create(i)) for p, i in zip(patterns, initializers)]

    def _init_weight(self, desc: Any, arr: Any) -> None:
        name = str(desc)
        for prog, init in self.map:
            if prog.match(name):
                # a fresh descriptor: the chosen initializer dispatches on the name itself
                glob = desc.global_init if isinstance(desc, InitDesc) else None
                init(InitDesc(name, global_init=glob), arr)
                return
        raise ValueError(f"Mixed: parameter name {name!r} matches none of the patterns "
                         f"{[p.pattern for p, _ in self.map]}; add a '.*' pattern at the end "
                         "with a default initializer")

    def _init_by_name(self, desc: InitDesc, arr: Any) -> None:
        self._init_weight(desc, arr)

    def dumps(self) -> str:
        raise TypeError("Mixed cannot be serialized with dumps(); serialize its parts")


# -- constant initializers ----------------------------------------------------------------------
@register
@alias("zeros")
class Zero(Initializer):
    """Weights set to 0."""

    def __init__(self) -> None:
        super().__init__()

    def _init_weight(self, _: Any, arr: Any) -> None:
        arr[...] = 0


@register
@alias("ones")
class One(Initializer):
    """Weights set to 1."""

    def __init__(self) -> None:
        super().__init__()

    def _init_weight(self, _: Any, arr: Any) -> None:
        arr[...] = 1


@register
class Constant(Initializer):
    """Weights set to ``value``: a scalar, or an array broadcastable to the parameter."""

    def __init__(self, value: Any) -> None:
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, _: Any, arr: Any) -> None:
        value = self.value
        if isinstance(value, BaseArray):
            value = value.as_in_context(arr.device)
        arr[...] = value


# -- random initializers ------------------------------------------------------------------------
@register
class Uniform(Initializer):
    """Weights drawn uniformly from ``[-scale, scale)``; ``Uniform()`` is the global default."""

    def __init__(self, scale: float = 0.07) -> None:
        super().__init__(scale=scale)
        self.scale = scale

    def _init_weight(self, _: Any, arr: Any) -> None:
        _fill_uniform(arr, -self.scale, self.scale)


@register
class Normal(Initializer):
    """Weights drawn from ``N(0, sigma**2)``."""

    def __init__(self, sigma: float = 0.01) -> None:
        super().__init__(sigma=sigma)
        self.sigma = sigma

    def _init_weight(self, _: Any, arr: Any) -> None:
        _fill_normal(arr, 0.0, self.sigma)


@register
class Orthogonal(Initializer):
    """An orthogonal matrix (Saxe et al., arXiv:1312.6120) times ``scale``: the weight is
    viewed as ``(shape[0], prod(shape[1:]))``; its rows are orthonormal when ``shape[0] <=
    prod(shape[1:])``, its columns otherwise. The SVD runs on the host."""

    def __init__(self, scale: float = 1.414, rand_type: str = "uniform") -> None:
        if rand_type not in ("uniform", "normal"):
            raise ValueError(f"Orthogonal: rand_type must be 'uniform' or 'normal', got "
                             f"{rand_type!r}")
        super().__init__(scale=scale, rand_type=rand_type)
        self.scale = scale
        self.rand_type = rand_type

    def _init_weight(self, name: Any, arr: Any) -> None:
        if arr.ndim < 2:
            raise ValueError(f"Orthogonal initializer cannot be applied to {str(name)!r} of "
                             f"shape {arr.shape}: it needs at least 2 dimensions")
        nout = arr.shape[0]
        nin = int(numpy.prod(arr.shape[1:]))
        if self.rand_type == "uniform":
            tmp = _np.random.uniform(-1.0, 1.0, size=(nout, nin), dtype="float64",
                                     device=arr.device)
        else:
            tmp = _np.random.normal(0.0, 1.0, size=(nout, nin), dtype="float64",
                                    device=arr.device)
        host = tmp.asnumpy()
        u, _, v = numpy.linalg.svd(host, full_matrices=False)
        res = u if u.shape == host.shape else v
        arr[...] = (self.scale * res.reshape(arr.shape)).astype(arr.dtype)


@register
class Xavier(Initializer):
    """Glorot/Xavier: ``U(-c, c)`` (or ``N(0, c**2)`` with ``rnd_type='gaussian'``), where
    ``c = sqrt(magnitude / factor)`` and ``factor`` is ``(fan_in + fan_out) / 2``, ``fan_in`` or
    ``fan_out`` for ``factor_type`` ``'avg'``, ``'in'``, ``'out'``.
    ``fan_in = shape[1] * prod(shape[2:])``, ``fan_out = shape[0] * prod(shape[2:])``."""

    def __init__(self, rnd_type: str = "uniform", factor_type: str = "avg",
                 magnitude: float = 3) -> None:
        if rnd_type not in ("uniform", "gaussian"):
            raise ValueError(f"Xavier: rnd_type must be 'uniform' or 'gaussian', got "
                             f"{rnd_type!r}")
        if factor_type not in ("avg", "in", "out"):
            raise ValueError(f"Xavier: factor_type must be 'avg', 'in' or 'out', got "
                             f"{factor_type!r}")
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)

    def _scale(self, name: Any, shape: tuple[int, ...]) -> float:
        if len(shape) < 2:
            raise ValueError(f"{self.__class__.__name__} initializer cannot be applied to "
                             f"{str(name)!r} of shape {shape}: it needs at least 2 dimensions "
                             "(use e.g. bias_initializer='zeros' for vectors)")
        hw_scale = float(numpy.prod(shape[2:])) if len(shape) > 2 else 1.0
        fan_in, fan_out = shape[1] * hw_scale, shape[0] * hw_scale
        factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[self.factor_type]
        if factor <= 0:
            raise ValueError(f"{self.__class__.__name__}: {str(name)!r} of shape {shape} has "
                             "a zero fan")
        return math.sqrt(self.magnitude / factor)

    def _init_weight(self, name: Any, arr: Any) -> None:
        scale = self._scale(name, tuple(arr.shape))
        if self.rnd_type == "uniform":
            _fill_uniform(arr, -scale, scale)
        else:
            _fill_normal(arr, 0.0, scale)


@register
class MSRAPrelu(Xavier):
    """He/MSRA initialization (arXiv:1502.01852): Gaussian Xavier with
    ``magnitude = 2 / (1 + slope**2)``."""

    def __init__(self, factor_type: str = "avg", slope: float = 0.25) -> None:
        super().__init__("gaussian", factor_type, 2.0 / (1 + slope ** 2))
        self._kwargs = {"factor_type": factor_type, "slope": slope}


def _bilinear_kernel(shape: tuple[int, ...], dtype: Any) -> numpy.ndarray:
    if len(shape) != 4:
        raise ValueError(f"Bilinear initializer needs a 4-d weight (out, in, h, w), got shape "
                         f"{shape}")
    f = math.ceil(shape[3] / 2.0)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    x = numpy.arange(shape[3], dtype=numpy.float64)
    y = numpy.arange(shape[2], dtype=numpy.float64)
    kernel = numpy.outer(1 - numpy.abs(y / f - c), 1 - numpy.abs(x / f - c))
    return numpy.broadcast_to(kernel, shape).astype(dtype)


@register
class Bilinear(Initializer):
    """Bilinear-upsampling kernels for a ``Conv2DTranspose`` weight ``(out, in, h, w)``:
    ``w[..., y, x] = (1 - |x/f - c|) * (1 - |y/f - c|)`` with ``f = ceil(w/2)`` and
    ``c = (2f - 1 - f % 2) / (2f)``."""

    def __init__(self) -> None:
        super().__init__()

    def _init_weight(self, _: Any, arr: Any) -> None:
        self._init_bilinear(_, arr)


@register
class LSTMBias(Initializer):
    """LSTM biases: 0 except the forget gate (the second quarter, gate order i, f, g, o),
    which gets ``forget_bias`` (Jozefowicz et al. 2015 recommend 1.0)."""

    def __init__(self, forget_bias: float = 1.0) -> None:
        super().__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias

    def _init_weight(self, name: Any, arr: Any) -> None:
        if arr.ndim != 1 or arr.shape[0] % 4:
            raise ValueError(f"LSTMBias: {str(name)!r} of shape {arr.shape} is not an LSTM "
                             "bias (a vector of 4 * hidden_size)")
        arr[...] = 0.0
        num_hidden = arr.shape[0] // 4
        arr[num_hidden:2 * num_hidden] = self.forget_bias


# -- fused RNN parameters -----------------------------------------------------------------------
_GATE_NAMES = {"rnn_relu": [""], "rnn_tanh": [""], "lstm": ["_i", "_f", "_c", "_o"],
               "gru": ["_r", "_z", "_o"]}

# The fused layout is the RNN op's own (cuDNN's and MXNet's): every weight first, layer by layer
# and direction by direction (``l`` then ``r``), then every bias; one definition for both.
rnn_param_layout = _rnn_op.param_layout
_num_gates = _rnn_op._gates


def _fill_pieces(arr: Any, pieces: list[tuple[str, tuple[int, ...]]],
                 fill: Callable[[str, Any], None]) -> None:
    total = sum(int(numpy.prod(s)) for _, s in pieces)
    if arr.ndim != 1 or arr.shape[0] != total:
        raise ValueError(f"fused RNN parameter of shape {arr.shape} does not match the layout, "
                         f"which needs a vector of {total} values")
    begin = 0
    for name, shape in pieces:
        size = int(numpy.prod(shape))
        piece = _np.zeros(shape, dtype=arr.dtype, device=arr.device)
        fill(name, piece)
        arr[begin:begin + size] = piece.reshape(-1)
        begin += size


def _fallback(desc: Any, owner: Initializer) -> Initializer:
    glob = desc.global_init if isinstance(desc, InitDesc) else None
    return glob if glob is not None and glob is not owner else Uniform()


@register
class RNNFused(Initializer):
    """MXNet 2.0's initializer for a fused ``rnn_param`` vector (layout:
    :func:`rnn_param_layout`). Each weight block is filled by its own initializer's
    ``_init_weight`` (default: the global initializer, else ``Uniform()``); biases default to 0.
    """

    def __init__(self, mode: str, num_layers: int, state_size: int, input_size: int,
                 num_directions: int = 1, projection_size: int | None = None,
                 i2h_weight_initializer: Any = None, h2h_weight_initializer: Any = None,
                 i2h_bias_initializer: Any = None, h2h_bias_initializer: Any = None,
                 h2r_weight_initializer: Any = None) -> None:
        _num_gates(mode)
        if num_directions not in (1, 2):
            raise ValueError(f"RNNFused: num_directions must be 1 or 2, got {num_directions}")
        inits = {"i2h_weight": i2h_weight_initializer, "h2h_weight": h2h_weight_initializer,
                 "i2h_bias": i2h_bias_initializer, "h2h_bias": h2h_bias_initializer,
                 "h2r_weight": h2r_weight_initializer}
        super().__init__(mode=mode, num_layers=num_layers, state_size=state_size,
                         input_size=input_size, num_directions=num_directions,
                         projection_size=projection_size,
                         **{f"{k}_initializer": (v.dumps() if isinstance(v, Initializer) else v)
                            for k, v in inits.items()})
        self.mode = mode
        self.num_layers = num_layers
        self.state_size = state_size
        self.input_size = input_size
        self.num_directions = num_directions
        self.projection_size = projection_size
        self._inits = {k: (create(v) if v is not None else None) for k, v in inits.items()}

    def _init_weight(self, desc: Any, arr: Any) -> None:
        pieces = rnn_param_layout(self.mode, self.num_layers, self.input_size, self.state_size,
                                  self.num_directions == 2, self.projection_size)
        fallback = _fallback(desc, self)
        glob = desc.global_init if isinstance(desc, InitDesc) else None

        def fill(name: str, piece: Any) -> None:
            kind = name.split("_", 1)[1]  # 'l0_i2h_weight' -> 'i2h_weight'
            init = self._inits[kind]
            if init is None:
                init = Zero() if kind.endswith("bias") else fallback
            init._init_weight(InitDesc(name, global_init=glob), piece)

        _fill_pieces(arr, pieces, fill)


@register
class FusedRNN(Initializer):
    """MXNet 1.x's initializer for a fused RNN parameter vector: unpacks it per gate
    (``l0_i2h_f_weight``...), fills each piece with ``init`` (or the global initializer) by the
    usual name dispatch, sets every LSTM forget-gate bias to ``forget_bias``, and packs it back.
    The input size is inferred from the vector's length, as MXNet does."""

    def __init__(self, init: Any, num_hidden: int, num_layers: int, mode: str,
                 bidirectional: bool = False, forget_bias: float = 1.0) -> None:
        _num_gates(mode)
        init = create(init) if init is not None else None
        super().__init__(init=init.dumps() if init is not None else None,
                         num_hidden=num_hidden, num_layers=num_layers, mode=mode,
                         bidirectional=bidirectional, forget_bias=forget_bias)
        self._init = init
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bidirectional
        self._forget_bias = forget_bias

    def _layout(self, size: int) -> list[tuple[str, tuple[int, ...]]]:
        h, layers, gate_names = self._num_hidden, self._num_layers, _GATE_NAMES[self._mode]
        dirs = ["l", "r"] if self._bidirectional else ["l"]
        b, m = len(dirs), len(gate_names)
        per = size // (b * h * m)
        ni = per - (layers - 1) * (h + b * h + 2) - h - 2
        if ni <= 0 or b * h * m * (ni + h + 2 + (layers - 1) * (b * h + h + 2)) != size:
            raise ValueError(f"FusedRNN: a parameter of {size} values does not fit mode "
                             f"{self._mode!r} with num_hidden={h}, num_layers={layers}, "
                             f"bidirectional={self._bidirectional}")
        layout: list[tuple[str, tuple[int, ...]]] = []
        for layer in range(layers):
            for d in dirs:
                n_in = ni if layer == 0 else b * h
                layout += [(f"{d}{layer}_i2h{g}_weight", (h, n_in)) for g in gate_names]
                layout += [(f"{d}{layer}_h2h{g}_weight", (h, h)) for g in gate_names]
        for layer in range(layers):
            for d in dirs:
                layout += [(f"{d}{layer}_i2h{g}_bias", (h,)) for g in gate_names]
                layout += [(f"{d}{layer}_h2h{g}_bias", (h,)) for g in gate_names]
        return layout

    def _init_weight(self, desc: Any, arr: Any) -> None:
        if arr.ndim != 1:
            raise ValueError(f"FusedRNN: expected a 1-d parameter vector, got shape {arr.shape}")
        glob = desc.global_init if isinstance(desc, InitDesc) else None
        init = self._init if self._init is not None else _fallback(desc, self)

        def fill(name: str, piece: Any) -> None:
            if self._mode == "lstm" and name.endswith("_f_bias"):
                piece[...] = self._forget_bias
            else:
                init(InitDesc(name, global_init=glob), piece)

        _fill_pieces(arr, self._layout(arr.shape[0]), fill)
