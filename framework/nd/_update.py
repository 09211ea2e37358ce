"""Update kernels: the arithmetic of every optimizer, on raw buffers, and MXNet's ``*_update`` ops.

The ``k_*`` functions work in place on NumPy or CuPy buffers (``xp`` is the array module). They
are what the optimizers run: each optimizer update of one parameter is one engine task that calls
one of them, with every hyper-parameter captured as a Python float when the update is issued.
``w`` is the weight (or its float32 master copy), ``g`` the raw gradient (any float dtype: the
kernels compute in ``w.dtype``), the other buffers are the optimizer states.

Gradient preprocessing is MXNet 2.0's: ``g' = clip(rescale_grad * g, clip_gradient) + wd * w``
(clipping, then weight decay; ``clip=None`` means no clipping). Optimizers that treat weight
decay differently (AdamW, Ftrl, LAMB, LANS, AdaBelief, Signum) say so.

``sgd_update``, ``sgd_mom_update`` and ``adam_update`` are MXNet's legacy operators
(``mx.nd.sgd_update`` ...): they take and return framework arrays, run as one asynchronous task,
update the state arrays in place, and write the new weight into ``out`` (a new array when
``out`` is None; pass ``out=weight`` to update in place). As in MXNet, ``adam_update`` applies no
bias correction (fold it into ``lr``), and ``clip_gradient <= 0`` turns clipping off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from ._base import BaseArray, execute

__all__ = ["sgd_update", "sgd_mom_update", "adam_update", "launch", "launch_many",
           "batched"]

Buf = Any  # numpy.ndarray or cupy.ndarray


# -- buffer kernels ----------------------------------------------------------------------------
def k_grad(xp: Any, w: Buf, g: Buf, rescale: float, clip: float | None, wd: float) -> Buf:
    """A new buffer (dtype of ``w``) with ``clip(rescale * g, clip) + wd * w``."""
    out = xp.multiply(g, rescale, dtype=w.dtype)
    if clip is not None:
        xp.clip(out, -clip, clip, out=out)
    if wd:
        out += w * wd
    return out


def k_sgd(xp: Any, w: Buf, g: Buf, mom: Buf | None, lr: float, wd: float, rescale: float,
          clip: float | None, momentum: float) -> None:
    """SGD: ``mom = momentum * mom - lr * g'; w += mom`` (``w -= lr * g'`` without a state).

    MXNet keeps the *negative* velocity in the state, so ``w += mom``. Without clipping the
    products are grouped as MXNet's ``sgd_update``/``sgd_mom_update`` kernels group them,
    ``w = (1 - lr*wd) w - (lr*rescale) g`` and ``mom = momentum mom - (lr*wd) w -
    (lr*rescale) g``: the same update up to float rounding, with one pass over ``g`` and one
    over ``w`` (plus the state's) instead of three and more. A large weight runs in blocks
    (:func:`in_blocks`: 200,704 float32, 91 -> 73 us).
    """
    scratch = xp.empty(min(w.size, _BLOCK), w.dtype)  # (one step buffer for every block)
    in_blocks(xp, lambda *b: _sgd_block(xp, *b, scratch, lr, wd, rescale, clip, momentum),
              w, g, mom)


#: elements per block of a large update (256 KB of float32: :func:`in_blocks`)
_BLOCK = 65536


def _sgd_block(xp: Any, w: Buf, g: Buf, mom: Buf | None, scratch: Buf, lr: float, wd: float,
               rescale: float, clip: float | None, momentum: float) -> None:
    """:func:`k_sgd` on one block; ``scratch`` holds its step when large enough."""
    if clip is not None:  # clipping acts on rescale * g, before the learning rate
        gp = k_grad(xp, w, g, rescale, clip, wd)
        gp *= lr
        if mom is None:
            w -= gp
            return
        mom *= momentum
        mom -= gp
        w += mom
        return
    n = w.size
    step = (scratch[:n] if w.ndim == 1 else scratch.reshape(w.shape)) if n <= scratch.size \
        else xp.empty(w.shape, w.dtype)
    xp.multiply(g, lr * rescale, out=step, dtype=w.dtype)
    if mom is None:
        if wd:
            w *= 1.0 - lr * wd
        w -= step
        return
    mom *= momentum
    mom -= step
    if wd:
        xp.multiply(w, lr * wd, out=step)
        mom -= step
    w += mom


def k_nag(xp: Any, w: Buf, g: Buf, mom: Buf | None, lr: float, wd: float, rescale: float,
          clip: float | None, momentum: float) -> None:
    """Nesterov: ``mom = momentum * mom - lr * g'; w += momentum * mom - lr * g'``."""
    gp = k_grad(xp, w, g, rescale, clip, wd)
    gp *= lr
    w -= gp
    if mom is None:
        return
    mom *= momentum
    mom -= gp
    gp = xp.multiply(mom, momentum, out=gp)
    w += gp


def k_moments(xp: Any, gp: Buf, mean: Buf, var: Buf, beta1: float, beta2: float) -> Buf:
    """Adam's moments in place: ``mean = b1 mean + (1-b1) g'``, ``var = b2 var + (1-b2)
    g'^2``. Returns its scratch buffer (like ``mean``), free for the caller's use."""
    tmp = xp.multiply(gp, 1.0 - beta1, dtype=mean.dtype)
    mean *= beta1
    mean += tmp
    xp.square(gp, out=tmp)
    tmp *= 1.0 - beta2
    var *= beta2
    var += tmp
    return tmp


def in_blocks(xp: Any, fn: Callable[..., None], w: Buf, g: Buf, *states: Buf | None) -> None:
    """``fn(w, g, *states)`` for an elementwise update, on cache-size blocks of large host
    buffers: an update of a dozen passes then reads each block from the cache instead of
    memory (Adam over 9.4M float32 parameters: 42 -> 29 ms). The same arithmetic per element,
    so the same values; a small, non-contiguous or device buffer gets one call. States that
    are None stay None."""
    n = w.size
    if xp is not numpy or n <= _BLOCK:
        fn(w, g, *states)
        return
    bufs = (w, g, *states)
    shape = w.shape
    for b in bufs:
        if b is not None and (b.shape != shape or not b.flags.c_contiguous):
            fn(w, g, *states)
            return
    flat = [None if b is None else b.reshape(-1) for b in bufs]
    for i in range(0, n, _BLOCK):
        j = i + _BLOCK
        fn(*[None if b is None else b[i:j] for b in flat])


def blocked(kernel: Callable[..., None]) -> Callable[..., None]:
    """An elementwise update ``kernel(xp, w, g, *states)`` run by :func:`in_blocks`."""
    def run(xp: Any, w: Buf, g: Buf, *states: Buf | None) -> None:
        in_blocks(xp, lambda *b: kernel(xp, *b), w, g, *states)

    return run


def k_adam(xp: Any, w: Buf, g: Buf, mean: Buf, var: Buf, lr: float, beta1: float, beta2: float,
           eps: float, wd: float, rescale: float, clip: float | None) -> None:
    """Adam without bias correction (``lr`` carries it): ``m = b1 m + (1-b1) g'``,
    ``v = b2 v + (1-b2) g'^2``, ``w -= lr * m / (sqrt(v) + eps)`` (:func:`in_blocks`)."""
    in_blocks(xp, lambda *b: _adam_block(xp, *b, lr, beta1, beta2, eps, wd, rescale, clip),
              w, g, mean, var)


def _adam_block(xp: Any, w: Buf, g: Buf, mean: Buf, var: Buf, lr: float, beta1: float,
                beta2: float, eps: float, wd: float, rescale: float, clip: float | None) -> None:
    gp = k_grad(xp, w, g, rescale, clip, wd)
    tmp = k_moments(xp, gp, mean, var, beta1, beta2)
    xp.sqrt(var, out=tmp)
    tmp += eps
    xp.divide(mean, tmp, out=tmp)
    tmp *= lr
    w -= tmp


# -- launching one update as one engine task -----------------------------------------------------
def _b(x: BaseArray) -> Buf:
    buf = x._buf
    return buf if buf is not None else x._alloc_buffer()


def launch(name: str, weight: BaseArray, grad: BaseArray, states: Sequence[BaseArray | None],
           kernel: Callable[..., None], master: BaseArray | None = None,
           target: BaseArray | None = None, extra_mutated: Sequence[BaseArray] = ()) -> None:
    """Run ``kernel(xp, w, g, *states)`` as one engine task that updates buffers in place.

    ``w`` is ``master`` (a float32 copy of a float16 weight) when given, and the task then casts
    it back into ``weight``. With ``target`` (legacy ``out=``), ``weight`` is only read: the task
    copies it into ``target`` and updates that. States that are None are passed as None.
    """
    _check_update(name, weight, grad, states)
    live = [s for s in states if s is not None]
    device = weight._device
    xp = device.xp
    inputs: list[BaseArray] = [grad]
    if target is not None and target is not weight:
        inputs.append(weight)
        mutated = [target, *live, *extra_mutated]
    else:
        target = None
        mutated = [weight, *live, *extra_mutated]
        if master is not None:
            mutated.insert(1, master)

    def run() -> None:
        g = _b(grad)
        sb = [None if s is None else _b(s) for s in states]
        if target is not None:
            w = _b(target)
            w[...] = _b(weight)
            kernel(xp, w, g, *sb)
        elif master is not None:
            w = _b(master)
            kernel(xp, w, g, *sb)
            _b(weight)[...] = w
        else:
            kernel(xp, _b(weight), g, *sb)

    batch = _BATCH.pending
    if batch is not None:
        batch.setdefault(device, []).append((name, run, inputs, mutated))
        return
    execute(name, _on_device(run, device), inputs, (), mutated)


def _check_update(name: str, weight: BaseArray, grad: BaseArray,
                  states: Sequence[BaseArray | None]) -> None:
    """Refuse a gradient or state that does not fit its weight (shape, device)."""
    if grad._shape != weight._shape:
        raise ValueError(f"{name}: gradient shape {grad._shape} does not match weight shape "
                         f"{weight._shape}")
    if grad._device is not weight._device and grad._device != weight._device:
        raise ValueError(f"{name}: gradient is on {grad._device} but the weight is on "
                         f"{weight._device}")
    for s in states:
        if s is not None and s._shape != weight._shape and s._shape != ():
            raise ValueError(f"{name}: state shape {s._shape} does not match weight shape "
                             f"{weight._shape}")


def launch_many(name: str, weights: Sequence[BaseArray], grads: Sequence[BaseArray],
                states: Sequence[Sequence[BaseArray | None]], args: Sequence[tuple[Any, ...]],
                kernel: Callable[..., None]) -> None:
    """:func:`launch` for a list of updates without master copies: ``kernel(xp, w, g,
    *states[i], *args[i])`` for each (states that are None are passed as None), as ONE engine
    task per device (or one item per device of the enclosing :func:`batched` block). The same
    checks and arithmetic as one :func:`launch` per update, with its per-update Python done in
    one loop. When an update fails, the others on its device still run and the task raises
    the first error, naming the update's position in the list."""
    groups: dict[Any, tuple[list[Any], list[BaseArray], list[BaseArray]]] = {}
    for i, (w, g, st, a) in enumerate(zip(weights, grads, states, args, strict=True)):
        _check_update(name, w, g, st)
        device = w._device
        group = groups.get(device)
        if group is None:
            group = groups[device] = ([], [], [])
        items, reads, mutated = group
        mutated.append(w)
        for s in st:
            if s is not None:
                mutated.append(s)
        items.append((i, w, g, st, a))
        reads.append(g)
    total = len(weights)
    for device, (items, reads, mutated) in groups.items():
        task = f"multi_{name}[{len(items)}]"
        run = _run_many(name, total, items, device.xp, kernel)
        batch = _BATCH.pending
        if batch is not None:
            batch.setdefault(device, []).append((task, run, reads, mutated))
        else:
            execute(task, _on_device(run, device), reads, (), mutated)


def _run_many(name: str, total: int, items: list[Any], xp: Any,
              kernel: Callable[..., None]) -> Callable[[], None]:
    """The task body of :func:`launch_many` for one device's updates."""

    def run() -> None:
        first: Exception | None = None
        for i, w, g, st, a in items:
            try:
                kernel(xp, _b(w), _b(g), *[None if s is None else _b(s) for s in st], *a)
            except Exception as exc:  # the others still run, as in a batch of launches
                if first is None:
                    first = _named(exc, f"{name} of parameter {i} of {total}")
        if first is not None:
            raise first

    return run


def _on_device(run: Callable[[], None], device: Any) -> Callable[[], None]:
    if device.device_type != "gpu":
        return run
    xp = device.xp

    def fn() -> None:
        with xp.cuda.Device(device.device_id):
            run()

    return fn


# -- multi-tensor apply: several launches as one task --------------------------------------------
class _Batch(threading.local):
    #: device -> the launches collected on it, in order: ``(name, run, inputs, mutated)``
    pending: dict[Any, list[tuple[str, Callable[[], None], list[BaseArray],
                                  list[BaseArray]]]] | None = None


_BATCH = _Batch()


def batched() -> _Batched:
    """Collect the :func:`launch` calls made inside the block and, at its end, push ONE engine
    task per device that runs them in order (reading the union of their inputs and writing the
    union of their buffers): a multi-tensor update. The arithmetic of each update is unchanged.

    Use it only around code that issues nothing but launches (another op issued inside the block
    would run before the collected updates). Nested blocks join the outermost one. When an update
    fails, the others still run and the first error is raised by the task (it names the update).
    """
    return _Batched()


class _Batched:
    """The context manager of :func:`batched` (a class: cheaper than a generator's)."""

    __slots__ = ("outer",)

    def __enter__(self) -> None:
        self.outer = _BATCH.pending is None
        if self.outer:
            _BATCH.pending = {}

    def __exit__(self, *exc: Any) -> None:
        if not self.outer:
            return
        pending, _BATCH.pending = _BATCH.pending, None
        for device, items in (pending or {}).items():
            _push_batch(device, items)


def _push_batch(device: Any, items: list[tuple[str, Callable[[], None], list[BaseArray],
                                               list[BaseArray]]]) -> None:
    if len(items) == 1:
        name, run, inputs, mutated = items[0]
        execute(name, _on_device(run, device), inputs, (), mutated)
        return
    written: dict[int, BaseArray] = {}
    for _n, _r, _i, mutated in items:
        for m in mutated:
            written.setdefault(id(m._var), m)
    read: dict[int, BaseArray] = {}
    for _n, _r, inputs, _m in items:
        for x in inputs:
            if id(x._var) not in written:
                read.setdefault(id(x._var), x)
    runs = [(name, run) for name, run, _i, _m in items]

    def run_all() -> None:
        first: Exception | None = None
        for name, run in runs:
            try:
                run()
            except Exception as exc:
                if first is None:
                    first = _named(exc, name)
        if first is not None:
            raise first

    names = sorted({name for name, _r in runs})
    execute(f"multi_{'+'.join(names)}[{len(items)}]", _on_device(run_all, device),
            list(read.values()), (), list(written.values()))


def _named(exc: Exception, name: str) -> Exception:
    """``exc`` re-made with the failing update's name (the original is its cause)."""
    try:
        new = type(exc)(f"{exc} (in {name})")
    except Exception:
        return exc
    new.__cause__ = exc
    return new


# -- MXNet's legacy update operators -------------------------------------------------------------
def _clip_arg(clip_gradient: float | None) -> float | None:
    if clip_gradient is None or clip_gradient <= 0:
        return None
    return float(clip_gradient)


def _out(weight: BaseArray, out: BaseArray | None) -> BaseArray:
    if out is None:
        return type(weight)._pending(weight._shape, weight._dtype, weight._device)
    if not isinstance(out, BaseArray):
        raise TypeError(f"out must be an array, got {type(out).__name__}")
    if out._shape != weight._shape or out._dtype != weight._dtype:
        raise ValueError(f"out has shape {out._shape} and dtype {out._dtype}; the weight has "
                         f"shape {weight._shape} and dtype {weight._dtype}")
    return out


def _check(name: str, *arrays: Any) -> None:
    for a in arrays:
        if not isinstance(a, BaseArray):
            raise TypeError(f"{name}: expected framework arrays, got {type(a).__name__}")


def sgd_update(weight: BaseArray, grad: BaseArray, lr: float, wd: float = 0.0,
               rescale_grad: float = 1.0, clip_gradient: float = -1.0,
               lazy_update: bool = True, out: BaseArray | None = None) -> BaseArray:
    """``out = weight - lr * (clip(rescale_grad * grad, clip_gradient) + wd * weight)``."""
    _check("sgd_update", weight, grad)
    target = _out(weight, out)
    lr_, wd_, rs, clip = float(lr), float(wd), float(rescale_grad), _clip_arg(clip_gradient)

    def kernel(xp: Any, w: Buf, g: Buf) -> None:
        k_sgd(xp, w, g, None, lr_, wd_, rs, clip, 0.0)

    launch("sgd_update", weight, grad, [], kernel, target=target)
    return target


def sgd_mom_update(weight: BaseArray, grad: BaseArray, mom: BaseArray, lr: float,
                   momentum: float = 0.0, wd: float = 0.0, rescale_grad: float = 1.0,
                   clip_gradient: float = -1.0, lazy_update: bool = True,
                   out: BaseArray | None = None) -> BaseArray:
    """``mom = momentum * mom - lr * (clip(rescale_grad * grad) + wd * weight)``;
    ``out = weight + mom`` (``mom`` is updated in place)."""
    _check("sgd_mom_update", weight, grad, mom)
    target = _out(weight, out)
    lr_, wd_, rs, clip, m = (float(lr), float(wd), float(rescale_grad),
                             _clip_arg(clip_gradient), float(momentum))

    def kernel(xp: Any, w: Buf, g: Buf, mb: Buf) -> None:
        k_sgd(xp, w, g, mb, lr_, wd_, rs, clip, m)

    launch("sgd_mom_update", weight, grad, [mom], kernel, target=target)
    return target


def adam_update(weight: BaseArray, grad: BaseArray, mean: BaseArray, var: BaseArray, lr: float,
                beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8, wd: float = 0.0,
                rescale_grad: float = 1.0, clip_gradient: float = -1.0, lazy_update: bool = True,
                out: BaseArray | None = None) -> BaseArray:
    """One Adam step without bias correction; ``mean`` and ``var`` are updated in place:
    ``g' = clip(rescale_grad * grad) + wd * weight``, ``mean = beta1 mean + (1-beta1) g'``,
    ``var = beta2 var + (1-beta2) g'^2``, ``out = weight - lr * mean / (sqrt(var) + epsilon)``."""
    _check("adam_update", weight, grad, mean, var)
    target = _out(weight, out)
    args = (float(lr), float(beta1), float(beta2), float(epsilon), float(wd),
            float(rescale_grad), _clip_arg(clip_gradient))

    def kernel(xp: Any, w: Buf, g: Buf, m: Buf, v: Buf) -> None:
        k_adam(xp, w, g, m, v, *args)

    launch("adam_update", weight, grad, [mean, var], kernel, target=target)
    return target
