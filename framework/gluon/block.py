"""``Block`` and ``HybridBlock``: the containers networks are built from.

Children and parameters register themselves when assigned as attributes. Parameter names are
*structural* (``features.0.weight``): the attribute path from the block ``collect_params`` is
called on, so they are the same in every process (MXNet 1.x's global ``dense0_weight`` counters
were not). ``initialize`` may defer a parameter until its shape is known; ``HybridBlock`` infers
the missing dimensions from the first input through ``infer_shape`` and finishes the
initialization then; errors name the block's path, the parameter and the input shapes.
"""

from __future__ import annotations

import contextlib
import re
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy

from .. import initializer as _init
from .. import np as _np
from .. import npx as _npx
from ..nd._array import ndarray
from ..nd._io import load as _load_file
from ..nd._io import save as _save_file
from ..nd._mxnet_format import save_mxnet as _save_mxnet
from ..nd._tape import STATE, set_trace
from ._hybrid import CachedGraph, signature
from ._legacy import LEGACY, call_legacy, hybrid_forward_nd, is_legacy, legacy_key
from .parameter import (
    DeferredInitializationError,
    Parameter,
    ParameterDict,
    check_format,
    load_into,
    match_mxnet_names,
)
from .utils import HookHandle

__all__ = ["Block", "HybridBlock", "HookHandle"]


class _F:
    """The ``F`` argument of 1.x ``hybrid_forward``: ``F.np``, ``F.npx``, and NumPy-extension
    operators directly on ``F`` (``F.relu``)."""

    np = _np
    npx = _npx

    def __getattr__(self, name: str) -> Any:
        for ns in (_npx, _np):
            if hasattr(ns, name):
                return getattr(ns, name)
        raise AttributeError(f"F has no operator {name!r} (NumPy-style code uses F.np and "
                             "F.npx)")


F = _F()


def _indent(text: str, n: int) -> str:
    lines = text.split("\n")
    return "\n".join([lines[0]] + [" " * n + line for line in lines[1:]])


def _shape_str(obj: Any) -> str:
    """MXNet's summary format: ``(2, 3)`` for one array, ``(2, 3), [(1, 2), (1, 2)]`` for a
    tuple holding an array and a list of two."""
    def shapes(o: Any) -> Any:
        if isinstance(o, (list, tuple)):
            return [shapes(i) for i in o]
        return o.shape if isinstance(o, ndarray) else o

    out = shapes(obj)
    return str(out)[1:-1] if isinstance(out, list) else str(out)


