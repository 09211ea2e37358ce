"""Loss functions (MXNet's ``gluon.loss``).

Every loss is a :class:`HybridBlock` whose ``forward(pred, label, ..., sample_weight=None)``
returns a **per-sample** loss of shape ``(batch,)``: the elementwise loss is multiplied by
``sample_weight`` (broadcast) and by the constructor's ``weight``, then averaged over every axis
but ``batch_axis``. Labels are reshaped to the prediction's shape before the elementwise math, so
``pred`` ``(N, 1)`` with ``label`` ``(N,)`` gives ``(N,)``, not a broadcast ``(N, N)``. The math is
written with ``np``/``npx`` operators, so autograd differentiates every loss.

    >>> from framework import np
    >>> from framework.gluon import loss as gloss
    >>> gloss.L2Loss()(np.array([[1.], [2.]]), np.array([0., 0.]))
    array([0.5, 2. ])

Differences from MXNet (improvements, documented):

- ``loss(pred, label, pos_weight=pw)``: keyword arguments to a loss call are bound to
  ``forward``'s parameters (MXNet's ``__call__`` rejects them).
- A 1-D ``sample_weight`` of length ``batch`` that would not broadcast against the elementwise
  loss the NumPy way (from the right) without changing its shape, e.g. ``(N,)`` weights with a
  ``(N, 1)`` loss, is aligned with ``batch_axis`` instead (MXNet broadcasts it to ``(N, N)``
  or fails).
- ``PoissonNLLLoss(compute_full=True)`` gives 0 for the Stirling term at ``target == 0``
  (MXNet gives ``nan``), and returns ``(batch,)`` like the other losses; ``epsilon`` may be
  given to the constructor or to ``forward``.
- ``CTCLoss`` gives ``inf`` with a zero gradient for a sample whose label cannot be aligned
  within its input length. It differentiates once (``create_graph=True`` through it raises).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy

from .. import np as _np
from .. import npx as _npx
from ..base import FrameworkError
from ..nd import _gradutil as _gu
from ..nd import _misc
from ..nd._base import BaseArray
from ..nd._op import Op, apply
from ..nd._tape import STATE, requires_grad
from ..npx import _nn as _npx_nn
from .block import HybridBlock

__all__ = [
    "Loss", "L2Loss", "L1Loss", "SigmoidBinaryCrossEntropyLoss", "SigmoidBCELoss",
    "SoftmaxCrossEntropyLoss", "SoftmaxCELoss", "KLDivLoss", "CTCLoss", "HuberLoss",
    "HingeLoss", "SquaredHingeLoss", "LogisticLoss", "TripletLoss", "PoissonNLLLoss",
    "CosineEmbeddingLoss",
]


# -- helpers ---------------------------------------------------------------------------------------

def _strip_f(args: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    """Accept MXNet 1.x's helper calls that pass ``F`` first."""
    if len(args) > n or (args and not isinstance(args[0], BaseArray) and args[0] is not None
                         and hasattr(args[0], "np")):
        return args[1:]
    return args


def _reshape_like(*args: Any) -> Any:
    """``x`` reshaped to ``y``'s shape (``_reshape_like(x, y)``; MXNet 1.x also passes ``F``)."""
    x, y = _strip_f(args, 2)
    if x.shape == y.shape:
        return x
    if x.size != y.size:
        raise ValueError(f"loss: the label of shape {x.shape} cannot be reshaped to the "
                         f"prediction's shape {y.shape} (sizes {x.size} and {y.size} differ)")
    return x.reshape(y.shape)


def _align_sample_weight(loss: Any, sample_weight: Any, batch_axis: int) -> Any:
    sw: Any = sample_weight
    if not isinstance(sample_weight, BaseArray) or sample_weight.ndim != 1 or loss.ndim < 2:
        return sample_weight
    n = sample_weight.shape[0]
    # NumPy's right-aligned broadcasting keeps the loss's shape when the last axis has size n
    if n == 1 or loss.shape[-1] == n or not -loss.ndim <= batch_axis < loss.ndim:
        return sample_weight
    ax = batch_axis % loss.ndim
    if loss.shape[ax] != n:
        return sample_weight
    shape = [1] * loss.ndim
    shape[ax] = n
    return sw.reshape(tuple(shape))


