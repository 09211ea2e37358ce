"""VGG (Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", arXiv:1409.1556), optionally with BatchNorm, laid out as in MXNet's model zoo:
``features`` holds the convolutions, the pooling and the two hidden Dense layers (with their
Dropout), ``output`` the classifier."""

from __future__ import annotations

import os
from typing import Any

from .... import initializer as init
from ... import nn
from ...block import HybridBlock
from ._common import load_pretrained

__all__ = ["VGG", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn",
           "vgg19_bn", "get_vgg"]


class VGG(HybridBlock):
    """VGG with ``layers[i]`` 3x3 convolutions of ``filters[i]`` channels in block ``i``, each
    block ending in 2x2 max pooling; ``batch_norm`` adds BatchNorm after every convolution.
    The first Dense layer's input size (512*7*7 for 224x224 images) is inferred at the first
    call."""

    def __init__(self, layers: Any, filters: Any, classes: int = 1000, batch_norm: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if len(layers) != len(filters):
            raise ValueError(f"VGG: layers and filters must have the same length, got "
                             f"layers={list(layers)} and filters={list(filters)}")
        self.features = self._make_features(layers, filters, batch_norm)
        self.features.add(
            nn.Dense(4096, activation="relu", weight_initializer="normal",
                     bias_initializer="zeros"),
            nn.Dropout(rate=0.5),
            nn.Dense(4096, activation="relu", weight_initializer="normal",
                     bias_initializer="zeros"),
            nn.Dropout(rate=0.5),
        )
        self.output = nn.Dense(classes, weight_initializer="normal", bias_initializer="zeros")

    @staticmethod
    def _make_features(layers: Any, filters: Any, batch_norm: bool) -> nn.HybridSequential:
        features = nn.HybridSequential()
        for num, channels in zip(layers, filters):
            for _ in range(num):
                features.add(nn.Conv2D(channels, kernel_size=3, padding=1,
                                       weight_initializer=init.Xavier(
                                           rnd_type="gaussian", factor_type="out", magnitude=2),
                                       bias_initializer="zeros"))
                if batch_norm:
                    features.add(nn.BatchNorm())
                features.add(nn.Activation("relu"))
            features.add(nn.MaxPool2D(strides=2))
        return features

    def forward(self, x: Any) -> Any:
        return self.output(self.features(x))


# convolutions per block, channels per block
vgg_spec: dict[int, tuple[list[int], list[int]]] = {
    11: ([1, 1, 2, 2, 2], [64, 128, 256, 512, 512]),
    13: ([2, 2, 2, 2, 2], [64, 128, 256, 512, 512]),
    16: ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]),
    19: ([2, 2, 4, 4, 4], [64, 128, 256, 512, 512]),
}


def get_vgg(num_layers: int, pretrained: bool = False, ctx: Any = None,
            root: str | os.PathLike[str] | None = None, device: Any = None,
            **kwargs: Any) -> VGG:
    """VGG with ``num_layers`` (11, 13, 16, 19); other keywords (``classes``,
    ``batch_norm``) go to :class:`VGG`."""
    if num_layers not in vgg_spec:
        raise ValueError(f"get_vgg: invalid number of layers {num_layers!r}; options are "
                         f"{sorted(vgg_spec)}")
    layers, filters = vgg_spec[num_layers]
    net = VGG(layers, filters, **kwargs)
    if pretrained:
        suffix = "_bn" if kwargs.get("batch_norm") else ""
        load_pretrained(net, f"vgg{num_layers}{suffix}", ctx, device, root)
    return net


def vgg11(**kwargs: Any) -> VGG:
    """VGG-11 (``pretrained``, ``ctx``/``device``, ``root``, ``classes``)."""
    return get_vgg(11, **kwargs)


def vgg13(**kwargs: Any) -> VGG:
    """VGG-13."""
    return get_vgg(13, **kwargs)


def vgg16(**kwargs: Any) -> VGG:
    """VGG-16."""
    return get_vgg(16, **kwargs)


def vgg19(**kwargs: Any) -> VGG:
    """VGG-19."""
    return get_vgg(19, **kwargs)


def vgg11_bn(**kwargs: Any) -> VGG:
    """VGG-11 with BatchNorm."""
    kwargs["batch_norm"] = True
    return get_vgg(11, **kwargs)


def vgg13_bn(**kwargs: Any) -> VGG:
    """VGG-13 with BatchNorm."""
    kwargs["batch_norm"] = True
    return get_vgg(13, **kwargs)


def vgg16_bn(**kwargs: Any) -> VGG:
    """VGG-16 with BatchNorm."""
    kwargs["batch_norm"] = True
    return get_vgg(16, **kwargs)


def vgg19_bn(**kwargs: Any) -> VGG:
    """VGG-19 with BatchNorm."""
    kwargs["batch_norm"] = True
    return get_vgg(19, **kwargs)
