"""MXNet 1.x's CamelCase layer operators, ``nd.pad``, the ``*_update`` optimizer operators and
``nd.save``/``nd.load``, on legacy :class:`NDArray`.

The layer operators are front ends over the framework's network ops (``_nn``, ``_conv``,
``_norm``) with MXNet 1.x's argument names (``num_hidden``, ``no_bias``, ``kernel``,
``num_filter``, ``pool_type``, ``global_pool``, ``p``, ``input_dim``/``output_dim``...).
``SoftmaxOutput`` is the one new operator: its backward ignores the head gradient and returns
``grad_scale * (softmax - one_hot(label))`` (a loss layer of the Module era).

``pad`` is a composition: constant padding concatenates filled blocks, edge and reflect padding
gather rows with ``take`` (so gradients scatter back with the existing ops).

The update operators are the optimizers' one-task kernels (``framework.nd._update``): MXNet's
formulas, states updated in place, the new weight in ``out`` (``out=weight`` updates in place)
or a new array of the weight's class.
"""

from __future__ import annotations

from typing import Any

import numpy

from . import _conv, _create, _misc, _nn, _norm, _npx, _reduce, _rnn, _shape
from ._base import BaseArray
from ._elemwise import binary
from ._legacy import NDArray, as_nd, check_nd, legacy_reshape, shape_error
from ._legacy_ops import concat, flatten, split
from ._mxnet_format import load_mxnet, save_mxnet
from ._op import Op, apply, register
from ._update import adam_update, sgd_mom_update, sgd_update

__all__ = [
    "FullyConnected", "Convolution", "Deconvolution", "Pooling", "BatchNorm", "LayerNorm",
    "Dropout", "Embedding", "Flatten", "LeakyReLU", "Activation", "SequenceMask", "Reshape",
    "Concat", "SliceChannel", "RNN", "SoftmaxOutput", "SoftmaxActivation", "pad", "Pad",
    "sgd_update", "sgd_mom_update", "adam_update", "save", "load",
]


def _opt(v: Any) -> Any:
    """MXNet's empty-tuple default as None."""
    if v is None or (isinstance(v, (tuple, list)) and len(v) == 0):
        return None
    return v


# -- layer operators ------------------------------------------------------------------------------
def FullyConnected(data: BaseArray, weight: BaseArray, bias: BaseArray | None = None,
                   num_hidden: int | None = None, no_bias: bool = False, flatten: bool = True,
                   **kwargs: Any) -> NDArray:
    """``data @ weight.T + bias``; ``weight`` is ``(num_hidden, in_units)``."""
    return _nn.fully_connected(check_nd(data, "FullyConnected"), weight,  # type: ignore
                               None if no_bias else bias, num_hidden, no_bias, flatten)


def Convolution(data: BaseArray, weight: BaseArray, bias: BaseArray | None = None,
                kernel: Any = (), stride: Any = (), dilate: Any = (), pad: Any = (),
                num_filter: int | None = None, num_group: int = 1, workspace: int = 1024,
                no_bias: bool = False, cudnn_tune: Any = None, cudnn_off: bool = False,
                layout: str | None = None) -> NDArray:
    """1-3-D convolution, ``weight`` ``(num_filter, C/num_group, *kernel)``."""
    return _conv.convolution(check_nd(data, "Convolution"), weight,  # type: ignore
                             None if no_bias else bias, _opt(kernel), _opt(stride),
                             _opt(dilate), _opt(pad), num_filter, num_group, no_bias, layout)