def _apply_weighting(*args: Any, batch_axis: int | None = None) -> Any:
    """``loss * sample_weight * weight`` (``_apply_weighting(loss, weight=None,
    sample_weight=None)``; MXNet 1.x also passes ``F`` first).

    ``weight`` must be a number; ``sample_weight`` an array broadcast against ``loss``."""
    args = _strip_f(args, 3)
    loss = args[0]
    weight = args[1] if len(args) > 1 else None
    sample_weight = args[2] if len(args) > 2 else None
    if sample_weight is not None:
        if batch_axis is not None:
            sample_weight = _align_sample_weight(loss, sample_weight, batch_axis)
        loss = loss * sample_weight
    if weight is not None:
        if not isinstance(weight, (int, float, numpy.number)) or isinstance(weight, bool):
            raise TypeError(f"loss: weight must be a number, got {type(weight).__name__}")
        loss = loss * weight
    return loss


def _batch_mean(loss: Any, batch_axis: int) -> Any:
    """Mean over every axis but ``batch_axis``: shape ``(batch,)``."""
    if loss.ndim == 0:
        raise ValueError("loss: the elementwise loss is 0-d; it needs a batch axis")
    ax = batch_axis % loss.ndim if -loss.ndim <= batch_axis < loss.ndim else None
    if ax is None:
        raise ValueError(f"loss: batch_axis {batch_axis} is out of range for a loss of shape "
                         f"{loss.shape}")
    axes = tuple(i for i in range(loss.ndim) if i != ax)
    return _np.mean(loss, axis=axes) if axes else loss


def _batch_sum(loss: Any, batch_axis: int) -> Any:
    ax = batch_axis % loss.ndim
    axes = tuple(i for i in range(loss.ndim) if i != ax)
    return _np.sum(loss, axis=axes) if axes else loss


def _softplus(x: Any) -> Any:
    return _npx_nn.activation(x, act_type="softrelu")


# -- the base class --------------------------------------------------------------------------------

class Loss(HybridBlock):
    """Base class of losses (``Loss(weight=None, batch_axis=0)``).

    Subclasses implement ``forward(self, pred, label, ...)`` (or 1.x's
    ``hybrid_forward(self, F, pred, label, ...)``). ``self._weight`` and ``self._batch_axis``
    hold the constructor's arguments.
    """

    def __init__(self, weight: float | None = None, batch_axis: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._weight = weight
        self._batch_axis = batch_axis

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_axis={self._batch_axis}, w={self._weight})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            try:
                bound = inspect.signature(self.forward).bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{type(self).__name__}: {exc}") from None
            bound.apply_defaults()
            if bound.kwargs:
                raise TypeError(f"{type(self).__name__}: keyword-only arguments "
                                f"{sorted(bound.kwargs)} cannot be passed to a loss call")
            args = bound.args
        return super().__call__(*args)

    def _weighted_mean(self, loss: Any, sample_weight: Any) -> Any:
        loss = _apply_weighting(loss, self._weight, sample_weight, batch_axis=self._batch_axis)
        return _batch_mean(loss, self._batch_axis)


# -- regression ------------------------------------------------------------------------------------

class L2Loss(Loss):
    r"""Half the squared error: ``L = 1/2 * (pred - label)**2``, averaged per sample.

    The default ``weight`` is 1 (the ``1/2`` is applied on top of it, as MXNet)."""

    def __init__(self, weight: float = 1.0, batch_axis: int = 0, **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)

    def forward(self, pred: Any, label: Any, sample_weight: Any = None) -> Any:
        label = _reshape_like(label, pred)
        loss = _np.square(label - pred)
        w = (self._weight if self._weight is not None else 1.0) / 2
        loss = _apply_weighting(loss, w, sample_weight, batch_axis=self._batch_axis)
        return _batch_mean(loss, self._batch_axis)


class L1Loss(Loss):
    """Absolute error ``|pred - label|``, averaged per sample."""

    def __init__(self, weight: float | None = None, batch_axis: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)

    def forward(self, pred: Any, label: Any, sample_weight: Any = None) -> Any:
        label = _reshape_like(label, pred)
        return self._weighted_mean(_np.abs(label - pred), sample_weight)


class HuberLoss(Loss):
    """Smoothed L1: ``0.5/rho * err**2`` where ``|err| <= rho``, ``|err| - 0.5*rho``
    elsewhere."""

    def __init__(self, rho: float = 1, weight: float | None = None, batch_axis: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)
        self._rho = rho

    def forward(self, pred: Any, label: Any, sample_weight: Any = None) -> Any:
        label = _reshape_like(label, pred)
        err = _np.abs(label - pred)
        loss = _np.where(err > self._rho, err - 0.5 * self._rho,
                         (0.5 / self._rho) * _np.square(err))
        return self._weighted_mean(loss, sample_weight)


