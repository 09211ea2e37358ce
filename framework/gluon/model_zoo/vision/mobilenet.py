"""MobileNet v1 (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile
Vision Applications", arXiv:1704.04861) and v2 (Sandler et al., "Inverted Residuals and Linear
Bottlenecks", arXiv:1801.04381), laid out as in MXNet's model zoo. Channel counts are
``int(c * multiplier)`` (MXNet's rule, not the paper's rounding to multiples of 8).
MobileNetV2's ``output`` is a 1x1 convolution without bias followed by Flatten."""

from __future__ import annotations

import os
from typing import Any

from .... import np
from ... import nn
from ...block import HybridBlock
from ._common import load_pretrained

__all__ = ["MobileNet", "MobileNetV2", "LinearBottleneck", "RELU6",
           "mobilenet1_0", "mobilenet0_75", "mobilenet0_5", "mobilenet0_25",
           "mobilenet_v2_1_0", "mobilenet_v2_0_75", "mobilenet_v2_0_5", "mobilenet_v2_0_25",
           "get_mobilenet", "get_mobilenet_v2"]


class RELU6(HybridBlock):
    """``min(max(x, 0), 6)``."""

    def forward(self, x: Any) -> Any:
        return np.clip(x, 0, 6)


def _add_conv(out: nn.HybridSequential, channels: int = 1, kernel: int = 1, stride: int = 1,
              pad: int = 0, num_group: int = 1, active: bool = True,
              relu6: bool = False) -> None:
    """Append conv (no bias) + BatchNorm (+ ReLU or ReLU6 when ``active``)."""
    out.add(nn.Conv2D(channels, kernel, stride, pad, groups=num_group, use_bias=False),
            nn.BatchNorm(scale=True))
    if active:
        out.add(RELU6() if relu6 else nn.Activation("relu"))


def _add_conv_dw(out: nn.HybridSequential, dw_channels: int, channels: int, stride: int,
                 relu6: bool = False) -> None:
    """Append a depthwise 3x3 and a pointwise 1x1 convolution."""
    _add_conv(out, channels=dw_channels, kernel=3, stride=stride, pad=1,
              num_group=dw_channels, relu6=relu6)
    _add_conv(out, channels=channels, relu6=relu6)


