"""``Parameter``, ``Constant`` and the 1.x-style ``ParameterDict``.

A Parameter holds one array per device (and its gradient). Its shape may contain ``-1`` for
dimensions that are only known at the first forward (deferred initialization): ``initialize()``
then records what to do, and the owning block finishes it once the input shape is known.
Initializer precedence follows MXNet (API.md §2 item 18): an initializer given to the parameter
itself (``bias_initializer='zeros'``...) wins over the one passed to ``initialize``.
"""

from __future__ import annotations

import re
import warnings
from collections import OrderedDict
from typing import Any

import numpy

from .. import dtype as _dt
from .. import initializer as _init
from ..autograd import pause
from ..base import FrameworkError
from ..device import Device, current_device, resolve
from ..nd import _create, _shape
from ..nd._array import ndarray
from ..nd._io import load as _load_file
from ..nd._io import save as _save_file
from ..nd._mxnet_format import save_mxnet as _save_mxnet
from ._legacy import for_mode
from .utils import shape_is_known

__all__ = ["Parameter", "Constant", "ParameterDict", "DeferredInitializationError",
           "shape_is_known"]


class DeferredInitializationError(FrameworkError):
    """Parameter data was requested before its shape could be inferred (call the block on an
    input first)."""


def _as_devices(device: Any) -> list[Device]:
    if device is None:
        return [current_device()]
    if isinstance(device, (list, tuple)):
        if not device:
            raise ValueError("an empty list of devices was given")
        return [resolve(d) for d in device]
    return [resolve(device)]


