"""Network operators of ``mx.npx`` with MXNet's signatures.

The ops live in ``framework.nd._nn`` (activations, softmax with masks, fully connected, dropout,
embedding), ``framework.nd._norm`` (batch, layer, group and instance normalisation) and
``framework.nd._conv`` (convolution, transposed convolution, pooling). Every one is
differentiable, the convolutions, pooling and smooth activations twice. Behaviour that depends on
training mode (dropout, batch_norm, rrelu) reads it at the call: ``autograd.record()`` and
``autograd.train_mode()`` turn it on.
"""

from __future__ import annotations

from typing import Any

from ..nd import _conv, _norm, _rnn
from ..nd import _nn as _ops_nn
from ..nd._base import BaseArray

__all__ = [
    "activation", "leaky_relu", "masked_softmax", "masked_log_softmax", "fully_connected",
    "convolution", "deconvolution", "pooling", "batch_norm", "layer_norm", "group_norm",
    "instance_norm", "dropout", "embedding", "rnn",
]


def activation(data: BaseArray, act_type: str = "relu") -> BaseArray:
    """Elementwise activation: ``'relu'``, ``'sigmoid'``, ``'tanh'``, ``'softrelu'`` (softplus),
    ``'softsign'``, and (MXNet 2.0) ``'log_sigmoid'``, ``'mish'``.

    >>> npx.activation(np.array([-1., 0., 2.]), act_type='relu')
    array([0., 0., 2.])
    """
    return _ops_nn.activation(data, act_type)


def leaky_relu(data: BaseArray, gamma: BaseArray | None = None, act_type: str = "leaky",
               slope: float = 0.25, lower_bound: float = 0.125,
               upper_bound: float = 0.334) -> BaseArray:
    """Leaky ReLU and its relatives, by ``act_type``:

    - ``'leaky'``: ``x > 0 ? x : slope * x``;
    - ``'prelu'``: as leaky with the learnt ``gamma`` (shape ``(C,)`` along axis 1, or size 1);
    - ``'rrelu'``: as leaky with a slope drawn uniformly from ``[lower_bound, upper_bound)`` per
      element in training, ``(lower_bound + upper_bound) / 2`` otherwise;
    - ``'elu'``: ``x > 0 ? x : slope * (exp(x) - 1)``;
    - ``'selu'``: ``lambda * (x > 0 ? x : alpha * (exp(x) - 1))`` (the SELU constants);
    - ``'gelu'``: ``0.5 x (1 + erf(x / sqrt(2)))`` (``'gelu_tanh'``: the tanh approximation).

    >>> npx.leaky_relu(np.array([-2., 3.]), slope=0.5)
    array([-1.,  3.])
    """
    return _ops_nn.leaky_relu(data, gamma, act_type, slope, lower_bound, upper_bound)


def masked_softmax(data: BaseArray, mask: BaseArray, axis: int = -1, temperature: float = 1.0,
                   normalize: bool = True) -> BaseArray:
    """Softmax along ``axis`` over the positions where ``mask`` (broadcast to ``data``) is true;
    masked positions give 0. ``normalize`` is accepted; the maximum is always subtracted.

    >>> npx.masked_softmax(np.array([1., 2., 3.]), np.array([True, False, True]))
    array([0.11920292, 0.        , 0.8807971 ])
    """
    return _ops_nn.masked_softmax(data, mask, axis, temperature, normalize)


def masked_log_softmax(data: BaseArray, mask: BaseArray, axis: int = -1,
                       temperature: float = 1.0, normalize: bool = True) -> BaseArray:
    """Log-softmax over the unmasked positions; masked positions give ``-inf``."""
    return _ops_nn.masked_softmax(data, mask, axis, temperature, normalize, log=True)


def fully_connected(x: BaseArray, weight: BaseArray, bias: BaseArray | None = None,
                    num_hidden: int | None = None, no_bias: bool = False,
                    flatten: bool = True) -> BaseArray:
    """``x @ weight.T + bias`` with ``weight`` of shape ``(num_hidden, in_units)``.

    ``flatten=True`` collapses every axis of ``x`` after the first (``in_units`` is their
    product); ``flatten=False`` transforms the last axis. Without ``bias`` (or with
    ``no_bias=True``) no bias is added.
    """
    return _ops_nn.fully_connected(x, weight, bias, num_hidden, no_bias, flatten)


