"""The Activations page's view: model, image, the layers shown, the enlarged map, the
channel browser, the second image, and the feature-hierarchy probe's data.

Run-time facts (see :func:`facts`): ``models`` usable now, ``samples``, and for the
picked model its feature ``layers`` with their ``kinds``, ``channels`` and
``default_kinds``, and whether its input is ``big`` (more than 128 pixels).
"""

from __future__ import annotations

from cnnviz.data import SHAPE_CLASSES
from cnnviz.views.core import PageSpec, Param, slug
from cnnviz.views.shared import SEED_RANGE, SOURCES, image_params, model_param

SCALES = {"channel": "its own min–max (see every pattern)",
          "layer": "the layer's range (see which are strong)"}
KIND_NAMES = ("conv", "pool", "activation")  # cnnviz.probe.KINDS
PER_PAGE = 32  # maps per page when browsing every channel of a layer
SHOWN = 3  # layers shown by default, spread from first to last
PROBE_IMAGES = (100, 600, 100)
#: the answers to "which layer separates the classes best?" (layers spread as SHOWN)
DEPTH_CHOICES = ("the early layer", "the middle layer", "the deep layer")


def facts(model, name: str) -> dict:
    """What the page offers for ``model`` (named ``name``)."""
    from cnnviz import probe

    infos = probe.feature_layers(model)
    side = max(d or 0 for d in probe.input_shape(model)[:2])
    return {"model": name, "layers": [i.name for i in infos],
            "kinds": {i.name: i.kind for i in infos},
            "channels": {i.name: i.channels for i in infos},
            "default_kinds": tuple(probe.default_kinds(infos)), "big": side > 128}


def spread(options, k: int = SHOWN) -> list:
    """``k`` options evenly spread from first to last."""
    options = list(options)
    if len(options) <= k:
        return options
    return [options[round(i * (len(options) - 1) / (k - 1))] for i in range(k)]


def listed(context, values) -> list[str]:
    """The model's layers of the chosen kinds (all of them when no kind is chosen)."""
    kinds = context["kinds"]
    chosen = [n for n in context["layers"] if kinds[n] in values["kinds"]]
    return chosen or list(context["layers"])


def _default_kinds(context, values):
    """the kinds whose outputs follow a non-linearity"""
    return context["default_kinds"]


def _layers(context, values):
    return listed(context, values)


def _spread(context, values):
    """three layers spread from first to last"""
    return tuple(spread(listed(context, values)))


def _chosen(context, values):
    return tuple(values["layers"])


def _first_chosen(context, values):
    """the first layer shown"""
    return values["layers"][0]


def _any_chosen(values) -> bool:
    return bool(values["layers"])


def _channels(name):
    def valid(context, values):
        return 0, context["channels"][values[name]] - 1
    return valid


def _ranks(context, values):
    return 0, max(0, context["channels"][values["all"]] - PER_PAGE), PER_PAGE // 2


def _middle(context, values):
    """the middle layer of the list"""
    names = listed(context, values)
    return names[len(names) // 2]


def _probe_images(context, values):
    """300 (100 for a model with a large input)"""
    return 100 if context["big"] else 300


def _samples(context, values):
    return context["samples"]


def _first_sample(context, values):
    """the first sample photo"""
    return context["samples"][0]


#: the second image of the side-by-side comparison (the sidebar's "Second image" picker)
SECOND_IMAGE = (
    Param("src2", "second image source", "choice", default="shape", valid=tuple(SOURCES),
          labels=SOURCES, where="a source a link can carry (sample, shape)",
          doc="an uploaded or camera image cannot travel in a link"),
    Param("sample2", "second sample photo", "choice", default=_first_sample, valid=_samples,
          when=lambda v: v["src2"] == "sample", token=slug, where="one of the sample photos"),
    Param("shape2", "second shape", "choice", default="square", valid=SHAPE_CLASSES,
          when=lambda v: v["src2"] == "shape"),
    Param("seed2", "second shape seed", "int", default=0, valid=SEED_RANGE,
          when=lambda v: v["src2"] == "shape"),
)

SPEC = PageSpec("activations", "pages/6_Activations.py", "Activations", (
    model_param(),
    *image_params("shape"),
    Param("kinds", "layer kinds listed", "choices", default=_default_kinds, valid=KIND_NAMES,
          doc="conv, pool, activation"),
    Param("layers", "layers shown", "choices", default=_spread, valid=_layers,
          where="a listed layer of {model}"),
    Param("scale", "map scale", "choice", default="channel", valid=tuple(SCALES),
          labels=SCALES),
    Param("ml", "enlarged map's layer", "choice", default=_first_chosen, valid=_chosen,
          when=_any_chosen, where="one of the layers shown"),
    Param("mc", "enlarged map's channel", "int", optional=True, valid=_channels("ml"),
          when=_any_chosen, where="a channel of that layer",
          doc="by default the strongest channel"),
    Param("all", "layer browsed channel by channel", "choice", default=_first_chosen,
          valid=_chosen, when=_any_chosen, where="one of the layers shown"),
    Param("rank", "first channel rank browsed", "int", default=0, valid=_ranks,
          when=_any_chosen, doc=f"channels are shown {PER_PAGE} at a time, strongest first"),
    Param("pair", "layer compared on two images", "choice", default=_middle, valid=_layers,
          where="a listed layer of {model}"),
    *SECOND_IMAGE,
    Param("pn", "probe images", "int", default=_probe_images, valid=PROBE_IMAGES,
          doc="make_shapes images the feature-hierarchy probe uses"),
    Param("pseed", "probe images' seed", "int", default=0, valid=SEED_RANGE),
))
