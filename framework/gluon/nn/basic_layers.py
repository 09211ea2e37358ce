"""Containers, dense and embedding layers, dropout, normalisation and lambdas (MXNet's
``gluon.nn.basic_layers``).

Every layer computes with ``framework.np``/``npx`` on its parameters' data on the input's device.
Layers whose input size is not given create parameters with unknown (-1) dimensions; the first
call fills them in through ``infer_shape`` (API.md §2 item 17). A known size that does not fit
the input raises a ``ShapeError`` naming the block's path, the parameter and both shapes.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy

from ... import np, npx
from ...base import ShapeError
from ...nd._nn import fully_connected_relu
from ...nd._tape import STATE
from ..block import Block, F, HybridBlock, _indent
from ..parameter import Parameter
from .activations import Activation

__all__ = [
    "Sequential", "HybridSequential", "Concatenate", "HybridConcatenate", "Dense", "Dropout",
    "Embedding", "Flatten", "BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm", "Lambda",
    "HybridLambda", "Identity",
]


# -- helpers shared with conv_layers ----------------------------------------------------------

def where(block: Block) -> str:
    """``Dense 'features.1'``: how errors name a block."""
    return f"{type(block).__name__} '{block._path}'"


def device_of(x: Any) -> Any:
    """The device of an input (None for non-arrays: parameters then use their only device)."""
    return getattr(x, "device", None)


def size_or_none(n: int) -> int | None:
    """A parameter dimension for ``__repr__``: unknown (-1) or 0 shows as None, like MXNet."""
    return n if n > 0 else None


def check_ndim(block: Block, x: Any, least: int, what: str) -> None:
    ndim = getattr(x, "ndim", None)
    if ndim is None:
        raise TypeError(f"{where(block)}: the input must be an ndarray, got "
                        f"{type(x).__name__}")
    if ndim < least:
        raise ShapeError(f"{where(block)}: the input must have {what}, got shape {x.shape}")


def check_dim(block: Block, param: Parameter, dim: int, got: int, x: Any, what: str) -> None:
    """Raise unless ``param.shape[dim]`` is unknown or equals ``got`` (taken from ``x``)."""
    assert param.shape is not None
    want = param.shape[dim]
    if want >= 0 and want != got:
        raise ShapeError(f"{where(block)}: parameter '{param._name}' of shape {param.shape} "
                         f"expects {want} {what}, but the input of shape {x.shape} has {got}")


def _normalize_axis(block: Block, axis: int, x: Any) -> int:
    if not -x.ndim <= axis < x.ndim:
        raise ShapeError(f"{where(block)}: axis {axis} is out of range for input of shape "
                         f"{x.shape}")
    return axis % x.ndim


# -- containers ---------------------------------------------------------------------------------

def _chain(block: Block, x: Any, args: tuple[Any, ...]) -> Any:
    """Run the children in order; a tuple/list output feeds the next child's arguments."""
    for child in block._children.values():
        x = child(x, *args)
        args = ()
        if isinstance(x, (tuple, list)):
            args = tuple(x[1:])
            x = x[0]
    if args:
        return (x, *args)
    return x


def _container_repr(block: Block) -> str:
    modstr = "\n".join(f"  ({key}): {_indent(repr(child), 2)}"
                       for key, child in block._children.items())
    return f"{type(block).__name__}(\n{modstr}\n)"


class _SequentialMixin:
    """``add``, indexing, slicing, ``len`` and iteration shared by the two containers."""

    _children: Any
    register_child: Callable[..., Any]
    _on_child_change: Callable[[], None]

    def add(self, *blocks: Block) -> None:
        """Append blocks; each is registered under its index (``'0'``, ``'1'``...)."""
        for block in blocks:
            if not isinstance(block, Block):
                raise TypeError(f"{type(self).__name__}.add: expected Blocks, got "
                                f"{type(block).__name__}")
            self.register_child(block)
        if blocks:
            self._on_child_change()

    def _empty_like(self) -> Any:
        return type(self)()

    def __getitem__(self, key: int | slice) -> Any:
        layers = list(self._children.values())[key]
        if isinstance(layers, list):
            net = self._empty_like()
            net.add(*layers)
            return net
        return layers

    def __len__(self) -> int:
        return len(self._children)

    def __iter__(self) -> Iterator[Block]:
        return iter(list(self._children.values()))

    def __repr__(self) -> str:
        return _container_repr(self)  # type: ignore[arg-type]


