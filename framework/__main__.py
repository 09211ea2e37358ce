"""Command line: ``python -m framework info`` and ``python -m framework datasets ...``.

``info`` prints what a bug report needs: versions, the BLAS NumPy uses, whether CuPy, CUDA and
MPI can be used, and the engine type. ``datasets download|verify|path NAME`` manages the dataset
cache (see ``framework.gluon.data.vision``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import platform
import sys
from typing import Any


def _version(module: str) -> str:
    try:
        mod = importlib.import_module(module)
    except Exception as exc:
        return f"not available ({type(exc).__name__})"
    return str(getattr(mod, "__version__", "installed"))


def _blas() -> str:
    import numpy

    try:
        config = numpy.show_config(mode="dicts")
    except TypeError:  # older NumPy prints instead of returning
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            numpy.show_config()
        return buf.getvalue().strip().splitlines()[0] if buf.getvalue() else "unknown"
    deps = (config or {}).get("Build Dependencies", {})
    blas = deps.get("blas", {})
    name = blas.get("name", "unknown")
    version = blas.get("version", "")
    return f"{name} {version}".strip()


def _gpu_line() -> str:
    from . import device

    cp = device.get_cupy()
    if cp is None:
        reason = device._cupy_error or "cupy is not installed"
        return f"no ({reason})"
    n = device.num_gpus()
    try:
        runtime = cp.cuda.runtime.runtimeGetVersion()
        names = []
        for i in range(n):
            props = cp.cuda.runtime.getDeviceProperties(i)
            names.append(props["name"].decode() if isinstance(props["name"], bytes)
                         else str(props["name"]))
        return f"{n} GPU(s), CUDA runtime {runtime}: {', '.join(names)}"
    except Exception as exc:
        return f"{n} GPU(s) ({type(exc).__name__}: {exc})"


def _mpi_line() -> str:
    try:
        from mpi4py import MPI
    except Exception as exc:
        return f"no ({type(exc).__name__}: install the 'dist' extra)"
    return f"mpi4py {_version('mpi4py')}, {MPI.Get_library_version().splitlines()[0].strip()}"


def info() -> dict[str, Any]:
    """The facts ``python -m framework info`` prints, as a dict."""
    from . import __version__, _config, engine

    return {
        "framework": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "numpy": _version("numpy"),
        "blas": _blas(),
        "tqdm": _version("tqdm"),
        "requests": _version("requests"),
        "cupy / gpu": _gpu_line(),
        "mpi": _mpi_line(),
        "matplotlib": _version("matplotlib"),
        "engine": engine.engine_type(),
        "host memory": engine._memory.STATUS,
        "cpu cores": str(os.cpu_count()),
        "cache (FRAMEWORK_HOME)": _config.home_dir(),
    }


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m framework",
                                     description="framework's command line tools")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("info", help="versions, BLAS, GPU/MPI availability, engine type")
    sub.add_parser("datasets", help="download, verify or locate datasets", add_help=False)
    if argv and argv[0] == "datasets":
        from .gluon.data.vision import _cli

        return int(_cli.main(argv[1:]))
    args = parser.parse_args(argv)
    if args.command == "info":
        facts = info()
        width = max(map(len, facts))
        for key, value in facts.items():
            print(f"{key:<{width}}  {value}")
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