def convolution(data: BaseArray, weight: BaseArray, bias: BaseArray | None = None,
                kernel: Any = None, stride: Any = None, dilate: Any = None, pad: Any = None,
                num_filter: int | None = None, num_group: int = 1, workspace: int = 1024,
                no_bias: bool = False, cudnn_tune: Any = None, cudnn_off: bool = False,
                layout: str | None = None) -> BaseArray:
    """1-D, 2-D or 3-D convolution (cross-correlation) with stride, zero padding, dilation and
    groups.

    ``data`` is ``(N, C, *spatial)`` (``layout`` ``'NCW'``, ``'NCHW'``, ``'NCDHW'``) or
    ``(N, *spatial, C)`` (``'NWC'``, ``'NHWC'``, ``'NDHWC'``); ``weight`` is
    ``(num_filter, C/num_group, *kernel)`` (channel-last: ``(num_filter, *kernel, C/num_group)``).
    Each output size is ``floor((x + 2*pad - dilate*(kernel-1) - 1) / stride) + 1``. ``kernel``
    and ``num_filter`` default to the weight's; ``workspace``, ``cudnn_tune`` and ``cudnn_off``
    are accepted and ignored.
    """
    return _conv.convolution(data, weight, bias, kernel, stride, dilate, pad, num_filter,
                             num_group, no_bias, layout)


def deconvolution(data: BaseArray, weight: BaseArray, bias: BaseArray | None = None,
                  kernel: Any = None, stride: Any = None, dilate: Any = None, pad: Any = None,
                  adj: Any = None, target_shape: Any = None, num_filter: int | None = None,
                  num_group: int = 1, workspace: int = 512, no_bias: bool = False,
                  cudnn_tune: Any = None, cudnn_off: bool = False,
                  layout: str | None = None) -> BaseArray:
    """Transposed convolution (the gradient of :func:`convolution` in its data).

    ``weight`` is ``(C_in, num_filter/num_group, *kernel)``. Each output size is
    ``stride*(x-1) + dilate*(kernel-1) + 1 - 2*pad + adj``; a non-empty ``target_shape`` sets
    the output size instead (pad and adj are then derived from it, as in MXNet).
    """
    return _conv.deconvolution(data, weight, bias, kernel, stride, dilate, pad, adj,
                               target_shape, num_filter, num_group, no_bias, layout)


def pooling(data: BaseArray, kernel: Any = None, stride: Any = None, pad: Any = None,
            pool_type: str = "max", pooling_convention: str = "valid",
            global_pool: bool = False, cudnn_off: bool = False, p_value: int | None = None,
            count_include_pad: bool | None = None, layout: str | None = None) -> BaseArray:
    """Max, average, sum or Lp (``p_value`` 1, 2, 3...) pooling over 1-3 spatial dimensions.

    ``stride`` defaults to 1 and ``pad`` to 0 per dimension. Output sizes:
    ``'valid'`` ``floor((x + 2*pad - kernel) / stride) + 1``; ``'full'`` the same with ``ceil``;
    ``'same'`` ``ceil(x / stride)`` (padding chosen automatically, ``pad`` must be 0).
    ``global_pool`` pools each whole feature map. Averages divide by the window size including
    padding unless ``count_include_pad=False``. Max pooling pads with ``-inf``; its gradient goes
    to the first maximum of each window.
    """
    return _conv.pooling(data, kernel, stride, pad, pool_type, pooling_convention, global_pool,
                         count_include_pad, layout, p_value)


def batch_norm(x: BaseArray, gamma: BaseArray, beta: BaseArray, running_mean: BaseArray,
               running_var: BaseArray, eps: float = 1e-3, momentum: float = 0.9,
               fix_gamma: bool = True, use_global_stats: bool = False,
               output_mean_var: bool = False, axis: int = 1, cudnn_off: bool = False,
               min_calib_range: float | None = None,
               max_calib_range: float | None = None) -> Any:
    """Batch normalisation along every axis but ``axis`` (the channel axis).

    In training mode (inside ``autograd.record()`` or ``train_mode()``) the batch mean and the
    biased batch variance are used, and ``running_mean``/``running_var`` are updated in place as
    ``momentum * running + (1 - momentum) * batch``. This framework updates them during the
    forward pass (MXNet's CPU operator does it in the backward pass; after a backward the values
    agree). Otherwise, or with ``use_global_stats``, the running statistics are used and left
    alone. ``fix_gamma=True`` treats gamma as 1 (its gradient is 0). With ``output_mean_var``
    the result is ``(out, mean, 1/sqrt(var + eps))``.
    """
    return _norm.batch_norm(x, gamma, beta, running_mean, running_var, eps, momentum,
                              fix_gamma, use_global_stats, output_mean_var, axis)


def layer_norm(data: BaseArray, gamma: BaseArray, beta: BaseArray, axis: int = -1,
               eps: float = 1e-5, output_mean_var: bool = False) -> Any:
    """Normalise over ``axis`` (mean and biased variance), then scale by ``gamma`` and shift by
    ``beta`` (both of length ``data.shape[axis]``). With ``output_mean_var`` the result is
    ``(out, mean, std)``, the statistics keeping ``axis`` as size 1."""
    return _norm.layer_norm(data, gamma, beta, axis, eps, output_mean_var)


def group_norm(data: BaseArray, gamma: BaseArray, beta: BaseArray, num_groups: int = 1,
               eps: float = 1e-5, output_mean_var: bool = False) -> Any:
    """Group normalisation of ``(N, C, ...)`` data: the channels split into ``num_groups``,
    each group normalised over its channels and the spatial axes. ``gamma``/``beta`` are per
    channel ``(C,)`` (MXNet 2.0) or per group ``(num_groups,)`` (MXNet 1.x). With
    ``output_mean_var`` the result is ``(out, mean, std)`` of shape ``(N, num_groups)``."""
    return _norm.group_norm(data, gamma, beta, num_groups, eps, output_mean_var)