def Deconvolution(data: BaseArray, weight: BaseArray, bias: BaseArray | None = None,
                  kernel: Any = (), stride: Any = (), dilate: Any = (), pad: Any = (),
                  adj: Any = (), target_shape: Any = (), num_filter: int | None = None,
                  num_group: int = 1, workspace: int = 512, no_bias: bool = True,
                  cudnn_tune: Any = None, cudnn_off: bool = False,
                  layout: str | None = None) -> NDArray:
    """Transposed convolution, ``weight`` ``(C, num_filter/num_group, *kernel)``."""
    return _conv.deconvolution(check_nd(data, "Deconvolution"), weight,  # type: ignore
                               None if no_bias else bias, _opt(kernel), _opt(stride),
                               _opt(dilate), _opt(pad), _opt(adj), _opt(target_shape),
                               num_filter, num_group, no_bias, layout)


def Pooling(data: BaseArray, kernel: Any = (), pool_type: str = "max",
            global_pool: bool = False, cudnn_off: bool = False,
            pooling_convention: str = "valid", stride: Any = (), pad: Any = (),
            p_value: int | None = None, count_include_pad: bool | None = None,
            layout: str | None = None) -> NDArray:
    """Max/avg/sum/lp pooling (``stride`` defaults to 1, ``pad`` to 0)."""
    return _conv.pooling(check_nd(data, "Pooling"), _opt(kernel), _opt(stride),  # type: ignore
                         _opt(pad), pool_type, pooling_convention, global_pool,
                         True if count_include_pad is None else count_include_pad, layout,
                         2 if p_value is None else p_value)


def BatchNorm(data: BaseArray, gamma: BaseArray, beta: BaseArray, moving_mean: BaseArray,
              moving_var: BaseArray, eps: float = 1e-3, momentum: float = 0.9,
              fix_gamma: bool = True, use_global_stats: bool = False,
              output_mean_var: bool = False, axis: int = 1, cudnn_off: bool = False,
              **kwargs: Any) -> Any:
    """Batch normalisation over every axis but ``axis``; in training mode ``moving_mean`` and
    ``moving_var`` are updated in place (see ``npx.batch_norm``)."""
    return _norm.batch_norm(check_nd(data, "BatchNorm"), gamma, beta, moving_mean, moving_var,
                            eps, momentum, fix_gamma, use_global_stats, output_mean_var, axis)


def LayerNorm(data: BaseArray, gamma: BaseArray, beta: BaseArray, axis: int = -1,
              eps: float = 1e-5, output_mean_var: bool = False) -> Any:
    return _norm.layer_norm(check_nd(data, "LayerNorm"), gamma, beta, axis, eps,
                            output_mean_var)


def Dropout(data: BaseArray, p: float = 0.5, mode: str = "training", axes: Any = (),
            cudnn_off: bool = False) -> NDArray:
    """Inverted dropout with probability ``p`` (active in training mode or ``mode='always'``)."""
    return _nn.dropout(check_nd(data, "Dropout"), p, mode, tuple(axes or ()),  # type: ignore
                       cudnn_off)


def Embedding(data: BaseArray, weight: BaseArray, input_dim: int | None = None,
              output_dim: int | None = None, dtype: Any = "float32",
              sparse_grad: bool = False) -> NDArray:
    """Rows of ``weight`` ``(input_dim, output_dim)`` at the indices ``data``."""
    return _nn.embedding(check_nd(data, "Embedding"), weight, input_dim,  # type: ignore
                         output_dim, dtype, sparse_grad)


Flatten = flatten


def LeakyReLU(data: BaseArray, gamma: BaseArray | None = None, act_type: str = "leaky",
              slope: float = 0.25, lower_bound: float = 0.125,
              upper_bound: float = 0.334) -> NDArray:
    return _nn.leaky_relu(check_nd(data, "LeakyReLU"), gamma, act_type, slope,  # type: ignore
                          lower_bound, upper_bound)


def Activation(data: BaseArray, act_type: str) -> NDArray:
    """``'relu'``, ``'sigmoid'``, ``'tanh'``, ``'softrelu'`` or ``'softsign'``."""
    return _nn.activation(check_nd(data, "Activation"), act_type)  # type: ignore


