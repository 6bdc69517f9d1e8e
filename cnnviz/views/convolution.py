"""The Convolution page's view: the image, the kernel, the image pair a cut patch is
matched across, the knobs and the picked pixel.

Run-time fact: ``image_hw``, the (height, width) of the picked image before it is
shrunk to the working size (see :func:`facts`).
"""

from __future__ import annotations

import numpy as np

from cnnviz import conv, matching
from cnnviz.data import SHAPE_CLASSES
from cnnviz.errors import ImageError
from cnnviz.views.core import PageSpec, Param, slug
from cnnviz.views.shared import SEED_RANGE, image_params

COLOURS = {"grey": "grey (1 channel)", "rgb": "colour (3 channels)"}
SIZES = (64, 128, 256, 384, 512)
KERNELS = {"patch": "A patch cut from an image", "classic": "A classic kernel",
           "own": "Type your own"}
#: where a patch is cut, and where it is searched
PAIRS = {"shapes": "Shapes: cut from scene 1, search scene 2",
         "motorcycle": "Photos: cut from the left camera, search the right",
         "picked": "The sidebar's image, searched in itself"}
PADDINGS = {"valid": "valid", "same": "same", "number": "a number"}
#: classic kernels whose size can be chosen
SIZED = ("box blur", "Gaussian blur", "Gabor")
OWN_SIZES = (3, 5, 7)
CHANNELS = ("R", "G", "B")
MATCHES = (1, 5)


def facts(image) -> dict:
    """The run-time facts this page's settings are checked against."""
    return {"image_hw": tuple(int(n) for n in np.shape(image)[:2])}


def _pair_of(values) -> str | None:
    """The image pair of a cut patch, None when the kernel is not cut from an image."""
    return values.get("pair") if values.get("kernel") == "patch" else None


def search_hw(context, values) -> tuple[int, int]:
    """The size of the image the kernel slides over, at the working size ``size``."""
    pair = _pair_of(values)
    full = ((matching.SCENE_SIZE,) * 2 if pair == "shapes" else
            matching.STEREO_HW if pair == "motorcycle" else context["image_hw"])
    return conv.shrunk_hw(full, values["size"])


def kernel_image_hw(context, values) -> tuple[int, int]:
    """The size of the image the patch is cut from (each pair's two images are alike)."""
    return search_hw(context, values)


def scene_pair(values) -> matching.Pair:
    """The two scenes of a view whose patch is cut from shapes, at its working size."""
    pair = matching.shape_scenes(values["target"], values["decoy"], values["scene"])
    return matching.shrink_pair(pair, values["size"])


def _max_patch(context, values) -> int:
    h, w = kernel_image_hw(context, values)
    return max(3, min(64, min(h, w) // 2))


def _patch_sizes(context, values):
    return 3, _max_patch(context, values)


def _default_patch(context, values) -> tuple[int, int, int]:
    """(size, top, left): around the shape of scene 1, on the stereo pair's front wheel,
    or a small patch a third of the way into the picked image."""
    h, w = kernel_image_hw(context, values)
    biggest = _max_patch(context, values)
    if values["pair"] == "shapes":
        return matching.patch_around(scene_pair(values).cut_mask, biggest)
    if values["pair"] == "motorcycle":
        share_r, share_c, share_k = matching.STEREO_PATCH
        k = max(3, min(biggest, round(share_k * w)))
        return (k, min(max(round(share_r * h) - k // 2, 0), h - k),
                min(max(round(share_c * w) - k // 2, 0), w - k))
    k = min(15, max(3, min(h, w) // 4))
    return k, min(h - k, h // 3), min(w - k, w // 3)


def _patch_size(context, values):
    """scene 1's shape; the front wheel; a quarter of the picked image's side (3 to 15)"""
    return _default_patch(context, values)[0]


def _tops(context, values):
    return 0, kernel_image_hw(context, values)[0] - values["k"]


def _top(context, values):
    """around the shape or the wheel; a third of the way down the picked image"""
    if values["k"] != _patch_size(context, values):  # another size: keep its centre
        default_k, top, _ = _default_patch(context, values)
        top += (default_k - values["k"]) // 2
        return min(max(top, 0), _tops(context, values)[1])
    return _default_patch(context, values)[1]


def _lefts(context, values):
    return 0, kernel_image_hw(context, values)[1] - values["k"]


def _left(context, values):
    """around the shape or the wheel; a third of the way across the picked image"""
    if values["k"] != _patch_size(context, values):
        default_k, _, left = _default_patch(context, values)
        left += (default_k - values["k"]) // 2
        return min(max(left, 0), _lefts(context, values)[1])
    return _default_patch(context, values)[2]


def _decoys(context, values):
    return tuple(c for c in SHAPE_CLASSES if c != values["target"])


def _decoy(context, values):
    """square (circle when the cut shape is a square)"""
    return "circle" if values["target"] == "square" else "square"


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
        g = conv.geometry(search_hw(context, values), kernel_hw(values),
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


def _shapes(values):
    return _pair_of(values) == "shapes"


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
    Param("pair", "image pair", "choice", default="shapes", valid=tuple(PAIRS), labels=PAIRS,
          when=_patch, doc="where the patch is cut, and where it is searched"),
    Param("target", "shape cut", "choice", default="circle", valid=SHAPE_CLASSES, when=_shapes,
          doc="scene 1 holds one; scene 2 holds two, beside another shape"),
    Param("decoy", "other shape", "choice", default=_decoy, valid=_decoys, when=_shapes,
          where="a shape other than the one cut", doc="the third shape of scene 2"),
    Param("scene", "scenes' seed", "int", default=matching.SCENE_SEED, valid=SEED_RANGE,
          when=_shapes, doc="scene 1 is drawn with this seed, scene 2 with the next"),
    Param("k", "patch size", "int", default=_patch_size, valid=_patch_sizes, when=_patch,
          where="a patch size that fits the image (3 to half its shorter side, at most 64)"),
    Param("top", "patch top row", "int", default=_top, valid=_tops, when=_patch,
          where="a row where the patch fits (0 to {k} pixels from the bottom)"),
    Param("left", "patch left column", "int", default=_left, valid=_lefts, when=_patch,
          where="a column where the patch fits"),
    Param("matches", "matches marked", "int", default=3, valid=MATCHES, when=_patch,
          doc="the best windows, kept apart by non-maximum suppression"),
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
