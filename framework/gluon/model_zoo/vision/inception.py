"""Inception v3 (Szegedy et al., "Rethinking the Inception Architecture for Computer Vision",
arXiv:1512.00567), without the auxiliary classifier, laid out as in MXNet's model zoo. Every
convolution is conv (no bias) + BatchNorm(epsilon=0.001) + ReLU. ``features`` ends with 8x8
average pooling, so it expects 299x299 images."""

from __future__ import annotations

import os
from typing import Any

from ... import nn
from ...block import HybridBlock
from ._common import load_pretrained

__all__ = ["Inception3", "inception_v3"]

# (channels, kernel_size, strides, padding); None keeps Conv2D's default
_Conv = tuple[int, Any, Any, Any]


def _basic_conv(**kwargs: Any) -> nn.HybridSequential:
    out = nn.HybridSequential()
    out.add(nn.Conv2D(use_bias=False, **kwargs), nn.BatchNorm(epsilon=0.001),
            nn.Activation("relu"))
    return out


def _branch(use_pool: str | None, *convs: _Conv) -> nn.HybridSequential:
    out = nn.HybridSequential()
    if use_pool == "avg":
        out.add(nn.AvgPool2D(pool_size=3, strides=1, padding=1))
    elif use_pool == "max":
        out.add(nn.MaxPool2D(pool_size=3, strides=2))
    names = ("channels", "kernel_size", "strides", "padding")
    for setting in convs:
        out.add(_basic_conv(**{k: v for k, v in zip(names, setting) if v is not None}))
    return out


def _concat(*branches: HybridBlock) -> nn.HybridConcatenate:
    out = nn.HybridConcatenate(axis=1)
    out.add(*branches)
    return out


def _make_a(pool_features: int) -> nn.HybridConcatenate:
    return _concat(
        _branch(None, (64, 1, None, None)),
        _branch(None, (48, 1, None, None), (64, 5, None, 2)),
        _branch(None, (64, 1, None, None), (96, 3, None, 1), (96, 3, None, 1)),
        _branch("avg", (pool_features, 1, None, None)))


def _make_b() -> nn.HybridConcatenate:
    return _concat(
        _branch(None, (384, 3, 2, None)),
        _branch(None, (64, 1, None, None), (96, 3, None, 1), (96, 3, 2, None)),
        _branch("max"))


def _make_c(c7: int) -> nn.HybridConcatenate:
    return _concat(
        _branch(None, (192, 1, None, None)),
        _branch(None, (c7, 1, None, None), (c7, (1, 7), None, (0, 3)),
                (192, (7, 1), None, (3, 0))),
        _branch(None, (c7, 1, None, None), (c7, (7, 1), None, (3, 0)),
                (c7, (1, 7), None, (0, 3)), (c7, (7, 1), None, (3, 0)),
                (192, (1, 7), None, (0, 3))),
        _branch("avg", (192, 1, None, None)))


def _make_d() -> nn.HybridConcatenate:
    return _concat(
        _branch(None, (192, 1, None, None), (320, 3, 2, None)),
        _branch(None, (192, 1, None, None), (192, (1, 7), None, (0, 3)),
                (192, (7, 1), None, (3, 0)), (192, 3, 2, None)),
        _branch("max"))


def _make_e() -> nn.HybridConcatenate:
    branch_3x3 = nn.HybridSequential()
    branch_3x3.add(_branch(None, (384, 1, None, None)),
                   _concat(_branch(None, (384, (1, 3), None, (0, 1))),
                           _branch(None, (384, (3, 1), None, (1, 0)))))
    branch_3x3dbl = nn.HybridSequential()
    branch_3x3dbl.add(_branch(None, (448, 1, None, None), (384, 3, None, 1)),
                      _concat(_branch(None, (384, (1, 3), None, (0, 1))),
                              _branch(None, (384, (3, 1), None, (1, 0)))))
    return _concat(_branch(None, (320, 1, None, None)), branch_3x3, branch_3x3dbl,
                   _branch("avg", (192, 1, None, None)))


class Inception3(HybridBlock):
    """Inception v3: the stem, three A, one B, four C, one D and two E modules, 8x8 average
    pooling and Dropout(0.5) (all in ``features``), then a Dense ``output``."""

    def __init__(self, classes: int = 1000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.features = nn.HybridSequential()
        self.features.add(
            _basic_conv(channels=32, kernel_size=3, strides=2),
            _basic_conv(channels=32, kernel_size=3),
            _basic_conv(channels=64, kernel_size=3, padding=1),
            nn.MaxPool2D(pool_size=3, strides=2),
            _basic_conv(channels=80, kernel_size=1),
            _basic_conv(channels=192, kernel_size=3),
            nn.MaxPool2D(pool_size=3, strides=2),
            _make_a(32), _make_a(64), _make_a(64),
            _make_b(),
            _make_c(128), _make_c(160), _make_c(160), _make_c(192),
            _make_d(),
            _make_e(), _make_e(),
            nn.AvgPool2D(pool_size=8),
            nn.Dropout(0.5),
        )
        self.output = nn.Dense(classes)

    def forward(self, x: Any) -> Any:
        return self.output(self.features(x))


def inception_v3(pretrained: bool = False, ctx: Any = None,
                 root: str | os.PathLike[str] | None = None, device: Any = None,
                 **kwargs: Any) -> Inception3:
    """Inception v3 (``classes``); ``pretrained=True`` loads MXNet's ImageNet weights."""
    net = Inception3(**kwargs)
    if pretrained:
        load_pretrained(net, "inceptionv3", ctx, device, root)
    return net