def SoftmaxActivation(data: BaseArray, mode: str = "instance") -> NDArray:
    """Softmax over the last axis (``mode='instance'``) or axis 1 (``'channel'``)."""
    if mode not in ("instance", "channel"):
        raise ValueError(f"nd.SoftmaxActivation: mode must be 'instance' or 'channel', got "
                         f"{mode!r}")
    x = check_nd(data, "SoftmaxActivation")
    if mode == "instance":
        return _shape.reshape(_misc.softmax(_npx.batch_flatten(x), -1), x._shape)  # type: ignore
    return _misc.softmax(x, 1)  # type: ignore[return-value]


def SequenceMask(data: BaseArray, sequence_length: BaseArray | None = None,
                 use_sequence_length: bool = False, value: float = 0.0,
                 axis: int = 0) -> NDArray:
    """Set the steps at or after ``sequence_length`` (per batch entry) along ``axis`` (0 or 1)
    to ``value``; without ``use_sequence_length`` a copy of ``data``."""
    x = check_nd(data, "SequenceMask")
    if not use_sequence_length:
        return _shape.copy(x)  # type: ignore[return-value]
    if sequence_length is None:
        raise ValueError("nd.SequenceMask: use_sequence_length=True needs sequence_length")
    return _npx.sequence_mask(x, sequence_length, value, axis)  # type: ignore[return-value]


def Reshape(data: BaseArray, shape: Any = (), reverse: bool = False, **kwargs: Any) -> NDArray:
    return legacy_reshape(check_nd(data, "Reshape"), shape, reverse)  # type: ignore


Concat = concat
SliceChannel = split


@register("SoftmaxOutput")
class _SoftmaxOutput(Op):
    """Softmax forward; backward ``grad_scale * (softmax - one_hot(label))`` whatever the head
    gradient is (MXNet's loss-layer convention)."""

    def __init__(self, axis: int, grad_scale: float, ignore_label: float, use_ignore: bool,
                 normalization: str, smooth_alpha: float) -> None:
        self.axis = axis
        self.grad_scale = float(grad_scale)
        self.ignore_label = float(ignore_label)
        self.use_ignore = bool(use_ignore)
        self.normalization = normalization
        self.smooth_alpha = float(smooth_alpha)

    def infer(self, x: BaseArray, label: BaseArray) -> list[Any]:
        expect = x._shape[:self.axis] + x._shape[self.axis + 1:]
        if label._shape != expect:
            raise shape_error("SoftmaxOutput", f"label has shape {label._shape}; expected "
                              f"{expect} for data of shape {x._shape}")
        dt = x._dtype if x._dtype.kind == "f" else numpy.dtype(numpy.float32)
        return [(x._shape, dt)]

    def forward(self, xp: Any, x: Any, label: Any) -> Any:
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        (x, label), (y,) = inputs, outputs
        depth = x._shape[self.axis]
        oh = _misc.one_hot(label, depth, dtype=y._dtype)
        if self.smooth_alpha:
            off = self.smooth_alpha / max(depth - 1, 1)
            oh = binary("add", binary("multiply", oh, 1.0 - self.smooth_alpha - off), off)
        if self.axis != x.ndim - 1:
            perm = list(range(x.ndim - 1))
            perm.insert(self.axis, x.ndim - 1)
            oh = _shape.transpose(oh, tuple(perm))
        g = binary("multiply", binary("subtract", y, oh), self.grad_scale)
        keep = None
        if self.use_ignore:
            keep = _shape.astype(binary("not_equal", label, self.ignore_label), y._dtype)
            g = binary("multiply", g, _shape.expand_dims(keep, self.axis))
        if self.normalization == "batch":
            g = binary("true_divide", g, float(x._shape[0]))
        elif self.normalization == "valid":
            if keep is None:
                g = binary("true_divide", g, float(max(label.size, 1)))
            else:
                total = binary("maximum", _reduce.reduce("sum", keep), 1.0)
                g = binary("true_divide", g, total)
        return [g, None]


