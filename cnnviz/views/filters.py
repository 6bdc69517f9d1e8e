"""The Filters page's view: model, layer, which filters, the gradient-ascent settings
and how many times the run was continued.

Run-time facts (see :func:`facts`): ``models`` usable now, ``samples``, and for the
picked model its ``layers`` (of the default kinds), their ``channels``, and whether
its input is ``big`` (more than 128 pixels: fewer, slower images).
"""

from __future__ import annotations

from cnnviz.views.core import PageSpec, Param
from cnnviz.views.shared import image_params, model_param

HOW = {"range": "a range", "top": "most active on the image"}
LEARNING_RATES = (1.0, 3.0, 10.0, 30.0)
WEIGHTS = (0.0, 0.1, 0.3, 1.0, 3.0)
MOST_CONTINUED = 20


def facts(model, name: str) -> dict:
    """What the page offers for ``model`` (named ``name``)."""
    from cnnviz import probe

    infos = probe.feature_layers(model)
    kinds = probe.default_kinds(infos)
    shown = [i for i in infos if i.kind in kinds]
    side = max(d or 0 for d in probe.input_shape(model)[:2])
    return {"model": name, "layers": [i.name for i in shown],
            "channels": {i.name: i.channels for i in shown}, "big": side > 128}


def most_filters(context, values) -> int:
    """How many filters one run may optimise: 64 images of 224 px cost minutes."""
    return min(24 if context["big"] else 64, context["channels"][values["layer"]])


def _layers(context, values):
    return context["layers"]


def _middle(context, values):
    """the middle layer of the list"""
    return context["layers"][len(context["layers"]) // 2]


def _counts(context, values):
    return 1, most_filters(context, values)


def _count(context, values):
    """16 (8 for a model with a large input), at most the layer's filters"""
    return min(8 if context["big"] else 16, most_filters(context, values))


def _firsts(context, values):
    return 0, context["channels"][values["layer"]] - 1


def _number(value) -> str:
    return f"{float(value):g}"


def _recommended(field: str):
    from cnnviz.filters import RECOMMENDED

    return getattr(RECOMMENDED, field)


SPEC = PageSpec("filters", "pages/7_Filters.py", "Filters", (
    model_param(),
    *image_params("shape"),
    Param("layer", "layer", "choice", default=_middle, valid=_layers,
          where="a layer of {model} with feature maps"),
    Param("how", "filters chosen", "choice", default="range", valid=tuple(HOW), labels=HOW),
    Param("n", "how many filters", "int", default=_count, valid=_counts),
    Param("first", "first filter", "int", default=0, valid=_firsts,
          when=lambda v: v["how"] == "range", where="a filter of that layer"),
    Param("steps", "steps", "int", default=40, valid=(5, 200, 5)),
    Param("lr", "learning rate", "choice", default=10.0, valid=LEARNING_RATES, token=_number),
    Param("aseed", "start noise seed", "int", default=0, valid=(0, 9999)),
    Param("fourier", "Fourier image", "bool", default=False),
    Param("jitter", "jitter (pixels)", "int", default=_recommended("jitter"), valid=(0, 8)),
    Param("rzoom", "random zoom ±", "float", default=_recommended("scale"),
          valid=(0.0, 0.2, 0.01)),
    Param("rrot", "random rotation ± (degrees)", "float", default=_recommended("rotate"),
          valid=(0.0, 20.0, 1.0)),
    Param("blur", "blur every k steps", "int", default=_recommended("blur_every"),
          valid=(0, 10), doc="0 = never"),
    Param("sigma", "blur sigma (pixels)", "float", default=_recommended("blur_sigma"),
          valid=(0.3, 2.0, 0.1)),
    Param("tv", "total variation weight", "choice", default=_recommended("tv"), valid=WEIGHTS,
          token=_number),
    Param("l2", "L2 decay weight", "choice", default=_recommended("l2"), valid=WEIGHTS,
          token=_number),
    Param("cont", "times continued", "int", default=0, valid=(0, MOST_CONTINUED),
          doc="each continuation runs the same number of steps again"),
))