class LinearBottleneck(HybridBlock):
    """MobileNetV2's inverted residual: a 1x1 expansion to ``in_channels * t`` channels
    (ReLU6), a depthwise 3x3 convolution with ``stride`` (ReLU6), a linear 1x1 projection to
    ``channels``; the input is added when the shapes allow (stride 1, same channels)."""

    def __init__(self, in_channels: int, channels: int, t: int, stride: int,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.use_shortcut = stride == 1 and in_channels == channels
        self.out = nn.HybridSequential()
        _add_conv(self.out, in_channels * t, relu6=True)
        _add_conv(self.out, in_channels * t, kernel=3, stride=stride, pad=1,
                  num_group=in_channels * t, relu6=True)
        _add_conv(self.out, channels, active=False, relu6=True)

    def forward(self, x: Any) -> Any:
        out = self.out(x)
        if self.use_shortcut:
            out = out + x
        return out


def _check_multiplier(cls: str, multiplier: float) -> None:
    if not multiplier > 0:
        raise ValueError(f"{cls}: multiplier must be positive, got {multiplier!r}")


class MobileNet(HybridBlock):
    """MobileNet v1 with width ``multiplier``: a 3x3/2 convolution, 13 depthwise-separable
    pairs, global average pooling and Flatten (all in ``features``), then a Dense ``output``."""

    def __init__(self, multiplier: float = 1.0, classes: int = 1000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_multiplier("MobileNet", multiplier)
        self.features = nn.HybridSequential()
        _add_conv(self.features, channels=int(32 * multiplier), kernel=3, pad=1, stride=2)
        dw_channels = [int(c * multiplier)
                       for c in [32, 64] + [128] * 2 + [256] * 2 + [512] * 6 + [1024]]
        channels = [int(c * multiplier)
                    for c in [64] + [128] * 2 + [256] * 2 + [512] * 6 + [1024] * 2]
        strides = [1, 2] * 3 + [1] * 5 + [2, 1]
        for dwc, c, s in zip(dw_channels, channels, strides):
            _add_conv_dw(self.features, dw_channels=dwc, channels=c, stride=s)
        self.features.add(nn.GlobalAvgPool2D(), nn.Flatten())
        self.output = nn.Dense(classes)

    def forward(self, x: Any) -> Any:
        return self.output(self.features(x))


class MobileNetV2(HybridBlock):
    """MobileNet v2 with width ``multiplier``: a 3x3/2 convolution, 17 linear bottlenecks, a
    1x1 convolution to 1280 channels (``1280 * multiplier`` above 1.0) and global average
    pooling (all in ``features``); ``output`` is a 1x1 convolution to ``classes`` and
    Flatten."""

    def __init__(self, multiplier: float = 1.0, classes: int = 1000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_multiplier("MobileNetV2", multiplier)
        self.features = nn.HybridSequential()
        _add_conv(self.features, int(32 * multiplier), kernel=3, stride=2, pad=1, relu6=True)
        in_channels_group = [int(c * multiplier) for c in
                             [32] + [16] + [24] * 2 + [32] * 3 + [64] * 4 + [96] * 3 + [160] * 3]
        channels_group = [int(c * multiplier) for c in
                          [16] + [24] * 2 + [32] * 3 + [64] * 4 + [96] * 3 + [160] * 3 + [320]]
        ts = [1] + [6] * 16
        strides = [1, 2] * 2 + [1, 1, 2] + [1] * 6 + [2] + [1] * 3
        for in_c, c, t, s in zip(in_channels_group, channels_group, ts, strides):
            self.features.add(LinearBottleneck(in_channels=in_c, channels=c, t=t, stride=s))
        last_channels = int(1280 * multiplier) if multiplier > 1.0 else 1280
        _add_conv(self.features, last_channels, relu6=True)
        self.features.add(nn.GlobalAvgPool2D())
        self.output = nn.HybridSequential()
        self.output.add(nn.Conv2D(classes, 1, use_bias=False), nn.Flatten())

    def forward(self, x: Any) -> Any:
        return self.output(self.features(x))


def _version_suffix(multiplier: float) -> str:
    """MXNet's file-name form of a multiplier: 1.0, 0.75, 0.5, 0.25."""
    suffix = f"{multiplier:.2f}"
    return suffix[:-1] if suffix in ("1.00", "0.50") else suffix


def get_mobilenet(multiplier: float, pretrained: bool = False, ctx: Any = None,
                  root: str | os.PathLike[str] | None = None, device: Any = None,
                  **kwargs: Any) -> MobileNet:
    """MobileNet v1 with width ``multiplier`` (pretrained: 1.0, 0.75, 0.5, 0.25)."""
    net = MobileNet(multiplier, **kwargs)
    if pretrained:
        load_pretrained(net, f"mobilenet{_version_suffix(multiplier)}", ctx, device, root)
    return net


def get_mobilenet_v2(multiplier: float, pretrained: bool = False, ctx: Any = None,
                     root: str | os.PathLike[str] | None = None, device: Any = None,
                     **kwargs: Any) -> MobileNetV2:
    """MobileNet v2 with width ``multiplier`` (pretrained: 1.0, 0.75, 0.5, 0.25)."""
    net = MobileNetV2(multiplier, **kwargs)
    if pretrained:
        load_pretrained(net, f"mobilenetv2_{_version_suffix(multiplier)}", ctx, device, root)
    return net


def mobilenet1_0(**kwargs: Any) -> MobileNet:
    """MobileNet v1, multiplier 1.0 (``pretrained``, ``ctx``/``device``, ``root``,
    ``classes``)."""
    return get_mobilenet(1.0, **kwargs)


def mobilenet0_75(**kwargs: Any) -> MobileNet:
    """MobileNet v1, multiplier 0.75."""
    return get_mobilenet(0.75, **kwargs)


def mobilenet0_5(**kwargs: Any) -> MobileNet:
    """MobileNet v1, multiplier 0.5."""
    return get_mobilenet(0.5, **kwargs)


def mobilenet0_25(**kwargs: Any) -> MobileNet:
    """MobileNet v1, multiplier 0.25."""
    return get_mobilenet(0.25, **kwargs)


def mobilenet_v2_1_0(**kwargs: Any) -> MobileNetV2:
    """MobileNet v2, multiplier 1.0 (``pretrained``, ``ctx``/``device``, ``root``,
    ``classes``)."""
    return get_mobilenet_v2(1.0, **kwargs)


def mobilenet_v2_0_75(**kwargs: Any) -> MobileNetV2:
    """MobileNet v2, multiplier 0.75."""
    return get_mobilenet_v2(0.75, **kwargs)


def mobilenet_v2_0_5(**kwargs: Any) -> MobileNetV2:
    """MobileNet v2, multiplier 0.5."""
    return get_mobilenet_v2(0.5, **kwargs)


def mobilenet_v2_0_25(**kwargs: Any) -> MobileNetV2:
    """MobileNet v2, multiplier 0.25."""
    return get_mobilenet_v2(0.25, **kwargs)
