"""Pretrained parameter files for the model zoo (MXNet's ``gluon.model_zoo.model_store``).

``get_model_file(name)`` returns the path of ``<root>/<name>-<hash8>.params``, MXNet's file name
for the published weights, downloading ``<repo>gluon/models/<name>-<hash8>.zip`` when the file
is missing or its SHA-1 does not match. Everything is read from the environment when called:

- ``root`` defaults to ``$FRAMEWORK_HOME/models`` (``$MXNET_HOME/models``, else
  ``~/.framework/models``); with the default root, a file MXNet itself already cached in
  ``~/.mxnet/models`` is used rather than downloaded again;
- the repository is ``$FRAMEWORK_GLUON_REPO`` (``$MXNET_GLUON_REPO``, else MXNet's public one);
- ``FRAMEWORK_OFFLINE=1`` (or ``MXNET_OFFLINE=1``) forbids downloading: a missing file then
  raises :class:`ModelFileNotFoundError` saying which file to place where.

The files are MXNet's own binary ``.params`` with structural names (``features.0.weight``);
``Block.load_parameters`` reads them.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile

import requests

from ... import _config
from ...base import FrameworkError
from ..utils import check_sha1, download, replace_file

__all__ = ["get_model_file", "purge", "short_hash", "data_dir", "ModelFileNotFoundError",
           "DEFAULT_REPO_URL"]

_LOG = logging.getLogger(__name__)

#: MXNet's public repository of pretrained Gluon weights
DEFAULT_REPO_URL = "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/"
_URL_FORMAT = "{repo_url}gluon/models/{file_name}.zip"

# SHA-1 of each published ``.params`` file (the first 8 hex digits are part of its name)
_MODEL_SHA1 = {
    "alexnet": "44335d1f0046b328243b32a26a4fbd62d9057b45",
    "densenet121": "f27dbf2dbd5ce9a80b102d89c7483342cd33cb31",
    "densenet161": "b6c8a95717e3e761bd88d145f4d0a214aaa515dc",
    "densenet169": "2603f878403c6aa5a71a124c4a3307143d6820e9",
    "densenet201": "1cdbc116bc3a1b65832b18cf53e1cb8e7da017eb",
    "inceptionv3": "ed47ec45a937b656fcc94dabde85495bbef5ba1f",
    "mobilenet0.25": "9f83e440996887baf91a6aff1cccc1c903a64274",
    "mobilenet0.5": "8e9d539cc66aa5efa71c4b6af983b936ab8701c3",
    "mobilenet0.75": "529b2c7f4934e6cb851155b22c96c9ab0a7c4dc2",
    "mobilenet1.0": "6b8c5106c730e8750bcd82ceb75220a3351157cd",
    "mobilenetv2_1.0": "36da4ff1867abccd32b29592d79fc753bca5a215",
    "mobilenetv2_0.75": "e2be7b72a79fe4a750d1dd415afedf01c3ea818d",
    "mobilenetv2_0.5": "aabd26cd335379fcb72ae6c8fac45a70eab11785",
    "mobilenetv2_0.25": "ae8f9392789b04822cbb1d98c27283fc5f8aa0a7",
    "resnet18_v1": "a0666292f0a30ff61f857b0b66efc0228eb6a54b",
    "resnet34_v1": "48216ba99a8b1005d75c0f3a0c422301a0473233",
    "resnet50_v1": "0aee57f96768c0a2d5b23a6ec91eb08dfb0a45ce",
    "resnet101_v1": "d988c13d6159779e907140a638c56f229634cb02",
    "resnet152_v1": "671c637a14387ab9e2654eafd0d493d86b1c8579",
    "resnet18_v2": "a81db45fd7b7a2d12ab97cd88ef0a5ac48b8f657",
    "resnet34_v2": "9d6b80bbc35169de6b6edecffdd6047c56fdd322",
    "resnet50_v2": "ecdde35339c1aadbec4f547857078e734a76fb49",
    "resnet101_v2": "18e93e4f48947e002547f50eabbcc9c83e516aa6",
    "resnet152_v2": "f2695542de38cf7e71ed58f02893d82bb409415e",
    "squeezenet1.0": "264ba4970a0cc87a4f15c96e25246a1307caf523",
    "squeezenet1.1": "33ba0f93753c83d86e1eb397f38a667eaf2e9376",
    "vgg11": "dd221b160977f36a53f464cb54648d227c707a05",
    "vgg11_bn": "ee79a8098a91fbe05b7a973fed2017a6117723a8",
    "vgg13": "6bc5de58a05a5e2e7f493e2d75a580d83efde38c",
    "vgg13_bn": "7d97a06c3c7a1aecc88b6e7385c2b373a249e95e",
    "vgg16": "e660d4569ccb679ec68f1fd3cce07a387252a90a",
    "vgg16_bn": "7f01cf050d357127a73826045c245041b0df7363",
    "vgg19": "ad2f660d101905472b83590b59708b71ea22b2e5",
    "vgg19_bn": "f360b758e856f1074a85abd5fd873ed1d98297c3",
}



class ModelFileNotFoundError(FrameworkError, FileNotFoundError):
    """A pretrained parameter file is not on disk and cannot be downloaded."""


data_dir = _config.home_dir  # $FRAMEWORK_HOME, else $MXNET_HOME, else ~/.framework
MXNET_CACHE = os.path.join("~", ".mxnet", "models")  # where MXNet itself caches weights


def _default_root() -> str:
    return os.path.join(data_dir(), "models")


def _repo_url() -> str:
    url = _config.getenv("GLUON_REPO") or DEFAULT_REPO_URL
    return url if url.endswith("/") else url + "/"


def short_hash(name: str) -> str:
    """The first 8 hex digits of the published file's SHA-1 (part of its file name)."""
    if name not in _MODEL_SHA1:
        raise ValueError(f"Pretrained model for {name!r} is not available; known models: "
                         f"{', '.join(sorted(_MODEL_SHA1))}")
    return _MODEL_SHA1[name][:8]