def RNN(data: BaseArray, parameters: BaseArray, state: BaseArray,
        state_cell: BaseArray | None = None, sequence_length: BaseArray | None = None,
        state_size: int | None = None, num_layers: int = 1, bidirectional: bool = False,
        mode: str = "lstm", p: float = 0.0, state_outputs: bool = False,
        projection_size: int | None = None, lstm_state_clip_min: float | None = None,
        lstm_state_clip_max: float | None = None, lstm_state_clip_nan: bool = False,
        use_sequence_length: bool = False, **kwargs: Any) -> Any:
    """MXNet 1.x's fused ``RNN`` operator (the argument order of ``mx.nd.RNN``), the same op as
    ``npx.rnn``: ``mode`` ``'rnn_relu'``/``'rnn_tanh'``/``'lstm'``/``'gru'`` over ``data``
    ``(seq_len, batch, input_size)`` with one fused ``parameters`` vector."""
    if state_size is None:
        raise ValueError("RNN: state_size is required (the hidden size)")
    return _rnn.rnn(check_nd(data, "RNN"), parameters, state, state_cell, mode, state_size,
                    num_layers, bidirectional, p, state_outputs, sequence_length,
                    use_sequence_length, projection_size, lstm_state_clip_min,
                    lstm_state_clip_max, lstm_state_clip_nan)


def SoftmaxOutput(data: BaseArray, label: BaseArray, grad_scale: float = 1.0,
                  ignore_label: float = -1.0, multi_output: bool = False,
                  use_ignore: bool = False, preserve_shape: bool = False,
                  normalization: str = "null", out_grad: bool = False,
                  smooth_alpha: float = 0.0) -> NDArray:
    """Softmax of ``data`` whose gradient is ``grad_scale * (softmax - one_hot(label))``.

    ``multi_output``: data ``(N, C, ...)`` and label ``(N, ...)`` (softmax over axis 1);
    ``preserve_shape``: softmax over the last axis; otherwise data is seen as ``(N, -1)``.
    ``normalization`` 'null', 'batch' (divide by N) or 'valid' (by the non-ignored labels).
    """
    x = check_nd(data, "SoftmaxOutput")
    lab = check_nd(label, "SoftmaxOutput", "label")
    if normalization not in ("null", "batch", "valid"):
        raise ValueError(f"nd.SoftmaxOutput: normalization must be 'null', 'batch' or "
                         f"'valid', got {normalization!r}")
    if out_grad:
        raise NotImplementedError("nd.SoftmaxOutput: out_grad=True is not supported")
    args = (grad_scale, ignore_label, use_ignore, normalization, smooth_alpha)
    if multi_output:
        return apply(_SoftmaxOutput(1, *args), (x, lab))  # type: ignore[no-any-return]
    if preserve_shape or x.ndim <= 2:
        return apply(_SoftmaxOutput(x.ndim - 1, *args), (x, lab))  # type: ignore
    flat = _npx.batch_flatten(x)
    out = apply(_SoftmaxOutput(1, *args), (flat, _shape.reshape(lab, (x._shape[0],))))
    return _shape.reshape(out, x._shape)  # type: ignore[return-value]


# -- pad -------------------------------------------------------------------------------------------
def _filled_like(x: BaseArray, shape: tuple[int, ...], value: float) -> BaseArray:
    z = _create.full(shape, value, dtype=x._dtype, device=x._device)
    return type(x)._wrap(z._buf, z._device)