class Sequential(_SequentialMixin, Block):
    """Stacks Blocks: ``net.add(nn.Dense(10), nn.Dense(2))``; ``net[0]`` is a child and
    ``net[1:]`` a new Sequential holding the same children."""

    _summary_container = True
    _hybrid_variant = "HybridSequential"

    def __init__(self, prefix: str | None = None, params: Any = None) -> None:
        super().__init__(prefix=prefix, params=params)

    def forward(self, x: Any, *args: Any) -> Any:
        return _chain(self, x, args)

    def hybridize(self, active: bool = True, **kwargs: Any) -> None:
        """Hybridize the children (MXNet warns when all of them are HybridBlocks)."""
        if self._children and all(isinstance(c, HybridBlock) for c in self._children.values()):
            warnings.warn(f"All children of this Sequential layer '{self._path}' are "
                          f"HybridBlocks. Consider using {self._hybrid_variant} for the best "
                          "performance.", stacklevel=2)
        super().hybridize(active, **kwargs)


class HybridSequential(_SequentialMixin, HybridBlock):
    """Stacks HybridBlocks; hybridizing it traces the whole chain as one graph."""

    _summary_container = True

    def __init__(self, prefix: str | None = None, params: Any = None) -> None:
        super().__init__(prefix=prefix, params=params)

    def forward(self, x: Any, *args: Any) -> Any:
        return _chain(self, x, args)


class Concatenate(Sequential):
    """Feeds the input to every child and concatenates their outputs along ``axis`` (2.0)."""

    _hybrid_variant = "HybridConcatenate"

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def _empty_like(self) -> Concatenate:
        return type(self)(axis=self.axis)

    def forward(self, x: Any) -> Any:  # type: ignore[override]
        return np.concatenate([child(x) for child in self._children.values()], axis=self.axis)