class Block:
    """Base class of all layers and models (MXNet's ``gluon.Block``)."""

    #: containers (Sequential) get no row of their own in ``summary``
    _summary_container = False

    def __init__(self, prefix: str | None = None, params: Any = None) -> None:
        object.__setattr__(self, "_children", OrderedDict())
        object.__setattr__(self, "_reg_params", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_prefix", prefix or "")
        object.__setattr__(self, "_parent", None)
        object.__setattr__(self, "_key", None)
        object.__setattr__(self, "_params", ParameterDict("", shared=params, owner=self))

    # -- registration -------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        children = self.__dict__.get("_children")
        if children is None:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               f"before assigning attribute {name!r}")
        existing = self.__dict__.get(name)
        if isinstance(existing, Block) and not isinstance(value, Block) and value is not None:
            raise TypeError(f"Changing attribute type for {name} from {type(existing)} to "
                            f"{type(value)} is not allowed.")
        if isinstance(value, Block):
            self.register_child(value, name)
        elif isinstance(value, Parameter):
            # 1.x ``self.w = self.params.get('weight')``: registered once, under the attribute
            for old in [k for k, p in self._reg_params.items()
                        if p is value and k != name and k not in self.__dict__]:
                del self._reg_params[old]
                self._params.pop(old, None)
            self._reg_params[name] = value
            self._params[name] = value
        elif isinstance(value, (list, tuple, dict)) and _holds_blocks(value):
            warnings.warn(
                f'"{type(self).__name__}.{name}" is an unregistered container with Blocks. '
                "Note that Blocks inside the list, tuple or dict will not be registered "
                "automatically. Make sure to register them using register_child() or switching "
                "to nn.Sequential/nn.HybridSequential instead.", stacklevel=2)
        if name in children and not isinstance(value, Block):
            del children[name]
        if name in self._reg_params and not isinstance(value, Parameter):
            del self._reg_params[name]
        object.__setattr__(self, name, value)
        if isinstance(value, Block):
            self._on_child_change()

    def __delattr__(self, name: str) -> None:
        self._children.pop(name, None)
        self._reg_params.pop(name, None)
        object.__delattr__(self, name)

    def register_child(self, block: Block, name: str | None = None) -> Block:
        """Register ``block`` as a child (``name`` defaults to its index)."""
        if name is None:
            name = str(len(self._children))
        self._children[name] = block
        if block._parent is None:
            object.__setattr__(block, "_parent", weakref.ref(self))
            object.__setattr__(block, "_key", name)
        return block

    def _on_child_change(self) -> None:
        pass

    # -- naming -------------------------------------------------------------------------------
    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def name(self) -> str:
        return self._prefix.rstrip("_") if self._prefix else type(self).__name__.lower()

    @property
    def _path(self) -> str:
        parts = []
        block: Block | None = self
        while block is not None and block._key is not None:
            parts.append(block._key)
            parent = block._parent() if block._parent is not None else None
            block = parent
        return ".".join(reversed(parts)) or type(self).__name__

    def name_scope(self) -> contextlib.AbstractContextManager[None]:
        """Accepted for 1.x code; names are structural, so it does nothing."""
        return contextlib.nullcontext()

    @property
    def params(self) -> ParameterDict:
        """This block's own parameters (1.x: ``self.params.get(name, shape=...)``)."""
        return self._params

    def __repr__(self) -> str:
        lines = [f"  ({key}): {_indent(repr(block), 2)}" for key, block in self._children.items()]
        if not lines:
            return f"{type(self).__name__}(\n\n)"
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    # -- parameters -----------------------------------------------------------------------------
    def _collect(self, prefix: str, out: ParameterDict, seen: set[int]) -> None:
        for name, p in self._reg_params.items():
            key = prefix + name
            if key not in out:
                out[key] = p
                if p._structured_name is None:
                    p._structured_name = key
        for cname, child in self._children.items():
            if id(child) in seen:
                continue
            seen.add(id(child))
            child._collect(prefix + cname + ".", out, seen)

    def collect_params(self, select: str | None = None) -> ParameterDict:
        """All parameters of this block and its children, by structural name; ``select`` is a
        regular expression (1.x ``'.*weight'``) matched against the names."""
        out = ParameterDict()
        self._collect("", out, {id(self)})
        if select is None:
            return out
        regex = re.compile(select)
        sel = ParameterDict()
        for k, v in out.items():
            if regex.match(k):
                sel[k] = v
        return sel

    def initialize(self, init: Any = None, ctx: Any = None, verbose: bool = False,
                   force_reinit: bool = False, device: Any = None) -> None:
        """Initialize every parameter (deferred where shapes are unknown)."""
        params = self.collect_params()
        if all(p._data is not None for p in params.values()) and params and not force_reinit:
            warnings.warn(f"{type(self).__name__}: all parameters are already initialized, "
                          "ignoring. Set force_reinit=True to re-initialize.", stacklevel=2)
            return
        for p in _unique(params.values()):
            if p._data is not None and not force_reinit:
                continue
            p.initialize(None, ctx=ctx, device=device,
                         default_init=init if init is not None else _init.Uniform(),
                         force_reinit=force_reinit)
        if verbose:
            for name in params:
                print(f"Initialized {name}")

    def zero_grad(self) -> None:
        for p in _unique(self.collect_params().values()):
            p.zero_grad()

    def reset_device(self, device: Any) -> None:
        for p in _unique(self.collect_params().values()):
            p.reset_ctx(device)

    reset_ctx = reset_device

    def setattr(self, name: str, value: Any) -> None:
        """Set an attribute (``grad_req``, ``lr_mult``...) on every parameter."""
        for p in _unique(self.collect_params().values()):
            setattr(p, name, value)

    def cast(self, dtype: Any) -> None:
        for child in self._children.values():
            child.cast(dtype)
        for p in self._reg_params.values():
            p.cast(dtype)

    def apply(self, fn: Callable[[Block], Any]) -> Block:
        """Call ``fn`` on every child (recursively) and then on this block."""
        for child in self._children.values():
            child.apply(fn)
        fn(self)
        return self

    def share_parameters(self, shared: dict[str, Parameter]) -> Block:
        """Use the parameters in ``shared`` (structural names, e.g. from another block's
        ``collect_params()``) instead of this block's own ones with the same names."""
        if shared is None:
            return self
        self._share("", dict(shared), {id(self)})
        return self

    def _share(self, prefix: str, shared: dict[str, Parameter], seen: set[int]) -> None:
        for name in list(self._reg_params):
            key = prefix + name
            if key in shared:
                self._reg_params[name] = shared[key]
                self._params[name] = shared[key]
                object.__setattr__(self, name, shared[key])
        for cname, child in self._children.items():
            if id(child) not in seen:
                seen.add(id(child))
                child._share(prefix + cname + ".", shared, seen)

    # -- files --------------------------------------------------------------------------------
    def save_parameters(self, filename: str, deduplicate: bool = False,
                        format: str = "npz") -> None:
        """Save parameters by structural name to an ``.npz`` NumPy can read (atomic write).

        ``format='mxnet'`` writes MXNet's binary NDArray format instead, with the same
        structural names, which MXNet 1.x and 2.0 ``load_parameters`` read.
        """
        check_format(format, "save_parameters")
        params = self.collect_params()
        arrays: dict[str, Any] = {}
        seen: dict[int, str] = {}
        for name, p in params.items():
            if deduplicate and id(p) in seen:
                continue
            seen[id(p)] = name
            arrays[name] = p._reduce_array()
        if format == "mxnet":
            _save_mxnet(filename, arrays)
        else:
            _save_file(filename, arrays)

    def load_parameters(self, filename: str, ctx: Any = None, allow_missing: bool = False,
                        ignore_extra: bool = False, cast_dtype: bool = False,
                        dtype_source: str = "current", device: Any = None) -> None:
        """Load parameters saved by :meth:`save_parameters` or :meth:`export` (whose
        ``arg:``/``aux:`` prefixes are dropped), or by MXNet (its binary ``.params``: structural
        names map directly, 1.x global names such as ``dense0_weight`` by order, see
        :func:`~framework.gluon.parameter.match_mxnet_names`); missing and unexpected names are
        reported together."""
        loaded = _load_file(filename)
        if isinstance(loaded, ndarray) or not isinstance(loaded, dict):
            raise ValueError(f"load_parameters: {filename!r} holds unnamed arrays, not "
                             "parameters saved by save_parameters")
        self._load_arrays(loaded, filename, device if device is not None else ctx,
                          allow_missing, ignore_extra, cast_dtype, dtype_source)

    def load_dict(self, param_dict: dict[str, Any], device: Any = None,
                  allow_missing: bool = False, ignore_extra: bool = False,
                  cast_dtype: bool = False, dtype_source: str = "current",
                  ctx: Any = None) -> None:
        self._load_arrays(param_dict, "<dict>", device if device is not None else ctx,
                          allow_missing, ignore_extra, cast_dtype, dtype_source)

    def _load_arrays(self, arrays: dict[str, Any], source: str, device: Any,
                     allow_missing: bool, ignore_extra: bool, cast_dtype: bool,
                     dtype_source: str) -> None:
        params = self.collect_params()
        # drops export()'s arg:/aux: prefixes; renames MXNet 1.x global names by order
        arrays = match_mxnet_names(params, arrays, source)
        # files written with deduplicate=True hold a shared parameter once: fill in aliases
        by_id: dict[int, str] = {}
        for name, p in params.items():
            if name in arrays:
                by_id.setdefault(id(p), name)
        full = dict(arrays)
        for name, p in params.items():
            if name not in full and id(p) in by_id:
                full[name] = arrays[by_id[id(p)]]
        load_into(params, full, source, device, allow_missing, ignore_extra, cast_dtype,
                  dtype_source)

    def save(self, prefix: str) -> None:
        self.save_parameters(prefix + ".params")

    def load(self, prefix: str) -> None:
        self.load_parameters(prefix + ".params")

    # -- hooks and calling ------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> HookHandle:
        """``hook(block, inputs)`` runs before ``forward``."""
        return HookHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> HookHandle:
        """``hook(block, inputs, outputs)`` runs after ``forward``."""
        return HookHandle(self._forward_hooks, hook)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"{type(self).__name__}.__call__() got unexpected keyword "
                            f"arguments {sorted(kwargs)}; pass inputs positionally")
        for a in args:  # the common call, np arrays only, needs no search for legacy arrays
            if a.__class__ is not ndarray:
                if is_legacy(args):  # legacy nd.NDArray inputs: see framework.gluon._legacy
                    return call_legacy(self, args, Block._call_impl,
                                       isinstance(self, HybridBlock))
                break
        # _call_impl's body, inlined: this runs once per block call
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                hook(self, args)
        self._infer_deferred(args)
        out = self._run_forward(args)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                hook(self, args, out)
        return out

    def _call_impl(self, args: tuple[Any, ...]) -> Any:
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                hook(self, args)
        self._infer_deferred(args)
        out = self._run_forward(args)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                hook(self, args, out)
        return out

    def _run_forward(self, args: tuple[Any, ...]) -> Any:
        """The forward of one call (HybridBlock replays a trace here when hybridized)."""
        return self.forward(*args)

    def _infer_deferred(self, args: tuple[Any, ...]) -> None:
        for p in self._reg_params.values():  # every call: leave at once when nothing is deferred
            if p._deferred is not None:
                break
        else:
            return
        pending = [(n, p) for n, p in self._reg_params.items() if p._deferred is not None]
        prev = set_trace(None)  # initialization is not part of a hybridized graph
        try:
            self._infer_pending(args, pending)
        finally:
            set_trace(prev)

    def _infer_pending(self, args: tuple[Any, ...], pending: list[tuple[str, Parameter]]) -> None:
        shapes = [getattr(a, "shape", type(a).__name__) for a in args]
        try:
            self.infer_shape(*args)
        except NotImplementedError:
            raise RuntimeError(
                f"{type(self).__name__} '{self._path}': parameters "
                f"{[n for n, _ in pending]} have unknown shapes "
                f"{[p.shape for _, p in pending]} and the block does not implement "
                f"infer_shape(*args) to infer them from the input shapes {shapes}") from None
        except (ValueError, IndexError, TypeError) as exc:
            raise type(exc)(f"{type(self).__name__} '{self._path}': cannot infer the shapes of "
                            f"{[n for n, _ in pending]} from input shapes {shapes}: {exc}") \
                from exc
        for name, p in pending:
            try:
                p._finish_deferred_init()
            except DeferredInitializationError as exc:
                raise DeferredInitializationError(
                    f"{type(self).__name__} '{self._path}': parameter {name!r} still has "
                    f"unknown shape {p.shape} after shape inference from input shapes "
                    f"{shapes}") from exc

    def infer_shape(self, *args: Any) -> None:
        """Fill in the unknown dimensions of this block's parameters from the inputs."""
        raise NotImplementedError

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def hybridize(self, active: bool = True, **kwargs: Any) -> None:
        """On a plain Block: hybridize the children that support it."""
        for child in self._children.values():
            child.hybridize(active, **kwargs)

    # -- summary --------------------------------------------------------------------------------
    def summary(self, *inputs: Any) -> None:
        """Print each layer's output shape and parameter count, as MXNet's ``summary``."""
        rows: list[tuple[str, str, int]] = [("Input", _shape_str(inputs), 0)]
        counts = {"total": 0, "trainable": 0, "shared": 0}
        seen: set[int] = set()
        hooks: list[HookHandle] = []

        def hook(block: Block, _inputs: Any, outputs: Any) -> None:
            n = trainable = shared = 0
            for p in block._reg_params.values():
                size = int(numpy.prod(p.data().shape)) if p.shape else 1
                n += size
                trainable += 0 if p.grad_req == "null" else size
                if id(p) in seen:
                    shared += size
                seen.add(id(p))
            rows.append((f"{type(block).__name__}-{len(rows)}", _shape_str(outputs), n))
            counts["total"] += n
            counts["trainable"] += trainable
            counts["shared"] += shared

        def register(block: Block) -> None:
            if isinstance(block, HybridBlock) and block._active:
                raise AssertionError(f'"{block.name}" must not be hybridized to print summary.')
            if not block._summary_container:
                hooks.append(block.register_forward_hook(hook))

        self.apply(register)
        try:
            self(*inputs)
        finally:
            for h in hooks:
                h.detach()
        fmt = "{:>20}  {:>42} {:>15}"
        print("-" * 80)
        print(fmt.format("Layer (type)", "Output Shape", "Param #"))
        print("=" * 80)
        for name, shape, n in rows:
            print(fmt.format(name, shape, n))
        print("=" * 80)
        print("Parameters in forward computation graph, duplicate included")
        print("   Total params: " + str(counts["total"]))
        print("   Trainable params: " + str(counts["trainable"]))
        print("   Non-trainable params: " + str(counts["total"] - counts["trainable"]))
        print("Shared params in forward computation graph: " + str(counts["shared"]))
        print("Unique parameters in model: " + str(counts["total"] - counts["shared"]))
        print("-" * 80)

    def register_op_hook(self, callback: Callable[..., Any], monitor_all: bool = False) -> None:
        raise NotImplementedError("register_op_hook is not supported")


