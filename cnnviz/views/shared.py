"""The settings every probing page shares: the sidebar's image and model pickers.

Their values are the pickers' own (a sample photo's name, a shape class), so a
page can hand them to ``cnnviz.ui.state`` as they are; the URL writes sample
photos as short slugs ('cat-chelsea').
"""

from __future__ import annotations

from cnnviz.data import SHAPE_CLASSES
from cnnviz.views.core import Param, slug

#: the image sources a link can carry, with the picker's label for each; an upload
#: or a camera photo stays in the student's session
SOURCES = {"sample": "Sample photo", "shape": "Synthetic shape"}
#: side of a synthetic shape image, as the picker draws it
SHAPE_SIZE = 64
SEED_RANGE = (0, 10_000)


def _samples(context, values):
    return context["samples"]


def _first_sample(context, values):
    """the first sample photo"""
    return context["samples"][0]


def _is_sample(values) -> bool:
    return values["src"] == "sample"


def _is_shape(values) -> bool:
    return values["src"] == "shape"


def image_params(default_source: str = "sample") -> tuple[Param, ...]:
    """The image picker's settings; ``default_source`` is the page's (sample or shape)."""
    return (
        Param("src", "image source", "choice", default=default_source, valid=tuple(SOURCES),
              labels=SOURCES, where="a source a link can carry (sample, shape)",
              doc="an uploaded or camera image cannot travel in a link"),
        Param("sample", "sample photo", "choice", default=_first_sample, valid=_samples,
              when=_is_sample, token=slug, where="one of the sample photos"),
        Param("shape", "shape", "choice", default="circle", valid=SHAPE_CLASSES,
              when=_is_shape),
        Param("seed", "shape seed", "int", default=0, valid=SEED_RANGE, when=_is_shape,
              doc="make_shapes' random seed: where the shape sits, its size and colours"),
    )


def _models(context, values):
    return context["models"]


def model_param(default: str = "shapes_cnn") -> Param:
    """The model picker's setting (an uploaded model cannot travel in a link)."""
    return Param("model", "model", "choice", default=default, valid=_models,
                 where="a model this server can use now",
                 doc="an uploaded model cannot travel in a link")
