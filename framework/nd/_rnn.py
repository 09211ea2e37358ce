"""The fused recurrent operator (``npx.rnn``): vanilla RNN (relu/tanh), LSTM (with projection
and cell clipping) and GRU, several layers, one or two directions, dropout between layers and
per-sequence lengths, with a hand-written backward (backpropagation through time).

Layout (MXNet's): ``data`` is ``(T, N, I)``; the states are ``(L*D, N, S)`` with ``S`` the
projection size if any, else the hidden size ``H`` (the LSTM cell state is ``(L*D, N, H)``);
the output is ``(T, N, D*S)``. The parameters are one vector in cuDNN's order
(:func:`param_layout`, also ``framework.initializer.rnn_param_layout``): every weight
first, layer by layer and direction by direction, then every bias. Gate order: LSTM
``[i, f, g, o]``, GRU ``[r, z, n]`` with ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` and
``h' = (1 - z) * n + z * h``.

Cost model: per layer and direction, one GEMM projects the whole input sequence onto all gates,
then one GEMM per time step adds the recurrent part; the gate math works on whole ``(N, G*H)``
blocks. The backward mirrors it: per step one GEMM carries the gradient to the previous state,
and the weight gradients are one GEMM each over the whole sequence.

The forward keeps what the backward needs (gate activations, states, cells, layer inputs) in an
extra *reserve* output (cuDNN's reserve space), so the backward never recomputes the forward.
The backward op (:class:`RNNGrad`) is not itself differentiable.
"""

from __future__ import annotations

import math
from typing import Any

import numpy

from ..base import DTypeError, ShapeError
from ._base import BaseArray
from ._op import Op, apply, register
from ._random import sample
from ._tape import STATE, requires_grad

__all__ = ["MODES", "RNNOp", "RNNGrad", "param_layout", "param_size", "rnn"]

Shape = tuple[int, ...]
Specs = list[tuple[Shape, numpy.dtype]]

MODES = ("rnn_relu", "rnn_tanh", "lstm", "gru")
_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}
_F32 = numpy.dtype(numpy.float32)


def _gates(mode: str) -> int:
    if mode not in _GATES:
        raise ValueError(f"rnn: mode must be one of {MODES}, got {mode!r}")
    return _GATES[mode]


def param_layout(mode: str, num_layers: int, input_size: int, hidden_size: int,
                 bidirectional: bool = False,
                 projection_size: int | None = None) -> list[tuple[str, Shape]]:
    """``(name, shape)`` of each piece of the fused parameter vector, in order (cuDNN/MXNet):
    all weights (``i2h (G*H, in)``, ``h2h (G*H, S)``, ``h2r (P, H)`` with a projection) layer by
    layer, direction ``l`` then ``r``; then all biases (``i2h (G*H,)``, ``h2h (G*H,)``)."""
    g = _gates(mode)
    dirs = ("l", "r") if bidirectional else ("l",)
    out = projection_size or hidden_size
    weights: list[tuple[str, Shape]] = []
    biases: list[tuple[str, Shape]] = []
    for layer in range(num_layers):
        n_in = input_size if layer == 0 else out * len(dirs)
        for d in dirs:
            weights.append((f"{d}{layer}_i2h_weight", (g * hidden_size, n_in)))
            weights.append((f"{d}{layer}_h2h_weight", (g * hidden_size, out)))
            if projection_size:
                weights.append((f"{d}{layer}_h2r_weight", (projection_size, hidden_size)))
            biases.append((f"{d}{layer}_i2h_bias", (g * hidden_size,)))
            biases.append((f"{d}{layer}_h2h_bias", (g * hidden_size,)))
    return weights + biases


def param_size(mode: str, num_layers: int, input_size: int, hidden_size: int,
               bidirectional: bool = False, projection_size: int | None = None) -> int:
    """Length of the fused parameter vector (see :func:`param_layout`)."""
    return sum(math.prod(s) for _, s in param_layout(
        mode, num_layers, input_size, hidden_size, bidirectional, projection_size))


