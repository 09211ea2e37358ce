"""AlexNet (Krizhevsky, "One weird trick for parallelizing convolutional neural networks",
arXiv:1404.5997), as in MXNet's model zoo: ``features`` holds the convolutions and the two
hidden Dense layers, ``output`` the classifier."""

from __future__ import annotations

import os
from typing import Any

from ... import nn
from ...block import HybridBlock
from ._common import load_pretrained

__all__ = ["AlexNet", "alexnet"]


class AlexNet(HybridBlock):
    """AlexNet for ``(N, 3, 224, 224)`` images (the first Dense layer's input size, 256*6*6 at
    224x224, is inferred at the first call)."""

    def __init__(self, classes: int = 1000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.features = nn.HybridSequential()
        self.features.add(
            nn.Conv2D(64, kernel_size=11, strides=4, padding=2, activation="relu"),
            nn.MaxPool2D(pool_size=3, strides=2),
            nn.Conv2D(192, kernel_size=5, padding=2, activation="relu"),
            nn.MaxPool2D(pool_size=3, strides=2),
            nn.Conv2D(384, kernel_size=3, padding=1, activation="relu"),
            nn.Conv2D(256, kernel_size=3, padding=1, activation="relu"),
            nn.Conv2D(256, kernel_size=3, padding=1, activation="relu"),
            nn.MaxPool2D(pool_size=3, strides=2),
            nn.Flatten(),
            nn.Dense(4096, activation="relu"),
            nn.Dropout(0.5),
            nn.Dense(4096, activation="relu"),
            nn.Dropout(0.5),
        )
        self.output = nn.Dense(classes)

    def forward(self, x: Any) -> Any:
        return self.output(self.features(x))


def alexnet(pretrained: bool = False, ctx: Any = None, root: str | os.PathLike[str] | None = None,
            device: Any = None, **kwargs: Any) -> AlexNet:
    """AlexNet; ``pretrained=True`` loads MXNet's ImageNet weights onto ``ctx``/``device``
    (``root`` defaults to ``$FRAMEWORK_HOME/models``)."""
    net = AlexNet(**kwargs)
    if pretrained:
        load_pretrained(net, "alexnet", ctx, device, root)
    return net