def pad(data: BaseArray, mode: str = "constant", pad_width: Any = (),
        constant_value: float = 0.0) -> NDArray:
    """Pad a 4-D or 5-D array on its spatial axes (MXNet's ``Pad``).

    ``pad_width`` is the flat tuple ``(before_0, after_0, before_1, after_1, ...)`` of length
    ``2 * ndim``; the first four entries (batch and channel axes) must be 0. ``mode`` is
    ``'constant'`` (fill with ``constant_value``), ``'edge'`` (repeat the border) or
    ``'reflect'`` (mirror without repeating the border; each pad must be smaller than the axis).
    """
    x = check_nd(data, "pad")
    if mode not in ("constant", "edge", "reflect"):
        raise ValueError(f"nd.pad: mode must be 'constant', 'edge' or 'reflect', got {mode!r}")
    if x.ndim not in (4, 5):
        raise shape_error("pad", f"data must be 4-D or 5-D, got shape {x._shape}")
    pw = tuple(int(p) for p in pad_width)
    if len(pw) != 2 * x.ndim:
        raise ValueError(f"nd.pad: pad_width must have 2*ndim = {2 * x.ndim} entries for data "
                         f"of shape {x._shape}, got {len(pw)}: {pad_width!r}")
    if any(pw[:4]):
        raise ValueError(f"nd.pad: the batch and channel axes cannot be padded (the first four "
                         f"entries of pad_width must be 0), got {pad_width!r}")
    if any(p < 0 for p in pw):
        raise ValueError(f"nd.pad: pad_width must be non-negative, got {pad_width!r}")
    out = x
    for ax in range(2, x.ndim):
        lo, hi = pw[2 * ax], pw[2 * ax + 1]
        if not lo and not hi:
            continue
        n = out._shape[ax]
        if mode == "constant":
            parts = []
            for k in (lo, hi):
                shape = out._shape[:ax] + (k,) + out._shape[ax + 1:]
                parts.append(_filled_like(out, shape, constant_value) if k else None)
            seq = [p for p in (parts[0], out, parts[1]) if p is not None]
            out = _shape.concatenate(seq, axis=ax)
            continue
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(f"nd.pad: reflect padding ({lo}, {hi}) on axis {ax} must be smaller "
                             f"than the axis size {n} (data shape {x._shape})")
        if n == 0:
            raise ValueError(f"nd.pad: cannot {mode}-pad the empty axis {ax} of shape {x._shape}")
        idx = numpy.pad(numpy.arange(n, dtype=numpy.int64), (lo, hi), mode=mode)
        out = _misc.take(out, _create.array(idx, device=out._device), ax, "clip")
    if out is x:
        out = _shape.copy(x)
    return out  # type: ignore[return-value]


Pad = pad


# -- optimizer update operators ----------------------------------------------------------------
# ``sgd_update``, ``sgd_mom_update`` and ``adam_update`` are the optimizers' own one-task kernels
# (``framework.nd._update``), re-exported here: legacy code and the Trainer run the same arithmetic.


# -- files ----------------------------------------------------------------------------------------
def save(fname: str, data: Any) -> None:
    """Write an NDArray, a list of them or a dict ``name -> NDArray`` in MXNet's binary
    NDArray format (what MXNet's ``nd.save`` writes; atomic)."""
    if isinstance(data, BaseArray):
        data = [data]
    if isinstance(data, dict):
        for k, v in data.items():
            if not isinstance(k, str) or not isinstance(v, BaseArray):
                raise TypeError(f"nd.save: a dict must map str to NDArray, got "
                                f"{type(k).__name__} -> {type(v).__name__}")
        save_mxnet(fname, {k: v._host() for k, v in data.items()})
        return
    if not isinstance(data, (list, tuple)) or not all(isinstance(v, BaseArray) for v in data):
        raise TypeError(f"nd.save: data must be an NDArray, a list of NDArrays or a dict of "
                        f"them, got {type(data).__name__}")
    save_mxnet(fname, [v._host() for v in data])


def load(fname: str) -> Any:
    """Read a file written by ``nd.save`` (or MXNet): a list of NDArrays, or a dict when the
    file holds names."""
    loaded = load_mxnet(fname)
    if isinstance(loaded, dict):
        return {k: as_nd(_create.array(v, dtype=v.dtype)) for k, v in loaded.items()}
    return [as_nd(_create.array(v, dtype=v.dtype)) for v in loaded]
