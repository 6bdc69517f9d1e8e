"""The Pooling & receptive fields page's view: the image, the unit whose receptive field
is drawn, the pooling demo's knobs, the stack of the pyramid builder, the shift probe's
largest shift and the pooled-vs-plain experiment's settings.

Run-time facts (see :func:`facts`): ``rf_layers``, the built-in model's convolution and
pooling layers, and ``rf_hw``, each one's output (height, width).
"""

from __future__ import annotations

from cnnviz.views.core import PageSpec, Param
from cnnviz.views.shared import image_params

MODEL = "shapes_cnn"
MODES = {"max": "max", "average": "average"}
#: what ends each block of the pyramid builder
DOWNSAMPLING = {"pool": "2x2 max pooling", "stride": "a stride-2 convolution",
                "none": "nothing (no downsampling)"}
KERNELS = (3, 5, 7)
TRAINING_IMAGES = (500, 1000, 1500, 3000)


def facts(rfs) -> dict:
    """What the page offers for the built-in model, from its receptive fields
    (``receptive.receptive_fields``, convolution and pooling layers only)."""
    return {"rf_layers": [r.name for r in rfs],
            "rf_hw": {r.name: tuple(int(n) for n in r.output_hw) for r in rfs}}


def _layers(context, values):
    return context["rf_layers"]


def _rows(context, values):
    return 0, context["rf_hw"][values["layer"]][0] - 1


def _cols(context, values):
    return 0, context["rf_hw"][values["layer"]][1] - 1


def _window(context, values):
    """the window (non-overlapping)"""
    return values["win"]


SPEC = PageSpec("pooling", "pages/2_Pooling_and_Receptive_Fields.py",
                "Pooling & receptive fields", (
    *image_params("shape"),
    Param("layer", "layer", "choice", default="block2_conv2", valid=_layers,
          where=f"a convolution or pooling layer of {MODEL}",
          doc="the layer of the unit whose receptive field is drawn"),
    Param("row", "unit row", "int", optional=True, valid=_rows,
          where="a row of the layer's map", doc="the unit; the centre unit by default"),
    Param("col", "unit column", "int", optional=True, valid=_cols,
          where="a column of the layer's map"),
    Param("mode", "pooling", "choice", default="max", valid=tuple(MODES), labels=MODES),
    Param("win", "pooling window", "int", default=2, valid=(2, 4)),
    Param("pstride", "pooling stride", "int", default=_window, valid=(1, 4)),
    Param("blocks", "blocks", "int", default=3, valid=(1, 6),
          doc="of the pyramid builder: convolutions, then downsampling"),
    Param("convs", "convolutions per block", "int", default=2, valid=(1, 3)),
    Param("ksize", "kernel size", "choice", default=3, valid=KERNELS),
    Param("down", "downsampling", "choice", default="pool", valid=tuple(DOWNSAMPLING),
          labels=DOWNSAMPLING, doc="what ends each block"),
    Param("insize", "input size", "int", default=224, valid=(8, 1024),
          doc="of the pyramid builder, in pixels"),
    Param("shift", "largest shift", "int", default=8, valid=(1, 16),
          doc="pixels, for the shift probe"),
    Param("ntrain", "training images", "choice", default=1500, valid=TRAINING_IMAGES,
          doc="of the pooled-vs-plain experiment"),
    Param("epochs", "epochs", "int", default=8, valid=(1, 15)),
    Param("seeds", "seeds", "int", default=2, valid=(1, 3),
          doc="the pair is trained once per seed (0, 1, …)"),
    Param("pair", "trained pair shown", "bool", default=False,
          doc="a link with 1 trains the pair (or shows the server's finished runs)"),
))