def instance_norm(data: BaseArray, gamma: BaseArray, beta: BaseArray,
                  eps: float = 1e-3) -> BaseArray:
    """Instance normalisation: each ``(sample, channel)`` of ``(N, C, spatial...)`` data
    normalised over its spatial axes, then ``gamma``/``beta`` (shape ``(C,)``) applied."""
    return _norm.instance_norm(data, gamma, beta, eps)


def dropout(data: BaseArray, p: float = 0.5, mode: str = "training", axes: Any = None,
            cudnn_off: bool | None = False) -> BaseArray:
    """Inverted dropout: each element is zeroed with probability ``p`` and the survivors are
    scaled by ``1/(1-p)``.

    Active in training mode (``autograd.record()``/``train_mode()``), or always with
    ``mode='always'``; otherwise ``data`` is returned unchanged. ``axes`` share one draw along
    those axes (variational dropout). The mask comes from the device's generator, so
    ``np.random.seed`` makes it reproducible.
    """
    return _ops_nn.dropout(data, p, mode, axes, cudnn_off)


def embedding(data: BaseArray, weight: BaseArray, input_dim: int | None = None,
              output_dim: int | None = None, dtype: Any = "float32",
              sparse_grad: bool = False) -> BaseArray:
    """Map indices to rows of ``weight`` ``(input_dim, output_dim)``: the result has shape
    ``data.shape + (output_dim,)``. Indices may be floats; out-of-range ones are clipped. The
    weight gradient sums the rows' gradients (dense, also with ``sparse_grad=True``).

    >>> npx.embedding(np.array([1., 0.]), np.array([[0., 1.], [2., 3.]]), 2, 2)
    array([[2., 3.],
           [0., 1.]])
    """
    return _ops_nn.embedding(data, weight, input_dim, output_dim, dtype, sparse_grad)


def softmax(data: BaseArray, axis: int = -1, length: BaseArray | None = None,
            temperature: float | None = None, use_length: bool = False,
            dtype: Any = None) -> BaseArray:
    """Softmax along ``axis`` (``exp(x/t) / sum(exp(x/t))``); with ``use_length`` the positions
    at or past ``length`` (shape: data's without ``axis``) are excluded and give 0."""
    return _ops_nn.softmax(data, axis, length, temperature, use_length, dtype)


def log_softmax(data: BaseArray, axis: int = -1, length: BaseArray | None = None,
                temperature: float | None = None, use_length: bool = False,
                dtype: Any = None) -> BaseArray:
    """Log-softmax along ``axis``; with ``use_length`` positions at or past ``length`` give 0
    (as MXNet)."""
    return _ops_nn.softmax(data, axis, length, temperature, use_length, dtype, log=True)


def rnn(data: BaseArray, parameters: BaseArray, state: BaseArray,
        state_cell: BaseArray | None = None, mode: str = "lstm", state_size: int | None = None,
        num_layers: int = 1, bidirectional: bool = False, p: float = 0.0,
        state_outputs: bool = False, sequence_length: BaseArray | None = None,
        use_sequence_length: bool = False, projection_size: int | None = None,
        lstm_state_clip_min: float | None = None, lstm_state_clip_max: float | None = None,
        lstm_state_clip_nan: bool = False) -> Any:
    """MXNet's fused recurrent layer: ``mode`` ``'rnn_relu'``, ``'rnn_tanh'``, ``'lstm'`` or
    ``'gru'`` over ``data`` ``(seq_len, batch, input_size)``.

    ``parameters`` is one vector: all weights (``i2h (G*H, in)``, ``h2h (G*H, H)``, per layer
    and direction), then all biases (gates: LSTM ``[i, f, g, o]``, GRU ``[r, z, n]``);
    ``gluon.utils.split_rnn_params`` names its pieces. ``state`` (and ``state_cell`` for LSTM)
    is ``(num_layers * directions, batch, H)``. Returns the output ``(seq_len, batch,
    directions * H)``, or ``[out, hy]`` / ``[out, hy, cy]`` with ``state_outputs``. With
    ``use_sequence_length``, outputs past each sequence's length are 0 and the final state is
    the one at its last valid step. ``p``: dropout between layers, in training mode.
    ``projection_size`` (LSTM): the output and hidden state are projected to that size.
    ``lstm_state_clip_min/max`` clip the cell state (``lstm_state_clip_nan``: NaN becomes the
    minimum). The gradient is exact BPTT; it is not itself differentiable.
    """
    return _rnn.rnn(data, parameters, state, state_cell, mode, state_size, num_layers,
                    bidirectional, p, state_outputs, sequence_length, use_sequence_length,
                    projection_size, lstm_state_clip_min, lstm_state_clip_max,
                    lstm_state_clip_nan)