class PoissonNLLLoss(Loss):
    """Negative log-likelihood of a Poisson target.

    ``from_logits=True``: ``pred`` is the log of the rate, ``L = exp(pred) - target*pred``;
    otherwise ``L = pred - target*log(pred + epsilon)``. ``compute_full`` adds Stirling's
    approximation of ``log(target!)`` where ``target > 1``.
    """

    def __init__(self, weight: float | None = None, from_logits: bool = True,
                 batch_axis: int = 0, compute_full: bool = False, epsilon: float = 1e-08,
                 **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)
        self._from_logits = from_logits
        self._compute_full = compute_full
        self._epsilon = epsilon

    def forward(self, pred: Any, target: Any, sample_weight: Any = None,
                epsilon: float | None = None) -> Any:
        eps = self._epsilon if epsilon is None else epsilon
        target = _reshape_like(target, pred)
        if self._from_logits:
            loss = _np.exp(pred) - target * pred
        else:
            loss = pred - target * _np.log(pred + eps)
        if self._compute_full:
            big = target > 1
            t = _np.where(big, target, _np.ones_like(target))
            stirling = t * _np.log(t) - t + 0.5 * _np.log(2 * math.pi * t)
            loss = loss + _np.where(big, stirling, _np.zeros_like(stirling))
        return self._weighted_mean(loss, sample_weight)


# -- classification --------------------------------------------------------------------------------

class SoftmaxCrossEntropyLoss(Loss):
    """Softmax cross-entropy ``-sum(label * log_softmax(pred))`` along ``axis``.

    ``sparse_label=True``: ``label`` holds class indices (float or int) with ``pred``'s shape
    minus ``axis`` (or that axis kept with size 1). Otherwise ``label`` is a distribution of
    ``pred``'s shape. ``from_logits=True``: ``pred`` already holds log-probabilities.
    """

    def __init__(self, axis: int = -1, sparse_label: bool = True, from_logits: bool = False,
                 weight: float | None = None, batch_axis: int = 0, **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)
        self._axis = axis
        self._sparse_label = sparse_label
        self._from_logits = from_logits

    def forward(self, pred: Any, label: Any, sample_weight: Any = None) -> Any:
        if self._sparse_label and not self._from_logits and isinstance(pred, BaseArray) \
                and isinstance(label, BaseArray) and pred._dtype.kind == "f" and pred.ndim:
            return self._fused(pred, label, sample_weight)
        logp = pred if self._from_logits else _npx.log_softmax(pred, axis=self._axis)
        if self._sparse_label:
            loss = _np.negative(_npx.pick(logp, label, axis=self._axis, keepdims=True))
        else:
            label = _reshape_like(label, logp)
            loss = -_np.sum(logp * label, axis=self._axis, keepdims=True)
        return self._weighted_mean(loss, sample_weight)


    def _fused(self, pred: BaseArray, label: BaseArray, sample_weight: Any) -> Any:
        """The sparse-label loss as one op (:class:`_SoftmaxCE`); without ``sample_weight`` the
        number ``weight`` is folded in and, when the class axis comes after the batch axis, the
        class axis is dropped by the op itself, so a 2-d ``pred`` needs no further op."""
        nd = pred.ndim
        ax = self._axis + nd if -nd <= self._axis < 0 else self._axis
        bx = self._batch_axis + nd if -nd <= self._batch_axis < 0 else self._batch_axis
        w = self._weight
        fold = sample_weight is None and (w is None or (
            isinstance(w, (int, float, numpy.number)) and not isinstance(w, bool)))
        if fold and 0 <= bx < ax < nd:
            loss = apply(_SoftmaxCE(self._axis, False, None if w is None else float(w)),
                         (pred, label))[0]
            return _batch_mean(loss, bx)
        loss = apply(_SoftmaxCE(self._axis, True, None), (pred, label))[0]
        return self._weighted_mean(loss, sample_weight)


