"""What the builder's table flags beyond hard errors: inputs and layers that Keras
accepts but that cannot mean anything for an image.

:func:`cnnviz.architecture.analyze` already refuses what Keras refuses (a window
larger than its input with 'valid' padding: no output pixels). These checks add
the layers that build but compute nothing new:

- an input under :data:`MIN_SIDE` pixels a side: a pixel with no neighbours has no
  pattern for a convolution to find;
- a layer whose receptive field is wider than the input: the rest of the window is
  zero padding, so it reads nothing its predecessor did not;
- a downsampling layer (stride > 1) on a map of one pixel: it cannot shrink it.
"""

from __future__ import annotations

from cnnviz.architecture import LayerSpec, Row

#: the smallest input side (pixels) a 3x3 convolution can find a pattern in
MIN_SIDE = 3


def input_problem(input_shape: tuple[int, int, int]) -> str | None:
    """A sentence on an input too small to be an image, else None."""
    h, w = input_shape[:2]
    if min(h, w) < MIN_SIDE:
        return (f"A {h}x{w} input is too small for a CNN: a pattern needs at least "
                f"{MIN_SIDE}x{MIN_SIDE} pixels, so every convolution reads mostly padding. "
                "Use a real image size (e.g. 28x28 or 64x64).")
    return None


def row_warnings(spec: list[LayerSpec], rows: list[Row],
                 input_shape: tuple[int, int, int]) -> dict[int, str]:
    """Row index -> what is wrong with a layer that builds but computes nothing new."""
    side = max(input_shape[:2])
    out = {}
    previous = tuple(input_shape)
    for layer, row in zip(spec, rows):
        if not row.ok:
            break
        if len(previous) == 3 and previous[:2] == (1, 1) and layer.stride > 1 \
                and layer.kind in ("conv", "maxpool", "avgpool", "residual"):
            out[row.index] = "Downsamples a 1x1 map: nothing left to shrink."
        elif row.rf is not None and row.rf > side:
            out[row.index] = (f"Receptive field {row.rf} px is wider than the {side} px "
                              "input: the rest is zero padding.")
        previous = row.shape
    return out
