"""Convolution, transposed convolution, pooling and padding layers (MXNet's
``gluon.nn.conv_layers``), over ``npx.convolution``, ``npx.deconvolution`` and ``npx.pooling``.

Weights follow the data layout, as in MXNet: a convolution's weight is
``(channels, in_channels/groups, *kernel)`` (channel-last: ``(channels, *kernel,
in_channels/groups)``), a transposed convolution's ``(in_channels, channels/groups, *kernel)``.
``in_channels=0`` leaves the input-channel dimension unknown until the first call.
"""

from __future__ import annotations

import numbers
from typing import Any

from ... import np, npx
from ...base import ShapeError
from ...nd._conv import CHANNEL_FIRST, CHANNEL_LAST
from ..block import HybridBlock
from ..parameter import Parameter
from .activations import Activation
from .basic_layers import device_of, size_or_none, where

__all__ = [
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D",
    "GlobalAvgPool2D", "GlobalAvgPool3D", "ReflectionPad2D",
]


def _tuple(value: Any, nd: int, name: str, cls: str, least: int) -> tuple[int, ...]:
    """An int (repeated) or a sequence of ``nd`` ints, each at least ``least``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        out = (int(value),) * nd
    else:
        try:
            out = tuple(int(v) for v in value)
        except TypeError:
            raise TypeError(f"{cls}: {name} must be an int or a tuple of {nd} ints, got "
                            f"{value!r}") from None
    if len(out) != nd:
        raise ValueError(f"{cls}: {name} must be a number or a list of {nd} ints, got {value!r}")
    if any(v < least for v in out):
        raise ValueError(f"{cls}: {name} entries must be >= {least}, got {value!r}")
    return out


def _check_layout(cls: str, layout: str, nd: int) -> bool:
    """Whether ``layout`` is channel-last; raises unless it is one of the two for ``nd``."""
    if layout == CHANNEL_FIRST[nd]:
        return False
    if layout == CHANNEL_LAST[nd]:
        return True
    raise ValueError(f"{cls}: only {CHANNEL_FIRST[nd]!r} and {CHANNEL_LAST[nd]!r} layouts are "
                     f"supported, got {layout!r}")


def _check_input(block: HybridBlock, x: Any, layout: str) -> None:
    ndim = getattr(x, "ndim", None)
    if ndim is None:
        raise TypeError(f"{where(block)}: the input must be an ndarray, got {type(x).__name__}")
    if ndim != len(layout):
        raise ShapeError(f"{where(block)}: expects {len(layout)}-d input (layout {layout}), got "
                         f"shape {x.shape}")


# -- convolutions -------------------------------------------------------------------------------

class _Conv(HybridBlock):
    """N-d (transposed) convolution; subclasses fix ``_nd`` and ``_transpose``."""

    _nd = 2
    _transpose = False

    def __init__(self, channels: int, kernel_size: Any, strides: Any, padding: Any,
                 dilation: Any, groups: int, layout: str, in_channels: int = 0,
                 activation: str | None = None, use_bias: bool = True,
                 weight_initializer: Any = None, bias_initializer: Any = "zeros",
                 output_padding: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cls, nd = type(self).__name__, self._nd
        last = _check_layout(cls, layout, nd)
        kernel = _tuple(kernel_size, nd, "kernel_size", cls, 1)
        channels, groups, in_channels = int(channels), int(groups), int(in_channels)
        if channels <= 0:
            raise ValueError(f"{cls}: channels must be positive, got {channels}")
        if groups <= 0 or channels % groups or in_channels % groups:
            raise ValueError(f"{cls}: groups must be a positive divisor of channels "
                             f"({channels}) and in_channels ({in_channels}), got {groups}")
        if in_channels < 0:
            raise ValueError(f"{cls}: in_channels must be >= 0 (0: inferred), got {in_channels}")
        self._channels = channels
        self._in_channels = in_channels
        self._last = last
        self._kwargs: dict[str, Any] = {
            "kernel": kernel, "stride": _tuple(strides, nd, "strides", cls, 1),
            "dilate": _tuple(dilation, nd, "dilation", cls, 1),
            "pad": _tuple(padding, nd, "padding", cls, 0), "num_filter": channels,
            "num_group": groups, "no_bias": not use_bias, "layout": layout}
        if self._transpose:
            self.out_pad = _tuple(0 if output_padding is None else output_padding, nd,
                                  "output_padding", cls, 0)
            self._kwargs["adj"] = self.out_pad
            # (in_channels, channels/groups, *kernel)
            lead, per_group = in_channels or -1, channels // groups
        else:
            # (channels, in_channels/groups, *kernel)
            lead, per_group = channels, (in_channels // groups) or -1
        wshape = (lead, *kernel, per_group) if last else (lead, per_group, *kernel)
        # the axis of the weight that depends on the input's channels
        self._w_in_axis = 0 if self._transpose else (nd + 1 if last else 1)
        self.weight = Parameter("weight", shape=wshape, init=weight_initializer,
                                allow_deferred_init=True)
        if use_bias:
            self.bias = Parameter("bias", shape=(channels,), init=bias_initializer,
                                  allow_deferred_init=True)
        else:
            self.bias = None
        self.act = Activation(activation) if activation is not None else None

    def _alias(self) -> str:
        return "conv"

    def _input_channels(self, x: Any) -> int:
        layout = self._kwargs["layout"]
        _check_input(self, x, layout)
        c = int(x.shape[layout.find("C")])
        if c % self._kwargs["num_group"]:
            raise ShapeError(f"{where(self)}: the input's {c} channels (shape {x.shape}, layout "
                             f"{layout}) are not divisible by groups {self._kwargs['num_group']}")
        return c

    def _weight_dim(self, in_channels: int) -> int:
        return in_channels if self._transpose else in_channels // self._kwargs["num_group"]

    def infer_shape(self, x: Any, *args: Any) -> None:
        assert self.weight.shape is not None
        shape = list(self.weight.shape)
        shape[self._w_in_axis] = self._weight_dim(self._input_channels(x))
        self.weight.shape = tuple(shape)

    def forward(self, x: Any) -> Any:
        c = self._input_channels(x)
        assert self.weight.shape is not None
        have = self.weight.shape[self._w_in_axis]
        if have >= 0 and have != self._weight_dim(c):
            want = have if self._transpose else have * self._kwargs["num_group"]
            raise ShapeError(f"{where(self)}: parameter 'weight' of shape {self.weight.shape} "
                             f"expects {want} input channels, but the input of shape {x.shape} "
                             f"(layout {self._kwargs['layout']}) has {c}")
        dev = device_of(x)
        op = npx.deconvolution if self._transpose else npx.convolution
        if self.bias is None:
            out = op(x, self.weight.data(dev), **self._kwargs)
        else:
            out = op(x, self.weight.data(dev), self.bias.data(dev), **self._kwargs)
        if self.act is not None:
            out = self.act(out)
        return out

    def __repr__(self) -> str:
        k = self._kwargs
        nd = self._nd
        s = f"kernel_size={k['kernel']}, stride={k['stride']}"
        if k["pad"] != (0,) * nd:
            s += f", padding={k['pad']}"
        if k["dilate"] != (1,) * nd:
            s += f", dilation={k['dilate']}"
        if self._transpose and self.out_pad != (0,) * nd:
            s += f", output_padding={self.out_pad}"
        if k["num_group"] != 1:
            s += f", groups={k['num_group']}"
        if self.bias is None:
            s += ", bias=False"
        if self.act is not None:
            s += f", {self.act}"
        shape = self.weight.shape
        assert shape is not None
        if self._transpose:
            mapping = f"{size_or_none(shape[0])} -> {self._channels // k['num_group']}"
        else:
            mapping = f"{size_or_none(shape[self._w_in_axis])} -> {shape[0]}"
        return f"{type(self).__name__}({mapping}, {s})"


class Conv1D(_Conv):
    """1-D convolution over ``(N, C, W)`` (``layout='NCW'``) or ``(N, W, C)`` (``'NWC'``) data;
    ``out_width = floor((width + 2*padding - dilation*(kernel_size-1) - 1) / strides) + 1``."""

    _nd = 1

    def __init__(self, channels: int, kernel_size: Any, strides: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, layout: str = "NCW",
                 activation: str | None = None, use_bias: bool = True,
                 weight_initializer: Any = None, bias_initializer: Any = "zeros",
                 in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over ``(N, C, H, W)`` (``layout='NCHW'``) or ``'NHWC'`` data."""

    _nd = 2

    def __init__(self, channels: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: Any = (0, 0), dilation: Any = (1, 1), groups: int = 1,
                 layout: str = "NCHW", activation: str | None = None, use_bias: bool = True,
                 weight_initializer: Any = None, bias_initializer: Any = "zeros",
                 in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, **kwargs)