class _SoftmaxCE(Op):
    """``-log_softmax(pred)`` read at the class ``label`` along ``axis`` (times ``scale``), in
    one kernel; ``label`` (indices, truncated to integers and clipped to the classes, as
    ``pick``) has ``pred``'s shape without ``axis``, or with it of size 1. The result keeps
    ``axis`` with size 1 when ``keepdims``. Its gradient in ``pred`` is
    ``(softmax(pred) - onehot(label)) * g * scale``, one kernel (:class:`_SoftmaxCEGrad`) that
    reads the softmax the forward computed on the way: the op's second output, an auxiliary
    one (``aux_outputs``: no gradient flows into it; the loss block does not return it)."""

    name = "softmax_cross_entropy"
    nout = 2
    aux_outputs = (1,)

    def __init__(self, axis: int, keepdims: bool, scale: float | None) -> None:
        self.axis = axis
        self.keepdims = keepdims
        self.scale = scale

    def infer(self, pred: BaseArray, label: BaseArray) -> list[Any]:
        nd = pred.ndim
        if not -nd <= self.axis < nd:
            raise ValueError(f"SoftmaxCrossEntropyLoss: axis {self.axis} is out of range for "
                             f"pred of shape {pred._shape}")
        ax = self.ax = self.axis % nd
        shp = pred._shape
        expect = shp[:ax] + shp[ax + 1:]
        kept = shp[:ax] + (1,) + shp[ax + 1:]
        if label._shape != expect and label._shape != kept:
            raise ValueError(f"SoftmaxCrossEntropyLoss: sparse label of shape {label._shape} "
                             f"does not fit pred of shape {shp} (expected {expect}, pred's "
                             f"shape without axis {ax})")
        if label._dtype.kind not in "iuf":
            raise TypeError(f"SoftmaxCrossEntropyLoss: sparse label must hold class indices "
                            f"(a numeric array), got {label._dtype}")
        return [(kept if self.keepdims else expect, pred._dtype), (shp, pred._dtype)]

    def forward(self, xp: Any, pred: Any, label: Any) -> tuple[Any, Any]:
        ax = self.ax
        pred = xp.ascontiguousarray(pred)
        shifted = pred - pred.max(axis=ax, keepdims=True)
        prob = xp.exp(shifted)
        total = prob.sum(axis=ax, keepdims=True)
        lse = xp.log(xp.squeeze(total, axis=ax))
        # the shifted logit of each row's class, read through flat indices (one gather;
        # take_along_axis builds index grids in Python on every call)
        loss = lse - shifted.reshape(-1)[_flat_class_index(xp, label, pred.shape, ax)]
        if self.scale is not None:
            loss *= pred.dtype.type(self.scale)
        prob /= total  # the softmax, kept for the gradient (it costs one division here)
        return (xp.expand_dims(loss, ax) if self.keepdims else loss), prob

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        pred, label = inputs
        g = out_grads[0]
        if STATE.grad:  # create_graph: the gradient from differentiable ops
            return [_softmax_ce_grad_ops(pred, label, g, self.ax, self.scale), None]
        return [apply(_SoftmaxCEGrad(self.ax, self.scale), (outputs[1], label, g)), None]


#: (shape, axis, array module, device) -> the flat offsets of the non-class axes, shared by
#: every loss call of that shape (a few entries: one per batch shape and device)
_CLASS_OFFSETS: dict[Any, Any] = {}


def _flat_class_index(xp: Any, label: Any, shape: tuple[int, ...], ax: int) -> Any:
    """Flat indices into a C-contiguous array of ``shape`` of the element at class ``label``
    (truncated to an integer and clipped to the classes, as ``pick``) along ``ax``, shaped like
    ``shape`` without ``ax``. The offsets of the other axes are cached per shape, axis, array
    module and device (:data:`_CLASS_OFFSETS`)."""
    n, inner = shape[ax], math.prod(shape[ax + 1:])
    key = (shape, ax, xp, getattr(label, "device", None))  # (a CuPy buffer: its GPU)
    offs = _CLASS_OFFSETS.get(key)
    if offs is None:
        if len(_CLASS_OFFSETS) >= 64:
            _CLASS_OFFSETS.clear()
        outer = math.prod(shape[:ax])
        offs = (xp.arange(outer, dtype=numpy.intp)[:, None] * (n * inner)
                + xp.arange(inner, dtype=numpy.intp)[None, :])
        offs = _CLASS_OFFSETS[key] = offs.reshape(shape[:ax] + shape[ax + 1:])
    idx = label.reshape(offs.shape).astype(numpy.intp)
    xp.minimum(xp.maximum(idx, 0, out=idx), n - 1, out=idx)  # (clip: 3x slower on 128)
    if inner != 1:
        idx *= inner
    idx += offs
    return idx