class Parameter:
    """A weight of a block (MXNet's ``gluon.Parameter``)."""

    def __init__(self, name: str = "weight", grad_req: str = "write", shape: Any = None,
                 dtype: Any = numpy.float32, lr_mult: float = 1.0, wd_mult: float = 1.0,
                 init: Any = None, allow_deferred_init: bool = False, differentiable: bool = True,
                 stype: str = "default", grad_stype: str = "default") -> None:
        if stype != "default" or grad_stype != "default":
            raise NotImplementedError(f"Parameter {name!r}: sparse storage types are not "
                                      "supported (stype and grad_stype must be 'default')")
        self._name = name
        self._structured_name: str | None = None
        self._shape: tuple[int, ...] | None = None
        self.shape = shape
        self.dtype = _dt.normalize(dtype) or numpy.dtype(numpy.float32)
        self.lr_mult = lr_mult
        self.wd_mult = wd_mult
        self.init = init
        self.allow_deferred_init = allow_deferred_init
        self._differentiable = differentiable
        self._grad_req = "null"
        self.grad_req = grad_req if differentiable else "null"
        self._data: OrderedDict[Device, ndarray] | None = None
        self._deferred: tuple[Any, list[Device], Any] | None = None

    # -- naming -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._structured_name or self._name

    def __repr__(self) -> str:
        shape = None if self._shape is None else self._shape
        return f"Parameter {self.name} (shape={shape}, dtype={self.dtype})"

    # -- shape ------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...] | None:
        return self._shape

    @shape.setter
    def shape(self, new: Any) -> None:
        if new is None:
            self._shape = None
            return
        if isinstance(new, (int, numpy.integer)):
            new = (int(new),)
        new = tuple(-1 if d is None else int(d) for d in new)
        if self._shape is None or len(self._shape) != len(new) and not shape_is_known(self._shape):
            self._shape = new
            return
        if len(self._shape) != len(new) or any(
                o >= 0 and n >= 0 and o != n for o, n in zip(self._shape, new)):
            if self._data is not None:
                raise ValueError(f"Parameter {self.name!r}: cannot change the shape of an "
                                 f"initialized parameter from {self._shape} to {new}")
            # known dimensions must match, also while others are still unknown (-1)
            raise ValueError(f"Parameter {self.name!r}: expected shape {self._shape} "
                             f"but got {new}")
        self._shape = tuple(n if n >= 0 else o for o, n in zip(self._shape, new))

    # -- gradient requirement ---------------------------------------------------------------
    @property
    def grad_req(self) -> str:
        return self._grad_req

    @grad_req.setter
    def grad_req(self, req: str) -> None:
        if req not in ("write", "add", "null"):
            raise ValueError(f"Parameter {self.name!r}: grad_req must be 'write', 'add' or "
                             f"'null', got {req!r}")
        if not self._differentiable:
            req = "null"
        if req == self._grad_req:
            return
        self._grad_req = req
        if getattr(self, "_data", None):
            for arr in self._data.values():  # type: ignore[union-attr]
                if req == "null":
                    arr.drop_grad()
                else:
                    arr.attach_grad(req)

    # -- initialization -------------------------------------------------------------------------
    def initialize(self, init: Any = None, ctx: Any = None, default_init: Any = None,
                   force_reinit: bool = False, device: Any = None) -> None:
        """Allocate and initialize the data on ``device`` (a device or a list), or defer it
        until the shape is known."""
        if self._data is not None and not force_reinit:
            warnings.warn(f"Parameter {self.name!r} is already initialized, ignoring. Set "
                          "force_reinit=True to re-initialize.", stacklevel=2)
            return
        devices = _as_devices(device if device is not None else ctx)
        if default_init is None:
            default_init = _init.Uniform()
        if not shape_is_known(self._shape):
            if not self.allow_deferred_init:
                raise ValueError(f"Parameter {self.name!r}: cannot initialize with unknown "
                                 f"shape {self._shape}; give the full shape (e.g. in_units) "
                                 "or call it from a block so the shape can be inferred")
            self._data = None
            self._deferred = (init, devices, default_init)
            return
        self._deferred = None
        self._init_now(init, devices, default_init)

    def _init_now(self, init: Any, devices: list[Device], default_init: Any) -> None:
        assert self._shape is not None
        with pause():
            arr = _create.zeros(self._shape, dtype=self.dtype, device=devices[0])
            desc = _init.InitDesc(self._name, {"__init__": self.init} if self.init else {})
            if self.init is not None:
                _init.create(self.init)._init_weight(desc, arr)
            else:
                _init.create(init if init is not None else default_init)(desc, arr)
            self._set_arrays(arr, devices)

    def _set_arrays(self, arr: ndarray, devices: list[Device]) -> None:
        data: OrderedDict[Device, ndarray] = OrderedDict()
        for i, d in enumerate(devices):
            a = arr if i == 0 and d == arr.device else arr.copyto(d)
            if self._grad_req != "null":
                a.attach_grad(self._grad_req)
            data[d] = a
        self._data = data

    def _finish_deferred_init(self) -> None:
        """Initialize now that the shape is known (called by the owning block)."""
        if self._deferred is None:
            return
        if not shape_is_known(self._shape):
            raise DeferredInitializationError(
                f"Parameter {self.name!r} still has unknown shape {self._shape} after shape "
                "inference")
        init, devices, default_init = self._deferred
        self._deferred = None
        self._init_now(init, devices, default_init)

    # -- data access ------------------------------------------------------------------------
    def _check(self) -> OrderedDict[Device, ndarray]:
        if self._data is not None:
            return self._data
        if self._deferred is not None:
            raise DeferredInitializationError(
                f"Parameter {self.name!r} has not been initialized yet because initialization "
                "was deferred. Actual initialization happens during the first forward pass. "
                "Please pass one batch of data through the network before accessing "
                "Parameters.")
        raise RuntimeError(f"Parameter {self.name!r} has not been initialized. Note that you "
                           "should initialize parameters and create Trainer with "
                           "Block.collect_params() instead of Block.params because the later "
                           "does not include Parameters of nested child Blocks")

    def data(self, ctx: Any = None, device: Any = None) -> ndarray:
        """The data on ``device`` (the only one, or the current device, by default)."""
        dev = device if device is not None else ctx
        data = self._data
        if data is not None and dev.__class__ is Device and (ctx is None or device is None):
            arr = data.get(dev)  # (the common case first: a layer asks for its input's device)
            if arr is not None:
                return for_mode(arr)
        data = self._check()
        if dev is None:
            if len(data) == 1:
                return for_mode(next(iter(data.values())))
            dev = current_device()
        dev = resolve(dev)
        try:
            return for_mode(data[dev])  # an NDArray view inside legacy code (gluon._legacy)
        except KeyError:
            raise RuntimeError(f"Parameter {self.name!r} was not initialized on {dev}; it is "
                               f"on {list(data)}") from None

    def list_data(self) -> list[ndarray]:
        return list(self._check().values())

    def grad(self, ctx: Any = None, device: Any = None) -> ndarray:
        if self._grad_req == "null":
            raise RuntimeError(f"Parameter {self.name!r} has no gradient (grad_req='null')")
        g = self.data(ctx, device).grad
        assert g is not None
        return g

    def list_grad(self) -> list[ndarray]:
        if self._grad_req == "null":
            raise RuntimeError(f"Parameter {self.name!r} has no gradient (grad_req='null')")
        return [a.grad for a in self._check().values()]  # type: ignore[misc]

    def list_ctx(self) -> list[Device]:
        if self._data is None and self._deferred is not None:
            return list(self._deferred[1])
        return list(self._check())

    list_device = list_ctx

    def set_data(self, data: Any) -> None:
        """Set the value on every device (shape must match)."""
        src = data if isinstance(data, ndarray) else _create.array(data, dtype=self.dtype)
        self.shape = src.shape
        if self._data is None:
            if self._deferred is not None:
                devices = self._deferred[1]  # where initialize() asked for the data
                self._deferred = None
                with pause():
                    self._set_arrays(_shape.astype(src, self.dtype), devices)
                return
            raise RuntimeError(f"Parameter {self.name!r} has not been initialized")
        with pause():
            for arr in self._data.values():
                arr[...] = src if src.device == arr.device else src.as_in_context(arr.device)

    def zero_grad(self) -> None:
        if self._data is None or self._grad_req == "null":
            return
        with pause():
            for arr in self._data.values():
                if arr.grad is not None:
                    arr.grad[...] = 0

    def reset_ctx(self, ctx: Any) -> None:
        """Move the data to other devices (keeping the values)."""
        devices = _as_devices(ctx)
        if self._data is not None:
            with pause():
                self._set_arrays(self._reduce_array(), devices)
        elif self._deferred is not None:
            init, _, default_init = self._deferred
            self._deferred = (init, devices, default_init)
        else:
            raise ValueError(f"Cannot reset device for Parameter {self.name!r} because it has "
                             "not been initialized")

    reset_device = reset_ctx

    def _reduce_array(self) -> ndarray:
        data = self.list_data()
        first = data[0]
        if len(data) == 1:
            return first
        total = first.copy()
        for a in data[1:]:
            total += a.as_in_context(first.device)
        return total / len(data)

    def _reduce(self) -> Any:
        """The data averaged over devices, as a host NumPy array."""
        return self._reduce_array().asnumpy()

    def cast(self, dtype: Any) -> None:
        dt = _dt.normalize(dtype)
        assert dt is not None
        self.dtype = dt
        if self._data is None:
            return
        with pause():
            for d, arr in list(self._data.items()):
                new = _shape.astype(arr, dt)
                if self._grad_req != "null":
                    new.attach_grad(self._grad_req)
                self._data[d] = new

    def var(self) -> Any:
        raise NotImplementedError("Parameter.var(): the symbolic API is not supported")

    def row_sparse_data(self, row_id: Any) -> Any:
        raise NotImplementedError("row_sparse_data: sparse storage is not supported")


