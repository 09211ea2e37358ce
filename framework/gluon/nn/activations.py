"""Activation layers (MXNet's ``gluon.nn.activations``): thin blocks over ``npx.activation`` and
``npx.leaky_relu``."""

from __future__ import annotations

from typing import Any

from ... import initializer as _init
from ... import npx
from ...nd._nn import ACTIVATIONS
from ..block import HybridBlock
from ..parameter import Parameter

__all__ = ["Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "GELU", "Swish", "SiLU"]


class Activation(HybridBlock):
    """An elementwise activation by name: ``'relu'``, ``'sigmoid'``, ``'tanh'``,
    ``'softrelu'``, ``'softsign'`` (and 2.0's ``'log_sigmoid'``, ``'mish'``)."""

    def __init__(self, activation: str, **kwargs: Any) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"Activation: unknown activation {activation!r}; expected one of "
                             f"{ACTIVATIONS}")
        super().__init__(**kwargs)
        self._act_type = activation

    def _alias(self) -> str:
        return self._act_type

    def forward(self, x: Any) -> Any:
        return npx.activation(x, act_type=self._act_type)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._act_type})"


class LeakyReLU(HybridBlock):
    """``x if x > 0 else alpha * x`` (``alpha >= 0``)."""

    def __init__(self, alpha: float, **kwargs: Any) -> None:
        if alpha < 0:
            raise ValueError(f"LeakyReLU: the slope alpha must be >= 0, got {alpha}")
        super().__init__(**kwargs)
        self._alpha = alpha

    def forward(self, x: Any) -> Any:
        return npx.leaky_relu(x, act_type="leaky", slope=self._alpha)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._alpha})"


class PReLU(HybridBlock):
    """Leaky ReLU with a learnt slope ``alpha``: one per channel (axis 1) or, with the default
    ``in_channels=1``, one shared by all elements."""

    def __init__(self, alpha_initializer: Any = _init.Constant(0.25), in_channels: int = 1,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = Parameter("alpha", shape=(in_channels,), init=alpha_initializer)

    def forward(self, x: Any) -> Any:
        return npx.leaky_relu(x, gamma=self.alpha.data(x.device), act_type="prelu")


class ELU(HybridBlock):
    """``x if x > 0 else alpha * (exp(x) - 1)``."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._alpha = alpha

    def forward(self, x: Any) -> Any:
        return npx.leaky_relu(x, act_type="elu", slope=self._alpha)


class SELU(HybridBlock):
    """Scaled ELU with the self-normalising constants (Klambauer et al., 2017)."""

    def forward(self, x: Any) -> Any:
        return npx.leaky_relu(x, act_type="selu")


class GELU(HybridBlock):
    """Gaussian error linear unit: ``approximation='erf'`` (exact) or ``'tanh'``."""

    def __init__(self, approximation: str = "erf", **kwargs: Any) -> None:
        if approximation == "erf":
            act = "gelu"
        elif approximation == "tanh":
            act = "gelu_tanh"
        else:
            raise ValueError(f'Unsupported approximation! Support "erf" and "tanh", but got '
                             f"{approximation!r}")
        super().__init__(**kwargs)
        self._act_algorithm = act

    def forward(self, x: Any) -> Any:
        return npx.leaky_relu(x, act_type=self._act_algorithm)


class Swish(HybridBlock):
    """``x * sigmoid(beta * x)`` (Ramachandran et al., 2017)."""

    def __init__(self, beta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._beta = beta

    def forward(self, x: Any) -> Any:
        return x * npx.sigmoid(self._beta * x)


class SiLU(HybridBlock):
    """``x * sigmoid(x)`` (Swish with beta 1)."""

    def forward(self, x: Any) -> Any:
        return x * npx.sigmoid(x)