class _SoftmaxCEGrad(Op):
    """``(prob - onehot(label)) * g * scale`` along ``ax``, where ``prob`` is the softmax that
    :class:`_SoftmaxCE` returned as its second output (``g`` without ``ax`` or with it of size
    1); used when the backward is not itself recorded."""

    name = "softmax_cross_entropy_grad"

    def __init__(self, ax: int, scale: float | None) -> None:
        self.ax = ax
        self.scale = scale

    def infer(self, prob: BaseArray, label: BaseArray, g: BaseArray) -> list[Any]:
        return [(prob._shape, prob._dtype)]

    def forward(self, xp: Any, prob: Any, label: Any, g: Any) -> Any:
        ax = self.ax
        kept = prob.shape[:ax] + (1,) + prob.shape[ax + 1:]
        gs = g.astype(prob.dtype).reshape(kept)  # a copy: scaled in place below
        if self.scale is not None:
            gs *= prob.dtype.type(self.scale)
        out = prob * gs
        idx = _flat_class_index(xp, label, prob.shape, ax)
        out.reshape(-1)[idx] -= gs.reshape(idx.shape)
        return out

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        raise FrameworkError("SoftmaxCrossEntropyLoss: the fused gradient kernel is not "
                             "differentiable; it is only used when the backward is not "
                             "recorded")


def _softmax_ce_grad_ops(pred: BaseArray, label: BaseArray, g: BaseArray, ax: int,
                         scale: float | None) -> BaseArray:
    """The same gradient as :class:`_SoftmaxCEGrad`, from differentiable ops (``pick``'s and
    ``log_softmax``'s backward formulas), for ``create_graph=True``."""
    n = pred._shape[ax]
    kept = pred._shape[:ax] + (1,) + pred._shape[ax + 1:]
    t = -g if scale is None else g * (-scale)
    idx = _np.clip(label.astype(numpy.int64), 0, n - 1).reshape(kept)
    picked = _gu.scatter_along(t.reshape(kept), idx, ax, n)
    logp = _npx.log_softmax(pred, axis=ax)
    return _misc.softmax_grad(logp, picked, ax, None, True)


SoftmaxCELoss = SoftmaxCrossEntropyLoss


class SigmoidBinaryCrossEntropyLoss(Loss):
    """Binary cross-entropy of ``sigmoid(pred)`` against ``label`` in [0, 1].

    ``from_sigmoid=False`` (default): ``pred`` holds logits and the stable form
    ``max(x, 0) - x*y + log(1 + exp(-|x|))`` is used; ``pos_weight`` (broadcast) scales the
    positive term. ``from_sigmoid=True``: ``pred`` holds probabilities.
    """

    def __init__(self, from_sigmoid: bool = False, weight: float | None = None,
                 batch_axis: int = 0, **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)
        self._from_sigmoid = from_sigmoid

    def forward(self, pred: Any, label: Any, sample_weight: Any = None,
                pos_weight: Any = None) -> Any:
        label = _reshape_like(label, pred)
        if not self._from_sigmoid:
            soft = _softplus(-_np.abs(pred))  # log(1 + exp(-|x|))
            if pos_weight is None:
                loss = _npx.relu(pred) - pred * label + soft
            else:
                # -(pw*y*log(s) + (1-y)*log(1-s)) with log(s) = -(relu(-x) + soft)
                log_weight = 1 + (pos_weight - 1) * label
                loss = pred - pred * label + log_weight * (soft + _npx.relu(-pred))
        else:
            eps = 1e-12
            pos = _np.log(pred + eps) * label
            if pos_weight is not None:
                pos = pos * pos_weight
            loss = -(pos + _np.log(1.0 - pred + eps) * (1.0 - label))
        return self._weighted_mean(loss, sample_weight)


SigmoidBCELoss = SigmoidBinaryCrossEntropyLoss


class KLDivLoss(Loss):
    """Kullback-Leibler divergence ``label * (log(label) - pred)``, averaged per sample.

    ``from_logits=True`` (default): ``pred`` holds log-probabilities; otherwise
    ``log_softmax(pred, axis)`` is taken first."""

    def __init__(self, from_logits: bool = True, axis: int = -1, weight: float | None = None,
                 batch_axis: int = 0, **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)
        self._from_logits = from_logits
        self._axis = axis

    def forward(self, pred: Any, label: Any, sample_weight: Any = None) -> Any:
        if not self._from_logits:
            pred = _npx.log_softmax(pred, axis=self._axis)
        label = _reshape_like(label, pred)
        loss = label * (_np.log(label + 1e-12) - pred)
        return self._weighted_mean(loss, sample_weight)