class Constant(Parameter):
    """A parameter that is never updated (``grad_req='null'``); 1.x ``Constant(name, value)``
    and 2.0 ``Constant(value)`` both work."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) == 2:
            name, value = args
        elif len(args) == 1:
            name, value = kwargs.pop("name", "const"), args[0]
        else:
            name, value = kwargs.pop("name", "const"), kwargs.pop("value")
        arr = value if isinstance(value, ndarray) else _create.array(value)
        self.value = arr
        super().__init__(name=name, grad_req="null", shape=arr.shape, dtype=arr.dtype,
                         init=_init.Constant(arr.asnumpy()), differentiable=False, **kwargs)

    def __repr__(self) -> str:
        return f"Constant {self.name} (shape={self.shape}, dtype={self.dtype})"


class ParameterDict(OrderedDict):  # type: ignore[type-arg]
    """A dict of parameters keyed by structural name, with MXNet 1.x's ParameterDict methods."""

    def __init__(self, prefix: str = "", shared: Any = None, owner: Any = None) -> None:
        super().__init__()
        self._prefix = prefix
        self._shared = shared
        self._owner = owner

    @property
    def prefix(self) -> str:
        return self._prefix

    def __repr__(self) -> str:
        body = "\n".join(f"  {v!r}" for v in self.values())
        return f"{self._prefix}(\n{body}\n)" if body else f"{self._prefix}()"

    def get(self, name: str, **kwargs: Any) -> Any:  # type: ignore[override]
        """The parameter ``name``; created (and registered on the owning block) if missing.

        1.x code calls ``self.params.get('weight', shape=(3, 4))`` in ``__init__``.
        """
        full = self._prefix + name
        if full in self:
            param = self[full]
            for k, v in kwargs.items():
                if k == "shape":
                    param.shape = v
                elif hasattr(param, k) and v is not None:
                    setattr(param, k, v)
            return param
        if self._shared is not None and full in self._shared:
            param = self._shared[full]
        else:
            param = Parameter(name, **kwargs)
        self[full] = param
        if self._owner is not None:
            self._owner._reg_params[name] = param
        return param

    def get_constant(self, name: str, value: Any = None) -> Constant:
        full = self._prefix + name
        if full not in self:
            if value is None:
                raise KeyError(f"no constant named {name!r}; give a value to create it")
            self[full] = Constant(name, value)
            if self._owner is not None:
                self._owner._reg_params[name] = self[full]
        return self[full]

    def initialize(self, init: Any = None, ctx: Any = None, verbose: bool = False,
                   force_reinit: bool = False, device: Any = None) -> None:
        default = _init.Uniform() if init is None else init
        for name, p in self.items():
            if verbose:
                print(f"Initializing {name}")
            p.initialize(None, ctx=ctx, default_init=default, force_reinit=force_reinit,
                         device=device)

    def zero_grad(self) -> None:
        for p in self.values():
            p.zero_grad()

    def reset_ctx(self, ctx: Any) -> None:
        for p in self.values():
            p.reset_ctx(ctx)

    reset_device = reset_ctx

    def list_ctx(self) -> list[Device]:
        out: list[Device] = []
        for p in self.values():
            for d in p.list_ctx():
                if d not in out:
                    out.append(d)
        return out

    list_device = list_ctx

    def setattr(self, name: str, value: Any) -> None:
        """Set an attribute (``grad_req``, ``lr_mult``...) on every parameter."""
        for p in self.values():
            setattr(p, name, value)

    def update(self, other: Any = (), **kwargs: Any) -> None:  # type: ignore[override]
        items = other.items() if hasattr(other, "items") else other
        for k, v in items:
            if k in self and self[k] is not v:
                raise ValueError(f"Cannot update self with other because they have different "
                                 f"Parameters with the same name {k!r}")
            self[k] = v
        for k, v in kwargs.items():
            self[k] = v

    def select(self, pattern: str | None) -> ParameterDict:
        out = ParameterDict(self._prefix)
        if pattern is None:
            out.update(self)
            return out
        regex = re.compile(pattern)
        for k, v in self.items():
            if regex.match(k):
                out[k] = v
        return out

    def save(self, filename: str, strip_prefix: str = "", format: str = "npz") -> None:
        """Save by name: an ``.npz`` NumPy can read, or with ``format='mxnet'`` MXNet's binary
        NDArray format (what 1.x ``ParameterDict.save`` wrote)."""
        check_format(format, "ParameterDict.save")
        arrays = {}
        for name, p in self.items():
            if strip_prefix and not name.startswith(strip_prefix):
                raise ValueError(f"Prefix {strip_prefix!r} is to be stripped before saving, "
                                 f"but Parameter {name!r} does not start with it")
            arrays[name[len(strip_prefix):]] = p._reduce_array()
        if format == "mxnet":
            _save_mxnet(filename, arrays)
        else:
            _save_file(filename, arrays)

    def load(self, filename: str, ctx: Any = None, allow_missing: bool = False,
             ignore_extra: bool = False, restore_prefix: str = "", cast_dtype: bool = False,
             dtype_source: str = "current", device: Any = None) -> None:
        loaded = _load_file(filename)
        if not isinstance(loaded, dict):
            raise ValueError(f"{filename!r} does not hold named parameters")
        arrays = {restore_prefix + k: v for k, v in loaded.items()}
        arrays = match_mxnet_names(self, arrays, filename)
        load_into(self, arrays, filename, device if device is not None else ctx,
                  allow_missing, ignore_extra, cast_dtype, dtype_source)

    def load_dict(self, param_dict: dict[str, Any], ctx: Any = None, allow_missing: bool = False,
                  ignore_extra: bool = False, cast_dtype: bool = False,
                  dtype_source: str = "current", device: Any = None) -> None:
        load_into(self, param_dict, "<dict>", device if device is not None else ctx,
                  allow_missing, ignore_extra, cast_dtype, dtype_source)


