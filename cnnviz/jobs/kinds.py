"""The kinds of job, each a plain function of the library named by its import path, and
the key that makes identical settings one job.

A kind's functions live in its module:

- ``run(settings, report, should_stop) -> result``: settings and result are plain,
  picklable data (numbers, strings, numpy arrays, dataclasses of them; never a Keras
  model, never Streamlit); ``report(dict)`` publishes progress, ``should_stop()`` is
  polled between batches;
- ``cost(settings) -> (cost class, units)``: how much work the settings ask for, which
  :mod:`cnnviz.jobs.estimates` turns into seconds measured on this server.

Naming them by import path ("module:function") lets a worker in another process, or on
another machine, import and run the same function.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnnviz.errors import CnnvizError


@dataclass(frozen=True)
class Kind:
    """A kind of job: its job function and its cost function (import paths or callables)."""

    run: str | Callable
    cost: str | Callable


def _kind(module: str) -> Kind:
    return Kind(f"{module}:run", f"{module}:cost")


#: Every kind of training the pages start.
KINDS: dict[str, Kind] = {
    "augmentation": _kind("cnnviz.training.augmentation"),
    "transfer": _kind("cnnviz.training.transfer"),
    "pooled_vs_plain": _kind("cnnviz.training.pair"),
    "residual": _kind("cnnviz.residual"),
}


def resolve(target: str | Callable) -> Callable:
    """The function an import path "package.module:function" names (a callable as is)."""
    if callable(target):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def settings_key(kind: str, settings) -> str:
    """A digest of ``kind`` and every value in ``settings``: equal settings, equal key,
    in any process (arrays count by their bytes, dicts whatever their order)."""
    digest = hashlib.sha256()
    _feed(digest, kind)
    _feed(digest, settings)
    return digest.hexdigest()


def _feed(digest, value) -> None:
    def tag(text: str) -> None:
        digest.update(text.encode() + b"\0")

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        tag(f"dataclass {type(value).__qualname__} {len(dataclasses.fields(value))}")
        for f in dataclasses.fields(value):
            tag(f.name)
            _feed(digest, getattr(value, f.name))
    elif isinstance(value, np.ndarray):
        tag(f"array {value.dtype.str} {value.shape}")
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (bytes, bytearray)):
        tag(f"bytes {len(value)}")
        digest.update(value)
    elif isinstance(value, dict):
        tag(f"dict {len(value)}")
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        tag(f"list {len(value)}")
        for item in value:
            _feed(digest, item)
    elif isinstance(value, np.generic):
        _feed(digest, value.item())
    elif value is None or isinstance(value, (str, int, float, bool)):
        tag(f"{type(value).__name__} {value!r}")
    else:
        raise TypeError(f"Job settings must be plain data; got a {type(value).__name__}.")


def readable_error(error: BaseException) -> str:
    """What a student reads when a job failed: our own messages as they are; anything
    else is a bug, logged with its traceback, and told in one polite sentence."""
    if isinstance(error, CnnvizError):
        return str(error)
    if isinstance(error, MemoryError):
        return ("The server ran out of memory for this training. Try fewer or smaller "
                "images, or fewer runs at once.")
    return (f"The training stopped on an unexpected error ({type(error).__name__}). It has "
            "been logged for the instructor; try other settings or run it again.")
