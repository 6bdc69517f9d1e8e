"""A view is data: each page's meaningful state as a small value that lives in its URL.

A lecturer who sends a link sends the *view*: the model, the image (sample photo,
or shape and seed), the layer, the class, the kernel, every knob. This package
says, for each page, which settings make its view (``SPECS[page]``: short,
stable parameter names, documented in ``docs/views.md``), and turns a query
string into the nearest valid view and back::

    >>> from cnnviz import views
    >>> view, notices = views.parse("convolution", "stride=2&dil=9", {})
    >>> view["stride"], notices
    (2, ['dilation 9 is not between 1 and 8; showing 8'])
    >>> views.to_query(view)
    'stride=2&dil=8'

Rules:

- Only values that differ from their default appear in a query (``to_query``).
- Parsing checks every value against what is valid *now* (``context``: the
  models usable on this server, the model's layers and classes, the image's
  size) and replaces a bad or stale one with the nearest valid value (a number
  is clamped to its range, a choice falls back to its default), with one line
  per change for the student to read. An unknown parameter is ignored with a
  notice. Nothing here raises for a bad link.
- A check that needs a fact the context does not hold is skipped: a lesson file
  can be checked without loading a model.
- An uploaded image or model never travels: ``src`` only takes ``sample`` and
  ``shape``; ``model`` only the models the server has.

To give a page a view: write ``cnnviz/views/<page>.py`` with a ``SPEC`` (see
``convolution.py``), add it to ``SPECS`` below, run ``python -m cnnviz.views`` to
regenerate ``docs/views.md``, then use ``cnnviz.ui.page_view`` on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cnnviz.views import (
    activations,
    architecture,
    augmentation,
    convolution,
    filters,
    gradcam,
    pooling,
    transfer,
)
from cnnviz.views.core import (
    APP_PARAMS,
    KINDS,
    Context,
    PageSpec,
    Param,
    View,
    encode,
    parse_query,
    slug,
)
from cnnviz.views.core import resolve as _resolve
from cnnviz.views.core import table as _table
from cnnviz.views.shared import SHAPE_SIZE, SOURCES

__all__ = [
    "APP_PARAMS", "KINDS", "SOURCES", "SPECS", "PageSpec", "Param", "View", "docs", "pages_for",
    "image_context", "link", "parse", "picked_image", "resolve", "slug", "spec", "to_query",
]

#: every page that has a view, by its id
SPECS: dict[str, PageSpec] = {s.page: s for s in (convolution.SPEC, gradcam.SPEC,
                                                 activations.SPEC, filters.SPEC,
                                                 pooling.SPEC, augmentation.SPEC,
                                                 architecture.SPEC, transfer.SPEC)}


def spec(page: str) -> PageSpec:
    """The spec of page ``page`` (an id such as ``"gradcam"``, or the page's script path)."""
    if page in SPECS:
        return SPECS[page]
    for candidate in SPECS.values():
        if candidate.path == page:
            return candidate
    raise KeyError(f"No view for page {page!r}; pages with a view: {', '.join(SPECS)}")


def parse(page: str, query: str | Mapping[str, Any],
          context: Context | None = None) -> tuple[View, list[str]]:
    """The nearest valid view to a query string (or its ``{name: text}`` mapping), and
    one line per value that was bad, stale or unknown."""
    return _resolve(spec(page), parse_query(query), context, texts=True)


def resolve(page: str, values: Mapping[str, Any],
            context: Context | None = None) -> tuple[View, list[str]]:
    """Like :func:`parse` for typed values (``{"stride": 2}``): the nearest valid view."""
    return _resolve(spec(page), values, context)


def to_query(view: View) -> str:
    """The view as a query string (without '?'): only values that differ from the default."""
    return encode(view.query())


def link(base_url: str, view: View) -> str:
    """The full URL of ``view`` on the app at ``base_url`` (e.g. 'http://host:8501/')."""
    query = to_query(view)
    url = f"{base_url.rstrip('/')}/{spec(view.page).url_name}"
    return f"{url}?{query}" if query else url


def pages_for(query: str | Mapping[str, Any]) -> list[PageSpec]:
    """The pages whose settings a query names, best first: where to send a link whose
    page was not found (renamed, mistyped). Only the shared image and model settings
    are not enough to tell; then every page with them is returned."""
    names = set(parse_query(query)) - APP_PARAMS
    if not names:
        return []
    scored = [(len(names & set(page.names)), page) for page in SPECS.values()]
    best = max(score for score, _ in scored)
    return [page for score, page in scored if score == best and score > 0]


def image_context() -> dict:
    """The facts the shared image settings are checked against: the sample photos."""
    from cnnviz.images import sample_images

    return {"samples": list(sample_images())}


def picked_image(view: View) -> tuple[np.ndarray, np.ndarray | None]:
    """The image a view's picker settings name, as the sidebar picker makes it:
    uint8 (H, W, 3), and the object's mask for a synthetic shape (else None)."""
    if view["src"] == "shape":
        from cnnviz.data import make_shapes

        shapes = make_shapes(1, size=SHAPE_SIZE, seed=view["seed"], classes=[view["shape"]])
        return (shapes.images[0] * 255).round().astype(np.uint8), shapes.masks[0]
    from cnnviz.images import sample_images

    return sample_images()[view["sample"]], None


def docs() -> str:
    """The parameter tables of ``docs/views.md``."""
    return ("# Views: the settings in a page's URL\n\n"
            "Generated from `cnnviz.views.SPECS` by `python -m cnnviz.views`; do not edit.\n"
            "A link lists only the settings that differ from their default. A bad or stale\n"
            "value opens the nearest valid view with a one-line notice.\n\n"
            + _table(list(SPECS.values())))
