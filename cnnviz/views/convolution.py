"""The Convolution page's view: the image, the kernel, the knobs and the picked pixel.

Run-time fact: ``image_hw``, the (height, width) of the picked image before it is
shrunk to the working size (see :func:`facts`).
"""

from __future__ import annotations

import numpy as np

from cnnviz import conv
from cnnviz.errors import ImageError
from cnnviz.views.core import PageSpec, Param, slug
from cnnviz.views.shared import image_params

COLOURS = {"grey": "grey (1 channel)", "rgb": "colour (3 channels)"}
SIZES = (64, 128, 256, 384, 512)
KERNELS = {"patch": "A patch cut from the image", "classic": "A classic kernel",
           "own": "Type your own"}
PADDINGS = {"valid": "valid", "same": "same", "number": "a number"}
#: classic kernels whose size can be chosen
SIZED = ("box blur", "Gaussian blur", "Gabor")
OWN_SIZES = (3, 5, 7)
CHANNELS = ("R", "G", "B")


def facts(image) -> dict:
    """The run-time facts this page's settings are checked against."""
    return {"image_hw": tuple(int(n) for n in np.shape(image)[:2])}


def work_hw(context, values) -> tuple[int, int]:
    """The image's size at the working size ``size``."""
    return conv.shrunk_hw(context["image_hw"], values["size"])


def _patch_sizes(context, values):
    h, w = work_hw(context, values)
    return 3, max(3, min(64, min(h, w) // 2))


def _patch_size(context, values):
    """a quarter of the shorter side, 3 to 15"""
    h, w = work_hw(context, values)
    return min(15, max(3, min(h, w) // 4))


def _tops(context, values):
    return 0, work_hw(context, values)[0] - values["k"]


def _top(context, values):
    """a third of the way down"""
    h = work_hw(context, values)[0]
    return min(h - values["k"], h // 3)


def _lefts(context, values):
    return 0, work_hw(context, values)[1] - values["k"]


def _left(context, values):
    """a third of the way across"""
    w = work_hw(context, values)[1]
    return min(w - values["k"], w // 3)


def edge_kernel(n: int) -> np.ndarray:
    """The typed kernel's start: a vertical-edge detector (-1 left column, +1 right)."""
    kernel = np.zeros((n, n))
    kernel[:, 0], kernel[:, -1] = -1.0, 1.0
    return kernel


def _own_default(context, values):
    """a vertical-edge detector"""
    return tuple(edge_kernel(values["n"]).ravel())


def kernel_hw(values) -> tuple[int, int]:
    """The kernel's (height, width) in a view."""
    if values["kernel"] == "patch":
        return values["k"], values["k"]
    if values["kernel"] == "own":
        return values["n"], values["n"]
    shape = conv.classic_kernel(values["classic"], size=values.get("ksize", 3),
                                angle=values.get("angle", 0)).shape
    return int(shape[0]), int(shape[1])


def padding_of(values):
    """The padding argument of ``conv.convolve``: "valid", "same" or a number."""
    return values["padn"] if values["pad"] == "number" else values["pad"]


def _output_hw(context, values) -> tuple[int, int]:
    try:
        g = conv.geometry(work_hw(context, values), kernel_hw(values),
                          stride=values["stride"], padding=padding_of(values),
                          dilation=values["dil"])
    except ImageError:
        return 0, 0  # no position fits: the page says so
    return g.out_hw


def _rows(context, values):
    return 0, _output_hw(context, values)[0] - 1


def _cols(context, values):
    return 0, _output_hw(context, values)[1] - 1


def _patch(values):
    return values["kernel"] == "patch"


def _classic(values):
    return values["kernel"] == "classic"


def _own(values):
    return values["kernel"] == "own"


SPEC = PageSpec("convolution", "pages/1_Convolution.py", "Convolution", (
    *image_params("sample"),
    Param("colour", "channels", "choice", default="grey", valid=tuple(COLOURS), labels=COLOURS),
    Param("size", "working size", "choice", default=256, valid=SIZES,
          doc="the image's longest side, in pixels"),
    Param("kernel", "kernel", "choice", default="patch", valid=tuple(KERNELS), labels=KERNELS),
    Param("k", "patch size", "int", default=_patch_size, valid=_patch_sizes, when=_patch,
          where="a patch size that fits the image (3 to half its shorter side, at most 64)"),
    Param("top", "patch top row", "int", default=_top, valid=_tops, when=_patch,
          where="a row where the patch fits (0 to {k} pixels from the bottom)"),
    Param("left", "patch left column", "int", default=_left, valid=_lefts, when=_patch,
          where="a column where the patch fits"),
    Param("classic", "classic kernel", "choice", default=conv.CLASSIC_KERNELS[0],
          valid=conv.CLASSIC_KERNELS, token=slug, when=_classic),
    Param("ksize", "kernel size", "int", default=7, valid=(3, 15, 2),
          when=lambda v: _classic(v) and v["classic"] in SIZED,
          doc="for the blurs and Gabor"),
    Param("angle", "Gabor angle", "int", default=0, valid=(0, 180, 15),
          when=lambda v: _classic(v) and v["classic"] == "Gabor", doc="degrees"),
    Param("n", "typed kernel size", "choice", default=3, valid=OWN_SIZES, when=_own),
    Param("w", "typed kernel", "floats", default=_own_default,
          valid=lambda context, values: values["n"] ** 2, when=_own,
          doc="its n×n weights, row by row"),
    Param("stride", "stride", "int", default=1, valid=(1, 8)),
    Param("pad", "padding", "choice", default="valid", valid=tuple(PADDINGS), labels=PADDINGS),
    Param("padn", "padding pixels", "int", default=1, valid=(0, 64),
          when=lambda v: v["pad"] == "number"),
    Param("dil", "dilation", "int", default=1, valid=(1, 8)),
    Param("row", "output row", "int", optional=True, valid=_rows,
          where="a row of the response map", doc="the pixel explained step by step"),
    Param("col", "output column", "int", optional=True, valid=_cols,
          where="a column of the response map"),
    Param("channel", "channel shown", "choice", default="R", valid=CHANNELS,
          when=lambda v: v["colour"] == "rgb"),
))
