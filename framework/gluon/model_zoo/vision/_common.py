"""What every model-zoo constructor shares: loading the pretrained weights."""

from __future__ import annotations

import os
from typing import Any

from ....device import cpu
from ...block import Block
from ..model_store import get_model_file

__all__ = ["load_pretrained"]


def load_pretrained(net: Block, name: str, ctx: Any = None, device: Any = None,
                    root: str | os.PathLike[str] | None = None) -> None:
    """Load MXNet's published weights of model ``name`` (a model-store name such as
    ``'resnet18_v1'``) into ``net`` on ``device`` (``ctx``; default cpu)."""
    target = device if device is not None else ctx
    net.load_parameters(get_model_file(name, root=root),
                        ctx=target if target is not None else cpu())