class Conv3D(_Conv):
    """3-D convolution over ``(N, C, D, H, W)`` (``layout='NCDHW'``) or ``'NDHWC'`` data."""

    _nd = 3

    def __init__(self, channels: int, kernel_size: Any, strides: Any = (1, 1, 1),
                 padding: Any = (0, 0, 0), dilation: Any = (1, 1, 1), groups: int = 1,
                 layout: str = "NCDHW", activation: str | None = None, use_bias: bool = True,
                 weight_initializer: Any = None, bias_initializer: Any = "zeros",
                 in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, **kwargs)


class Conv1DTranspose(_Conv):
    """1-D transposed convolution; ``out_width = (width-1)*strides - 2*padding +
    dilation*(kernel_size-1) + 1 + output_padding``."""

    _nd = 1
    _transpose = True

    def __init__(self, channels: int, kernel_size: Any, strides: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, dilation: Any = 1, groups: int = 1,
                 layout: str = "NCW", activation: str | None = None, use_bias: bool = True,
                 weight_initializer: Any = None, bias_initializer: Any = "zeros",
                 in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, output_padding=output_padding, **kwargs)


class Conv2DTranspose(_Conv):
    """2-D transposed convolution (``NCHW`` or ``NHWC``)."""

    _nd = 2
    _transpose = True

    def __init__(self, channels: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: Any = (0, 0), output_padding: Any = (0, 0), dilation: Any = (1, 1),
                 groups: int = 1, layout: str = "NCHW", activation: str | None = None,
                 use_bias: bool = True, weight_initializer: Any = None,
                 bias_initializer: Any = "zeros", in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, output_padding=output_padding, **kwargs)