def load_into(params: dict[str, Parameter], arrays: dict[str, Any], source: str, device: Any,
              allow_missing: bool, ignore_extra: bool, cast_dtype: bool,
              dtype_source: str) -> None:
    """Load named arrays into parameters, reporting missing and unexpected names together."""
    if dtype_source not in ("current", "saved"):
        raise ValueError(f"dtype_source must be 'current' or 'saved', got {dtype_source!r}")
    missing = [k for k in params if k not in arrays]
    extra = [k for k in arrays if k not in params]
    problems = []
    if missing and not allow_missing:
        problems.append(f"missing parameters (set allow_missing=True to skip): {missing}")
    if extra and not ignore_extra:
        problems.append(f"unexpected parameters in the file (set ignore_extra=True to skip): "
                        f"{extra}")
    if problems:
        raise ValueError(f"load_parameters: {source!r} does not match the network: " +
                         "; ".join(problems))
    for name, p in params.items():
        if name not in arrays:
            continue
        value = arrays[name]
        if not isinstance(value, ndarray):
            value = _create.array(value)
        if p.shape is not None and (len(p.shape) != value.ndim or any(
                d >= 0 and d != v for d, v in zip(p.shape, value.shape))):
            raise ValueError(f"load_parameters: shape mismatch for {name!r}: the network has "
                             f"{p.shape}, {source!r} has {value.shape}")
        if value.dtype != p.dtype:
            if cast_dtype and dtype_source == "current":
                value = value.astype(p.dtype)
            elif cast_dtype:
                p.dtype = value.dtype
            else:
                raise ValueError(f"load_parameters: dtype mismatch for {name!r}: the network "
                                 f"has {p.dtype}, {source!r} has {value.dtype} (pass "
                                 "cast_dtype=True to convert)")
        p.shape = value.shape
        devices = _as_devices(device) if device is not None else (
            p.list_ctx() if (p._data is not None or p._deferred is not None) else
            [current_device()])
        p._deferred = None
        with pause():
            p._set_arrays(value if value.device == devices[0] else
                          value.as_in_context(devices[0]), devices)