class HybridConcatenate(HybridSequential):
    """Feeds the input to every child and concatenates their outputs along ``axis`` (2.0)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def _empty_like(self) -> HybridConcatenate:
        return type(self)(axis=self.axis)

    def forward(self, x: Any) -> Any:  # type: ignore[override]
        return np.concatenate([child(x) for child in self._children.values()], axis=self.axis)


class Identity(HybridBlock):
    """Returns its input (2.0; useful as a placeholder branch in ``Concatenate``)."""

    def forward(self, x: Any) -> Any:
        return x


# -- dense, dropout, embedding, flatten -------------------------------------------------------

#: what Dense calls its input size in errors, by ``flatten``
_UNITS = {True: "input units (the product of input.shape[1:])",
          False: "input units (input.shape[-1])"}


class Dense(HybridBlock):
    """``activation(x @ weight.T + bias)`` with ``weight`` of shape ``(units, in_units)``.

    ``flatten=True`` collapses every input axis after the first (``in_units`` is their
    product); ``flatten=False`` transforms the last axis. ``in_units=0`` defers the weight's
    second dimension to the first call.
    """

    def __init__(self, units: int, activation: str | None = None, use_bias: bool = True,
                 flatten: bool = True, dtype: Any = "float32", weight_initializer: Any = None,
                 bias_initializer: Any = "zeros", in_units: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        if int(in_units) < 0:
            raise ValueError(f"Dense: in_units must be >= 0 (0: inferred), got {in_units!r}")
        self._units = int(units)
        self._in_units = int(in_units)
        self._flatten = bool(flatten)
        self.weight = Parameter("weight", shape=(self._units, self._in_units or -1),
                                init=weight_initializer, dtype=dtype, allow_deferred_init=True)
        if use_bias:
            self.bias = Parameter("bias", shape=(self._units,), init=bias_initializer,
                                  dtype=dtype, allow_deferred_init=True)
        else:
            self.bias = None
        self.act = Activation(activation) if activation is not None else None

    def _in_size(self, x: Any) -> int:
        check_ndim(self, x, 1, "at least one dimension")
        return math.prod(x.shape[1:]) if self._flatten else x.shape[-1]

    def infer_shape(self, x: Any, *args: Any) -> None:
        self.weight.shape = (self._units, self._in_size(x))

    def forward(self, x: Any) -> Any:
        check_dim(self, self.weight, 1, self._in_size(x), x, _UNITS[self._flatten])
        dev = device_of(x)
        bias = self.bias.data(dev) if self.bias is not None else None
        act = self.act
        if act is not None and act._act_type == "relu" and type(act) is Activation and \
                STATE.trace is None and not act._forward_hooks and not act._forward_pre_hooks:
            # imperative: the product and the relu as one op (a trace records the two ops)
            return fully_connected_relu(x, self.weight.data(dev), bias, self._flatten)
        out = npx.fully_connected(x, self.weight.data(dev), bias, num_hidden=self._units,
                                  no_bias=bias is None, flatten=self._flatten)
        if act is not None:
            out = act(out)
        return out

    def __repr__(self) -> str:
        shape = self.weight.shape
        assert shape is not None
        act = self.act if self.act is not None else "linear"
        return f"{type(self).__name__}({size_or_none(shape[1])} -> {shape[0]}, {act})"


class Dropout(HybridBlock):
    """Inverted dropout in training mode (inside ``autograd.record()``): each element (or each
    slice along ``axes``, which share one draw) is zeroed with probability ``rate`` and the
    survivors are scaled by ``1/(1-rate)``. The identity otherwise."""

    def __init__(self, rate: float, axes: Any = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"Dropout: rate must be in [0, 1], got {rate!r}")
        self._rate = rate
        self._axes = axes

    def forward(self, x: Any) -> Any:
        if self._rate > 0:
            return npx.dropout(x, p=self._rate, axes=self._axes)
        return np.copy(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p = {self._rate}, axes={self._axes})"


class Embedding(HybridBlock):
    """Maps integer indices to rows of ``weight`` ``(input_dim, output_dim)``; the output has
    shape ``input.shape + (output_dim,)``. ``sparse_grad`` is accepted; gradients are dense."""

    def __init__(self, input_dim: int, output_dim: int, dtype: Any = "float32",
                 weight_initializer: Any = None, sparse_grad: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(input_dim) <= 0 or int(output_dim) <= 0:
            raise ValueError(f"Embedding: input_dim and output_dim must be positive, got "
                             f"{input_dim!r} and {output_dim!r}")
        self._kwargs = {"input_dim": int(input_dim), "output_dim": int(output_dim),
                        "dtype": dtype, "sparse_grad": sparse_grad}
        self.weight = Parameter("weight", shape=(int(input_dim), int(output_dim)),
                                init=weight_initializer, dtype=dtype, allow_deferred_init=True)

    def forward(self, x: Any) -> Any:
        return npx.embedding(x, self.weight.data(device_of(x)), **self._kwargs)

    def __repr__(self) -> str:
        k = self._kwargs
        return f"{type(self).__name__}({k['input_dim']} -> {k['output_dim']}, {k['dtype']})"


class Flatten(HybridBlock):
    """Collapses every axis after the first: ``(N, a, b, ...) -> (N, a*b*...)``."""

    def forward(self, x: Any) -> Any:
        return npx.batch_flatten(x)

    def __repr__(self) -> str:
        return type(self).__name__


# -- normalisation ------------------------------------------------------------------------------

def _norm_params(block: HybridBlock, in_channels: int, center: bool, scale: bool,
                 beta_initializer: Any, gamma_initializer: Any, fixed: bool = False) -> None:
    """``gamma`` and ``beta`` of shape ``(in_channels,)`` (-1 when 0: inferred), not trained
    when ``scale``/``center`` is off (``fixed``: not even trainable later, as BatchNorm's)."""
    if int(in_channels) < 0:
        raise ValueError(f"{type(block).__name__}: in_channels must be >= 0 (0: inferred), "
                         f"got {in_channels!r}")
    n = int(in_channels) or -1
    block.gamma = Parameter("gamma", grad_req="write" if scale else "null", shape=(n,),
                            init=gamma_initializer, allow_deferred_init=True,
                            differentiable=scale or not fixed)
    block.beta = Parameter("beta", grad_req="write" if center else "null", shape=(n,),
                           init=beta_initializer, allow_deferred_init=True,
                           differentiable=center or not fixed)


def _kwargs_repr(block: Block, kwargs: dict[str, Any], tail: str = "") -> str:
    content = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{type(block).__name__}({content}{tail})"


class BatchNorm(HybridBlock):
    """Batch normalisation over every axis but ``axis`` (Ioffe and Szegedy, 2015).

    In training mode (``autograd.record()``) the batch mean and biased variance normalise, and
    ``running_mean``/``running_var`` become ``momentum * old + (1 - momentum) * batch`` (updated
    during the forward pass); otherwise, or with ``use_global_stats``, the running statistics
    normalise. ``scale=False`` fixes gamma at 1 (``fix_gamma``); ``center=False`` leaves beta at
    its initial 0 (not trained).
    """

    def __init__(self, axis: int = 1, momentum: float = 0.9, epsilon: float = 1e-5,
                 center: bool = True, scale: bool = True, use_global_stats: bool = False,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 running_mean_initializer: Any = "zeros",
                 running_variance_initializer: Any = "ones", in_channels: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._kwargs = {"axis": axis, "eps": epsilon, "momentum": momentum,
                        "fix_gamma": not scale, "use_global_stats": use_global_stats}
        if in_channels != 0:
            self.in_channels = in_channels
        _norm_params(self, in_channels, center, scale, beta_initializer, gamma_initializer,
                     fixed=True)
        n = int(in_channels) or -1
        self.running_mean = Parameter("running_mean", grad_req="null", shape=(n,),
                                      init=running_mean_initializer, allow_deferred_init=True,
                                      differentiable=False)
        self.running_var = Parameter("running_var", grad_req="null", shape=(n,),
                                     init=running_variance_initializer,
                                     allow_deferred_init=True, differentiable=False)

    def _bn_params(self) -> list[Parameter]:
        return [self.gamma, self.beta, self.running_mean, self.running_var]

    def _channels(self, x: Any) -> int:
        check_ndim(self, x, 1, "at least one dimension")
        return int(x.shape[_normalize_axis(self, self._kwargs["axis"], x)])

    def infer_shape(self, x: Any, *args: Any) -> None:
        c = self._channels(x)
        for p in self._bn_params():
            p.shape = (c,)

    def cast(self, dtype: Any) -> None:
        # MXNet keeps float32 statistics for float16 data
        if numpy.dtype(dtype) == numpy.float16:
            dtype = "float32"
        super().cast(dtype)

    def forward(self, x: Any) -> Any:
        c = self._channels(x)
        check_dim(self, self.gamma, 0, c, x, f"channels (input axis {self._kwargs['axis']})")
        dev = device_of(x)
        gamma, beta, mean, var = (p.data(dev) for p in self._bn_params())
        return npx.batch_norm(x, gamma, beta, mean, var, **self._kwargs)

    def __repr__(self) -> str:
        assert self.gamma.shape is not None
        return _kwargs_repr(self, self._kwargs,
                            f", in_channels={size_or_none(self.gamma.shape[0])}")


class LayerNorm(HybridBlock):
    """Normalises over ``axis`` (mean and biased variance), then ``gamma * x + beta`` with
    ``gamma``/``beta`` of length ``input.shape[axis]`` (Ba et al., 2016)."""

    def __init__(self, axis: int = -1, epsilon: float = 1e-5, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        _norm_params(self, in_channels, center, scale, beta_initializer, gamma_initializer)

    def _channels(self, x: Any) -> int:
        check_ndim(self, x, 1, "at least one dimension")
        return int(x.shape[_normalize_axis(self, self._axis, x)])

    def infer_shape(self, x: Any, *args: Any) -> None:
        c = self._channels(x)
        self.gamma.shape = (c,)
        self.beta.shape = (c,)

    def forward(self, x: Any) -> Any:
        check_dim(self, self.gamma, 0, self._channels(x), x, f"elements along axis {self._axis}")
        dev = device_of(x)
        return npx.layer_norm(x, self.gamma.data(dev), self.beta.data(dev), axis=self._axis,
                              eps=self._epsilon)

    def __repr__(self) -> str:
        assert self.gamma.shape is not None
        return _kwargs_repr(self, self._kwargs,
                            f", in_channels={size_or_none(self.gamma.shape[0])}")


class GroupNorm(HybridBlock):
    """Group normalisation of ``(N, C, ...)`` data (Wu and He, 2018): the channels split into
    ``num_groups`` groups, each normalised over its channels and the spatial axes, then a
    per-channel ``gamma``/``beta`` (2.0; shape ``(C,)``)."""

    def __init__(self, num_groups: int = 1, epsilon: float = 1e-5, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(num_groups) <= 0:
            raise ValueError(f"GroupNorm: num_groups must be positive, got {num_groups!r}")
        self._kwargs = {"eps": epsilon, "num_groups": num_groups, "center": center,
                        "scale": scale}
        self._num_groups = int(num_groups)
        self._epsilon = epsilon
        if in_channels and int(in_channels) % self._num_groups:
            raise ValueError(f"GroupNorm: in_channels {in_channels} is not divisible by "
                             f"num_groups {num_groups}")
        _norm_params(self, in_channels, center, scale, beta_initializer, gamma_initializer)

    def _channels(self, x: Any) -> int:
        check_ndim(self, x, 2, "at least two dimensions (N, C, ...)")
        c = int(x.shape[1])
        if c % self._num_groups:
            raise ShapeError(f"{where(self)}: the input's {c} channels (shape {x.shape}) are not "
                             f"divisible by num_groups {self._num_groups}")
        return c

    def infer_shape(self, x: Any, *args: Any) -> None:
        c = self._channels(x)
        self.gamma.shape = (c,)
        self.beta.shape = (c,)

    def forward(self, x: Any) -> Any:
        check_dim(self, self.gamma, 0, self._channels(x), x, "channels (input axis 1)")
        dev = device_of(x)
        return npx.group_norm(x, self.gamma.data(dev), self.beta.data(dev),
                              num_groups=self._num_groups, eps=self._epsilon)

    def __repr__(self) -> str:
        return _kwargs_repr(self, self._kwargs)


class InstanceNorm(HybridBlock):
    """Instance normalisation (Ulyanov et al., 2016): each (sample, channel) normalised over
    the remaining axes; ``axis`` is the channel axis. ``scale`` is off by default."""

    def __init__(self, axis: int = 1, epsilon: float = 1e-5, center: bool = True,
                 scale: bool = False, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        _norm_params(self, in_channels, center, scale, beta_initializer, gamma_initializer)

    def _channel_axis(self, x: Any) -> int:
        check_ndim(self, x, 3, "at least three dimensions (N, C, spatial...)")
        axis = _normalize_axis(self, self._axis, x)
        if axis == 0:
            raise ShapeError(f"{where(self)}: axis 0 is the batch axis, not a channel axis")
        return axis

    def infer_shape(self, x: Any, *args: Any) -> None:
        c = int(x.shape[self._channel_axis(x)])
        self.gamma.shape = (c,)
        self.beta.shape = (c,)

    def forward(self, x: Any) -> Any:
        axis = self._channel_axis(x)
        check_dim(self, self.gamma, 0, int(x.shape[axis]), x, f"channels (input axis {axis})")
        dev = device_of(x)
        gamma, beta = self.gamma.data(dev), self.beta.data(dev)
        if axis == 1:
            return npx.instance_norm(x, gamma, beta, eps=self._epsilon)
        y = npx.instance_norm(np.swapaxes(x, 1, axis), gamma, beta, eps=self._epsilon)
        return np.swapaxes(y, 1, axis)

    def __repr__(self) -> str:
        assert self.gamma.shape is not None
        return _kwargs_repr(self, self._kwargs,
                            f", in_channels={size_or_none(self.gamma.shape[0])}")


# -- lambdas ------------------------------------------------------------------------------------

def _op_by_name(cls: str, name: str) -> Callable[..., Any]:
    for ns in (np, npx):
        fn = getattr(ns, name, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    raise ValueError(f"{cls}: function name {name!r} is not found in np/npx")


class Lambda(Block):
    """Wraps a function, or the name of an ``np``/``npx`` operator (``Lambda('tanh')``), as a
    Block."""

    def __init__(self, function: str | Callable[..., Any], prefix: str | None = None) -> None:
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            self._func_impl = _op_by_name("Lambda", function)
            self._func_name = function
        elif callable(function):
            self._func_impl = function
            self._func_name = getattr(function, "__name__", type(function).__name__)
        else:
            raise ValueError(f"Unrecognized function in lambda: {function!r} of type "
                             f"{type(function)}")

    def forward(self, *args: Any) -> Any:
        return self._func_impl(*args)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._func_name})"


def _takes_f(function: Callable[..., Any]) -> bool:
    """Whether a HybridLambda function is 1.x style ``function(F, x, *args)``."""
    try:
        params = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] == "F"


class HybridLambda(HybridBlock):
    """Wraps a function (2.0: ``function(x, *args)``; 1.x: ``function(F, x, *args)``, detected
    by a first parameter named ``F``), or an ``np``/``npx`` operator name, as a HybridBlock."""

    def __init__(self, function: str | Callable[..., Any], prefix: str | None = None) -> None:
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            self._func = _op_by_name("HybridLambda", function)
            self._func_name = function
            self._pass_f = False
        elif callable(function):
            self._func = function
            self._func_name = getattr(function, "__name__", type(function).__name__)
            self._pass_f = _takes_f(function)
        else:
            raise ValueError(f"Unrecognized function in lambda: {function!r} of type "
                             f"{type(function)}")

    def forward(self, x: Any, *args: Any) -> Any:
        if self._pass_f:
            return self._func(F, x, *args)
        return self._func(x, *args)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._func_name})"
