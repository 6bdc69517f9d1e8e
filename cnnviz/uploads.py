"""Reading what a student hands the app (a path, bytes or a file object), at most N bytes.

Images, zips of class folders and ``.keras`` model files all enter through
``read_bytes``: it never reads more than ``max_bytes + 1`` bytes, so a huge
upload is refused without being held in memory, and every failure is the
caller's own error type (``ImageError``, ``DatasetError``, ``ModelError``) with a
message that names the file and the limit.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnnviz.errors import CnnvizError


def megabytes(n_bytes: int) -> str:
    """A byte count for a message: "50 MB", "1.5 MB", "0.000954 MB" (never 0 MB)."""
    value = np.format_float_positional(n_bytes / 2**20, precision=3, fractional=False,
                                       trim="-")
    return f"{value} MB"


def source_name(src, noun: str) -> str:
    """How messages call ``src``: "The file 'cat.png'" for files, else "The image"."""
    if isinstance(src, (str, os.PathLike)):
        return f"The file {Path(src).name!r}"
    if hasattr(src, "read"):
        return f"The file {Path(getattr(src, 'name', '') or 'upload').name!r}"
    return f"The {noun}"


def read_bytes(src, max_bytes: int, *, noun: str = "file",
               error: type[CnnvizError] = CnnvizError) -> bytes:
    """The bytes of ``src`` (path, bytes-like or binary file object), at most ``max_bytes``.

    ``noun`` names what is read in messages ("image", "zip file", "model file");
    every failure (missing, unreadable, text-mode, empty, over the limit) raises
    ``error``.
    """
    name = source_name(src, noun)
    too_large = f"{name} is larger than the {megabytes(max_bytes)} limit. Use a smaller {noun}."
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
    elif isinstance(src, (str, os.PathLike)):
        path = Path(src)
        try:
            if not path.is_file():
                raise error(f"There is no {noun} at {str(path)!r}.")
            size = path.stat().st_size
            if size > max_bytes:
                raise error(f"{name} is {megabytes(size)}; the limit is "
                            f"{megabytes(max_bytes)}. Use a smaller {noun}.")
            with path.open("rb") as file:
                data = file.read(max_bytes + 1)
        except OSError as failure:
            raise error(f"{name} could not be read: {failure.strerror or failure}.") from failure
    elif hasattr(src, "read"):
        try:
            data = src.read(max_bytes + 1)
        except (OSError, ValueError) as failure:
            raise error(f"{name} could not be read: {failure}.") from failure
        if isinstance(data, str):
            raise error(f"{name} was opened as text; open it in binary mode ('rb').")
        if not isinstance(data, (bytes, bytearray)):
            raise error(f"{name} did not return bytes when read.")
        data = bytes(data)
    else:
        article = "an" if noun[:1] in "aeiou" else "a"
        raise error(f"Cannot read {article} {noun} from a {type(src).__name__}; give a file "
                    "path, bytes or a binary file object.")
    if len(data) > max_bytes:
        raise error(too_large)
    if not data:
        raise error(f"{name} is empty (0 bytes). Choose another file.")
    return data
