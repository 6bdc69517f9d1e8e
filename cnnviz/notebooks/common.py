"""Pieces of code every page's notebook starts from."""

from __future__ import annotations

from cnnviz.views import SOURCES, View
from cnnviz.views.shared import SHAPE_SIZE


def literal(value: float) -> str:
    """A float as short Python source: 1.0 -> '1.0', 0.1 -> '0.1'."""
    return repr(float(value))


def image_code(view: View, *, mask: bool = False) -> str:
    """Code that makes the picked image exactly as the sidebar picker does: ``image``
    uint8 (H, W, 3), and with ``mask`` the shape's object mask (or None)."""
    if view["src"] == "shape":
        lines = [
            "from cnnviz.data import make_shapes\n",
            f"# {SOURCES['shape'].lower()}: a {view['shape']}, seed {view['seed']}",
            f"shapes = make_shapes(1, size={SHAPE_SIZE}, seed={view['seed']}, "
            f"classes=[{view['shape']!r}])",
            "image = (shapes.images[0] * 255).round().astype(np.uint8)",
        ]
        if mask:
            lines.append("mask = shapes.masks[0]  # where the object is")
        return "\n".join(lines)
    lines = [
        "from cnnviz.images import sample_images\n",
        f"image = sample_images()[{view['sample']!r}]  # a photo that ships with scikit-image",
    ]
    if mask:
        lines.append("mask = None  # a photo has no object mask")
    return "\n".join(lines)
