"""``HybridBlock.export`` and ``SymbolBlock.imports``: hybridized graphs as files.

``export(path, epoch)`` writes two files, each atomically:

``path-symbol.json``: one JSON object (strict JSON, no NaN)::

    {"format": "framework-graph", "version": 1, "framework_version": "...",
     "block": "<class name>", "inputs": ["data"],        # or data0, data1, ...
     "params": {"<structural name>": {"shape": [...], "dtype": "float32", "kind": "arg"|"aux"}},
     "graphs": [GRAPH, ...]}

One GRAPH per training mode: the traced graph of the block's most recent signature first, and the
graph of the other mode (``autograd.train_mode`` versus predict mode) when it differs (BatchNorm,
Dropout): taken from the block's cache, or traced for the export with zero inputs of the same
shapes (the running statistics are restored afterwards; random ops advance the generator). A
graph that is the same in both modes is written once with ``"training": null``::

    {"training": false | true | null, "n_slots": N,
     "inputs": [{"slot": 0, "shape": [...], "dtype": "float32"}],   # one per input array
     "in_struct": ...,                     # the nesting of the traced call's arguments
     "params": [{"slot": 3, "name": "0.weight"}],
     "consts": [{"slot": 5, "shape": [], "dtype": "float32", "value": 2.0, "mutated": false},
                {"slot": 6, "shape": [...], "dtype": "float32", "key": "const:0", ...}],
     "steps": [{"op": "<registry name>", "attrs": {...}, "inputs": [0, 3], "outputs": [7]}],
     "out_struct": ..., "outputs": [7]}

Slots number the graph's arrays: the inputs, the parameters, the constants (arrays made in the
forward without an op, e.g. ``np.ones``; up to 1024 finite elements inline, larger ones in the
params file) and the outputs of earlier steps. A step is an operator (``Op.to_json()``: the
registry name, or ``module:qualname`` for unregistered op classes, and its attributes with
tuples, slices, dtypes, NumPy scalars and small arrays tagged) applied to slots.

``path-%04d.params``: an ``.npz`` (``numpy.load(..., allow_pickle=False)`` reads it) holding
``arg:<name>`` for trainable parameters, ``aux:<name>`` for ``grad_req='null'`` ones (BatchNorm's
running statistics) and ``const:<i>`` for large constants. ``load_parameters`` reads it too.

``SymbolBlock.imports(symbol_file, input_names, param_file)`` rebuilds a block that replays the
steps without the original Python class; its parameters are ordinary trainable Parameters with the
same structural names, so it can be trained, saved and exported again.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from typing import Any

import numpy

from .. import np as _np
from ..base import FrameworkError
from ..device import Device, current_device, resolve
from ..nd._create import from_numpy
from ..nd._io import FileFormatError, atomic_write
from ..nd._io import load as _load_file
from ..nd._io import save as _save_file
from ..nd._op import OpSerializationError, decode_attr, encode_attr, op_from_json
from ..nd._tape import STATE, set_grad
from ._hybrid import CachedGraph, _flatten
from .block import HybridBlock
from .parameter import Parameter, load_into

__all__ = ["SymbolBlock", "export_block"]

FORMAT = "framework-graph"
VERSION = 1
#: constants with at most this many (finite) elements are written inline in the JSON
INLINE_CONST = 1024


# -- export ---------------------------------------------------------------------------------------

def export_block(block: HybridBlock, path: str, epoch: int = 0,
                 remove_amp_cast: bool = True) -> tuple[str, str]:
    """See :meth:`HybridBlock.export` and the module docstring."""
    path = os.fspath(path)
    graphs = block._export_graphs()
    names: dict[int, str] = {}
    for name, p in block.collect_params().items():
        names.setdefault(id(p), name)
    consts: dict[str, numpy.ndarray] = {}
    const_keys: dict[str, str] = {}
    used: dict[str, Parameter] = {}
    owner = type(block).__name__
    written = []
    for i, (g, training) in enumerate(graphs):
        c2, k2, u2 = dict(consts), dict(const_keys), dict(used)
        try:
            written.append(_graph_json(g, training, names, c2, k2, u2, owner))
        except OpSerializationError as exc:
            if i == 0:
                raise
            warnings.warn(f"{owner}.export(): the graph of the other training mode is left "
                          f"out: {exc}", stacklevel=3)
            continue
        consts, const_keys, used = c2, k2, u2
    if len(written) == 2 and _same_but_mode(written[0], written[1]):
        written = [dict(written[0], training=None)]
    n_inputs = len(written[0]["inputs"])
    from .. import __version__

    doc = {
        "format": FORMAT, "version": VERSION, "framework_version": __version__,
        "block": type(block).__name__,
        "inputs": ["data"] if n_inputs == 1 else [f"data{i}" for i in range(n_inputs)],
        "params": {name: {"shape": list(p.shape or ()), "dtype": str(p.dtype),
                          "kind": "aux" if p.grad_req == "null" else "arg"}
                   for name, p in used.items()},
        "graphs": written,
    }
    arrays: dict[str, Any] = {}
    for name, p in used.items():
        arrays[("aux:" if p.grad_req == "null" else "arg:") + name] = p._reduce_array()
    for key, host in consts.items():
        arrays[key] = from_numpy(host, None)
    sym_file = f"{path}-symbol.json"
    param_file = f"{path}-{epoch:04d}.params"
    text = json.dumps(doc, allow_nan=False, separators=(",", ":")).encode()
    _save_file(param_file, arrays)
    atomic_write(sym_file, lambda f: f.write(text))
    return sym_file, param_file


def _same_but_mode(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: v for k, v in a.items() if k != "training"} == \
        {k: v for k, v in b.items() if k != "training"}


def _graph_json(graph: CachedGraph, training: bool | None, names: dict[int, str],
                consts: dict[str, numpy.ndarray], const_keys: dict[str, str],
                used: dict[str, Parameter], owner: str) -> dict[str, Any]:
    where = f"export of {owner}"
    inputs = [{"slot": s, "shape": list(shape), "dtype": str(dt)}
              for s, (shape, dt, _dev) in zip(graph.input_slots, graph.in_specs)]
    params = []
    for slot, p, _dev in graph.param_slots:
        name = names.get(id(p))
        if name is None:
            raise FrameworkError(f"{where}: the forward uses Parameter {p.name!r}, which is not "
                                 "a parameter of the block (collect_params()); register it as "
                                 "an attribute of the block or one of its children")
        used.setdefault(name, p)
        params.append({"slot": slot, "name": name})
    const_list = []
    for slot, arr, mutated in graph.const_slots:
        host = numpy.asarray(arr.asnumpy())
        entry: dict[str, Any] = {"slot": slot, "shape": list(host.shape),
                                 "dtype": str(host.dtype), "mutated": bool(mutated)}
        inline = host.size <= INLINE_CONST and host.dtype.kind in "biuf" and (
            host.dtype.kind != "f" or bool(numpy.isfinite(host).all()))
        if inline:
            entry["value"] = host.tolist()
        else:  # stored once per distinct value (the graphs of both modes share them)
            digest = hashlib.sha1(host.tobytes()).hexdigest() + str(host.dtype) + str(host.shape)
            key = const_keys.get(digest)
            if key is None:
                key = const_keys[digest] = f"const:{len(consts)}"
                consts[key] = host
            entry["key"] = key
        const_list.append(entry)
    steps = []
    for i, (_fn, in_ids, out_ids, op) in enumerate(graph.steps):
        if op is None:
            raise OpSerializationError(
                f"{where}: step {i} is a Python call recorded as a whole (an "
                "autograd.Function), which cannot be written to a graph file")
        try:
            data = op.to_json()
        except OpSerializationError as exc:
            raise OpSerializationError(f"{where}: step {i}: {exc}") from None
        steps.append({"op": data["op"], "attrs": data.get("attrs", {}),
                      "inputs": list(in_ids), "outputs": list(out_ids)})
    try:
        in_struct = encode_attr(_strip_values(graph.in_struct), None, "inputs")
        out_struct = encode_attr(graph.out_struct, None, "outputs")
    except OpSerializationError:
        raise OpSerializationError(f"{where}: the forward's arguments or outputs hold values "
                                   "other than arrays, numbers, strings and lists/tuples of "
                                   "them") from None
    return {"training": training, "n_slots": graph.n_slots, "inputs": inputs,
            "in_struct": in_struct, "params": params, "consts": const_list, "steps": steps,
            "out_struct": out_struct, "outputs": list(graph.out_slots)}


def _strip_values(struct: Any) -> Any:
    """The argument structure with non-array values replaced by None (they were baked into
    the trace)."""
    kind, payload = struct
    if kind == "A":
        return struct
    if kind == "V":
        return ("V", None)
    return (kind, tuple(_strip_values(s) for s in payload))


def export_graphs(block: HybridBlock) -> list[tuple[CachedGraph, bool]]:
    """The graph of ``block``'s most recent signature, then the other training mode's graph of
    the same inputs (from the cache, or traced now with zero inputs)."""
    key = block.__dict__.get("_last_key")
    graph = block._cached.get(key) if key is not None and block._active else None
    if graph is None:
        raise RuntimeError(
            f"{type(block).__name__}.export(): there is no traced graph to export. Call "
            "hybridize() and then run forward with this block at least once before export().")
    struct, training = key
    other = block._cached.get((struct, not training))
    if other is None:
        try:
            other = _trace_other_mode(block, graph, not training)
        except Exception as exc:  # the traced mode's graph is still worth writing
            warnings.warn(f"{type(block).__name__}.export(): could not trace the forward in "
                          f"{'training' if not training else 'predict'} mode ({exc!r}); the "
                          "file holds the graph of the traced mode only", stacklevel=4)
    graphs = [(graph, training)]
    if other is not None:
        graphs.append((other, not training))
    return graphs


def _trace_other_mode(block: HybridBlock, graph: CachedGraph, training: bool) -> Any:
    """Trace ``block`` in the other training mode with zero inputs shaped like ``graph``'s,
    restoring the values of the ``grad_req='null'`` parameters (running statistics)."""
    from .. import autograd

    arrays = [_np.zeros(shape, dtype=dt, device=dev) for shape, dt, dev in graph.in_specs]
    args = _rebuild_args(graph.in_struct, arrays)
    aux = [(p, [d.copy() for d in p.list_data()]) for p in _unique(block)
           if p.grad_req == "null" and p._data is not None]
    prev = set_grad(False)
    try:
        with autograd.train_mode() if training else autograd.predict_mode():
            other = CachedGraph(block, args)
            other.first_outputs = None
    finally:
        set_grad(prev)
        for p, saved in aux:
            for d, s in zip(p.list_data(), saved):
                d[...] = s
    return other


def _unique(block: HybridBlock) -> list[Parameter]:
    seen: dict[int, Parameter] = {}
    for p in block.collect_params().values():
        seen.setdefault(id(p), p)
    return list(seen.values())


def _rebuild_args(struct: Any, values: list[Any]) -> Any:
    kind, payload = struct
    if kind == "A":
        return values[payload]
    if kind == "V":
        return payload
    items = [_rebuild_args(s, values) for s in payload]
    return tuple(items) if kind == "tuple" else items


# -- import ---------------------------------------------------------------------------------------

class _LoadedGraph(CachedGraph):
    """A graph read from a file: replays its steps with the block's parameters; parameters and
    constants follow the device of the inputs."""

    def __init__(self) -> None:  # filled in by _load_graph
        self.device: Device | None = None
        self.host_consts: list[tuple[int, numpy.ndarray, bool]] = []

    def bind(self, device: Device) -> None:
        if device == self.device:
            return
        self.param_slots = [(s, p, device) for s, p, _d in self.param_slots]
        self.const_slots = [(s, from_numpy(numpy.array(h), device), m)
                            for s, h, m in self.host_consts]
        self.device = device

    def __call__(self, args: tuple[Any, ...]) -> Any:
        arrays: list[Any] = []
        _flatten(args, arrays)
        self.bind(arrays[0].device if arrays else current_device())
        return super().__call__(args)


def _fail(path: str, msg: str) -> FileFormatError:
    return FileFormatError(f"SymbolBlock.imports: {path!r} {msg}")


def _read_symbol_file(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"SymbolBlock.imports: no such file: {path!r}") from None
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(path, f"is not valid JSON ({exc}); was it truncated or corrupted?") \
            from None
    if not isinstance(doc, dict):
        raise _fail(path, "is not a graph file written by HybridBlock.export (the top level is "
                    "not an object)")
    if doc.get("format") != FORMAT:
        if "nodes" in doc and "heads" in doc:
            raise _fail(path, "is an MXNet symbol file; framework reads only the graphs its "
                        "own HybridBlock.export writes (re-export the model with framework)")
        raise _fail(path, f"is not a graph file written by HybridBlock.export (no "
                    f"\"format\": \"{FORMAT}\")")
    version = doc.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise _fail(path, f"has format version {version!r}; this framework reads version "
                    f"{VERSION} or older")
    return doc


def _load_graph(g: dict[str, Any], consts: dict[str, Any], params: dict[str, Parameter],
                device: Device) -> _LoadedGraph:
    graph = _LoadedGraph()
    graph.n_slots = int(g["n_slots"])
    graph.in_struct = decode_attr(g["in_struct"])
    graph.input_slots = [int(e["slot"]) for e in g["inputs"]]
    graph.in_specs = [(tuple(e["shape"]), numpy.dtype(e["dtype"]), device) for e in g["inputs"]]
    graph.param_slots = [(int(e["slot"]), params[e["name"]], device) for e in g["params"]]
    host_consts = []
    for e in g["consts"]:
        if "value" in e:
            host = numpy.array(e["value"], dtype=e["dtype"]).reshape(e["shape"])
        else:
            host = consts[e["key"]]
        host_consts.append((int(e["slot"]), host, bool(e.get("mutated", False))))
    graph.host_consts = host_consts
    steps = []
    for i, e in enumerate(g["steps"]):
        try:
            op = op_from_json({"op": e["op"], "attrs": e.get("attrs", {})}, device)
        except OpSerializationError as exc:
            raise OpSerializationError(f"step {i}: {exc}") from None
        steps.append((op.replay, [int(s) for s in e["inputs"]],
                      [int(s) for s in e["outputs"]], op))
    graph.steps = steps
    graph.out_struct = decode_attr(g["out_struct"])
    graph.out_slots = [int(s) for s in g["outputs"]]
    graph.flat_in = True  # SymbolBlock.forward passes the input arrays, flat and in order
    graph.single_out = graph.out_struct[0] == "A"
    graph.bind(device)
    return graph


class SymbolBlock(HybridBlock):
    """A block rebuilt from the files ``HybridBlock.export`` writes (``SymbolBlock.imports``).

    Calling it replays the exported graph: the one traced in the current training mode when the
    file has one per mode, else the only one. Its parameters are ordinary Parameters named by
    the original block's structural names (``features.0.weight``), trainable, so the block can
    be fine-tuned, saved with ``save_parameters`` and exported again. Inputs are positional, in
    the order of ``input_names``.

    ``SymbolBlock(outputs, inputs, params)`` needs MXNet's symbol API, which framework does not
    have: it raises NotImplementedError.
    """

    def __init__(self, outputs: Any = None, inputs: Any = None, params: Any = None) -> None:
        if outputs is not None or inputs is not None:
            raise NotImplementedError(
                "SymbolBlock(outputs, inputs, params) builds a block from MXNet Symbols, and "
                "framework has no symbol API; load an exported model with "
                "SymbolBlock.imports(symbol_file, input_names, param_file) instead")
        super().__init__()
        object.__setattr__(self, "_graphs", [])
        object.__setattr__(self, "_input_names", [])
        object.__setattr__(self, "_order", [])
        object.__setattr__(self, "_source", "")

    @staticmethod
    def imports(symbol_file: str, input_names: Any, param_file: str | None = None,
                ctx: Any = None, device: Any = None, allow_missing: bool = False,
                ignore_extra: bool = False) -> SymbolBlock:
        """Load ``symbol_file`` (``path-symbol.json``) and, if given, ``param_file``
        (``path-0000.params``); without a param file the parameters must be initialized
        before use. ``input_names``: the graph's input names (``'data'`` or
        ``['data0', 'data1']``), in the order the block will take them."""
        path = os.fspath(symbol_file)
        doc = _read_symbol_file(path)
        where = device if device is not None else ctx
        devices = list(where) if isinstance(where, (list, tuple)) else None
        dev = resolve(devices[0]) if devices else resolve(device, ctx)
        names = [input_names] if isinstance(input_names, str) else list(input_names)
        try:
            file_names = list(doc["inputs"])
            if sorted(names) != sorted(file_names) or len(set(names)) != len(names):
                raise ValueError(f"SymbolBlock.imports: the graph in {path!r} has inputs "
                                 f"{file_names}, got input_names={names}")
            block = SymbolBlock()
            object.__setattr__(block, "_input_names", names)
            object.__setattr__(block, "_order", [names.index(n) for n in file_names])
            object.__setattr__(block, "_source", path)
            params: dict[str, Parameter] = {}
            for name, spec in doc["params"].items():
                p = Parameter(name, shape=tuple(spec["shape"]), dtype=spec["dtype"],
                              grad_req="null" if spec.get("kind") == "aux" else "write")
                block._reg_params[name] = p
                block._params[name] = p
                params[name] = p
            consts: dict[str, Any] = {}
            if param_file is not None:
                consts = _load_params(block, os.fspath(param_file), devices or dev,
                                      allow_missing, ignore_extra)
            graphs = [(g["training"], _load_graph(g, consts, params, dev))
                      for g in doc["graphs"]]
        except (KeyError, TypeError, AttributeError) as exc:
            raise _fail(path, f"is malformed ({type(exc).__name__}: {exc})") from None
        except OpSerializationError as exc:
            raise _fail(path, f"holds an operator this framework cannot rebuild: {exc}") \
                from None
        if not graphs:
            raise _fail(path, "holds no graph")
        object.__setattr__(block, "_graphs", graphs)
        return block

    def _graph(self) -> _LoadedGraph:
        training = STATE.training
        for mode, g in self._graphs:
            if mode is None or mode == training:
                return g
        return self._graphs[0][1]

    def forward(self, *args: Any) -> Any:
        arrays: list[Any] = []
        _flatten(args, arrays)
        n = len(self._input_names)
        if len(arrays) != n:
            raise TypeError(f"SymbolBlock: expected {n} array input(s) {self._input_names}, "
                            f"got {len(args)} argument(s) holding {len(arrays)} array(s)")
        ordered = tuple(arrays[i] for i in self._order)
        return self._graph()(ordered)

    def _export_graphs(self) -> list[tuple[Any, bool | None]]:
        if self._active and self.__dict__.get("_last_key") in self._cached:
            return export_graphs(self)
        return [(g, mode) for mode, g in self._graphs]

    def __repr__(self) -> str:
        return f"SymbolBlock({self._source!r}, inputs={self._input_names})"


def _load_params(block: SymbolBlock, path: str, device: Any, allow_missing: bool,
                 ignore_extra: bool) -> dict[str, Any]:
    loaded = _load_file(path)
    if not isinstance(loaded, dict):
        raise FileFormatError(f"SymbolBlock.imports: {path!r} holds unnamed arrays, not the "
                              "parameters HybridBlock.export writes")
    consts = {}
    arrays = {}
    for k, v in loaded.items():
        if k.startswith("const:"):
            consts[k] = v.asnumpy()
        elif k.startswith(("arg:", "aux:")):
            arrays[k[4:]] = v
        else:
            arrays[k] = v
    load_into(block.collect_params(), arrays, path, device, allow_missing, ignore_extra,
              cast_dtype=True, dtype_source="saved")
    return consts