def _reserve_layout(mode: str, layers: int, dirs: int, t: int, n: int, hidden: int,
                    state: int) -> tuple[dict[tuple[str, int, int], tuple[int, Shape]], int]:
    """Offsets and shapes of the pieces of the reserve vector: per layer above the first its
    input ``x`` (the previous layer's output after dropout); per layer and direction the gate
    activations ``g``, the state after each step ``s`` (the carried one where a sequence has
    ended), and for LSTM the cell ``c`` (also carried) and, with a projection, the unprojected
    output ``hp``; for GRU ``hn = W_hn h + b_hn``."""
    g = _GATES[mode]
    pieces: list[tuple[tuple[str, int, int], Shape]] = []
    for layer in range(layers):
        if layer > 0:
            pieces.append((("x", layer, 0), (t, n, dirs * state)))
        for d in range(dirs):
            pieces.append((("g", layer, d), (t, n, g * hidden)))
            pieces.append((("s", layer, d), (t, n, state)))
            if mode == "lstm":
                pieces.append((("c", layer, d), (t, n, hidden)))
                if state != hidden:
                    pieces.append((("hp", layer, d), (t, n, hidden)))
            if mode == "gru":
                pieces.append((("hn", layer, d), (t, n, hidden)))
    out: dict[tuple[str, int, int], tuple[int, Shape]] = {}
    begin = 0
    for key, shape in pieces:
        out[key] = (begin, shape)
        begin += math.prod(shape)
    return out, begin


def _views(flat: Any, layout: Any) -> dict[Any, Any]:
    return {k: flat[b:b + math.prod(s)].reshape(s) for k, (b, s) in layout.items()}