class HybridBlock(Block):
    """A block that can be hybridized: traced once per input signature and replayed.

    Write ``forward(self, x, ...)`` with ``np``/``npx`` (2.0 style), or 1.x's
    ``hybrid_forward(self, F, x, ..., **params)``; both work.
    """

    def __init__(self, prefix: str | None = None, params: Any = None) -> None:
        super().__init__(prefix, params)
        object.__setattr__(self, "_active", False)
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_cached", {})

    def _run_forward(self, args: tuple[Any, ...]) -> Any:
        if not self._active or STATE.trace is not None:
            # imperative, or part of an enclosing block's trace
            return self.forward(*args)
        key = signature(args)
        if LEGACY.root:
            key = legacy_key(key)
        self.__dict__["_last_key"] = key  # export() writes the latest signature
        graph = self._cached.get(key)
        if graph is None:
            graph = CachedGraph(self, args)
            self._cached[key] = graph
            out = graph.first_outputs
            graph.first_outputs = None
            return out
        return graph(args)

    def hybridize(self, active: bool = True, static_alloc: bool = False,
                  static_shape: bool = False, **kwargs: Any) -> None:
        """Mark the block for tracing (see ``framework.gluon._hybrid``): the first call with
        each input signature runs ``forward`` and records its ops; later calls replay them.

        ``static_alloc=True``: a graph replayed as one task (see ``framework.gluon._hybrid``)
        writes the steps whose op supports it (``forward_into``: Dense, relu) into the buffers
        of the previous call, when nothing references them any more (no array, view, NumPy
        array or queued task): an output the caller keeps is never overwritten. Every call
        returns new output arrays. ``static_shape`` (and MXNet's other keywords:
        ``inline_limit``, ``forward_bulk_size``...) are accepted and kept in ``_flags``; a new
        input shape is traced as a new signature whatever ``static_shape`` says."""
        object.__setattr__(self, "_active", bool(active))
        object.__setattr__(self, "_flags", dict(static_alloc=static_alloc,
                                                static_shape=static_shape, **kwargs))
        object.__setattr__(self, "_cached", {})
        for child in self._children.values():
            child.hybridize(active, static_alloc=static_alloc, static_shape=static_shape,
                            **kwargs)

    def _on_child_change(self) -> None:
        if self.__dict__.get("_active"):
            warnings.warn(f"{type(self).__name__}: a child block was assigned after "
                          "hybridize(); the block is de-hybridized. Call hybridize() again.",
                          stacklevel=3)
            object.__setattr__(self, "_active", False)
            object.__setattr__(self, "_cached", {})

    def forward(self, x: Any, *args: Any) -> Any:
        if type(self).hybrid_forward is HybridBlock.hybrid_forward:
            raise NotImplementedError(f"{type(self).__name__} must implement forward() (or "
                                      "1.x's hybrid_forward(F, x, ...))")
        if LEGACY.root:  # called with legacy arrays: F = nd (framework.gluon._legacy)
            return hybrid_forward_nd(self, x, args)
        device = x.device if isinstance(x, ndarray) else None
        params = {name: p.data(device) for name, p in self._reg_params.items()}
        return self.hybrid_forward(F, x, *args, **params)

    def hybrid_forward(self, F: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def infer_type(self, *args: Any) -> None:
        pass

    def export(self, path: str, epoch: int = 0, remove_amp_cast: bool = True) -> Any:
        """Write the traced graph to ``path-symbol.json`` and the parameters it uses to
        ``path-%04d.params`` (``arg:``/``aux:`` keys); returns both file names. Needs a
        hybridized block that has been called; load with ``SymbolBlock.imports``. See
        :mod:`framework.gluon._export` for the format."""
        from ._export import export_block

        return export_block(self, path, epoch, remove_amp_cast)

    def _export_graphs(self) -> list[tuple[Any, bool | None]]:
        from ._export import export_graphs

        return export_graphs(self)


def _holds_blocks(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return any(isinstance(v, Block) for v in items)


def _unique(params: Any) -> Iterator[Parameter]:
    seen: set[int] = set()
    for p in params:
        if id(p) not in seen:
            seen.add(id(p))
            yield p

