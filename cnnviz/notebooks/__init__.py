"""Take a view home: the code that reproduces it, its maths, a notebook, its data.

Each page with a view has a module here (``convolution.py``, ``gradcam.py``) with

- ``code(view) -> str``: Python using the public ``cnnviz`` API and plain Keras,
  with the view's settings filled in, in cells marked ``# %% title``; its last
  cell builds ``numbers``, a dict of the numbers the page shows;
- ``numbers(...) -> dict``: the same numbers from the page's own arrays;
- ``maths(view, numbers) -> list[str]``: the formulas, numbers filled in (LaTeX).

The page shows ``code(view)`` and ``maths(...)`` side by side; the notebook is
built from the same code, so what a student downloads is what the page showed,
and the tests run both and compare their numbers with the page's.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from types import ModuleType

import numpy as np

from cnnviz.views import View, spec

_CELL = re.compile(r"^# %% ?(.*)$", re.MULTILINE)


def module(page: str) -> ModuleType:
    """The code module of page ``page`` (its view id)."""
    from cnnviz.notebooks import (
        activations,
        architecture,
        augmentation,
        convolution,
        filters,
        gradcam,
        pooling,
        transfer,
    )

    modules = {"convolution": convolution, "gradcam": gradcam, "activations": activations,
               "filters": filters, "pooling": pooling, "augmentation": augmentation,
               "architecture": architecture, "transfer": transfer}
    if page not in modules:
        raise KeyError(f"No code for page {page!r}; pages with code: {', '.join(modules)}")
    return modules[page]


def code(view: View) -> str:
    """The Python that reproduces ``view`` (cells marked ``# %% title``)."""
    return module(view.page).code(view)


def maths(view: View, numbers: Mapping) -> list[str]:
    """The formulas of ``view`` with its numbers filled in (LaTeX, one per line)."""
    return module(view.page).maths(view, numbers)


def cells(source: str) -> list[tuple[str, str]]:
    """Split code at its ``# %% title`` markers: [(title, code), ...]."""
    marks = list(_CELL.finditer(source))
    out = []
    for mark, after in zip(marks, [*marks[1:], None]):
        body = source[mark.end():after.start() if after else len(source)].strip("\n")
        out.append((mark.group(1).strip(), body))
    return out


def notebook(view: View, *, link: str | None = None, maths_lines=()):
    """A Jupyter notebook (``nbformat`` v4) that reproduces ``view``: a title, the link
    back to the page, the formulas, then one code cell per step of :func:`code`."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    page = spec(view.page)
    intro = [f"# cnnviz · {page.title}", "",
             "This notebook reproduces one view of the cnnviz app with the `cnnviz` "
             "library and plain Keras. Run it from a clone of the cnnviz repository "
             "(or with `cnnviz` installed)."]
    if link:
        intro += ["", f"The view in the app: <{link}>"]
    settings = ", ".join(f"`{k}={v}`" for k, v in view.query().items()) or "the defaults"
    intro += ["", f"Settings: {settings}."]
    nb_cells = [new_markdown_cell("\n".join(intro))]
    if maths_lines:
        nb_cells.append(new_markdown_cell("\n\n".join(f"$${line}$$" for line in maths_lines)))
    for title, body in cells(code(view)):
        nb_cells += [new_markdown_cell(f"## {title}"), new_code_cell(body)]
    nb = new_notebook(cells=nb_cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(nb)
    return nb


def notebook_bytes(view: View, *, link: str | None = None, maths_lines=()) -> bytes:
    """:func:`notebook` as the bytes of an ``.ipynb`` file."""
    import nbformat

    return nbformat.writes(notebook(view, link=link, maths_lines=maths_lines)).encode()


def data_zip(arrays: Mapping[str, np.ndarray], numbers: Mapping, view: View,
             *, link: str | None = None) -> bytes:
    """The data behind a page's figures as a zip: every array in ``figures.npz``, each
    2-D or 1-D array also as a CSV, the numbers and the view as JSON."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        npz = io.BytesIO()
        np.savez_compressed(npz, **{k: np.asarray(v) for k, v in arrays.items()})
        archive.writestr("figures.npz", npz.getvalue())
        for name, array in arrays.items():
            array = np.asarray(array)
            if array.ndim in (1, 2) and array.dtype.kind in "biuf":
                text = io.StringIO()
                np.savetxt(text, np.atleast_2d(array) if array.ndim == 1 else array,
                           delimiter=",", fmt="%.6g")
                archive.writestr(f"{name}.csv", text.getvalue())
        archive.writestr("numbers.json", json.dumps(dict(numbers), indent=2))
        archive.writestr("view.json", json.dumps(
            {"page": view.page, "query": view.query(), "link": link}, indent=2))
    return buffer.getvalue()