class HingeLoss(Loss):
    """``max(0, margin - pred * label)`` with labels in {-1, 1}."""

    def __init__(self, margin: float = 1, weight: float | None = None, batch_axis: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def forward(self, pred: Any, label: Any, sample_weight: Any = None) -> Any:
        label = _reshape_like(label, pred)
        return self._weighted_mean(_npx.relu(self._margin - pred * label), sample_weight)


class SquaredHingeLoss(Loss):
    """``max(0, margin - pred * label)**2`` with labels in {-1, 1}."""

    def __init__(self, margin: float = 1, weight: float | None = None, batch_axis: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def forward(self, pred: Any, label: Any, sample_weight: Any = None) -> Any:
        label = _reshape_like(label, pred)
        loss = _np.square(_npx.relu(self._margin - pred * label))
        return self._weighted_mean(loss, sample_weight)


class LogisticLoss(Loss):
    """``log(1 + exp(-pred * label))`` with labels in {-1, 1} (``label_format='signed'``) or
    {0, 1} (``'binary'``), computed stably."""

    def __init__(self, weight: float | None = None, batch_axis: int = 0,
                 label_format: str = "signed", **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)
        if label_format not in ("signed", "binary"):
            raise ValueError(f"LogisticLoss: label_format must be 'signed' or 'binary', got "
                             f"{label_format!r}")
        self._label_format = label_format

    def forward(self, pred: Any, label: Any, sample_weight: Any = None) -> Any:
        label = _reshape_like(label, pred)
        if self._label_format == "signed":
            label = (label + 1.0) / 2.0
        loss = _npx.relu(pred) - pred * label + _softplus(-_np.abs(pred))
        return self._weighted_mean(loss, sample_weight)


# -- embeddings ------------------------------------------------------------------------------------

class TripletLoss(Loss):
    """``max(0, sum((pos - pred)**2) - sum((neg - pred)**2) + margin)``: the sums run over the
    non-batch axes; ``forward(pred, positive, negative, sample_weight=None)``."""

    def __init__(self, margin: float = 1, weight: float | None = None, batch_axis: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def forward(self, pred: Any, positive: Any, negative: Any, sample_weight: Any = None) -> Any:
        positive = _reshape_like(positive, pred)
        negative = _reshape_like(negative, pred)
        d = _np.square(positive - pred) - _np.square(negative - pred)
        loss = _npx.relu(_batch_sum(d, self._batch_axis) + self._margin)
        return _apply_weighting(loss, self._weight, sample_weight)


class CosineEmbeddingLoss(Loss):
    """``1 - cos(a, b)`` for label 1 and ``max(0, cos(a, b) - margin)`` for label -1, the
    cosine taken along the last axis; ``forward(input1, input2, label, sample_weight=None)``."""

    def __init__(self, weight: float | None = None, batch_axis: int = 0, margin: float = 0,
                 **kwargs: Any) -> None:
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def forward(self, input1: Any, input2: Any, label: Any, sample_weight: Any = None) -> Any:
        input1 = _reshape_like(input1, input2)
        dot = _np.sum(input1 * input2, axis=-1, keepdims=True)
        n1 = _np.sqrt(_np.sum(_np.square(input1), axis=-1, keepdims=True))
        n2 = _np.sqrt(_np.sum(_np.square(input2), axis=-1, keepdims=True))
        cos = dot / _np.maximum(n1 * n2, 1e-12)
        label = _reshape_like(label, cos)
        loss = _np.where(label == 1, 1 - cos, _npx.relu(cos - self._margin))
        return self._weighted_mean(loss, sample_weight)


# -- CTC -------------------------------------------------------------------------------------------

class _CTC(Op):
    """Connectionist temporal classification: per-sample negative log-likelihood.

    Inputs ``(data (T, N, C) activations, label (N, L)[, data_lengths (N,)][, label_lengths
    (N,)])``; the softmax over ``C`` is applied inside, class ``C-1`` is the blank, labels are
    padded with -1 when no label lengths are given. The forward algorithm runs in log space over
    the whole batch (a loop over time only). With ``want_grad`` a second output holds the
    gradient of the loss with respect to ``data`` (from the forward-backward recursion).
    """

    def __init__(self, use_data_lengths: bool, use_label_lengths: bool,
                 want_grad: bool) -> None:
        self.use_dl = use_data_lengths
        self.use_ll = use_label_lengths
        self.want_grad = want_grad
        self.nout = 2 if want_grad else 1  # type: ignore[misc]

    def infer(self, *inputs: BaseArray) -> list[Any]:
        data, label, *lengths = inputs
        if data.ndim != 3:
            raise ValueError(f"ctc_loss: data must be (sequence_length, batch, alphabet_size), "
                             f"got shape {data.shape}")
        t, n, c = data.shape
        if c < 1:
            raise ValueError("ctc_loss: the alphabet must hold at least the blank label")
        if label.ndim != 2 or label.shape[0] != n:
            raise ValueError(f"ctc_loss: label must be (batch, label_length) with batch {n}, "
                             f"got shape {label.shape}")
        for arr, what in zip(lengths, ("data", "label") if self.use_dl else ("label",)):
            if arr.shape != (n,):
                raise ValueError(f"ctc_loss: {what}_lengths must have shape ({n},), got "
                                 f"{arr.shape}")
        dt = data._dtype if data._dtype.kind == "f" else numpy.dtype(numpy.float32)
        specs: list[Any] = [((n,), dt)]
        if self.want_grad:
            specs.append((data.shape, dt))
        return specs

    def forward(self, xp: Any, data: Any, label: Any, *lengths: Any) -> Any:
        t_max, n, c = data.shape
        out_dt = data.dtype if data.dtype.kind == "f" else numpy.dtype(numpy.float32)
        x = data.astype(numpy.float64)
        x = x - x.max(axis=2, keepdims=True) if t_max else x
        logp = x - xp.log(xp.exp(x).sum(axis=2, keepdims=True))  # (T, N, C)
        blank = c - 1
        lab = label.astype(numpy.int64) if label.dtype.kind != "f" else \
            xp.floor(label).astype(numpy.int64)
        l_max = lab.shape[1]
        rest = list(lengths)
        if self.use_dl:
            tn = xp.clip(rest.pop(0).astype(numpy.int64), 0, t_max)
        else:
            tn = xp.full((n,), t_max, dtype=numpy.int64)
        if self.use_ll:
            ln = xp.clip(rest.pop(0).astype(numpy.int64), 0, l_max)
        else:  # the first -1 (any negative value) ends the label
            pad = lab < 0
            first = xp.argmax(pad, axis=1)
            ln = xp.where(pad.any(axis=1), first, l_max)
        s_max = 2 * l_max + 1
        ext = xp.full((n, s_max), blank, dtype=numpy.int64)
        ext[:, 1::2] = xp.clip(lab, 0, c - 1)
        skip = xp.zeros((n, s_max), dtype=bool)  # may jump from s-2 to s
        if l_max > 1:
            skip[:, 3::2] = lab[:, 1:] != lab[:, :-1]
        neg = -numpy.inf
        rows = xp.arange(n)

        def shift(a: Any, k: int) -> Any:  # a[:, s-k], -inf where s < k
            out = xp.full_like(a, neg)
            out[:, k:] = a[:, :-k]
            return out

        def lse3(a: Any, b: Any, cc: Any) -> Any:
            m = xp.maximum(xp.maximum(a, b), cc)
            safe = xp.where(xp.isfinite(m), m, 0.0)
            with numpy.errstate(divide="ignore"):
                return safe + xp.log(xp.exp(a - safe) + xp.exp(b - safe) + xp.exp(cc - safe))

        emit = xp.take_along_axis(logp, xp.broadcast_to(ext[None], (t_max, n, s_max)),
                                  axis=2) if t_max else xp.zeros((0, n, s_max))  # (T, N, S)
        alphas = xp.full((t_max, n, s_max), neg)
        if t_max:
            alpha = xp.full((n, s_max), neg)
            alpha[:, 0] = emit[0, :, 0]
            if s_max > 1:
                alpha[:, 1] = emit[0, :, 1]
            alpha = xp.where((tn > 0)[:, None], alpha, neg)
            alphas[0] = alpha
            for t in range(1, t_max):
                new = lse3(alpha, shift(alpha, 1), xp.where(skip, shift(alpha, 2), neg)) \
                    + emit[t]
                alpha = xp.where((t < tn)[:, None], new, alpha)
                alphas[t] = alpha
            end = alpha[rows, 2 * ln]
            end2 = xp.where(ln > 0, alpha[rows, xp.maximum(2 * ln - 1, 0)], neg)
            log_lik = xp.logaddexp(end, end2)
        else:
            log_lik = xp.full((n,), neg)
        # no input steps: only the empty label has probability 1
        log_lik = xp.where(tn == 0, xp.where(ln == 0, 0.0, neg), log_lik)
        loss = (-log_lik).astype(out_dt)
        if not self.want_grad:
            return loss
        grad = xp.zeros((t_max, n, c))
        ok = xp.isfinite(log_lik) & (tn > 0)
        if t_max:
            # beta[s] at t: log-probability of the rest of the path after step t, from state s
            s_idx = xp.arange(s_max)
            init = xp.where((s_idx[None] == 2 * ln[:, None]) |
                            ((s_idx[None] == 2 * ln[:, None] - 1) & (ln[:, None] > 0)), 0.0, neg)
            skip_next = xp.zeros_like(skip)
            skip_next[:, :-2] = skip[:, 2:]  # may jump from s to s+2
            beta = xp.full((n, s_max), neg)
            gammas = xp.full((t_max, n, s_max), neg)
            for t in range(t_max - 1, -1, -1):
                if t < t_max - 1:
                    v = emit[t + 1] + beta
                    v1 = xp.full_like(v, neg)
                    v1[:, :-1] = v[:, 1:]
                    v2 = xp.full_like(v, neg)
                    v2[:, :-2] = v[:, 2:]
                    new = lse3(v, v1, xp.where(skip_next, v2, neg))
                else:
                    new = beta
                beta = xp.where((t == tn - 1)[:, None], init,
                                xp.where((t < tn - 1)[:, None], new, neg))
                gammas[t] = alphas[t] + beta - xp.where(ok, log_lik, 0.0)[:, None]
            occ = xp.exp(gammas)  # posterior occupancy of each extended-label state
            occ = xp.where(ok[None, :, None], occ, 0.0)
            flat = ((xp.arange(t_max)[:, None, None] * n + rows[None, :, None]) * c
                    + ext[None]).ravel()
            occ_k = xp.bincount(flat, weights=occ.ravel(), minlength=t_max * n * c)
            occ_k = occ_k.reshape(t_max, n, c)
            valid = (xp.arange(t_max)[:, None] < tn[None, :]) & ok[None, :]
            grad = xp.where(valid[:, :, None], xp.exp(logp) - occ_k, 0.0)
        return loss, grad.astype(out_dt)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        if not self.want_grad:
            raise FrameworkError("ctc_loss: the gradient was not prepared at the forward call")
        if STATE.recording:
            raise FrameworkError("ctc_loss is differentiable once only; create_graph=True "
                                 "through it is not supported")
        g = out_grads[0].reshape((1, -1, 1)) * outputs[1]
        return [g] + [None] * (len(inputs) - 1)


def _ctc_loss(data: Any, label: Any, data_lengths: Any = None,
              label_lengths: Any = None) -> Any:
    inputs = [data, label]
    if data_lengths is not None:
        inputs.append(data_lengths)
    if label_lengths is not None:
        inputs.append(label_lengths)
    want = STATE.recording and requires_grad(data)
    op = _CTC(data_lengths is not None, label_lengths is not None, want)
    out = apply(op, inputs)
    return out[0] if want else out


class CTCLoss(Loss):
    """Connectionist temporal classification loss (negative log-likelihood per sample).

    ``pred``: unnormalised activations, ``(N, T, C)`` for ``layout='NTC'`` or ``(T, N, C)`` for
    ``'TNC'``; the softmax is applied inside, and class ``C-1`` is reserved for the blank
    (MXNet's ``blank_label='last'``). ``label``: class indices in ``[0, C-2]``, ``(N, L)`` for
    ``label_layout='NT'`` or ``(L, N)`` for ``'TN'``, padded with -1 unless ``label_lengths``
    gives each sample's length. ``pred_lengths`` gives each sample's number of input steps.
    """

    def __init__(self, layout: str = "NTC", label_layout: str = "NT",
                 weight: float | None = None, **kwargs: Any) -> None:
        if layout not in ("NTC", "TNC"):
            raise ValueError(f"CTCLoss: only 'NTC' and 'TNC' layouts for pred are supported, "
                             f"got {layout!r}")
        if label_layout not in ("NT", "TN"):
            raise ValueError(f"CTCLoss: only 'NT' and 'TN' layouts for label are supported, "
                             f"got {label_layout!r}")
        kwargs.pop("batch_axis", None)
        super().__init__(weight, label_layout.find("N"), **kwargs)
        self._layout = layout
        self._label_layout = label_layout

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_axis={self._batch_axis}, w={self._weight})"

    def forward(self, pred: Any, label: Any, pred_lengths: Any = None, label_lengths: Any = None,
                sample_weight: Any = None) -> Any:
        if self._layout == "NTC":
            pred = _np.swapaxes(pred, 0, 1)
        if self._batch_axis == 1:
            label = _np.swapaxes(label, 0, 1)
        loss = _ctc_loss(pred, label, pred_lengths, label_lengths)
        return _apply_weighting(loss, self._weight, sample_weight)
