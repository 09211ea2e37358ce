"""Predefined models and their pretrained weights (MXNet's ``gluon.model_zoo``)."""

from __future__ import annotations

from . import model_store, vision
from .vision import get_model

__all__ = ["model_store", "vision", "get_model"]