class Conv3DTranspose(_Conv):
    """3-D transposed convolution (``NCDHW`` or ``NDHWC``)."""

    _nd = 3
    _transpose = True

    def __init__(self, channels: int, kernel_size: Any, strides: Any = (1, 1, 1),
                 padding: Any = (0, 0, 0), output_padding: Any = (0, 0, 0),
                 dilation: Any = (1, 1, 1), groups: int = 1, layout: str = "NCDHW",
                 activation: str | None = None, use_bias: bool = True,
                 weight_initializer: Any = None, bias_initializer: Any = "zeros",
                 in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, output_padding=output_padding, **kwargs)


# -- pooling ------------------------------------------------------------------------------------

class _Pooling(HybridBlock):
    """Max/average pooling; ``ceil_mode`` selects MXNet's ``'full'`` output-size convention."""

    _nd = 2

    def __init__(self, pool_size: Any, strides: Any, padding: Any, ceil_mode: bool,
                 global_pool: bool, pool_type: str, layout: str,
                 count_include_pad: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cls, nd = type(self).__name__, self._nd
        _check_layout(cls, layout, nd)
        kernel = _tuple(pool_size, nd, "pool_size", cls, 1)
        stride = kernel if strides is None else _tuple(strides, nd, "strides", cls, 1)
        self._kwargs: dict[str, Any] = {
            "kernel": kernel, "stride": stride, "pad": _tuple(padding, nd, "padding", cls, 0),
            "global_pool": global_pool, "pool_type": pool_type, "layout": layout,
            "pooling_convention": "full" if ceil_mode else "valid"}
        if count_include_pad is not None:
            self._kwargs["count_include_pad"] = count_include_pad

    def _alias(self) -> str:
        return "pool"

    def forward(self, x: Any) -> Any:
        _check_input(self, x, self._kwargs["layout"])
        return npx.pooling(x, **self._kwargs)

    def __repr__(self) -> str:
        k = self._kwargs
        return (f"{type(self).__name__}(size={k['kernel']}, stride={k['stride']}, "
                f"padding={k['pad']}, ceil_mode={k['pooling_convention'] == 'full'}, "
                f"global_pool={k['global_pool']}, pool_type={k['pool_type']}, "
                f"layout={k['layout']})")


class MaxPool1D(_Pooling):
    """Max pooling over ``NCW``/``NWC`` data; ``strides`` defaults to ``pool_size``."""

    _nd = 1

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: Any = 0,
                 layout: str = "NCW", ceil_mode: bool = False, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class MaxPool2D(_Pooling):
    """Max pooling over ``NCHW``/``NHWC`` data; ``strides`` defaults to ``pool_size``."""

    _nd = 2

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: Any = 0,
                 layout: str = "NCHW", ceil_mode: bool = False, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class MaxPool3D(_Pooling):
    """Max pooling over ``NCDHW``/``NDHWC`` data; ``strides`` defaults to ``pool_size``."""

    _nd = 3

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, layout: str = "NCDHW", **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class AvgPool1D(_Pooling):
    """Average pooling over ``NCW``/``NWC`` data; padding counts in the average unless
    ``count_include_pad=False``."""

    _nd = 1

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: Any = 0,
                 layout: str = "NCW", ceil_mode: bool = False, count_include_pad: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout,
                         count_include_pad, **kwargs)