def _param_views(flat: Any, pieces: list[tuple[str, Shape]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    begin = 0
    for name, shape in pieces:
        size = math.prod(shape)
        out[name] = flat[begin:begin + size].reshape(shape)
        begin += size
    return out


def _acc(dt: numpy.dtype) -> numpy.dtype:
    """Compute dtype: float16 data is computed in float32."""
    return dt if dt.itemsize >= 4 else _F32


class _Config:
    """Attributes shared by the forward and backward ops (plain values: graphs export them)."""

    mode: str
    layers: int
    hidden: int
    proj: int
    bidir: bool
    clip: tuple[float, float] | None
    clip_nan: bool
    has_seq: bool
    has_mask: bool
    scale: float
    input_size: int

    def _set(self, mode: str, num_layers: int, state_size: int, bidirectional: bool,
             projection_size: int | None, clip: tuple[float, float] | None, clip_nan: bool,
             has_seq: bool, has_mask: bool, scale: float) -> None:
        self.mode = mode
        self.layers = int(num_layers)
        self.hidden = int(state_size)
        self.proj = int(projection_size or 0)
        self.bidir = bool(bidirectional)
        self.clip = None if clip is None else (float(clip[0]), float(clip[1]))
        self.clip_nan = bool(clip_nan)
        self.has_seq = bool(has_seq)
        self.has_mask = bool(has_mask)
        self.scale = float(scale)
        self.input_size = 0

    def _copy_config(self, other: _Config) -> None:
        for k in ("mode", "layers", "hidden", "proj", "bidir", "clip", "clip_nan", "has_seq",
                  "has_mask", "scale", "input_size"):
            setattr(self, k, getattr(other, k))

    @property
    def dirs(self) -> int:
        return 2 if self.bidir else 1

    @property
    def state(self) -> int:
        return self.proj or self.hidden

    @property
    def lstm(self) -> bool:
        return self.mode == "lstm"

    def pieces(self) -> list[tuple[str, Shape]]:
        return param_layout(self.mode, self.layers, self.input_size, self.hidden, self.bidir,
                            self.proj or None)

    def reserve(self, t: int, n: int) -> tuple[dict[Any, Any], int]:
        return _reserve_layout(self.mode, self.layers, self.dirs, t, n, self.hidden,
                               self.state)

    def split_inputs(self, bufs: Any) -> tuple[Any, Any, Any, Any, Any, Any, list[Any]]:
        """(x, params, h0, c0, seq, mask, rest) from the input buffers."""
        x, params, h0 = bufs[:3]
        i = 3
        c0 = None
        if self.lstm:
            c0 = bufs[i]
            i += 1
        seq = None
        if self.has_seq:
            seq = bufs[i]
            i += 1
        mask = None
        if self.has_mask:
            mask = bufs[i]
            i += 1
        return x, params, h0, c0, seq, mask, list(bufs[i:])

    def step_mask(self, xp: Any, seq: Any, t: int, n: int, dt: numpy.dtype) -> Any:
        """(T, N, 1) 1.0 where the step is inside its sequence, or None without lengths."""
        if seq is None:
            return None
        lengths = xp.clip(seq.reshape(-1).astype(numpy.int64), 0, t)
        steps = xp.arange(t).reshape(t, 1)
        return (steps < lengths.reshape(1, n)).astype(dt).reshape(t, n, 1)

    def weights(self, pv: dict[str, Any], layer: int, d: int) -> tuple[Any, ...]:
        k = f"{'lr'[d]}{layer}_"
        return (pv[k + "i2h_weight"], pv[k + "h2h_weight"], pv[k + "i2h_bias"],
                pv[k + "h2h_bias"], pv.get(k + "h2r_weight"))


def _sigmoid_affine(xp: Any, hidden: int, dt: numpy.dtype) -> tuple[Any, Any]:
    """(s, b) such that ``s * tanh(s * x) + b`` applies every LSTM gate's activation to a
    whole (N, 4H) block at once: sigmoid(x) = 0.5 tanh(x / 2) + 0.5 for i, f, o; tanh for g."""
    half = numpy.full(hidden, 0.5, dtype=dt)
    one = numpy.ones(hidden, dtype=dt)
    zero = numpy.zeros(hidden, dtype=dt)
    s = numpy.concatenate([half, half, one, half])
    b = numpy.concatenate([half, half, zero, half])
    return xp.asarray(s), xp.asarray(b)


# -- forward -----------------------------------------------------------------------------------

def _step_operand(xp: Any, w_t: Any, t_len: int) -> Any:
    """The transposed recurrent weight that every step multiplies ``h`` by, made row-major when
    several steps use it: OpenBLAS's GEMM with a transposed right operand and few rows (the
    batch) is slow. (32, 256) @ (256, 1024): 220-300 us with the transposed view, 160-210 us
    row-major; one copy of the weight costs about one such step."""
    return xp.ascontiguousarray(w_t) if t_len > 1 else w_t


def _run_direction(xp: Any, cfg: _Config, inp: Any, w: tuple[Any, ...], h: Any, c: Any,
                   res: dict[Any, Any], layer: int, d: int, dst: Any, m: Any) -> tuple[Any, Any]:
    """One layer and direction over the sequence; writes the reserve pieces and ``dst`` (this
    direction's slice of the output); returns the final (h, c)."""
    t_len, n = inp.shape[:2]
    wih, whh, bih, bhh, whr = w
    hid = cfg.hidden
    mode = cfg.mode
    gbuf = res[("g", layer, d)]
    sbuf = res[("s", layer, d)]
    g2d = gbuf.reshape(t_len * n, -1)
    x2d = inp.reshape(t_len * n, -1)
    steps = range(t_len - 1, -1, -1) if d == 1 else range(t_len)
    if mode == "lstm":
        s, b = _sigmoid_affine(xp, hid, gbuf.dtype)
        # the input projection of the whole sequence, pre-scaled for the one-tanh gate trick
        xp.matmul(x2d, (wih * s[:, None]).T, out=g2d)
        g2d += (bih + bhh) * s
        whh_t = _step_operand(xp, (whh * s[:, None]).T, t_len)
        cbuf = res[("c", layer, d)]
        hpbuf = res.get(("hp", layer, d))
        whr_t = _step_operand(xp, whr.T, t_len) if hpbuf is not None else None
        # per-step scratch, allocated once (each step's products land here, not in fresh
        # arrays)
        rec = xp.empty((n, 4 * hid), dtype=gbuf.dtype)
        tmp = xp.empty((n, hid), dtype=gbuf.dtype)
        plain = hpbuf is None and m is None
        for t in steps:
            gt = gbuf[t]
            xp.matmul(h, whh_t, out=rec)
            gt += rec
            xp.tanh(gt, out=gt)
            gt *= s
            gt += b
            cn = cbuf[t]
            xp.multiply(gt[:, hid:2 * hid], c, out=cn)
            xp.multiply(gt[:, :hid], gt[:, 2 * hid:3 * hid], out=tmp)
            cn += tmp
            if cfg.clip is not None:
                lo, hi = cfg.clip
                if cfg.clip_nan:  # C's fmin(fmax(nan, lo), hi) gives lo
                    cn[...] = xp.where(xp.isnan(cn), cn.dtype.type(lo), cn)
                xp.clip(cn, lo, hi, out=cn)
            xp.tanh(cn, out=tmp)
            if plain:  # the new state straight into its reserve slot, then the output
                hn = sbuf[t]
                xp.multiply(gt[:, 3 * hid:], tmp, out=hn)
                dst[t] = hn
                h, c = hn, cn
                continue
            hn = gt[:, 3 * hid:] * tmp
            if hpbuf is not None:
                hpbuf[t] = hn
                hn = hn @ whr_t
            if m is not None:
                mt = m[t]
                dst[t] = hn * mt
                hn = h + mt * (hn - h)
                cn[...] = c + mt * (cn - c)
            else:
                dst[t] = hn
            sbuf[t] = hn
            h, c = sbuf[t], cn
        return h, c
    if mode == "gru":
        xp.matmul(x2d, wih.T, out=g2d)
        g2d += bih
        whh_t = _step_operand(xp, whh.T, t_len)
        hnbuf = res[("hn", layer, d)]
        for t in steps:
            gh = h @ whh_t
            gh += bhh
            gt = gbuf[t]
            rz = gt[:, :2 * hid]
            rz += gh[:, :2 * hid]
            rz *= 0.5  # sigmoid(x) = 0.5 tanh(x / 2) + 0.5
            xp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            hnbuf[t] = gh[:, 2 * hid:]
            nt = gt[:, 2 * hid:]
            nt += gt[:, :hid] * hnbuf[t]
            xp.tanh(nt, out=nt)
            hn = nt + gt[:, hid:2 * hid] * (h - nt)
            if m is not None:
                mt = m[t]
                dst[t] = hn * mt
                hn = h + mt * (hn - h)
            else:
                dst[t] = hn
            sbuf[t] = hn
            h = sbuf[t]
        return h, None
    # vanilla RNN: both biases fold into the input projection
    xp.matmul(x2d, wih.T, out=g2d)
    g2d += bih + bhh
    whh_t = _step_operand(xp, whh.T, t_len)
    relu = mode == "rnn_relu"
    for t in steps:
        gt = gbuf[t]
        gt += h @ whh_t
        if relu:
            xp.maximum(gt, 0, out=gt)
        else:
            xp.tanh(gt, out=gt)
        if m is not None:
            mt = m[t]
            dst[t] = gt * mt
            sbuf[t] = h + mt * (gt - h)
        else:
            dst[t] = gt
            sbuf[t] = gt
        h = sbuf[t]
    return h, None


@register("_npx_rnn")
class RNNOp(_Config, Op):
    """The fused RNN. Inputs ``(data, params, state[, state_cell][, sequence_length][,
    dropout_mask])``; outputs ``(out, hy[, cy], reserve)``."""

    def __init__(self, mode: str, num_layers: int, state_size: int,
                 bidirectional: bool = False, projection_size: int | None = None,
                 clip: tuple[float, float] | None = None, clip_nan: bool = False,
                 has_seq: bool = False, has_mask: bool = False, scale: float = 1.0) -> None:
        self._set(mode, num_layers, state_size, bidirectional, projection_size, clip, clip_nan,
                  has_seq, has_mask, scale)
        self.nout = 4 if mode == "lstm" else 3  # type: ignore[misc]

    def infer(self, x: BaseArray, params: BaseArray, *rest: BaseArray) -> Specs:
        t, n, i = x._shape
        self.input_size = int(i)
        dt = x._dtype
        out_shape = (t, n, self.dirs * self.state)
        states = (self.layers * self.dirs, n, self.state)
        specs: Specs = [(out_shape, dt), (states, dt)]
        if self.lstm:
            specs.append(((self.layers * self.dirs, n, self.hidden), dt))
        _, size = self.reserve(t, n)
        specs.append(((size,), _acc(dt)))
        return specs

    def forward(self, xp: Any, *bufs: Any) -> Any:
        x, params, h0, c0, seq, mask, _ = self.split_inputs(bufs)
        t_len, n, _ = x.shape
        odt = x.dtype
        dt = _acc(odt)
        layout, size = self.reserve(t_len, n)
        reserve = xp.empty((size,), dtype=dt)
        res = _views(reserve, layout)
        pv = _param_views(params.astype(dt, copy=False), self.pieces())
        dirs, st, L = self.dirs, self.state, self.layers
        out = xp.empty((t_len, n, dirs * st), dtype=dt)
        hy = xp.empty((L * dirs, n, st), dtype=dt)
        cy = xp.empty((L * dirs, n, self.hidden), dtype=dt) if self.lstm else None
        m = self.step_mask(xp, seq, t_len, n, dt)
        inp = x.astype(dt, copy=False)
        for layer in range(L):
            last = layer == L - 1
            dst_all = out if last else res[("x", layer + 1, 0)]
            for d in range(dirs):
                k = layer * dirs + d
                h = h0[k].astype(dt, copy=False)
                c = c0[k].astype(dt, copy=False) if self.lstm else None
                dst = dst_all[:, :, d * st:(d + 1) * st]
                h, c = _run_direction(xp, self, inp, self.weights(pv, layer, d), h, c, res,
                                      layer, d, dst, m)
                hy[k] = h
                if cy is not None:
                    cy[k] = c
            if not last:
                if mask is not None:
                    dst_all *= mask[layer].astype(dt, copy=False) * dt.type(self.scale)
                inp = dst_all
        outs = [out.astype(odt, copy=False), hy.astype(odt, copy=False)]
        if cy is not None:
            outs.append(cy.astype(odt, copy=False))
        outs.append(reserve)
        return tuple(outs)

    def backward(self, inputs: Any, outputs: Any, out_grads: Any) -> list[Any]:
        x = inputs[0]
        every = not any(requires_grad(a) for a in inputs)
        grad = RNNGrad(self, need_dx=every or requires_grad(x))
        heads = list(out_grads[:-1])  # the reserve gets no gradient
        res = apply(grad, [*inputs, outputs[-1], *heads])
        grads: list[Any] = list(res)
        grads += [None] * (len(inputs) - len(grads))  # sequence_length, dropout mask
        if not grad.need_dx:
            grads[0] = None
        return grads


# -- backward ----------------------------------------------------------------------------------

def _back_direction(xp: Any, cfg: _Config, inp: Any, w: tuple[Any, ...], h0: Any, c0: Any,
                    res: dict[Any, Any], layer: int, d: int, dy: Any, dh: Any, dc: Any,
                    m: Any, gw: tuple[Any, ...], dx: Any | None) -> tuple[Any, Any]:
    """Backpropagate one layer and direction: ``dy`` is the gradient of this direction's
    outputs, ``dh``/``dc`` of its final state. Writes the weight gradients ``gw`` (views into
    the parameter gradient), adds the input gradient into ``dx``; returns (dh0, dc0)."""
    t_len, n = inp.shape[:2]
    wih, whh, _bih, _bhh, whr = w
    gwih, gwhh, gbih, gbhh, gwhr = gw
    hid = cfg.hidden
    mode = cfg.mode
    gbuf = res[("g", layer, d)]
    sbuf = res[("s", layer, d)]
    rev = d == 1
    order = range(t_len) if rev else range(t_len - 1, -1, -1)
    dgi = xp.empty_like(gbuf)  # gradient of the gates' pre-activations (input side)
    dgh = xp.empty_like(gbuf) if mode == "gru" else dgi  # ... and of the recurrent side
    one = gbuf.dtype.type(1)

    def prev(t: int, buf: Any, first: Any) -> Any:
        tp = t + 1 if rev else t - 1
        return buf[tp] if 0 <= tp < t_len else first

    if mode == "lstm":
        cbuf = res[("c", layer, d)]
        hpbuf = res.get(("hp", layer, d))
        tc = xp.tanh(cbuf)
        # each step's gate-activation derivatives, s (1 - s) and 1 - g^2, made in one (N, 4H)
        # scratch while the step's gates are in the cache (whole-sequence arrays of 4H columns
        # outgrow it: 35 x 32 x 1024 float32 is 4.6 MB)
        deriv = xp.empty((n, 4 * hid), dtype=gbuf.dtype)
        dr = xp.empty((t_len, n, whr.shape[0]), dtype=gbuf.dtype) if whr is not None else None
        for t in order:
            dhn = dh + dy[t]
            if m is not None:
                mt = m[t]
                dhn *= mt
                keep_h = dh * (one - mt)
                keep_c = dc * (one - mt)
                dcn = dc * mt
            else:
                dcn = dc
            if dr is not None:
                dr[t] = dhn
                dhn = dhn @ whr
            gt = gbuf[t]
            o = gt[:, 3 * hid:]
            tct = tc[t]
            dcn = dcn + dhn * o * (one - tct * tct)
            if cfg.clip is not None:  # no gradient through a clipped cell
                lo, hi = cfg.clip
                ct = cbuf[t]
                dcn = dcn * ((ct > lo) & (ct < hi))
            dgt = dgi[t]
            xp.multiply(dcn, gt[:, 2 * hid:3 * hid], out=dgt[:, :hid])
            xp.multiply(dcn, prev(t, cbuf, c0), out=dgt[:, hid:2 * hid])
            xp.multiply(dcn, gt[:, :hid], out=dgt[:, 2 * hid:3 * hid])
            xp.multiply(dhn, tct, out=dgt[:, 3 * hid:])
            xp.subtract(one, gt, out=deriv)
            deriv *= gt
            gg = gt[:, 2 * hid:3 * hid]
            dg = deriv[:, 2 * hid:3 * hid]
            xp.multiply(gg, gg, out=dg)
            xp.subtract(one, dg, out=dg)
            dgt *= deriv
            dh = dgt @ whh
            dc = dcn * gt[:, hid:2 * hid]
            if m is not None:
                dh += keep_h
                dc += keep_c
        if dr is not None:
            hp2d = hpbuf.reshape(t_len * n, hid)
            xp.matmul(dr.reshape(t_len * n, -1).T, hp2d, out=gwhr)
    elif mode == "gru":
        hnbuf = res[("hn", layer, d)]
        for t in order:
            dhn = dh + dy[t]
            if m is not None:
                mt = m[t]
                dhn *= mt
                keep_h = dh * (one - mt)
            gt = gbuf[t]
            r, z, nt = gt[:, :hid], gt[:, hid:2 * hid], gt[:, 2 * hid:]
            hp = prev(t, sbuf, h0)
            dnp = dhn * (one - z) * (one - nt * nt)
            dit, dht = dgi[t], dgh[t]
            xp.multiply(dnp * hnbuf[t], r * (one - r), out=dit[:, :hid])
            xp.multiply(dhn * (hp - nt), z * (one - z), out=dit[:, hid:2 * hid])
            dit[:, 2 * hid:] = dnp
            dht[:, :2 * hid] = dit[:, :2 * hid]
            xp.multiply(dnp, r, out=dht[:, 2 * hid:])
            dh = dht @ whh
            dh += dhn * z
            if m is not None:
                dh += keep_h
    else:
        relu = mode == "rnn_relu"
        for t in order:
            dhn = dh + dy[t]
            if m is not None:
                mt = m[t]
                dhn *= mt
                keep_h = dh * (one - mt)
            gt = gbuf[t]
            dgt = dgi[t]
            if relu:
                xp.multiply(dhn, gt > 0, out=dgt)
            else:
                xp.multiply(dhn, one - gt * gt, out=dgt)
            dh = dgt @ whh
            if m is not None:
                dh += keep_h
    # weight gradients: one GEMM over the whole sequence each
    dgi2d = dgi.reshape(t_len * n, -1)
    xp.matmul(dgi2d.T, inp.reshape(t_len * n, -1), out=gwih)
    gbih[...] = dgi2d.sum(axis=0)
    if dgh is dgi:  # LSTM and vanilla RNN: both biases see the same gradient
        gbhh[...] = gbih
    else:
        gbhh[...] = dgh.reshape(t_len * n, -1).sum(axis=0)
    # the recurrent input of step t is the state after the step before it (h0 first)
    if t_len > 1:
        later, earlier = (dgh[:-1], sbuf[1:]) if rev else (dgh[1:], sbuf[:-1])
        xp.matmul(later.reshape((t_len - 1) * n, -1).T,
                  earlier.reshape((t_len - 1) * n, -1), out=gwhh)
        gwhh += dgh[-1 if rev else 0].T @ h0
    else:
        xp.matmul(dgh[0].T, h0, out=gwhh)
    if dx is not None:
        dx += (dgi2d @ wih).reshape(dx.shape)
    return dh, (dc if mode == "lstm" else None)


@register("_npx_rnn_backward")
class RNNGrad(_Config, Op):
    """Gradients of :class:`RNNOp`. Inputs: the forward's inputs, its reserve, then the
    gradients of ``out``, ``hy`` (and ``cy``); outputs ``(d data, d params, d state[, d
    state_cell])``."""

    def __init__(self, fwd: _Config, need_dx: bool = True) -> None:
        self._copy_config(fwd)
        self.need_dx = bool(need_dx)
        self.nout = 4 if self.mode == "lstm" else 3  # type: ignore[misc]

    def infer(self, *inputs: BaseArray) -> Specs:
        x, params, h0 = inputs[:3]
        specs: Specs = [(x._shape, x._dtype), (params._shape, params._dtype),
                        (h0._shape, h0._dtype)]
        if self.lstm:
            c0 = inputs[3]
            specs.append((c0._shape, c0._dtype))
        return specs

    def forward(self, xp: Any, *bufs: Any) -> Any:
        x, params, h0, c0, seq, mask, rest = self.split_inputs(bufs)
        reserve, gout, ghy = rest[:3]
        gcy = rest[3] if self.lstm else None
        t_len, n, _ = x.shape
        dt = reserve.dtype
        layout, _ = self.reserve(t_len, n)
        res = _views(reserve, layout)
        pieces = self.pieces()
        pv = _param_views(params.astype(dt, copy=False), pieces)
        gparams = xp.empty(params.shape, dtype=dt)
        gpv = _param_views(gparams, pieces)
        dirs, st, L = self.dirs, self.state, self.layers
        m = self.step_mask(xp, seq, t_len, n, dt)
        dh0 = xp.empty(h0.shape, dtype=dt)
        dc0 = xp.empty(c0.shape, dtype=dt) if self.lstm else None
        dy_all = gout.astype(dt, copy=True)
        dx_final = None
        for layer in range(L - 1, -1, -1):
            inp = x.astype(dt, copy=False) if layer == 0 else res[("x", layer, 0)]
            want_dx = layer > 0 or self.need_dx
            dx = xp.zeros(inp.shape, dtype=dt) if want_dx else None
            for d in range(dirs):
                k = layer * dirs + d
                w = self.weights(pv, layer, d)
                gw = self.weights(gpv, layer, d)
                if w[4] is None:
                    gw = gw[:4] + (None,)
                h0k = h0[k].astype(dt, copy=False)
                c0k = c0[k].astype(dt, copy=False) if self.lstm else None
                dh = ghy[k].astype(dt, copy=True)
                dc = gcy[k].astype(dt, copy=True) if self.lstm else None
                dy = dy_all[:, :, d * st:(d + 1) * st]
                dh, dc = _back_direction(xp, self, inp, w, h0k, c0k, res, layer, d, dy, dh, dc,
                                         m, gw, dx)
                dh0[k] = dh
                if dc0 is not None:
                    dc0[k] = dc
            if layer > 0:
                assert dx is not None
                if mask is not None:
                    dx *= mask[layer - 1].astype(dt, copy=False) * dt.type(self.scale)
                dy_all = dx
            else:
                dx_final = dx
        if dx_final is None:
            dx_final = xp.zeros(x.shape, dtype=dt)
        outs = [dx_final.astype(x.dtype, copy=False), gparams.astype(params.dtype, copy=False),
                dh0.astype(h0.dtype, copy=False)]
        if dc0 is not None:
            outs.append(dc0.astype(c0.dtype, copy=False))
        return tuple(outs)


# -- front end ---------------------------------------------------------------------------------

def _arr(x: Any, arg: str) -> BaseArray:
    if not isinstance(x, BaseArray):
        raise TypeError(f"rnn: {arg} must be an ndarray, got {type(x).__name__}")
    return x


def rnn(data: BaseArray, parameters: BaseArray, state: BaseArray,
        state_cell: BaseArray | None = None, mode: str = "lstm", state_size: int | None = None,
        num_layers: int = 1, bidirectional: bool = False, p: float = 0.0,
        state_outputs: bool = False, sequence_length: BaseArray | None = None,
        use_sequence_length: bool = False, projection_size: int | None = None,
        lstm_state_clip_min: float | None = None, lstm_state_clip_max: float | None = None,
        lstm_state_clip_nan: bool = False) -> Any:
    """MXNet's fused ``RNN`` operator; see the module docstring for layouts and gate order.

    Returns ``out`` or, with ``state_outputs``, ``[out, hy]`` (``[out, hy, cy]`` for LSTM).
    Dropout ``p`` applies to every layer's output but the last, in training mode only."""
    x = _arr(data, "data")
    w = _arr(parameters, "parameters")
    h0 = _arr(state, "state")
    g = _gates(mode)
    if state_size is None or int(state_size) <= 0:
        raise ValueError(f"rnn: state_size must be a positive int, got {state_size!r}")
    if int(num_layers) <= 0:
        raise ValueError(f"rnn: num_layers must be a positive int, got {num_layers!r}")
    hid, layers = int(state_size), int(num_layers)
    dirs = 2 if bidirectional else 1
    if projection_size is not None:
        if mode != "lstm":
            raise ValueError(f"rnn: projection_size is only supported with mode='lstm', got "
                             f"mode={mode!r}")
        if not 0 < int(projection_size) < hid:
            raise ValueError(f"rnn: projection_size must be in (0, state_size={hid}), got "
                             f"{projection_size!r}")
        projection_size = int(projection_size)
    clip = None
    if lstm_state_clip_min is not None or lstm_state_clip_max is not None:
        if mode != "lstm":
            raise ValueError("rnn: lstm_state_clip_min/max are only supported with mode='lstm'")
        if lstm_state_clip_min is None or lstm_state_clip_max is None:
            raise ValueError("rnn: lstm_state_clip_min and lstm_state_clip_max must be given "
                             "together")
        if not float(lstm_state_clip_min) <= float(lstm_state_clip_max):
            raise ValueError(f"rnn: lstm_state_clip_min {lstm_state_clip_min} exceeds "
                             f"lstm_state_clip_max {lstm_state_clip_max}")
        clip = (float(lstm_state_clip_min), float(lstm_state_clip_max))
    if x.ndim != 3:
        raise ShapeError(f"rnn: data must be 3-d (seq_len, batch, input_size) (layout TNC), got "
                         f"shape {x._shape}")
    if x._dtype.kind != "f":
        raise DTypeError(f"rnn: data must be a floating array, got {x._dtype}")
    t_len, n, n_in = x._shape
    size = param_size(mode, layers, n_in, hid, bool(bidirectional), projection_size)
    if w._shape != (size,):
        raise ShapeError(
            f"rnn: parameters must be a vector of {size} values for mode={mode!r}, "
            f"num_layers={layers}, input_size={n_in}, state_size={hid}, "
            f"bidirectional={bool(bidirectional)}, projection_size={projection_size} "
            f"({g} gate(s); layout: all weights, then all biases), got shape {w._shape}")
    st = projection_size or hid
    want = (layers * dirs, n, st)
    if h0._shape != want:
        raise ShapeError(f"rnn: state must have shape {want} (num_layers*directions, batch, "
                         f"{'projection_size' if projection_size else 'state_size'}), got "
                         f"{h0._shape}")
    inputs = [x, w, h0]
    if mode == "lstm":
        if state_cell is None:
            raise ValueError("rnn: mode='lstm' needs state_cell (the initial cell state)")
        c0 = _arr(state_cell, "state_cell")
        wantc = (layers * dirs, n, hid)
        if c0._shape != wantc:
            raise ShapeError(f"rnn: state_cell must have shape {wantc} (num_layers*directions, "
                             f"batch, state_size), got {c0._shape}")
        inputs.append(c0)
    elif state_cell is not None:
        raise ValueError(f"rnn: state_cell is only used with mode='lstm', got mode={mode!r}")
    for arg, a in zip(("parameters", "state", "state_cell"), inputs[1:]):
        if a._dtype != x._dtype:
            raise DTypeError(f"rnn: {arg} has dtype {a._dtype} but data has {x._dtype}; they "
                             "must match")
    has_seq = bool(use_sequence_length)
    if has_seq:
        if sequence_length is None:
            raise ValueError("rnn: use_sequence_length=True needs sequence_length")
        seq = _arr(sequence_length, "sequence_length")
        if seq._shape != (n,):
            raise ShapeError(f"rnn: sequence_length must have shape ({n},) (one length per "
                             f"batch element), got {seq._shape}")
        if seq._dtype.kind not in "iuf":
            raise DTypeError(f"rnn: sequence_length must be numeric, got {seq._dtype}")
        inputs.append(seq)
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"rnn: dropout p must be in [0, 1), got {p}")
    has_mask = p > 0 and layers > 1 and STATE.training
    if has_mask:
        mask = sample("bernoulli", (1.0 - p,), size=(layers - 1, t_len, n, dirs * st),
                      dtype=x._dtype, device=x._device)
        inputs.append(mask)
    op = RNNOp(mode, layers, hid, bool(bidirectional), projection_size, clip,
               bool(lstm_state_clip_nan), has_seq, has_mask, 1.0 / (1.0 - p))
    outs = apply(op, inputs)
    if state_outputs:
        return list(outs[:-1])
    return outs[0]
