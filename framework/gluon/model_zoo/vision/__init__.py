"""Predefined image-classification networks (MXNet's ``gluon.model_zoo.vision``).

Every model is a HybridBlock with ``features`` (everything but the classifier) and ``output``
(the classifier), built as in MXNet so that MXNet's published ``.params`` files load by
structural name. ``pretrained=True`` loads those weights (see
:mod:`framework.gluon.model_zoo.model_store`); they expect RGB images scaled to [0, 1] and
normalised with mean ``(0.485, 0.456, 0.406)`` and std ``(0.229, 0.224, 0.225)``, at least
224x224 (299x299 for Inception v3).

>>> from framework.gluon.model_zoo import vision
>>> net = vision.get_model("resnet18_v1", classes=10)
>>> type(net.output).__name__
'Dense'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...block import HybridBlock
from .alexnet import AlexNet, alexnet
from .densenet import DenseNet, densenet121, densenet161, densenet169, densenet201, get_densenet
from .inception import Inception3, inception_v3
from .mobilenet import (
    RELU6,
    LinearBottleneck,
    MobileNet,
    MobileNetV2,
    get_mobilenet,
    get_mobilenet_v2,
    mobilenet0_5,
    mobilenet0_25,
    mobilenet0_75,
    mobilenet1_0,
    mobilenet_v2_0_5,
    mobilenet_v2_0_25,
    mobilenet_v2_0_75,
    mobilenet_v2_1_0,
)
from .resnet import (
    BasicBlockV1,
    BasicBlockV2,
    BottleneckV1,
    BottleneckV2,
    ResNetV1,
    ResNetV2,
    get_resnet,
    resnet18_v1,
    resnet18_v2,
    resnet34_v1,
    resnet34_v2,
    resnet50_v1,
    resnet50_v2,
    resnet101_v1,
    resnet101_v2,
    resnet152_v1,
    resnet152_v2,
)
from .squeezenet import SqueezeNet, get_squeezenet, squeezenet1_0, squeezenet1_1
from .vgg import (
    VGG,
    get_vgg,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)

__all__ = [
    "get_model", "MODELS",
    "AlexNet", "alexnet",
    "DenseNet", "densenet121", "densenet161", "densenet169", "densenet201", "get_densenet",
    "Inception3", "inception_v3",
    "ResNetV1", "ResNetV2", "BasicBlockV1", "BasicBlockV2", "BottleneckV1", "BottleneckV2",
    "resnet18_v1", "resnet34_v1", "resnet50_v1", "resnet101_v1", "resnet152_v1",
    "resnet18_v2", "resnet34_v2", "resnet50_v2", "resnet101_v2", "resnet152_v2", "get_resnet",
    "SqueezeNet", "squeezenet1_0", "squeezenet1_1", "get_squeezenet",
    "VGG", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
    "get_vgg",
    "MobileNet", "MobileNetV2", "LinearBottleneck", "RELU6",
    "mobilenet1_0", "mobilenet0_75", "mobilenet0_5", "mobilenet0_25",
    "mobilenet_v2_1_0", "mobilenet_v2_0_75", "mobilenet_v2_0_5", "mobilenet_v2_0_25",
    "get_mobilenet", "get_mobilenet_v2",
]

#: ``get_model`` names (MXNet's spelling) and their constructors
MODELS: dict[str, Callable[..., HybridBlock]] = {
    "resnet18_v1": resnet18_v1, "resnet34_v1": resnet34_v1, "resnet50_v1": resnet50_v1,
    "resnet101_v1": resnet101_v1, "resnet152_v1": resnet152_v1,
    "resnet18_v2": resnet18_v2, "resnet34_v2": resnet34_v2, "resnet50_v2": resnet50_v2,
    "resnet101_v2": resnet101_v2, "resnet152_v2": resnet152_v2,
    "vgg11": vgg11, "vgg13": vgg13, "vgg16": vgg16, "vgg19": vgg19,
    "vgg11_bn": vgg11_bn, "vgg13_bn": vgg13_bn, "vgg16_bn": vgg16_bn, "vgg19_bn": vgg19_bn,
    "alexnet": alexnet,
    "densenet121": densenet121, "densenet161": densenet161, "densenet169": densenet169,
    "densenet201": densenet201,
    "squeezenet1.0": squeezenet1_0, "squeezenet1.1": squeezenet1_1,
    "inceptionv3": inception_v3,
    "mobilenet1.0": mobilenet1_0, "mobilenet0.75": mobilenet0_75,
    "mobilenet0.5": mobilenet0_5, "mobilenet0.25": mobilenet0_25,
    "mobilenetv2_1.0": mobilenet_v2_1_0, "mobilenetv2_0.75": mobilenet_v2_0_75,
    "mobilenetv2_0.5": mobilenet_v2_0_5, "mobilenetv2_0.25": mobilenet_v2_0_25,
}

# the constructor functions' own names are accepted too (``squeezenet1_0``, ``inception_v3``)
_ALIASES: dict[str, str] = {fn.__name__: name for name, fn in MODELS.items()
                            if fn.__name__ != name}


def get_model(name: str, **kwargs: Any) -> HybridBlock:
    """The model called ``name`` (case-insensitive; MXNet's names such as ``'resnet50_v2'``,
    ``'squeezenet1.0'``, ``'mobilenetv2_0.5'``, or the constructor's name such as
    ``'mobilenet_v2_0_5'``). Keywords (``pretrained``, ``classes``, ``ctx``/``device``,
    ``root`` and the family's own) go to the constructor."""
    if not isinstance(name, str):
        raise TypeError(f"get_model: name must be a str, got {type(name).__name__}")
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key not in MODELS:
        raise ValueError(f"get_model: model {name!r} is not supported. Available options "
                         "are\n\t" + "\n\t".join(sorted(MODELS)))
    return MODELS[key](**kwargs)
