"""DenseNet-BC (Huang et al., "Densely Connected Convolutional Networks", arXiv:1608.06993),
laid out as in MXNet's model zoo. ``features`` ends with 7x7 average pooling, so it expects
224x224 images."""

from __future__ import annotations

import os
from typing import Any

from ... import nn
from ...block import HybridBlock
from ._common import load_pretrained

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201",
           "get_densenet"]


def _dense_layer(growth_rate: int, bn_size: int, dropout: float) -> nn.HybridConcatenate:
    """BN-ReLU-conv1x1 (``bn_size * growth_rate`` channels), BN-ReLU-conv3x3 (``growth_rate``
    channels), concatenated to the layer's input."""
    new_features = nn.HybridSequential()
    new_features.add(nn.BatchNorm(), nn.Activation("relu"),
                     nn.Conv2D(bn_size * growth_rate, kernel_size=1, use_bias=False),
                     nn.BatchNorm(), nn.Activation("relu"),
                     nn.Conv2D(growth_rate, kernel_size=3, padding=1, use_bias=False))
    if dropout:
        new_features.add(nn.Dropout(dropout))
    out = nn.HybridConcatenate(axis=1)
    out.add(nn.Identity(), new_features)
    return out


def _dense_block(num_layers: int, bn_size: int, growth_rate: int,
                 dropout: float) -> nn.HybridSequential:
    out = nn.HybridSequential()
    for _ in range(num_layers):
        out.add(_dense_layer(growth_rate, bn_size, dropout))
    return out


def _transition(num_output_features: int) -> nn.HybridSequential:
    out = nn.HybridSequential()
    out.add(nn.BatchNorm(), nn.Activation("relu"),
            nn.Conv2D(num_output_features, kernel_size=1, use_bias=False),
            nn.AvgPool2D(pool_size=2, strides=2))
    return out


class DenseNet(HybridBlock):
    """DenseNet-BC: a 7x7/2 convolution and 3x3/2 max pooling, dense blocks of
    ``block_config[i]`` layers separated by transitions that halve the channels and the
    resolution, BN-ReLU, 7x7 average pooling (all in ``features``), then a Dense ``output``.
    ``growth_rate`` is *k* in the paper, ``bn_size`` the bottleneck width factor."""

    def __init__(self, num_init_features: int, growth_rate: int, block_config: Any,
                 bn_size: int = 4, dropout: float = 0, classes: int = 1000,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.features = nn.HybridSequential()
        self.features.add(nn.Conv2D(num_init_features, kernel_size=7, strides=2, padding=3,
                                    use_bias=False),
                          nn.BatchNorm(), nn.Activation("relu"),
                          nn.MaxPool2D(pool_size=3, strides=2, padding=1))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add(_dense_block(num_layers, bn_size, growth_rate, dropout))
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                num_features //= 2
                self.features.add(_transition(num_features))
        self.features.add(nn.BatchNorm(), nn.Activation("relu"), nn.AvgPool2D(pool_size=7),
                          nn.Flatten())
        self.output = nn.Dense(classes)

    def forward(self, x: Any) -> Any:
        return self.output(self.features(x))


# (initial features, growth rate, layers per dense block)
densenet_spec: dict[int, tuple[int, int, list[int]]] = {
    121: (64, 32, [6, 12, 24, 16]),
    161: (96, 48, [6, 12, 36, 24]),
    169: (64, 32, [6, 12, 32, 32]),
    201: (64, 32, [6, 12, 48, 32]),
}


def get_densenet(num_layers: int, pretrained: bool = False, ctx: Any = None,
                 root: str | os.PathLike[str] | None = None, device: Any = None,
                 **kwargs: Any) -> DenseNet:
    """DenseNet-BC with ``num_layers`` (121, 161, 169, 201); other keywords (``classes``,
    ``bn_size``, ``dropout``) go to :class:`DenseNet`."""
    if num_layers not in densenet_spec:
        raise ValueError(f"get_densenet: invalid number of layers {num_layers!r}; options are "
                         f"{sorted(densenet_spec)}")
    num_init_features, growth_rate, block_config = densenet_spec[num_layers]
    net = DenseNet(num_init_features, growth_rate, block_config, **kwargs)
    if pretrained:
        load_pretrained(net, f"densenet{num_layers}", ctx, device, root)
    return net


def densenet121(**kwargs: Any) -> DenseNet:
    """DenseNet-121 (``pretrained``, ``ctx``/``device``, ``root``, ``classes``)."""
    return get_densenet(121, **kwargs)


def densenet161(**kwargs: Any) -> DenseNet:
    """DenseNet-161."""
    return get_densenet(161, **kwargs)


def densenet169(**kwargs: Any) -> DenseNet:
    """DenseNet-169."""
    return get_densenet(169, **kwargs)


def densenet201(**kwargs: Any) -> DenseNet:
    """DenseNet-201."""
    return get_densenet(201, **kwargs)
