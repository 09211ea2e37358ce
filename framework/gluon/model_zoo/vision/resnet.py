"""ResNet v1 (He et al., "Deep Residual Learning for Image Recognition", arXiv:1512.03385) and
v2 (He et al., "Identity Mappings in Deep Residual Networks", arXiv:1603.05027), laid out as in
MXNet's model zoo so that its parameter files load by structural name
(``features.5.0.body.0.weight``...).

As in MXNet, ``BottleneckV1`` strides in its first 1x1 convolution and its two 1x1
convolutions have biases; ``ResNetV2`` starts with a BatchNorm without scale and shift on the
input image.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .... import npx
from ... import nn
from ...block import HybridBlock
from ._common import load_pretrained

__all__ = [
    "ResNetV1", "ResNetV2", "BasicBlockV1", "BasicBlockV2", "BottleneckV1", "BottleneckV2",
    "resnet18_v1", "resnet34_v1", "resnet50_v1", "resnet101_v1", "resnet152_v1",
    "resnet18_v2", "resnet34_v2", "resnet50_v2", "resnet101_v2", "resnet152_v2", "get_resnet",
]


def _conv3x3(channels: int, stride: int, in_channels: int) -> nn.Conv2D:
    return nn.Conv2D(channels, kernel_size=3, strides=stride, padding=1, use_bias=False,
                     in_channels=in_channels)


# -- residual blocks ----------------------------------------------------------------------------

class BasicBlockV1(HybridBlock):
    """Two 3x3 convolutions with BatchNorm, added to the (projected) input, then ReLU
    (ResNet-18/34 v1)."""

    def __init__(self, channels: int, stride: int, downsample: bool = False,
                 in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.body = nn.HybridSequential()
        self.body.add(_conv3x3(channels, stride, in_channels), nn.BatchNorm(),
                      nn.Activation("relu"), _conv3x3(channels, 1, channels), nn.BatchNorm())
        self.downsample: nn.HybridSequential | None = None
        if downsample:
            self.downsample = nn.HybridSequential()
            self.downsample.add(nn.Conv2D(channels, kernel_size=1, strides=stride,
                                          use_bias=False, in_channels=in_channels),
                                nn.BatchNorm())

    def forward(self, x: Any) -> Any:
        residual = self.downsample(x) if self.downsample is not None else x
        return npx.relu(self.body(x) + residual)


class BottleneckV1(HybridBlock):
    """1x1 (strided) -> 3x3 -> 1x1 convolutions with BatchNorm, added to the (projected)
    input, then ReLU (ResNet-50/101/152 v1)."""

    def __init__(self, channels: int, stride: int, downsample: bool = False,
                 in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        mid = channels // 4
        self.body = nn.HybridSequential()
        self.body.add(nn.Conv2D(mid, kernel_size=1, strides=stride), nn.BatchNorm(),
                      nn.Activation("relu"), _conv3x3(mid, 1, mid), nn.BatchNorm(),
                      nn.Activation("relu"), nn.Conv2D(channels, kernel_size=1, strides=1),
                      nn.BatchNorm())
        self.downsample: nn.HybridSequential | None = None
        if downsample:
            self.downsample = nn.HybridSequential()
            self.downsample.add(nn.Conv2D(channels, kernel_size=1, strides=stride,
                                          use_bias=False, in_channels=in_channels),
                                nn.BatchNorm())

    def forward(self, x: Any) -> Any:
        residual = self.downsample(x) if self.downsample is not None else x
        return npx.relu(self.body(x) + residual)


class BasicBlockV2(HybridBlock):
    """Pre-activation basic block: BN-ReLU-conv3x3 twice, plus the input (projected by a 1x1
    convolution of the activated input when ``downsample``) (ResNet-18/34 v2)."""

    def __init__(self, channels: int, stride: int, downsample: bool = False,
                 in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bn1 = nn.BatchNorm()
        self.conv1 = _conv3x3(channels, stride, in_channels)
        self.bn2 = nn.BatchNorm()
        self.conv2 = _conv3x3(channels, 1, channels)
        self.downsample: nn.Conv2D | None = None
        if downsample:
            self.downsample = nn.Conv2D(channels, 1, stride, use_bias=False,
                                        in_channels=in_channels)

    def forward(self, x: Any) -> Any:
        residual = x
        x = npx.relu(self.bn1(x))
        if self.downsample is not None:
            residual = self.downsample(x)
        x = self.conv1(x)
        x = self.conv2(npx.relu(self.bn2(x)))
        return x + residual


class BottleneckV2(HybridBlock):
    """Pre-activation bottleneck: BN-ReLU-conv1x1, BN-ReLU-conv3x3 (strided), BN-ReLU-conv1x1,
    plus the (projected) input (ResNet-50/101/152 v2)."""

    def __init__(self, channels: int, stride: int, downsample: bool = False,
                 in_channels: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        mid = channels // 4
        self.bn1 = nn.BatchNorm()
        self.conv1 = nn.Conv2D(mid, kernel_size=1, strides=1, use_bias=False)
        self.bn2 = nn.BatchNorm()
        self.conv2 = _conv3x3(mid, stride, mid)
        self.bn3 = nn.BatchNorm()
        self.conv3 = nn.Conv2D(channels, kernel_size=1, strides=1, use_bias=False)
        self.downsample: nn.Conv2D | None = None
        if downsample:
            self.downsample = nn.Conv2D(channels, 1, stride, use_bias=False,
                                        in_channels=in_channels)

    def forward(self, x: Any) -> Any:
        residual = x
        x = npx.relu(self.bn1(x))
        if self.downsample is not None:
            residual = self.downsample(x)
        x = self.conv1(x)
        x = self.conv2(npx.relu(self.bn2(x)))
        x = self.conv3(npx.relu(self.bn3(x)))
        return x + residual


# -- networks -----------------------------------------------------------------------------------

def _check_spec(cls: str, layers: Any, channels: Any) -> None:
    if len(layers) != len(channels) - 1:
        raise ValueError(f"{cls}: channels must have one more entry than layers (the stem's "
                         f"width first), got layers={list(layers)} and "
                         f"channels={list(channels)}")


def _make_stage(block: Callable[..., HybridBlock], num_blocks: int, channels: int, stride: int,
                in_channels: int) -> nn.HybridSequential:
    stage = nn.HybridSequential()
    stage.add(block(channels, stride, channels != in_channels, in_channels=in_channels))
    for _ in range(num_blocks - 1):
        stage.add(block(channels, 1, False, in_channels=channels))
    return stage


class ResNetV1(HybridBlock):
    """ResNet v1: a 7x7/2 convolution and 3x3/2 max pooling (``thumbnail``: one 3x3/1
    convolution, for small images such as CIFAR), four stages of ``block``, global average
    pooling (all in ``features``), then a Dense ``output``.

    ``layers[i]`` blocks in stage ``i``; ``channels`` is the stem width followed by each
    stage's width.
    """

    def __init__(self, block: Callable[..., HybridBlock], layers: Any, channels: Any,
                 classes: int = 1000, thumbnail: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_spec("ResNetV1", layers, channels)
        self.features = nn.HybridSequential()
        if thumbnail:
            self.features.add(_conv3x3(channels[0], 1, 0))
        else:
            self.features.add(nn.Conv2D(channels[0], 7, 2, 3, use_bias=False),
                              nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(3, 2, 1))
        for i, num_blocks in enumerate(layers):
            self.features.add(_make_stage(block, num_blocks, channels[i + 1],
                                          1 if i == 0 else 2, channels[i]))
        self.features.add(nn.GlobalAvgPool2D())
        self.output = nn.Dense(classes, in_units=channels[-1])

    def forward(self, x: Any) -> Any:
        return self.output(self.features(x))


class ResNetV2(HybridBlock):
    """ResNet v2 (pre-activation): BatchNorm of the input (no scale/shift), the v1 stem, four
    stages of ``block``, BN-ReLU, global average pooling and Flatten (all in ``features``),
    then a Dense ``output``."""

    def __init__(self, block: Callable[..., HybridBlock], layers: Any, channels: Any,
                 classes: int = 1000, thumbnail: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_spec("ResNetV2", layers, channels)
        self.features = nn.HybridSequential()
        self.features.add(nn.BatchNorm(scale=False, center=False))
        if thumbnail:
            self.features.add(_conv3x3(channels[0], 1, 0))
        else:
            self.features.add(nn.Conv2D(channels[0], 7, 2, 3, use_bias=False),
                              nn.BatchNorm(), nn.Activation("relu"), nn.MaxPool2D(3, 2, 1))
        in_channels = channels[0]
        for i, num_blocks in enumerate(layers):
            self.features.add(_make_stage(block, num_blocks, channels[i + 1],
                                          1 if i == 0 else 2, in_channels))
            in_channels = channels[i + 1]
        self.features.add(nn.BatchNorm(), nn.Activation("relu"), nn.GlobalAvgPool2D(),
                          nn.Flatten())
        self.output = nn.Dense(classes, in_units=in_channels)

    def forward(self, x: Any) -> Any:
        return self.output(self.features(x))


# (block kind, blocks per stage, stem width + stage widths)
resnet_spec: dict[int, tuple[str, list[int], list[int]]] = {
    18: ("basic_block", [2, 2, 2, 2], [64, 64, 128, 256, 512]),
    34: ("basic_block", [3, 4, 6, 3], [64, 64, 128, 256, 512]),
    50: ("bottle_neck", [3, 4, 6, 3], [64, 256, 512, 1024, 2048]),
    101: ("bottle_neck", [3, 4, 23, 3], [64, 256, 512, 1024, 2048]),
    152: ("bottle_neck", [3, 8, 36, 3], [64, 256, 512, 1024, 2048]),
}
resnet_net_versions = [ResNetV1, ResNetV2]
resnet_block_versions: list[dict[str, Callable[..., HybridBlock]]] = [
    {"basic_block": BasicBlockV1, "bottle_neck": BottleneckV1},
    {"basic_block": BasicBlockV2, "bottle_neck": BottleneckV2},
]


def get_resnet(version: int, num_layers: int, pretrained: bool = False, ctx: Any = None,
               root: str | os.PathLike[str] | None = None, device: Any = None,
               **kwargs: Any) -> HybridBlock:
    """ResNet ``version`` (1 or 2) with ``num_layers`` (18, 34, 50, 101, 152); other keywords
    (``classes``, ``thumbnail``) go to :class:`ResNetV1`/:class:`ResNetV2`."""
    if num_layers not in resnet_spec:
        raise ValueError(f"get_resnet: invalid number of layers {num_layers!r}; options are "
                         f"{sorted(resnet_spec)}")
    if version not in (1, 2):
        raise ValueError(f"get_resnet: invalid resnet version {version!r}; options are 1 "
                         "and 2")
    block_type, layers, channels = resnet_spec[num_layers]
    block = resnet_block_versions[version - 1][block_type]
    net = resnet_net_versions[version - 1](block, layers, channels, **kwargs)
    if pretrained:
        load_pretrained(net, f"resnet{num_layers}_v{version}", ctx, device, root)
    return net


def resnet18_v1(**kwargs: Any) -> HybridBlock:
    """ResNet-18 v1 (``pretrained``, ``ctx``/``device``, ``root``, ``classes``,
    ``thumbnail``)."""
    return get_resnet(1, 18, **kwargs)


def resnet34_v1(**kwargs: Any) -> HybridBlock:
    """ResNet-34 v1."""
    return get_resnet(1, 34, **kwargs)


def resnet50_v1(**kwargs: Any) -> HybridBlock:
    """ResNet-50 v1."""
    return get_resnet(1, 50, **kwargs)


def resnet101_v1(**kwargs: Any) -> HybridBlock:
    """ResNet-101 v1."""
    return get_resnet(1, 101, **kwargs)


def resnet152_v1(**kwargs: Any) -> HybridBlock:
    """ResNet-152 v1."""
    return get_resnet(1, 152, **kwargs)


def resnet18_v2(**kwargs: Any) -> HybridBlock:
    """ResNet-18 v2 (``pretrained``, ``ctx``/``device``, ``root``, ``classes``,
    ``thumbnail``)."""
    return get_resnet(2, 18, **kwargs)


def resnet34_v2(**kwargs: Any) -> HybridBlock:
    """ResNet-34 v2."""
    return get_resnet(2, 34, **kwargs)


def resnet50_v2(**kwargs: Any) -> HybridBlock:
    """ResNet-50 v2."""
    return get_resnet(2, 50, **kwargs)


def resnet101_v2(**kwargs: Any) -> HybridBlock:
    """ResNet-101 v2."""
    return get_resnet(2, 101, **kwargs)


def resnet152_v2(**kwargs: Any) -> HybridBlock:
    """ResNet-152 v2."""
    return get_resnet(2, 152, **kwargs)
