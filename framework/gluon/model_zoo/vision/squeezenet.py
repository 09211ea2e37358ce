"""SqueezeNet 1.0 (Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters
and <0.5MB model size", arXiv:1602.07360) and 1.1 (the official repository's revision, with 2.4x
less computation), laid out as in MXNet's model zoo. The classifier is a 1x1 convolution
followed by 13x13 average pooling, so ``output`` expects the 13x13 maps of a 224x224 image."""

from __future__ import annotations

import os
from typing import Any

from ... import nn
from ...block import HybridBlock
from ._common import load_pretrained

__all__ = ["SqueezeNet", "squeezenet1_0", "squeezenet1_1", "get_squeezenet"]


def _fire_conv(channels: int, kernel_size: int, padding: int = 0) -> nn.HybridSequential:
    out = nn.HybridSequential()
    out.add(nn.Conv2D(channels, kernel_size, padding=padding), nn.Activation("relu"))
    return out


def _fire(squeeze: int, expand1x1: int, expand3x3: int) -> nn.HybridSequential:
    """A fire module: a 1x1 squeeze convolution, then 1x1 and 3x3 expand convolutions whose
    outputs are concatenated along the channels."""
    paths = nn.HybridConcatenate(axis=1)
    paths.add(_fire_conv(expand1x1, 1), _fire_conv(expand3x3, 3, 1))
    out = nn.HybridSequential()
    out.add(_fire_conv(squeeze, 1), paths)
    return out


class SqueezeNet(HybridBlock):
    """SqueezeNet ``version`` ``'1.0'`` or ``'1.1'``."""

    def __init__(self, version: str, classes: int = 1000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if version not in ("1.0", "1.1"):
            raise ValueError(f"SqueezeNet: unsupported version {version!r}; '1.0' or '1.1' "
                             "expected")
        self.features = nn.HybridSequential()
        f = self.features
        if version == "1.0":
            f.add(nn.Conv2D(96, kernel_size=7, strides=2), nn.Activation("relu"),
                  nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True),
                  _fire(16, 64, 64), _fire(16, 64, 64), _fire(32, 128, 128),
                  nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True),
                  _fire(32, 128, 128), _fire(48, 192, 192), _fire(48, 192, 192),
                  _fire(64, 256, 256),
                  nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True),
                  _fire(64, 256, 256))
        else:
            f.add(nn.Conv2D(64, kernel_size=3, strides=2), nn.Activation("relu"),
                  nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True),
                  _fire(16, 64, 64), _fire(16, 64, 64),
                  nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True),
                  _fire(32, 128, 128), _fire(32, 128, 128),
                  nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True),
                  _fire(48, 192, 192), _fire(48, 192, 192), _fire(64, 256, 256),
                  _fire(64, 256, 256))
        f.add(nn.Dropout(0.5))
        self.output = nn.HybridSequential()
        self.output.add(nn.Conv2D(classes, kernel_size=1), nn.Activation("relu"),
                        nn.AvgPool2D(13), nn.Flatten())

    def forward(self, x: Any) -> Any:
        return self.output(self.features(x))


def get_squeezenet(version: str, pretrained: bool = False, ctx: Any = None,
                   root: str | os.PathLike[str] | None = None, device: Any = None,
                   **kwargs: Any) -> SqueezeNet:
    """SqueezeNet ``version`` (``'1.0'`` or ``'1.1'``)."""
    net = SqueezeNet(version, **kwargs)
    if pretrained:
        load_pretrained(net, f"squeezenet{version}", ctx, device, root)
    return net


def squeezenet1_0(**kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.0 (``pretrained``, ``ctx``/``device``, ``root``, ``classes``)."""
    return get_squeezenet("1.0", **kwargs)


def squeezenet1_1(**kwargs: Any) -> SqueezeNet:
    """SqueezeNet 1.1."""
    return get_squeezenet("1.1", **kwargs)