class AvgPool2D(_Pooling):
    """Average pooling over ``NCHW``/``NHWC`` data."""

    _nd = 2

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, layout: str = "NCHW", count_include_pad: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout,
                         count_include_pad, **kwargs)


class AvgPool3D(_Pooling):
    """Average pooling over ``NCDHW``/``NDHWC`` data."""

    _nd = 3

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, layout: str = "NCDHW", count_include_pad: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout,
                         count_include_pad, **kwargs)


class GlobalMaxPool1D(_Pooling):
    """Max over the whole width: ``(N, C, W) -> (N, C, 1)``."""

    _nd = 1

    def __init__(self, layout: str = "NCW", **kwargs: Any) -> None:
        super().__init__((1,), None, 0, True, True, "max", layout, **kwargs)


class GlobalMaxPool2D(_Pooling):
    """Max over each feature map: ``(N, C, H, W) -> (N, C, 1, 1)``."""

    _nd = 2

    def __init__(self, layout: str = "NCHW", **kwargs: Any) -> None:
        super().__init__((1, 1), None, 0, True, True, "max", layout, **kwargs)


class GlobalMaxPool3D(_Pooling):
    """Max over each volume: ``(N, C, D, H, W) -> (N, C, 1, 1, 1)``."""

    _nd = 3

    def __init__(self, layout: str = "NCDHW", **kwargs: Any) -> None:
        super().__init__((1, 1, 1), None, 0, True, True, "max", layout, **kwargs)


class GlobalAvgPool1D(_Pooling):
    """Mean over the whole width: ``(N, C, W) -> (N, C, 1)``."""

    _nd = 1

    def __init__(self, layout: str = "NCW", **kwargs: Any) -> None:
        super().__init__((1,), None, 0, True, True, "avg", layout, **kwargs)


class GlobalAvgPool2D(_Pooling):
    """Mean over each feature map: ``(N, C, H, W) -> (N, C, 1, 1)``."""

    _nd = 2

    def __init__(self, layout: str = "NCHW", **kwargs: Any) -> None:
        super().__init__((1, 1), None, 0, True, True, "avg", layout, **kwargs)


class GlobalAvgPool3D(_Pooling):
    """Mean over each volume: ``(N, C, D, H, W) -> (N, C, 1, 1, 1)``."""

    _nd = 3

    def __init__(self, layout: str = "NCDHW", **kwargs: Any) -> None:
        super().__init__((1, 1, 1), None, 0, True, True, "avg", layout, **kwargs)


# -- padding ------------------------------------------------------------------------------------

class ReflectionPad2D(HybridBlock):
    """Pads ``(N, C, H, W)`` data by reflecting it at its borders. ``padding`` is an int (all
    four sides of H and W) or MXNet's 8-tuple ``pad_width`` (before/after for each of the four
    axes)."""

    def __init__(self, padding: Any = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
            padding = (0, 0, 0, 0, padding, padding, padding, padding)
        padding = tuple(int(p) for p in padding)
        if len(padding) != 8 or any(p < 0 for p in padding):
            raise ValueError(f"ReflectionPad2D: padding must be an int or 8 non-negative ints, "
                             f"got {padding!r}")
        self._padding = padding

    def forward(self, x: Any) -> Any:
        _check_input(self, x, "NCHW")
        p = self._padding
        pairs = tuple((p[2 * i], p[2 * i + 1]) for i in range(4))
        for axis, (before, after) in enumerate(pairs):
            if max(before, after) >= x.shape[axis] and (before or after):
                raise ShapeError(f"{where(self)}: reflection padding {(before, after)} must be "
                                 f"smaller than the input's axis {axis} (shape {x.shape})")
        return np.pad(x, pairs, mode="reflect")