def get_model_file(name: str, root: str | os.PathLike[str] | None = None) -> str:
    """The path of the pretrained parameter file of model ``name`` (MXNet's model-store name,
    e.g. ``'resnet18_v1'``, ``'mobilenetv2_0.5'``), downloaded into ``root`` when missing or
    when its SHA-1 does not match the published one.

    Raises :class:`ModelFileNotFoundError` when the file is missing and cannot be downloaded
    (``FRAMEWORK_OFFLINE=1``, or no network); the message names the file to place and where.
    """
    file_name = f"{name}-{short_hash(name)}"
    root_arg = root
    root = os.path.expanduser(os.fspath(root)) if root is not None else _default_root()
    file_path = os.path.join(root, file_name + ".params")
    sha1_hash = _MODEL_SHA1[name]
    mxnet_cached = os.path.join(os.path.expanduser(MXNET_CACHE), file_name + ".params")
    if root_arg is None and not os.path.exists(file_path) and os.path.exists(mxnet_cached) \
            and check_sha1(mxnet_cached, sha1_hash):
        return mxnet_cached  # downloaded earlier by MXNet itself
    if os.path.exists(file_path):
        if check_sha1(file_path, sha1_hash):
            return file_path
        problem = f"{file_path} exists but its SHA-1 is not {sha1_hash}"
        _LOG.warning("%s; downloading it again.", problem)
    else:
        problem = f"{file_path} does not exist"
        _LOG.info("Model file not found. Downloading to %s.", file_path)
    url = _URL_FORMAT.format(repo_url=_repo_url(), file_name=file_name)
    hint = (f"Download {url}, unzip it and place {file_name}.params in {root} (or pass "
            "root=, or set FRAMEWORK_HOME: files are looked up in $FRAMEWORK_HOME/models)")
    if _config.offline():
        raise ModelFileNotFoundError(f"pretrained weights for {name!r}: {problem}, and "
                                     f"FRAMEWORK_OFFLINE is set so nothing is downloaded. "
                                     f"{hint}.")
    os.makedirs(root, exist_ok=True)
    try:
        _download_and_extract(url, root, file_name, file_path)
    except (OSError, requests.RequestException, zipfile.BadZipFile) as exc:
        raise ModelFileNotFoundError(f"pretrained weights for {name!r}: {problem} and "
                                     f"downloading {url} failed ({exc}). {hint}.") from exc
    if not check_sha1(file_path, sha1_hash):
        raise ValueError(f"the downloaded {file_path} does not have the published SHA-1 "
                         f"{sha1_hash}; the repository {_repo_url()} may be outdated, please "
                         "try again")
    return file_path


def _download_and_extract(url: str, root: str, file_name: str, file_path: str) -> None:
    """Fetch the zip into a private temporary directory under ``root`` and move the
    ``.params`` it holds onto ``file_path`` (atomically: a reader never sees a partial file)."""
    tmp_dir = tempfile.mkdtemp(prefix=f".{file_name}.", dir=root)
    try:
        zip_path = download(url, path=os.path.join(tmp_dir, file_name + ".zip"),
                            overwrite=True, retries=2, backoff=0.5)
        with zipfile.ZipFile(zip_path) as zf:
            member = file_name + ".params"
            if member not in zf.namelist():
                raise zipfile.BadZipFile(f"{url} does not contain {member} (it holds "
                                         f"{zf.namelist()})")
            zf.extract(member, tmp_dir)
        replace_file(os.path.join(tmp_dir, member), file_path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def purge(root: str | os.PathLike[str] | None = None) -> None:
    """Delete every ``.params`` file in ``root`` (default ``$FRAMEWORK_HOME/models``)."""
    root = os.path.expanduser(os.fspath(root)) if root is not None else _default_root()
    if not os.path.isdir(root):
        return
    for f in os.listdir(root):
        if f.endswith(".params"):
            os.remove(os.path.join(root, f))
