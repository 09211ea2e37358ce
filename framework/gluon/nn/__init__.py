"""Neural network layers (MXNet's ``gluon.nn``): containers, dense, convolution, pooling,
normalisation, dropout, embedding and activation blocks."""

from __future__ import annotations

from .._export import SymbolBlock
from ..block import Block, HybridBlock
from .activations import ELU, GELU, SELU, Activation, LeakyReLU, PReLU, SiLU, Swish
from .basic_layers import (
    BatchNorm,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GroupNorm,
    HybridConcatenate,
    HybridLambda,
    HybridSequential,
    Identity,
    InstanceNorm,
    Lambda,
    LayerNorm,
    Sequential,
)
from .conv_layers import (
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    ReflectionPad2D,
)

__all__ = [
    "Block", "HybridBlock", "SymbolBlock",
    # containers
    "Sequential", "HybridSequential", "Concatenate", "HybridConcatenate", "Identity",
    # basic layers
    "Dense", "Dropout", "Embedding", "Flatten", "Lambda", "HybridLambda",
    # normalisation
    "BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm",
    # convolution and pooling
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D",
    "GlobalAvgPool2D", "GlobalAvgPool3D", "ReflectionPad2D",
    # activations
    "Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "GELU", "Swish", "SiLU",
]