def check_format(format: str, op: str) -> None:
    if format not in ("npz", "mxnet"):
        raise ValueError(f"{op}: format must be 'npz' (NumPy-readable, the default) or 'mxnet' "
                         f"(MXNet's binary NDArray format), got {format!r}")


def _fits(shape: tuple[int, ...] | None, saved: tuple[int, ...]) -> bool:
    return shape is None or (len(shape) == len(saved) and all(
        d < 0 or d == v for d, v in zip(shape, saved)))


def match_mxnet_names(params: dict[str, Parameter], arrays: dict[str, Any],
                      source: str) -> dict[str, Any]:
    """Rename the arrays of a file written with MXNet 1.x global names to structural names.

    Files whose names are structural (``features.0.weight``: 1.x ``save_parameters``, 2.0, this
    framework) come back unchanged, with ``arg:``/``aux:`` prefixes (``export``) dropped. When
    no name in the file is a parameter name and none contains a dot, the names are 1.x global
    ones (``dense0_weight``, ``hybridsequential0_conv0_bias``) whose counters depend on the
    process that wrote them, so they are matched BY ORDER: the file's order is 1.x
    ``collect_params()`` order (a block's own parameters, then its children in registration
    order), which is this framework's order too. Every pair must agree in shape and in the
    parameter's own name (``..._running_mean`` with ``.running_mean``); the first pair that does
    not is reported, so a reordered or different network never loads silently wrong.
    """
    if any(k.startswith(("arg:", "aux:")) for k in arrays):
        arrays = {k[4:]: v for k, v in arrays.items() if k.startswith(("arg:", "aux:"))}
    keys = list(arrays)
    if not keys or any(k in params for k in keys) or any("." in k for k in keys):
        return arrays
    unique: list[tuple[str, Parameter]] = []
    seen: set[int] = set()
    for name, p in params.items():
        if id(p) not in seen:  # a shared parameter appears once in 1.x files
            seen.add(id(p))
            unique.append((name, p))
    by_id: dict[int, Any] = {}
    for i in range(max(len(keys), len(unique))):
        if i >= len(keys) or i >= len(unique):
            extra = (f"the network's {unique[i][0]!r} has no counterpart in the file"
                     if i < len(unique) else f"the file's {keys[i]!r} has no counterpart in "
                     "the network")
            raise ValueError(
                f"load_parameters: {source!r} uses MXNet 1.x names, which are matched to the "
                f"network by order, but it holds {len(keys)} parameters and the network "
                f"{len(unique)}; the first unmatched one is #{i}: {extra}")
        name, p = unique[i]
        key = keys[i]
        saved = tuple(arrays[key].shape)
        leaf = name.rsplit(".", 1)[-1]
        if not (key == leaf or key.endswith("_" + leaf)) or not _fits(p.shape, saved):
            raise ValueError(
                f"load_parameters: {source!r} uses MXNet 1.x names, which are matched to the "
                f"network by order; the first mismatch is #{i}: the file's {key!r} with shape "
                f"{saved} against the network's {name!r} with shape {p.shape} (the file holds "
                f"{len(keys)} parameters, the network {len(unique)})")
        by_id[id(p)] = arrays[key]
    return {name: by_id[id(p)] for name, p in params.items()}
